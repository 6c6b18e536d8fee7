"""The people-facing layer's optional packages (`pip install "optax_lrs[demo]"`).

The core imports only jax, optax, chex and numpy. The demo, the plots and the command line's pictures need
matplotlib, scikit-learn and tqdm (YAML configs need PyYAML); when one is missing, `require` says in one
line which `pip install` brings it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

# import name -> the name pip knows it by
PIP_NAMES = {"sklearn": "scikit-learn", "yaml": "pyyaml"}
EXTRAS = ("demo", "all")


class MissingExtra(ModuleNotFoundError, ValueError):
    """An optional package is not installed. A `ModuleNotFoundError`, as `import` would raise; also a
    `ValueError`, so that the command line reports it as one line, as it reports bad input."""


def require(module: str, extra: str = "demo", feature: str = "this") -> ModuleType:
    """Import `module` and return it; if it is not installed, raise `MissingExtra` whose one-line message
    names `feature`, the package and the `pip install "optax_lrs[extra]"` that installs it.

    Example:
      >>> require("json").__name__
      'json'
    """
    if extra not in EXTRAS:
        raise ValueError(f"require: extra must be one of {', '.join(EXTRAS)}, got {extra!r}")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        top = module.split(".")[0]
        if e.name is not None and e.name.split(".")[0] != top:
            raise  # the package is there but one of its own dependencies is not: its error says which
        package = PIP_NAMES.get(top, top)
        message = f'{feature} needs {package}, which is not installed: pip install "optax_lrs[{extra}]"'
        raise MissingExtra(message, name=module) from None


def use_file_backend() -> None:
    """For commands that only write image files: matplotlib's Agg backend, unless a backend is already
    chosen (by MPLBACKEND, a matplotlibrc, a notebook's inline backend, or pyplot already in use), which
    is left as it is. Never called on import or by library functions: a caller's session keeps its own."""
    matplotlib = require("matplotlib", feature="writing images")
    if "matplotlib.pyplot" in sys.modules:
        return
    try:
        chosen = matplotlib.get_backend(auto_select=False)
    except TypeError:  # matplotlib < 3.10 has no auto_select
        chosen = matplotlib.rcParams._get_backend_or_none()
    if chosen is None:
        matplotlib.use("Agg")
