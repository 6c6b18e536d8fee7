"""The other libraries' schedules by their own names (SPEC §7).

`optax_lrs.compat.keras`, `.torch`, `.mxnet`, `.timm`, `.hf`, `.tf_od` and `.encoding` hold their
schedule classes and functions with their own names, parameter names and defaults. Each returns an
ordinary optax_lrs `Schedule` indexed by optax's count (0 on the first update) whose values equal the
library's learning rate for that update: step conventions (MXNet's 1-based update count, torch's and
timm's per-epoch stepping, Keras callbacks) are translated, and each docstring shows the original
signature and the translation. The submodules are imported on first use, so that
`import optax_lrs` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

MODULES = ("keras", "torch", "mxnet", "timm", "hf", "tf_od", "encoding")


def __getattr__(name: str) -> Any:
    if name in MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(MODULES)
