"""Writes benchmarks/RESULTS.md from the JSON files `optax-lrs bench --out` wrote, one section each.

    python -m optax_lrs.benchmarks.report benchmarks/results/cpu.json [more.json ...] -o benchmarks/RESULTS.md

Every number in the report comes from those files.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from . import sweep
from .suite import TARGETS, _fmt

# Why a target can be missed; shown under the targets table when it is.
WHY = {
    "sweep, K = 16, from scratch: >= 10x faster than optax with a jit per configuration (CPU)": (
        "From scratch the sweep is nearly all XLA compilation: optax compiles K programs, ours one. So "
        "the speed-up is about K times the cost of one optax configuration over the cost of our single "
        "program, and our program, batched over K by vmap, takes longer to compile than one unbatched "
        "configuration (compare ours from scratch with optax's time / K in the sweep table). Compile "
        "times also swing with the load of other jobs on a shared machine, for both."
    ),
    "training step: <= 2% overhead over a constant learning rate": (
        "The overhead is the difference between two scans of 50 adam steps timed alternately; on a "
        "shared 2-core machine repetitions of it spread by a few percent either way (see the range), "
        "which is as large as the target."
    ),
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


def _cell(text: str) -> str:
    """`text` for a markdown table cell: its pipes escaped."""
    return text.replace("|", "\\|")


def _superseded(target: dict, records: list[dict], later: set[str]) -> bool:
    """Whether every record a stored target row judged belongs to a benchmark a later run re-measured
    (rows whose target no longer exists under that name are kept)."""
    for t in TARGETS:
        if t.text == target["target"]:
            names = {r["benchmark"] for r in records if t.applies(r)}
            return bool(names) and names <= later
    return False


def _runs(values: list[float]) -> str:
    """`median (min-max)` of seconds."""
    if len(values) == 1:
        return _fmt(values[0])
    return f"{_fmt(statistics.median(values))} ({_fmt(min(values))}-{_fmt(max(values))})"


def _speedups(rec: dict) -> str:
    ups = [1 / r for r in rec["ratio_runs"]]
    if len(ups) == 1:
        return f"{ups[0]:.3g}x"
    return f"**{statistics.median(ups):.3g}x** ({min(ups):.3g}-{max(ups):.3g})"


def sweep_table(records: list[dict]) -> list[str]:
    """The sweep's headline: seconds for the whole sweep and speed-ups, per K, from scratch and compiled."""
    recs = [r for r in records if r["benchmark"] == "sweep"]
    if not recs:
        return []
    out = [
        "",
        f"### The sweep: warmup-cosine, {recs[0]['steps']} adam steps on digits, K configurations",
        "",
        "Seconds for the whole sweep, median (min-max) over the repetitions, and the speed-up optax / ours "
        "per repetition (median (min-max)). The final losses are compared with optax's per-configuration "
        "ones; optax's own inject_hyperparams variant, vmapped, is compared with them too. The figure is "
        "`docs/sweep.png` "
        "(`python -m optax_lrs.benchmarks.sweep FILE.json -o docs/sweep.png`).",
        "",
        "| K | repetitions | timed | ours | optax, a jit per configuration | speed-up | "
        "optax inject_hyperparams, a jit per warmup length | speed-up | "
        "final losses: max \\|ours - optax per configuration\\| | "
        "max \\|optax inject - optax per configuration\\| |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    by = {(r["k"], r["phase"], r["baseline"]): r for r in recs}
    for k, phase in sorted({(r["k"], r["phase"]) for r in recs}, key=lambda kp: (kp[0], kp[1] != "scratch")):
        per, inj = by[(k, phase, sweep.PER_CONFIG)], by[(k, phase, sweep.INJECT)]
        scratch = phase == "scratch"
        timed = "from scratch (trace, compile, run)" if scratch else "compiled, run again"
        n_per, n_inj = (f" ({r['compiles']} compiles)" if scratch else "" for r in (per, inj))
        out.append(
            f"| {k} | {len(per['ratio_runs'])} | {timed} | {_runs(per['ours_runs'])} | "
            f"{_runs(per['baseline_runs'])}{n_per} | {_speedups(per)} | "
            f"{_runs(inj['baseline_runs'])}{n_inj} | {_speedups(inj)} | "
            f"{per['loss_diff']:.1e} | {per['inject_vs_optax']:.1e} |"
        )
    return out


def section(data: dict, later: set[str] = frozenset()) -> str:
    """One run's section; benchmarks in `later` were re-measured by a later run and are left out here."""
    meta, targets = data["meta"], data["targets"]
    records = [r for r in data["records"] if r["benchmark"] not in later]
    devices = ", ".join(sorted(set(meta["devices"])))
    out = [
        f"## {meta['backend'].upper()}: {devices} ({meta['date']})",
        "",
        f"- Machine: {meta['platform']}, {meta['processor']}, {meta['cpu_count']} CPU cores",
        f"- Software: Python {meta['python']}, jax {meta['jax']}, optax {meta['optax']}, "
        f"optax_lrs {meta['optax_lrs']}",
        f"- Command: `{meta['command']}` ({meta['seconds']:.0f} s)",
    ]
    gone = sorted(later & {r["benchmark"] for r in data["records"]})
    if gone:
        out.append(f"- Re-measured in a later run (its section above), so left out here: {', '.join(gone)}")
    out += [
        "",
        "### Targets (met or not in this run)",
        "",
        "| target | cases | met | repetitions meeting it | median (range) over repetitions | where missed |",
        "|---|---|---|---|---|---|",
    ]
    targets = [t for t in targets if t["cases"] and not _superseded(t, data["records"], later)]
    for t in targets:
        missed = "<br>".join(t["missed"])
        reps = "{} of {}".format(*t["repetitions_met"]) if "repetitions_met" in t else "-"
        spread = "<br>".join(t.get("spread", ())) or "-"
        met = "yes" if t["met"] else "**no**"
        out.append(
            f"| {_cell(t['target'])} | {t['cases']} | {met} | {reps} | {_cell(spread)} | {_cell(missed)} |"
        )
    why = [f"- *{t['target']}*: {WHY[t['target']]}" for t in targets if not t["met"] and t["target"] in WHY]
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
    out += sweep_table(records)
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
            f"{ratio} | {_cell(r.get('note', ''))} |"
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
        "given to the report is its own section, newest first, and a benchmark a later run re-measured on "
        "the same backend is shown only there.",
        "",
        "Each section's targets were checked on that run's records. Where a benchmark was repeated (the "
        "sweep; the training step, run three times over), a record holds the repetition with the median "
        "ratio, a target counts as met when that median meets it, and the table also gives how many "
        "repetitions met it and their range.",
        "",
    ]
    runs = [json.loads(Path(p).read_text()) for p in paths]
    runs.sort(key=lambda r: r["meta"]["date"], reverse=True)
    if all(r["meta"]["backend"] == "cpu" for r in runs):
        head += ["No GPU or TPU was available to these runs, so only CPU numbers are reported.", ""]
    sections, seen = [], {}
    for r in runs:
        key = (r["meta"]["backend"], tuple(sorted(set(r["meta"]["devices"]))))
        sections.append(section(r, later=set(seen.get(key, ()))))
        seen.setdefault(key, set()).update(rec["benchmark"] for rec in r["records"])
    return "\n".join(head) + "\n" + "\n\n".join(sections) + "\n"


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
