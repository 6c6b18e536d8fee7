"""Benchmark 7: what the schedule-driven optax transforms add to an optimizer step.

A jitted `lax.scan` of adam steps (`opt.update` then `optax.apply_updates`) on the params of a small
MLP (64 -> 256 -> 256 -> 10, 85k parameters) with one fixed batch gradient, against the same loop with
the bare `optax.adam(1e-3)`:

- `optax.chain(adam, reduce_on_plateau(...))`, `value=` a precomputed noisy, flattening loss curve (so
  that the scale is reduced a few times along the loop); both loops scan over the same losses;
- `optax.chain(adam, scale_by_tree(...))`, a multiplier tree of numbers and an `optax_lrs` schedule;
- `optax.inject_hyperparams(optax.adam)(learning_rate=one_cycle_schedule, b1=one_cycle_momentum)`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

import optax_lrs as lrs

from ._timing import compare, record

SIZES = (64, 256, 256, 10)
LR = 1e-3


def _init(key) -> dict:
    names = [f"dense_{i}" for i in range(len(SIZES) - 2)] + ["head"]
    params = {}
    for i, (name, a, b) in enumerate(zip(names, SIZES[:-1], SIZES[1:])):
        w = jax.random.normal(jax.random.fold_in(key, i), (a, b)) / jnp.sqrt(a)
        params[name] = {"w": w, "b": jnp.zeros(b)}
    return params


def _loss(params, x, y):
    *body, head = params.values()
    for layer in body:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    logits = x @ head["w"] + head["b"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def losses(steps: int) -> jax.Array:
    """A loss curve that falls, then flattens out in noise: `reduce_on_plateau` reduces along it."""
    t = jnp.arange(steps, dtype=jnp.float32)
    noise = 0.05 * jax.random.normal(jax.random.PRNGKey(1), (steps,))
    return 0.5 + 2.0 * jnp.exp(-t / (0.1 * steps)) + noise


def stepper(opt: optax.GradientTransformation, plateau: bool = False):
    """A jitted function running one `opt` step per loss in `values` on a fixed gradient.

    Returns the final params and optimizer state. With `plateau` each update gets `value=` its loss;
    without, the losses are scanned over all the same and ignored.
    """

    def run(params, grads, values):
        def step(carry, value):
            params, state = carry
            if plateau:
                updates, state = opt.update(grads, state, params, value=value)
            else:
                updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), None

        (params, state), _ = jax.lax.scan(step, (params, opt.init(params)), values)
        return params, state

    return jax.jit(run)


def cases(steps: int, params: dict) -> list[tuple[str, optax.GradientTransformation, bool, str]]:
    multipliers = {
        "dense_0": 0.5,
        "dense_1": {"w": 1.0, "b": 2.0},
        "head": lrs.warmup_cosine_decay_schedule(0.0, 10.0, steps // 10, steps),
    }
    # the reduction path is taken: patience 5 epochs of 4 updates on a curve that flattens
    plateau = lrs.reduce_on_plateau(factor=0.5, patience=5, cooldown=2, accumulation_size=4)
    lr = lrs.one_cycle_schedule(LR, steps)
    b1 = lrs.one_cycle_momentum(steps)
    return [
        (
            "chain(adam, reduce_on_plateau(factor=0.5, patience=5, cooldown=2, accumulation_size=4)), "
            "value=loss",
            optax.chain(optax.adam(LR), plateau),
            True,
            "reduce_on_plateau",
        ),
        (
            "chain(adam, scale_by_tree({dense_0: 0.5, dense_1: {w: 1, b: 2}, head: warmup_cosine}))",
            optax.chain(optax.adam(LR), lrs.scale_by_tree(multipliers)),
            False,
            "scale_by_tree",
        ),
        (
            "inject_hyperparams(adam)(learning_rate=one_cycle_schedule, b1=one_cycle_momentum)",
            optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=b1),
            False,
            "inject_hyperparams with one_cycle schedules",
        ),
    ]


def run(quick: bool) -> list[dict]:
    key = jax.random.PRNGKey(0)
    params = _init(key)
    x = jax.random.normal(key, (256, SIZES[0]))
    y = jax.random.randint(key, (256,), 0, SIZES[-1])
    grads = jax.jit(jax.grad(_loss))(params, x, y)
    steps = 200 if quick else 1000
    reps = 15 if quick else 41
    args = (params, grads, losses(steps))
    bare = stepper(optax.adam(LR))
    n = sum(p.size for p in jax.tree.leaves(params))
    out = []
    for case, opt, plateau, what in cases(steps, params):
        o, b = compare(stepper(opt, plateau), bare, args, reps=reps, budget_s=30.0)
        out.append(
            record(
                "transform_step",
                f"adam MLP ({n:,} params), scan of {steps} steps: {case}",
                o,
                "bare optax.adam",
                b,
                note=f"transform from ours: {what}",
            )
        )
    return out
