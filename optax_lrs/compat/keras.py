"""Keras's learning-rate schedules by their own names (SPEC §7): every `keras.optimizers.schedules`
class, the `LearningRateScheduler` callback and the legacy `SGD(decay=...)`.

Each function takes the Keras class's parameters, with its names and defaults, and returns an ordinary
optax_lrs `Schedule` built from the core schedules, so it jits, vmaps over every hyperparameter and
round-trips through `to_config` (as the core schedule it is built from). The translation, common to all:

- A Keras optimizer calls its schedule with `optimizer.iterations`, the number of updates already
  applied (0 on the first update): optax's count. `schedule(t)` here is Keras's `schedule(t)`.
- Keras computes in float32 from `float32(step)`; these schedules compute phases in integer arithmetic
  (see each function for where that makes them differ from Keras beyond float32 rounding: at
  `CosineDecayRestarts`' restart steps, and for steps past 2**24, which float32 cannot hold).
- `name` is accepted for the signature's sake and ignored.
- Step counts (`decay_steps`, `first_decay_steps`, `warmup_steps`, `boundaries`) are integers, as
  Keras documents them. Concrete bad values raise `ValueError("<Class>: <param> must be ...")`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optax_lrs._base import Schedule, as_flag, as_leaf, boundaries_leaf, check, fail, is_traced
from optax_lrs._compose import from_fn, join_schedules, per_epoch, scale
from optax_lrs._cosine import cosine_decay_restarts, cosine_decay_schedule
from optax_lrs._decay import (
    constant_schedule,
    exponential_decay,
    inverse_time_decay,
    polynomial_decay,
    step_decay,
)
from optax_lrs._warmup import warmup

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateScheduler",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "legacy_sgd_decay",
]

_INT32_MAX = 2**31 - 1


def _real(fn: str, param: str, value: Any) -> Any:
    """`value` unchanged, after checking that it is a real number (finite in the float dtype)."""
    as_leaf(fn, param, value, "float")
    return value


def _steps(fn: str, param: str, value: Any, least: int) -> Any:
    """`value` unchanged, after checking that it is an integer step count >= least."""
    as_leaf(fn, param, value, "int")
    check(fn, param, value, f">= {least}", lambda a: a >= least)
    return value


# --------------------------------------------------------------------------------------------------


def ExponentialDecay(
    initial_learning_rate: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    staircase: bool = False,
    name: str = "ExponentialDecay",
) -> Schedule:
    """Keras's `ExponentialDecay`: `initial_learning_rate · decay_rate ^ (t / decay_steps)`.

    Keras 3: `keras.optimizers.schedules.ExponentialDecay(initial_learning_rate, decay_steps,
    decay_rate, staircase=False, name="ExponentialDecay")`.

    Translation: `exponential_decay(initial_learning_rate, transition_steps=decay_steps, decay_rate,
    staircase=staircase)`; the exponent is floored when `staircase`. A growing rate (decay_rate > 1)
    saturates at the largest float where Keras overflows to inf.

    Args:
      initial_learning_rate: the value at step 0.
      decay_steps: an integer > 0.
      decay_rate: >= 0. Keras's decay_rate = 0 gives 0 from step 1 on (from step decay_steps on with
        staircase): the core's `exponential_decay` reads 0 as no decay, as optax does, so a concrete 0
        is `step_decay(initial_learning_rate, 0.0, 1 or decay_steps)` (0^0 = 1 at the start). A traced
        decay_rate is not checked and must be > 0.
      staircase: decay in discrete jumps every decay_steps steps.
      name: ignored.

    Example:
      >>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
      >>> [round(float(s(t)), 6) for t in (0, 9, 10, 25)]
      [0.1, 0.1, 0.05, 0.025]
    """
    fn = "ExponentialDecay"
    _real(fn, "initial_learning_rate", initial_learning_rate)
    _steps(fn, "decay_steps", decay_steps, 1)
    _real(fn, "decay_rate", decay_rate)
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    staircase = as_flag(fn, "staircase", staircase)
    if not is_traced(decay_rate) and np.all(np.asarray(decay_rate) == 0):
        return step_decay(initial_learning_rate, 0.0, decay_steps if staircase else 1)
    return exponential_decay(initial_learning_rate, decay_steps, decay_rate, staircase=staircase)


def PiecewiseConstantDecay(
    boundaries: Sequence[int] | jax.typing.ArrayLike,
    values: Sequence[float] | jax.typing.ArrayLike,
    name: str = "PiecewiseConstant",
) -> Schedule:
    """Keras's `PiecewiseConstantDecay`: `values[0]` for t <= boundaries[0], `values[i + 1]` for
    boundaries[i] < t <= boundaries[i + 1], `values[-1]` for t > boundaries[-1].

    Keras 3: `keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values,
    name="PiecewiseConstant")`.

    Translation: Keras switches one step after each boundary (at t > b, where optax switches at
    t >= b), so this is `join_schedules([constant_schedule(v) for v in values], [b + 1 for b in
    boundaries])`: each value is held exactly (zeros and negative values too), not rebuilt from
    ratios as `piecewise_constant_schedule`'s scales would.

    Args:
      boundaries: integer steps >= 0 in non-decreasing order, below 2**31 − 1 (a boundary there would
        switch past the last int32 step).
      values: one more value than boundaries.
      name: ignored.

    Example:
      >>> s = PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.25])
      >>> [float(s(t)) for t in (0, 100, 101, 200, 201)]
      [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    fn = "PiecewiseConstantDecay"
    vals = as_leaf(fn, "values", values, "float", sequence=True)
    if vals.ndim != 1 or vals.shape[0] < 1:
        fail(fn, "values", "a non-empty 1-D sequence of numbers", values)
    bounds = boundaries_leaf(fn, "boundaries", boundaries)
    if bounds.shape[0] != vals.shape[0] - 1:
        rule = f"one shorter than values ({vals.shape[0]} values, so {vals.shape[0] - 1} boundaries)"
        fail(fn, "boundaries", rule, boundaries)
    check(fn, "boundaries", bounds, f"< 2**31 - 1 = {_INT32_MAX}", lambda a: a < _INT32_MAX)
    pieces = [constant_schedule(vals[i]) for i in range(vals.shape[0])]
    return join_schedules(pieces, bounds + 1)


def PolynomialDecay(
    initial_learning_rate: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    end_learning_rate: jax.typing.ArrayLike = 0.0001,
    power: jax.typing.ArrayLike = 1.0,
    cycle: bool = False,
    name: str = "PolynomialDecay",
) -> Schedule:
    """Keras's `PolynomialDecay`: `(init − end) · (1 − min(t, T) / T) ^ power + end`, T = decay_steps.

    Keras 3: `keras.optimizers.schedules.PolynomialDecay(initial_learning_rate, decay_steps,
    end_learning_rate=0.0001, power=1.0, cycle=False, name="PolynomialDecay")`.

    Translation: `polynomial_decay(initial_learning_rate, decay_steps, end_learning_rate, power,
    cycle)` (the core's default end_value is 0.0; Keras's 1e-4 is kept here). With `cycle`,
    T = decay_steps · max(1, ceil(t / decay_steps)): at each multiple of decay_steps the value is
    end_learning_rate, and the decay restarts from a lower peak one step later. The position in the
    cycle is integer arithmetic, exact for every int32 step (Keras's float32 `ceil(t / decay_steps)`
    loses it past 2**24).

    Args:
      initial_learning_rate: the value at step 0.
      decay_steps: an integer > 0.
      end_learning_rate: the final value.
      power: >= 0 (0 ** 0 is 1, as in Keras).
      cycle: restart the decay after each multiple of decay_steps.
      name: ignored.

    Example:
      >>> s = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0, power=2.0, cycle=True)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 15, 20)]
      [0.1, 0.025, 0.0, 0.00625, 0.0]
    """
    fn = "PolynomialDecay"
    _real(fn, "initial_learning_rate", initial_learning_rate)
    _steps(fn, "decay_steps", decay_steps, 1)
    _real(fn, "end_learning_rate", end_learning_rate)
    _real(fn, "power", power)
    check(fn, "power", power, ">= 0", lambda a: a >= 0)
    return polynomial_decay(
        initial_learning_rate, decay_steps, end_learning_rate, power, as_flag(fn, "cycle", cycle)
    )


def InverseTimeDecay(
    initial_learning_rate: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    staircase: bool = False,
    name: str = "InverseTimeDecay",
) -> Schedule:
    """Keras's `InverseTimeDecay`: `initial_learning_rate / (1 + decay_rate · t / decay_steps)`.

    Keras 3: `keras.optimizers.schedules.InverseTimeDecay(initial_learning_rate, decay_steps,
    decay_rate, staircase=False, name="InverseTimeDecay")`.

    Translation: `inverse_time_decay(initial_learning_rate, decay_rate, decay_steps, staircase)`
    (note the core's order: decay_rate before decay_steps); `t / decay_steps` is floored when
    `staircase`.

    Args:
      initial_learning_rate: the value at step 0.
      decay_steps: an integer > 0.
      decay_rate: >= 0.
      staircase: decay in discrete jumps every decay_steps steps.
      name: ignored.

    Example:
      >>> s = InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)
      >>> [round(float(s(t)), 6) for t in (0, 10, 30)]
      [0.1, 0.05, 0.025]
    """
    fn = "InverseTimeDecay"
    _real(fn, "initial_learning_rate", initial_learning_rate)
    _steps(fn, "decay_steps", decay_steps, 1)
    _real(fn, "decay_rate", decay_rate)
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    return inverse_time_decay(
        initial_learning_rate, decay_rate, decay_steps, as_flag(fn, "staircase", staircase)
    )


def CosineDecay(
    initial_learning_rate: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    alpha: jax.typing.ArrayLike = 0.0,
    name: str = "CosineDecay",
    warmup_target: jax.typing.ArrayLike | None = None,
    warmup_steps: jax.typing.ArrayLike = 0,
) -> Schedule:
    """Keras's `CosineDecay`, with its optional linear warmup.

    Keras 3: `keras.optimizers.schedules.CosineDecay(initial_learning_rate, decay_steps, alpha=0.0,
    name="CosineDecay", warmup_target=None, warmup_steps=0)`.

    Without `warmup_target` (Keras then ignores warmup_steps): `initial_learning_rate ·
    ((1 − alpha) · ½(1 + cos(π · min(t, T) / T)) + alpha)`, T = decay_steps, which is
    `cosine_decay_schedule(initial_learning_rate, decay_steps, alpha)`.

    With `warmup_target`: for t < warmup_steps, linear from initial_learning_rate to warmup_target;
    from warmup_steps on, the cosine decay above from warmup_target over decay_steps more steps (in
    Keras decay_steps does not count the warmup, unlike optax's `warmup_cosine_decay_schedule`), alpha
    a fraction of warmup_target. That is `warmup(cosine_decay_schedule(warmup_target, decay_steps,
    alpha), warmup_steps, init_value=initial_learning_rate)`.

    Args:
      initial_learning_rate: the value at step 0.
      decay_steps: an integer > 0, the length of the decay.
      alpha: the final value as a fraction of the decay's start.
      name: ignored.
      warmup_target: the value at the end of the warmup, or None for no warmup.
      warmup_steps: an integer >= 0.

    Example:
      >>> s = CosineDecay(0.0, decay_steps=100, warmup_target=1.0, warmup_steps=10)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 60, 110, 500)]
      [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    fn = "CosineDecay"
    _real(fn, "initial_learning_rate", initial_learning_rate)
    _steps(fn, "decay_steps", decay_steps, 1)
    _real(fn, "alpha", alpha)
    if warmup_target is None:
        return cosine_decay_schedule(initial_learning_rate, decay_steps, alpha)
    _real(fn, "warmup_target", warmup_target)
    _steps(fn, "warmup_steps", warmup_steps, 0)
    decay = cosine_decay_schedule(warmup_target, decay_steps, alpha)
    return warmup(decay, warmup_steps, init_value=initial_learning_rate)


def CosineDecayRestarts(
    initial_learning_rate: jax.typing.ArrayLike,
    first_decay_steps: jax.typing.ArrayLike,
    t_mul: jax.typing.ArrayLike = 2.0,
    m_mul: jax.typing.ArrayLike = 1.0,
    alpha: jax.typing.ArrayLike = 0.0,
    name: str = "SGDRDecay",
) -> Schedule:
    """Keras's `CosineDecayRestarts` (SGDR, Loshchilov & Hutter 2016).

    Keras 3: `keras.optimizers.schedules.CosineDecayRestarts(initial_learning_rate,
    first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay")`.

    Cycle i lasts first_decay_steps · t_mul^i steps; inside it, with frac the position in [0, 1):
    `initial_learning_rate · ((1 − alpha) · m_mul^i · ½(1 + cos(π · frac)) + alpha)`. Translation:
    `cosine_decay_restarts(initial_learning_rate, first_decay_steps, t_mul, m_mul, alpha)`.

    Where it differs from Keras: Keras finds the cycle with a float32 `log`, so at a restart that
    falls on a whole step (t_mul = 2: steps first·(2^i − 1)) it can land one cycle early, on the last
    step of the old cycle (≈ alpha), where this schedule returns the new cycle's peak, and past 2**24
    its float32 step loses the position in the cycle. t_mul is read as the decimal it was written as
    (1.1 is 11/10, where Keras's float32 holds 1.10000002).

    Args:
      initial_learning_rate: the peak of the first cycle.
      first_decay_steps: an integer > 0.
      t_mul: >= 1. (Keras also takes shrinking cycles, t_mul < 1, which the core's restarts do not.)
      m_mul: in [0, 1]. (Keras also takes growing peaks, m_mul > 1, which the core's restarts do not.)
      alpha: the floor as a fraction of initial_learning_rate.
      name: ignored.

    Example:
      >>> s = CosineDecayRestarts(1.0, first_decay_steps=100, t_mul=2.0, m_mul=0.5)
      >>> [round(float(s(t)), 6) for t in (0, 50, 99, 100, 300)]
      [1.0, 0.5, 0.000247, 0.5, 0.25]
    """
    fn = "CosineDecayRestarts"
    _real(fn, "initial_learning_rate", initial_learning_rate)
    _steps(fn, "first_decay_steps", first_decay_steps, 1)
    _real(fn, "t_mul", t_mul)
    check(fn, "t_mul", t_mul, ">= 1 (the core's restarts need cycles that do not shrink)", lambda a: a >= 1)
    _real(fn, "m_mul", m_mul)
    rule = "in [0, 1] (the core's restarts need peaks that do not grow)"
    check(fn, "m_mul", m_mul, rule, lambda a: (a >= 0) & (a <= 1))
    _real(fn, "alpha", alpha)
    return cosine_decay_restarts(initial_learning_rate, first_decay_steps, t_mul, m_mul, alpha)


# --------------------------------------------------------------------------------------------------


def _epoch_value(fn: str, schedule: Callable[..., Any], epoch: int, lr: float | None) -> Any:
    """`schedule(epoch, lr)`, or `schedule(epoch)` when that raises TypeError, as Keras calls it."""
    if lr is None:
        try:
            return schedule(epoch)
        except TypeError as e:
            raise ValueError(
                f"{fn}: schedule(epoch) failed ({e}); if it takes the current rate, schedule(epoch, lr), "
                "give learning_rate, the optimizer's initial learning rate"
            ) from e
    try:
        return schedule(epoch, lr)
    except TypeError:
        return schedule(epoch)


def LearningRateScheduler(
    schedule: Callable[..., Any] | str,
    steps_per_epoch: jax.typing.ArrayLike,
    verbose: int = 0,
    *,
    num_epochs: int | None = None,
    learning_rate: float | None = None,
) -> Schedule:
    """Keras's `LearningRateScheduler` callback as a step-indexed schedule.

    Keras 3: `keras.callbacks.LearningRateScheduler(schedule, verbose=0)`: at the start of each epoch
    (0, 1, ...) it sets the optimizer's learning rate to `schedule(epoch, lr)` (lr: the rate in
    effect, the optimizer's initial rate at epoch 0), or to `schedule(epoch)` when that call raises
    TypeError. Every update of epoch e then uses that value, so the schedule at step t is epoch
    `t // steps_per_epoch`'s value (`per_epoch`). Two ways to build it:

    - `num_epochs` given (any Python function, such as Marko Kovacevic's `step_decay(epoch)` written with
      `math.pow` and `math.floor`, and functions of the current rate, `schedule(epoch, lr)`): the
      function is called here exactly as Keras calls it, for epochs 0 .. num_epochs − 1, the rate
      passed on as Keras reads it back from its float32 variable, starting from `learning_rate`
      (needed only by functions of the rate). The values are tabulated:
      `per_epoch(join_schedules([constant_schedule(v_0), ...], [1, 2, ...]), steps_per_epoch)`. They
      equal Keras's rates exactly (both are the float32 rounding of the same numbers). Past the last
      epoch the last value holds. As Keras does, a value that is not a float is an error.
    - `num_epochs` None: `schedule` must be a jnp-traceable, elementwise function of the epoch alone
      (it receives an integer array), and the result is `per_epoch(from_fn(schedule),
      steps_per_epoch)`, defined for every epoch; its config round-trips when the function is
      importable (see `from_fn`). A function that cannot be traced is a ValueError that says to
      give num_epochs.

    Args:
      schedule: the Keras epoch function (or, untabulated, its "module:qualname").
      steps_per_epoch: updates per epoch, an integer > 0 (Keras's `steps_per_epoch`, or
        ceil(num_samples / batch_size)).
      verbose: ignored.
      num_epochs: tabulate the function over this many epochs (an integer >= 1), or None.
      learning_rate: the optimizer's initial learning rate, for `schedule(epoch, lr)` with num_epochs.

    Example (the step decay of Marko Kovacevic's "Learning Rate Schedules in Deep Learning", with 100
    updates an epoch):
      >>> import math
      >>> def step_decay(epoch):
      ...     return 0.1 * math.pow(0.5, math.floor((1 + epoch) / 10.0))
      >>> s = LearningRateScheduler(step_decay, steps_per_epoch=100, num_epochs=30)
      >>> [round(float(s(t)), 6) for t in (0, 899, 900, 1900, 2999, 10**6)]
      [0.1, 0.1, 0.05, 0.025, 0.0125, 0.0125]
      >>> import jax.numpy as jnp
      >>> s = LearningRateScheduler(lambda epoch: 0.1 * jnp.exp(-0.1 * epoch), steps_per_epoch=100)
      >>> round(float(s(1000)), 6)
      0.036788
    """
    fn = "LearningRateScheduler"
    _steps(fn, "steps_per_epoch", steps_per_epoch, 1)
    if num_epochs is None:
        sched = per_epoch(from_fn(schedule), steps_per_epoch)
        try:
            jax.eval_shape(sched, jax.ShapeDtypeStruct((), jnp.int32))
        except TypeError as e:
            raise ValueError(
                f"{fn}: schedule must be a jnp-traceable function of the epoch alone when num_epochs is "
                f"None; give num_epochs to tabulate a Python function (tracing it failed: {e})"
            ) from e
        return sched
    if not callable(schedule):
        fail(fn, "schedule", "a function of the epoch", schedule)
    if not isinstance(num_epochs, numbers.Integral) or isinstance(num_epochs, bool) or num_epochs < 1:
        fail(fn, "num_epochs", "an integer >= 1 or None", num_epochs)
    lr = None
    if learning_rate is not None:
        lr = float(np.float32(_real(fn, "learning_rate", learning_rate)))
    table = []
    for epoch in range(num_epochs):
        value = _epoch_value(fn, schedule, epoch, lr)
        if not isinstance(value, (float, np.float32, np.float64)):
            fail(fn, "schedule", f"a function returning a float, as Keras requires (epoch {epoch})", value)
        table.append(float(value))
        lr = float(np.float32(value))  # what Keras reads back from its float32 variable
    pieces = [constant_schedule(v) for v in table]
    return per_epoch(join_schedules(pieces, list(range(1, num_epochs))), steps_per_epoch)


def legacy_sgd_decay(
    learning_rate: jax.typing.ArrayLike | Schedule = 0.01,
    decay: jax.typing.ArrayLike = 0.0,
) -> Schedule:
    """The `decay` argument of the legacy Keras optimizers: `learning_rate / (1 + decay · t)`.

    Keras 2 / `tf.keras.optimizers.legacy`: `SGD(learning_rate=0.01, momentum=0.0, nesterov=False,
    decay=0.0)` (`lr=` in old code, as in the Keras CIFAR-10 tutorial's
    `SGD(lr=0.1, momentum=0.5, decay=0.002)`), and
    the same `decay` on every legacy optimizer (Adam, RMSprop, ...): each update uses
    `lr_t = learning_rate / (1 + decay · iterations)`, iterations being 0 on the first update. Keras 3
    ignores `decay` (with a warning). Translation: `inverse_time_decay(learning_rate, decay)`; use it
    as `optax.sgd(legacy_sgd_decay(0.1, 0.002), momentum=0.5)`. (optax's momentum scales the whole
    trace by the current rate, where Keras 2 folded each step's rate into its velocity: with a
    decaying rate and momentum the updates differ slightly; the rates are the same.)

    Args:
      learning_rate: the initial rate, or a Schedule (legacy optimizers divided a schedule's value by
        the same factor: then `learning_rate * inverse_time_decay(1.0, decay)`).
      decay: >= 0.

    Example (the Keras CIFAR-10 tutorial's time-based decay per update):
      >>> s = legacy_sgd_decay(0.1, decay=0.002)
      >>> [round(float(s(t)), 6) for t in (0, 500, 1000)]
      [0.1, 0.05, 0.033333]
    """
    fn = "legacy_sgd_decay"
    _real(fn, "decay", decay)
    check(fn, "decay", decay, ">= 0", lambda a: a >= 0)
    if isinstance(learning_rate, Schedule):
        return scale(learning_rate, inverse_time_decay(1.0, decay))
    return inverse_time_decay(_real(fn, "learning_rate", learning_rate), decay)
