"""The protocol: stack, grid, validation messages, repr, configs, eager executable reuse."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_lrs as o
from optax_lrs import _base


def test_grid_is_flat_product_in_order():
    g = o.grid(o.cosine_decay_schedule, init_value=[0.1, 0.3], decay_steps=[100, 1000], alpha=0.05)
    assert g.init_value.shape == (4,)
    np.testing.assert_allclose(g.init_value, [0.1, 0.1, 0.3, 0.3], rtol=1e-7)
    np.testing.assert_array_equal(g.decay_steps, [100, 1000, 100, 1000])
    np.testing.assert_allclose(g.alpha, [0.05] * 4, rtol=1e-7)
    out = jax.vmap(lambda s: s(50))(g)
    expected = [
        v * ((1 - 0.05) * 0.5 * (1 + np.cos(np.pi * 50 / d)) + 0.05) for v in (0.1, 0.3) for d in (100, 1000)
    ]
    np.testing.assert_allclose(out, expected, rtol=2e-6)


def test_grid_over_sequence_parameters():
    # a list of numbers is the boundaries themselves; a list of lists is an axis
    one = o.grid("multistep_decay", init_value=[1.0, 2.0], boundaries=[10, 20], decay_rate=0.5)
    assert one.boundaries.shape == (2, 2)
    two = o.grid("multistep_decay", init_value=1.0, boundaries=[[10, 20], [5, 30]], decay_rate=[0.5, 0.1])
    assert two.boundaries.shape == (4, 2)
    out = jax.vmap(lambda s: s(jnp.array([0, 7, 15, 25])))(two)
    np.testing.assert_allclose(
        out, [[1, 1, 0.5, 0.25], [1, 1, 0.1, 0.01], [1, 0.5, 0.5, 0.5], [1, 0.1, 0.1, 0.1]], rtol=1e-6
    )
    sgdr = o.grid(
        "sgdr_schedule",
        cosine_kwargs=[
            [dict(init_value=0.0, peak_value=p, warmup_steps=2, decay_steps=10)] for p in (1.0, 0.5)
        ],
    )
    np.testing.assert_allclose(jax.vmap(lambda s: s(2))(sgdr), [1.0, 0.5], rtol=1e-6)


def test_grid_and_stack_errors():
    with pytest.raises(ValueError, match="grid: give at least one keyword"):
        o.grid(o.cosine_decay_schedule, init_value=0.1, decay_steps=10)
    with pytest.raises(ValueError, match="share one structure"):
        o.stack([o.cosine_decay_schedule(0.1, 10), o.constant_schedule(0.1)])
    with pytest.raises(ValueError, match="share one structure"):
        o.grid(
            o.exponential_decay, init_value=0.1, transition_steps=10, decay_rate=0.5, staircase=[True, False]
        )
    with pytest.raises(ValueError, match="stack: schedules must be a non-empty"):
        o.stack([])


def test_vmap_through_a_training_step():
    import optax

    g = o.grid(
        o.warmup_cosine_decay_schedule,
        init_value=0.0,
        peak_value=[0.1, 0.01],
        warmup_steps=[0, 5],
        decay_steps=20,
    )

    def train(sched):
        opt = optax.sgd(learning_rate=sched)
        params = jnp.array(3.0)
        state = opt.init(params)

        def step(carry, _):
            p, s = carry
            u, s = opt.update(2 * p, s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(step, (params, state), None, length=20)
        return p

    batched = jax.jit(jax.vmap(train))(g)
    looped = [train(jax.tree_util.tree_map(lambda x, i=i: x[i], g)) for i in range(4)]
    np.testing.assert_allclose(batched, looped, rtol=1e-6)
    assert len(set(np.round(np.asarray(batched), 6))) == 4


def test_one_executable_per_structure():
    _base._evaluate_jit.clear_cache()
    for v in (0.1, 0.2, 0.3):
        for d in (10, 100):
            o.cosine_decay_schedule(v, d)(5)
    assert _base._evaluate_jit._cache_size() == 1
    o.cosine_decay_schedule(0.1, 10, alpha=0.5)(7)
    assert _base._evaluate_jit._cache_size() == 1
    o.exponential_decay(0.1, 10, 0.5, staircase=True)(5)
    o.exponential_decay(0.1, 10, 0.5, staircase=False)(5)
    assert _base._evaluate_jit._cache_size() == 3


def test_repr_shows_constructor_and_hyperparameters():
    assert repr(o.cosine_decay_schedule(0.1, 1000)) == (
        "cosine_decay_schedule(init_value=0.1, decay_steps=1000, alpha=0.0, exponent=1.0)"
    )
    assert repr(o.piecewise_constant_schedule(1.0, {10: 0.5})) == (
        "piecewise_constant_schedule(init_value=1.0, boundaries_and_scales=[[10, 0.5]])"
    )
    w = o.warmup(o.constant_schedule(0.3), 5)
    assert (
        repr(w) == "warmup(schedule=constant_schedule(value=0.3), warmup_steps=5, init_value=0.0, "
        "mode='linear', shift=True)"
    )


def test_config_is_json_and_nested():
    s = o.warmup(
        o.sgdr_schedule([dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=10)] * 2), 3
    )
    cfg = s.to_config()
    assert cfg["schedule"] == "warmup"
    assert cfg["params"]["schedule"]["schedule"] == "sgdr_schedule"
    text = json.dumps(cfg)
    assert o.from_config(json.loads(text)) == s
    assert o.to_config(s) == cfg


def test_get_and_available():
    assert "cosine_decay_restarts" in o.available()
    assert o.get("step_decay", init_value=0.1, decay_rate=0.5, decay_steps=3) == o.step_decay(0.1, 0.5, 3)
    with pytest.raises(ValueError, match="get: unknown schedule 'cosine'"):
        o.get("cosine")
    with pytest.raises(ValueError, match="from_config: config must be"):
        o.from_config({"name": "x"})


def test_lambda_has_no_config():
    with pytest.raises(ValueError, match="lambda"):
        o.warmup(lambda t: 0.1 * t, 3).to_config()


def test_schedules_are_hashable_and_jittable_directly():
    s = o.cosine_decay_schedule(0.1, 100)
    assert hash(s) == hash(o.cosine_decay_schedule(0.1, 100))
    assert len({s, o.cosine_decay_schedule(0.1, 100)}) == 1
    np.testing.assert_allclose(jax.jit(s)(jnp.arange(3)), s(np.arange(3)))


def test_traced_hyperparameters_stay_finite():
    # nothing is validated under a trace; invalid values are clamped instead of producing NaN/inf
    out = jax.vmap(lambda d: o.cosine_decay_schedule(1.0, d)(jnp.array([0, 5, 10])))(jnp.array([0, -3, 10]))
    assert np.all(np.isfinite(out))
    out = jax.vmap(lambda m: o.cosine_decay_restarts(1.0, 10, t_mul=m)(jnp.array([0, 50, 2**31 - 1])))(
        jnp.array([0.5, 1.0, 3.0])
    )
    assert np.all(np.isfinite(out))
