"""Where a step falls in growing restart cycles, exactly: the cycle-start tables of SGDR-style schedules.

Two rules make cycles grow:

- real cycles (Keras `CosineDecayRestarts`, `repeat`): cycle i lasts `first·mult^i` steps and starts at
  `S_i = first·(mult^i − 1)/(mult − 1)`, a real number; its first step is `ceil(S_i)`;
- integer cycles (the Keras `SGDRScheduler` callback): `P(i+1) = ceil(P(i)·mult)` units, starting at
  the sum of the previous periods.

Neither has a float32 closed form that is exact at every restart (`log`/`pow` miss integer starts by
an ulp, and float32 cannot hold a start above 2**24), so the first `TABLE_CYCLES` starts are computed
once, when the schedule is built, in double-word arithmetic (a float pair carrying ~48 bits in float32),
and kept as integer leaves of the schedule. A step is then placed by a binary search over the table,
in integer arithmetic: exact for every int32 step. Cycles after the table (only when `mult` is close to
1 or the first cycle is tiny) come from the double-word closed form `first·(1 + m + ... + m^(i−1))`
for real cycles (binary powering: O(log i), every start to ~1e-12 of its size, and none of them is an
integer), and exactly for the integer recurrence (a coarse table of every 256th cycle and a bounded
walk).

`mult` means the shortest decimal that rounds to its float value: 1.7 is held as 1.70000005 in float32
but read as 17/10 (a double word carries the difference), so a cycle that starts at exactly 135 steps
in decimal arithmetic (50 + 85) starts at step 135, not 136. A start within the double word's own
rounding (`k·x·4·eps²` for a quantity `x` after `k` operations, ~1e-12·k·x in float32) of an integer
is that integer. The integer recurrence is therefore exact decimal arithmetic; it equals the float64
loop of `SGDRScheduler` except where float64 itself rounds a decimal product past an integer
(`10 · 1.1` is `11.000000000000002` in float64, so that loop makes that cycle 12 units long, not 11).

Every operation of the tables is an IEEE add, multiply, compare or bit mask (no `log`/`exp`), so a table
built eagerly, under `jit` or under `vmap` (a batch of hyperparameters) holds the same integers; the
real tail uses `log1p` only for its estimate, which exact comparisons then correct.

What is known of a table when the program is traced (`RealTable.fact`, `_base.known_fact`) shrinks
the program: most tables reach the last integer step (mult at least ~1.08 for a first cycle of one
step, sooner for longer ones), so no integer step lies after them and the code for the cycles after
the table (most of the program) is left out; equal cycles (mult exactly 1) need neither that code nor
the table (integer division). It is known for a schedule closed over by a `jit` (its table a
constant) and in the eager calls (which mark each table with its fact). A traced table (a schedule
passed to a `jit`, a grid under `vmap`) keeps all the code, as do real-valued steps (they can lie past
2**31). The values are the same either way: the code left out never runs for those steps.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optax_lrs import _math as m
from optax_lrs._base import EQUAL, REACHES, TABLE_TYPES, float_dtype, int_dtype, known_fact

TABLE_CYCLES = 256


def _reaches(ends) -> bool:
    """Whether every row of concrete `ends` ends with the largest integer step."""
    ends = np.asarray(ends)
    return bool(np.all(ends[..., -1] == np.iinfo(ends.dtype).max))


def _one(word) -> bool:
    """`_is_one` of a concrete double-word multiplier `(hi, lo)`, true in every row."""
    return bool(np.all(_is_one((np.asarray(word[0]), np.asarray(word[1])))))


class RealTable(NamedTuple):
    """The table of `real_cycles` (a derived leaf of the schedules with real cycles)."""

    ends: jax.Array
    corr: jax.Array
    lengths: jax.Array
    words: jax.Array

    def fact(self) -> str | None:
        """From concrete values: equal cycles, or a table that every integer step lies in (see
        `known_fact`)."""
        words = np.asarray(self.words)
        if _one((words[..., 0], words[..., 1])):
            return EQUAL
        return REACHES if _reaches(self.ends) else None


class IntegerTable(NamedTuple):
    """The table of `integer_cycles`."""

    ends: jax.Array
    periods: jax.Array
    coarse_ends: jax.Array
    coarse_periods: jax.Array
    mult: tuple

    def fact(self) -> str | None:
        """As `RealTable.fact`."""
        if _one(self.mult):
            return EQUAL
        return REACHES if _reaches(self.ends) else None


TABLE_TYPES.update((RealTable, IntegerTable))


def _mantissa_bits(dt) -> int:
    return jnp.finfo(dt).nmant


# -- double-word arithmetic: (hi, lo) with |lo| <= ulp(hi)/2 ---------------------------------------


def _split(a):
    """`a = hi + lo` exactly, each with at most half of the significand (bit mask: no rounding, so no
    FMA contraction or compiler reassociation can change it)."""
    dt = a.dtype
    uint = jnp.uint32 if dt == jnp.float32 else jnp.uint64
    drop = (_mantissa_bits(dt) + 1) // 2
    mask = jnp.asarray(~((1 << drop) - 1) & (2 ** (8 * dt.itemsize) - 1), uint)
    hi = jax.lax.bitcast_convert_type(jax.lax.bitcast_convert_type(a, uint) & mask, dt)
    return hi, a - hi


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, al * bl - (((p - ah * bh) - al * bh) - ah * bl)


def _add(x, y):
    s, e = _two_sum(x[0], y[0])
    return _fast_two_sum(s, e + (x[1] + y[1]))


def _mul(x, y):
    p, e = _two_prod(x[0], y[0])
    return _fast_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))


def _shortest_decimal(x):
    """`(n, p, found)`: the shortest decimal `n / p` (p = 10^k, k <= 7) that rounds to the float `x`,
    with n and p integers held exactly as floats; `found` is False (and n = x, p = 1) for floats with
    no such decimal. (A loop over k: one copy of the test in the compiled program, not eight.)"""
    fdt = x.dtype
    limit = 2.0 ** (_mantissa_bits(fdt) + 1)

    def digit(_, state):
        n_best, p_best, found, p = state
        hi, lo = _two_prod(x, p)
        n = jnp.round(hi + lo)
        ok = ~found & (n < limit) & (n / p == x)
        return jnp.where(ok, n, n_best), jnp.where(ok, p, p_best), found | ok, p * 10  # 10^k: exact

    one = jnp.ones_like(x)
    n_best, p_best, found, _ = jax.lax.fori_loop(0, 8, digit, (x, one, jnp.zeros(x.shape, bool), one))
    return n_best, p_best, found


def _quotient(a, p):
    """`a / p` as a double word, for floats a and p whose quotient's remainder is exact."""
    q = a / p
    r1, r2 = _two_prod(q, p)
    return _fast_two_sum(q, ((a - r1) - r2) / p)


def _decimal(x):
    """The shortest decimal (up to 7 fractional digits) that rounds to the float `x`, as a double word:
    a multiplier given as 1.7 is held as 1.70000005 in float32 but means 17/10, and its products with
    periods must land on the integers decimal arithmetic gives. Floats with no such decimal stay as
    they are."""
    return _decimal_and_excess(x)[0]


def _decimal_and_excess(x):
    """`(decimal(x), decimal(x) − 1)` as double words from one search for the decimal; the excess to
    full relative precision, for x >= 1: `(n − p)/p` from the integers of the decimal
    (`decimal(x)[0] − 1` cancels most of the significand when x is close to 1: 1.0000001 would keep
    only ~8 correct digits of its 1e-7)."""
    n, p, _ = _shortest_decimal(x)
    dt = float_dtype()  # the decimal of the float the leaf holds, then exact in the current dtype
    return _quotient(n.astype(dt), p.astype(dt)), _quotient((n - p).astype(dt), p.astype(dt))


def _mult_words(mult):
    """The decimal of a multiplier (read as at least 1) and its excess over 1 as double words in the
    float dtype, stacked `[q_hi, q_lo, e_hi, e_lo]`. The decimal is searched in the dtype the value is
    held in: float32's 1.0018 is 1.0018 as a float32, but as a float64 it has no short decimal."""
    mult = jnp.asarray(mult)
    if not jnp.issubdtype(mult.dtype, jnp.floating):
        mult = mult.astype(float_dtype())
    q, e = _decimal_and_excess(jnp.maximum(mult, jnp.ones((), mult.dtype)))
    return jnp.stack([*q, *e])


def _from_int(n):
    """An integer as an exact double word."""
    fdt = float_dtype()
    shift = max(0, jnp.iinfo(n.dtype).bits - 1 - (_mantissa_bits(fdt) + 1)) + 1
    high = (n >> shift) << shift
    return _fast_two_sum(high.astype(fdt), (n - high).astype(fdt))


def _snap_ceil(x, rounds):
    """`ceil(x)` of a non-negative double word, except that x within its own rounding
    (`rounds·x·4·eps²`) of an integer n is n. Returns `(n, n − x, past)`: n saturates at the integer
    dtype's maximum, and `past` says it did (then n − x is 0)."""
    fdt, idt = float_dtype(), int_dtype()
    top = jnp.iinfo(idt).max
    big = float(top) + 1.0  # 2**31 (2**63): the first float past the integer range
    below = float(np.nextafter(np.asarray(big, fdt), np.asarray(0, fdt)))
    r = jnp.minimum(jnp.round(x[0]), below)
    n = r.astype(idt)
    d = (x[0] - r) + x[1]  # x − r, exact while x[0] − r is (always, once r is below x[0]'s range)
    # move n to the integer nearest x, in integer arithmetic, unless that leaves the integer range
    step = jnp.round(d)
    past = step > m.fl(top - n)
    step = jnp.where(past, 0.0, step)
    n, d = n + step.astype(idt), d - step
    tol = rounds * x[0] * (4 * jnp.finfo(fdt).eps ** 2)
    up = d > tol
    past = past | (up & (n == top))
    n = jnp.where(up & ~past, n + 1, n)
    corr = jnp.where(past, 0.0, jnp.where(up, 1 - d, -d))
    return jnp.where(past, top, n), corr.astype(fdt), past


# -- the tables ---------------------------------------------------------------------------------------


@jax.jit
def real_cycles(first: jax.Array, mult: jax.Array):
    """Table of real (Keras-style) cycles: cycle i lasts `first·mult^i` steps.

    Returns `(ends, corr, length, words)`: `ends[i]` is the last step before cycle i starts
    (`ceil(S_i) − 1`, -1 for cycle 0; the integer maximum when S_i is past it; one more entry than the
    others, for the first cycle after the table), `corr[i]` is `ceil(S_i) − S_i` (so the offset of
    step t in cycle i is `t − ceil(S_i) + corr[i]`), `length[i]` the cycle's length, and `words` the
    decimal of `mult` and its excess over 1 as double words, `[q_hi, q_lo, e_hi, e_lo]` (the cycles
    after the table start from them: the search for the decimal is done once, here, not in every
    evaluation).
    """
    fdt = float_dtype()
    first = m.at_least_one(first).astype(int_dtype())
    words = _mult_words(mult)
    mult = (words[0], words[1])
    zero = jnp.zeros((), fdt)

    top = jnp.iinfo(int_dtype()).max
    limit = 4.0 * top  # past the last integer step: the table stops growing (no overflow to inf)

    def body(carry, i):
        start, length = carry
        rounds = jnp.asarray(i, fdt) + 2
        n, corr, past = _snap_ceil(start, rounds)
        grow = start[0] < limit
        nxt_start, nxt_length = _add(start, length), _mul(length, mult)
        nxt = (
            tuple(jnp.where(grow, a, b) for a, b in zip(nxt_start, start)),
            tuple(jnp.where(grow, a, b) for a, b in zip(nxt_length, length)),
        )
        return nxt, (jnp.where(past, top, n - 1), corr, length[0] + length[1])

    init = ((zero, zero), _from_int(first))
    (start, _), (ends, corr, lengths) = jax.lax.scan(body, init, jnp.arange(TABLE_CYCLES))
    n, _, past = _snap_ceil(start, TABLE_CYCLES + 2)
    ends = jnp.concatenate([ends, jnp.where(past, top, n - 1)[None]])
    return ends, corr, lengths, words


def locate(t: jax.Array, ends: jax.Array) -> jax.Array:
    """Index of the cycle holding integer step t >= 0: the number of `ends[1:]` below t (ends[0] = -1)."""
    return m.piecewise_index(t - 1, ends[1:])


def _is_one(mult) -> jax.Array:
    """Whether a double-word multiplier is exactly 1 (equal cycles: integer division)."""
    return (mult[0] <= 1) & (mult[1] <= 0)


def _next_integer_cycle(carry, mult):
    """One step of `P(i+1) = ceil(P(i)·mult)`: `(start, period, past)` of cycle i to those of i + 1
    (`past`: the cycle starts after the last integer step; then the start is the integer maximum)."""
    start, period, past = carry
    top = jnp.iinfo(start.dtype).max
    nxt, _, _ = _snap_ceil(_mul(_from_int(period), mult), 2)
    nxt = jnp.clip(nxt, period, top)
    past = past | (start > top - period)
    return jnp.where(past, top, start + period), nxt, past


@jax.jit
def integer_cycles(first: jax.Array, mult: jax.Array):
    """Table of integer cycles `P(i+1) = ceil(P(i)·mult)` (the Keras `SGDRScheduler`), in units.

    Returns `(ends, periods, coarse_ends, coarse_periods, mult)`: `ends[i]` is the last unit before
    cycle i (-1 for cycle 0, the integer maximum once the starts pass it; one more entry than
    `periods`, for the first cycle after the table), `periods[i]` its length; `coarse_ends[k]` and
    `coarse_periods[k]` are the end before and the period of cycle `TABLE_CYCLES·k` (k <= TABLE_CYCLES), and
    `mult` the multiplier as a double word (the walk after the table steps from these). Every
    period grows by at least one unit, so cycle 65,536 starts past every int32 unit: the coarse
    table reaches every cycle there is. It is only computed when the fine table stops before the
    last integer step (mult within ~10% of 1).
    """
    fdt, idt = float_dtype(), int_dtype()
    top = jnp.iinfo(idt).max
    mult = _decimal(jnp.maximum(jnp.asarray(mult, fdt), 1.0))
    first = m.at_least_one(first).astype(idt)

    def body(carry, _):
        end = jnp.where(carry[2], top, carry[0] - 1)
        return _next_integer_cycle(carry, mult), (end, carry[1])

    init = (jnp.zeros((), idt), first, jnp.zeros((), bool))
    (start, period, past), (ends, periods) = jax.lax.scan(body, init, None, length=TABLE_CYCLES)
    ends = jnp.concatenate([ends, jnp.where(past, top, start - 1)[None]])

    def coarse(_):
        def block(carry, _):
            nxt, _ = jax.lax.scan(
                lambda c, _: (_next_integer_cycle(c, mult), None), carry, None, TABLE_CYCLES
            )
            return nxt, (jnp.where(carry[2], top, carry[0] - 1), carry[1])

        return jax.lax.scan(block, init, None, length=TABLE_CYCLES + 1)[1]

    def reached(_):
        return jnp.full(TABLE_CYCLES + 1, top, idt).at[0].set(-1), jnp.full(TABLE_CYCLES + 1, first, idt)

    # equal cycles need no coarse table (integer division), nor does a fine table that reaches 2**31
    coarse_ends, coarse_periods = jax.lax.cond(past | _is_one(mult), reached, coarse, None)
    return IntegerTable(ends, periods, coarse_ends, coarse_periods, mult)


def integer_tail(t: jax.Array, table: tuple) -> tuple[jax.Array, jax.Array, jax.Array]:
    """`(i, start, period)` of the integer cycle holding unit t, for units past the fine table: the
    coarse table's block, then up to `TABLE_CYCLES − 1` steps of the recurrence from its first cycle
    (a fixed-length loop of integer and double-word steps, the same in every evaluation mode); with
    mult = 1, integer division."""
    # a barrier: a schedule closed over by a jit makes the table constants, and XLA's folding of
    # constant sums would change the double-word steps of the walk
    _, _, coarse_ends, coarse_periods, mult = jax.lax.optimization_barrier(table)
    idt = coarse_ends.dtype
    k = locate(t, coarse_ends)
    carry = (m.take(coarse_ends, k) + 1, m.take(coarse_periods, k), jnp.zeros(t.shape, bool))
    index = k * TABLE_CYCLES

    def walk(_, state):
        carry, index = state
        nxt = _next_integer_cycle(carry, mult)
        go = ~nxt[2] & (nxt[0] <= t)
        carry = tuple(jnp.where(go, a, b) for a, b in zip(nxt, carry))
        return carry, index + go.astype(idt)

    (start, period, _), index = jax.lax.fori_loop(0, TABLE_CYCLES - 1, walk, (carry, index.astype(idt)))
    # equal cycles (mult = 1): integer division
    first = coarse_periods[0]
    q, r = m.floordiv(t, first)
    flat = _is_one(mult)
    return jnp.where(flat, q, index), jnp.where(flat, t - r, start), jnp.where(flat, first, period)


def real_cycle_table(first: jax.Array, mult: jax.Array) -> tuple:
    """The derived leaf of a schedule with real cycles: `real_cycles` without gradients (values come
    from the table, derivatives from `real_cycle_position`'s smooth form)."""
    return RealTable(*(jax.lax.stop_gradient(x) for x in real_cycles(first, mult)))


def _cap(x, big):
    """A non-negative double word, saturated at `big` (far past any step: no overflow to inf)."""
    over = x[0] > big
    return jnp.where(over, big, x[0]), jnp.where(over, 0.0, x[1])


def _powers(i, e):
    """`(m^i − 1, m^0 + ... + m^(i−1))` as double words, for integers i >= 0 and `e = m − 1 >= 0` (a
    double word): binary powering of the pair, `(u, g)` of exponents p and q making those of p + q
    as `(u_p + u_q + u_p·u_q, g_p + g_q + u_p·g_q)`. Every term is non-negative, so the relative
    precision of the double word survives (no cancellation in `m^i − 1`, no division by `m − 1`)."""
    dt = e[0].dtype
    big = jnp.asarray(2.0**100, dt)
    shape = jnp.broadcast_shapes(jnp.shape(i), jnp.shape(e[0]))
    zero = jnp.zeros(shape, dt)

    def combine(a, b):
        (ua, ga), (ub, gb) = a, b
        u = _add(_add(ua, ub), _mul(ua, ub))
        g = _add(_add(ga, gb), _mul(ua, gb))
        return _cap(u, big), _cap(g, big)

    def bit(k, state):
        acc, base = state
        nxt = combine(acc, base)
        use = ((i >> k) & 1) == 1
        acc = jax.tree_util.tree_map(lambda a, b: jnp.where(use, a, b), nxt, acc)
        return acc, combine(base, base)

    acc = ((zero, zero), (zero, zero))
    base = ((e[0] + zero, e[1] + zero), (zero + 1, zero))
    acc, _ = jax.lax.fori_loop(0, jnp.iinfo(i.dtype).bits - 1, bit, (acc, base))
    return acc


def _at_least(t, x):
    """Whether the double word t is >= the double word x."""
    d = _add(t, (-x[0], -x[1]))
    return (d[0] > 0) | ((d[0] == 0) & (d[1] >= 0))


def _real_tail(t, first, words):
    """`(i, offset, length)` of the real cycle holding step t, for any cycle, from the closed form
    `S_i = first·(m^0 + ... + m^(i−1))`, `len_i = first·m^i` in double words (`_powers`): a float32
    estimate of i, one correction from the start it gives, and at most two steps up. Starts are
    placed to ~1e-12 of their size (no cycle start past the table is an integer unless mult is 1).
    `words`: the decimal of mult and its excess over 1 as double words (`real_cycles`)."""
    # a barrier: constants closed over by a jit must not be folded into the double-word steps
    t, first, words = jax.lax.optimization_barrier((t, first, jax.lax.stop_gradient(words)))
    fdt = float_dtype()
    idt = int_dtype()
    q, e = (words[0], words[1]), (words[2], words[3])
    first = m.at_least_one(first).astype(idt)
    f = _from_int(first)
    big = jnp.asarray(jnp.iinfo(idt).max // 2, idt)
    steps = _from_int(t) if m.is_int(t) else (t.astype(fdt), jnp.zeros(t.shape, fdt))
    rate = jnp.where(e[0] > 0, jnp.log1p(e[0]), 1.0)

    def cycles(x):  # whole cycles spanning x times the current length: floor(log_m(1 + x·(m − 1)))
        return jnp.floor(jnp.log1p(jnp.maximum(x, -0.5)) / rate)

    def start_length(i):
        u, g = _powers(i, e)
        return _mul(f, g), _add(f, _mul(f, u))

    def whole(k, lo, hi):  # a float count as an integer in [lo, hi] (integer sums: float32
        # cannot hold an odd count past 2**24)
        k = jnp.clip(jnp.nan_to_num(k), m.fl(lo), m.fl(hi))
        return jnp.clip(k.astype(idt), lo, hi)

    def refine(_, state):  # the start and length of estimate i, and the estimate they correct it to
        i, _, s, length = state
        s, length = start_length(i)
        d = _add(steps, (-s[0], -s[1]))
        nxt = jnp.clip(i + whole(cycles((d[0] + d[1]) * e[0] / length[0]), -big, big) - 1, TABLE_CYCLES, big)
        return nxt, i, s, length

    # two rounds of one loop body (one copy of `_powers` in the program, not two): the first
    # corrects the estimate i0 to i1, the second gives the start and length of i1
    i0 = whole(cycles(m.fl(t) * e[0] / m.fl(first)), TABLE_CYCLES, big)
    dw = (jnp.zeros(i0.shape, fdt), jnp.zeros(i0.shape, fdt))
    _, i1, s1, l1 = jax.lax.fori_loop(0, 2, refine, (i0, i0, dw, dw))
    s2, l2 = _add(s1, l1), _mul(l1, q)
    s3, l3 = _add(s2, l2), _mul(l2, q)
    up1 = _at_least(steps, s2)
    up2 = up1 & _at_least(steps, s3)
    i = i1 + up1.astype(idt) + up2.astype(idt)
    s = tuple(jnp.where(up2, c, jnp.where(up1, b, a)) for a, b, c in zip(s1, s2, s3))
    length = jnp.where(up2, l3[0], jnp.where(up1, l2[0], l1[0]))
    offset = _add(steps, (-s[0], -s[1]))
    # equal cycles (mult = 1): integer division
    flat = _is_one(q)
    quot, rem = m.floordiv(t, first)
    return (
        jnp.where(flat, quot.astype(idt), i),
        jnp.where(flat, m.fl(rem), offset[0] + offset[1]),
        jnp.where(flat, m.fl(first), length),
    )


def _real_locate(t, first, mult, table):
    """`(i, offset, length)` of the real cycle holding step t: its integer index, the (real) steps
    since the cycle's start and its length."""
    ends, corr, lengths, words = table
    idt = ends.dtype
    fact = known_fact(table, t)
    if fact == EQUAL:  # equal cycles, known when traced: integer division, no table
        first = m.at_least_one(first).astype(idt)
        quot, rem = m.floordiv(t, first)
        return quot.astype(idt), m.fl(rem), m.fl(first)
    if words.dtype != float_dtype():  # a table built before x64 was switched on (or off)
        words = _mult_words(mult)
    i = locate(t, ends).astype(idt)
    in_table = i < TABLE_CYCLES
    k = jnp.minimum(i, TABLE_CYCLES - 1)
    offset = m.fl(t - (m.take(ends, k) + 1).astype(t.dtype)) + m.take(corr, k)
    length = m.take(lengths, k)
    if fact == REACHES:  # no step lies after the table: no code for it
        return i, offset, length

    # after the table (mult close to 1, or a tiny first cycle): the double-word closed form, only
    # when a step needs it
    def tail(x):
        j, off, span = _real_tail(x, first, words)  # in the current dtypes; the table may be older
        return j.astype(idt), off.astype(offset.dtype), span.astype(length.dtype)

    def none(x):
        return jnp.zeros(x.shape, idt), jnp.zeros(x.shape, offset.dtype), jnp.ones(x.shape, length.dtype)

    j, offset_after, length_after = jax.lax.cond(jnp.any(~in_table), tail, none, t)
    return (
        jnp.where(in_table, i, j),
        jnp.where(in_table, offset, offset_after),
        jnp.where(in_table, length, length_after),
    )


def real_cycle_index(t, first, mult, table):
    """The integer index of the real cycle holding integer step t."""
    return _real_locate(t, first, mult, table)[0]


def real_cycle_position(t, first, mult, table):
    """`(i, frac)`: the cycle index (float) of step t and its position in the cycle in [0, 1].

    Exact at every tabulated restart (the restart step has frac 0). The derivative with respect to
    `mult` is that of the real starts `first·(mult^i − 1)/(mult − 1)` and lengths `first·mult^i`.
    """
    index, offset, length = _real_locate(t, first, mult, table)
    index = m.fl(index)

    # zero in value, the derivative of the real start and length in `mult`
    mult = jnp.maximum(m.fl(mult), 1.0)
    ff = m.fl(m.at_least_one(first))
    power = jnp.exp2(jnp.minimum(index * jnp.log2(mult), 100.0))
    flat = mult == 1
    start_smooth = jnp.where(flat, ff * index, ff * (power - 1) / jnp.where(flat, 1.0, mult - 1))
    length_smooth = ff * power
    offset = offset - (start_smooth - jax.lax.stop_gradient(start_smooth))
    length = length + (length_smooth - jax.lax.stop_gradient(length_smooth))
    return index, jnp.clip(offset / length, 0.0, 1.0)
