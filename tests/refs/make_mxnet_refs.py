"""Write `tests/refs/mxnet_1.9.1.json`: MXNet 1.9.1's learning rates for `optax_lrs.compat.mxnet`.

Run with a Python that has MXNet (it is not a dependency of optax_lrs; the tests read the JSON):

    python3 -m venv /tmp/mxvenv && /tmp/mxvenv/bin/pip install "mxnet==1.9.1" "numpy<1.24"
    /tmp/mxvenv/bin/python tests/refs/make_mxnet_refs.py

MXNet's schedulers are stateful (FactorScheduler and MultiFactorScheduler multiply their own `base_lr`
as updates pass their steps; PolyScheduler and CosineScheduler hold the last value computed), so each
set gets a fresh instance called as an MXNet optimizer calls it: num_update = 1, 2, ..., N (the
optimizer's update count is 1 on the first update, which this script checks on a real `SGD`), then a few
values far past the end, in increasing order.
"""

from __future__ import annotations

import json
import pathlib

OUT = pathlib.Path(__file__).with_name("mxnet_1.9.1.json")
FAR = [10**4, 10**6, 2**31 - 1]
# FactorScheduler walks to a far update one step at a time (a Python loop), so it stops at 10**6
FAR_FACTOR = [10**4, 10**5, 10**6]

B = 0.0731  # base_lr
W0 = 0.0123  # warmup_begin_lr
FIN = 0.0012  # final_lr

# (name, scheduler, kwargs, N): N sequential updates 1..N, then the far updates
SETS = [
    # seed 004's examples, over the 1000 updates its plots show
    ("seed004_factor", "FactorScheduler", dict(base_lr=1, step=250, factor=0.5), 1000),
    ("seed004_multifactor", "MultiFactorScheduler", dict(base_lr=1, step=[250, 750, 900], factor=0.5), 1000),
    ("seed004_poly", "PolyScheduler", dict(base_lr=1, final_lr=1e-3, max_update=800, pwr=2), 1000),
    ("seed004_cosine", "CosineScheduler", dict(base_lr=1, final_lr=1e-3, max_update=800), 1000),
    (
        "seed004_cosine_warmup",
        "CosineScheduler",
        dict(
            base_lr=1,
            final_lr=1e-3,
            max_update=800,
            warmup_steps=100,
            warmup_begin_lr=0,
            warmup_mode="linear",
        ),
        1000,
    ),
    # FactorScheduler
    ("factor_7", "FactorScheduler", dict(step=7, factor=0.83, base_lr=B), 150),
    ("factor_13_stop", "FactorScheduler", dict(step=13, factor=0.83, stop_factor_lr=0.02, base_lr=B), 150),
    (
        "factor_7_stop_warm5_linear",
        "FactorScheduler",
        dict(step=7, factor=0.83, stop_factor_lr=0.005, base_lr=B, warmup_steps=5, warmup_begin_lr=W0),
        150,
    ),
    # warmups longer than a step: the drops made during the warmup show when it ends
    (
        "factor_13_warm17_constant",
        "FactorScheduler",
        dict(step=13, factor=0.5, base_lr=B, warmup_steps=17, warmup_begin_lr=W0, warmup_mode="constant"),
        150,
    ),
    (
        "factor_7_warm17_linear_from0",
        "FactorScheduler",
        dict(step=7, factor=0.83, base_lr=B, warmup_steps=17, warmup_begin_lr=0, warmup_mode="linear"),
        150,
    ),
    ("factor_1_stop", "FactorScheduler", dict(step=1, factor=0.9, stop_factor_lr=1e-3, base_lr=B), 150),
    ("factor_default_1", "FactorScheduler", dict(step=7, base_lr=B), 60),
    ("factor_0", "FactorScheduler", dict(step=13, factor=0.0, base_lr=B), 60),
    ("factor_defaults", "FactorScheduler", dict(step=7), 60),
    # MultiFactorScheduler
    ("multi_4", "MultiFactorScheduler", dict(step=[5, 23, 61, 140], factor=0.83, base_lr=B), 160),
    ("multi_first_steps", "MultiFactorScheduler", dict(step=[1, 2, 30], factor=0.5, base_lr=B), 60),
    (
        "multi_warm17_linear",
        "MultiFactorScheduler",
        dict(step=[7, 13, 100], factor=0.83, base_lr=B, warmup_steps=17, warmup_begin_lr=W0),
        160,
    ),
    (
        "multi_warm5_constant",
        "MultiFactorScheduler",
        dict(
            step=[20, 50], factor=0.83, base_lr=B, warmup_steps=5, warmup_begin_lr=W0, warmup_mode="constant"
        ),
        100,
    ),
    (
        "multi_4_warm17_linear_from0",
        "MultiFactorScheduler",
        dict(step=[5, 23, 61, 140], factor=0.83, base_lr=B, warmup_steps=17),
        160,
    ),
    ("multi_defaults", "MultiFactorScheduler", dict(step=[3, 9]), 20),
    # PolyScheduler
    ("poly_1.7", "PolyScheduler", dict(max_update=211, base_lr=B, pwr=1.7, final_lr=FIN), 240),
    ("poly_0.5", "PolyScheduler", dict(max_update=211, base_lr=B, pwr=0.5), 240),
    (
        "poly_default_warm5_linear",
        "PolyScheduler",
        dict(max_update=211, base_lr=B, warmup_steps=5, warmup_begin_lr=W0),
        240,
    ),
    (
        "poly_1.7_warm17_constant",
        "PolyScheduler",
        dict(
            max_update=211,
            base_lr=B,
            pwr=1.7,
            final_lr=FIN,
            warmup_steps=17,
            warmup_begin_lr=W0,
            warmup_mode="constant",
        ),
        240,
    ),
    (
        "poly_0.5_warm17_linear_from0",
        "PolyScheduler",
        dict(max_update=211, base_lr=B, pwr=0.5, final_lr=FIN, warmup_steps=17),
        240,
    ),
    ("poly_pwr0", "PolyScheduler", dict(max_update=23, base_lr=B, pwr=0, final_lr=FIN), 40),
    ("poly_max1", "PolyScheduler", dict(max_update=1, base_lr=B, pwr=1.7, final_lr=FIN), 10),
    (
        "poly_max_warm_plus1",
        "PolyScheduler",
        dict(max_update=18, base_lr=B, pwr=1.7, final_lr=FIN, warmup_steps=17, warmup_begin_lr=W0),
        30,
    ),
    ("poly_defaults", "PolyScheduler", dict(max_update=37), 50),
    # CosineScheduler
    ("cosine", "CosineScheduler", dict(max_update=211, base_lr=B, final_lr=FIN), 240),
    ("cosine_final0", "CosineScheduler", dict(max_update=211, base_lr=B), 240),
    (
        "cosine_warm5_linear",
        "CosineScheduler",
        dict(max_update=211, base_lr=B, final_lr=FIN, warmup_steps=5, warmup_begin_lr=W0),
        240,
    ),
    (
        "cosine_warm17_constant",
        "CosineScheduler",
        dict(max_update=211, base_lr=B, warmup_steps=17, warmup_begin_lr=W0, warmup_mode="constant"),
        240,
    ),
    (
        "cosine_warm17_linear_from0",
        "CosineScheduler",
        dict(max_update=211, base_lr=B, final_lr=FIN, warmup_steps=17),
        240,
    ),
    ("cosine_max1", "CosineScheduler", dict(max_update=1, base_lr=B, final_lr=FIN), 10),
    (
        "cosine_max_warm_plus1",
        "CosineScheduler",
        dict(max_update=18, base_lr=B, final_lr=FIN, warmup_steps=17, warmup_begin_lr=W0),
        30,
    ),
    ("cosine_defaults", "CosineScheduler", dict(max_update=37), 50),
    # stop_factor_lr above base_lr: base_lr until the first drop, then stop_factor_lr
    (
        "factor_stop_above_base",
        "FactorScheduler",
        dict(step=13, factor=0.83, stop_factor_lr=0.0917, base_lr=B),
        60,
    ),
    (
        "factor_stop_above_base_warm",
        "FactorScheduler",
        dict(step=7, factor=0.5, stop_factor_lr=0.0917, base_lr=B, warmup_steps=11, warmup_begin_lr=W0),
        40,
    ),
    # max_update below warmup_steps: the decay never runs, base_lr after the warmup
    (
        "poly_max_below_warm",
        "PolyScheduler",
        dict(max_update=9, base_lr=B, pwr=1.7, final_lr=FIN, warmup_steps=17, warmup_begin_lr=W0),
        40,
    ),
    (
        "cosine_max_below_warm",
        "CosineScheduler",
        dict(max_update=3, base_lr=B, final_lr=FIN, warmup_steps=13, warmup_mode="constant"),
        40,
    ),
]


def optimizer_update_counts(mx):
    """The num_update values an MXNet optimizer passes to its scheduler on its first three updates."""
    seen = []

    class Recorder(mx.lr_scheduler.LRScheduler):
        def __call__(self, num_update):
            seen.append(num_update)
            return self.base_lr

    opt = mx.optimizer.SGD(learning_rate=0.1, lr_scheduler=Recorder())
    weight, grad = mx.nd.ones((2,)), mx.nd.ones((2,))
    state = opt.create_state(0, weight)
    for _ in range(3):
        opt.update(0, weight, grad, state)
    return seen


def main() -> None:
    import mxnet as mx

    assert mx.__version__ == "1.9.1", mx.__version__
    counts = optimizer_update_counts(mx)
    assert counts == [1, 2, 3], counts
    sets = []
    for name, cls, kwargs, n in SETS:
        sched = getattr(mx.lr_scheduler, cls)(**kwargs)  # fresh: the schedulers are stateful
        far = FAR_FACTOR if cls == "FactorScheduler" else FAR
        updates = list(range(1, n + 1)) + far
        lrs = [float(f"{sched(u):.12g}") for u in updates]
        sets.append(dict(name=name, scheduler=cls, kwargs=kwargs, num_updates=updates, lrs=lrs))
    header = dict(
        mxnet_version=mx.__version__,
        generated_by="tests/refs/make_mxnet_refs.py",
        optimizer_num_updates=counts,
    )
    # one set per line: compact, and a diff shows which set changed
    lines = [json.dumps(s, separators=(",", ":")) for s in sets]
    text = json.dumps(header, separators=(",", ":"))[:-1] + ',"sets":[\n' + ",\n".join(lines) + "\n]}\n"
    json.loads(text)
    OUT.write_text(text)
    print(f"wrote {len(sets)} sets to {OUT}")


if __name__ == "__main__":
    main()
