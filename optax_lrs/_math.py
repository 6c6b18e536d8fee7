"""Numeric pieces shared by the schedules, written once.

Everything here is elementwise, branch-free on values, and safe for `jax.grad` (no NaN gradients from
the branch a `where` does not take).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optax_lrs._base import float_dtype


def fl(x: jax.typing.ArrayLike) -> jax.Array:
    """As the default float dtype."""
    return jnp.asarray(x).astype(float_dtype())


def is_int(x: jax.typing.ArrayLike) -> bool:
    return jnp.issubdtype(jnp.asarray(x).dtype, jnp.integer)


def at_least_one(n: jax.typing.ArrayLike) -> jax.Array:
    """A step count usable as a divisor (traced counts are not validated)."""
    n = jnp.asarray(n)
    return jnp.maximum(n, jnp.ones((), n.dtype))


def safe_pow(x: jax.typing.ArrayLike, p: jax.typing.ArrayLike) -> jax.Array:
    """`x ** p` for `x >= 0` with `0 ** 0 = 1`, `0 ** p = 0` (p > 0), and finite gradients at `x = 0`."""
    x, p = fl(x), fl(p)
    pos = x > 0
    x_safe = jnp.where(pos, x, 1.0)
    return jnp.where(pos, x_safe**p, jnp.where(p == 0, 1.0, 0.0))


def floordiv(t: jax.typing.ArrayLike, d: jax.typing.ArrayLike) -> tuple[jax.Array, jax.Array]:
    """`(t // d, t - d * (t // d))` for `d >= 1`: integer arithmetic when both are integers (exact for
    every int32 step), otherwise floating point with a correction of the rounded quotient."""
    t, d = jnp.asarray(t), at_least_one(d)
    if is_int(t) and is_int(d):
        q = t // d
        return q, t - q * d
    t, d = fl(t), fl(d)
    q = jnp.floor(t / d)
    r = t - q * d
    q = jnp.where(r < 0, q - 1, jnp.where(r >= d, q + 1, q))
    return q, t - q * d


def floordiv_shifted(t: jax.Array, offset: jax.Array, d: jax.Array) -> jax.Array:
    """`floor((t + offset) / d)` without forming `t + offset` (no overflow near 2**31 - 1)."""
    d = at_least_one(d)
    q, r = floordiv(t, d)
    qo, ro = floordiv(offset, d)
    return q + qo + (r >= d - ro).astype(q.dtype)  # r + ro >= d, with both remainders in [0, d)


def floordiv_sum(t: jax.Array, a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """`floordiv(t, a + b)` for counts a, b >= 1 whose sum may pass the integer range: then every
    step is in cycle 0."""
    a, b = at_least_one(a), at_least_one(b)
    if not (is_int(a) and is_int(b)):
        return floordiv(t, a + b)
    over = a > jnp.iinfo(a.dtype).max - b
    q, r = floordiv(t, jnp.where(over, 1, a + b))
    return jnp.where(over, 0, q), jnp.where(over, t, r)


def elapsed(t: jax.Array, *spans: jax.Array) -> jax.Array:
    """`max(t − (s1 + s2 + ...), 0)` for non-negative spans, subtracted one at a time so that their
    sum never overflows."""
    for span in spans:
        t = jnp.maximum(t - jnp.asarray(span).astype(t.dtype), 0)
    return t


def sat_sub(t: jax.Array, s: jax.Array) -> jax.Array:
    """`t − s` for an integer step t >= 0 and any s, saturating at the integer maximum."""
    if not (is_int(t) and is_int(s)):
        return t - s
    s = jnp.asarray(s).astype(t.dtype)
    top = jnp.iinfo(t.dtype).max
    return jnp.where((s < 0) & (t > top + s), top, t - s)


def sat_mul(t: jax.Array, k: jax.Array) -> jax.Array:
    """`t · k` for an integer step t >= 0 and k >= 1, saturating at the integer maximum."""
    if not (is_int(t) and is_int(k)):
        return t * k
    k = jnp.asarray(k).astype(t.dtype)
    top = jnp.iinfo(t.dtype).max
    return jnp.where(t > top // k, top, t * k)


def ticks_floordiv(t: jax.Array, period: jax.Array, ticks: jax.Array) -> tuple[jax.Array, jax.Array]:
    """`divmod(t · ticks, period)` without forming t · ticks: t = q·period + r gives
    t·ticks = q·ticks·period + r·ticks, and r·ticks < period·ticks (which the caller keeps in range).
    The quotient saturates at the integer maximum."""
    q, r = floordiv(t, period)
    q2, tick = floordiv(r * jnp.asarray(ticks).astype(jnp.result_type(r)), period)
    if is_int(q) and is_int(ticks):
        top = jnp.iinfo(q.dtype).max
        k = jnp.asarray(ticks).astype(q.dtype)
        whole = jnp.where(q > (top - q2) // k, top, q * k + q2)
    else:
        whole = q * ticks + q2
    return whole, tick


def remaining(t: jax.Array, steps: jax.typing.ArrayLike) -> jax.Array:
    """`1 − min(t, T)/T` computed as `(T − min(t, T))/T`: exact 0 from T on and full relative accuracy
    near it (what powers below 1 need), exactly 1 at t = 0."""
    steps = at_least_one(steps)
    left = steps - jnp.minimum(t, steps).astype(jnp.result_type(t, steps))
    # exact ends: XLA divides a vector by a scalar through its reciprocal, so T / T can miss 1
    return jnp.where(t >= steps, 0.0, jnp.where(t <= 0, 1.0, fl(left) / fl(steps)))


def progress(t: jax.Array, steps: jax.typing.ArrayLike) -> jax.Array:
    """`min(t, T) / T` as a float in [0, 1], exactly 0 at t = 0 and exactly 1 from t = T on.

    (XLA on CPU divides a vector by a scalar as a multiplication by its reciprocal, so `T / T` can
    miss 1 by an ulp; that ulp is visible through powers such as sqrt(1 − p).)
    """
    steps = at_least_one(steps)
    return jnp.where(t >= steps, 1.0, fl(jnp.minimum(t, steps)) / fl(steps))


def lerp(start: jax.typing.ArrayLike, end: jax.typing.ArrayLike, pct: jax.Array) -> jax.Array:
    """Linear interpolation: exactly `start` at pct 0 and exactly `end` at pct 1 (the form
    `(end − start)·pct + start` loses `end` to cancellation when it is small next to `start`)."""
    return start * (1 - pct) + end * pct


def cos_interp(start: jax.typing.ArrayLike, end: jax.typing.ArrayLike, pct: jax.Array) -> jax.Array:
    """Cosine interpolation, `start` at pct 0, `end` at pct 1."""
    return end + (start - end) * half_cosine(pct)


def half_cosine(frac: jax.Array, rest: jax.Array | None = None) -> jax.Array:
    """`½(1 + cos(π·frac))`: 1 at frac 0, 0 at frac 1.

    Computed as cos²(π·frac/2), which is the same number without the cancellation of 1 + cos near
    frac = 1 (there float32 `1 + cos` keeps only ~6e-8 absolute accuracy). Given `rest = 1 − frac`
    to full relative accuracy (from integers: `remaining`), the second half is sin²(π·rest/2), whose
    relative accuracy survives powers below 1 near the end (cos of an argument near π/2 keeps only
    ~1e-7 absolute accuracy, and its last ulps differ between XLA's scalar and vector code).
    """
    c = jnp.cos((jnp.pi / 2) * frac)
    if rest is not None:
        # sin(x) for x = π/2·rest <= π/4 by its Taylor series (next term < 2e-9 relative): adds and
        # multiplies, which XLA compiles alike in every context (its sin's last ulps differ between
        # vector widths, e.g. on one device and sharded over eight)
        x = (jnp.pi / 2) * rest
        x2 = x * x
        series = x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72))))
        c = jnp.where(frac > 0.5, series, c)
    # float32 cos(π/2) is 4e-8, not 0: the end must be exactly 0, also through powers below 1; with
    # `rest`, only the end itself (a float32 frac of (2**30 − 1)/2**30 already reads 1)
    end = frac >= 1 if rest is None else rest <= 0
    return jnp.where(end, 0.0, c * c)


def warmup_hold_decay(t, init_value, peak_value, warmup_steps, hold_steps, decay_steps, decayed):
    """Linear warmup from init_value to peak_value, peak_value for hold_steps, then `decayed(p)` with p
    the decay's progress in [0, 1] (p stays 1 afterwards): the skeleton of warmup-hold-cosine, WSD and
    tri-stage."""
    warm = lerp(init_value, peak_value, progress(t, warmup_steps))
    held = elapsed(t, warmup_steps)  # steps since the warmup ended; no overflowing sums of spans
    p = progress(elapsed(held, hold_steps), decay_steps)
    return jnp.where(t < warmup_steps, warm, jnp.where(held < hold_steps, peak_value, decayed(p)))


def polynomial(t, init_value, end_value, power, transition_steps, transition_begin):
    """optax `polynomial_schedule`, including its constant fallback for `transition_steps <= 0`."""
    frac = remaining(elapsed(t, transition_begin), transition_steps)
    v = (init_value - end_value) * safe_pow(frac, power) + end_value
    return jnp.where(transition_steps > 0, v, init_value)


def cosine_decay(t, init_value, decay_steps, alpha, exponent):
    """optax `cosine_decay_schedule`."""
    shape = half_cosine(progress(t, decay_steps), remaining(t, decay_steps))
    decayed = (1 - alpha) * safe_pow(shape, exponent) + alpha
    return init_value * decayed


def power_of(init_value, rate, p, end_value=None, ceiling_at_one=True):
    """`init_value · rate^p` (rate >= 0, p >= 0, 0^0 = 1), clipped at `end_value` (a floor when it
    decays, a ceiling when it grows), finite in value and gradient: the exponent of a growing rate
    stops where the value reaches its ceiling (end_value, or the float range), so no discarded
    branch overflows."""
    rate, p = jnp.maximum(fl(rate), 0.0), jnp.maximum(fl(p), 0.0)
    pos = rate > 0
    log_rate = jnp.log(jnp.where(pos, rate, 1.0))
    grows = log_rate > 0
    big = jnp.finfo(log_rate.dtype).max
    scale = jnp.maximum(jnp.abs(fl(init_value)), jnp.finfo(log_rate.dtype).tiny)
    ceiling = jnp.log(big / 4) - jnp.log(scale)
    if end_value is not None:
        safe_end = jnp.where(jnp.abs(fl(end_value)) > 0, jnp.abs(fl(end_value)), 1.0)
        # a little past the ceiling, so that the clip below lands on end_value exactly
        ceiling = jnp.minimum(ceiling, jnp.maximum(jnp.log(safe_end) - jnp.log(scale), 0.0) + 1.0)
    p = jnp.where(grows, jnp.minimum(p, ceiling / jnp.where(grows, log_rate, 1.0)), p)
    factor = jnp.where(pos, jnp.power(jnp.where(pos, rate, 1.0), p), jnp.where(p == 0, 1.0, 0.0))
    return end_clip(init_value * factor, rate, end_value, ceiling_at_one)


def end_clip(v, rate, end_value, ceiling_at_one=True):
    """`end_value` is a floor while the schedule decays and a ceiling when it grows; at rate 1 it is a
    ceiling in optax's `exponential_decay` and a floor in the step decays ("floored at end_value")."""
    if end_value is None:
        return v
    floor = rate < 1 if ceiling_at_one else rate <= 1
    return jnp.where(floor, jnp.maximum(v, end_value), jnp.minimum(v, end_value))


def exponential(t, init_value, transition_steps, decay_rate, transition_begin, staircase, end_value):
    """optax `exponential_decay`, including its constant fallback for `transition_steps <= 0` or
    `decay_rate == 0` and its clip at `end_value` (a floor when decaying, a ceiling when growing)."""
    decreased = elapsed(t, jnp.maximum(transition_begin, 0))  # negative steps read as 0 here too
    steps = at_least_one(transition_steps)
    if staircase:
        p = fl(floordiv(decreased, steps)[0])
    else:
        p = fl(decreased) / fl(steps)
    rate = jnp.where(decay_rate > 0, decay_rate, 1.0)
    v = power_of(init_value, rate, p, end_value)
    return jnp.where((transition_steps > 0) & (decay_rate != 0), v, init_value)


# Up to this many pieces, lookups are unrolled elementwise comparisons and selects, which XLA fuses
# into one loop; above it an unrolled binary search. Measured on CPU for 10M steps: 3 boundaries took
# 92 ms with `jnp.searchsorted` and 10 ms unrolled (64: 198 ms vs 40 ms); for 400 boundaries and 1M
# steps `searchsorted` (a while loop of gathers) took 17 ms, the unrolled binary search 5 ms.
UNROLL = 64


def piecewise_index(t: jax.Array, boundaries: jax.Array) -> jax.Array:
    """Number of boundaries `b <= t` (boundaries sorted along their only axis)."""
    tt = t.astype(jnp.result_type(t, boundaries))
    n = boundaries.shape[-1]
    count = jnp.zeros(t.shape, jnp.int32)
    if n <= UNROLL:
        for j in range(n):
            count = count + (tt >= boundaries[j]).astype(jnp.int32)
        return count
    # binary lifting: try to advance by each power of two, largest first (log2(n) fused gathers)
    step = 1 << (n.bit_length() - 1)
    while step:
        cand = count + step
        ok = (cand <= n) & (boundaries[jnp.minimum(cand, n) - 1] <= tt)
        count = jnp.where(ok, cand, count)
        step //= 2
    return count


def take(values: jax.Array, index: jax.Array) -> jax.Array:
    """`values[index]` along the first axis (index in range), without a gather for short tables."""
    n = values.shape[0]
    if n > UNROLL:
        if values.ndim == 1:
            return values[index]
        # one value per element of index (a table per step, as in a select of many schedules)
        shape = jnp.broadcast_shapes(index.shape, values.shape[1:])
        idx = jnp.broadcast_to(index, shape)[None]
        return jnp.take_along_axis(jnp.broadcast_to(values, (n, *shape)), idx, axis=0)[0]
    out = jnp.broadcast_to(values[0], jnp.broadcast_shapes(index.shape, values.shape[1:]))
    for j in range(1, n):
        out = jnp.where(index == j, values[j], out)
    return out
