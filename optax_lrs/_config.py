"""Configs: schedules to JSON-serialisable dicts and back, and the formatting `repr` uses.

`from_config` is safe for configs from untrusted sources by default: it builds registered schedules
only, from plain JSON data only, and imports no code (a `from_fn` function must be allowed by name).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

from optax_lrs._base import _REGISTRY, Schedule, available, get, is_traced

MAX_DEPTH = 64  # dicts and lists inside one another; far above any real config, far below the stack
MAX_VALUES = 1_000_000  # bounds the work on YAML aliases, whose shared nodes multiply the tree

_JSON_SCALARS = (str, int, float, bool, type(None))


def function_name(fn: Any) -> str | None:
    """`"module:qualname"` of an importable function; None for lambdas, closures and nameless objects."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    return f"{module}:{qualname}"


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
        arr = np.asarray(value)
        if arr.dtype in _SHORT_DTYPES:  # 3e-4 in float32 is stored as 0.0003, not 0.0003000000142492354
            return np.array([shortest(x) for x in arr.flat], dtype=object).reshape(arr.shape).tolist()
        return arr.tolist()
    if callable(value):
        name = function_name(value)
        if name is None:
            raise ValueError(
                f"to_config: {value!r} cannot be stored; pass an importable function (not a lambda "
                "or closure) to from_fn"
            )
        return name
    return value


_SHORT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32))


def shortest(x: Any) -> float:
    """`x` as the Python float whose `repr` is the shortest decimal that reads back as `x` in x's own
    dtype: float32 0.1 is 0.1 (not 0.10000000149011612), float64 values are unchanged.

    Reading that decimal back into the dtype gives `x`'s bits (checked; in the rare case where rounding
    twice, decimal to float64 to float32, would not, the exact value of `x` is kept instead). Near the
    dtype's largest value the exact value is kept too: 3.4028235e38 reads back as float32's largest
    value, but exceeds it in float64, where the constructors' range check would refuse it.

    Example:
      >>> import numpy as np
      >>> shortest(np.float32(3e-4)), float(np.float32(3e-4))
      (0.0003, 0.0003000000142492354)
    """
    arr = np.asarray(x)
    if arr.dtype not in _SHORT_DTYPES or not np.isfinite(arr):
        return float(arr)
    short = float(np.format_float_scientific(arr[()], unique=True))
    exact = arr.dtype.type(short) == arr and abs(short) <= float(np.finfo(arr.dtype).max)
    return short if exact else float(arr)


def to_config(schedule: Schedule) -> dict[str, Any]:
    """`{"schedule": <public name>, "params": {...}}`, JSON-serialisable; composites nest.

    Leaves are stored as numbers or nested lists (a batched schedule keeps its batch axis), each float
    as the shortest decimal that reads back as the same float32 (`shortest`), nested schedules as
    nested configs, user functions as "module:qualname".
    """
    if not isinstance(schedule, Schedule):
        raise ValueError(f"to_config: schedule must be an optax_lrs Schedule, got {schedule!r}")
    return {"schedule": schedule.name, "params": {k: _encode(v) for k, v in schedule.params().items()}}


def _short(value: Any, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _where(path: tuple | None) -> str:
    """`params.schedules[0].params.init_value` from the linked path `(parent, key)` of a value."""
    keys = []
    while path is not None:
        path, key = path
        keys.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(keys)).lstrip(".") or "the top level"


def check_data(config: Any) -> None:
    """Refuse anything but plain JSON data, nesting deeper than MAX_DEPTH, or more than MAX_VALUES values.

    Iterative, so that a deep config gives this error and not a RecursionError.
    """
    stack: list[tuple[Any, int, tuple | None]] = [(config, 1, None)]
    count = 0
    while stack:
        count += 1
        if count > MAX_VALUES:
            raise ValueError(f"from_config: config has more than {MAX_VALUES} values")
        value, depth, path = stack.pop()
        if isinstance(value, _JSON_SCALARS):
            continue
        if not isinstance(value, (dict, list, tuple)):  # e.g. the objects of YAML tags
            raise ValueError(
                "from_config: config values must be JSON data (dict, list, str, number, bool, None), "
                f"got {_short(value)} at {_where(path)}"
            )
        if depth > MAX_DEPTH:
            raise ValueError(f"from_config: config nested deeper than {MAX_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(value, dict) and not isinstance(key, str):
                raise ValueError(
                    f"from_config: config keys must be strings, got {_short(key)} at {_where(path)}"
                )
            stack.append((item, depth + 1, (path, key)))


def check_params(name: str, params: Mapping[str, Any]) -> None:
    """Unknown or missing parameters of schedule `name` as a ValueError naming both (not a TypeError)."""
    variadic = (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    signature = inspect.signature(_REGISTRY[name].constructor).parameters.values()
    named = [p.name for p in signature if p.kind not in variadic]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature)  # from_fn's hyperparams
    unknown = [k for k in params if k not in named]
    if unknown and not takes_any:
        raise ValueError(f"{name}: unknown parameter {unknown[0]!r}; parameters: {', '.join(named)}")
    missing = [
        p.name
        for p in signature
        if p.default is inspect.Parameter.empty and p.kind not in variadic and p.name not in params
    ]
    if missing:
        raise ValueError(f"{name}: missing parameter {missing[0]!r}; parameters: {', '.join(named)}")


def _allowed(allowed_functions: Any) -> dict[str, Callable[..., Any]]:
    if allowed_functions is None:
        return {}
    if isinstance(allowed_functions, Mapping):
        pairs = list(allowed_functions.items())
    elif isinstance(allowed_functions, Sequence) and not isinstance(allowed_functions, str):
        pairs = [(function_name(fn), fn) for fn in allowed_functions]
    else:
        raise ValueError(
            "from_config: allowed_functions must be a mapping name -> function or a sequence of "
            f"functions, got {_short(allowed_functions)}"
        )
    for key, fn in pairs:
        if not isinstance(key, str) or not callable(fn):
            raise ValueError(
                "from_config: allowed_functions must hold importable functions (not lambdas or "
                f"closures, unless named in a mapping), got {_short(fn)}"
            )
    return dict(pairs)


def _is_config(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"schedule", "params"}


def build(config: Any, resolve: Callable[[str], Callable[..., Any]]) -> Schedule:
    """A schedule from a config (after `check_data`), `resolve` turning from_fn's "module:qualname"."""
    check_data(config)
    return _build(config, resolve)


def _build(config: Any, resolve: Callable[[str], Callable[..., Any]]) -> Schedule:
    if not _is_config(config):
        raise ValueError(
            f"from_config: config must be a dict with keys 'schedule' and 'params', got {_short(config)}"
        )
    name, params = config["schedule"], config["params"]
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"from_config: unknown schedule {_short(name)}; available: {', '.join(available())}")
    if not isinstance(params, dict):
        raise ValueError(f"from_config: params of {name} must be a dict of parameters, got {_short(params)}")
    check_params(name, params)
    containers = _REGISTRY[name].containers
    kwargs = {k: _decode(v, resolve, batched=k not in containers) for k, v in params.items()}
    if name == "from_fn" and isinstance(kwargs["fn"], str):  # from_fn refuses what is not callable
        kwargs["fn"] = resolve(kwargs["fn"])
    return get(name, **kwargs)


def _is_numbers(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_is_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decode(value: Any, resolve: Callable[[str], Callable[..., Any]], batched: bool = False) -> Any:
    if batched and isinstance(value, list) and _is_numbers(value):
        # a batched leaf (a `stack` or `grid`): a number per member; ragged lists stay lists (refused)
        try:
            return np.asarray(value)
        except ValueError:
            return value
    if _is_config(value):
        return _build(value, resolve)
    if isinstance(value, dict):
        return {k: _decode(v, resolve) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decode(v, resolve) for v in value]
    return value


def from_config(
    config: Mapping[str, Any],
    *,
    safe_mode: bool = True,
    allowed_functions: Mapping[str, Callable[..., Any]] | Sequence[Callable[..., Any]] | None = None,
) -> Schedule:
    """Rebuild a schedule from `to_config`'s output (after a JSON or YAML round trip too).

    Safe by default, like Keras's `safe_mode`, so that a config from an untrusted source cannot run
    code: it may name only registered schedules (`available()`), its values must be plain JSON data
    (dict, list, str, number, bool, None; tuples read as lists), nested at most MAX_DEPTH (64) levels
    deep, and a `from_fn` function stored as `"module:qualname"` is never imported unless allowed.

    Args:
      config: `{"schedule": name, "params": {...}}`, as `to_config` writes it.
      safe_mode: with False, `from_fn` functions not in `allowed_functions` are imported by name
        (running the module's import-time code): only for configs you trust.
      allowed_functions: the functions a config may name for `from_fn`: a sequence of functions,
        matched by their `"module:qualname"`, or a mapping from the name in the config to the function.

    Raises:
      ValueError: naming what is wrong (unknown schedule or parameter, missing parameter, non-JSON
        value, too deep, a function not allowed), before anything is imported.

    Example:
      >>> import optax_lrs
      >>> cfg = {"schedule": "step_decay", "params": {"init_value": 1.0, "decay_rate": 0.5, "decay_steps": 2}}
      >>> float(from_config(cfg)(4))
      0.25
      >>> from_config({"schedule": "from_fn", "params": {"fn": "os:getcwd"}})
      Traceback (most recent call last):
      ...
      ValueError: from_config: fn 'os:getcwd' (a from_fn function) is not allowed in safe mode, ...
    """
    allowed = _allowed(allowed_functions)

    def resolve(fn: str) -> Any:
        if fn in allowed:
            return allowed[fn]
        if safe_mode:
            raise ValueError(
                f"from_config: fn {fn!r} (a from_fn function) is not allowed in safe mode, so it was "
                "not imported; allow it with allowed_functions=[the function] or, for a config you "
                "trust, safe_mode=False"
            )
        return fn  # from_fn imports it

    return build(config, resolve)


class _Repeated(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Repeated(f"key {key!r} appears twice in one mapping")
        seen[key] = value
    return seen


def repeated_key(text: str, yaml_text: bool) -> str | None:
    """Where a JSON (or, with `yaml_text`, YAML) text repeats a key in one mapping, else None (None
    too for a text that does not parse: its loader reports that).

    `json.loads` and `yaml.safe_load` keep the last value silently, so that a config giving
    `decay_steps` twice would run with one of the two.
    """
    try:
        if not yaml_text:
            json.loads(text, object_pairs_hook=_unique_pairs)
            return None
        import yaml

        class UniqueKeyLoader(yaml.SafeLoader):
            def construct_mapping(self, node, deep=False):
                if isinstance(node, yaml.MappingNode):
                    seen = set()
                    for key_node, _ in node.value:
                        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` may be overridden
                            continue
                        key = self.construct_object(key_node, deep=True)
                        try:
                            repeated = key in seen
                        except TypeError:  # an unhashable key: the loader reports it
                            continue
                        if repeated:
                            line = key_node.start_mark.line + 1
                            raise _Repeated(f"key {key!r} appears twice in one mapping (line {line})")
                        seen.add(key)
                return super().construct_mapping(node, deep=deep)

        yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except _Repeated as e:
        return str(e)
    except Exception:  # noqa: BLE001 (not valid JSON/YAML: the config loader says why)
        return None
    return None


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
        return repr(_encode(arr))  # [7, 13, 29] and [0.1, 0.2], as they were typed
    if callable(value):
        return getattr(value, "__qualname__", repr(value))
    return repr(value)
