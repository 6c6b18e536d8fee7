"""`Schedule.cycle_index` against integer / exact reference loops written here (and the real-cycle
reference of `reference64.Geometric`), at restart steps ±1, random and huge steps, in the three ways
training calls it: an eager Python int, a traced int32 scalar inside `jit`, and a vector."""

import bisect
import math
from decimal import Decimal
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from padding import padded
from reference64 import Geometric, _dec, as_written

import optax_lrs as o
from optax_lrs import _base

INT32_MAX = 2**31 - 1
RNG = np.random.default_rng(20261122)


# Compiled programs are shared where the modes allow: eager calls and `CYCLE` take the schedule as an
# argument (one program per schedule structure), every step vector is padded to `VEC` steps (one
# vector program per structure), and the closures over schedules (constants, as a training step holds
# them) of one test are merged into one program; a parametrized test closes over its first case's
# schedules and gives the others to `CYCLE`.
VEC = 512
CYCLE = jax.jit(lambda s, t: s.cycle_index(t))


def pad(steps):
    return padded(steps, VEC)


def modes_of(cases, closed=True):
    """For each (schedule, steps): the index of every step eagerly (one Python int at a time), as a
    traced int32 scalar under jit (the schedules closed over when `closed`, else arguments of
    `CYCLE`), and as one vector; all three must agree."""
    cases = [(s, [int(t) for t in steps]) for s, steps in cases]
    schedules = [s for s, _ in cases]
    closure = jax.jit(lambda t: tuple(s.cycle_index(t) for s in schedules)) if closed else None
    out = []
    for i, (s, steps) in enumerate(cases):
        eager = np.array([int(s.cycle_index(t)) for t in steps])
        one = (lambda t, i=i: closure(t)[i]) if closed else (lambda t, s=s: CYCLE(s, t))
        traced = np.array([int(one(jnp.int32(t))) for t in steps])
        vector = np.asarray(s.cycle_index(pad(steps)))
        assert vector.dtype == np.int32
        vector = vector[: len(steps)]
        np.testing.assert_array_equal(traced, eager)
        np.testing.assert_array_equal(vector, eager)
        out.append(eager)
    return out


def modes(s, steps, closed=True):
    return modes_of([(s, steps)], closed)[0]


def around(points, lo=0, hi=INT32_MAX):
    return sorted({t + d for t in points for d in (-1, 0, 1) if lo <= t + d <= hi})


def random_steps(n=40, hi=INT32_MAX):
    return [int(x) for x in RNG.integers(0, hi, n)]


# -- integer cycles: P(i+1) = ceil(P(i)·mult) units of `unit` steps (seed 000's SGDRScheduler) ------


def integer_starts(first, mult, limit):
    mult = as_written(mult)
    starts, period = [0], first
    while starts[-1] <= limit:
        starts.append(starts[-1] + period)
        period = math.ceil(period * mult) if mult != 1 else period
    return starts


WARM = [(7, 1.7, 1), (10, 1.1, 3), (13, 1.0, 1), (5, 1.2, 2), (3, 1.0307, 1), (238004, 1.00643, 1)]


@pytest.mark.parametrize("first, mult, unit", WARM)
def test_warm_restarts_index_is_the_recurrence(first, mult, unit):
    s = o.cosine_annealing_warm_restarts(0.0731, first, period_mult=mult, steps_per_period_unit=unit)
    if as_written(mult) == 1:  # equal cycles: start k is k·first units (no 1.6e8-entry list)
        length = first * unit
        last = INT32_MAX // length
        restarts = [k * length for k in [*range(40), *range(last - 3, last + 1)]]
        steps = around(restarts) + random_steps() + [2**24 - 1, 2**24, 2**24 + 1, INT32_MAX]
        want = [t // length for t in steps]
    else:
        starts = integer_starts(first, mult, INT32_MAX // unit + 1)
        restarts = [u * unit for u in starts[:40]] + [u * unit for u in starts[-4:] if u * unit <= INT32_MAX]
        steps = around(restarts) + random_steps() + [2**24 - 1, 2**24, 2**24 + 1, INT32_MAX]
        want = [bisect.bisect_right(starts, t // unit) - 1 for t in steps]
    np.testing.assert_array_equal(modes(s, steps, closed=(first, mult, unit) == WARM[0]), want)


# -- real cycles (Keras CosineDecayRestarts, repeat): cycle i starts at first·(m^i − 1)/(m − 1) ------


def real_expected(first, mult, steps):
    """Each step's index, with the adjacent index also accepted where a non-integer start lies
    within float32's reach of the step (the reference's documented ambiguity)."""
    cyc = Geometric(first, mult)
    return [(t, cyc.candidates(t)) for t in steps], cyc


def check_real(s, first, mult, steps, closed=True):
    expected, _ = real_expected(first, mult, steps)
    got = modes(s, [t for t, _ in expected], closed)
    for (t, ok), g in zip(expected, got):
        assert g in ok, (t, g, ok)


COSINE = [(50, 1.7), (37, 2.0), (11, 1.31), (23, 1.0), (5, 4.0)]


@pytest.mark.parametrize("first, mult", COSINE)
def test_cosine_restarts_index_is_the_geometric_start(first, mult):
    s = o.cosine_decay_restarts(0.0731, first, t_mul=mult, m_mul=0.9)
    cyc = Geometric(first, mult)
    steps = around([t for t in cyc.restart_steps() if t <= INT32_MAX] + random_steps())
    check_real(s, first, mult, steps, closed=(first, mult) == COSINE[0])


def test_keras_example_restart_is_cycle_one():
    # the issue's example: the step the restart happens at is the new cycle's first step
    s = o.cosine_decay_restarts(0.0731, 50, t_mul=1.7, m_mul=0.9)
    # (its closure is checked by the first case of the test above; here the schedule is an argument)
    np.testing.assert_array_equal(modes(s, [49, 50, 134, 135], closed=False), [0, 1, 1, 2])


REPEAT = [(29, 1.0), (17, 1.43), (3, 1.004)]


@pytest.mark.parametrize("period, mult", REPEAT)
def test_repeat_counts_its_repeats(period, mult):
    s = o.repeat(o.cosine_decay_schedule(0.0731, period), period, period_mult=mult, decay=0.7)
    cyc = Geometric(period, mult)
    closed = (period, mult) == REPEAT[0]
    check_real(s, period, mult, around(cyc.restart_steps()) + random_steps(), closed)


# Past the first 256 cycles (multipliers close to 1) starts come from a double-word closed form placed
# to ~1e-12 of their size: checked here against 60-digit starts with no slack beyond 1e-9 relative.
TIGHT = 1e-9


PAST = [(24, 1.0018), (1, 1.0000001), (3, 1.001), (1000, 1.00002), (7, 1.0731), (1, 1.05), (2, 1.3)]


@pytest.mark.parametrize("first, mult", PAST)
def test_real_cycles_past_the_table_are_exact(first, mult):
    s = o.cosine_decay_restarts(1.0, first, t_mul=mult, m_mul=0.97)
    cyc = Geometric(first, mult)
    last = cyc.index(INT32_MAX)
    rng = np.random.default_rng(first)
    cycles = {256, 257, last - 1, last} | {int(i) for i in rng.integers(256, max(last, 257), 12)}
    steps = [2**24 - 1, 2**24, 2**24 + 1, INT32_MAX] + random_steps(12)
    for i in sorted(c for c in cycles if 0 < c <= last):
        below = int(_dec(cyc.start(i)).to_integral_value(rounding="ROUND_FLOOR"))
        steps += [below - 1, below, below + 1, below + 2]
    steps = [t for t in steps if 0 <= t <= INT32_MAX]
    got = modes(s, steps, closed=(first, mult) == PAST[0])
    values = np.asarray(s(pad(steps)))[: len(steps)]

    def close(t, j):  # a start within TIGHT of step t: either side is acceptable
        return abs(_dec(t) - _dec(cyc.start(j))) <= Decimal(TIGHT) * _dec(cyc.start(j))

    for t, g, v in zip(steps, got, values):
        want = cyc.index(t)
        ok = {want, want - 1 if close(t, want) else want, want + 1 if close(t, want + 1) else want}
        assert g in ok, (t, g, want)
        lo, _ = cyc.position(g, t)
        expect = 0.97**g * 0.5 * (1 + math.cos(math.pi * float(lo)))
        np.testing.assert_allclose(v, expect, rtol=2e-5, atol=1e-6, err_msg=str((t, g)))


def test_the_issues_long_restart_example():
    # cosine_decay_restarts(1.0, 24, t_mul=1.0018) at 2**24: cycle 3969, value 0.80333 (60-digit starts)
    s = o.cosine_decay_restarts(1.0, 24, t_mul=1.0018)
    assert modes(s, [2**24], closed=False).tolist() == [3969]
    np.testing.assert_allclose(float(s(2**24)), 0.8033307, rtol=2e-6)


def test_the_long_restart_example_built_before_x64_is_switched_on():
    # the table keeps t_mul's decimal as float32 double words; with x64 on, the cycles after the table
    # read it again in float64, from the decimal of the float32 leaf (searched as float64, the float32
    # 1.0018 has no short decimal: its excess 1.8000603e-3 would give 0.648 here)
    s = o.cosine_decay_restarts(1.0, 24, t_mul=1.0018)
    assert s.cycles[3].dtype == jnp.float32
    with jax.enable_x64(True):
        built = o.cosine_decay_restarts(1.0, 24, t_mul=1.0018)
        assert built.cycles[3].dtype == jnp.float64
        for sched in (s, built):
            assert int(sched.cycle_index(2**24)) == 3969
            np.testing.assert_allclose(float(sched(2**24)), 0.8033307, rtol=2e-6)


# -- tables that reach every step: the code for the cycles after the table is left out --------------


def restart_value(first, mult, t, m_mul=1.0):
    """A half-cosine restart schedule (peak m_mul^i) at step t, from the 60-digit cycle starts; t must
    not lie within float32's reach of a start (one candidate cycle)."""
    cyc = Geometric(first, mult)
    (i,) = cyc.candidates(t)
    lo, _ = cyc.position(i, t)
    return m_mul**i * 0.5 * (1 + math.cos(math.pi * float(lo)))


REACHES = o.cosine_decay_restarts(0.0731, 37, t_mul=1.7, m_mul=0.9)  # 256 cycles pass 2**31
SHORT = o.cosine_decay_restarts(1.0, 24, t_mul=1.0018)  # its table ends near step 7,800
WARM_REACHES = o.cosine_annealing_warm_restarts(0.0731, 7, period_mult=1.7)
WARM_SHORT = o.cosine_annealing_warm_restarts(0.0731, 3, period_mult=1.0307)
EQUAL_REAL = o.cosine_decay_restarts(0.0731, 37, t_mul=1.0, m_mul=0.9)
EQUAL_REPEAT = o.repeat(o.cosine_decay_schedule(0.0731, 41), 41)  # period_mult 1 by default
EQUAL_WARM = o.cosine_annealing_warm_restarts(0.0731, 13, period_mult=1.0, steps_per_period_unit=3)


def jaxpr(fn, *args, **kwargs):
    return str(jax.make_jaxpr(fn, **kwargs)(*args))


@pytest.mark.parametrize(
    "s, fact",
    [
        (REACHES, "reaches"),
        (SHORT, None),
        (WARM_REACHES, "reaches"),
        (WARM_SHORT, None),
        (EQUAL_REAL, "equal"),
        (EQUAL_REPEAT, "equal"),
        (EQUAL_WARM, "equal"),
    ],
)
def test_the_code_after_the_table_is_left_out_only_where_no_step_needs_it(s, fact):
    t = jnp.int32(5)
    closed = jaxpr(lambda t: s(t), t)  # closed over (constants), as a training step holds it
    assert (" cond[" in closed) == (fact is None)
    assert ("i32[257]" in closed) == (fact != "equal")  # equal cycles: integer division, no table
    assert (" cond[" in jaxpr(lambda t: s.cycle_index(t), t)) == (fact is None)
    assert " cond[" in jaxpr(lambda s, t: s(t), s, t)  # an argument (a grid under vmap): traced, kept
    hint = _base.table_hint(s)
    assert hint == (fact,)
    eager = jaxpr(_base._evaluate_jit, s, t, hint, static_argnums=2)  # the eager program
    assert (" cond[" in eager) == (fact is None)
    assert " cond[" in jaxpr(lambda t: s(t.astype(jnp.float32) + 0.5), t)  # real steps: kept


def test_equal_cycles_known_when_traced_are_integer_division():
    # closed over (integer division in the program) and eager (marked), against t // period
    periods = [(EQUAL_REAL, 37), (EQUAL_REPEAT, 41), (EQUAL_WARM, 13 * 3)]  # in steps
    cases = []
    for s, n in periods:
        last = INT32_MAX // n
        restarts = [k * n for k in [1, 2, 255, 256, 257, 4099, last - 1, last]]
        cases.append((s, around(restarts) + [2**24 - 1, 2**24, 2**24 + 1, INT32_MAX]))
    for (s, n), (_, steps), got in zip(periods, cases, modes_of(cases, closed=True)):
        np.testing.assert_array_equal(got, [t // n for t in steps])
        want = [0.0731 * 0.5 * (1 + math.cos(math.pi * (t % n) / n)) for t in steps]
        peak = [0.9 ** (t // n) if s is EQUAL_REAL else 1.0 for t in steps]
        np.testing.assert_allclose(
            np.asarray(s(pad(steps)))[: len(steps)], np.multiply(want, peak), rtol=2e-5, atol=1e-8
        )


def test_a_table_built_before_x64_keeps_the_code_after_it():
    assert _base.table_hint(REACHES) == ("reaches",)
    with jax.enable_x64(True):  # int32 ends cannot reach the int64 steps
        assert _base.table_hint(REACHES) == (None,)
        assert " cond[" in jaxpr(lambda t: REACHES(t), jnp.int64(5))
    assert _base.table_hint(REACHES) == ("reaches",)


def test_joins_of_tables_that_reach_and_do_not_reach_every_step():
    # the eager program marks each table on its own (both orders); one closure (constants, read
    # table by table when traced)
    b = 1237
    reaches = o.repeat(o.cosine_decay_schedule(1.0, 37), 37, period_mult=1.7)  # another structure
    steps = [1000, b - 1, b, b + 5003, b + 9001, b + 2**24, b + 1_999_999_999]
    cases = [((reaches, SHORT), ((37, 1.7), (24, 1.0018))), ((SHORT, reaches), ((24, 1.0018), (37, 1.7)))]
    for k, (pieces, firsts) in enumerate(cases):
        s = o.join_schedules(list(pieces), [b])
        assert _base.table_hint(s) == tuple("reaches" if p is reaches else None for p in pieces)
        want = [restart_value(*firsts[0], t) if t < b else restart_value(*firsts[1], t - b) for t in steps]
        got = {"vector": np.asarray(s(np.array(steps)))}
        if k == 0:
            got["eager"] = [float(s(t)) for t in steps]
            closure = jax.jit(lambda t, s=s: s(t))
            got["jit"] = [float(closure(jnp.int32(t))) for t in steps]
            np.testing.assert_allclose(got["eager"][-2], 0.8033307, rtol=2e-6)  # the issue's example
        for way, values in got.items():
            np.testing.assert_allclose(values, want, rtol=2e-5, atol=1e-6, err_msg=way)


def test_a_schedule_built_inside_the_trace_keeps_the_code_after_its_table():
    inner = o.from_fn(lambda t: o.cosine_decay_restarts(1.0, 24, t_mul=1.0018)(t))  # a traced table
    both = o.join_schedules([REACHES, inner], [101])  # the eager call marks REACHES's table only
    want = [restart_value(24, 1.0018, 5), 0.8033307]
    np.testing.assert_allclose(np.asarray(inner(np.array([5, 2**24]))), want, rtol=2e-6)
    np.testing.assert_allclose(float(both(101 + 2**24)), 0.8033307, rtol=2e-6)


def test_a_grid_of_tables_that_reach_and_do_not_reach_every_step():
    grid = o.stack([o.cosine_decay_restarts(1.0, 24, t_mul=1.7), SHORT])
    assert _base.table_hint(grid) == (None,)  # one row does not reach: the code stays
    t = 2**24 + 17
    want = [restart_value(24, 1.7, t), restart_value(24, 1.0018, t)]
    for got in (jax.vmap(lambda s: s(t))(grid), jax.jit(jax.vmap(lambda s: s(jnp.int32(t))))(grid)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=2e-5)


# -- equal cycles: cyclic, polynomial with cycle --------------------------------------------------


CYCLIC = [(7, 5), (13, 13), (2**30, 2**30), (1, 3)]


@pytest.mark.parametrize("up, down", CYCLIC)
def test_cyclic_index_is_floor_division(up, down):
    steps = around([k * (up + down) for k in range(5)]) + random_steps() + [INT32_MAX]
    want = [t // (up + down) if up + down <= INT32_MAX else 0 for t in steps]
    s = o.cyclic_schedule(0.0131, 0.0731, up, down)
    m = o.cyclic_momentum(up, down, 0.81, 0.93)
    got_s, got_m = modes_of([(s, steps), (m, steps)], closed=(up, down) == CYCLIC[0])
    np.testing.assert_array_equal(got_s, want)
    np.testing.assert_array_equal(got_m, want)


POLY = [37, 1, 10**6]


@pytest.mark.parametrize("decay_steps", POLY)
def test_polynomial_cycle_doubles_its_horizon_one_step_after_the_end(decay_steps):
    # TF's PolynomialDecay(cycle=True): decay_steps·ceil(t/decay_steps), so step T is still cycle 0
    s = o.polynomial_decay(0.0731, decay_steps, end_value=0.001, power=0.7, cycle=True)
    steps = around([k * decay_steps for k in range(5)]) + random_steps() + [INT32_MAX]
    want = [max(-(-t // decay_steps) - 1, 0) for t in steps]
    flat = o.polynomial_decay(0.0731, decay_steps, end_value=0.001, power=0.7)
    got, got_flat = modes_of([(s, steps), (flat, steps)], closed=decay_steps == POLY[0])
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_flat, np.zeros(len(steps)))


# -- pieces --------------------------------------------------------------------------------------


def test_sgdr_cycles_are_its_pieces():
    lengths = [13, 29, 7, 41]
    kwargs = [dict(init_value=0.0, peak_value=0.0731, decay_steps=n, warmup_steps=3) for n in lengths]
    s = o.sgdr_schedule(kwargs)
    starts = np.cumsum([0] + lengths[:-1])
    steps = around(list(starts) + [sum(lengths)]) + random_steps()
    want = [bisect.bisect_right(list(starts), t) - 1 for t in steps]
    np.testing.assert_array_equal(modes(s, steps), want)


def test_join_counts_the_cycles_of_earlier_pieces():
    # warmup (one cycle), then restarts of 10, 11, 13 units (1.1 as written): starts 0, 10, 21, 34
    restarts = o.cosine_annealing_warm_restarts(0.0731, 10, period_mult=1.1)
    s = o.join_schedules([o.linear_schedule(0.0, 0.0731, 5), restarts, o.constant_schedule(0.01)], [5, 26])
    # pieces: [0, 5) is cycle 0; [5, 26) holds restart cycles 0 (local 0-9) and 1 (local 10-20);
    # [26, ...) comes after 1 + 2 cycles
    steps = [0, 4, 5, 14, 15, 16, 25, 26, 27, INT32_MAX]
    # stacked pieces of one structure take the vmapped path: the same counts
    same = o.join_schedules([restarts, restarts], [26])
    got, got_same = modes_of([(s, steps), (same, [0, 9, 10, 20, 21, 25, 26, 35, 36])])
    np.testing.assert_array_equal(got, [0, 0, 1, 1, 2, 2, 2, 3, 3, 3])
    np.testing.assert_array_equal(got_same, [0, 0, 1, 1, 2, 2, 3, 3, 4])


def test_composites_read_their_schedule_at_the_step_they_use():
    r = o.cosine_decay_restarts(0.0731, 50, t_mul=1.7)  # restarts at 50 and 135
    cases = {
        "scaled": (0.5 * r, [49, 50, 135], [0, 1, 2]),
        "shift": (o.shift(r, 17), [66, 67, 152], [0, 1, 2]),
        "clip": (o.clip(r, 0.001, 0.05), [49, 50], [0, 1]),
        "warmup": (o.warmup(r, 13), [0, 12, 13, 62, 63, 148], [0, 0, 0, 0, 1, 2]),
        "staircase": (o.staircase(r, 7), [49, 55, 56], [0, 0, 1]),
        "select": (o.select([o.constant_schedule(0.1), r], 1), [49, 50], [0, 1]),
        "sum of two": (r + o.cyclic_schedule(0.0, 0.01, 10, 10), [19, 20, 50], [0, 1, 3]),
        "no cycles": (o.warmup_cosine_decay_schedule(0.0, 0.0731, 7, 97), [0, 7, 97, INT32_MAX], [0] * 4),
    }
    got = modes_of([(s, steps) for s, steps, _ in cases.values()])
    for (name, (_, _, want)), g in zip(cases.items(), got):
        np.testing.assert_array_equal(g, want, err_msg=name)


def test_float_and_unsigned_steps():
    s = o.cosine_annealing_warm_restarts(0.0731, 7, period_mult=1.7)  # starts 0, 7, 19, 40
    got = s.cycle_index(np.array([6.0, 6.99, 7.0, 18.5, 19.0, 3e9], np.float32))
    np.testing.assert_array_equal(got, [0, 0, 1, 1, 2, s.cycle_index(INT32_MAX)])
    assert int(s.cycle_index(np.uint32(2**32 - 1))) == int(s.cycle_index(INT32_MAX))
    assert int(s.cycle_index(-5)) == 0


def test_vmap_over_hyperparameters_equals_the_loop():
    firsts = jnp.array([49, 50, 51, 37])
    mults = jnp.array([1.7, 1.7, 1.31, 2.0])
    steps = jnp.array([0, 49, 50, 134, 135, 136, 10**6])
    batched = jax.vmap(lambda f, mm: o.cosine_decay_restarts(0.0731, f, t_mul=mm).cycle_index(steps))(
        firsts, mults
    )
    for row, f, mm in zip(np.asarray(batched), firsts.tolist(), mults.tolist()):
        cyc = Geometric(f, float(np.float32(mm)))
        for t, g in zip(steps.tolist(), row):
            assert g in cyc.candidates(t), (f, mm, t, g)


def test_integer_start_reference_is_exact_decimal():
    # the reference reads 1.1 as 11/10: 10 -> 11 -> ceil(12.1) = 13 units
    assert integer_starts(10, 1.1, 40)[:4] == [0, 10, 21, 34]
    assert as_written(1.7) == Fraction(17, 10)
