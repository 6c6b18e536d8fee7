"""Schedules from the command line: `name:key=value,...` or a JSON/YAML config file."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

from optax_lrs._base import Schedule, available, get
from optax_lrs._config import from_config


def _split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside brackets and quotes: `a=[1,2],b=3` -> ['a=[1,2]', 'b=3']."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _value(text: str) -> Any:
    """A Python literal (number, list, dict, None, True) or, failing that, the bare string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse(spec: str) -> Schedule:
    """A schedule from `name:key=value,key=value` (values are Python literals) or a config file path.

    Example:
      >>> parse("cosine_decay_schedule:init_value=0.1,decay_steps=1000")
      cosine_decay_schedule(init_value=0.1, decay_steps=1000, alpha=0.0, exponent=1.0)
      >>> parse("multistep_decay:init_value=1,boundaries=[30, 60],decay_rate=0.1")(45)
      Array(0.1, dtype=float32)
    """
    path = Path(spec)
    if spec.endswith((".json", ".yaml", ".yml")):
        if not path.is_file():
            raise ValueError(f"config file {spec!r} does not exist")
        try:
            return from_config(_load(path))
        except TypeError as e:
            raise ValueError(f"config file {spec!r}: {e}") from None
    name, _, rest = spec.partition(":")
    if name not in available():
        raise ValueError(f"unknown schedule {name!r} (see `optax-lrs list`)")
    kwargs = {}
    for item in _split_top(rest, ",") if rest.strip() else []:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key.isidentifier():
            raise ValueError(f"{name}: expected key=value, got {item!r}")
        value = _value(text.strip())
        if isinstance(value, str) and any(c in text for c in "[]{}()"):
            raise ValueError(f"{name}: {key} must be a Python literal, got {text.strip()!r}")
        kwargs[key] = value
    params = inspect.signature(get_constructor(name)).parameters
    unknown = [k for k in kwargs if k not in params]
    if unknown:
        raise ValueError(f"{name}: unknown parameter {unknown[0]!r}; parameters: {', '.join(params)}")
    missing = [k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in kwargs]
    if missing:
        raise ValueError(f"{name}: missing parameter {missing[0]!r}; parameters: {', '.join(params)}")
    return get(name, **kwargs)


def get_constructor(name: str):
    import optax_lrs

    return getattr(optax_lrs, name)


def _load(path: Path) -> Any:
    text = path.read_text()
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"config file {str(path)!r} is not valid JSON: {e}") from None
    try:
        import yaml
    except ImportError:
        raise ValueError(
            f"config file {str(path)!r}: reading YAML needs PyYAML (pip install pyyaml)"
        ) from None
    return yaml.safe_load(text)
