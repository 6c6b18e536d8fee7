"""Configs: schedules to JSON-serialisable dicts and back, and the formatting `repr` uses."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from optax_lrs._base import Schedule, get, is_traced


def _encode(value: Any) -> Any:
    if isinstance(value, Schedule):
        return to_config(value)
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, (jax.Array, np.ndarray, np.generic)):
        if is_traced(value):
            raise ValueError("to_config: a schedule with traced hyperparameters has no config")
        return np.asarray(value).tolist()
    if callable(value):
        module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", "")
        if module is None or "<" in qualname:
            raise ValueError(
                f"to_config: {value!r} cannot be stored; pass an importable function (not a lambda "
                "or closure) to from_fn"
            )
        return f"{module}:{qualname}"
    return value


def to_config(schedule: Schedule) -> dict[str, Any]:
    """`{"schedule": <public name>, "params": {...}}`, JSON-serialisable; composites nest.

    Leaves are stored as numbers or nested lists (a batched schedule keeps its batch axis), nested
    schedules as nested configs, user functions as "module:qualname".
    """
    if not isinstance(schedule, Schedule):
        raise ValueError(f"to_config: schedule must be an optax_lrs Schedule, got {schedule!r}")
    return {"schedule": schedule.name, "params": {k: _encode(v) for k, v in schedule.params().items()}}


def _is_config(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"schedule", "params"}


def _decode(value: Any) -> Any:
    if _is_config(value):
        return from_config(value)
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def from_config(config: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from `to_config`'s output (after a JSON round trip too)."""
    if not _is_config(config):
        raise ValueError(
            f"from_config: config must be a dict with keys 'schedule' and 'params', got {config!r}"
        )
    params = {k: _decode(v) for k, v in config["params"].items()}
    return get(config["schedule"], **params)


def format_value(value: Any) -> str:
    """Short, readable form of a hyperparameter for `repr`: float32 values print as they were typed."""
    if isinstance(value, Schedule):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (jax.Array, np.ndarray)):
        if is_traced(value):
            return f"<traced {value.dtype}{list(value.shape)}>"
        arr = np.asarray(value)
        if arr.ndim == 0:
            return str(arr.item()) if arr.dtype.kind in "iub" else str(arr)
        if arr.size > 8:
            return f"<{arr.dtype}{list(arr.shape)}>"
        return np.array2string(arr, separator=", ")
    if callable(value):
        return getattr(value, "__qualname__", repr(value))
    return repr(value)
