"""Benchmark 5: eager call latency, a Python int step and no jit (logging, plotting, schedulers in loops)."""

from __future__ import annotations

import optax

import optax_lrs as lrs

from ._timing import per_call, record


def cases():
    return [
        (
            "cosine_decay_schedule",
            lrs.cosine_decay_schedule(0.1, 1000),
            optax.cosine_decay_schedule(0.1, 1000),
        ),
        (
            "warmup_cosine_decay_schedule",
            lrs.warmup_cosine_decay_schedule(0.0, 0.1, 100, 1000),
            optax.warmup_cosine_decay_schedule(0.0, 0.1, 100, 1000),
        ),
        (
            "piecewise_constant_schedule",
            lrs.piecewise_constant_schedule(0.1, {100: 0.5, 500: 0.1}),
            optax.piecewise_constant_schedule(0.1, {100: 0.5, 500: 0.1}),
        ),
        (
            "join_schedules (2 pieces)",
            lrs.join_schedules(
                [lrs.linear_schedule(0.0, 0.1, 100), lrs.cosine_decay_schedule(0.1, 900)], [100]
            ),
            optax.join_schedules(
                [optax.linear_schedule(0.0, 0.1, 100), optax.cosine_decay_schedule(0.1, 900)], [100]
            ),
        ),
    ]


def run(quick: bool) -> list[dict]:
    calls = 100 if quick else 400
    out = []
    for case, ours, theirs in cases():
        o = per_call(lambda s=ours: s(537), calls)
        b = per_call(lambda s=theirs: s(537), calls)
        out.append(record("eager_call", f"{case} at step 537", o, "optax", b))
    return out
