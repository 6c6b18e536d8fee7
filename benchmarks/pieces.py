"""Benchmark 3: scaling with the number of pieces: compile and evaluation time, ours vs optax.

optax builds one `where` (and one evaluation of every piece) per piece, so its cost grows linearly; ours
stacks pieces of one structure and looks the step's piece up (unrolled compares up to 64 pieces, a
binary search above), so the program does not grow with the number of pieces.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

import optax_lrs as lrs

from ._timing import compare, compile_time, record


def make(family: str, n: int, total: int):
    """(ours, optax's) schedule with `n` pieces covering `total` steps."""
    length = total // n
    bounds = [length * (k + 1) for k in range(n - 1)]
    if family == "sgdr_schedule":
        kw = [
            dict(
                init_value=0.0, peak_value=0.1, warmup_steps=length // 10, decay_steps=length, end_value=1e-4
            )
        ] * n
        return lrs.sgdr_schedule(kw), optax.sgdr_schedule(kw)
    if family == "join_schedules":
        inits = [0.1 * 0.99**k for k in range(n)]
        return (
            lrs.join_schedules([lrs.cosine_decay_schedule(v, length) for v in inits], bounds),
            optax.join_schedules([optax.cosine_decay_schedule(v, length) for v in inits], bounds),
        )
    scales = {b: 0.99 for b in bounds}
    if family == "piecewise_constant_schedule":
        return lrs.piecewise_constant_schedule(0.1, scales), optax.piecewise_constant_schedule(0.1, scales)
    if family == "multistep_decay":
        return lrs.multistep_decay(0.1, bounds, 0.99), optax.piecewise_constant_schedule(0.1, scales)
    raise ValueError(f"pieces.make: family must be a known family, got {family!r}")


FAMILIES = ("sgdr_schedule", "join_schedules", "piecewise_constant_schedule", "multistep_decay")


def run(quick: bool) -> list[dict]:
    total = 100_000 if quick else 1_000_000
    counts = (1, 10, 100, 400) if quick else (1, 10, 100, 400, 1000)
    steps = jnp.arange(total, dtype=jnp.int32)
    out = []
    for family in FAMILIES:
        one_piece = None
        for n in counts:
            ours, theirs = make(family, n, total)
            f_ours = jax.jit(lambda t, s=ours: s(t))
            f_optax = jax.jit(jax.vmap(theirs))  # optax's join takes scalar steps
            case = f"{family} {n} pieces ({total:,} steps)"
            o, b = compare(f_ours, f_optax, (steps,), reps=5, budget_s=10.0)
            diff = float(jnp.max(jnp.abs(f_ours(steps) - f_optax(steps))))
            out.append(
                record("pieces", f"{case} eval", o, "optax", b, note=f"max |ours - optax| = {diff:.1e}")
            )
            reps = 3 if n < 400 else 1
            oc = compile_time(lambda s=ours: lambda t: s(t), (steps,), reps)
            bc = compile_time(lambda s=theirs: jax.vmap(s), (steps,), reps)
            out.append(record("pieces", f"{case} compile", oc, "optax", bc))
            if n == 1:
                one_piece = o
            else:
                out.append(record("pieces", f"{case} eval", o, "ours, 1 piece", one_piece))
    return out
