"""Benchmark 6: a hyperparameter grid sharded over 8 devices with `NamedSharding`, vs one device.

Runs in a subprocess with `XLA_FLAGS=--xla_force_host_platform_device_count=8` on the CPU backend (the
flag must be set before jax starts), unless the parent's backend already has 8 or more devices, in which
case those are used. The grid's member axis is split over a 1-D mesh; the curve of every member must equal
the single-device result to within 8 float32 ulps (whether it is bit-equal is reported too: the
per-device programs are compiled for other shapes, and XLA's vector and scalar code may round the last
ulps of a transcendental or a fused multiply-add differently).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

DEVICES = 8
ULPS = 8


def _child(quick: bool) -> list[dict]:
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    from optax_lrs.benchmarks._timing import compare, record

    import optax_lrs as lrs

    members = 1024
    steps = jnp.arange(2_000 if quick else 10_000, dtype=jnp.int32)
    g = lrs.grid(
        lrs.warmup_cosine_decay_schedule,
        init_value=[0.0],
        peak_value=list(np.geomspace(1e-4, 1e-1, 8)),
        warmup_steps=list(range(0, 1600, 200)),
        decay_steps=list(range(2000, 10_000, 500)),
    )
    mesh = Mesh(np.array(jax.devices()[:DEVICES]), ("grid",))
    sharded = jax.device_put(g, NamedSharding(mesh, PartitionSpec("grid")))
    single = jax.device_put(g, jax.devices()[0])
    curves = jax.jit(lambda g: jax.vmap(lambda s: s(steps))(g))
    out_sharded, out_single = curves(sharded), curves(single)
    spread = len(out_sharded.sharding.device_set)
    spread_out, one_out = np.asarray(out_sharded), np.asarray(out_single)
    same = bool(np.array_equal(spread_out, one_out))
    # XLA compiles the per-device programs for other shapes and vector widths: a few float32 ulps
    # may differ (sin/cos and fused multiply-adds), never more
    err = np.abs(spread_out - one_out) / np.maximum(np.abs(one_out), np.finfo(np.float32).tiny)
    rel = float(np.max(err))
    close = rel <= ULPS * np.finfo(np.float32).eps
    o, b = compare(lambda: curves(sharded), lambda: curves(single), reps=7)
    note = (
        f"output spread over {spread} devices; bit-equal to one device: {same}; "
        f"within {ULPS} float32 ulps of it: {close} (max relative difference {rel:.2g}); "
        f"{os.cpu_count()} CPU cores"
    )
    return [
        record(
            "devices",
            f"warmup_cosine grid {members} x {steps.shape[0]:,} steps over {DEVICES} devices",
            o,
            "1 device",
            b,
            note=note,
        )
    ]


def run(quick: bool) -> list[dict]:
    import jax

    env = dict(os.environ)
    if len(jax.devices()) < DEVICES:
        env["XLA_FLAGS"] = env.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={DEVICES}"
        env["JAX_PLATFORMS"] = "cpu"
    cmd = [sys.executable, "-m", "optax_lrs.benchmarks.devices", "--child"] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"devices benchmark subprocess failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(_child("--quick" in sys.argv)))
