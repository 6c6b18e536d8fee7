"""SPEC §7, `optax_lrs.compat.timm` against timm itself.

timm's scheduler modules are loaded by their paths (timm's package `__init__` imports torchvision, which
the test environment lacks). The reference is timm's training loop (`train.py`): a torch SGD optimizer on
one dummy parameter, the rate recorded before each update, then `optimizer.step()` and
`scheduler.step_update(num_updates)` (t_in_epochs=False) or, at the end of each epoch,
`scheduler.step(epoch + 1)`. Steps past that loop (far past the end, up to 2**31 − 1) are read from
`step_update(t)` / `step(t // steps_per_epoch)` directly: timm's schedulers are stateless functions of
t. Ours is evaluated three ways: on the vector of steps, at a traced int32 scalar inside `jax.jit`, and
eagerly at a Python int.

Tolerance: ours is float32, timm float64. rtol 5e-6 is float32's eps times the amplification of the
phase's rounding by the steepest curves (the tanh's tails, where the log-derivative reaches ~14; the
polynomial near its end); atol 2e-7 · learning_rate covers values near zero that are differences of
float32 numbers of the size of the rate (the non-decaying floor, `linear_schedule`'s warmup start
`(init − lr) + lr`). An off-by-one step changes values by 1e-3 relative or more.
"""

from __future__ import annotations

import importlib.util
import sys
import types
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_lrs as o
from optax_lrs.compat import timm

torch = pytest.importorskip("torch")
if importlib.util.find_spec("timm") is None:
    pytest.skip("timm is not installed", allow_module_level=True)

RTOL = 5e-6
ATOL = 2e-7  # times the learning rate
FAR = (10_007, 123_457, 1_000_003, 2**31 - 1)
LENGTH = 1024  # every step vector has this length: one compiled executable per schedule structure


def load_timm_schedulers() -> dict[str, types.ModuleType]:
    """timm/scheduler/*.py by their paths, under empty stand-ins for the `timm` and `timm.scheduler`
    packages (their relative and absolute imports of `timm.scheduler.scheduler` resolve to the loaded
    module), which are removed again afterwards."""
    root = Path(importlib.util.find_spec("timm").origin).parent / "scheduler"
    names = ("scheduler", "cosine_lr", "tanh_lr", "step_lr", "multistep_lr", "poly_lr", "plateau_lr")
    saved = {
        k: sys.modules.get(k) for k in ("timm", "timm.scheduler", *(f"timm.scheduler.{n}" for n in names))
    }
    for name, path in (("timm", root.parent), ("timm.scheduler", root)):
        sys.modules[name] = types.ModuleType(name)
        sys.modules[name].__path__ = [str(path)]
    modules = {}
    try:
        for name in names:
            spec = importlib.util.spec_from_file_location(f"timm.scheduler.{name}", root / f"{name}.py")
            modules[name] = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = modules[name]
            spec.loader.exec_module(modules[name])
    finally:
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module
    return modules


TIMM = load_timm_schedulers()
CLASSES = {
    "CosineLRScheduler": TIMM["cosine_lr"].CosineLRScheduler,
    "TanhLRScheduler": TIMM["tanh_lr"].TanhLRScheduler,
    "StepLRScheduler": TIMM["step_lr"].StepLRScheduler,
    "MultiStepLRScheduler": TIMM["multistep_lr"].MultiStepLRScheduler,
    "PolyLRScheduler": TIMM["poly_lr"].PolyLRScheduler,
}


def steps_for(end: int, *boundaries: int) -> np.ndarray:
    """Every step up to 40 past `end`, each boundary ±1, steps far past the end; padded to LENGTH."""
    near = [b + d for b in (end, *boundaries) for d in (-1, 0, 1)]
    steps = np.unique(np.array([*range(end + 41), *near, *FAR]).clip(0))
    assert len(steps) <= LENGTH
    return np.pad(steps, (0, LENGTH - len(steps)), mode="edge")


def reference(name: str, lr: float, steps: np.ndarray, kwargs: dict, spe: int | None) -> np.ndarray:
    """timm's rate before each update at `steps`: its training loop, then `step_update` / `step`."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = CLASSES[name](opt, t_in_epochs=spe is not None, **kwargs)
    loop = int(steps[steps < 5_000].max()) + 1
    recorded = []
    for k in range(loop):
        recorded.append(opt.param_groups[0]["lr"])
        opt.step()
        if spe is None:
            sched.step_update(num_updates=k + 1)
        elif (k + 1) % spe == 0:
            sched.step((k + 1) // spe)

    def later(t):
        if spe is None:
            sched.step_update(num_updates=t)
        else:
            sched.step(t // spe)
        return opt.param_groups[0]["lr"]

    return np.array([recorded[t] if t < loop else later(int(t)) for t in steps])


# A traced int32 scalar inside `jax.jit`: `lax.map` hands the schedule one scalar step at a time, in
# one compiled program for all the steps.
_at = jax.jit(lambda s, ts: jax.lax.map(s, ts))


def three_ways(s: o.Schedule, steps: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "vector": np.asarray(s(steps)),
        "jit": np.asarray(_at(s, jnp.asarray(steps, jnp.int32))),
        "eager": np.array([float(s(int(t))) for t in steps]),
    }


def build(name, lr, kwargs, spe):
    if spe is None:
        return getattr(timm, name)(lr, t_in_epochs=False, **kwargs)
    return getattr(timm, name)(lr, steps_per_epoch=spe, **kwargs)


# name -> cases (learning_rate, kwargs, steps_per_epoch or None for t_in_epochs=False, the last step
# of interest, boundaries). The cases of one name share one structure (one compiled program per way:
# the cycle schedules take seconds to compile here); other structures are in VARIANTS.
CYCLES = dict(lr_min=0.0031, cycle_decay=0.83, warmup_lr_init=0.002)
CASES = {
    "CosineLRScheduler": [
        (0.0731, dict(t_initial=37, cycle_limit=4, warmup_t=11, **CYCLES), None, 148, (37, 74, 111)),
        (2.7e-4, dict(t_initial=53, lr_min=1.3e-5, cycle_mul=1.7, cycle_decay=0.61, cycle_limit=3, warmup_t=7,
                      warmup_lr_init=1e-5), None, 297, (53, 144)),
        (0.913, dict(t_initial=29, lr_min=0.05, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=5, warmup_t=3,
                     warmup_lr_init=0.1), None, 899, (29, 87, 203, 435)),
    ],
    "TanhLRScheduler": [
        (0.0731, dict(t_initial=37, cycle_limit=4, warmup_t=11, **CYCLES), None, 148, (37, 74, 111)),
        (2.7e-4, dict(t_initial=53, lb=-5.3, ub=2.1, lr_min=1.3e-5, cycle_mul=1.7, cycle_decay=0.61,
                      cycle_limit=3, warmup_t=7, warmup_lr_init=1e-5), None, 297, (53, 144)),
        (0.913, dict(t_initial=29, lb=-3.1, ub=4.3, lr_min=0.05, cycle_decay=0.5, cycle_limit=2, warmup_t=3,
                     warmup_lr_init=0.1), None, 58, (29,)),
    ],
    "PolyLRScheduler": [
        (0.0731, dict(t_initial=37, cycle_limit=4, warmup_t=11, **CYCLES), None, 148, (37, 74, 111)),
        (2.7e-4, dict(t_initial=53, power=2.3, k_decay=1.7, lr_min=1.3e-5, cycle_mul=1.7, cycle_decay=0.61,
                      cycle_limit=3, warmup_t=7, warmup_lr_init=1e-5), None, 297, (53, 144)),
        (0.913, dict(t_initial=29, power=0.9, k_decay=0.6, lr_min=0.05, cycle_decay=0.5, cycle_limit=2,
                     warmup_t=3, warmup_lr_init=0.1), None, 58, (29,)),
    ],
    "StepLRScheduler": [
        (0.0731, dict(decay_t=37, decay_rate=0.71, warmup_t=11, warmup_lr_init=0.002), None, 200,
         (48, 85, 122)),
        (2.7e-4, dict(decay_t=13, decay_rate=0.5, warmup_t=1, warmup_lr_init=1e-5), None, 100, (14, 27)),
        (0.913, dict(decay_t=29, decay_rate=0.9, warmup_t=3), None, 200, (32, 61)),
    ],
    "MultiStepLRScheduler": [
        (0.0731, dict(decay_t=[37, 90, 91], decay_rate=0.71, warmup_t=11, warmup_lr_init=0.002), None, 150,
         (47, 100, 101)),
        (2.7e-4, dict(decay_t=[1, 2, 50], decay_rate=0.5, warmup_t=1, warmup_lr_init=1e-5), None, 80,
         (1, 2, 50)),
        (0.913, dict(decay_t=[29, 113], decay_rate=0.3, warmup_t=3), None, 150, (31, 115)),
    ],
}  # fmt: skip

VARIANTS = {
    "CosineLRScheduler": [
        (0.0731, dict(t_initial=13, lr_min=0.001, cycle_decay=0.5, cycle_limit=3, warmup_t=3,
                      warmup_lr_init=0.01, warmup_prefix=True), 7, 7 * 42, (21, 112, 203)),  # per epoch
        (0.0731, dict(t_initial=211, lr_min=0.0031, warmup_t=37, warmup_lr_init=0.0011), None, 211, ()),
        (2.7e-4, dict(t_initial=53, cycle_mul=1.7, cycle_decay=0.61, cycle_limit=9), None, 900,
         (53, 144, 297)),
        (0.913, dict(t_initial=29, lr_min=0.05, cycle_limit=0), None, 40, ()),  # lr_min from the start
    ],
    "TanhLRScheduler": [
        (0.0731, dict(t_initial=37, lr_min=0.0031, cycle_limit=2), 5, 5 * 80, (185,)),  # no warmup: t = 0
        (2.7e-4, dict(t_initial=53, lr_min=1.3e-5, cycle_mul=1.7, cycle_limit=3, warmup_t=7,
                      warmup_lr_init=1e-5, warmup_prefix=True), None, 304, (60, 151)),
    ],
    "PolyLRScheduler": [
        (0.0731, dict(t_initial=37, power=1.3, k_decay=2.1, cycle_decay=0.83, cycle_limit=3, warmup_t=2,
                      warmup_prefix=True), 4, 4 * 120, (4 * 39, 4 * 76)),
    ],
    "StepLRScheduler": [
        (0.0731, dict(decay_t=7, decay_rate=0.71, warmup_t=3, warmup_lr_init=0.002, warmup_prefix=False), 11,
         11 * 30, (33, 77, 154)),
        (0.0731, dict(decay_t=37.0, decay_rate=0.71), None, 120, (37, 74)),
        # a fractional decay_t: drops at multiples of 2.5 and of 13.7 steps (floor and ceil)
        (0.0731, dict(decay_t=2.5, decay_rate=0.91), None, 60, (2, 3, 5, 7, 8)),
        (0.913, dict(decay_t=13.7, decay_rate=0.83, warmup_t=5, warmup_lr_init=0.01), None, 200,
         (18, 19, 32, 33, 46, 47, 137, 138)),
        (2.7e-4, dict(decay_t=1.7, decay_rate=0.97, warmup_t=2), 3, 150, (3 * 19, 3 * 20)),
    ],
    "MultiStepLRScheduler": [
        (0.0731, dict(decay_t=[0, 1, 37], decay_rate=0.71), None, 60, (36,)),  # milestones <= 1: t = 0
        (2.7e-4, dict(decay_t=[5, 20], decay_rate=0.5, warmup_t=6, warmup_prefix=False), 3, 80, (15, 57)),
    ],
}  # fmt: skip


def flat(table):
    params = [(name, *case) for name, cases in table.items() for case in cases]
    ids = [f"{name}-{i}" for name, cases in table.items() for i in range(len(cases))]
    return params, ids


PARAMS, IDS = flat(CASES)
VARIANT_PARAMS, VARIANT_IDS = flat(VARIANTS)
ARGS = ("name", "lr", "kwargs", "spe", "end", "bounds")


@pytest.mark.parametrize(ARGS, PARAMS, ids=IDS)
def test_equals_timm(name, lr, kwargs, spe, end, bounds):
    steps = steps_for(end, *bounds)
    expected = reference(name, lr, steps, kwargs, spe)
    s = build(name, lr, kwargs, spe)
    for way, ours in three_ways(s, steps).items():
        np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL * lr, err_msg=way)


@pytest.mark.parametrize(ARGS, VARIANT_PARAMS, ids=VARIANT_IDS)
def test_variants_equal_timm(name, lr, kwargs, spe, end, bounds):
    steps = steps_for(end, *bounds)
    expected = reference(name, lr, steps, kwargs, spe)
    ours = build(name, lr, kwargs, spe)(steps)
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL * lr)


@pytest.mark.parametrize(ARGS, PARAMS + VARIANT_PARAMS, ids=IDS + VARIANT_IDS)
def test_configs_round_trip(name, lr, kwargs, spe, end, bounds):
    s = build(name, lr, kwargs, spe)
    back = o.from_config(o.to_config(s))
    assert back == s
    steps = steps_for(end, *bounds)
    np.testing.assert_array_equal(back(steps), s(steps))


def test_restart_steps_are_exact_where_timm_rounds():
    """timm finds the cycle as floor(log(1 + t/t_initial · (cycle_mul − 1)) / log(cycle_mul)) in float64:
    with t_initial=10, cycle_mul=3, cycle 5 starts at step 1210 but timm's float64 log gives 4.999...,
    the end of cycle 4 (lr_min). Ours restarts there; the steps around it agree."""
    kwargs = dict(t_initial=10, cycle_mul=3.0, cycle_limit=8, warmup_t=1, **CYCLES)
    steps = steps_for(20, 1209, 1210, 1211)
    expected = reference("CosineLRScheduler", 0.0731, steps, kwargs, None)
    ours = np.asarray(build("CosineLRScheduler", 0.0731, kwargs, None)(steps))
    at = steps == 1210
    np.testing.assert_allclose(expected[at], CYCLES["lr_min"], rtol=1e-12)
    np.testing.assert_allclose(ours[at], 0.0731 * 0.83**5, rtol=RTOL)
    np.testing.assert_allclose(ours[~at], expected[~at], rtol=RTOL, atol=ATOL * 0.0731)


def test_fractional_decay_t_drops_at_its_decimal_multiples():
    """timm's `t // decay_t` divides by the binary double: 1.3 is 1.3000000000000000444, so at
    t = 13 (10 · 1.3) timm counts 9 drops. Ours reads decay_t as the decimal written, 13/10, and
    drops at 13; the other steps agree."""
    kwargs = dict(decay_t=1.3, decay_rate=0.97)
    steps = steps_for(60, 13, 26, 39, 52)
    expected = reference("StepLRScheduler", 0.0731, steps, kwargs, None)
    ours = np.asarray(build("StepLRScheduler", 0.0731, kwargs, None)(steps))
    at = (steps % 13 == 0) & (steps > 0)
    np.testing.assert_allclose(ours[at], 0.0731 * 0.97 ** (steps[at] // 13 * 10), rtol=RTOL)
    np.testing.assert_allclose(expected[at], 0.0731 * 0.97 ** (steps[at] // 13 * 10 - 1), rtol=1e-12)
    np.testing.assert_allclose(ours[~at], expected[~at], rtol=RTOL, atol=ATOL * 0.0731)


# timm's k_decay on the cosine: cos(π · t_curr^k / t_i^k), a warped clock within each cycle
K_DECAY = [
    (0.0731, dict(t_initial=37, k_decay=1.7, cycle_limit=4, warmup_t=11, **CYCLES), None, 148, (37, 74, 111)),
    (2.7e-4, dict(t_initial=53, k_decay=0.43, lr_min=1.3e-5, cycle_mul=1.7, cycle_decay=0.61, cycle_limit=3,
                  warmup_t=7, warmup_lr_init=1e-5), None, 297, (53, 144)),
    (0.913, dict(t_initial=29, k_decay=2.3, lr_min=0.05, cycle_decay=0.5, warmup_t=3, warmup_prefix=True), 7,
     7 * 40, (7 * 32, 7 * 33)),
]  # fmt: skip


@pytest.mark.parametrize(("lr", "kwargs", "spe", "end", "bounds"), K_DECAY)
def test_cosine_k_decay_equals_timm(lr, kwargs, spe, end, bounds):
    steps = steps_for(end, *bounds)
    expected = reference("CosineLRScheduler", lr, steps, kwargs, spe)
    s = build("CosineLRScheduler", lr, kwargs, spe)
    for way, ours in three_ways(s, steps).items():
        np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL * lr, err_msg=way)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: timm.CosineLRScheduler(0.1, 100), "steps_per_epoch must be given"),
        (
            lambda: timm.CosineLRScheduler(0.1, 100, cycle_mul=0.5, t_in_epochs=False),
            "cycle_mul must be >= 1",
        ),
        (lambda: timm.TanhLRScheduler(0.1, 100, lb=3.0, ub=-7.0, t_in_epochs=False), "ub must be > lb"),
        (lambda: timm.CosineLRScheduler(0.1, 0, t_in_epochs=False), "t_initial must be >= 1"),
        (
            lambda: timm.StepLRScheduler(0.1, 10, noise_range_t=5, noise_type="pink", t_in_epochs=False),
            "noise_type",
        ),
        (lambda: timm.StepLRScheduler(0.1, 10, noise_range_t=(1, 2, 3), t_in_epochs=False), "noise_range_t"),
        (lambda: timm.StepLRScheduler(0.1, 10, noise_range_t=5, key=jnp.zeros(3), t_in_epochs=False), "key"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_vmaps_over_hyperparameters():
    """Built inside `jax.vmap`, the rates, decay and warmup length may be traced."""
    steps = steps_for(200)
    args = jnp.array([0.0731, 0.913]), jnp.array([0.71, 0.3]), jnp.array([11, 0])

    def make(lr, rate, warm):
        return timm.StepLRScheduler(lr, 37, rate, warmup_t=warm, warmup_lr_init=0.002, t_in_epochs=False)

    batched = jax.vmap(lambda *a: make(*a)(steps))(*args)
    for row, one in zip(batched, [(0.0731, 0.71, 11), (0.913, 0.3, 0)]):
        np.testing.assert_allclose(row, make(*one)(steps), rtol=1e-6)


# --- noise ----------------------------------------------------------------------------------------


NOISELESS = dict(decay_t=37, decay_rate=0.71, warmup_t=11, warmup_lr_init=0.002)


def noisy(key=None, **kwargs):
    return timm.StepLRScheduler(0.0731, **NOISELESS, t_in_epochs=False, key=key, **kwargs)


def timm_noise(n: int, noise_type: str, noise_pct: float, noise_std: float) -> np.ndarray:
    """timm's own draws `_calculate_noise(t)` for t = 1..n (`noise_type` is the base class's; only
    `PlateauLRScheduler` takes it as an argument)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = CLASSES["StepLRScheduler"](opt, decay_t=10, noise_pct=noise_pct, noise_std=noise_std)
    sched.noise_type = noise_type
    return np.array([sched._calculate_noise(t) for t in range(1, n + 1)])


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    grid = np.sort(np.concatenate([a, b]))
    cdf = lambda x: np.searchsorted(np.sort(x), grid, side="right") / len(x)  # noqa: E731
    return float(np.max(np.abs(cdf(a) - cdf(b))))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(noise_pct=0.67, noise_std=1.0),
        dict(noise_pct=0.3, noise_std=0.41),
        dict(noise_pct=0.23, noise_type="uniform"),
    ],
)
def test_noise_has_timm_distribution_and_range(kwargs):
    n = 3000
    steps = np.arange(1, n + 1)
    base = np.asarray(timm.StepLRScheduler(0.0731, **NOISELESS, t_in_epochs=False)(steps))
    ours = np.asarray(noisy(jax.random.key(3), noise_range_t=1, **kwargs)(steps)) / base - 1
    pct = kwargs["noise_pct"]
    assert np.all(np.abs(ours) <= pct * (1 + 1e-6))
    theirs = timm_noise(n, noise_type=kwargs.get("noise_type", "normal"), noise_pct=pct,
                        noise_std=kwargs.get("noise_std", 1.0))  # fmt: skip
    # two samples of 3000 from one distribution: the KS distance exceeds 0.05 with probability ~1e-3
    assert ks_distance(ours, theirs) < 0.05
    assert ks_distance(ours, np.clip(theirs * 0.8, -pct, pct)) > 0.05  # and it would see a different one


def test_noise_range_step_zero_and_keys():
    steps = steps_for(200, 20, 150)
    base = np.asarray(noisy()(steps))
    key = jax.random.key(11)
    s = noisy(key, noise_range_t=(20, 150), noise_pct=0.4)
    v = np.asarray(s(steps))
    inside = (steps >= 20) & (steps < 150)
    np.testing.assert_allclose(v[~inside], base[~inside], rtol=1e-6)  # times 1 (XLA may round apart)
    assert np.all(v[inside] != base[inside]) and np.all(np.abs(v[inside] / base[inside] - 1) < 0.4)
    np.testing.assert_array_equal(
        noisy(key, noise_range_t=(20, 150), noise_pct=0.4)(steps), v
    )  # reproducible
    other = np.asarray(noisy(jax.random.key(12), noise_range_t=(20, 150), noise_pct=0.4)(steps))
    assert np.all(other[inside] != v[inside])
    # an int range runs to the end; step 0 is never noisy (timm's loop never calls step_update(0))
    forever = np.asarray(noisy(key, noise_range_t=0)(steps))
    assert forever[0] == base[0] and np.all(forever[1:240] != base[1:240])
    # noise_seed makes the key when none is given: PRNGKey(noise_seed)
    seeded = noisy(noise_range_t=(20, 150), noise_seed=7)
    np.testing.assert_array_equal(seeded(steps), noisy(jax.random.PRNGKey(7), noise_range_t=(20, 150))(steps))
    back = o.from_config(o.to_config(s), allowed_functions=timm.NOISE_FUNCTIONS)
    assert back == s
    np.testing.assert_array_equal(back(steps), v)


def test_noise_vmaps_over_keys():
    steps = jnp.arange(300)
    keys = jax.random.split(jax.random.key(5), 4)
    batched = jax.vmap(lambda k: noisy(k, noise_range_t=(20, 250), noise_pct=0.3)(steps))(keys)
    one_by_one = np.stack([np.asarray(noisy(k, noise_range_t=(20, 250), noise_pct=0.3)(steps)) for k in keys])
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-7)
    assert len({tuple(np.asarray(b[20:30])) for b in batched}) == 4


def test_noise_per_epoch_is_drawn_once_an_epoch():
    s = timm.StepLRScheduler(0.0731, **NOISELESS, noise_range_t=2, steps_per_epoch=9, key=jax.random.key(0))
    v = np.asarray(s(np.arange(9 * 30))).reshape(30, 9)
    assert np.all(v == v[:, :1])  # constant within each epoch
    assert len(set(v[2:, 0])) == 28


# --- PlateauLRScheduler: the transform ------------------------------------------------------------


PLATEAU = [
    (0.0731, dict(decay_rate=0.37, patience_t=2, threshold=0.013, cooldown_t=1, warmup_t=3,
                  warmup_lr_init=0.004, lr_min=0.002), 3),
    (2.7e-4, dict(mode="min"), 2),
    (0.913, dict(decay_rate=0.5, patience_t=1, warmup_t=5, lr_min=0.2), 1),
]  # fmt: skip


def metrics(n: int, mode: str) -> np.ndarray:
    """Improving for 15 epochs, then a wobbling plateau."""
    e = np.arange(n)
    walk = 0.3 + 0.7 * np.maximum(0.0, 1 - e / 15) + 0.02 * np.sin(2.3 * e)
    return -walk if mode == "max" else walk


@pytest.mark.parametrize(("lr", "kwargs", "spe"), PLATEAU)
def test_plateau_equals_timm(lr, kwargs, spe):
    """timm's rate in each update of the loop (`step(epoch + 1, metric)` at the end of each epoch)
    equals ours, except at an epoch's last update, where ours already has the rate timm sets after it."""
    epochs = 60
    values = metrics(epochs, kwargs.get("mode", "max"))
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # timm deprecates PlateauLRScheduler
        sched = TIMM["plateau_lr"].PlateauLRScheduler(opt, **kwargs)
    expected = []
    for e, v in enumerate(values):
        for _ in range(spe):
            expected.append(opt.param_groups[0]["lr"])
        sched.step(e + 1, float(v))
    expected.append(opt.param_groups[0]["lr"])
    assert len(set(expected[spe * (kwargs.get("warmup_t", 0) + 1) :])) >= 3  # it reduces the rate twice

    tx = timm.PlateauLRScheduler(lr, steps_per_epoch=spe, **kwargs)
    update = jax.jit(tx.update)
    state = tx.init(jnp.zeros(1))
    ours = []
    for v in np.repeat(values, spe):
        updates, state = update(jnp.ones(1), state, value=jnp.float32(v))
        ours.append(float(updates[0]) * lr)
    ours = np.array(ours)
    # the last update of each epoch after the warmup already uses the rate timm sets after the epoch
    k = np.arange(len(ours))
    early = (k % spe == spe - 1) & (k // spe >= kwargs.get("warmup_t", 0))
    expected = np.array(expected)
    np.testing.assert_allclose(ours[~early], expected[:-1][~early], rtol=1e-6)
    np.testing.assert_allclose(ours[early], expected[1:][early], rtol=1e-6)


def test_plateau_noise_starts_after_the_warmup():
    kwargs = dict(decay_rate=0.5, patience_t=100, warmup_t=4, warmup_lr_init=0.01, mode="min")
    tx = timm.PlateauLRScheduler(
        0.1, noise_range_t=2, noise_pct=0.2, steps_per_epoch=2, key=jax.random.key(1), **kwargs
    )
    plain = timm.PlateauLRScheduler(0.1, steps_per_epoch=2, **kwargs)
    scales = []
    for t in (tx, plain):
        update, state, out = jax.jit(t.update), t.init(jnp.zeros(1)), []
        for _ in range(30):
            updates, state = update(jnp.ones(1), state, value=jnp.float32(1.0))
            out.append(float(updates[0]))
        scales.append(np.array(out))
    noise, base = scales[0] / scales[1], scales[1]
    np.testing.assert_allclose(base[:10:2], [0.1, 0.325, 0.55, 0.775, 1.0], rtol=1e-6)  # per-epoch warmup
    np.testing.assert_allclose(noise[:10], 1.0, rtol=1e-6)  # epochs 0..4: no noise
    assert np.all(np.abs(noise[10:] - 1) < 0.2) and np.all(noise[10:] != 1)
    assert np.all(noise[10::2] == noise[11::2])  # once an epoch
