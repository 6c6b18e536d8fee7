"""Schedules from the command line: `name:key=value,...` or a JSON/YAML config file.

Both go through the config loader, so the command line is as safe as `from_config`: registered
schedules only, plain data only, and no code imported unless the caller passes `allow_code`.
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path
from typing import Any

from optax_lrs._base import Schedule, available
from optax_lrs._config import build, repeated_key

CONFIG_SUFFIXES = (".json", ".yaml", ".yml")
MAX_CONFIG_BYTES = 1 << 20  # 1 MiB: a hand-written or to_config config is a few kB

# an unquoted value that is not a Python literal is read as a string only if it is one word
# (mode="1-sqrt", fn=module:name); anything else is a typo such as `decay_steps=10;` or `10**3`
_BARE_WORD = re.compile(r"[\w.:+\-]+")


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


def _value(name: str, key: str, text: str) -> Any:
    """A Python literal (number, list, dict, None, True) or, failing that, a bare word as a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):  # the last two: absurd nesting
        if _BARE_WORD.fullmatch(text):
            return text
        raise ValueError(f"{name}: {key} must be a Python literal or a bare word, got {text!r}") from None


def _resolver(allow_code: bool):
    def resolve(fn: str) -> Any:
        if not allow_code:
            raise ValueError(
                f"from_fn: fn {fn!r} is Python code to import and run, refused without --allow-code "
                "(pass it only for configs you trust)"
            )
        return fn  # from_fn imports it

    return resolve


def parse(spec: str, *, allow_code: bool = False) -> Schedule:
    """A schedule from `name:key=value,key=value` (values are Python literals) or a config file path.

    A `from_fn` function given by name (`fn=module:qualname`) is imported and run only with
    `allow_code`.

    Example:
      >>> parse("cosine_decay_schedule:init_value=0.1,decay_steps=1000")
      cosine_decay_schedule(init_value=0.1, decay_steps=1000, alpha=0.0, exponent=1.0)
      >>> parse("multistep_decay:init_value=1,boundaries=[30, 60],decay_rate=0.1")(45)
      Array(0.1, dtype=float32)
    """
    if spec.endswith(CONFIG_SUFFIXES):
        try:
            return build(_load(spec), _resolver(allow_code))
        except (ValueError, TypeError) as e:
            raise ValueError(f"config file {spec!r}: {e}") from None
    name, _, rest = spec.partition(":")
    if name not in available():
        if os.path.exists(spec):  # unlike Path.exists, False for names the OS refuses
            raise ValueError(f"config file {spec!r} must end in {', '.join(CONFIG_SUFFIXES)}")
        raise ValueError(f"unknown schedule {name!r} (see `optax-lrs list`)")
    kwargs = {}
    for item in _split_top(rest, ",") if rest.strip() else []:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key.isidentifier():
            raise ValueError(f"{name}: expected key=value, got {item!r}")
        if key in kwargs:
            raise ValueError(f"{name}: {key} is given twice")
        kwargs[key] = _value(name, key, text.strip())
    return build({"schedule": name, "params": kwargs}, _resolver(allow_code))


def _load(spec: str) -> Any:
    """The data in a config file; every problem is a one-line ValueError."""
    path = Path(spec)
    try:
        if not path.exists():
            raise ValueError("does not exist")
        if not path.is_file():
            raise ValueError("is a directory" if path.is_dir() else "is not a regular file")
        with path.open("rb") as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ValueError(f"cannot be read: {e.strerror or e}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text") from None
    if not text.strip():
        raise ValueError("is empty")
    # json and yaml keep the last of two values silently: a key given twice is an error
    repeated = repeated_key(text, yaml_text=path.suffix != ".json")
    if repeated:
        raise ValueError(repeated)
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except RecursionError:
            raise ValueError("is nested too deeply") from None
        except ValueError as e:  # JSONDecodeError, or an integer with thousands of digits
            raise ValueError(f"is not valid JSON: {e}") from None
    from optax_lrs._extras import require

    yaml = require("yaml", feature="reading YAML configs")
    try:
        # safe_load builds no Python objects from tags (!!python/... is refused), only plain data
        return yaml.safe_load(text)
    except RecursionError:
        raise ValueError("is nested too deeply") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        what = " ".join(f"{e.context or ''} {e.problem or ''}".split())  # one line
        raise ValueError(f"is not valid YAML: {what}{at}") from None
    except (yaml.YAMLError, ValueError) as e:  # ValueError: an integer with thousands of digits
        raise ValueError(f"is not valid YAML: {' '.join(str(e).split())}") from None
