"""`lr_find`: the learning-rate range test, as one compiled `lax.scan` (SPEC §6e).

A short training run whose learning rate grows step by step from `min_lr` to `max_lr` (Smith 2017,
fastai's `lr_find`, Lightning's `Tuner.lr_find`): the loss first barely moves, then falls, then blows
up; a good learning rate lies on the falling part. With `parallel=K` the same question is asked the
other way round: K constant learning rates, each trained for the whole run, side by side under one
`jax.vmap`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_lrs._base import check, check_choice, fail, float_dtype

MODES = ("exponential", "linear")

# Lightning's `_LRFinder.suggestion(skip_begin=10, skip_end=1)`
LIGHTNING_SKIP = (10, 1)
# fastai's `Learner.lr_find` hands `recorder.lrs[num_it // 10 : -5]` to its suggestion functions
FASTAI_SKIP_END = 5


@dataclasses.dataclass(frozen=True, eq=False)
class LRFindResult:
    """What `lr_find` recorded, and the learning rates it suggests.

    Attributes:
      learning_rates: the learning rates tried, in increasing order, up to and including the one
        at `stopped_at` (float64 values of the formula; the optimizer gets them in the float dtype).
      losses: the loss recorded at each of them (sequential: the loss of the step's batch before its
        update; parallel: see `lr_find`).
      smoothed_losses: the bias-corrected exponential moving average of the losses.
      suggestion: `suggestions["valley"]` (fastai's default: Lightning's steepest slope leans to
        small learning rates on a noisy loss, see `lr_find`); with `parallel`, `suggestions["best"]`.
      suggestions: {"steepest": Lightning's rule, "valley": fastai's, "minimum": fastai's (the
        learning rate of the lowest smoothed loss, divided by 10)}, and with `parallel` "best" (the
        learning rate whose run ended lowest); NaN where a rule has too few finite points.
      stopped_at: the index where divergence was detected (the last recorded one), or the number of
        learning rates asked for (`num_steps`, or K with `parallel=K`) when the loss never diverged.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    suggestion: float
    suggestions: dict[str, float]
    stopped_at: int

    def plot(self, ax: Any = None) -> Any:
        """Plot the (smoothed) loss against the learning rate on a log axis, with the suggestions
        marked; returns the matplotlib axes (a new figure's when `ax` is None)."""
        import matplotlib.pyplot as plt  # only here: `import optax_lrs` stays free of matplotlib

        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.4))
        lrs, smoothed = self.learning_rates, np.asarray(self.smoothed_losses, np.float64)
        few = len(lrs) <= 32  # a parallel curve: show its points
        ax.plot(lrs, self.losses, color="0.75", lw=0.8, marker="." if few else None, label="loss")
        ax.plot(lrs, smoothed, color="C0", lw=1.5, marker="o" if few else None, label="smoothed loss")
        ok = np.isfinite(smoothed)
        styles = {"steepest": ("C3", "o"), "valley": ("C2", "s"), "minimum": ("C1", "^")}
        for name, (color, marker) in styles.items():
            lr = self.suggestions[name]
            if not np.isfinite(lr) or not ok.any():
                continue
            y = np.interp(np.log(lr), np.log(lrs[ok]), smoothed[ok])
            main = name == "valley"
            ax.plot([lr], [y], marker, color=color, ms=9 if main else 7, zorder=3, label=f"{name}: {lr:.3g}")
            if main:
                ax.axvline(lr, color=color, lw=0.8, ls="--")
        if ok.sum() >= 2:
            # the diverged tail would squash the interesting part of the curve
            lo, start = smoothed[ok].min(), smoothed[ok][0]
            span = start - lo
            if span > 0 and smoothed[ok].max() > start + span:
                ax.set_ylim(lo - 0.1 * span, start + span)
        ax.set_xscale("log")
        ax.set(xlabel="learning rate", ylabel="loss", title="learning-rate range test")
        ax.legend(fontsize=8)
        return ax


# --------------------------------------------------------------------------------------------------
# suggestions: each rule as its library writes it, on the recorded arrays


def _steepest(lrs: np.ndarray, losses: np.ndarray, skip_begin: int, skip_end: int) -> float:
    """Lightning's `_LRFinder.suggestion`: drop `skip_begin` points at the start and `skip_end` at the
    end, then the non-finite losses; the lr where `gradient(loss, lr)` (second-order differences over
    the learning rates themselves, not their logarithms) is lowest. NaN below 2 points."""
    end = len(losses) - skip_end
    lrs, losses = lrs[skip_begin:end], losses[skip_begin:end]
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite], losses[finite]
    if len(losses) < 2:
        return math.nan
    return float(lrs[np.argmin(np.gradient(losses, lrs))])


def _fastai_slice(lrs: np.ndarray, losses: np.ndarray, skip_begin: int, skip_end: int):
    """What fastai's `lr_find` gives its suggestion functions: the slice, cut at the first NaN."""
    end = len(losses) - skip_end
    lrs, losses = lrs[skip_begin:end], losses[skip_begin:end]
    nan = np.flatnonzero(np.isnan(losses))
    if nan.size:
        lrs, losses = lrs[: nan[0]], losses[: nan[0]]
    return lrs, losses


def _valley(lrs: np.ndarray, losses: np.ndarray) -> float:
    """fastai's `valley`: the longest strictly decreasing run of losses (a longest decreasing
    subsequence), and the lr two thirds of the way along it (`start + ⌊len/3⌋ + ⌊len/6⌋`)."""
    n = len(losses)
    if n == 0:
        return math.nan
    lds = np.ones(n, np.int64)
    start = end = 0
    for i in range(1, n):
        lengths = lds[:i][losses[:i] > losses[i]] + 1  # valleys that i can extend, in order
        if lengths.size:
            # fastai tests for a new longest valley inside its inner loop: its start comes from the
            # first extension that beats the record, even when a later one is longer
            beats = lengths[lengths > lds[end]]
            if beats.size:
                start, end = i - int(beats[0]), i
            lds[i] = lengths.max()
    sections = (end - start) / 3
    # fastai's index; it can be -1 (a valley of two points at the start), which reads the last lr
    return float(lrs[start + int(sections) + int(sections / 2)])


def _minimum(lrs: np.ndarray, losses: np.ndarray) -> float:
    """fastai's `minimum`: the lr of the lowest loss, divided by 10."""
    if len(losses) == 0:
        return math.nan
    return float(lrs[np.argmin(losses)]) / 10


def _suggest(
    lrs: np.ndarray, smoothed: np.ndarray, lightning: tuple[int, int], fastai: tuple[int, int]
) -> dict[str, float]:
    smoothed = np.asarray(smoothed, np.float64)
    fl, fs = _fastai_slice(lrs, smoothed, *fastai)
    return {
        "steepest": _steepest(lrs, smoothed, *lightning),
        "valley": _valley(fl, fs),
        "minimum": _minimum(fl, fs),
    }


# --------------------------------------------------------------------------------------------------
# the run


def _ramp(min_lr: float, max_lr: float, n: int, mode: str) -> np.ndarray:
    frac = np.arange(n, dtype=np.float64) / (n - 1)
    if mode == "exponential":
        return min_lr * (max_lr / min_lr) ** frac
    return min_lr + (max_lr - min_lr) * frac


def _run(
    params: Any,
    lr_per_step: jax.Array,
    batches: Any,
    smoothing: jax.Array,
    threshold: jax.Array,
    *,
    loss_fn: Callable[..., Any],
    optimizer: Callable[..., optax.GradientTransformation],
    batch_fn: Callable[[jax.Array], Any] | None,
    num_steps: int,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """One range test: `num_steps` updates, the k-th with learning rate `lr_per_step[k]`.

    Returns the loss and smoothed loss of every step (NaN after the stop) and the index of the step
    where divergence was detected (`num_steps` if never). After that step nothing is computed (under
    `vmap`, computed and discarded): the params, the optimizer state and the average stay frozen.
    """
    opt = optax.inject_hyperparams(optimizer)(learning_rate=lr_per_step[0])
    dtype = float_dtype()

    def scalar_loss(params, batch):
        loss = loss_fn(params, batch)
        if jnp.ndim(loss) != 0:  # before `grad` says it in its own words
            raise ValueError(
                f"lr_find: loss_fn must return a scalar, got an array of shape {jnp.shape(loss)}"
            )
        return loss

    value_and_grad = jax.value_and_grad(scalar_loss)

    def live(params, opt_state, lr, batch):
        loss, grads = value_and_grad(params, batch)
        hp = opt_state.hyperparams
        opt_state = opt_state._replace(
            hyperparams={**hp, "learning_rate": lr.astype(hp["learning_rate"].dtype)}
        )
        updates, new_state = opt.update(grads, opt_state, params)
        new_state = jax.tree.map(lambda new, old: jnp.asarray(new).astype(old.dtype), new_state, opt_state)
        return loss.astype(dtype), optax.apply_updates(params, updates), new_state

    def dead(params, opt_state, lr, batch):
        return jnp.full((), jnp.nan, dtype), params, opt_state

    def step(carry, xs):
        params, opt_state, avg, best, stopped, stop_idx = carry
        k, lr, batch = xs
        if batch_fn is not None:
            batch = batch_fn(k)
        loss, new_params, new_state = jax.lax.cond(stopped, dead, live, params, opt_state, lr, batch)
        # fastai's and Lightning's smoothing: an EMA started at 0, divided by its bias 1 - s^(k+1)
        new_avg = smoothing * avg + (1 - smoothing) * loss
        smoothed = new_avg / (1 - smoothing ** (k + 1).astype(dtype))
        # Lightning's test against the best smoothed loss before this step (+inf at step 0); an
        # infinite threshold (None) leaves only the test for non-finite values
        worse = jnp.isfinite(threshold) & (smoothed > threshold * best)
        diverged = ~jnp.isfinite(loss) | ~jnp.isfinite(smoothed) | worse
        halt = stopped | diverged

        def keep(old, new):
            return jax.tree.map(lambda o, n: jnp.where(halt, o, n), old, new)

        carry = (
            keep(params, new_params),
            keep(opt_state, new_state),
            jnp.where(stopped, avg, new_avg),
            jnp.where(stopped, best, jnp.minimum(best, smoothed)),
            halt,
            jnp.where(stopped | ~diverged, stop_idx, k),
        )
        nan = jnp.full((), jnp.nan, dtype)
        return carry, (jnp.where(stopped, nan, loss), jnp.where(stopped, nan, smoothed))

    init = (
        params,
        opt.init(params),
        jnp.zeros((), dtype),
        jnp.full((), jnp.inf, dtype),
        jnp.zeros((), bool),
        jnp.asarray(num_steps, jnp.int32),
    )
    xs = (jnp.arange(num_steps, dtype=jnp.int32), lr_per_step, batches)
    (*_, stop_idx), (losses, smoothed) = jax.lax.scan(step, init, xs)
    return losses, smoothed, stop_idx


def _range_test(params, lrs, batches, smoothing, threshold, *, parallel, num_steps, **static):
    run = functools.partial(_run, num_steps=num_steps, **static)
    if not parallel:
        return run(params, lrs, batches, smoothing, threshold)
    constant = lambda lr: run(params, jnp.full((num_steps,), lr), batches, smoothing, threshold)  # noqa: E731
    return jax.vmap(constant)(lrs)


_STATIC = ("loss_fn", "optimizer", "batch_fn", "num_steps", "parallel")
# compiled once per loss function, optimizer, batch function and length (jit's cache)
_range_test_jit = jax.jit(_range_test, static_argnames=_STATIC)


def _count(fn: str, param: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        fail(fn, param, f"an integer >= {minimum}", value)
    return int(value)


def _batch_leaves(fn: str, batches: Any, num_steps: int) -> Any:
    """The first `num_steps` entries of every leaf, after checking that each leaf has that many."""
    leaves = jax.tree.leaves(batches)
    if not leaves:
        fail(fn, "batches", "a pytree of arrays with a leading axis, or a callable step -> batch", batches)
    for leaf in leaves:
        shape = np.shape(leaf)
        if len(shape) == 0 or shape[0] < num_steps:
            rule = f"arrays with a leading axis of length >= num_steps = {num_steps}"
            fail(fn, "batches", rule, f"a leaf of shape {shape}")
    return jax.tree.map(lambda a: a[:num_steps], batches)


def lr_find(
    loss_fn: Callable[[Any, Any], jax.typing.ArrayLike],
    params: Any,
    batches: Any,
    optimizer: Callable[..., optax.GradientTransformation] = optax.sgd,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    smoothing: float = 0.98,
    diverge_threshold: float | None = 4.0,
    parallel: int | None = None,
) -> LRFindResult:
    """The learning-rate range test: train with a growing learning rate and watch the loss.

    Step k = 0, ..., num_steps − 1 computes `loss_k, g = value_and_grad(loss_fn)(params, batch_k)`
    and applies one update of `optimizer(learning_rate=lr_k)` (built once with
    `optax.inject_hyperparams`, whose learning rate is set before every update), where

        exponential: lr_k = min_lr · (max_lr / min_lr) ^ (k / (num_steps − 1))
        linear:      lr_k = min_lr + (max_lr − min_lr) · k / (num_steps − 1)

    and records the loss smoothed as fastai and Lightning smooth it (beta = `smoothing`):

        avg_k = beta · avg_{k−1} + (1 − beta) · loss_k,  avg_{−1} = 0,  smoothed_k = avg_k / (1 − beta^(k+1)).

    Divergence (Lightning's rule): step k > 0 diverges when smoothed_k > diverge_threshold ·
    min(smoothed_0, ..., smoothed_{k−1}); a non-finite loss diverges at any step. The first step
    that diverges is `stopped_at`, and the recording stops after it: the results hold steps
    0..stopped_at (all `num_steps` when nothing diverged, and then `stopped_at = num_steps`). The
    program does not stop: the whole ramp is one jitted `lax.scan` with no Python branch on a
    value, and after the stop its steps compute nothing (`lax.cond`), the params frozen. The rule
    assumes a positive loss (cross-entropy, squared error), as both libraries do.

    Suggestions (`result.suggestions`, computed on the smoothed losses):
      - "steepest": Lightning's `_LRFinder.suggestion()`: the recorded
        points without the first 10 and the last 1 and without non-finite losses; the learning rate
        where `np.gradient(smoothed, learning_rates)` (the slope against the learning rate itself,
        as `torch.gradient(losses, spacing=[lrs])`) is most negative. NaN when fewer than 2 points
        remain (Lightning returns None): ask for more than 12 steps. The slope against the learning
        rate, not its logarithm, is large where an exponential ramp's points are dense, so on a
        noisy loss this rule tends to pick a small learning rate (1e-6 on the demo's digits model,
        where valley gives 0.04), which is why it is not the main suggestion.
      - "valley", also `result.suggestion`: fastai's `valley` on `recorded[num_steps // 10 : −5]`
        cut at its first NaN (what fastai's `lr_find` passes its suggestion functions): the longest
        strictly decreasing run of the loss, and the learning rate 2/3 of the way along it.
      - "minimum": fastai's `minimum` on the same points: the learning rate of the lowest loss / 10.

    With `parallel=K` the K learning rates of the ramp formula with num_steps = K (log-spaced
    for "exponential") are each held constant for all `num_steps` steps, every run starting from
    `params` and seeing the same batches, under one `jax.vmap` of the same scan. Each run stops
    by the rule above on its own; then, per learning rate, `losses` holds the run's last recorded
    loss (the loss at step num_steps − 1, or at the step where that run diverged) and
    `smoothed_losses` the run's smoothed loss there (an EMA over the run's last ~1/(1 − smoothing)
    steps, which is what the suggestions read). `stopped_at` is the index of the smallest learning
    rate whose run diverged (K if none), and the arrays stop after it, as in the sequential test.
    The suggestion rules are the same, but each point is a finished run, with no warm-up of the
    average along the curve to skip: they see every point but the diverged one (skip_begin = 0,
    skip_end = 1 when a run diverged, else 0). The parallel test costs K · num_steps gradient
    evaluations instead of num_steps, batched into num_steps vmapped ones. It adds
    `suggestions["best"]`, the learning rate whose run ended with the lowest smoothed loss (runs that
    diverged excluded), and that is its `suggestion`: a ramp's rules look for where the loss starts
    to fall, which a grid of finished runs answers directly.

    `lr_find` runs on the host (it returns NumPy arrays whose length depends on the values), so it
    is not itself traced: call it outside `jit`. Its program is compiled once per `loss_fn`,
    `optimizer`, batch callable, `num_steps` and `parallel`, and reused when they are the same
    objects. `loss_fn` may be jitted and may use `lax.scan` or anything else that JAX
    differentiates.

    References: L. N. Smith, "Cyclical Learning Rates for Training Neural Networks" (WACV 2017), the
    "LR range test"; fastai `Learner.lr_find` (`fastai/callback/schedule.py`: `LRFinder`, `valley`,
    `minimum`); PyTorch Lightning `Tuner.lr_find` (`lightning/pytorch/tuner/lr_finder.py`:
    `_LRCallback`, `_LRFinder.suggestion`).

    Args:
      loss_fn: `loss_fn(params, batch) -> scalar`, differentiable in `params`.
      params: the starting params (a pytree of float arrays); not modified.
      batches: either a pytree of arrays whose leaves all have a leading axis of length >=
        `num_steps` (step k uses `tree_map(lambda a: a[k], batches)`), or a callable `k -> batch`
        called inside the scan with the step as a traced int32 scalar (index a JAX array with it,
        `x[k % len(x)]`, or draw with `jax.random.fold_in(key, k)`; no Python branch on its value).
      optimizer: a factory taking `learning_rate` and returning a `GradientTransformation`, such as
        `optax.sgd`, `optax.adam`, `functools.partial(optax.sgd, momentum=0.9)` (not one already
        wrapped by `optax.inject_hyperparams`).
      min_lr: > 0, the first learning rate.
      max_lr: > min_lr, finite, the last learning rate.
      num_steps: integer >= 2, the number of updates (of every run, with `parallel`).
      mode: "exponential" or "linear", the spacing of the learning rates.
      smoothing: in [0, 1), the EMA's beta (0: no smoothing).
      diverge_threshold: > 1, or None to stop only on a non-finite loss.
      parallel: None (the sequential ramp) or an integer K >= 2.

    Returns:
      An `LRFindResult`.

    Example:
      >>> import jax.numpy as jnp
      >>> loss_fn = lambda p, batch: 0.5 * 4.0 * jnp.sum((p - batch) ** 2)  # SGD diverges past lr 2/4
      >>> result = lr_find(loss_fn, jnp.ones(3), jnp.zeros((100, 3)), min_lr=1e-3, max_lr=10.0)
      >>> result.stopped_at < 100, float(result.learning_rates[result.stopped_at]) > 0.5
      (True, True)
      >>> len(result.losses) == result.stopped_at + 1
      True
    """
    fn = "lr_find"
    if not callable(loss_fn):
        fail(fn, "loss_fn", "a callable loss_fn(params, batch)", loss_fn)
    if not callable(optimizer):
        fail(fn, "optimizer", "a callable taking learning_rate, such as optax.sgd", optimizer)
    check_choice(fn, "mode", mode, MODES)
    check(fn, "min_lr", min_lr, "a finite number > 0", lambda a: np.isfinite(a) & (a > 0))
    check(fn, "min_lr", min_lr, "a single number", lambda a: a.ndim == 0)
    rule = f"a finite number > min_lr = {float(min_lr)!r}"
    check(fn, "max_lr", max_lr, rule, lambda a, lo: (a.ndim == 0) & np.isfinite(a) & (a > lo), (min_lr,))
    num_steps = _count(fn, "num_steps", num_steps, 2)
    check(fn, "smoothing", smoothing, "in [0, 1)", lambda a: (a.ndim == 0) & (a >= 0) & (a < 1))
    check(fn, "diverge_threshold", diverge_threshold, "> 1 or None", lambda a: (a.ndim == 0) & (a > 1))
    if parallel is not None:
        parallel = _count(fn, "parallel", parallel, 2)
    if callable(batches):
        batch_fn, batches = batches, None
    else:
        batch_fn, batches = None, _batch_leaves(fn, batches, num_steps)

    n = parallel or num_steps
    lrs = _ramp(float(min_lr), float(max_lr), n, mode)
    dtype = float_dtype()
    static = dict(loss_fn=loss_fn, optimizer=optimizer, batch_fn=batch_fn, num_steps=num_steps)
    try:
        hash(tuple(static.values()))
        run = functools.partial(_range_test_jit, parallel=parallel, **static)
    except TypeError:  # an unhashable callable: compiled for this call only
        run = jax.jit(functools.partial(_range_test, parallel=parallel, **static))
    threshold = math.inf if diverge_threshold is None else float(diverge_threshold)
    losses, smoothed, stop_idx = jax.device_get(
        run(
            params,
            jnp.asarray(lrs, dtype),
            batches,
            jnp.asarray(smoothing, dtype),
            jnp.asarray(threshold, dtype),
        )
    )

    if parallel:
        last = np.minimum(stop_idx, num_steps - 1)
        losses = losses[np.arange(n), last]
        smoothed = smoothed[np.arange(n), last]
        diverged = np.flatnonzero(stop_idx < num_steps)
        stopped_at = int(diverged[0]) if diverged.size else n
        end = min(stopped_at + 1, n)
        lightning = fastai = (0, 1 if stopped_at < n else 0)
    else:
        stopped_at = int(stop_idx)
        end = min(stopped_at + 1, n)
        lightning, fastai = LIGHTNING_SKIP, (num_steps // 10, FASTAI_SKIP_END)
    lrs, losses, smoothed = lrs[:end], np.asarray(losses[:end]), np.asarray(smoothed[:end])
    suggestions = _suggest(lrs, smoothed, lightning, fastai)
    main = "valley"
    if parallel:
        # each point is a finished run: the rate that trained best, among the runs that did not diverge
        finite = np.isfinite(smoothed[: min(stopped_at, end)])
        best = np.flatnonzero(finite)
        suggestions["best"] = float(lrs[best[np.argmin(smoothed[best])]]) if best.size else float("nan")
        main = "best"
    return LRFindResult(
        learning_rates=lrs,
        losses=losses,
        smoothed_losses=smoothed,
        suggestion=suggestions[main],
        suggestions=suggestions,
        stopped_at=stopped_at,
    )
