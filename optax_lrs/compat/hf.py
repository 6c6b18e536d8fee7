"""Hugging Face transformers' learning-rate schedules (`transformers.optimization`) by their own names
(SPEC §7): `get_scheduler(name, ...)` for every `transformers.SchedulerType` and each
`get_*_schedule*` function.

Each function returns an ordinary optax_lrs `Schedule` built from the core schedules, so it jits, vmaps
and round-trips through `to_config`. The translation, common to all:

- There is no optimizer to read the base rate from, so every function takes it as an extra first
  argument, `learning_rate` (transformers reads `optimizer.defaults["lr"]` / each group's `lr`). The
  other parameters keep transformers' names, order and defaults.
- transformers returns a `LambdaLR` that the `Trainer` steps once after every optimizer update, so the
  rate used by update k (0 on the first) is `learning_rate · lr_lambda(k)`: optax's count, no shift.
  `schedule(k)` here is that value. The schedules are not clamped past `num_training_steps`, as in
  transformers (the cosine schedule keeps oscillating there, `linear` stays at 0).
- `last_epoch` (resuming a `LambdaLR`) has no equivalent: optax's count carries the position. Only
  its default, -1, is accepted.
- "reduce_lr_on_plateau" is not a schedule: it returns the `reduce_on_plateau` gradient
  transformation (see `get_reduce_on_plateau_schedule`), and "greedy" (`GreedyLR`, which also raises
  the rate) the `greedy_lr` one.
- The cosine schedules are cosine pieces repeated with `repeat`; a period that is not a whole number
  of steps ((num_training_steps − num_warmup_steps) / (2·num_cycles) for the cosine wave,
  (num_training_steps − num_warmup_steps) / num_cycles for hard restarts; e.g. 1.37 cycles over 100
  steps) is whole in ticks of 1/n step (`repeat`'s `ticks`), num_cycles read as the decimal it was
  written as: phases are exact integer arithmetic, at every step.
- Values equal transformers' to float32 rounding (transformers computes in float64).
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_lrs._base import Schedule, as_leaf, check, check_choice, fail, int_dtype, is_traced
from optax_lrs._compose import binary, join_schedules, repeat, shift
from optax_lrs._cosine import cosine_decay_schedule
from optax_lrs._cyclic import inverse_sqrt_schedule, wsd_schedule
from optax_lrs._decay import constant_schedule, k_decay, linear_schedule, polynomial_schedule
from optax_lrs._greedy import greedy_lr
from optax_lrs._plateau import reduce_on_plateau
from optax_lrs._warmup import warmup

__all__ = [
    "SCHEDULER_TYPES",
    "TYPE_TO_SCHEDULER_FUNCTION",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
    "get_greedy_schedule",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_reduce_on_plateau_schedule",
    "get_scheduler",
    "get_wsd_schedule",
]

_WSD_TYPES = ("linear", "cosine", "1-sqrt")


# --------------------------------------------------------------------------------------------------
# argument checks and the pieces every schedule shares


def _rate(fn: str, param: str, value: Any) -> Any:
    """`value` unchanged, after checking that it is a real number."""
    as_leaf(fn, param, value, "float")
    return value


def _count(fn: str, param: str, value: Any) -> Any:
    """`value` unchanged, after checking that it is an integer number of steps >= 0."""
    as_leaf(fn, param, value, "int")
    check(fn, param, value, ">= 0", lambda a: a >= 0)
    return value


def _no_resume(fn: str, last_epoch: Any) -> None:
    if not (isinstance(last_epoch, (int, np.integer)) and last_epoch == -1):
        fail(fn, "last_epoch", "-1 (optax's count carries the position when resuming)", last_epoch)


def _span(num_training_steps: Any, num_warmup_steps: Any) -> Any:
    """transformers' `max(1, num_training_steps − num_warmup_steps)`."""
    if is_traced((num_training_steps, num_warmup_steps)):
        return jnp.maximum(1, jnp.asarray(num_training_steps) - jnp.asarray(num_warmup_steps))
    return max(1, int(num_training_steps) - int(num_warmup_steps))


def _warmup_then(learning_rate: Any, num_warmup_steps: Any, after: Schedule) -> Schedule:
    """transformers' warmup `learning_rate · t / max(1, W)` for t < W, then `after` at step t − W."""
    if not is_traced(num_warmup_steps) and int(num_warmup_steps) == 0:
        return after
    return join_schedules([linear_schedule(0.0, learning_rate, num_warmup_steps), after], [num_warmup_steps])


def _decimal(fn: str, param: str, value: Any) -> Fraction:
    """A concrete real number as the decimal it was written as (0.1 is 1/10)."""
    if is_traced(value):
        fail(fn, param, "a concrete number (it fixes the schedule's structure)", "a traced value")
    as_leaf(fn, param, value, "float")
    scalar = np.asarray(value)[()]  # NumPy prints the shortest decimal of its own precision
    return Fraction(str(scalar)) if isinstance(scalar, np.floating) else Fraction(repr(float(scalar)))


def _ticks(fn: str, span: Any, per_span: Fraction, what: str) -> tuple[Any, int]:
    """`span / per_span` steps as `(length, ticks)`: `length` ticks of 1/ticks step each, so that a
    fractional length (span 100 over 3 cycles) is whole in ticks (100 ticks of 1/3 step)."""
    length, ticks = span * per_span.denominator, per_span.numerator
    if not is_traced(span):
        g = math.gcd(int(length), ticks)
        length, ticks = int(length) // g, ticks // g
        if length * ticks > np.iinfo(np.dtype(int_dtype())).max:
            raise ValueError(
                f"{fn}: the {what} is {int(span)} / {float(per_span):g} steps, {length} ticks of 1/{ticks} "
                f"step, and {length} · {ticks} passes the int32 range of exact tick arithmetic; enable "
                "x64 (JAX_ENABLE_X64=1) or give num_cycles a shorter decimal"
            )
    return length, ticks


def _cosine_wave(fn: str, learning_rate: Any, floor_ratio: Any, span: Any, num_cycles: Any) -> Schedule:
    """`learning_rate · (r + (1 − r) · ½(1 + cos(2π · num_cycles · u / span)))` at step u >= 0: a cosine
    wave between learning_rate and r · learning_rate, periodic past `span` (transformers does not clamp
    its progress). Built as half-periods of `cosine_decay_schedule` and its mirror image, repeated; a
    half-period that is not a whole number of steps is whole in ticks (`repeat`'s `ticks`)."""
    cycles = abs(_decimal(fn, "num_cycles", num_cycles))
    if cycles == 0:
        return constant_schedule(learning_rate)
    half, ticks = _ticks(
        fn, span, 2 * cycles, "cosine's half-period (num_training_steps − num_warmup_steps) / (2·num_cycles)"
    )
    down = cosine_decay_schedule(learning_rate, half, alpha=floor_ratio)
    # the rising half-period: the mirror image of `down` between its two ends
    up = binary(
        "sub",
        learning_rate * (1 + floor_ratio),
        cosine_decay_schedule(learning_rate, half, alpha=floor_ratio),
    )
    return repeat(join_schedules([down, up], [half]), 2 * half, ticks=ticks)


def _min_lr_rate(fn: str, learning_rate: Any, min_lr: Any, min_lr_rate: Any) -> Any:
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError(f"{fn}: only one of min_lr or min_lr_rate should be set")
    if min_lr is not None:
        _rate(fn, "min_lr", min_lr)
        check(fn, "learning_rate", learning_rate, "nonzero when min_lr is given", lambda a: a != 0)
        return min_lr / learning_rate
    if min_lr_rate is None:
        raise ValueError(f"{fn}: one of min_lr or min_lr_rate should be set")
    return _rate(fn, "min_lr_rate", min_lr_rate)


# --------------------------------------------------------------------------------------------------
# the schedules


def get_constant_schedule(learning_rate: jax.typing.ArrayLike, last_epoch: int = -1) -> Schedule:
    """transformers' `get_constant_schedule`: `learning_rate` at every step.

    transformers: `get_constant_schedule(optimizer, last_epoch=-1)`.
    Translation: `constant_schedule(learning_rate)`.

    Example:
      >>> round(float(get_constant_schedule(0.0731)(1000)), 6)
      0.0731
    """
    fn = "get_constant_schedule"
    _no_resume(fn, last_epoch)
    return constant_schedule(_rate(fn, "learning_rate", learning_rate))


def get_constant_schedule_with_warmup(
    learning_rate: jax.typing.ArrayLike, num_warmup_steps: jax.typing.ArrayLike, last_epoch: int = -1
) -> Schedule:
    """transformers' `get_constant_schedule_with_warmup`: linear warmup from 0, then constant.

    transformers: `get_constant_schedule_with_warmup(optimizer, num_warmup_steps, last_epoch=-1)`.
    Value at step t: `learning_rate · t / max(1, W)` for t < W = num_warmup_steps, then
    `learning_rate`. Translation: `join_schedules([linear_schedule(0, learning_rate, W),
    constant_schedule(learning_rate)], [W])` (optax's `warmup_constant_schedule` differs at W = 0,
    where it is the constant 0).

    Example:
      >>> s = get_constant_schedule_with_warmup(1.0, num_warmup_steps=4)
      >>> [float(s(t)) for t in (0, 2, 4, 100)]
      [0.0, 0.5, 1.0, 1.0]
    """
    fn = "get_constant_schedule_with_warmup"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    return _warmup_then(learning_rate, num_warmup_steps, constant_schedule(learning_rate))


def get_linear_schedule_with_warmup(
    learning_rate: jax.typing.ArrayLike,
    num_warmup_steps: jax.typing.ArrayLike,
    num_training_steps: jax.typing.ArrayLike,
    last_epoch: int = -1,
) -> Schedule:
    """transformers' `get_linear_schedule_with_warmup`: linear warmup from 0, linear decay to 0.

    transformers: `get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps,
    last_epoch=-1)`. Value at step t, W = num_warmup_steps, T = num_training_steps:
    `learning_rate · t / max(1, W)` for t < W, then `learning_rate · max(0, (T − t) / max(1, T − W))`
    (0 from T on). Translation: the warmup joined at W to `linear_schedule(learning_rate, 0, T − W)`
    (the constant 0 when T <= W).

    Example:
      >>> s = get_linear_schedule_with_warmup(1.0, num_warmup_steps=10, num_training_steps=110)
      >>> [float(s(t)) for t in (0, 5, 10, 60, 110, 500)]
      [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    fn = "get_linear_schedule_with_warmup"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    _count(fn, "num_training_steps", num_training_steps)
    if is_traced((num_warmup_steps, num_training_steps)):
        decay = linear_schedule(learning_rate, 0.0, jnp.asarray(num_training_steps) - num_warmup_steps)
    elif num_training_steps > num_warmup_steps:
        decay = linear_schedule(learning_rate, 0.0, int(num_training_steps) - int(num_warmup_steps))
    else:  # transformers: (T − t) / 1 <= 0 from W on
        decay = constant_schedule(0.0)
    return _warmup_then(learning_rate, num_warmup_steps, decay)


def get_cosine_schedule_with_warmup(
    learning_rate: jax.typing.ArrayLike,
    num_warmup_steps: jax.typing.ArrayLike,
    num_training_steps: jax.typing.ArrayLike,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> Schedule:
    """transformers' `get_cosine_schedule_with_warmup`: linear warmup from 0, then a cosine.

    transformers: `get_cosine_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps,
    num_cycles=0.5, last_epoch=-1)`. Value at step t, W = num_warmup_steps, T = num_training_steps:
    `learning_rate · t / max(1, W)` for t < W, then `learning_rate · ½(1 + cos(2π · num_cycles · p))`
    with p = (t − W) / max(1, T − W), not clamped: with the default 0.5 cycles the rate reaches 0 at T
    and rises again after it, as in transformers.

    Translation: the warmup joined at W to a cosine wave: `cosine_decay_schedule(learning_rate, H)` and
    its mirror image, H = max(1, T − W) / (2 · num_cycles) steps each, `repeat`ed every 2H steps. When
    H is not a whole number of steps (1.37 cycles over 100 steps), it is whole in ticks of 1/n step
    (`repeat(..., ticks=n)`): the phase stays exact integer arithmetic.

    Example:
      >>> s = get_cosine_schedule_with_warmup(1.0, num_warmup_steps=10, num_training_steps=110)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 60, 110, 160)]
      [0.0, 0.5, 1.0, 0.5, 0.0, 0.5]
    """
    fn = "get_cosine_schedule_with_warmup"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    _count(fn, "num_training_steps", num_training_steps)
    span = _span(num_training_steps, num_warmup_steps)
    wave = _cosine_wave(fn, learning_rate, 0.0, span, num_cycles)
    return _warmup_then(learning_rate, num_warmup_steps, wave)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    learning_rate: jax.typing.ArrayLike,
    num_warmup_steps: jax.typing.ArrayLike,
    num_training_steps: jax.typing.ArrayLike,
    num_cycles: int = 1,
    last_epoch: int = -1,
) -> Schedule:
    """transformers' `get_cosine_with_hard_restarts_schedule_with_warmup`: linear warmup from 0, then
    `num_cycles` cosine decays to 0, each restarting at `learning_rate`, then 0.

    transformers: `get_cosine_with_hard_restarts_schedule_with_warmup(optimizer, num_warmup_steps,
    num_training_steps, num_cycles=1, last_epoch=-1)`. Value at step t, W = num_warmup_steps,
    T = num_training_steps: `learning_rate · t / max(1, W)` for t < W; then with
    p = (t − W) / max(1, T − W): `learning_rate · ½(1 + cos(π · ((num_cycles · p) mod 1)))` for p < 1, and
    0 from p = 1 on.

    Translation: the warmup joined at W to `repeat(cosine_decay_schedule(learning_rate, P), P)` with
    P = max(1, T − W) / num_cycles, itself joined to the constant 0 at max(1, T − W). A P that is not
    a whole number of steps (2.3 cycles over 100 steps) is whole in ticks of 1/n step
    (`repeat(..., ticks=n)`), num_cycles read as its decimal. Restart steps are exact (transformers computes
    `(num_cycles · p) mod 1` in float64, which can land a restart step just below 1: there it gives
    ~0 where this gives the restart's peak).

    Example:
      >>> s = get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 10, 110, num_cycles=2)
      >>> [round(float(s(t)), 6) for t in (0, 10, 35, 60, 85, 110)]
      [0.0, 1.0, 0.5, 1.0, 0.5, 0.0]
    """
    fn = "get_cosine_with_hard_restarts_schedule_with_warmup"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    _count(fn, "num_training_steps", num_training_steps)
    cycles = _decimal(fn, "num_cycles", num_cycles)
    if cycles < 0:
        fail(fn, "num_cycles", ">= 0", num_cycles)
    span = _span(num_training_steps, num_warmup_steps)
    if cycles == 0:
        restarts = constant_schedule(learning_rate)  # cos(π · 0) throughout
    else:
        period, ticks = _ticks(
            fn, span, cycles, "restart period (num_training_steps − num_warmup_steps) / num_cycles"
        )
        restarts = repeat(cosine_decay_schedule(learning_rate, period), period, ticks=ticks)
    after = join_schedules([restarts, constant_schedule(0.0)], [span])
    return _warmup_then(learning_rate, num_warmup_steps, after)


def get_polynomial_decay_schedule_with_warmup(
    learning_rate: jax.typing.ArrayLike,
    num_warmup_steps: jax.typing.ArrayLike,
    num_training_steps: jax.typing.ArrayLike,
    lr_end: jax.typing.ArrayLike = 1e-7,
    power: jax.typing.ArrayLike = 1.0,
    last_epoch: int = -1,
) -> Schedule:
    """transformers' `get_polynomial_decay_schedule_with_warmup`: linear warmup from 0, polynomial
    decay to `lr_end`.

    transformers: `get_polynomial_decay_schedule_with_warmup(optimizer, num_warmup_steps,
    num_training_steps, lr_end=1e-7, power=1.0, last_epoch=-1)`. Value at step t, W = num_warmup_steps,
    T = num_training_steps: `learning_rate · t / max(1, W)` for t < W, then
    `(learning_rate − lr_end) · (1 − (t − W) / (T − W)) ^ power + lr_end` through t = T, `lr_end`
    after it. Translation: the warmup joined at W to `k_decay(learning_rate, T − W, lr_end, k=1,
    power)`, which is that polynomial, `0 ** 0 = 1` at t = T included (power 0 holds learning_rate
    through T, as transformers does).

    Args:
      learning_rate: the optimizer's rate; > lr_end, as transformers requires.
      num_training_steps: > num_warmup_steps (transformers divides by their difference).
      power: >= 0.

    Example:
      >>> s = get_polynomial_decay_schedule_with_warmup(1.0, 10, 110, lr_end=0.0, power=2.0)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 60, 110, 500)]
      [0.0, 0.5, 1.0, 0.25, 0.0, 0.0]
    """
    fn = "get_polynomial_decay_schedule_with_warmup"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _rate(fn, "lr_end", lr_end)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    _count(fn, "num_training_steps", num_training_steps)
    rule = f"> lr_end = {lr_end!r} (transformers: 'lr_end must be smaller than initial lr')"
    check(fn, "learning_rate", learning_rate, rule, lambda a, e: a > e, (lr_end,))
    rule = f"> num_warmup_steps = {num_warmup_steps!r} (the decay's length)"
    check(fn, "num_training_steps", num_training_steps, rule, lambda a, w: a > w, (num_warmup_steps,))
    check(fn, "power", power, ">= 0", lambda a: a >= 0)
    decay_steps = jnp.asarray(num_training_steps) - jnp.asarray(num_warmup_steps)
    if not is_traced(decay_steps):
        decay_steps = int(num_training_steps) - int(num_warmup_steps)
    decay = k_decay(learning_rate, decay_steps, end_value=lr_end, k=1.0, power=power)
    return _warmup_then(learning_rate, num_warmup_steps, decay)


def get_inverse_sqrt_schedule(
    learning_rate: jax.typing.ArrayLike,
    num_warmup_steps: jax.typing.ArrayLike,
    timescale: jax.typing.ArrayLike | None = None,
    last_epoch: int = -1,
) -> Schedule:
    """transformers' `get_inverse_sqrt_schedule`: linear warmup from 0, then inverse square root.

    transformers: `get_inverse_sqrt_schedule(optimizer, num_warmup_steps, timescale=None,
    last_epoch=-1)`. Value at step t, W = num_warmup_steps: `learning_rate · t / max(1, W)` for t < W,
    then `learning_rate / sqrt((t + timescale − W) / timescale)`; timescale None means W, or 10 000
    when W is 0. Translation: `inverse_sqrt_schedule(learning_rate, W, timescale)`.

    Example:
      >>> s = get_inverse_sqrt_schedule(1.0, num_warmup_steps=100)
      >>> [round(float(s(t)), 6) for t in (0, 50, 100, 300)]
      [0.0, 0.5, 1.0, 0.57735]
    """
    fn = "get_inverse_sqrt_schedule"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    return inverse_sqrt_schedule(learning_rate, num_warmup_steps, timescale)


def get_cosine_with_min_lr_schedule_with_warmup(
    learning_rate: jax.typing.ArrayLike,
    num_warmup_steps: jax.typing.ArrayLike,
    num_training_steps: jax.typing.ArrayLike,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: jax.typing.ArrayLike | None = None,
    min_lr_rate: jax.typing.ArrayLike | None = None,
) -> Schedule:
    """transformers' `get_cosine_with_min_lr_schedule_with_warmup`: the cosine schedule between
    `learning_rate` and a floor.

    transformers: `get_cosine_with_min_lr_schedule_with_warmup(optimizer, num_warmup_steps,
    num_training_steps, num_cycles=0.5, last_epoch=-1, min_lr=None, min_lr_rate=None)`. Exactly one of
    `min_lr` (absolute) and `min_lr_rate` (r, a fraction of learning_rate) is given. Value at step t:
    `learning_rate · t / max(1, W)` for t < W, then `learning_rate · (r + (1 − r) · ½(1 + cos(2π ·
    num_cycles · p)))`, p = (t − W) / max(1, T − W), not clamped (it rises again after T).
    Translation: as `get_cosine_schedule_with_warmup`, with `cosine_decay_schedule(learning_rate, H,
    alpha=r)`; a fractional H counted in ticks, as there.

    Example:
      >>> s = get_cosine_with_min_lr_schedule_with_warmup(1.0, 10, 110, min_lr_rate=0.1)
      >>> [round(float(s(t)), 6) for t in (0, 10, 60, 110, 210)]
      [0.0, 1.0, 0.55, 0.1, 1.0]
    """
    fn = "get_cosine_with_min_lr_schedule_with_warmup"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    _count(fn, "num_training_steps", num_training_steps)
    ratio = _min_lr_rate(fn, learning_rate, min_lr, min_lr_rate)
    span = _span(num_training_steps, num_warmup_steps)
    wave = _cosine_wave(fn, learning_rate, ratio, span, num_cycles)
    return _warmup_then(learning_rate, num_warmup_steps, wave)


def get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
    learning_rate: jax.typing.ArrayLike,
    num_warmup_steps: jax.typing.ArrayLike,
    num_training_steps: jax.typing.ArrayLike,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
    min_lr: jax.typing.ArrayLike | None = None,
    min_lr_rate: jax.typing.ArrayLike | None = None,
    warmup_lr_rate: jax.typing.ArrayLike | None = None,
) -> Schedule:
    """transformers' `get_cosine_with_min_lr_schedule_with_warmup_lr_rate` ("cosine_warmup_with_min_lr"):
    a warmup that starts above 0 and a cosine that runs one step ahead.

    transformers: `get_cosine_with_min_lr_schedule_with_warmup_lr_rate(optimizer, num_warmup_steps,
    num_training_steps, num_cycles=0.5, last_epoch=-1, min_lr=None, min_lr_rate=None,
    warmup_lr_rate=None)`. Value at step t, W = num_warmup_steps, T = num_training_steps, r the floor
    ratio (as in `get_cosine_with_min_lr_schedule_with_warmup`):

    - t < W: `learning_rate · (t + 1) / max(1, W)` without warmup_lr_rate (w), else
      `learning_rate · (w + (1 − w) · t / max(1, W − 1))`: linear, reaching learning_rate at t = W − 1;
    - then `learning_rate · (r + (1 − r) · ½(1 + cos(2π · num_cycles · p)))` with
      p = (t − W + 1) / max(1, T − W): the cosine of the schedule above, one step ahead.

    Translation: `join_schedules([linear_schedule(learning_rate · a, learning_rate, W − 1),
    shift(wave, -1)], [W])`, a = 1 / max(1, W) or w, wave the cosine of
    `get_cosine_with_min_lr_schedule_with_warmup` (a fractional half-period in ticks). The step ahead
    saturates at 2**31 − 1: step 2**31 − 1 reads the cosine there, not at 2**31.

    Example:
      >>> s = get_cosine_with_min_lr_schedule_with_warmup_lr_rate(1.0, 4, 104, min_lr_rate=0.0)
      >>> [round(float(s(t)), 6) for t in (0, 1, 3, 4, 53, 103)]
      [0.25, 0.5, 1.0, 0.999753, 0.5, 0.0]
    """
    fn = "get_cosine_with_min_lr_schedule_with_warmup_lr_rate"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    _count(fn, "num_training_steps", num_training_steps)
    ratio = _min_lr_rate(fn, learning_rate, min_lr, min_lr_rate)
    span = _span(num_training_steps, num_warmup_steps)
    after = shift(_cosine_wave(fn, learning_rate, ratio, span, num_cycles), -1)
    if not is_traced(num_warmup_steps) and int(num_warmup_steps) == 0:
        return after
    if warmup_lr_rate is None:
        start = learning_rate / jnp.maximum(1, jnp.asarray(num_warmup_steps))
        if not is_traced(start):
            start = float(learning_rate) / max(1, int(num_warmup_steps))
    else:
        start = learning_rate * _rate(fn, "warmup_lr_rate", warmup_lr_rate)
    ramp = linear_schedule(start, learning_rate, num_warmup_steps - 1)
    return join_schedules([ramp, after], [num_warmup_steps])


def get_wsd_schedule(
    learning_rate: jax.typing.ArrayLike,
    num_warmup_steps: jax.typing.ArrayLike,
    num_decay_steps: jax.typing.ArrayLike,
    num_training_steps: jax.typing.ArrayLike | None = None,
    num_stable_steps: jax.typing.ArrayLike | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: jax.typing.ArrayLike = 0,
    num_cycles: float = 0.5,
    last_epoch: int = -1,
) -> Schedule:
    """transformers' `get_wsd_schedule`: warmup, stable, decay ("warmup_stable_decay").

    transformers: `get_wsd_schedule(optimizer, num_warmup_steps, num_decay_steps,
    num_training_steps=None, num_stable_steps=None, warmup_type="linear", decay_type="cosine",
    min_lr_ratio=0, num_cycles=0.5, last_epoch=-1)`. With r = min_lr_ratio, W = num_warmup_steps,
    S = num_stable_steps (default num_training_steps − W − D), D = num_decay_steps, the value at step t
    is learning_rate times:

    - t < W: `r + (1 − r) · f(t / max(1, W))`, f(p) = p ("linear"), ½(1 − cos πp) ("cosine"),
      1 − sqrt(1 − p) ("1-sqrt"): the warmup starts at r, not at 0;
    - W <= t < W + S: 1;
    - W + S <= t < W + S + D: `r + (1 − r) · g(p)`, p = (t − W − S) / max(1, D), g(p) = 1 − p,
      ½(1 + cos(2π · num_cycles · p)), 1 − sqrt(p);
    - afterwards: r.

    Translation: `wsd_schedule(learning_rate, W, S, D, init_value=r · learning_rate, end_value=r ·
    learning_rate, decay_shape=decay_type)`; a "cosine" or "1-sqrt" warmup is joined in front of it as
    `warmup(..., mode="cosine")` or `polynomial_schedule(..., power=0.5)`, and a cosine decay with
    num_cycles other than 0.5 is the cosine wave of `get_cosine_schedule_with_warmup` (a fractional
    half-period max(1, D) / (2 · num_cycles) counted in ticks).

    Example:
      >>> s = get_wsd_schedule(1.0, 10, num_decay_steps=10, num_training_steps=40, decay_type="linear")
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 29, 30, 35, 40)]
      [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    fn = "get_wsd_schedule"
    _no_resume(fn, last_epoch)
    _rate(fn, "learning_rate", learning_rate)
    _rate(fn, "min_lr_ratio", min_lr_ratio)
    check_choice(fn, "warmup_type", warmup_type, _WSD_TYPES)
    check_choice(fn, "decay_type", decay_type, _WSD_TYPES)
    _count(fn, "num_warmup_steps", num_warmup_steps)
    _count(fn, "num_decay_steps", num_decay_steps)
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError(f"{fn}: either num_training_steps or num_stable_steps must be specified")
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn(
            f"{fn}: both num_training_steps and num_stable_steps are given; num_stable_steps is used",
            stacklevel=2,
        )
    if num_stable_steps is None:
        _count(fn, "num_training_steps", num_training_steps)
        rule = ">= num_warmup_steps + num_decay_steps (the stable phase is their difference)"
        given = (num_warmup_steps, num_decay_steps)
        check(fn, "num_training_steps", num_training_steps, rule, lambda a, w, d: a >= w + d, given)
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
    else:
        _count(fn, "num_stable_steps", num_stable_steps)
    floor = learning_rate * min_lr_ratio
    standard_decay = decay_type != "cosine" or _decimal(fn, "num_cycles", num_cycles) == Fraction(1, 2)
    if warmup_type == "linear" and standard_decay:
        return wsd_schedule(
            learning_rate, num_warmup_steps, num_stable_steps, num_decay_steps, floor, floor, decay_type
        )
    if standard_decay:
        rest = wsd_schedule(
            learning_rate, 0, num_stable_steps, num_decay_steps, learning_rate, floor, decay_type
        )
    else:
        span = jnp.maximum(1, num_decay_steps) if is_traced(num_decay_steps) else max(1, int(num_decay_steps))
        wave = _cosine_wave(fn, learning_rate, min_lr_ratio, span, num_cycles)
        pieces = [constant_schedule(learning_rate), wave, constant_schedule(floor)]
        rest = join_schedules(pieces, [num_stable_steps, num_stable_steps + num_decay_steps])
    if not is_traced(num_warmup_steps) and int(num_warmup_steps) == 0:
        return rest
    if warmup_type == "linear":
        ramp = linear_schedule(floor, learning_rate, num_warmup_steps)
    elif warmup_type == "cosine":
        ramp = warmup(constant_schedule(learning_rate), num_warmup_steps, init_value=floor, mode="cosine")
    else:  # 1-sqrt: r + (1 − r)(1 − sqrt(1 − p)) = 1 − (1 − r) sqrt(1 − p)
        ramp = polynomial_schedule(floor, learning_rate, 0.5, num_warmup_steps)
    return join_schedules([ramp, rest], [num_warmup_steps])


def get_reduce_on_plateau_schedule(
    learning_rate: jax.typing.ArrayLike,
    mode: str = "min",
    factor: jax.typing.ArrayLike = 0.1,
    patience: jax.typing.ArrayLike = 10,
    threshold: jax.typing.ArrayLike = 1e-4,
    threshold_mode: str = "rel",
    cooldown: jax.typing.ArrayLike = 0,
    min_lr: jax.typing.ArrayLike = 0,
    eps: jax.typing.ArrayLike = 1e-8,
    accumulation_size: jax.typing.ArrayLike = 1,
) -> optax.GradientTransformationExtraArgs:
    """transformers' `get_reduce_on_plateau_schedule` ("reduce_lr_on_plateau"): a transform, not a
    schedule.

    transformers: `get_reduce_on_plateau_schedule(optimizer, **kwargs)`, which is PyTorch's
    `ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
    threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8)`; the `Trainer` steps it with the
    evaluation metric at every evaluation. Here: the `reduce_on_plateau` gradient transformation with
    PyTorch's rules, to chain after an optimizer whose rate is `learning_rate`:
    `optax.chain(optax.adamw(learning_rate), get_reduce_on_plateau_schedule(learning_rate))`, calling
    `update(..., value=metric)`. `min_lr` and `eps` are absolute rates in PyTorch; the transform's
    scale is relative, so they become `min_scale = min(min_lr / learning_rate, 1)` and
    `eps / learning_rate`. `accumulation_size` (ours) is the number of updates per evaluation: the
    metric is the mean of the values passed over that many updates. Timing: the update that completes
    an evaluation period already uses the new scale (PyTorch's next update does), see
    `reduce_on_plateau`.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = get_reduce_on_plateau_schedule(0.1, factor=0.5, patience=0)
      >>> state = tx.init(jnp.zeros(1))
      >>> for loss in (1.0, 2.0):
      ...     _, state = tx.update(jnp.ones(1), state, value=loss)
      >>> float(state.scale)
      0.5
    """
    fn = "get_reduce_on_plateau_schedule"
    _rate(fn, "learning_rate", learning_rate)
    check(fn, "learning_rate", learning_rate, "> 0", lambda a: a > 0)
    _rate(fn, "min_lr", min_lr)
    check(fn, "min_lr", min_lr, ">= 0", lambda a: a >= 0)
    _rate(fn, "eps", eps)
    min_scale = jnp.minimum(jnp.asarray(min_lr) / learning_rate, 1.0)
    if not is_traced(min_scale):
        min_scale = min(float(min_lr) / float(learning_rate), 1.0)
        eps = float(eps) / float(learning_rate)
    else:
        eps = eps / learning_rate
    return reduce_on_plateau(
        factor=factor,
        patience=patience,
        mode=mode,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_scale=min_scale,
        eps=eps,
        accumulation_size=accumulation_size,
    )


def get_greedy_schedule(
    learning_rate: jax.typing.ArrayLike, **kwargs: Any
) -> optax.GradientTransformationExtraArgs:
    """transformers' `get_greedy_schedule` (`GreedyLR`): the `greedy_lr` gradient transformation.

    transformers: `get_greedy_schedule(optimizer, **kwargs)` builds `GreedyLR(optimizer, mode="min",
    factor=0.95, patience=10, threshold=1e-6, threshold_mode="abs", cooldown=0, warmup=0,
    min_lr=1e-3, max_lr=1.0, eps=1e-8, verbose=False, smooth=False, window_size=50, reset_start=500)`,
    stepped with one metric per evaluation: it lowers the rate after `patience` bad evaluations,
    raises it after `patience` good ones, and resets it after `reset_start` evaluations stuck at
    `min_lr`. Here `greedy_lr(learning_rate, **kwargs)` with the same names and defaults (`verbose` is
    accepted and ignored), chained after the optimizer:
    `optax.chain(optax.sgd(learning_rate), get_greedy_schedule(learning_rate, ...))`, the metric given
    as `update(..., value=metric)`; see `optax_lrs.greedy_lr`.
    """
    kwargs.pop("verbose", None)
    return greedy_lr(learning_rate, **kwargs)


# --------------------------------------------------------------------------------------------------
# by name


TYPE_TO_SCHEDULER_FUNCTION = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
    "inverse_sqrt": get_inverse_sqrt_schedule,
    "reduce_lr_on_plateau": get_reduce_on_plateau_schedule,
    "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    "cosine_warmup_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup_lr_rate,
    "warmup_stable_decay": get_wsd_schedule,
    "greedy": get_greedy_schedule,
}

# transformers' `SchedulerType` values (transformers 5.x)
SCHEDULER_TYPES = tuple(TYPE_TO_SCHEDULER_FUNCTION)


def get_scheduler(
    learning_rate: jax.typing.ArrayLike,
    name: str,
    num_warmup_steps: jax.typing.ArrayLike | None = None,
    num_training_steps: jax.typing.ArrayLike | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
) -> Schedule | optax.GradientTransformationExtraArgs:
    """transformers' `get_scheduler`: any of the schedules above by its `SchedulerType` name.

    transformers: `get_scheduler(name, optimizer, num_warmup_steps=None, num_training_steps=None,
    scheduler_specific_kwargs=None)`; here `learning_rate` comes first in place of the optimizer.
    `name` is one of `SCHEDULER_TYPES` or a `transformers.SchedulerType`. As in transformers:
    "constant" ignores every other argument; "reduce_lr_on_plateau" and "greedy" take only
    `scheduler_specific_kwargs`; the others need `num_warmup_steps`; "constant_with_warmup" takes
    nothing else, "inverse_sqrt" no `num_training_steps`, and the rest need `num_training_steps` too
    ("warmup_stable_decay" may get `num_stable_steps` in its kwargs instead). A missing one raises
    `ValueError`.

    Example:
      >>> s = get_scheduler(1.0, "linear", num_warmup_steps=10, num_training_steps=110)
      >>> [float(s(t)) for t in (5, 60)]
      [0.5, 0.5]
    """
    fn = "get_scheduler"
    name = getattr(name, "value", name)  # a transformers.SchedulerType is a str enum
    check_choice(fn, "name", name, SCHEDULER_TYPES)
    make = TYPE_TO_SCHEDULER_FUNCTION[name]
    if name == "constant":
        return make(learning_rate)
    kwargs = dict(scheduler_specific_kwargs or {})
    if name in ("reduce_lr_on_plateau", "greedy"):
        return make(learning_rate, **kwargs)
    if num_warmup_steps is None:
        raise ValueError(f"{fn}: {name} requires `num_warmup_steps`, please provide that argument")
    if name == "constant_with_warmup":
        return make(learning_rate, num_warmup_steps=num_warmup_steps)
    if name == "inverse_sqrt":
        return make(learning_rate, num_warmup_steps=num_warmup_steps, **kwargs)
    if name == "warmup_stable_decay":
        return make(
            learning_rate, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **kwargs
        )
    if num_training_steps is None:
        raise ValueError(f"{fn}: {name} requires `num_training_steps`, please provide that argument")
    return make(
        learning_rate, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **kwargs
    )
