"""Every optax drop-in against optax itself, run here, at many steps and at the boundaries."""

import numpy as np
import optax
import pytest

import optax_lrs as o

STEPS = [
    0,
    1,
    2,
    4,
    5,
    6,
    9,
    10,
    11,
    25,
    28,
    29,
    30,
    49,
    50,
    51,
    99,
    100,
    101,
    149,
    150,
    151,
    199,
    200,
    249,
    250,
    251,
    299,
    300,
    301,
    349,
    350,
    500,
    1000,
    10**5,
]

CASES = [
    ("constant_schedule", dict(value=0.3)),
    ("constant_schedule", dict(value=-1.5)),
    ("exponential_decay", dict(init_value=0.5, transition_steps=7, decay_rate=0.8)),
    (
        "exponential_decay",
        dict(
            init_value=0.5,
            transition_steps=7,
            decay_rate=0.8,
            transition_begin=20,
            staircase=True,
            end_value=0.1,
        ),
    ),
    ("exponential_decay", dict(init_value=0.5, transition_steps=7, decay_rate=1.2, end_value=0.9)),
    ("exponential_decay", dict(init_value=0.5, transition_steps=0, decay_rate=0.8)),
    ("exponential_decay", dict(init_value=0.5, transition_steps=10, decay_rate=0.0)),
    ("exponential_decay", dict(init_value=0.5, transition_steps=10, decay_rate=0.9, transition_begin=-5)),
    (
        "polynomial_schedule",
        dict(init_value=1.0, end_value=0.01, power=2, transition_steps=100, transition_begin=5),
    ),
    ("polynomial_schedule", dict(init_value=1.0, end_value=0.01, power=0.5, transition_steps=100)),
    ("polynomial_schedule", dict(init_value=0.2, end_value=0.9, power=3, transition_steps=0)),
    ("linear_schedule", dict(init_value=0.0, end_value=0.3, transition_steps=33, transition_begin=7)),
    ("linear_schedule", dict(init_value=1.0, end_value=0.0, transition_steps=250)),
    (
        "piecewise_constant_schedule",
        dict(init_value=2.0, boundaries_and_scales={10: 0.5, 100: 0.1, 250: 3.0}),
    ),
    ("piecewise_constant_schedule", dict(init_value=2.0)),
    ("piecewise_constant_schedule", dict(init_value=1.0, boundaries_and_scales={0: 0.5, 300: 0.0})),
    ("cosine_decay_schedule", dict(init_value=0.7, decay_steps=150, alpha=0.1, exponent=2.0)),
    ("cosine_decay_schedule", dict(init_value=1.0, decay_steps=1)),
    (
        "warmup_cosine_decay_schedule",
        dict(init_value=0.01, peak_value=0.5, warmup_steps=50, decay_steps=300, end_value=0.02, exponent=1.5),
    ),
    ("warmup_cosine_decay_schedule", dict(init_value=0.01, peak_value=0.5, warmup_steps=0, decay_steps=300)),
    (
        "warmup_cosine_decay_schedule",
        dict(init_value=0.0, peak_value=0.0, warmup_steps=10, decay_steps=30, end_value=0.1),
    ),
    ("warmup_constant_schedule", dict(init_value=0.01, peak_value=0.5, warmup_steps=40)),
    ("warmup_constant_schedule", dict(init_value=0.01, peak_value=0.5, warmup_steps=0)),
    (
        "warmup_exponential_decay_schedule",
        dict(
            init_value=0.01,
            peak_value=0.5,
            warmup_steps=40,
            transition_steps=30,
            decay_rate=0.7,
            transition_begin=10,
            staircase=True,
            end_value=0.05,
        ),
    ),
    (
        "warmup_exponential_decay_schedule",
        dict(init_value=0.0, peak_value=1.0, warmup_steps=10, transition_steps=5, decay_rate=0.5),
    ),
    (
        "piecewise_interpolate_schedule",
        dict(interpolate_type="cosine", init_value=1.0, boundaries_and_scales={10: 0.5, 100: 0.1, 250: 3.0}),
    ),
    (
        "piecewise_interpolate_schedule",
        dict(interpolate_type="linear", init_value=1.0, boundaries_and_scales={0: 0.5, 100: 0.1}),
    ),
    ("piecewise_interpolate_schedule", dict(interpolate_type="linear", init_value=0.3)),
    ("linear_onecycle_schedule", dict(transition_steps=300, peak_value=0.4)),
    ("linear_onecycle_schedule", dict(transition_steps=10, peak_value=0.4, pct_start=0.29, pct_final=0.7)),
    (
        "linear_onecycle_schedule",
        dict(
            transition_steps=100,
            peak_value=0.4,
            pct_start=0.29,
            pct_final=0.57,
            div_factor=5.0,
            final_div_factor=50.0,
        ),
    ),
    (
        "cosine_onecycle_schedule",
        dict(transition_steps=300, peak_value=0.4, pct_start=0.29, div_factor=10.0, final_div_factor=100.0),
    ),
    ("cosine_onecycle_schedule", dict(transition_steps=1000, peak_value=1.0)),
    (
        "sgdr_schedule",
        dict(
            cosine_kwargs=[
                dict(init_value=0.0, peak_value=1.0, warmup_steps=10, decay_steps=100),
                dict(init_value=0.1, peak_value=0.5, warmup_steps=5, decay_steps=50, end_value=0.01),
                dict(init_value=0.0, peak_value=0.2, warmup_steps=0, decay_steps=200, exponent=2.0),
            ]
        ),
    ),
    (
        "sgdr_schedule",
        dict(cosine_kwargs=[dict(init_value=0.0, peak_value=1.0, warmup_steps=0, decay_steps=37)] * 9),
    ),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}{i}" for i, (n, _) in enumerate(CASES)])
def test_same_values_as_optax(name, kwargs):
    reference = getattr(optax, name)(**kwargs)
    expected = np.array([float(reference(t)) for t in STEPS])
    ours = o.get(name, **kwargs)
    np.testing.assert_allclose(ours(np.array(STEPS)), expected, rtol=2e-6, atol=1e-7)
    # scalar calls too, as optax users make them
    np.testing.assert_allclose([float(ours(t)) for t in STEPS[:12]], expected[:12], rtol=2e-6, atol=1e-7)


def test_join_schedules_matches_optax_on_heterogeneous_pieces():
    pieces = [
        optax.linear_schedule(0.0, 1.0, 20),
        optax.cosine_decay_schedule(1.0, 50, alpha=0.1),
        optax.constant_schedule(0.05),
    ]
    reference = optax.join_schedules(pieces, [20, 60])
    ours = o.join_schedules(
        [
            o.linear_schedule(0.0, 1.0, 20),
            o.cosine_decay_schedule(1.0, 50, alpha=0.1),
            o.constant_schedule(0.05),
        ],
        [20, 60],
    )
    plain_callables = o.join_schedules(pieces, [20, 60])
    expected = np.array([float(reference(t)) for t in STEPS])
    np.testing.assert_allclose(ours(np.array(STEPS)), expected, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(plain_callables(np.array(STEPS)), expected, rtol=2e-6, atol=1e-7)


def test_usable_as_optax_learning_rate():
    import jax
    import jax.numpy as jnp

    sched = o.warmup_cosine_decay_schedule(0.0, 0.1, 5, 50)
    opt = optax.adam(learning_rate=sched)
    ref = optax.adam(learning_rate=optax.warmup_cosine_decay_schedule(0.0, 0.1, 5, 50))
    params = {"w": jnp.ones(3)}

    def run(opt):
        state = opt.init(params)
        p = params
        for _ in range(8):
            g = jax.tree_util.tree_map(lambda x: 2 * x, p)
            u, state = jax.jit(opt.update)(g, state, p)
            p = optax.apply_updates(p, u)
        return p["w"]

    np.testing.assert_allclose(run(opt), run(ref), rtol=1e-6)
    injected = optax.inject_hyperparams(optax.sgd)(learning_rate=sched)
    state = injected.init(params)
    assert float(state.hyperparams["learning_rate"]) == float(sched(0))
