"""Benchmark 8: a learning-rate sweep, the headline number.

A warmup-cosine sweep over peak learning rates x warmup lengths (K = 4, 16, 64 configurations: 2x2, 4x4,
8x8) training adam on scikit-learn's bundled digits (an MLP 64 -> 64 -> 10, minibatches of 128, 300 steps),
three ways:

- ours: the K schedules are one batched `warmup_cosine_decay_schedule` (`optax_lrs.grid`) and the sweep is
  one `jax.jit(jax.vmap(train))(grid)`: one compile for all K;
- optax, a jit per configuration: `optax.warmup_cosine_decay_schedule` branches on `warmup_steps` in Python
  (a vmap over it raises `TracerBoolConversionError`), so each configuration is its own program;
- optax with `inject_hyperparams`: the peak value, injected as adam's learning rate (a float optax can vmap)
  times the schedule at peak 1, so each warmup length is one `jax.jit(jax.vmap(train))(peaks)`; the warmup
  lengths still take one compile each, since `warmup_steps` stays a Python int.

Each is timed from scratch (trace, compile and run, with fresh functions so that nothing comes from jax's
caches) and in steady state (the compiled programs run again), in repetitions that interleave the three.
The final losses (the mean loss over all 1797 digits after training) are compared between the three.

    python -m optax_lrs.benchmarks.sweep benchmarks/results/cpu_sweep.json -o docs/sweep.png

draws the figure from the records `optax-lrs bench --only sweep --out ...` wrote.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import optax_lrs as lrs

from ._timing import record

BATCH = 128
HIDDEN = 64
OURS = "ours, one jit(vmap) for the sweep"
PER_CONFIG = "optax, a jit per configuration"
INJECT = "optax inject_hyperparams, a jit per warmup length"


def axes(k: int, steps: int) -> tuple[list[float], list[int]]:
    """Peak values and warmup lengths of a k-configuration sweep (sqrt(k) of each)."""
    n = int(round(k**0.5))
    if n * n != k:
        raise ValueError(f"sweep.axes: k must be a square, got {k}")
    peaks = [float(p) for p in np.geomspace(0.00173, 0.0291, n)]
    warmups = [int(w) for w in np.linspace(0.023 * steps, 0.41 * steps, n)]
    return peaks, warmups


def data(steps: int, seed: int = 0) -> tuple:
    """(x, y, minibatch indices (steps, BATCH), initial params): the same for every configuration."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(steps, BATCH), dtype=np.int32)
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    params = {
        "w1": jax.random.normal(k1, (64, HIDDEN)) * (2 / 64) ** 0.5,
        "b1": jnp.zeros(HIDDEN),
        "w2": jax.random.normal(k2, (HIDDEN, 10)) * (1 / HIDDEN) ** 0.5,
        "b2": jnp.zeros(10),
    }
    return jnp.asarray(x / 16.0, jnp.float32), jnp.asarray(y, jnp.int32), jnp.asarray(idx), params


def make_train() -> Callable:
    """A fresh `train(opt, x, y, idx, params) -> final loss` (new function objects: no cache hits)."""

    def loss(params, x, y):
        h = jax.nn.relu(x @ params["w1"] + params["b1"])
        return optax.softmax_cross_entropy_with_integer_labels(h @ params["w2"] + params["b2"], y).mean()

    def train(opt, x, y, idx, params):
        def step(carry, i):
            params, state = carry
            grads = jax.grad(loss)(params, x[i], y[i])
            updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), None

        (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), idx)
        return loss(params, x, y)

    return train


def _timed(fn: Callable, *args) -> tuple[float, jax.Array]:
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0, out


def ours(k: int, steps: int, args: tuple) -> tuple[float, float, np.ndarray]:
    """(seconds from scratch, seconds compiled, final losses in grid order)."""
    peaks, warmups = axes(k, steps)
    train = make_train()
    t0 = time.perf_counter()
    grid = lrs.grid(
        lrs.warmup_cosine_decay_schedule,
        init_value=0.0,
        peak_value=peaks,
        warmup_steps=warmups,
        decay_steps=steps,
    )
    run = jax.jit(jax.vmap(lambda s, *a: train(optax.adam(s), *a), in_axes=(0, None, None, None, None)))
    losses = jax.block_until_ready(run(grid, *args))
    scratch = time.perf_counter() - t0
    compiled, _ = _timed(run, grid, *args)
    return scratch, compiled, np.asarray(losses)


def optax_per_config(k: int, steps: int, args: tuple) -> tuple[float, float, np.ndarray]:
    """Like `ours`, with one `jax.jit` (so one compile) per configuration."""
    peaks, warmups = axes(k, steps)
    train = make_train()
    scratch = compiled = 0.0
    losses = []
    for peak, warmup in itertools.product(peaks, warmups):
        t0 = time.perf_counter()
        sched = optax.warmup_cosine_decay_schedule(0.0, peak, warmup, steps)
        run = jax.jit(lambda *a, s=sched: train(optax.adam(s), *a))
        losses.append(jax.block_until_ready(run(*args)))
        scratch += time.perf_counter() - t0
        compiled += _timed(run, *args)[0]
    return scratch, compiled, np.asarray(losses)


def optax_inject(k: int, steps: int, args: tuple) -> tuple[float, float, np.ndarray]:
    """Like `ours`, with the peak value vmapped through `inject_hyperparams`: one jit per warmup length."""
    peaks, warmups = axes(k, steps)
    train = make_train()
    scratch = compiled = 0.0
    columns = []
    peak_array = jnp.asarray(peaks, jnp.float32)
    # optax's warmup_cosine_decay_schedule tests `peak_value == 0.0` in Python, so a traced peak raises
    # there too: the peak goes in as adam's injected learning rate, times the unit schedule (init and end
    # values are 0, so the schedule is linear in the peak). Injected b1, b2, eps would become float32
    # arrays (1 - b2 then rounds in float32, moving the final loss by ~2e-5): they stay static.
    inject = optax.inject_hyperparams(optax.adam, static_args=("b1", "b2", "eps", "eps_root"))
    for warmup in warmups:
        t0 = time.perf_counter()
        unit = optax.warmup_cosine_decay_schedule(0.0, 1.0, warmup, steps)

        def one(peak, *a, unit=unit):
            return train(optax.chain(inject(learning_rate=peak), optax.scale_by_schedule(unit)), *a)

        run = jax.jit(jax.vmap(one, in_axes=(0, None, None, None, None)))
        columns.append(jax.block_until_ready(run(peak_array, *args)))
        scratch += time.perf_counter() - t0
        compiled += _timed(run, peak_array, *args)[0]
    return scratch, compiled, np.stack(columns, axis=1).reshape(-1)  # grid order: peak-major


def median_repetition(ratios: Sequence[float]) -> int:
    """Index of the repetition whose ratio is the median (the upper middle one of an even count)."""
    return sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]


def _paired(
    case: str, ours_runs: list[float], base_runs: list[float], baseline: str, note: str, **extra
) -> dict:
    """One record over repetitions: the times of the median repetition (by ratio), every run kept."""
    ratios = [o / b for o, b in zip(ours_runs, base_runs)]
    mid = median_repetition(ratios)
    speed = sorted(1 / r for r in ratios)
    note += (
        f"; speed-up (optax / ours) min / median / max over {len(ratios)} repetitions: "
        f"{speed[0]:.3g} / {statistics.median(speed):.3g} / {speed[-1]:.3g}x"
    )
    rec = record("sweep", case, ours_runs[mid], baseline, base_runs[mid], note=note)
    rec.update(ours_runs=ours_runs, baseline_runs=base_runs, ratio_runs=ratios, **extra)
    return rec


def sweep(plan: Sequence[tuple[int, int]], steps: int, warmup: bool = True) -> list[dict]:
    """Records for each (k, repetitions) of `plan`: from scratch and compiled, against optax per
    configuration and optax with inject_hyperparams."""
    args = data(steps)
    ways = {OURS: ours, PER_CONFIG: optax_per_config, INJECT: optax_inject}
    if warmup:  # one configuration each, untimed: jax's and the libraries' first-use costs count for none
        for way in ways.values():
            way(1, steps, args)
    out = []
    for k, reps in plan:
        scratch: dict[str, list[float]] = {w: [] for w in ways}
        compiled: dict[str, list[float]] = {w: [] for w in ways}
        losses = {}
        for i in range(reps):
            names = list(ways)
            for name in names[i % 3 :] + names[: i % 3]:  # rotate the order: interleaved and fair
                s, c, losses[name] = ways[name](k, steps, args)
                scratch[name].append(s)
                compiled[name].append(c)
        n = int(round(k**0.5))
        compiles = {OURS: 1, PER_CONFIG: k, INJECT: n}
        # inject's losses against optax's own per-configuration ones too: vmapped, inject_hyperparams
        # fuses differently, and 300 adam steps at the highest peaks amplify that float32 rounding
        inject_vs_optax = float(np.max(np.abs(losses[INJECT] - losses[PER_CONFIG])))
        for base in (PER_CONFIG, INJECT):
            diff = float(np.max(np.abs(losses[OURS] - losses[base])))
            also = f"; max |optax inject - optax per configuration| = {inject_vs_optax:.1e}"
            for phase, runs in (("from scratch (trace, compile, run)", scratch), ("compiled", compiled)):
                out.append(
                    _paired(
                        f"K={k} ({n} peaks x {n} warmup lengths), adam on digits, {steps} steps: {phase}",
                        runs[OURS],
                        runs[base],
                        base,
                        note=f"compiles: ours 1, optax {compiles[base]}; final losses max |ours - optax| "
                        f"= {diff:.1e}" + (also if base == INJECT else ""),
                        k=k,
                        steps=steps,
                        phase="scratch" if phase.startswith("from") else "compiled",
                        compiles=compiles[base],
                        loss_diff=diff,
                        inject_vs_optax=inject_vs_optax,
                        final_loss=[float(np.min(losses[OURS])), float(np.max(losses[OURS]))],
                    )
                )
    return out


def run(quick: bool) -> list[dict]:
    # 64 compiles take minutes each time on 2 cores: K = 64 is measured once
    plan = [(4, 2), (16, 1)] if quick else [(4, 3), (16, 3), (64, 1)]
    return sweep(plan, steps=300)


def figure(records: list[dict], path: str) -> None:
    """Seconds for the whole sweep against K, from scratch and compiled: ours, optax per configuration,
    optax with inject_hyperparams (median of the repetitions, whiskers from min to max)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    recs = [r for r in records if r["benchmark"] == "sweep"]
    ks = sorted({r["k"] for r in recs})
    style = {
        OURS: ("tab:blue", "o", "optax_lrs: one jit(vmap(train))(grid), 1 compile"),
        PER_CONFIG: ("tab:red", "s", "optax: a jit per configuration, K compiles"),
        INJECT: ("tab:orange", "^", "optax + inject_hyperparams (peak vmapped): a jit per warmup length"),
    }
    fig, panels = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
    for ax, phase, title in zip(
        panels, ("scratch", "compiled"), ("from scratch: trace + compile + run", "compiled: run again")
    ):
        series: dict[str, dict[int, list[float]]] = {}
        for r in recs:
            if r["phase"] == phase:
                series.setdefault(r["baseline"], {})[r["k"]] = r["baseline_runs"]
                series.setdefault(OURS, {})[r["k"]] = r["ours_runs"]
        meds = {}
        for name, (colour, marker, label) in style.items():
            runs = [series[name][k] for k in ks]
            meds[name] = med = np.array([statistics.median(v) for v in runs])
            err = np.array([med - [min(v) for v in runs], [max(v) for v in runs] - med])
            ax.errorbar(ks, med, yerr=err, color=colour, marker=marker, capsize=3, label=label)
        for j, k in enumerate(ks):  # values stacked in their order at this K, so that labels do not overlap
            for dy, name in zip((-13, -2, 9), sorted(meds, key=lambda n: meds[n][j])):
                m = meds[name][j]
                ax.annotate(f"{m:.2g} s", (k, m), xytext=(7, dy), textcoords="offset points", fontsize=7)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlim(ks[0] / 1.4, ks[-1] * 1.6)
        ax.margins(y=0.1)
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("K, configurations in the sweep (peak values x warmup lengths)")
        ax.set_ylabel("seconds for the whole sweep")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    handles, labels = panels[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    head = f"Warmup-cosine sweep, adam on the digits MLP, {recs[0]['steps']} steps ({recs[0]['backend']})"
    headline = 16 if 16 in ks else ks[-1]  # the number
    (sixteen,) = [
        r for r in recs if r["k"] == headline and r["phase"] == "scratch" and r["baseline"] == PER_CONFIG
    ]
    head += (
        f"\nK = {sixteen['k']} from scratch: {statistics.median(sixteen['ours_runs']):.2g} s vs "
        f"{statistics.median(sixteen['baseline_runs']):.2g} s with optax, "
        f"{statistics.median(1 / x for x in sixteen['ratio_runs']):.3g}x faster (median of "
        f"{len(sixteen['ratio_runs'])}; whiskers: min to max)"
    )
    once = [str(k) for k in ks if len(series[OURS][k]) == 1]
    if once:
        head += f"; K = {', '.join(once)} measured once"
    fig.suptitle(head, fontsize=10)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw the sweep figure from `optax-lrs bench` records.")
    parser.add_argument("input", help="JSON written by `optax-lrs bench --only sweep --out FILE`")
    parser.add_argument("-o", "--output", default="docs/sweep.png")
    args = parser.parse_args(argv)
    figure(json.loads(Path(args.input).read_text())["records"], args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
