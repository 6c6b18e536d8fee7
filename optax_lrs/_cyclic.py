"""Schedules users bring from other libraries: cyclical LR, one-cycle (PyTorch), warmup-stable-decay,
inverse square root, tanh decay and fairseq's tri-stage."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optax_lrs import _math as m
from optax_lrs._base import Schedule, as_leaf, check, check_choice, float_leaf, int_leaf, register, static

CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def cyclic_curve(
    t: jax.Array,
    start: jax.Array,
    turn: jax.Array,
    step_size_up: jax.Array,
    step_size_down: jax.Array,
    mode: str,
    gamma: jax.Array,
) -> jax.Array:
    """PyTorch `CyclicLR`'s curve: from `start` linearly to `turn` over step_size_up steps, back over
    step_size_down steps, the excursion `turn − start` scaled by 1 ("triangular"), 2^−cycle
    ("triangular2") or gamma^t ("exp_range", torch's `scale_mode="iterations"`).

    The lr is `(base_lr, max_lr)`; the momentum is the same curve with the ends exchanged,
    `(max_momentum, base_momentum)`: torch computes `max_momentum − (max − base)·factor·scale`. The
    phase is integer arithmetic, exact for every int32 step.
    """
    up, down = m.at_least_one(step_size_up), m.at_least_one(step_size_down)
    cycle, pos = m.floordiv_sum(t, up, down)  # integer phase: exact for every int32 step
    rising = m.fl(pos) / m.fl(up)
    falling = m.fl((up - pos) + down) / m.fl(down)
    height = (turn - start) * jnp.where(pos <= up, rising, falling)
    if mode == "triangular2":
        height = height * jnp.exp2(-m.fl(cycle))
    elif mode == "exp_range":
        height = height * m.safe_pow(jnp.clip(gamma, 0.0, 1.0), m.fl(t))
    return start + height


class _Cyclic(Schedule):
    name = "cyclic_schedule"
    base_value: jax.Array = float_leaf()
    max_value: jax.Array = float_leaf()
    step_size_up: jax.Array = int_leaf()
    step_size_down: jax.Array = int_leaf()
    mode: str = static()
    gamma: jax.Array = float_leaf()

    def restart_index(self, t):
        return m.floordiv_sum(t, self.step_size_up, self.step_size_down)[0]

    def value(self, t):
        return cyclic_curve(
            t, self.base_value, self.max_value, self.step_size_up, self.step_size_down, self.mode, self.gamma
        )


@register()
def cyclic_schedule(
    base_value: jax.typing.ArrayLike,
    max_value: jax.typing.ArrayLike,
    step_size_up: jax.typing.ArrayLike,
    step_size_down: jax.typing.ArrayLike | None = None,
    mode: str = "triangular",
    gamma: jax.typing.ArrayLike = 1.0,
) -> Schedule:
    """Smith's cyclical learning rate (PyTorch `CyclicLR`'s lr, `scale_mode` per mode's default).

    Each cycle rises linearly from base_value to max_value over step_size_up steps, then falls back
    over step_size_down steps (default: step_size_up). The amplitude is scaled by 1 ("triangular"),
    by 1/2^cycle ("triangular2", halved every cycle) or by gamma^t ("exp_range"). The phase is integer
    arithmetic, exact for every int32 step.

    Args:
      base_value: lower bound (torch `base_lr`).
      max_value: upper bound (torch `max_lr`).
      step_size_up: > 0.
      step_size_down: > 0, or None for step_size_up.
      mode: "triangular", "triangular2" or "exp_range".
      gamma: in [0, 1], for "exp_range".

    Example:
      >>> s = cyclic_schedule(0.1, 1.0, 4, mode="triangular2")
      >>> [round(float(s(t)), 6) for t in (0, 2, 4, 8, 10, 12)]
      [0.1, 0.55, 1.0, 0.1, 0.325, 0.55]
    """
    fn = "cyclic_schedule"
    check_choice(fn, "mode", mode, CYCLIC_MODES)
    check(fn, "step_size_up", step_size_up, "> 0", lambda a: a > 0)
    check(fn, "step_size_down", step_size_down, "> 0", lambda a: a > 0)
    check(fn, "gamma", gamma, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    if step_size_down is None:
        step_size_down = step_size_up
    return _Cyclic.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------

ANNEAL = {"cos": m.cos_interp, "linear": m.lerp}


def one_cycle_curve(
    t: jax.Array,
    total_steps: jax.Array,
    pct_start: jax.Array,
    anneal: str,
    values: tuple[jax.typing.ArrayLike, ...],
) -> jax.Array:
    """PyTorch `OneCycleLR`'s curve through `values`, one more than there are phases (2 or 3).

    Phase i goes from values[i] to values[i + 1] along `ANNEAL[anneal]`; it ends at torch's float
    step pct_start·T − 1 (phase 1), 2·pct_start·T − 2 (phase 2 of 3) and T − 1 (the last), T =
    total_steps, and the curve holds its last value past T − 1. The lr goes through
    (initial, max, min) or (initial, max, initial, min), the momentum through (max, base, max) or
    (max, base, max, max). A traced pct_start outside [0, 1] is clamped (finite output).
    """
    total = m.fl(total_steps)
    pct_start = jnp.clip(pct_start, 0.0, 1.0)
    # torch's phase ends (float)
    e1 = pct_start * total - 1
    ends = [e1, 2 * pct_start * total - 2, total - 1] if len(values) == 4 else [e1, total - 1]
    tf = m.fl(t)
    interp = ANNEAL[anneal]
    start, pieces = 0.0, []
    for end, a, b in zip(ends, values[:-1], values[1:]):
        pct = jnp.clip((tf - start) / jnp.maximum(end - start, 1e-6), 0.0, 1.0)
        pct = jnp.where(tf >= end, 1.0, pct)  # exact at the phase end (no reciprocal rounding)
        pieces.append((end, interp(a, b, pct)))
        start = end
    out = pieces[-1][1]
    for end, v in reversed(pieces[:-1]):
        out = jnp.where(tf <= end, v, out)
    return out


class _OneCycle(Schedule):
    name = "one_cycle_schedule"
    max_value: jax.Array = float_leaf()
    total_steps: jax.Array = int_leaf()
    pct_start: jax.Array = float_leaf()
    anneal: str = static()
    div_factor: jax.Array = float_leaf()
    final_div_factor: jax.Array = float_leaf()
    three_phase: bool = static()

    def value(self, t):
        initial = self.max_value / self.div_factor
        low = initial / self.final_div_factor
        if self.three_phase:
            values = (initial, self.max_value, initial, low)
        else:
            values = (initial, self.max_value, low)
        return one_cycle_curve(t, self.total_steps, self.pct_start, self.anneal, values)


@register()
def one_cycle_schedule(
    max_value: jax.typing.ArrayLike,
    total_steps: jax.typing.ArrayLike,
    pct_start: jax.typing.ArrayLike = 0.3,
    anneal: str = "cos",
    div_factor: jax.typing.ArrayLike = 25.0,
    final_div_factor: jax.typing.ArrayLike = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """The one-cycle policy with PyTorch `OneCycleLR`'s values (its lr, for `total_steps` updates).

    From max/div_factor up to max_value at step pct_start·T − 1, then down to
    max/(div_factor·final_div_factor) at step T − 1 (T = total_steps), annealing along a half cosine
    ("cos") or linearly ("linear"). With `three_phase`, it goes back to max/div_factor at step
    2·pct_start·T − 2 first and only then to the minimum. Past T − 1 it holds the minimum (torch
    raises there).

    Args:
      max_value: peak (torch `max_lr`).
      total_steps: > 0.
      pct_start: in (0, 1).
      anneal: "cos" or "linear" (torch `anneal_strategy`).
      div_factor: > 0.
      final_div_factor: > 0.
      three_phase: torch's `three_phase`.

    Example:
      >>> s = one_cycle_schedule(1.0, 101, pct_start=0.5, anneal="linear", div_factor=10.0)
      >>> [round(float(s(t)), 6) for t in (0, 49.5)]
      [0.1, 1.0]
    """
    fn = "one_cycle_schedule"
    check_choice(fn, "anneal", anneal, tuple(ANNEAL))
    check(fn, "total_steps", total_steps, "> 0", lambda a: a > 0)
    check(fn, "pct_start", pct_start, "in (0, 1)", lambda a: (a > 0) & (a < 1))
    check(fn, "div_factor", div_factor, "> 0", lambda a: a > 0)
    check(fn, "final_div_factor", final_div_factor, "> 0", lambda a: a > 0)
    return _OneCycle.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------

_DECAY_SHAPES = {
    "linear": lambda p: 1 - p,
    "cosine": m.half_cosine,
    "1-sqrt": lambda p: 1 - jnp.sqrt(p),
    "square": lambda p: 1 - p * p,
    "sqrt": lambda p: jnp.sqrt(1 - p),
}


class _WSD(Schedule):
    name = "wsd_schedule"
    peak_value: jax.Array = float_leaf()
    warmup_steps: jax.Array = int_leaf()
    stable_steps: jax.Array = int_leaf()
    decay_steps: jax.Array = int_leaf()
    init_value: jax.Array = float_leaf()
    end_value: jax.Array = float_leaf()
    decay_shape: str = static()

    def value(self, t):
        shape = _DECAY_SHAPES[self.decay_shape]
        v = m.warmup_hold_decay(
            t,
            self.init_value,
            self.peak_value,
            self.warmup_steps,
            self.stable_steps,
            self.decay_steps,
            lambda p: self.end_value + (self.peak_value - self.end_value) * shape(p),
        )
        held = m.elapsed(t, self.warmup_steps)
        done = (held >= self.stable_steps) & (m.elapsed(held, self.stable_steps) >= self.decay_steps)
        return jnp.where(done & (t >= self.warmup_steps), self.end_value, v)


@register()
def wsd_schedule(
    peak_value: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike,
    stable_steps: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    init_value: jax.typing.ArrayLike = 0.0,
    end_value: jax.typing.ArrayLike = 0.0,
    decay_shape: str = "linear",
) -> Schedule:
    """Warmup–stable–decay ("trapezoidal"; Hägele et al. 2024, HF `get_wsd_schedule`).

    Linear from init_value to peak_value over warmup_steps, peak_value for stable_steps, then from
    peak_value to end_value over decay_steps along f(p), p the decay's progress in [0, 1]:
    "linear" 1 − p, "cosine" ½(1 + cos πp), "1-sqrt" 1 − √p, "square" 1 − p², "sqrt" √(1 − p).
    Afterwards end_value. HF's `min_lr_ratio=r` is init_value = end_value = r·peak_value (its warmup
    starts at r, not at 0).

    Example:
      >>> s = wsd_schedule(1.0, 10, 20, 10, decay_shape="1-sqrt")
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 29, 30, 34, 40)]
      [0.0, 0.5, 1.0, 1.0, 1.0, 0.367544, 0.0]
    """
    fn = "wsd_schedule"
    check_choice(fn, "decay_shape", decay_shape, tuple(_DECAY_SHAPES))
    for name, v in (
        ("warmup_steps", warmup_steps),
        ("stable_steps", stable_steps),
        ("decay_steps", decay_steps),
    ):
        check(fn, name, v, ">= 0", lambda a: a >= 0)
    return _WSD.from_args(fn, locals())


class _InverseSqrt(Schedule):
    name = "inverse_sqrt_schedule"
    peak_value: jax.Array = float_leaf()
    warmup_steps: jax.Array = int_leaf()
    timescale: jax.Array = int_leaf()

    def params(self):
        return {"peak_value": self.peak_value, "warmup_steps": self.warmup_steps, "timescale": self.timescale}

    def value(self, t):
        scale = m.fl(m.at_least_one(self.timescale))
        warm = self.peak_value * m.progress(t, self.warmup_steps)
        shifted = m.fl(m.elapsed(t, self.warmup_steps)) + scale  # integer subtraction: exact
        return jnp.where(t < self.warmup_steps, warm, self.peak_value * jnp.sqrt(scale / shifted))


@register()
def inverse_sqrt_schedule(
    peak_value: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike,
    timescale: jax.typing.ArrayLike | None = None,
) -> Schedule:
    """Linear warmup from 0, then inverse square-root decay (HF `get_inverse_sqrt_schedule`, fairseq).

    value(t) = peak · t / warmup_steps for t < warmup_steps, then
    peak · (timescale / (t + timescale − warmup_steps))^½ (peak_value at t = warmup_steps).
    `timescale=None` means warmup_steps, or 10 000 when warmup_steps is 0 (as HF does).

    Example:
      >>> s = inverse_sqrt_schedule(1.0, warmup_steps=100)
      >>> [round(float(s(t)), 6) for t in (0, 50, 100, 300)]
      [0.0, 0.5, 1.0, 0.57735]
    """
    fn = "inverse_sqrt_schedule"
    check(fn, "warmup_steps", warmup_steps, ">= 0", lambda a: a >= 0)
    check(fn, "timescale", timescale, "> 0", lambda a: a > 0)
    if timescale is None:
        warm = as_leaf(fn, "warmup_steps", warmup_steps, "int")
        timescale = jnp.where(warm > 0, warm, 10_000)
    return _InverseSqrt.from_args(fn, locals())


class _Tanh(Schedule):
    name = "tanh_decay"
    init_value: jax.Array = float_leaf()
    decay_steps: jax.Array = int_leaf()
    end_value: jax.Array = float_leaf()
    lower: jax.Array = float_leaf()
    upper: jax.Array = float_leaf()

    def value(self, t):
        p = m.progress(t, self.decay_steps)
        # ½(1 − tanh x) = sigmoid(−2x), without the cancellation of 1 − tanh x for large x
        x = self.lower + (self.upper - self.lower) * p
        v = self.end_value + (self.init_value - self.end_value) * jax.nn.sigmoid(-2 * x)
        return jnp.where(t >= self.decay_steps, self.end_value, v)  # timm: lr_min at t = T


@register()
def tanh_decay(
    init_value: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike = 0.0,
    lower: jax.typing.ArrayLike = -7.0,
    upper: jax.typing.ArrayLike = 3.0,
) -> Schedule:
    """Hyperbolic-tangent decay (timm `TanhLRScheduler`, one cycle, no warmup).

    value(t) = end + ½(init − end)(1 − tanh(lower + (upper − lower) · t / T)) for t < T =
    decay_steps, then end_value from T on (as timm, which gives its lr_min from t = T).

    Example:
      >>> s = tanh_decay(1.0, 100)
      >>> [round(float(s(t)), 6) for t in (0, 70, 99, 100)]
      [0.999999, 0.5, 0.003018, 0.0]
    """
    fn = "tanh_decay"
    sched = _Tanh.from_args(fn, locals())
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    check(fn, "upper", upper, f"> lower = {lower!r}", lambda a, lo: a > lo, (lower,))
    return sched


class _TriStage(Schedule):
    name = "tri_stage_schedule"
    peak_value: jax.Array = float_leaf()
    warmup_steps: jax.Array = int_leaf()
    hold_steps: jax.Array = int_leaf()
    decay_steps: jax.Array = int_leaf()
    init_scale: jax.Array = float_leaf()
    final_scale: jax.Array = float_leaf()

    def value(self, t):
        final = jnp.maximum(self.final_scale, jnp.finfo(m.fl(0).dtype).tiny)
        return m.warmup_hold_decay(
            t,
            self.init_scale * self.peak_value,
            self.peak_value,
            self.warmup_steps,
            self.hold_steps,
            self.decay_steps,
            lambda p: self.peak_value * jnp.power(final, p),  # exp(log(final_scale) · p)
        )


@register()
def tri_stage_schedule(
    peak_value: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike,
    hold_steps: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    init_scale: jax.typing.ArrayLike = 0.01,
    final_scale: jax.typing.ArrayLike = 0.01,
) -> Schedule:
    """fairseq's tri-stage schedule: linear warmup from init_scale·peak to peak over warmup_steps,
    hold peak for hold_steps, then exponential decay peak·final_scale^(s / decay_steps) to
    final_scale·peak, held afterwards.

    Example:
      >>> s = tri_stage_schedule(1.0, 10, 10, 10, init_scale=0.0, final_scale=0.01)
      >>> [round(float(s(t)), 6) for t in (0, 5, 15, 25, 30, 100)]
      [0.0, 0.5, 1.0, 0.1, 0.01, 0.01]
    """
    fn = "tri_stage_schedule"
    for name, v in (("warmup_steps", warmup_steps), ("hold_steps", hold_steps), ("decay_steps", decay_steps)):
        check(fn, name, v, ">= 0", lambda a: a >= 0)
    check(fn, "final_scale", final_scale, "> 0", lambda a: a > 0)
    return _TriStage.from_args(fn, locals())
