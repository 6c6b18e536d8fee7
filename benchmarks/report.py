"""Writes benchmarks/RESULTS.md from the JSON files `optax-lrs bench --out` wrote, one section each.

    python -m optax_lrs.benchmarks.report benchmarks/results/cpu.json [more.json ...] -o benchmarks/RESULTS.md

Every number in the report comes from those files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .suite import _fmt

# Why a target can be missed; shown under the targets table when it is.
WHY = {
    "pieces: evaluation flat, <= 1.5x one piece": (
        "One piece needs no lookup at all, so its evaluation is the bare formula. With n pieces every step "
        "first finds its piece (unrolled compares up to 64 pieces, an unrolled binary search above: "
        "log2(n) gathers) and then gathers that piece's hyperparameters. On CPU an XLA gather costs "
        "several times a fused arithmetic op, so the lookup, not the number of pieces, sets the cost: "
        "the time grows with log2(n), not n. The program itself does not grow with n (tests check that)."
    ),
    "pieces: >= 100x faster than optax at 400+ pieces (evaluation)": (
        "optax evaluates every piece at every step and selects with one `where` per piece; ours evaluates "
        "one piece per step. For piecewise-constant and multistep schedules optax's per-piece work is a "
        "single compare-and-select that XLA fuses, so its linear cost stays small at 400-1000 pieces and the "
        "logarithmic lookup wins by less; for join/SGDR, whose pieces are whole cosine schedules, the gap is "
        "largest."
    ),
    "grids under vmap: <= 1.25x the hand-written broadcast formula": (
        "The grid carries every hyperparameter as a batched leaf, including the ones the formula leaves "
        "out (an `exponent` of 1, an `end_value` clip), and integer step counts; the formula hard-codes "
        "them. Those cost elementwise work per member."
    ),
    "elementwise under jit: <= 1.1x the hand-written formula": (
        "Piecewise-interpolated schedules (one-cycle, piecewise_interpolate) look up the step's segment "
        "generically (start, length, end values of the segment), where the formula hard-codes each "
        "segment's constants."
    ),
}


def section(data: dict) -> str:
    meta, records, targets = data["meta"], data["records"], data["targets"]
    devices = ", ".join(sorted(set(meta["devices"])))
    out = [
        f"## {meta['backend'].upper()}: {devices} ({meta['date']})",
        "",
        f"- Machine: {meta['platform']}, {meta['processor']}, {meta['cpu_count']} CPU cores",
        f"- Software: Python {meta['python']}, jax {meta['jax']}, optax {meta['optax']}, "
        f"optax_lrs {meta['optax_lrs']}",
        f"- Command: `{meta['command']}` ({meta['seconds']:.0f} s)",
        "",
        "### Targets",
        "",
        "| target | cases | met | where missed |",
        "|---|---|---|---|",
    ]
    for t in targets:
        if t["cases"]:
            missed = "<br>".join(t["missed"]) or ""
            out.append(f"| {t['target']} | {t['cases']} | {'yes' if t['met'] else '**no**'} | {missed} |")
    why = [
        f"- *{t['target']}*: {WHY[t['target']]}"
        for t in targets
        if t["cases"] and not t["met"] and t["target"] in WHY
    ]
    if why:
        out += ["", "Why the missed targets are missed:", "", *why]
    table = [r for r in records if r["benchmark"] == "vmap_hyperparameter"]
    if table:
        ok = sum(r.get("note") == "optax: ok" for r in table)
        out += [
            "",
            f"`jax.vmap` over one hyperparameter: optax works for {ok} of {len(table)} "
            f"(the others raise, see the notes below), ours for all {len(table)}.",
        ]
    benchmark = None
    for r in records:
        if r["benchmark"] != benchmark:
            benchmark = r["benchmark"]
            out += [
                "",
                f"### {benchmark}",
                "",
                "| case | ours | baseline | baseline time | ours / baseline | note |",
                "|---|---|---|---|---|---|",
            ]
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}"
        out.append(
            f"| {r['case']} | {_fmt(r['ours_s'])} | {r['baseline']} | {_fmt(r['baseline_s'])} | "
            f"{ratio} | {r.get('note', '').replace('|', chr(92) + '|')} |"
        )
    return "\n".join(out)


def report(paths: list[str]) -> str:
    head = [
        "# Benchmark results",
        "",
        "Written by `python -m optax_lrs.benchmarks.report` from the JSON records of `optax-lrs bench`; "
        "ratios are ours / baseline measured side by side in one run (medians after compilation, "
        "`block_until_ready`), so below 1 means ours is faster. What each benchmark measures is in the "
        "docstrings of `benchmarks/*.py`. The suite runs unchanged on GPU and TPU backends; each run "
        "given to the report is its own section.",
        "",
    ]
    runs = [json.loads(Path(p).read_text()) for p in paths]
    if all(r["meta"]["backend"] == "cpu" for r in runs):
        head += ["No GPU or TPU was available to these runs, so only CPU numbers are reported.", ""]
    return "\n".join(head + [section(r) for r in runs]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("-o", "--output", default="benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    Path(args.output).write_text(report(args.inputs))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
