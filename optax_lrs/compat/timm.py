"""timm's learning-rate schedulers (`timm.scheduler`) by their own names (SPEC §7): `CosineLRScheduler`,
`TanhLRScheduler`, `StepLRScheduler`, `MultiStepLRScheduler`, `PolyLRScheduler` (ordinary optax_lrs
`Schedule`s, built from the core schedules) and `PlateauLRScheduler` (a gradient transformation).

The translation, common to all:

- There is no optimizer to read the base rate from: each function takes it as an extra first argument,
  `learning_rate` (timm's `base_values`, the optimizer's lr). The other parameters keep timm's names,
  order and defaults; `initialize` (optimizer bookkeeping) is dropped; `steps_per_epoch`,
  `noise_type` and `key` are keywords of ours.
- Step convention, from timm's `train.py`: with `t_in_epochs=False` the loop calls
  `scheduler.step_update(num_updates)` after each optimizer step, num_updates counting the updates
  done; with `t_in_epochs=True` it calls `scheduler.step(epoch + 1)` at the end of each epoch. So the
  rate of update k (optax's count, 0 on the first update) is, with t = k (per update) or
  t = k // steps_per_epoch (per epoch): for t >= 1 the rate `step_update(t)` / `step(t)` sets,
  `_get_lr(t)` times the noise; for t = 0 the rate the constructor sets (`warmup_lr_init` with a
  warmup, else `learning_rate`), since the loop never calls `step(0)`. The two differ only where
  `_get_lr(0)` is not that value: `TanhLRScheduler` without warmup (`_get_lr(0)` is
  ½(1 − tanh(lb)) · learning_rate), `MultiStepLRScheduler` with a milestone <= 1, `cycle_limit=0`,
  and noise (never applied at t = 0). The schedules here follow the loop.
- `steps_per_epoch` is required with `t_in_epochs=True` (the default, as in timm): the schedule is
  `per_epoch(schedule_in_epochs, steps_per_epoch)`. Pass `steps_per_epoch=1` for a schedule indexed
  by epoch.
- Cycles (`cycle_mul`, `cycle_decay`, `cycle_limit`): cycle i lasts t_initial · cycle_mul^i (a real
  length), as in timm, built with `repeat`; restart steps are exact (the first step at or after each
  real cycle start restarts). timm finds the cycle as `floor(log(...))` in float64, which puts some
  integer restart steps in the previous cycle (t_initial=10, cycle_mul=3: step 1210 starts cycle 5, timm
  gives the end of cycle 4, lr_min): there the values differ. `cycle_mul` must be >= 1 and
  `cycle_decay` in [0, 1] (timm accepts others; its cycle formula breaks down for cycle_mul < 1).
- Noise (`noise_range_t`, `noise_pct`, `noise_std`, `noise_type`): timm draws the noise of t from a
  torch generator seeded with `noise_seed + t`; here from `jax.random.fold_in(key, t)`: the same
  distribution, not the same draws. "normal": a standard normal times noise_std, redrawn until its
  magnitude is below noise_pct (a truncated normal); "uniform": uniform in [−noise_pct, noise_pct].
  The rate is multiplied by (1 + noise), so it stays within (1 ± noise_pct) times the noiseless rate.
  `key` is a JAX PRNG key (`jax.random.key(...)` or `jax.random.PRNGKey(...)`, threefry); without it
  the key is `jax.random.PRNGKey(noise_seed)`. The key is a leaf of the schedule, stored as four
  16-bit halves in float32 (exact): the same key gives the same schedule, another key another one, and
  building the schedule inside `jax.vmap` over a batch of keys gives a batch of noisy schedules. A
  noisy schedule's config names the noise function: `from_config(cfg,
  allowed_functions=NOISE_FUNCTIONS)`.
- Values equal timm's to float32 rounding (timm computes in float64).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_lrs._base import Schedule, as_flag, as_leaf, check, check_choice, fail, float_dtype, is_traced
from optax_lrs._compose import from_fn, join_schedules, per_epoch, repeat, shift, time_warp
from optax_lrs._cosine import cosine_decay_schedule
from optax_lrs._cyclic import tanh_decay
from optax_lrs._decay import constant_schedule, linear_schedule, multistep_decay, step_decay
from optax_lrs._decay import k_decay as k_decay_schedule  # `k_decay` is a timm parameter's name
from optax_lrs._plateau import reduce_on_plateau
from optax_lrs._warmup import warmup

__all__ = [
    "NOISE_FUNCTIONS",
    "CosineLRScheduler",
    "MultiStepLRScheduler",
    "PlateauLRScheduler",
    "PolyLRScheduler",
    "StepLRScheduler",
    "TanhLRScheduler",
]

_INT32_MAX = 2**31 - 1
_NOISE_TYPES = ("normal", "uniform")


# --------------------------------------------------------------------------------------------------
# argument checks


def _real(fn: str, param: str, value: Any) -> Any:
    as_leaf(fn, param, value, "float")
    return value


def _count(fn: str, param: str, value: Any, least: int = 0) -> Any:
    as_leaf(fn, param, value, "int")
    check(fn, param, value, f">= {least}", lambda a: a >= least)
    return value


def _concrete(fn: str, param: str, value: Any) -> None:
    if is_traced(value):
        fail(fn, param, "a concrete value (it fixes the schedule's structure)", "a traced value")


def _is_zero(value: Any) -> bool:
    """Whether a hyperparameter is known to be 0 (a traced one is not known)."""
    return not is_traced(value) and float(value) == 0


# --------------------------------------------------------------------------------------------------
# noise


def _key_halves(fn: str, key: Any) -> jax.Array:
    """A threefry key as its two 32-bit words split into four 16-bit halves, as float32 (exact)."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    data = jnp.asarray(key)
    if data.shape != (2,) or data.dtype != jnp.uint32:
        fail(fn, "key", "a threefry PRNG key (jax.random.key or jax.random.PRNGKey)", key)
    return jnp.concatenate([data >> 16, data & 0xFFFF]).astype(jnp.float32)


def _fold(key: jax.Array, t: jax.Array) -> Callable[[Callable[..., jax.Array]], jax.Array]:
    """`draw(k)` for each element of t with k = fold_in(key, t): the key rebuilt from its halves."""
    halves = jnp.round(key).astype(jnp.uint32)
    raw = (halves[:2] << 16) | halves[2:]
    flat = jnp.floor(jnp.ravel(t)).astype(jnp.uint32)

    def per_step(draw):
        return jax.vmap(lambda s: draw(jax.random.fold_in(raw, s)))(flat).reshape(jnp.shape(t))

    return per_step


def _normal_noise(t: jax.Array, key: jax.Array, noise_pct: jax.Array, noise_std: jax.Array) -> jax.Array:
    """1 + n, n a standard normal times noise_std conditioned on |n| < noise_pct (timm's "normal"
    noise), drawn from `fold_in(key, t)`; `key` holds the 16-bit halves of a threefry key."""
    std = jnp.maximum(noise_std, jnp.finfo(jnp.float32).tiny)
    bound = noise_pct / std
    draw = _fold(key, t)(lambda k: jax.random.truncated_normal(k, -bound, bound, dtype=jnp.float32))
    return 1.0 + draw * std


def _uniform_noise(t: jax.Array, key: jax.Array, noise_pct: jax.Array) -> jax.Array:
    """1 + n, n uniform in [−noise_pct, noise_pct) (timm's "uniform" noise), drawn from
    `fold_in(key, t)`."""
    draw = _fold(key, t)(lambda k: jax.random.uniform(k, dtype=jnp.float32, minval=-1.0, maxval=1.0))
    return 1.0 + draw * noise_pct


# the functions a noisy schedule's config names: from_config(cfg, allowed_functions=NOISE_FUNCTIONS)
NOISE_FUNCTIONS = (_normal_noise, _uniform_noise)


def _noise_factor(
    fn: str,
    noise_range_t: Any,
    noise_type: str,
    noise_pct: Any,
    noise_std: Any,
    noise_seed: Any,
    key: Any,
    first: Any = 1,
) -> Schedule | None:
    """The factor (1 + noise(t)) on timm's noise range, 1 elsewhere and before step `first`; None
    without a noise range."""
    if noise_range_t is None:
        return None
    check_choice(fn, "noise_type", noise_type, _NOISE_TYPES)
    _real(fn, "noise_pct", noise_pct)
    check(fn, "noise_pct", noise_pct, "> 0", lambda a: a > 0)
    if noise_type == "normal":
        _real(fn, "noise_std", noise_std)
        check(fn, "noise_std", noise_std, "> 0", lambda a: a > 0)
    if isinstance(noise_range_t, (list, tuple)):
        if len(noise_range_t) != 2:
            fail(fn, "noise_range_t", "an epoch/step, or a pair (start, end)", noise_range_t)
        start, end = noise_range_t
        _count(fn, "noise_range_t", end)
    else:
        start, end = noise_range_t, None
    _count(fn, "noise_range_t", start)
    if key is None:
        _count(fn, "noise_seed", noise_seed)
        key = jax.random.PRNGKey(noise_seed)
    halves = _key_halves(fn, key)
    if noise_type == "normal":
        noisy = from_fn(_normal_noise, key=halves, noise_pct=noise_pct, noise_std=noise_std)
    else:
        noisy = from_fn(_uniform_noise, key=halves, noise_pct=noise_pct)
    lo = jnp.maximum(start, first) if is_traced((start, first)) else max(int(start), int(first))
    # the noise of step t is drawn from fold_in(key, t): the piece reads the global step
    pieces, bounds = [constant_schedule(1.0), shift(noisy, -lo)], [lo]
    if end is not None:
        pieces.append(constant_schedule(1.0))
        bounds.append(jnp.maximum(end, lo) if is_traced((end, lo)) else max(int(end), lo))
    return join_schedules(pieces, bounds)


# --------------------------------------------------------------------------------------------------
# the pieces the schedulers share


def _cycles_end(fn: str, t_initial: Any, cycle_mul: Any, cycle_limit: Any) -> Any:
    """The first step of cycle `cycle_limit` (cycle i lasting t_initial · cycle_mul^i, the multiplier
    read as `repeat` reads it, its shortest decimal), or None when that lies past int32."""
    if float(cycle_mul) == 1:
        if is_traced((t_initial, cycle_limit)):
            return jnp.asarray(t_initial) * cycle_limit
        end = int(t_initial) * int(cycle_limit)
        return end if end <= _INT32_MAX else None
    _concrete(fn, "t_initial", t_initial)
    _concrete(fn, "cycle_limit", cycle_limit)
    mult = Fraction(str(float_dtype().type(cycle_mul)))
    start, length = Fraction(0), Fraction(int(t_initial))
    for _ in range(int(cycle_limit)):
        start += length
        length *= mult
        if start > _INT32_MAX:
            return None
    return math.ceil(start)


def _cycles(
    fn: str,
    shape: Callable[[Any], Schedule],
    learning_rate: Any,
    lr_min: Any,
    t_initial: Any,
    cycle_mul: Any,
    cycle_decay: Any,
    cycle_limit: Any,
) -> Schedule:
    """timm's cycles after the warmup: `lr_min + (learning_rate · cycle_decay^i − lr_min) · f(frac)` in
    cycle i < cycle_limit, frac the position in the cycle, then lr_min; `shape(v)` is `v · f(t /
    t_initial)` on [0, t_initial). The floor lr_min does not decay with the cycles, so with both a
    floor and a decay it is `repeat(shape(learning_rate), decay) + lr_min − repeat(shape(lr_min))`."""
    _concrete(fn, "cycle_mul", cycle_mul)
    check(fn, "cycle_mul", cycle_mul, ">= 1 (cycles that shrink are not supported)", lambda a: a >= 1)
    check(fn, "cycle_decay", cycle_decay, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    _count(fn, "cycle_limit", cycle_limit)

    def cycles(v, decay=1.0):
        return repeat(shape(v), t_initial, cycle_mul, decay)

    if _is_zero(lr_min):
        main = cycles(learning_rate, cycle_decay)
    elif not is_traced(cycle_decay) and float(cycle_decay) == 1:
        main = cycles(learning_rate - lr_min) + lr_min
    else:
        main = cycles(learning_rate, cycle_decay) + lr_min - cycles(lr_min)
    end = _cycles_end(fn, t_initial, cycle_mul, cycle_limit)
    if end is None:
        return main
    return join_schedules([main, constant_schedule(lr_min)], [end])


def _with_warmup(main: Schedule, warmup_t: Any, warmup_lr_init: Any, target: Any, prefix: bool) -> Schedule:
    """timm's warmup: `warmup_lr_init + t · (target − warmup_lr_init) / warmup_t` for t < warmup_t,
    then `main` at t − warmup_t (warmup_prefix) or at t."""
    if _is_zero(warmup_t):
        return main
    ramp = linear_schedule(warmup_lr_init, target, warmup_t)
    return join_schedules([ramp, main if prefix else shift(main, -warmup_t)], [warmup_t])


def _finish(
    fn: str,
    schedule: Schedule,
    learning_rate: Any,
    warmup_t: Any,
    warmup_lr_init: Any,
    zero_differs: bool,
    t_in_epochs: Any,
    steps_per_epoch: Any,
    noise: tuple[Any, ...],
) -> Schedule:
    """What timm's loop adds to `_get_lr`: the constructor's rate at t = 0 (where `zero_differs`
    without warmup), the noise, and per-epoch stepping."""
    if zero_differs and (is_traced(warmup_t) or int(warmup_t) == 0):
        # with a warmup, the constructor's rate warmup_lr_init is `_get_lr(0)` already
        start = jnp.where(jnp.asarray(warmup_t) > 0, warmup_lr_init, learning_rate)
        schedule = join_schedules([constant_schedule(start), shift(schedule, -1)], [1])
    factor = _noise_factor(fn, *noise)
    if factor is not None:
        schedule = schedule * factor
    if as_flag(fn, "t_in_epochs", t_in_epochs):
        if steps_per_epoch is None:
            raise ValueError(
                f"{fn}: steps_per_epoch must be given with t_in_epochs=True (timm steps this schedule "
                "once per epoch); pass t_in_epochs=False for a schedule in updates"
            )
        _count(fn, "steps_per_epoch", steps_per_epoch, 1)
        schedule = per_epoch(schedule, steps_per_epoch)
    return schedule


def _common(fn: str, learning_rate: Any, warmup_t: Any, warmup_lr_init: Any) -> None:
    _real(fn, "learning_rate", learning_rate)
    _count(fn, "warmup_t", warmup_t)
    _real(fn, "warmup_lr_init", warmup_lr_init)


# --------------------------------------------------------------------------------------------------
# the schedulers


def _cycle_scheduler(fn: str, shape: Callable[[Any], Schedule], a: dict[str, Any]) -> Schedule:
    """The body shared by `CosineLRScheduler` and `PolyLRScheduler` (`a`: their arguments): the cycles
    of `shape`, the warmup (a prefix or not), then the loop's step 0, the noise and `per_epoch`."""
    main = _cycles(
        fn,
        shape,
        a["learning_rate"],
        a["lr_min"],
        a["t_initial"],
        a["cycle_mul"],
        a["cycle_decay"],
        a["cycle_limit"],
    )
    prefix = as_flag(fn, "warmup_prefix", a["warmup_prefix"])
    schedule = _with_warmup(main, a["warmup_t"], a["warmup_lr_init"], a["learning_rate"], prefix)
    noise = tuple(
        a[k] for k in ("noise_range_t", "noise_type", "noise_pct", "noise_std", "noise_seed", "key")
    )
    zero_differs = _is_zero(a["cycle_limit"])
    return _finish(
        fn,
        schedule,
        a["learning_rate"],
        a["warmup_t"],
        a["warmup_lr_init"],
        zero_differs,
        a["t_in_epochs"],
        a["steps_per_epoch"],
        noise,
    )


def CosineLRScheduler(
    learning_rate: jax.typing.ArrayLike,
    t_initial: int,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: int | Sequence[int] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    k_decay: float = 1.0,
    *,
    steps_per_epoch: int | None = None,
    noise_type: str = "normal",
    key: jax.Array | None = None,
) -> Schedule:
    """timm's `CosineLRScheduler`: cosine cycles (SGDR) with a linear warmup.

    timm: `CosineLRScheduler(optimizer, t_initial, lr_min=0., cycle_mul=1., cycle_decay=1.,
    cycle_limit=1, warmup_t=0, warmup_lr_init=0., warmup_prefix=False, t_in_epochs=True,
    noise_range_t=None, noise_pct=0.67, noise_std=1.0, noise_seed=42, k_decay=1.0, initialize=True)`.

    `_get_lr(t)`: for t < warmup_t, `warmup_lr_init + t · (learning_rate − warmup_lr_init) /
    warmup_t`; then, with t' = t − warmup_t if warmup_prefix else t, in cycle i of t' (cycle i lasts
    t_initial · cycle_mul^i) at position t_curr of t_i: `lr_min + ½(learning_rate · cycle_decay^i −
    lr_min)(1 + cos(π · t_curr / t_i))` while i < cycle_limit, then lr_min. The default
    (cycle_limit=1) is one cosine from learning_rate to lr_min over t_initial, lr_min after.

    Translation: `repeat(cosine_decay_schedule(...), t_initial, cycle_mul, cycle_decay)` plus the
    non-decaying floor (see `_cycles`), joined to `constant_schedule(lr_min)` at the first step of cycle
    cycle_limit, behind a `linear_schedule` warmup (read at t, through `shift`, when the warmup is not
    a prefix); then the loop's step 0, the noise and `per_epoch` as in the module docstring.

    `k_decay` = k other than 1 reads the cosine on a warped clock, `cos(π · t_curr^k / t_i^k)`: the
    cycle's shape is `time_warp(cosine_decay_schedule(...), t_initial, k)`, stretched with its cycle.

    Example:
      >>> s = CosineLRScheduler(1.0, t_initial=100, lr_min=0.1, warmup_t=10, t_in_epochs=False)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 50, 100, 500)]
      [0.0, 0.5, 0.977975, 0.55, 0.1, 0.1]
      >>> s = CosineLRScheduler(1.0, t_initial=10, steps_per_epoch=100)  # per epoch
      >>> [round(float(s(t)), 6) for t in (0, 99, 100, 500)]
      [1.0, 1.0, 0.975528, 0.5]
    """
    fn = "CosineLRScheduler"
    _common(fn, learning_rate, warmup_t, warmup_lr_init)
    _real(fn, "lr_min", lr_min)
    _count(fn, "t_initial", t_initial, 1)
    _real(fn, "k_decay", k_decay)
    check(fn, "k_decay", k_decay, "> 0", lambda a: a > 0)
    warped = is_traced(k_decay) or float(k_decay) != 1

    def shape(v):
        cosine = cosine_decay_schedule(v, t_initial)
        return time_warp(cosine, t_initial, k_decay) if warped else cosine

    return _cycle_scheduler(fn, shape, locals())


def TanhLRScheduler(
    learning_rate: jax.typing.ArrayLike,
    t_initial: int,
    lb: float = -7.0,
    ub: float = 3.0,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: int | Sequence[int] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    *,
    steps_per_epoch: int | None = None,
    noise_type: str = "normal",
    key: jax.Array | None = None,
) -> Schedule:
    """timm's `TanhLRScheduler`: hyperbolic-tangent decay cycles with a linear warmup.

    timm: `TanhLRScheduler(optimizer, t_initial, lb=-7., ub=3., lr_min=0., cycle_mul=1.,
    cycle_decay=1., cycle_limit=1, warmup_t=0, warmup_lr_init=0., warmup_prefix=False,
    t_in_epochs=True, noise_range_t=None, noise_pct=0.67, noise_std=1.0, noise_seed=42,
    initialize=True)`.

    `_get_lr(t)`: cycles as in `CosineLRScheduler`, inside cycle i at tr = t_curr / t_i:
    `lr_min + ½(learning_rate · cycle_decay^i − lr_min)(1 − tanh(lb · (1 − tr) + ub · tr))`. The warmup
    ends on learning_rate with warmup_prefix, and on `_get_lr(warmup_t)` without (timm computes its
    slope so). Translation: `repeat(tanh_decay(..., lower=lb, upper=ub), ...)` as in
    `CosineLRScheduler`; without prefix the warmup is `warmup(..., shift=False)`. Without warmup the
    loop's rate at t = 0 is learning_rate itself, not `_get_lr(0)` (1 − 8e-7 of it with the default lb).

    Example:
      >>> s = TanhLRScheduler(1.0, t_initial=100, t_in_epochs=False)
      >>> [round(float(s(t)), 6) for t in (0, 1, 70, 99, 100)]
      [1.0, 0.999999, 0.5, 0.003018, 0.0]
    """
    fn = "TanhLRScheduler"
    _common(fn, learning_rate, warmup_t, warmup_lr_init)
    _real(fn, "lr_min", lr_min)
    _count(fn, "t_initial", t_initial, 1)
    check(fn, "ub", ub, f"> lb = {lb!r}", lambda a, lo: a > lo, (lb,))
    main = _cycles(
        fn,
        lambda v: tanh_decay(v, t_initial, 0.0, lb, ub),
        learning_rate,
        lr_min,
        t_initial,
        cycle_mul,
        cycle_decay,
        cycle_limit,
    )
    if as_flag(fn, "warmup_prefix", warmup_prefix):
        schedule = _with_warmup(main, warmup_t, warmup_lr_init, learning_rate, True)
    elif _is_zero(warmup_t):
        schedule = main
    else:
        schedule = warmup(main, warmup_t, init_value=warmup_lr_init, shift=False)
    noise = (noise_range_t, noise_type, noise_pct, noise_std, noise_seed, key)
    return _finish(
        fn, schedule, learning_rate, warmup_t, warmup_lr_init, True, t_in_epochs, steps_per_epoch, noise
    )


def PolyLRScheduler(
    learning_rate: jax.typing.ArrayLike,
    t_initial: int,
    power: float = 0.5,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: int | Sequence[int] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    k_decay: float = 1.0,
    *,
    steps_per_epoch: int | None = None,
    noise_type: str = "normal",
    key: jax.Array | None = None,
) -> Schedule:
    """timm's `PolyLRScheduler`: polynomial decay cycles (with k-decay) and a linear warmup.

    timm: `PolyLRScheduler(optimizer, t_initial, power=0.5, lr_min=0., cycle_mul=1., cycle_decay=1.,
    cycle_limit=1, warmup_t=0, warmup_lr_init=0., warmup_prefix=False, t_in_epochs=True,
    noise_range_t=None, noise_pct=0.67, noise_std=1.0, noise_seed=42, k_decay=1.0, initialize=True)`.

    `_get_lr(t)`: cycles as in `CosineLRScheduler`, inside cycle i:
    `lr_min + (learning_rate · cycle_decay^i − lr_min)(1 − t_curr^k / t_i^k)^power`, k = k_decay.
    Translation: `repeat(k_decay(..., k=k_decay, power=power), ...)` as in `CosineLRScheduler`.

    Example:
      >>> s = PolyLRScheduler(1.0, t_initial=100, power=2.0, t_in_epochs=False)
      >>> [round(float(s(t)), 6) for t in (0, 50, 99, 100)]
      [1.0, 0.25, 0.0001, 0.0]
    """
    fn = "PolyLRScheduler"
    _common(fn, learning_rate, warmup_t, warmup_lr_init)
    _real(fn, "lr_min", lr_min)
    _count(fn, "t_initial", t_initial, 1)
    check(fn, "power", power, ">= 0", lambda a: a >= 0)
    check(fn, "k_decay", k_decay, "> 0", lambda a: a > 0)
    return _cycle_scheduler(fn, lambda v: k_decay_schedule(v, t_initial, 0.0, k_decay, power), locals())


def StepLRScheduler(
    learning_rate: jax.typing.ArrayLike,
    decay_t: float,
    decay_rate: float = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = True,
    t_in_epochs: bool = True,
    noise_range_t: int | Sequence[int] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    *,
    steps_per_epoch: int | None = None,
    noise_type: str = "normal",
    key: jax.Array | None = None,
) -> Schedule:
    """timm's `StepLRScheduler`: multiply the rate by `decay_rate` every `decay_t`, after a warmup.

    timm: `StepLRScheduler(optimizer, decay_t, decay_rate=1., warmup_t=0, warmup_lr_init=0.,
    warmup_prefix=True, t_in_epochs=True, noise_range_t=None, noise_pct=0.67, noise_std=1.0,
    noise_seed=42, initialize=True)`.

    `_get_lr(t)`: the warmup (to learning_rate) for t < warmup_t, then
    `learning_rate · decay_rate ^ (t' // decay_t)`, t' = t − warmup_t if warmup_prefix (the default
    here) else t. Translation: `step_decay(learning_rate, decay_rate, decay_t)` behind the warmup.
    A fractional decay_t (timm types it as a float) = n / d, read as the decimal it was written as,
    is `per_epoch(step_decay(learning_rate, decay_rate, 1), n, ticks=d)`: floor(t · d / n) drops,
    exact integer arithmetic.

    Example:
      >>> s = StepLRScheduler(1.0, decay_t=30, decay_rate=0.5, warmup_t=10, t_in_epochs=False)
      >>> [float(s(t)) for t in (0, 5, 10, 39, 40, 70)]
      [0.0, 0.5, 1.0, 1.0, 0.5, 0.25]
    """
    fn = "StepLRScheduler"
    _common(fn, learning_rate, warmup_t, warmup_lr_init)
    _real(fn, "decay_t", decay_t)
    check(fn, "decay_t", decay_t, "> 0", lambda a: a > 0)
    if is_traced(decay_t) or float(decay_t) == int(float(decay_t)):
        main = step_decay(learning_rate, decay_rate, decay_t if is_traced(decay_t) else int(float(decay_t)))
    else:
        # the drops at multiples of n / d steps: floor(t · d / n)
        every = Fraction(repr(float(decay_t))).limit_denominator(10**6)
        main = per_epoch(step_decay(learning_rate, decay_rate, 1), every.numerator, ticks=every.denominator)
    prefix = as_flag(fn, "warmup_prefix", warmup_prefix)
    schedule = _with_warmup(main, warmup_t, warmup_lr_init, learning_rate, prefix)
    noise = (noise_range_t, noise_type, noise_pct, noise_std, noise_seed, key)
    return _finish(
        fn, schedule, learning_rate, warmup_t, warmup_lr_init, False, t_in_epochs, steps_per_epoch, noise
    )


def MultiStepLRScheduler(
    learning_rate: jax.typing.ArrayLike,
    decay_t: Sequence[int],
    decay_rate: float = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = True,
    t_in_epochs: bool = True,
    noise_range_t: int | Sequence[int] | None = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    *,
    steps_per_epoch: int | None = None,
    noise_type: str = "normal",
    key: jax.Array | None = None,
) -> Schedule:
    """timm's `MultiStepLRScheduler`: multiply the rate by `decay_rate` at each milestone.

    timm: `MultiStepLRScheduler(optimizer, decay_t, decay_rate=1., warmup_t=0, warmup_lr_init=0.,
    warmup_prefix=True, t_in_epochs=True, noise_range_t=None, noise_pct=0.67, noise_std=1.0,
    noise_seed=42, initialize=True)`.

    `_get_lr(t)`: the warmup for t < warmup_t, then `learning_rate · decay_rate ^
    bisect_right(decay_t, t' + 1)`, t' = t − warmup_t if warmup_prefix else t: timm's convention
    applies milestone m at t' = m − 1, one step before PyTorch's `MultiStepLR`. Translation:
    `multistep_decay(learning_rate, [max(m − 1, 0) for m in decay_t], decay_rate)` behind the warmup.
    decay_t is sorted, as timm assumes.

    Example:
      >>> s = MultiStepLRScheduler(1.0, decay_t=[30, 60], decay_rate=0.1, t_in_epochs=False)
      >>> [round(float(s(t)), 6) for t in (0, 28, 29, 58, 59)]
      [1.0, 1.0, 0.1, 0.1, 0.01]
    """
    fn = "MultiStepLRScheduler"
    _common(fn, learning_rate, warmup_t, warmup_lr_init)
    if is_traced(decay_t):
        boundaries = jnp.maximum(jnp.asarray(decay_t) - 1, 0)
        zero_differs = True
    else:
        steps = as_leaf(fn, "decay_t", decay_t, "int", sequence=True)
        if steps.ndim != 1:
            fail(fn, "decay_t", "a sequence of integer milestones", decay_t)
        boundaries = [max(int(m) - 1, 0) for m in np.asarray(steps)]
        zero_differs = any(b == 0 for b in boundaries)
    main = multistep_decay(learning_rate, boundaries, decay_rate)
    prefix = as_flag(fn, "warmup_prefix", warmup_prefix)
    schedule = _with_warmup(main, warmup_t, warmup_lr_init, learning_rate, prefix)
    noise = (noise_range_t, noise_type, noise_pct, noise_std, noise_seed, key)
    return _finish(
        fn,
        schedule,
        learning_rate,
        warmup_t,
        warmup_lr_init,
        zero_differs,
        t_in_epochs,
        steps_per_epoch,
        noise,
    )


def PlateauLRScheduler(
    learning_rate: jax.typing.ArrayLike,
    decay_rate: float = 0.1,
    patience_t: int = 10,
    threshold: float = 1e-4,
    cooldown_t: int = 0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    lr_min: float = 0.0,
    mode: str = "max",
    noise_range_t: int | Sequence[int] | None = None,
    noise_type: str = "normal",
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int | None = None,
    *,
    steps_per_epoch: int,
    key: jax.Array | None = None,
) -> optax.GradientTransformationExtraArgs:
    """timm's `PlateauLRScheduler`: a gradient transformation, to chain after an optimizer whose rate
    is `learning_rate`: `optax.chain(optax.sgd(learning_rate), PlateauLRScheduler(learning_rate, ...,
    steps_per_epoch=n))`, called as `update(updates, state, params, value=metric)`.

    timm: `PlateauLRScheduler(optimizer, decay_rate=0.1, patience_t=10, threshold=1e-4, cooldown_t=0,
    warmup_t=0, warmup_lr_init=0., lr_min=0., mode='max', noise_range_t=None, noise_type='normal',
    noise_pct=0.67, noise_std=1.0, noise_seed=None, initialize=True)` (deprecated in timm): PyTorch's
    `ReduceLROnPlateau(patience=patience_t, factor=decay_rate, threshold=threshold,
    cooldown=cooldown_t, mode=mode, min_lr=lr_min)` stepped with the epoch's metric at the end of each
    epoch, after a per-epoch linear warmup from warmup_lr_init to learning_rate (during which the
    metrics are ignored), with noise on top from epoch warmup_t + 1.

    Translation, per update (an epoch is `steps_per_epoch` updates, its metric the mean of the values
    passed during it): the updates are multiplied by the warmup's and the noise's factor (relative to
    learning_rate, per epoch) and by `reduce_on_plateau`'s scale, which starts after the warmup's
    updates (`optax.transforms.conditionally_transform`); `lr_min` becomes `min_scale = lr_min /
    learning_rate` and PyTorch's eps (1e-8) `1e-8 / learning_rate`. Timing: the update that completes
    an epoch already uses the new scale; timm's lr changes from the next epoch's first update. The
    plateau state is readable with `optax_lrs.hyperparams`.

    Example:
      >>> import jax.numpy as jnp
      >>> tx = PlateauLRScheduler(0.1, decay_rate=0.5, patience_t=0, mode="min", steps_per_epoch=2)
      >>> state = tx.init(jnp.zeros(1))
      >>> for loss in (1.0, 1.0, 2.0, 2.0):
      ...     updates, state = tx.update(jnp.ones(1), state, value=loss)
      >>> float(updates[0])
      0.5
    """
    fn = "PlateauLRScheduler"
    _common(fn, learning_rate, warmup_t, warmup_lr_init)
    check(fn, "learning_rate", learning_rate, "> 0", lambda a: a > 0)
    _real(fn, "lr_min", lr_min)
    check(fn, "lr_min", lr_min, ">= 0", lambda a: a >= 0)
    _count(fn, "steps_per_epoch", steps_per_epoch, 1)
    if is_traced((learning_rate, lr_min)):
        min_scale, eps = jnp.minimum(jnp.asarray(lr_min) / learning_rate, 1.0), 1e-8 / learning_rate
    else:
        min_scale, eps = min(float(lr_min) / float(learning_rate), 1.0), 1e-8 / float(learning_rate)
    plateau = reduce_on_plateau(
        factor=decay_rate,
        patience=patience_t,
        mode=mode,
        threshold=threshold,
        cooldown=cooldown_t,
        min_scale=min_scale,
        eps=eps,
        accumulation_size=steps_per_epoch,
    )
    start = jnp.asarray(warmup_t) * steps_per_epoch
    plateau = optax.transforms.conditionally_transform(plateau, lambda count: count >= start)
    factor = None
    if not _is_zero(warmup_t):
        factor = linear_schedule(warmup_lr_init / learning_rate, 1.0, warmup_t)
    noise = _noise_factor(
        fn, noise_range_t, noise_type, noise_pct, noise_std, 42 if noise_seed is None else noise_seed, key,
        first=warmup_t + 1,
    )  # fmt: skip
    if noise is not None:
        factor = noise if factor is None else factor * noise
    if factor is None:
        return plateau
    return optax.chain(optax.scale_by_schedule(per_epoch(factor, steps_per_epoch)), plateau)
