"""Piecewise interpolation and optax's one-cycle schedules built on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from optax_lrs import _math as m
from optax_lrs._base import (
    Schedule,
    as_leaf,
    check,
    check_choice,
    derived,
    float_leaf,
    int_dtype,
    int_leaf,
    is_traced,
    register,
    static,
)
from optax_lrs._decay import pairs, split_boundaries_and_scales

_INTERPOLATE = {"linear": m.lerp, "cosine": m.cos_interp}


def interpolate(t, kind, init_value, boundaries, scales):
    """optax's piecewise interpolation between the accumulated values `init·cumprod(scales)`, found
    with a binary search (O(log n)) instead of a dot product over every piece."""
    bounds = jnp.concatenate([jnp.zeros(1, boundaries.dtype), boundaries])
    values = init_value * jnp.cumprod(jnp.concatenate([jnp.ones(1, scales.dtype), scales]))
    n = boundaries.shape[-1]
    k = m.piecewise_index(t, bounds) - 1  # the last piece whose start is <= t
    k0 = jnp.clip(k, 0, max(n - 1, 0))
    k1 = jnp.minimum(k0 + 1, n)
    start = m.take(bounds, k0)
    pct = m.fl(t - start) / m.fl(m.at_least_one(m.take(bounds, k1) - start))
    inside = _INTERPOLATE[kind](m.take(values, k0), m.take(values, k1), pct)
    return jnp.where(k >= n, values[n], inside)


class _PiecewiseInterpolate(Schedule):
    name = "piecewise_interpolate_schedule"
    interpolate_type: str = static()
    init_value: jax.Array = float_leaf()
    boundaries: jax.Array = int_leaf()
    scales: jax.Array = float_leaf()

    def params(self):
        return {
            "interpolate_type": self.interpolate_type,
            "init_value": self.init_value,
            "boundaries_and_scales": pairs(self.boundaries, self.scales),
        }

    def value(self, t):
        return interpolate(t, self.interpolate_type, self.init_value, self.boundaries, self.scales)


@register(containers={"boundaries_and_scales": (dict, list, tuple)})
def piecewise_interpolate_schedule(
    interpolate_type: str,
    init_value: jax.typing.ArrayLike,
    boundaries_and_scales: Mapping[int, float] | Sequence[tuple[int, float]] | None = None,
) -> Schedule:
    """Piecewise interpolation, drop-in for `optax.piecewise_interpolate_schedule`.

    The values at the boundaries are `init_value` times the running product of the scales; between
    two boundaries the schedule interpolates linearly or along a half cosine, and after the last it
    holds the last value.

    Args:
      interpolate_type: "linear" or "cosine".
      init_value: value at step 0.
      boundaries_and_scales: `{step: scale}` (scales >= 0), or a list of `(step, scale)` pairs.

    Example:
      >>> s = piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.01})
      >>> [round(float(s(t)), 6) for t in (0, 2, 4, 6, 8, 10)]
      [1.0, 0.55, 0.1, 0.0505, 0.001, 0.001]
    """
    fn = "piecewise_interpolate_schedule"
    check_choice(fn, "interpolate_type", interpolate_type, tuple(_INTERPOLATE))
    bounds, scales = split_boundaries_and_scales(fn, boundaries_and_scales)
    return _PiecewiseInterpolate(
        interpolate_type, as_leaf(fn, "init_value", init_value, "float"), bounds, scales
    )


# --------------------------------------------------------------------------------------------------


def _fraction_of(fn, transition_steps, pcts):
    """`int(pct · transition_steps)` for each `(name, pct)` of `pcts`, as optax computes the one-cycle
    boundaries: in float64 when the arguments are concrete, in the traced float dtype otherwise. The
    arguments are checked as hyperparameters first."""
    steps = as_leaf(fn, "transition_steps", transition_steps, "int")
    fracs = [as_leaf(fn, name, p, "float") for name, p in pcts]
    raw = [p for _, p in pcts]
    if not is_traced((transition_steps, raw)):
        total = np.asarray(transition_steps, np.float64)
        ends = np.stack([np.floor(np.asarray(p, np.float64) * total) for p in raw], axis=-1)
        return as_leaf(fn, "transition_steps", ends, "int")
    return jnp.stack([jnp.floor(m.fl(p) * m.fl(steps)) for p in fracs], axis=-1).astype(int_dtype())


class _OneCycleBase(Schedule):
    """optax's one-cycles: piecewise interpolation with boundaries at `int(pct · transition_steps)`,
    kept as the derived leaf `phase_ends` (not a constructor argument)."""

    def interpolate(self, t, kind, scales):
        ends = self.phase_ends
        bounds = [ends[j] for j in range(ends.shape[-1])] + [self.transition_steps.astype(ends.dtype)]
        bounds, scales = _as_dict(bounds, [m.fl(s) for s in scales])
        init = self.peak_value / self.div_factor
        return interpolate(t, kind, init, jnp.stack(bounds), jnp.stack(scales))


def _as_dict(bounds, scales):
    """optax passes the phases as a dict `{boundary: scale}`: equal boundaries collapse into one entry
    holding the later scale. Traceable: a collapsed entry moves to the end as a zero-length piece
    with scale 1, which changes no value."""
    bounds, scales = list(bounds), list(scales)
    for i in range(len(bounds) - 2, -1, -1):
        same = bounds[i] == bounds[i + 1]
        merged_b = bounds[: i + 1] + bounds[i + 2 :] + [bounds[-1]]
        merged_s = scales[:i] + [scales[i + 1]] + scales[i + 2 :] + [jnp.ones_like(scales[0])]
        bounds = [jnp.where(same, mb, b) for mb, b in zip(merged_b, bounds)]
        scales = [jnp.where(same, ms, s) for ms, s in zip(merged_s, scales)]
    return bounds, scales


class _LinearOneCycle(_OneCycleBase):
    name = "linear_onecycle_schedule"
    transition_steps: jax.Array = int_leaf()
    peak_value: jax.Array = float_leaf()
    pct_start: jax.Array = float_leaf()
    pct_final: jax.Array = float_leaf()
    div_factor: jax.Array = float_leaf()
    final_div_factor: jax.Array = float_leaf()
    phase_ends: jax.Array = derived()

    def value(self, t):
        scales = [self.div_factor, 1.0 / self.div_factor, 1.0 / self.final_div_factor]
        return self.interpolate(t, "linear", scales)


@register()
def linear_onecycle_schedule(
    transition_steps: jax.typing.ArrayLike,
    peak_value: jax.typing.ArrayLike,
    pct_start: jax.typing.ArrayLike = 0.3,
    pct_final: jax.typing.ArrayLike = 0.85,
    div_factor: jax.typing.ArrayLike = 25.0,
    final_div_factor: jax.typing.ArrayLike = 1e4,
) -> Schedule:
    """Three linear phases, drop-in for `optax.linear_onecycle_schedule`.

    From peak/div_factor up to peak_value until int(pct_start·T), back down to peak/div_factor until
    int(pct_final·T), then down to peak/(div_factor·final_div_factor) at T = transition_steps.

    Example:
      >>> s = linear_onecycle_schedule(100, 1.0, pct_start=0.25, pct_final=0.75, div_factor=10.0)
      >>> [round(float(s(t)), 6) for t in (0, 25, 75)]
      [0.1, 1.0, 0.1]
    """
    fn = "linear_onecycle_schedule"
    check(fn, "transition_steps", transition_steps, "> 0", lambda a: a > 0)
    check(fn, "pct_start", pct_start, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    check(
        fn,
        "pct_final",
        pct_final,
        f"in [pct_start, 1] (pct_start = {pct_start!r})",
        lambda a, lo: (a >= lo) & (a <= 1),
        (pct_start,),
    )
    check(fn, "div_factor", div_factor, "> 0", lambda a: a > 0)
    check(fn, "final_div_factor", final_div_factor, "> 0", lambda a: a > 0)
    phase_ends = _fraction_of(fn, transition_steps, (("pct_start", pct_start), ("pct_final", pct_final)))
    return _LinearOneCycle.from_args(fn, locals())


class _CosineOneCycle(_OneCycleBase):
    name = "cosine_onecycle_schedule"
    transition_steps: jax.Array = int_leaf()
    peak_value: jax.Array = float_leaf()
    pct_start: jax.Array = float_leaf()
    div_factor: jax.Array = float_leaf()
    final_div_factor: jax.Array = float_leaf()
    phase_ends: jax.Array = derived()

    def value(self, t):
        scales = [self.div_factor, 1.0 / (self.div_factor * self.final_div_factor)]
        return self.interpolate(t, "cosine", scales)


@register()
def cosine_onecycle_schedule(
    transition_steps: jax.typing.ArrayLike,
    peak_value: jax.typing.ArrayLike,
    pct_start: jax.typing.ArrayLike = 0.3,
    div_factor: jax.typing.ArrayLike = 25.0,
    final_div_factor: jax.typing.ArrayLike = 1e4,
) -> Schedule:
    """One-cycle with cosine phases, drop-in for `optax.cosine_onecycle_schedule`.

    Cosine from peak/div_factor up to peak_value until int(pct_start·T), then cosine down to
    peak/(div_factor·final_div_factor) at T = transition_steps.

    Example:
      >>> s = cosine_onecycle_schedule(100, 1.0, pct_start=0.5, div_factor=10.0)
      >>> [round(float(s(t)), 6) for t in (0, 50)]
      [0.1, 1.0]
    """
    fn = "cosine_onecycle_schedule"
    check(fn, "transition_steps", transition_steps, "> 0", lambda a: a > 0)
    check(fn, "pct_start", pct_start, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    check(fn, "div_factor", div_factor, "> 0", lambda a: a > 0)
    check(fn, "final_div_factor", final_div_factor, "> 0", lambda a: a > 0)
    phase_ends = _fraction_of(fn, transition_steps, (("pct_start", pct_start),))
    return _CosineOneCycle.from_args(fn, locals())
