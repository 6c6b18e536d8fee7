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


def label(sched: Any, width: int = 110) -> str:
    """A readable one-line label: the name and the hyperparameters that differ from the defaults.

    Example:
      >>> import optax_lrs as lrs
      >>> label(lrs.cosine_decay_schedule(0.1, 1000))
      'cosine_decay_schedule(init_value=0.1, decay_steps=1000)'
    """
    if not isinstance(sched, Schedule):
        return getattr(sched, "__name__", type(sched).__name__)
    import optax_lrs

    ctor = getattr(optax_lrs, sched.name, None)
    params = sched.params()
    if ctor is not None:
        defaults = {
            k: p.default
            for k, p in inspect.signature(ctor).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
        params = {k: v for k, v in params.items() if not _equal(v, defaults.get(k, _MISSING))}
    text = f"{sched.name}(" + ", ".join(f"{k}={format_value(v)}" for k, v in params.items()) + ")"
    return text if len(text) <= width else text[: width - 1] + "…"


_MISSING = object()


def _equal(value: Any, default: Any) -> bool:
    if default is _MISSING:
        return False
    try:
        return bool(np.all(np.asarray(value) == np.asarray(default))) and np.ndim(value) == np.ndim(default)
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
        import matplotlib.pyplot as plt

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
    ax.legend(fontsize="small")
    return ax
