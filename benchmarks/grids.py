"""Benchmark 2: hyperparameter grids under `vmap`, and which hyperparameters optax can vmap at all.

Grids: 1024 configurations x 10k steps, ours (`optax_lrs.grid`, one batched schedule) vs the hand-written
broadcast formula taking the same hyperparameter arrays. Then, for every optax schedule and each of its
numeric hyperparameters, whether `jax.vmap` over that hyperparameter works in optax, and in ours.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax

import optax_lrs as lrs

from ._timing import compare, record


def _cos(p):
    return 0.5 * (1.0 + jnp.cos(jnp.pi * p))


def _restarts(t, init_value, first_decay_steps, t_mul, m_mul, alpha=0.0):
    """Keras's CosineDecayRestarts, as its documentation writes it, for broadcast arrays."""
    r = t / first_decay_steps
    geometric = t_mul != 1.0
    safe = jnp.where(geometric, t_mul, 2.0)
    i = jnp.where(geometric, jnp.floor(jnp.log(1.0 - r * (1.0 - safe)) / jnp.log(safe)), jnp.floor(r))
    start = jnp.where(geometric, (1.0 - safe**i) / (1.0 - safe), i)
    frac = jnp.where(geometric, (r - start) / safe**i, r - i)
    return init_value * ((1.0 - alpha) * m_mul**i * _cos(frac) + alpha)


def grids():
    """(case, constructor, axes, formula(t, **hyperparameter columns)) with 1024 members each."""
    return [
        (
            "cosine_decay_schedule",
            lrs.cosine_decay_schedule,
            dict(
                init_value=np.geomspace(1e-4, 1e-1, 8),
                decay_steps=np.linspace(1000, 10_000, 16).astype(int),
                alpha=np.linspace(0.0, 0.1, 8),
            ),
            lambda t, init_value, decay_steps, alpha: (
                init_value * ((1 - alpha) * _cos(jnp.minimum(t, decay_steps) / decay_steps) + alpha)
            ),
        ),
        (
            "warmup_cosine_decay_schedule",
            lrs.warmup_cosine_decay_schedule,
            dict(
                init_value=[0.0],
                peak_value=np.geomspace(1e-4, 1e-1, 8),
                warmup_steps=np.linspace(0, 1400, 8).astype(int),
                decay_steps=np.linspace(2000, 10_000, 16).astype(int),
            ),
            lambda t, init_value, peak_value, warmup_steps, decay_steps: jnp.where(
                t < warmup_steps,
                init_value + (peak_value - init_value) * t / jnp.maximum(warmup_steps, 1),
                peak_value * _cos(jnp.clip((t - warmup_steps) / (decay_steps - warmup_steps), 0, 1)),
            ),
        ),
        (
            "cosine_decay_restarts",
            lrs.cosine_decay_restarts,
            dict(
                init_value=np.geomspace(1e-3, 1e-1, 4),
                first_decay_steps=np.linspace(100, 1600, 16).astype(int),
                t_mul=[1.0, 1.5, 2.0, 3.0],
                m_mul=[1.0, 0.9, 0.7, 0.5],
            ),
            _restarts,
        ),
        (
            "step_decay",
            lrs.step_decay,
            dict(
                init_value=np.geomspace(1e-4, 1e-1, 8),
                decay_rate=np.linspace(0.3, 0.9, 8),
                decay_steps=np.linspace(500, 8000, 16).astype(int),
            ),
            lambda t, init_value, decay_rate, decay_steps: (
                init_value * decay_rate ** jnp.floor(t / decay_steps)
            ),
        ),
    ]


def _columns(axes):
    """The grid's hyperparameters as float32 columns of shape (members, 1), in `grid`'s order."""
    combos = np.array(list(itertools.product(*axes.values())), dtype=np.float64)
    return {k: jnp.asarray(combos[:, j : j + 1], jnp.float32) for j, k in enumerate(axes)}


def run_grids(quick: bool) -> list[dict]:
    steps = jnp.arange(10_000 if not quick else 4_000, dtype=jnp.int32)
    out = []
    for case, ctor, axes, formula in grids():
        g = lrs.grid(ctor, **{k: list(v) for k, v in axes.items()})
        cols = _columns(axes)
        ours = jax.jit(lambda g: jax.vmap(lambda s: s(steps))(g))
        hand = jax.jit(lambda c, f=formula: f(steps.astype(jnp.float32)[None, :], **c))
        o, b = compare(lambda f=ours, g=g: f(g), lambda f=hand, c=cols: f(c))
        diff = float(jnp.max(jnp.abs(ours(g) - hand(cols))))
        n = len(jax.tree_util.tree_leaves(g)[0])
        out.append(
            record(
                "vmap_grid",
                f"{case} ({n} x {steps.shape[0]:,} steps)",
                o,
                "formula",
                b,
                note=f"max |ours - formula| = {diff:.1e}",
            )
        )
    return out


# optax's schedules with a base configuration and three values for each numeric hyperparameter
OPTAX_HYPERPARAMETERS = {
    "constant_schedule": (dict(value=0.1), dict(value=[0.1, 0.2, 0.3])),
    "linear_schedule": (
        dict(init_value=0.1, end_value=0.0, transition_steps=1000, transition_begin=0),
        dict(
            init_value=[0.1, 0.2, 0.3],
            end_value=[0.0, 0.01, 0.02],
            transition_steps=[500, 1000, 2000],
            transition_begin=[0, 100, 200],
        ),
    ),
    "polynomial_schedule": (
        dict(init_value=0.1, end_value=0.0, power=2.0, transition_steps=1000, transition_begin=0),
        dict(
            init_value=[0.1, 0.2, 0.3],
            end_value=[0.0, 0.01, 0.02],
            power=[1.0, 2.0, 3.0],
            transition_steps=[500, 1000, 2000],
            transition_begin=[0, 100, 200],
        ),
    ),
    "exponential_decay": (
        dict(init_value=0.1, transition_steps=100, decay_rate=0.9, transition_begin=0, end_value=1e-3),
        dict(
            init_value=[0.1, 0.2, 0.3],
            transition_steps=[50, 100, 200],
            decay_rate=[0.5, 0.9, 0.99],
            transition_begin=[0, 100, 200],
            end_value=[1e-3, 1e-2, 2e-2],
        ),
    ),
    "cosine_decay_schedule": (
        dict(init_value=0.1, decay_steps=1000, alpha=0.0, exponent=1.0),
        dict(
            init_value=[0.1, 0.2, 0.3],
            decay_steps=[500, 1000, 2000],
            alpha=[0.0, 0.1, 0.2],
            exponent=[1.0, 2.0, 3.0],
        ),
    ),
    "warmup_constant_schedule": (
        dict(init_value=0.0, peak_value=0.1, warmup_steps=100),
        dict(init_value=[0.0, 0.01, 0.02], peak_value=[0.1, 0.2, 0.3], warmup_steps=[50, 100, 200]),
    ),
    "warmup_cosine_decay_schedule": (
        dict(init_value=0.0, peak_value=0.1, warmup_steps=100, decay_steps=1000, end_value=0.0, exponent=1.0),
        dict(
            init_value=[0.0, 0.01, 0.02],
            peak_value=[0.1, 0.2, 0.3],
            warmup_steps=[50, 100, 200],
            decay_steps=[500, 1000, 2000],
            end_value=[0.0, 1e-3, 1e-2],
            exponent=[1.0, 2.0, 3.0],
        ),
    ),
    "warmup_exponential_decay_schedule": (
        dict(
            init_value=0.0,
            peak_value=0.1,
            warmup_steps=100,
            transition_steps=100,
            decay_rate=0.9,
            transition_begin=0,
            end_value=1e-3,
        ),
        dict(
            init_value=[0.0, 0.01, 0.02],
            peak_value=[0.1, 0.2, 0.3],
            warmup_steps=[50, 100, 200],
            transition_steps=[50, 100, 200],
            decay_rate=[0.5, 0.9, 0.99],
            transition_begin=[0, 100, 200],
            end_value=[1e-3, 1e-2, 2e-2],
        ),
    ),
    "linear_onecycle_schedule": (
        dict(
            transition_steps=1000,
            peak_value=0.1,
            pct_start=0.3,
            pct_final=0.85,
            div_factor=25.0,
            final_div_factor=1e4,
        ),
        dict(
            transition_steps=[500, 1000, 2000],
            peak_value=[0.1, 0.2, 0.3],
            pct_start=[0.2, 0.3, 0.4],
            pct_final=[0.8, 0.85, 0.9],
            div_factor=[10.0, 25.0, 50.0],
            final_div_factor=[1e2, 1e3, 1e4],
        ),
    ),
    "cosine_onecycle_schedule": (
        dict(transition_steps=1000, peak_value=0.1, pct_start=0.3, div_factor=25.0, final_div_factor=1e4),
        dict(
            transition_steps=[500, 1000, 2000],
            peak_value=[0.1, 0.2, 0.3],
            pct_start=[0.2, 0.3, 0.4],
            div_factor=[10.0, 25.0, 50.0],
            final_div_factor=[1e2, 1e3, 1e4],
        ),
    ),
}


def _vmapped(make, base, param, steps):
    """A jitted function of the hyperparameter values: vmap over them of the curve over `steps`."""

    def curve(v):
        return jax.vmap(make(**{**base, param: v}))(steps)

    return jax.jit(jax.vmap(curve))


def run_vmap_table(quick: bool) -> list[dict]:
    steps = jnp.arange(2_000 if quick else 10_000, dtype=jnp.int32)
    out = []
    for name, (base, values) in OPTAX_HYPERPARAMETERS.items():
        for param, vs in values.items():
            v = jnp.asarray(np.resize(vs, 64))  # 64 configurations
            ours = _vmapped(getattr(lrs, name), base, param, steps)
            theirs = _vmapped(getattr(optax, name), base, param, steps)
            try:
                jax.block_until_ready(theirs(v))
                optax_result = "ok"
            except Exception as e:  # noqa: BLE001 - the failure itself is what is measured
                theirs, optax_result = None, type(e).__name__
            o, b = compare(ours, theirs, (v,), reps=5)
            out.append(
                record(
                    "vmap_hyperparameter",
                    f"{name}({param}) 64 x {steps.shape[0]:,}",
                    o,
                    "optax",
                    b,
                    note=f"optax: {optax_result}",
                )
            )
    return out


def run(quick: bool) -> list[dict]:
    return run_grids(quick) + run_vmap_table(quick)
