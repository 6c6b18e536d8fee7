"""Regressions of issue 9: exact restarts, no int32 overflow, exact ends, finite gradients, optax's
one-cycle edges, shapes and dtypes, and tree structures that tell schedule classes apart.

Expected values come from exact rational arithmetic (`fractions.Fraction`), float64 formulas, the seed's
own float64 loop, optax and Keras; every restart is checked at its step and at ±1, in the three ways
training calls a schedule (eager Python int, traced int32 scalar under jit, int32 vector).
"""

import itertools
import math
import os
import random
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from catalogue import CASES

import optax_lrs as o

INT_MAX = 2**31 - 1


def three_modes(sched, steps):
    """(eager scalars, jitted traced scalars, vector) values of `sched` at `steps` (int32)."""
    steps = np.asarray(steps, np.int64)
    scalar = jax.jit(lambda s, t: s(t))
    vector = np.asarray(sched(jnp.asarray(steps, jnp.int32)), np.float64)
    jitted = np.array([float(scalar(sched, jnp.int32(t))) for t in steps])
    eager = np.array([float(sched(int(t))) for t in steps])
    return eager, jitted, vector


def assert_modes(sched, steps, expected, rtol=4e-6, atol=1e-7):
    for got in three_modes(sched, steps):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


# -- integer cycles: seed 000's SGDRScheduler recurrence --------------------------------------------


def decimal_starts(first, mult, limit=INT_MAX):
    """Cycle starts of P(i+1) = ceil(P(i)·mult) in exact decimal arithmetic, up to `limit`."""
    starts, period, start, m = [0], Fraction(first), 0, Fraction(mult)
    while True:
        start += period
        period = Fraction(math.ceil(period * m))
        if start > limit:
            return starts
        starts.append(int(start))


def seed_starts(first, mult, limit=INT_MAX):
    """The seed's own loop (`self.cycle_length = np.ceil(self.cycle_length * self.mult_factor)`)."""
    starts, period, start = [0], float(first), 0
    while True:
        start += period
        period = float(np.ceil(period * float(mult)))
        if start > limit:
            return starts
        starts.append(int(start))


MULTS = ["1.2", "1.25", "1.3", "1.5", "1.7", "2", "2.5", "3"]


@pytest.mark.parametrize("mult", MULTS)
def test_warm_restart_starts_exhaustive(mult):
    """Every restart up to 2**31 − 1 for first periods 1..13: the peak at the start, the end of the
    previous cycle one step before (float64 formula), in the three modes for a subset."""
    for first in range(1, 14):
        starts = np.array(decimal_starts(first, mult)[1:], np.int64)
        if mult != "1.1":  # the seed's float64 loop equals decimal arithmetic for these multipliers
            assert list(starts) == seed_starts(first, mult)[1:]
        s = o.cosine_annealing_warm_restarts(1.0, first, period_mult=float(mult))
        np.testing.assert_array_equal(np.asarray(s(jnp.asarray(starts, jnp.int32))), 1.0)
        lengths = np.diff(np.r_[0, starts])
        before = np.cos(np.pi / 2 * (lengths - 1) / lengths) ** 2  # last step of the previous cycle
        got = np.asarray(s(jnp.asarray(starts - 1, jnp.int32)), np.float64)
        np.testing.assert_allclose(got, before, rtol=1e-5, atol=2e-6)
    first = 7
    starts = np.array(decimal_starts(first, mult)[1:], np.int64)
    s = o.cosine_annealing_warm_restarts(0.0731, first, period_mult=float(mult), decay=0.9)
    steps = np.concatenate([starts - 1, starts, np.minimum(starts + 1, INT_MAX)])
    expected = np.array([warm_restart_value(t, starts, 0.0731, 0.9) for t in steps])
    keep = ~np.isnan(expected)
    assert_modes(s, steps[keep], expected[keep])


def warm_restart_value(t, starts, peak, decay, unit=1):
    bounds = [0, *starts]
    i = max(k for k, b in enumerate(bounds) if b * unit <= t)
    length = (bounds[i + 1] - bounds[i]) * unit if i + 1 < len(bounds) else None
    if length is None:  # the last cycle started; its length is the next period of the recurrence
        return peak * decay**i if t == bounds[i] * unit else np.nan
    frac = (t - bounds[i] * unit) / length
    return peak * decay**i * np.cos(np.pi / 2 * frac) ** 2


def test_warm_restarts_issue_example_and_huge_random_steps():
    # issue 9: with period_mult=1.2 cycle 23 had 445 units where the recurrence gives 444
    starts = decimal_starts(1, "1.2")
    periods = np.diff(starts)
    s = o.cosine_annealing_warm_restarts(1.0, 1, period_mult=1.2)
    ends, table_periods = s.cycles[:2]
    np.testing.assert_array_equal(np.asarray(table_periods)[: len(periods)], periods)
    rng = random.Random(731)
    for first, mult, unit in [(3, "1.2", 1), (11, "1.7", 1), (5, "1.5", 37), (2, "2", 3)]:
        starts = decimal_starts(first, mult, INT_MAX // unit)[1:]
        s = o.cosine_annealing_warm_restarts(0.61, first, float(mult), decay=0.93, steps_per_period_unit=unit)
        steps = [rng.randrange(2**24, starts[-1] * unit) for _ in range(40)]
        steps += [starts[-1] * unit + d for d in (-1, 0, 1)]
        expected = [warm_restart_value(t, starts, 0.61, 0.93, unit) for t in steps]
        keep = ~np.isnan(expected)
        assert_modes(s, np.asarray(steps)[keep], np.asarray(expected)[keep], rtol=2e-5)


# multipliers within ~10% of 1 need more than the 256 tabulated cycles before 2**31 (up to 65,537)
PAST_TABLE = [
    (238004, "1.00643", 1),
    (1, "1.0000001", 1),
    (3, "1.001", 1),
    (7, "1.0307", 3),
    (2, "1.00002", 5),
]


@pytest.mark.parametrize("first,mult,unit", PAST_TABLE)
def test_warm_restarts_past_the_table_are_exact(first, mult, unit):
    starts = decimal_starts(first, mult, INT_MAX // unit)
    assert len(starts) > 300
    s = o.cosine_annealing_warm_restarts(0.83, first, float(mult), decay=0.9997, steps_per_period_unit=unit)
    rng = random.Random(first)
    steps = [INT_MAX, 2**24, 2**24 + 1] + [rng.randrange(0, INT_MAX) for _ in range(12)]
    for i in [256, 257, len(starts) - 1] + rng.sample(range(258, len(starts) - 1), 12):
        steps += [starts[i] * unit + d for d in (-1, 0, 1)]
    steps = [t for t in steps if 0 <= t <= INT_MAX]
    bounds = decimal_starts(first, mult, 4 * INT_MAX)[1:]  # past the last step: every length known
    decay = float(np.float32(0.9997))  # as the schedule holds it (decay**65536 shows its rounding)
    expected = [warm_restart_value(t, bounds, 0.83, decay, unit) for t in steps]
    assert_modes(s, steps, expected, rtol=2e-5)


# -- real cycles: Keras CosineDecayRestarts --------------------------------------------------------


def keras_restart_value(t, init, first, t_mul, m_mul, alpha=0.0):
    """Exact rational cycle of step t (t_mul as the decimal written), float64 value."""
    m, start, length, i = Fraction(t_mul), Fraction(0), Fraction(first), 0
    while start + length <= t:
        start, length, i = start + length, length * m, i + 1
    frac = float((t - start) / length)
    return init * ((1 - alpha) * m_mul**i * 0.5 * (1 + math.cos(math.pi * frac)) + alpha)


@pytest.mark.parametrize(
    "first,t_mul", [(50, "1.7"), (40, "1.1"), (10, "1.3"), (37, "1.5"), (5, "4"), (23, "2.5"), (1, "2")]
)
def test_cosine_decay_restarts_exact_at_every_restart(first, t_mul):
    s = o.cosine_decay_restarts(0.0731, first, t_mul=float(t_mul), m_mul=0.9, alpha=0.013)
    start, length, steps = Fraction(0), Fraction(first), []
    while start <= INT_MAX:
        c = math.ceil(start)
        steps += [t for t in (c - 1, c, c + 1) if 0 <= t <= INT_MAX]
        start, length = start + length, length * Fraction(t_mul)
    steps = sorted(set(steps + [INT_MAX]))
    expected = [keras_restart_value(t, 0.0731, first, t_mul, 0.9, 0.013) for t in steps]
    assert_modes(s, steps, expected, rtol=2e-5, atol=2e-8)


def test_cosine_decay_restarts_issue_examples_and_keras():
    s = o.cosine_decay_restarts(0.0731, 50, t_mul=1.7, m_mul=0.9)
    assert_modes(
        s, [49, 50, 51, 135], [keras_restart_value(t, 0.0731, 50, "1.7", 0.9) for t in (49, 50, 51, 135)]
    )
    assert float(s(50)) == pytest.approx(0.0731 * 0.9, rel=1e-6)
    s = o.cosine_decay_restarts(1.0, 5, t_mul=4.0)
    assert_modes(
        s,
        [6990504, 6990505, 6990506],
        [keras_restart_value(t, 1.0, 5, "4", 1.0) for t in (6990504, 6990505, 6990506)],
    )
    keras = pytest.importorskip("keras")
    k = keras.optimizers.schedules.CosineDecayRestarts(0.0731, 50, t_mul=1.7, m_mul=0.9)
    assert float(s(0)) == 1.0
    ours = o.cosine_decay_restarts(0.0731, 50, t_mul=1.7, m_mul=0.9)
    np.testing.assert_allclose(
        [float(ours(t)) for t in (50, 51, 134, 135)],
        [float(k(t)) for t in (50, 51, 134, 135)],
        rtol=2e-5,
        atol=1e-7,
    )


def test_repeat_restarts_are_exact():
    inner = o.linear_schedule(1.0, 0.0, 20)
    s = o.repeat(inner, 20, period_mult=1.7, decay=0.5)
    start, length, steps, i = Fraction(0), Fraction(20), [], 0
    while start < 10**6:
        c = math.ceil(start)
        for t in (c - 1, c, c + 1):
            if t >= 0:
                steps.append(t)
        start, length, i = start + length, length * Fraction("1.7"), i + 1

    def ref(t):
        st, ln, k = Fraction(0), Fraction(20), 0
        while st + ln <= t:
            st, ln, k = st + ln, ln * Fraction("1.7"), k + 1
        return 0.5**k * (1 - float((t - st) / ln))

    assert_modes(s, steps, [ref(t) for t in steps], rtol=1e-5, atol=1e-6)


# -- int32 overflow ---------------------------------------------------------------------------------


def test_sums_of_step_counts_do_not_overflow():
    assert_modes(o.cyclic_schedule(0.0, 1.0, 2**30), [2**29, INT_MAX], [0.5, 1 / 2**30])
    assert_modes(o.wsd_schedule(1.0, 2**30, 2**30, 2**30), [2**29, 2**30, INT_MAX], [0.5, 1.0, 1.0])
    T = 10**6  # polynomial_decay(cycle=True): T = steps·ceil(t/steps) passes int32 at 2**31 − 1
    q = math.ceil(INT_MAX / T)
    assert_modes(
        o.polynomial_decay(1.0, T, cycle=True),
        [INT_MAX, 10**6, 10**6 + 1],
        [1 - INT_MAX / (T * q), 0.0, 0.5 - 1 / (2 * T)],
    )
    s = o.step_decay(1.0, 0.9, 37, offset=INT_MAX - 3)
    assert_modes(s, [0, 5, INT_MAX], [0.9 ** ((t + INT_MAX - 3) // 37) for t in (0, 5, INT_MAX)], rtol=2e-4)
    s = o.shift(o.linear_schedule(0.0, 1.0, INT_MAX), -10)
    assert_modes(s, [0, INT_MAX - 10, INT_MAX], [10 / INT_MAX, 1.0, 1.0])


def test_sgdr_cycles_past_int32_are_rejected():
    with pytest.raises(ValueError, match="sgdr_schedule"):
        o.sgdr_schedule([dict(init_value=0.0, peak_value=1.0, warmup_steps=0, decay_steps=2**30 + 7)] * 3)


# -- exact ends --------------------------------------------------------------------------------------


@pytest.mark.parametrize("exponent", [0.1, 0.37, 1.0, 2.3])
def test_cosine_reaches_its_end(exponent):
    """The end is optax's exact 0 (optax's float32 `1 + cos` is off near it; step T − 1 is checked
    against the float64 formula)."""

    def f64(t, steps):
        return (0.5 * (1 + math.cos(math.pi * min(t, steps) / steps))) ** exponent

    ours = o.cosine_decay_schedule(1.0, 100, exponent=exponent)
    ref = optax.cosine_decay_schedule(1.0, 100, exponent=exponent)
    assert [float(ref(t)) for t in (100, 101)] == [0.0, 0.0]
    # float32 rounding of π·t/T, amplified by the exponent near the end: a few 1e-5 relative
    assert_modes(ours, [99, 100, 101], [f64(99, 100), 0.0, 0.0], rtol=6e-5, atol=0)
    w = o.warmup_cosine_decay_schedule(0.0, 0.731, 13, 97, exponent=exponent)
    wr = optax.warmup_cosine_decay_schedule(0.0, 0.731, 13, 97, exponent=exponent)
    assert [float(wr(t)) for t in (97, 98)] == [0.0, 0.0]
    assert_modes(w, [96, 97, 98], [0.731 * f64(83, 84), 0.0, 0.0], rtol=6e-5, atol=0)


def test_tanh_decay_reaches_end_at_T_like_timm():
    s = o.tanh_decay(0.731, 37, end_value=0.013)
    x = -7 + 10 * 36 / 37
    assert_modes(s, [36, 37, 38], [0.013 + 0.5 * (0.731 - 0.013) * (1 - math.tanh(x)), 0.013, 0.013])


@pytest.mark.parametrize("power", [0.1, 0.5, 0.9])
def test_cycling_polynomial_keeps_relative_accuracy_at_cycle_ends(power):
    s = o.polynomial_decay(0.731, 1009, end_value=0.0, power=power, cycle=True)
    steps = [1008, 1009, 1010, 2017, 2018, 2019]
    exp = []
    for t in steps:
        T = 1009 * max(1, math.ceil(t / 1009))
        exp.append(0.731 * (Fraction(T - t, T) ** 1 and float(Fraction(T - t, T)) ** power))
    assert_modes(s, steps, exp, rtol=3e-6, atol=0)


# -- finite gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "f,x",
    [
        (lambda p: o.warmup_exponential_decay_schedule(0.0, p, 10000, 100, 0.1)(0), 1.0),
        (lambda p: o.warmup_exponential_decay_schedule(0.0, p, 10000, 100, 0.1)(10**6), 1.0),
        (lambda mm: o.cosine_decay_restarts(1.0, 10, m_mul=mm)(10), 0.0),
        (lambda mm: o.cosine_decay_restarts(1.0, 10, m_mul=mm)(0), 0.0),
        (lambda r: o.step_decay(1.0, r, 10)(5), 0.0),
        (lambda r: o.step_decay(1.0, r, 10)(25), 0.0),
        (lambda r: o.multistep_decay(1.0, [10, 20], r)(5), 0.0),
        (lambda i: o.exponential_decay(i, 10, 1.7, end_value=5.0)(INT_MAX), 0.731),
        (lambda r: o.exponential_decay(0.731, 10, r, end_value=5.0)(INT_MAX), 1.7),
        (lambda g: o.cyclic_schedule(0.1, 1.0, 7, mode="exp_range", gamma=g)(0), 0.0),
        (lambda d: o.cosine_annealing_warm_restarts(1.0, 7, 1.5, decay=d)(0), 0.0),
        (lambda k: o.k_decay(1.0, 37, k=k, power=0.5)(37), 2.3),
        (lambda p: o.polynomial_decay(1.0, 37, power=p, cycle=True)(37), 0.7),
    ],
)
def test_gradients_are_finite_at_valid_edges(f, x):
    assert np.isfinite(float(jax.grad(f)(x)))


def test_gradient_wrt_t_mul_is_the_derivative_of_the_real_cycle():
    def f(tm):
        return o.cosine_decay_restarts(1.0, 37, t_mul=tm)(100)

    h = 1e-3
    numeric = (
        keras_restart_value(100, 1.0, 37, "1.701", 1.0) - keras_restart_value(100, 1.0, 37, "1.699", 1.0)
    ) / (2 * h)
    assert float(jax.grad(f)(1.7)) == pytest.approx(numeric, rel=2e-2)


# -- optax one-cycle drop-ins at their edges --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        (1000, 1.0, 1.0, 1.0),
        (333, 1e-3, 0.5, 0.5),
        (97, 0.731, 0.0, 0.41),
        (97, 0.731, 0.3, 1.0),
        (53, 0.2, 0.0, 1.0),
    ],
)
def test_linear_onecycle_equal_boundaries_like_optax(args):
    ours, ref = o.linear_onecycle_schedule(*args), optax.linear_onecycle_schedule(*args)
    steps = np.arange(args[0] + 3)
    assert_modes(ours, steps[::7], [float(ref(int(t))) for t in steps[::7]], rtol=2e-5, atol=1e-9)
    np.testing.assert_allclose(
        np.asarray(ours(steps)), [float(ref(int(t))) for t in steps], rtol=2e-5, atol=1e-9
    )


@pytest.mark.parametrize("args", [(4049, 8.75, 1.0), (97, 0.3, 0.0), (61, 0.1, 0.37)])
def test_cosine_onecycle_edges_like_optax(args):
    ours, ref = (
        o.cosine_onecycle_schedule(*args, 47.75, 2.0),
        optax.cosine_onecycle_schedule(*args, 47.75, 2.0),
    )
    steps = np.arange(0, args[0] + 3, 3)
    np.testing.assert_allclose(
        np.asarray(ours(steps)), [float(ref(int(t))) for t in steps], rtol=2e-5, atol=1e-9
    )


# -- shapes and dtypes -------------------------------------------------------------------------------


def test_select_and_join_of_many_mixed_pieces_are_elementwise():
    pieces = [o.constant_schedule(0.01 * i) if i % 2 else o.linear_schedule(0.0, i, 10) for i in range(70)]
    t = jnp.arange(3)
    np.testing.assert_allclose(o.select(pieces, 3)(t), [0.03, 0.03, 0.03], rtol=1e-6)
    np.testing.assert_allclose(o.select(pieces, 4)(t), [0.0, 0.4, 0.8], rtol=1e-6)
    joined = o.join_schedules(pieces, list(range(1, 70)))
    np.testing.assert_allclose(joined(jnp.arange(4)), [0.0, 0.01, 0.0, 0.03], rtol=1e-6, atol=1e-9)


def test_vmap_over_a_scale_inside_boundaries_and_scales():
    f = jax.vmap(lambda v: o.piecewise_constant_schedule(0.731, {10: v, 20: 0.5})(15))
    np.testing.assert_allclose(f(jnp.array([0.1, 0.3])), [0.0731, 0.2193], rtol=1e-6)


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16, jnp.float32, jnp.int16, jnp.uint32])
def test_low_precision_steps_do_not_round_hyperparameters(dtype):
    s = o.polynomial_decay(1.0, 40043)
    t = 40032 if dtype not in (jnp.int16,) else 32000
    if dtype == jnp.bfloat16:
        t = 39936  # exactly representable in bfloat16
    expected = (40043 - t) / 40043
    assert float(s(jnp.asarray(t, dtype))) == pytest.approx(expected, rel=1e-5)
    big = o.step_decay(1.0, 0.5, 2**24 + 1)
    assert float(big(jnp.float32(2**24))) == 1.0  # 2**24 < 2**24 + 1 even in float32


def test_inverse_sqrt_is_integer_exact_at_1e8_in_every_mode():
    s = o.inverse_sqrt_schedule(0.731, 1237)
    steps = [10**8, 10**8 + 1, INT_MAX]
    assert_modes(s, steps, [0.731 * math.sqrt(1237 / (t - 1237 + 1237)) for t in steps], rtol=2e-6)


# -- tree structures ---------------------------------------------------------------------------------


def test_every_pair_of_schedule_classes_has_unequal_structures():
    built = {}
    for case in CASES:
        s = o.get(case.name, **case.kwargs)
        built.setdefault(type(s), s)
    structures = [(cls, jax.tree_util.tree_structure(s)) for cls, s in built.items()]
    assert len(structures) >= len(o.available())
    for (ca, ta), (cb, tb) in itertools.combinations(structures, 2):
        assert ta != tb, (ca.__name__, cb.__name__)
    # the minimal case of the bug: two classes with the same fields
    a, b = o.natural_exp_decay(0.1, 0.1, 3), o.inverse_time_decay(0.1, 0.5, 10)
    assert jax.tree_util.tree_structure(a) != jax.tree_util.tree_structure(b)


@pytest.mark.slow  # a stress mode: one closed-over program per catalogue case (~25 s on 2 cores)
def test_shuffled_eager_and_jit_calls_return_each_schedules_own_values():
    scheds = [o.get(c.name, **c.kwargs) for c in CASES]
    steps = np.array([0, 3, 17, 60, 1000])
    reference = [np.asarray(jax.jit(lambda t, s=s: s(t))(steps)) for s in scheds]  # closed over: own program
    f = jax.jit(lambda s, t: s(t))
    rng = random.Random(int(os.environ.get("OPTAX_LRS_STRESS_SEED", "7")))
    order = list(range(len(scheds))) * 3
    rng.shuffle(order)
    for i in order:
        np.testing.assert_allclose(
            np.asarray(f(scheds[i], steps)), reference[i], rtol=1e-6, err_msg=CASES[i].id
        )
        np.testing.assert_allclose(
            float(scheds[i](int(steps[2]))), reference[i][2], rtol=1e-6, err_msg=CASES[i].id
        )
