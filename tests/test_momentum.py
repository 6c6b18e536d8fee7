"""SPEC 6b: `one_cycle_momentum` and `cyclic_momentum` against PyTorch's `cycle_momentum` traces.

Every expected value is PyTorch's, run here: the SGD `momentum` / Adam `betas[0]` in the param group
when `optimizer.step()` runs for update k, which is the value for optax's count k (0 on the first
update). Ours are read in every way a user reads them: eagerly per Python int, as a vector, as a
traced int32 scalar under `jit`, and from an injected optax.sgd / optax.adam state inside `lax.scan`.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_lrs as o

torch = pytest.importorskip("torch")

# float32 rounding of values in [0.7, 1): a few ulps relative, plus an absolute floor near 0
RTOL, ATOL = 1e-6, 1e-7
INT32_MAX = 2**31 - 1


def torch_momenta(make_scheduler, n: int, optimizer: str) -> np.ndarray:
    """The momentum (SGD) or beta1 (Adam) PyTorch uses for updates 0 .. n−1."""
    param = torch.nn.Parameter(torch.zeros(1))
    if optimizer == "sgd":
        opt = torch.optim.SGD([param], lr=0.1, momentum=0.5)
    else:
        opt = torch.optim.Adam([param], lr=0.1)
    sched = make_scheduler(opt)
    out = []
    for _ in range(n):
        group = opt.param_groups[0]
        out.append(group["momentum"] if optimizer == "sgd" else group["betas"][0])
        opt.step()
        sched.step()
    return np.array(out)


@jax.jit
def _scalar(sched, k):
    return sched(k)


def injected(sched, n: int, optimizer: str) -> np.ndarray:
    """The momentum / b1 an injected optax optimizer used for updates 0 .. n−1, read from its state."""
    if optimizer == "sgd":
        opt, key = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1, momentum=sched), "momentum"
    else:
        opt, key = optax.inject_hyperparams(optax.adam)(learning_rate=0.1, b1=sched), "b1"
    params = jnp.zeros(2)

    def body(state, _):
        _, state = opt.update(jnp.ones(2), state, params)
        return state, state.hyperparams[key]  # the value this update used

    _, out = jax.jit(lambda: jax.lax.scan(body, opt.init(params), None, length=n))()
    return np.asarray(out)


def assert_every_mode(sched, expected: np.ndarray, optimizer: str) -> None:
    n = len(expected)
    steps = np.arange(n)
    modes = {
        "eager": np.array([float(sched(int(k))) for k in steps]),
        "vector": np.asarray(sched(jnp.arange(n))),
        "jit scalar": np.array([float(_scalar(sched, jnp.int32(k))) for k in steps]),
        f"injected {optimizer}": injected(sched, n, optimizer),
    }
    for mode, ours in modes.items():
        np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ATOL, err_msg=mode)


def near(points, n: int) -> list[int]:
    """Every step within one of a boundary (floor and ceil of a float one), inside [0, n)."""
    steps = {s + d for p in points for s in (math.floor(p), math.ceil(p)) for d in (-1, 0, 1)}
    return sorted(s for s in steps if 0 <= s < n)


def assert_at(sched, expected: np.ndarray, steps: list[int]) -> None:
    assert steps
    for k in steps:
        for mode, ours in (("eager", sched(k)), ("jit scalar", _scalar(sched, jnp.int32(k)))):
            np.testing.assert_allclose(float(ours), expected[k], rtol=RTOL, atol=ATOL, err_msg=f"{mode} {k}")


# --------------------------------------------------------------------------------------------------
# one_cycle_momentum vs OneCycleLR(cycle_momentum=True)

ONE_CYCLE = [
    # total_steps, pct_start, anneal, base_momentum, max_momentum, three_phase
    (37, 0.27, "cos", 0.8137, 0.9431, False),
    (37, 0.4913, "linear", 0.8137, 0.9431, True),
    (113, 0.4913, "cos", 0.7919, 0.9617, False),
    (113, 0.27, "linear", 0.8533, 0.9431, False),
    (113, 0.3317, "cos", 0.8137, 0.9431, True),
    (1001, 0.27, "cos", 0.8533, 0.9617, True),
    (1001, 0.4913, "linear", 0.7919, 0.9431, True),
    (1001, 0.3317, "linear", 0.8137, 0.9431, False),
]
ONE_CYCLE_IDS = [f"T{c[0]}-{c[1]}-{c[2]}-{'3ph' if c[5] else '2ph'}" for c in ONE_CYCLE]


def torch_one_cycle(case, optimizer: str) -> np.ndarray:
    total, pct, anneal, base, peak, three = case
    return torch_momenta(
        lambda opt: torch.optim.lr_scheduler.OneCycleLR(
            opt,
            max_lr=0.37,
            total_steps=total,
            pct_start=pct,
            anneal_strategy=anneal,
            cycle_momentum=True,
            base_momentum=base,
            max_momentum=peak,
            three_phase=three,
        ),
        total,
        optimizer,
    )


def ours_one_cycle(case):
    total, pct, anneal, base, peak, three = case
    return o.one_cycle_momentum(total, pct, anneal, base, peak, three)


def one_cycle_ends(case) -> list[float]:
    """torch's float phase ends (and T − 1)."""
    total, pct, _, _, _, three = case
    ends = [float(pct * total) - 1, total - 1]
    return ends + [float(2 * pct * total) - 2] if three else ends


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("case", ONE_CYCLE, ids=ONE_CYCLE_IDS)
def test_one_cycle_equals_torch_at_every_step(case, optimizer):
    assert_every_mode(ours_one_cycle(case), torch_one_cycle(case, optimizer), optimizer)


@pytest.mark.parametrize("case", ONE_CYCLE, ids=ONE_CYCLE_IDS)
def test_one_cycle_phase_boundaries(case):
    expected = torch_one_cycle(case, "sgd")
    total, _, _, base, peak, three = case
    assert_at(ours_one_cycle(case), expected, near(one_cycle_ends(case), total))
    # the shape: max at the ends, base at the learning rate's peak (two phases: back to max at T − 1)
    assert expected[0] == peak and min(expected) >= base - 1e-12
    assert abs(expected[-1] - peak) < 1e-12


@pytest.mark.parametrize("case", ONE_CYCLE[:3], ids=ONE_CYCLE_IDS[:3])
def test_one_cycle_holds_its_last_value_past_the_end(case):
    s = ours_one_cycle(case)
    total = case[0]
    last = float(s(total - 1))
    past = np.array([total, total + 1, 10 * total, 10**6, INT32_MAX], np.int32)
    np.testing.assert_array_equal(s(past), np.full(len(past), last, np.float32))
    np.testing.assert_allclose(last, torch_one_cycle(case, "sgd")[-1], rtol=RTOL)


# --------------------------------------------------------------------------------------------------
# cyclic_momentum vs CyclicLR(cycle_momentum=True)

CYCLIC = [
    # step_size_up, step_size_down, mode, gamma, base_momentum, max_momentum
    (7, 11, "triangular", 1.0, 0.8137, 0.9431),
    (7, 11, "triangular2", 1.0, 0.8137, 0.9431),
    (7, 11, "exp_range", 0.9917, 0.8137, 0.9431),
    (13, None, "triangular", 1.0, 0.7919, 0.9617),
    (5, 3, "triangular2", 1.0, 0.8533, 0.9617),
    (11, 4, "exp_range", 0.9731, 0.7919, 0.9431),
]
CYCLIC_IDS = [f"{c[0]}-{c[1]}-{c[2]}" for c in CYCLIC]


def period(case) -> int:
    up, down = case[0], case[1]
    return up + (up if down is None else down)


def torch_cyclic(case, optimizer: str, n: int | None = None) -> np.ndarray:
    up, down, mode, gamma, base, peak = case
    return torch_momenta(
        lambda opt: torch.optim.lr_scheduler.CyclicLR(
            opt,
            base_lr=0.013,
            max_lr=0.37,
            step_size_up=up,
            step_size_down=down,
            mode=mode,
            gamma=gamma,
            cycle_momentum=True,
            base_momentum=base,
            max_momentum=peak,
        ),
        n or 5 * period(case) + 3,  # several cycles
        optimizer,
    )


def ours_cyclic(case):
    up, down, mode, gamma, base, peak = case
    return o.cyclic_momentum(up, down, base, peak, mode, gamma)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("case", CYCLIC, ids=CYCLIC_IDS)
def test_cyclic_equals_torch_at_every_step(case, optimizer):
    assert_every_mode(ours_cyclic(case), torch_cyclic(case, optimizer), optimizer)


@pytest.mark.parametrize("case", CYCLIC, ids=CYCLIC_IDS)
def test_cyclic_boundaries(case):
    expected = torch_cyclic(case, "sgd")
    p, up = period(case), case[0]
    starts = range(0, len(expected), p)
    assert_at(ours_cyclic(case), expected, near([s for c in starts for s in (c, c + up)], len(expected)))
    # momentum is max_momentum at every cycle start, lowest at step_size_up into it
    np.testing.assert_allclose(expected[list(starts)], case[5], rtol=1e-12)


def test_cyclic_phase_is_exact_at_every_int32_step():
    """Triangular is periodic: the last full cycles below 2**31 − 1 repeat PyTorch's first one."""
    case = CYCLIC[0]
    p = period(case)
    expected = torch_cyclic(case, "sgd", n=p)
    s = ours_cyclic(case)
    for k in (2**24 // p, INT32_MAX // p - 1):
        steps = (k * p + np.arange(p)).astype(np.int32)
        np.testing.assert_allclose(s(steps), expected, rtol=RTOL, atol=ATOL, err_msg=k)
        np.testing.assert_allclose(
            [float(_scalar(s, jnp.int32(t))) for t in steps[[0, 1, 6, 7, 8]]],
            expected[[0, 1, 6, 7, 8]],
            rtol=RTOL,
            atol=ATOL,
        )
    last = INT32_MAX - (INT32_MAX // p) * p  # position of 2**31 − 1 in its cycle
    np.testing.assert_allclose(float(s(INT32_MAX)), expected[last], rtol=RTOL)


# --------------------------------------------------------------------------------------------------
# a training run: torch SGD(momentum) + OneCycleLR vs optax sgd with both schedules injected


def _problem():
    rng = np.random.default_rng(1234)
    a = rng.normal(size=(16, 5)).astype(np.float32)
    b = rng.normal(size=16).astype(np.float32)
    x0 = rng.normal(size=5).astype(np.float32)
    return a, b, x0


def torch_train(make_opt, make_scheduler, steps: int) -> np.ndarray:
    a, b, x0 = map(torch.from_numpy, _problem())
    x = torch.nn.Parameter(x0.clone())
    opt = make_opt([x])
    sched = make_scheduler(opt)
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * torch.mean((a @ x - b) ** 2)
        loss.backward()
        opt.step()
        sched.step()
    return x.detach().numpy()


def optax_train(opt, steps: int) -> np.ndarray:
    a, b, x0 = map(jnp.asarray, _problem())

    def loss(x):
        return 0.5 * jnp.mean((a @ x - b) ** 2)

    def body(carry, _):
        x, state = carry
        updates, state = opt.update(jax.grad(loss)(x), state, x)
        return (optax.apply_updates(x, updates), state), None

    (x, _), _ = jax.jit(lambda: jax.lax.scan(body, (x0, opt.init(x0)), None, length=steps))()
    return np.asarray(x)


# accumulated float32 rounding over the run (a wrong momentum at any step moves the result ~1e-3)
TRAIN_RTOL, TRAIN_ATOL = 2e-5, 2e-6


@pytest.mark.parametrize(("anneal", "three"), [("cos", False), ("linear", True)])
def test_training_run_with_one_cycle_equals_torch(anneal, three):
    total, pct, base, peak, max_lr, div, final_div = 61, 0.27, 0.8137, 0.9431, 0.37, 23.0, 997.0
    expected = torch_train(
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5),
        lambda opt: torch.optim.lr_scheduler.OneCycleLR(
            opt,
            max_lr=max_lr,
            total_steps=total,
            pct_start=pct,
            anneal_strategy=anneal,
            base_momentum=base,
            max_momentum=peak,
            div_factor=div,
            final_div_factor=final_div,
            three_phase=three,
        ),
        total,
    )
    lr = o.one_cycle_schedule(max_lr, total, pct, anneal, div, final_div, three)
    mom = o.one_cycle_momentum(total, pct, anneal, base, peak, three)
    ours = optax_train(optax.inject_hyperparams(optax.sgd)(learning_rate=lr, momentum=mom), total)
    np.testing.assert_allclose(ours, expected, rtol=TRAIN_RTOL, atol=TRAIN_ATOL)
    # the momentum mattered: a constant momentum ends elsewhere
    const = optax_train(optax.inject_hyperparams(optax.sgd)(learning_rate=lr, momentum=peak), total)
    assert not np.allclose(const, expected, rtol=1e-3, atol=1e-4)


def test_training_run_with_cyclic_adam_equals_torch():
    up, down, base, peak, gamma = 7, 11, 0.8137, 0.9431, 0.9917
    steps = 4 * (up + down) + 5
    expected = torch_train(
        lambda ps: torch.optim.Adam(ps, lr=0.1),
        lambda opt: torch.optim.lr_scheduler.CyclicLR(
            opt,
            base_lr=0.013,
            max_lr=0.037,
            step_size_up=up,
            step_size_down=down,
            mode="exp_range",
            gamma=gamma,
            base_momentum=base,
            max_momentum=peak,
        ),
        steps,
    )
    lr = o.cyclic_schedule(0.013, 0.037, up, down, "exp_range", gamma)
    mom = o.cyclic_momentum(up, down, base, peak, "exp_range", gamma)
    ours = optax_train(optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=mom), steps)
    np.testing.assert_allclose(ours, expected, rtol=TRAIN_RTOL, atol=TRAIN_ATOL)


# --------------------------------------------------------------------------------------------------
# the lr and the momentum are one curve with exchanged ends


def test_momentum_moves_against_the_learning_rate():
    lr = o.one_cycle_schedule(0.37, 113, 0.3317, "cos", three_phase=True)
    mom = o.one_cycle_momentum(113, 0.3317, "cos", three_phase=True)
    t = jnp.arange(73)  # to the end of phase 2 (72.96); phase 3 holds the momentum while the lr falls
    dl, dm = np.diff(np.asarray(lr(t))), np.diff(np.asarray(mom(t)))
    moving = np.abs(dl) > 1e-6
    assert np.all(np.sign(dl[moving]) == -np.sign(dm[moving]))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: o.one_cycle_momentum(0), "one_cycle_momentum: total_steps must be > 0, got 0"),
        (lambda: o.one_cycle_momentum(10, pct_start=1.0), "one_cycle_momentum: pct_start must be in (0, 1)"),
        (lambda: o.one_cycle_momentum(10, base_momentum=-0.1), "base_momentum must be in [0, 1], got -0.1"),
        (lambda: o.one_cycle_momentum(10, max_momentum=1.5), "max_momentum must be in [0, 1], got 1.5"),
        (lambda: o.one_cycle_momentum(10, anneal="cosine"), "anneal must be one of 'cos', 'linear'"),
        (lambda: o.one_cycle_momentum(10, three_phase=1), "three_phase must be True or False, got 1"),
        (lambda: o.one_cycle_momentum(10.5), "total_steps must be an integer, got 10.5"),
        (lambda: o.cyclic_momentum(0), "cyclic_momentum: step_size_up must be > 0, got 0"),
        (lambda: o.cyclic_momentum(5, -2), "cyclic_momentum: step_size_down must be > 0, got -2"),
        (lambda: o.cyclic_momentum(5, gamma=1.5), "gamma must be in [0, 1], got 1.5"),
        (lambda: o.cyclic_momentum(5, max_momentum=float("nan")), "max_momentum must be in [0, 1], got nan"),
        (
            lambda: o.cyclic_momentum(5, mode="cubic"),
            "mode must be one of 'triangular', 'triangular2', 'exp_range', got 'cubic'",
        ),
    ],
)
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)


def test_traced_out_of_range_values_stay_finite():
    steps = jnp.array([0, 5, 10**6, INT32_MAX], jnp.int32)
    for v in (-3e38, -1.0, 2.0, 3e38):
        for build in (
            lambda v: o.one_cycle_momentum(37, pct_start=v),
            lambda v: o.one_cycle_momentum(37, base_momentum=v, max_momentum=-v),
            lambda v: o.cyclic_momentum(7, base_momentum=v, max_momentum=-v, mode="exp_range", gamma=v),
        ):
            out = jax.jit(lambda v, build=build: build(v)(steps))(jnp.float32(v))
            assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1)), (v, out)
