"""Warmup: the `warmup` wrapper (any schedule, five ramp modes) and optax's warmup drop-ins."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optax_lrs import _math as m
from optax_lrs._base import (
    Schedule,
    check,
    check_choice,
    child,
    float_leaf,
    int_leaf,
    register,
    static,
)
from optax_lrs._compose import as_schedule
from optax_lrs._decay import _Polynomial

_MODES = ("linear", "cosine", "exponential", "constant", "scale")


class _Warmup(Schedule):
    name = "warmup"
    schedule: Schedule = child()
    warmup_steps: jax.Array = int_leaf()
    init_value: jax.Array = float_leaf()
    mode: str = static()
    shift: bool = static()

    def restart_index(self, t):
        w = self.warmup_steps
        inner = jnp.maximum(t - w, 0) if self.shift else t
        return jnp.where(t < w, 0, self.schedule.restart_index(inner))

    def value(self, t):
        w = self.warmup_steps
        inner = jnp.maximum(t - w, 0) if self.shift else t
        after = m.fl(self.schedule(inner))
        target = m.fl(self.schedule(jnp.zeros((), w.dtype) if self.shift else w))
        pct = m.progress(t, w)
        init = self.init_value
        if self.mode == "linear":
            ramp = m.lerp(init, target, pct)
        elif self.mode == "cosine":
            ramp = m.cos_interp(init, target, pct)
        elif self.mode == "exponential":
            safe_init = jnp.maximum(init, jnp.finfo(pct.dtype).tiny)
            ramp = safe_init * m.safe_pow(jnp.maximum(target, 0.0) / safe_init, pct)
        elif self.mode == "constant":
            ramp = jnp.broadcast_to(init, pct.shape)
        else:  # scale
            ramp = m.fl(self.schedule(t)) * pct
        return jnp.where(t < w, ramp, after)


@register()
def warmup(
    schedule: Schedule,
    warmup_steps: jax.typing.ArrayLike,
    init_value: jax.typing.ArrayLike = 0.0,
    mode: str = "linear",
    shift: bool = True,
) -> Schedule:
    """Prepend a warmup of `warmup_steps` steps to any schedule.

    With `shift=True` the schedule starts after the warmup (step t reads `schedule(t − warmup_steps)`)
    and the ramp ends at `schedule(0)`; with `shift=False` the warmup overlays the schedule's own first
    steps (t reads `schedule(t)`) and the ramp ends at `schedule(warmup_steps)`. For t < warmup_steps,
    with p = t / warmup_steps and target the value the schedule takes over at:

    - "linear": init_value + (target − init_value) · p (MXNet `warmup_mode='linear'`);
    - "cosine": init_value + (target − init_value) · ½(1 − cos(π p));
    - "exponential": init_value · (target / init_value) ^ p (needs init_value > 0);
    - "constant": init_value (MXNet `warmup_mode='constant'`);
    - "scale": schedule(t) · p, the ramp of PyTorch-Encoding's `LR_Scheduler` (use `shift=False`
      there, as it does: then the value is continuous at the end of the warmup).

    Args:
      schedule: a Schedule or any callable of the step.
      warmup_steps: >= 0 (0 is the schedule itself, shifted by nothing).
      init_value: value at step 0.
      mode: one of "linear", "cosine", "exponential", "constant", "scale".
      shift: whether the schedule starts after the warmup.

    Example:
      >>> from optax_lrs import cosine_decay_schedule
      >>> s = warmup(cosine_decay_schedule(1.0, 100), warmup_steps=10)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 60)]
      [0.0, 0.5, 1.0, 0.5]
    """
    fn = "warmup"
    check_choice(fn, "mode", mode, _MODES)
    check(fn, "warmup_steps", warmup_steps, ">= 0", lambda a: a >= 0)
    if mode == "exponential":
        check(fn, "init_value", init_value, "> 0 with mode='exponential'", lambda a: a > 0)
    schedule = as_schedule(fn, "schedule", schedule)
    return _Warmup.from_args(fn, locals())


# --------------------------------------------------------------------------------------------------


class _WarmupConstant(_Polynomial):
    """optax builds it as `linear_schedule(init_value, peak_value, warmup_steps)`."""

    name = "warmup_constant_schedule"

    def params(self):
        return {
            "init_value": self.init_value,
            "peak_value": self.end_value,
            "warmup_steps": self.transition_steps,
        }


@register()
def warmup_constant_schedule(
    init_value: jax.typing.ArrayLike,
    peak_value: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike,
) -> Schedule:
    """Linear warmup then constant, drop-in for `optax.warmup_constant_schedule`.

    Linear from init_value to peak_value over warmup_steps, then peak_value. As in optax (a
    `linear_schedule` underneath), `warmup_steps <= 0` gives the constant init_value.

    Example:
      >>> s = warmup_constant_schedule(0.0, 1.0, 4)
      >>> [float(s(t)) for t in (0, 2, 4, 100)]
      [0.0, 0.5, 1.0, 1.0]
    """
    fn = "warmup_constant_schedule"
    args = dict(init_value=init_value, end_value=peak_value, power=1.0, transition_steps=warmup_steps)
    rename = {"end_value": "peak_value", "transition_steps": "warmup_steps"}
    return _WarmupConstant.from_args(fn, {**args, "transition_begin": 0}, rename)


class _WarmupExponential(Schedule):
    name = "warmup_exponential_decay_schedule"
    init_value: jax.Array = float_leaf()
    peak_value: jax.Array = float_leaf()
    warmup_steps: jax.Array = int_leaf()
    transition_steps: jax.Array = int_leaf()
    decay_rate: jax.Array = float_leaf()
    transition_begin: jax.Array = int_leaf()
    staircase: bool = static()
    end_value: jax.Array | None = float_leaf()

    def value(self, t):
        warm = m.polynomial(t, self.init_value, self.peak_value, 1.0, self.warmup_steps, 0)
        decay = m.exponential(
            t - self.warmup_steps,
            self.peak_value,
            self.transition_steps,
            self.decay_rate,
            self.transition_begin,
            self.staircase,
            self.end_value,
        )
        return jnp.where(t < self.warmup_steps, warm, decay)


@register()
def warmup_exponential_decay_schedule(
    init_value: jax.typing.ArrayLike,
    peak_value: jax.typing.ArrayLike,
    warmup_steps: jax.typing.ArrayLike,
    transition_steps: jax.typing.ArrayLike,
    decay_rate: jax.typing.ArrayLike,
    transition_begin: jax.typing.ArrayLike = 0,
    staircase: bool = False,
    end_value: jax.typing.ArrayLike | None = None,
) -> Schedule:
    """Linear warmup then exponential decay, drop-in for `optax.warmup_exponential_decay_schedule`.

    For t < warmup_steps: linear from init_value to peak_value. Then
    `exponential_decay(peak_value, transition_steps, decay_rate, transition_begin, staircase,
    end_value)` at step t − warmup_steps (optax's fallbacks included).

    Example:
      >>> s = warmup_exponential_decay_schedule(0.0, 1.0, 10, transition_steps=10, decay_rate=0.5)
      >>> [float(s(t)) for t in (0, 5, 10, 20)]
      [0.0, 0.5, 1.0, 0.5]
    """
    fn = "warmup_exponential_decay_schedule"
    check(fn, "decay_rate", decay_rate, ">= 0", lambda a: a >= 0)
    return _WarmupExponential.from_args(fn, locals())
