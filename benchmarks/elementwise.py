"""Benchmark 1: one schedule over N steps under `jit`: ours vs optax, and ours vs the hand-written formula.

The formula is the practical limit: the same curve written directly in `jax.numpy` for float32 steps,
with the hyperparameters as constants, as a user would write it without any library.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

import optax_lrs as lrs

from ._timing import compare, record

PI = jnp.pi


def _cos_decay(p):
    return 0.5 * (1.0 + jnp.cos(PI * p))


def families(n: int):
    """(case, ours, optax, formula) for every family optax also has; decays last `n // 2` steps."""
    T = n // 2
    W = n // 20
    b = [T // 2, T, T + T // 2]

    def frac(t, begin, length):
        return jnp.clip((t - begin) / length, 0.0, 1.0)

    def onecycle_linear(t):
        # optax linear_onecycle: 0.3/0.85 of T, div 25, final div 1e4 (peak 0.1)
        e1, e2 = int(0.3 * T), int(0.85 * T)
        lo, fin = 0.1 / 25, 0.1 / 25 / 1e4
        a = lo + (0.1 - lo) * frac(t, 0, e1)
        c = 0.1 + (lo - 0.1) * frac(t, e1, e2 - e1)
        d = lo + (fin - lo) * frac(t, e2, T - e2)
        return jnp.where(t < e1, a, jnp.where(t < e2, c, d))

    def onecycle_cos(t):
        e1 = int(0.3 * T)
        lo, fin = 0.1 / 25, 0.1 / 25 / 1e4
        a = fin_interp(lo, 0.1, frac(t, 0, e1))
        c = fin_interp(0.1, fin, frac(t, e1, T - e1))
        return jnp.where(t < e1, a, c)

    def fin_interp(x, y, p):
        return y + (x - y) * _cos_decay(p)

    def sgdr(t):
        # three warmup-cosine cycles of T//3 steps (warmup W//3), 0 -> 0.1 -> 1e-4
        d, w = T // 3, W // 3
        k = jnp.minimum(t // d, 2)
        s = t - k * d
        warm = 0.1 * s / w
        dec = 1e-4 + (0.1 - 1e-4) * _cos_decay(jnp.clip((s - w) / (d - w), 0.0, 1.0))
        return jnp.where(s < w, warm, dec)

    sgdr_kwargs = [
        dict(init_value=0.0, peak_value=0.1, warmup_steps=W // 3, decay_steps=T // 3, end_value=1e-4)
    ] * 3
    bs = {b[0]: 0.5, b[1]: 0.5, b[2]: 0.1}
    return [
        (
            "constant",
            lrs.constant_schedule(0.1),
            optax.constant_schedule(0.1),
            lambda t: jnp.full(t.shape, 0.1, jnp.float32),
        ),
        (
            "linear",
            lrs.linear_schedule(0.1, 1e-3, T),
            optax.linear_schedule(0.1, 1e-3, T),
            lambda t: 0.1 + (1e-3 - 0.1) * frac(t, 0, T),
        ),
        (
            "polynomial",
            lrs.polynomial_schedule(0.1, 1e-3, 2.0, T, 1000),
            optax.polynomial_schedule(0.1, 1e-3, 2.0, T, 1000),
            lambda t: (0.1 - 1e-3) * (1 - frac(t, 1000, T)) ** 2 + 1e-3,
        ),
        (
            "exponential",
            lrs.exponential_decay(0.1, 1000, 0.999),
            optax.exponential_decay(0.1, 1000, 0.999),
            lambda t: 0.1 * 0.999 ** (t / 1000),
        ),
        (
            "exponential staircase",
            lrs.exponential_decay(0.1, 1000, 0.9, staircase=True),
            optax.exponential_decay(0.1, 1000, 0.9, staircase=True),
            lambda t: 0.1 * 0.9 ** jnp.floor(t / 1000),
        ),
        (
            "cosine",
            lrs.cosine_decay_schedule(0.1, T, alpha=0.01),
            optax.cosine_decay_schedule(0.1, T, 0.01),
            lambda t: 0.1 * (0.99 * _cos_decay(frac(t, 0, T)) + 0.01),
        ),
        (
            "warmup_constant",
            lrs.warmup_constant_schedule(0.0, 0.1, W),
            optax.warmup_constant_schedule(0.0, 0.1, W),
            lambda t: 0.1 * frac(t, 0, W),
        ),
        (
            "warmup_cosine",
            lrs.warmup_cosine_decay_schedule(0.0, 0.1, W, T, 1e-4),
            optax.warmup_cosine_decay_schedule(0.0, 0.1, W, T, 1e-4),
            lambda t: jnp.where(t < W, 0.1 * t / W, 1e-4 + (0.1 - 1e-4) * _cos_decay(frac(t, W, T - W))),
        ),
        (
            "warmup_exponential",
            lrs.warmup_exponential_decay_schedule(0.0, 0.1, W, 1000, 0.999),
            optax.warmup_exponential_decay_schedule(0.0, 0.1, W, 1000, 0.999),
            lambda t: jnp.where(t < W, 0.1 * t / W, 0.1 * 0.999 ** ((t - W) / 1000)),
        ),
        (
            "piecewise_constant",
            lrs.piecewise_constant_schedule(0.1, bs),
            optax.piecewise_constant_schedule(0.1, bs),
            lambda t: (
                0.1 * jnp.where(t < b[0], 1.0, jnp.where(t < b[1], 0.5, jnp.where(t < b[2], 0.25, 0.025)))
            ),
        ),
        (
            "piecewise_interpolate",
            lrs.piecewise_interpolate_schedule("linear", 0.1, bs),
            optax.piecewise_interpolate_schedule("linear", 0.1, bs),
            lambda t: jnp.where(
                t < b[0],
                0.1 - 0.05 * t / b[0],
                jnp.where(
                    t < b[1],
                    0.05 - 0.025 * (t - b[0]) / (b[1] - b[0]),
                    jnp.where(t < b[2], 0.025 - 0.0225 * (t - b[1]) / (b[2] - b[1]), 0.0025),
                ),
            ),
        ),
        (
            "linear_onecycle",
            lrs.linear_onecycle_schedule(T, 0.1),
            optax.linear_onecycle_schedule(T, 0.1),
            onecycle_linear,
        ),
        (
            "cosine_onecycle",
            lrs.cosine_onecycle_schedule(T, 0.1),
            optax.cosine_onecycle_schedule(T, 0.1),
            onecycle_cos,
        ),
        ("sgdr", lrs.sgdr_schedule(sgdr_kwargs), optax.sgdr_schedule(sgdr_kwargs), sgdr),
    ]


def run(quick: bool) -> list[dict]:
    n = 1_000_000 if quick else 10_000_000
    steps = jnp.arange(n, dtype=jnp.int32)
    out = []
    for case, ours, theirs, formula in families(n):
        f_ours = jax.jit(lambda t, s=ours: s(t))
        f_optax = jax.jit(jax.vmap(theirs))  # some optax schedules take scalar steps only
        f_formula = jax.jit(lambda t, f=formula: f(t.astype(jnp.float32)).astype(jnp.float32))
        label = f"{case} ({n:,} steps)"
        o, b = compare(f_ours, f_optax, (steps,))
        out.append(record("elementwise", label, o, "optax", b))
        o, b = compare(f_ours, f_formula, (steps,))
        diff = float(jnp.max(jnp.abs(f_ours(steps) - f_formula(steps))))
        out.append(record("elementwise", label, o, "formula", b, note=f"max |ours - formula| = {diff:.1e}"))
    return out
