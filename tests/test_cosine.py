"""Cosine schedules and warm restarts against Keras 3, PyTorch, the seeds' code (transcribed to
NumPy float64) and exact restart peaks."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_decay import keras_values, torch_lrs

import optax_lrs as o

T = np.arange(0, 1200)


@pytest.mark.parametrize(("steps", "alpha"), [(100, 0.0), (250, 0.1), (1, 0.5)])
def test_keras_cosine_decay(steps, alpha):
    expected = keras_values("CosineDecay", 400, initial_learning_rate=0.1, decay_steps=steps, alpha=alpha)
    np.testing.assert_allclose(
        o.cosine_decay_schedule(0.1, steps, alpha)(np.arange(400)), expected, rtol=5e-6, atol=1e-8
    )


def test_seed_000_cosine_decay_function():
    """Seed 000: epoch = min(epoch, Epoch); lr · ((1 - alpha)·½(1 + cos(π·epoch/Epoch)) + alpha)."""
    lr, total, alpha = 0.01, 90, 0.05
    e = np.minimum(np.arange(200), total)
    expected = lr * ((1 - alpha) * 0.5 * (1 + np.cos(np.pi * e / total)) + alpha)
    np.testing.assert_allclose(o.cosine_decay_schedule(lr, total, alpha)(np.arange(200)), expected, rtol=2e-6)


@pytest.mark.parametrize(
    ("first", "t_mul", "m_mul", "alpha"),
    [(100, 2.0, 1.0, 0.0), (50, 1.0, 0.9, 0.1), (30, 1.5, 0.8, 0.0), (7, 3.0, 0.5, 0.2)],
)
def test_keras_cosine_decay_restarts(first, t_mul, m_mul, alpha):
    # batched: eagerly Keras takes ~0.1 s per step here
    expected = keras_values(
        "CosineDecayRestarts",
        1200,
        batched=True,
        initial_learning_rate=0.1,
        first_decay_steps=first,
        t_mul=t_mul,
        m_mul=m_mul,
        alpha=alpha,
    )
    ours = o.cosine_decay_restarts(0.1, first, t_mul, m_mul, alpha)(T)
    # Keras finds the cycle with a float32 log, so right at a restart it can land one cycle early
    # (the last step of the old cycle, value ≈ alpha) where the exact index gives the new peak.
    restart = _restart_steps(first, t_mul, 1200)
    keep = ~np.isin(T, restart)
    np.testing.assert_allclose(ours[keep], expected[keep], rtol=2e-5, atol=1e-7)
    peaks = 0.1 * ((1 - alpha) * m_mul ** np.arange(len(restart)) + alpha)
    np.testing.assert_allclose(ours[restart], peaks, rtol=2e-6)


def _restart_steps(first, t_mul, limit):
    starts, s, length = [], 0.0, float(first)
    while s < limit:
        if s == int(s):
            starts.append(int(s))
        s += length
        length *= t_mul
    return np.array(starts)


def test_restart_peaks_are_exact_in_float32():
    # m_mul = 0.5 keeps every peak 0.1·2^-i exactly representable
    s = o.cosine_decay_restarts(0.1, 100, t_mul=2.0, m_mul=0.5)
    starts = np.array([100 * (2**i - 1) for i in range(18)])  # all below 2**24
    assert starts[-1] < 2**24
    out = np.asarray(s(starts.astype(np.int32)))
    np.testing.assert_array_equal(out, np.float32(0.1) * np.float32(0.5) ** np.arange(18, dtype=np.float32))
    # the step before each restart is the end of the previous cycle
    assert np.all(np.asarray(s(starts[1:] - 1)) < 1e-3)


@pytest.mark.parametrize(
    "sched",
    [
        o.cosine_decay_restarts(0.5, 1000, t_mul=1.0, alpha=0.1),
        o.cosine_annealing_warm_restarts(0.5, 250, steps_per_period_unit=4, min_value=0.01),
        o.cosine_annealing_warm_restarts(0.5, 999),
    ],
)
def test_constant_period_phase_is_exact_for_huge_steps(sched):
    period = (
        1000
        if not hasattr(sched, "first_period")
        else int(sched.first_period) * int(sched.steps_per_period_unit)
    )
    j = np.array([0, 1, 2, 17, period // 2, period - 1])
    base = np.asarray(sched(j.astype(np.int32)))
    for k in [1, 3, 12345, (2**31 - 1 - period) // period]:
        steps = (k * period + j).astype(np.int64)
        assert steps.max() <= 2**31 - 1
        np.testing.assert_array_equal(np.asarray(sched(steps.astype(np.int32))), base)
    # the restart step itself is the peak, exactly
    last = ((2**31 - 1) // period) * period
    assert float(sched(np.int32(last))) == float(sched(0))


def test_torch_cosine_annealing_warm_restarts():
    for t0, t_mult, eta_min in [(10, 1, 0.0), (5, 2, 0.001), (3, 3, 0.01)]:
        expected = torch_lrs(
            lambda torch, opt, t0=t0, t_mult=t_mult, eta_min=eta_min: (
                torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, t0, t_mult, eta_min)
            ),
            400,
            0.1,
        )
        ours = o.cosine_annealing_warm_restarts(0.1, t0, float(t_mult), eta_min)
        np.testing.assert_allclose(ours(np.arange(400)), expected, rtol=5e-6, atol=1e-8)


def _seed_sgdr_callback(min_lr, max_lr, steps_per_epoch, lr_decay, cycle_length, mult_factor, epochs):
    """Seed 000's SGDRScheduler, replayed batch by batch (the LR each batch trains with)."""
    lrs, batch_since_restart, next_restart, lr = [], 0, cycle_length, max_lr
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            lrs.append(lr)
            batch_since_restart += 1
            frac = batch_since_restart / (steps_per_epoch * cycle_length)
            lr = min_lr + 0.5 * (max_lr - min_lr) * (1 + np.cos(frac * np.pi))
        if epoch + 1 == next_restart:
            batch_since_restart = 0
            cycle_length = np.ceil(cycle_length * mult_factor)
            next_restart += cycle_length
            max_lr *= lr_decay
            lr = max_lr  # the next batch restarts at the decayed peak
    return np.array(lrs)


@pytest.mark.parametrize(
    ("spe", "decay", "cycle", "mult"), [(10, 1.0, 2, 1.0), (4, 0.8, 1, 2.0), (3, 0.9, 2, 1.5)]
)
def test_seed_sgdr_callback(spe, decay, cycle, mult):
    expected = _seed_sgdr_callback(1e-5, 0.1, spe, decay, cycle, mult, 40)
    ours = o.cosine_annealing_warm_restarts(0.1, cycle, mult, 1e-5, decay, steps_per_period_unit=spe)
    # near the end of a cycle 1 + cos(π·frac) cancels: float32 cos is good to ~6e-8 absolute there
    np.testing.assert_allclose(ours(np.arange(len(expected))), expected, rtol=5e-6, atol=0.1 * 6e-8)


def test_warm_restarts_ceil_recurrence_and_exact_starts():
    s = o.cosine_annealing_warm_restarts(1.0, 3, period_mult=1.5, decay=0.5)
    periods, starts, p, start = [], [], 3, 0
    for _ in range(40):
        starts.append(start)
        periods.append(p)
        start += p
        p = math.ceil(p * 1.5)
    starts = np.array([x for x in starts if x < 2**31])
    np.testing.assert_array_equal(
        s(starts.astype(np.int32)), np.float32(0.5) ** np.arange(len(starts), dtype=np.float32)
    )


def test_seed_000_cosine_decay_with_warmup():
    """Seed 000's `cosine_decay_with_warmup`, transcribed to NumPy float64."""

    def seed(global_step, base, total, warm_lr, warm_steps, hold):
        lr = (
            0.5
            * base
            * (1 + np.cos(np.pi * (global_step - warm_steps - hold) / float(total - warm_steps - hold)))
        )
        if hold > 0:
            lr = np.where(global_step > warm_steps + hold, lr, base)
        if warm_steps > 0:
            slope = (base - warm_lr) / warm_steps
            lr = np.where(global_step < warm_steps, slope * global_step + warm_lr, lr)
        return np.where(global_step > total, 0.0, lr)

    t = np.arange(0, 1100)
    for base, total, warm_lr, warm_steps, hold in [
        (0.1, 1000, 0.0, 100, 0),
        (0.1, 1000, 0.01, 50, 200),
        (0.2, 500, 0.0, 0, 0),
        (0.3, 800, 0.05, 0, 100),
    ]:
        ours = o.warmup_hold_cosine_decay(base, total, warm_lr, warm_steps, hold)(t)
        np.testing.assert_allclose(
            ours, seed(t, base, total, warm_lr, warm_steps, hold), rtol=5e-6, atol=1e-8
        )


def test_warmup_hold_cosine_end_value():
    s = o.warmup_hold_cosine_decay(1.0, 100, init_value=0.0, warmup_steps=10, hold_steps=20, end_value=0.1)
    t = np.arange(0, 150)
    frac = np.clip((t - 30) / 70, 0, 1)
    expected = np.where(t < 10, t / 10, np.where(t <= 30, 1.0, 0.1 + 0.45 * (1 + np.cos(np.pi * frac))))
    expected = np.where(t >= 100, 0.1, expected)
    np.testing.assert_allclose(s(t), expected, rtol=2e-6, atol=1e-7)


def test_seed_000_warmup_cosine_scheduler():
    """Seed 000's WarmupCosineDecayLRScheduler: max_lr/warmup·t during warmup, then
    max_lr·((1 − alpha)·½(1 + cos(π·(t − warmup)/decay_steps)) + alpha) — its decay runs decay_steps
    after the warmup, i.e. optax's decay_steps = warmup + decay_steps; it does not hold at the end."""
    max_lr, warm, decay = 0.1, 20, 200
    t = np.arange(0, warm + decay + 1)
    expected = np.where(t < warm, max_lr / warm * t, max_lr * 0.5 * (1 + np.cos(np.pi * (t - warm) / decay)))
    ours = o.warmup_cosine_decay_schedule(0.0, max_lr, warm, warm + decay)
    np.testing.assert_allclose(ours(t), expected, rtol=2e-6, atol=1e-8)


@pytest.mark.parametrize("decay_steps, exponent", [(2066, 0.05), (37, 0.31), (100_003, 0.5)])
def test_powers_below_one_keep_relative_accuracy_at_the_last_steps(decay_steps, exponent):
    # found by the long fuzz: cos(π/2·p) near p = 1 keeps only ~1e-7 absolute accuracy, and the power
    # 0.05 turned that into 1.5e-5 relative, with eager, jit and vector disagreeing
    s = o.cosine_decay_schedule(1.0, decay_steps, alpha=0.05, exponent=exponent)
    steps = [decay_steps - k for k in (1, 2, 3, 7)]
    want = [0.05 + 0.95 * (0.5 * (1 + math.cos(math.pi * t / decay_steps))) ** exponent for t in steps]
    eager = [float(s(t)) for t in steps]
    traced = [float(jax.jit(lambda x: s(x))(jnp.int32(t))) for t in steps]
    vector = np.asarray(s(np.asarray(steps, np.int32)))
    np.testing.assert_allclose(eager, want, rtol=1e-6)
    np.testing.assert_array_equal(traced, eager)
    np.testing.assert_array_equal(vector, eager)
