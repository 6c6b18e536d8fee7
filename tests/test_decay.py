"""Decays against NumPy float64 formulas, the numbers printed in the seeds, Keras 3 and PyTorch."""

import math

import numpy as np
import pytest

import optax_lrs as o

T = np.arange(0, 301)
RTOL = 2e-6  # float32 rounding of the float64 formula


def torch_lrs(make_scheduler, n, base_lr):
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    sched = make_scheduler(torch, opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


def keras_values(name, n, batched=False, **kwargs):
    """Keras's values at steps 0..n-1, eagerly and one scalar step at a time as Keras calls it (XLA
    on CPU divides a vector by a scalar through a reciprocal, which moves Keras's own values at
    boundaries). `batched` evaluates all steps at once, for schedules too slow step by step."""
    keras = pytest.importorskip("keras")
    assert keras.backend.backend() == "jax"
    sched = getattr(keras.optimizers.schedules, name)(**kwargs)
    if batched:
        return np.asarray(sched(np.arange(n, dtype=np.float32)))
    return np.array([float(sched(t)) for t in range(n)])


# --- seeds ----------------------------------------------------------------------------------------


def test_seed_002_table():
    """Seed 002 prints the LR at epochs 0, 10, 25, 50 (values rounded or truncated to the printed
    digits, so each must lie within one unit of its last printed digit)."""

    def within_last_digit(value, printed):
        decimals = len(printed.split(".")[1])
        assert abs(value - float(printed)) <= 10.0**-decimals, (value, printed)

    epochs = [0, 10, 25, 50]
    constant = o.constant_schedule(0.01)
    for e, p in zip(epochs, ["0.01", "0.01", "0.01", "0.01"]):
        within_last_digit(float(constant(e)), p)
    # time-based: the printed row is 0.1 / (1 + 0.001·epoch) (the text's LR/#epochs = 0.002 would
    # give 0.098 at epoch 10)
    time_based = o.inverse_time_decay(0.1, 0.001)
    for e, p in zip(epochs, ["0.1", "0.099", "0.097", "0.095"]):
        within_last_digit(float(time_based(e)), p)
    exp = o.natural_exp_decay(0.1, 0.1)
    for e, p in zip(epochs, ["0.1", "0.037", "0.008", "0.0006"]):
        within_last_digit(float(exp(e)), p)
    # step: 0.1·0.5^floor(epoch/10); the last column, 0.00625, is the 50th epoch, index 49
    step = o.step_decay(0.1, 0.5, 10)
    for e, p in zip([0, 10, 25, 49], ["0.1", "0.05", "0.025", "0.00625"]):
        assert float(step(e)) == pytest.approx(float(p), rel=1e-6)


def test_seed_004_mxnet_factor_and_multifactor():
    """MXNet counts updates from 1: its update n is our step n - 1."""
    factor = o.step_decay(1.0, 0.5, 250)
    assert [float(factor(n - 1)) for n in (1, 250, 251, 501)] == [1, 1, 0.5, 0.25]
    multi = o.multistep_decay(1.0, [250, 750, 900], 0.5)
    assert [float(multi(n - 1)) for n in (250, 251, 750, 751, 900, 901)] == [1, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_seed_000_step_decay_with_offset_one():
    """Seeds 000/001: lrate = initial_lr · drop^floor((1 + epoch) / epochs_drop), drop 0.85, every 3."""
    s = o.step_decay(0.1, 0.85, 3, offset=1)
    expected = [0.1 * math.pow(0.85, math.floor((1 + e) / 3)) for e in range(60)]
    np.testing.assert_allclose(s(np.arange(60)), expected, rtol=RTOL)


def test_mxnet_stop_factor_lr_floor():
    s = o.step_decay(1.0, 0.5, 10, end_value=0.1)
    expected = np.maximum(0.5 ** np.floor(T / 10), 0.1)
    np.testing.assert_allclose(s(T), expected, rtol=RTOL)


# --- formulas -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "steps", "offset"), [(0.5, 10, 0), (0.9, 7, 3), (0.1, 100, 1), (1.5, 40, 0)]
)
def test_step_decay_formula(rate, steps, offset):
    s = o.step_decay(0.2, rate, steps, offset=offset)
    np.testing.assert_allclose(s(T), 0.2 * rate ** np.floor((T + offset) / steps), rtol=RTOL)


@pytest.mark.parametrize(("bounds", "rate"), [([30, 60, 200], 0.1), ([0, 5, 5, 250], 0.5), ([], 0.3)])
def test_multistep_formula(bounds, rate):
    s = o.multistep_decay(0.4, bounds, rate)
    count = np.array([sum(b <= t for b in bounds) for t in T])
    np.testing.assert_allclose(s(T), 0.4 * rate**count, rtol=RTOL)


@pytest.mark.parametrize(
    ("rate", "steps", "stair"), [(0.1, 1, False), (0.5, 20, False), (0.5, 20, True), (2.0, 7, True)]
)
def test_natural_exp_and_inverse_time_formulas(rate, steps, stair):
    p = np.floor(T / steps) if stair else T / steps
    np.testing.assert_allclose(
        o.natural_exp_decay(0.3, rate, steps, stair)(T), 0.3 * np.exp(-rate * p), rtol=5e-6
    )
    np.testing.assert_allclose(
        o.inverse_time_decay(0.3, rate, steps, stair)(T), 0.3 / (1 + rate * p), rtol=RTOL
    )


@pytest.mark.parametrize(
    ("steps", "end", "power", "cycle"),
    [(100, 0.0, 1.0, False), (37, 0.01, 0.9, False), (50, 0.1, 2.0, True), (20, 0.0, 0.5, True)],
)
def test_polynomial_decay_formula(steps, end, power, cycle):
    if cycle:
        horizon = steps * np.maximum(1, np.ceil(T / steps))
        frac = T / horizon
    else:
        frac = np.minimum(T, steps) / steps
    expected = (1.0 - end) * (1 - frac) ** power + end
    np.testing.assert_allclose(
        o.polynomial_decay(1.0, steps, end, power, cycle)(T), expected, rtol=RTOL, atol=1e-7
    )


def test_polynomial_zero_power_at_the_end_is_defined():
    # 0 ** 0 = 1: with power 0 the schedule is the constant init_value, also past the end
    np.testing.assert_array_equal(
        o.polynomial_decay(0.5, 10, 0.1, 0.0)(np.array([0, 10, 20])), [0.5, 0.5, 0.5]
    )


@pytest.mark.parametrize(("k", "power"), [(3.0, 4.0), (1.0, 1.0), (0.5, 2.0)])
def test_k_decay_seed_formula(k, power):
    """Seed 000: lr = (L0 - Le)·(1 - t^k / T^k)^N + Le, then Le past T."""
    L0, Le, total = 0.1, 0.001, 120
    t = np.minimum(T, total).astype(float)
    expected = (L0 - Le) * (1 - t**k / total**k) ** power + Le
    np.testing.assert_allclose(o.k_decay(L0, total, Le, k, power)(T), expected, rtol=RTOL, atol=1e-8)


@pytest.mark.parametrize("staircase", [True, False])
def test_exponential_decay_with_burnin_formula(staircase):
    """Seed 000 (TF object detection): max(where(t < burnin, burnin_lr, exp decay of t - burnin), min)."""
    base, steps, rate, burn_lr, burn_steps, floor = 0.1, 25, 0.6, 0.02, 40, 0.004
    p = (T - burn_steps) / steps
    p = np.floor(p) if staircase else p
    expected = np.maximum(np.where(T < burn_steps, burn_lr, base * rate**p), floor)
    s = o.exponential_decay_with_burnin(base, steps, rate, burn_lr, burn_steps, floor, staircase)
    np.testing.assert_allclose(s(T), expected, rtol=RTOL)
    # burnin_value 0 means "burn in at init_value"
    s0 = o.exponential_decay_with_burnin(base, steps, rate, 0.0, burn_steps, floor, staircase)
    np.testing.assert_allclose(s0(np.arange(burn_steps)), np.full(burn_steps, base), rtol=RTOL)


@pytest.mark.parametrize(("d_model", "warm", "scale"), [(512, 4000, 1.0), (128, 50, 2.0), (2048, 1, 1.0)])
def test_transformer_schedule_formula(d_model, warm, scale):
    t = np.array([0, 1, 2, 10, 49, 50, 51, 3999, 4000, 4001, 10**5, 2**31 - 1], dtype=np.int64)
    safe = np.maximum(t, 1).astype(float)
    expected = np.where(t == 0, 0.0, scale * d_model**-0.5 * np.minimum(safe**-0.5, safe * warm**-1.5))
    np.testing.assert_allclose(
        o.transformer_schedule(d_model, warm, scale)(t.astype(np.int32)), expected, rtol=RTOL
    )


# --- Keras 3 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "rate", "stair"), [(10, 0.9, False), (7, 0.5, True), (100, 0.96, False)])
def test_keras_exponential_decay(steps, rate, stair):
    expected = keras_values(
        "ExponentialDecay",
        300,
        initial_learning_rate=0.1,
        decay_steps=steps,
        decay_rate=rate,
        staircase=stair,
    )
    ours = o.exponential_decay(0.1, transition_steps=steps, decay_rate=rate, staircase=stair)
    np.testing.assert_allclose(ours(np.arange(300)), expected, rtol=5e-6)


@pytest.mark.parametrize(("steps", "rate", "stair"), [(1, 0.001, False), (10, 0.5, False), (10, 0.5, True)])
def test_keras_inverse_time_decay(steps, rate, stair):
    expected = keras_values(
        "InverseTimeDecay",
        300,
        initial_learning_rate=0.1,
        decay_steps=steps,
        decay_rate=rate,
        staircase=stair,
    )
    np.testing.assert_allclose(
        o.inverse_time_decay(0.1, rate, steps, stair)(np.arange(300)), expected, rtol=RTOL
    )


@pytest.mark.parametrize(
    ("steps", "end", "power", "cycle"),
    [(100, 1e-4, 1.0, False), (40, 0.01, 0.9, False), (30, 0.001, 2.0, True), (25, 0.0, 0.5, True)],
)
def test_keras_polynomial_decay(steps, end, power, cycle):
    expected = keras_values(
        "PolynomialDecay",
        300,
        initial_learning_rate=0.1,
        decay_steps=steps,
        end_learning_rate=end,
        power=power,
        cycle=cycle,
    )
    np.testing.assert_allclose(
        o.polynomial_decay(0.1, steps, end, power, cycle)(np.arange(300)), expected, rtol=5e-6, atol=1e-8
    )


@pytest.mark.parametrize(
    ("bounds", "values"), [([100, 200], [1.0, 0.5, 0.1]), ([0, 7, 150], [0.3, 0.2, 0.1, 0.05])]
)
def test_keras_piecewise_constant_decay(bounds, values):
    """Keras switches at t > b, optax at t >= b: Keras(b) is ours with boundaries b + 1."""
    expected = keras_values("PiecewiseConstantDecay", 300, boundaries=bounds, values=values)
    scales = {b + 1: values[i + 1] / values[i] for i, b in enumerate(bounds)}
    ours = o.piecewise_constant_schedule(values[0], scales)
    np.testing.assert_allclose(ours(np.arange(300)), expected, rtol=5e-6)


# --- PyTorch --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "gamma"), [(30, 0.1), (7, 0.5), (1, 0.97)])
def test_torch_steplr(size, gamma):
    expected = torch_lrs(lambda torch, opt: torch.optim.lr_scheduler.StepLR(opt, size, gamma), 200, 0.1)
    # gamma ** k in float32 carries gamma's own float32 rounding (6e-8 relative) k times
    rtol = 6e-8 * (200 // size) + RTOL
    np.testing.assert_allclose(o.step_decay(0.1, gamma, size)(np.arange(200)), expected, rtol=rtol)


@pytest.mark.parametrize(("milestones", "gamma"), [([30, 80], 0.1), ([5, 6, 7, 150], 0.5)])
def test_torch_multisteplr(milestones, gamma):
    expected = torch_lrs(
        lambda torch, opt: torch.optim.lr_scheduler.MultiStepLR(opt, milestones, gamma), 200, 0.1
    )
    np.testing.assert_allclose(o.multistep_decay(0.1, milestones, gamma)(np.arange(200)), expected, rtol=5e-6)


@pytest.mark.parametrize("n", [63, 64, 65, 100, 1000])
def test_many_boundaries_either_side_of_the_unrolled_lookup(n):
    """Up to 64 boundaries are unrolled compares, more a binary search: both count `b <= t` exactly,
    repeated boundaries included."""
    rng = np.random.default_rng(n)
    bounds = np.sort(rng.integers(0, 5 * n, size=n))
    t = np.arange(0, 5 * n + 3)
    k = (bounds[None, :] <= t[:, None]).sum(1)
    # float32 rate**k is off by about k float32 roundings
    np.testing.assert_allclose(o.multistep_decay(1.0, list(bounds), 0.99)(t), 0.99**k, rtol=2e-6 + n * 2e-8)
    scales = rng.uniform(0.9, 1.1, size=n)
    # repeated boundaries: optax keeps the last scale for a repeated key; a sequence of pairs keeps all
    expected = np.concatenate([[1.0], np.cumprod(scales)])[k]
    pw = o.piecewise_constant_schedule(1.0, list(zip(bounds.tolist(), scales.tolist())))
    np.testing.assert_allclose(pw(t), expected, rtol=2e-5)
