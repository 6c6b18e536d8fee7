"""Property fuzz over every registered schedule (hypothesis), against the float64 reference of
`reference64.py`.

For each drawn schedule it probes the steps {0, 1, 2, every boundary / phase end / restart start and
its neighbours (from the reference), 2**24 − 1, 2**24, 2**24 + 1, 2**31 − 2, 2**31 − 1, a few
negative steps} and checks:

- values: finite, float32, equal to the float64 reference within float32 rounding
  (|ours − ref| <= 1e-5·|ref| + 1e-6·scale, scale = the largest |ref| on the probes, or the
  magnitude rounding inside the schedule is relative to (`Ref.mag`) when larger; optax's own
  value is shown next to a mismatch of a drop-in), and eager (Python int) ==
  `jax.jit(lambda t: s(t))(jnp.int32(t))` == vector `s(int32 array)` to that same tolerance;
- step dtypes: int8/int16/uint8/uint16 (where the step fits), int32, uint32, int64 and float64 (NumPy,
  canonicalised), float16/bfloat16/float32 (steps they represent exactly) give the int32 values;
- vmap: `jax.vmap(lambda v: get(name, **{**kw, p: v})(steps))(values)` equals the loop over values,
  for every numeric hyperparameter p (integer ones, boundaries and nested cycle arguments included);
- grads: `jax.grad` w.r.t. every float hyperparameter (through the constructor) and every float leaf
  of the schedule pytree is finite at every probe step, boundaries included.

`EDGE_CASES` run every property on fixed corners (integer restarts past 2**24, int32 sums of step
counts, 0 ** 0 gradients, optax's one-cycle with equal boundaries, float16 steps, ...) whatever
hypothesis draws.

Default mode is bounded for CI (a few derandomized examples per schedule and property, ~2-3 min on
2 cores). `pytest tests/test_fuzz.py --fuzz-long` or `OPTAX_LRS_FUZZ_LONG=1` runs many more.

Each property collects every failing example instead of stopping at the first, keeps the shortest
reproducer per kind of failure, fails the test with all of them, and appends the new ones to
`FINDINGS_PATH` (/tmp/fuzz_findings.md by default; `OPTAX_LRS_FUZZ_FINDINGS` to change it).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import optax
import pytest
import reference64 as R
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from padding import padded
from reference64 import INT32_MAX, Spec

import optax_lrs as o

LONG_ENV = os.environ.get("OPTAX_LRS_FUZZ_LONG", "") not in ("", "0")
FINDINGS_PATH = os.environ.get("OPTAX_LRS_FUZZ_FINDINGS", "/tmp/fuzz_findings.md")
# examples per (schedule, property): default (CI) and long mode
EXAMPLES = {"values": (2, 25), "dtypes": (1, 8), "vmap": (1, 8), "grads": (1, 10)}

REF_RTOL, REF_ATOL = 1e-5, 1e-6  # vs the float64 reference: float32 rounding of a short formula

PAD = 128  # probe vectors are padded to a fixed length so compiled programs are reused
MAX_PROBES = 110


def long_mode(config) -> bool:
    return LONG_ENV or bool(config.getoption("--fuzz-long", default=False))


# --------------------------------------------------------------------------------------------------
# user functions for from_fn (their float64 formulas are reference64.USER_FNS)


def damped(t, lr, k):
    t = jnp.asarray(t, jnp.float32)
    return lr / (1.0 + k * jnp.sqrt(t))


def power_law(t, lr, k):
    t = jnp.asarray(t, jnp.float32)
    return lr * (1.0 + t) ** (-k)


def lambda_factor(t, lr, k):
    """A MultiplicativeLR-style factor, 1 − lr/(t + 1 + k), for cumulative_product."""
    t = jnp.asarray(t, jnp.float32)
    return 1.0 - lr / (t + 1.0 + k)


USER_FNS = {"damped": damped, "power_law": power_law, "lambda_factor": lambda_factor}


# --------------------------------------------------------------------------------------------------
# specs -> schedules, reproducer code, hyperparameter paths


def build(spec: Spec) -> o.Schedule:
    kwargs = {}
    for k, v in spec.kwargs.items():
        if isinstance(v, Spec):
            v = build(v)
        elif k == "schedules":
            v = [build(s) for s in v]
        elif k == "fn":
            v = USER_FNS[v]
        kwargs[k] = v
    return o.get(spec.name, **kwargs)


def code(spec: Spec) -> str:
    args = []
    for k, v in spec.kwargs.items():
        if isinstance(v, Spec):
            s = code(v)
        elif k == "schedules":
            s = "[" + ", ".join(code(x) for x in v) + "]"
        elif k == "fn":
            s = f"test_fuzz.{v}"
        else:
            s = repr(v)
        args.append(f"{k}={s}")
    return f"o.get({spec.name!r}, {', '.join(args)})"


def get_at(obj, path):
    for key in path:
        obj = obj[key]
    return obj


def set_at(spec: Spec, path, value) -> Spec:
    """The spec with the hyperparameter at `path` replaced (containers rebuilt, never deep-copied,
    so `value` may be a tracer)."""

    def put(container, keys):
        key, rest = keys[0], keys[1:]
        new = dict(container) if isinstance(container, dict) else list(container)
        new[key] = value if not rest else put(container[key], rest)
        return new

    return Spec(spec.name, put(spec.kwargs, path))


def numeric_paths(spec: Spec) -> list[tuple]:
    """Paths of the numeric constructor arguments: numbers, boundary lists and the numbers of sgdr's
    cycle dicts (not inner schedules, not the `{step: scale}` dicts, which are not numbers)."""

    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    out = []
    for k, v in spec.kwargs.items():
        # not numbers, or (cumulative_product's `length`, an array shape) static
        if k in ("fn", "op", "mode", "anneal", "decay_shape", "interpolate_type", "length"):
            continue
        if is_num(v):
            out.append((k,))
        elif k == "boundaries" and len(v) > 0:
            out.append((k,))
        elif k == "cosine_kwargs":
            out += [(k, i, kk) for i, d in enumerate(v) for kk, vv in d.items() if is_num(vv)]
    return out


def is_float_path(spec, path) -> bool:
    return isinstance(get_at(spec.kwargs, path), float)


# --------------------------------------------------------------------------------------------------
# strategies: valid hyperparameters for every registered name


def f32(lo, hi):
    """float32-exact floats in [lo, hi] (hyperparameters are float32 leaves: drawing them exact keeps
    the float64 reference on the very same numbers)."""
    lo32, hi32 = np.float32(lo), np.float32(hi)
    if lo32 < lo:
        lo32 = np.nextafter(lo32, np.float32(np.inf))
    if hi32 > hi:
        hi32 = np.nextafter(hi32, np.float32(-np.inf))
    if lo32 >= hi32:
        return st.just(float(lo32))
    return st.floats(float(lo32), float(hi32), width=32, allow_nan=False, allow_infinity=False).map(float)


def ints(lo, hi):
    """Small, medium and (up to 2**30) large integers."""
    return st.one_of(
        st.integers(lo, min(hi, lo + 60)), st.integers(lo, min(hi, max(lo, 100_000))), st.integers(lo, hi)
    )


BIG = 2**30
VALUE = st.one_of(st.just(1.0), f32(1e-3, 10.0))
UNIT = st.one_of(st.just(0.0), st.just(1.0), f32(0.0, 1.0))
RATE = st.one_of(st.just(1.0), f32(1e-3, 1.0))  # decay rates in (0, 1]
# t_mul / period_mult in [1, 4], as decimals of <= 6 significant digits (the library reads a
# multiplier as the decimal it was written as; float32 round-trips these): exact 1, integers and
# dyadics, 1.1 and 1.7 (decimal products that land on integers), near 1, anything.
MULT = st.one_of(
    st.just(1.0),
    st.sampled_from([2.0, 1.5, 3.0, 1.25, 4.0, 1.1, 1.7]),
    st.integers(1, 1000).map(lambda k: (10**5 + k) / 10**5),
    st.integers(10**5, 4 * 10**5).map(lambda k: k / 10**5),
)
POWER = st.one_of(st.just(1.0), st.just(2.0), f32(0.0, 4.0))
EXPONENT = st.one_of(st.just(1.0), f32(0.05, 1.0), f32(0.0, 4.0))


def optional(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def below(draw, hi, lo=0.0):
    return draw(st.one_of(st.just(lo), f32(lo, hi))) if hi > lo else lo


@st.composite
def s_constant(draw):
    return Spec("constant_schedule", dict(value=draw(f32(-10.0, 10.0))))


@st.composite
def s_step_decay(draw):
    init = draw(VALUE)
    offset = draw(st.one_of(st.just(0), st.just(1), ints(0, INT32_MAX), st.integers(-1000, -1)))
    return Spec(
        "step_decay",
        dict(
            init_value=init,
            decay_rate=draw(RATE),
            decay_steps=draw(ints(1, BIG)),
            offset=offset,
            end_value=draw(optional(below(init))),
        ),
    )


@st.composite
def s_multistep(draw):
    init = draw(VALUE)
    bounds = sorted(draw(st.lists(ints(0, BIG), max_size=6)))
    if bounds and draw(st.booleans()):
        bounds = sorted(bounds + [bounds[0]])  # an equal pair
    return Spec(
        "multistep_decay",
        dict(
            init_value=init,
            boundaries=bounds,
            decay_rate=draw(RATE),
            end_value=draw(optional(below(init))),
        ),
    )


def _table(draw, max_size=5, scale_hi=3.0):
    keys = draw(st.lists(ints(0, BIG), max_size=max_size, unique=True))
    return {k: draw(st.one_of(st.just(0.0), f32(0.0, scale_hi))) for k in sorted(keys)}


@st.composite
def s_piecewise_constant(draw):
    return Spec(
        "piecewise_constant_schedule", dict(init_value=draw(VALUE), boundaries_and_scales=_table(draw))
    )


@st.composite
def s_piecewise_interpolate(draw):
    return Spec(
        "piecewise_interpolate_schedule",
        dict(
            interpolate_type=draw(st.sampled_from(["linear", "cosine"])),
            init_value=draw(VALUE),
            boundaries_and_scales=_table(draw),
        ),
    )


def _exponential_args(draw, init):
    """decay_rate in [0, 1] (0 is optax's constant fallback), or growth capped by end_value."""
    kind = draw(st.sampled_from(["decay", "decay", "zero", "growth"]))
    if kind == "growth":
        rate = draw(f32(1.0, 2.0))
        end = draw(f32(init, 10 * init))
    else:
        rate = 0.0 if kind == "zero" else draw(RATE)
        end = draw(optional(below(init)))
    return dict(
        transition_steps=draw(st.one_of(ints(1, BIG), st.integers(-3, 0))),
        decay_rate=rate,
        transition_begin=draw(st.one_of(st.just(0), ints(0, BIG), st.integers(-100, -1))),
        staircase=draw(st.booleans()),
        end_value=end,
    )


@st.composite
def s_exponential(draw):
    init = draw(VALUE)
    return Spec("exponential_decay", dict(init_value=init, **_exponential_args(draw, init)))


@st.composite
def s_warmup_exponential(draw):
    peak = draw(VALUE)
    return Spec(
        "warmup_exponential_decay_schedule",
        dict(
            init_value=draw(below(peak)),
            peak_value=peak,
            warmup_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            **_exponential_args(draw, peak),
        ),
    )


def _natural(name):
    @st.composite
    def strategy(draw):
        return Spec(
            name,
            dict(
                init_value=draw(VALUE),
                decay_rate=draw(st.one_of(st.just(0.0), f32(0.0, 5.0), f32(0.0, 1e-6))),
                decay_steps=draw(st.one_of(st.just(1), ints(1, BIG))),
                staircase=draw(st.booleans()),
            ),
        )

    return strategy()


@st.composite
def s_polynomial(draw):
    return Spec(
        "polynomial_schedule",
        dict(
            init_value=draw(f32(-1.0, 10.0)),
            end_value=draw(f32(-1.0, 10.0)),
            power=draw(POWER),
            transition_steps=draw(st.one_of(ints(1, BIG), st.integers(-3, 0))),
            transition_begin=draw(st.one_of(st.just(0), ints(0, BIG), st.integers(-100, -1))),
        ),
    )


@st.composite
def s_linear(draw):
    return Spec(
        "linear_schedule",
        dict(
            init_value=draw(f32(-1.0, 10.0)),
            end_value=draw(f32(-1.0, 10.0)),
            transition_steps=draw(st.one_of(ints(1, BIG), st.integers(-3, 0))),
            transition_begin=draw(st.one_of(st.just(0), ints(0, BIG), st.integers(-100, -1))),
        ),
    )


@st.composite
def s_polynomial_decay(draw):
    init = draw(VALUE)
    return Spec(
        "polynomial_decay",
        dict(
            init_value=init,
            decay_steps=draw(ints(1, BIG)),
            end_value=draw(below(init)),
            power=draw(POWER),
            cycle=draw(st.booleans()),
        ),
    )


@st.composite
def s_k_decay(draw):
    init = draw(VALUE)
    return Spec(
        "k_decay",
        dict(
            init_value=init,
            decay_steps=draw(ints(1, BIG)),
            end_value=draw(below(init)),
            k=draw(st.one_of(st.just(1.0), f32(0.05, 5.0))),
            power=draw(POWER),
        ),
    )


@st.composite
def s_cosine(draw):
    return Spec(
        "cosine_decay_schedule",
        dict(
            init_value=draw(VALUE),
            decay_steps=draw(ints(1, BIG)),
            alpha=draw(UNIT),
            exponent=draw(EXPONENT),
        ),
    )


@st.composite
def s_burnin(draw):
    init = draw(VALUE)
    return Spec(
        "exponential_decay_with_burnin",
        dict(
            init_value=init,
            decay_steps=draw(ints(1, BIG)),
            decay_rate=draw(st.one_of(st.just(0.0), RATE)),
            burnin_value=draw(st.one_of(st.just(0.0), VALUE)),
            burnin_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            min_value=draw(below(init)),
            staircase=draw(st.booleans()),
        ),
    )


@st.composite
def s_restarts(draw):
    return Spec(
        "cosine_decay_restarts",
        dict(
            init_value=draw(VALUE),
            first_decay_steps=draw(ints(1, BIG)),
            t_mul=draw(MULT),
            m_mul=draw(UNIT),
            alpha=draw(UNIT),
        ),
    )


@st.composite
def s_warm_restarts(draw):
    peak = draw(VALUE)
    return Spec(
        "cosine_annealing_warm_restarts",
        dict(
            max_value=peak,
            first_period=draw(ints(1, BIG)),
            period_mult=draw(MULT),
            min_value=draw(below(peak)),
            decay=draw(UNIT),
            steps_per_period_unit=draw(st.one_of(st.just(1), ints(1, 1000), ints(1, 2**20))),
        ),
    )


@st.composite
def _warmup_cosine_kwargs(draw):
    peak = draw(st.one_of(st.just(0.0), VALUE))
    warm = draw(st.one_of(st.just(0), ints(0, BIG)))
    return dict(
        init_value=draw(below(max(peak, 1e-3))),
        peak_value=peak,
        warmup_steps=warm,
        decay_steps=warm + draw(ints(1, min(BIG, INT32_MAX - warm))),
        end_value=draw(below(peak)),
        exponent=draw(EXPONENT),
    )


@st.composite
def s_warmup_cosine(draw):
    return Spec("warmup_cosine_decay_schedule", draw(_warmup_cosine_kwargs()))


@st.composite
def s_sgdr(draw):
    return Spec(
        "sgdr_schedule", dict(cosine_kwargs=draw(st.lists(_warmup_cosine_kwargs(), min_size=1, max_size=4)))
    )


@st.composite
def s_warmup_hold(draw):
    peak = draw(VALUE)
    warm = draw(st.one_of(st.just(0), ints(0, BIG)))
    hold = draw(st.one_of(st.just(0), ints(0, min(BIG, INT32_MAX - warm))))
    total = warm + hold + draw(st.one_of(st.just(0), ints(0, min(BIG, INT32_MAX - warm - hold))))
    if total == 0:
        total = 1
    return Spec(
        "warmup_hold_cosine_decay",
        dict(
            peak_value=peak,
            total_steps=total,
            init_value=draw(below(peak)),
            warmup_steps=warm,
            hold_steps=hold,
            end_value=draw(below(peak)),
        ),
    )


@st.composite
def s_warmup_constant(draw):
    return Spec(
        "warmup_constant_schedule",
        dict(
            init_value=draw(f32(0.0, 10.0)),
            peak_value=draw(VALUE),
            warmup_steps=draw(st.one_of(st.just(0), ints(1, BIG), st.integers(-5, -1))),
        ),
    )


PCT = st.one_of(st.sampled_from([0.0, 0.5, 1.0]), f32(0.0, 1.0))


@st.composite
def s_linear_onecycle(draw):
    start = draw(PCT)
    final = draw(st.one_of(st.just(start), st.just(1.0), f32(start, 1.0)))
    return Spec(
        "linear_onecycle_schedule",
        dict(
            transition_steps=draw(ints(1, BIG)),
            peak_value=draw(VALUE),
            pct_start=start,
            pct_final=final,
            div_factor=draw(f32(0.5, 100.0)),
            final_div_factor=draw(f32(0.5, 1e4)),
        ),
    )


@st.composite
def s_cosine_onecycle(draw):
    return Spec(
        "cosine_onecycle_schedule",
        dict(
            transition_steps=draw(ints(1, BIG)),
            peak_value=draw(VALUE),
            pct_start=draw(PCT),
            div_factor=draw(f32(0.5, 100.0)),
            final_div_factor=draw(f32(0.5, 1e4)),
        ),
    )


@st.composite
def s_transformer(draw):
    return Spec(
        "transformer_schedule",
        dict(
            d_model=draw(f32(1.0, 4096.0)),
            warmup_steps=draw(st.one_of(st.just(4000), ints(1, BIG))),
            scale=draw(f32(0.1, 10.0)),
        ),
    )


@st.composite
def s_cyclic(draw):
    base = draw(f32(0.0, 1.0))
    mode = draw(st.sampled_from(["triangular", "triangular2", "exp_range"]))
    return Spec(
        "cyclic_schedule",
        dict(
            base_value=base,
            max_value=draw(f32(base, 10.0)),
            step_size_up=draw(ints(1, BIG)),
            step_size_down=draw(optional(ints(1, BIG))),
            mode=mode,
            gamma=draw(st.one_of(st.just(1.0), f32(0.9, 1.0), UNIT)) if mode == "exp_range" else 1.0,
        ),
    )


def one_cycle_phases(draw):
    """(three_phase, total_steps, pct_start) of a one-cycle with phases of at least one step each:
    pct·T >= 2, and the last phase non-empty."""
    three = draw(st.booleans())
    total = draw(ints(8, BIG))
    hi = 0.5 - 1.0 / total if three else 1.0 - 2.0 / total
    return three, total, draw(f32(2.0 / total, hi).filter(lambda p: p * total >= 2 and p <= hi))


@st.composite
def s_one_cycle(draw):
    three, total, pct = one_cycle_phases(draw)
    return Spec(
        "one_cycle_schedule",
        dict(
            max_value=draw(VALUE),
            total_steps=total,
            pct_start=pct,
            anneal=draw(st.sampled_from(["cos", "linear"])),
            div_factor=draw(f32(1.0, 100.0)),
            final_div_factor=draw(f32(1.0, 1e4)),
            three_phase=three,
        ),
    )


@st.composite
def s_cyclic_momentum(draw):
    mode = draw(st.sampled_from(["triangular", "triangular2", "exp_range"]))
    return Spec(
        "cyclic_momentum",
        dict(
            step_size_up=draw(ints(1, BIG)),
            step_size_down=draw(optional(ints(1, BIG))),
            base_momentum=draw(UNIT),
            max_momentum=draw(UNIT),
            mode=mode,
            gamma=draw(st.one_of(st.just(1.0), f32(0.9, 1.0), UNIT)) if mode == "exp_range" else 1.0,
        ),
    )


@st.composite
def s_one_cycle_momentum(draw):
    three, total, pct = one_cycle_phases(draw)
    return Spec(
        "one_cycle_momentum",
        dict(
            total_steps=total,
            pct_start=pct,
            anneal=draw(st.sampled_from(["cos", "linear"])),
            base_momentum=draw(UNIT),
            max_momentum=draw(UNIT),
            three_phase=three,
        ),
    )


@st.composite
def s_ema_warmup(draw):
    return Spec(
        "ema_warmup",
        dict(
            gamma=draw(st.one_of(st.just(1.0), f32(1e-3, 1e4))),
            power=draw(st.one_of(st.just(0.75), st.just(0.0), f32(0.0, 4.0))),
            max_decay=draw(st.one_of(st.just(0.9999), UNIT)),
        ),
    )


@st.composite
def s_wsd(draw):
    peak = draw(VALUE)
    return Spec(
        "wsd_schedule",
        dict(
            peak_value=peak,
            warmup_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            stable_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            decay_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            init_value=draw(below(peak)),
            end_value=draw(below(peak)),
            decay_shape=draw(st.sampled_from(["linear", "cosine", "1-sqrt", "square", "sqrt"])),
        ),
    )


@st.composite
def s_inverse_sqrt(draw):
    return Spec(
        "inverse_sqrt_schedule",
        dict(
            peak_value=draw(VALUE),
            warmup_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            timescale=draw(optional(ints(1, BIG))),
        ),
    )


@st.composite
def s_tanh(draw):
    init = draw(VALUE)
    lower = draw(st.one_of(st.just(-7.0), f32(-10.0, 0.0)))
    return Spec(
        "tanh_decay",
        dict(
            init_value=init,
            decay_steps=draw(ints(1, BIG)),
            end_value=draw(below(init)),
            lower=lower,
            upper=draw(st.one_of(st.just(3.0), f32(lower + 0.1, 10.0))),
        ),
    )


@st.composite
def s_tri_stage(draw):
    return Spec(
        "tri_stage_schedule",
        dict(
            peak_value=draw(VALUE),
            warmup_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            hold_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            decay_steps=draw(ints(1, BIG)),
            init_scale=draw(UNIT),
            final_scale=draw(st.one_of(st.just(1.0), f32(1e-3, 1.0))),
        ),
    )


LEAVES: dict[str, st.SearchStrategy] = {
    "constant_schedule": s_constant(),
    "step_decay": s_step_decay(),
    "multistep_decay": s_multistep(),
    "piecewise_constant_schedule": s_piecewise_constant(),
    "exponential_decay": s_exponential(),
    "natural_exp_decay": _natural("natural_exp_decay"),
    "inverse_time_decay": _natural("inverse_time_decay"),
    "polynomial_schedule": s_polynomial(),
    "linear_schedule": s_linear(),
    "polynomial_decay": s_polynomial_decay(),
    "k_decay": s_k_decay(),
    "cosine_decay_schedule": s_cosine(),
    "exponential_decay_with_burnin": s_burnin(),
    "cosine_decay_restarts": s_restarts(),
    "cosine_annealing_warm_restarts": s_warm_restarts(),
    "sgdr_schedule": s_sgdr(),
    "warmup_cosine_decay_schedule": s_warmup_cosine(),
    "warmup_hold_cosine_decay": s_warmup_hold(),
    "warmup_constant_schedule": s_warmup_constant(),
    "warmup_exponential_decay_schedule": s_warmup_exponential(),
    "piecewise_interpolate_schedule": s_piecewise_interpolate(),
    "linear_onecycle_schedule": s_linear_onecycle(),
    "cosine_onecycle_schedule": s_cosine_onecycle(),
    "transformer_schedule": s_transformer(),
    "cyclic_schedule": s_cyclic(),
    "cyclic_momentum": s_cyclic_momentum(),
    "one_cycle_schedule": s_one_cycle(),
    "one_cycle_momentum": s_one_cycle_momentum(),
    "wsd_schedule": s_wsd(),
    "inverse_sqrt_schedule": s_inverse_sqrt(),
    "tanh_decay": s_tanh(),
    "tri_stage_schedule": s_tri_stage(),
    "ema_warmup": s_ema_warmup(),
}

# Inner schedules whose value is continuous in a real step (what `repeat` reads with stretched cycles:
# a float32 inner step is off by its rounding, harmless only where the schedule has no jumps).
CONTINUOUS = st.one_of(
    s_constant().filter(lambda s: s.kwargs["value"] >= 0),
    s_cosine().filter(lambda s: s.kwargs["exponent"] >= 1),
    s_linear().filter(lambda s: s.kwargs["init_value"] >= 0 and s.kwargs["end_value"] >= 0),
    _natural("natural_exp_decay").filter(lambda s: not s.kwargs["staircase"]),
    _natural("inverse_time_decay").filter(lambda s: not s.kwargs["staircase"]),
    s_k_decay().filter(lambda s: s.kwargs["k"] >= 1 and s.kwargs["power"] >= 1),
)
POSITIVE_LEAVES = [
    n
    for n in LEAVES
    if n not in ("constant_schedule", "polynomial_schedule", "linear_schedule", "ema_warmup")
]


def inner(depth: int = 1, positive: bool = False) -> st.SearchStrategy:
    names = POSITIVE_LEAVES if positive else list(LEAVES)
    leaf = st.sampled_from(names).flatmap(lambda n: LEAVES[n])
    if depth <= 0 or positive:
        return leaf
    return st.one_of(
        leaf, leaf, leaf, st.sampled_from(list(COMPOSITES)).flatmap(lambda n: COMPOSITES[n](depth - 1))
    )


@st.composite
def s_warmup(draw, depth=1):
    mode = draw(st.sampled_from(["linear", "cosine", "exponential", "constant", "scale"]))
    init = draw(f32(1e-3, 1.0)) if mode == "exponential" else draw(st.one_of(st.just(0.0), f32(0.0, 1.0)))
    return Spec(
        "warmup",
        dict(
            schedule=draw(inner(depth, positive=mode == "exponential")),
            warmup_steps=draw(st.one_of(st.just(0), ints(0, BIG))),
            init_value=init,
            mode=mode,
            shift=draw(st.booleans()),
        ),
    )


@st.composite
def s_join(draw, depth=1):
    pieces = draw(st.lists(inner(depth), min_size=1, max_size=4))
    bounds = sorted(draw(st.lists(ints(0, BIG), min_size=len(pieces) - 1, max_size=len(pieces) - 1)))
    if len(bounds) >= 2 and draw(st.booleans()):
        bounds[1] = bounds[0]  # equal boundaries: the later piece wins
    return Spec("join_schedules", dict(schedules=pieces, boundaries=bounds))


@st.composite
def s_select(draw, depth=1):
    pieces = draw(st.lists(inner(depth), min_size=1, max_size=3))
    return Spec("select", dict(schedules=pieces, index=draw(st.integers(0, len(pieces) - 1))))


@st.composite
def s_from_fn(draw, depth=1):
    fn = draw(st.sampled_from(sorted(USER_FNS)))
    return Spec("from_fn", dict(fn=fn, lr=draw(VALUE), k=draw(f32(0.0, 2.0))))


@st.composite
def s_binary(draw, depth=1):
    op = draw(st.sampled_from(["add", "sub", "mul", "div", "min", "max"]))
    right = draw(f32(0.1, 10.0)) if op == "div" else draw(st.one_of(inner(depth), f32(-2.0, 2.0)))
    return Spec("binary", dict(op=op, left=draw(inner(depth)), right=right))


@st.composite
def s_clip(draw, depth=1):
    lo = draw(optional(f32(0.0, 1.0)))
    hi = draw(optional(f32(lo or 0.0, 10.0)))
    return Spec("clip", dict(schedule=draw(inner(depth)), min_value=lo, max_value=hi))


@st.composite
def s_shift(draw, depth=1):
    steps = draw(st.one_of(ints(0, INT32_MAX), ints(1, INT32_MAX).map(lambda s: -s)))
    return Spec("shift", dict(schedule=draw(inner(depth)), steps=steps))


@st.composite
def s_per_epoch(draw, depth=1):
    spe = draw(ints(1, 2**20))
    ticks = draw(st.one_of(st.just(1), ints(1, INT32_MAX // spe)))  # steps_per_epoch · ticks < 2**31
    return Spec("per_epoch", dict(schedule=draw(inner(depth)), steps_per_epoch=spe, ticks=ticks))


@st.composite
def s_staircase(draw, depth=1):
    return Spec("staircase", dict(schedule=draw(inner(depth)), every=draw(ints(1, BIG))))


@st.composite
def s_repeat(draw, depth=1):
    mult = draw(MULT)
    schedule = draw(inner(depth)) if mult == 1 else draw(CONTINUOUS)
    period = draw(ints(1, BIG))
    # period · ticks < 2**31; small tick counts (fractional periods such as 37.5 steps) most often
    top = max(INT32_MAX // period, 1)
    ticks = draw(st.one_of(st.just(1), st.integers(1, min(top, 8)), ints(1, top)))
    return Spec(
        "repeat",
        dict(schedule=schedule, period=period, period_mult=mult, decay=draw(UNIT), ticks=ticks),
    )


@st.composite
def s_time_warp(draw, depth=1):
    # the inner is read at a float32 step, off by its rounding: monotone inners (continuous, or the
    # jumps of a step decay), whose reference hull over that rounding is exact
    schedule = draw(st.one_of(CONTINUOUS, s_step_decay()))
    k = draw(st.one_of(st.sampled_from([1.0, 2.0, 0.5, 1.7, 0.43]), f32(0.05, 8.0)))
    return Spec("time_warp", dict(schedule=schedule, steps=draw(ints(1, BIG)), k=k))


@st.composite
def s_cumulative_product(draw, depth=1):
    # positive factors whose product stays well inside float32 (|ln factor| <= 30/length): a constant
    # (a number, which the vmap and grad checks batch over), linear, decays, a MultiplicativeLR lambda
    length = draw(st.one_of(st.integers(1, 40), st.integers(1, 300)))
    lo, hi = math.exp(-30 / length), math.exp(30 / length)
    near_one = f32(lo, hi)
    schedule = draw(
        st.one_of(
            near_one,
            near_one.map(lambda v: Spec("constant_schedule", dict(value=v))),
            st.builds(
                lambda a, b, n: Spec("linear_schedule", dict(init_value=a, end_value=b, transition_steps=n)),
                near_one,
                near_one,
                st.integers(1, 400),
            ),
            st.builds(
                lambda a, alpha, n: Spec(
                    "cosine_decay_schedule", dict(init_value=a, decay_steps=n, alpha=alpha)
                ),
                f32(lo, 1.0),
                UNIT,
                st.integers(1, 400),
            ),
            st.builds(
                lambda a, r, n, sc: Spec(
                    "natural_exp_decay", dict(init_value=a, decay_rate=r, decay_steps=n, staircase=sc)
                ),
                f32(lo, 1.0),
                f32(0.0, 0.5),
                st.integers(1, 100),
                st.booleans(),
            ),
            st.builds(
                lambda lr, k: Spec("from_fn", dict(fn="lambda_factor", lr=lr, k=k)),
                f32(0.0, 0.9),
                f32(0.0, 2.0),
            ),
        )
    )
    return Spec("cumulative_product", dict(schedule=schedule, length=length))


@st.composite
def s_swa_schedule(draw, depth=1):
    return Spec(
        "swa_schedule",
        dict(
            schedule=draw(inner(depth)),
            swa_start=draw(st.one_of(st.just(0), ints(0, BIG))),
            swa_value=draw(st.one_of(st.just(0.0), VALUE)),
            anneal_steps=draw(st.one_of(st.just(0), st.just(1), ints(0, BIG))),
            anneal=draw(st.sampled_from(["cos", "linear"])),
        ),
    )


COMPOSITES: dict[str, Callable[[int], st.SearchStrategy]] = {
    "warmup": s_warmup,
    "join_schedules": s_join,
    "select": s_select,
    "from_fn": s_from_fn,
    "binary": s_binary,
    "clip": s_clip,
    "shift": s_shift,
    "per_epoch": s_per_epoch,
    "staircase": s_staircase,
    "repeat": s_repeat,
    "swa_schedule": s_swa_schedule,
    "time_warp": s_time_warp,
    "cumulative_product": s_cumulative_product,
}

STRATEGIES = {**LEAVES, **{n: f(1) for n, f in COMPOSITES.items()}}
NAMES = sorted(STRATEGIES)
OPTAX_DROPINS = {
    "constant_schedule",
    "exponential_decay",
    "polynomial_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "cosine_decay_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_constant_schedule",
    "warmup_exponential_decay_schedule",
    "piecewise_interpolate_schedule",
    "linear_onecycle_schedule",
    "cosine_onecycle_schedule",
    "sgdr_schedule",
}


def test_every_registered_name_has_a_strategy_and_a_reference():
    assert set(NAMES) == set(o.available()) == set(R.NAMES)


@pytest.mark.parametrize("mode", ["eager", "jit"])
def test_a_schedule_sees_two_step_dtypes(mode):
    """Whatever the step's dtype, a schedule's formula receives int32 steps (integer and bool steps) or
    float32 steps (float steps; a whole-number float step is also read as the int32 it is): the reason
    the property `dtypes` runs most schedules with those two only."""
    for d in [np.bool_, *INT_DTYPES, *FLOAT_DTYPES]:
        seen = []

        def spy(t, lr, seen=seen):  # a new function per dtype: a new structure, traced afresh
            if isinstance(t, jax.core.Tracer):  # (the eager call also reads s(0) once, concretely)
                seen.append(t.dtype)
            return lr + 0.0 * t

        sched = o.from_fn(spy, lr=0.0731)
        steps = np.array([0, 1, 3], d)
        out = sched(steps) if mode == "eager" else jax.jit(lambda s, t: s(t))(sched, jnp.asarray(steps))
        np.testing.assert_allclose(np.asarray(out), 0.0731, rtol=1e-7)
        want = {np.dtype(np.int32)} | ({np.dtype(np.float32)} if jnp.issubdtype(d, jnp.floating) else set())
        assert set(seen) == want, (np.dtype(d).name, seen)


# --------------------------------------------------------------------------------------------------
# probes and comparisons

SPECIAL_STEPS = [0, 1, 2, 2**24 - 1, 2**24, 2**24 + 1, 2**31 - 2, INT32_MAX]
NEGATIVE_STEPS = [-1, -7]


def probe_steps(ref: R.Ref, extra=()) -> list[int]:
    near = sorted({e + d for e in ref.events for d in (-1, 0, 1)} | set(extra))
    near = [t for t in near if 0 <= t <= INT32_MAX and t not in SPECIAL_STEPS]
    room = MAX_PROBES - len(SPECIAL_STEPS) - len(NEGATIVE_STEPS)
    if len(near) > room:  # keep an even spread, ends included
        near = [near[i] for i in np.linspace(0, len(near) - 1, room).round().astype(int)]
    return sorted(set(SPECIAL_STEPS) | set(near))


def pad(steps, dtype=np.int32):
    return padded(steps, PAD, dtype)


def step_class(t: int) -> str:
    if t < 0:
        return "negative step"
    if t == INT32_MAX:
        return "t = 2**31-1"
    if t >= 2**24:
        return "t >= 2**24"
    return "t < 2**24"


def ref_scale(expected) -> float:
    """The largest |value| of the reference on the probes (the `scale` of the absolute tolerance)."""
    return max([abs(x) for ivs in expected for iv in ivs for x in iv if math.isfinite(x)] + [1e-30])


def close(ours: float, intervals, atol: float) -> bool:
    """`ours` within float32 rounding of one of the acceptable reference intervals."""
    return any(
        lo - REF_RTOL * abs(lo) - atol <= ours <= hi + REF_RTOL * abs(hi) + atol for lo, hi in intervals
    )


def agree(a: float, b: float, intervals, atol: float) -> bool:
    """Two float32 evaluations of one schedule agree to the reference tolerance, widened by the
    reference's own uncertainty there (ambiguous restarts, stretched inner steps)."""
    if math.isnan(a) and math.isnan(b):
        return True
    lo, hi = min(iv[0] for iv in intervals), max(iv[1] for iv in intervals)
    return abs(a - b) <= REF_RTOL * max(abs(a), abs(b)) + atol + (hi - lo)


def fmt(intervals) -> str:
    return "[" + ", ".join(repr(lo) if lo == hi else f"{lo!r}..{hi!r}" for lo, hi in intervals) + "]"


class Failures:
    """Failing examples of one property, the shortest reproducer kept per kind of failure."""

    def __init__(self, name: str, prop: str):
        self.name, self.prop = name, prop
        self.by_kind: dict[str, str] = {}
        self.examples = 0

    def add(self, kind: str, spec: Spec, detail: str):
        text = f"{code(spec)}\n  {detail}"
        old = self.by_kind.get(kind)
        if old is None or len(text) < len(old):
            self.by_kind[kind] = text

    def report(self):
        if not self.by_kind:
            return
        write_findings(self.name, self.prop, self.by_kind)
        lines = [f"{self.name} / {self.prop}: {len(self.by_kind)} kind(s) of failure"]
        for kind, text in self.by_kind.items():
            lines.append(f"- {kind}:\n  {text}")
        pytest.fail("\n".join(lines), pytrace=False)


def write_findings(name: str, prop: str, by_kind: dict[str, str]):
    """Append the failures not yet in the findings file (one `### name / property / kind` each)."""
    try:
        with open(FINDINGS_PATH) as f:
            known = f.read()
    except FileNotFoundError:
        known = ""
    new = []
    for kind, text in by_kind.items():
        key = f"### {name} / {prop} / {kind}"
        if key not in known:
            new.append(f"{key}\n```python\nimport jax.numpy as jnp, optax_lrs as o\n{text}\n```\n")
    if new:
        with open(FINDINGS_PATH, "a") as f:
            if not known:
                f.write("# optax_lrs fuzz findings (tests/test_fuzz.py)\n\n")
            f.write(f"<!-- {time.strftime('%Y-%m-%d %H:%M:%S')} -->\n" + "\n".join(new) + "\n")


def guarded(failures: Failures, spec: Spec, what: str, fn: Callable[[], Any]):
    """Run `fn`; an exception is a failure of kind `what raised <type>`."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - any error is a finding
        msg = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
        failures.add(f"{what} raised {type(e).__name__}", spec, f"{type(e).__name__}: {msg}")
        return None


# --------------------------------------------------------------------------------------------------
# properties


def _optax_values(spec: Spec, steps) -> np.ndarray | None:
    """optax's own float32 values, shown next to a mismatch as a hint (not asserted: optax loses
    float32 accuracy where ours must not)."""
    if spec.name not in OPTAX_DROPINS:
        return None
    try:
        fn = getattr(optax, spec.name)(**spec.kwargs)
        out = jax.vmap(lambda t: jnp.asarray(fn(t), jnp.float32) + jnp.zeros((), jnp.float32))(
            jnp.asarray(steps, jnp.int32)
        )
        return np.asarray(out, np.float64)
    except Exception:  # noqa: BLE001 - optax rejects some inputs we accept; it is only a hint
        return None


def check_values(spec: Spec, failures: Failures, extra=()):
    sched = guarded(failures, spec, "constructor", lambda: build(spec))
    if sched is None:
        return
    ref = R.reference(spec)
    probes = probe_steps(ref, extra) + NEGATIVE_STEPS
    expected = [ref(t) for t in probes]
    atol = REF_ATOL * max(ref_scale(expected), ref.mag)

    vec = guarded(failures, spec, "vector call", lambda: sched(jnp.asarray(pad(probes))))
    if vec is None:
        return
    if vec.dtype != jnp.float32 or vec.shape != (PAD,):
        failures.add("output dtype/shape", spec, f"s(int32[{PAD}]) -> {vec.dtype}{list(vec.shape)}")
        return
    vec = np.asarray(vec, np.float64)[: len(probes)]
    optax_vals = None
    for i, t in enumerate(probes):
        v = float(vec[i])
        if math.isfinite(v) and close(v, expected[i], atol):
            continue
        if optax_vals is None:
            optax_vals = _optax_values(spec, [max(t, 0) for t in probes])
        hint = "" if optax_vals is None else f", optax (float32) = {float(optax_vals[i])!r}"
        kind = "not finite" if not math.isfinite(v) else "value vs float64 reference"
        failures.add(
            f"{kind} ({step_class(t)})",
            spec,
            f"step {t} (int32 vector): ours = {v!r}, reference = {fmt(expected[i])}{hint}",
        )

    # eager scalar (Python int) == jitted traced int32 scalar == vector
    jitted = jax.jit(lambda t: sched(t))  # one program per schedule, hyperparameters as constants
    for i, t in enumerate(probes):
        eager = guarded(failures, spec, "eager call", lambda t=t: sched(t))
        jit_v = guarded(failures, spec, "jit(lambda t: s(t))", lambda t=t: jitted(jnp.int32(t)))
        if eager is None or jit_v is None:
            return
        if eager.dtype != jnp.float32 or eager.shape != ():
            failures.add("eager output dtype/shape", spec, f"s({t}) -> {eager.dtype}{list(eager.shape)}")
        a, b = float(eager), float(jit_v)
        if not agree(a, float(vec[i]), expected[i], atol):
            failures.add(
                f"eager != vector ({step_class(t)})", spec, f"step {t}: eager {a!r}, vector {vec[i]!r}"
            )
        if not agree(b, a, expected[i], atol):
            failures.add(f"jit != eager ({step_class(t)})", spec, f"step {t}: jit(int32) {b!r}, eager {a!r}")


INT_DTYPES = [np.int8, np.int16, np.uint8, np.uint16, np.int32, np.uint32, np.int64]
FLOAT_DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64]


def representable(t: int, dtype) -> bool:
    """Whether step t survives as `dtype`, and as the dtype JAX turns it into (64-bit inputs are
    canonicalised to 32 bits unless x64 is on)."""
    canonical = jax.dtypes.canonicalize_dtype(dtype)
    for d in {np.dtype(dtype), np.dtype(canonical)}:
        if np.issubdtype(d, np.integer):
            info = np.iinfo(d)
            if not info.min <= t <= info.max:
                return False
        else:
            with np.errstate(over="ignore"):
                x = np.asarray(t, np.float64).astype(d)
            if not (np.isfinite(np.float64(x)) and float(x) == t):
                return False
    return True


# Every step dtype reaches a schedule's formula as one of two: the base class turns integer steps into
# the integer dtype and float steps into at least float32 before any schedule code runs
# (`test_a_schedule_sees_two_step_dtypes` below checks that for every dtype). So the property runs
# each schedule with those two (int32, float32) and every dtype on the schedules below, one per family
# of formula (boundaries, integer hyperparameters float16 cannot hold, pieces, a warped time, cycles,
# a floor), and in every edge case: eleven copies of a restart schedule in one program take ~8 s to
# compile, for what the two dtypes already reach.
EVERY_DTYPE = {
    "multistep_decay",
    "warmup_cosine_decay_schedule",
    "join_schedules",
    "time_warp",
    "cyclic_schedule",
    "step_decay",
}
TWO_DTYPES = [np.int32, np.float32]


def check_dtypes(spec: Spec, failures: Failures, extra=(), every_dtype=None):
    sched = guarded(failures, spec, "constructor", lambda: build(spec))
    if sched is None:
        return
    ref = R.reference(spec)
    probes = probe_steps(ref, extra) + NEGATIVE_STEPS
    expected = [ref(t) for t in probes]
    atol = REF_ATOL * max(ref_scale(expected), ref.mag)
    base = guarded(failures, spec, "vector call", lambda: sched(jnp.asarray(pad(probes))))
    if base is None:
        return
    base = np.asarray(base, np.float64)[: len(probes)]
    if every_dtype is None:
        every_dtype = spec.name in EVERY_DTYPE
    dtypes = INT_DTYPES + FLOAT_DTYPES if every_dtype else TWO_DTYPES
    index = {d: [i for i, t in enumerate(probes) if representable(t, d)] for d in dtypes}
    arrays = [pad([probes[i] for i in index[d]], d) for d in dtypes]
    # every dtype in one program (compile time dominates); one at a time only to name a failure
    outs = guarded(failures, spec, "all step dtypes", lambda: _call_all(sched, arrays))
    if outs is None:
        outs = [
            guarded(failures, spec, f"{np.dtype(d).name} steps", lambda a=a: sched(a))
            for d, a in zip(dtypes, arrays)
        ]
    for d, out in zip(dtypes, outs):
        dname = np.dtype(d).name
        if out is None:
            continue
        if out.dtype != jnp.float32:
            failures.add(f"output dtype for {dname} steps", spec, f"dtype {out.dtype}")
        out = np.asarray(out, np.float64)
        for j, i in enumerate(index[d]):
            if not agree(float(out[j]), float(base[i]), expected[i], atol):
                failures.add(
                    f"{dname} step != int32 step ({step_class(probes[i])})",
                    spec,
                    f"step {probes[i]}: {dname} -> {out[j]!r}, int32 -> {base[i]!r}, "
                    f"reference {fmt(expected[i])}",
                )
                break


_call_all = jax.jit(lambda s, arrays: [s(a) for a in arrays])


def other_values(spec: Spec, path) -> list:
    """[v, w]: the value at `path` and another valid one (or v again when none is found)."""
    v = get_at(spec.kwargs, path)
    if isinstance(v, list):
        cands = [[x // 2 for x in v], [x + 1 for x in v], [0] * len(v)]
    elif isinstance(v, int):
        cands = [v // 2 + 1, v + 1, v - 1, 2 * v, 1, 0]
    else:
        cands = [float(np.float32(c)) for c in (v * 0.75, (v + 1) / 2, v * 1.25, 0.5, 0.0, 1.0)]
    for c in cands:
        if c == v or (isinstance(c, int) and abs(c) > INT32_MAX):
            continue
        other = set_at(spec, path, c)
        try:
            build(other)
            R.reference(other)
        except Exception:  # noqa: BLE001 - not a valid value for this schedule
            continue
        return [v, c]
    return [v, v]


def check_vmap(spec: Spec, failures: Failures, extra=()):
    sched = guarded(failures, spec, "constructor", lambda: build(spec))
    if sched is None:
        return
    steps = probe_steps(R.reference(spec), extra)
    steps_arr = jnp.asarray(pad(steps))
    paths = numeric_paths(spec)
    if not paths:
        return
    batches = {p: other_values(spec, p) for p in paths}
    arrays = [
        jnp.asarray(np.asarray(batches[p]), jnp.float32 if is_float_path(spec, p) else jnp.int32)
        for p in paths
    ]

    def one(p, a):
        return jax.vmap(lambda v: build(set_at(spec, p, v))(steps_arr))(a)

    out = guarded(
        failures,
        spec,
        "jit(vmap over every hyperparameter)",
        lambda: jax.jit(lambda arrs: [one(p, a) for p, a in zip(paths, arrs)])(arrays),
    )
    if out is None:  # name the parameter that breaks
        out = [
            guarded(failures, spec, f"vmap over {'.'.join(map(str, p))}", lambda p=p, a=a: one(p, a))
            for p, a in zip(paths, arrays)
        ]
    for path, got in zip(paths, out):
        if got is None:
            continue
        got = np.asarray(got, np.float64)[:, : len(steps)]
        for row, v in zip(got, batches[path]):
            other = set_at(spec, path, v)
            loop = guarded(failures, spec, f"loop at {path}={v!r}", lambda o_=other: build(o_)(steps_arr))
            if loop is None:
                continue
            loop = np.asarray(loop, np.float64)[: len(steps)]
            ref = R.reference(other)
            expected = [ref(t) for t in steps]
            atol = REF_ATOL * max(ref_scale(expected), ref.mag)
            for i, t in enumerate(steps):
                if not agree(float(row[i]), float(loop[i]), expected[i], atol):
                    failures.add(
                        f"vmap over {'.'.join(map(str, path))} != loop ({step_class(t)})",
                        spec,
                        f"{'.'.join(map(str, path))} = {v!r}, step {t}: vmap {row[i]!r}, loop {loop[i]!r}, "
                        f"reference {fmt(expected[i])}",
                    )
                    break


def check_grads(spec: Spec, failures: Failures, extra=()):
    sched = guarded(failures, spec, "constructor", lambda: build(spec))
    if sched is None:
        return
    steps = probe_steps(R.reference(spec), extra)
    steps_arr = jnp.asarray(pad(steps))
    paths = [p for p in numeric_paths(spec) if is_float_path(spec, p)]
    keys = {".".join(map(str, p)): p for p in paths}  # string keys: a pytree dict must sort them
    params = {key: jnp.float32(get_at(spec.kwargs, p)) for key, p in keys.items()}

    def via_constructor(fp, t):
        s = spec
        for key, v in fp.items():
            s = set_at(s, keys[key], v)
        return build(s)(t)

    def via_pytree(s, t):
        return s(t)

    def run(fp, s, ts):
        g1 = jax.vmap(jax.grad(via_constructor), in_axes=(None, 0))(fp, ts) if fp else {}
        g2 = jax.vmap(jax.grad(via_pytree, allow_int=True), in_axes=(None, 0))(s, ts)
        leaves = jax.tree_util.tree_leaves_with_path(g2)
        return g1, {jax.tree_util.keystr(k): x for k, x in leaves if jnp.issubdtype(x.dtype, jnp.floating)}

    out = guarded(failures, spec, "jit(grad)", lambda: jax.jit(run)(params, sched, steps_arr))
    if out is None:
        return
    g1, g2 = out
    for label, grads in [("d/d", g1), ("pytree leaf ", g2)]:
        for key, g in grads.items():
            g = np.asarray(g, np.float64)[: len(steps)]
            bad = np.nonzero(~np.isfinite(g))[0]
            if len(bad):
                i = bad[0]
                failures.add(
                    f"grad {label}{key} not finite",
                    spec,
                    f"step {steps[i]}: grad = {g[i]!r} "
                    f"(non-finite at {len(bad)} of {len(steps)} probe steps)",
                )


CHECKS = {"values": check_values, "dtypes": check_dtypes, "vmap": check_vmap, "grads": check_grads}
EXTRA_STEPS = st.lists(st.one_of(st.integers(0, 1000), st.integers(0, INT32_MAX)), max_size=4)
COUNTS: dict[str, int] = {}


def run_property(request, name: str, prop: str):
    n_default, n_long = EXAMPLES[prop]
    n = n_long if long_mode(request.config) else n_default
    failures = Failures(name, prop)

    @settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: Failures keeps the shortest itself
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(spec=STRATEGIES[name], extra=EXTRA_STEPS)
    def body(spec, extra):
        failures.examples += 1
        CHECKS[prop](spec, failures, extra)

    body()
    COUNTS[f"{prop}/{name}"] = COUNTS.get(f"{prop}/{name}", 0) + failures.examples
    failures.report()


@pytest.fixture(scope="module", autouse=True)
def _write_counts(request):
    """Examples run per property and schedule, to OPTAX_LRS_FUZZ_COUNTS (/tmp/fuzz_counts.json)."""
    start = time.time()
    yield
    path = os.environ.get("OPTAX_LRS_FUZZ_COUNTS", "/tmp/fuzz_counts.json")
    summary = {
        "mode": "long" if long_mode(request.config) else "default",
        "seconds": round(time.time() - start, 1),
        "examples_per_property": {
            p: sum(c for k, c in COUNTS.items() if k.startswith(p + "/")) for p in CHECKS
        },
        "schedules": len({k.split("/", 1)[1] for k in COUNTS}),
        "examples": COUNTS,
    }
    with open(path, "w") as f:
        json.dump(summary, f, indent=1)


names = pytest.mark.parametrize("name", NAMES)


@names
def test_values(request, name):
    run_property(request, name, "values")


@names
def test_step_dtypes(request, name):
    run_property(request, name, "dtypes")


@names
def test_vmap_each_hyperparameter(request, name):
    run_property(request, name, "vmap")


@names
def test_grads_finite(request, name):
    run_property(request, name, "grads")


# --------------------------------------------------------------------------------------------------
# fixed cases: every property, always, on the corners the issue names (CI runs them whatever
# hypothesis draws)

F32_1_1 = float(np.float32(1.1))
EDGE_CASES = [
    # restarts at integer starts past 2**24 (every start is an integer: exact), m_mul = 0, t_mul = 1
    Spec("cosine_decay_restarts", dict(init_value=1.0, first_decay_steps=3, t_mul=2.0, m_mul=1.0, alpha=0.0)),
    Spec(
        "cosine_decay_restarts", dict(init_value=1.0, first_decay_steps=1000, t_mul=1.5, m_mul=0.0, alpha=0.1)
    ),
    Spec("cosine_decay_restarts", dict(init_value=1.0, first_decay_steps=7, t_mul=1.0, m_mul=0.9, alpha=0.0)),
    # periods by the seed's float64 ceil recurrence; int32 overflow of period * unit
    Spec("cosine_annealing_warm_restarts", dict(max_value=1.0, first_period=1000, period_mult=F32_1_1)),
    Spec(
        "cosine_annealing_warm_restarts",
        dict(
            max_value=1.0,
            first_period=7,
            period_mult=1.5,
            min_value=0.01,
            decay=0.0,
            steps_per_period_unit=300_000,
        ),
    ),
    # more than the 256 tabulated cycles (t_mul / period_mult close to 1)
    Spec(
        "cosine_decay_restarts",
        dict(init_value=1.0, first_decay_steps=24, t_mul=1.0018, m_mul=1.0, alpha=0.0),
    ),
    Spec("cosine_annealing_warm_restarts", dict(max_value=1.0, first_period=238004, period_mult=1.00643)),
    Spec(
        "repeat",
        dict(
            schedule=Spec("cosine_decay_schedule", dict(init_value=1.0, decay_steps=54190)),
            period=54190,
            period_mult=1.0033,
        ),
    ),
    # int32 overflow of sums of step counts
    Spec(
        "cyclic_schedule",
        dict(base_value=0.1, max_value=1.0, step_size_up=2**30, step_size_down=2**30, mode="triangular2"),
    ),
    Spec(
        "wsd_schedule",
        dict(peak_value=1.0, warmup_steps=2**30, stable_steps=2**30, decay_steps=2**30, end_value=0.1),
    ),
    Spec("polynomial_decay", dict(init_value=1.0, decay_steps=28, end_value=0.0, power=2.0, cycle=True)),
    Spec("step_decay", dict(init_value=1.0, decay_rate=0.5, decay_steps=1000, offset=2**30)),
    Spec(
        "shift",
        dict(
            schedule=Spec("cyclic_schedule", dict(base_value=0.1, max_value=1.0, step_size_up=100)),
            steps=-(2**30),
        ),
    ),
    # (sgdr cycles that start past 2**31 - 1 are rejected with a ValueError: tests/test_exactness.py)
    # end values: cosine with exponent < 1, tanh at T, step_decay with rate 1 and a floor
    Spec("cosine_decay_schedule", dict(init_value=1.0, decay_steps=1000, alpha=0.1, exponent=0.3)),
    Spec("tanh_decay", dict(init_value=1.0, decay_steps=100)),
    Spec("step_decay", dict(init_value=1.0, decay_rate=1.0, decay_steps=10, end_value=0.5)),
    # a zero-length decay keeps the stable phase; k-decay with power 0 is init through T (0**0 = 1)
    Spec(
        "wsd_schedule",
        dict(peak_value=1.0, warmup_steps=10, stable_steps=20, decay_steps=0, init_value=0.5, end_value=0.1),
    ),
    Spec("k_decay", dict(init_value=1.0, decay_steps=22, end_value=0.1, k=1.0, power=0.0)),
    # finite gradients at the corners
    Spec(
        "warmup_exponential_decay_schedule",
        dict(init_value=0.0, peak_value=1.0, warmup_steps=10, transition_steps=5, decay_rate=0.5),
    ),
    Spec("exponential_decay", dict(init_value=1.0, transition_steps=10, decay_rate=0.0)),
    Spec("exponential_decay", dict(init_value=0.5, transition_steps=7, decay_rate=1.25, end_value=0.9)),
    Spec(
        "exponential_decay_with_burnin", dict(init_value=1.0, decay_steps=10, decay_rate=0.0, staircase=False)
    ),
    Spec(
        "repeat",
        dict(
            schedule=Spec("cosine_decay_schedule", dict(init_value=1.0, decay_steps=20)),
            period=20,
            period_mult=2.0,
            decay=0.0,
        ),
    ),
    # fractional periods (ticks): 37.5-step cycles; growing cycles on t·ticks; the largest tick count;
    # epochs of 2.5 steps
    Spec(
        "repeat",
        dict(
            schedule=Spec("cosine_decay_schedule", dict(init_value=0.731, decay_steps=75)), period=75, ticks=2
        ),
    ),
    Spec(
        "repeat",
        dict(
            schedule=Spec("cosine_decay_schedule", dict(init_value=0.731, decay_steps=1001)),
            period=1001,
            period_mult=1.37,
            decay=0.83,
            ticks=3,
        ),
    ),
    Spec(
        "repeat",
        dict(
            schedule=Spec("linear_schedule", dict(init_value=1.0, end_value=0.0, transition_steps=7)),
            period=7,
            decay=0.97,
            ticks=(2**31 - 1) // 7,
        ),
    ),
    Spec(
        "per_epoch",
        dict(
            schedule=Spec("step_decay", dict(init_value=1.0, decay_rate=0.61, decay_steps=3)),
            steps_per_epoch=5,
            ticks=2,
        ),
    ),
    # time_warp past T reads its inner at the integer step (a jump at 2**24 + 1)
    Spec(
        "time_warp",
        dict(
            schedule=Spec("multistep_decay", dict(init_value=1.0, boundaries=[2**24 + 1], decay_rate=0.5)),
            steps=37,
            k=1.7,
        ),
    ),
    Spec(
        "cumulative_product",
        dict(schedule=Spec("from_fn", dict(fn="lambda_factor", lr=0.0731, k=0.7)), length=300),
    ),
    # optax's one-cycles when two boundaries coincide (its dict keeps the later scale)
    Spec(
        "linear_onecycle_schedule", dict(transition_steps=100, peak_value=1.0, pct_start=0.5, pct_final=0.5)
    ),
    Spec(
        "linear_onecycle_schedule", dict(transition_steps=100, peak_value=1.0, pct_start=0.25, pct_final=1.0)
    ),
    Spec("cosine_onecycle_schedule", dict(transition_steps=100, peak_value=1.0, pct_start=1.0)),
    # float16 / bfloat16 steps next to integer hyperparameters they cannot represent
    Spec(
        "warmup_cosine_decay_schedule",
        dict(init_value=0.0, peak_value=1.0, warmup_steps=2049, decay_steps=3001),
    ),
    Spec("warmup_constant_schedule", dict(init_value=0.0, peak_value=1.0, warmup_steps=257)),
    # float32 rounding of t − warmup far out
    Spec("inverse_sqrt_schedule", dict(peak_value=1.0, warmup_steps=100_000_000, timescale=3)),
    # equal boundaries
    Spec("multistep_decay", dict(init_value=1.0, boundaries=[5, 5, 1000, 2**30], decay_rate=0.5)),
    Spec(
        "join_schedules",
        dict(
            schedules=[
                Spec("constant_schedule", dict(value=1.0)),
                Spec("linear_schedule", dict(init_value=1.0, end_value=0.0, transition_steps=10)),
                Spec("constant_schedule", dict(value=0.25)),
            ],
            boundaries=[100, 100],
        ),
    ),
]


# the corners of the restart schedules compile the largest programs (5-30 s each on 2 cores): a slow
# mode, which CI runs (`--slow`); the default suite covers those schedules through the properties above
# and the generic suite
LONG_CORNERS = {"repeat", "cosine_decay_restarts", "cosine_annealing_warm_restarts", "cumulative_product"}


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(s, id=f"{i}-{s.name}", marks=[pytest.mark.slow] if s.name in LONG_CORNERS else [])
        for i, s in enumerate(EDGE_CASES)
    ],
)
def test_edge_case(spec):
    failures = Failures(spec.name, f"edge case {EDGE_CASES.index(spec)}")
    for prop, check in CHECKS.items():
        sub = Failures(spec.name, prop)
        if check is check_dtypes:
            check(spec, sub, every_dtype=True)
        else:
            check(spec, sub)
        for kind, text in sub.by_kind.items():
            failures.by_kind[f"{prop}: {kind}"] = text
    failures.report()
