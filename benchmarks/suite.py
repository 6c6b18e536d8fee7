"""The whole suite: runs every benchmark group, checks the targets, prints a table, writes JSON.

    python -m optax_lrs.benchmarks.suite [--quick] [--out FILE.json] [--only GROUP ...]

(`optax-lrs bench` is the same.) Ratios are ours / baseline, measured side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import devices, eager, elementwise, grids, pieces, sweep, training, transforms


def repeated(run: Callable[[bool], list[dict]], times: int) -> Callable[[bool], list[dict]]:
    """A group run `times` times over: each record is the repetition with the median ratio, with every
    repetition's times and ratios added (`ours_runs`, `baseline_runs`, `ratio_runs`)."""

    def runs(quick: bool) -> list[dict]:
        rounds = [run(quick) for _ in range(times)]
        out = []
        for recs in zip(*rounds, strict=True):
            ratios = [r["ratio"] for r in recs]
            out.append(
                {
                    **recs[sweep.median_repetition(ratios)],
                    "ours_runs": [r["ours_s"] for r in recs],
                    "baseline_runs": [r["baseline_s"] for r in recs],
                    "ratio_runs": ratios,
                }
            )
        return out

    runs.times = times
    return runs


GROUPS = {
    "elementwise": elementwise.run,
    "grids": grids.run,
    "pieces": pieces.run,
    # a 2% target on a noisy machine: one median says little, so the spread of three is reported
    "training": repeated(training.run, 3),
    "eager": eager.run,
    "devices": devices.run,
    "transforms": transforms.run,
    "sweep": sweep.run,
}


@dataclass(frozen=True)
class Target:
    """A target over the records it `applies` to; met when `ok` holds for each of them. A `timed`
    target judges a record's `ratio`, so each of its repetitions can be judged too."""

    text: str
    applies: Callable[[dict], bool]
    ok: Callable[[dict], bool]
    shown: Callable[[dict], str]
    timed: bool = True


def _pieces(rec: dict) -> int:
    return int(re.search(r" (\d+) pieces", rec["case"]).group(1))


def _ratio(rec: dict) -> str:
    return f"{rec['ratio']:.3g}x"


TARGETS = [
    Target(
        "elementwise under jit: <= 1.1x the hand-written formula",
        lambda r: r["benchmark"] == "elementwise" and r["baseline"] == "formula",
        lambda r: r["ratio"] <= 1.1,
        _ratio,
    ),
    Target(
        "grids under vmap: <= 1.25x the hand-written broadcast formula",
        lambda r: r["benchmark"] == "vmap_grid",
        lambda r: r["ratio"] <= 1.25,
        _ratio,
    ),
    Target(
        "every optax hyperparameter vmaps in ours",
        lambda r: r["benchmark"] == "vmap_hyperparameter",
        lambda r: r["ours_s"] is not None,
        lambda r: "ok",
        timed=False,
    ),
    Target(
        "pieces: evaluation flat, <= 1.5x one piece",
        lambda r: r["benchmark"] == "pieces" and r["baseline"] == "ours, 1 piece",
        lambda r: r["ratio"] <= 1.5,
        _ratio,
    ),
    Target(
        "pieces: >= 100x faster than optax at 400+ pieces (evaluation)",
        lambda r: (
            r["benchmark"] == "pieces"
            and r["baseline"] == "optax"
            and r["case"].endswith("eval")
            and _pieces(r) >= 400
        ),
        lambda r: r["ratio"] <= 0.01,
        lambda r: f"{1 / r['ratio']:.0f}x faster",
    ),
    Target(
        "training step: <= 2% overhead over a constant learning rate",
        lambda r: r["benchmark"] == "training_step" and "ours" in r.get("note", ""),
        lambda r: r["ratio"] <= 1.02,
        lambda r: f"{(r['ratio'] - 1) * 100:+.1f}%",
    ),
    Target(
        "optax transforms (plateau, scale_by_tree, injected schedules): <= 3% overhead over bare adam",
        lambda r: r["benchmark"] == "transform_step",
        lambda r: r["ratio"] <= 1.03,
        lambda r: f"{(r['ratio'] - 1) * 100:+.1f}%",
    ),
    Target(
        "sweep, K = 16, from scratch: >= 10x faster than optax with a jit per configuration (CPU)",
        lambda r: (
            r["benchmark"] == "sweep"
            and r["k"] == 16
            and r["phase"] == "scratch"
            and r["baseline"] == sweep.PER_CONFIG
            and r["backend"] == "cpu"
        ),
        lambda r: r["ratio"] <= 0.1,
        lambda r: f"{1 / r['ratio']:.3g}x faster",
    ),
    Target(
        "sweep: final losses equal optax's with a jit per configuration (max |diff| <= 1e-5, float32 noise)",
        lambda r: r["benchmark"] == "sweep" and r["phase"] == "scratch" and r["baseline"] == sweep.PER_CONFIG,
        lambda r: r["loss_diff"] <= 1e-5,
        lambda r: f"max |diff| {r['loss_diff']:.1e}",
        timed=False,
    ),
    Target(
        "eager call: <= 20 us",
        lambda r: r["benchmark"] == "eager_call",
        lambda r: r["ours_s"] <= 20e-6,
        lambda r: f"{r['ours_s'] * 1e6:.1f} us",
    ),
    Target(
        "sharded grid equals the single-device result (within 8 float32 ulps)",
        lambda r: r["benchmark"] == "devices",
        lambda r: "ulps of it: True" in r["note"],
        lambda r: "equal" if "ulps of it: True" in r["note"] else "differs",
        timed=False,
    ),
]


def _spread(target: Target, rec: dict) -> str:
    """The median repetition and the range of the repetitions, as the target shows them."""
    runs = sorted(rec["ratio_runs"])
    lo, hi = ({**rec, "ratio": x} for x in (runs[0], runs[-1]))
    return f"{rec['case']}: {target.shown(rec)} (range {target.shown(lo)} to {target.shown(hi)})"


def check_targets(records: list[dict]) -> list[dict]:
    """One row per target: whether it is met (by the median repetition of each case), on which cases it
    is not, and, where cases were repeated, in how many repetitions it is met and their spread."""
    rows = []
    for target in TARGETS:
        recs = [r for r in records if target.applies(r)]
        missed = [r for r in recs if not target.ok(r)]
        row = {
            "target": target.text,
            "cases": len(recs),
            "met": bool(recs) and not missed,
            "missed": [f"{r['case']}: {target.shown(r)}" for r in missed],
        }
        repeated = [r for r in recs if target.timed and len(r.get("ratio_runs", ())) > 1]
        if repeated:
            each = [target.ok({**r, "ratio": x}) for r in repeated for x in r["ratio_runs"]]
            row["repetitions_met"] = [sum(each), len(each)]
            row["spread"] = [_spread(target, r) for r in repeated]
        rows.append(row)
    return rows


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def table(records: list[dict]) -> str:
    lines = [f"{'benchmark':<20} {'case':<70} {'ours':>10} {'baseline':>24} {'ratio':>8}"]
    for r in records:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}"
        base = f"{r['baseline']} {_fmt(r['baseline_s'])}"
        lines.append(
            f"{r['benchmark']:<20} {r['case'][:70]:<70} {_fmt(r['ours_s']):>10} {base:>24} {ratio:>8}"
        )
    return "\n".join(lines)


def run(
    quick: bool, groups: list[str] | None = None, progress: Callable[[str], None] | None = None
) -> list[dict]:
    records = []
    for name in groups or list(GROUPS):
        if progress:
            progress(name)
        records += GROUPS[name](quick)
    return records


def machine() -> dict:
    """What the numbers were measured on."""
    import platform
    from datetime import datetime, timezone

    import jax
    import optax

    import optax_lrs

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "optax": optax.__version__,
        "optax_lrs": optax_lrs.__version__,
        "backend": jax.default_backend(),
        "devices": [d.device_kind for d in jax.devices()],
    }


def main(argv: list[str] | None = None) -> int:
    from optax_lrs.cli import main as cli

    return cli(["bench", *(sys.argv[1:] if argv is None else argv)])


def bench(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    records = run(args.quick, args.only, progress=lambda g: print(f"[bench] {g} ...", file=sys.stderr))
    print(table(records))
    rows = check_targets(records)
    print()
    for row in rows:
        if row["cases"]:
            reps = ""
            if "repetitions_met" in row:
                reps = " (in {} of {} repetitions)".format(*row["repetitions_met"])
            print(f"{'met ' if row['met'] else 'MISSED'} {row['target']}{reps}")
            for m in row["missed"]:
                print(f"         {m}")
            for s in row.get("spread", ()):
                print(f"         {s}")
    meta = machine()
    meta.update(
        quick=args.quick,
        seconds=time.perf_counter() - start,
        command="optax-lrs bench"
        + (" --quick" if args.quick else "")
        + (f" --only {' '.join(args.only)}" if args.only else "")
        + f" --out {args.out}",
    )
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "records": records, "targets": rows}, f, indent=1)
    print(f"\nwrote {len(records)} records to {args.out} in {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
