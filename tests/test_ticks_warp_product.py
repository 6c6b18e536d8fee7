"""`repeat` / `per_epoch` with `ticks` (fractional periods), `time_warp` and `cumulative_product`
against their float64 formulas (exact integers and Fractions for cycles, ticks and epochs), at every
boundary and its neighbours, each value three ways: a vector of int32 steps, a traced int32 scalar
inside `jax.jit`, and an eager Python int.
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from padding import padded

import optax_lrs as o

TOP = 2**31 - 1
F32_EPS = 2.0**-23  # np.finfo(np.float32).eps


# --------------------------------------------------------------------------------------------------
# float64 formulas of the inner schedules, at a real step x >= 0


def cos64(v, d, x):
    return v * 0.5 * (1 + math.cos(math.pi * min(x, d) / d))


def lin64(a, b, n, x):
    return a + (b - a) * min(x, n) / n


def step_decay64(v, rate, every, e):
    return v * rate ** (e // every)


def inv_time64(v, rate, steps, x):
    return v / (1 + rate * x / steps)


def product_factor(t, a, b):
    """A MultiplicativeLR lambda: 1 − a/(t + b)."""
    return 1.0 - a / (jnp.asarray(t, jnp.float32) + b)


# --------------------------------------------------------------------------------------------------
# evaluation three ways


# the schedule is an argument (its hyperparameters traced leaves) and vectors are padded to one length,
# so one compiled program serves every hyperparameter set of a structure
PAD = 128
JIT_VALUE = jax.jit(lambda s, t: s(t))
JIT_BOTH = jax.jit(lambda s, t: (s(t), s.cycle_index(t)))  # where both are checked: one program


def pad(steps):
    return jnp.asarray(padded(steps, PAD))


def three_ways(s, steps, cycle=False):
    """(vector, jit of a traced int32 scalar, eager Python int) values of `s`; with `cycle`, also
    its cycle indices the three ways (the jitted values and indices from one program)."""
    steps = [int(t) for t in steps]
    calls = [s, s.cycle_index] if cycle else [s]
    vector = [np.asarray(call(pad(steps)), np.float64)[: len(steps)] for call in calls]
    if cycle:
        traced = np.array([[float(x) for x in JIT_BOTH(s, jnp.int32(t))] for t in steps]).T
    else:
        traced = np.array([[float(JIT_VALUE(s, jnp.int32(t))) for t in steps]])
    eager = [np.array([float(call(t)) for t in steps]) for call in calls]
    return [{"vector": v, "jit(int32 scalar)": j, "eager": e} for v, j, e in zip(vector, traced, eager)]


def assert_three_ways(s, steps, expected, rtol, atol, ways=None):
    """Each way within |ours − expected| <= rtol·|expected| + atol (atol a scalar or per step);
    `ways`, where given, the values of `three_ways` already computed."""
    expected = np.asarray(expected, np.float64)
    atol = np.broadcast_to(np.asarray(atol, np.float64), expected.shape)
    for way, got in (ways or three_ways(s, steps)[0]).items():
        bad = np.abs(got - expected) > rtol * np.abs(expected) + atol
        if bad.any():
            i = np.flatnonzero(bad)[:5]
            detail = [(steps[j], got[j], expected[j]) for j in i]
            pytest.fail(f"{way}: {bad.sum()} of {len(steps)} steps off (step, ours, float64): {detail}")


def around(*points, lo=0, hi=TOP):
    """Each point and its two neighbours, inside [lo, hi], sorted and unique."""
    return sorted({p + d for p in points for d in (-1, 0, 1) if lo <= p + d <= hi})


# --------------------------------------------------------------------------------------------------
# repeat with ticks, equal cycles: step t reads the inner at tick (t·ticks) mod period, in cycle
# floor(t·ticks / period); cycle i starts at step i·period/ticks

EQUAL = [
    # (inner, its float64 formula at a tick, period, ticks, decay)
    ("cos", (0.731, 75), 75, 2, 1.0),
    ("cos", (0.731, 75), 75, 2, 0.9931),
    ("lin", (0.0731, 0.0013, 1001), 1001, 7, 0.9931),
    ("cos", (0.0371, 1003), 1003, 7, 0.97),
    ("lin", (1.37, 0.0131, 7), 7, (2**31 - 1) // 7, 1.0),  # the largest tick count for period 7
]


def inner_schedule(kind, args):
    if kind == "cos":
        return o.cosine_decay_schedule(*args), (lambda x: cos64(*args, x))
    if kind == "lin":
        return o.linear_schedule(*args), (lambda x: lin64(*args, x))
    raise AssertionError(kind)


def restart_steps(starts_in_ticks, ticks):
    """floor and ceil of each cycle start, in steps."""
    out = []
    for s in starts_in_ticks:
        x = Fraction(s) / ticks
        out += [math.floor(x), math.ceil(x)]
    return out


@pytest.mark.parametrize(("kind", "args", "period", "ticks", "decay"), EQUAL)
def test_repeat_equal_cycles_with_ticks(kind, args, period, ticks, decay):
    inner, f = inner_schedule(kind, args)
    s = o.repeat(inner, period, decay=decay, ticks=ticks)
    # cycles 1..7, around 2**24 and around 2**31 − 1 (cycle index floor(t·ticks/period) there)
    last = TOP * ticks // period
    mid = 2**24 * ticks // period
    cycles = list(range(1, 8)) + [mid - 1, mid, mid + 1, last - 1, last]
    steps = around(0, 2, 5, TOP - 1, TOP, *restart_steps([i * period for i in cycles], ticks))
    # `last` cycle's start can pass 2**31 − 1 only by its ceil; `around` keeps the steps in range
    expected, index = [], []
    for t in steps:
        q, tick = divmod(t * ticks, period)
        expected.append(decay**q * f(tick))
        index.append(min(q, TOP))  # an index past int32 (ticks > period) saturates
    values, cycles = three_ways(s, steps, cycle=True)
    assert_three_ways(s, steps, expected, rtol=2e-6, atol=1e-7 * abs(args[0]), ways=values)
    # the cycle index, exact, in the three ways
    for way, got in cycles.items():
        np.testing.assert_array_equal(got, index, err_msg=way)


def test_repeat_restarts_at_the_ceil_of_a_fractional_start():
    # period 75 ticks, 2 a step: 37.5-step cycles; cycle 1 starts at step 38, cycle 2 at 75, cycle 3
    # at 113 (112.5); by hand: the cosine at tick 75 − 1 = 74 just before, at tick 1 on step 38
    s = o.repeat(o.cosine_decay_schedule(0.731, 75), 75, ticks=2)
    steps = pad([37, 38, 74, 75, 112, 113])  # the vector programs of the equal-cycles test above
    got = np.asarray(s(steps), np.float64)[:6]
    want = [cos64(0.731, 75, 74), cos64(0.731, 75, 1), cos64(0.731, 75, 73), 0.731, cos64(0.731, 75, 74)]
    want.append(cos64(0.731, 75, 1))
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(s.cycle_index(steps))[:6], [0, 1, 1, 2, 2, 3])


# --------------------------------------------------------------------------------------------------
# repeat with ticks and growing cycles: u = min(t·ticks, 2**31 − 1) ticks; cycle i starts at tick
# S_i = period·(m^i − 1)/(m − 1), m read as the decimal it was written as (1.37 = 137/100), lasts
# period·m^i ticks and reads the inner at (u − S_i)/m^i


GROWING = [(41, "1.37", 0.83, 3, 0.731), (263, "1.37", 1.0, 3, 0.0731)]


def growing_starts(period, mult, limit):
    m = Fraction(mult)
    starts = [Fraction(0)]
    while starts[-1] <= limit:
        starts.append(starts[-1] + period * m ** (len(starts) - 1))
    return starts


@pytest.mark.parametrize(("period", "mult", "decay", "ticks", "v"), GROWING)
def test_repeat_growing_cycles_with_ticks(period, mult, decay, ticks, v):
    s = o.repeat(o.cosine_decay_schedule(v, period), period, float(mult), decay, ticks=ticks)
    starts = growing_starts(period, mult, TOP)
    m = Fraction(mult)
    # the first 12 restarts, those near 2**24 ticks and the last before 2**31 − 1 ticks, in steps;
    # t·ticks saturates at 2**31 − 1 from step floor((2**31 − 1)/ticks) + 1 on
    near = [i for i, x in enumerate(starts) if 1 <= i <= 12 or 2**23 <= x <= 2**25 or i >= len(starts) - 3]
    steps = around(0, 1, TOP // ticks, TOP - 1, TOP, *restart_steps([starts[i] for i in near], ticks))
    expected, index = [], []
    for t in steps:
        u = min(t * ticks, TOP)
        i = max(j for j, x in enumerate(starts) if x <= u)
        expected.append(decay**i * cos64(v, period, float((u - starts[i]) / m**i)))
        index.append(i)
    # the float32 position in a cycle of ~7e8 ticks is known to an ulp of u: ~4e-7 of the cycle
    values, cycles = three_ways(s, steps, cycle=True)  # the programs of the equal-cycles test
    assert_three_ways(s, steps, expected, rtol=1e-5, atol=2e-6 * v, ways=values)
    # and the cycle index, exact: the cycle the values above are read in
    for way, got in cycles.items():
        np.testing.assert_array_equal(got, index, err_msg=way)
    # past the saturation every step reads u = 2**31 − 1
    np.testing.assert_allclose(np.asarray(s(jnp.array([TOP // ticks + 1, TOP]))), float(s(TOP)), rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# per_epoch with ticks: schedule(floor(t·ticks / steps_per_epoch))

PER_EPOCH = [
    ("step", (0.731, 0.61, 3), 5, 2),  # epochs of 2.5 steps
    ("cos", (0.0731, 37), 7, 3),  # epochs of 7/3 steps
    ("step", (0.37, 0.83, 2), 1000, 13),
    ("cos", (0.531, 1_000_003), 3, 7),  # 7/3 epochs a step: the epoch index passes 2**31 − 1
]


@pytest.mark.parametrize(("kind", "args", "spe", "ticks"), PER_EPOCH)
def test_per_epoch_with_ticks(kind, args, spe, ticks):
    if kind == "step":
        inner, f = o.step_decay(*args), (lambda e: step_decay64(*args, e))
    else:
        inner, f = o.cosine_decay_schedule(*args), (lambda e: cos64(*args, e))
    s = o.per_epoch(inner, spe, ticks)
    # epoch e starts at step ceil(e·spe/ticks): the first ones, the inner's drops, near 2**24 and the end
    drops = [args[-1] * k for k in (1, 2, 3)]  # the step decay's drops, the cosine's end
    epochs = list(range(1, 9)) + drops + [2**24 * ticks // spe, TOP * ticks // spe]
    steps = around(0, TOP - 1, TOP, *restart_steps([e * spe for e in epochs], ticks))
    # an epoch index past int32 saturates at 2**31 − 1: past the end of the cosine, the same value
    expected = [f(min(t * ticks // spe, TOP)) for t in steps]
    assert_three_ways(s, steps, expected, rtol=2e-6, atol=1e-8 * args[0])


# --------------------------------------------------------------------------------------------------
# time_warp: schedule(T·(t/T)^k) for t < T, schedule(t) from T on

WARPS = [
    ("cos", (0.731, 53), 53, 1.7),
    ("cos", (0.731, 53), 53, 0.43),
    ("cos", (0.731, 211), 137, 0.43),  # the cosine goes on past T
    ("lin", (0.0731, 0.0013, 97), 97, 1.7),
    ("lin", (0.9, 0.0131, 300), 61, 0.43),
    ("inv", (0.37, 0.731, 13), 1_000_003, 1.7),
]


def warp_inner(kind, args):
    if kind == "inv":
        return o.inverse_time_decay(*args), (lambda x: inv_time64(*args, x))
    return inner_schedule(kind, args)


def warp_tolerance(f, steps_T, k, t):
    """The float32 reading T·(t/T)^k is off by a few ulps, amplified by the power (k·|ln(t/T)|): the
    inner's change over that much, plus float32 rounding of the value."""
    if t <= 0 or t >= steps_T:
        return 0.0
    p = t / steps_T
    x = steps_T * p**k
    dx = 4 * F32_EPS * x * (2 + k * (1 + abs(math.log(p))))
    return abs(f(x + dx) - f(max(x - dx, 0.0)))


@pytest.mark.parametrize(("kind", "args", "steps_T", "k"), WARPS)
def test_time_warp(kind, args, steps_T, k):
    inner, f = warp_inner(kind, args)
    s = o.time_warp(inner, steps_T, k)
    ends = [args[-1]]  # the inner's own end
    steps = around(0, 1, 7, steps_T // 3, steps_T // 2, steps_T, *ends, 2**24, TOP - 1, TOP)
    expected = [f(steps_T * (t / steps_T) ** k) if t < steps_T else f(t) for t in steps]
    atol = [1e-7 * abs(args[0]) + warp_tolerance(f, steps_T, k, t) for t in steps]
    assert_three_ways(s, steps, expected, rtol=2e-6, atol=atol)


def test_time_warp_by_hand():
    # linear 1 -> 0 over 10 steps, warped with k = 2 over T = 10: at t = 5, 10·0.25 = 2.5 -> 0.75
    s = o.time_warp(o.linear_schedule(1.0, 0.0, 10), 10, 2.0)
    got = np.asarray(s(jnp.array([0, 5, 9, 10, 12])))
    np.testing.assert_allclose(got, [1.0, 0.75, 0.19, 0.0, 0.0], rtol=2e-6, atol=1e-7)
    # k = 1 is the identity
    c = o.cosine_decay_schedule(0.731, 53)
    t = jnp.arange(0, 60)
    np.testing.assert_allclose(o.time_warp(c, 53, 1.0)(t), c(t), rtol=2e-6, atol=1e-8)


def test_time_warp_past_T_reads_the_integer_step():
    # "schedule(t) from T on": for int32 steps past 2**24 the inner must see t itself, not float32(t)
    # (a multistep boundary at 2**24 + 1, a period-2 triangle)
    ms = o.multistep_decay(0.731, [2**24 + 1, 2**30 + 3], 0.5)
    steps = [2**24, 2**24 + 1, 2**30 + 2, 2**30 + 3, TOP]
    assert_three_ways(o.time_warp(ms, 37, 1.7), steps, [0.731, 0.3655, 0.3655, 0.18275, 0.18275], 1e-7, 0.0)
    tri = o.cyclic_schedule(0.0131, 0.731, 1)  # 0.0131 at even steps, 0.731 at odd ones
    steps = [2**24 + 1, 2**24 + 2, 2**24 + 3, TOP - 1, TOP]
    expected = [0.731, 0.0131, 0.731, 0.0131, 0.731]
    assert_three_ways(o.time_warp(tri, 37, 0.43), steps, expected, 1e-6, 0.0)


# --------------------------------------------------------------------------------------------------
# cumulative_product: prod_{j=1..min(floor(t), length)} factor(j)


def factors32(a, b, n):
    """The factors 1 − a/(j + b), j = 1..n, computed in float32 operations as the schedule does."""
    j = np.arange(1, n + 1, dtype=np.float32)
    return np.float32(1.0) - np.float32(a) / (j + np.float32(b))


PRODUCTS = [(0.0731, 1.7, 37), (0.0731, 1.7, 1000), (0.4129, 0.63, 1000), (0.9173, 0.0371, 37)]


@pytest.mark.parametrize(("a", "b", "length"), PRODUCTS)
def test_cumulative_product(a, b, length):
    s = o.cumulative_product(o.from_fn(product_factor, a=a, b=b), length)
    steps = around(0, 1, 2, 3, length // 2, length, 2**24, TOP - 1, TOP)
    # float64 running product of the float32-rounded factors; the schedule multiplies those factors
    # in double words (~2**-40 relative) and rounds the product once: 2 ulps of float32 (2·eps)
    rounded = np.concatenate([[1.0], np.cumprod(factors32(a, b, length).astype(np.float64))])
    expected = [rounded[min(t, length)] for t in steps]
    assert_three_ways(s, steps, expected, rtol=2 * F32_EPS, atol=0.0)
    # and against the exact float64 factors: each float32 factor is off by at most half an ulp, so
    # the product of n of them by n·eps/2 relative (what the docstring states), here n·eps
    exact = np.concatenate([[1.0], np.cumprod(1 - a / (np.arange(1, length + 1) + b))])
    n = np.minimum(steps, length)
    ours = np.asarray(s(pad(steps)))[: len(steps)]  # the padded vector program of `assert_three_ways`
    np.testing.assert_array_less(np.abs(ours - exact[n]), (n + 2) * F32_EPS * exact[n])
    # a fractional step has the factors up to its floor
    half = np.array([0.5, 2.5, length - 0.5, length + 0.5], np.float32)
    np.testing.assert_allclose(s(half), rounded[[0, 2, length - 1, length]], rtol=2 * F32_EPS)


def test_cumulative_product_by_hand():
    # factors 1/(2t) = 0.5, 0.25, 1/6: products 1, 0.5, 0.125, 0.125/6, held from t = 3 on
    s = o.cumulative_product(o.from_fn(lambda t, c: c / (2.0 * t), c=1.0), 3)
    got = np.asarray(s(jnp.array([0, 1, 2, 3, 4, 1000])))
    np.testing.assert_allclose(got, [1, 0.5, 0.125, 0.125 / 6, 0.125 / 6, 0.125 / 6], rtol=2 * F32_EPS)


# --------------------------------------------------------------------------------------------------
# vmap over ticks, k and the product's factor hyperparameter, against the formulas

STEPS = np.array([0, 1, 17, 37, 38, 56, 74, 75, 113, 999, 1000, 1001, 2**24 + 1, TOP], np.int32)


def test_vmap_over_ticks():
    ticks = np.array([2, 3, 5, 11], np.int32)
    out = jax.vmap(lambda k: o.repeat(o.cosine_decay_schedule(0.731, 75), 75, ticks=k)(STEPS))(ticks)
    want = [[cos64(0.731, 75, int(t) * int(k) % 75) for t in STEPS] for k in ticks]
    np.testing.assert_allclose(out, want, rtol=2e-6, atol=1e-8)
    out = jax.vmap(lambda k: o.per_epoch(o.step_decay(0.731, 0.61, 3), 5, k)(STEPS))(ticks)
    want = [[step_decay64(0.731, 0.61, 3, int(t) * int(k) // 5) for t in STEPS] for k in ticks]
    np.testing.assert_allclose(out, want, rtol=2e-6, atol=1e-30)
    # growing cycles: the cycle index against the exact starts
    idx = jax.vmap(
        lambda k: o.repeat(o.cosine_decay_schedule(0.731, 41), 41, 1.37, ticks=k).cycle_index(STEPS)
    )(ticks)
    starts = growing_starts(41, "1.37", TOP)
    want = [
        [max(i for i, x in enumerate(starts) if x <= min(int(t) * int(k), TOP)) for t in STEPS] for k in ticks
    ]
    np.testing.assert_array_equal(idx, want)


def test_vmap_over_k():
    ks = np.array([0.43, 1.0, 1.7, 3.1], np.float32)
    out = jax.vmap(lambda k: o.time_warp(o.cosine_decay_schedule(0.731, 211), 137, k)(STEPS))(ks)
    f = lambda x: cos64(0.731, 211, x)  # noqa: E731
    for row, k in zip(np.asarray(out, np.float64), ks.astype(np.float64)):
        want = [f(137 * (t / 137) ** k) if t < 137 else f(t) for t in STEPS.tolist()]
        atol = [1e-7 + warp_tolerance(f, 137, k, t) for t in STEPS.tolist()]
        np.testing.assert_array_less(np.abs(row - want), np.asarray(atol) + 2e-6 * np.abs(want))


def test_vmap_over_a_factor_hyperparameter():
    a = np.array([0.0731, 0.1173, 0.4129], np.float32)
    out = jax.vmap(lambda a: o.cumulative_product(o.from_fn(product_factor, a=a, b=1.7), 1000)(STEPS))(a)
    for row, ai in zip(np.asarray(out, np.float64), a):
        rounded = np.concatenate([[1.0], np.cumprod(factors32(ai, 1.7, 1000).astype(np.float64))])
        np.testing.assert_allclose(row, rounded[np.minimum(STEPS, 1000)], rtol=2 * F32_EPS)


# --------------------------------------------------------------------------------------------------
# gradients against central differences of the float64 formulas


# vmapped gradients, compiled once (k, or the schedule, an argument): one program for all the values
# (op by op, the eager vmap compiled some 300 small programs)
GRAD_K = jax.jit(
    jax.vmap(jax.grad(lambda k, t: o.time_warp(o.cosine_decay_schedule(0.731, 211), 137, k)(t)), (None, 0))
)
GRAD_SCHEDULE = jax.jit(jax.vmap(jax.grad(lambda s, t: s(t)), (None, 0)))


def test_grad_wrt_k():
    f = lambda x: cos64(0.731, 211, x)  # noqa: E731

    def formula(k, t):
        return f(137 * (t / 137) ** k) if t < 137 else f(t)

    steps = [1, 7, 50, 100, 136, 137, 150]
    for k in (0.43, 1.7):
        got = GRAD_K(jnp.float32(k), jnp.asarray(steps))
        h = 1e-6
        want = [(formula(k + h, t) - formula(k - h, t)) / (2 * h) for t in steps]
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-6)
        assert np.abs(want[2:4]).min() > 1e-3  # the warp moves these values: the check has teeth


def test_grad_wrt_a_float_leaf_of_the_factor():
    def formula(a, t, b=1.7):
        return math.prod(1 - a / (j + b) for j in range(1, t + 1))

    steps = [0, 1, 2, 36, 37, 38, TOP]
    s = o.cumulative_product(o.from_fn(product_factor, a=0.0731, b=1.7), 37)
    grads = GRAD_SCHEDULE(s, jnp.asarray(steps))
    got = np.asarray(grads.schedule.hyperparams["a"], np.float64)
    h = 1e-7
    want = [(formula(0.0731 + h, min(t, 37)) - formula(0.0731 - h, min(t, 37))) / (2 * h) for t in steps]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)
    assert want[0] == 0 and min(abs(w) for w in want[1:]) > 0.03
    # the other leaf of the factor (d/db), from the same gradient
    got_b = np.asarray(grads.schedule.hyperparams["b"], np.float64)
    want_b = [
        (formula(0.0731, min(t, 37), 1.7 + h) - formula(0.0731, min(t, 37), 1.7 - h)) / (2 * h) for t in steps
    ]
    np.testing.assert_allclose(got_b, want_b, rtol=1e-4, atol=1e-7)


# --------------------------------------------------------------------------------------------------
# the int32 limit of period · ticks


def test_ticks_product_limit():
    c = o.cosine_decay_schedule(0.731, 37)
    o.repeat(c, 1, ticks=TOP)  # 1 · (2**31 − 1) fits
    o.per_epoch(c, 1, ticks=TOP)
    for fn, kw in [(o.repeat, dict(period=2)), (o.per_epoch, dict(steps_per_epoch=2))]:
        with pytest.raises(ValueError, match=rf"^{fn.__name__}: ticks .*{2**30}"):
            fn(c, ticks=2**30, **kw)
    with pytest.raises(ValueError, match=r"^repeat: ticks .*3\.5"):
        o.repeat(c, 75, ticks=3.5)
