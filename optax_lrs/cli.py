"""The `optax-lrs` command line (also `python -m optax_lrs`)."""

from __future__ import annotations

import argparse
import inspect
import sys


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit status 2
        print(f"optax-lrs: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _cmd_list(args) -> int:
    import optax_lrs as o

    for name in o.available():
        fn = getattr(o, name)
        print(f"{name}{inspect.signature(fn)}")
    return 0


def _cmd_show(args) -> int:
    import optax_lrs as o

    if args.name not in o.available():
        raise ValueError(f"show: unknown schedule {args.name!r} (see `optax-lrs list`)")
    fn = getattr(o, args.name)
    print(f"{args.name}{inspect.signature(fn)}\n")
    print(inspect.getdoc(fn))
    return 0


def _schedules(specs: list[str]) -> dict:
    from optax_lrs._spec import parse

    return {spec: parse(spec) for spec in specs}


def _steps(text: str):
    """`--steps N` (steps 0..N-1) or `--steps 0,10,100` (those steps)."""
    import numpy as np

    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"--steps must be N or a comma-separated list of steps >= 0, got {text!r}")
    if len(parts) == 1 and "," not in text:
        n = int(parts[0])
        if n <= 0:
            raise ValueError(f"--steps must be a positive number of steps, got {text!r}")
        return np.arange(n)
    return np.array([int(p) for p in parts])


def _cmd_plot(args) -> int:
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    from optax_lrs.plotting import label, plot

    scheds = _schedules(args.specs)
    steps = _steps(args.steps)
    out = Path(args.output)
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ValueError(f"plot: -o must end in .png, .pdf or .svg, got {args.output!r}")
    ax = plot({label(s, width=80): s for s in scheds.values()}, steps, log=args.log)
    out.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.tight_layout()
    ax.figure.savefig(out, dpi=120)
    print(f"wrote {out}")
    return 0


def _cmd_table(args) -> int:
    import csv

    from optax_lrs.plotting import values

    scheds = _schedules(args.specs)
    steps = _steps(args.steps)
    cols = [values(s, steps) for s in scheds.values()]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["step", *scheds])
    for i, t in enumerate(steps):
        writer.writerow([int(t), *(f"{c[i]:.9g}" for c in cols)])
    return 0


def _cmd_demo(args) -> int:
    from optax_lrs.demo import run_demo

    steps = 300 if args.quick else 3000
    rows = run_demo(steps, args.out)
    print(f"{'schedule':<15}{'final train loss':>18}{'test accuracy':>15}")
    for r in rows:
        print(f"{r['schedule']:<15}{r['final_train_loss']:>18.4f}{r['test_accuracy']:>15.4f}")
    print(f"wrote {args.out}/demo.png and {args.out}/results.csv")
    return 0


def _cmd_bench(args) -> int:
    from optax_lrs.benchmarks import suite

    unknown = sorted(set(args.only or ()) - set(suite.GROUPS))
    if unknown:
        raise ValueError(
            f"bench: --only must name groups among {', '.join(suite.GROUPS)}, got {unknown[0]!r}"
        )
    return suite.bench(args)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="optax-lrs", description="Learning-rate schedules for JAX/Optax.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="every public schedule with its signature").set_defaults(func=_cmd_list)
    show = sub.add_parser("show", help="a schedule's signature, docstring and formula")
    show.add_argument("name")
    show.set_defaults(func=_cmd_show)
    spec_help = (
        "name:key=value,... (e.g. cosine_decay_schedule:init_value=0.1,decay_steps=1000; values are "
        "Python literals) or a JSON/YAML file written from to_config"
    )
    plot = sub.add_parser("plot", help="plot schedules, overlaid and labelled, to an image")
    plot.add_argument("specs", nargs="+", metavar="SPEC", help=spec_help)
    plot.add_argument("--steps", required=True, help="N (steps 0..N-1) or a list such as 0,10,100")
    plot.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    plot.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    plot.set_defaults(func=_cmd_plot)
    table = sub.add_parser("table", help="CSV of schedule values: a step column, one column per schedule")
    table.add_argument("specs", nargs="+", metavar="SPEC", help=spec_help)
    table.add_argument("--steps", required=True, help="N (steps 0..N-1) or a list such as 0,10,100")
    table.set_defaults(func=_cmd_table)
    demo = sub.add_parser("demo", help="train one model under 7 schedules at once (sklearn digits)")
    demo.add_argument("--quick", action="store_true", help="300 steps instead of 3000")
    demo.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    demo.set_defaults(func=_cmd_demo)
    bench = sub.add_parser("bench", help="the benchmark suite: ours vs optax and vs hand-written formulas")
    bench.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions (< 5 min)")
    bench.add_argument("--out", default="bench.json", help="JSON records file (default: bench.json)")
    bench.add_argument(
        "--only",
        nargs="+",
        metavar="GROUP",
        help="run only these groups (elementwise, grids, pieces, training, eager, devices)",
    )
    bench.set_defaults(func=_cmd_bench)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as e:  # bad schedule, key or value: one line, no traceback
        print(f"optax-lrs: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
