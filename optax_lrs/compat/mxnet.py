"""MXNet 1.9.1's `mxnet.lr_scheduler` by its own names (see MXNet's tutorial "Schedule Learning
Rate"): `FactorScheduler`, `MultiFactorScheduler`, `PolyScheduler`, `CosineScheduler`.

Each returns an ordinary optax_lrs `Schedule` built from the core schedules, so it jits, vmaps over
every hyperparameter and round-trips through `to_config`. The translation, common to all four:

- MXNet's optimizer passes `num_update` = 1 on the first update (its update count is incremented before
  the scheduler is asked); optax's count is 0 there. The schedule at step t is MXNet's lr for
  num_update = t + 1: the composition is read at `shift(..., -1)`.
- Warmup (`LRScheduler.get_warmup_lr`) covers num_update < warmup_steps, that is steps
  t < warmup_steps − 1: the ramp `warmup_begin_lr + (base_lr − warmup_begin_lr) · (t + 1) / warmup_steps`
  ('linear') or `warmup_begin_lr` ('constant') reaches base_lr one update earlier than optax's
  `warmup_constant_schedule`, at step warmup_steps − 1, where the scheduler's own formula takes over.
  It is a `join_schedules` of the ramp and that formula at num_update = warmup_steps. (The core
  `warmup(schedule, warmup_steps, mode="linear")` read at step t is MXNet's value for num_update = t,
  one update late, and its ramp ends at the wrapped schedule's value, which for the factor schedulers
  need not be base_lr.)
- MXNet's schedulers are stateful objects; called as an optimizer calls them (increasing num_update),
  they return the values written here, which `tests/refs/mxnet_1.9.1.json` records from MXNet itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from optax_lrs._base import Schedule, check, check_choice, is_traced
from optax_lrs._compose import join_schedules, shift
from optax_lrs._cosine import warmup_hold_cosine_decay
from optax_lrs._decay import constant_schedule, linear_schedule, multistep_decay, polynomial_decay, step_decay

__all__ = ["CosineScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler"]

_WARMUP_MODES = ("linear", "constant")


def _is_count(a, least):
    return (a >= least) & (a == np.floor(a))


def _check_warmup(
    fn: str,
    base_lr: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike,
    warmup_begin_lr: jax.typing.ArrayLike,
    warmup_mode: str,
) -> None:
    """`LRScheduler.__init__`'s checks."""
    check_choice(fn, "warmup_mode", warmup_mode, _WARMUP_MODES)
    check(fn, "warmup_steps", warmup_steps, "an integer >= 0", lambda a: _is_count(a, 0))
    rule = f"<= base_lr = {base_lr!r} (MXNet: 'Base lr has to be higher than warmup_begin_lr')"
    check(fn, "warmup_begin_lr", warmup_begin_lr, rule, lambda a, b: a <= b, (base_lr,))


def _with_warmup(
    after: Schedule,
    base_lr: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike,
    warmup_begin_lr: jax.typing.ArrayLike,
    warmup_mode: str,
) -> Schedule:
    """MXNet's `LRScheduler` around a scheduler's formula: `after` is that formula read at
    num_update − warmup_steps; the result is indexed by optax's step t = num_update − 1."""
    if warmup_mode == "linear":
        # begin + (base − begin)·n/warmup_steps, ending at base_lr (MXNet's warmup_final_lr)
        ramp = linear_schedule(warmup_begin_lr, base_lr, warmup_steps)
    else:
        ramp = constant_schedule(warmup_begin_lr)
    by_update = join_schedules([ramp, after], [warmup_steps])
    return shift(by_update, -1)


def _is_step_list(a):
    return a.ndim == 1 and a.size > 0 and np.all(_is_count(a, 1)) and np.all(np.diff(a) > 0)


def _check_factor(fn: str, factor: jax.typing.ArrayLike) -> None:
    # MXNet only rejects factor > 1; a negative factor would flip the sign of the rate at each step
    check(fn, "factor", factor, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))


def FactorScheduler(
    step: jax.typing.ArrayLike,
    factor: jax.typing.ArrayLike = 1,
    stop_factor_lr: jax.typing.ArrayLike = 1e-8,
    base_lr: jax.typing.ArrayLike = 0.01,
    warmup_steps: jax.typing.ArrayLike = 0,
    warmup_begin_lr: jax.typing.ArrayLike = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    """MXNet's `FactorScheduler`: multiply the rate by `factor` every `step` updates.

    MXNet 1.9.1: `mxnet.lr_scheduler.FactorScheduler(step, factor=1, stop_factor_lr=1e-8,
    base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear')`.

    At update num_update = n (1 on the first update), after the warmup (n >= warmup_steps):
    base_lr · factor^k with k = ceil(n / step) − 1 (the drops happen at n = step + 1, 2·step + 1, ...),
    floored at stop_factor_lr. With optax's step t = n − 1 that is
    `step_decay(base_lr, factor, step, end_value=stop_factor_lr)(t)`: the drops count from the first
    update, not from the end of the warmup, so a warmup longer than `step` ends on an already lowered
    rate. The warmup itself ramps to base_lr (see the module docstring).

    Args:
      step: updates between drops, an integer >= 1.
      factor: in [0, 1].
      stop_factor_lr: the floor, >= 0. Above base_lr (concrete values), MXNet gives base_lr until the
        first drop and stop_factor_lr from then on, and so does this (a join of two constants).
      base_lr: the rate before the first drop and the end of the warmup ramp.
      warmup_steps: an integer >= 0.
      warmup_begin_lr: where the warmup starts, <= base_lr.
      warmup_mode: 'linear' or 'constant'.

    Example (MXNet's "Schedule Learning Rate" tutorial: `scheduler(1), scheduler(250),
    scheduler(251), scheduler(501)` is
    `(1, 1, 0.5, 0.25)`):
      >>> s = FactorScheduler(step=250, factor=0.5, base_lr=1.0)
      >>> [float(s(n - 1)) for n in (1, 250, 251, 501)]
      [1.0, 1.0, 0.5, 0.25]
    """
    fn = "FactorScheduler"
    _check_warmup(fn, base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    check(fn, "step", step, "an integer >= 1", lambda a: _is_count(a, 1))
    _check_factor(fn, factor)
    check(fn, "stop_factor_lr", stop_factor_lr, ">= 0", lambda a: a >= 0)
    if not is_traced((stop_factor_lr, base_lr)) and float(stop_factor_lr) > float(base_lr):
        # the first drop lands below the floor, which then holds: base_lr, then stop_factor_lr
        decay = join_schedules([constant_schedule(base_lr), constant_schedule(stop_factor_lr)], [step])
    else:
        decay = step_decay(base_lr, factor, step, end_value=stop_factor_lr)
    # the formula at num_update n = warmup_steps + s reads step_decay at t = n − 1
    return _with_warmup(shift(decay, 1 - warmup_steps), base_lr, warmup_steps, warmup_begin_lr, warmup_mode)


def MultiFactorScheduler(
    step: Sequence[int] | jax.typing.ArrayLike,
    factor: jax.typing.ArrayLike = 1,
    base_lr: jax.typing.ArrayLike = 0.01,
    warmup_steps: jax.typing.ArrayLike = 0,
    warmup_begin_lr: jax.typing.ArrayLike = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    """MXNet's `MultiFactorScheduler`: multiply the rate by `factor` after each update in `step`.

    MXNet 1.9.1: `mxnet.lr_scheduler.MultiFactorScheduler(step, factor=1, base_lr=0.01,
    warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear')`.

    At update n (1 on the first update), after the warmup: base_lr · factor^(number of s in `step`
    with n > s). With optax's step t = n − 1 that is `multistep_decay(base_lr, step, factor)(t)`:
    MXNet's "Schedule Learning Rate" tutorial's "the 250th iteration is 1, the 251st is 0.5" is our
    step 249 -> 1, step 250 -> 0.5.
    As in `FactorScheduler`, the drops count from the first update, not from the end of the warmup.

    Args:
      step: strictly increasing integers >= 1 (at least one).
      factor: in [0, 1].
      base_lr: the rate before the first drop and the end of the warmup ramp.
      warmup_steps: an integer >= 0.
      warmup_begin_lr: where the warmup starts, <= base_lr.
      warmup_mode: 'linear' or 'constant'.

    Example:
      >>> s = MultiFactorScheduler(step=[250, 750, 900], factor=0.5, base_lr=1.0)
      >>> [float(s(n - 1)) for n in (250, 251, 750, 751, 900, 901)]
      [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]
    """
    fn = "MultiFactorScheduler"
    _check_warmup(fn, base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    rule = "a non-empty, strictly increasing sequence of integers >= 1"
    check(fn, "step", step, rule, _is_step_list)
    _check_factor(fn, factor)
    decay = multistep_decay(base_lr, step, factor)
    return _with_warmup(shift(decay, 1 - warmup_steps), base_lr, warmup_steps, warmup_begin_lr, warmup_mode)


def _check_max_update(fn: str, max_update: jax.typing.ArrayLike, warmup_steps: jax.typing.ArrayLike) -> None:
    check(fn, "max_update", max_update, "an integer >= 1", lambda a: _is_count(a, 1))
    # MXNet divides by max_update − warmup_steps: zero raises there (ZeroDivisionError)
    rule = f"!= warmup_steps = {warmup_steps!r} (MXNet divides by max_update − warmup_steps)"
    check(fn, "max_update", max_update, rule, lambda a, w: a != w, (warmup_steps,))


def _decay_never_runs(max_update: jax.typing.ArrayLike, warmup_steps: jax.typing.ArrayLike) -> bool:
    """max_update < warmup_steps (concrete): MXNet's decay branch never runs, and its scheduler returns
    the base_lr it holds from the end of the warmup on."""
    return not is_traced((max_update, warmup_steps)) and int(max_update) < int(warmup_steps)


def PolyScheduler(
    max_update: jax.typing.ArrayLike,
    base_lr: jax.typing.ArrayLike = 0.01,
    pwr: jax.typing.ArrayLike = 2,
    final_lr: jax.typing.ArrayLike = 0,
    warmup_steps: jax.typing.ArrayLike = 0,
    warmup_begin_lr: jax.typing.ArrayLike = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    """MXNet's `PolyScheduler`: polynomial decay from base_lr to final_lr at update max_update.

    MXNet 1.9.1: `mxnet.lr_scheduler.PolyScheduler(max_update, base_lr=0.01, pwr=2, final_lr=0,
    warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear')`.

    At update n (1 on the first update), W = warmup_steps, after the warmup (n >= W):
    final_lr + (base_lr − final_lr) · (1 − (n − W) / (max_update − W))^pwr up to n = max_update, then
    final_lr (MXNet holds the value of update max_update). That is
    `polynomial_decay(base_lr, max_update − W, final_lr, pwr)` at n − W, so our step t reads it at
    t + 1 − W: without a warmup the first update is already one step into the decay
    (1 − 1/max_update), and the rate reaches final_lr at step max_update − 1.

    Args:
      max_update: the update at which final_lr is reached, an integer != warmup_steps; below
        warmup_steps the decay never runs and the rate stays at base_lr after the warmup, as in MXNet.
      base_lr: the rate at update warmup_steps (and at update 0, which no optimizer uses).
      pwr: the power, >= 0 (0 holds base_lr throughout, as MXNet's `0.0 ** 0` does).
      final_lr: the rate from update max_update on.
      warmup_steps: an integer >= 0.
      warmup_begin_lr: where the warmup starts, <= base_lr.
      warmup_mode: 'linear' or 'constant'.

    Example (MXNet's "Schedule Learning Rate" tutorial: from 1 to 0.001 at iteration 800, then 0.001):
      >>> s = PolyScheduler(max_update=800, base_lr=1.0, pwr=2, final_lr=1e-3)
      >>> [round(float(s(n - 1)), 6) for n in (1, 400, 800, 900)]
      [0.997504, 0.25075, 0.001, 0.001]
    """
    fn = "PolyScheduler"
    _check_warmup(fn, base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    _check_max_update(fn, max_update, warmup_steps)
    check(fn, "pwr", pwr, ">= 0", lambda a: a >= 0)
    if _decay_never_runs(max_update, warmup_steps):
        decay = constant_schedule(base_lr)
    else:
        decay = polynomial_decay(base_lr, max_update - warmup_steps, final_lr, pwr)
    return _with_warmup(decay, base_lr, warmup_steps, warmup_begin_lr, warmup_mode)


def CosineScheduler(
    max_update: jax.typing.ArrayLike,
    base_lr: jax.typing.ArrayLike = 0.01,
    final_lr: jax.typing.ArrayLike = 0,
    warmup_steps: jax.typing.ArrayLike = 0,
    warmup_begin_lr: jax.typing.ArrayLike = 0,
    warmup_mode: str = "linear",
) -> Schedule:
    """MXNet's `CosineScheduler`: cosine decay from base_lr to final_lr at update max_update.

    MXNet 1.9.1: `mxnet.lr_scheduler.CosineScheduler(max_update, base_lr=0.01, final_lr=0,
    warmup_steps=0, warmup_begin_lr=0, warmup_mode='linear')`.

    At update n (1 on the first update), W = warmup_steps, after the warmup (n >= W):
    final_lr + (base_lr − final_lr) · ½(1 + cos(π (n − W) / (max_update − W))) up to n = max_update,
    then final_lr. That is `warmup_hold_cosine_decay(base_lr, max_update − W, end_value=final_lr)` at
    n − W, read by our step t at t + 1 − W (the rate reaches final_lr at step max_update − 1).

    Args:
      max_update: the update at which final_lr is reached, an integer != warmup_steps; below
        warmup_steps the decay never runs and the rate stays at base_lr after the warmup, as in MXNet.
      base_lr: the rate at update warmup_steps.
      final_lr: the rate from update max_update on.
      warmup_steps: an integer >= 0.
      warmup_begin_lr: where the warmup starts, <= base_lr.
      warmup_mode: 'linear' or 'constant'.

    Example (MXNet's "Schedule Learning Rate" tutorial: cosine with a linear warmup from 0 over 100
    updates):
      >>> s = CosineScheduler(max_update=800, base_lr=1.0, final_lr=1e-3, warmup_steps=100)
      >>> [round(float(s(n - 1)), 6) for n in (1, 50, 99, 100, 450, 800)]
      [0.01, 0.5, 0.99, 1.0, 0.5005, 0.001]
    """
    fn = "CosineScheduler"
    _check_warmup(fn, base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
    _check_max_update(fn, max_update, warmup_steps)
    if _decay_never_runs(max_update, warmup_steps):
        decay = constant_schedule(base_lr)
    else:
        decay = warmup_hold_cosine_decay(base_lr, max_update - warmup_steps, end_value=final_lr)
    return _with_warmup(decay, base_lr, warmup_steps, warmup_begin_lr, warmup_mode)
