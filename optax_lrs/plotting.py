"""Values and plots of schedules for people: `values`, `plot`, `label` (matplotlib imported lazily)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from optax_lrs._base import Schedule, check
from optax_lrs._config import format_value


def _steps(fn: str, steps: Any) -> np.ndarray:
    """`steps` as an integer array: an int N means 0..N-1, else the given steps."""
    if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool):
        check(fn, "steps", steps, "a positive number of steps or an array of steps", lambda n: n > 0)
        return np.arange(int(steps))
    arr = np.asarray(steps)
    check(
        fn,
        "steps",
        steps,
        "an int N or a non-empty 1-D array of steps",
        lambda a: a.ndim == 1 and a.size > 0 and np.issubdtype(a.dtype, np.number),
    )
    return arr


def _check_callable(fn: str, param: str, sched: Any) -> None:
    if not callable(sched):
        raise ValueError(f"{fn}: {param} must be a schedule (a callable of the step), got {sched!r}")


def values(sched: Any, steps: Any) -> np.ndarray:
    """The schedule at `steps` as a float NumPy array (`steps`: an int N for steps 0..N-1, or the steps).

    Example:
      >>> import optax_lrs as lrs
      >>> values(lrs.step_decay(1.0, 0.5, 2), 5).tolist()
      [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    _check_callable("values", "sched", sched)
    t = _steps("values", steps)
    out = sched(jnp.asarray(t))
    return np.broadcast_to(
        np.asarray(out, dtype=np.float64 if out.dtype == jnp.float64 else np.float32), t.shape
    ).copy()


def _args(sched: Schedule) -> list[tuple[str, str, bool]]:
    """`(name, text, is_default)` for each hyperparameter, nested schedules shown by their labels."""
    import optax_lrs

    ctor = getattr(optax_lrs, sched.name, None)
    defaults = {}
    if ctor is not None:
        defaults = {
            k: p.default
            for k, p in inspect.signature(ctor).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
    out = []
    for k, v in sched.params().items():
        if isinstance(v, Schedule):
            text = _text(v, _args(v))
        elif isinstance(v, (list, tuple)) and v and all(isinstance(x, Schedule) for x in v):
            text = "[" + ", ".join(_text(x, _args(x)) for x in v) + "]"
        else:
            text = format_value(v)
        out.append((k, text, _equal(v, defaults.get(k, _MISSING))))
    return out


def _text(sched: Schedule, args: list[tuple[str, str, bool]], width: int | None = None) -> str:
    """`name(k=v, ...)` with the non-default `args` in their order, as many whole ones as fit in
    `width` (then `…` in place of the rest)."""
    parts = [f"{k}={text}" for k, text, default in args if not default]
    text = f"{sched.name}(" + ", ".join(parts) + ")"
    if width is None or len(text) <= width:
        return text
    while parts:  # never cut inside a parameter: leave out whole ones from the end
        parts.pop()
        text = f"{sched.name}(" + ", ".join([*parts, "…"]) + ")"
        if len(text) <= width:
            break
    return text


def label(sched: Any, width: int = 110) -> str:
    """A readable one-line label: the name and the hyperparameters that differ from the defaults.

    Parameters that do not fit in `width` characters are left out whole, with `…` in their place.

    Example:
      >>> import optax_lrs as lrs
      >>> label(lrs.cosine_decay_schedule(0.1, 1000))
      'cosine_decay_schedule(init_value=0.1, decay_steps=1000)'
      >>> label(lrs.one_cycle_schedule(0.1, 1000, pct_start=0.25))
      'one_cycle_schedule(max_value=0.1, total_steps=1000, pct_start=0.25)'
    """
    return labels([sched], width)[0]


def labels(scheds: Any, width: int = 110) -> list[str]:
    """Labels for schedules overlaid in one plot, each at most `width` characters when it can be.

    A label names the hyperparameters that differ from the defaults, and first those that differ
    between the schedules of the same name (shown even where one holds its default), so that these
    survive when parameters must be left out (whole, with `…`; never cut). Equal labels get ` #2`, ...

    Example:
      >>> import optax_lrs as lrs
      >>> labels([lrs.one_cycle_schedule(0.1, 1000, div_factor=7.0), lrs.one_cycle_schedule(0.1, 1000)], 42)
      ['one_cycle_schedule(div_factor=7.0, …)', 'one_cycle_schedule(div_factor=25.0, …)']
    """
    scheds = list(scheds)
    args = [_args(s) if isinstance(s, Schedule) else None for s in scheds]
    out = []
    for sched, mine in zip(scheds, args):
        if mine is None:
            out.append(getattr(sched, "__name__", type(sched).__name__))
            continue
        texts = [dict((k, t) for k, t, _ in a) for s, a in zip(scheds, args) if a and s.name == sched.name]
        differ = {k for k, text, _ in mine if any(t.get(k) != text for t in texts)}
        first = [(k, text, False) for k, text, _ in mine if k in differ]
        out.append(_text(sched, first + [a for a in mine if a[0] not in differ], width))
    seen: dict[str, int] = {}
    for i, text in enumerate(out):
        seen[text] = seen.get(text, 0) + 1
        if seen[text] > 1:
            out[i] = f"{text} #{seen[text]}"
    return out


_MISSING = object()


def _equal(value: Any, default: Any) -> bool:
    """Whether a stored hyperparameter is its default (a float32 0.3 is the default 0.3)."""
    if default is _MISSING or isinstance(value, Schedule):
        return False
    try:
        v, d = np.asarray(value), np.asarray(default)
        if v.dtype.kind == "f" and d.dtype.kind in "iuf":
            d = d.astype(v.dtype)
        return v.shape == d.shape and bool(np.all(v == d))
    except (TypeError, ValueError):
        return False


def plot(
    sched_or_dict: Any,
    steps: Any,
    ax: Any = None,
    *,
    log: bool = False,
    title: str | None = None,
    **line_kwargs: Any,
) -> Any:
    """Plot one schedule, or several from a dict of label -> schedule, over `steps`; returns the Axes.

    The legend goes under the axes, below the x label, so that it covers no curve (`fig.tight_layout()`
    or `savefig(..., bbox_inches="tight")` make room for it; `ax.legend()` puts it back inside).

    Args:
      sched_or_dict: a schedule (labelled with its name and non-default hyperparameters) or a mapping
        of labels to schedules, overlaid.
      steps: an int N (steps 0..N-1) or the steps to evaluate.
      ax: matplotlib Axes to draw on; a new figure when None.
      log: logarithmic learning-rate axis.
      title: the Axes title.
      **line_kwargs: passed to `ax.plot` for every line.

    Example:
      >>> import optax_lrs as lrs
      >>> ax = plot({"cosine": lrs.cosine_decay_schedule(0.1, 100)}, 100, log=True)
      >>> ax.get_yscale(), ax.get_lines()[0].get_label()
      ('log', 'cosine')
    """
    if ax is None:
        from optax_lrs._extras import require

        plt = require("matplotlib.pyplot", feature="optax_lrs.plot")
        _, ax = plt.subplots(figsize=(8, 4.5))
    if isinstance(sched_or_dict, Mapping):
        if not sched_or_dict:
            raise ValueError("plot: sched_or_dict must be a schedule or a non-empty mapping, got {}")
        items = [(str(k), v) for k, v in sched_or_dict.items()]
    else:
        items = [(label(sched_or_dict), sched_or_dict)]
    t = _steps("plot", steps)
    for name, sched in items:
        _check_callable("plot", "sched_or_dict", sched)
        ax.plot(t, values(sched, t), label=name, **line_kwargs)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    _legend_below(ax)
    return ax


def _legend_below(ax: Any) -> None:
    """The legend under the axes, below the x tick labels and the x label, so that it covers no curve
    (`tight_layout` or `bbox_inches="tight"` make room for it)."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties
    from matplotlib.transforms import offset_copy

    rc = mpl.rcParams

    def height(size: Any) -> float:  # a line of text, in points
        return 1.25 * FontProperties(size=size).get_size_in_points()

    below = (
        max(rc["xtick.major.size"], 0) + rc["xtick.major.pad"] + height(rc["xtick.labelsize"])
        + rc["axes.labelpad"] + height(rc["axes.labelsize"]) + 4
    )  # fmt: skip
    anchor = offset_copy(ax.transAxes, fig=ax.figure, y=-below, units="points")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor)
