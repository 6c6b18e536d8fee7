"""The generic suite: every case of `catalogue.CASES` through jit, vmap, grad, pytrees, batching,
configs, negative and huge steps, and x64.

Compiling dominates this suite, so each case is observed through as few distinct programs as
possible: every vector call reads the one step vector `STEP_VECTOR` (or its float32 twin) and each
check looks at its slice; the observations of a case are computed once (`per_case`) and shared by
its tests; one batch of hyperparameter variants serves vmap, stack and grid alike.
"""

import copy
import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from catalogue import CASES, damped

import optax_lrs as o

STEPS = np.array(
    [0, 1, 2, 3, 5, 9, 10, 11, 15, 24, 25, 26, 40, 49, 50, 51, 60, 75, 80, 90, 99, 100, 150, 400]
)
HUGE = np.array([0, 1, 10**6, 2**31 - 1], dtype=np.int32)
NEGATIVE = np.array([-1, -7, -(2**31) + 1, -3])
# Every step a check reads, in one vector (int64 like STEPS, so concrete calls run the range check
# of integer steps; it is evaluated as int32), and its float32 twin, where the last negative step
# is fractional. The slices below pick each group.
STEP_VECTOR = np.concatenate([STEPS, HUGE, NEGATIVE])
FLOAT_STEPS = STEP_VECTOR.astype(np.float32)
FLOAT_STEPS[-1] = -3.5
STEP_VECTOR.flags.writeable = FLOAT_STEPS.flags.writeable = False  # shared by every check
AT_STEPS = slice(0, len(STEPS))
AT_HUGE = slice(len(STEPS), len(STEPS) + len(HUGE))
AT_NEGATIVE = slice(len(STEPS) + len(HUGE), len(STEP_VECTOR))
# rows of every batch of variants (padded with the case itself), so that cases of one structure share
# the batched programs
BATCH = 8
F32_RTOL = 2e-6  # a few float32 ulps

cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def build(case, **override):
    return o.get(case.name, **{**case.kwargs, **override})


def _set(kwargs, path, value):
    for key in path[:-1]:
        kwargs = kwargs[key]
    kwargs[path[-1]] = value


def build_at(case, path, value):
    """The case with the hyperparameter at `path` (a key, or (key, index, key) inside a list of
    dicts such as sgdr's cosine_kwargs) replaced."""
    kwargs = copy.deepcopy(case.kwargs)
    _set(kwargs, path, value)
    return o.get(case.name, **kwargs)


def _is_numeric(v):
    return not isinstance(v, bool) and (
        isinstance(v, (int, float)) or (isinstance(v, list) and v and all(isinstance(x, int) for x in v))
    )


def numeric_params(case):
    """Paths of every numeric hyperparameter of the case, nested cycle arguments included."""
    out = []
    for k, v in case.kwargs.items():
        if _is_numeric(v):
            out.append((k,))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            out += [(k, 0, kk) for kk, vv in v[0].items() if _is_numeric(vv)]
    return out


def value_at(case, path):
    v = case.kwargs
    for key in path:
        v = v[key]
    return v


def other_value(v):
    if isinstance(v, list):
        return [x + 1 for x in v]
    if isinstance(v, int):
        return (v * 2) // 3 if v > 2 else v + 2
    return 0.05 if v == 0 else v * 0.8


def batch_values(case, path):
    """The two values a hyperparameter is batched over."""
    v = value_at(case, path)
    return case.vmap.get(path[-1], [v, other_value(v)])


# --------------------------------------------------------------------------------------------------
# observations of a case, computed once and shared by its tests


_OBSERVED = {}


def per_case(fn):
    """Memoise `fn(case)` per case (by identity: two cases may share an id), so that the tests of a
    case reuse its arrays and compiled programs. A failure is not stored: each test that needs it
    fails on its own."""

    @functools.wraps(fn)
    def wrapper(case):
        key = (fn.__name__, id(case))
        if key not in _OBSERVED:
            _OBSERVED[key] = fn(case)
        return _OBSERVED[key]

    return wrapper


@per_case
def schedule(case):
    return build(case)


@per_case
def eager(case):
    """Calls with a Python int at every step (training at the prompt): values and cycle indices."""
    s = schedule(case)
    values = np.array([float(s(int(t))) for t in STEP_VECTOR])
    cycles = np.array([int(s.cycle_index(int(t))) for t in STEP_VECTOR])
    return values, cycles


@per_case
def vectors(case):
    """Concrete vector calls (the schedule's leaves are arguments of one cached program)."""
    s = schedule(case)
    return dict(
        value=np.asarray(s(STEP_VECTOR)),
        float_value=np.asarray(s(FLOAT_STEPS)),
        cycle=np.asarray(s.cycle_index(STEP_VECTOR.astype(np.int32))),
        float_cycle=np.asarray(s.cycle_index(FLOAT_STEPS)),
    )


@per_case
def closure(case):
    """`jax.jit` of a function closing over the schedule (its hyperparameters become constants), as a
    training step calls it: the value and cycle index at a traced int32 scalar, at every step (one
    program)."""
    s = schedule(case)
    fn = jax.jit(lambda t: (s(t), s.cycle_index(t)))
    out = [fn(jnp.int32(t)) for t in STEP_VECTOR]
    return np.array([float(v) for v, _ in out]), np.array([int(c) for _, c in out])


@jax.jit
@functools.partial(jax.vmap, in_axes=(None, 0))
@functools.partial(jax.value_and_grad, allow_int=True)
def _over_steps(s, t):
    return s(t)


@per_case
def over_steps(case):
    """`jax.vmap` over a traced step vector: the values, and each step's gradient with respect to
    every leaf (one program, the schedule an argument)."""
    values, grads = _over_steps(schedule(case), jnp.asarray(STEP_VECTOR, jnp.int32))
    return np.asarray(values), grads


@per_case
def variants(case):
    """The batch every vmap check shares: row 0 is the case, each further row changes one numeric
    hyperparameter to one of its batch values (the rest, up to a multiple of BATCH, are the case
    again); `index[path]` holds the rows of its two values."""
    rows, index = [None], {}
    for p in numeric_params(case):
        index[p] = []
        for v in batch_values(case, p):
            if v == value_at(case, p):
                index[p].append(0)
            else:
                rows.append((p, v))
                index[p].append(len(rows) - 1)
    return rows + [None] * (-len(rows) % BATCH), index


def row_value(case, row, path):
    return row[1] if row is not None and row[0] == path else value_at(case, path)


@per_case
def looped(case):
    """Each row of `variants` built and called on its own (one program serves them all)."""
    rows, _ = variants(case)
    schedules = [schedule(case) if r is None else build_at(case, *r) for r in rows]
    values = np.stack([np.asarray(s(STEP_VECTOR)) for s in schedules])
    cycles = np.stack([np.asarray(s.cycle_index(STEP_VECTOR)) for s in schedules])
    return schedules, values, cycles


@jax.jit
def _batched(batch):
    """A batch of schedules (leaves with a leading axis) at the steps: `jax.vmap` of a
    training-step-like function taking the schedule as a batched argument and the steps unbatched."""
    return jax.vmap(lambda s, t: (s(t), s.cycle_index(t)), in_axes=(0, None))(batch, STEP_VECTOR)


def observe_batch(batch):
    return tuple(np.asarray(x) for x in _batched(batch))


@per_case
def vmapped(case):
    """`variants` built by the constructor under one `jax.vmap`, every numeric hyperparameter a
    batched argument (nested cycle arguments included)."""
    rows, _ = variants(case)
    params = numeric_params(case)

    def construct(*values):
        kwargs = copy.deepcopy(case.kwargs)
        for p, v in zip(params, values):
            _set(kwargs, p, v)
        return o.get(case.name, **kwargs)

    columns = [jnp.asarray([row_value(case, r, p) for r in rows]) for p in params]
    return observe_batch(jax.vmap(construct)(*columns))


# --------------------------------------------------------------------------------------------------
# the tests


def test_catalogue_covers_every_schedule():
    assert {c.name for c in CASES} == set(o.available())


@cases
def test_jit_equals_eager(case):
    eager_values, _ = eager(case)
    jitted, _ = closure(case)
    np.testing.assert_allclose(jitted[AT_STEPS], eager_values[AT_STEPS], rtol=F32_RTOL, atol=1e-8)
    np.testing.assert_allclose(
        vectors(case)["value"][AT_STEPS], eager_values[AT_STEPS], rtol=F32_RTOL, atol=1e-8
    )


# the schedules with cycles (SPEC §6d); every other one has cycle index 0 everywhere
CYCLIC = {
    "cosine_decay_restarts",
    "cosine_annealing_warm_restarts",
    "repeat",
    "cyclic_schedule",
    "cyclic_momentum",
    "sgdr_schedule",
    "join_schedules",
}


@cases
def test_cycle_index_in_every_mode(case):
    _, expected = eager(case)
    _, traced = closure(case)
    np.testing.assert_array_equal(traced, expected)
    vector = vectors(case)["cycle"]
    assert vector.dtype == np.int32
    np.testing.assert_array_equal(vector, expected)
    np.testing.assert_array_equal(vectors(case)["float_cycle"], expected)
    assert np.all(np.diff(expected[AT_STEPS]) >= 0) and np.all(expected >= 0)
    composite = {"schedule", "schedules", "left"} & set(case.kwargs)
    cyclic = case.name in CYCLIC or case.kwargs.get("cycle") is True or composite
    if not cyclic:
        np.testing.assert_array_equal(expected, 0)
    # a batch of hyperparameters: the loop's indices
    _, batched = vmapped(case)
    _, _, looped_cycles = looped(case)
    for p, rows in variants(case)[1].items():
        np.testing.assert_array_equal(batched[rows], looped_cycles[rows], err_msg=p)


@cases
def test_vmap_over_steps(case):
    vector = vectors(case)
    vmapped_steps, _ = over_steps(case)
    np.testing.assert_allclose(vmapped_steps[AT_STEPS], vector["value"][AT_STEPS], rtol=F32_RTOL, atol=1e-8)
    # float steps are accepted too and agree at integers
    np.testing.assert_allclose(
        vector["float_value"][AT_STEPS], vector["value"][AT_STEPS], rtol=1e-5, atol=1e-7
    )


@cases
def test_vmap_over_each_hyperparameter(case):
    params = numeric_params(case)
    assert params, "a case with nothing to vmap over"
    batched, _ = vmapped(case)
    _, looped_values, _ = looped(case)
    for p, rows in variants(case)[1].items():
        np.testing.assert_allclose(
            batched[rows][:, AT_STEPS],
            looped_values[rows][:, AT_STEPS],
            rtol=F32_RTOL,
            atol=1e-8,
            err_msg=p,
        )
        first, second = looped_values[rows][:, AT_STEPS]
        assert not np.allclose(first, second), f"{p}: both values give one curve"


@cases
def test_grad_wrt_float_hyperparameters_is_finite(case):
    # at every step (STEPS, the huge and the negative ones)
    _, grads = over_steps(case)
    floats = [g for g in jax.tree_util.tree_leaves(grads) if jnp.issubdtype(g.dtype, jnp.floating)]
    assert floats
    for g in floats:
        assert np.all(np.isfinite(g)), g


@cases
def test_pytree_round_trip(case):
    s = schedule(case)
    values = vectors(case)["value"]
    leaves, treedef = jax.tree_util.tree_flatten(s)
    assert leaves and all(isinstance(x, jax.Array) for x in leaves)
    again = jax.tree_util.tree_unflatten(treedef, leaves)
    assert again == s and type(again) is type(s)
    # (a JAX array of steps: the same program as STEP_VECTOR's, reached without the range check)
    np.testing.assert_array_equal(again(jnp.asarray(STEP_VECTOR, jnp.int32)), values)
    # a tree_map that doubles float leaves changes the values: leaves really are the hyperparameters
    doubled = jax.tree_util.tree_map(lambda x: x * 2 if jnp.issubdtype(x.dtype, jnp.floating) else x, s)
    assert (
        not np.allclose(np.asarray(doubled(STEP_VECTOR))[AT_STEPS], values[AT_STEPS])
        or case.name == "transformer_schedule"
    )


@cases
def test_stack_and_grid(case):
    rows, _ = variants(case)
    schedules, looped_values, looped_cycles = looped(case)
    values, cycles = observe_batch(o.stack(schedules))
    np.testing.assert_allclose(values[:, AT_STEPS], looped_values[:, AT_STEPS], rtol=F32_RTOL, atol=1e-8)
    np.testing.assert_array_equal(cycles, looped_cycles)
    # a grid over the first (top-level) hyperparameter, with the batch's values of it, row by row
    params = numeric_params(case)
    p = params[0] if params and len(params[0]) == 1 else None
    if p:
        column = [row_value(case, r, p) for r in rows]
        g = o.grid(case.name, **{**case.kwargs, p[0]: column})
        values, _ = observe_batch(g)
        expected = looped_values[[i if r is not None and r[0] == p else 0 for i, r in enumerate(rows)]]
        np.testing.assert_allclose(values[:, AT_STEPS], expected[:, AT_STEPS], rtol=F32_RTOL, atol=1e-8)


@cases
def test_negative_steps_read_as_zero(case):
    eager_values, _ = eager(case)
    at_zero = np.float32(eager_values[0])  # STEP_VECTOR[0] == 0
    np.testing.assert_array_equal(eager_values[AT_NEGATIVE], at_zero)
    np.testing.assert_array_equal(vectors(case)["value"][AT_NEGATIVE], at_zero)
    # -1.0, -7.0, -2.0**31 and -3.5
    np.testing.assert_array_equal(vectors(case)["float_value"][AT_NEGATIVE], at_zero)


@cases
def test_finite_at_huge_steps(case):
    for key in ("value", "float_value"):
        out = vectors(case)[key]
        assert out.dtype == np.float32
        assert np.all(np.isfinite(out)), out
    jitted, _ = closure(case)
    assert np.all(np.isfinite(jitted[AT_HUGE]))


@cases
def test_config_round_trip_through_json(case):
    s = schedule(case)
    cfg = json.loads(json.dumps(s.to_config()))
    again = o.from_config(cfg, allowed_functions=[damped])
    assert again == s
    np.testing.assert_array_equal(again(STEP_VECTOR), vectors(case)["value"])
    assert repr(again) == repr(s)
    # arithmetic prints as an infix expression, everything else as its constructor call
    assert repr(s).startswith(case.name + "(") or (case.name == "binary" and repr(s).startswith("("))


@cases
def test_float64_under_x64(case):
    with jax.enable_x64(True):
        s = build(case)
        out = s(jnp.asarray(STEP_VECTOR, dtype=jnp.int64))
        assert out.dtype == jnp.float64
        ref = np.asarray(out)
    np.testing.assert_allclose(ref[AT_STEPS], vectors(case)["value"][AT_STEPS], rtol=1e-5, atol=1e-7)
