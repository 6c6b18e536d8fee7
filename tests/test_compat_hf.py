"""SPEC §7, `optax_lrs.compat.hf` against transformers itself.

The reference is transformers' scheduler stepped as the `Trainer` steps it: a torch SGD optimizer on one
dummy parameter, the rate recorded before each update, then `optimizer.step()` and `scheduler.step()`.
Steps past the recorded loop (far past the end, up to 2**31 − 1) read `base_lr · lr_lambda(t)`, which is
what `LambdaLR` sets after t steps. Ours is evaluated three ways: on the vector of steps, at a traced
int32 scalar inside `jax.jit`, and eagerly at a Python int.

Tolerance: ours is float32 and transformers float64. rtol 5e-6 is float32's eps (1.2e-7) times the
amplification of the rounding of the phase t / T by the steepest curves here (cos near its zero, the
1 − sqrt decay near its end); atol 2e-7 · learning_rate covers values that are a difference of two
float32 numbers of the size of the learning rate near zero (the rising half of the cosine wave).
Off-by-one step errors change values by 1e-3 relative or more, far above both.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_lrs as o
from optax_lrs.compat import hf

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

RTOL = 5e-6
ATOL = 2e-7  # times the learning rate
# far past the end; 2**31 − 2, not − 1: "cosine_warmup_with_min_lr" reads its cosine one step ahead
# (`shift(..., -1)`), which saturates at 2**31 − 1
FAR = (10_007, 123_457, 1_000_003, 2**31 - 2)
LENGTH = 320  # every step vector has this length: one compiled executable per schedule structure


def steps_for(end: int, *boundaries: int) -> np.ndarray:
    """Every step up to 40 past `end`, each boundary ±1, steps far past the end; padded to LENGTH."""
    near = [b + d for b in (end, *boundaries) for d in (-1, 0, 1)]
    steps = np.unique(np.array([*range(end + 41), *near, *FAR]).clip(0))
    assert len(steps) <= LENGTH
    return np.pad(steps, (0, LENGTH - len(steps)), mode="edge")


def reference(name: str, lr: float, steps: np.ndarray, warmup, training, kwargs) -> np.ndarray:
    """transformers' rate before each update at `steps` (see the module docstring)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = transformers.get_scheduler(name, opt, warmup, training, scheduler_specific_kwargs=dict(kwargs))
    loop = int(steps[steps < 2_000].max()) + 1
    recorded = []
    for _ in range(loop):
        recorded.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    lam = sched.lr_lambdas[0]
    return np.array([recorded[t] if t < loop else lr * lam(int(t)) for t in steps])


# A traced int32 scalar inside `jax.jit`: `lax.map` hands the schedule one scalar step at a time, in
# one compiled program for all the steps.
_at = jax.jit(lambda s, ts: jax.lax.map(s, ts))


def three_ways(s: o.Schedule, steps: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "vector": np.asarray(s(steps)),
        "jit": np.asarray(_at(s, jnp.asarray(steps, jnp.int32))),
        "eager": np.array([float(s(int(t))) for t in steps]),
    }


# name -> cases (learning_rate, num_warmup_steps, num_training_steps, scheduler_specific_kwargs,
# boundaries besides W and T). The cases of one name share one structure (one compiled program per way:
# the repeat-based cosines take seconds to compile here); structural variants are in VARIANTS.
CASES = {
    "linear": [(0.0731, 37, 211, {}, ()), (2.7e-4, 3, 149, {}, ()), (0.913, 19, 121, {}, ())],
    "cosine": [
        (0.0731, 37, 211, {}, (211 + 174, 211 + 2 * 174)),  # rises again after T
        (0.913, 19, 121, {"num_cycles": 1.5}, (19 + 34, 19 + 68)),  # half-period 102 / 3 = 34
        (0.0731, 41, 211, {"num_cycles": 1.7}, (41 + 50, 41 + 100)),  # 170 / 3.4 = 50
        (0.31, 7, 100, {"num_cycles": 0.25}, (7 + 186,)),
    ],
    "cosine_with_restarts": [
        (0.0731, 37, 211, {}, ()),
        (2.7e-4, 1, 151, {"num_cycles": 3}, (51, 101)),
        (0.913, 19, 124, {"num_cycles": 1.5}, (19 + 70,)),  # 105 / 1.5 = 70
        (0.0731, 11, 185, {"num_cycles": 2.9}, (71, 131)),  # 174 / 2.9 = 60
    ],
    "polynomial": [
        (0.0731, 37, 211, {}, ()),
        (2.7e-4, 3, 149, {"lr_end": 1.3e-5, "power": 2.3}, ()),
        (0.913, 19, 121, {"lr_end": 0.05, "power": 0.5}, ()),
        (0.3, 5, 50, {"lr_end": 0.01, "power": 0.0}, ()),  # 0 ** 0 at T: learning_rate through T
    ],
    "constant": [(0.0731, None, None, {}, ()), (2.7e-4, 13, 17, {}, ()), (0.913, None, None, {}, ())],
    "constant_with_warmup": [(0.0731, 37, None, {}, ()), (0.913, 1, None, {}, ()), (0.5, 211, None, {}, ())],
    "inverse_sqrt": [
        (0.0731, 37, None, {}, ()),
        (2.7e-4, 3, None, {}, ()),
        (0.913, 19, None, {"timescale": 53}, ()),
    ],
    "cosine_with_min_lr": [
        (0.0731, 37, 211, {"min_lr": 0.0031}, (211 + 174,)),
        (2.7e-4, 3, 149, {"min_lr_rate": 0.13}, ()),
        (0.913, 41, 211, {"num_cycles": 1.7, "min_lr_rate": 0.05}, (41 + 50, 41 + 100)),
    ],
    "cosine_warmup_with_min_lr": [
        (0.0731, 37, 211, {"min_lr": 0.0031}, (211 + 174,)),
        (2.7e-4, 1, 150, {"min_lr_rate": 0.13, "warmup_lr_rate": 0.07}, ()),
        (0.913, 7, 177, {"num_cycles": 1.7, "min_lr_rate": 0.05}, (56, 106)),  # 170 / 3.4 = 50
        (0.5, 23, 200, {"min_lr_rate": 0.2, "warmup_lr_rate": 0.3}, ()),
    ],
    "warmup_stable_decay": [
        (0.0731, 37, 211, {"num_decay_steps": 53}, (211 - 53,)),
        (2.7e-4, 3, None, {"num_decay_steps": 41, "num_stable_steps": 67, "decay_type": "1-sqrt",
                           "min_lr_ratio": 0.13}, (70, 111)),
        (0.913, 19, 150, {"num_decay_steps": 60, "decay_type": "linear", "min_lr_ratio": 0.05}, (90,)),
    ],
}  # fmt: skip

# other structures of the same names: a boundary at 0, T <= W, other warmup shapes, num_cycles
VARIANTS = {
    "linear": [(0.913, 19, 19, {}, ()), (0.05, 23, 11, {}, ()), (2.7e-4, 0, 149, {}, ())],
    "cosine": [(2.7e-4, 0, 149, {}, (149 + 149,))],
    "cosine_with_restarts": [(2.7e-4, 0, 150, {"num_cycles": 3}, (50, 100))],
    "polynomial": [(2.7e-4, 0, 149, {"lr_end": 1.3e-5, "power": 2.3}, ())],
    "constant_with_warmup": [(2.7e-4, 0, None, {}, ())],
    "inverse_sqrt": [(2.7e-4, 0, None, {}, ())],  # timescale 10 000
    "cosine_warmup_with_min_lr": [(0.913, 0, 170, {"num_cycles": 1.7, "min_lr_rate": 0.05}, (49, 99))],
    "warmup_stable_decay": [
        (2.7e-4, 0, None, {"num_decay_steps": 41, "num_stable_steps": 67, "warmup_type": "cosine",
                           "decay_type": "1-sqrt", "min_lr_ratio": 0.13}, (67, 108)),
        (0.3, 13, 120, {"num_decay_steps": 51, "warmup_type": "cosine", "min_lr_ratio": 0.1}, (69,)),
        (0.913, 19, 150, {"num_decay_steps": 60, "warmup_type": "1-sqrt", "decay_type": "linear",
                          "min_lr_ratio": 0.05}, (90,)),
        (0.3, 13, 120, {"num_decay_steps": 51, "num_cycles": 1.5, "min_lr_ratio": 0.1}, (69, 69 + 17)),
    ],
}  # fmt: skip


def flat(table):
    params = [(name, *case) for name, cases in table.items() for case in cases]
    ids = [f"{name}-{i}" for name, cases in table.items() for i in range(len(cases))]
    return params, ids


PARAMS, IDS = flat(CASES)
VARIANT_PARAMS, VARIANT_IDS = flat(VARIANTS)
ARGS = ("name", "lr", "warmup", "training", "kwargs", "extra")


def build(name, lr, warmup, training, kwargs):
    return hf.get_scheduler(lr, name, warmup, training, scheduler_specific_kwargs=dict(kwargs))


def case_steps(warmup, training, extra):
    return steps_for(max(b for b in (warmup, training, 50) if b is not None), *extra)


@pytest.mark.parametrize(ARGS, PARAMS, ids=IDS)
def test_equals_transformers(name, lr, warmup, training, kwargs, extra):
    steps = case_steps(warmup, training, extra)
    expected = reference(name, lr, steps, warmup, training, kwargs)
    s = build(name, lr, warmup, training, kwargs)
    for way, ours in three_ways(s, steps).items():
        np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL * lr, err_msg=way)


@pytest.mark.parametrize(ARGS, VARIANT_PARAMS, ids=VARIANT_IDS)
def test_variants_equal_transformers(name, lr, warmup, training, kwargs, extra):
    steps = case_steps(warmup, training, extra)
    expected = reference(name, lr, steps, warmup, training, kwargs)
    ours = build(name, lr, warmup, training, kwargs)(steps)
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL * lr)


@pytest.mark.parametrize(ARGS, PARAMS + VARIANT_PARAMS, ids=IDS + VARIANT_IDS)
def test_by_name_is_the_function_and_configs_round_trip(name, lr, warmup, training, kwargs, extra):
    s = build(name, lr, warmup, training, kwargs)
    make = hf.TYPE_TO_SCHEDULER_FUNCTION[name]
    args = (
        {} if name == "constant" else {"num_warmup_steps": warmup, "num_training_steps": training, **kwargs}
    )
    direct = make(lr, **{k: v for k, v in args.items() if v is not None})
    assert o.to_config(direct) == o.to_config(s)
    back = o.from_config(o.to_config(s))
    assert back == s
    steps = case_steps(warmup, training, extra)
    np.testing.assert_array_equal(back(steps), s(steps))


def test_every_scheduler_type_is_covered():
    assert set(hf.SCHEDULER_TYPES) == {t.value for t in transformers.SchedulerType}
    assert set(CASES) | {"reduce_lr_on_plateau", "greedy"} == set(hf.SCHEDULER_TYPES)
    s = hf.get_scheduler(0.1, transformers.SchedulerType.LINEAR, 3, 10)
    assert float(s(3)) == pytest.approx(0.1)


def test_vmaps_over_hyperparameters():
    """Built inside `jax.vmap`, learning_rate, num_warmup_steps and num_training_steps may be traced."""
    steps = steps_for(211)
    lrs, warm, total = jnp.array([0.0731, 0.913]), jnp.array([37, 19]), jnp.array([211, 121])
    batched = jax.vmap(lambda lr, w, t: hf.get_linear_schedule_with_warmup(lr, w, t)(steps))(lrs, warm, total)
    for row, args in zip(batched, [(0.0731, 37, 211), (0.913, 19, 121)]):
        np.testing.assert_allclose(row, hf.get_linear_schedule_with_warmup(*args)(steps), rtol=1e-6)


# --- what transformers' own float64 arithmetic or the core cannot do -------------------------------


# Periods that are not a whole number of steps: counted in ticks of 1/n step (`repeat(..., ticks=n)`).
# (name, learning_rate, W, T, kwargs, restart/half-period steps in steps as Fractions' floors)
FRACTIONAL = [
    ("cosine", 0.0731, 37, 211, {"num_cycles": 1.7}),  # half-period 174 / 3.4 = 51.18 steps
    ("cosine", 0.913, 3, 100, {"num_cycles": 1.37}),  # 97 / 2.74 = 35.40
    ("cosine_with_restarts", 0.0731, 37, 211, {"num_cycles": 4}),  # period 174 / 4 = 43.5 steps
    ("cosine_with_restarts", 2.7e-4, 11, 112, {"num_cycles": 2.3}),  # 101 / 2.3 = 43.91
    ("cosine_with_min_lr", 0.31, 13, 150, {"num_cycles": 0.7, "min_lr_rate": 0.1}),
    ("cosine_warmup_with_min_lr", 0.913, 7, 177, {"num_cycles": 1.3, "min_lr_rate": 0.05}),
    ("warmup_stable_decay", 0.3, 37, 211, {"num_decay_steps": 53, "num_cycles": 1.5}),
]


def _fraction_boundaries(name, warmup, training, kwargs):
    """The steps around each restart / half-period end, floor and ceil, as integers."""
    from fractions import Fraction

    cycles = Fraction(str(kwargs["num_cycles"]))
    if name == "warmup_stable_decay":
        start, span, per = training - kwargs["num_decay_steps"], kwargs["num_decay_steps"], 2 * cycles
    else:
        start, span = warmup, max(1, training - warmup)
        per = cycles if name == "cosine_with_restarts" else 2 * cycles
    length = Fraction(span) / per
    out = []
    k = 1
    while start + k * length < training + 40 and k < 12:
        x = start + k * length
        out += [math.floor(x), math.ceil(x)]
        k += 1
    return tuple(out)


@pytest.mark.parametrize(("name", "lr", "warmup", "training", "kwargs"), FRACTIONAL, ids=lambda v: str(v))
def test_fractional_periods_equal_transformers(name, lr, warmup, training, kwargs):
    """1.37 cycles over 97 steps: the cosine's half-period is 35.40 steps; ours counts it in ticks
    (exact integer phase); transformers computes the phase in float64."""
    steps = steps_for(training, *_fraction_boundaries(name, warmup, training, kwargs))
    expected = reference(name, lr, steps, warmup, training, kwargs)
    s = build(name, lr, warmup, training, kwargs)
    for way, ours in three_ways(s, steps).items():
        np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL * lr, err_msg=way)


def test_a_period_past_exact_tick_arithmetic_is_refused():
    with pytest.raises(ValueError, match="int32 range of exact tick arithmetic"):
        build("cosine_with_restarts", 0.1, 0, 2_000_000_007, {"num_cycles": 1.0000001})


def test_greedy_by_name_is_greedy_lr_and_equals_transformers():
    """`get_scheduler(lr, "greedy", ...)` is the `greedy_lr` transform; its rate after each metric
    equals transformers' GreedyLR stepped with the same metrics (the full comparison is
    tests/test_greedy.py)."""
    kwargs = {"patience": 2, "factor": 0.73, "min_lr": 0.01, "verbose": False}
    metrics = [1.0, 2.0, 2.0, 2.0, 0.5, 0.4, 0.3, 0.2, 0.1, 3.0, 3.0, 3.0, 3.0]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.0731)
    greedy = transformers.get_scheduler("greedy", opt, scheduler_specific_kwargs=dict(kwargs))
    expected = []
    for metric in metrics:
        greedy.step(metric)
        expected.append(opt.param_groups[0]["lr"])
    tx = hf.get_scheduler(0.0731, "greedy", scheduler_specific_kwargs=dict(kwargs))
    assert isinstance(tx, optax.GradientTransformationExtraArgs)
    params = jnp.zeros(3)
    state, ours = tx.init(params), []
    for metric in metrics:
        _, state = tx.update(jnp.ones(3), state, params, value=jnp.asarray(metric))
        ours.append(0.0731 * float(state.scale))
    assert np.any(np.diff(expected) < 0) and np.any(np.diff(expected) > 0)  # down and up again
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: hf.get_scheduler(0.1, "cosine"), "requires `num_warmup_steps`"),
        (lambda: hf.get_scheduler(0.1, "cosine", 10), "requires `num_training_steps`"),
        (lambda: hf.get_scheduler(0.1, "cosine_annealing", 10, 100), "name must be one of"),
        (lambda: hf.get_polynomial_decay_schedule_with_warmup(1e-8, 10, 100), "lr_end must be smaller"),
        (lambda: hf.get_cosine_with_min_lr_schedule_with_warmup(0.1, 10, 100), "one of min_lr or"),
        (lambda: hf.get_linear_schedule_with_warmup(0.1, 10, 100, last_epoch=5), "last_epoch must be -1"),
        (lambda: hf.get_wsd_schedule(0.1, 10, 20), "num_training_steps or num_stable_steps"),
        (lambda: hf.get_linear_schedule_with_warmup(0.1, -3, 100), "num_warmup_steps must be >= 0"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_restart_steps_are_exact_where_transformers_rounds():
    """transformers computes `(num_cycles · (t − W) / span) mod 1` in float64: with span 41 and 4.1
    cycles (restarts every 10 steps) that is 0.99999... at every restart, where it gives ~0 for the
    restart's peak. Ours restarts there; every other step agrees."""
    kwargs = {"num_cycles": 4.1}
    steps = steps_for(42, 11, 21, 31, 41)
    expected = reference("cosine_with_restarts", 0.0731, steps, 1, 42, kwargs)
    ours = np.asarray(build("cosine_with_restarts", 0.0731, 1, 42, kwargs)(steps))
    restarts = np.isin(steps, [11, 21, 31, 41])
    assert np.all(expected[restarts] < 1e-12)
    np.testing.assert_allclose(ours[restarts], 0.0731, rtol=1e-7)
    np.testing.assert_allclose(ours[~restarts], expected[~restarts], rtol=RTOL, atol=ATOL * 0.0731)


# --- reduce_lr_on_plateau: the transform --------------------------------------------------------


PLATEAU = [
    (0.0731, {}, 3),
    (2.7e-4, {"mode": "max", "factor": 0.37, "patience": 2, "threshold": 0.013, "cooldown": 1}, 2),
    (0.913, {"factor": 0.5, "patience": 1, "threshold_mode": "abs", "threshold": 0.05, "min_lr": 0.2}, 1),
    (0.05, {"factor": 0.9, "patience": 0, "eps": 0.004}, 4),  # eps skips the late, small reductions
]


def metrics(n: int, mode: str) -> np.ndarray:
    """Improving for 15 epochs, then a wobbling plateau."""
    e = np.arange(n)
    walk = 0.3 + 0.7 * np.maximum(0.0, 1 - e / 15) + 0.02 * np.sin(2.3 * e)
    return -walk if mode == "max" else walk


@pytest.mark.parametrize(("lr", "kwargs", "per_epoch"), PLATEAU)
def test_reduce_lr_on_plateau_equals_torch(lr, kwargs, per_epoch):
    """torch's rate after `step(metric)` at the end of each evaluation period equals ours after that
    period's last update (the update that completes a period already uses the new scale)."""
    epochs = 70
    values = metrics(epochs, kwargs.get("mode", "min"))
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = transformers.get_scheduler("reduce_lr_on_plateau", opt, scheduler_specific_kwargs=dict(kwargs))
    expected = []
    for v in values:
        sched.step(float(v))
        expected.append(opt.param_groups[0]["lr"])
    assert len(set(expected)) > 2  # the case does reduce the rate, more than once

    tx = hf.get_scheduler(
        lr, "reduce_lr_on_plateau", scheduler_specific_kwargs={**kwargs, "accumulation_size": per_epoch}
    )
    update = jax.jit(tx.update)
    state = tx.init(jnp.zeros(1))
    ours, within = [], []
    for v in values:
        for _ in range(per_epoch):
            within.append(float(state.scale))
            updates, state = update(jnp.ones(1), state, value=jnp.float32(v))
        ours.append(float(state.scale) * lr)
        assert float(updates[0]) == float(state.scale)  # the epoch's last update uses the new scale
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    # inside an epoch the scale is the one set at the end of the previous epoch
    np.testing.assert_allclose(np.array(within[::per_epoch]) * lr, [lr, *expected[:-1]], rtol=1e-6)


def test_reduce_lr_on_plateau_chains_after_the_optimizer():
    tx = optax.chain(optax.sgd(0.1), hf.get_reduce_on_plateau_schedule(0.1, factor=0.5, patience=0))
    state = tx.init(jnp.zeros(1))
    lrs = []
    for loss in (1.0, 2.0, 3.0):
        updates, state = tx.update(jnp.ones(1), state, value=loss)
        lrs.append(-float(updates[0]))
    np.testing.assert_allclose(lrs, [0.1, 0.05, 0.025], rtol=1e-6)
