"""The warmup wrapper in every mode against its formula in NumPy float64, and MXNet's warmup."""

import numpy as np
import pytest

import optax_lrs as o

T = np.arange(0, 200)


# near the end of a cosine 1 + cos(π·p) cancels: float32 cos is good to ~6e-8 absolute (atol below)
def cosine(t, peak=1.0, steps=100):
    return peak * 0.5 * (1 + np.cos(np.pi * np.minimum(t, steps) / steps))


@pytest.mark.parametrize("shift", [True, False])
@pytest.mark.parametrize(
    ("mode", "init"),
    [
        ("linear", 0.0),
        ("linear", 0.2),
        ("cosine", 0.1),
        ("exponential", 0.01),
        ("constant", 0.05),
        ("scale", 0.0),
    ],
)
def test_warmup_modes_formula(mode, init, shift):
    w = 20
    s = o.warmup(o.cosine_decay_schedule(1.0, 100), w, init_value=init, mode=mode, shift=shift)
    target = cosine(0) if shift else cosine(w)
    p = np.minimum(T, w) / w
    ramp = {
        "linear": init + (target - init) * p,
        "cosine": init + (target - init) * 0.5 * (1 - np.cos(np.pi * p)),
        "exponential": init * (target / max(init, 1e-300)) ** p,
        "constant": np.full(T.shape, init),
        "scale": cosine(T) * p,
    }[mode]
    after = cosine(np.maximum(T - w, 0)) if shift else cosine(T)
    expected = np.where(T < w, ramp, after)
    np.testing.assert_allclose(s(T), expected, rtol=5e-6, atol=6e-8)


def test_mxnet_cosine_scheduler_with_linear_warmup():
    """MXNet's CosineScheduler(base_lr=1, final_lr=1e-3, max_update=800, warmup_steps=100,
    warmup_begin_lr=0, warmup_mode='linear') from seed 004, its documented formula at update n:
    warmup: begin + (base − begin)·n/warmup; then final + (base − final)·½(1 + cos(π(n − warmup)/(max −
    warmup))) until max_update, then final_lr. MXNet counts updates from 1: update n is optax's count
    n − 1, so the schedule of MXNet's numbers is read one step ahead, `shift(s, -1)` (what
    `compat.mxnet.CosineScheduler` builds, checked against MXNet itself in test_compat_mxnet)."""
    base, final, max_update, warm = 1.0, 1e-3, 800, 100
    n = np.arange(1, 1000)
    count = n - 1
    cos = final + (base - final) * 0.5 * (
        1 + np.cos(np.pi * np.minimum(n - warm, max_update - warm) / (max_update - warm))
    )
    expected = np.where(n < warm, base * n / warm, cos)
    decay = o.cosine_decay_schedule(base, max_update - warm, alpha=final / base)
    ours = o.shift(o.warmup(decay, warm, init_value=0.0, mode="linear"), -1)
    np.testing.assert_allclose(ours(count), expected, rtol=5e-6, atol=6e-8)
    constant = o.shift(o.warmup(decay, warm, init_value=0.01, mode="constant"), -1)
    np.testing.assert_allclose(constant(count), np.where(n < warm, 0.01, cos), rtol=5e-6, atol=6e-8)


def test_seed_000_lr_scheduler_scale_warmup():
    """Seed 000's LR_Scheduler, 'poly' mode with warmup: lr·(1 − T/N)^0.9, times T/warmup_iters while
    T < warmup_iters."""
    base, total, warm = 0.1, 1000, 50
    t = np.arange(0, total)
    poly = base * (1 - t / total) ** 0.9
    expected = np.where(t < warm, poly * t / warm, poly)
    ours = o.warmup(o.polynomial_decay(base, total, 0.0, 0.9), warm, mode="scale", shift=False)
    # 1 − t/N in float32 is good to ~6e-8 absolute, which the power 0.9 carries into lr·6e-8
    np.testing.assert_allclose(ours(t), expected, rtol=5e-6, atol=base * 1e-7)


def test_warmup_accepts_plain_callables():
    import optax

    s = o.warmup(optax.cosine_decay_schedule(1.0, 100), 10)
    np.testing.assert_allclose(s(np.array([0, 5, 10, 60])), [0.0, 0.5, 1.0, 0.5], rtol=1e-6, atol=1e-7)


def test_zero_warmup_is_the_schedule():
    inner = o.cosine_decay_schedule(1.0, 100)
    np.testing.assert_array_equal(o.warmup(inner, 0)(T), inner(T))
