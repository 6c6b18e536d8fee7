"""Bad input, systematically: every public constructor, every parameter, a list of clearly invalid
values. A concrete bad value raises ValueError whose message starts with "<function>: " and names the
parameter and the value; a traced out-of-domain value gives finite output.

`TABLE` holds, per public name, the valid arguments the substitutions start from (several variants
where a mode or flag changes what is checked) and the documented domain of every parameter; generic
bad values that the domain allows (a negative `init_value`, 2**31 as a float) are skipped.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import pytest

import optax_lrs as o

F32_MAX = float(np.finfo(np.float32).max)


class _Opaque:
    """An object that is not a number, a schedule or a callable."""

    def __repr__(self) -> str:
        return "<opaque>"


# the clearly invalid values every parameter is tried with (a value the parameter's domain allows is
# skipped for that parameter)
GENERIC: list[Any] = [
    None,
    "abc",
    "false",
    [1, 2],
    {"a": 1},
    complex(1, 2),
    float("nan"),
    float("inf"),
    -float("inf"),
    1e39,
    -1e39,
    2**31,
    -(2**31) - 1,
    10**30,
    _Opaque(),
    True,
    np.array(["x"]),
    np.array([1 + 2j]),
]


def _f32(v: float) -> float:
    return float(np.float32(v))


@dataclasses.dataclass(frozen=True)
class Num:
    """A numeric hyperparameter: a float32-finite real ("float") or an int32 integer ("int"), inside
    the domain `ok(v, kwargs)` (kwargs: the other arguments); `bad` adds domain violations."""

    kind: str
    ok: Callable[[float, dict], bool] = lambda v, kw: True
    bad: tuple[Any, ...] = ()
    optional: bool = False  # None is allowed (the parameter's default)

    def valid(self, v: Any, kw: dict) -> bool:
        if v is None:
            return self.optional
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        if not math.isfinite(v) or abs(v) > F32_MAX:
            return False
        if self.kind == "int" and (v != int(v) or not -(2**31) <= v < 2**31):
            return False
        # the domain holds for the values the schedule stores (1e-50 is 0 in float32)
        kw = {k: _f32(x) if isinstance(x, float) else x for k, x in kw.items()}
        return bool(self.ok(_f32(v) if self.kind == "float" else v, kw))

    def candidates(self) -> list[Any]:
        return GENERIC + list(self.bad) + ([3.7, np.float64(-0.5)] if self.kind == "int" else [])


@dataclasses.dataclass(frozen=True)
class Flag:
    """A boolean flag: only `True`, `False` (and numpy bools)."""

    def valid(self, v: Any, kw: dict) -> bool:
        return isinstance(v, (bool, np.bool_))

    def candidates(self) -> list[Any]:
        return GENERIC + [0, 1, "true", np.int64(1), 1.0]


@dataclasses.dataclass(frozen=True)
class Choice:
    """A mode string out of `options`."""

    options: tuple[str, ...]

    def valid(self, v: Any, kw: dict) -> bool:
        return isinstance(v, str) and v in self.options

    def candidates(self) -> list[Any]:
        return GENERIC + [0, "", self.options[0].upper(), self.options[0] + " "]


@dataclasses.dataclass(frozen=True)
class Sched:
    """A schedule argument: a Schedule, any callable of the step, or a float32-finite number (in the
    domain `ok`, with `bad` violations, as for `Num`)."""

    ok: Callable[[float, dict], bool] = lambda v, kw: True
    bad: tuple[Any, ...] = ()

    def valid(self, v: Any, kw: dict) -> bool:
        return Num("float", self.ok).valid(v, kw)

    def candidates(self) -> list[Any]:
        return GENERIC + list(self.bad)


@dataclasses.dataclass(frozen=True)
class Static:
    """A static integer (an array length, part of the pytree structure): an int32 integer in the
    domain `ok`, concrete only (never traced: the traced test leaves it alone)."""

    ok: Callable[[float, dict], bool] = lambda v, kw: True
    bad: tuple[Any, ...] = ()

    def valid(self, v: Any, kw: dict) -> bool:
        return Num("int", self.ok).valid(v, kw)

    def candidates(self) -> list[Any]:
        return GENERIC + list(self.bad) + [3.7, np.float64(-0.5)]


@dataclasses.dataclass(frozen=True)
class Other:
    """A structured parameter (boundaries, a list of schedules, ...): the generic values are all
    invalid but those in `allowed`; `bad` adds values invalid for this parameter. `traced` names the
    numbers inside it that the traced test replaces: (path inside the argument, "int" or "float")."""

    bad: tuple[Any, ...] = ()
    allowed: tuple[Any, ...] = ()
    traced: tuple[tuple[tuple[Any, ...], str], ...] = ()

    def valid(self, v: Any, kw: dict) -> bool:
        return any(v is a for a in self.allowed)

    def candidates(self) -> list[Any]:
        return GENERIC + list(self.bad)


def _r(ok=lambda v, kw: True, bad=(), optional=False):
    return Num("float", ok, bad, optional)


def _i(ok=lambda v, kw: True, bad=(), optional=False):
    return Num("int", ok, bad, optional)


REAL = _r()
REAL_OPT = _r(optional=True)
NON_NEG = _r(lambda v, kw: v >= 0, (-0.0731, -1e-30))
POSITIVE = _r(lambda v, kw: v > 0, (0.0, -0.0731, 1e-50))  # 1e-50 is 0 in float32
AT_LEAST_1 = _r(lambda v, kw: v >= 1, (0.93, 0.0))
UNIT = _r(lambda v, kw: 0 <= v <= 1, (-0.0731, 1.07))
STEPS = _i()  # optax's fallbacks: <= 0 reads as a constant / as 0
STEPS_NON_NEG = _i(lambda v, kw: v >= 0, (-1, -37))
STEPS_POS = _i(lambda v, kw: v > 0, (0, -37))

C = o.cosine_decay_schedule(0.0731, 37)
OPS = ("add", "sub", "mul", "div", "min", "max")


def _damped(t, lr):
    return lr / (1.0 + t)


@dataclasses.dataclass
class Entry:
    variants: list[dict[str, Any]]
    params: dict[str, Any]


WARMUP_COSINE = dict(init_value=0.0131, peak_value=0.731, warmup_steps=37, decay_steps=211, end_value=0.0071)
WARMUP_COSINE_PARAMS = {
    "init_value": REAL,
    "peak_value": REAL,
    "warmup_steps": _i(lambda v, kw: 0 <= v < kw["decay_steps"], (-1, 211, 300)),
    "decay_steps": _i(lambda v, kw: v > kw["warmup_steps"] and v > 0, (0, 37, 20)),
    "end_value": REAL,
    "exponent": NON_NEG,
}

TABLE: dict[str, Entry] = {
    "constant_schedule": Entry([dict(value=0.0731)], {"value": REAL}),
    "step_decay": Entry(
        [
            dict(init_value=0.0731, decay_rate=0.61, decay_steps=37),
            dict(init_value=0.0731, decay_rate=1.31, decay_steps=37, offset=3, end_value=0.53),
        ],
        {
            "init_value": REAL,
            "decay_rate": NON_NEG,
            "decay_steps": STEPS_POS,
            "offset": STEPS,
            "end_value": REAL_OPT,
        },
    ),
    "multistep_decay": Entry(
        [
            dict(init_value=0.0731, boundaries=[37, 101, 211], decay_rate=0.61),
            dict(init_value=0.0731, boundaries=[37, 101, 211], decay_rate=0.61, end_value=0.0011),
        ],
        {
            "init_value": REAL,
            "boundaries": Other(
                bad=(
                    [101, 37],
                    [-1, 37],
                    [3.7],
                    [[37, 101]],
                    ["a"],
                    [None],
                    [2**31],
                    [True],
                    37,
                    [complex(1, 2)],
                    [float("nan")],
                ),
                allowed=(GENERIC[3],),  # [1, 2]: two boundaries
                traced=(((1,), "int"),),
            ),
            "decay_rate": NON_NEG,
            "end_value": REAL_OPT,
        },
    ),
    "piecewise_constant_schedule": Entry(
        [dict(init_value=0.0731, boundaries_and_scales={37: 0.61, 101: 0.53})],
        {
            "init_value": REAL,
            "boundaries_and_scales": Other(
                bad=(
                    {-1: 0.5},
                    {37: -0.5},
                    {37: float("nan")},
                    {37: "0.5"},
                    {37: None},
                    {37: 1e39},
                    {37: [0.5]},
                    {37: True},
                    {2**31: 0.5},
                    {3.7: 0.5},
                    {"a": 0.5},
                    {True: 0.5},
                    {None: 0.5},
                    [(37,)],
                    [(37, 0.5, 1)],
                    [37],
                    37,
                ),
                allowed=(None,),
                traced=(((37,), "float"),),
            ),
        },
    ),
    "exponential_decay": Entry(
        [
            dict(init_value=0.0731, transition_steps=37, decay_rate=0.61),
            dict(
                init_value=0.0731,
                transition_steps=37,
                decay_rate=0.61,
                transition_begin=11,
                staircase=True,
                end_value=0.0011,
            ),
        ],
        {
            "init_value": REAL,
            "transition_steps": STEPS,
            "decay_rate": NON_NEG,
            "transition_begin": STEPS,
            "staircase": Flag(),
            "end_value": REAL_OPT,
        },
    ),
    "natural_exp_decay": Entry(
        [
            dict(init_value=0.0731, decay_rate=0.061, decay_steps=37),
            dict(init_value=0.0731, decay_rate=0.061, decay_steps=37, staircase=True),
        ],
        {"init_value": REAL, "decay_rate": NON_NEG, "decay_steps": STEPS_POS, "staircase": Flag()},
    ),
    "inverse_time_decay": Entry(
        [
            dict(init_value=0.0731, decay_rate=0.061, decay_steps=37),
            dict(init_value=0.0731, decay_rate=0.061, decay_steps=37, staircase=True),
        ],
        {"init_value": REAL, "decay_rate": NON_NEG, "decay_steps": STEPS_POS, "staircase": Flag()},
    ),
    "polynomial_schedule": Entry(
        [dict(init_value=0.731, end_value=0.0131, power=1.7, transition_steps=211, transition_begin=11)],
        {
            "init_value": REAL,
            "end_value": REAL,
            "power": NON_NEG,
            "transition_steps": STEPS,
            "transition_begin": STEPS,
        },
    ),
    "linear_schedule": Entry(
        [dict(init_value=0.731, end_value=0.0131, transition_steps=211, transition_begin=11)],
        {"init_value": REAL, "end_value": REAL, "transition_steps": STEPS, "transition_begin": STEPS},
    ),
    "polynomial_decay": Entry(
        [
            dict(init_value=0.731, decay_steps=211, end_value=0.0131, power=0.9),
            dict(init_value=0.731, decay_steps=211, end_value=0.0131, power=0.9, cycle=True),
        ],
        {
            "init_value": REAL,
            "decay_steps": STEPS_POS,
            "end_value": REAL,
            "power": NON_NEG,
            "cycle": Flag(),
        },
    ),
    "k_decay": Entry(
        [dict(init_value=0.731, decay_steps=211, end_value=0.0131, k=2.7, power=3.1)],
        {
            "init_value": REAL,
            "decay_steps": STEPS_POS,
            "end_value": REAL,
            "k": POSITIVE,
            "power": NON_NEG,
        },
    ),
    "cosine_decay_schedule": Entry(
        [dict(init_value=0.731, decay_steps=211, alpha=0.031, exponent=1.7)],
        {"init_value": REAL, "decay_steps": STEPS_POS, "alpha": REAL, "exponent": NON_NEG},
    ),
    "exponential_decay_with_burnin": Entry(
        [
            dict(
                init_value=0.0731,
                decay_steps=37,
                decay_rate=0.61,
                burnin_value=0.0011,
                burnin_steps=11,
                min_value=0.0003,
            ),
            dict(init_value=0.0731, decay_steps=37, decay_rate=0.61, burnin_steps=11, staircase=False),
        ],
        {
            "init_value": REAL,
            "decay_steps": STEPS_POS,
            "decay_rate": NON_NEG,
            "burnin_value": REAL,
            "burnin_steps": STEPS_NON_NEG,
            "min_value": REAL,
            "staircase": Flag(),
        },
    ),
    "cosine_decay_restarts": Entry(
        [
            dict(init_value=0.731, first_decay_steps=37, t_mul=1.7, m_mul=0.81, alpha=0.031),
            dict(init_value=0.731, first_decay_steps=37, t_mul=1.0, m_mul=0.81, alpha=0.031),
        ],
        {
            "init_value": REAL,
            "first_decay_steps": STEPS_POS,
            "t_mul": AT_LEAST_1,
            "m_mul": UNIT,
            "alpha": REAL,
        },
    ),
    "cosine_annealing_warm_restarts": Entry(
        [
            dict(
                max_value=0.731,
                first_period=7,
                period_mult=1.7,
                min_value=0.0131,
                decay=0.81,
                steps_per_period_unit=11,
            ),
            dict(max_value=0.731, first_period=7),
        ],
        {
            "max_value": REAL,
            "first_period": STEPS_POS,
            "period_mult": AT_LEAST_1,
            "min_value": REAL,
            "decay": UNIT,
            "steps_per_period_unit": STEPS_POS,
        },
    ),
    "sgdr_schedule": Entry(
        [dict(cosine_kwargs=[WARMUP_COSINE, dict(WARMUP_COSINE, peak_value=0.37)])],
        {
            "cosine_kwargs": Other(
                bad=(
                    [],
                    [None],
                    ["abc"],
                    [1],
                    [[1, 2]],
                    [dict(init_value=0.0131)],
                    [dict(WARMUP_COSINE, bogus=1)],
                    [dict(WARMUP_COSINE, decay_steps=2**31 - 1)] * 3,  # ends past int32
                    WARMUP_COSINE,
                ),
                traced=tuple(((0, p), spec.kind) for p, spec in WARMUP_COSINE_PARAMS.items()),
            )
        },
    ),
    "warmup_cosine_decay_schedule": Entry([WARMUP_COSINE], WARMUP_COSINE_PARAMS),
    "warmup_hold_cosine_decay": Entry(
        [dict(peak_value=0.731, total_steps=211, init_value=0.0131, warmup_steps=37, hold_steps=11)],
        {
            "peak_value": REAL,
            "total_steps": _i(
                lambda v, kw: v > 0 and v >= kw["warmup_steps"] + kw["hold_steps"], (0, -1, 47)
            ),
            "init_value": REAL,
            "warmup_steps": _i(lambda v, kw: 0 <= v <= kw["total_steps"] - kw["hold_steps"], (-1, 201)),
            "hold_steps": _i(lambda v, kw: 0 <= v <= kw["total_steps"] - kw["warmup_steps"], (-1, 175)),
            "end_value": REAL,
        },
    ),
    "warmup_constant_schedule": Entry(
        [dict(init_value=0.0131, peak_value=0.731, warmup_steps=37)],
        {"init_value": REAL, "peak_value": REAL, "warmup_steps": STEPS},
    ),
    "warmup_exponential_decay_schedule": Entry(
        [
            dict(init_value=0.0131, peak_value=0.731, warmup_steps=37, transition_steps=11, decay_rate=0.61),
            dict(
                init_value=0.0131,
                peak_value=0.731,
                warmup_steps=37,
                transition_steps=11,
                decay_rate=0.61,
                transition_begin=7,
                staircase=True,
                end_value=0.0031,
            ),
        ],
        {
            "init_value": REAL,
            "peak_value": REAL,
            "warmup_steps": STEPS,
            "transition_steps": STEPS,
            "decay_rate": NON_NEG,
            "transition_begin": STEPS,
            "staircase": Flag(),
            "end_value": REAL_OPT,
        },
    ),
    "piecewise_interpolate_schedule": Entry(
        [
            dict(interpolate_type="linear", init_value=0.731, boundaries_and_scales={37: 0.61, 101: 0.53}),
            dict(interpolate_type="cosine", init_value=0.731, boundaries_and_scales=[(37, 0.61)]),
        ],
        {
            "interpolate_type": Choice(("linear", "cosine")),
            "init_value": REAL,
            "boundaries_and_scales": Other(
                bad=({-1: 0.5}, {37: -0.5}, {37: "0.5"}, {37: None}, {2**31: 0.5}, {3.7: 0.5}, [(37,)], 37),
                allowed=(None,),
                traced=(((37,), "float"),),
            ),
        },
    ),
    "linear_onecycle_schedule": Entry(
        [
            dict(
                transition_steps=211,
                peak_value=0.731,
                pct_start=0.27,
                pct_final=0.81,
                div_factor=23.0,
                final_div_factor=997.0,
            )
        ],
        {
            "transition_steps": STEPS_POS,
            "peak_value": REAL,
            "pct_start": _r(lambda v, kw: 0 <= v <= kw["pct_final"], (-0.0731, 0.93, 1.07)),
            "pct_final": _r(lambda v, kw: kw["pct_start"] <= v <= 1, (0.13, 1.07)),
            "div_factor": POSITIVE,
            "final_div_factor": POSITIVE,
        },
    ),
    "cosine_onecycle_schedule": Entry(
        [
            dict(
                transition_steps=211,
                peak_value=0.731,
                pct_start=0.27,
                div_factor=23.0,
                final_div_factor=997.0,
            )
        ],
        {
            "transition_steps": STEPS_POS,
            "peak_value": REAL,
            "pct_start": UNIT,
            "div_factor": POSITIVE,
            "final_div_factor": POSITIVE,
        },
    ),
    "transformer_schedule": Entry(
        [dict(d_model=384.0, warmup_steps=37, scale=1.3)],
        {"d_model": POSITIVE, "warmup_steps": STEPS_POS, "scale": REAL},
    ),
    "cyclic_schedule": Entry(
        [
            dict(base_value=0.0131, max_value=0.731, step_size_up=37, step_size_down=11, gamma=0.97),
            dict(base_value=0.0131, max_value=0.731, step_size_up=37, mode="triangular2"),
            dict(base_value=0.0131, max_value=0.731, step_size_up=37, mode="exp_range", gamma=0.97),
        ],
        {
            "base_value": REAL,
            "max_value": REAL,
            "step_size_up": STEPS_POS,
            "step_size_down": _i(lambda v, kw: v > 0, (0, -37), optional=True),
            "mode": Choice(("triangular", "triangular2", "exp_range")),
            "gamma": UNIT,
        },
    ),
    "one_cycle_schedule": Entry(
        [
            dict(max_value=0.731, total_steps=211, pct_start=0.27, div_factor=23.0, final_div_factor=997.0),
            dict(max_value=0.731, total_steps=211, pct_start=0.27, anneal="linear", three_phase=True),
        ],
        {
            "max_value": REAL,
            "total_steps": STEPS_POS,
            "pct_start": _r(lambda v, kw: 0 < v < 1, (0.0, 1.0, -0.0731)),
            "anneal": Choice(("cos", "linear")),
            "div_factor": POSITIVE,
            "final_div_factor": POSITIVE,
            "three_phase": Flag(),
        },
    ),
    "one_cycle_momentum": Entry(
        [
            dict(total_steps=211, pct_start=0.27, base_momentum=0.8137, max_momentum=0.9431),
            dict(total_steps=211, pct_start=0.4913, anneal="linear", three_phase=True),
        ],
        {
            "total_steps": STEPS_POS,
            "pct_start": _r(lambda v, kw: 0 < v < 1, (0.0, 1.0, -0.0731)),
            "anneal": Choice(("cos", "linear")),
            "base_momentum": UNIT,
            "max_momentum": UNIT,
            "three_phase": Flag(),
        },
    ),
    "cyclic_momentum": Entry(
        [
            dict(step_size_up=37, step_size_down=11, base_momentum=0.8137, max_momentum=0.9431),
            dict(step_size_up=37, mode="triangular2"),
            dict(step_size_up=37, mode="exp_range", gamma=0.97),
        ],
        {
            "step_size_up": STEPS_POS,
            "step_size_down": _i(lambda v, kw: v > 0, (0, -37), optional=True),
            "base_momentum": UNIT,
            "max_momentum": UNIT,
            "mode": Choice(("triangular", "triangular2", "exp_range")),
            "gamma": UNIT,
        },
    ),
    "wsd_schedule": Entry(
        [
            dict(peak_value=0.731, warmup_steps=37, stable_steps=101, decay_steps=73, init_value=0.0131),
            dict(peak_value=0.731, warmup_steps=37, stable_steps=101, decay_steps=73, decay_shape="1-sqrt"),
        ],
        {
            "peak_value": REAL,
            "warmup_steps": STEPS_NON_NEG,
            "stable_steps": STEPS_NON_NEG,
            "decay_steps": STEPS_NON_NEG,
            "init_value": REAL,
            "end_value": REAL,
            "decay_shape": Choice(("linear", "cosine", "1-sqrt", "square", "sqrt")),
        },
    ),
    "inverse_sqrt_schedule": Entry(
        [dict(peak_value=0.731, warmup_steps=37), dict(peak_value=0.731, warmup_steps=37, timescale=101)],
        {
            "peak_value": REAL,
            "warmup_steps": STEPS_NON_NEG,
            "timescale": _i(lambda v, kw: v > 0, (0, -37), optional=True),
        },
    ),
    "tanh_decay": Entry(
        [dict(init_value=0.731, decay_steps=211, end_value=0.0131, lower=-6.1, upper=2.7)],
        {
            "init_value": REAL,
            "decay_steps": STEPS_POS,
            "end_value": REAL,
            "lower": _r(lambda v, kw: v < kw["upper"], (2.7, 3.1)),
            "upper": _r(lambda v, kw: v > kw["lower"], (-6.1, -7.3)),
        },
    ),
    "tri_stage_schedule": Entry(
        [
            dict(
                peak_value=0.731,
                warmup_steps=37,
                hold_steps=11,
                decay_steps=73,
                init_scale=0.031,
                final_scale=0.013,
            )
        ],
        {
            "peak_value": REAL,
            "warmup_steps": STEPS_NON_NEG,
            "hold_steps": STEPS_NON_NEG,
            "decay_steps": STEPS_NON_NEG,
            "init_scale": REAL,
            "final_scale": POSITIVE,
        },
    ),
    # compositions
    "warmup": Entry(
        [
            dict(schedule=C, warmup_steps=37, init_value=0.0131),
            dict(schedule=C, warmup_steps=37, init_value=0.0131, mode="cosine", shift=False),
            dict(schedule=C, warmup_steps=37, init_value=0.0131, mode="exponential"),
            dict(schedule=C, warmup_steps=37, init_value=0.0131, mode="constant"),
            dict(schedule=C, warmup_steps=37, init_value=0.0131, mode="scale", shift=False),
        ],
        {
            "schedule": Sched(),
            "warmup_steps": STEPS_NON_NEG,
            "init_value": _r(lambda v, kw: v > 0 or kw.get("mode") != "exponential", (-0.0731,)),
            "mode": Choice(("linear", "cosine", "exponential", "constant", "scale")),
            "shift": Flag(),
        },
    ),
    "join_schedules": Entry(
        [dict(schedules=[C, 0.0131], boundaries=[37])],
        {
            "schedules": Other(
                bad=([], [None, C], ["abc", C], [C, [1, 2]], [C, object()], C, (s for s in [C, C])),
                allowed=(GENERIC[3],),  # [1, 2]: two constants
                traced=(((1,), "float"),),
            ),
            "boundaries": Other(
                bad=([], [-1], [3.7], [[37]], ["a"], [None], [2**31], 37, [37, 101]),
                traced=(((0,), "int"),),
            ),
        },
    ),
    "select": Entry(
        [dict(schedules=[C, 0.0131], index=1)],
        {
            "schedules": Other(
                bad=([], [None, C], ["abc", C], C), allowed=(GENERIC[3],), traced=(((1,), "float"),)
            ),
            "index": _i(lambda v, kw: 0 <= v < 2, (-1, 2)),
        },
    ),
    "binary": Entry(
        [dict(op=op, left=C, right=0.37) for op in OPS],
        {
            "op": Choice(OPS),
            "left": Sched(),
            "right": Sched(lambda v, kw: v != 0 or kw["op"] != "div", (0.0, 0, 1e-50)),
        },
    ),
    "clip": Entry(
        [dict(schedule=C, min_value=0.0131, max_value=0.37), dict(schedule=C)],
        {
            "schedule": Sched(),
            "min_value": _r(lambda v, kw: kw.get("max_value") is None or v <= kw["max_value"], (0.5,), True),
            "max_value": _r(lambda v, kw: kw.get("min_value") is None or v >= kw["min_value"], (0.01,), True),
        },
    ),
    "shift": Entry([dict(schedule=C, steps=37)], {"schedule": Sched(), "steps": STEPS}),
    "per_epoch": Entry(
        [dict(schedule=C, steps_per_epoch=37), dict(schedule=C, steps_per_epoch=37, ticks=3)],
        {
            "schedule": Sched(),
            "steps_per_epoch": _i(lambda v, kw: v > 0 and v * kw.get("ticks", 1) < 2**31, (0, -37)),
            # steps_per_epoch · ticks is formed in int32
            "ticks": _i(lambda v, kw: v >= 1 and v * kw["steps_per_epoch"] < 2**31, (0, -3, 2**26)),
        },
    ),
    "time_warp": Entry(
        [dict(schedule=C, steps=37, k=1.7), dict(schedule=C, steps=53, k=0.43)],
        {"schedule": Sched(), "steps": STEPS_POS, "k": POSITIVE},
    ),
    "cumulative_product": Entry(
        [dict(schedule=C, length=37), dict(schedule=0.9731, length=1000)],
        # the length is an array shape: a concrete integer, written as a number (not the text "37")
        {"schedule": Sched(), "length": Static(lambda v, kw: v >= 1, (0, -37, "37"))},
    ),
    "staircase": Entry([dict(schedule=C, every=37)], {"schedule": Sched(), "every": STEPS_POS}),
    "ema_warmup": Entry(
        [dict(gamma=1.3, power=0.71, max_decay=0.9731), dict()],
        {"gamma": POSITIVE, "power": NON_NEG, "max_decay": UNIT},
    ),
    "swa_schedule": Entry(
        [
            dict(schedule=C, swa_start=37, swa_value=0.0371, anneal_steps=7),
            dict(schedule=C, swa_start=37, swa_value=0.0371, anneal_steps=0, anneal="linear"),
        ],
        {
            "schedule": Sched(),
            "swa_start": STEPS_NON_NEG,
            "swa_value": REAL,
            "anneal_steps": STEPS_NON_NEG,
            "anneal": Choice(("cos", "linear")),
        },
    ),
    "repeat": Entry(
        [
            dict(schedule=C, period=37, period_mult=1.7, decay=0.81),
            dict(schedule=C, period=37),
            dict(schedule=C, period=75, ticks=2),
            dict(schedule=C, period=41, period_mult=1.37, decay=0.83, ticks=3),
        ],
        {
            "schedule": Sched(),
            "period": _i(lambda v, kw: v > 0 and v * kw.get("ticks", 1) < 2**31, (0, -37)),
            "period_mult": AT_LEAST_1,
            "decay": UNIT,
            # period · ticks is formed in int32
            "ticks": _i(lambda v, kw: v >= 1 and v * kw["period"] < 2**31, (0, -3, 2**26)),
        },
    ),
    "from_fn": Entry(
        [dict(fn=_damped, lr=0.0731)],
        {
            "fn": Other(bad=("no_such_module:f", "math:no_such_function", "math")),
            "lr": REAL,
        },
    ),
}

# public functions outside the registry, checked the same way (their messages name themselves)
UNREGISTERED: dict[str, Entry] = {
    "minimum": Entry([dict(a=C, b=0.37)], {"a": Sched(), "b": Sched()}),
    "maximum": Entry([dict(a=C, b=0.37)], {"a": Sched(), "b": Sched()}),
    "scale": Entry([dict(schedule=C, factor=0.37)], {"schedule": Sched(), "factor": Sched()}),
}
ALL = {**TABLE, **UNREGISTERED}


def _shown(v: Any) -> str:
    return repr(v.tolist()) if isinstance(v, (np.ndarray, np.generic)) else repr(v)


def invalid_calls(name: str) -> list[tuple[dict[str, Any], str, Any]]:
    """(arguments, parameter, bad value) for every invalid substitution into every variant of `name`,
    sgdr's per-cycle arguments included (as `cosine_kwargs[0]`)."""
    entry = ALL[name]
    calls = []
    for base in entry.variants:
        for param, spec in entry.params.items():
            for v in spec.candidates():
                if not spec.valid(v, {k: x for k, x in base.items() if k != param}):
                    calls.append(({**base, param: v}, param, v))
    if name == "sgdr_schedule":
        cycles = TABLE["sgdr_schedule"].variants[0]["cosine_kwargs"]
        for kwargs, param, v in invalid_calls("warmup_cosine_decay_schedule"):
            calls.append((dict(cosine_kwargs=[kwargs, cycles[1]]), f"cosine_kwargs[0]: {param}", v))
    return calls


def _check_call(name: str, kwargs: dict[str, Any], param: str, v: Any) -> str | None:
    """None when the call raises the ValueError it should, else what went wrong."""
    label = f"{name}({param}={_shown(v)[:60]})"
    try:
        getattr(o, name)(**kwargs)
    except ValueError as e:
        msg = str(e)
        names = param.split(": ")
        if not msg.startswith(f"{name}: ") or not all(n in msg for n in names):
            return f"{label}: ValueError without the function and parameter: {msg[:200]}"
        # containers may be reported by their element (schedules[0] must be ..., got 'x')
        if not isinstance(v, (dict, list, tuple, np.ndarray)) and _shown(v) not in msg:
            return f"{label}: the value is not shown: {msg[:200]}"
        return None
    except Exception as e:  # noqa: BLE001 - every other exception is the failure reported
        return f"{label}: {type(e).__name__}: {str(e)[:200]}"
    return f"{label}: accepted"


def test_table_covers_every_public_constructor_and_parameter():
    assert set(TABLE) == set(o.available())
    for name, entry in ALL.items():
        sig = inspect.signature(getattr(o, name)).parameters
        named = [k for k, p in sig.items() if p.kind is not p.VAR_KEYWORD]
        assert set(named) <= set(entry.params), (name, named)
        for base in entry.variants:
            getattr(o, name)(**base)  # every variant is valid
            for param, spec in entry.params.items():
                if param in base and isinstance(spec, (Num, Flag, Choice)):
                    assert spec.valid(base[param], base), (name, param)
        for param, spec in entry.params.items():
            # the table's own violations are invalid for some variant
            for v in getattr(spec, "bad", ()):
                assert not all(spec.valid(v, base) for base in entry.variants), (name, param, v)


def test_the_generator_runs_enough_calls():
    total = sum(len(invalid_calls(name)) for name in ALL)
    assert total >= 5000, total


@pytest.mark.parametrize("name", sorted(ALL))
def test_invalid_arguments_raise_value_error(name):
    failures = [f for kwargs, p, v in invalid_calls(name) if (f := _check_call(name, kwargs, p, v))]
    assert not failures, f"{len(failures)} bad calls:\n" + "\n".join(failures)


def test_stack_and_grid_reject_bad_input():
    cases = [
        (lambda: o.stack(None), "stack: schedules"),
        (lambda: o.stack("abc"), "stack: schedules"),
        (lambda: o.stack(C), "stack: schedules"),
        (lambda: o.stack([C, 0.37]), "stack: schedules[1]"),
        (lambda: o.stack([C, None]), "stack: schedules[1]"),
        (lambda: o.stack([]), "stack: schedules"),
        (lambda: o.grid(None, init_value=[0.1]), "grid: constructor"),
        (lambda: o.grid("cosine", init_value=[0.1]), "grid: constructor"),
        (lambda: o.grid(o.minimum, a=[C], b=0.1), "grid: constructor"),
        (lambda: o.grid(lambda **kw: C, init_value=[0.1]), "grid: constructor"),
        (lambda: o.grid(o.cosine_decay_schedule, init_value=[], decay_steps=37), "grid: init_value"),
        (lambda: o.grid(o.cosine_decay_schedule, init_value=0.1, decay_steps=37), "grid: give at least one"),
        (
            lambda: o.grid(o.cosine_decay_schedule, init_value=[0.1, "a"], decay_steps=37),
            "cosine_decay_schedule: ",
        ),
        (
            lambda: o.grid(o.multistep_decay, init_value=1.0, boundaries=[[1], [2, 3]], decay_rate=0.5),
            "stack: ",
        ),
    ]
    for build, start in cases:
        with pytest.raises(ValueError) as info:
            build()
        assert str(info.value).startswith(start), str(info.value)


# --------------------------------------------------------------------------------------------------
# traced out-of-domain hyperparameters: nothing is checked, the output stays finite

TRACED_STEPS = np.array([0, 1, 7, 10**6, 2**31 - 1], np.int32)
OUT_OF_DOMAIN = {
    "float": np.array([-3e38, -7.31, -1e-38, 0.0, 1e-45, 1e-38, 0.37, 3e38], np.float32),
    "int": np.array([-(2**31), -37, -1, 0, 1, 2**31 - 1], np.int32),
}

# (name, hyperparameter) whose traced out-of-domain values may give inf or NaN: none (every schedule's
# output is clamped to the float range, NaN read as 0); an entry here would have to be justified
NOT_YET_FINITE: set[tuple[str, str]] = set()


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _with(tree: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of the nested lists/dicts `tree` with the number at `path` replaced."""
    if not path:
        return value
    copy = dict(tree) if isinstance(tree, dict) else list(tree)
    copy[path[0]] = _with(tree[path[0]], path[1:], value)
    return copy


def traced_numbers(name: str, base: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    """Path -> kind of every number of the arguments that the traced test replaces."""
    out = {}
    for param, spec in ALL[name].params.items():
        value = base.get(param)
        if isinstance(spec, (Num, Sched)) and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[(param,)] = getattr(spec, "kind", "float")
        for sub, kind in getattr(spec, "traced", ()):
            try:
                inner = _get(value, sub)
            except (KeyError, IndexError, TypeError):
                continue
            if isinstance(inner, (int, float)):
                out[(param, *sub)] = kind
    return out


def _nonfinite(name: str, base: dict[str, Any]) -> dict[str, list[str]]:
    """For each replaced number of `base`, the out-of-domain values (and steps) giving inf or NaN:
    one jit per variant, one vmap over every (number, value) row."""
    params = inspect.signature(getattr(o, name)).parameters.items()
    base = {**{k: p.default for k, p in params if p.default is not p.empty}, **base}
    paths = traced_numbers(name, base)
    if not paths:
        return {}
    rows = [(path, v) for path, kind in paths.items() for v in OUT_OF_DOMAIN[kind]]
    columns = {
        path: np.array([v if p == path else _get(base, path) for p, v in rows], OUT_OF_DOMAIN[kind].dtype)
        for path, kind in paths.items()
    }

    def one(column):
        kwargs = dict(base)
        for path, x in zip(paths, column):
            kwargs = _with(kwargs, path, x)
        return getattr(o, name)(**kwargs)(TRACED_STEPS)

    out = np.asarray(jax.jit(jax.vmap(one))(list(columns.values())))
    bad: dict[str, list[str]] = {}
    for (path, v), values in zip(rows, out):
        if not np.all(np.isfinite(values)):
            label = ".".join(map(str, path))
            bad.setdefault(label, []).append(f"{v!r} -> {values.tolist()}")
    return bad


@pytest.mark.parametrize("name", sorted(TABLE))
def test_traced_out_of_domain_values_give_finite_output(name):
    found: dict[str, list[str]] = {}
    for base in TABLE[name].variants:
        for label, cases in _nonfinite(name, base).items():
            found.setdefault(label, []).extend(cases)
    known = {label for n, label in NOT_YET_FINITE if n == name}
    new = {k: v for k, v in found.items() if k not in known}
    assert not new, f"{name}: inf/NaN at steps {TRACED_STEPS.tolist()}:\n" + "\n".join(
        f"  {k}: {'; '.join(v[:4])}" for k, v in new.items()
    )
    assert known <= set(found), f"{name}: now finite, remove from NOT_YET_FINITE: {known - set(found)}"
