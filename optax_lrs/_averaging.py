"""Weight averaging (SPEC §6d): `with_ema` and its `ema_warmup` decay, `swa` and its `swa_schedule`,
and the reader `averaged_params`.

Both wrappers average the params *after* each update (`optax.apply_updates(params, updates)`, what
the training loop holds next), in float32 for bfloat16/float16 params (float64 for float64 ones), and
keep the average in their state next to the wrapped optimizer's.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from optax_lrs import _math as m
from optax_lrs._base import (
    Schedule,
    as_leaf,
    check,
    check_choice,
    child,
    fail,
    float_leaf,
    int_leaf,
    is_traced,
    register,
    static,
)
from optax_lrs._compose import as_schedule
from optax_lrs._cyclic import ANNEAL
from optax_lrs._restarts import ends_cycle, merge_side_by_side, require_cycles
from optax_lrs._transform import find_nodes, require_params


def _average_dtype(x: Any) -> jnp.dtype:
    """The dtype an average of `x` is kept in: at least float32 for floating leaves (a bfloat16
    average cannot take a step of (1 − decay)·(p − ema)); other leaves keep theirs."""
    dtype = jnp.asarray(x).dtype
    return jnp.promote_types(dtype, jnp.float32) if jnp.issubdtype(dtype, jnp.inexact) else dtype


def as_average(p: Any, dtype: jnp.dtype) -> jax.Array:
    """A param leaf in its average's dtype. A low-precision leaf is first rounded to its own dtype
    for real: inside a compiled update XLA may keep `params + updates` in float32 (excess precision)
    and skip the rounding to bfloat16 that the params the training loop holds went through."""
    p = jnp.asarray(p)
    if jnp.issubdtype(p.dtype, jnp.floating) and jnp.finfo(p.dtype).bits < 32:
        info = jnp.finfo(p.dtype)
        p = jax.lax.reduce_precision(p, exponent_bits=info.nexp, mantissa_bits=info.nmant)
    return p.astype(dtype)


def _copy_for_average(params: Any) -> Any:
    return jax.tree.map(lambda p: jnp.array(p, dtype=_average_dtype(p), copy=True), params)


# --------------------------------------------------------------------------------------------------
# EMA


class _EmaWarmup(Schedule):
    name = "ema_warmup"
    gamma: jax.Array = float_leaf()
    power: jax.Array = float_leaf()
    max_decay: jax.Array = float_leaf()

    def value(self, t):
        gamma = jnp.maximum(self.gamma, jnp.finfo(m.fl(self.gamma).dtype).tiny)
        # 1 − (1 + t/γ)^−p, without the cancellation of 1 − (≈1) while the decay is small
        warm = -jnp.expm1(-self.power * jnp.log1p(m.fl(t) / gamma))
        return jnp.minimum(self.max_decay, warm)


@register()
def ema_warmup(
    gamma: jax.typing.ArrayLike = 1.0,
    power: jax.typing.ArrayLike = 0.75,
    max_decay: jax.typing.ArrayLike = 0.9999,
) -> Schedule:
    """The EMA decay that warms up: min(max_decay, 1 − (1 + t/gamma)^−power), for `with_ema`.

    At t = 0 it is 0, so the first update's average is the params themselves; it then rises towards 1
    (the average forgets more slowly as training goes on) and stops at max_decay. This is timm
    `ModelEmaV3(decay=max_decay, use_warmup=True, warmup_gamma=gamma, warmup_power=power)`'s
    `get_decay(step)` (update_after_step 0, min_decay 0) with step = t + 1: timm's training loop
    counts `num_updates` after `optimizer.step()` and passes it (1 on the first update), and
    `get_decay` subtracts one; here t is optax's count, 0 on the first update. power 3/4 reaches
    0.999 at t = 10k, 2/3 at t = 31.6k (timm's notes, from @crowsonkb).

    Args:
      gamma: > 0 (timm `warmup_gamma`, the inverse of its `inv_gamma`).
      power: >= 0 (timm `warmup_power`).
      max_decay: in [0, 1] (timm `decay`).

    Example:
      >>> d = ema_warmup(gamma=1.0, power=1.0, max_decay=0.9)
      >>> [round(float(d(t)), 6) for t in (0, 1, 3, 9, 100)]
      [0.0, 0.5, 0.75, 0.9, 0.9]
    """
    fn = "ema_warmup"
    check(fn, "gamma", gamma, "> 0", lambda a: a > 0)
    check(fn, "power", power, ">= 0", lambda a: a >= 0)
    check(fn, "max_decay", max_decay, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    return _EmaWarmup.from_args(fn, locals())


class EmaState(NamedTuple):
    """State of `with_ema`: arrays only.

    Attributes:
      count: updates applied (int32).
      ema: the moving average of the params (float32 for bfloat16/float16 params).
      inner_state: the wrapped optimizer's state.
    """

    count: jax.Array
    ema: Any
    inner_state: Any


def _decay_schedule(fn: str, decay: Any) -> Schedule:
    """`decay` as a schedule of the count: a Schedule or callable as it is, a number (checked to be in
    [0, 1] when concrete) as a constant."""
    if not isinstance(decay, Schedule) and not callable(decay):
        check(fn, "decay", decay, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    return as_schedule(fn, "decay", decay)


def with_ema(optimizer: optax.GradientTransformation, decay: Any) -> optax.GradientTransformationExtraArgs:
    """Keep an exponential moving average of the params next to `optimizer`.

    After the update with count t (optax's convention: 0 on the first update), with p the params
    after it (`optax.apply_updates(params, updates)`):

        ema <- decay(t)·ema + (1 − decay(t))·p

    `decay` is a number in [0, 1] or a Schedule / callable of the count (clipped to [0, 1]), such as
    `ema_warmup()`. The average starts as a copy of the params given to `init`, as timm's
    `ModelEmaV2`/`ModelEmaV3` start from a copy of the model when the EMA is built: with a constant
    decay d the average after n updates is d^n·params_0 + (1 − d)·Σ_k d^(n−k)·p_k. With `ema_warmup`
    (decay 0 at t = 0) the average after the first update is exactly the params after it, so the
    start is forgotten at once. PyTorch's `AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(d))`
    and Keras's `use_ema=True, ema_momentum=d` copy the params at the first update instead: that is
    `decay=join_schedules([0.0, d], [1])`. (`optax.ema` averages the updates, from zeros, with a
    debias.)

    Memory: the state holds one full copy of the params (the average), besides the optimizer's own.
    The average is kept in float32 for bfloat16/float16 params (their resolution would round the
    (1 − decay)·(p − ema) steps away) and in float64 for float64 params; integer leaves hold the
    latest params. The updates pass through unchanged. Read the average with
    `averaged_params(opt_state)`.

    Args:
      optimizer: the `optax.GradientTransformation` to wrap.
      decay: a number in [0, 1], or a Schedule or callable of the count.

    Returns:
      An `optax.GradientTransformationExtraArgs` whose state is an `EmaState`; `update` needs
      `params` (`ValueError` without them).

    References:
      Polyak & Juditsky, Acceleration of stochastic approximation by averaging (1992); timm
      `ModelEmaV3`; PyTorch `torch.optim.swa_utils.get_ema_multi_avg_fn`; Keras
      `optimizer(use_ema=True, ema_momentum=...)`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = with_ema(optax.sgd(1.0), decay=0.5)
      >>> params = jnp.zeros(1)
      >>> state = opt.init(params)
      >>> for _ in range(3):  # params 1, 2, 3
      ...     updates, state = opt.update(-jnp.ones(1), state, params)
      ...     params = optax.apply_updates(params, updates)
      >>> averaged_params(state).tolist()  # ((0·0.5 + 1·0.5)·0.5 + 2·0.5)·0.5 + 3·0.5
      [2.125]
    """
    fn = "with_ema"
    schedule = _decay_schedule(fn, decay)
    inner = optax.with_extra_args_support(optimizer)

    def init_fn(params: Any) -> EmaState:
        return EmaState(
            count=jnp.zeros((), jnp.int32), ema=_copy_for_average(params), inner_state=inner.init(params)
        )

    def update_fn(updates, state, params=None, **extra_args):
        require_params(fn, params)
        updates, inner_state = inner.update(updates, state.inner_state, params, **extra_args)
        new_params = optax.apply_updates(params, updates)
        d = jnp.clip(jnp.asarray(schedule(state.count)), 0.0, 1.0)

        def one(ema, p):
            p = jnp.asarray(p)
            if not jnp.issubdtype(ema.dtype, jnp.inexact):
                return p.astype(ema.dtype)
            return (d * ema + (1 - d) * as_average(p, ema.dtype)).astype(ema.dtype)

        ema = jax.tree.map(one, state.ema, new_params)
        return updates, EmaState(count=optax.safe_increment(state.count), ema=ema, inner_state=inner_state)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


# --------------------------------------------------------------------------------------------------
# SWA


class SwaState(NamedTuple):
    """State of `swa`: arrays only.

    Attributes:
      count: updates applied (int32).
      n_averaged: the params averaged so far (int32; PyTorch `AveragedModel.n_averaged`).
      average: their equal-weight mean (float32 for bfloat16/float16 params); a copy of the initial
        params until the first average is taken.
      inner_state: the wrapped optimizer's state.
    """

    count: jax.Array
    n_averaged: jax.Array
    average: Any
    inner_state: Any


def _mean_with(average: Any, params: Any, n: jax.Array) -> Any:
    """PyTorch `AveragedModel`'s running mean with one more params: a copy of them when n = 0."""

    def one(avg, p):
        p = as_average(p, avg.dtype)
        if not jnp.issubdtype(avg.dtype, jnp.inexact):
            return p
        mean = avg + (p - avg) / (n + 1).astype(avg.dtype)
        return jnp.where(n == 0, p, mean).astype(avg.dtype)

    return jax.tree.map(one, average, params)


def _keep_average(average: Any, params: Any, n: jax.Array) -> Any:
    del params, n
    return average


def swa(
    optimizer: optax.GradientTransformation,
    start: jax.typing.ArrayLike,
    every: jax.typing.ArrayLike = 1,
    schedule: Any = None,
) -> optax.GradientTransformationExtraArgs:
    """Stochastic weight averaging: the equal-weight running mean of the params, next to `optimizer`.

    The params after the update with count t (optax's convention: 0 on the first update) join the
    average when t >= start and (t − start) is a multiple of `every`; with a `schedule` (SWA with
    cyclical learning rates), when t >= start and t is the last update of a cycle,
    `schedule.cycle_index(t + 1) > schedule.cycle_index(t)` (`every` must then be 1). The mean is
    PyTorch `AveragedModel.update_parameters`'s: the first average is a copy of the params, then
    avg <- avg + (p − avg)/(n + 1), n = `n_averaged` before the update. Before the first average,
    `n_averaged` is 0 and the average holds the params given to `init` (PyTorch's `AveragedModel`
    holds a copy of the model it was built from); read `n_averaged` to know whether it is one yet.
    Memory: the state holds one full copy of the params (the average, float32 for bf16/f16 params).

    PyTorch's loop, with one update per epoch (or `per_epoch` steps):

        for epoch in range(epochs):
            train_one_update(); optimizer.step()
            if epoch >= swa_start:
                swa_model.update_parameters(model); swa_scheduler.step()
            else:
                scheduler.step()

    averages the same params as `swa(optimizer, start=swa_start)` (the update with count t is
    epoch t), and its learning rates are `swa_schedule(schedule, swa_start, swa_lr, anneal_epochs)`.
    PyTorch's documentation writes `if epoch > swa_start:`; that is `start=swa_start + 1` (and
    `swa_schedule(..., swa_start + 1, ...)`).

    The average is kept in float32 for bfloat16/float16 params and float64 for float64 params.
    The updates pass through unchanged. Read the average with `averaged_params(opt_state)`.

    Args:
      optimizer: the `optax.GradientTransformation` to wrap.
      start: integer >= 0, the count of the first update that may be averaged.
      every: integer >= 1, average every `every` updates from `start` (without `schedule`).
      schedule: None, or an optax_lrs Schedule whose cycles' last updates are averaged (a plain
        callable has no cycles: `ValueError`).

    Returns:
      An `optax.GradientTransformationExtraArgs` whose state is a `SwaState`; `update` needs
      `params` (`ValueError` without them).

    References:
      Izmailov et al., Averaging Weights Leads to Wider Optima and Better Generalization (2018);
      PyTorch `torch.optim.swa_utils.AveragedModel`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = swa(optax.sgd(1.0), start=2, every=2)
      >>> params = jnp.zeros(1)
      >>> state = opt.init(params)
      >>> for _ in range(7):  # params 1, ..., 7; averaged after counts 2, 4, 6: params 3, 5, 7
      ...     updates, state = opt.update(-jnp.ones(1), state, params)
      ...     params = optax.apply_updates(params, updates)
      >>> averaged_params(state).tolist(), int(state.n_averaged)
      ([5.0], 3)
    """
    fn = "swa"
    check(fn, "start", start, ">= 0", lambda a: a >= 0)
    check(fn, "every", every, ">= 1", lambda a: a >= 1)
    start = as_leaf(fn, "start", start, "int")
    every = as_leaf(fn, "every", every, "int")
    if schedule is not None:
        schedule = require_cycles(fn, schedule)
        if is_traced(every) or int(every) != 1:
            fail(fn, "every", "1 when schedule is given (the average is taken at each cycle's end)", every)
    inner = optax.with_extra_args_support(optimizer)

    def takes(count: jax.Array) -> jax.Array:
        from_start = count >= jnp.maximum(start, 0)
        if schedule is not None:
            return from_start & ends_cycle(schedule, count)
        _, r = m.floordiv(count - jnp.maximum(start, 0), every)
        return from_start & (r == 0)

    def init_fn(params: Any) -> SwaState:
        zero = jnp.zeros((), jnp.int32)
        return SwaState(
            count=zero, n_averaged=zero, average=_copy_for_average(params), inner_state=inner.init(params)
        )

    def update_fn(updates, state, params=None, **extra_args):
        require_params(fn, params)
        updates, inner_state = inner.update(updates, state.inner_state, params, **extra_args)
        new_params = optax.apply_updates(params, updates)
        take = takes(state.count)
        # a cond, not a select: the updates that are not averaged skip the pass over the params
        # (under vmap, with a batched `take`, it is a select again)
        average = jax.lax.cond(take, _mean_with, _keep_average, state.average, new_params, state.n_averaged)
        new_state = SwaState(
            count=optax.safe_increment(state.count),
            n_averaged=jnp.where(take, optax.safe_increment(state.n_averaged), state.n_averaged).astype(
                jnp.int32
            ),
            average=average,
            inner_state=inner_state,
        )
        return updates, new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class _SwaSchedule(Schedule):
    name = "swa_schedule"
    schedule: Schedule = child()
    swa_start: jax.Array = int_leaf()
    swa_value: jax.Array = float_leaf()
    anneal_steps: jax.Array = int_leaf()
    anneal: str = static()

    def _start(self, t):
        return (
            jnp.maximum(self.swa_start, 0).astype(t.dtype)
            if m.is_int(t)
            else m.fl(jnp.maximum(self.swa_start, 0))
        )

    def restart_index(self, t):
        # the schedule's cycles until swa_start; then SWALR's anneal, one more cycle of none
        return self.schedule.restart_index(jnp.minimum(t, self._start(t)))

    def value(self, t):
        start = self._start(t)
        at_start = m.fl(self.schedule(start))
        pct = m.progress(jnp.maximum(t - start, 0), self.anneal_steps)
        annealed = ANNEAL[self.anneal](at_start, self.swa_value, pct)
        return jnp.where(t > start, annealed, m.fl(self.schedule(t)))


@register()
def swa_schedule(
    schedule: Any,
    swa_start: jax.typing.ArrayLike,
    swa_value: jax.typing.ArrayLike,
    anneal_steps: jax.typing.ArrayLike,
    anneal: str = "cos",
) -> Schedule:
    """`schedule` until swa_start, then PyTorch `SWALR`'s anneal to swa_value and swa_value after it.

    With L = schedule(swa_start), k = t − swa_start and p = min(k, A)/A (A = anneal_steps; A = 0
    reads as 1, so the value is swa_value from swa_start + 1 on, as in PyTorch):

        value(t) = schedule(t)                      for t <= swa_start
                 = swa_value·α(p) + L·(1 − α(p))    for t > swa_start

    α(p) = (1 − cos(π·p))/2 ("cos") or p ("linear"). This is the learning rate of each update in
    PyTorch's loop (one update per epoch; `per_epoch` for an epoch-level loop)

        scheduler = ...  # the schedule
        swa_scheduler = SWALR(optimizer, swa_lr=swa_value, anneal_epochs=A, anneal_strategy=anneal)
        for epoch in range(epochs):
            train_one_update()  # runs at lr = value(epoch)
            if epoch >= swa_start:
                swa_model.update_parameters(model); swa_scheduler.step()
            else:
                scheduler.step()

    SWALR's recurrence recovers the initial rate from the current one at each step and lands on the
    closed form above; its k-th `step()` sets the rate of update swa_start + k. PyTorch's
    documentation writes `if epoch > swa_start:`, which is `swa_start + 1` here. Use it with
    `swa(optimizer, start=swa_start)` to average the same params.

    Args:
      schedule: the learning rate before SWA (a Schedule, callable or number).
      swa_start: integer >= 0, the last step of `schedule`.
      swa_value: the learning rate of SWA (torch `swa_lr`).
      anneal_steps: integer >= 0, the steps of the anneal (torch `anneal_epochs`).
      anneal: "cos" or "linear" (torch `anneal_strategy`).

    Example:
      >>> from optax_lrs import constant_schedule
      >>> s = swa_schedule(constant_schedule(0.1), 3, swa_value=0.02, anneal_steps=4, anneal="linear")
      >>> [round(float(s(t)), 6) for t in (0, 3, 4, 5, 7, 50)]
      [0.1, 0.1, 0.08, 0.06, 0.02, 0.02]
    """
    fn = "swa_schedule"
    check_choice(fn, "anneal", anneal, tuple(ANNEAL))
    check(fn, "swa_start", swa_start, ">= 0", lambda a: a >= 0)
    check(fn, "anneal_steps", anneal_steps, ">= 0", lambda a: a >= 0)
    schedule = as_schedule(fn, "schedule", schedule)
    return _SwaSchedule.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


def averaged_params(opt_state: Any) -> Any:
    """The average kept by `with_ema` (the EMA) or `swa` (the SWA mean), found anywhere in a nested
    optimizer state (`optax.chain`, `multi_transform`, `masked`, `MultiSteps`, `inject_hyperparams`).

    The average has the params' structure, in float32 for bfloat16/float16 params; under
    `multi_transform` with a wrapper per label, the labels' averages are merged into one tree. An
    `swa` average holds the initial params until its first average (`n_averaged` is 0 then).

    Raises:
      ValueError: when the state holds no `with_ema` or `swa` state, or several that overlap
        (`swa(with_ema(...))`: read each state's `ema` / `average` field).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = optax.chain(optax.clip(1.0), with_ema(optax.sgd(0.1), ema_warmup()))
      >>> averaged_params(opt.init({"w": jnp.ones(2)}))["w"].tolist()
      [1.0, 1.0]
    """
    fn = "averaged_params"
    found = find_nodes(opt_state, (EmaState, SwaState))
    if not found:
        raise ValueError(
            f"{fn}: the optimizer state holds no average; build the optimizer with "
            "optax_lrs.with_ema(optimizer, decay) or optax_lrs.swa(optimizer, start)"
        )
    trees = [node.ema if isinstance(node, EmaState) else node.average for _, node in found]
    return merge_side_by_side(fn, "averages", found, trees)
