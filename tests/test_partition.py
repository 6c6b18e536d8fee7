"""Differentiating a schedule's real hyperparameters: `partition` / `combine` against finite
differences of hand formulas in float64, the integer leaves kept out, and the warning for a float
array given for an integer parameter."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_lrs as o
from optax_lrs._partition import combine, named_leaves, partition

INIT, STEPS, ALPHA, EXPONENT = 0.0731, 37, 0.173, 1.3


def cosine_np(t, init, alpha, exponent, steps=STEPS):
    c = 0.5 * (1 + np.cos(np.pi * min(t, steps) / steps))
    return init * ((1 - alpha) * c**exponent + alpha)


def finite_difference(f, x, h=1e-6):
    """Central differences of a float64 function of a vector, one coordinate at a time."""
    x = np.asarray(x, np.float64)
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


@pytest.mark.parametrize("t", [0, 11, 29, 37, 50])
def test_grad_through_combine_matches_finite_differences(t):
    s = o.cosine_decay_schedule(INIT, STEPS, alpha=ALPHA, exponent=EXPONENT)
    params, rest = partition(s)
    grads = jax.grad(lambda p: combine(p, rest)(t))(params)  # no allow_int
    got = named_leaves(grads)
    assert set(got) == {"init_value", "alpha", "exponent"}
    expected = finite_difference(lambda x: cosine_np(t, *x), [INIT, ALPHA, EXPONENT])
    # float32 gradients; at t >= 37 the cosine is 0 and d/d exponent is 0
    np.testing.assert_allclose(
        [got["init_value"], got["alpha"], got["exponent"]], expected, rtol=2e-5, atol=1e-8
    )


def test_integer_leaves_are_in_rest_only():
    s = o.cosine_decay_restarts(INIT, STEPS, t_mul=1.5)
    params, rest = partition(s)
    p, r = named_leaves(params), named_leaves(rest)
    assert set(p) == {"init_value", "t_mul", "m_mul", "alpha"}
    assert "first_decay_steps" in r and all(k == "first_decay_steps" or k.startswith("cycles") for k in r)
    assert not set(p) & set(r)
    assert all(jnp.issubdtype(x.dtype, jnp.floating) for x in p.values())
    assert params.first_decay_steps is None and rest.init_value is None
    grads = jax.grad(lambda q: combine(q, rest)(50))(params)
    assert all(x.dtype == jnp.float32 for x in jax.tree_util.tree_leaves(grads))  # no float0
    assert combine(params, rest) == s


def test_nested_composite_and_constant_operand():
    lr = 0.37
    inner = o.join_schedules(
        [o.cosine_decay_schedule(INIT, STEPS), o.exponential_decay(0.2, 13, 0.7)], [STEPS]
    )
    s = o.warmup(inner * lr, 7)
    params, rest = partition(s)
    assert set(named_leaves(params)) == {
        "schedule.left.schedules.0.init_value",
        "schedule.left.schedules.0.alpha",
        "schedule.left.schedules.0.exponent",
        "schedule.left.schedules.1.init_value",
        "schedule.left.schedules.1.decay_rate",
        "schedule.right.value_",
        "init_value",
    }
    assert set(named_leaves(rest)) == {
        "schedule.left.schedules.0.decay_steps",
        "schedule.left.schedules.1.transition_steps",
        "schedule.left.schedules.1.transition_begin",
        "schedule.left.boundaries",
        "warmup_steps",
    }
    rebuilt = combine(params, rest)
    assert rebuilt == s
    t = np.arange(0, 80)
    np.testing.assert_array_equal(rebuilt(t), s(t))
    # d/d lr at t = 7 + 50: lr · 0.2 · 0.7^((50 − 37)/13) → 0.2 · 0.7
    grads = named_leaves(jax.grad(lambda p: combine(p, rest)(57))(params))
    np.testing.assert_allclose(grads["schedule.right.value_"], 0.2 * 0.7, rtol=2e-6)
    np.testing.assert_allclose(grads["schedule.left.schedules.1.init_value"], lr * 0.7, rtol=2e-6)
    assert grads["schedule.left.schedules.0.init_value"] == 0.0


def test_vmap_of_grad_over_a_grid():
    g = o.grid(o.cosine_decay_schedule, init_value=[INIT, 0.5], decay_steps=STEPS, alpha=[ALPHA, 0.01])
    params, rest = partition(g)
    grads = jax.vmap(jax.grad(lambda p, r: combine(p, r)(11)))(params, rest)
    for i, (init, alpha) in enumerate([(INIT, ALPHA), (INIT, 0.01), (0.5, ALPHA), (0.5, 0.01)]):
        expected = finite_difference(lambda x: cosine_np(11, x[0], x[1], 1.0), [init, alpha])
        np.testing.assert_allclose([grads.init_value[i], grads.alpha[i]], expected, rtol=2e-5)
    assert grads.decay_steps is None


def test_an_optax_step_on_the_hyperparameters():
    s = o.constant_schedule(INIT) * o.linear_schedule(1.0, 0.0, STEPS)
    params, rest = partition(s)
    opt = optax.sgd(0.5)
    grads = jax.grad(lambda p: combine(p, rest)(11) ** 2)(params)
    updates, _ = opt.update(grads, opt.init(params), params)
    new = combine(optax.apply_updates(params, updates), rest)
    # f = c · l · r with r = 1 − 11/37; d(f²)/dc = 2 c (l r)²
    r = 1 - 11 / STEPS
    np.testing.assert_allclose(new.left.value_, INIT - 0.5 * 2 * INIT * r**2, rtol=2e-6)
    assert new.right.transition_steps == STEPS


def test_leaves_outside_schedules_by_dtype():
    tree = {"sched": o.from_fn(lambda t, lr: lr / (1 + t), lr=INIT), "count": jnp.int32(3), "w": np.ones(2)}
    params, rest = partition(tree)
    assert set(named_leaves(params)) == {"sched.hyperparams.lr", "w"}
    assert set(named_leaves(rest)) == {"count"}
    np.testing.assert_allclose(
        jax.grad(lambda p: combine(p, rest)["sched"](9))(params)["sched"].hyperparams["lr"], 0.1
    )
    with pytest.raises(ValueError, match="combine: trees must be at least one pytree"):
        combine()


# --------------------------------------------------------------------------------------------------
# a float given for an integer parameter


def _messages(record):
    return [str(w.message) for w in record if "counts steps" in str(w.message)]


def test_float_array_for_a_count_warns_once_naming_it():
    with pytest.warns(UserWarning) as record:
        s = o.cosine_decay_schedule(INIT, jnp.float32(STEPS))
    msgs = _messages(record)
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith("cosine_decay_schedule: decay_steps counts steps"), msgs[0]
    assert "gradients with respect to it are zero" in msgs[0] and "partition" in msgs[0]
    assert [w.filename for w in record if "counts steps" in str(w.message)] == [__file__]
    assert s == o.cosine_decay_schedule(INIT, STEPS)
    # a compat layer that checks the argument, then builds the core schedule: still one warning
    from optax_lrs.compat import keras

    with pytest.warns(UserWarning) as record:
        keras.CosineDecay(INIT, jnp.float32(STEPS))
    assert len(_messages(record)) == 1, _messages(record)


def test_traced_float_for_a_count_warns_and_its_gradient_is_zero():
    with pytest.warns(UserWarning, match="cosine_decay_schedule: decay_steps counts steps"):
        g = jax.grad(lambda d: o.cosine_decay_schedule(INIT, d)(11))(float(STEPS))
    assert g == 0.0
    with pytest.warns(UserWarning, match="warmup: warmup_steps counts steps"):
        jax.vmap(lambda w: o.warmup(o.constant_schedule(INIT), w)(3))(jnp.array([5.0, 9.0]))


def test_whole_python_and_numpy_floats_are_accepted_silently():
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for d in (37.0, np.float64(37.0), np.float32(37.0), np.array(37.0), jnp.int32(STEPS)):
            assert o.cosine_decay_schedule(INIT, d) == o.cosine_decay_schedule(INIT, STEPS)
    assert _messages(record) == []


def test_a_list_of_traced_floats_for_boundaries_warns():
    with pytest.warns(UserWarning, match="multistep_decay: boundaries counts steps"):
        out = jax.vmap(lambda b: o.multistep_decay(INIT, [b[0], b[1]], 0.5)(30))(
            jnp.array([[10.0, 20.0], [5.0, 40.0]])
        )
    np.testing.assert_allclose(out, [INIT * 0.25, INIT * 0.5], rtol=2e-7)
