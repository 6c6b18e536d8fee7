"""Composition: every operator against its formula in NumPy float64, select under vmap, repeat
against PyTorch, a deep composite through JSON, and join's size flat in the number of pieces."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_decay import torch_lrs

import optax_lrs as o

T = np.arange(0, 300)


def cos_np(t, init=1.0, steps=100):
    return init * 0.5 * (1 + np.cos(np.pi * np.minimum(t, steps) / steps))


def lin_np(t, a=0.0, b=1.0, steps=50):
    return a + (b - a) * np.minimum(t, steps) / steps


COS, LIN = o.cosine_decay_schedule(1.0, 100), o.linear_schedule(0.0, 1.0, 50)
TOL = dict(rtol=5e-6, atol=6e-8)  # 6e-8: float32 cos near the end of a decay


def test_arithmetic_operators():
    np.testing.assert_allclose((COS * 0.5)(T), 0.5 * cos_np(T), **TOL)
    np.testing.assert_allclose((0.5 * COS)(T), 0.5 * cos_np(T), **TOL)
    np.testing.assert_allclose((COS + 0.1)(T), cos_np(T) + 0.1, **TOL)
    np.testing.assert_allclose((0.1 + COS)(T), cos_np(T) + 0.1, **TOL)
    np.testing.assert_allclose((COS - LIN)(T), cos_np(T) - lin_np(T), **TOL)
    np.testing.assert_allclose((1.0 - COS)(T), 1.0 - cos_np(T), **TOL)
    np.testing.assert_allclose((COS * LIN)(T), cos_np(T) * lin_np(T), **TOL)  # torch ChainedScheduler
    np.testing.assert_allclose((COS + LIN)(T), cos_np(T) + lin_np(T), **TOL)
    np.testing.assert_allclose((COS / 4)(T), cos_np(T) / 4, **TOL)
    np.testing.assert_allclose(o.minimum(COS, LIN)(T), np.minimum(cos_np(T), lin_np(T)), **TOL)
    np.testing.assert_allclose(o.maximum(COS, 0.3)(T), np.maximum(cos_np(T), 0.3), **TOL)
    np.testing.assert_allclose(o.scale(COS, 3.0)(T), 3 * cos_np(T), **TOL)
    np.testing.assert_allclose(o.clip(COS, 0.2, 0.7)(T), np.clip(cos_np(T), 0.2, 0.7), **TOL)
    np.testing.assert_allclose(o.clip(COS, min_value=0.2)(T), np.maximum(cos_np(T), 0.2), **TOL)
    np.testing.assert_allclose(o.clip(COS, max_value=0.5)(T), np.minimum(cos_np(T), 0.5), **TOL)


def test_step_remapping_operators():
    np.testing.assert_allclose(o.shift(COS, 25)(T), cos_np(np.maximum(T - 25, 0)), **TOL)
    np.testing.assert_allclose(o.per_epoch(COS, 7)(T), cos_np(T // 7), **TOL)
    np.testing.assert_allclose(o.staircase(COS, 9)(T), cos_np(9 * (T // 9)), **TOL)
    # seed 002's step decay per epoch, 10 epochs a drop, 20 updates an epoch
    s = o.per_epoch(o.step_decay(0.1, 0.5, 10), 20)
    np.testing.assert_allclose(s(T), 0.1 * 0.5 ** np.floor(T // 20 / 10), rtol=2e-6)


@pytest.mark.parametrize(("period", "mult", "decay"), [(40, 1.0, 1.0), (30, 2.0, 0.5), (25, 1.5, 0.8)])
def test_repeat_formula(period, mult, decay):
    base = o.cosine_decay_schedule(1.0, period)
    expected, start, length, i = [], 0.0, float(period), 0
    for t in T:
        while t >= start + length:
            start, length, i = start + length, length * mult, i + 1
        expected.append(decay**i * cos_np((t - start) * period / length, steps=period))
    np.testing.assert_allclose(o.repeat(base, period, mult, decay)(T), expected, **TOL)


def test_repeat_matches_torch_cosine_annealing_warm_restarts():
    for t0, t_mult in [(10, 1), (6, 2)]:
        expected = torch_lrs(
            lambda torch, opt, t0=t0, t_mult=t_mult: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
                opt, t0, t_mult, eta_min=0.001
            ),
            300,
            0.1,
        )
        ours = o.repeat(o.cosine_decay_schedule(0.1, t0, alpha=0.01), t0, float(t_mult))
        np.testing.assert_allclose(ours(T), expected, rtol=5e-6, atol=1e-9)


def test_select_under_vmap_over_four_families():
    fams = [
        o.cosine_decay_schedule(1.0, 100),
        o.step_decay(1.0, 0.5, 30),
        o.constant_schedule(0.2),
        o.warmup(o.linear_schedule(1.0, 0.0, 100), 20),
    ]
    out = jax.jit(jax.vmap(lambda i: o.select(fams, i)(jnp.asarray(T))))(jnp.arange(4))
    expected = [
        cos_np(T),
        0.5 ** (T // 30),
        np.full(T.shape, 0.2),
        np.where(T < 20, T / 20, np.clip(1 - (T - 20) / 100, 0, 1)),
    ]
    np.testing.assert_allclose(out, np.stack(expected), **TOL)


def test_join_of_one_structure_is_one_evaluation():
    """Pieces of one structure are stacked: one evaluation per step whatever their number. Above 64
    pieces the lookup is a binary search, so the program grows by one step per doubling only."""

    def equations(n):
        pieces = [o.cosine_decay_schedule(1.0 / (k + 1), 10 + k) for k in range(n)]
        s = o.join_schedules(pieces, list(np.cumsum([10 + k for k in range(n - 1)])))
        return len(jax.make_jaxpr(lambda t: s(t))(jnp.arange(5)).jaxpr.eqns)

    small, large = equations(128), equations(1024)
    assert large - small == 3 * (equations(256) - small)  # three more halvings, the same per halving
    assert large < 256  # 1024 pieces: not a `where` per piece
    pieces = [o.cosine_decay_schedule(1.0 / (k + 1), 10) for k in range(400)]
    s = o.join_schedules(pieces, [10 * (k + 1) for k in range(399)])
    t = np.array([0, 5, 10, 15, 3995, 3999, 5000])
    k = np.minimum(t // 10, 399)
    np.testing.assert_allclose(s(t), cos_np(t - 10 * k, init=1.0, steps=10) / (k + 1), **TOL)


def test_deep_composite_through_json():
    """warmup of a clip of a join of scaled schedules, to JSON and back."""
    joined = o.join_schedules(
        [o.scale(o.cosine_decay_schedule(1.0, 50), 0.5), o.exponential_decay(0.5, 10, 0.8) * 2.0], [50]
    )
    deep = o.warmup(o.clip(joined, 0.05, 0.6), 10, init_value=0.01, mode="cosine")
    text = json.dumps(deep.to_config())
    again = o.from_config(json.loads(text))
    assert again == deep
    assert repr(again) == repr(deep)
    np.testing.assert_array_equal(again(T), deep(T))
    inner = np.where(
        T - 10 < 50,
        0.5 * cos_np(np.maximum(T - 10, 0), steps=50),
        2.0 * 0.5 * 0.8 ** (np.maximum(T - 60, 0) / 10),
    )
    inner = np.clip(inner, 0.05, 0.6)
    target = min(max(0.5, 0.05), 0.6)
    ramp = 0.01 + (target - 0.01) * 0.5 * (1 - np.cos(np.pi * np.minimum(T, 10) / 10))
    np.testing.assert_allclose(deep(T), np.where(T < 10, ramp, inner), **TOL)
    assert repr(deep).startswith(
        "warmup(schedule=clip(schedule=join_schedules(schedules=[(cosine_decay_schedule("
    )
