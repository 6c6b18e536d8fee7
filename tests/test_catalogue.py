"""The generic suite: every case of `catalogue.CASES` through jit, vmap, grad, pytrees, batching,
configs, negative and huge steps, and x64."""

import copy
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
F32_RTOL = 2e-6  # a few float32 ulps

cases = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def build(case, **override):
    return o.get(case.name, **{**case.kwargs, **override})


def build_at(case, path, value):
    """The case with the hyperparameter at `path` (a key, or (key, index, key) inside a list of
    dicts such as sgdr's cosine_kwargs) replaced."""
    kwargs = copy.deepcopy(case.kwargs)
    target = kwargs
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
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


def test_catalogue_covers_every_schedule():
    assert {c.name for c in CASES} == set(o.available())


@cases
def test_jit_equals_eager(case):
    s = build(case)
    eager = np.array([float(s(int(t))) for t in STEPS])
    jitted = np.asarray(jax.jit(lambda t: s(t))(jnp.asarray(STEPS)))
    np.testing.assert_allclose(jitted, eager, rtol=F32_RTOL, atol=1e-8)
    np.testing.assert_allclose(np.asarray(s(STEPS)), eager, rtol=F32_RTOL, atol=1e-8)


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
    s = build(case)
    steps = np.concatenate([STEPS, HUGE])
    eager = np.array([int(s.cycle_index(int(t))) for t in steps])
    traced = jax.jit(lambda t: s.cycle_index(t))
    np.testing.assert_array_equal([int(traced(jnp.int32(t))) for t in steps], eager)
    vector = np.asarray(s.cycle_index(steps.astype(np.int32)))
    assert vector.dtype == np.int32
    np.testing.assert_array_equal(vector, eager)
    np.testing.assert_array_equal(s.cycle_index(steps.astype(np.float32)), eager)
    assert np.all(np.diff(eager[: len(STEPS)]) >= 0) and np.all(eager >= 0)
    composite = {"schedule", "schedules", "left"} & set(case.kwargs)
    cyclic = case.name in CYCLIC or case.kwargs.get("cycle") is True or composite
    if not cyclic:
        np.testing.assert_array_equal(eager, 0)
    for p in numeric_params(case):  # a batch of hyperparameters: the loop's indices
        values = case.vmap.get(p[-1], [value_at(case, p), other_value(value_at(case, p))])
        batched = jax.vmap(lambda v, p=p: build_at(case, p, v).cycle_index(jnp.asarray(STEPS)))(
            jnp.asarray(values)
        )
        looped = np.stack([np.asarray(build_at(case, p, v).cycle_index(STEPS)) for v in values])
        np.testing.assert_array_equal(batched, looped, err_msg=p)


@cases
def test_vmap_over_steps(case):
    s = build(case)
    np.testing.assert_allclose(jax.vmap(s)(jnp.asarray(STEPS)), s(STEPS), rtol=F32_RTOL, atol=1e-8)
    # float steps are accepted too and agree at integers
    np.testing.assert_allclose(s(STEPS.astype(np.float32)), s(STEPS), rtol=1e-5, atol=1e-7)


@cases
def test_vmap_over_each_hyperparameter(case):
    params = numeric_params(case)
    assert params, "a case with nothing to vmap over"
    for p in params:
        values = case.vmap.get(p[-1], [value_at(case, p), other_value(value_at(case, p))])
        batched = jax.vmap(lambda v, p=p: build_at(case, p, v)(jnp.asarray(STEPS)))(jnp.asarray(values))
        looped = np.stack([np.asarray(build_at(case, p, v)(STEPS)) for v in values])
        np.testing.assert_allclose(batched, looped, rtol=F32_RTOL, atol=1e-8, err_msg=p)
        assert not np.allclose(looped[0], looped[1]), f"{p}: both values give one curve"


@cases
def test_grad_wrt_float_hyperparameters_is_finite(case):
    s = build(case)
    grads = jax.grad(lambda s: jnp.sum(s(jnp.asarray(STEPS))), allow_int=True)(s)
    floats = [g for g in jax.tree_util.tree_leaves(grads) if jnp.issubdtype(g.dtype, jnp.floating)]
    assert floats
    for g in floats:
        assert np.all(np.isfinite(g))
    # and at the huge steps
    grads = jax.grad(lambda s: jnp.sum(s(jnp.asarray(HUGE))), allow_int=True)(s)
    for g in jax.tree_util.tree_leaves(grads):
        if jnp.issubdtype(g.dtype, jnp.floating):
            assert np.all(np.isfinite(g))


@cases
def test_pytree_round_trip(case):
    s = build(case)
    leaves, treedef = jax.tree_util.tree_flatten(s)
    assert leaves and all(isinstance(x, jax.Array) for x in leaves)
    again = jax.tree_util.tree_unflatten(treedef, leaves)
    assert again == s and type(again) is type(s)
    np.testing.assert_array_equal(again(STEPS), s(STEPS))
    # a tree_map that doubles float leaves changes the values: leaves really are the hyperparameters
    doubled = jax.tree_util.tree_map(lambda x: x * 2 if jnp.issubdtype(x.dtype, jnp.floating) else x, s)
    assert not np.allclose(doubled(STEPS), s(STEPS)) or case.name == "transformer_schedule"


@cases
def test_stack_and_grid(case):
    params = numeric_params(case)
    p = params[0][0] if params and len(params[0]) == 1 else None
    other = case.vmap.get(p, [None, other_value(case.kwargs[p])])[1] if p else None
    variants = [build(case)] + ([build(case, **{p: other})] if p else [build(case)])
    batched = o.stack(variants)
    out = jax.vmap(lambda s: s(jnp.asarray(STEPS)))(batched)
    np.testing.assert_allclose(out, np.stack([v(STEPS) for v in variants]), rtol=F32_RTOL, atol=1e-8)
    # vmap of a training-step-like function taking the schedule as an argument
    out = jax.vmap(lambda s, t: s(t), in_axes=(0, None))(batched, 7)
    np.testing.assert_allclose(out, [float(v(7)) for v in variants], rtol=F32_RTOL)
    if p:
        g = o.grid(case.name, **{**case.kwargs, p: [case.kwargs[p], other]})
        np.testing.assert_allclose(
            jax.vmap(lambda s: s(jnp.asarray(STEPS)))(g), out_all(variants), rtol=F32_RTOL, atol=1e-8
        )


def out_all(variants):
    return np.stack([np.asarray(v(STEPS)) for v in variants])


@cases
def test_negative_steps_read_as_zero(case):
    s = build(case)
    np.testing.assert_array_equal(s(jnp.array([-1, -7, -(2**31) + 1])), np.full(3, float(s(0)), np.float32))
    assert float(s(-3.5)) == float(s(0))


@cases
def test_finite_at_huge_steps(case):
    s = build(case)
    for steps in (HUGE, HUGE.astype(np.float32)):
        out = np.asarray(s(steps))
        assert out.dtype == np.float32
        assert np.all(np.isfinite(out)), out
    assert np.all(np.isfinite(jax.jit(s)(jnp.asarray(HUGE))))


@cases
def test_config_round_trip_through_json(case):
    s = build(case)
    cfg = json.loads(json.dumps(s.to_config()))
    again = o.from_config(cfg, allowed_functions=[damped])
    assert again == s
    np.testing.assert_array_equal(again(STEPS), s(STEPS))
    assert repr(again) == repr(s)
    # arithmetic prints as an infix expression, everything else as its constructor call
    assert repr(s).startswith(case.name + "(") or (case.name == "binary" and repr(s).startswith("("))


@cases
def test_float64_under_x64(case):
    with jax.enable_x64(True):
        s = build(case)
        out = s(jnp.asarray(STEPS, dtype=jnp.int64))
        assert out.dtype == jnp.float64
        ref = out
    np.testing.assert_allclose(np.asarray(ref), np.asarray(build(case)(STEPS)), rtol=1e-5, atol=1e-7)
