"""Cosine schedules: cosine decay, warmup + cosine, warmup + hold + cosine, and cosine with warm
restarts (Keras SGDR, the seed's epoch-cycle SGDR / PyTorch's CosineAnnealingWarmRestarts, optax's
`sgdr_schedule`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from optax_lrs import _math as m
from optax_lrs._base import (
    Schedule,
    check,
    float_leaf,
    int_dtype,
    int_leaf,
    is_traced,
    register,
)
from optax_lrs._compose import _Join, join_schedules


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
    decay_steps, alpha)` (with no warmup); MXNet `CosineScheduler`; seed 000's `cosine_decay`.

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

    References: seed 000's `WarmupCosineDecayLRScheduler` (init_value 0, end_value 0); Keras
    `CosineDecay(..., warmup_target, warmup_steps)`.

    Example:
      >>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 60, 110)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    fn = "warmup_cosine_decay_schedule"
    check(fn, "warmup_steps", warmup_steps, ">= 0", lambda a: a >= 0)
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    if not (is_traced((warmup_steps, decay_steps))) and not decay_steps > warmup_steps:
        raise ValueError(
            f"{fn}: decay_steps must be > warmup_steps (it counts the warmup), "
            f"got decay_steps={decay_steps!r}, warmup_steps={warmup_steps!r}"
        )
    check(fn, "exponent", exponent, ">= 0", lambda a: a >= 0)
    return _WarmupCosine.from_args(fn, locals())


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
    """Linear warmup, hold at the peak, cosine decay (seed 000's `cosine_decay_with_warmup`).

    For t < W (warmup_steps): init_value + (peak − init) · t / W. For W <= t <= W + H (hold_steps):
    peak_value. Then end + ½(peak − end)(1 + cos(π (t − W − H) / (T − W − H))) until T = total_steps,
    then end_value (the seed returns 0 there: its end_value is 0).

    Args:
      peak_value: the seed's `learning_rate_base`.
      total_steps: T >= warmup_steps + hold_steps.
      init_value: the seed's `warmup_learning_rate`.
      warmup_steps: >= 0.
      hold_steps: the seed's `hold_base_rate_steps`, >= 0.
      end_value: value from total_steps on.

    Example:
      >>> s = warmup_hold_cosine_decay(1.0, 100, warmup_steps=10, hold_steps=10)
      >>> [round(float(s(t)), 6) for t in (0, 5, 15, 60, 100)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    fn = "warmup_hold_cosine_decay"
    check(fn, "warmup_steps", warmup_steps, ">= 0", lambda a: a >= 0)
    check(fn, "hold_steps", hold_steps, ">= 0", lambda a: a >= 0)
    check(fn, "total_steps", total_steps, "> 0", lambda a: a > 0)
    if not is_traced((total_steps, warmup_steps, hold_steps)) and total_steps < warmup_steps + hold_steps:
        raise ValueError(
            f"{fn}: total_steps must be >= warmup_steps + hold_steps, got total_steps={total_steps!r}, "
            f"warmup_steps={warmup_steps!r}, hold_steps={hold_steps!r}"
        )
    return _WarmupHoldCosine.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _CosineRestarts(Schedule):
    name = "cosine_decay_restarts"
    init_value: jax.Array = float_leaf()
    first_decay_steps: jax.Array = int_leaf()
    t_mul: jax.Array = float_leaf()
    m_mul: jax.Array = float_leaf()
    alpha: jax.Array = float_leaf()

    def value(self, t):
        i, offset, length = m.geometric_cycle(t, self.first_decay_steps, self.t_mul)
        frac = jnp.clip(offset / length, 0.0, 1.0)
        peak = jnp.power(jnp.clip(self.m_mul, 0.0, 1.0), i)
        return self.init_value * ((1 - self.alpha) * peak * m.half_cosine(frac) + self.alpha)


@register()
def cosine_decay_restarts(
    init_value: jax.typing.ArrayLike,
    first_decay_steps: jax.typing.ArrayLike,
    t_mul: jax.typing.ArrayLike = 2.0,
    m_mul: jax.typing.ArrayLike = 1.0,
    alpha: jax.typing.ArrayLike = 0.0,
) -> Schedule:
    """Cosine decay with warm restarts (SGDR), the Keras `CosineDecayRestarts` of seed 003.

    Cycle i lasts first_decay_steps · t_mul^i steps (fractional lengths allowed) and starts at the sum
    of the previous ones; inside it, with frac the position in the cycle in [0, 1):
    value = init_value · ((1 − alpha) · m_mul^i · ½(1 + cos(π · frac)) + alpha).

    The cycle index is computed in O(1) (no loop over cycles): integer arithmetic for t_mul = 1 (exact
    for every int32 step), a closed form corrected at the cycle starts otherwise, so the first step of
    every cycle returns that cycle's peak exactly whenever its start is representable in the float
    dtype (every start below 2**24 in float32; above that, within float32 rounding of the step).

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
    return _CosineRestarts.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------

# Cycles whose lengths follow the ceil recurrence exactly; later ones grow geometrically.
_TABLE_CYCLES = 64
_INT_MAX = 2**31 - 1


def _cycle_table(first_period, period_mult):
    """Starts (in units) of the first `_TABLE_CYCLES` + 1 cycles with P(i+1) = ceil(P(i)·mult),
    saturating at int32's range, and the period of the cycle after the table."""
    dt = int_dtype()

    def body(carry, _):
        start, period = carry
        nxt = jnp.minimum(jnp.ceil(m.fl(period) * period_mult), 2.0**30).astype(dt)
        return (jnp.minimum(start, _INT_MAX - period) + period, nxt), start

    init = (jnp.zeros((), dt), first_period.astype(dt))
    (last_start, last_period), starts = jax.lax.scan(body, init, None, length=_TABLE_CYCLES)
    return jnp.concatenate([starts, last_start[None]]), last_period


class _WarmRestarts(Schedule):
    name = "cosine_annealing_warm_restarts"
    max_value: jax.Array = float_leaf()
    first_period: jax.Array = int_leaf()
    period_mult: jax.Array = float_leaf()
    min_value: jax.Array = float_leaf()
    decay: jax.Array = float_leaf()
    steps_per_period_unit: jax.Array = int_leaf()

    def value(self, t):
        unit = m.at_least_one(self.steps_per_period_unit)
        mult = jnp.maximum(self.period_mult, 1.0)
        t_units, rem = m.floordiv(t, unit)
        starts, after_period = _cycle_table(m.at_least_one(self.first_period), mult)
        i_tab = m.piecewise_index(t_units, starts[1:])
        in_table = i_tab < _TABLE_CYCLES
        # inside the table: exact integers
        i_safe = jnp.minimum(i_tab, _TABLE_CYCLES - 1)
        start = m.take(starts, i_safe)
        # after it: cycles keep growing by period_mult
        j, offset_after, length_after = m.geometric_cycle(
            jnp.maximum(t_units - starts[-1], 0), after_period, mult
        )
        i = jnp.where(in_table, m.fl(i_tab), _TABLE_CYCLES + j)
        offset = jnp.where(in_table, m.fl(t_units - start), offset_after)
        length = jnp.where(in_table, m.fl(starts[i_safe + 1] - start), length_after)
        frac = jnp.clip((offset * m.fl(unit) + m.fl(rem)) / (length * m.fl(unit)), 0.0, 1.0)
        peak = self.max_value * jnp.power(jnp.clip(self.decay, 0.0, 1.0), i)
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
    """Cosine annealing with warm restarts in whole period units (seed 000's `SGDRScheduler`,
    PyTorch's `CosineAnnealingWarmRestarts`).

    Periods are counted in units of `steps_per_period_unit` steps (e.g. epochs): P0 = first_period,
    P(i+1) = ceil(P(i) · period_mult). Inside cycle i, with frac the position in the cycle:
    value = min + ½(max · decay^i − min)(1 + cos(π · frac)).

    Cycle starts are integers, computed once per call (not per step) for the first 64 cycles, which
    covers every int32 step when period_mult >= 1.5 (and any period_mult when first_period is large);
    the lookup per step is a binary search over them, so phases are exact integer arithmetic up to
    2**31 − 1 and the first step of every cycle returns its peak exactly. Cycles after the 64th grow
    by period_mult without rounding. With period_mult = 1 every cycle is exact.

    Args:
      max_value: peak of the first cycle (torch's base lr, the seed's `max_lr`).
      first_period: P0 in units, > 0 (torch's `T_0`, the seed's `cycle_length`).
      period_mult: >= 1 (torch's `T_mult`, the seed's `mult_factor`).
      min_value: floor (torch's `eta_min`, the seed's `min_lr`).
      decay: factor on the peak per cycle, in [0, 1] (the seed's `lr_decay`).
      steps_per_period_unit: steps per unit, > 0 (the seed's `steps_per_epoch`; 1 for torch).

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
    kwargs_list = [dict(k) for k in cosine_kwargs]
    if not kwargs_list:
        raise ValueError(f"{fn}: cosine_kwargs must hold at least one cycle, got []")
    cycles = []
    for i, kwargs in enumerate(kwargs_list):
        try:
            cycles.append(warmup_cosine_decay_schedule(**kwargs))
        except TypeError as e:
            raise ValueError(
                f"{fn}: cosine_kwargs[{i}] is not valid for warmup_cosine_decay_schedule: {e}"
            ) from None
    boundaries = jnp.cumsum(jnp.stack([c.decay_steps for c in cycles]))[:-1]
    joined = join_schedules(cycles, boundaries)
    return _SGDR(joined.schedules, joined.boundaries)


class _SGDR(_Join):
    """A join of stacked warmup-cosine cycles, configured by its cycles' arguments."""

    name = "sgdr_schedule"

    def params(self):
        return {"cosine_kwargs": [piece.params() for piece in self.pieces()]}
