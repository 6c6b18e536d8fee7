"""The `Schedule` base: pytree registration, validation, the registry, `stack` and `grid`.

A schedule is a frozen dataclass whose numeric hyperparameters are pytree leaves and whose structural
parameters (mode strings, flags, opaque callables) are static. Subclasses only declare fields and a
`value(t)` method; everything else (clamping the step, the output dtype, the cached eager executable,
`repr`, equality, configs) lives here.
"""

from __future__ import annotations

import collections
import contextvars
import dataclasses
import inspect
import itertools
import math
import numbers
import os
import sys
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, NoReturn

import jax
import jax.numpy as jnp
import numpy as np

# --------------------------------------------------------------------------------------------------
# fields


def static() -> Any:
    """A structural field: part of the pytree's treedef, never a leaf."""
    return dataclasses.field(metadata={"static": True})


def int_leaf() -> Any:
    """A leaf that counts steps: stored as an integer array so phases stay exact."""
    return dataclasses.field(metadata={"kind": "int"})


def float_leaf() -> Any:
    """A real-valued leaf (a value, rate, factor or exponent): differentiable."""
    return dataclasses.field(metadata={"kind": "float"})


def derived() -> Any:
    """A leaf computed by the constructor from the others (a table of cycle starts, phase ends): part
    of the pytree, not a constructor argument, so configs and `repr` leave it out."""
    return dataclasses.field(metadata={"kind": "derived"})


def child() -> Any:
    """A field holding schedules (a `Schedule` or a tuple of them): a subtree."""
    return dataclasses.field(metadata={"kind": "child"})


def float_dtype() -> jnp.dtype:
    """float32, or float64 when `jax_enable_x64` is on."""
    return jax.dtypes.canonicalize_dtype(jnp.float64)


def int_dtype() -> jnp.dtype:
    return jax.dtypes.canonicalize_dtype(jnp.int64)


def is_traced(x: Any) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(x))


# --------------------------------------------------------------------------------------------------
# validation: one mechanism for every constructor
#
# A concrete hyperparameter (a Python number, a NumPy or concrete JAX array) is checked; a traced one
# is not (the schedules clamp it so that the output stays finite). Every failure is a ValueError
# "<function>: <param> must be <rule>, got <value>" that names the public parameter and shows the
# value as it was given.


def _shown(value: Any) -> Any:
    return value.tolist() if isinstance(value, (np.ndarray, np.generic, jax.Array)) else value


def fail(fn: str, param: str, rule: str, value: Any) -> NoReturn:
    shown = repr(_shown(value))
    if len(shown) > 300:  # a batch of 20 000 values: the start of it and its size, not all of it
        try:
            size = f" ({np.size(value)} values)" if np.ndim(value) else ""
        except Exception:  # not array-like: its repr's start is enough
            size = ""
        shown = f"{shown[:240]}...{size}"
    raise ValueError(f"{fn}: {param} must be {rule}, got {shown}")


def _to_real(x: Any) -> float:
    """One real number as a float (beyond float64's range: ±inf); TypeError for anything else."""
    if isinstance(x, (np.ndarray, jax.Array)) and x.ndim == 0 and x.dtype.kind in "iuf":
        return float(x)
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(x)
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _real_array(fn: str, param: str, value: Any, what: str, sequence: bool) -> tuple[np.ndarray, bool]:
    """`value` as a float64 array, and whether it was given as floating-point numbers.

    Accepted: a real number, a NumPy or JAX array of integers or floats, and with `sequence` a
    (nested) list or tuple of real numbers. Anything else (None, strings, bools, complex numbers,
    dicts, lists where a number is expected, other objects) fails, the rule being `what`.
    """
    try:
        if isinstance(value, (np.ndarray, np.generic, jax.Array)):
            arr = np.asarray(value)
            if arr.dtype.kind in "iuf":
                return arr.astype(np.float64), arr.dtype.kind == "f"
        elif isinstance(value, (list, tuple)):
            if sequence:
                items = np.asarray(value, dtype=object)
                flat = np.asarray([_to_real(x) for x in items.flat], np.float64).reshape(items.shape)
                return flat, any(not isinstance(x, numbers.Integral) for x in items.flat)
        else:
            return np.asarray(_to_real(value)), not isinstance(value, numbers.Integral)
    except (TypeError, ValueError):
        pass
    fail(fn, param, what, value)


def _image(fn: str, param: str, value: Any) -> np.ndarray:
    """The number a schedule would hold: floats rounded to the float dtype (1e-50 is 0 in float32),
    integers exact."""
    arr, is_float = _real_array(fn, param, value, "a real number", sequence=True)
    if is_float:
        with np.errstate(over="ignore", under="ignore"):
            arr = arr.astype(float_dtype()).astype(np.float64)
    return arr


def check(
    fn: str,
    param: str,
    value: Any,
    rule: str,
    ok: Callable[..., Any],
    given: Sequence[Any] = (),
) -> None:
    """Raise `ValueError("<fn>: <param> must be <rule>, got <value>")` when a concrete value breaks a rule.

    `ok(a, *g)` receives the value as a float64 array, floats rounded to the float dtype first (the
    number the schedule will hold), and for a rule relative to other parameters their values `given`
    in the same form. A value that is not a real number (or an array of them) fails too. Not checked:
    None (an optional parameter), traced values (the schedules clamp them so that the output stays
    finite), and a rule whose `given` values are None, traced, or not finite real numbers (their
    own checks report them).
    """
    if value is None or is_traced((value, given)):
        return
    arr = _image(fn, param, value)
    others = []
    for g in given:
        try:
            other = _image(fn, param, g)
        except ValueError:
            return
        if not np.all(np.isfinite(other)):
            return
        others.append(other)
    with np.errstate(invalid="ignore"):
        good = np.all(ok(arr, *others))
    if not good:
        fail(fn, param, rule, value)


def check_choice(fn: str, param: str, value: Any, choices: Sequence[str]) -> None:
    """Raise ValueError listing the valid `choices` unless `value` is one of these strings."""
    if not isinstance(value, str) or value not in choices:
        fail(fn, param, f"one of {', '.join(map(repr, choices))}", value)


def as_flag(fn: str, param: str, value: Any) -> bool:
    """A boolean flag: True or False (NumPy bools too). 0, 1, None or the string "false" fail."""
    if not isinstance(value, (bool, np.bool_)):
        fail(fn, param, "True or False", value)
    return bool(value)


_INT32 = (-(2**31), 2**31 - 1)

# the float arrays warned about last, so that a constructor that converts one argument twice (a
# compat layer's check, then the schedule it builds) warns once
_WARNED_FLOAT_COUNTS: collections.deque[weakref.ref] = collections.deque(maxlen=8)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _warn_float_count(fn: str, param: str, value: Any) -> None:
    """Warn that a JAX float array given for an integer parameter is rounded: a gradient with
    respect to it is zero (the case where someone expects one). Python floats and NumPy values
    are accepted silently."""
    if any(ref() is value for ref in _WARNED_FLOAT_COUNTS):
        return
    try:
        _WARNED_FLOAT_COUNTS.append(weakref.ref(value))
    except TypeError:
        pass  # a list of traced values: warned about each time it is converted
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(
        f"{fn}: {param} counts steps and is stored as an integer, so the float array given is "
        "rounded and gradients with respect to it are zero; give an integer, and differentiate only "
        "the float hyperparameters (see optax_lrs.partition)",
        UserWarning,
        stacklevel=level,
    )


def as_leaf(fn: str, param: str, value: Any, kind: str, sequence: bool = False) -> jax.Array:
    """Convert a hyperparameter to an array leaf of its kind ("int" or "float").

    A concrete value must be a real number or a real array (a list or tuple only with `sequence`),
    finite in the float dtype ("float") or an integer within int32's range ("int"). Traced values are
    cast without checks (float counts rounded; out-of-range ones saturate). A JAX float array given
    for an "int" leaf (concrete or traced) is rounded with a `UserWarning`, since a gradient with
    respect to it is zero; Python floats and NumPy values that are whole numbers are not warned about.
    """
    if is_traced(value):
        x = jnp.asarray(value)
        if kind == "int" and not jnp.issubdtype(x.dtype, jnp.integer):
            _warn_float_count(fn, param, value)
            return jnp.round(x).astype(int_dtype())
        if kind == "float" and not jnp.issubdtype(x.dtype, jnp.floating):
            return x.astype(float_dtype())
        return x
    arr, _ = _real_array(fn, param, value, "an integer" if kind == "int" else "a real number", sequence)
    if kind == "int":
        if not np.all(arr == np.round(arr)):
            fail(fn, param, "an integer", value)
        if not np.all((arr >= _INT32[0]) & (arr <= _INT32[1])):
            fail(fn, param, "within int32 range [-2**31, 2**31 - 1]", value)
        if isinstance(value, jax.Array) and jnp.issubdtype(value.dtype, jnp.floating):
            _warn_float_count(fn, param, value)
        return jnp.asarray(arr.astype(np.int64), dtype=int_dtype())
    if not np.all(np.isfinite(arr)):
        fail(fn, param, "finite", value)
    dtype = float_dtype()
    if not np.all(np.abs(arr) <= np.finfo(dtype).max):
        fail(fn, param, f"finite in {np.dtype(dtype).name}", value)
    return jnp.asarray(arr, dtype=dtype)


def boundaries_leaf(fn: str, param: str, boundaries: Any) -> jax.Array:
    """A 1-D sequence of non-negative, non-decreasing integer steps as an int leaf."""
    what = "a 1-D sequence of integer steps"
    if not is_traced(boundaries):
        _real_array(fn, param, boundaries, what, sequence=True)  # numbers at all, before their rules
    leaf = as_leaf(fn, param, boundaries, "int", sequence=True)
    if leaf.ndim != 1:
        fail(fn, param, what, boundaries)
    if not is_traced(leaf):
        steps = np.asarray(leaf)
        if not np.all(steps >= 0):
            fail(fn, param, ">= 0", boundaries)
        if not np.all(np.diff(steps) >= 0):
            fail(fn, param, "sorted in increasing order", boundaries)
    return leaf


def _defaults_to_none(fn: str, param: str) -> bool:
    """Whether the public constructor `fn` gives `param` the default None (it is optional)."""
    entry = _REGISTRY.get(fn)
    if entry is None:
        return False
    p = inspect.signature(entry.constructor).parameters.get(param)
    return p is not None and p.default is None


# --------------------------------------------------------------------------------------------------
# the registry of public constructors


@dataclasses.dataclass(frozen=True)
class _Entry:
    constructor: Callable[..., Schedule]
    # parameters that take a container; for `grid` only a list of such containers is an axis
    containers: Mapping[str, tuple[type, ...]]


_REGISTRY: dict[str, _Entry] = {}


def register(containers: Mapping[str, tuple[type, ...]] | None = None):
    """Register a public constructor under its own name (for `get`, `available`, configs, `grid`)."""

    def deco(fn):
        _REGISTRY[fn.__name__] = _Entry(fn, dict(containers or {}))
        return fn

    return deco


def available() -> list[str]:
    """The public names of every schedule and composition that `get` can build."""
    return sorted(_REGISTRY)


def get(name: str, **kwargs: Any) -> Schedule:
    """Build a schedule by its public name: `get("cosine_decay_schedule", init_value=1.0, decay_steps=10)`."""
    if name not in _REGISTRY:
        raise ValueError(f"get: unknown schedule {name!r}; available: {', '.join(available())}")
    return _REGISTRY[name].constructor(**kwargs)


# --------------------------------------------------------------------------------------------------
# the base class


def clamp_step(step: jax.typing.ArrayLike) -> jax.Array:
    """The step as an array, negative steps read as 0 (integer steps stay integer; float steps are at
    least float32, so that float16/bfloat16 steps never round an integer hyperparameter)."""
    t = jnp.asarray(step)
    if t.dtype == jnp.bool_:
        t = t.astype(int_dtype())
    if jnp.issubdtype(t.dtype, jnp.signedinteger) and t.dtype.itemsize < jnp.dtype(int_dtype()).itemsize:
        t = t.astype(int_dtype())  # int8/int16 steps: sums with step counts must not wrap
    if jnp.issubdtype(t.dtype, jnp.unsignedinteger):
        # signed, so that `t − 1` is -1 at 0; steps past the signed range read as its maximum
        idt = int_dtype()
        top = jnp.iinfo(idt).max
        t = jnp.minimum(t, jnp.asarray(min(top, jnp.iinfo(t.dtype).max), t.dtype)).astype(idt)
    if jnp.issubdtype(t.dtype, jnp.floating):
        t = t.astype(jnp.promote_types(t.dtype, float_dtype()))
    return jnp.maximum(t, jnp.zeros((), t.dtype))


def concrete_steps(sched: Schedule, step: Any) -> Any:
    """`step` ready for the integer dtype: a concrete integer step (a Python int, a NumPy integer, a
    list of them) that it cannot hold would wrap (int32 unless x64 is on), so a step above its range
    is a ValueError naming the schedule, and one below reads as the smallest (every negative step
    reads as 0). Traced steps, JAX arrays (already in a JAX dtype), floats and unsigned NumPy arrays
    that JAX keeps (they saturate, see `clamp_step`) pass unchanged; a list or tuple of numbers comes
    back as the NumPy array it converts to (converted once: `_eager` pads that array)."""
    if isinstance(step, (jax.Array, float, bool, np.bool_, np.floating)):
        return step
    info = np.iinfo(int_dtype())
    if isinstance(step, int):
        if info.min <= step <= info.max:
            return step
        values = np.asarray(step, dtype=object)
    elif isinstance(step, (np.ndarray, np.integer)):
        dtype = np.asarray(step).dtype
        if dtype.kind not in "iu" or jax.dtypes.canonicalize_dtype(dtype) == dtype:
            return step
        values = np.asarray(step)
    elif isinstance(step, (list, tuple)):
        try:
            values = np.asarray(step)
        except (ValueError, TypeError, OverflowError):
            return step  # ragged or not numbers: jax's own error
        if values.dtype.kind == "O":
            if not all(isinstance(x, numbers.Integral) for x in values.flat):
                return step
        elif values.dtype.kind not in "iu":
            return values if values.dtype.kind in "bf" and values.size else step
    else:
        return step
    if values.size == 0:
        return step
    obj = values.dtype.kind == "O"
    top = max(values.flat) if obj else values.max()
    if top > info.max:
        hint = "; for longer runs enable 64-bit steps: jax.config.update('jax_enable_x64', True) or "
        hint += "JAX_ENABLE_X64=1"
        raise ValueError(
            f"{sched.name or type(sched).__name__}: step must be at most 2**{info.bits - 1} - 1 = "
            f"{info.max} (int{info.bits} steps), got {int(top)}{hint if info.bits == 32 else ''}"
        )
    if isinstance(step, int):
        return info.min
    if (min(values.flat) if obj else values.min()) < info.min:
        return np.maximum(values, info.min).astype(np.int64)
    return values if isinstance(step, (list, tuple)) and not obj else step


def _evaluate(sched: Schedule, step: jax.typing.ArrayLike) -> jax.Array:
    t = clamp_step(step)
    if jnp.issubdtype(t.dtype, jnp.floating):
        # A whole-number float step is evaluated as the integer it is: phases, cycle starts and
        # comparisons with integer hyperparameters stay exact above 2**24. Fractional steps use the
        # schedule's continuous formula.
        idt = int_dtype()
        top = float(jnp.iinfo(idt).max)
        whole = jnp.floor(t)
        integral = (whole == t) & (t < top)
        t_int = jnp.where(integral, whole, 0.0).astype(idt)
        out = jnp.where(integral, _value(sched, t_int), _value(sched, t))
    else:
        out = _value(sched, t)
    return jnp.broadcast_to(out, jnp.broadcast_shapes(out.shape, t.shape))


def _value(sched: Schedule, t: jax.Array) -> jax.Array:
    out = jnp.asarray(sched.value(t), float_dtype())
    # Finite whatever the hyperparameters: growth past the float range saturates at its largest
    # value, and traced out-of-domain values (which nothing checks) cannot leak inf or NaN into a
    # training step (NaN, from such values only, reads as 0). Valid values are unchanged.
    big = jnp.finfo(out.dtype).max
    return jnp.clip(jnp.where(jnp.isnan(out), jnp.zeros((), out.dtype), out), -big, big)


def _cycle(sched: Schedule, step: jax.typing.ArrayLike) -> jax.Array:
    t = clamp_step(step)
    idt = int_dtype()
    if jnp.issubdtype(t.dtype, jnp.floating):
        # the cycle of the whole step a fractional step lies in; steps past the integer range read
        # as its maximum
        inside = t < float(jnp.iinfo(idt).max)
        t = jnp.where(inside, jnp.where(inside, jnp.floor(t), 0.0).astype(idt), jnp.iinfo(idt).max)
    out = jnp.asarray(sched.restart_index(t)).astype(idt)
    return jnp.broadcast_to(out, jnp.broadcast_shapes(out.shape, t.shape))


# --------------------------------------------------------------------------------------------------
# what is known of the cycle tables when a program is traced

# The types of the cycle tables of `_cycles`: named tuples whose first field `ends` holds the last step
# before each tabulated cycle (the integer maximum once the cycles pass it) and whose `fact()` says,
# from concrete values, what is known of every step (one of the two below, or None); `_cycles` adds
# them.
TABLE_TYPES: set[type] = set()
REACHES = "reaches"  # the last tabulated cycle starts past the integer maximum: every step is inside
EQUAL = "equal"  # equal cycles (mult = 1): integer division places every step

# While the eager programs are traced: {id of a table's `ends` (a tracer): its fact}, from the hint.
_KNOWN: contextvars.ContextVar[dict[int, str] | None] = contextvars.ContextVar("known", default=None)


def _is_table(x: Any) -> bool:
    return type(x) in TABLE_TYPES


def _tables(sched: Any) -> list[Any]:
    """The cycle tables in `sched`'s leaves, in pytree order."""
    return [x for x in jax.tree_util.tree_leaves(sched, is_leaf=_is_table) if _is_table(x)]


def _concrete_fact(table: Any) -> str | None:
    """`table.fact()` for a table of concrete arrays (every batch row must agree), else None."""
    leaves = jax.tree_util.tree_leaves(table)
    if any(isinstance(x, jax.core.Tracer) for x in leaves):
        return None
    if np.dtype(table.ends.dtype) != np.dtype(int_dtype()) or np.size(table.ends) == 0:
        return None  # built before x64 was switched on (or off): its ends cannot say
    return table.fact()


def known_fact(table: Any, t: Any) -> str | None:
    """What is known, when the program is traced, of where the integer steps `t` lie in `table`:
    `REACHES` (every step is in the table), `EQUAL` (equal cycles) or None. Known for a concrete table
    (a schedule closed over by a jit) and for one the eager call marked (`table_hint`). The code that
    would never run (the cycles after the table; for equal cycles, the table itself) is then left out
    of the program: for a schedule with restarts that code is most of the program, which compiles
    2-3x faster without it. Traced unmarked tables (a schedule passed to a jit, a grid under vmap)
    and real-valued steps (they can lie past 2**31) keep all of it; the values are the same."""
    if not jnp.issubdtype(jnp.result_type(t), jnp.integer):
        return None
    if np.dtype(table.ends.dtype) != np.dtype(int_dtype()):
        return None
    known = (_KNOWN.get() or {}).get(id(table.ends))
    return known if known is not None else _concrete_fact(table)


def table_hint(sched: Any) -> tuple[str | None, ...]:
    """The fact of each cycle table of a concrete schedule (`known_fact`). Computed on the first eager
    call (the tables are read back from the device once) and kept on the object, per integer dtype
    (x64 can be switched on after the schedule is built)."""
    key = np.dtype(int_dtype())
    cached = getattr(sched, "__dict__", {}).get("_table_hint")
    if cached is not None and cached[0] == key:
        return cached[1]
    hint = tuple(_concrete_fact(table) for table in _tables(sched))
    if isinstance(sched, Schedule) and not any(
        isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(sched)
    ):
        object.__setattr__(sched, "_table_hint", (key, hint))
    return hint


def _hinted(fn: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
    """`jit(fn)` for the eager calls, with the schedule's `table_hint` as a static argument: one
    executable per schedule structure and hint (jit keys on the treedef, the leaves are arguments)."""

    def run(sched, step, hint):
        marked = {id(table.ends): fact for table, fact in zip(_tables(sched), hint) if fact}
        token = _KNOWN.set({**(_KNOWN.get() or {}), **marked})
        try:
            return fn(sched, step)
        finally:
            _KNOWN.reset(token)

    run.__name__ = fn.__name__
    return jax.jit(run, static_argnums=2)


_evaluate_jit = _hinted(_evaluate)
_cycle_jit = _hinted(_cycle)

# Concrete step vectors are padded to a bucket length before the jitted call, so that eager calls
# with many lengths (plots, tables, notebooks) share a few compiled programs instead of compiling one
# per length; every value is computed elementwise, so the padding changes nothing. The buckets are the
# powers of four from 16 to 4**8 = 65,536 (at most 4x the steps, a few microseconds more for a
# compile less), then the powers of two (long vectors: the padding's work would start to count).
_MIN_BUCKET = 16
_COARSE_BITS = 16


def bucket(n: int) -> int:
    """The padded length of a vector of n steps."""
    bits = max(n - 1, 0).bit_length()
    if bits <= _COARSE_BITS:
        bits += bits % 2
    return max(_MIN_BUCKET, 1 << bits)


def _eager(fn: Callable[..., jax.Array], sched: Schedule, step: Any) -> jax.Array:
    """`fn(sched, step)` for a concrete step (a scalar, a list, a NumPy or JAX array), its vector
    padded to its `bucket` length and the result cut back to its shape."""
    step = concrete_steps(sched, step)
    hint = table_hint(sched)
    if isinstance(step, (list, tuple, np.ndarray)) or (
        isinstance(step, jax.Array) and step.ndim and step.is_fully_addressable and len(step.devices()) == 1
    ):
        try:
            arr = np.asarray(step)
        except (ValueError, TypeError, OverflowError):
            return fn(sched, step, hint)  # not an array of numbers: jax's own error
        n = arr.size
        size = bucket(n)
        if arr.ndim and n and arr.dtype.kind in "biuf":
            # in the dtype jit would make of it (unsigned steps keep theirs: they saturate in
            # `clamp_step`), so lists, NumPy and JAX vectors share one program
            dtype = arr.dtype if arr.dtype.kind == "u" else jax.dtypes.canonicalize_dtype(arr.dtype)
            padded = np.zeros(size, dtype)
            padded[:n] = arr.reshape(-1)
            try:
                out = fn(sched, padded, hint)
            except (TypeError, ValueError):
                out = None  # batched hyperparameters broadcast against the steps: as given
            if out is not None and out.shape == (size,):
                out = out if size == n else out[:n]
                return out if arr.ndim == 1 else out.reshape(arr.shape)
    return fn(sched, step, hint)


def _register_pytree(cls: type, data: tuple[str, ...], meta: tuple[str, ...]) -> None:
    """Register `cls` with the class itself in the treedef's node data.

    `jax.tree_util.register_dataclass` (jax 0.10) builds treedefs that compare equal across two
    classes with the same fields (only their hashes differ), so a cache keyed on the structure can
    hand one schedule's compiled program to another. Keeping `cls` in the node data makes the class
    part of what treedef equality compares.
    """
    keys = tuple(jax.tree_util.GetAttrKey(name) for name in data)

    def flatten_with_keys(obj):
        children = [(k, getattr(obj, name)) for k, name in zip(keys, data)]
        return children, (cls, tuple(getattr(obj, name) for name in meta))

    def flatten(obj):
        return [getattr(obj, name) for name in data], (cls, tuple(getattr(obj, name) for name in meta))

    def unflatten(aux, children):
        obj = object.__new__(cls)
        for name, value in zip(data, children):
            object.__setattr__(obj, name, value)
        for name, value in zip(meta, aux[1]):
            object.__setattr__(obj, name, value)
        return obj

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)


class Schedule:
    """Base class of every schedule: a frozen dataclass registered as a JAX pytree.

    Subclasses declare fields with `float_leaf`, `int_leaf`, `child` (leaves/subtrees) or `static`, set
    `name` (the public constructor's name) and implement `value(t)` for a clamped step `t`.
    `sched(step)` is elementwise in `step`; outside a trace it runs a cached compiled executable.
    """

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True, eq=False, repr=False)(cls)
        fields = dataclasses.fields(cls)
        data = tuple(f.name for f in fields if not f.metadata.get("static"))
        meta = tuple(f.name for f in fields if f.metadata.get("static"))
        _register_pytree(cls, data, meta)

    @classmethod
    def from_args(cls, fn: str, args: Mapping[str, Any], rename: Mapping[str, str] | None = None) -> Schedule:
        """Build from a constructor's arguments (its `locals()`), keyed by field name.

        Each leaf field is converted and checked for its kind by `as_leaf` (None only where the public
        parameter defaults to None), each `bool` static field by `as_flag`; children, derived leaves
        and other static fields are taken as given. `rename` maps a field to the public parameter it
        holds, so that messages name what the caller wrote (`warmup_constant_schedule`'s `peak_value`
        is the field `end_value`).
        """
        rename = rename or {}
        values = []
        for f in dataclasses.fields(cls):
            value, kind, param = args[f.name], f.metadata.get("kind"), rename.get(f.name, f.name)
            if kind in ("int", "float") and not (value is None and _defaults_to_none(fn, param)):
                value = as_leaf(fn, param, value, kind)
            elif f.metadata.get("static") and f.type in ("bool", bool):
                value = as_flag(fn, param, value)
            values.append(value)
        return cls(*values)

    def value(self, t: jax.Array) -> jax.Array:
        raise NotImplementedError

    def restart_index(self, t: jax.Array) -> jax.Array:
        """The cycle index at a clamped integer step `t`: 0 for schedules without cycles (those with
        cycles override it)."""
        return jnp.zeros(jnp.shape(t), int_dtype())

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        """The value at `step` (elementwise). Integer steps are int32 unless x64 is on, so a concrete
        integer step of 2**31 or more is a ValueError; for longer runs enable 64-bit steps with
        `jax.config.update("jax_enable_x64", True)` or `JAX_ENABLE_X64=1`. A concrete vector of steps
        is evaluated padded to a bucket length (a power of four from 16 to 65,536, then a power of two),
        so calls with many lengths share a few compiled programs."""
        if isinstance(step, jax.core.Tracer):
            return _evaluate(self, step)
        return _eager(_evaluate_jit, self, step)

    def cycle_index(self, step: jax.typing.ArrayLike) -> jax.Array:
        """The integer index of the cycle that `step` falls in (elementwise, integer dtype).

        A cycle is what restarts: a restart cycle (`cosine_decay_restarts`,
        `cosine_annealing_warm_restarts`, `repeat`, `cyclic_schedule`, `cyclic_momentum`,
        `polynomial_decay(cycle=True)`), a cycle or piece of `sgdr_schedule` / `join_schedules`.
        Schedules without cycles give 0. The restart step itself is the first step of its cycle, and
        the index is exact wherever the values' restart steps are (every int32 step for integer
        cycles). A fractional float step lies in the cycle of its whole part. Composites: a join
        counts the cycles of the pieces before the current one (each piece at least one) plus the
        current piece's own; `shift`, `per_epoch`, `staircase`, `clip` and `warmup` give their
        schedule's index at the step they read it (0 during a warmup); arithmetic adds the
        operands' indices (so `0.5 * s` keeps `s`'s); `select` gives the selected schedule's;
        `repeat` counts its own repeats.
        """
        if isinstance(step, jax.core.Tracer):
            return _cycle(self, step)
        return _eager(_cycle_jit, self, step)

    # configs, repr, equality --------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """The constructor's keyword arguments that rebuild this schedule (leaves as arrays)."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.metadata.get("kind") != "derived"
        }

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable dict; `optax_lrs.from_config` turns it back into an equal schedule."""
        from optax_lrs._config import to_config

        return to_config(self)

    def __repr__(self) -> str:
        from optax_lrs._config import format_value

        args = ", ".join(f"{k}={format_value(v)}" for k, v in self.params().items())
        return f"{self.name}({args})"

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        a, ta = jax.tree_util.tree_flatten(self)
        b, tb = jax.tree_util.tree_flatten(other)
        if ta != tb or is_traced(a) or is_traced(b):
            return ta == tb and all(x is y for x, y in zip(a, b))
        return all(np.asarray(x).dtype == np.asarray(y).dtype and np.array_equal(x, y) for x, y in zip(a, b))

    def __hash__(self) -> int:
        # consistent with __eq__, so a schedule can be a dict key or `jax.jit(sched)`'s function
        leaves, treedef = jax.tree_util.tree_flatten(self)
        if is_traced(leaves):
            return id(self)
        return hash((treedef, tuple(np.asarray(x).tobytes() for x in leaves)))

    # arithmetic ----------------------------------------------------------------------------------
    #
    # `s * c`, `c - s`, `1 / s`, `-s`: composites built by `binary`. A constant operand may be a
    # number or a real array, concrete or traced (`s * lr` inside `jax.jit` or `jax.vmap`): it becomes
    # a leaf of the composite, so gradients reach it. NumPy defers its operators to these
    # (`__array_ufunc__ = None`) instead of building object arrays of schedules.

    __array_ufunc__ = None

    def __mul__(self, other: Any) -> Schedule:
        return _arithmetic("mul", self, other)

    def __rmul__(self, other: Any) -> Schedule:
        return _arithmetic("mul", other, self)

    def __add__(self, other: Any) -> Schedule:
        return _arithmetic("add", self, other)

    def __radd__(self, other: Any) -> Schedule:
        return _arithmetic("add", other, self)

    def __sub__(self, other: Any) -> Schedule:
        return _arithmetic("sub", self, other)

    def __rsub__(self, other: Any) -> Schedule:
        return _arithmetic("sub", other, self)

    def __truediv__(self, other: Any) -> Schedule:
        return _arithmetic("div", self, other)

    def __rtruediv__(self, other: Any) -> Schedule:
        return _arithmetic("div", other, self)

    def __neg__(self) -> Schedule:
        return _arithmetic("mul", -1.0, self)

    def __pos__(self) -> Schedule:
        return self


def _arithmetic(op: str, left: Any, right: Any) -> Schedule:
    """`binary(op, left, right)`, or NotImplemented for an operand that is no schedule, callable,
    number or real array (so that Python raises its TypeError)."""
    for x in (left, right):
        if isinstance(x, (bool, np.bool_, str, bytes)):
            return NotImplemented
        if not (isinstance(x, (Schedule, jax.Array, np.ndarray, np.generic)) or is_number(x) or callable(x)):
            return NotImplemented
    from optax_lrs._compose import binary

    return binary(op, left, right)


# --------------------------------------------------------------------------------------------------
# batches of schedules


def _structure(s: Schedule) -> tuple[Any, list[tuple[int, ...]]]:
    """The treedef and the leaf shapes: what schedules stacked together must share."""
    leaves, treedef = jax.tree_util.tree_flatten(s)
    return treedef, [jnp.shape(x) for x in leaves]


def stack(schedules: Sequence[Schedule]) -> Schedule:
    """One schedule whose leaves carry a leading batch axis: use it with `jax.vmap`.

    All schedules must share one structure (same constructor, same static parameters, same number of
    boundaries/pieces).
    """
    if isinstance(schedules, (str, bytes, Mapping, Schedule)) or not isinstance(schedules, Iterable):
        fail("stack", "schedules", "a sequence of Schedules", schedules)
    schedules = list(schedules)
    if not schedules:
        raise ValueError("stack: schedules must be a non-empty sequence, got []")
    for i, s in enumerate(schedules):
        if not isinstance(s, Schedule):
            fail("stack", f"schedules[{i}]", "a Schedule", s)
    structures = [_structure(s) for s in schedules]
    for i, st in enumerate(structures[1:], 1):
        if st != structures[0]:
            raise ValueError(
                f"stack: schedules must share one structure; schedule 0 is {schedules[0]!r} "
                f"but schedule {i} is {schedules[i]!r} (use select to mix structures)"
            )
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *schedules)


def _is_axis(value: Any, container: tuple[type, ...] | None) -> bool:
    if not isinstance(value, list):
        return False
    if container is None:
        return True
    return len(value) > 0 and all(isinstance(v, container) for v in value)


def grid(constructor: Callable[..., Schedule] | str, **kwargs: Any) -> Schedule:
    """A flat batch over the product of every keyword given as a list.

    `grid(cosine_decay_schedule, init_value=[0.1, 0.3], decay_steps=[100, 1000])` has 4 members in
    `itertools.product` order. Scalars stay fixed; for a parameter that itself takes a sequence
    (`boundaries`, `boundaries_and_scales`, `cosine_kwargs`), only a list of such sequences is an axis.
    """
    name = constructor if isinstance(constructor, str) else getattr(constructor, "__name__", None)
    entry = _REGISTRY.get(name) if isinstance(name, str) else None
    if entry is None or not (isinstance(constructor, str) or constructor is entry.constructor):
        fail("grid", "constructor", "a registered schedule or its name", constructor)
    axes = [k for k, v in kwargs.items() if _is_axis(v, entry.containers.get(k))]
    if not axes:
        raise ValueError("grid: give at least one keyword as a list of values, got none")
    for k in axes:
        if not kwargs[k]:
            fail("grid", k, "a non-empty list of values", kwargs[k])
    members = []
    for combo in itertools.product(*(kwargs[k] for k in axes)):
        members.append(entry.constructor(**{**kwargs, **dict(zip(axes, combo))}))
    return stack(members)


def is_number(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool)
