"""Composition: `join_schedules`, arithmetic between schedules, and `from_fn` for user functions.

Composites are schedules too (pytrees whose children are schedules), so they batch, trace and
configure like any other.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optax_lrs import _math as m
from optax_lrs._base import (
    Schedule,
    as_leaf,
    boundaries_leaf,
    check,
    check_choice,
    child,
    derived,
    fail,
    float_leaf,
    int_dtype,
    int_leaf,
    is_number,
    register,
    static,
)
from optax_lrs._cycles import real_cycle_index, real_cycle_position, real_cycle_table


class _FromFn(Schedule):
    name = "from_fn"
    fn: Callable[..., Any] = static()
    hyperparams: dict[str, jax.Array] = child()

    def params(self):
        return {"fn": self.fn, **self.hyperparams}

    def value(self, t):
        return self.fn(t, **self.hyperparams)


@register()
def from_fn(fn: Callable[..., jax.typing.ArrayLike] | str, **hyperparams: jax.typing.ArrayLike) -> Schedule:
    """Wrap a pure `jnp` function `fn(t, **hyperparams)` as a Schedule whose hyperparams are leaves.

    `fn` receives the clamped step (negative steps read as 0) and must be elementwise and free of
    Python branching on values, so that the result jits, vmaps and differentiates like the built-in
    schedules. `fn` may also be given as `"module:qualname"`, which is imported here (your own code
    naming your own function); configs store it in that form, so only importable functions (not
    lambdas) survive `to_config`. `from_config` does not import such a name unless you allow it
    (`allowed_functions`, or `safe_mode=False` for a config you trust), so that an untrusted config
    cannot run code.

    Example:
      >>> import jax.numpy as jnp
      >>> s = from_fn(lambda t, lr, k: lr * jnp.exp(-k * t), lr=0.1, k=0.5)
      >>> round(float(s(2)), 6)
      0.036788
    """
    fn = resolve_callable("from_fn", fn)
    return _FromFn(fn, {k: as_leaf("from_fn", k, v, "float") for k, v in hyperparams.items()})


def resolve_callable(fn_name: str, fn: Any) -> Callable[..., Any]:
    """`fn` itself, or the function that a `"module:qualname"` string names (importing the module)."""
    if isinstance(fn, str):
        module, colon, qualname = fn.partition(":")
        # only absolute dotted names: no relative imports, no "<locals>" that can never resolve
        if not colon or not all(part.isidentifier() for part in [*module.split("."), *qualname.split(".")]):
            raise ValueError(f"{fn_name}: fn must be a function or 'module:qualname', got {fn!r}")
        try:
            obj = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            raise ValueError(
                f"{fn_name}: fn must name an importable function 'module:qualname', got {fn!r}"
            ) from None
        fn = obj
    if not callable(fn):
        raise ValueError(f"{fn_name}: fn must be callable, got {fn!r}")
    return fn


def as_schedule(fn_name: str, param: str, x: Any) -> Schedule:
    """A schedule from a Schedule, a number or a real array (a constant, checked as `param`) or any
    callable of the step."""
    if isinstance(x, Schedule):
        return x
    if is_number(x) or isinstance(x, (jax.Array, np.ndarray, np.generic)):
        from optax_lrs._decay import _Constant

        return _Constant(as_leaf(fn_name, param, x, "float"))
    if callable(x):
        return _FromFn(x, {})
    fail(fn_name, param, "a schedule, a callable or a number", x)


def _schedules(fn_name: str, param: str, xs: Any) -> list[Schedule]:
    """A non-empty list or tuple of schedule arguments (see `as_schedule`)."""
    if not isinstance(xs, (list, tuple)):
        fail(fn_name, param, "a list of schedules", xs)
    if not xs:
        fail(fn_name, param, "a non-empty list of schedules", xs)
    return [as_schedule(fn_name, f"{param}[{i}]", x) for i, x in enumerate(xs)]


# --------------------------------------------------------------------------------------------------


def _cycle_of(schedule: Schedule, steps: jax.Array) -> jax.Array:
    """`schedule.restart_index(steps)` as integers of the steps' shape."""
    return jnp.broadcast_to(jnp.asarray(schedule.restart_index(steps)).astype(int_dtype()), jnp.shape(steps))


def _choose(schedules: tuple[Schedule, ...], steps: jax.Array, index: jax.Array) -> jax.Array:
    """Evaluate every schedule at `steps` and take, elementwise, the one at `index` (clipped)."""
    values = [jnp.broadcast_to(m.fl(s(steps)), steps.shape) for s in schedules]
    return m.take(jnp.stack(values), jnp.clip(index, 0, len(values) - 1))


class _Join(Schedule):
    name = "join_schedules"
    # One Schedule with a leading piece axis when the pieces share a structure, else a tuple.
    schedules: Schedule | tuple[Schedule, ...] = child()
    boundaries: jax.Array = int_leaf()

    def pieces(self) -> list[Schedule]:
        if isinstance(self.schedules, tuple):
            return list(self.schedules)
        n = self.boundaries.shape[-1] + 1
        return [jax.tree_util.tree_map(lambda x, i=i: x[i], self.schedules) for i in range(n)]

    def params(self):
        return {"schedules": self.pieces(), "boundaries": self.boundaries}

    def _local(self, t):
        idx = m.piecewise_index(t, self.boundaries)
        starts = jnp.concatenate([jnp.zeros(1, self.boundaries.dtype), self.boundaries])
        return idx, t - m.take(starts, idx).astype(t.dtype)

    def restart_index(self, t):
        idx, local = self._local(t)
        idt = int_dtype()
        # cycles of each piece before the current one: its index at its last step, plus one (an
        # empty piece, between equal boundaries, has none)
        lengths = jnp.diff(self.boundaries, prepend=jnp.zeros(1, self.boundaries.dtype))

        def count(piece, n):
            return jnp.where(n > 0, _cycle_of(piece, jnp.maximum(n - 1, 0)) + 1, 0)

        if isinstance(self.schedules, tuple):
            counts = jnp.stack([count(p, n) for p, n in zip(self.schedules, lengths)])
            own = m.take(jnp.stack([_cycle_of(p, local) for p in self.schedules]), idx)
        else:
            counts = jax.vmap(count)(jax.tree_util.tree_map(lambda x: x[:-1], self.schedules), lengths)

            def one(i, s):
                piece = jax.tree_util.tree_map(lambda x: m.take(x, i), self.schedules)
                return _cycle_of(piece, s)

            own = jax.vmap(one)(idx.reshape(-1), local.reshape(-1)).reshape(local.shape)
        before = jnp.cumsum(jnp.concatenate([jnp.zeros(1, idt), counts.astype(idt)]))
        return m.take(before, idx) + own

    def value(self, t):
        idx, local = self._local(t)
        if isinstance(self.schedules, tuple):
            return _choose(self.schedules, local, idx)
        # One evaluation per step: gather that step's piece, then evaluate it.
        flat_idx, flat_t = idx.reshape(-1), local.reshape(-1)

        def one(i, s):
            return jax.tree_util.tree_map(lambda x: m.take(x, i), self.schedules)(s)

        return jax.vmap(one)(flat_idx, flat_t).reshape(t.shape)


@register(containers={"schedules": (list, tuple), "boundaries": (list, tuple, np.ndarray)})
def join_schedules(
    schedules: Sequence[Callable[..., Any]], boundaries: Sequence[int] | jax.typing.ArrayLike
) -> Schedule:
    """Sequentially apply schedules, drop-in for `optax.join_schedules`.

    For boundaries b_1 < ... < b_{n−1}, piece k runs on [b_k, b_{k+1}) and sees the step `t − b_k`
    (b_0 = 0). Pieces may be any callables of the step. When they are Schedules of one structure,
    they are stacked into a single schedule with a leading piece axis and each step evaluates only its
    own piece after an O(log n) search, so evaluation and compile time stay flat as pieces grow;
    otherwise every piece is evaluated and the step's value selected.

    Example:
      >>> from optax_lrs import constant_schedule, linear_schedule
      >>> s = join_schedules([linear_schedule(0.0, 1.0, 10), constant_schedule(1.0)], [10])
      >>> [float(s(t)) for t in (0, 5, 10, 50)]
      [0.0, 0.5, 1.0, 1.0]
    """
    fn = "join_schedules"
    pieces = _schedules(fn, "schedules", schedules)
    b = boundaries_leaf(fn, "boundaries", boundaries)
    if b.shape[-1] != len(pieces) - 1:
        fail(fn, "boundaries", f"a sequence of len(schedules) - 1 = {len(pieces) - 1} steps", boundaries)
    if len(pieces) > 1 and _same_structure(pieces):
        from optax_lrs._base import stack

        return _Join(stack(pieces), b)
    return _Join(tuple(pieces), b)


def _same_structure(pieces: list[Schedule]) -> bool:
    def shape(s):
        return jax.tree_util.tree_structure(s), [
            (jnp.shape(x), jnp.result_type(x)) for x in jax.tree_util.tree_leaves(s)
        ]

    first = shape(pieces[0])
    return all(shape(p) == first for p in pieces[1:])


# --------------------------------------------------------------------------------------------------

_OPS: dict[str, tuple[str, Callable[[jax.Array, jax.Array], jax.Array]]] = {
    "add": ("+", jnp.add),
    "sub": ("-", jnp.subtract),
    "mul": ("*", jnp.multiply),
    "div": ("/", jnp.divide),
    "min": ("minimum", jnp.minimum),
    "max": ("maximum", jnp.maximum),
}


class _Binary(Schedule):
    name = "binary"
    op: str = static()
    left: Schedule = child()
    right: Schedule = child()

    def __repr__(self) -> str:
        symbol = _OPS[self.op][0]
        if symbol.isalpha():
            return f"{symbol}({self.left!r}, {self.right!r})"
        return f"({self.left!r} {symbol} {self.right!r})"

    def restart_index(self, t):
        return self.left.restart_index(t) + self.right.restart_index(t)

    def value(self, t):
        return _OPS[self.op][1](m.fl(self.left(t)), m.fl(self.right(t)))


@register()
def binary(op: str, left: Any, right: Any) -> Schedule:
    """`left <op> right` step by step, op in "add", "sub", "mul", "div", "min", "max"; what `s1 * s2`,
    `s * c`, `c + s`, `s / c`, `minimum`, `maximum` and `scale` build (a number is a constant
    schedule). `s1 * s2` is PyTorch's `ChainedScheduler` (multiplicative chaining)."""
    return _make_binary("binary", op, ("left", left), ("right", right))


def _make_binary(fn: str, op: str, left: tuple[str, Any], right: tuple[str, Any]) -> Schedule:
    """`binary` on behalf of `fn`, whose messages name its own (parameter, value) pairs."""
    check_choice(fn, "op", op, tuple(_OPS))
    a, b = as_schedule(fn, *left), as_schedule(fn, *right)
    if op == "div" and not isinstance(right[1], Schedule) and not callable(right[1]):
        check(fn, right[0], right[1], "nonzero (it divides)", lambda d: d != 0)
    return _Binary(op, a, b)


def _binary(op: str, left: Any, right: Any) -> Schedule:
    if not (isinstance(left, Schedule) or is_number(left) or callable(left)):
        return NotImplemented
    if not (isinstance(right, Schedule) or is_number(right) or callable(right)):
        return NotImplemented
    return binary(op, left, right)


# --------------------------------------------------------------------------------------------------


class _Select(Schedule):
    name = "select"
    schedules: tuple[Schedule, ...] = child()
    index: jax.Array = int_leaf()

    def params(self):
        return {"schedules": list(self.schedules), "index": self.index}

    def restart_index(self, t):
        own = jnp.stack([_cycle_of(s, t) for s in self.schedules])
        return m.take(own, jnp.clip(jnp.broadcast_to(self.index, t.shape), 0, len(own) - 1))

    def value(self, t):
        return _choose(self.schedules, t, jnp.broadcast_to(self.index, t.shape))


@register(containers={"schedules": (list, tuple)})
def select(schedules: Sequence[Callable[..., Any]], index: jax.typing.ArrayLike) -> Schedule:
    """The value of `schedules[index]`, where `index` may be traced.

    Every schedule is evaluated and the indexed value selected, so a `jax.vmap` over `index` runs
    different schedule families side by side in one compiled program (what `stack` cannot do, since
    it needs one structure). A traced index outside [0, len − 1] is clipped.

    Example:
      >>> from optax_lrs import constant_schedule, linear_schedule
      >>> s = select([constant_schedule(0.5), linear_schedule(0.0, 1.0, 10)], 1)
      >>> float(s(5))
      0.5
    """
    fn = "select"
    pieces = tuple(_schedules(fn, "schedules", schedules))
    leaf = as_leaf(fn, "index", index, "int")
    check(fn, "index", index, f"in [0, {len(pieces) - 1}]", lambda a: (a >= 0) & (a < len(pieces)))
    return _Select(pieces, leaf)


def minimum(a: Any, b: Any) -> Schedule:
    """The smaller of two schedules (or a schedule and a number) at every step."""
    return _make_binary("minimum", "min", ("a", a), ("b", b))


def maximum(a: Any, b: Any) -> Schedule:
    """The larger of two schedules (or a schedule and a number) at every step."""
    return _make_binary("maximum", "max", ("a", a), ("b", b))


def scale(schedule: Any, factor: Any) -> Schedule:
    """`schedule · factor` (factor a number or a schedule)."""
    return _make_binary("scale", "mul", ("schedule", schedule), ("factor", factor))


class _Clip(Schedule):
    name = "clip"
    schedule: Schedule = child()
    min_value: jax.Array | None = float_leaf()
    max_value: jax.Array | None = float_leaf()

    def restart_index(self, t):
        return self.schedule.restart_index(t)

    def value(self, t):
        v = m.fl(self.schedule(t))
        if self.min_value is not None:
            v = jnp.maximum(v, self.min_value)
        if self.max_value is not None:
            v = jnp.minimum(v, self.max_value)
        return v


@register()
def clip(
    schedule: Any,
    min_value: jax.typing.ArrayLike | None = None,
    max_value: jax.typing.ArrayLike | None = None,
) -> Schedule:
    """`schedule` clipped to [min_value, max_value] (either bound may be None).

    Example:
      >>> from optax_lrs import linear_schedule
      >>> [round(float(clip(linear_schedule(0.0, 1.0, 10), 0.2, 0.6)(t)), 6) for t in (0, 5, 10)]
      [0.2, 0.5, 0.6]
    """
    fn = "clip"
    schedule = as_schedule(fn, "schedule", schedule)
    clipped = _Clip.from_args(fn, locals())
    check(fn, "max_value", max_value, f">= min_value ({min_value!r})", lambda a, lo: a >= lo, (min_value,))
    return clipped


class _Remap(Schedule):
    """A schedule read at a remapped step: the base of shift, per_epoch and staircase."""

    schedule: Schedule = child()

    def inner_step(self, t):
        raise NotImplementedError

    def restart_index(self, t):
        return self.schedule.restart_index(self.inner_step(t))

    def value(self, t):
        return self.schedule(self.inner_step(t))


class _Shift(_Remap):
    name = "shift"
    steps: jax.Array = int_leaf()

    def inner_step(self, t):
        return jnp.maximum(m.sat_sub(t, self.steps), 0)  # a negative shift saturates at 2**31 − 1


@register()
def shift(schedule: Any, steps: jax.typing.ArrayLike) -> Schedule:
    """`schedule(max(t − steps, 0))`: start the schedule `steps` later (before that it holds its value
    at 0). `steps` may be negative, to skip ahead.

    Example:
      >>> from optax_lrs import linear_schedule
      >>> [float(shift(linear_schedule(0.0, 1.0, 10), 5)(t)) for t in (0, 5, 10)]
      [0.0, 0.0, 0.5]
    """
    fn = "shift"
    schedule = as_schedule(fn, "schedule", schedule)
    return _Shift.from_args(fn, locals())


class _PerEpoch(_Remap):
    name = "per_epoch"
    steps_per_epoch: jax.Array = int_leaf()

    def inner_step(self, t):
        return m.floordiv(t, self.steps_per_epoch)[0]


@register()
def per_epoch(schedule: Any, steps_per_epoch: jax.typing.ArrayLike) -> Schedule:
    """An epoch-indexed schedule as a step-indexed one: `schedule(floor(t / steps_per_epoch))`.

    This is what a Keras `LearningRateScheduler` callback or an epoch-level PyTorch scheduler does: the
    rate changes once per epoch. Example: seed 002's step decay per epoch with 782 updates an epoch:
    `per_epoch(step_decay(0.1, 0.5, 10), 782)`.

    Example:
      >>> from optax_lrs import step_decay
      >>> s = per_epoch(step_decay(0.1, 0.5, 10), 100)
      >>> [round(float(s(t)), 6) for t in (0, 999, 1000)]
      [0.1, 0.1, 0.05]
    """
    fn = "per_epoch"
    check(fn, "steps_per_epoch", steps_per_epoch, "> 0", lambda a: a > 0)
    schedule = as_schedule(fn, "schedule", schedule)
    return _PerEpoch.from_args(fn, locals())


class _Staircase(_Remap):
    name = "staircase"
    every: jax.Array = int_leaf()

    def inner_step(self, t):
        q, r = m.floordiv(t, self.every)
        return t - r


@register()
def staircase(schedule: Any, every: jax.typing.ArrayLike) -> Schedule:
    """`schedule(every · floor(t / every))`: hold each value for `every` steps.

    Example:
      >>> from optax_lrs import linear_schedule
      >>> [float(staircase(linear_schedule(0.0, 1.0, 10), 5)(t)) for t in (0, 4, 5, 9)]
      [0.0, 0.0, 0.5, 0.5]
    """
    fn = "staircase"
    check(fn, "every", every, "> 0", lambda a: a > 0)
    schedule = as_schedule(fn, "schedule", schedule)
    return _Staircase.from_args(fn, locals())


class _Repeat(Schedule):
    name = "repeat"
    schedule: Schedule = child()
    period: jax.Array = int_leaf()
    period_mult: jax.Array = float_leaf()
    decay: jax.Array = float_leaf()
    cycles: tuple = derived()

    def restart_index(self, t):
        return real_cycle_index(t, self.period, self.period_mult, self.cycles)

    def value(self, t):
        i, frac = real_cycle_position(t, self.period, self.period_mult, self.cycles)
        # the shape stretches with its cycle; equal cycles read the exact step within the cycle
        period = m.at_least_one(self.period)
        inner = jnp.where(self.period_mult <= 1, m.fl(m.floordiv(t, period)[1]), frac * m.fl(period))
        return m.safe_pow(jnp.clip(self.decay, 0.0, 1.0), i) * m.fl(self.schedule(inner))


@register()
def repeat(
    schedule: Any,
    period: jax.typing.ArrayLike,
    period_mult: jax.typing.ArrayLike = 1.0,
    decay: jax.typing.ArrayLike = 1.0,
) -> Schedule:
    """Warm restarts of any schedule (SGDR generalised to any shape).

    Cycle i starts at start_i, lasts len_i = period · period_mult^i and is worth
    decay^i · schedule((t − start_i) · period / len_i): the schedule's first `period` steps, stretched
    to the cycle's length. O(1) in the number of cycles: the first 256 cycle starts are an integer
    table (exact restarts, period_mult read as its decimal), later ones a double-word closed form (to
    ~1e-12 of each start; O(log i)), and equal cycles (period_mult = 1) integer arithmetic.

    Example:
      >>> from optax_lrs import cosine_decay_schedule
      >>> s = repeat(cosine_decay_schedule(1.0, 10), 10, period_mult=2.0, decay=0.5)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 20, 30)]
      [1.0, 0.5, 0.5, 0.25, 0.25]
    """
    fn = "repeat"
    check(fn, "period", period, "> 0", lambda a: a > 0)
    check(fn, "period_mult", period_mult, ">= 1", lambda a: a >= 1)
    check(fn, "decay", decay, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    schedule = as_schedule(fn, "schedule", schedule)
    period = as_leaf(fn, "period", period, "int")
    period_mult = as_leaf(fn, "period_mult", period_mult, "float")
    cycles = real_cycle_table(period, period_mult)
    return _Repeat.from_args(fn, locals())
