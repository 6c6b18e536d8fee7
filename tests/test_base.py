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


# --------------------------------------------------------------------------------------------------
# arithmetic: unary operators, reflected division, array operands (concrete and traced)

T = np.arange(0, 60)
RAMP = o.linear_schedule(0.5, 0.0731, 37)  # in [0.0731, 0.5]: safe to divide by


def ramp_np(t):
    return 0.5 + (0.0731 - 0.5) * np.minimum(t, 37) / 37


ATOL = dict(rtol=2e-6, atol=1e-8)  # float32 rounding of the ramp and of one operation


def test_unary_and_reflected_operators():
    np.testing.assert_allclose((1.0 / RAMP)(T), 1.0 / ramp_np(T), **ATOL)
    np.testing.assert_allclose((0.0731 / RAMP)(T), 0.0731 / ramp_np(T), **ATOL)
    np.testing.assert_allclose((-RAMP)(T), -ramp_np(T), **ATOL)
    np.testing.assert_allclose((0.3 - -RAMP)(T), 0.3 + ramp_np(T), **ATOL)
    np.testing.assert_allclose((RAMP - 0.3)(T), ramp_np(T) - 0.3, **ATOL)
    np.testing.assert_allclose((2 / (RAMP + 1) - RAMP)(T), 2 / (ramp_np(T) + 1) - ramp_np(T), **ATOL)
    assert +RAMP is RAMP
    assert (-RAMP).cycle_index(100) == 0
    with pytest.raises(ValueError, match=r"binary: right must be nonzero \(it divides\), got 0.0"):
        RAMP / 0.0
    with pytest.raises(ValueError, match=r"binary: right must be nonzero \(it divides\), got 0.0"):
        RAMP / jnp.float32(0.0)
    for bad in ("0.1", None, True, [0.1]):
        with pytest.raises(TypeError):
            RAMP * bad
        with pytest.raises(TypeError):
            bad / RAMP


@pytest.mark.parametrize(
    "c", [jnp.float32(0.0731), np.float32(0.0731), np.float64(0.0731), np.array(0.0731)], ids=type
)
def test_array_constants_on_either_side(c):
    for s in (c * RAMP, RAMP * c, c / RAMP, RAMP - c, c + RAMP):
        assert isinstance(s, o.Schedule), type(s)  # not a NumPy object array of schedules
    np.testing.assert_allclose((c * RAMP)(T), 0.0731 * ramp_np(T), **ATOL)
    np.testing.assert_allclose((RAMP * c)(T), 0.0731 * ramp_np(T), **ATOL)
    np.testing.assert_allclose((c / RAMP)(T), 0.0731 / ramp_np(T), **ATOL)
    np.testing.assert_allclose((c - RAMP)(T), 0.0731 - ramp_np(T), **ATOL)


def test_traced_operands_under_jit_and_vmap():
    lr = 0.0731
    out = jax.jit(lambda lr: (RAMP * lr)(jnp.asarray(T)))(lr)
    np.testing.assert_allclose(out, lr * ramp_np(T), **ATOL)
    out = jax.jit(lambda lr: (lr / RAMP - lr)(jnp.asarray(T)))(lr)
    np.testing.assert_allclose(out, lr / ramp_np(T) - lr, **ATOL)
    lrs = np.array([0.0731, 0.37, 1.9])
    out = jax.jit(jax.vmap(lambda lr: (-(lr * RAMP) + lr)(jnp.asarray(T))))(lrs)
    np.testing.assert_allclose(out, lrs[:, None] * (1 - ramp_np(T)[None, :]), **ATOL)


@pytest.mark.parametrize("t", [0, 11, 37, 50])
def test_gradient_reaches_the_constant_operand(t):
    lr = 0.0731
    grads = [
        jax.grad(lambda lr: (RAMP * lr)(t))(lr),
        jax.grad(lambda lr: (lr / RAMP)(t))(lr),
        jax.grad(lambda lr: (RAMP / lr)(t))(lr),
        jax.grad(lambda lr: (-(RAMP - lr))(t))(lr),
        jax.jit(jax.grad(lambda lr: (lr * lr * RAMP)(t)))(lr),
    ]
    r = ramp_np(t)
    np.testing.assert_allclose(grads, [r, 1 / r, -r / lr**2, 1.0, 2 * lr * r], rtol=3e-6)


# --------------------------------------------------------------------------------------------------
# steps beyond the integer dtype

LONG = [
    2**31,
    3_000_000_000,
    [5, 2**31],
    np.array([5, 3_000_000_000]),
    np.int64(2**31),
    np.array([2**32 + 5], np.uint64),
]


@pytest.mark.skipif(jax.config.jax_enable_x64, reason="x64 is on: steps are int64")
@pytest.mark.parametrize("step", LONG, ids=repr)
def test_steps_past_int32_are_an_error_without_x64(step):
    s = o.exponential_decay(0.0731, 1_000_000_007, 0.5)
    for call in (s, s.cycle_index):
        with pytest.raises(ValueError) as info:
            call(step)
        msg = str(info.value)
        assert msg.startswith("exponential_decay: step must be at most 2**31 - 1 = 2147483647"), msg
        assert f"got {int(np.max(step))}" in msg
        assert "jax.config.update('jax_enable_x64', True)" in msg and "JAX_ENABLE_X64=1" in msg
    np.testing.assert_allclose(s(2**31 - 1), 0.0731 * 0.5 ** ((2**31 - 1) / 1_000_000_007), rtol=2e-6)
    np.testing.assert_allclose(s(np.array([2**31 - 1], np.int64)), s(2**31 - 1))


@pytest.mark.parametrize(
    "step", [-3_000_000_000, -(2**31) - 1, [-(2**40), -1], np.array([-(2**31) - 5, -37])]
)
def test_steps_below_int32_read_as_zero(step):
    # every negative step reads as 0, however negative (not wrapped to a large positive step)
    s = o.linear_schedule(0.0731, 0.5, 37)
    np.testing.assert_array_equal(s(step), np.full(np.shape(step), np.float32(0.0731)))


def test_steps_past_int32_under_x64():
    t = [2**31, 3_000_000_000, 2**31 + 999_983]
    with jax.enable_x64(True):
        e = o.exponential_decay(0.0731, 1_000_000_007, 0.5)
        expected = 0.0731 * 0.5 ** (np.array(t, np.float64) / 1_000_000_007)
        for step in (t, np.array(t, np.int64)):
            np.testing.assert_allclose(e(step), expected, rtol=1e-13)
        np.testing.assert_allclose(e(3_000_000_000), expected[1], rtol=1e-13)
        # a ramp that starts just below 2**31: integer steps past it are exact
        lin = o.linear_schedule(0.0731, 0.5, 1_000_003, transition_begin=2**31 - 37)
        begin = 2**31 - 37
        expected = 0.0731 + (0.5 - 0.0731) * np.clip((np.array(t) - begin) / 1_000_003, 0, 1)
        np.testing.assert_allclose(lin(t), expected, rtol=1e-13)
        cyc = o.cosine_decay_restarts(0.0731, 37, t_mul=1.0)
        np.testing.assert_array_equal(cyc.cycle_index(t), np.array(t) // 37)
        np.testing.assert_allclose(
            cyc(t), 0.0731 * 0.5 * (1 + np.cos(np.pi * (np.array(t) % 37) / 37)), rtol=1e-12
        )
        with pytest.raises(ValueError, match=r"exponential_decay: step must be at most 2\*\*63 - 1"):
            e(2**63)


@pytest.mark.parametrize(
    "n, size",
    [(0, 16), (1, 16), (16, 16), (17, 64), (64, 64), (65, 256), (257, 1024), (1025, 4096),
     (4**8, 4**8), (4**8 + 1, 2**17), (2**17 + 1, 2**18), (2**18 + 1, 2**19)],
)  # fmt: skip
def test_bucket_lengths(n, size):
    from optax_lrs import _base

    assert _base.bucket(n) == size


def test_eager_vectors_share_one_program_per_bucket():
    """Concrete step vectors are padded to a bucket length: lengths 17..64 compile one program, and
    every length gives the formula's values in the input's shape."""
    from optax_lrs import _base

    s = o.cosine_decay_schedule(0.0731, decay_steps=37, alpha=0.013)

    def formula(t):
        t = np.minimum(np.asarray(t, np.float64), 37)
        return 0.0731 * ((1 - 0.013) * 0.5 * (1 + np.cos(np.pi * t / 37)) + 0.013)

    s(np.arange(17))  # the 64-bucket program
    before = _base._evaluate_jit._cache_size()
    for n in (*range(17, 24), 37, 63, 64):
        steps = np.arange(3, 3 + n)
        np.testing.assert_allclose(s(steps), formula(steps), rtol=2e-6)
        np.testing.assert_allclose(s(list(steps)), formula(steps), rtol=2e-6)
        np.testing.assert_allclose(s(jnp.asarray(steps)), formula(steps), rtol=2e-6)
    assert _base._evaluate_jit._cache_size() == before
    np.testing.assert_allclose(s(np.arange(65)), formula(np.arange(65)), rtol=2e-6)
    assert _base._evaluate_jit._cache_size() == before + 1  # 65 steps: the next bucket
    grid = np.arange(35, 41).reshape(2, 3)
    out = s(grid)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, formula(grid), rtol=2e-6)
    assert s.cycle_index(grid).shape == (2, 3) and s([]).shape == (0,)
    # a stacked schedule paired elementwise with its steps is evaluated as given
    pair = o.stack([s, o.cosine_decay_schedule(0.02, decay_steps=37, alpha=0.013)])
    np.testing.assert_allclose(pair(np.array([5, 5])), [formula(5), formula(5) * 0.02 / 0.0731], rtol=2e-6)
