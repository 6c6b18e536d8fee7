"""The TensorFlow Object Detection API's learning-rate functions by their own names:
`exponential_decay_with_burnin` and `cosine_decay_with_warmup` from
`object_detection/utils/learning_schedules.py`.

The originals take `global_step` as their first argument and return the rate at that step; these take
every other argument, with the same names and defaults, and return an ordinary optax_lrs `Schedule`
of the step (built from the core schedules, so it jits, vmaps over every hyperparameter and
round-trips through `to_config`). `global_step` is the number of updates already applied (0 on the
first update, as TF's global step is read before it is incremented): optax's count, so `schedule(t)`
is the original's value at `global_step=t`.
"""

from __future__ import annotations

import jax

from optax_lrs._base import Schedule, as_flag, as_leaf, check
from optax_lrs._cosine import warmup_hold_cosine_decay
from optax_lrs._decay import exponential_decay_with_burnin as _exponential_decay_with_burnin

__all__ = ["cosine_decay_with_warmup", "exponential_decay_with_burnin"]


def _real(fn: str, param: str, value: jax.typing.ArrayLike) -> jax.typing.ArrayLike:
    """`value` unchanged, after checking that it is a real number (finite in the float dtype)."""
    as_leaf(fn, param, value, "float")
    return value


def _steps(fn: str, param: str, value: jax.typing.ArrayLike, least: int) -> jax.typing.ArrayLike:
    """`value` unchanged, after checking that it is an integer step count >= least."""
    as_leaf(fn, param, value, "int")
    check(fn, param, value, f">= {least}", lambda a: a >= least)
    return value


def exponential_decay_with_burnin(
    learning_rate_base: jax.typing.ArrayLike,
    learning_rate_decay_steps: jax.typing.ArrayLike,
    learning_rate_decay_factor: jax.typing.ArrayLike,
    burnin_learning_rate: jax.typing.ArrayLike = 0.0,
    burnin_steps: jax.typing.ArrayLike = 0,
    min_learning_rate: jax.typing.ArrayLike = 0.0,
    staircase: bool = True,
) -> Schedule:
    """Exponential decay after a burn-in period at a fixed rate (TF Object Detection API).

    Original: `exponential_decay_with_burnin(global_step, learning_rate_base,
    learning_rate_decay_steps, learning_rate_decay_factor, burnin_learning_rate=0.0, burnin_steps=0,
    min_learning_rate=0.0, staircase=True)`, which returns

        max(where(global_step < burnin_steps, burnin_learning_rate,
                  tf.train.exponential_decay(learning_rate_base, global_step − burnin_steps,
                                             learning_rate_decay_steps,
                                             learning_rate_decay_factor, staircase)),
            min_learning_rate)

    with burnin_learning_rate = learning_rate_base when it is 0, that is
    `learning_rate_base · factor ^ ((t − burnin_steps) / learning_rate_decay_steps)` after the burn-in,
    the exponent floored when `staircase`. (The original's docstring says the decay steps include the
    burn-in; its code, followed here, counts them from the end of the burn-in.)

    Translation: `optax_lrs.exponential_decay_with_burnin(init_value=learning_rate_base,
    decay_steps=learning_rate_decay_steps, decay_rate=learning_rate_decay_factor,
    burnin_value=burnin_learning_rate, burnin_steps=burnin_steps, min_value=min_learning_rate,
    staircase=staircase)`.

    Args:
      learning_rate_base: the rate when the decay starts.
      learning_rate_decay_steps: an integer > 0.
      learning_rate_decay_factor: >= 0.
      burnin_learning_rate: the rate during the burn-in (0: learning_rate_base).
      burnin_steps: an integer >= 0.
      min_learning_rate: the floor.
      staircase: decay in discrete jumps.

    Example:
      >>> s = exponential_decay_with_burnin(0.1, 100, 0.5, burnin_learning_rate=0.01, burnin_steps=10)
      >>> [round(float(s(t)), 6) for t in (0, 9, 10, 109, 110, 10**6)]
      [0.01, 0.01, 0.1, 0.1, 0.05, 0.0]
    """
    fn = "exponential_decay_with_burnin"
    _real(fn, "learning_rate_base", learning_rate_base)
    _steps(fn, "learning_rate_decay_steps", learning_rate_decay_steps, 1)
    _real(fn, "learning_rate_decay_factor", learning_rate_decay_factor)
    check(fn, "learning_rate_decay_factor", learning_rate_decay_factor, ">= 0", lambda a: a >= 0)
    _real(fn, "burnin_learning_rate", burnin_learning_rate)
    _steps(fn, "burnin_steps", burnin_steps, 0)
    _real(fn, "min_learning_rate", min_learning_rate)
    return _exponential_decay_with_burnin(
        init_value=learning_rate_base,
        decay_steps=learning_rate_decay_steps,
        decay_rate=learning_rate_decay_factor,
        burnin_value=burnin_learning_rate,
        burnin_steps=burnin_steps,
        min_value=min_learning_rate,
        staircase=as_flag(fn, "staircase", staircase),
    )


def cosine_decay_with_warmup(
    learning_rate_base: jax.typing.ArrayLike,
    total_steps: jax.typing.ArrayLike,
    warmup_learning_rate: jax.typing.ArrayLike = 0.0,
    warmup_steps: jax.typing.ArrayLike = 0,
    hold_base_rate_steps: jax.typing.ArrayLike = 0,
) -> Schedule:
    """Linear warmup, an optional hold at the base rate, then cosine decay to 0 (TF Object Detection
    API).

    Original: `cosine_decay_with_warmup(global_step, learning_rate_base, total_steps,
    warmup_learning_rate=0.0, warmup_steps=0, hold_base_rate_steps=0)`, with W = warmup_steps,
    H = hold_base_rate_steps, T = total_steps:

        lr = 0.5 · learning_rate_base · (1 + cos(π · (t − W − H) / (T − W − H)))
        if H > 0: lr = where(t > W + H, lr, learning_rate_base)
        if W > 0: lr = where(t < W, warmup_learning_rate + slope · t, lr),
                  slope = (learning_rate_base − warmup_learning_rate) / W
        return where(t > T, 0.0, lr)

    Translation: `warmup_hold_cosine_decay(peak_value=learning_rate_base, total_steps=T,
    init_value=warmup_learning_rate, warmup_steps=W, hold_steps=H, end_value=0.0)`. At t = T the
    original's cosine is 0 already, and so is this schedule from T on.

    Args:
      learning_rate_base: the peak rate.
      total_steps: an integer > warmup_steps + hold_base_rate_steps. (The original accepts
        T <= W + H, a schedule without a decay phase: it divides by T − W − H = 0 or a negative
        number, holds learning_rate_base through step T, and returns NaN at t = T when H = 0. The core's
        `warmup_hold_cosine_decay` ends the hold at T, one step before the original does, so such
        values are a ValueError here.)
      warmup_learning_rate: the rate at step 0 of the warmup, <= learning_rate_base when W > 0 (as
        in the original).
      warmup_steps: an integer >= 0 (the original requires T >= W).
      hold_base_rate_steps: an integer >= 0.

    Example:
      >>> s = cosine_decay_with_warmup(1.0, 120, warmup_steps=10, hold_base_rate_steps=10)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 20, 70, 120, 200)]
      [0.0, 0.5, 1.0, 1.0, 0.5, 0.0, 0.0]
    """
    fn = "cosine_decay_with_warmup"
    _real(fn, "learning_rate_base", learning_rate_base)
    _steps(fn, "total_steps", total_steps, 1)
    _real(fn, "warmup_learning_rate", warmup_learning_rate)
    _steps(fn, "warmup_steps", warmup_steps, 0)
    _steps(fn, "hold_base_rate_steps", hold_base_rate_steps, 0)
    rule = (
        f"> warmup_steps + hold_base_rate_steps = {warmup_steps!r} + {hold_base_rate_steps!r} "
        "(a decay phase of at least one step)"
    )
    given = (warmup_steps, hold_base_rate_steps)
    check(fn, "total_steps", total_steps, rule, lambda a, w, h: a > w + h, given)
    rule = f">= warmup_learning_rate = {warmup_learning_rate!r} when warmup_steps > 0 (as in the original)"
    given = (warmup_learning_rate, warmup_steps)
    check(fn, "learning_rate_base", learning_rate_base, rule, lambda a, lo, w: (w <= 0) | (a >= lo), given)
    return warmup_hold_cosine_decay(
        peak_value=learning_rate_base,
        total_steps=total_steps,
        init_value=warmup_learning_rate,
        warmup_steps=warmup_steps,
        hold_steps=hold_base_rate_steps,
        end_value=0.0,
    )
