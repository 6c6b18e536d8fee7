"""The `optax-lrs` command line (also `python -m optax_lrs`).

Every bad input exits with status 2 and one line on stderr, `optax-lrs: error: ...`, before any long
work starts, and outputs are written to a temporary file that replaces the target only when complete.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAX_STEPS = 10**7  # `--steps N` evaluates and holds N values: 10**7 is ~100 MB and a few seconds
STEP_LIMIT = 2**31  # steps are int32 unless jax_enable_x64 is on
STEP_LIMIT_X64 = 2**63


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("optax_lrs")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        import optax_lrs

        return getattr(optax_lrs, "__version__", "unknown")


class _Version(argparse.Action):
    """`--version`: looked up only when asked for (importlib.metadata, else `optax_lrs.__version__`)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"optax-lrs {_version()}")
        parser.exit(0)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit status 2
        print(f"optax-lrs: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def signature(fn: Any) -> str:
    """`(init_value, decay_steps, alpha=0.0)`: the parameters and defaults, without type annotations."""
    parts, star = [], False
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
            star = True
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        else:
            if p.kind is p.KEYWORD_ONLY and not star:
                parts.append("*")
                star = True
            parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"({', '.join(parts)})"


# names in a parameter's annotation that mean it takes a schedule or code, not a value
_CODE_TYPES = {"Callable", "Schedule"}


def usable_from_spec(fn: Any) -> bool:
    """Whether a SPEC `name:key=value,...` can build schedule `fn` from values alone.

    Decided by the signature: every parameter is named (no `**hyperparams`, which `from_fn` takes
    with its function) and annotated with value types (numbers, strings, flags, lists or mappings of
    numbers). A parameter annotated `Any` (a schedule or a number: `binary`, `shift`, `clip`...),
    `Schedule` (`warmup`) or `Callable` (`join_schedules`, `select`, `from_fn`) takes schedules or code:
    such compositions are built in Python, or read from a config file that `to_config` wrote.
    """
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.annotation is p.empty:
            return False
        text = str(p.annotation).strip()
        if text == "Any" or _CODE_TYPES & set(re.findall(r"\w+", text)):
            return False
    return True


def _cmd_list(args) -> int:
    import optax_lrs as o

    for name in o.available():
        fn = getattr(o, name)
        if usable_from_spec(fn):
            print(f"{name}{signature(fn)}")
    return 0


def _cmd_show(args) -> int:
    import optax_lrs as o

    if args.name not in o.available():
        raise ValueError(f"show: unknown schedule {args.name!r} (see `optax-lrs list`)")
    fn = getattr(o, args.name)
    print(f"{args.name}{signature(fn)}\n")
    if not usable_from_spec(fn):
        print("(takes schedules or a function: build it in Python or from a to_config file, not a SPEC)\n")
    print(inspect.getdoc(fn))
    return 0


def check_output(label: str, path: str, directory: bool = False) -> Path:
    """Refuse, before any long work, an output file (or `directory`) that cannot be written.

    Nothing is created: the nearest existing ancestor must be a directory in which a file can be made.
    """
    out = Path(path)
    if not directory and path.endswith(("/", os.sep)):  # Path() would drop the slash
        raise ValueError(f"{label} {path!r} names a directory, not a file")
    try:
        if out.is_dir() != directory and out.exists():
            raise ValueError(f"{label} {path!r} is {'not ' if directory else ''}a directory")
        parent = out if directory else out.parent
        existing = next(d for d in (parent, *parent.parents) if d.exists())
        if not existing.is_dir():
            raise ValueError(f"{label} {path!r}: {str(existing)!r} is not a directory")
        with tempfile.TemporaryFile(dir=existing):  # can a file be made there (read-only, /proc)?
            pass
    except OSError as e:
        raise ValueError(f"{label} {path!r} cannot be written: {e.strerror or e}") from None
    return out


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """A temporary path next to `path` that replaces it once written, so a failure leaves no half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_figure(fig, out: str | Path, fmt: str) -> None:
    """Lay out `fig`, write it to `out` in one piece (`atomic_output`) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        with atomic_output(out) as tmp:
            fig.savefig(tmp, dpi=120, format=fmt)
    finally:
        plt.close(fig)


_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


def is_file_spec(spec: str) -> bool:
    """Whether a SPEC names a config file rather than `name:key=value,...`.

    A file is a SPEC that ends in a config suffix (.json, .yaml, .yml), or whose part before the first
    ":" holds a path separator or a dot (`runs/a`, `missing.cfg`: schedule names have neither), or
    that is an existing path other than a schedule's name.
    """
    from optax_lrs._base import available
    from optax_lrs._spec import CONFIG_SUFFIXES

    name = spec.partition(":")[0]
    seps = {"/", os.sep, os.altsep} - {None}
    return (
        spec.endswith(CONFIG_SUFFIXES)
        or any(sep in name for sep in seps)
        or "." in name
        or bool(_DRIVE.match(spec))
        or (name not in available() and os.path.lexists(spec))
    )


def _check_file(spec: str) -> None:
    from optax_lrs._spec import CONFIG_SUFFIXES

    path = Path(spec)
    try:
        if not path.exists():
            raise ValueError(f"config file {spec!r}: no such file")
        if path.is_dir():
            raise ValueError(f"config file {spec!r}: is a directory")
    except OSError as e:  # a name the OS refuses (too long, ...)
        raise ValueError(f"config file {spec!r}: cannot be read: {e.strerror or e}") from None
    if not spec.endswith(CONFIG_SUFFIXES):
        raise ValueError(f"config file {spec!r} must end in {', '.join(CONFIG_SUFFIXES)}")


def _one_schedule(where: str, sched: Any) -> None:
    """Refuse a batch (a list where a number belongs): `table` and `plot` draw one schedule per SPEC."""
    import numpy as np

    from optax_lrs._base import _REGISTRY, Schedule
    from optax_lrs._config import _encode

    containers = _REGISTRY[sched.name].containers if sched.name in _REGISTRY else {}
    for key, value in sched.params().items():
        children = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(c, Schedule) for c in children):
            for c in children:
                if isinstance(c, Schedule):
                    _one_schedule(where, c)
        elif key not in containers and np.ndim(value) > 0 and not isinstance(value, (dict, str)):
            raise ValueError(
                f"{where}{sched.name}: {key} must be one number, got {_encode(value)} (a list makes a batch "
                "of schedules; give one SPEC per schedule)"
            )


def _schedule(spec: str, allow_code: bool) -> Any:
    from optax_lrs._spec import parse

    if not is_file_spec(spec):
        sched = parse(spec, allow_code=allow_code)
        _one_schedule("", sched)
        return sched
    _check_file(spec)
    sched = parse(spec, allow_code=allow_code)  # a key given twice is reported by the loader, first
    _one_schedule(f"config file {spec!r}: ", sched)
    return sched


def _schedules(args) -> dict:
    return {spec: _schedule(spec, args.allow_code) for spec in args.specs}


def _steps(text: str):
    """`--steps N` (steps 0..N-1) or `--steps 0,10,100` (those steps): each < 2**31, or with x64 < 2**63."""
    import numpy as np

    from optax_lrs._base import int_dtype

    parts = [p.strip() for p in text.split(",") if p.strip()]
    # isascii: str.isdigit also accepts digits such as "²" that int() refuses
    if not parts or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"--steps must be N or a comma-separated list of steps >= 0, got {text!r}")
    x64 = int_dtype() == np.int64
    limit = STEP_LIMIT_X64 if x64 else STEP_LIMIT
    # 19 digits hold every step < 2**63; longer ones skip int(), which refuses 4300 digits
    steps = [int(p) if len(p) <= 19 else limit for p in parts]
    if len(parts) == 1 and "," not in text:
        if steps[0] <= 0:
            raise ValueError(f"--steps must be a positive number of steps, got {text!r}")
        if steps[0] > MAX_STEPS:
            raise ValueError(f"--steps N must be at most {MAX_STEPS}, got {text!r}")
        return np.arange(steps[0])
    if len(steps) > MAX_STEPS:
        raise ValueError(f"--steps lists more than {MAX_STEPS} steps")
    if max(steps) >= limit:
        big = parts[steps.index(max(steps))]
        if x64:
            raise ValueError(f"--steps must each be < 2**63 = {limit}, got {big}")
        raise ValueError(
            f"--steps must each be < 2**31 = {limit} (int32 steps), got {big}; for longer runs "
            "set JAX_ENABLE_X64=1 (int64 steps)"
        )
    return np.array(steps, dtype=np.int64)


def _cmd_plot(args) -> int:
    from optax_lrs._extras import use_file_backend

    use_file_backend()

    from optax_lrs.plotting import labels, plot

    fmt = Path(args.output).suffix.lower()[1:]
    if fmt not in ("png", "pdf", "svg"):
        raise ValueError(f"plot: -o must end in .png, .pdf or .svg, got {args.output!r}")
    out = check_output("plot: -o", args.output)
    scheds = _schedules(args)
    steps = _steps(args.steps)
    ax = plot(dict(zip(labels(list(scheds.values()), width=80), scheds.values())), steps, log=args.log)
    save_figure(ax.figure, out, fmt)
    print(f"wrote {out}")
    return 0


def _cmd_table(args) -> int:
    import csv

    from optax_lrs._config import shortest
    from optax_lrs.plotting import values

    scheds = _schedules(args)
    steps = _steps(args.steps)
    cols = [values(s, steps) for s in scheds.values()]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["step", *scheds])
    for i, t in enumerate(steps):
        # the shortest decimal that reads back as the same float32 (0.1, not 0.100000001)
        writer.writerow([int(t), *(repr(shortest(c[i])) for c in cols)])
    return 0


def _cmd_demo(args) -> int:
    from optax_lrs import demo

    check_output("demo: --out", args.out, directory=True)  # before minutes of training
    return demo.main(args.quick, args.out)


FIND_MAX_STEPS = 10**5  # `find --steps`: a range test is a few hundred steps; this bounds the memory
FIND_MAX_PARALLEL = 1024


def _find_int(flag: str, text: str, lo: int, hi: int) -> int:
    digits = text.lstrip("0") or "0"
    # isascii: str.isdigit also accepts digits such as "²"; the length test spares int() huge numbers
    if not (text.isascii() and text.isdigit()) or len(digits) > len(str(hi)) or not lo <= int(digits) <= hi:
        raise ValueError(f"find: {flag} must be an integer from {lo} to {hi}, got {text!r}")
    return int(text)


def _find_lr(flag: str, text: str) -> float:
    try:
        lr = float(text)
    except ValueError:
        lr = float("nan")
    if not (0 < lr < float("inf")):
        raise ValueError(f"find: {flag} must be a finite number > 0, got {text!r}")
    return lr


def _cmd_find(args) -> int:
    steps = _find_int("--steps", args.steps, 2, FIND_MAX_STEPS)
    parallel = None if args.parallel is None else _find_int("--parallel", args.parallel, 2, FIND_MAX_PARALLEL)
    min_lr, max_lr = _find_lr("--min-lr", args.min_lr), _find_lr("--max-lr", args.max_lr)
    if max_lr <= min_lr:
        raise ValueError(f"find: --max-lr must be > --min-lr = {args.min_lr}, got {args.max_lr!r}")
    fmt = Path(args.output).suffix.lower()[1:]
    if fmt not in ("png", "pdf", "svg"):
        raise ValueError(f"find: -o must end in .png, .pdf or .svg, got {args.output!r}")
    out = check_output("find: -o", args.output)  # before the data is loaded and the test compiled

    import jax.numpy as jnp
    import optax

    from optax_lrs._extras import require, use_file_backend

    use_file_backend()
    tqdm = require("tqdm", feature="optax-lrs find").tqdm

    from optax_lrs import demo
    from optax_lrs._lrfind import lr_find

    (x, y), _ = demo.load_data()
    x, y = jnp.asarray(x), jnp.asarray(y)

    def loss(params, batch):
        return demo.loss_fn(params, *batch)

    def batch(k):
        return demo.minibatch(x, y, k, 64)

    def sgd(learning_rate):  # the demo's optimizer
        return optax.sgd(learning_rate, momentum=0.5)

    what = f"{parallel} learning rates x {steps} steps under one vmap" if parallel else f"{steps} steps"
    # one compiled scan: the bar shows its start and its end
    with tqdm(total=steps, desc=f"lr_find, demo MLP on digits ({what})", unit="step") as bar:
        result = lr_find(loss, demo.init_params(), batch, sgd, min_lr, max_lr, steps, parallel=parallel)
        bar.update(steps)
    ax = result.plot()
    ax.set_title(f"learning-rate range test: demo MLP on digits, SGD momentum 0.5 ({what})", fontsize=9)
    save_figure(ax.figure, out, fmt)
    n = parallel or steps
    if math.isfinite(result.suggestion):
        print(f"suggested learning rate: {result.suggestion:.4g}")
    else:  # Lightning's rule skips the first 10 and the last recorded points
        print("suggested learning rate: none (too few points before the loss diverged; try more --steps)")
    s = result.suggestions
    print(
        f"  steepest (Lightning): {s['steepest']:.4g}   valley (fastai): {s['valley']:.4g}   "
        f"minimum / 10 (fastai): {s['minimum']:.4g}"
    )
    if result.stopped_at < n:
        lr = result.learning_rates[result.stopped_at]
        where = (
            f"learning rate {result.stopped_at} of {n}" if parallel else f"step {result.stopped_at} of {n}"
        )
        print(f"the loss diverged at {where} (lr {lr:.4g})")
    else:
        print(f"the loss did not diverge up to lr {max_lr:g}")
    print(f"wrote {out}")
    return 0


def _cmd_bench(args) -> int:
    from optax_lrs._extras import require

    for module in ("sklearn", "matplotlib"):
        require(module, feature="optax-lrs bench")
    from optax_lrs.benchmarks import suite

    unknown = sorted(set(args.only or ()) - set(suite.GROUPS))
    if unknown:
        raise ValueError(
            f"bench: --only must name groups among {', '.join(suite.GROUPS)}, got {unknown[0]!r}"
        )
    check_output("bench: --out", args.out)  # before minutes of benchmarks
    return suite.bench(args)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="optax-lrs", description="Learning-rate schedules for JAX/Optax.")
    parser.add_argument("--version", action=_Version, help="print optax-lrs's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    list_help = "every schedule a SPEC can build, with its parameters"
    list_desc = (
        f"{list_help}. Compositions that take schedules or a function (warmup, join_schedules, select, "
        "from_fn, binary, ...; see `optax-lrs show NAME`) are left out: build them in Python or in a "
        "config file written by to_config."
    )
    sub.add_parser("list", help=list_help, description=list_desc).set_defaults(func=_cmd_list)
    show = sub.add_parser("show", help="a schedule's signature, docstring and formula")
    show.add_argument("name")
    show.set_defaults(func=_cmd_show)
    spec_help = (
        "name:key=value,... (e.g. cosine_decay_schedule:init_value=0.1,decay_steps=1000; values are "
        "Python literals) or a JSON/YAML file written from to_config (a SPEC with a path separator "
        "or a dot before its first ':' is a file)"
    )
    steps_help = (
        f"N (steps 0..N-1, N <= {MAX_STEPS}) or a list such as 0,10,100 (each step < 2**31; with "
        "JAX_ENABLE_X64=1, < 2**63)"
    )
    allow_help = (
        "let SPECs and config files name Python functions for from_fn (fn=module:qualname), which "
        "are then imported and run; without it such a config is refused. Only for configs you trust"
    )
    plot = sub.add_parser("plot", help="plot schedules, overlaid and labelled, to an image")
    plot.add_argument("specs", nargs="+", metavar="SPEC", help=spec_help)
    plot.add_argument("--steps", required=True, help=steps_help)
    plot.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    plot.add_argument("--log", action="store_true", help="logarithmic learning-rate axis")
    plot.add_argument("--allow-code", action="store_true", help=allow_help)
    plot.set_defaults(func=_cmd_plot)
    table = sub.add_parser("table", help="CSV of schedule values: a step column, one column per schedule")
    table.add_argument("specs", nargs="+", metavar="SPEC", help=spec_help)
    table.add_argument("--steps", required=True, help=steps_help)
    table.add_argument("--allow-code", action="store_true", help=allow_help)
    table.set_defaults(func=_cmd_table)
    demo = sub.add_parser("demo", help="train one model under 7 schedules at once (sklearn digits)")
    demo.add_argument("--quick", action="store_true", help="300 steps instead of 3000")
    demo.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    demo.set_defaults(func=_cmd_demo)
    find = sub.add_parser("find", help="learning-rate range test on the demo's model and data, with a plot")
    find.add_argument(
        "--steps", default="100", help=f"updates (of each run with --parallel), 2 to {FIND_MAX_STEPS}"
    )
    find.add_argument("--min-lr", default="1e-7", help="first learning rate (default: 1e-7)")
    find.add_argument("--max-lr", default="10", help="last learning rate (default: 10)")
    find.add_argument(
        "--parallel",
        metavar="K",
        help="train K log-spaced constant learning rates side by side under one vmap instead of one ramp",
    )
    find.add_argument("-o", "--output", default="lr_find.png", help="image file (default: lr_find.png)")
    find.set_defaults(func=_cmd_find)
    bench = sub.add_parser("bench", help="the benchmark suite: ours vs optax and vs hand-written formulas")
    bench.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions (< 5 min)")
    bench.add_argument("--out", default="bench.json", help="JSON records file (default: bench.json)")
    bench.add_argument(
        "--only",
        nargs="+",
        metavar="GROUP",
        help="run only these groups (elementwise, grids, pieces, training, eager, devices, transforms, "
        "sweep)",
    )
    bench.set_defaults(func=_cmd_bench)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as e:  # bad schedule, key, value or file: one line
        print(f"optax-lrs: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
