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


def _cmd_demo(args) -> int:
    from optax_lrs.demo import run_demo

    steps = 300 if args.quick else 3000
    rows = run_demo(steps, args.out)
    print(f"{'schedule':<15}{'final train loss':>18}{'test accuracy':>15}")
    for r in rows:
        print(f"{r['schedule']:<15}{r['final_train_loss']:>18.4f}{r['test_accuracy']:>15.4f}")
    print(f"wrote {args.out}/demo.png and {args.out}/results.csv")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="optax-lrs", description="Learning-rate schedules for JAX/Optax.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="every public schedule with its signature").set_defaults(func=_cmd_list)
    demo = sub.add_parser("demo", help="train one model under 7 schedules at once (sklearn digits)")
    demo.add_argument("--quick", action="store_true", help="300 steps instead of 3000")
    demo.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    demo.set_defaults(func=_cmd_demo)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as e:
        print(f"optax-lrs: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
