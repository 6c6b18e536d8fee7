"""Monotone decays: constant, step, multistep, piecewise constant, exponential, natural-exp,
inverse-time, polynomial (optax and Keras flavours), k-decay, exponential with burn-in, and the
Transformer ("Noam") schedule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from optax_lrs import _math as m
from optax_lrs._base import (
    Schedule,
    as_leaf,
    boundaries_leaf,
    check,
    fail,
    float_leaf,
    int_leaf,
    is_traced,
    register,
    static,
)

# --------------------------------------------------------------------------------------------------


class _Constant(Schedule):
    name = "constant_schedule"
    value_: jax.Array = float_leaf()

    def params(self):
        return {"value": self.value_}

    def value(self, t):
        return self.value_


@register()
def constant_schedule(value: jax.typing.ArrayLike) -> Schedule:
    """Constant schedule: `value` at every step (drop-in for `optax.constant_schedule`).

    Args:
      value: the value held throughout.

    Example:
      >>> float(constant_schedule(0.1)(1000))  # doctest: +ELLIPSIS
      0.10000000149...
    """
    return _Constant(as_leaf("constant_schedule", "value", value, "float"))


# --------------------------------------------------------------------------------------------------


class _StepDecay(Schedule):
    name = "step_decay"
    init_value: jax.Array = float_leaf()
    decay_rate: jax.Array = float_leaf()
    decay_steps: jax.Array = int_leaf()
    offset: jax.Array = int_leaf()
    end_value: jax.Array | None = float_leaf()

    def value(self, t):
        k = m.floordiv_shifted(t, self.offset, self.decay_steps)
        k = m.fl(jnp.maximum(k, 0))
        # end_value is a floor, and a ceiling only for a growing rate (> 1)
        return m.power_of(self.init_value, self.decay_rate, k, self.end_value, ceiling_at_one=False)


@register()
def step_decay(
    init_value: jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    offset: jax.typing.ArrayLike = 0,
    end_value: jax.typing.ArrayLike | None = None,
) -> Schedule:
    """Step decay: multiply by `decay_rate` every `decay_steps` steps.

    value(t) = init_value · decay_rate ^ floor((t + offset) / decay_steps), floored at `end_value`
    (a ceiling instead when decay_rate > 1). The exponent is integer arithmetic, exact for every int32
    step, and never negative.

    Args:
      init_value: value at step 0.
      decay_rate: factor per drop, >= 0.
      decay_steps: steps between drops, > 0.
      offset: added to the step before dividing. The Keras `step_decay` of Marko Kovacevic's
        "Learning Rate Schedules in Deep Learning" uses `floor((1 + epoch) / drop)`, i.e. `offset=1`
        on an epoch index; the Keras CIFAR-10 tutorial's `step_decay` (`floor(epoch / drop)`),
        PyTorch's `StepLR(step_size, gamma)` (per epoch) and `offset=0` agree.
      end_value: optional floor (MXNet `FactorScheduler`'s `stop_factor_lr`).

    References: PyTorch `StepLR`; MXNet `FactorScheduler(step, factor)`, whose 1-based update count n
    is our step n - 1; Keras `LearningRateScheduler` with a `step_decay` function (Marko Kovacevic's
    "Learning Rate Schedules in Deep Learning", the Keras CIFAR-10 tutorial).

    Example:
      >>> s = step_decay(0.1, 0.5, 10)
      >>> [round(float(s(t)), 6) for t in (0, 9, 10, 25)]
      [0.1, 0.1, 0.05, 0.025]
    """
    fn = "step_decay"
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    return _StepDecay.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _MultiStep(Schedule):
    name = "multistep_decay"
    init_value: jax.Array = float_leaf()
    boundaries: jax.Array = int_leaf()
    decay_rate: jax.Array = float_leaf()
    end_value: jax.Array | None = float_leaf()

    def value(self, t):
        k = m.piecewise_index(t, self.boundaries)
        # a table of the levels: one power per boundary instead of one per step
        levels = m.safe_pow(
            jnp.maximum(self.decay_rate, 0.0), m.fl(jnp.arange(self.boundaries.shape[-1] + 1))
        )
        v = self.init_value * m.take(levels, k)
        return m.end_clip(v, self.decay_rate, self.end_value, ceiling_at_one=False)


@register(containers={"boundaries": (list, tuple, np.ndarray)})
def multistep_decay(
    init_value: jax.typing.ArrayLike,
    boundaries: Sequence[int] | jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike | None = None,
) -> Schedule:
    """Multi-step decay: multiply by `decay_rate` at every boundary.

    value(t) = init_value · decay_rate ^ (number of boundaries b with b <= t), floored at `end_value`.
    `boundaries` is one array leaf (a binary search, O(log n) in the number of boundaries), so a grid
    may vary the boundaries themselves.

    Args:
      init_value: value before the first boundary.
      boundaries: non-negative steps in increasing order (an empty sequence gives a constant).
      decay_rate: factor per boundary, >= 0.
      end_value: optional floor.

    References: PyTorch `MultiStepLR(milestones, gamma)`; MXNet `MultiFactorScheduler(step, factor)`,
    whose 1-based update n is our step n - 1 (its "250th iteration is still 1, the 251st is 0.5" is
    our step 249 -> 1, step 250 -> 0.5).

    Example:
      >>> s = multistep_decay(1.0, [250, 750, 900], 0.5)
      >>> [float(s(t)) for t in (249, 250, 750, 900)]
      [1.0, 0.5, 0.25, 0.125]
    """
    fn = "multistep_decay"
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    boundaries = boundaries_leaf(fn, "boundaries", boundaries)
    return _MultiStep.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


def _is_pair(p):
    return isinstance(p, (list, tuple)) and len(p) == 2


def split_boundaries_and_scales(fn, boundaries_and_scales):
    """`{step: scale}` (or `[(step, scale), ...]`, which JSON configs use) as two array leaves sorted
    by step: integer steps >= 0 within int32, finite scales >= 0."""
    param, given = "boundaries_and_scales", boundaries_and_scales
    rule = "a {step: scale} mapping or a list of (step, scale) pairs, with integer steps and real scales"
    if given is None:
        items = []
    elif isinstance(given, Mapping):
        items = list(given.items())
    elif isinstance(given, (list, tuple)) and all(_is_pair(p) for p in given):
        items = [tuple(p) for p in given]
    else:
        fail(fn, param, rule, given)
    try:
        steps = as_leaf(fn, param, [k for k, _ in items], "int", sequence=True)
        scales = as_leaf(fn, param, [v for _, v in items], "float", sequence=True)
    except ValueError:
        steps = scales = None
    if steps is None or steps.ndim != 1 or scales.ndim != 1:
        fail(fn, param, rule, given)
    order = np.arange(len(items))
    if not is_traced(steps):
        if not np.all(np.asarray(steps) >= 0):
            fail(fn, param, "keyed by steps >= 0", given)
        order = np.argsort(np.asarray(steps), kind="stable")
    if not is_traced(scales) and not np.all(np.asarray(scales) >= 0):
        fail(fn, param, "non-negative scales", given)
    return steps[order], scales[order]


def pairs(boundaries, scales):
    """The `boundaries_and_scales` config form: a list of `[step, scale]` pairs."""
    return [[int(b), float(s)] for b, s in zip(np.asarray(boundaries), np.asarray(scales))]


class _PiecewiseConstant(Schedule):
    name = "piecewise_constant_schedule"
    init_value: jax.Array = float_leaf()
    boundaries: jax.Array = int_leaf()
    scales: jax.Array = float_leaf()

    def params(self):
        return {
            "init_value": self.init_value,
            "boundaries_and_scales": pairs(self.boundaries, self.scales),
        }

    def value(self, t):
        levels = jnp.cumprod(jnp.concatenate([jnp.ones(1, self.scales.dtype), self.scales]))
        return self.init_value * m.take(levels, m.piecewise_index(t, self.boundaries))


@register(containers={"boundaries_and_scales": (dict, list, tuple)})
def piecewise_constant_schedule(
    init_value: jax.typing.ArrayLike,
    boundaries_and_scales: Mapping[int, float] | Sequence[tuple[int, float]] | None = None,
) -> Schedule:
    """Piecewise constant: `init_value` times the product of every scale whose boundary is <= t.

    Drop-in for `optax.piecewise_constant_schedule` (same values; also accepts a list of
    `(step, scale)` pairs, the form configs use). Keras `PiecewiseConstantDecay(boundaries, values)`
    switches one step later (at t > b): it equals this schedule with boundaries b + 1 and scales
    values[i+1] / values[i].

    Args:
      init_value: value before the first boundary.
      boundaries_and_scales: `{step: scale}`, scales >= 0.

    Example:
      >>> s = piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.1})
      >>> [round(float(s(t)), 6) for t in (99, 100, 200)]
      [1.0, 0.1, 0.01]
    """
    fn = "piecewise_constant_schedule"
    bounds, scales = split_boundaries_and_scales(fn, boundaries_and_scales)
    return _PiecewiseConstant(as_leaf(fn, "init_value", init_value, "float"), bounds, scales)


# --------------------------------------------------------------------------------------------------


class _Exponential(Schedule):
    name = "exponential_decay"
    init_value: jax.Array = float_leaf()
    transition_steps: jax.Array = int_leaf()
    decay_rate: jax.Array = float_leaf()
    transition_begin: jax.Array = int_leaf()
    staircase: bool = static()
    end_value: jax.Array | None = float_leaf()

    def value(self, t):
        return m.exponential(
            t,
            self.init_value,
            self.transition_steps,
            self.decay_rate,
            self.transition_begin,
            self.staircase,
            self.end_value,
        )


@register()
def exponential_decay(
    init_value: jax.typing.ArrayLike,
    transition_steps: jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    transition_begin: jax.typing.ArrayLike = 0,
    staircase: bool = False,
    end_value: jax.typing.ArrayLike | None = None,
) -> Schedule:
    """Exponential decay, drop-in for `optax.exponential_decay`.

    value(t) = init_value · decay_rate ^ ((t − transition_begin) / transition_steps) for
    t > transition_begin (the exponent floored if `staircase`), else init_value; clipped at
    `end_value` (a floor if decay_rate < 1, a ceiling otherwise). As in optax,
    `transition_steps <= 0` or `decay_rate == 0` give the constant `init_value` and a negative
    `transition_begin` reads as 0.

    References: Keras `ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase)`
    (= `transition_steps=decay_steps`); TF1's `tf.compat.v1.train.exponential_decay` (as cited in
    Marko Kovacevic's "Learning Rate Schedules in Deep Learning").

    Example:
      >>> s = exponential_decay(1.0, transition_steps=10, decay_rate=0.5)
      >>> [float(s(t)) for t in (0, 10, 20)]
      [1.0, 0.5, 0.25]
    """
    fn = "exponential_decay"
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    return _Exponential.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


def _decay_progress(t, decay_steps, staircase):
    if staircase:
        return m.fl(m.floordiv(t, decay_steps)[0])
    return m.fl(t) / m.fl(m.at_least_one(decay_steps))


class _NaturalExp(Schedule):
    name = "natural_exp_decay"
    init_value: jax.Array = float_leaf()
    decay_rate: jax.Array = float_leaf()
    decay_steps: jax.Array = int_leaf()
    staircase: bool = static()

    def value(self, t):
        rate = jnp.maximum(self.decay_rate, 0.0)  # a traced negative rate would grow without bound
        return self.init_value * jnp.exp(-rate * _decay_progress(t, self.decay_steps, self.staircase))


@register()
def natural_exp_decay(
    init_value: jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike = 1,
    staircase: bool = False,
) -> Schedule:
    """Natural exponential decay: value(t) = init_value · exp(−decay_rate · p), p = t / decay_steps
    (floored if `staircase`).

    This is the Keras CIFAR-10 tutorial's `exp_decay` and Marko Kovacevic's exponential decay
    (lr0 · e^(−k·t), with k = decay_rate and t in epochs or steps) and TF1's `natural_exp_decay`.

    Args:
      init_value: value at step 0.
      decay_rate: k >= 0.
      decay_steps: steps per unit of t, > 0.
      staircase: decay in discrete jumps.

    Example:
      >>> round(float(natural_exp_decay(0.1, 0.1)(10)), 6)
      0.036788
    """
    fn = "natural_exp_decay"
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    return _NaturalExp.from_args(fn, locals())


class _InverseTime(Schedule):
    name = "inverse_time_decay"
    init_value: jax.Array = float_leaf()
    decay_rate: jax.Array = float_leaf()
    decay_steps: jax.Array = int_leaf()
    staircase: bool = static()

    def value(self, t):
        p = _decay_progress(t, self.decay_steps, self.staircase)
        return self.init_value / (1 + jnp.maximum(self.decay_rate, 0.0) * p)


@register()
def inverse_time_decay(
    init_value: jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike = 1,
    staircase: bool = False,
) -> Schedule:
    """Inverse-time ("time-based", 1/t) decay: value(t) = init_value / (1 + decay_rate · p),
    p = t / decay_steps (floored if `staircase`).

    References: Keras `InverseTimeDecay(initial_learning_rate, decay_steps, decay_rate, staircase)`;
    the legacy Keras `SGD(lr, decay=k)` is `inverse_time_decay(lr, k)` per update (the Keras CIFAR-10
    tutorial's time-based decay).

    Example:
      >>> round(float(inverse_time_decay(0.1, 0.001)(50)), 6)
      0.095238
    """
    fn = "inverse_time_decay"
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    return _InverseTime.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _Polynomial(Schedule):
    name = "polynomial_schedule"
    init_value: jax.Array = float_leaf()
    end_value: jax.Array = float_leaf()
    power: jax.Array = float_leaf()
    transition_steps: jax.Array = int_leaf()
    transition_begin: jax.Array = int_leaf()

    def value(self, t):
        return m.polynomial(
            t,
            self.init_value,
            self.end_value,
            self.power,
            self.transition_steps,
            jnp.maximum(self.transition_begin, 0),
        )


@register()
def polynomial_schedule(
    init_value: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike,
    power: jax.typing.ArrayLike,
    transition_steps: jax.typing.ArrayLike,
    transition_begin: jax.typing.ArrayLike = 0,
) -> Schedule:
    """Polynomial transition, drop-in for `optax.polynomial_schedule`.

    value(t) = (init − end) · (1 − c / T) ^ power + end, c = clip(t − transition_begin, 0, T).
    As in optax, `transition_steps <= 0` gives the constant `init_value` and a negative
    `transition_begin` reads as 0. `power` must be >= 0 (0 ** 0 is 1).

    Example:
      >>> s = polynomial_schedule(1.0, 0.01, power=2, transition_steps=100)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100, 150)]
      [1.0, 0.2575, 0.01, 0.01]
    """
    fn = "polynomial_schedule"
    check(fn, "power", power, ">= 0", lambda a: a >= 0)
    return _Polynomial.from_args(fn, locals())


class _Linear(_Polynomial):
    """`polynomial_schedule` with power 1, configured without `power`."""

    name = "linear_schedule"

    def params(self):
        return {k: v for k, v in super().params().items() if k != "power"}


@register()
def linear_schedule(
    init_value: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike,
    transition_steps: jax.typing.ArrayLike,
    transition_begin: jax.typing.ArrayLike = 0,
) -> Schedule:
    """Linear transition from `init_value` to `end_value`, drop-in for `optax.linear_schedule`
    (`polynomial_schedule` with power 1; `transition_steps <= 0` gives the constant `init_value`).

    Example:
      >>> s = linear_schedule(1.0, 0.0, transition_steps=4)
      >>> [float(s(t)) for t in range(6)]
      [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    fn = "linear_schedule"
    power = 1.0
    return _Linear.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _PolynomialDecay(Schedule):
    name = "polynomial_decay"
    init_value: jax.Array = float_leaf()
    decay_steps: jax.Array = int_leaf()
    end_value: jax.Array = float_leaf()
    power: jax.Array = float_leaf()
    cycle: bool = static()

    def restart_index(self, t):
        if not self.cycle:
            return super().restart_index(t)
        # cycle k covers (k·T, (k + 1)·T]: the horizon doubles one step after T
        q, r = m.floordiv(t, m.at_least_one(self.decay_steps))
        return jnp.where(r > 0, q, jnp.maximum(q - 1, 0))

    def value(self, t):
        steps = m.at_least_one(self.decay_steps)
        if self.cycle:
            # 1 − t/T with T = steps·max(1, ceil(t/steps)), from integers: T itself may pass int32
            q, r = m.floordiv(t, steps)
            inside = r > 0
            horizon = m.fl(steps) * m.fl(jnp.where(inside, q + 1, jnp.maximum(q, 1)))
            left = jnp.where(inside, m.fl(steps - r), jnp.where(t > 0, 0.0, m.fl(steps)))
            left = left / horizon
        else:
            left = m.remaining(t, steps)
        return (self.init_value - self.end_value) * m.safe_pow(left, self.power) + self.end_value


@register()
def polynomial_decay(
    init_value: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike = 0.0,
    power: jax.typing.ArrayLike = 1.0,
    cycle: bool = False,
) -> Schedule:
    """Polynomial decay in the Keras/MXNet/seed form.

    value(t) = (init − end) · (1 − min(t, T) / T) ^ power + end with T = decay_steps; past T it holds
    `end_value`. With `cycle`, T = decay_steps · max(1, ceil(t / decay_steps)): the decay restarts
    from a lower peak after each multiple of decay_steps (at the multiple itself it reads end_value).

    Args:
      init_value: value at step 0.
      decay_steps: length of the decay, > 0.
      end_value: final value. Note: Keras `PolynomialDecay`'s default is 1e-4, ours is 0.0.
      power: exponent >= 0 (PyTorch-Encoding's `LR_Scheduler` 'poly' uses 0.9; MXNet
        `PolyScheduler`'s `pwr`).
      cycle: Keras's `cycle=True`.

    Example:
      >>> s = polynomial_decay(1.0, 10, power=2.0)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 20)]
      [1.0, 0.25, 0.0, 0.0]
    """
    fn = "polynomial_decay"
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    check(fn, "power", power, ">= 0", lambda a: a >= 0)
    return _PolynomialDecay.from_args(fn, locals())


class _KDecay(Schedule):
    name = "k_decay"
    init_value: jax.Array = float_leaf()
    decay_steps: jax.Array = int_leaf()
    end_value: jax.Array = float_leaf()
    k: jax.Array = float_leaf()
    power: jax.Array = float_leaf()

    def value(self, t):
        # 1 − (t/T)^k = −expm1(k·log1p(−r)) with r = 1 − t/T from integers: accurate near T
        r = m.remaining(t, self.decay_steps)
        start = r >= 1
        log_x = jnp.log1p(-jnp.where(start, 0.5, r))
        left = jnp.where(start, 1.0, -jnp.expm1(jnp.maximum(self.k, 0.0) * log_x))
        v = (self.init_value - self.end_value) * m.safe_pow(left, self.power) + self.end_value
        # the k-decay formula holds through t = T (power 0 gives init there: 0**0 = 1), end_value after
        return jnp.where(t > self.decay_steps, self.end_value, v)


@register()
def k_decay(
    init_value: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    end_value: jax.typing.ArrayLike = 0.0,
    k: jax.typing.ArrayLike = 1.0,
    power: jax.typing.ArrayLike = 1.0,
) -> Schedule:
    """K-decay (Zhang & Li, 2020): value(t) = (init − end) · (1 − t^k / T^k) ^ power + end for t <= T,
    then `end_value`.

    `k` controls how late the decay bites (k = 1 is polynomial decay); the common `K_decay` example of
    the paper's schedule uses k = 3 and N = power = 4. With power 0 the formula is init_value through
    t = T (Python's `0.0 ** 0 == 1.0` in that example) and end_value after it.

    Args:
      init_value: L0.
      decay_steps: T > 0.
      end_value: Le.
      k: > 0.
      power: N >= 0.

    Example:
      >>> s = k_decay(1.0, 10, k=3.0, power=4.0)
      >>> round(float(s(5)), 6)
      0.586182
    """
    fn = "k_decay"
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    check(fn, "k", k, "> 0", lambda a: a > 0)
    check(fn, "power", power, ">= 0", lambda a: a >= 0)
    return _KDecay.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _ExpBurnin(Schedule):
    name = "exponential_decay_with_burnin"
    init_value: jax.Array = float_leaf()
    decay_steps: jax.Array = int_leaf()
    decay_rate: jax.Array = float_leaf()
    burnin_value: jax.Array = float_leaf()
    burnin_steps: jax.Array = int_leaf()
    min_value: jax.Array = float_leaf()
    staircase: bool = static()

    def value(self, t):
        after = jnp.maximum(t - self.burnin_steps, 0)
        p = _decay_progress(after, self.decay_steps, self.staircase)
        decayed = m.power_of(self.init_value, self.decay_rate, p)
        burnin = jnp.where(self.burnin_value == 0, self.init_value, self.burnin_value)
        return jnp.maximum(jnp.where(t < self.burnin_steps, burnin, decayed), self.min_value)


@register()
def exponential_decay_with_burnin(
    init_value: jax.typing.ArrayLike,
    decay_steps: jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    burnin_value: jax.typing.ArrayLike = 0.0,
    burnin_steps: jax.typing.ArrayLike = 0,
    min_value: jax.typing.ArrayLike = 0.0,
    staircase: bool = True,
) -> Schedule:
    """Exponential decay after a burn-in (the TF Object Detection API's `exponential_decay_with_burnin`).

    value(t) = max(v, min_value), with v = burnin_value (init_value when burnin_value is 0) for
    t < burnin_steps, else init_value · decay_rate ^ ((t − burnin_steps) / decay_steps), the exponent
    floored when `staircase` (the default, as in the TF original).

    Args:
      init_value: value when the decay starts.
      decay_steps: steps per decay, > 0.
      decay_rate: factor per decay_steps, >= 0.
      burnin_value: value during burn-in (0 means init_value).
      burnin_steps: length of the burn-in, >= 0.
      min_value: floor of the schedule.
      staircase: decay in discrete jumps.

    Example:
      >>> s = exponential_decay_with_burnin(0.1, 100, 0.5, burnin_value=0.01, burnin_steps=10)
      >>> [round(float(s(t)), 6) for t in (0, 9, 10, 110)]
      [0.01, 0.01, 0.1, 0.05]
    """
    fn = "exponential_decay_with_burnin"
    check(fn, "decay_steps", decay_steps, "> 0", lambda a: a > 0)
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    check(fn, "burnin_steps", burnin_steps, ">= 0", lambda a: a >= 0)
    return _ExpBurnin.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _Transformer(Schedule):
    name = "transformer_schedule"
    d_model: jax.Array = float_leaf()
    warmup_steps: jax.Array = int_leaf()
    scale: jax.Array = float_leaf()

    def value(self, t):
        tf = m.fl(t)
        safe_t = jnp.maximum(tf, 1.0)
        warm = m.fl(m.at_least_one(self.warmup_steps))
        v = jnp.minimum(jax.lax.rsqrt(safe_t), tf * warm**-1.5)
        d = jnp.maximum(self.d_model, jnp.finfo(m.fl(0).dtype).tiny)
        return jnp.where(tf > 0, self.scale * jax.lax.rsqrt(d) * v, 0.0)


@register()
def transformer_schedule(
    d_model: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike = 4000,
    scale: jax.typing.ArrayLike = 1.0,
) -> Schedule:
    """The Transformer ("Noam") schedule of Vaswani et al. (2017).

    value(t) = scale · d_model^−½ · min(t^−½, t · warmup_steps^−1.5); 0 at t = 0 (the formula's
    t^−½ is infinite there; the optimizer's first update uses step 0). Peaks at t = warmup_steps.

    Args:
      d_model: model width, > 0.
      warmup_steps: > 0.
      scale: overall factor (the paper's is 1).

    Example:
      >>> s = transformer_schedule(512, warmup_steps=4000)
      >>> round(float(s(4000)), 8)
      0.00069877
    """
    fn = "transformer_schedule"
    check(fn, "d_model", d_model, "> 0", lambda a: a > 0)
    check(fn, "warmup_steps", warmup_steps, "> 0", lambda a: a > 0)
    return _Transformer.from_args(fn, locals())
