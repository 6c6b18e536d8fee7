"""Momentum that moves against the learning rate: PyTorch's `cycle_momentum` of `OneCycleLR` and
`CyclicLR` as schedules for optax's `momentum` (SGD) or `b1` (Adam).

Both are the learning-rate curves of `_cyclic` with other end values, evaluated by the same helpers
(`one_cycle_curve`, `cyclic_curve`): momentum is low where the learning rate is high.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optax_lrs import _math as m
from optax_lrs._base import Schedule, check, check_choice, float_leaf, int_leaf, register, static
from optax_lrs._cyclic import ANNEAL, CYCLIC_MODES, cyclic_curve, one_cycle_curve


def _momenta(base: jax.Array, peak: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The two momenta, clamped to [0, 1] (only traced values can be outside: the output stays finite)."""
    return jnp.clip(base, 0.0, 1.0), jnp.clip(peak, 0.0, 1.0)


def _check_momenta(fn: str, base_momentum: jax.typing.ArrayLike, max_momentum: jax.typing.ArrayLike) -> None:
    for name, v in (("base_momentum", base_momentum), ("max_momentum", max_momentum)):
        check(fn, name, v, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))


class _OneCycleMomentum(Schedule):
    name = "one_cycle_momentum"
    total_steps: jax.Array = int_leaf()
    pct_start: jax.Array = float_leaf()
    anneal: str = static()
    base_momentum: jax.Array = float_leaf()
    max_momentum: jax.Array = float_leaf()
    three_phase: bool = static()

    def value(self, t):
        base, peak = _momenta(self.base_momentum, self.max_momentum)
        values = (peak, base, peak, peak) if self.three_phase else (peak, base, peak)
        return one_cycle_curve(t, self.total_steps, self.pct_start, self.anneal, values)


@register()
def one_cycle_momentum(
    total_steps: jax.typing.ArrayLike,
    pct_start: jax.typing.ArrayLike = 0.3,
    anneal: str = "cos",
    base_momentum: jax.typing.ArrayLike = 0.85,
    max_momentum: jax.typing.ArrayLike = 0.95,
    three_phase: bool = False,
) -> Schedule:
    """The momentum of the one-cycle policy: PyTorch `OneCycleLR(cycle_momentum=True)`'s SGD
    `momentum` / Adam `betas[0]` for each of `total_steps` updates.

    It mirrors `one_cycle_schedule`: max_momentum → base_momentum while the learning rate rises (until
    step pct_start·T − 1), then base_momentum → max_momentum while it falls (until T − 1), annealing
    along a half cosine ("cos": end + (start − end)·½(1 + cos(π·pct))) or linearly ("linear"), pct
    the progress through the phase. With `three_phase`: max → base until pct_start·T − 1, base → max
    until 2·pct_start·T − 2, then max_momentum until T − 1. Past T − 1 it holds its last value (torch
    raises there). The phase ends are torch's float steps.

    Use it with the matching `one_cycle_schedule` (same total_steps, pct_start, anneal, three_phase):
    `optax.inject_hyperparams(optax.sgd)(learning_rate=lr, momentum=mom)` or
    `optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=mom)`.

    Args:
      total_steps: > 0 (torch `total_steps`).
      pct_start: in (0, 1), the fraction of the steps spent lowering the momentum.
      anneal: "cos" or "linear" (torch `anneal_strategy`).
      base_momentum: in [0, 1], the momentum at the learning rate's peak.
      max_momentum: in [0, 1], the momentum at the start and the end.
      three_phase: torch's `three_phase`.

    Example:
      >>> mom = one_cycle_momentum(101, pct_start=0.5, anneal="linear", base_momentum=0.8)
      >>> [round(float(mom(t)), 6) for t in (0, 49.5, 100, 1000)]
      [0.95, 0.8, 0.95, 0.95]
    """
    fn = "one_cycle_momentum"
    check_choice(fn, "anneal", anneal, tuple(ANNEAL))
    check(fn, "total_steps", total_steps, "> 0", lambda a: a > 0)
    check(fn, "pct_start", pct_start, "in (0, 1)", lambda a: (a > 0) & (a < 1))
    _check_momenta(fn, base_momentum, max_momentum)
    return _OneCycleMomentum.from_args(fn, locals())


class _CyclicMomentum(Schedule):
    name = "cyclic_momentum"
    step_size_up: jax.Array = int_leaf()
    step_size_down: jax.Array = int_leaf()
    base_momentum: jax.Array = float_leaf()
    max_momentum: jax.Array = float_leaf()
    mode: str = static()
    gamma: jax.Array = float_leaf()

    def restart_index(self, t):
        return m.floordiv_sum(t, self.step_size_up, self.step_size_down)[0]

    def value(self, t):
        base, peak = _momenta(self.base_momentum, self.max_momentum)
        # the learning rate's curve with its ends exchanged: from max_momentum towards base_momentum
        return cyclic_curve(t, peak, base, self.step_size_up, self.step_size_down, self.mode, self.gamma)


@register()
def cyclic_momentum(
    step_size_up: jax.typing.ArrayLike,
    step_size_down: jax.typing.ArrayLike | None = None,
    base_momentum: jax.typing.ArrayLike = 0.8,
    max_momentum: jax.typing.ArrayLike = 0.9,
    mode: str = "triangular",
    gamma: jax.typing.ArrayLike = 1.0,
) -> Schedule:
    """The momentum of Smith's cyclical learning rate: PyTorch `CyclicLR(cycle_momentum=True)`'s SGD
    `momentum` / Adam `betas[0]`.

    It mirrors `cyclic_schedule`: each cycle falls linearly from max_momentum towards base_momentum
    over step_size_up steps (while the learning rate rises), then returns over step_size_down steps:
    value(t) = max − (max − base)·f(t)·scale, f the triangle wave in [0, 1] (0 at the start of each
    cycle, 1 at step_size_up into it). scale is 1 ("triangular"), 1/2^cycle ("triangular2", the dip
    halves every cycle) or gamma^t ("exp_range"), torch's `scale_mode` of each mode. The phase is
    integer arithmetic, exact for every int32 step.

    Use it with the matching `cyclic_schedule` (same step sizes, mode and gamma):
    `optax.inject_hyperparams(optax.sgd)(learning_rate=lr, momentum=mom)` or
    `optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=mom)`.

    Args:
      step_size_up: > 0, the steps of the momentum's descent (the learning rate's rise).
      step_size_down: > 0, or None for step_size_up.
      base_momentum: in [0, 1], the lowest momentum.
      max_momentum: in [0, 1], the momentum at the start of every cycle.
      mode: "triangular", "triangular2" or "exp_range".
      gamma: in [0, 1], for "exp_range".

    Example:
      >>> mom = cyclic_momentum(4, base_momentum=0.8, max_momentum=0.9, mode="triangular2")
      >>> [round(float(mom(t)), 6) for t in (0, 2, 4, 8, 12)]
      [0.9, 0.85, 0.8, 0.9, 0.85]
    """
    fn = "cyclic_momentum"
    check_choice(fn, "mode", mode, CYCLIC_MODES)
    check(fn, "step_size_up", step_size_up, "> 0", lambda a: a > 0)
    check(fn, "step_size_down", step_size_down, "> 0", lambda a: a > 0)
    check(fn, "gamma", gamma, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    _check_momenta(fn, base_momentum, max_momentum)
    if step_size_down is None:
        step_size_down = step_size_up
    return _CyclicMomentum.from_args(fn, locals())
