"""`reduce_on_plateau`: scale the updates down when a monitored value stops improving (SPEC §6a)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_lrs._base import as_leaf, check, check_choice, fail, float_dtype, is_traced
from optax_lrs._transform import require_arg, scale_updates


class ReduceOnPlateauState(NamedTuple):
    """State of `reduce_on_plateau`: arrays only.

    Attributes:
      scale: the multiplier the last update applied (1 at init).
      best: the best epoch value so far (+inf in mode "min", -inf in mode "max" at init).
      num_bad_epochs: epochs without improvement since the last improvement or reduction (int32).
      cooldown_counter: epochs of cooldown left (int32).
      num_accumulated: values accumulated into the current epoch (int32).
      accumulated_value: their mean.
    """

    scale: jax.Array
    best: jax.Array
    num_bad_epochs: jax.Array
    cooldown_counter: jax.Array
    num_accumulated: jax.Array
    accumulated_value: jax.Array


def _coefficient(fn: str, param: str, base: float, sign: float, x: Any) -> jax.Array:
    """`base + sign·x` as a float leaf: computed in float64 when `x` is concrete (as PyTorch and optax
    compute `1 − threshold` in Python), in the trace otherwise."""
    leaf = as_leaf(fn, param, x, "float")
    if is_traced(x):
        return base + sign * leaf
    return as_leaf(fn, param, base + sign * np.asarray(x, np.float64), "float")


def reduce_on_plateau(
    factor: jax.typing.ArrayLike = 0.1,
    patience: jax.typing.ArrayLike = 10,
    mode: str = "min",
    threshold: jax.typing.ArrayLike = 1e-4,
    threshold_mode: str = "rel",
    cooldown: jax.typing.ArrayLike = 0,
    min_scale: jax.typing.ArrayLike = 0.0,
    eps: jax.typing.ArrayLike = 1e-8,
    accumulation_size: jax.typing.ArrayLike = 1,
    *,
    rtol: jax.typing.ArrayLike | None = None,
    atol: jax.typing.ArrayLike | None = None,
) -> optax.GradientTransformationExtraArgs:
    """Multiply the updates by a scale that drops by `factor` when `value` stops improving.

    `update(updates, state, params=None, *, value)` takes the monitored value (a loss, or a metric
    with mode "max"), and multiplies the updates by the new `state.scale` (1 at init): a value
    passed to an update can already reduce the scale of that update, as in
    `optax.contrib.reduce_on_plateau`. An epoch is `accumulation_size` consecutive updates, its
    value the mean of their `value`s; the scale changes only when an epoch completes.

    Rules at the end of an epoch with value a (PyTorch `ReduceLROnPlateau`'s, exactly):
      - a is better when a < best·(1 − threshold) (mode "min", threshold_mode "rel"),
        a < best − threshold ("min", "abs"), a > best·(1 + threshold) ("max", "rel"),
        a > best + threshold ("max", "abs"). Then best = a and num_bad_epochs = 0; otherwise
        num_bad_epochs += 1. A NaN value is never better (it counts as a bad epoch) and never becomes
        best. Negative and near-zero values follow the same formulas (in "rel" mode a negative best
        makes best·(1 − threshold) the larger number, as in PyTorch).
      - During cooldown (cooldown_counter > 0) the counter goes down by one and num_bad_epochs is 0.
      - When num_bad_epochs > patience: new = max(scale·factor, min_scale), applied only if
        scale − new > eps; either way cooldown_counter = cooldown and num_bad_epochs = 0.
    PyTorch calls `scheduler.step(a)` after `optimizer.step()`, so its lr changes from the next
    step; here the update that completes the epoch already uses the new scale. `state.scale` after
    each update equals the lr that `ReduceLROnPlateau` sets after `step(a)` on an optimizer whose lr
    is 1. Keras `ReduceLROnPlateau(min_delta=d, patience=P, cooldown=C)` is
    `threshold_mode="abs", threshold=d, patience=P − 1, cooldown=max(C − 1, 0)`.

    optax.contrib's rule: passing `rtol` or `atol` (keywords; the other one then takes optax's
    default, rtol=1e-4 or atol=0) selects `optax.contrib.reduce_on_plateau`'s rule in full, so that
    switching the import gives the same scale at every update: better is a < (1 − rtol)·best − atol
    (mirrored for mode "max": a > (1 + rtol)·best + atol), the reduction happens when the count of
    bad epochs reaches `patience` (PyTorch's patience − 1; patience=0 reduces at every improvement,
    as optax does), cooldown as above, no `eps` test. `threshold`, `threshold_mode` and `eps` belong
    to PyTorch's rule: combining them (with other than their defaults) with `rtol`/`atol` raises
    `ValueError`.

    Every hyperparameter may be traced (build the transform inside a `jax.vmap`ped function for a
    batch of runs); only concrete ones are checked.

    Args:
      factor: in [0, 1) (optax's rule: in (0, 1)); new scale = scale · factor.
      patience: integer >= 0, bad epochs tolerated before a reduction.
      mode: "min" (the value should go down) or "max".
      threshold: >= 0 (and < 1 in "rel" mode); the margin an improvement must beat.
      threshold_mode: "rel" or "abs".
      cooldown: integer >= 0, epochs after a reduction during which bad epochs are not counted.
      min_scale: in [0, 1]; the scale never goes below it (PyTorch `min_lr` for lr = 1).
      eps: >= 0; a reduction that would change the scale by eps or less is skipped.
      accumulation_size: integer >= 1, updates per epoch.
      rtol, atol: >= 0, not both 0, rtol <= 1: optax.contrib's relative and absolute tolerances.

    Returns:
      An `optax.GradientTransformationExtraArgs` whose state is a `ReduceOnPlateauState`.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = reduce_on_plateau(factor=0.5, patience=1)
      >>> state = tx.init(jnp.zeros(2))
      >>> scales = []
      >>> for loss in [3.0, 2.0, 2.5, 2.4, 1.5, 1.6]:
      ...     updates, state = tx.update(jnp.ones(2), state, value=loss)
      ...     scales.append(float(state.scale))
      >>> scales
      [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    """
    fn = "reduce_on_plateau"
    check_choice(fn, "mode", mode, ("min", "max"))
    check_choice(fn, "threshold_mode", threshold_mode, ("rel", "abs"))
    optax_rule = rtol is not None or atol is not None
    check(fn, "patience", patience, ">= 0", lambda a: a >= 0)
    check(fn, "cooldown", cooldown, ">= 0", lambda a: a >= 0)
    check(fn, "min_scale", min_scale, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    check(fn, "accumulation_size", accumulation_size, ">= 1", lambda a: a >= 1)
    sign = 1.0 if mode == "max" else -1.0  # which way an improvement goes
    if optax_rule:
        torch_only = {
            "threshold": (threshold, 1e-4),
            "threshold_mode": (threshold_mode, "rel"),
            "eps": (eps, 1e-8),
        }
        rule = "left at its default when rtol or atol is given (optax.contrib's rule)"
        for param, (value, default) in torch_only.items():
            if is_traced(value) or not np.array_equal(np.asarray(value), default):
                fail(fn, param, rule, value)
        rtol = 1e-4 if rtol is None else rtol
        atol = 0.0 if atol is None else atol
        check(fn, "factor", factor, "in (0, 1)", lambda a: (a > 0) & (a < 1))
        check(fn, "rtol", rtol, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
        check(fn, "atol", atol, ">= 0", lambda a: a >= 0)
        if not is_traced((rtol, atol)) and float(rtol) == 0 and float(atol) == 0:
            fail(fn, "rtol", "> 0 when atol is 0 (one of them must be positive)", rtol)
        rel = _coefficient(fn, "rtol", 1.0, sign, rtol)
        margin = as_leaf(fn, "atol", atol, "float")
    else:
        check(fn, "factor", factor, "in [0, 1)", lambda a: (a >= 0) & (a < 1))
        check(fn, "eps", eps, ">= 0", lambda a: a >= 0)
        if threshold_mode == "rel":
            check(fn, "threshold", threshold, "in [0, 1) in 'rel' mode", lambda a: (a >= 0) & (a < 1))
            rel, margin = _coefficient(fn, "threshold", 1.0, sign, threshold), jnp.zeros((), float_dtype())
        else:
            check(fn, "threshold", threshold, ">= 0", lambda a: a >= 0)
            rel, margin = jnp.ones((), float_dtype()), as_leaf(fn, "threshold", threshold, "float")
        eps = as_leaf(fn, "eps", eps, "float")
    factor = jnp.clip(as_leaf(fn, "factor", factor, "float"), 0.0, 1.0)
    patience = as_leaf(fn, "patience", patience, "int")
    cooldown = as_leaf(fn, "cooldown", cooldown, "int")
    min_scale = as_leaf(fn, "min_scale", min_scale, "float")
    accumulation_size = as_leaf(fn, "accumulation_size", accumulation_size, "int")

    def end_of_epoch(state: ReduceOnPlateauState, a: jax.Array) -> ReduceOnPlateauState:
        # best·rel − margin (min) or best·rel + margin (max): the value an improvement must beat
        bar = state.best * rel + sign * margin
        better = a > bar if mode == "max" else a < bar
        best = jnp.where(better, a, state.best)
        bad = jnp.where(better, 0, optax.safe_increment(state.num_bad_epochs))
        in_cooldown = state.cooldown_counter > 0
        cooling = jnp.where(in_cooldown, state.cooldown_counter - 1, state.cooldown_counter)
        if optax_rule:
            reduce = ~in_cooldown & (bad == patience)
            lowered = jnp.maximum(jnp.where(reduce, state.scale * factor, state.scale), min_scale)
            scale = jnp.where(in_cooldown, state.scale, lowered)
        else:
            bad = jnp.where(in_cooldown, 0, bad)
            reduce = bad > patience
            lowered = jnp.maximum(state.scale * factor, min_scale)
            scale = jnp.where(reduce & (state.scale - lowered > eps), lowered, state.scale)
        return ReduceOnPlateauState(
            scale=scale.astype(state.scale.dtype),
            best=best,
            num_bad_epochs=jnp.where(reduce | in_cooldown, 0, bad).astype(jnp.int32),
            cooldown_counter=jnp.where(reduce, cooldown, cooling).astype(jnp.int32),
            num_accumulated=jnp.zeros((), jnp.int32),
            accumulated_value=jnp.zeros_like(state.accumulated_value),
        )

    def init_fn(params: Any) -> ReduceOnPlateauState:
        del params
        dtype = float_dtype()
        zero = jnp.zeros((), jnp.int32)
        return ReduceOnPlateauState(
            scale=jnp.ones((), dtype),
            best=jnp.asarray(-sign * np.inf, dtype),
            num_bad_epochs=zero,
            cooldown_counter=zero,
            num_accumulated=zero,
            accumulated_value=jnp.zeros((), dtype),
        )

    return optax.GradientTransformationExtraArgs(init_fn, metric_update(fn, accumulation_size, end_of_epoch))


def metric_update(fn: str, accumulation_size: Any, end_of_epoch: Any) -> Any:
    """The `update` of a metric-driven transform: average `value` over `accumulation_size` updates
    (optax.contrib's running mean, so that its rule gives its numbers exactly), then let
    `end_of_epoch(state, mean)` step the state; the updates are scaled by the state's `scale`. The state
    has `scale`, `num_accumulated` and `accumulated_value` fields (reduce_on_plateau, greedy_lr)."""

    def update_fn(updates: Any, state: Any, params: Any = None, *, value: Any = None, **extra_args: Any):
        del params, extra_args
        require_arg(fn, "value", value)
        if jnp.ndim(value) != 0:
            fail(fn, "value", "a scalar (one value per update)", f"an array of shape {jnp.shape(value)}")
        n = state.num_accumulated
        count = optax.safe_increment(n)
        dtype = state.accumulated_value.dtype
        mean = ((n * state.accumulated_value + jnp.asarray(value).astype(dtype)) / count).astype(dtype)
        accumulating = state._replace(num_accumulated=count, accumulated_value=mean)
        done = count >= accumulation_size
        new_state = jax.tree.map(
            lambda e, s: jnp.where(done, e, s), end_of_epoch(accumulating, mean), accumulating
        )
        return scale_updates(updates, new_state.scale), new_state

    return update_fn
