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
    is_traced,
    register,
    static,
)
from optax_lrs._cycles import _mul as dw_mul
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
    ticks: jax.Array = int_leaf()

    def inner_step(self, t):
        return m.ticks_floordiv(t, m.at_least_one(self.steps_per_epoch), m.at_least_one(self.ticks))[0]


@register()
def per_epoch(
    schedule: Any, steps_per_epoch: jax.typing.ArrayLike, ticks: jax.typing.ArrayLike = 1
) -> Schedule:
    """An epoch-indexed schedule as a step-indexed one: `schedule(floor(t · ticks / steps_per_epoch))`.

    This is what a Keras `LearningRateScheduler` callback or an epoch-level PyTorch scheduler does: the
    rate changes once per epoch. Example: the Keras CIFAR-10 tutorial's step decay per epoch with 782
    updates an epoch: `per_epoch(step_decay(0.1, 0.5, 10), 782)`.

    With `ticks` = k an epoch lasts steps_per_epoch / k steps (a fractional epoch: 2.5 steps is
    `steps_per_epoch=5, ticks=2`; timm's `StepLRScheduler` with a fractional `decay_t` is built so).
    Integer arithmetic, exact for every int32 step while steps_per_epoch · ticks < 2**31.

    Example:
      >>> from optax_lrs import step_decay
      >>> s = per_epoch(step_decay(0.1, 0.5, 10), 100)
      >>> [round(float(s(t)), 6) for t in (0, 999, 1000)]
      [0.1, 0.1, 0.05]
    """
    fn = "per_epoch"
    check(fn, "steps_per_epoch", steps_per_epoch, "> 0", lambda a: a > 0)
    check(fn, "ticks", ticks, "an integer >= 1", lambda a: (a >= 1) & (a == np.floor(a)))
    steps_per_epoch = as_leaf(fn, "steps_per_epoch", steps_per_epoch, "int")
    ticks = as_leaf(fn, "ticks", ticks, "int")
    rule = "such that steps_per_epoch · ticks < 2**31 (use x64 beyond)"
    check(fn, "ticks", ticks, rule, lambda k, p: _int32_product_fits(k, p), (steps_per_epoch,))
    schedule = as_schedule(fn, "schedule", schedule)
    return _PerEpoch.from_args(fn, locals())


class _TimeWarp(_Remap):
    name = "time_warp"
    steps: jax.Array = int_leaf()
    k: jax.Array = float_leaf()

    def inner_step(self, t):
        steps = m.at_least_one(self.steps)
        # T · (t/T)^k from the integer ratio; the warp ends at T (T^k / T^k = 1)
        return m.fl(steps) * m.safe_pow(m.progress(t, steps), jnp.maximum(self.k, 0.0))

    def _after(self, t):
        return t >= m.at_least_one(self.steps)

    def restart_index(self, t):
        # from T on the inner schedule reads the step itself, as an integer (exact past 2**24)
        warped = self.schedule.restart_index(self.inner_step(t))
        return jnp.where(self._after(t), self.schedule.restart_index(t), warped)

    def value(self, t):
        return jnp.where(self._after(t), self.schedule(t), self.schedule(self.inner_step(t)))


@register()
def time_warp(schedule: Any, steps: jax.typing.ArrayLike, k: jax.typing.ArrayLike) -> Schedule:
    """`schedule(T · (t/T)^k)` for t < T = steps, `schedule(t)` from T on: the schedule's first T steps
    run on a warped clock that starts and ends with it (k > 1 lingers early, k < 1 hurries).

    timm's `k_decay` is this warp of a cosine: `cos(π · t^k / T^k)`
    (`time_warp(cosine_decay_schedule(v, T), T, k)`), as is the k-decay of Zhang & Li (2020) applied
    to any decay. The inner schedule is read at a fractional step (every optax_lrs schedule accepts
    one); float32 rounding of (t/T)^k moves the reading by a few ulps of T.

    Args:
      schedule: the schedule to warp.
      steps: T > 0, where the warp ends.
      k: the exponent, > 0.

    Example:
      >>> from optax_lrs import linear_schedule
      >>> s = time_warp(linear_schedule(1.0, 0.0, 10), 10, 2.0)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 12)]
      [1.0, 0.75, 0.0, 0.0]
    """
    fn = "time_warp"
    check(fn, "steps", steps, "> 0", lambda a: a > 0)
    check(fn, "k", k, "> 0", lambda a: a > 0)
    schedule = as_schedule(fn, "schedule", schedule)
    return _TimeWarp.from_args(fn, locals())


class _CumulativeProduct(Schedule):
    name = "cumulative_product"
    schedule: Schedule = child()
    length: int = static()

    def value(self, t):
        factors = m.fl(self.schedule(jnp.arange(1, self.length + 1, dtype=int_dtype())))
        # double-word prefix products: the product of n float32 factors to ~2**-40, not n ulps
        lo = jnp.zeros_like(factors)
        hi, lo = jax.lax.associative_scan(dw_mul, (factors, lo))
        table = jnp.concatenate([jnp.ones((1,), hi.dtype), hi + lo])
        # a fractional step has the factors up to its floor; past `length` the product holds
        index = jnp.clip(jnp.floor(t), 0, self.length).astype(int_dtype())
        return table[index]


@register()
def cumulative_product(schedule: Any, length: int) -> Schedule:
    """The running product `schedule(1) · schedule(2) · ... · schedule(t)` (1 at t = 0) for
    t <= `length`; past `length` it holds the product at `length` (no further factors are taken:
    choose `length` as the run's last step).

    PyTorch's `MultiplicativeLR` multiplies its rate by `lr_lambda(epoch)` at every step: its rate
    at epoch t is `lr · cumulative_product(lr_lambda, length)(t)`. A running product has no closed
    form in general, so the `length` factors are evaluated at once and multiplied by a parallel
    prefix scan in double words (O(length) work per call, independent of t, shared by a vector of
    steps); `length` is static (it sets an array shape). The factors are float32: a factor such as
    0.95 carries its own rounding (1.3e-8 relative), which n factors compound to n times that.

    Args:
      schedule: the factor at each step t >= 1.
      length: the last tabulated step, an integer >= 1.

    Example:
      >>> from optax_lrs import constant_schedule
      >>> s = cumulative_product(constant_schedule(0.5), 10)
      >>> [float(s(t)) for t in (0, 1, 3, 10, 11)]
      [1.0, 0.5, 0.125, 0.0009765625, 0.0009765625]
    """
    fn = "cumulative_product"
    rule = "a concrete integer in [1, 2**31 - 1] (a static array length)"
    if length is None or is_traced(length) or isinstance(length, (bool, np.bool_)) or np.ndim(length) != 0:
        fail(fn, "length", rule, length)
    check(fn, "length", length, rule, lambda a: (a == np.round(a)) & (a >= 1) & (a <= 2**31 - 1))
    length = int(length)
    schedule = as_schedule(fn, "schedule", schedule)
    return _CumulativeProduct.from_args(fn, locals())


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
    ticks: jax.Array = int_leaf()
    cycles: tuple = derived()

    def _equal(self, t):
        """Equal cycles of period/ticks steps, in integers: (cycle index, tick within the cycle)."""
        period, ticks = m.at_least_one(self.period), m.at_least_one(self.ticks)
        return m.ticks_floordiv(t, period, ticks)

    def _real(self, t):
        # growing cycles count ticks; t · ticks saturates (exact while it is below 2**31)
        return m.sat_mul(t, m.at_least_one(self.ticks))

    def restart_index(self, t):
        equal = self._equal(t)[0]
        grown = real_cycle_index(self._real(t), self.period, self.period_mult, self.cycles)
        return jnp.where(self.period_mult <= 1, equal, grown.astype(equal.dtype))

    def value(self, t):
        i, frac = real_cycle_position(self._real(t), self.period, self.period_mult, self.cycles)
        q, tick = self._equal(t)
        equal = self.period_mult <= 1
        # the shape stretches with its cycle; equal cycles read the exact tick within the cycle
        inner = jnp.where(equal, m.fl(tick), frac * m.fl(m.at_least_one(self.period)))
        i = jnp.where(equal, m.fl(q), i)
        return m.safe_pow(jnp.clip(self.decay, 0.0, 1.0), i) * m.fl(self.schedule(inner))


@register()
def repeat(
    schedule: Any,
    period: jax.typing.ArrayLike,
    period_mult: jax.typing.ArrayLike = 1.0,
    decay: jax.typing.ArrayLike = 1.0,
    ticks: jax.typing.ArrayLike = 1,
) -> Schedule:
    """Warm restarts of any schedule (SGDR generalised to any shape).

    Cycle i starts at start_i, lasts len_i = period · period_mult^i and is worth
    decay^i · schedule((t − start_i) · period / len_i): the schedule's first `period` steps, stretched
    to the cycle's length. O(1) in the number of cycles: the first 256 cycle starts are an integer
    table (exact restarts, period_mult read as its decimal), later ones a double-word closed form (to
    ~1e-12 of each start; O(log i)), and equal cycles (period_mult = 1) integer arithmetic.

    A fractional period: with `ticks` = k the inner schedule counts k ticks per step, so `period` (in
    ticks) lasts period/k steps, and the schedule is read at the whole tick within its cycle. A cosine
    restarting every 37.5 steps is `repeat(cosine_decay_schedule(v, 75), 75, ticks=2)`: cycle i
    starts at step 37.5·i and step t reads the cosine at tick (2t) mod 75. Equal cycles are exact
    integer arithmetic for every int32 step as long as period · ticks < 2**31; growing cycles
    (period_mult > 1) count t · ticks ticks, exact while that is below 2**31.

    Args:
      schedule: the shape of one cycle, read at steps (ticks) in [0, period).
      period: the first cycle's length in ticks (steps when ticks = 1), > 0.
      period_mult: each cycle is period_mult times longer than the one before, >= 1.
      decay: each cycle's values are decay times the previous cycle's, in [0, 1].
      ticks: ticks per step, an integer >= 1.

    Example:
      >>> from optax_lrs import cosine_decay_schedule
      >>> s = repeat(cosine_decay_schedule(1.0, 10), 10, period_mult=2.0, decay=0.5)
      >>> [round(float(s(t)), 6) for t in (0, 5, 10, 20, 30)]
      [1.0, 0.5, 0.5, 0.25, 0.25]
      >>> s = repeat(cosine_decay_schedule(1.0, 5), 5, ticks=2)  # restarts every 2.5 steps
      >>> [round(float(s(t)), 4) for t in (0, 1, 2, 3, 5)]
      [1.0, 0.6545, 0.0955, 0.9045, 1.0]
    """
    fn = "repeat"
    check(fn, "period", period, "> 0", lambda a: a > 0)
    check(fn, "period_mult", period_mult, ">= 1", lambda a: a >= 1)
    check(fn, "decay", decay, "in [0, 1]", lambda a: (a >= 0) & (a <= 1))
    check(fn, "ticks", ticks, "an integer >= 1", lambda a: (a >= 1) & (a == np.floor(a)))
    schedule = as_schedule(fn, "schedule", schedule)
    period = as_leaf(fn, "period", period, "int")
    period_mult = as_leaf(fn, "period_mult", period_mult, "float")
    ticks = as_leaf(fn, "ticks", ticks, "int")
    rule = "such that period · ticks < 2**31 (the largest tick product; use x64 beyond)"
    check(fn, "ticks", ticks, rule, lambda k, p: _int32_product_fits(k, p), (period,))
    cycles = real_cycle_table(period, period_mult)
    return _Repeat.from_args(fn, locals())


def _int32_product_fits(a, b):
    """a · b fits the integer dtype of the steps (checked on concrete values only)."""
    top = np.iinfo(np.dtype(int_dtype())).max
    return np.asarray(a, np.float64) * np.asarray(b, np.float64) <= top
