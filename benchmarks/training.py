"""Benchmark 4: what a schedule adds to a training step.

A jitted `lax.scan` of 50 adam updates of a small MLP (64 -> 256 -> 256 -> 10, batch 256): with a
composite schedule of ours, and with optax's warmup-cosine, each against the same loop at a constant
learning rate.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

import optax_lrs as lrs

from ._timing import compare, record

SIZES = (64, 256, 256, 10)


def _init(key):
    params = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        w = jax.random.normal(jax.random.fold_in(key, i), (a, b)) / jnp.sqrt(a)
        params.append((w, jnp.zeros(b)))
    return params


def _loss(params, x, y):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return optax.softmax_cross_entropy_with_integer_labels(x @ w + b, y).mean()


def trainer(learning_rate, steps: int = 50):
    """A jitted function running `steps` adam updates from `params` on one batch; returns the losses."""
    opt = optax.adam(learning_rate)

    def run(params, x, y):
        def step(carry, _):
            params, state = carry
            loss, grads = jax.value_and_grad(_loss)(params, x, y)
            updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), loss

        _, losses = jax.lax.scan(step, (params, opt.init(params)), None, length=steps)
        return losses

    return jax.jit(run)


def composite() -> lrs.Schedule:
    """Warmup-cosine and step decay, averaged, floored, shifted: several composition layers."""
    mix = 0.5 * lrs.warmup_cosine_decay_schedule(0.0, 1e-3, 10, 50) + 0.5 * lrs.step_decay(1e-3, 0.5, 10)
    return lrs.shift(lrs.clip(mix, min_value=1e-5), 5)


def run(quick: bool) -> list[dict]:
    key = jax.random.PRNGKey(0)
    args = (_init(key), jax.random.normal(key, (256, SIZES[0])), jax.random.randint(key, (256,), 0, 10))
    constant = trainer(1e-3)
    reps = 15 if quick else 41
    out = []
    for case, lr, who in [
        ("composite schedule (0.5 warmup-cosine + 0.5 step decay, clipped, shifted)", composite(), "ours"),
        ("warmup_cosine_decay_schedule", lrs.warmup_cosine_decay_schedule(0.0, 1e-3, 10, 50), "ours"),
        (
            "optax warmup_cosine_decay_schedule",
            optax.warmup_cosine_decay_schedule(0.0, 1e-3, 10, 50),
            "optax",
        ),
    ]:
        o, b = compare(trainer(lr), constant, args, reps=reps, budget_s=30.0)
        out.append(
            record(
                "training_step",
                f"adam MLP, scan of 50 steps: {case}",
                o,
                "constant learning rate",
                b,
                note=f"schedule from {who}",
            )
        )
    return out
