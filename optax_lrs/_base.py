"""The `Schedule` base: pytree registration, validation, the registry, `stack` and `grid`.

A schedule is a frozen dataclass whose numeric hyperparameters are pytree leaves and whose structural
parameters (mode strings, flags, opaque callables) are static. Subclasses only declare fields and a
`value(t)` method; everything else (clamping the step, the output dtype, the cached eager executable,
`repr`, equality, configs) lives here.
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

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


def check(
    fn: str, param: str, value: Any, rule: str, ok: Callable[[np.ndarray], Any], given: Any = None
) -> None:
    """Raise `ValueError("<fn>: <param> must be <rule>, got <value>")` when a concrete value breaks a rule.

    Traced values are not checked: the schedules clamp them so that the output stays finite. A rule
    relative to other parameters names them in `given`; it is skipped when any of them is traced.
    """
    if value is None or is_traced((value, given)):
        return
    arr = np.asarray(value)
    if not np.all(ok(arr)):
        shown = value.tolist() if isinstance(value, (np.ndarray, jax.Array)) else value
        raise ValueError(f"{fn}: {param} must be {rule}, got {shown!r}")


def check_choice(fn: str, param: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{fn}: {param} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def as_leaf(fn: str, param: str, value: Any, kind: str) -> jax.Array:
    """Convert a hyperparameter to an array leaf of its kind ("int" or "float").

    Concrete values must be finite (and integral for "int"); traced values are cast without checks.
    """
    if isinstance(value, bool) or (isinstance(value, np.ndarray) and value.dtype == bool):
        raise ValueError(f"{fn}: {param} must be a number, got {value!r}")
    if is_traced(value):
        x = jnp.asarray(value)
        if kind == "int" and not jnp.issubdtype(x.dtype, jnp.integer):
            return jnp.round(x).astype(int_dtype())
        if kind == "float" and not jnp.issubdtype(x.dtype, jnp.floating):
            return x.astype(float_dtype())
        return x
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: {param} must be a number, got {value!r}") from None
    check(fn, param, arr, "finite", np.isfinite)
    if kind == "int":
        check(fn, param, arr, "an integer", lambda a: a == np.round(a))
        check(fn, param, arr, "within int32 range", lambda a: np.abs(a) < 2**31)
        return jnp.asarray(np.round(arr).astype(np.int64), dtype=int_dtype())
    return jnp.asarray(arr, dtype=float_dtype())


def boundaries_leaf(fn: str, param: str, boundaries: Any) -> jax.Array:
    """A 1-D sequence of non-negative, non-decreasing steps as an int leaf."""
    if np.ndim(boundaries) != 1:
        raise ValueError(f"{fn}: {param} must be a 1-D sequence of steps, got {boundaries!r}")
    check(fn, param, boundaries, ">= 0", lambda a: a >= 0)
    check(fn, param, boundaries, "sorted in increasing order", lambda a: np.all(np.diff(a) >= 0))
    return as_leaf(fn, param, boundaries, "int")


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
    """The step as an array, negative steps read as 0 (integer steps stay integer)."""
    t = jnp.asarray(step)
    if t.dtype == jnp.bool_:
        t = t.astype(int_dtype())
    return jnp.maximum(t, jnp.zeros((), t.dtype))


def _evaluate(sched: Schedule, step: jax.typing.ArrayLike) -> jax.Array:
    t = clamp_step(step)
    out = jnp.asarray(sched.value(t), float_dtype())
    return jnp.broadcast_to(out, jnp.broadcast_shapes(out.shape, t.shape))


# One executable per schedule structure: jit keys on the treedef, the leaves are arguments.
_evaluate_jit = jax.jit(_evaluate)


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
    def from_args(cls, fn: str, args: Mapping[str, Any]) -> Schedule:
        """Build from a constructor's arguments (its `locals()`): each leaf field converted and checked
        for its kind by `as_leaf` (None stays None), children and static fields taken as given."""
        values = []
        for f in dataclasses.fields(cls):
            value, kind = args[f.name], f.metadata.get("kind")
            if kind in ("int", "float") and value is not None:
                value = as_leaf(fn, f.name, value, kind)
            values.append(value)
        return cls(*values)

    def value(self, t: jax.Array) -> jax.Array:
        raise NotImplementedError

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        if isinstance(step, jax.core.Tracer):
            return _evaluate(self, step)
        return _evaluate_jit(self, step)

    # configs, repr, equality --------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """The constructor's keyword arguments that rebuild this schedule (leaves as arrays)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

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

    # composition ---------------------------------------------------------------------------------

    def __mul__(self, other: Any) -> Schedule:
        from optax_lrs._compose import _binary

        return _binary("mul", self, other)

    def __rmul__(self, other: Any) -> Schedule:
        from optax_lrs._compose import _binary

        return _binary("mul", other, self)

    def __add__(self, other: Any) -> Schedule:
        from optax_lrs._compose import _binary

        return _binary("add", self, other)

    def __radd__(self, other: Any) -> Schedule:
        from optax_lrs._compose import _binary

        return _binary("add", other, self)

    def __sub__(self, other: Any) -> Schedule:
        from optax_lrs._compose import _binary

        return _binary("sub", self, other)

    def __rsub__(self, other: Any) -> Schedule:
        from optax_lrs._compose import _binary

        return _binary("sub", other, self)

    def __truediv__(self, other: Any) -> Schedule:
        from optax_lrs._compose import _binary

        return _binary("div", self, other)


# --------------------------------------------------------------------------------------------------
# batches of schedules


def stack(schedules: Sequence[Schedule]) -> Schedule:
    """One schedule whose leaves carry a leading batch axis: use it with `jax.vmap`.

    All schedules must share one structure (same constructor, same static parameters, same number of
    boundaries/pieces).
    """
    schedules = list(schedules)
    if not schedules:
        raise ValueError("stack: schedules must be a non-empty sequence, got []")
    treedefs = [jax.tree_util.tree_structure(s) for s in schedules]
    for i, td in enumerate(treedefs[1:], 1):
        if td != treedefs[0]:
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
    name = constructor if isinstance(constructor, str) else getattr(constructor, "__name__", "")
    if name not in _REGISTRY:
        raise ValueError(f"grid: constructor must be a registered schedule, got {constructor!r}")
    entry = _REGISTRY[name]
    axes = [k for k, v in kwargs.items() if _is_axis(v, entry.containers.get(k))]
    if not axes:
        raise ValueError("grid: give at least one keyword as a list of values, got none")
    members = []
    for combo in itertools.product(*(kwargs[k] for k in axes)):
        members.append(entry.constructor(**{**kwargs, **dict(zip(axes, combo))}))
    return stack(members)


def is_number(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool)
