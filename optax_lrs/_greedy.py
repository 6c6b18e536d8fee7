"""`greedy_lr`: raise the scale while a monitored value keeps improving, lower it when it stalls
(transformers' `GreedyLR`)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_lrs._base import as_flag, as_leaf, check, check_choice, fail, float_dtype, is_traced
from optax_lrs._plateau import _coefficient, metric_update


class GreedyLRState(NamedTuple):
    """State of `greedy_lr`: arrays only.

    Attributes:
      scale: the multiplier the last update applied, GreedyLR's lr / `learning_rate` (1 at init):
        scale_anchor · factor**scale_exponent.
      scale_anchor: where the last clamp or reset put the scale (1, min_lr / learning_rate or
        max_lr / learning_rate).
      scale_exponent: reductions minus increases since then (int32).
      best: the best (smoothed) epoch value since init or the last reset (+inf in mode "min", -inf
        in mode "max").
      num_bad_epochs: epochs without improvement in a row (int32).
      num_good_epochs: improving epochs in a row (int32).
      cooldown_counter: epochs of cooldown left after a reduction (int32).
      warmup_counter: epochs of warmup left after an increase (int32).
      reset_counter: reductions at the minimum left before the reset (GreedyLR's `reset_start`, int32).
      window: the last `window_size` epoch values, oldest first, zeros where none yet (shape (0,)
        without smoothing).
      window_count: how many values the window holds (int32).
      window_poisoned: whether a NaN or infinite value has left the window since the last reset (GreedyLR's
        running sum is then NaN until the reset).
      num_accumulated: values accumulated into the current epoch (int32).
      accumulated_value: their mean.
    """

    scale: jax.Array
    scale_anchor: jax.Array
    scale_exponent: jax.Array
    best: jax.Array
    num_bad_epochs: jax.Array
    num_good_epochs: jax.Array
    cooldown_counter: jax.Array
    warmup_counter: jax.Array
    reset_counter: jax.Array
    window: jax.Array
    window_count: jax.Array
    window_poisoned: jax.Array
    num_accumulated: jax.Array
    accumulated_value: jax.Array


def _split_log(fn: str, factor: Any) -> tuple[jax.Array, jax.Array]:
    """ln(factor) as hi + lo in the float dtype, hi with 12 significant bits so that k·hi is exact for
    |k| < 4096; from the float64 factor when it is concrete."""
    dtype = float_dtype()
    if is_traced(factor):
        x = jnp.log(jnp.clip(as_leaf(fn, "factor", factor, "float"), jnp.finfo(dtype).tiny, 1.0))
        m, e = jnp.frexp(x)
        hi = jnp.ldexp(jnp.round(m * 4096.0), e - 12)
        return hi, x - hi
    x = np.log(np.float64(factor))
    m, e = np.frexp(x)
    hi = np.ldexp(np.round(m * 4096.0), e - 12)
    return jnp.asarray(hi, dtype), jnp.asarray(x - hi, dtype)


def greedy_lr(
    learning_rate: jax.typing.ArrayLike,
    mode: str = "min",
    factor: jax.typing.ArrayLike = 0.95,
    patience: jax.typing.ArrayLike = 10,
    threshold: jax.typing.ArrayLike = 1e-6,
    threshold_mode: str = "abs",
    cooldown: jax.typing.ArrayLike = 0,
    warmup: jax.typing.ArrayLike = 0,
    min_lr: jax.typing.ArrayLike = 1e-3,
    max_lr: jax.typing.ArrayLike = 1.0,
    eps: jax.typing.ArrayLike = 1e-8,
    *,
    smooth: bool = False,
    window_size: int = 50,
    reset_start: jax.typing.ArrayLike = 500,
    accumulation_size: jax.typing.ArrayLike = 1,
) -> optax.GradientTransformationExtraArgs:
    """Multiply the updates by a scale that rises by 1/`factor` while `value` keeps improving and
    drops by `factor` when it stalls (transformers' `GreedyLR`).

    Chain it after an optimizer whose rate is `learning_rate`:
    `optax.chain(optax.sgd(learning_rate), greedy_lr(learning_rate, ...))`, and call
    `update(updates, state, params=None, *, value)` with the monitored value (a loss, or a metric with
    mode "max"). The updates are multiplied by the new `state.scale`, GreedyLR's rate divided by
    `learning_rate` (1 at init). `min_lr`, `max_lr` and `eps` are absolute rates, as in GreedyLR, so
    its defaults keep their meaning; they act on the scale as `min_lr / learning_rate`,
    `max_lr / learning_rate` and `eps / learning_rate` (divided in float64 when concrete).

    transformers: `GreedyLR(optimizer, mode="min", factor=0.95, patience=10, threshold=1e-6,
    threshold_mode="abs", cooldown=0, warmup=0, min_lr=1e-3, max_lr=1.0, eps=1e-8, verbose=False,
    smooth=False, window_size=50, reset_start=500)`, stepped once per metric value with
    `scheduler.step(metric)` (the `Trainer` does so at each evaluation). Translation: the optimizer's
    initial rate (one parameter group) is `learning_rate`; `verbose` is not taken (nothing prints
    inside a trace); an epoch (one `step(metric)`) is `accumulation_size` consecutive updates (ours,
    default 1), its value the mean of their `value`s; the scale changes only when an epoch completes.
    `state.scale · learning_rate` after each epoch equals the lr that GreedyLR sets after
    `step(mean)`. GreedyLR's `step` follows `optimizer.step()`, so its rate changes from the next
    update; here the update that completes the epoch already uses the new scale, as in
    `reduce_on_plateau`.

    Rules at the end of an epoch with value a, GreedyLR's exactly:
      - With `smooth`, a is replaced by the mean of the last `window_size` epoch values (fewer right
        after init or a reset). GreedyLR keeps a running sum, so a NaN or infinite value makes the
        mean NaN until the next reset, even after it has left the window; so does this one.
      - During cooldown (cooldown_counter > 0) the counter goes down by one, else during warmup
        (warmup_counter > 0) that counter goes down by one; either way both epoch counts are 0 and
        `best` is left alone.
      - Otherwise a is better when a < best − threshold (mode "min", threshold_mode "abs"),
        a < best·(1 − threshold) ("min", "rel"), a > best + threshold ("max", "abs"),
        a > best·(1 + threshold) ("max", "rel"). Better: best = a, num_bad_epochs = 0,
        num_good_epochs += 1; not better (NaN never is): num_bad_epochs += 1, num_good_epochs = 0.
      - num_good_epochs > patience: increase. new = min(scale / factor, max_lr / learning_rate),
        applied only if new − scale > eps / learning_rate; warmup_counter = warmup,
        num_good_epochs = 0, reset_counter = reset_start.
      - Else num_bad_epochs > patience: reduce. new = max(scale · factor, min_lr / learning_rate),
        applied only if scale − new > eps / learning_rate; if the scale is then not above
        min_lr / learning_rate, reset_counter −= 1, and when it reaches 0 (or less) everything
        resets to its initial value (scale 1, best ±inf, counters 0, window empty, reset_counter
        reset_start). Then cooldown_counter = cooldown (also after a reset) and num_bad_epochs = 0.
    Precision: the scale is computed as anchor · factor**k (k = reductions minus increases since the
    last clamp or reset), with ln(factor) split so that k·ln(factor) is exact, not by multiplying
    the previous scale: it is within a few float32 ulps of GreedyLR's float64 rate however many
    times the rate has gone up and down, where repeated multiplications would drift (and XLA turns
    a division by a constant factor into a multiplication by its rounded reciprocal). A value within
    float32 rounding of the bar to beat, or a reduction landing within it of `min_lr`, can still
    decide differently from GreedyLR.

    Every numeric hyperparameter but `window_size` may be traced (build the transform inside a
    `jax.vmap`ped function for a batch of runs); only concrete ones are checked. `window_size` sizes
    the state's buffer and must be a concrete integer.

    Args:
      learning_rate: > 0, the optimizer's initial rate, which `min_lr`, `max_lr` and `eps` are
        relative to and which a reset returns to.
      mode: "min" (the value should go down) or "max".
      factor: in (0, 1); the scale is multiplied by it on a reduction, divided by it on an increase.
      patience: integer >= 0, good or bad epochs in a row tolerated before an increase or reduction.
      threshold: >= 0 (and < 1 in "rel" mode); the margin an improvement must beat.
      threshold_mode: "abs" or "rel".
      cooldown: integer >= 0, epochs after a reduction during which nothing is counted.
      warmup: integer >= 0, epochs after an increase during which nothing is counted.
      min_lr: >= 0, the lowest rate.
      max_lr: > 0 and >= min_lr, the highest rate.
      eps: >= 0; a change of the rate by eps or less is skipped.
      smooth: True or False; decide on the moving mean of the epoch values.
      window_size: concrete integer >= 1, the length of that moving mean.
      reset_start: integer >= 0, reductions at `min_lr` (counted since the last increase or reset)
        after which everything resets.
      accumulation_size: integer >= 1, updates per epoch.

    Returns:
      An `optax.GradientTransformationExtraArgs` whose state is a `GreedyLRState`.

    References:
      GreedyLR: A Novel Adaptive Learning Rate Scheduler, https://arxiv.org/abs/2512.14527;
      `transformers.optimization.GreedyLR`.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = greedy_lr(0.1, factor=0.5, patience=1, min_lr=0.02, max_lr=0.3)
      >>> state = tx.init(jnp.zeros(2))
      >>> lrs = []
      >>> for loss in [3.0, 2.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]:
      ...     updates, state = tx.update(jnp.ones(2), state, value=loss)
      ...     lrs.append(round(0.1 * float(state.scale), 6))
      >>> lrs
      [0.1, 0.2, 0.2, 0.3, 0.3, 0.15, 0.15, 0.075, 0.075]
    """
    fn = "greedy_lr"
    check_choice(fn, "mode", mode, ("min", "max"))
    check_choice(fn, "threshold_mode", threshold_mode, ("abs", "rel"))
    smooth = as_flag(fn, "smooth", smooth)
    check(fn, "learning_rate", learning_rate, "> 0", lambda a: a > 0)
    check(fn, "factor", factor, "in (0, 1)", lambda a: (a > 0) & (a < 1))
    check(fn, "patience", patience, ">= 0", lambda a: a >= 0)
    check(fn, "cooldown", cooldown, ">= 0", lambda a: a >= 0)
    check(fn, "warmup", warmup, ">= 0", lambda a: a >= 0)
    check(fn, "min_lr", min_lr, ">= 0", lambda a: a >= 0)
    check(fn, "max_lr", max_lr, "> 0", lambda a: a > 0)
    check(fn, "max_lr", max_lr, f">= min_lr ({min_lr!r})", lambda a, lo: a >= lo, given=(min_lr,))
    check(fn, "eps", eps, ">= 0", lambda a: a >= 0)
    check(fn, "reset_start", reset_start, ">= 0", lambda a: a >= 0)
    check(fn, "accumulation_size", accumulation_size, ">= 1", lambda a: a >= 1)
    if is_traced(window_size):
        fail(fn, "window_size", "a concrete integer (it sizes the state's buffer)", "a traced value")
    check(fn, "window_size", window_size, ">= 1", lambda a: a >= 1)
    as_leaf(fn, "window_size", window_size, "int")
    window_size = int(np.asarray(window_size).item())  # in NumPy: inside a trace jnp makes a tracer
    window = window_size if smooth else 0  # the buffer's length
    sign = 1.0 if mode == "max" else -1.0  # which way an improvement goes
    if threshold_mode == "rel":
        check(fn, "threshold", threshold, "in [0, 1) in 'rel' mode", lambda a: (a >= 0) & (a < 1))
        rel, margin = _coefficient(fn, "threshold", 1.0, sign, threshold), jnp.zeros((), float_dtype())
    else:
        check(fn, "threshold", threshold, ">= 0", lambda a: a >= 0)
        rel, margin = jnp.ones((), float_dtype()), as_leaf(fn, "threshold", threshold, "float")
    lr = as_leaf(fn, "learning_rate", learning_rate, "float")

    def relative(param: str, x: Any) -> jax.Array:
        """An absolute rate over `learning_rate`, in float64 when both are concrete."""
        leaf = as_leaf(fn, param, x, "float")
        if is_traced((x, learning_rate)):
            return leaf / lr
        ratio = np.float64(x) / np.float64(learning_rate)
        return jnp.asarray(min(ratio, float(jnp.finfo(float_dtype()).max)), float_dtype())

    min_scale = relative("min_lr", min_lr)
    max_scale = relative("max_lr", max_lr)
    eps_scale = relative("eps", eps)
    log_hi, log_lo = _split_log(fn, factor)
    patience = as_leaf(fn, "patience", patience, "int")
    cooldown = as_leaf(fn, "cooldown", cooldown, "int").astype(jnp.int32)
    warmup = as_leaf(fn, "warmup", warmup, "int").astype(jnp.int32)
    reset_start = as_leaf(fn, "reset_start", reset_start, "int").astype(jnp.int32)
    accumulation_size = as_leaf(fn, "accumulation_size", accumulation_size, "int")

    def initial() -> GreedyLRState:
        dtype = float_dtype()
        zero = jnp.zeros((), jnp.int32)
        return GreedyLRState(
            scale=jnp.ones((), dtype),
            scale_anchor=jnp.ones((), dtype),
            scale_exponent=zero,
            best=jnp.asarray(-sign * np.inf, dtype),
            num_bad_epochs=zero,
            num_good_epochs=zero,
            cooldown_counter=zero,
            warmup_counter=zero,
            reset_counter=reset_start,
            window=jnp.zeros((window,), dtype),
            window_count=zero,
            window_poisoned=jnp.zeros((), jnp.bool_),
            num_accumulated=zero,
            accumulated_value=jnp.zeros((), dtype),
        )

    def end_of_epoch(state: GreedyLRState, a: jax.Array) -> GreedyLRState:
        values, count, poisoned, current = state.window, state.window_count, state.window_poisoned, a
        if smooth:
            # the oldest value leaves once the window is full; unfilled slots hold zeros
            leaving = state.window[0]
            poisoned = poisoned | ((count >= window) & ~jnp.isfinite(leaving))
            values = jnp.concatenate([state.window[1:], a[None]])
            count = jnp.minimum(count + 1, window)
            mean = jnp.sum(values) / count.astype(values.dtype)
            current = jnp.where(poisoned, jnp.asarray(jnp.nan, values.dtype), mean)
        in_cooldown = state.cooldown_counter > 0
        in_warmup = ~in_cooldown & (state.warmup_counter > 0)
        active = ~in_cooldown & ~in_warmup
        bar = state.best * rel + sign * margin  # the value an improvement must beat
        better = active & (current > bar if mode == "max" else current < bar)
        good = jnp.where(better, optax.safe_increment(state.num_good_epochs), 0)
        bad = jnp.where(active & ~better, optax.safe_increment(state.num_bad_epochs), 0)
        increase = good > patience
        reduce = ~increase & (bad > patience)

        def power(k: jax.Array) -> jax.Array:  # anchor · factor**k
            kf = k.astype(state.scale.dtype)
            return state.scale_anchor * (jnp.exp(kf * log_hi) * jnp.exp(kf * log_lo))

        raised = power(state.scale_exponent - 1)
        lowered = power(state.scale_exponent + 1)
        top, bottom = raised >= max_scale, lowered <= min_scale  # clamped
        up = increase & (jnp.minimum(raised, max_scale) - state.scale > eps_scale)
        down = reduce & (state.scale - jnp.maximum(lowered, min_scale) > eps_scale)
        scale = jnp.where(up, jnp.minimum(raised, max_scale), state.scale)
        scale = jnp.where(down, jnp.maximum(lowered, min_scale), scale)
        anchor = jnp.where(up & top, max_scale, jnp.where(down & bottom, min_scale, state.scale_anchor))
        exponent = jnp.where(up, state.scale_exponent - 1, state.scale_exponent)
        exponent = jnp.where(down, state.scale_exponent + 1, exponent)
        exponent = jnp.where((up & top) | (down & bottom), 0, exponent)
        at_min = reduce & ~(scale > min_scale)
        countdown = jnp.where(at_min, state.reset_counter - 1, state.reset_counter)
        countdown = jnp.where(increase, reset_start, countdown)
        cooling = jnp.where(in_cooldown, state.cooldown_counter - 1, state.cooldown_counter)
        warming = jnp.where(in_warmup, state.warmup_counter - 1, state.warmup_counter)
        stepped = GreedyLRState(
            scale=scale.astype(state.scale.dtype),
            scale_anchor=anchor.astype(state.scale.dtype),
            scale_exponent=exponent.astype(jnp.int32),
            best=jnp.where(better, current, state.best).astype(state.best.dtype),
            num_bad_epochs=jnp.where(reduce, 0, bad).astype(jnp.int32),
            num_good_epochs=jnp.where(increase, 0, good).astype(jnp.int32),
            cooldown_counter=jnp.where(reduce, cooldown, cooling).astype(jnp.int32),
            warmup_counter=jnp.where(increase, warmup, warming).astype(jnp.int32),
            reset_counter=countdown.astype(jnp.int32),
            window=values,
            window_count=count.astype(jnp.int32),
            window_poisoned=poisoned,
            num_accumulated=jnp.zeros((), jnp.int32),
            accumulated_value=jnp.zeros_like(state.accumulated_value),
        )
        # GreedyLR sets the cooldown after its reset
        fresh = initial()._replace(cooldown_counter=stepped.cooldown_counter)
        reset = at_min & (countdown <= 0)
        return jax.tree.map(lambda r, s: jnp.where(reset, r, s), fresh, stepped)

    def init_fn(params: Any) -> GreedyLRState:
        del params
        return initial()

    return optax.GradientTransformationExtraArgs(init_fn, metric_update(fn, accumulation_size, end_of_epoch))
