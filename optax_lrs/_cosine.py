"""Cosine schedules: cosine decay, warmup + cosine, warmup + hold + cosine, and cosine with warm
restarts (Keras `CosineDecayRestarts`, the epoch-cycle SGDR of the Keras `SGDRScheduler` callback /
PyTorch's CosineAnnealingWarmRestarts, optax's `sgdr_schedule`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optax_lrs import _math as m
from optax_lrs._base import (
    EQUAL,
    REACHES,
    Schedule,
    as_leaf,
    check,
    derived,
    fail,
    float_leaf,
    int_leaf,
    is_traced,
    known_fact,
    register,
)
from optax_lrs._compose import _Join, join_schedules
from optax_lrs._cycles import (
    TABLE_CYCLES,
    integer_cycles,
    integer_tail,
    locate,
    real_cycle_index,
    real_cycle_position,
    real_cycle_table,
)


class _Cosine(Schedule):
    name = "cosine_decay_schedule"
    init_value: jax.Array = float_leaf()
    decay_steps: jax.Array = int_leaf()
    alpha: jax.Array = float_leaf()
    exponent: jax.Array = float_leaf()

    def value(self, t):
        return m.cosine_decay(t, self.init_value, self.decay_steps, self.alpha, self.exponent)


@register()
def cosine_decay_schedule(
    init_value: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    alpha: jax.typing.ArrayLike = 0.0,
    exponent: jax.typing.ArrayLike = 1.0,
) -> Schedule:
    """Cosine decay, drop-in for `optax.cosine_decay_schedule`.

    value(t) = init_value · ((1 − alpha) · (½(1 + cos(π · min(t, T) / T))) ^ exponent + alpha), T =
    decay_steps; past T it holds `alpha · init_value`.

    Args:
      init_value: value at step 0.
      decay_steps: T > 0.
      alpha: final value as a fraction of init_value.
      exponent: >= 0, sharpens (>1) or flattens (<1) the cosine.

    References: Loshchilov & Hutter, SGDR (2017); Keras `CosineDecay(initial_learning_rate,
    decay_steps, alpha)` (with no warmup); MXNet `CosineScheduler`.

    Example:
      >>> s = cosine_decay_schedule(1.0, decay_steps=100)
      >>> [round(float(s(t)), 6) for t in (0, 50, 100, 200)]
      [1.0, 0.5, 0.0, 0.0]
    """
    fn = "cosine_decay_schedule"
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    check(fn, "exponent", exponent, ">= 0", lambda a: a >= 0)
    return _Cosine.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _WarmupCosine(Schedule):
    name = "warmup_cosine_decay_schedule"
    init_value: jax.Array = float_leaf()
    peak_value: jax.Array = float_leaf()
    warmup_steps: jax.Array = int_leaf()
    decay_steps: jax.Array = int_leaf()
    end_value: jax.Array = float_leaf()
    exponent: jax.Array = float_leaf()

    def value(self, t):
        warm = m.polynomial(t, self.init_value, self.peak_value, 1.0, self.warmup_steps, 0)
        safe_peak = jnp.where(self.peak_value == 0, 1.0, self.peak_value)
        alpha = jnp.where(self.peak_value == 0, 0.0, self.end_value / safe_peak)
        cos_steps = self.decay_steps - self.warmup_steps
        decay = m.cosine_decay(t - self.warmup_steps, self.peak_value, cos_steps, alpha, self.exponent)
        return jnp.where(t < self.warmup_steps, warm, decay)


@register()
def warmup_cosine_decay_schedule(
    init_value: jax.typing.ArrayLike,
    peak_value: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike = 0.0,
    exponent: jax.typing.ArrayLike = 1.0,
) -> Schedule:
    """Linear warmup then cosine decay, drop-in for `optax.warmup_cosine_decay_schedule`.

    For t < warmup_steps: linear from init_value to peak_value. Then cosine decay from peak_value to
    end_value over `decay_steps − warmup_steps` steps (decay_steps counts the warmup, as in optax);
    past decay_steps it holds end_value.

    Args:
      init_value: value at step 0.
      peak_value: value at the end of the warmup.
      warmup_steps: >= 0.
      decay_steps: total length, > warmup_steps.
      end_value: final value.
      exponent: >= 0, as in `cosine_decay_schedule`.

    References: the Keras `WarmupCosineDecayLRScheduler` learning-rate schedule (init_value 0,
    end_value 0); Keras `CosineDecay(..., warmup_target, warmup_steps)`.

    Example:
      >>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 60, 110)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    fn = "warmup_cosine_decay_schedule"
    sched = _WarmupCosine.from_args(fn, locals())
    check(fn, "warmup_steps", warmup_steps, ">= 0", lambda a: a >= 0)
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    rule = f"> warmup_steps = {warmup_steps!r} (decay_steps counts the warmup)"
    check(fn, "decay_steps", decay_steps, rule, lambda a, w: a > w, (warmup_steps,))
    check(fn, "exponent", exponent, ">= 0", lambda a: a >= 0)
    return sched


# --------------------------------------------------------------------------------------------------


class _WarmupHoldCosine(Schedule):
    name = "warmup_hold_cosine_decay"
    peak_value: jax.Array = float_leaf()
    total_steps: jax.Array = int_leaf()
    init_value: jax.Array = float_leaf()
    warmup_steps: jax.Array = int_leaf()
    hold_steps: jax.Array = int_leaf()
    end_value: jax.Array = float_leaf()

    def value(self, t):
        decay_steps = self.total_steps - self.warmup_steps - self.hold_steps
        v = m.warmup_hold_decay(
            t,
            self.init_value,
            self.peak_value,
            self.warmup_steps,
            self.hold_steps,
            decay_steps,
            lambda p: m.cos_interp(self.peak_value, self.end_value, p),
        )
        return jnp.where(t >= self.total_steps, self.end_value, v)


@register()
def warmup_hold_cosine_decay(
    peak_value: jax.typing.ArrayLike,
    total_steps: jax.typing.ArrayLike,
    init_value: jax.typing.ArrayLike = 0.0,
    warmup_steps: jax.typing.ArrayLike = 0,
    hold_steps: jax.typing.ArrayLike = 0,
    end_value: jax.typing.ArrayLike = 0.0,
) -> Schedule:
    """Linear warmup, hold at the peak, cosine decay (the TF Object Detection API's
    `cosine_decay_with_warmup`).

    For t < W (warmup_steps): init_value + (peak − init) · t / W. For W <= t <= W + H (hold_steps):
    peak_value. Then end + ½(peak − end)(1 + cos(π (t − W − H) / (T − W − H))) until T = total_steps,
    then end_value (`cosine_decay_with_warmup` returns 0 there: its end_value is 0).

    Args:
      peak_value: `cosine_decay_with_warmup`'s `learning_rate_base`.
      total_steps: T >= warmup_steps + hold_steps.
      init_value: `cosine_decay_with_warmup`'s `warmup_learning_rate`.
      warmup_steps: >= 0.
      hold_steps: `cosine_decay_with_warmup`'s `hold_base_rate_steps`, >= 0.
      end_value: value from total_steps on.

    Example:
      >>> s = warmup_hold_cosine_decay(1.0, 100, warmup_steps=10, hold_steps=10)
      >>> [round(float(s(t)), 6) for t in (0, 5, 15, 60, 100)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    fn = "warmup_hold_cosine_decay"
    sched = _WarmupHoldCosine.from_args(fn, locals())
    check(fn, "warmup_steps", warmup_steps, ">= 0", lambda a: a >= 0)
    check(fn, "hold_steps", hold_steps, ">= 0", lambda a: a >= 0)
    check(fn, "total_steps", total_steps, "> 0", lambda a: a > 0)
    rule = f">= warmup_steps + hold_steps = {warmup_steps!r} + {hold_steps!r}"
    check(fn, "total_steps", total_steps, rule, lambda a, w, h: a >= w + h, (warmup_steps, hold_steps))
    return sched


# --------------------------------------------------------------------------------------------------


class _CosineRestarts(Schedule):
    name = "cosine_decay_restarts"
    init_value: jax.Array = float_leaf()
    first_decay_steps: jax.Array = int_leaf()
    t_mul: jax.Array = float_leaf()
    m_mul: jax.Array = float_leaf()
    alpha: jax.Array = float_leaf()
    cycles: tuple = derived()

    def restart_index(self, t):
        return real_cycle_index(t, self.first_decay_steps, self.t_mul, self.cycles)

    def value(self, t):
        i, frac = real_cycle_position(t, self.first_decay_steps, self.t_mul, self.cycles)
        peak = m.safe_pow(jnp.clip(self.m_mul, 0.0, 1.0), i)
        return self.init_value * ((1 - self.alpha) * peak * m.half_cosine(frac) + self.alpha)


@register()
def cosine_decay_restarts(
    init_value: jax.typing.ArrayLike,
    first_decay_steps: jax.typing.ArrayLike,
    t_mul: jax.typing.ArrayLike = 2.0,
    m_mul: jax.typing.ArrayLike = 1.0,
    alpha: jax.typing.ArrayLike = 0.0,
) -> Schedule:
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2016), Keras's `CosineDecayRestarts`.

    Cycle i lasts first_decay_steps · t_mul^i steps (fractional lengths allowed) and starts at the sum
    of the previous ones; inside it, with frac the position in the cycle in [0, 1):
    value = init_value · ((1 − alpha) · m_mul^i · ½(1 + cos(π · frac)) + alpha).

    Restart steps are exact for every int32 step: the first 256 cycle starts are computed once, when
    the schedule is built, in double-word arithmetic with t_mul read as the decimal it was written as
    (1.7 means 17/10, not float32's 1.70000005), and kept as an integer table; a step is placed by a
    binary search over it. Cycle i's first step is ceil(start_i), where it returns the new peak
    (Keras's float32 closed form misses some of these, e.g. (40, t_mul=1.1) at step 84). Cycles after
    the 256th (t_mul within ~8% of 1 with a short first cycle) come from the closed form
    first·(1 + t_mul + ... + t_mul^(i−1)) in double-word arithmetic, which places every start to
    ~1e-12 of its size (such starts are never integers).

    Args:
      init_value: peak of the first cycle.
      first_decay_steps: length of the first cycle, > 0.
      t_mul: growth of the cycle length, >= 1.
      m_mul: factor on the peak per cycle, in [0, 1].
      alpha: floor as a fraction of init_value.

    Example:
      >>> s = cosine_decay_restarts(1.0, 100, t_mul=2.0, m_mul=0.5)
      >>> [round(float(s(t)), 6) for t in (0, 50, 100, 200, 300)]
      [1.0, 0.5, 0.5, 0.25, 0.25]
    """
    fn = "cosine_decay_restarts"
    check(fn, "first_decay_steps", first_decay_steps, "> 0", lambda a: a > 0)
    check(fn, "t_mul", t_mul, ">= 1", lambda a: a >= 1)
    check(fn, "m_mul", m_mul, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    first_decay_steps = as_leaf(fn, "first_decay_steps", first_decay_steps, "int")
    t_mul = as_leaf(fn, "t_mul", t_mul, "float")
    cycles = real_cycle_table(first_decay_steps, t_mul)
    return _CosineRestarts.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _WarmRestarts(Schedule):
    name = "cosine_annealing_warm_restarts"
    max_value: jax.Array = float_leaf()
    first_period: jax.Array = int_leaf()
    period_mult: jax.Array = float_leaf()
    min_value: jax.Array = float_leaf()
    decay: jax.Array = float_leaf()
    steps_per_period_unit: jax.Array = int_leaf()
    cycles: tuple = derived()

    def _cycle(self, t):
        """`(index, start, period, t_units, rem)`: the cycle of step t, its start and period in units,
        and t as whole units plus the remaining steps."""
        unit = m.at_least_one(self.steps_per_period_unit)
        ends, periods = self.cycles[:2]
        t_units, rem = m.floordiv(t, unit)
        fact = known_fact(self.cycles, t_units)
        if fact == EQUAL:  # equal cycles, known when traced: integer division, no table
            first = periods[..., 0]
            q, r = m.floordiv(t_units, first)
            return q.astype(ends.dtype), (t_units - r).astype(t_units.dtype), first, t_units, rem
        i = locate(t_units, ends)
        in_table = i < TABLE_CYCLES
        k = jnp.minimum(i, TABLE_CYCLES - 1)
        start = (m.take(ends, k) + 1).astype(t_units.dtype)
        period = m.take(periods, k)
        if fact == REACHES:  # no unit lies after the table: no code for it
            return i.astype(ends.dtype), start, period, t_units, rem

        # after the table (period_mult within ~10% of 1): a bounded walk, only when a step needs it
        def tail(tu):
            return integer_tail(tu.astype(ends.dtype), self.cycles)

        def none(tu):
            return (jnp.zeros(tu.shape, ends.dtype),) * 2 + (jnp.ones(tu.shape, ends.dtype),)

        beyond = ~in_table
        whole = jnp.floor(t_units).astype(ends.dtype) if not m.is_int(t_units) else t_units
        j, start_after, period_after = jax.lax.cond(jnp.any(beyond), tail, none, whole)
        index = jnp.where(in_table, i.astype(ends.dtype), j)
        start = jnp.where(in_table, start, start_after.astype(t_units.dtype))
        period = jnp.where(in_table, period, period_after)
        return index, start, period, t_units, rem

    def restart_index(self, t):
        return self._cycle(t)[0]

    def value(self, t):
        unit = m.at_least_one(self.steps_per_period_unit)
        index, start, period, t_units, rem = self._cycle(t)
        # steps since the cycle started: <= t, so no overflow
        offset = m.fl((t_units - start) * unit + rem)
        length = m.fl(period) * m.fl(unit)
        index = m.fl(index)
        frac = jnp.clip(offset / length, 0.0, 1.0)
        peak = self.max_value * m.safe_pow(jnp.clip(self.decay, 0.0, 1.0), index)
        return self.min_value + (peak - self.min_value) * m.half_cosine(frac)


@register()
def cosine_annealing_warm_restarts(
    max_value: jax.typing.ArrayLike,
    first_period: jax.typing.ArrayLike,
    period_mult: jax.typing.ArrayLike = 1.0,
    min_value: jax.typing.ArrayLike = 0.0,
    decay: jax.typing.ArrayLike = 1.0,
    steps_per_period_unit: jax.typing.ArrayLike = 1,
) -> Schedule:
    """Cosine annealing with warm restarts in whole period units (the Keras `SGDRScheduler`
    callback, PyTorch's `CosineAnnealingWarmRestarts`).

    Periods are counted in units of `steps_per_period_unit` steps (e.g. epochs): P0 = first_period,
    P(i+1) = ceil(P(i) · period_mult). Inside cycle i, with frac the position in the cycle:
    value = min + ½(max · decay^i − min)(1 + cos(π · frac)).

    Cycle starts are integers computed once, when the schedule is built, for the first 256 cycles
    (every int32 step when period_mult >= ~1.07, and any period_mult when first_period is large), and
    looked up per step by a binary search: phases are exact integer arithmetic up to 2**31 − 1 and
    the first step of every cycle returns its peak. The recurrence is exact decimal arithmetic on
    period_mult as written (1.2 means 6/5): it equals the callback's float64 loop except where float64
    rounds a decimal product up past an integer (10 · 1.1 = 11.000000000000002 there, a 12-unit
    cycle where decimal arithmetic gives 11). Past the 256th cycle (period_mult within ~10% of 1) a
    coarse table of every 256th cycle and a walk of at most 255 recurrence steps keep every cycle
    exact (slower: that walk runs only when a step lies past the table).

    Args:
      max_value: peak of the first cycle (torch's base lr, `SGDRScheduler`'s `max_lr`).
      first_period: P0 in units, > 0 (torch's `T_0`, `SGDRScheduler`'s `cycle_length`).
      period_mult: >= 1 (torch's `T_mult`, `SGDRScheduler`'s `mult_factor`).
      min_value: floor (torch's `eta_min`, `SGDRScheduler`'s `min_lr`).
      decay: factor on the peak per cycle, in [0, 1] (`SGDRScheduler`'s `lr_decay`).
      steps_per_period_unit: steps per unit, > 0 (`SGDRScheduler`'s `steps_per_epoch`; 1 for torch).

    Example:
      >>> s = cosine_annealing_warm_restarts(1.0, 10, period_mult=2.0)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 20, 30)]
      [1.0, 0.5, 1.0, 0.5, 1.0]
    """
    fn = "cosine_annealing_warm_restarts"
    check(fn, "first_period", first_period, "> 0", lambda a: a > 0)
    check(fn, "period_mult", period_mult, ">= 1", lambda a: a >= 1)
    check(fn, "decay", decay, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    check(fn, "steps_per_period_unit", steps_per_period_unit, "> 0", lambda a: a > 0)
    first_period = as_leaf(fn, "first_period", first_period, "int")
    period_mult = as_leaf(fn, "period_mult", period_mult, "float")
    cycles = integer_cycles(first_period, period_mult)
    return _WarmRestarts.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


@register(containers={"cosine_kwargs": (list, tuple)})
def sgdr_schedule(cosine_kwargs: Iterable[Mapping[str, Any]]) -> Schedule:
    """SGD with warm restarts, drop-in for `optax.sgdr_schedule`.

    Each dict of `cosine_kwargs` is the arguments of one `warmup_cosine_decay_schedule` cycle, which
    lasts its `decay_steps`; the cycles are joined one after another. The cycles share one structure,
    so they are stacked into one schedule with a leading cycle axis and evaluated once per step (an
    O(log n) search for the cycle, then one cosine): evaluation and compile time do not grow with the
    number of cycles, unlike optax's chain of `where`s.

    Example:
      >>> s = sgdr_schedule([dict(init_value=0.0, peak_value=1.0, warmup_steps=10, decay_steps=100)] * 3)
      >>> [round(float(s(t)), 6) for t in (0, 10, 100, 110, 200)]
      [0.0, 1.0, 0.0, 1.0, 0.0]
    """
    fn = "sgdr_schedule"
    inner = "warmup_cosine_decay_schedule"
    if isinstance(cosine_kwargs, (str, bytes, Mapping)) or not isinstance(cosine_kwargs, Iterable):
        fail(fn, "cosine_kwargs", f"a list of dicts of {inner} arguments", cosine_kwargs)
    kwargs_list = list(cosine_kwargs)
    if not kwargs_list:
        fail(fn, "cosine_kwargs", "a non-empty list (at least one cycle)", kwargs_list)
    cycles = []
    for i, kwargs in enumerate(kwargs_list):
        if not isinstance(kwargs, Mapping):
            fail(fn, f"cosine_kwargs[{i}]", f"a dict of {inner} arguments", kwargs)
        try:
            cycles.append(warmup_cosine_decay_schedule(**kwargs))
        except (TypeError, ValueError) as e:
            detail = str(e).removeprefix(f"{inner}: ")
            raise ValueError(f"{fn}: cosine_kwargs[{i}] is not valid for {inner}: {detail}") from None
    steps = [c.decay_steps for c in cycles]
    if not is_traced(steps):
        starts = np.cumsum(np.stack([np.asarray(s, np.int64) for s in steps]), axis=0)[:-1]
        if np.any(starts > 2**31 - 1):
            rule = "cycles that start within int32 range (decay_steps but the last summing to <= 2**31 - 1)"
            fail(fn, "cosine_kwargs", rule, [np.asarray(s).tolist() for s in steps])
    boundaries = jnp.cumsum(jnp.stack(steps))[:-1]
    joined = join_schedules(cycles, boundaries)
    return _SGDR(joined.schedules, joined.boundaries)


class _SGDR(_Join):
    """A join of stacked warmup-cosine cycles, configured by its cycles' arguments."""

    name = "sgdr_schedule"

    def params(self):
        return {"cosine_kwargs": [piece.params() for piece in self.pieces()]}
