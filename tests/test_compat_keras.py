"""`optax_lrs.compat.keras` against Keras 3 run here, and `optax_lrs.compat.tf_od` against seed 000's
formulas in NumPy float64.

Ours is evaluated in the three ways training calls a schedule: an int32 vector, a traced int32 scalar
under `jax.jit`, an eager Python int. Keras is evaluated as its optimizer does, inside a jitted
function on an integer step (`jax.jit(jax.vmap(schedule))`, which equals the jitted scalar call).

Tolerances are float32 rounding, stated per entry: both sides compute in float32, so values agree to a
few ulps (U = 2**-24 is float32's unit roundoff); where Keras forms a phase in float32 that we form in
integers (`1 − t/T`, the position in a restart cycle), Keras's phase error (a few U times its size)
moves its value by the formula's slope times that error, and that is the per-step allowance. Steps past
2**24 are compared with Keras only where its float32 step does not matter (values at the end of a
decay); `PolynomialDecay(cycle=True)` and `CosineDecayRestarts` there, and at 2**31 − 1, are compared
with exact references.
"""

import math
import os
from bisect import bisect_right
from fractions import Fraction

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import optax_lrs as o  # noqa: E402
from optax_lrs.compat import keras as ck  # noqa: E402
from optax_lrs.compat import tf_od  # noqa: E402

INT32_MAX = 2**31 - 1
U = 2.0**-24  # float32 unit roundoff
RTOL = 4 * U  # a few float32 roundings of the same formula on each side

# Keras's own float(variable) on NumPy 2 (keras/src/backend/jax/core.py), not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


# -- helpers ------------------------------------------------------------------------------------------


def probe(*edges, upto=160, far=(10**4, 2**24 - 1, 2**24 + 1, INT32_MAX)):
    """Steps 0..upto−1, every edge ±1, and far steps, sorted and within int32."""
    steps = set(range(upto)) | set(far)
    for e in edges:
        steps |= {e - 1, e, e + 1}
    return np.array(sorted(t for t in steps if 0 <= t <= INT32_MAX), np.int64)


_scalar = jax.jit(lambda s, t: s(t))


def vector(sched, steps):
    """`sched` at int32 `steps`, padded to a multiple of 512 steps so that schedules of one structure
    share one compiled program across tests (compiling a restart schedule takes about a second)."""
    steps = np.asarray(steps, np.int64)
    padded = np.resize(steps, -(-len(steps) // 512) * 512)
    return np.asarray(sched(jnp.asarray(padded, jnp.int32)), np.float64)[: len(steps)]


def three_ways(sched, steps):
    """{mode: float64 values} of `sched` at `steps`: int32 vector, traced int32 scalar, Python int."""
    steps = np.asarray(steps, np.int64)
    return {
        "vector": vector(sched, steps),
        "jit": np.array([float(_scalar(sched, jnp.int32(t))) for t in steps]),
        "eager": np.array([float(sched(int(t))) for t in steps]),
    }


def assert_close(got, expected, steps, rtol=RTOL, atol=0.0, what=""):
    """|got − expected| <= atol + rtol·|expected| elementwise (atol and rtol may be per step)."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    bad = ~(np.abs(got - expected) <= atol + rtol * np.abs(expected))
    if bad.any():
        i = np.flatnonzero(bad)[:5]
        raise AssertionError(
            f"{what}: {bad.sum()} of {bad.size} steps differ, e.g. steps {np.asarray(steps)[i].tolist()}: "
            f"got {got[i].tolist()}, expected {expected[i].tolist()}"
        )


def assert_modes(values, steps, expected, rtol=RTOL, atol=0.0, where=None):
    """Every mode of `three_ways`' `values` against `expected` (at the steps selected by `where`)."""
    where = np.ones(len(steps), bool) if where is None else where
    for mode, got in values.items():
        assert_close(got[where], expected, np.asarray(steps)[where], rtol, atol, what=mode)


def assert_three_ways(sched, steps, expected, rtol=RTOL, atol=0.0):
    assert_modes(three_ways(sched, steps), steps, expected, rtol, atol)


def keras_module():
    keras = pytest.importorskip("keras")
    assert keras.backend.backend() == "jax"
    return keras


def keras_values(name, steps, **kwargs):
    """Keras's `keras.optimizers.schedules.<name>(**kwargs)` at integer `steps`, jitted as in training."""
    sched = getattr(keras_module().optimizers.schedules, name)(**kwargs)
    return np.asarray(jax.jit(jax.vmap(sched))(jnp.asarray(steps, jnp.int32)), np.float64)


def assert_config_round_trip(sched, steps, **kwargs):
    back = o.from_config(sched.to_config(), **kwargs)
    assert back == sched
    np.testing.assert_array_equal(vector(back, steps), vector(sched, steps))


# -- ExponentialDecay ---------------------------------------------------------------------------------

EXPONENTIAL = [
    dict(initial_learning_rate=0.0731, decay_steps=37, decay_rate=0.83),
    dict(initial_learning_rate=0.0731, decay_steps=37, decay_rate=0.83, staircase=True),
    dict(initial_learning_rate=0.3, decay_steps=7, decay_rate=0.97, staircase=True),
    dict(initial_learning_rate=0.0042, decay_steps=113, decay_rate=1.013),  # grows
    dict(initial_learning_rate=0.0731, decay_steps=37, decay_rate=0.0),  # 0 from step 1 on
    dict(initial_learning_rate=0.0731, decay_steps=37, decay_rate=0.0, staircase=True),  # from 37 on
]


@pytest.mark.parametrize("kw", EXPONENTIAL)
def test_exponential_decay(kw):
    """Both sides compute init·rate^p, p = float32(t)/T, with the same float32 operations: a few ulps.
    Keras overflows to inf where a growing rate passes float32; ours saturates (checked apart)."""
    T = kw["decay_steps"]
    steps = probe(*(k * T for k in range(1, 9)))
    expected = keras_values("ExponentialDecay", steps, **kw)
    finite = np.isfinite(expected)
    sched = ck.ExponentialDecay(**kw)
    assert_three_ways(sched, steps[finite], expected[finite])
    if not finite.all():
        assert np.all(np.asarray(sched(steps[~finite])) == np.finfo(np.float32).max)
    assert_config_round_trip(sched, steps)


def test_exponential_decay_negative_rate_is_refused():
    with pytest.raises(ValueError, match=r"ExponentialDecay: decay_rate must be >= 0, got -0\.5"):
        ck.ExponentialDecay(0.1, 10, -0.5)


# -- InverseTimeDecay ---------------------------------------------------------------------------------

INVERSE_TIME = [
    dict(initial_learning_rate=0.0731, decay_steps=37, decay_rate=0.83),
    dict(initial_learning_rate=0.0731, decay_steps=37, decay_rate=0.83, staircase=True),
    dict(initial_learning_rate=0.5, decay_steps=1, decay_rate=0.0021),
]


@pytest.mark.parametrize("kw", INVERSE_TIME)
def test_inverse_time_decay(kw):
    """init / (1 + rate·p) from the same float32 p on both sides: a few ulps, up to 2**31 − 1."""
    T = kw["decay_steps"]
    steps = probe(*(k * T for k in range(1, 9)))
    sched = ck.InverseTimeDecay(**kw)
    assert_three_ways(sched, steps, keras_values("InverseTimeDecay", steps, **kw))
    assert_config_round_trip(sched, steps)


# -- PolynomialDecay ----------------------------------------------------------------------------------

POLYNOMIAL = [
    dict(initial_learning_rate=0.0731, decay_steps=37),  # Keras's default end 1e-4, power 1
    dict(initial_learning_rate=0.0731, decay_steps=37, end_learning_rate=0.0013, power=0.7, cycle=True),
    dict(initial_learning_rate=0.0731, decay_steps=113, end_learning_rate=0.0013, power=2.3),
    dict(initial_learning_rate=0.2, decay_steps=41, end_learning_rate=0.0, power=0.5, cycle=True),
]


def polynomial_reference(
    steps, initial_learning_rate, decay_steps, end_learning_rate=1e-4, power=1.0, cycle=False
):
    """Keras's formula in float64 with exact integer phases: (init − end)·(1 − t/T)^power + end."""
    t = np.asarray(steps, np.int64)
    if cycle:
        horizon = decay_steps * np.maximum(1, -(-t // decay_steps))
    else:
        horizon, t = np.full_like(t, decay_steps), np.minimum(t, decay_steps)
    left = (horizon - t) / horizon
    return (initial_learning_rate - end_learning_rate) * left**power + end_learning_rate


def keras_phase_allowance(f, p, scale, ulps=4):
    """Keras forms p in float32 (t·(1/T) under jit: a few roundings), so its value may move by
    scale·|f(p ± ulps·U·p) − f(p)|: the formula's slope times that error."""
    d = ulps * U * np.maximum(p, U)
    lo, hi = np.clip(p - d, 0.0, 1.0), np.clip(p + d, 0.0, 1.0)
    return scale * np.maximum(np.abs(f(lo) - f(p)), np.abs(f(hi) - f(p)))


@pytest.mark.parametrize("kw", POLYNOMIAL)
def test_polynomial_decay(kw):
    T, power, cycle = kw["decay_steps"], kw.get("power", 1.0), kw.get("cycle", False)
    end = kw.get("end_learning_rate", 1e-4)
    steps = probe(*(k * T for k in range(1, 6)), upto=200)
    sched = ck.PolynomialDecay(**kw)
    values = three_ways(sched, steps)
    # exact reference everywhere, 2**31 − 1 included
    assert_modes(values, steps, polynomial_reference(steps, **kw))
    # Keras where its float32 step is exact (and, without cycle, far past the end too)
    near = steps < 2**24 if cycle else np.ones(steps.shape, bool)
    t = steps[near]
    horizon = T * np.maximum(1, -(-t // T)) if cycle else np.full(t.shape, T)
    p = np.minimum(t, horizon) / horizon
    allowance = keras_phase_allowance(lambda x: (1 - x) ** power, p, abs(kw["initial_learning_rate"] - end))
    assert_modes(values, steps, keras_values("PolynomialDecay", t, **kw), atol=allowance, where=near)
    assert_config_round_trip(sched, steps)


def test_polynomial_decay_default_end_is_keras():
    assert float(ck.PolynomialDecay(0.0731, 37)(10**6)) == pytest.approx(1e-4, rel=U)


# -- PiecewiseConstantDecay ---------------------------------------------------------------------------

PIECEWISE = [
    dict(boundaries=[0, 37, 111, 112], values=[0.3, 0.0731, 0.0, -0.01, 0.002]),
    dict(boundaries=[100, 200], values=[0.1, 0.05, 0.0731]),
    dict(boundaries=[37, 37, 2**31 - 2], values=[0.0731, 0.5, 0.013, 0.0029]),
]


@pytest.mark.parametrize("kw", PIECEWISE)
def test_piecewise_constant_decay(kw):
    """Keras switches at t > b: exactly its float32 values (each value is held, not rebuilt from
    ratios), zeros, negative values and repeated boundaries included."""
    steps = probe(*kw["boundaries"])
    expected = keras_values("PiecewiseConstantDecay", steps, **kw)
    assert_three_ways(ck.PiecewiseConstantDecay(**kw), steps, expected, rtol=0.0)
    assert_config_round_trip(ck.PiecewiseConstantDecay(**kw), steps)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(boundaries=[10], values=[0.1]), "boundaries must be one shorter than values"),
        (dict(boundaries=[20, 10], values=[0.1, 0.2, 0.3]), "boundaries must be sorted"),
        (dict(boundaries=[INT32_MAX], values=[0.1, 0.2]), r"boundaries must be < 2\*\*31 - 1"),
        (dict(boundaries=[1.5], values=[0.1, 0.2]), "boundaries must be an integer"),
    ],
)
def test_piecewise_constant_decay_bad_input(kw, match):
    with pytest.raises(ValueError, match=f"PiecewiseConstantDecay: {match}"):
        ck.PiecewiseConstantDecay(**kw)


# -- CosineDecay --------------------------------------------------------------------------------------

COSINE = [
    dict(initial_learning_rate=0.0731, decay_steps=37, alpha=0.013),
    dict(initial_learning_rate=0.0731, decay_steps=337),
    dict(initial_learning_rate=0.0013, decay_steps=113, alpha=0.07, warmup_target=0.0731, warmup_steps=37),
    dict(initial_learning_rate=0.0, decay_steps=41, warmup_target=0.2, warmup_steps=1),
    dict(initial_learning_rate=0.0731, decay_steps=41, alpha=0.013, warmup_target=0.05, warmup_steps=0),
]


@pytest.mark.parametrize("kw", COSINE)
def test_cosine_decay(kw):
    """Keras forms ½(1 + cos(π·p)) in float32, whose absolute error is a few U (cancellation near
    the end, where ours keeps relative accuracy): an allowance of 4U of the largest value."""
    W, T = kw.get("warmup_steps", 0), kw["decay_steps"]
    edges = (T, T + W) if "warmup_target" in kw else (T,)
    steps = probe(W, *edges, upto=400)
    top = max(abs(kw["initial_learning_rate"]), abs(kw.get("warmup_target") or 0.0))
    sched = ck.CosineDecay(**kw)
    assert_three_ways(sched, steps, keras_values("CosineDecay", steps, **kw), atol=4 * U * top)
    assert_config_round_trip(sched, steps)


def test_cosine_decay_ignores_warmup_steps_without_target_as_keras_does():
    steps = probe(10, 37)
    kw = dict(initial_learning_rate=0.0731, decay_steps=37, warmup_steps=10)
    np.testing.assert_array_equal(
        np.asarray(ck.CosineDecay(**kw)(steps)), np.asarray(ck.CosineDecay(0.0731, 37)(steps))
    )
    assert_close(
        ck.CosineDecay(**kw)(steps), keras_values("CosineDecay", steps, **kw), steps, atol=4 * U * 0.0731
    )


# -- CosineDecayRestarts ------------------------------------------------------------------------------

RESTARTS = [
    dict(initial_learning_rate=0.0731, first_decay_steps=37, t_mul=1.7, m_mul=0.83, alpha=0.013),
    dict(initial_learning_rate=0.0731, first_decay_steps=11, t_mul=2.0, m_mul=0.9),
    dict(initial_learning_rate=0.2, first_decay_steps=23, t_mul=1.0, m_mul=0.77, alpha=0.05),
    dict(initial_learning_rate=0.05, first_decay_steps=40, t_mul=1.1, m_mul=1.0),  # Keras misses 84
]


class Cycles:
    """Exact cycles of SGDR: cycle i starts at first·(1 + m + ... + m^(i−1)), m the decimal t_mul."""

    def __init__(self, first, t_mul, limit=INT32_MAX):
        self.first, self.m = first, Fraction(repr(float(t_mul)))
        self.starts, self.lengths = [], []
        if self.m != 1:
            start, length = Fraction(0), Fraction(first)
            while start <= limit:
                self.starts.append(start)
                self.lengths.append(length)
                start, length = start + length, length * self.m

    def locate(self, t):
        """(cycle index, start, length) of integer step t."""
        if self.m == 1:
            i = t // self.first
            return i, Fraction(i * self.first), Fraction(self.first)
        i = bisect_right(self.starts, t) - 1
        return i, self.starts[i], self.lengths[i]

    def restart_steps(self, upto):
        """The first step of each cycle after the first, up to `upto`."""
        if self.m == 1:
            return list(range(self.first, upto + 1, self.first))
        return [math.ceil(s) for s in self.starts[1:] if s <= upto]


def restarts_reference(steps, cycles, initial_learning_rate, m_mul, alpha, **_):
    out = []
    for t in steps:
        i, start, length = cycles.locate(int(t))
        frac = float((t - start) / length)
        out.append(
            initial_learning_rate * ((1 - alpha) * m_mul**i * 0.5 * (1 + math.cos(math.pi * frac)) + alpha)
        )
    return np.array(out)


@pytest.mark.parametrize("kw", RESTARTS)
def test_cosine_decay_restarts(kw):
    kw = {"t_mul": 2.0, "m_mul": 1.0, "alpha": 0.0, **kw}
    first, init = kw["first_decay_steps"], kw["initial_learning_rate"]
    cycles = Cycles(first, kw["t_mul"])
    restarts = cycles.restart_steps(2**20)[:60]
    steps = probe(*restarts, upto=600)
    sched = ck.CosineDecayRestarts(**kw)
    values = three_ways(sched, steps)

    # exact cycles (rational arithmetic, float64 values) at every step, 2**31 − 1 included: the
    # restart step returns the new peak
    assert_modes(values, steps, restarts_reference(steps, cycles, **kw), atol=4 * U * init)

    # Keras up to 2**20. Its closed form subtracts two float32 numbers of size ~t/first to find the
    # position in cycle i, an error of a few U·(1 + t/first)/t_mul^i cycles (times i + 1 for its
    # float32 t_mul^i when t_mul != 1), which moves the value by at most init·π/2 per cycle of error.
    # At steps within its float32 resolution of a restart (every integer restart: t_mul = 2 gives
    # first·(2^i − 1); 84 = 40 + 44 for t_mul = 1.1, where Keras's float32 1.10000002 puts the start
    # at 84.000001) Keras may land in the neighbouring cycle (≈ alpha where the exact index gives the
    # peak): those steps are checked against the exact reference above, not against Keras.
    early = steps <= 2**20
    t = steps[early]
    located = [cycles.locate(int(x)) for x in t]
    gap = [min(x - s, s + n - x) for x, (_, s, n) in zip(t, located)]
    near_restart = np.array([g <= 2.0**-18 * max(s, 1) for g, (_, s, _) in zip(gap, located)])
    index = np.array([i for i, _, _ in located], np.float64)
    growth = 1 + index * (kw["t_mul"] != 1)
    phase_error = 8 * U * growth * (1 + t / first) / kw["t_mul"] ** index
    allowance = init * (math.pi / 2) * phase_error + 4 * U * init
    keep = ~near_restart | (t == 0)
    compared = early.copy()
    compared[early] = keep
    expected = keras_values("CosineDecayRestarts", t[keep], **kw)
    assert_modes(values, steps, expected, atol=allowance[keep], where=compared)
    assert_config_round_trip(sched, steps)


def test_cosine_decay_restarts_keras_misses_an_integer_restart():
    """Why restart steps are not compared with Keras: at step 84 Keras (float32 t_mul) is still at the
    end of cycle 0; the exact schedule restarts there."""
    kw = dict(initial_learning_rate=0.05, first_decay_steps=40, t_mul=1.1)
    keras_84 = keras_values("CosineDecayRestarts", [84], **kw)[0]
    assert keras_84 < 1e-6 * 0.05
    assert float(ck.CosineDecayRestarts(**kw)(84)) == pytest.approx(0.05, rel=RTOL)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(t_mul=0.9), "t_mul must be >= 1"),
        (dict(m_mul=1.2), r"m_mul must be in \[0, 1\]"),
        (dict(first_decay_steps=0), "first_decay_steps must be >= 1"),
    ],
)
def test_cosine_decay_restarts_bad_input(kw, match):
    args = {"initial_learning_rate": 0.1, "first_decay_steps": 10, **kw}
    with pytest.raises(ValueError, match=f"CosineDecayRestarts: {match}"):
        ck.CosineDecayRestarts(**args)


# -- vmap over hyperparameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "values"),
    [
        (lambda v: ck.ExponentialDecay(0.0731, 37, v, staircase=True), [0.83, 0.97]),
        (lambda v: ck.PolynomialDecay(0.0731, v, 0.0013, 0.7, cycle=True), [37, 41]),
        (lambda v: ck.CosineDecay(0.0013, 113, 0.07, warmup_target=0.0731, warmup_steps=v), [37, 5]),
        (lambda v: ck.PiecewiseConstantDecay([10, 37], v), [[0.3, 0.2, 0.1], [0.0731, 0.0, 0.5]]),
    ],
)
def test_vmap_over_a_hyperparameter(make, values):
    steps = jnp.arange(0, 300, dtype=jnp.int32)  # (restarts: tests/test_catalogue.py vmaps them)
    batched = jax.vmap(lambda v: make(v)(steps))(jnp.asarray(values))
    for row, v in zip(np.asarray(batched), values):
        np.testing.assert_allclose(row, np.asarray(make(v)(steps)), rtol=RTOL)


# -- LearningRateScheduler ----------------------------------------------------------------------------


def step_decay(epoch):
    """Seed 001's step decay (the Keras `LearningRateScheduler` function), non-round numbers."""
    initial_lrate = 0.0731
    drop = 0.83
    epochs_drop = 3.0
    return initial_lrate * math.pow(drop, math.floor((1 + epoch) / epochs_drop))


def exp_decay(epoch):
    """Seed 002's exponential decay function."""
    initial_lrate = 0.1
    k = 0.1
    return initial_lrate * np.exp(-k * epoch)


def decay_after_three(epoch, lr):
    """A function of the current rate, as in Keras's docs: hold, then multiply by e^−0.17 each epoch."""
    if epoch < 3:
        return lr
    return lr * math.exp(-0.17)


def step_decay_jnp(epoch):
    """Seed 002's step decay written with jnp: traceable, so not tabulated."""
    return 0.1 * jnp.power(0.5, jnp.floor(epoch / 10.0))


def step_decay_math(epoch):
    return 0.1 * math.pow(0.5, math.floor(epoch / 10.0))


def keras_epoch_rates(fn, num_epochs, learning_rate):
    """Keras's callback driven on a compiled model's optimizer: the rate after on_epoch_begin(e)."""
    keras = keras_module()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    callback = keras.callbacks.LearningRateScheduler(fn)
    callback.set_model(model)
    rates = []
    for epoch in range(num_epochs):
        callback.on_epoch_begin(epoch)
        rates.append(float(model.optimizer.learning_rate))
    return np.array(rates)


def epoch_probe(spe, num_epochs):
    edges = [e * spe for e in range(1, num_epochs + 1)]
    return probe(*edges, upto=2 * spe, far=(num_epochs * spe + 7, 10**6, INT32_MAX))


@pytest.mark.parametrize(
    ("fn", "spe", "num_epochs", "lr"),
    [(step_decay, 37, 23, None), (exp_decay, 11, 31, None), (decay_after_three, 7, 19, 0.0731)],
)
def test_learning_rate_scheduler_tabulated(fn, spe, num_epochs, lr):
    """Exactly Keras's rates: both are the float32 rounding of the same numbers (the rate passed to
    `fn(epoch, lr)` read back from float32 as Keras reads it); past the last epoch the last holds."""
    rates = keras_epoch_rates(fn, num_epochs, 0.0731 if lr is None else lr)
    sched = ck.LearningRateScheduler(fn, spe, num_epochs=num_epochs, learning_rate=lr)
    steps = epoch_probe(spe, num_epochs)
    expected = rates[np.minimum(steps // spe, num_epochs - 1)]
    assert_three_ways(sched, steps, expected, rtol=0.0)
    assert_config_round_trip(sched, steps)


def test_learning_rate_scheduler_in_model_fit():
    """The rate each update of `model.fit` runs with, by Keras's own iteration count (0 on the first
    update): 37 samples in batches of 5 are 8 updates an epoch."""
    keras = keras_module()

    class Record(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.rows = []

        def on_train_batch_begin(self, batch, logs=None):
            opt = self.model.optimizer
            self.rows.append((int(opt.iterations), float(opt.learning_rate)))

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    x = np.random.default_rng(0).normal(size=(37, 2)).astype(np.float32)
    record = Record()
    callbacks = [keras.callbacks.LearningRateScheduler(step_decay), record]
    model.fit(x, x[:, :1], batch_size=5, epochs=7, verbose=0, shuffle=False, callbacks=callbacks)
    steps, rates = np.array(record.rows).T
    np.testing.assert_array_equal(steps, np.arange(56))
    sched = ck.LearningRateScheduler(step_decay, 8, num_epochs=7)
    assert_three_ways(sched, steps.astype(np.int64), rates, rtol=0.0)


def test_learning_rate_scheduler_traced():
    """A jnp function is not tabulated: defined for every epoch, exactly Keras's float32 rates here
    (0.1·2^−k is float32(0.1) scaled by a power of two); its config round-trips when allowed."""
    num_epochs, spe = 45, 13
    rates = keras_epoch_rates(step_decay_math, num_epochs, 0.0731)
    sched = ck.LearningRateScheduler(step_decay_jnp, spe)
    steps = epoch_probe(spe, num_epochs)
    inside = steps < num_epochs * spe
    assert_three_ways(sched, steps[inside], rates[steps[inside] // spe], rtol=0.0)
    assert_three_ways(sched, steps, 0.1 * 0.5 ** np.floor(steps // spe / 10.0), rtol=RTOL)
    assert_config_round_trip(sched, steps, allowed_functions=[step_decay_jnp])


def test_learning_rate_scheduler_errors():
    with pytest.raises(
        ValueError, match="LearningRateScheduler: schedule must be a jnp-traceable.*num_epochs"
    ):
        ck.LearningRateScheduler(step_decay, 10)
    with pytest.raises(ValueError, match="LearningRateScheduler: .*give learning_rate"):
        ck.LearningRateScheduler(decay_after_three, 10, num_epochs=5)
    with pytest.raises(
        ValueError, match="LearningRateScheduler: schedule must be a function returning a float"
    ):
        ck.LearningRateScheduler(lambda epoch: 1, 10, num_epochs=5)
    with pytest.raises(ValueError, match="LearningRateScheduler: steps_per_epoch must be >= 1, got 0"):
        ck.LearningRateScheduler(step_decay, 0, num_epochs=5)
    with pytest.raises(ValueError, match="LearningRateScheduler: num_epochs must be an integer >= 1"):
        ck.LearningRateScheduler(step_decay, 10, num_epochs=0)


# -- legacy SGD(decay=...) ----------------------------------------------------------------------------


@pytest.mark.parametrize(("lr", "decay"), [(0.1, 0.1 / 50), (0.0731, 0.00083), (0.5, 0.0), (0.013, 1.7)])
def test_legacy_sgd_decay(lr, decay):
    """Keras 2's `lr / (1 + decay·iterations)` (seed 002), in float64: a few ulps, to 2**31 − 1."""
    steps = probe(782, 50 * 782)
    sched = ck.legacy_sgd_decay(lr, decay)
    assert_three_ways(sched, steps, lr / (1 + decay * steps.astype(np.float64)))
    assert_config_round_trip(sched, steps)


def test_legacy_sgd_decay_of_a_schedule():
    steps = probe(37, 74, far=(INT32_MAX,))
    sched = ck.legacy_sgd_decay(ck.ExponentialDecay(0.0731, 37, 0.83), 0.0017)
    expected = 0.0731 * 0.83 ** (steps / 37.0) / (1 + 0.0017 * steps)
    assert_three_ways(sched, steps, expected, rtol=2 * RTOL)  # one more rounding: the product
    assert_config_round_trip(sched, steps)


def test_keras_3_ignores_decay():
    """Why the legacy formula is tested against NumPy: Keras 3's SGD warns and ignores `decay`."""
    keras = keras_module()
    with pytest.warns(UserWarning, match="decay"):
        keras.optimizers.SGD(learning_rate=0.1, decay=0.01)


# -- tf_od (seed 000) ---------------------------------------------------------------------------------


def seed_exponential_decay_with_burnin(
    global_step,
    learning_rate_base,
    learning_rate_decay_steps,
    learning_rate_decay_factor,
    burnin_learning_rate=0.0,
    burnin_steps=0,
    min_learning_rate=0.0,
    staircase=True,
):
    """Seed 000's TF function in NumPy float64 (tf.train.exponential_decay spelled out)."""
    t = np.asarray(global_step, np.float64)
    if burnin_learning_rate == 0:
        burnin_learning_rate = learning_rate_base
    p = (t - burnin_steps) / learning_rate_decay_steps
    if staircase:
        p = np.floor(p)
    post_burnin_learning_rate = learning_rate_base * learning_rate_decay_factor**p
    return np.maximum(
        np.where(t < burnin_steps, burnin_learning_rate, post_burnin_learning_rate), min_learning_rate
    )


def seed_cosine_decay_with_warmup(
    global_step,
    learning_rate_base,
    total_steps,
    warmup_learning_rate=0.0,
    warmup_steps=0,
    hold_base_rate_steps=0,
):
    """Seed 000's function, as written there, in NumPy float64."""
    global_step = np.asarray(global_step, np.float64)
    learning_rate = (
        0.5
        * learning_rate_base
        * (
            1
            + np.cos(
                np.pi
                * (global_step - warmup_steps - hold_base_rate_steps)
                / float(total_steps - warmup_steps - hold_base_rate_steps)
            )
        )
    )
    if hold_base_rate_steps > 0:
        learning_rate = np.where(
            global_step > warmup_steps + hold_base_rate_steps, learning_rate, learning_rate_base
        )
    if warmup_steps > 0:
        slope = (learning_rate_base - warmup_learning_rate) / warmup_steps
        warmup_rate = slope * global_step + warmup_learning_rate
        learning_rate = np.where(global_step < warmup_steps, warmup_rate, learning_rate)
    return np.where(global_step > total_steps, 0.0, learning_rate)


BURNIN = [
    dict(
        learning_rate_base=0.0731,
        learning_rate_decay_steps=37,
        learning_rate_decay_factor=0.83,
        burnin_learning_rate=0.013,
        burnin_steps=11,
        min_learning_rate=1.3e-5,
    ),
    dict(
        learning_rate_base=0.0731,
        learning_rate_decay_steps=37,
        learning_rate_decay_factor=0.83,
        burnin_steps=11,
        staircase=False,
    ),
    dict(
        learning_rate_base=0.2,
        learning_rate_decay_steps=113,
        learning_rate_decay_factor=0.97,
        min_learning_rate=0.0013,
    ),
]


@pytest.mark.parametrize("kw", BURNIN)
def test_tf_od_exponential_decay_with_burnin(kw):
    """float32 base·factor^p carries factor's own float32 rounding (up to U relative) p times, and
    the rounding of p·log(factor): rtol = RTOL + U·p·(1 + |log factor|) at each step above the floor
    (exponent p), RTOL on it."""
    b, T = kw.get("burnin_steps", 0), kw["learning_rate_decay_steps"]
    steps = probe(b, *(b + k * T for k in range(1, 12)), upto=300)
    expected = seed_exponential_decay_with_burnin(steps, **kw)
    p = np.maximum(steps - b, 0) / T
    if kw.get("staircase", True):
        p = np.floor(p)
    floor = kw.get("min_learning_rate", 0.0)
    p = np.where(expected > floor, p, 0.0)
    rtol = RTOL + U * p * (1 + abs(math.log(kw["learning_rate_decay_factor"])))
    sched = tf_od.exponential_decay_with_burnin(**kw)
    assert_three_ways(sched, steps, expected, rtol=rtol)
    assert_config_round_trip(sched, steps)


COSINE_WARMUP = [
    dict(
        learning_rate_base=0.0731,
        total_steps=1009,
        warmup_learning_rate=0.0013,
        warmup_steps=37,
        hold_base_rate_steps=113,
    ),
    dict(learning_rate_base=0.0731, total_steps=337),
    dict(learning_rate_base=0.2, total_steps=541, warmup_learning_rate=0.013, warmup_steps=41),
    dict(learning_rate_base=0.05, total_steps=200, hold_base_rate_steps=23),
]


@pytest.mark.parametrize("kw", COSINE_WARMUP)
def test_tf_od_cosine_decay_with_warmup(kw):
    """float32 rounding of the value (a few ulps) and of the cosine's phase p (a few U, moving
    ½(1 + cos πp) by at most π/2 of that): an allowance of 8U of the base rate."""
    W, H, T = kw.get("warmup_steps", 0), kw.get("hold_base_rate_steps", 0), kw["total_steps"]
    steps = probe(W, W + H, T, upto=300)
    expected = seed_cosine_decay_with_warmup(steps, **kw)
    sched = tf_od.cosine_decay_with_warmup(**kw)
    assert_three_ways(sched, steps, expected, atol=8 * U * kw["learning_rate_base"])
    assert_config_round_trip(sched, steps)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (
            dict(total_steps=30, warmup_steps=10, hold_base_rate_steps=20),
            "total_steps must be > warmup_steps",
        ),
        (dict(total_steps=10, warmup_steps=10), "total_steps must be > warmup_steps"),
        (
            dict(warmup_learning_rate=0.2, warmup_steps=10),
            "learning_rate_base must be >= warmup_learning_rate",
        ),
        (dict(warmup_steps=-1), "warmup_steps must be >= 0"),
    ],
)
def test_tf_od_cosine_decay_with_warmup_bad_input(kw, match):
    args = {"learning_rate_base": 0.1, "total_steps": 100, **kw}
    with pytest.raises(ValueError, match=f"cosine_decay_with_warmup: {match}"):
        tf_od.cosine_decay_with_warmup(**args)


def test_tf_od_warmup_rate_above_base_without_warmup_is_fine():
    """The original checks warmup_learning_rate only when there is a warmup."""
    s = tf_od.cosine_decay_with_warmup(0.1, 100, warmup_learning_rate=0.2)
    assert float(s(0)) == pytest.approx(0.1, rel=RTOL)


def test_tf_od_bad_input():
    with pytest.raises(
        ValueError, match="exponential_decay_with_burnin: learning_rate_decay_steps must be >= 1"
    ):
        tf_od.exponential_decay_with_burnin(0.1, 0, 0.9)
    with pytest.raises(ValueError, match="exponential_decay_with_burnin: burnin_steps must be >= 0"):
        tf_od.exponential_decay_with_burnin(0.1, 10, 0.9, burnin_steps=-3)
