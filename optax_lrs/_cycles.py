"""Where a step falls in growing restart cycles, exactly: the cycle-start tables of SGDR-style schedules.

Two rules make cycles grow:

- real cycles (Keras `CosineDecayRestarts`, `repeat`): cycle i lasts `first·mult^i` steps and starts at
  `S_i = first·(mult^i − 1)/(mult − 1)`, a real number; its first step is `ceil(S_i)`;
- integer cycles (seed 000's `SGDRScheduler`): `P(i+1) = ceil(P(i)·mult)` units, starting at the sum
  of the previous periods.

Neither has a float32 closed form that is exact at every restart (`log`/`pow` miss integer starts by
an ulp, and float32 cannot hold a start above 2**24), so the first `TABLE_CYCLES` starts are computed
once, when the schedule is built, in double-word arithmetic (a float pair carrying ~48 bits in float32),
and kept as integer leaves of the schedule. A step is then placed by a binary search over the table,
in integer arithmetic: exact for every int32 step. Cycles after the table (only when `mult` is close to
1 or the first cycle is tiny) continue geometrically from the last tabulated one for real cycles (a
float32 closed form: restart steps there are not guaranteed), and exactly for the integer recurrence
(a coarse table of every 256th cycle and a bounded walk).

`mult` means the shortest decimal that rounds to its float value: 1.7 is held as 1.70000005 in float32
but read as 17/10 (a double word carries the difference), so a cycle that starts at exactly 135 steps
in decimal arithmetic (50 + 85) starts at step 135, not 136. A start within the double word's own
rounding (`k·x·4·eps²` for a quantity `x` after `k` operations, ~1e-12·k·x in float32) of an integer
is that integer. The integer recurrence is therefore exact decimal arithmetic; it equals the seed's
float64 loop except where float64 itself rounds a decimal product past an integer (`10 · 1.1` is
`11.000000000000002` in float64, so the seed's loop makes that cycle 12 units long, not 11).

Every operation is an IEEE add, multiply, compare or bit mask (no `log`/`exp`), so a table built
eagerly, under `jit` or under `vmap` (a batch of hyperparameters) holds the same integers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from optax_lrs import _math as m
from optax_lrs._base import float_dtype, int_dtype

TABLE_CYCLES = 256


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


def _decimal(x):
    """The shortest decimal (up to 7 fractional digits) that rounds to the float `x`, as a double word:
    a multiplier given as 1.7 is held as 1.70000005 in float32 but means 17/10, and its products with
    periods must land on the integers decimal arithmetic gives. Floats with no such decimal stay as
    they are."""
    fdt = x.dtype
    limit = 2.0 ** (_mantissa_bits(fdt) + 1)
    best, found = (x, jnp.zeros_like(x)), jnp.zeros(x.shape, bool)
    for digits in range(8):
        p = jnp.asarray(10.0**digits, fdt)
        hi, lo = _two_prod(x, p)
        n = jnp.round(hi + lo)
        q = n / p
        r1, r2 = _two_prod(q, p)
        q_lo = ((n - r1) - r2) / p
        ok = ~found & (n < limit) & (q == x)
        best = (jnp.where(ok, q, best[0]), jnp.where(ok, q_lo, best[1]))
        found = found | ok
    return best


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

    Returns `(ends, corr, length, next_start, next_length)`: `ends[i]` is the last step before cycle i
    starts (`ceil(S_i) − 1`, -1 for cycle 0; the integer maximum when S_i is past it; one more entry
    than the others, for the first cycle after the table), `corr[i]` is
    `ceil(S_i) − S_i` (so the offset of step t in cycle i is `t − ceil(S_i) + corr[i]`), `length[i]`
    the cycle's length, and the start (as ceil, corr) and length of the first cycle after the table.
    """
    fdt = float_dtype()
    first = m.at_least_one(first).astype(int_dtype())
    mult = _decimal(jnp.maximum(jnp.asarray(mult, fdt), 1.0))
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
    (start, length), (ends, corr, lengths) = jax.lax.scan(body, init, jnp.arange(TABLE_CYCLES))
    n, c, past = _snap_ceil(start, TABLE_CYCLES + 2)
    ends = jnp.concatenate([ends, jnp.where(past, top, n - 1)[None]])
    return ends, corr, lengths, (n, c), length[0] + length[1]


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
    """Table of integer cycles `P(i+1) = ceil(P(i)·mult)` (seed 000's `SGDRScheduler`), in units.

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
    return ends, periods, coarse_ends, coarse_periods, mult


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
    ends, corr, lengths, (tail_start, tail_corr), tail_length = real_cycles(first, mult)
    table = (ends, corr, lengths, tail_start, tail_corr, tail_length)
    return tuple(jax.lax.stop_gradient(x) for x in table)


def real_cycle_position(t, first, mult, table):
    """`(i, frac)`: the cycle index (float) of step t and its position in the cycle in [0, 1].

    Exact at every tabulated restart (the restart step has frac 0). The derivative with respect to
    `mult` is that of the real starts `first·(mult^i − 1)/(mult − 1)` and lengths `first·mult^i`.
    """
    ends, corr, lengths, tail_start, tail_corr, tail_length = table
    i = locate(t, ends)
    in_table = i < TABLE_CYCLES
    k = jnp.minimum(i, TABLE_CYCLES - 1)
    offset = m.fl(t - (m.take(ends, k) + 1).astype(t.dtype)) + m.take(corr, k)
    length = m.take(lengths, k)
    # after the table: geometric growth from the first untabulated cycle (equal cycles of `first`
    # steps when mult = 1: integer arithmetic, exact)
    after = jnp.maximum(t - tail_start.astype(t.dtype), 0)
    j, offset_after, length_after = m.geometric_cycle(m.fl(after) + tail_corr, tail_length, mult)
    q, r = m.floordiv(after, first)
    flat = m.fl(mult) <= 1
    j = jnp.where(flat, m.fl(q), j)
    offset_after = jnp.where(flat, m.fl(r), offset_after)
    length_after = jnp.where(flat, m.fl(m.at_least_one(first)), length_after)
    index = jnp.where(in_table, m.fl(i), TABLE_CYCLES + j)
    offset = jnp.where(in_table, offset, offset_after)
    length = jnp.where(in_table, length, length_after)

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
