"""An independent float64 / exact-integer reference for every schedule of `optax_lrs.available()`.

Written from the formulas of SPEC §3/§4, the docstrings and the optax/Keras/PyTorch/timm/seed sources,
one Python scalar at a time, never through `optax_lrs`. Steps are Python ints (or, inside a stretched
`repeat` cycle, real numbers); phases, cycle indices and restart starts are exact integers or
`Fraction`s (60-digit `Decimal`s for restart starts that cannot be integers), and only the final
formula is evaluated in float64. Restart multipliers (`t_mul`, `period_mult`) are read as the decimal
they were written as (1.7 is 17/10), as the library documents, also in the integer recurrence
`P <- ceil(P * mult)` of `cosine_annealing_warm_restarts`.

A schedule is described by a `Spec(name, kwargs)` whose kwargs may hold other Specs (the inner
schedules of composites); `reference(spec)` returns a `Ref`:

- `ref(t)` is the tuple of acceptable values at step t (negative steps read as 0), each an interval
  `(lo, hi)`. Almost always it is one point `(v, v)`. Two cases widen it:
  * a restart of `cosine_decay_restarts` / `repeat` that starts at a real, non-integer step closer
    to t than float32 can resolve (within `REAL_START_SLACK` relative) makes the values of both
    adjacent cycles acceptable (two alternatives). Integer restart starts are never ambiguous.
  * `repeat` with `period_mult != 1` reads its inner schedule at a real step that float32 only
    knows to `STEP_SLACK`·t·period/len: the inner value over that range is acceptable (an interval).
- `ref.events` are the steps where the schedule changes regime (boundaries, phase ends, restart
  starts, the end of a decay): the fuzz probes each of them and its two neighbours.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np

INT32_MAX = 2**31 - 1
# A real-valued restart start S is ambiguous for a step t with |t - S| <= REAL_START_SLACK * S:
# 64 float32 ulps of S, what a float32 evaluation of first * (m**i - 1) / (m - 1) may be off by.
REAL_START_SLACK = 2.0**-18
# The float32 position inside a stretched `repeat` cycle, t − start, is off by an ulp of t or so.
STEP_SLACK = 2.0**-22


@dataclasses.dataclass(frozen=True)
class Spec:
    """A schedule by its public name and constructor arguments (inner schedules as Specs)."""

    name: str
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"Spec({self.name!r}, {args})"


Interval = tuple[float, float]


class Ref:
    """A reference schedule: `ref(t)` -> tuple of acceptable (lo, hi) intervals; `ref.events`;
    `ref.mag`, the magnitude that float32 rounding inside the schedule is relative to: the largest
    |value| of a plain schedule (at 0, its events and 2**31 − 1), and for a composite the magnitude
    its pieces' rounding reaches the output with (a product of two schedules is off by ulps of the
    product of their magnitudes, even where the product itself is small)."""

    def __init__(
        self,
        values: Callable[[Any], tuple[Interval, ...]],
        events: Sequence[int] = (),
        mag: float | None = None,
    ):
        self._values = values
        self.events = sorted({int(e) for e in events})
        self._mag = mag

    def __call__(self, t) -> tuple[Interval, ...]:
        t = max(t, 0)
        return _dedup(self._values(t))

    @property
    def mag(self) -> float:
        if self._mag is None:
            steps = {0, 1, 2**24, INT32_MAX}
            steps |= {e + d for e in self.events for d in (-1, 0, 1) if 0 <= e + d <= INT32_MAX}
            values = [abs(x) for t in steps for iv in self(t) for x in iv if math.isfinite(x)]
            self._mag = max(values + [0.0])
        return self._mag


def _dedup(values) -> tuple[Interval, ...]:
    out = []
    for lo, hi in values:
        iv = (float(lo), float(hi))
        if iv not in out:
            out.append(iv)
    return tuple(out[:16])


def point(v) -> Interval:
    return (float(v), float(v))


def hull(intervals) -> Interval:
    intervals = list(intervals)
    return (min(lo for lo, _ in intervals), max(hi for _, hi in intervals))


def scalar(fn: Callable[[Any], float], events: Sequence[int] = ()) -> Ref:
    return Ref(lambda t: (point(fn(t)),), events)


def lift(op: Callable[..., float], *refs: Ref):
    """`op` of the refs' values, for an op monotone in each argument: every combination of the
    alternatives, each the hull of `op` at the corners of its intervals."""

    def values(t):
        out = []
        for combo in itertools.product(*(r(t) for r in refs)):
            corners = [op(*c) for c in itertools.product(*combo)]
            out.append((min(corners), max(corners)))
        return tuple(out)

    return values


def apply(op: Callable[[float], float], intervals) -> tuple[Interval, ...]:
    """A monotone op applied to each interval."""
    out = []
    for lo, hi in intervals:
        a, b = op(lo), op(hi)
        out.append((min(a, b), max(a, b)))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# numeric pieces


def fpow(x: float, p) -> float:
    """x ** p for x >= 0, p >= 0 with 0 ** 0 = 1; overflow is inf (float32 would overflow too)."""
    x, p = float(x), float(p)
    try:
        return x**p
    except OverflowError:
        return math.inf


def half_cos(lo, hi=None) -> float:
    """½(1 + cos(π·f)) for f = lo in [0, 1], with hi = 1 − f given exactly when known: accurate to
    float64 relative precision at both ends (cos² near 0, sin² of the remainder near 1)."""
    if hi is None:
        hi = Decimal(1) - lo if isinstance(lo, Decimal) else 1 - Fraction(lo)
    if float(lo) <= 0.5:
        return math.cos(math.pi / 2 * float(lo)) ** 2
    return math.sin(math.pi / 2 * float(hi)) ** 2


def frac(a, b) -> Fraction:
    """a / b exactly (ints, floats or Fractions)."""
    return Fraction(a) / Fraction(b)


def floor(x) -> int:
    return math.floor(Fraction(x))


def ceil(x) -> int:
    return math.ceil(Fraction(x))


# --------------------------------------------------------------------------------------------------
# 3a


def constant_schedule(value):
    return scalar(lambda t: value)


def step_decay(init_value, decay_rate, decay_steps, offset=0, end_value=None):
    # SPEC: init·rate^floor((t+offset)/decay_steps), floored at end_value; docstring: the exponent is
    # never negative.
    def f(t):
        k = max(floor(frac(Fraction(t) + offset, decay_steps)), 0)
        v = init_value * fpow(decay_rate, k)
        return v if end_value is None else max(v, end_value)

    # drops at t = k·decay_steps − offset for k >= 1 (and t >= 0)
    k0 = max(1, ceil(frac(offset, decay_steps)))
    ks = [k0, k0 + 1, k0 + 2] + [floor(frac(x + offset, decay_steps)) for x in (2**24, INT32_MAX)]
    events = [k * decay_steps - offset for k in ks]
    return scalar(f, events)


def multistep_decay(init_value, boundaries, decay_rate, end_value=None):
    bounds = [int(b) for b in boundaries]

    def f(t):
        v = init_value * fpow(decay_rate, sum(1 for b in bounds if b <= t))
        return v if end_value is None else max(v, end_value)

    return scalar(f, bounds)


def _items(boundaries_and_scales):
    if boundaries_and_scales is None:
        return []
    if isinstance(boundaries_and_scales, dict):
        items = boundaries_and_scales.items()
    else:
        items = [tuple(p) for p in boundaries_and_scales]
    return sorted((int(b), float(s)) for b, s in items)


def piecewise_constant_schedule(init_value, boundaries_and_scales=None):
    items = _items(boundaries_and_scales)

    def f(t):  # optax: indicator = max(0, sign(b - t)) is 0 from t = b on
        v = init_value
        for b, s in items:
            if t >= b:
                v = v * s
        return v

    return scalar(f, [b for b, _ in items])


def exponential_decay(
    init_value, transition_steps, decay_rate, transition_begin=0, staircase=False, end_value=None
):
    if transition_steps <= 0 or decay_rate == 0:  # optax's constant fallbacks
        return constant_schedule(init_value)
    begin = max(transition_begin, 0)

    def f(t):
        d = Fraction(t) - begin
        if d <= 0:
            v = init_value
        else:
            p = d / transition_steps
            v = init_value * fpow(decay_rate, floor(p) if staircase else p)
        if end_value is not None:
            v = max(v, end_value) if decay_rate < 1 else min(v, end_value)
        return v

    return scalar(f, [begin] + [begin + k * transition_steps for k in (1, 2)])


def _progress(t, steps):
    """(p, 1 − p) for p = min(t, steps) / steps, exact."""
    p = frac(min(Fraction(t), steps), steps)
    return p, 1 - p


def natural_exp_decay(init_value, decay_rate, decay_steps=1, staircase=False):
    def f(t):
        p = frac(t, decay_steps)
        return init_value * math.exp(-decay_rate * float(floor(p) if staircase else p))

    return scalar(f, [decay_steps, 2 * decay_steps])


def inverse_time_decay(init_value, decay_rate, decay_steps=1, staircase=False):
    def f(t):
        p = frac(t, decay_steps)
        return init_value / (1 + decay_rate * float(floor(p) if staircase else p))

    return scalar(f, [decay_steps, 2 * decay_steps])


def polynomial_schedule(init_value, end_value, power, transition_steps, transition_begin=0):
    if transition_steps <= 0:  # optax: a constant init_value
        return constant_schedule(init_value)
    begin = max(transition_begin, 0)

    def f(t):  # optax: c = clip(t − begin, 0, T); (init − end)·(1 − c/T)^power + end
        c = min(max(Fraction(t) - begin, 0), transition_steps)
        return (init_value - end_value) * fpow(1 - frac(c, transition_steps), power) + end_value

    return scalar(f, [begin, begin + transition_steps])


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    return polynomial_schedule(init_value, end_value, 1.0, transition_steps, transition_begin)


def polynomial_decay(init_value, decay_steps, end_value=0.0, power=1.0, cycle=False):
    # SPEC: (init−end)·(1−min(t,T)/T)^power + end; with cycle T = decay_steps·max(1, ceil(t/decay_steps))
    def f(t):
        if cycle:
            horizon = decay_steps * max(1, ceil(frac(t, decay_steps)))
            p = frac(t, horizon)
        else:
            p, _ = _progress(t, decay_steps)
        return (init_value - end_value) * fpow(1 - p, power) + end_value

    events = [decay_steps, 2 * decay_steps] if cycle else [decay_steps]
    if cycle:
        events += [decay_steps * (x // decay_steps) for x in (2**24, INT32_MAX)]
    return scalar(f, events)


def k_decay(init_value, decay_steps, end_value=0.0, k=1.0, power=1.0):
    # SPEC: (init−end)·(1 − t^k/T^k)^power + end for t <= T, then end
    def f(t):
        if t > decay_steps:
            return end_value
        ratio = fpow(float(frac(t, decay_steps)), k)
        return (init_value - end_value) * fpow(1 - ratio, power) + end_value

    return scalar(f, [decay_steps])


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0):
    # optax: init·((1 − alpha)·(½(1 + cos(π·min(t,T)/T)))^exponent + alpha)
    def f(t):
        p, q = _progress(t, decay_steps)
        return init_value * ((1 - alpha) * fpow(half_cos(p, q), exponent) + alpha)

    return scalar(f, [decay_steps])


def exponential_decay_with_burnin(
    init_value,
    decay_steps,
    decay_rate,
    burnin_value=0.0,
    burnin_steps=0,
    min_value=0.0,
    staircase=True,
):
    def f(t):
        if t < burnin_steps:
            v = init_value if burnin_value == 0 else burnin_value
        else:
            p = frac(Fraction(t) - burnin_steps, decay_steps)
            v = init_value * fpow(decay_rate, floor(p) if staircase else p)
        return max(v, min_value)

    return scalar(f, [burnin_steps, burnin_steps + decay_steps])


# --- restarts whose cycle i lasts first·mult^i steps (real lengths) ---------------------------------


def as_written(x) -> Fraction:
    """A restart multiplier as the decimal it was written as (the shortest repr of the float: 1.7
    means 17/10, not the binary 1.6999999999999999556), the reading the library documents for
    t_mul / period_mult."""
    return Fraction(str(np.float32(x)))  # the float32 the schedule holds, in its shortest digits


class Geometric:
    """Cycle i of length `first·mult^i` starting at S_i = first·(mult^i − 1)/(mult − 1) (S_i = first·i
    for mult = 1), mult as written (`as_written`). With mult = a/b in lowest terms, S_i is an integer
    iff b^(i−1) divides first; so starts are exact Fractions while b^(i−1) <= first (or b = 1), and
    60-digit Decimals, never integers, after that."""

    def __init__(self, first: int, mult: float):
        self.first = int(first)
        self.mult = as_written(mult)
        self._cache: dict[int, Any] = {}

    def exact(self, i: int) -> bool:
        b = self.mult.denominator
        if b == 1 or i <= 1:
            return True
        # b >= 2: b^(i−1) >= 2^(i−1) passes `first` long before the power gets expensive
        return i - 1 < self.first.bit_length() and b ** (i - 1) <= self.first

    def start(self, i: int):
        if i in self._cache:
            return self._cache[i]
        if self.mult == 1:
            s = self.first * i
        elif self.exact(i):
            s = self.first * (self.mult**i - 1) / (self.mult - 1)
        else:
            with localcontext() as ctx:
                ctx.prec = 60
                m = Decimal(self.mult.numerator) / Decimal(self.mult.denominator)
                s = Decimal(self.first) * (m**i - 1) / (m - 1)
        self._cache[i] = s
        return s

    def is_integer(self, i: int) -> bool:
        s = self.start(i)
        return not isinstance(s, Decimal) and Fraction(s).denominator == 1

    def index(self, t) -> int:
        """The last cycle whose start is <= t."""
        if self.mult == 1:
            return floor(frac(t, self.first))
        m = float(self.mult)
        i = int(math.log1p(float(t) / self.first * (m - 1)) / math.log(m)) if t > 0 else 0
        i = max(i, 0)
        while i > 0 and _cmp(self.start(i), t) > 0:
            i -= 1
        while _cmp(self.start(i + 1), t) <= 0:
            i += 1
        return i

    def position(self, i: int, t):
        """(fraction into cycle i, 1 − fraction), clipped to [0, 1], as floats accurate at both ends."""
        s0, s1 = self.start(i), self.start(i + 1)
        with localcontext() as ctx:
            ctx.prec = 60
            length = _dec(s1) - _dec(s0)
            lo = (_dec(t) - _dec(s0)) / length
            hi = (_dec(s1) - _dec(t)) / length
        lo, hi = min(max(lo, Decimal(0)), Decimal(1)), min(max(hi, Decimal(0)), Decimal(1))
        return lo, hi

    def candidates(self, t) -> list[int]:
        """The cycle of t, plus an adjacent one when a non-integer start is within float32 reach."""
        i = self.index(t)
        out = [i]
        for j, other in ((i, i - 1), (i + 1, i + 1)):
            if j <= 0 or self.is_integer(j):
                continue
            s = _dec(self.start(j))
            if abs(_dec(t) - s) <= Decimal(REAL_START_SLACK) * max(s, Decimal(1)):
                out.append(other)
        return out

    def restart_steps(self, limit: int = INT32_MAX, first_cycles: int = 40) -> list[int]:
        """Integer steps next to the starts of the first cycles and of the cycles around 2**24 and
        2**31 − 1 (floor and ceil of each start)."""
        cycles = set(range(1, first_cycles + 1))
        for x in (2**24, limit):
            i = self.index(x)
            cycles |= {i - 1, i, i + 1, i + 2}
        out = []
        for i in sorted(c for c in cycles if c >= 1):
            s = self.start(i)
            if _cmp(s, limit + 2) > 0:
                continue
            fl = int(_dec(s).to_integral_value(rounding="ROUND_FLOOR"))
            out += [fl, fl + 1] if not self.is_integer(i) else [fl]
        return out


def _dec(x) -> Decimal:
    if isinstance(x, Decimal):
        return x
    x = Fraction(x)
    with localcontext() as ctx:
        ctx.prec = 60
        return Decimal(x.numerator) / Decimal(x.denominator)


def _cmp(a, b) -> int:
    if not isinstance(a, Decimal) and not isinstance(b, Decimal):
        a, b = Fraction(a), Fraction(b)
        return (a > b) - (a < b)
    a, b = _dec(a), _dec(b)
    return (a > b) - (a < b)


def cosine_decay_restarts(init_value, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    cyc = Geometric(first_decay_steps, t_mul)

    def values(t):
        out = []
        for i in cyc.candidates(t):
            lo, hi = cyc.position(i, t)
            hc = half_cos(lo, hi)
            out.append(point(init_value * ((1 - alpha) * fpow(m_mul, i) * hc + alpha)))
        return tuple(out)

    return Ref(values, cyc.restart_steps())


# Periods follow P <- ceil(P * mult) with period_mult read as written (exact decimal arithmetic), as
# the library documents; the seed's float64 loop differs only where float64 rounds a product up past
# an integer (10 · 1.1 = 11.000000000000002 there: a 12-unit cycle), which tests/test_exactness.py
# checks against the seed's own loop.


def cosine_annealing_warm_restarts(
    max_value, first_period, period_mult=1.0, min_value=0.0, decay=1.0, steps_per_period_unit=1
):
    unit, mult = int(steps_per_period_unit), float(period_mult)
    starts, periods = [0], [int(first_period)]
    limit = INT32_MAX // unit + 2
    if mult != 1:
        while starts[-1] <= limit:
            starts.append(starts[-1] + periods[-1])
            periods.append(math.ceil(periods[-1] * as_written(mult)))

    def locate(u):
        if mult == 1:
            i = u // periods[0]
            return i, i * periods[0], periods[0]
        i = bisect.bisect_right(starts, u) - 1
        return i, starts[i], periods[i]

    def f(t):
        t = Fraction(t)
        i, start, period = locate(floor(t / unit))
        lo = (t - start * unit) / (period * unit)
        return min_value + (max_value * fpow(decay, i) - min_value) * half_cos(lo)

    if mult == 1:
        n = [1, 2, 3, INT32_MAX // (unit * periods[0]), 2**24 // (unit * periods[0])]
        events = [k * periods[0] * unit for k in n] + [(k + 1) * periods[0] * unit for k in n]
    else:
        idx = set(range(min(len(starts), 40)))
        for x in (2**24, INT32_MAX):
            i = bisect.bisect_right(starts, x // unit) - 1
            idx |= {i - 1, i, i + 1, i + 2}
        events = [starts[i] * unit for i in idx if 0 <= i < len(starts)]
    return scalar(f, events)


def _join(refs: Sequence[Ref], boundaries: Sequence[int]) -> Ref:
    """optax join: piece k (the last with b_k <= t) sees t − b_k."""
    starts = [0] + [int(b) for b in boundaries]

    def values(t):
        k = bisect.bisect_right(starts, t) - 1
        return refs[k](t - starts[k])

    events = list(starts[1:])
    for k, r in enumerate(refs):
        end = starts[k + 1] if k + 1 < len(starts) else math.inf
        events += [starts[k] + e for e in r.events if starts[k] + e < end]
    return Ref(values, events, mag=max(r.mag for r in refs))


def sgdr_schedule(cosine_kwargs):
    cycles = [dict(k) for k in cosine_kwargs]
    bounds = list(itertools.accumulate(int(c["decay_steps"]) for c in cycles))[:-1]
    return _join([warmup_cosine_decay_schedule(**c) for c in cycles], bounds)


def warmup_cosine_decay_schedule(
    init_value, peak_value, warmup_steps, decay_steps, end_value=0.0, exponent=1.0
):
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    return _join(
        [
            linear_schedule(init_value, peak_value, warmup_steps),
            cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent),
        ],
        [warmup_steps],
    )


def warmup_hold_cosine_decay(
    peak_value, total_steps, init_value=0.0, warmup_steps=0, hold_steps=0, end_value=0.0
):
    w, h, total = warmup_steps, hold_steps, total_steps

    def f(t):
        if t >= total:
            return end_value
        if t < w:
            return init_value + (peak_value - init_value) * float(frac(t, w))
        if t <= w + h:
            return peak_value
        lo = frac(Fraction(t) - w - h, total - w - h)
        return end_value + (peak_value - end_value) * half_cos(lo)

    return scalar(f, [w, w + h, total])


def warmup_constant_schedule(init_value, peak_value, warmup_steps):
    return linear_schedule(init_value, peak_value, warmup_steps)


def warmup_exponential_decay_schedule(
    init_value,
    peak_value,
    warmup_steps,
    transition_steps,
    decay_rate,
    transition_begin=0,
    staircase=False,
    end_value=None,
):
    return _join(
        [
            linear_schedule(init_value, peak_value, warmup_steps),
            exponential_decay(
                peak_value, transition_steps, decay_rate, transition_begin, staircase, end_value
            ),
        ],
        [warmup_steps],
    )


def _piecewise_interpolate(kind, init_value, items):
    """optax: values init·cumprod(scales) at bounds [0, b_1, ...]; interpolate inside [b_k, b_k+1)
    with pct = (t − b_k)/max(b_k+1 − b_k, 1); the last value from the last bound on."""
    bounds = [0] + [b for b, _ in items]
    vals = [float(init_value)]
    for _, s in items:
        vals.append(vals[-1] * s)

    def f(t):
        for k in range(len(bounds) - 1):
            if bounds[k] <= t < bounds[k + 1]:
                pct = frac(Fraction(t) - bounds[k], max(bounds[k + 1] - bounds[k], 1))
                a, b = vals[k], vals[k + 1]
                if kind == "linear":
                    return (b - a) * float(pct) + a
                return b + (a - b) * half_cos(pct)
        return vals[-1]

    return scalar(f, bounds[1:])


def piecewise_interpolate_schedule(interpolate_type, init_value, boundaries_and_scales=None):
    return _piecewise_interpolate(interpolate_type, init_value, _items(boundaries_and_scales))


def linear_onecycle_schedule(
    transition_steps, peak_value, pct_start=0.3, pct_final=0.85, div_factor=25.0, final_div_factor=1e4
):
    # optax builds a dict literal: a later equal key overwrites an earlier one's scale.
    table = {
        int(pct_start * transition_steps): div_factor,
        int(pct_final * transition_steps): 1.0 / div_factor,
        transition_steps: 1.0 / final_div_factor,
    }
    return _piecewise_interpolate("linear", peak_value / div_factor, sorted(table.items()))


def cosine_onecycle_schedule(
    transition_steps, peak_value, pct_start=0.3, div_factor=25.0, final_div_factor=1e4
):
    table = {
        int(pct_start * transition_steps): div_factor,
        int(transition_steps): 1.0 / (div_factor * final_div_factor),
    }
    return _piecewise_interpolate("cosine", peak_value / div_factor, sorted(table.items()))


def transformer_schedule(d_model, warmup_steps=4000, scale=1.0):
    def f(t):
        if t == 0:
            return 0.0
        t = float(t)
        return scale * d_model**-0.5 * min(t**-0.5, t * warmup_steps**-1.5)

    return scalar(f, [warmup_steps])


def warmup(schedule, warmup_steps, init_value=0.0, mode="linear", shift=True):
    inner: Ref = schedule
    w = warmup_steps

    def values(t):
        if t >= w:
            return inner(t - w if shift else t)
        p = frac(t, w)
        if mode == "scale":
            return apply(lambda v: v * float(p), inner(t))
        if mode == "constant":
            return (point(init_value),)
        target = inner(0 if shift else w)
        if mode == "linear":
            return apply(lambda v: init_value + (v - init_value) * float(p), target)
        if mode == "cosine":
            return apply(lambda v: init_value + (v - init_value) * (1 - half_cos(p)), target)
        return apply(lambda v: init_value * fpow(max(v, 0.0) / init_value, p), target)  # exponential

    events = [w] + [e + w for e in inner.events] if shift else [w] + list(inner.events)
    return Ref(values, events, mag=max(inner.mag, abs(init_value)))


# --------------------------------------------------------------------------------------------------
# 3b


def cyclic_schedule(base_value, max_value, step_size_up, step_size_down=None, mode="triangular", gamma=1.0):
    # torch CyclicLR: cycle = floor(1 + t/total); x = 1 + t/total − cycle; scale = x/ratio or
    # (x−1)/(ratio−1); triangular2 halves per cycle; exp_range multiplies by gamma^t.
    up = int(step_size_up)
    down = up if step_size_down is None else int(step_size_down)
    total = up + down

    def f(t):
        t = Fraction(t)
        cycle = floor(t / total)
        pos = t - cycle * total
        factor = frac(pos, up) if pos <= up else frac(total - pos, down)
        height = (max_value - base_value) * float(factor)
        if mode == "triangular2":
            height = height * fpow(0.5, cycle)
        elif mode == "exp_range":
            height = height * fpow(gamma, t)
        return base_value + height

    events = []
    for k in [0, 1, 2, 2**24 // total, INT32_MAX // total]:
        events += [k * total, k * total + up]
    return scalar(f, events)


def one_cycle_schedule(
    max_value,
    total_steps,
    pct_start=0.3,
    anneal="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
):
    # torch OneCycleLR._schedule_phases / get_lr (float end steps); past T − 1 hold the minimum.
    initial = max_value / div_factor
    low = initial / final_div_factor
    values = [initial, max_value, initial, low] if three_phase else [initial, max_value, low]
    return _one_cycle(total_steps, pct_start, anneal, three_phase, values)


def one_cycle_momentum(
    total_steps, pct_start=0.3, anneal="cos", base_momentum=0.85, max_momentum=0.95, three_phase=False
):
    # torch OneCycleLR(cycle_momentum=True): momentum max -> base while the lr rises, base -> max
    # while it falls (three phases: then it stays at max)
    if three_phase:
        values = [max_momentum, base_momentum, max_momentum, max_momentum]
    else:
        values = [max_momentum, base_momentum, max_momentum]
    return _one_cycle(total_steps, pct_start, anneal, three_phase, values)


def cyclic_momentum(
    step_size_up, step_size_down=None, base_momentum=0.8, max_momentum=0.9, mode="triangular", gamma=1.0
):
    # torch CyclicLR(cycle_momentum=True): momentum = max_m − (max_m − base_m)·factor·scale, the lr's
    # formula with the two ends exchanged
    return cyclic_schedule(max_momentum, base_momentum, step_size_up, step_size_down, mode, gamma)


def _one_cycle(total_steps, pct_start, anneal, three_phase, values):
    total = float(total_steps)
    if three_phase:
        ends = [float(pct_start * total) - 1, float(2 * pct_start * total) - 2, total - 1]
    else:
        ends = [float(pct_start * total) - 1, total - 1]
    phases = [(e, a, b) for e, a, b in zip(ends, values[:-1], values[1:])]

    def interp(a, b, pct):
        if anneal == "cos":  # torch: end + (start − end)/2·(cos(π·pct) + 1)
            return b + (a - b) * half_cos(pct)
        return (b - a) * float(pct) + a

    def f(t):
        start = 0.0
        for i, (end, a, b) in enumerate(phases):
            if t <= end or i == len(phases) - 1:
                pct = min(max(frac(t - Fraction(start), Fraction(end) - Fraction(start)), 0), 1)
                return interp(a, b, pct)
            start = end
        raise AssertionError

    events = [math.floor(e) for e, _, _ in phases] + [math.ceil(e) for e, _, _ in phases]
    return scalar(f, events)


_WSD_SHAPES = {
    "linear": lambda p, q: float(q),
    "cosine": lambda p, q: half_cos(p, q),
    "1-sqrt": lambda p, q: 1 - math.sqrt(p),
    "square": lambda p, q: float(1 - p * p),
    "sqrt": lambda p, q: math.sqrt(q),
}


def wsd_schedule(
    peak_value,
    warmup_steps,
    stable_steps,
    decay_steps,
    init_value=0.0,
    end_value=0.0,
    decay_shape="linear",
):
    w, s, d = warmup_steps, stable_steps, decay_steps
    shape = _WSD_SHAPES[decay_shape]

    def f(t):
        if t >= w + s + d:
            return end_value
        if t < w:
            return init_value + (peak_value - init_value) * float(frac(t, w))
        if t < w + s:
            return peak_value
        p, q = _progress(Fraction(t) - w - s, d)
        return end_value + (peak_value - end_value) * shape(p, q)

    return scalar(f, [w, w + s, w + s + d])


def inverse_sqrt_schedule(peak_value, warmup_steps, timescale=None):
    w = warmup_steps
    if timescale is None:
        timescale = w if w > 0 else 10_000

    def f(t):
        if t < w:
            return peak_value * float(frac(t, w))
        return peak_value * math.sqrt(float(frac(timescale, Fraction(t) + timescale - w)))

    return scalar(f, [w, 10**8])


def tanh_decay(init_value, decay_steps, end_value=0.0, lower=-7.0, upper=3.0):
    # timm TanhLRScheduler (cycle_limit 1): cycle i = t // T; from t = T on, i >= 1 gives lr_min.
    def f(t):
        if t >= decay_steps:
            return end_value
        x = lower + (upper - lower) * float(frac(t, decay_steps))
        return end_value + 0.5 * (init_value - end_value) * (1 - math.tanh(x))

    return scalar(f, [decay_steps])


def tri_stage_schedule(peak_value, warmup_steps, hold_steps, decay_steps, init_scale=0.01, final_scale=0.01):
    w, h, d = warmup_steps, hold_steps, decay_steps
    init = init_scale * peak_value

    def f(t):
        if t < w:
            return init + (peak_value - init) * float(frac(t, w))
        if t < w + h:
            return peak_value
        p, _ = _progress(Fraction(t) - w - h, d)
        return peak_value * fpow(final_scale, p)

    return scalar(f, [w, w + h, w + h + d])


# --------------------------------------------------------------------------------------------------
# §4 composition


def join_schedules(schedules, boundaries):
    return _join(list(schedules), boundaries)


_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "min": min,
    "max": max,
}


_MAGS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,  # right is a positive constant: its magnitude is its value
    "min": max,
    "max": max,
}


def binary(op, left, right):
    return Ref(lift(_OPS[op], left, right), left.events + right.events, mag=_MAGS[op](left.mag, right.mag))


def select(schedules, index):
    chosen = schedules[int(index)]
    return Ref(chosen, chosen.events, mag=max(r.mag for r in schedules))


def clip(schedule, min_value=None, max_value=None):
    def op(v):
        if min_value is not None:
            v = max(v, min_value)
        if max_value is not None:
            v = min(v, max_value)
        return v

    bounds = [abs(b) for b in (min_value, max_value) if b is not None]
    return Ref(lift(op, schedule), schedule.events, mag=max([schedule.mag] + bounds))


def shift(schedule, steps):
    # s(max(t − steps, 0)); a negative shift can read the inner schedule past int32: the value there,
    # or (int32 saturation) at 2**31 − 1, is accepted.
    def values(t):
        inner = max(t - steps, 0)
        out = schedule(inner)
        if inner > INT32_MAX:
            out = out + schedule(INT32_MAX)
        return out

    return Ref(values, [steps] + [e + steps for e in schedule.events], mag=schedule.mag)


def per_epoch(schedule, steps_per_epoch, ticks=1):
    # s(floor(t · ticks / steps_per_epoch)): epochs of steps_per_epoch/ticks steps; an epoch index past
    # int32 (ticks > steps_per_epoch) saturates: the value at 2**31 − 1 is accepted there too
    def values(t):
        epoch = floor(frac(Fraction(t) * ticks, steps_per_epoch))
        out = schedule(epoch)
        if epoch > INT32_MAX:
            out = out + schedule(INT32_MAX)
        return out

    # epoch e starts at step ceil(e · steps_per_epoch / ticks)
    starts = [frac(e * steps_per_epoch, ticks) for e in [1, 2, 3] + list(schedule.events)]
    events = [f(x) for x in starts for f in (floor, ceil)]
    return Ref(values, events, mag=schedule.mag)


def staircase(schedule, every):
    def values(t):
        return schedule(every * floor(frac(t, every)))

    events = [every] + [every * ceil(frac(e, every)) for e in schedule.events]
    return Ref(values, events, mag=schedule.mag)


def repeat(schedule, period, period_mult=1.0, decay=1.0, ticks=1):
    # The cycles count ticks, `ticks` per step: u = t · ticks; cycle i starts at tick S_i, i.e. at
    # step S_i / ticks (a Fraction: period/ticks · i for equal cycles). Equal cycles are exact integer
    # arithmetic for every int32 step; growing cycles read u saturated at 2**31 − 1.
    cyc = Geometric(period, period_mult)

    def values(t):
        u = Fraction(t) * ticks if period_mult == 1 else min(Fraction(t) * ticks, INT32_MAX)
        out = []
        for i in cyc.candidates(u):
            scale = fpow(decay, i)
            if period_mult == 1:
                inner = schedule(u - cyc.start(i))
            else:
                lo, _ = cyc.position(i, u)
                x = float(lo) * period  # the cycle's first `period` ticks, stretched
                length = float(_dec(cyc.start(i + 1)) - _dec(cyc.start(i)))
                slack = STEP_SLACK * (max(float(u), 1.0) * period / length + x)
                xs = [max(x - slack, 0.0), x, min(x + slack, float(period))]
                inner = (hull(iv for y in xs for iv in schedule(y)),)
            out += apply(lambda v, scale=scale: scale * v, inner)
        return tuple(out)

    # restarts (integer ticks next to each start) and the inner's own events in cycle 0, as steps
    limit = INT32_MAX * ticks if period_mult == 1 else INT32_MAX
    ticks_near = cyc.restart_steps(limit) + [e for e in schedule.events if e < period]
    events = [f(frac(u, ticks)) for u in ticks_near for f in (floor, ceil)]
    return Ref(values, [e for e in events if e <= INT32_MAX], mag=schedule.mag)


# time_warp reads its inner at T·(t/T)^k, computed in float32 from t/T: that reading is off by a few
# ulps, more where the power amplifies the rounding of t/T (k·|ln(t/T)| of them)
def time_warp(schedule, steps, k):
    def values(t):
        if t >= steps:
            return schedule(t)
        if t <= 0:
            return schedule(0)
        p = frac(t, steps)
        x = steps * fpow(p, k)
        slack = STEP_SLACK * x * (2 + k * (1 + abs(math.log(p))))
        xs = [max(x - slack, 0.0), x, min(x + slack, float(steps))]
        return (hull(iv for y in xs for iv in schedule(y)),)

    # the inner's events e < T are reached at t = T·(e/T)^(1/k)
    events = [steps]
    for e in schedule.events:
        if e >= steps:
            events.append(e)
        elif e > 0:
            x = steps * (e / steps) ** (1 / k)
            events += [math.floor(x), math.ceil(x)]
    return Ref(values, events, mag=schedule.mag)


# The product of n float32 factors, each rounded to half an ulp (and the double-word scan's own error,
# ~2**-40 relative): the reference product widened by n·eps(float32) relative.
F32_EPS = 2.0**-23


def cumulative_product(schedule, length):
    # prefix products of the factors' interval hulls (factors must be >= 0: the products of the lower
    # and the upper ends are then the product's bounds)
    lo, hi = [1.0], [1.0]
    for j in range(1, length + 1):
        a, b = hull(schedule(j))
        if a < 0:
            raise ValueError(f"cumulative_product reference: a negative factor at step {j}: {a}")
        lo.append(lo[-1] * a)
        hi.append(hi[-1] * b)

    def values(t):
        n = min(floor(t), length)
        widen = n * F32_EPS
        return ((lo[n] * (1 - widen), hi[n] * (1 + widen)),)

    events = [1, 2, length // 2, length]
    return Ref(values, events, mag=max(hi))


def swa_schedule(schedule, swa_start, swa_value, anneal_steps, anneal="cos"):
    # torch SWALR in the loop `if epoch >= swa_start: swa_scheduler.step() else: scheduler.step()`:
    # its k-th step() sets swa_value·α(k/A) + L·(1 − α(k/A)), L = the lr at swa_start, α(p) =
    # (1 − cos(π·p))/2 or p, k/A clipped to 1 (A = 0 reads as 1)
    steps = max(anneal_steps, 1)

    def values(t):
        if t <= swa_start:
            return schedule(t)
        p, q = _progress(Fraction(t) - swa_start, steps)
        keep = half_cos(p, q) if anneal == "cos" else float(q)  # the weight of L
        return apply(lambda lr: swa_value * (1 - keep) + lr * keep, schedule(swa_start))

    events = [swa_start, swa_start + steps] + [e for e in schedule.events if e <= swa_start]
    return Ref(values, events, mag=max(schedule.mag, abs(swa_value)))


def ema_warmup(gamma=1.0, power=0.75, max_decay=0.9999):
    # timm ModelEmaV3.get_decay(t + 1) with use_warmup (update_after_step 0, min_decay 0):
    # 1 − (1 + t/gamma)^−power, at most max_decay
    def f(t):
        return min(max_decay, -math.expm1(-power * math.log1p(float(frac(t, gamma)))))

    events = []
    if power > 0 and max_decay < 1:
        # where the warmup reaches max_decay: (1 + t/gamma)^−power = 1 − max_decay
        try:
            reach = gamma * ((1 - max_decay) ** (-1 / power) - 1)
        except OverflowError:
            reach = math.inf
        if reach < INT32_MAX:
            events = [math.floor(reach), math.ceil(reach)]
    return scalar(f, events)


# user functions for from_fn: the NumPy/Python formulas of the jnp functions in test_fuzz.py
USER_FNS: dict[str, Callable[..., float]] = {
    "damped": lambda t, lr, k: lr / (1.0 + k * math.sqrt(t)),
    "power_law": lambda t, lr, k: lr * (1.0 + t) ** (-k),
    # a MultiplicativeLR-style factor for cumulative_product: in (0, 1] for t >= 1, lr <= 1, k >= 0
    "lambda_factor": lambda t, lr, k: 1.0 - lr / (t + 1.0 + k),
}


def from_fn(fn, **hyperparams):
    f = USER_FNS[fn]
    return scalar(lambda t: f(float(t), **hyperparams))


# --------------------------------------------------------------------------------------------------

_CHILDREN = ("schedule", "left", "right")


def reference(spec: Spec) -> Ref:
    """The reference of a Spec (inner Specs first; numbers in left/right are constants)."""
    kwargs = dict(spec.kwargs)
    for key in _CHILDREN:
        if key in kwargs:
            v = kwargs[key]
            kwargs[key] = reference(v) if isinstance(v, Spec) else constant_schedule(v)
    if "schedules" in kwargs:
        kwargs["schedules"] = [reference(s) for s in kwargs["schedules"]]
    return globals()[spec.name](**kwargs)


NAMES = sorted(
    [
        "binary",
        "clip",
        "constant_schedule",
        "cosine_annealing_warm_restarts",
        "cosine_decay_restarts",
        "cosine_decay_schedule",
        "cosine_onecycle_schedule",
        "cumulative_product",
        "cyclic_momentum",
        "cyclic_schedule",
        "ema_warmup",
        "exponential_decay",
        "exponential_decay_with_burnin",
        "from_fn",
        "inverse_sqrt_schedule",
        "inverse_time_decay",
        "join_schedules",
        "k_decay",
        "linear_onecycle_schedule",
        "linear_schedule",
        "multistep_decay",
        "natural_exp_decay",
        "one_cycle_momentum",
        "one_cycle_schedule",
        "per_epoch",
        "piecewise_constant_schedule",
        "piecewise_interpolate_schedule",
        "polynomial_decay",
        "polynomial_schedule",
        "repeat",
        "select",
        "sgdr_schedule",
        "shift",
        "staircase",
        "step_decay",
        "swa_schedule",
        "tanh_decay",
        "transformer_schedule",
        "time_warp",
        "tri_stage_schedule",
        "warmup",
        "warmup_constant_schedule",
        "warmup_cosine_decay_schedule",
        "warmup_exponential_decay_schedule",
        "warmup_hold_cosine_decay",
        "wsd_schedule",
    ]
)
