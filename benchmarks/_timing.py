"""Timing shared by every benchmark: compiled first, then interleaved medians with block_until_ready."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import jax


def backend() -> tuple[str, str]:
    """(backend name, device kind) as jax reports them."""
    return jax.default_backend(), jax.devices()[0].device_kind


def _once(fn: Callable[..., Any], args: tuple) -> float:
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0


def compare(
    ours: Callable[..., Any],
    baseline: Callable[..., Any] | None,
    args: tuple = (),
    reps: int = 7,
    budget_s: float = 20.0,
) -> tuple[float, float | None]:
    """Median seconds of `ours(*args)` and `baseline(*args)`, each run once first (compilation).

    Runs alternate (ours, baseline, ours, ...) so that load on a shared machine hits both alike. At least
    three repetitions; fewer than `reps` when they would take longer than `budget_s`.
    """
    fns = [ours] if baseline is None else [ours, baseline]
    for fn in fns:
        jax.block_until_ready(fn(*args))
    times: list[list[float]] = [[] for _ in fns]
    start = time.perf_counter()
    for i in range(reps):
        for fn, ts in zip(fns, times):
            ts.append(_once(fn, args))
        if i >= 2 and time.perf_counter() - start > budget_s:
            break
    meds = [statistics.median(ts) for ts in times]
    return meds[0], (meds[1] if baseline is not None else None)


def per_call(fn: Callable[[], Any], calls: int) -> float:
    """Seconds per call of a cheap `fn()`: the median over 5 batches of `calls` calls."""
    jax.block_until_ready(fn())
    batches = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls):
            jax.block_until_ready(fn())
        batches.append((time.perf_counter() - t0) / calls)
    return statistics.median(batches)


def compile_time(make: Callable[[], Callable[..., Any]], args: tuple, reps: int = 3) -> float:
    """Median seconds to trace, lower and compile a fresh `jax.jit(make())` for `args`."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.jit(make()).lower(*args).compile()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def record(
    benchmark: str,
    case: str,
    ours_s: float | None,
    baseline: str | None,
    baseline_s: float | None,
    note: str = "",
) -> dict[str, Any]:
    """One JSON record; `ratio` is ours / baseline (below 1: ours is faster)."""
    name, device = backend()
    ratio = ours_s / baseline_s if ours_s is not None and baseline_s else None
    rec = {
        "benchmark": benchmark,
        "case": case,
        "ours_s": ours_s,
        "baseline": baseline,
        "baseline_s": baseline_s,
        "ratio": ratio,
        "backend": name,
        "device": device,
    }
    if note:
        rec["note"] = note
    return rec
