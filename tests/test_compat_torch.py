"""`optax_lrs.compat.torch` against PyTorch's own schedulers, run here.

Every expected value is PyTorch's: an SGD optimizer on one dummy parameter, the scheduler, and the
`lr` (or `momentum`) in its param group before each of N updates, `scheduler.step()` being called
after every update (or after every `steps_per_epoch` updates for the epoch-stepped variants). That is
the value for optax's count k (0 on the first update). Ours are read three ways at every step
0 .. N − 1 (so at every boundary ± 1 and, for the periodic ones, several periods past the end): as one
vector of steps, as a traced int32 scalar under `jax.jit`, and eagerly per Python int (two SequentialLR
composites of pieces that are each read three ways on their own only as a vector, for compile time).
Hyperparameters are non-round (lr 0.0731, step_size 7, gamma 0.83, T_max 37, T_0 11, ...), three or
more sets per entry, epoch-stepped variants included.

Tolerance (float32 against torch's float64): |ours − torch| <= ATOL·peak + (RTOL + k·EPS32)·|torch|.
- RTOL = 8·EPS32 ≈ 4.8e-7 (4 float32 ulps): the hyperparameters are rounded to float32 (½ ulp each)
  and a product, a division, a cosine add an ulp or two.
- k·EPS32: a power gamma^k of a float32-rounded gamma carries k times gamma's rounding (ExponentialLR
  after 150 steps: ≈ 9e-6). k is each case's largest exponent (0 where nothing is raised to a power).
- ATOL = 4·EPS32 of the peak lr: near a cosine's or a ramp's zero the relative error of a value
  ≈ 0 is meaningless; float32 rounds the phase π·t/T and the terms of size lr to ~EPS32·lr.
Torch's chainable `step()` recurrences agree with their closed forms to ~1e-14 (float64 error
accumulated over 150 steps), far inside these tolerances; the comparison is with the recurrence.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_lrs as o

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as L  # noqa: E402
from torch.optim.swa_utils import SWALR as TorchSWALR  # noqa: E402

from optax_lrs.compat import torch as tc  # noqa: E402

N = 150
LR = 0.0731
EPS32 = 2.0**-24  # the relative rounding of one float32 operation (half an ulp at 1)
RTOL = 8 * EPS32
ATOL = 4 * EPS32
INT32_MAX = 2**31 - 1


# user functions for LambdaLR / CyclicLR(scale_fn): jnp-traceable and importable (for configs)
def decay_095(epoch):
    return 0.95**epoch


def warm_then_step(epoch):
    return jnp.where(epoch < 5, (epoch + 1) / 5, 0.83 ** (epoch // 7))


def shrinking_cycles(cycle):
    return 1.0 / (1.0 + 0.37 * (cycle - 1))


def fading_iterations(iteration):
    return 0.9917**iteration


def test_multiplicative_lr_holds_past_num_epochs():
    """Past num_epochs no further factors are taken: the product of the 37 tabulated ones (float64)."""
    s = tc.MultiplicativeLR(0.0731, slowing_shrink, num_epochs=37, steps_per_epoch=3)
    held = 0.0731 * np.prod([np.float64(np.float32(1.0 - 0.0731 / (e + 1.7))) for e in range(1, 38)])
    steps = np.array([3 * 37 - 1, 3 * 37, 3 * 37 + 1, 10_007, INT32_MAX])
    np.testing.assert_allclose(s(steps)[1:], held, rtol=RTOL)
    assert float(s(3 * 37 - 1)) > held


def slowing_shrink(epoch):
    return 1.0 - 0.0731 / (epoch + 1.7)


def bump_then_decay(epoch):
    return jnp.where(epoch < 5, 1.13, 0.9731)


USER_FUNCTIONS = [
    decay_095,
    warm_then_step,
    shrinking_cycles,
    fading_iterations,
    slowing_shrink,
    bump_then_decay,
]


def torch_trace(make: Callable[[Any], Any], n: int = N, spe: int = 1, key: str = "lr", lr: float = LR):
    """The param group's `key` before each of n updates; the scheduler steps after every spe-th."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr, momentum=0.5)
    sched = make(opt)
    out = []
    for k in range(n):
        out.append(opt.param_groups[0][key])
        opt.step()
        if (k + 1) % spe == 0:
            sched.step()
    return np.array(out, np.float64)


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    ours: Callable[[], Any]
    theirs: Callable[[Any], Any]
    spe: int = 1  # torch stepped once every spe updates
    k: int = 0  # the largest exponent of a float32 factor (tolerance)
    n: int = N
    key: str = "lr"
    three_ways: bool = True  # False: read as a vector only (see test_equals_torch_at_every_step)


def cases() -> list[Case]:
    c = []
    # StepLR
    for ss, g, spe in [(7, 0.83, 1), (11, 0.5137, 1), (1, 0.9731, 1), (7, 0.83, 4), (3, 0.61, 3)]:
        c.append(
            Case(
                f"StepLR-{ss}-{g}-spe{spe}",
                lambda ss=ss, g=g, spe=spe: tc.StepLR(LR, ss, g, steps_per_epoch=spe),
                lambda opt, ss=ss, g=g: L.StepLR(opt, ss, g),
                spe,
                k=N // (ss * spe),
            )
        )
    # MultiStepLR: unsorted, repeated, 0, none
    for ms, g, spe in [
        ([3, 17, 17, 40], 0.83, 1),
        ([97, 5, 0, 60], 0.3137, 1),
        ([], 0.5, 1),
        ([11, 3, 3, 17], 0.61, 7),
    ]:
        c.append(
            Case(
                f"MultiStepLR-{ms}-{g}-spe{spe}",
                lambda ms=ms, g=g, spe=spe: tc.MultiStepLR(LR, ms, g, steps_per_epoch=spe),
                lambda opt, ms=ms, g=g: L.MultiStepLR(opt, ms, g),
                spe,
                k=len(ms),
            )
        )
    # ConstantLR
    for f, ti, spe in [(0.37, 13, 1), (1 / 3, 5, 1), (0.8917, 1, 1), (0.37, 13, 5)]:
        c.append(
            Case(
                f"ConstantLR-{f:.4f}-{ti}-spe{spe}",
                lambda f=f, ti=ti, spe=spe: tc.ConstantLR(LR, f, ti, steps_per_epoch=spe),
                lambda opt, f=f, ti=ti: L.ConstantLR(opt, f, ti),
                spe,
            )
        )
    # LinearLR
    for sf, ef, ti, spe in [
        (0.1237, 0.9, 23, 1),
        (1 / 3, 1.0, 5, 1),
        (0.9, 0.0, 37, 1),
        (1.0, 0.2371, 1, 1),
        (0.1237, 1.0, 13, 4),
    ]:
        c.append(
            Case(
                f"LinearLR-{sf:.4f}-{ef}-{ti}-spe{spe}",
                lambda sf=sf, ef=ef, ti=ti, spe=spe: tc.LinearLR(LR, sf, ef, ti, steps_per_epoch=spe),
                lambda opt, sf=sf, ef=ef, ti=ti: L.LinearLR(opt, sf, ef, ti),
                spe,
            )
        )
    # ExponentialLR (1.013 grows)
    for g, spe in [(0.83, 1), (0.9731, 1), (1.013, 1), (0.9731, 3)]:
        c.append(
            Case(
                f"ExponentialLR-{g}-spe{spe}",
                lambda g=g, spe=spe: tc.ExponentialLR(LR, g, steps_per_epoch=spe),
                lambda opt, g=g: L.ExponentialLR(opt, g),
                spe,
                k=N // spe,
            )
        )
    # PolynomialLR
    for ti, pw, spe in [(37, 1.0, 1), (23, 0.9, 1), (101, 2.7, 1), (13, 2.0, 4)]:
        c.append(
            Case(
                f"PolynomialLR-{ti}-{pw}-spe{spe}",
                lambda ti=ti, pw=pw, spe=spe: tc.PolynomialLR(LR, ti, pw, steps_per_epoch=spe),
                lambda opt, ti=ti, pw=pw: L.PolynomialLR(opt, ti, pw),
                spe,
            )
        )
    # CosineAnnealingLR: 150 steps are 4·37, 13·11, 6·23, 21·7 steps and 3.4·11 epochs; eta_min > lr too
    for tm, em, spe in [(37, 0.0, 1), (11, 0.0013, 1), (23, 0.05, 1), (7, 0.0917, 1), (11, 0.001, 4)]:
        c.append(
            Case(
                f"CosineAnnealingLR-{tm}-{em}-spe{spe}",
                lambda tm=tm, em=em, spe=spe: tc.CosineAnnealingLR(LR, tm, em, steps_per_epoch=spe),
                lambda opt, tm=tm, em=em: L.CosineAnnealingLR(opt, tm, em),
                spe,
            )
        )
    # CosineAnnealingWarmRestarts: restarts at 11, 33, 77 / every 7 / 5, 20, 65 / epochs 3, 9, 21
    for t0, tm, em, spe in [(11, 2, 0.0, 1), (7, 1, 0.0013, 1), (5, 3, 0.002, 1), (3, 2, 0.001, 4)]:
        c.append(
            Case(
                f"CosineAnnealingWarmRestarts-{t0}-{tm}-{em}-spe{spe}",
                lambda t0=t0, tm=tm, em=em, spe=spe: tc.CosineAnnealingWarmRestarts(
                    LR, t0, tm, em, steps_per_epoch=spe
                ),
                lambda opt, t0=t0, tm=tm, em=em: L.CosineAnnealingWarmRestarts(opt, t0, tm, em),
                spe,
            )
        )
    # CyclicLR and its momentum: modes are structure, so sets share a mode; custom scale_fn per cycle
    # (from 1) and per iteration
    mom = dict(base_momentum=0.8137, max_momentum=0.9431)
    cyclic_lr = [
        (dict(step_size_up=7, step_size_down=11), 1),
        (dict(step_size_up=13), 1),
        (dict(step_size_up=5, step_size_down=3), 3),
        (dict(step_size_up=9, step_size_down=4, mode="triangular2"), 1),
        (dict(step_size_up=5, step_size_down=3, mode="exp_range", gamma=0.9917), 1),
        (dict(step_size_up=7, step_size_down=4, scale_fn=shrinking_cycles, scale_mode="cycle"), 1),
    ]
    cyclic_momentum = [
        (dict(step_size_up=9, step_size_down=4, mode="triangular2"), 1),
        (dict(step_size_up=13, mode="triangular2"), 1),
        (dict(step_size_up=5, step_size_down=3, mode="triangular2"), 3),
        (dict(step_size_up=11, step_size_down=4, mode="exp_range", gamma=0.9731), 1),
        (dict(step_size_up=6, step_size_down=9, scale_fn=fading_iterations, scale_mode="iterations"), 1),
    ]
    for i, (kw, spe) in enumerate(cyclic_lr):
        powered = "gamma" in kw
        c.append(
            Case(
                f"CyclicLR-{i}-spe{spe}",
                lambda kw=kw, spe=spe: tc.CyclicLR(0.0131, LR, **kw, steps_per_epoch=spe),
                lambda opt, kw=kw: L.CyclicLR(opt, 0.0131, LR, **kw, cycle_momentum=False),
                spe,
                k=N if powered else 0,
            )
        )
    for i, (kw, spe) in enumerate(cyclic_momentum):
        powered = "gamma" in kw or "scale_fn" in kw
        c.append(
            Case(
                f"CyclicMomentum-{i}-spe{spe}",
                lambda kw=kw, spe=spe: tc.CyclicMomentum(**kw, **mom, steps_per_epoch=spe),
                lambda opt, kw=kw: L.CyclicLR(opt, 0.0131, LR, **kw, **mom),
                spe,
                k=N if powered else 0,
                key="momentum",
            )
        )
    # OneCycleLR and its momentum: torch steps it per update, up to total_steps − 1
    one_cycle = [
        dict(total_steps=113, pct_start=0.27, anneal_strategy="cos", three_phase=False),
        dict(total_steps=113, pct_start=0.4913, anneal_strategy="linear", three_phase=True),
        dict(epochs=7, steps_per_epoch=17, pct_start=0.3317, anneal_strategy="cos", three_phase=False),
    ]
    for i, kw in enumerate(one_cycle):
        n = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
        lr_kw = dict(div_factor=23.0, final_div_factor=997.0)
        mom = dict(base_momentum=0.8137, max_momentum=0.9431)
        c.append(
            Case(
                f"OneCycleLR-{i}",
                lambda kw=kw, lr_kw=lr_kw: tc.OneCycleLR(LR, **kw, **lr_kw),
                lambda opt, kw=kw, lr_kw=lr_kw: L.OneCycleLR(opt, LR, **kw, **lr_kw, cycle_momentum=False),
                n=n,
            )
        )
        c.append(
            Case(
                f"OneCycleMomentum-{i}",
                lambda kw=kw, mom=mom: tc.OneCycleMomentum(**kw, **mom),
                lambda opt, kw=kw, mom=mom: L.OneCycleLR(opt, LR, **kw, **mom),
                n=n,
                key="momentum",
            )
        )
    # SWALR on its own (anneal_epochs = 0: swa_lr from the start, as torch)
    for ae, st, spe in [(13, "cos", 1), (7, "linear", 1), (0, "cos", 1), (5, "cos", 4)]:
        c.append(
            Case(
                f"SWALR-{ae}-{st}-spe{spe}",
                lambda ae=ae, st=st, spe=spe: tc.SWALR(LR, 0.0173, ae, st, steps_per_epoch=spe),
                lambda opt, ae=ae, st=st: TorchSWALR(opt, 0.0173, ae, st),
                spe,
            )
        )
    # LambdaLR
    for fn, spe, k in [(decay_095, 1, N), (warm_then_step, 1, N // 7), (decay_095, 4, N // 4)]:
        c.append(
            Case(
                f"LambdaLR-{fn.__name__}-spe{spe}",
                lambda fn=fn, spe=spe: tc.LambdaLR(LR, fn, steps_per_epoch=spe),
                lambda opt, fn=fn: L.LambdaLR(opt, fn),
                spe,
                k=k,
            )
        )
    # MultiplicativeLR: a running product of the user's factors (tabulated up to num_epochs)
    for fn, spe in [(slowing_shrink, 1), (bump_then_decay, 1), (slowing_shrink, 3)]:
        c.append(
            Case(
                f"MultiplicativeLR-{fn.__name__}-spe{spe}",
                lambda fn=fn, spe=spe: tc.MultiplicativeLR(
                    LR, fn, num_epochs=N // spe + 1, steps_per_epoch=spe
                ),
                lambda opt, fn=fn: L.MultiplicativeLR(opt, fn),
                spe,
                k=N // spe,
            )
        )
    # SequentialLR: the common warmup → cosine (and on to SGDR), epoch-stepped too; four pieces with
    # a CyclicLR; an empty piece (equal milestones) and a milestone at 0
    c += [
        Case(
            "SequentialLR-linear-cosine-sgdr",
            lambda: tc.SequentialLR(
                [
                    tc.LinearLR(LR, 0.1237, 1.0, 13),
                    tc.CosineAnnealingLR(LR, 37, 0.0013),
                    tc.CosineAnnealingWarmRestarts(LR, 11, 2),
                ],
                [17, 71],
            ),
            lambda opt: L.SequentialLR(
                opt,
                [
                    L.LinearLR(opt, 0.1237, 1.0, 13),
                    L.CosineAnnealingLR(opt, 37, 0.0013),
                    L.CosineAnnealingWarmRestarts(opt, 11, 2),
                ],
                [17, 71],
            ),
            three_ways=False,
        ),
        Case(
            "SequentialLR-linear-cosine-sgdr-spe5",
            lambda: tc.SequentialLR(
                [
                    tc.LinearLR(LR, 0.1237, 1.0, 3, steps_per_epoch=5),
                    tc.CosineAnnealingLR(LR, 11, 0.0013, steps_per_epoch=5),
                    tc.CosineAnnealingWarmRestarts(LR, 3, 2, steps_per_epoch=5),
                ],
                [4, 19],
                steps_per_epoch=5,
            ),
            lambda opt: L.SequentialLR(
                opt,
                [
                    L.LinearLR(opt, 0.1237, 1.0, 3),
                    L.CosineAnnealingLR(opt, 11, 0.0013),
                    L.CosineAnnealingWarmRestarts(opt, 3, 2),
                ],
                [4, 19],
            ),
            spe=5,
            three_ways=False,
        ),
        Case(
            "SequentialLR-four",
            lambda: tc.SequentialLR(
                [
                    tc.ConstantLR(LR, 0.37, 5),
                    tc.ExponentialLR(LR, 0.97),
                    tc.StepLR(LR, 7, 0.83),
                    tc.CyclicLR(0.0131, LR, 7, 11),
                ],
                [9, 31, 60],
            ),
            lambda opt: L.SequentialLR(
                opt,
                [
                    L.ConstantLR(opt, 0.37, 5),
                    L.ExponentialLR(opt, 0.97),
                    L.StepLR(opt, 7, 0.83),
                    L.CyclicLR(opt, 0.0131, LR, 7, 11, cycle_momentum=False),
                ],
                [9, 31, 60],
            ),
            k=22,
        ),
        Case(
            "SequentialLR-empty-piece-and-0",
            lambda: tc.SequentialLR(
                [tc.ExponentialLR(LR, 0.5), tc.LinearLR(LR, 0.25), tc.PolynomialLR(LR, 41, 1.3)], [0, 0]
            ),
            lambda opt: L.SequentialLR(
                opt, [L.ExponentialLR(opt, 0.5), L.LinearLR(opt, 0.25), L.PolynomialLR(opt, 41, 1.3)], [0, 0]
            ),
        ),
    ]
    # ChainedScheduler of chainable schedulers (products of factors)
    c += [
        Case(
            "ChainedScheduler-constant-exp-step",
            lambda: tc.ChainedScheduler(
                [tc.ConstantLR(LR, 0.37, 5), tc.ExponentialLR(LR, 0.97), tc.StepLR(LR, 7, 0.83)], LR
            ),
            lambda opt: L.ChainedScheduler(
                [L.ConstantLR(opt, 0.37, 5), L.ExponentialLR(opt, 0.97), L.StepLR(opt, 7, 0.83)]
            ),
            k=N + N // 7,
        ),
        Case(
            "ChainedScheduler-linear-polynomial",
            lambda: tc.ChainedScheduler([tc.LinearLR(LR, 0.25, 1.0, 13), tc.PolynomialLR(LR, 101, 0.9)], LR),
            lambda opt: L.ChainedScheduler([L.LinearLR(opt, 0.25, 1.0, 13), L.PolynomialLR(opt, 101, 0.9)]),
        ),
        Case(
            "ChainedScheduler-spe3",
            lambda: tc.ChainedScheduler(
                [
                    tc.MultiStepLR(LR, [5, 19], 0.61, steps_per_epoch=3),
                    tc.PolynomialLR(LR, 41, 1.3, steps_per_epoch=3),
                ],
                LR,
            ),
            lambda opt: L.ChainedScheduler([L.MultiStepLR(opt, [5, 19], 0.61), L.PolynomialLR(opt, 41, 1.3)]),
            spe=3,
            k=2,
        ),
    ]
    return c


CASES = cases()
IDS = [case.id for case in CASES]


@jax.jit
def _at(sched, k):
    return sched(k)


HUGE = np.array([10**9, INT32_MAX - 1, INT32_MAX])


def assert_close(ours, expected, k: int, err_msg: str, peak: float | None = None) -> None:
    """|ours − torch| <= ATOL·peak + (RTOL + k·EPS32)·|torch| at every step (peak: of the curve)."""
    ours = np.asarray(ours, np.float64)
    peak = np.max(np.abs(expected)) if peak is None else peak
    tol = ATOL * peak + (RTOL + k * EPS32) * np.abs(expected)
    bad = np.flatnonzero(~(np.abs(ours - expected) <= tol))
    shown = bad[:8]
    assert bad.size == 0, f"{err_msg}: steps {shown} ours {ours[shown]} torch {expected[shown]}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_equals_torch_at_every_step(case):
    """Every step 0 .. n − 1 read three ways, and huge steps finite.

    Each schedule structure costs one compilation per way (2–3 s each on 2 CPU cores for one that
    holds CosineAnnealingLR's `repeat`), so the two SequentialLR cases that only chain LinearLR,
    CosineAnnealingLR and CosineAnnealingWarmRestarts, each read three ways on its own, are read
    as a vector.
    """
    expected = torch_trace(case.theirs, case.n, case.spe, case.key)
    sched = case.ours()
    steps = np.arange(case.n)
    vector = np.asarray(sched(np.concatenate([steps, HUGE])))
    assert np.all(np.isfinite(vector[case.n :])), vector[case.n :]
    modes = {"vector": vector[: case.n]}
    if case.three_ways:
        modes["jit int32 scalar"] = [_at(sched, jnp.int32(t)) for t in steps]
        modes["eager int"] = [sched(int(t)) for t in steps]
    for mode, ours in modes.items():
        assert_close(ours, expected, case.k, f"{case.id} {mode}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config_round_trip(case):
    sched = case.ours()
    config = json.loads(json.dumps(sched.to_config()))
    assert o.from_config(config, allowed_functions=USER_FUNCTIONS) == sched


@pytest.mark.parametrize(
    ("make", "make_torch", "period"),
    [
        (
            lambda: tc.CosineAnnealingLR(LR, 37, 0.0013),
            lambda opt: L.CosineAnnealingLR(opt, 37, 0.0013),
            74,
        ),
        (
            lambda: tc.CosineAnnealingWarmRestarts(LR, 7, 1, 0.0013),
            lambda opt: L.CosineAnnealingWarmRestarts(opt, 7, 1, 0.0013),
            7,
        ),
        (
            lambda: tc.CyclicLR(0.0131, LR, 7, 11),
            lambda opt: L.CyclicLR(opt, 0.0131, LR, 7, 11, cycle_momentum=False),
            18,
        ),
    ],
    ids=["CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR"],
)
def test_periodic_phase_exact_near_int32_max(make, make_torch, period):
    """Step K·period + j reads torch's value at j, for K·period just below 2**24 and just below
    2**31 − 1: integer phases, no float32 drift."""
    expected = torch_trace(make_torch, period)
    sched = make()
    for base in (2**24 // period * period, (INT32_MAX - period) // period * period):
        ours = [_at(sched, jnp.int32(base + j)) for j in range(period)]
        assert_close(ours, expected, 0, f"base {base}", peak=LR)


# --------------------------------------------------------------------------------------------------
# ReduceLROnPlateau: the existing transform, torch's names


PLATEAU = [
    dict(mode="min", factor=0.37, patience=3, threshold=0.0137, cooldown=2, min_lr=0.0031),
    dict(mode="max", factor=0.5, patience=0, threshold=0.05, threshold_mode="abs"),
    dict(mode="min", factor=0.1, patience=5, threshold=1e-4, threshold_mode="abs", cooldown=1, spe=3),
    dict(mode="min", factor=0.61, patience=1, min_lr=0.0731 * 0.61**3, spe=2),  # the floor is hit
]


def plateau_metrics(mode: str) -> np.ndarray:
    """Falls, plateaus, falls, plateaus (with noise), in float32 (what the transform receives)."""
    rng = np.random.default_rng(7)
    trend = np.concatenate(
        [np.linspace(3, 2, 10), np.full(17, 2.0), np.linspace(2, 1.5, 10), np.full(23, 1.5)]
    )
    values = trend + rng.normal(scale=0.02, size=trend.size)
    return (values if mode == "min" else -values).astype(np.float32)


@pytest.mark.parametrize("kw", PLATEAU, ids=[f"plateau-{i}" for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_equals_torch(kw):
    """lr · state.scale after the update that ends each epoch is torch's lr after `step(metric)`.
    The scale is a product of float32 factors: k = 12 covers the reductions."""
    kw = dict(kw)
    spe = kw.pop("spe", 1)
    metrics = plateau_metrics(kw["mode"])
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=LR)
    sched = L.ReduceLROnPlateau(opt, **kw)
    expected = []
    for m in metrics:
        opt.step()
        sched.step(float(m))
        expected.append(opt.param_groups[0]["lr"])
    expected = np.array(expected)
    assert len(set(expected)) >= 3, "the case reduces at least twice"
    # ours: spe updates per epoch, each passed the epoch's metric (their mean is the metric)
    tx = tc.ReduceLROnPlateau(LR, **kw, steps_per_epoch=spe)

    def body(state, v):
        _, state = tx.update(jnp.ones(1), state, value=v)
        return state, state.scale

    values = jnp.asarray(np.repeat(metrics, spe))
    _, scales = jax.jit(lambda: jax.lax.scan(body, tx.init(jnp.zeros(1)), values))()
    ours = LR * np.asarray(scales, np.float64)[spe - 1 :: spe]
    assert_close(ours, expected, 12, "ReduceLROnPlateau")


# --------------------------------------------------------------------------------------------------
# hyperparameters are leaves: a vmap over torch's parameters (integer ones too) equals the loop


def test_vmap_over_torch_parameters_equals_loop():
    steps = np.concatenate([np.arange(N), HUGE])  # the shape the cases above compiled for
    pieces = [tc.ExponentialLR(LR, 0.5), tc.LinearLR(LR, 0.25), tc.PolynomialLR(LR, 41, 1.3)]
    builds = [
        (lambda ms: tc.MultiStepLR(LR, ms, 0.61), [[3, 17, 17, 40], [5, 5, 90, 91], [0, 60, 61, 149]]),
        (lambda m: tc.SequentialLR(pieces, [0, m]), [0, 17, 40]),
        (lambda lr: tc.LambdaLR(lr, warm_then_step), [0.0731, 0.01, 1.3]),
        (lambda spe: tc.StepLR(LR, 7, 0.83, steps_per_epoch=spe), [1, 3, 4]),
    ]
    for build, values in builds:
        batched = jax.jit(jax.vmap(lambda v, build=build: build(v)(steps)))(jnp.asarray(values))
        for v, row in zip(values, np.asarray(batched)):
            np.testing.assert_allclose(row, build(v)(steps), rtol=RTOL, atol=1e-9, err_msg=str(v))


# --------------------------------------------------------------------------------------------------
# bad arguments name the function, torch's parameter and the value


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: tc.StepLR(0.1, 7, 0.1, 4),
            "StepLR: last_epoch must be -1 (to resume, restore the optax state",
        ),
        (lambda: tc.OneCycleLR(0.1, 10, last_epoch=3), "OneCycleLR: last_epoch must be -1"),
        (lambda: tc.StepLR(0.1, 0), "StepLR: step_size must be an integer >= 1, got 0"),
        (lambda: tc.StepLR(0.1, 7.5), "StepLR: step_size must be an integer >= 1, got 7.5"),
        (lambda: tc.StepLR(0.1, 7, gamma=-0.5), "StepLR: gamma must be a finite real number >= 0, got -0.5"),
        (lambda: tc.StepLR(-0.1, 7), "StepLR: lr must be a finite real number >= 0, got -0.1"),
        (
            lambda: tc.StepLR(0.1, 7, steps_per_epoch=0),
            "StepLR: steps_per_epoch must be an integer >= 1, got 0",
        ),
        (lambda: tc.MultiStepLR(0.1, [3, -1]), "MultiStepLR: milestones must be >= 0, got [-1, 3]"),
        (lambda: tc.MultiStepLR(0.1, [2.5]), "MultiStepLR: milestones must be an integer, got [2.5]"),
        (lambda: tc.MultiStepLR(0.1, "abc"), "MultiStepLR: milestones must be a sequence of integer epochs"),
        (lambda: tc.ConstantLR(0.1, 1.5), "ConstantLR: factor must be in [0, 1], got 1.5"),
        (lambda: tc.ConstantLR(0.1, total_iters=0), "ConstantLR: total_iters must be an integer >= 1, got 0"),
        (lambda: tc.LinearLR(0.1, start_factor=0.0), "LinearLR: start_factor must be in (0, 1], got 0.0"),
        (lambda: tc.LinearLR(0.1, end_factor=1.2), "LinearLR: end_factor must be in [0, 1], got 1.2"),
        (
            lambda: tc.ExponentialLR(0.1, None),
            "ExponentialLR: gamma must be a finite real number >= 0, got None",
        ),
        (lambda: tc.PolynomialLR(0.1, power=-1.0), "PolynomialLR: power must be a finite real number >= 0"),
        (
            lambda: tc.CosineAnnealingLR(0.1, 0),
            "CosineAnnealingLR: T_max must be an integer in [1, 1073741823]",
        ),
        (
            lambda: tc.CosineAnnealingLR(0.1, 10, eta_min=float("nan")),
            "CosineAnnealingLR: eta_min must be a finite",
        ),
        (
            lambda: tc.CosineAnnealingWarmRestarts(0.1, 0),
            "CosineAnnealingWarmRestarts: T_0 must be an integer >= 1",
        ),
        (
            lambda: tc.CosineAnnealingWarmRestarts(0.1, 10, T_mult=1.5),
            "CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, got 1.5",
        ),
        (lambda: tc.CyclicLR(0.01, 0.1, mode="cubic"), "CyclicLR: mode must be one of 'triangular', "),
        (
            lambda: tc.CyclicLR(0.01, 0.1, step_size_down=0),
            "CyclicLR: step_size_down must be an integer >= 1, got 0",
        ),
        (lambda: tc.CyclicLR(0.01, 0.1, scale_fn=3), "CyclicLR: scale_fn must be a callable, got 3"),
        (lambda: tc.CyclicLR(0.01, 0.1, gamma=1.5), "CyclicLR: gamma must be in [0, 1], got 1.5"),
        (
            lambda: tc.CyclicMomentum(base_momentum=1.2),
            "CyclicMomentum: base_momentum must be in [0, 1], got 1.2",
        ),
        (
            lambda: tc.OneCycleLR(0.1),
            "OneCycleLR: total_steps must be given, or else epochs and steps_per_epoch",
        ),
        (lambda: tc.OneCycleLR(0.1, 100, pct_start=1.0), "OneCycleLR: pct_start must be in (0, 1), got 1.0"),
        (
            lambda: tc.OneCycleLR(0.1, epochs=3, steps_per_epoch=0),
            "OneCycleLR: steps_per_epoch must be an integer",
        ),
        (
            lambda: tc.OneCycleLR(0.1, 100, anneal_strategy="cosine"),
            "OneCycleLR: anneal_strategy must be one of",
        ),
        (
            lambda: tc.OneCycleMomentum(100, three_phase=1),
            "OneCycleMomentum: three_phase must be True or False",
        ),
        (
            lambda: tc.SequentialLR([tc.StepLR(0.1, 3), tc.StepLR(0.1, 5)], [3, 6]),
            "SequentialLR: milestones must be one fewer than the schedulers (1 epochs), got [3, 6]",
        ),
        (
            lambda: tc.SequentialLR([tc.StepLR(0.1, 3)] * 3, [6, 3]),
            "SequentialLR: milestones must be sorted in increasing order, got [6, 3]",
        ),
        (lambda: tc.SequentialLR([], []), "SequentialLR: schedulers must be a non-empty list of Schedules"),
        (lambda: tc.SequentialLR([lambda t: t], []), "SequentialLR: schedulers[0] must be a Schedule"),
        (
            lambda: tc.ChainedScheduler([tc.StepLR(0.1, 3)], 0.0),
            "ChainedScheduler: lr must be a finite real number > 0",
        ),
        (
            lambda: tc.LambdaLR(0.1, [decay_095]),
            "LambdaLR: lr_lambda must be one callable (one parameter group",
        ),
        (lambda: tc.LambdaLR(0.1, 0.95), "LambdaLR: lr_lambda must be a callable, got 0.95"),
        (
            lambda: tc.SWALR(0.1, 0.01, anneal_epochs=-1),
            "SWALR: anneal_epochs must be an integer >= 0, got -1",
        ),
        (
            lambda: tc.SWALR(0.1, 0.01, anneal_strategy="cosine"),
            "SWALR: anneal_strategy must be one of 'cos', 'linear'",
        ),
        (
            lambda: tc.ReduceLROnPlateau(0.1, factor=1.0),
            "ReduceLROnPlateau: factor must be in [0, 1), got 1.0",
        ),
        (
            lambda: tc.ReduceLROnPlateau(0.1, min_lr=0.2),
            "ReduceLROnPlateau: min_lr must be <= lr (0.1), got 0.2",
        ),
        (lambda: tc.ReduceLROnPlateau(0.1, min_lr=[0.0]), "ReduceLROnPlateau: min_lr must be one number"),
        (lambda: tc.ReduceLROnPlateau(0.1, mode="up"), "ReduceLROnPlateau: mode must be one of 'min', 'max'"),
        (
            lambda: tc.ReduceLROnPlateau(0.1, patience=-1),
            "ReduceLROnPlateau: patience must be an integer >= 0",
        ),
    ],
)
def test_bad_arguments_raise_with_torch_names(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)
