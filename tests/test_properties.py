"""Laws that hold for every valid hyperparameter, checked with hypothesis."""

import json

import jax
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_lrs as o

STEPS = np.array([0, 1, 2, 3, 7, 10, 31, 99, 100, 101, 1000, 10**5, 2**31 - 1], dtype=np.int32)
lr = st.floats(1e-4, 10.0)
rate = st.floats(0.01, 1.0)
count = st.integers(1, 5000)
power = st.floats(0.1, 4.0)
fast = settings(max_examples=25, deadline=None)

DECAYS = st.one_of(
    st.builds(o.step_decay, lr, rate, count),
    st.builds(o.multistep_decay, lr, st.lists(st.integers(0, 5000), max_size=6).map(sorted), rate),
    st.builds(o.exponential_decay, lr, count, rate),
    st.builds(o.natural_exp_decay, lr, st.floats(0.0, 2.0), count),
    st.builds(o.inverse_time_decay, lr, st.floats(0.0, 2.0), count),
    st.builds(o.polynomial_decay, lr, count, st.just(0.0), power),
    st.builds(o.k_decay, lr, count, st.just(0.0), power, power),
    st.builds(o.cosine_decay_schedule, lr, count, st.floats(0.0, 1.0)),
    st.builds(o.tanh_decay, lr, count),
)


@fast
@given(DECAYS)
def test_decays_are_non_increasing_and_bounded(sched):
    v = np.asarray(sched(STEPS), np.float64)
    assert np.all(np.isfinite(v))
    assert np.all(np.diff(v) <= 1e-6 * v[0])
    assert np.all(v >= 0) and np.all(v <= v[0] * (1 + 1e-6))


@fast
@given(lr, lr, st.integers(0, 500), st.integers(1, 5000), st.floats(0.0, 1.0))
def test_warmup_cosine_stays_between_its_values(init, peak, warm, extra, end_frac):
    s = o.warmup_cosine_decay_schedule(init, peak, warm, warm + extra, end_frac * peak)
    v = np.asarray(s(STEPS), np.float64)
    lo, hi = min(init, end_frac * peak), max(init, peak)
    # optax's warmup (init − peak)·(1 − t/T) + peak, kept for drop-in values, carries ~ulp(peak)
    slack = 4e-7 * hi
    assert np.all(v >= lo - slack) and np.all(v <= hi + slack)


@fast
@given(st.lists(st.tuples(lr, count, st.floats(0.0, 1.0)), min_size=1, max_size=5))
def test_stack_then_vmap_equals_the_loop(params):
    scheds = [o.cosine_decay_schedule(a, b, c) for a, b, c in params]
    out = jax.vmap(lambda s: s(STEPS))(o.stack(scheds))
    np.testing.assert_array_equal(out, np.stack([s(STEPS) for s in scheds]))


@fast
@given(DECAYS)
def test_config_round_trip(sched):
    again = o.from_config(json.loads(json.dumps(sched.to_config())))
    assert again == sched
    np.testing.assert_array_equal(again(STEPS), sched(STEPS))


@fast
@given(lr, count, st.integers(8, 24).map(lambda k: k / 8), st.floats(0.0, 1.0), st.integers(0, 30))
def test_restarts_return_to_their_peak(init, first, t_mul, m_mul, i):
    """At the first integer step of cycle i the value is the cycle's peak up to the fraction of a
    step by which the (possibly fractional) cycle start precedes it. (t_mul is a multiple of 1/8, so
    float32 holds it exactly; a start closer to an integer than float32 resolves is ambiguous.)"""
    s = o.cosine_decay_restarts(init, first, t_mul, m_mul)
    start = first * (t_mul**i - 1) / (t_mul - 1) if t_mul > 1 else first * i
    gap = np.ceil(start) - start
    if start > 2**24 or 0 < min(gap, 1 - gap) < 1e-6 * start:
        return
    step = int(np.ceil(start))
    frac = (step - start) / (first * t_mul**i)
    expected = init * m_mul**i * 0.5 * (1 + np.cos(np.pi * frac))
    np.testing.assert_allclose(float(s(step)), expected, rtol=1e-4, atol=1e-6 * init)
