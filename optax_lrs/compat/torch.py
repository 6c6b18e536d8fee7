"""PyTorch's `torch.optim.lr_scheduler` schedules by their own names, parameter names and defaults.

Each function returns an ordinary optax_lrs `Schedule` built from the core schedules and their
composition (so `to_config`, `from_config`, `stack`, `jit`, `vmap` and `grad` work as for any other),
whose value at step k is the learning rate PyTorch's optimizer holds for update k. PyTorch itself is
never imported.

Conventions, the same for every entry:

- `lr` takes the place of torch's `optimizer` argument: it is the learning rate the optimizer was built
  with (torch's `initial_lr`, the scheduler's `base_lrs[0]`). `CyclicLR` and `OneCycleLR` set the
  learning rate themselves (from `base_lr`/`max_lr`) and take no `lr`; `SequentialLR` takes none (its
  schedules carry it); `ChainedScheduler(schedulers, lr)` takes it where torch takes its optional
  optimizer. One parameter group: torch's per-group lists (of lambdas, `base_lr`s, `min_lr`s) are
  refused; for per-group learning rates use `optax_lrs.param_groups` / `scale_by_tree`.
- Steps. Our step is optax's update count (0 on the first update). Torch's loop is
  `for ...: optimizer.step(); scheduler.step()`, so the value at step k is the learning rate after k
  calls to `scheduler.step()`. With `steps_per_epoch=n` the scheduler is stepped once per epoch (after
  every n updates): step k uses epoch k // n (`optax_lrs.per_epoch`). `OneCycleLR` keeps torch's own
  `steps_per_epoch` (which only sets total_steps = epochs · steps_per_epoch; it is stepped per update);
  `ReduceLROnPlateau`'s `steps_per_epoch` is the number of updates whose mean `value` makes one
  `scheduler.step(metrics)`.
- torch's `last_epoch` is accepted with its default, -1, only: to resume, restore the optax state,
  whose count is the position. `steps_per_epoch` is keyword-only.
- Bad arguments raise `ValueError("<Name>: <param> must be <rule>, got <value>")` with torch's names.
- Values are float32 (see the core's precision notes). Torch computes in float64 Python floats, and
  most of its schedulers by a "chainable" recurrence (the new lr from the current one); the values here
  are the closed forms those recurrences compute, which agree with them to float64 rounding.

`MultiplicativeLR`'s lr is lr · λ(1) · λ(2) · ... · λ(t), a running product of a user function with
no closed form in general: it is the core's `cumulative_product`, tabulated up to a `num_epochs` that
it needs in addition (the product holds after it).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import numpy as np
import optax

from optax_lrs._base import (
    Schedule,
    as_flag,
    as_leaf,
    boundaries_leaf,
    check,
    check_choice,
    fail,
    is_traced,
)
from optax_lrs._compose import binary, cumulative_product, from_fn, join_schedules, per_epoch, repeat, shift
from optax_lrs._cosine import cosine_annealing_warm_restarts, warmup_hold_cosine_decay
from optax_lrs._cyclic import CYCLIC_MODES, cyclic_schedule, one_cycle_schedule
from optax_lrs._decay import constant_schedule, linear_schedule, multistep_decay, polynomial_decay, step_decay
from optax_lrs._momentum import cyclic_momentum, one_cycle_momentum
from optax_lrs._plateau import reduce_on_plateau
from optax_lrs._warmup import warmup

__all__ = [
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "CyclicMomentum",
    "OneCycleLR",
    "OneCycleMomentum",
    "SequentialLR",
    "ChainedScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "SWALR",
    "ReduceLROnPlateau",
]

ArrayLike = jax.typing.ArrayLike
_INT32_MAX = 2**31 - 1
_ANNEAL = ("cos", "linear")

# --------------------------------------------------------------------------------------------------
# argument checks with torch's names (concrete values only; traced ones pass, as in the core)


def _required(fn: str, name: str, value: Any, rule: str) -> None:
    if value is None:
        fail(fn, name, rule, value)


def _real(fn: str, name: str, value: Any, rule: str = "a finite real number", ok=None) -> None:
    _required(fn, name, value, rule)
    check(fn, name, value, rule, lambda a: np.isfinite(a) & (True if ok is None else ok(a)))


def _integer(fn: str, name: str, value: Any, low: int, high: int = _INT32_MAX) -> None:
    rule = f"an integer >= {low}" if high == _INT32_MAX else f"an integer in [{low}, {high}]"
    _required(fn, name, value, rule)
    check(fn, name, value, rule, lambda a: (a == np.round(a)) & (a >= low) & (a <= high))


def _lr(fn: str, lr: Any, name: str = "lr") -> None:
    _real(fn, name, lr, "a finite real number >= 0", lambda a: a >= 0)


def _momenta(fn: str, base_momentum: Any, max_momentum: Any) -> None:
    for name, v in (("base_momentum", base_momentum), ("max_momentum", max_momentum)):
        _real(fn, name, v, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))


def _one_callable(fn: str, name: str, value: Any) -> Callable[..., Any]:
    if isinstance(value, (list, tuple)):
        fail(fn, name, "one callable (one parameter group; for several use optax_lrs.param_groups)", value)
    if not callable(value):
        fail(fn, name, "a callable", value)
    return value


def _fresh(fn: str, last_epoch: Any) -> None:
    """torch's `last_epoch` resumes a scheduler; here optax's count carries the position."""
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral) or last_epoch != -1:
        fail(
            fn, "last_epoch", "-1 (to resume, restore the optax state: its count is the position)", last_epoch
        )


def _epochs(fn: str, schedule: Schedule, steps_per_epoch: Any) -> Schedule:
    """The epoch-indexed `schedule` read at epoch `t // steps_per_epoch`."""
    _integer(fn, "steps_per_epoch", steps_per_epoch, 1)
    return per_epoch(schedule, steps_per_epoch)


# --------------------------------------------------------------------------------------------------
# decays


def StepLR(
    lr: ArrayLike,
    step_size: ArrayLike,
    gamma: ArrayLike = 0.1,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `StepLR`: lr · gamma ^ (epoch // step_size).

    PyTorch: `StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1)`.
    Here: `StepLR(lr, step_size, gamma=0.1, last_epoch=-1, *, steps_per_epoch=1)` is
    `per_epoch(step_decay(lr, gamma, step_size), steps_per_epoch)`; epoch = step // steps_per_epoch.

    Example:
      >>> s = StepLR(0.1, step_size=3, gamma=0.5)
      >>> [round(float(s(t)), 6) for t in (0, 2, 3, 6)]
      [0.1, 0.1, 0.05, 0.025]
    """
    fn = "StepLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    _integer(fn, "step_size", step_size, 1)
    _real(fn, "gamma", gamma, "a finite real number >= 0", lambda a: a >= 0)
    return _epochs(fn, step_decay(lr, gamma, step_size), steps_per_epoch)


def _milestones(fn: str, milestones: Any) -> jax.Array:
    """torch's milestones (any iterable of epochs, in any order; a repeated one counts again) as a
    sorted integer leaf."""
    rule = "a sequence of integer epochs >= 0"
    if milestones is None or isinstance(milestones, (str, bytes, dict)):
        fail(fn, "milestones", rule, milestones)
    if not isinstance(milestones, (list, tuple, np.ndarray, jax.Array)) and isinstance(milestones, Iterable):
        milestones = list(milestones)  # a range or a set
    leaf = as_leaf(fn, "milestones", milestones, "int", sequence=True)
    if leaf.ndim != 1:
        fail(fn, "milestones", rule, milestones)
    if not is_traced(leaf):
        leaf = np.sort(np.asarray(leaf))
    return boundaries_leaf(fn, "milestones", leaf)


def MultiStepLR(
    lr: ArrayLike,
    milestones: Sequence[int] | ArrayLike,
    gamma: ArrayLike = 0.1,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `MultiStepLR`: lr · gamma ^ (number of milestones m <= epoch).

    PyTorch: `MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1)`.
    Here: `MultiStepLR(lr, milestones, gamma=0.1, last_epoch=-1, *, steps_per_epoch=1)` is
    `per_epoch(multistep_decay(lr, sorted(milestones), gamma), steps_per_epoch)`. As in torch, the
    milestones may come in any order and a repeated one multiplies by gamma once per repeat (traced
    milestones, under `vmap`, must be sorted already).

    Example:
      >>> s = MultiStepLR(1.0, milestones=[5, 2], gamma=0.5)
      >>> [float(s(t)) for t in (0, 1, 2, 4, 5)]
      [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    fn = "MultiStepLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    boundaries = _milestones(fn, milestones)
    _real(fn, "gamma", gamma, "a finite real number >= 0", lambda a: a >= 0)
    return _epochs(fn, multistep_decay(lr, boundaries, gamma), steps_per_epoch)


def ConstantLR(
    lr: ArrayLike,
    factor: ArrayLike = 1.0 / 3,
    total_iters: ArrayLike = 5,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `ConstantLR`: lr · factor for epochs < total_iters, then lr.

    PyTorch: `ConstantLR(optimizer, factor=1/3, total_iters=5, last_epoch=-1)`.
    Here: `ConstantLR(lr, factor=1/3, total_iters=5, last_epoch=-1, *, steps_per_epoch=1)` is
    `per_epoch(join_schedules([constant_schedule(lr·factor), constant_schedule(lr)], [total_iters]),
    steps_per_epoch)`.

    total_iters must be >= 1: with 0, torch's `step()` keeps lr · factor forever while its closed form
    gives lr. factor = 0 is allowed (torch's `step()` divides by it at total_iters and fails; its
    closed form, and this, give lr there).

    Example:
      >>> s = ConstantLR(0.1, factor=0.5, total_iters=3)
      >>> [round(float(s(t)), 6) for t in (0, 2, 3, 100)]
      [0.05, 0.05, 0.1, 0.1]
    """
    fn = "ConstantLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    _real(fn, "factor", factor, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    _integer(fn, "total_iters", total_iters, 1)
    held = join_schedules([constant_schedule(lr * factor), constant_schedule(lr)], [total_iters])
    return _epochs(fn, held, steps_per_epoch)


def LinearLR(
    lr: ArrayLike,
    start_factor: ArrayLike = 1.0 / 3,
    end_factor: ArrayLike = 1.0,
    total_iters: ArrayLike = 5,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `LinearLR`: lr · (start_factor + (end_factor − start_factor) · min(epoch, total_iters) /
    total_iters).

    PyTorch: `LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5, last_epoch=-1)`.
    Here: `LinearLR(lr, start_factor=1/3, end_factor=1.0, total_iters=5, last_epoch=-1, *,
    steps_per_epoch=1)` is
    `per_epoch(linear_schedule(lr·start_factor, lr·end_factor, total_iters), steps_per_epoch)`.
    total_iters must be >= 1 (torch's closed form divides by it).

    Example:
      >>> s = LinearLR(1.0, start_factor=0.25, total_iters=3)
      >>> [round(float(s(t)), 6) for t in (0, 1, 2, 3, 50)]
      [0.25, 0.5, 0.75, 1.0, 1.0]
    """
    fn = "LinearLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    _real(fn, "start_factor", start_factor, "in (0, 1]", lambda a: (a > 0) & (a <= 1))
    _real(fn, "end_factor", end_factor, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    _integer(fn, "total_iters", total_iters, 1)
    ramp = linear_schedule(lr * start_factor, lr * end_factor, total_iters)
    return _epochs(fn, ramp, steps_per_epoch)


def ExponentialLR(
    lr: ArrayLike, gamma: ArrayLike, last_epoch: int = -1, *, steps_per_epoch: ArrayLike = 1
) -> Schedule:
    """PyTorch `ExponentialLR`: lr · gamma ^ epoch.

    PyTorch: `ExponentialLR(optimizer, gamma, last_epoch=-1)`.
    Here: `ExponentialLR(lr, gamma, last_epoch=-1, *, steps_per_epoch=1)` is
    `per_epoch(step_decay(lr, gamma, 1), steps_per_epoch)` (gamma = 0 gives lr, then 0, as torch).

    Example:
      >>> s = ExponentialLR(1.0, gamma=0.5)
      >>> [float(s(t)) for t in (0, 1, 3)]
      [1.0, 0.5, 0.125]
    """
    fn = "ExponentialLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    _real(fn, "gamma", gamma, "a finite real number >= 0", lambda a: a >= 0)
    return _epochs(fn, step_decay(lr, gamma, 1), steps_per_epoch)


def PolynomialLR(
    lr: ArrayLike,
    total_iters: ArrayLike = 5,
    power: ArrayLike = 1.0,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `PolynomialLR`: lr · (1 − min(epoch, total_iters) / total_iters) ^ power (0 from
    total_iters on).

    PyTorch: `PolynomialLR(optimizer, total_iters=5, power=1.0, last_epoch=-1)`.
    Here: `PolynomialLR(lr, total_iters=5, power=1.0, last_epoch=-1, *, steps_per_epoch=1)` is
    `per_epoch(polynomial_decay(lr, total_iters, 0.0, power), steps_per_epoch)`.

    Example:
      >>> s = PolynomialLR(1.0, total_iters=4, power=2.0)
      >>> [float(s(t)) for t in (0, 2, 4, 9)]
      [1.0, 0.25, 0.0, 0.0]
    """
    fn = "PolynomialLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    _integer(fn, "total_iters", total_iters, 1)
    _real(fn, "power", power, "a finite real number >= 0", lambda a: a >= 0)
    return _epochs(fn, polynomial_decay(lr, total_iters, 0.0, power), steps_per_epoch)


# --------------------------------------------------------------------------------------------------
# cosines


def CosineAnnealingLR(
    lr: ArrayLike,
    T_max: ArrayLike,
    eta_min: ArrayLike = 0.0,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `CosineAnnealingLR`: eta_min + (lr − eta_min) · ½(1 + cos(π · epoch / T_max)), at every
    epoch, also past T_max.

    PyTorch: `CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1)`.
    Here: `CosineAnnealingLR(lr, T_max, eta_min=0.0, last_epoch=-1, *, steps_per_epoch=1)`.

    Past T_max torch does not hold eta_min: the cosine goes on, back up to lr at 2·T_max, and so on
    with period 2·T_max (its `step()` recurrence, which has an explicit branch at T_max + 1, equals
    this closed form). So this is `repeat(join_schedules([down, up], [T_max]), 2·T_max)` with
    down = `warmup_hold_cosine_decay(lr, T_max, end_value=eta_min)` (lr to eta_min) and
    up = `warmup_hold_cosine_decay(eta_min, T_max, end_value=lr)` (back), read per epoch. The phase is
    integer arithmetic; T_max <= 2**30 − 1 so that the period is an int32 step count.

    Example:
      >>> s = CosineAnnealingLR(1.0, T_max=10, eta_min=0.1)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 15, 20, 25)]
      [1.0, 0.55, 0.1, 0.55, 1.0, 0.55]
    """
    fn = "CosineAnnealingLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    _integer(fn, "T_max", T_max, 1, 2**30 - 1)
    _real(fn, "eta_min", eta_min)
    down = warmup_hold_cosine_decay(lr, T_max, end_value=eta_min)
    up = warmup_hold_cosine_decay(eta_min, T_max, end_value=lr)
    wave = repeat(join_schedules([down, up], [T_max]), 2 * T_max)
    return _epochs(fn, wave, steps_per_epoch)


def CosineAnnealingWarmRestarts(
    lr: ArrayLike,
    T_0: ArrayLike,
    T_mult: ArrayLike = 1,
    eta_min: ArrayLike = 0.0,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `CosineAnnealingWarmRestarts` (SGDR): eta_min + (lr − eta_min) · ½(1 + cos(π · T_cur /
    T_i)), T_i = T_0 · T_mult^i the length of cycle i and T_cur the epochs since it started.

    PyTorch: `CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1)`.
    Here: `CosineAnnealingWarmRestarts(lr, T_0, T_mult=1, eta_min=0.0, last_epoch=-1, *,
    steps_per_epoch=1)` is
    `per_epoch(cosine_annealing_warm_restarts(lr, T_0, T_mult, eta_min), steps_per_epoch)`: torch
    stepped once per epoch (its `step()` without an argument). Restart steps are exact at every int32
    step. Torch's per-batch form `scheduler.step(epoch + i / iters)` moves within the epoch instead:
    that is `cosine_annealing_warm_restarts(lr, T_0, T_mult, eta_min, steps_per_period_unit=iters)`.

    Example:
      >>> s = CosineAnnealingWarmRestarts(1.0, T_0=4, T_mult=2)
      >>> [round(float(s(t)), 6) for t in (0, 2, 4, 8, 12)]
      [1.0, 0.5, 1.0, 0.5, 1.0]
    """
    fn = "CosineAnnealingWarmRestarts"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    _integer(fn, "T_0", T_0, 1)
    _integer(fn, "T_mult", T_mult, 1)
    _real(fn, "eta_min", eta_min)
    return _epochs(fn, cosine_annealing_warm_restarts(lr, T_0, T_mult, eta_min), steps_per_epoch)


# --------------------------------------------------------------------------------------------------
# cyclical and one-cycle, with their momentum


def _cyclic_args(fn, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode):
    _integer(fn, "step_size_up", step_size_up, 1)
    if step_size_down is not None:
        _integer(fn, "step_size_down", step_size_down, 1)
    if scale_fn is None:
        check_choice(fn, "mode", mode, CYCLIC_MODES)
    else:
        _one_callable(fn, "scale_fn", scale_fn)
        check_choice(fn, "scale_mode", scale_mode, ("cycle", "iterations"))
    _real(fn, "gamma", gamma, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    return step_size_up if step_size_down is None else step_size_down


def _custom_scale(scale_fn, scale_mode, step_size_up, step_size_down, height):
    """`height · triangle(t) · scale`: torch's `scale_fn(cycle)` (cycle counted from 1) or
    `scale_fn(iteration)`."""
    scale = from_fn(scale_fn)
    if scale_mode == "cycle":
        scale = per_epoch(shift(scale, -1), step_size_up + step_size_down)
    return cyclic_schedule(0.0, height, step_size_up, step_size_down) * scale


def CyclicLR(
    base_lr: ArrayLike,
    max_lr: ArrayLike,
    step_size_up: ArrayLike = 2000,
    step_size_down: ArrayLike | None = None,
    mode: str = "triangular",
    gamma: ArrayLike = 1.0,
    scale_fn: Callable[[Any], Any] | None = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: ArrayLike = 0.8,
    max_momentum: ArrayLike = 0.9,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `CyclicLR`'s learning rate (Smith's cyclical learning rate).

    PyTorch: `CyclicLR(optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
    mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True,
    base_momentum=0.8, max_momentum=0.9, last_epoch=-1)`.
    Here: the same without `optimizer` (torch overwrites the optimizer's lr with base_lr) and with
    `steps_per_epoch=1` (CyclicLR is usually stepped per update). `cyclic_schedule(base_lr, max_lr,
    step_size_up, step_size_down, mode, gamma)`. With a `scale_fn`, `mode` is ignored (as in torch) and
    the lr is `base_lr + cyclic_schedule(0, max_lr − base_lr, ...) · scale`, where scale is
    `scale_fn(cycle)` with torch's cycle count from 1 (`scale_mode="cycle"`) or
    `scale_fn(iteration)`; scale_fn must be traceable by `jax.numpy` (no Python `if` on its argument)
    and, for `to_config`, an importable function. Without a scale_fn, torch ignores `scale_mode`
    (each mode has its own), and so does this. `cycle_momentum`, `base_momentum` and `max_momentum` are
    accepted so that torch's call ports verbatim; they shape the momentum, which is `CyclicMomentum`.

    Example:
      >>> s = CyclicLR(0.1, 1.0, step_size_up=4, mode="triangular2")
      >>> [round(float(s(t)), 6) for t in (0, 2, 4, 8, 12)]
      [0.1, 0.55, 1.0, 0.1, 0.55]
    """
    fn = "CyclicLR"
    _fresh(fn, last_epoch)
    _lr(fn, base_lr, "base_lr")
    _lr(fn, max_lr, "max_lr")
    down = _cyclic_args(fn, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
    as_flag(fn, "cycle_momentum", cycle_momentum)
    _momenta(fn, base_momentum, max_momentum)
    if scale_fn is None:
        lrs = cyclic_schedule(base_lr, max_lr, step_size_up, down, mode, gamma)
    else:
        lrs = binary(
            "add", base_lr, _custom_scale(scale_fn, scale_mode, step_size_up, down, max_lr - base_lr)
        )
    return _epochs(fn, lrs, steps_per_epoch)


def CyclicMomentum(
    step_size_up: ArrayLike = 2000,
    step_size_down: ArrayLike | None = None,
    mode: str = "triangular",
    gamma: ArrayLike = 1.0,
    scale_fn: Callable[[Any], Any] | None = None,
    scale_mode: str = "cycle",
    base_momentum: ArrayLike = 0.8,
    max_momentum: ArrayLike = 0.9,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """The momentum of PyTorch `CyclicLR(..., cycle_momentum=True)`: SGD's `momentum`, Adam's
    `betas[0]`, which moves against the learning rate.

    Takes `CyclicLR`'s arguments less the learning rates: max_momentum − (max_momentum −
    base_momentum) · triangle(t) · scale, which is `cyclic_momentum(step_size_up, step_size_down,
    base_momentum, max_momentum, mode, gamma)`, or with a `scale_fn` the same composition as
    `CyclicLR`'s. Use it as `optax.inject_hyperparams(optax.sgd)(learning_rate=CyclicLR(...),
    momentum=CyclicMomentum(...))` or `(optax.adam)(..., b1=CyclicMomentum(...))`.

    Example:
      >>> m = CyclicMomentum(step_size_up=4, base_momentum=0.8, max_momentum=0.9)
      >>> [round(float(m(t)), 6) for t in (0, 2, 4, 8)]
      [0.9, 0.85, 0.8, 0.9]
    """
    fn = "CyclicMomentum"
    _fresh(fn, last_epoch)
    down = _cyclic_args(fn, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
    _momenta(fn, base_momentum, max_momentum)
    if scale_fn is None:
        mom = cyclic_momentum(step_size_up, down, base_momentum, max_momentum, mode, gamma)
    else:
        dip = _custom_scale(scale_fn, scale_mode, step_size_up, down, max_momentum - base_momentum)
        mom = binary("sub", max_momentum, dip)
    return _epochs(fn, mom, steps_per_epoch)


def _one_cycle_total(fn, total_steps, epochs, steps_per_epoch, pct_start, anneal_strategy, three_phase):
    check_choice(fn, "anneal_strategy", anneal_strategy, _ANNEAL)
    as_flag(fn, "three_phase", three_phase)
    _real(fn, "pct_start", pct_start, "in (0, 1)", lambda a: (a > 0) & (a < 1))
    if total_steps is not None:
        _integer(fn, "total_steps", total_steps, 1)
        return total_steps
    if epochs is None or steps_per_epoch is None:
        fail(fn, "total_steps", "given, or else epochs and steps_per_epoch", None)
    _integer(fn, "epochs", epochs, 1)
    _integer(fn, "steps_per_epoch", steps_per_epoch, 1)
    if not is_traced((epochs, steps_per_epoch)) and int(epochs) * int(steps_per_epoch) > _INT32_MAX:
        fail(fn, "epochs", f"such that epochs · steps_per_epoch <= 2**31 − 1 ({steps_per_epoch=})", epochs)
    return epochs * steps_per_epoch


def OneCycleLR(
    max_lr: ArrayLike,
    total_steps: ArrayLike | None = None,
    epochs: ArrayLike | None = None,
    steps_per_epoch: ArrayLike | None = None,
    pct_start: ArrayLike = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: ArrayLike = 0.85,
    max_momentum: ArrayLike = 0.95,
    div_factor: ArrayLike = 25.0,
    final_div_factor: ArrayLike = 1e4,
    three_phase: bool = False,
    last_epoch: int = -1,
) -> Schedule:
    """PyTorch `OneCycleLR`'s learning rate (the one-cycle policy), stepped once per update.

    PyTorch: `OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
    pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
    div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1)`.
    Here: the same without `optimizer` (torch sets the lr from max_lr / div_factor). As in torch,
    `steps_per_epoch` only sets total_steps = epochs · steps_per_epoch when total_steps is None (for a
    OneCycleLR stepped per epoch: `per_epoch(OneCycleLR(max_lr, total_steps=epochs), n)`).
    `one_cycle_schedule(max_lr, total_steps, pct_start, anneal_strategy, div_factor,
    final_div_factor, three_phase)`: equal to torch for steps 0 .. total_steps − 1. After that torch
    extrapolates its last phase at step total_steps and raises beyond; this holds the final value.
    `cycle_momentum`, `base_momentum` and `max_momentum` shape the momentum, `OneCycleMomentum`.

    Example:
      >>> s = OneCycleLR(1.0, total_steps=101, pct_start=0.5, anneal_strategy="linear", div_factor=10.0)
      >>> [round(float(s(t)), 6) for t in (0, 100)]
      [0.1, 1e-05]
    """
    fn = "OneCycleLR"
    _fresh(fn, last_epoch)
    _lr(fn, max_lr, "max_lr")
    total = _one_cycle_total(
        fn, total_steps, epochs, steps_per_epoch, pct_start, anneal_strategy, three_phase
    )
    as_flag(fn, "cycle_momentum", cycle_momentum)
    _momenta(fn, base_momentum, max_momentum)
    _real(fn, "div_factor", div_factor, "> 0", lambda a: a > 0)
    _real(fn, "final_div_factor", final_div_factor, "> 0", lambda a: a > 0)
    return one_cycle_schedule(
        max_lr, total, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase
    )


def OneCycleMomentum(
    total_steps: ArrayLike | None = None,
    epochs: ArrayLike | None = None,
    steps_per_epoch: ArrayLike | None = None,
    pct_start: ArrayLike = 0.3,
    anneal_strategy: str = "cos",
    base_momentum: ArrayLike = 0.85,
    max_momentum: ArrayLike = 0.95,
    three_phase: bool = False,
    last_epoch: int = -1,
) -> Schedule:
    """The momentum of PyTorch `OneCycleLR(..., cycle_momentum=True)`: SGD's `momentum`, Adam's
    `betas[0]` (max_momentum → base_momentum while the lr rises, back while it falls).

    Takes `OneCycleLR`'s arguments less the learning rates: `one_cycle_momentum(total_steps,
    pct_start, anneal_strategy, base_momentum, max_momentum, three_phase)`, equal to torch for steps
    0 .. total_steps − 1 and holding its final value after.

    Example:
      >>> m = OneCycleMomentum(total_steps=101, pct_start=0.5, anneal_strategy="linear")
      >>> [round(float(m(t)), 6) for t in (0, 49.5, 100)]
      [0.95, 0.85, 0.95]
    """
    fn = "OneCycleMomentum"
    _fresh(fn, last_epoch)
    total = _one_cycle_total(
        fn, total_steps, epochs, steps_per_epoch, pct_start, anneal_strategy, three_phase
    )
    _momenta(fn, base_momentum, max_momentum)
    return one_cycle_momentum(total, pct_start, anneal_strategy, base_momentum, max_momentum, three_phase)


# --------------------------------------------------------------------------------------------------
# composition


def _schedules(fn: str, schedulers: Any) -> list[Schedule]:
    if not isinstance(schedulers, (list, tuple)) or not schedulers:
        fail(fn, "schedulers", "a non-empty list of Schedules", schedulers)
    for i, s in enumerate(schedulers):
        if not isinstance(s, Schedule):
            fail(fn, f"schedulers[{i}]", "a Schedule (e.g. one of this module's)", s)
    return list(schedulers)


def SequentialLR(
    schedulers: Sequence[Schedule],
    milestones: Sequence[int] | ArrayLike,
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `SequentialLR`: schedulers[i] from epoch milestones[i − 1] on, restarted there (it
    sees the epoch minus the milestone).

    PyTorch: `SequentialLR(optimizer, schedulers, milestones, last_epoch=-1)`.
    Here: `SequentialLR(schedulers, milestones, last_epoch=-1, *, steps_per_epoch=1)` is
    `join_schedules(schedulers, milestones · steps_per_epoch)`; the schedules (built here, with the
    same `lr` and the same steps_per_epoch) carry the learning rate, so there is no `lr`.
    Milestones are epochs in increasing order (torch's bisection assumes it too).

    Torch restarts each scheduler at its milestone from its closed form at epoch 0, which is the
    schedule's own start for every entry here except `SWALR`: torch's SWALR has no closed form, so
    inside SequentialLR it holds the lr the previous scheduler left for one more epoch and anneals
    from that lr, not from its own. For that SWA loop use `optax_lrs.swa_schedule`.

    Example:
      >>> s = SequentialLR([LinearLR(1.0, 0.5, total_iters=2), ExponentialLR(1.0, 0.5)], [2])
      >>> [float(s(t)) for t in (0, 1, 2, 3, 4)]
      [0.5, 0.75, 1.0, 0.5, 0.25]
    """
    fn = "SequentialLR"
    _fresh(fn, last_epoch)
    pieces = _schedules(fn, schedulers)
    boundaries = _milestones_in_order(fn, milestones)
    if boundaries.shape[-1] != len(pieces) - 1:
        rule = f"one fewer than the schedulers ({len(pieces) - 1} epochs)"
        fail(fn, "milestones", rule, milestones)
    _integer(fn, "steps_per_epoch", steps_per_epoch, 1)
    if not is_traced((boundaries, steps_per_epoch)):
        steps = np.asarray(boundaries, np.int64) * int(steps_per_epoch)
        if np.any(steps > _INT32_MAX):
            fail(fn, "milestones", "such that milestone · steps_per_epoch <= 2**31 − 1", milestones)
        boundaries = steps
    else:
        boundaries = boundaries * steps_per_epoch
    return join_schedules(pieces, boundaries)


def _milestones_in_order(fn: str, milestones: Any) -> jax.Array:
    if milestones is None or isinstance(milestones, (str, bytes, dict)):
        fail(fn, "milestones", "a sequence of integer epochs", milestones)
    return boundaries_leaf(fn, "milestones", milestones)


def ChainedScheduler(schedulers: Sequence[Schedule], lr: ArrayLike) -> Schedule:
    """PyTorch `ChainedScheduler`: every scheduler steps at each epoch, each multiplying the lr by its
    own factor, so the lr is lr · ∏ᵢ (schedulers[i] / lr).

    PyTorch: `ChainedScheduler(schedulers, optimizer=None)`.
    Here: `ChainedScheduler(schedulers, lr)`: `lr` (required) is the learning rate the schedules were
    built with, which divides out of each factor; the value is `s0 · (s1 / lr) · (s2 / lr) ...`.

    This is torch's value when every chained scheduler is "chainable", i.e. its `step()` multiplies the
    current lr by a factor of the epoch alone: `StepLR`, `MultiStepLR`, `ConstantLR`, `LinearLR`,
    `ExponentialLR`, `PolynomialLR` (and torch's `MultiplicativeLR`), and `CosineAnnealingLR` with
    eta_min = 0 up to T_max. The others set the lr outright (`LambdaLR`, `CyclicLR`, `OneCycleLR`,
    `CosineAnnealingWarmRestarts`, `SWALR`) or add to it (`CosineAnnealingLR` past T_max or with
    eta_min > 0), and torch's result then depends on the order of the chain rather than being a
    product.

    Example:
      >>> s = ChainedScheduler([ConstantLR(1.0, 0.5, total_iters=2), ExponentialLR(1.0, 0.5)], lr=1.0)
      >>> [float(s(t)) for t in (0, 1, 2, 3)]
      [0.5, 0.25, 0.25, 0.125]
    """
    fn = "ChainedScheduler"
    pieces = _schedules(fn, schedulers)
    _real(fn, "lr", lr, "a finite real number > 0 (it divides out of each factor)", lambda a: a > 0)
    out = pieces[0]
    for s in pieces[1:]:
        out = binary("mul", out, binary("div", s, lr))
    return out


def LambdaLR(
    lr: ArrayLike, lr_lambda: Callable[[Any], Any], last_epoch: int = -1, *, steps_per_epoch: ArrayLike = 1
) -> Schedule:
    """PyTorch `LambdaLR`: lr · lr_lambda(epoch).

    PyTorch: `LambdaLR(optimizer, lr_lambda, last_epoch=-1)`.
    Here: `LambdaLR(lr, lr_lambda, last_epoch=-1, *, steps_per_epoch=1)` is
    `per_epoch(lr * from_fn(lr_lambda), steps_per_epoch)`.

    `lr_lambda` receives the epoch as an integer array (possibly traced), not a Python int, so it must
    be written with `jax.numpy`: `lambda e: 0.95 ** e` works as it is, a Python `if` on the epoch
    does not (`jnp.where(e < 5, 1.0, 0.1)` instead), and `math.` functions become `jnp.` ones. It
    must also be elementwise (one value per epoch). For `to_config`, pass an importable function
    (not a lambda); `from_config` then needs it in `allowed_functions`.

    Example:
      >>> import jax.numpy as jnp
      >>> s = LambdaLR(0.5, lambda e: jnp.where(e < 2, 1.0, 0.1))
      >>> [round(float(s(t)), 6) for t in (0, 1, 2)]
      [0.5, 0.5, 0.05]
    """
    fn = "LambdaLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    lam = _one_callable(fn, "lr_lambda", lr_lambda)
    return _epochs(fn, binary("mul", lr, from_fn(lam)), steps_per_epoch)


def MultiplicativeLR(
    lr: ArrayLike,
    lr_lambda: Callable[[Any], Any],
    last_epoch: int = -1,
    *,
    num_epochs: int,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `MultiplicativeLR`: each epoch multiplies the lr by lr_lambda(epoch).

    PyTorch: `MultiplicativeLR(optimizer, lr_lambda, last_epoch=-1)`; after e steps its lr is
    lr · lr_lambda(1) · lr_lambda(2) · ... · lr_lambda(e).
    Here: `MultiplicativeLR(lr, lr_lambda, last_epoch=-1, *, num_epochs, steps_per_epoch=1)` is
    `per_epoch(lr * cumulative_product(from_fn(lr_lambda), num_epochs), steps_per_epoch)`. The product
    has no closed form, so it is tabulated for epochs 1..num_epochs (one evaluation of lr_lambda on
    that vector per call; a required argument torch does not have) and holds from num_epochs on.
    `lr_lambda` is written with `jax.numpy`, as for `LambdaLR`. Each factor is a float32 (0.95 is
    0.95 · (1 + 1.3e-8)), and e factors compound e of those roundings, where torch multiplies float64s.

    Example:
      >>> s = MultiplicativeLR(0.5, lambda e: 0.9 + 0 * e, num_epochs=100)
      >>> [round(float(s(t)), 6) for t in (0, 1, 2, 150)]
      [0.5, 0.45, 0.405, 1.3e-05]
    """
    fn = "MultiplicativeLR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    lam = _one_callable(fn, "lr_lambda", lr_lambda)
    _integer(fn, "num_epochs", num_epochs, 1)
    product = cumulative_product(from_fn(lam), int(num_epochs))
    return _epochs(fn, binary("mul", lr, product), steps_per_epoch)


def SWALR(
    lr: ArrayLike,
    swa_lr: ArrayLike,
    anneal_epochs: ArrayLike = 10,
    anneal_strategy: str = "cos",
    last_epoch: int = -1,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> Schedule:
    """PyTorch `torch.optim.swa_utils.SWALR`: from lr to swa_lr over anneal_epochs, then swa_lr.

    PyTorch: `SWALR(optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1)`.
    Here: `SWALR(lr, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1, *,
    steps_per_epoch=1)`, the scheduler on its own from the optimizer's lr: with
    p = min(epoch, anneal_epochs) / anneal_epochs and α(p) = ½(1 − cos(πp)) ("cos") or p ("linear"),
    lr · (1 − α) + swa_lr · α (swa_lr throughout when anneal_epochs is 0, as torch). It is
    `per_epoch(warmup(constant_schedule(swa_lr), anneal_epochs, init_value=lr, mode="cosine" or
    "linear"), steps_per_epoch)`.

    The usual SWA loop, another scheduler until swa_start and SWALR after it (SWALR then anneals from
    the lr the other one left), is `optax_lrs.swa_schedule(schedule, swa_start, swa_lr,
    anneal_epochs, anneal_strategy)`.

    Example:
      >>> s = SWALR(0.1, swa_lr=0.02, anneal_epochs=4, anneal_strategy="linear")
      >>> [round(float(s(t)), 6) for t in (0, 1, 2, 4, 9)]
      [0.1, 0.08, 0.06, 0.02, 0.02]
    """
    fn = "SWALR"
    _fresh(fn, last_epoch)
    _lr(fn, lr)
    _lr(fn, swa_lr, "swa_lr")
    _integer(fn, "anneal_epochs", anneal_epochs, 0)
    check_choice(fn, "anneal_strategy", anneal_strategy, _ANNEAL)
    mode = "cosine" if anneal_strategy == "cos" else "linear"
    annealed = warmup(constant_schedule(swa_lr), anneal_epochs, init_value=lr, mode=mode)
    return _epochs(fn, annealed, steps_per_epoch)


def ReduceLROnPlateau(
    lr: ArrayLike,
    mode: str = "min",
    factor: ArrayLike = 0.1,
    patience: ArrayLike = 10,
    threshold: ArrayLike = 1e-4,
    threshold_mode: str = "rel",
    cooldown: ArrayLike = 0,
    min_lr: ArrayLike = 0.0,
    eps: ArrayLike = 1e-8,
    *,
    steps_per_epoch: ArrayLike = 1,
) -> optax.GradientTransformationExtraArgs:
    """PyTorch `ReduceLROnPlateau` as the `optax_lrs.reduce_on_plateau` gradient transformation.

    PyTorch: `ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
    threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8)`.
    Here: `ReduceLROnPlateau(lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr,
    eps, *, steps_per_epoch=1)` is `reduce_on_plateau(factor, patience, mode, threshold, threshold_mode,
    cooldown, min_scale=min_lr / lr, eps=eps / lr, accumulation_size=steps_per_epoch)`: a transform
    that multiplies the updates by a scale (1 at first), chained after the optimizer that uses `lr`:
    `optax.chain(optax.sgd(lr), ReduceLROnPlateau(lr, ...))`, whose `update` takes `value=` the
    metric. torch's min_lr and eps are in learning-rate units, hence `lr` here. One torch epoch, one
    `scheduler.step(metrics)`, is `steps_per_epoch` updates, its metric the mean of their `value`s.

    The rules are torch's exactly (see `reduce_on_plateau`); lr · `state.scale` after an update is the
    lr torch holds after `scheduler.step(metrics)`. Torch calls `step(metrics)` after the epoch's
    `optimizer.step()`, so its new lr applies from the next update; the update that completes an epoch
    here is already scaled by it.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = ReduceLROnPlateau(0.1, factor=0.5, patience=0)
      >>> state = tx.init(jnp.zeros(1))
      >>> for loss in [1.0, 2.0, 3.0]:
      ...     _, state = tx.update(jnp.ones(1), state, value=loss)
      >>> round(0.1 * float(state.scale), 6)
      0.025
    """
    fn = "ReduceLROnPlateau"
    _real(fn, "lr", lr, "a finite real number > 0 (min_lr and eps are read relative to it)", lambda a: a > 0)
    check_choice(fn, "mode", mode, ("min", "max"))
    check_choice(fn, "threshold_mode", threshold_mode, ("rel", "abs"))
    _real(fn, "factor", factor, "in [0, 1)", lambda a: (a >= 0) & (a < 1))
    _integer(fn, "patience", patience, 0)
    _integer(fn, "cooldown", cooldown, 0)
    if threshold_mode == "rel":
        _real(fn, "threshold", threshold, "in [0, 1) with threshold_mode='rel'", lambda a: (a >= 0) & (a < 1))
    else:
        _real(fn, "threshold", threshold, ">= 0", lambda a: a >= 0)
    if isinstance(min_lr, (list, tuple)):
        fail(fn, "min_lr", "one number (one parameter group)", min_lr)
    _real(fn, "min_lr", min_lr, ">= 0", lambda a: a >= 0)
    check(fn, "min_lr", min_lr, f"<= lr ({lr!r})", lambda a, r: a <= r, (lr,))
    _real(fn, "eps", eps, ">= 0", lambda a: a >= 0)
    _integer(fn, "steps_per_epoch", steps_per_epoch, 1)
    return reduce_on_plateau(
        factor=factor,
        patience=patience,
        mode=mode,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_scale=min_lr / lr,
        eps=eps / lr,
        accumulation_size=steps_per_epoch,
    )
