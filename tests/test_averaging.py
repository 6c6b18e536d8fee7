"""SPEC §6d, weight averaging: `with_ema` / `ema_warmup` against a NumPy float64 EMA and timm's
`ModelEmaV3`, `swa` against PyTorch's `AveragedModel`, `swa_schedule` against PyTorch's `SWALR`;
eagerly, jitted, in `lax.scan`, under `vmap`, after a checkpoint, and read through nested states."""

import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_lrs as o

torch = pytest.importorskip("torch")

N = 40
LR, MOMENTUM = 0.0731, 0.83
PARAMS = {
    "w": np.array([[0.413, -1.29, 0.0871], [2.31, -0.557, 0.912]], np.float32),
    "b": np.array([-0.193, 0.0437, 1.71], np.float32),
}
# float32 arithmetic on values of order 1: an EMA (a contraction) or a running mean keeps its rounding
# to a few ulps of the largest |param| per 1/(1 − decay) updates; 2e-6 absolute is ~16 ulps of 1.
ATOL = 2e-6
RTOL = 2e-6


# ema_warmup's decay reaches max_decay at update 22
WARM = (1.3, 0.71, 0.8713)


def grads(t: int, dtype=np.float32) -> dict:
    """A fixed gradient sequence (not the gradient of a loss: the trajectory is the same in every
    library)."""
    return {
        "w": (np.cos(0.37 * t + np.arange(6).reshape(2, 3)) * 0.91).astype(dtype),
        "b": (np.sin(0.29 * t + np.arange(3)) * 1.13 - 0.17).astype(dtype),
    }


def inner():
    return optax.sgd(LR, momentum=MOMENTUM)


def trajectory(n: int = N, params=PARAMS, opt=None, dtype=np.float32) -> list[dict]:
    """The params after each of n updates of a bare optax optimizer (the wrappers pass the updates
    through, so this is the trajectory they see)."""
    opt = opt or inner()
    params = jax.tree.map(lambda p: jnp.asarray(p, dtype), params)
    state = opt.init(params)
    update = jax.jit(opt.update)
    out = []
    for t in range(n):
        u, state = update(jax.tree.map(jnp.asarray, grads(t, dtype)), state, params)
        params = optax.apply_updates(params, u)
        out.append(jax.tree.map(np.asarray, params))
    return out


def run(tx, n: int = N, how: str = "jit", params=PARAMS, dtype=np.float32):
    """The wrapper's state after each of n updates and the params it produced, driven eagerly, by a
    jitted update, or by one jitted lax.scan."""
    params = jax.tree.map(lambda p: jnp.asarray(p, dtype), params)
    state = tx.init(params)
    if how == "scan":
        gs = jax.tree.map(lambda *xs: jnp.stack(xs), *[grads(t, dtype) for t in range(n)])

        def body(carry, g):
            params, state = carry
            u, state = tx.update(g, state, params)
            params = optax.apply_updates(params, u)
            return (params, state), (params, state)

        _, (ps, states) = jax.jit(lambda c, gs: jax.lax.scan(body, c, gs))((params, state), gs)
        unstack = lambda tree: [jax.tree.map(lambda x, k=k: x[k], tree) for k in range(n)]  # noqa: E731
        return unstack(states), [jax.tree.map(np.asarray, p) for p in unstack(ps)]
    update = jax.jit(tx.update) if how == "jit" else tx.update
    states, ps = [], []
    for t in range(n):
        u, state = update(jax.tree.map(jnp.asarray, grads(t, dtype)), state, params)
        params = optax.apply_updates(params, u)
        states.append(state)
        ps.append(jax.tree.map(np.asarray, params))
    return states, ps


def f64(tree):
    return jax.tree.map(lambda x: np.asarray(x, np.float64), tree)


def assert_tree_close(actual, expected, rtol=RTOL, atol=ATOL, err_msg=""):
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        np.testing.assert_allclose(np.asarray(a, np.float64), e, rtol=rtol, atol=atol, err_msg=err_msg)


def numpy_ema(traj, decays, init=PARAMS):
    """ema <- d·ema + (1 − d)·p in float64, from the initial params."""
    ema, out = f64(init), []
    for p, d in zip(traj, decays):
        ema = jax.tree.map(lambda e, x, d=d: d * e + (1 - d) * x, ema, f64(p))
        out.append(ema)
    return out


def numpy_ema_warmup(t, gamma, power, max_decay):
    return min(max_decay, 1 - (1 + t / gamma) ** -power)


# --- with_ema ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["eager", "jit", "scan"])
def test_ema_constant_decay_is_the_float64_recurrence(how):
    traj = trajectory()
    states, ps = run(o.with_ema(inner(), 0.9731), how=how)
    expected = numpy_ema(traj, [0.9731] * N)
    for t in range(N):
        assert_tree_close(ps[t], f64(traj[t]), err_msg="updates pass through")
        assert_tree_close(o.averaged_params(states[t]), expected[t], err_msg=f"update {t}")
        assert int(states[t].count) == t + 1
    # the start matters with a constant decay: the first average is 0.9731·params_0 + 0.0269·p_0
    first = 0.9731 * f64(PARAMS)["b"] + (1 - 0.9731) * f64(traj[0])["b"]
    np.testing.assert_allclose(o.averaged_params(states[0])["b"], first, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("how", ["eager", "jit", "scan"])
def test_ema_warmup_is_the_float64_recurrence(how):
    gamma, power, max_decay = WARM
    decays = [numpy_ema_warmup(t, gamma, power, max_decay) for t in range(N)]
    assert decays[0] == 0 and decays[-1] == max_decay and decays[5] < max_decay  # both regimes
    traj = trajectory()
    states, ps = run(o.with_ema(inner(), o.ema_warmup(gamma, power, max_decay)), how=how)
    expected = numpy_ema(traj, decays)
    # decay 0 at the first update: the average is the params after it, exactly when run op by op;
    # a compiled update may fuse `params + updates` (one rounding instead of two): one ulp
    for name in PARAMS:
        np.testing.assert_allclose(
            o.averaged_params(states[0])[name], ps[0][name], rtol=0 if how == "eager" else 1.2e-7, atol=0
        )
    for t in range(N):
        assert_tree_close(o.averaged_params(states[t]), expected[t], err_msg=f"update {t}")


def load_timm_model_ema():
    """timm's utils/model_ema.py by its path (timm's package __init__ needs torchvision)."""
    timm_spec = importlib.util.find_spec("timm")
    if timm_spec is None:
        pytest.skip("timm is not installed")
    path = Path(timm_spec.origin).parent / "utils" / "model_ema.py"
    spec = importlib.util.spec_from_file_location("timm_model_ema", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "gamma,power,max_decay", [(1.3, 0.71, 0.9731), (1.0, 0.75, 0.9999), (7.9, 2 / 3, 0.999)]
)
def test_ema_warmup_is_timm_get_decay(gamma, power, max_decay):
    """ema_warmup(t) is timm `ModelEmaV3.get_decay(t + 1)`: timm's loop passes `num_updates`, counted
    after `optimizer.step()` (1 on the first update); optax's count is 0 there."""
    timm_ema = load_timm_model_ema()
    model = timm_ema.ModelEmaV3(
        torch.nn.Linear(2, 2), decay=max_decay, use_warmup=True, warmup_gamma=gamma, warmup_power=power
    )
    steps = np.array([0, 1, 2, 3, 7, 10, 99, 100, 101, 1000, 9999, 10**5, 10**6, 2**24 + 1, 2**31 - 2])
    expected = np.array([model.get_decay(int(t) + 1) for t in steps])
    sched = o.ema_warmup(gamma, power, max_decay)
    # 1 − x for x in (0, 1] in float32: absolute rounding of 1 ulp of 1
    np.testing.assert_allclose(sched(steps), expected, rtol=1e-6, atol=1.2e-7)
    np.testing.assert_allclose(
        jax.jit(sched)(jnp.asarray(steps, jnp.int32)), expected, rtol=1e-6, atol=1.2e-7
    )
    assert float(sched(0)) == 0.0 == model.get_decay(1)


@pytest.mark.parametrize("warm", [False, True])
def test_ema_is_timm_model_ema_v3(warm):
    """timm `ModelEmaV3` (float64 copy of a model whose params follow the trajectory), updated after
    each step as timm's train loop does (`update(model, step=num_updates)`)."""
    timm_ema = load_timm_model_ema()
    traj = trajectory()
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.tensor(PARAMS["w"], dtype=torch.float64))
    model.b = torch.nn.Parameter(torch.tensor(PARAMS["b"], dtype=torch.float64))
    kw = dict(use_warmup=True, warmup_gamma=WARM[0], warmup_power=WARM[1]) if warm else {}
    ema = timm_ema.ModelEmaV3(model, decay=WARM[2] if warm else 0.9731, **kw)
    decay = o.ema_warmup(*WARM) if warm else 0.9731
    states, _ = run(o.with_ema(inner(), decay))
    for t in range(N):
        with torch.no_grad():
            model.w.copy_(torch.tensor(traj[t]["w"], dtype=torch.float64))
            model.b.copy_(torch.tensor(traj[t]["b"], dtype=torch.float64))
        ema.update(model, step=t + 1 if warm else None)
        theirs = {k: v.numpy() for k, v in ema.module.state_dict().items()}
        assert_tree_close(o.averaged_params(states[t]), theirs, err_msg=f"update {t}")


def test_ema_is_torch_averaged_model_ema():
    """PyTorch's `AveragedModel(multi_avg_fn=get_ema_multi_avg_fn(d))` copies the params at its first
    `update_parameters`, then follows the EMA: the decay schedule 0 at t = 0, d after."""
    traj = trajectory()
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.tensor(PARAMS["w"], dtype=torch.float64))
    model.b = torch.nn.Parameter(torch.tensor(PARAMS["b"], dtype=torch.float64))
    ema = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.9731)
    )
    states, _ = run(o.with_ema(inner(), o.join_schedules([0.0, 0.9731], [1])))
    for t in range(N):
        with torch.no_grad():
            model.w.copy_(torch.tensor(traj[t]["w"], dtype=torch.float64))
            model.b.copy_(torch.tensor(traj[t]["b"], dtype=torch.float64))
        ema.update_parameters(model)
        theirs = {"w": ema.module.w.detach().numpy(), "b": ema.module.b.detach().numpy()}
        assert_tree_close(o.averaged_params(states[t]), theirs, err_msg=f"update {t}")


def test_ema_decay_as_a_plain_callable():
    decay = lambda t: 0.9731 - 0.3 / (1.0 + t)  # noqa: E731
    states, _ = run(o.with_ema(inner(), decay))
    expected = numpy_ema(trajectory(), [np.float32(0.9731 - 0.3 / (1.0 + t)) for t in range(N)])
    assert_tree_close(o.averaged_params(states[-1]), expected[-1])


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_ema_of_low_precision_params_is_float32(dtype):
    """bfloat16/float16 params: the average is float32, the EMA of the low-precision trajectory; a
    bfloat16 average could not move by (1 − d)·(p − ema) steps."""
    params = jax.tree.map(lambda p: np.asarray(jnp.asarray(p, dtype)), PARAMS)
    traj = trajectory(params=params, dtype=dtype)
    tx = o.with_ema(inner(), o.ema_warmup(*WARM))
    states, ps = run(tx, params=params, dtype=dtype)
    for t in range(N):
        for name in PARAMS:
            assert ps[t][name].dtype == dtype
            np.testing.assert_array_equal(ps[t][name], traj[t][name])
    ema = o.averaged_params(states[-1])
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(ema))
    expected = numpy_ema(traj, [numpy_ema_warmup(t, *WARM) for t in range(N)], init=params)
    assert_tree_close(ema, expected[-1])
    # the float32 average is not representable in the params' dtype: it really is finer
    assert any(
        np.any(np.asarray(x, np.float32) != np.asarray(jnp.asarray(x, dtype), np.float32))
        for x in jax.tree.leaves(ema)
    )


def test_ema_of_float64_params_is_float64():
    with jax.enable_x64(True):
        params = f64(PARAMS)
        traj = trajectory(params=params, dtype=np.float64)
        states, _ = run(o.with_ema(inner(), 0.9731), params=params, dtype=np.float64)
        ema = o.averaged_params(states[-1])
        assert all(x.dtype == jnp.float64 for x in jax.tree.leaves(ema))
        assert_tree_close(ema, numpy_ema(traj, [0.9731] * N)[-1], rtol=1e-12, atol=1e-12)


def test_ema_under_vmap_with_traced_decay():
    """A batch of runs (own initial params, own traced decay, the transform built inside the vmapped
    function) equals the runs one by one, and NumPy."""
    decays = np.array([0.9731, 0.5, 0.0, 1.0], np.float32)
    inits = jax.tree.map(lambda p: np.stack([p * s for s in (1.0, -0.7, 2.3, 0.31)]), PARAMS)
    gs = jax.tree.map(lambda *xs: jnp.stack(xs), *[grads(t) for t in range(N)])

    def one(decay, params):
        tx = o.with_ema(inner(), decay)

        def body(carry, g):
            params, state = carry
            u, state = tx.update(g, state, params)
            return (optax.apply_updates(params, u), state), None

        (_, state), _ = jax.lax.scan(body, (params, tx.init(params)), gs)
        return o.averaged_params(state)

    batched = jax.jit(jax.vmap(one))(decays, inits)
    for i, d in enumerate(decays):
        init = jax.tree.map(lambda x, i=i: x[i], inits)
        expected = numpy_ema(trajectory(params=init), [float(d)] * N, init=init)[-1]
        assert_tree_close(jax.tree.map(lambda x, i=i: x[i], batched), expected)
        separate, _ = run(o.with_ema(inner(), float(d)), params=init)
        assert_tree_close(
            jax.tree.map(lambda x, i=i: x[i], batched), o.averaged_params(separate[-1]), atol=1e-6
        )


def test_batch_of_states():
    """`jax.vmap(tx.init)` and `jax.vmap(tx.update)` over a batch of params."""
    tx = o.with_ema(inner(), o.ema_warmup(*WARM))
    inits = jax.tree.map(lambda p: jnp.stack([p, -p, 0.5 * p]), PARAMS)
    states = jax.vmap(tx.init)(inits)
    update = jax.jit(jax.vmap(tx.update, in_axes=(None, 0, 0)))
    params = inits
    for t in range(N):
        u, states = update(grads(t), states, params)
        params = optax.apply_updates(params, u)
    for i, s in enumerate((1.0, -1.0, 0.5)):
        init = jax.tree.map(lambda p, s=s: p * np.float32(s), PARAMS)
        decays = [numpy_ema_warmup(t, *WARM) for t in range(N)]
        expected = numpy_ema(trajectory(params=init), decays, init=init)[-1]
        assert_tree_close(jax.tree.map(lambda x, i=i: x[i], states.ema), expected)


# --- swa -----------------------------------------------------------------------------------------


def torch_averaged(traj, averaged_at) -> tuple[list[dict], list[int]]:
    """PyTorch `AveragedModel` of a float64 model whose params follow the trajectory, with
    `update_parameters` after the updates in `averaged_at`; its params and n_averaged after each."""
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.tensor(PARAMS["w"], dtype=torch.float64))
    model.b = torch.nn.Parameter(torch.tensor(PARAMS["b"], dtype=torch.float64))
    swa_model = torch.optim.swa_utils.AveragedModel(model)
    out, counts = [], []
    for t, p in enumerate(traj):
        with torch.no_grad():
            model.w.copy_(torch.tensor(p["w"], dtype=torch.float64))
            model.b.copy_(torch.tensor(p["b"], dtype=torch.float64))
        if t in averaged_at:
            swa_model.update_parameters(model)
        out.append(
            {"w": swa_model.module.w.detach().numpy().copy(), "b": swa_model.module.b.detach().numpy().copy()}
        )
        counts.append(int(swa_model.n_averaged))
    return out, counts


def assert_swa(states, traj, averaged_at):
    expected, counts = torch_averaged(traj, set(averaged_at))
    for t in range(len(traj)):
        assert int(states[t].n_averaged) == counts[t], t
        # the NumPy mean of the averaged params agrees with PyTorch's
        taken = [f64(traj[k]) for k in averaged_at if k <= t]
        if taken:
            mean = jax.tree.map(lambda *xs: np.mean(xs, axis=0), *taken)
            assert_tree_close(expected[t], mean, rtol=1e-12, atol=1e-12)
        assert_tree_close(o.averaged_params(states[t]), expected[t], err_msg=f"update {t}")


@pytest.mark.parametrize("how", ["eager", "jit", "scan"])
@pytest.mark.parametrize("start,every", [(7, 3), (0, 1), (7, 1), (1, 4), (39, 2), (40, 1)])
def test_swa_is_torch_averaged_model(start, every, how):
    """The `>=` loop: `if epoch >= start and (epoch − start) % every == 0: update_parameters(model)`,
    one update per epoch."""
    traj = trajectory()
    states, _ = run(o.swa(inner(), start, every), how=how)
    averaged_at = [t for t in range(N) if t >= start and (t - start) % every == 0]
    assert_swa(states, traj, averaged_at)
    if start >= N:  # never averaged: n_averaged 0, and the average holds the initial params
        assert int(states[-1].n_averaged) == 0
        assert_tree_close(o.averaged_params(states[-1]), f64(PARAMS), atol=0)


def test_swa_torch_documentation_loop_is_start_plus_one():
    """PyTorch's documented loop averages `if epoch > swa_start`: that is start = swa_start + 1."""
    swa_start = 11
    traj = trajectory()
    states, _ = run(o.swa(inner(), swa_start + 1))
    assert_swa(states, traj, [t for t in range(N) if t > swa_start])


# cycles of 5, 8, 13, 6 and 9 updates: the last update of each is at count 4, 12, 25, 31; the last
# cycle never ends (sgdr's last value holds)
LENGTHS = (5, 8, 13, 6, 9)
CYCLE_ENDS = [4, 12, 25, 31]


def sgdr(lengths=LENGTHS):
    return o.sgdr_schedule(
        [
            dict(init_value=0.0, peak_value=0.0731, warmup_steps=2, decay_steps=n, end_value=0.0013)
            for n in lengths
        ]
    )


@pytest.mark.parametrize(
    "start,how", [(s, "jit") for s in (0, 4, 5, 12, 13, 31, 32)] + [(4, "eager"), (12, "scan")]
)
def test_swa_at_cycle_ends(start, how):
    """With a schedule: the params after the last update of every cycle ending at count >= start."""
    schedule = sgdr()
    np.testing.assert_array_equal(
        np.flatnonzero(np.diff(np.asarray(schedule.cycle_index(np.arange(N + 1))))), CYCLE_ENDS
    )
    states, _ = run(o.swa(optax.sgd(schedule, momentum=MOMENTUM), start, schedule=schedule), how=how)
    traj = trajectory(opt=optax.sgd(schedule, momentum=MOMENTUM))
    assert_swa(states, traj, [t for t in CYCLE_ENDS if t >= start])


def test_swa_at_cycle_ends_of_equal_cycles():
    schedule = o.cosine_decay_restarts(0.0731, 7, t_mul=1.0)
    states, _ = run(o.swa(inner(), 10, schedule=schedule))
    assert_swa(states, trajectory(), [t for t in range(N) if t % 7 == 6 and t >= 10])


def test_swa_under_vmap_with_traced_start_and_every():
    starts = np.array([7, 0, 12, 39], np.int32)
    everys = np.array([3, 1, 5, 2], np.int32)
    gs = jax.tree.map(lambda *xs: jnp.stack(xs), *[grads(t) for t in range(N)])
    params = jax.tree.map(jnp.asarray, PARAMS)

    def one(start, every):
        tx = o.swa(inner(), start, every)

        def body(carry, g):
            params, state = carry
            u, state = tx.update(g, state, params)
            return (optax.apply_updates(params, u), state), None

        (_, state), _ = jax.lax.scan(body, (params, tx.init(params)), gs)
        return o.averaged_params(state), state.n_averaged

    averages, counts = jax.jit(jax.vmap(one))(starts, everys)
    traj = trajectory()
    for i, (start, every) in enumerate(zip(starts, everys)):
        at = [t for t in range(N) if t >= start and (t - start) % every == 0]
        expected, n = torch_averaged(traj, set(at))
        assert int(counts[i]) == n[-1] == len(at)
        assert_tree_close(jax.tree.map(lambda x, i=i: x[i], averages), expected[-1])


def test_swa_of_bfloat16_params_is_float32():
    params = jax.tree.map(lambda p: np.asarray(jnp.asarray(p, jnp.bfloat16)), PARAMS)
    traj = trajectory(params=params, dtype=jnp.bfloat16)
    states, _ = run(o.swa(inner(), 3, 2), params=params, dtype=jnp.bfloat16)
    average = o.averaged_params(states[-1])
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(average))
    mean = jax.tree.map(lambda *xs: np.mean(xs, axis=0), *[f64(traj[t]) for t in range(3, N, 2)])
    assert_tree_close(average, mean)


@pytest.mark.parametrize("build", ["ema", "swa"])
@pytest.mark.parametrize("how", ["eager", "jit"])
def test_checkpoint(build, how):
    """Every leaf to NumPy and back mid-run: the rest of the run is bit-identical."""
    tx = o.with_ema(inner(), o.ema_warmup(*WARM)) if build == "ema" else o.swa(inner(), 7, 3)
    update = jax.jit(tx.update) if how == "jit" else tx.update
    params = jax.tree.map(jnp.asarray, PARAMS)
    state = tx.init(params)
    for t in range(12):
        u, state = update(grads(t), state, params)
        params = optax.apply_updates(params, u)
    leaves, treedef = jax.tree.flatten(state)
    restored = jax.tree.unflatten(treedef, [jnp.asarray(np.asarray(x)) for x in leaves])
    pa, pb = params, params
    for t in range(12, 30):
        ua, state = update(grads(t), state, pa)
        ub, restored = update(grads(t), restored, pb)
        pa, pb = optax.apply_updates(pa, ua), optax.apply_updates(pb, ub)
    for x, y in zip(jax.tree.leaves((state, pa)), jax.tree.leaves((restored, pb))):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)
    assert all(isinstance(x, jax.Array) for x in jax.tree.leaves(state))


# --- swa_schedule vs SWALR -----------------------------------------------------------------------

LR0, SWA_LR = 0.173, 0.0371
T_MAX, ETA_MIN = 31, 0.0013


def torch_lrs(base: str, swa_start: int, anneal_steps: int, anneal: str, n: int, loop: str = "docs"):
    """The lr of each of n epochs (one update each) in PyTorch's SWA loop: `scheduler.step()` until
    the SWA condition holds, then `swa_scheduler.step()`; "docs" is the documented `if epoch >
    swa_start`, "ge" is `if epoch >= swa_start`. SWALR is built with the other scheduler, as
    documented, except for anneal_epochs = 0, whose constructor already sets swa_lr (a PyTorch
    quirk that changes the rates before SWA): then it is built when SWA starts."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=LR0)
    if base == "multiplicative":
        scheduler = torch.optim.lr_scheduler.MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.9)
    else:
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T_MAX, eta_min=ETA_MIN)

    def make():
        return torch.optim.swa_utils.SWALR(
            opt, swa_lr=SWA_LR, anneal_epochs=anneal_steps, anneal_strategy=anneal
        )

    swa_scheduler = make() if anneal_steps > 0 else None
    lrs = []
    for epoch in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if epoch > swa_start if loop == "docs" else epoch >= swa_start:
            swa_scheduler = swa_scheduler or make()
            swa_scheduler.step()
        else:
            scheduler.step()
    return np.array(lrs)


def base_schedule(base: str):
    if base == "multiplicative":
        return o.exponential_decay(LR0, 1, 0.9)
    return o.cosine_decay_schedule(LR0, T_MAX, alpha=ETA_MIN / LR0)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("anneal_steps", [7, 1, 2, 0])
@pytest.mark.parametrize("base", ["multiplicative", "cosine"])
@pytest.mark.parametrize("loop", ["docs", "ge"])
def test_swa_schedule_is_torch_swalr(base, anneal_steps, anneal, loop):
    swa_start, n = 17, 40
    expected = torch_lrs(base, swa_start, anneal_steps, anneal, n, loop)
    ours_start = swa_start + 1 if loop == "docs" else swa_start
    s = o.swa_schedule(base_schedule(base), ours_start, SWA_LR, anneal_steps, anneal)
    eager = np.array([float(s(t)) for t in range(n)])
    at = jax.jit(lambda t: s(t))
    jitted = np.array([float(at(jnp.int32(t))) for t in range(n)])
    vector = np.asarray(s(jnp.arange(n)))
    # float32 of PyTorch's float64 rates (0.9^t: a few ulps)
    for ours in (eager, jitted, vector):
        np.testing.assert_allclose(ours, expected, rtol=2e-6, atol=1e-9)
    # the regimes: the schedule up to ours_start, the anneal for anneal_steps, then swa_lr
    k = max(anneal_steps, 1)
    np.testing.assert_allclose(expected[ours_start + k :], SWA_LR, rtol=1e-12)
    assert np.all(expected[ours_start + 1 : ours_start + k] != SWA_LR)
    np.testing.assert_allclose(
        eager[: ours_start + 1], base_schedule(base)(np.arange(ours_start + 1)), rtol=1e-6
    )


def test_swa_with_swa_schedule_is_torch_swa():
    """The whole of PyTorch's SWA recipe, in the documented loop: SGD with CosineAnnealingLR, then
    SWALR, and AveragedModel from epoch swa_start + 1; the same params and average as
    `swa(optax.sgd(swa_schedule(...)), start=swa_start + 1)`."""
    swa_start, n = 17, N
    p = {k: torch.nn.Parameter(torch.tensor(v, dtype=torch.float64)) for k, v in PARAMS.items()}
    model = torch.nn.Module()
    model.w, model.b = p["w"], p["b"]
    opt = torch.optim.SGD(model.parameters(), lr=LR0)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T_MAX, eta_min=ETA_MIN)
    swa_scheduler = torch.optim.swa_utils.SWALR(opt, swa_lr=SWA_LR, anneal_epochs=7, anneal_strategy="linear")
    swa_model = torch.optim.swa_utils.AveragedModel(model)
    for epoch in range(n):
        g = grads(epoch)
        model.w.grad = torch.tensor(g["w"], dtype=torch.float64)
        model.b.grad = torch.tensor(g["b"], dtype=torch.float64)
        opt.step()
        if epoch > swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()
    lr = o.swa_schedule(base_schedule("cosine"), swa_start + 1, SWA_LR, 7, "linear")
    states, ps = run(o.swa(optax.sgd(lr), swa_start + 1), n)
    assert int(states[-1].n_averaged) == int(swa_model.n_averaged) == n - swa_start - 1
    theirs = {"w": swa_model.module.w.detach().numpy(), "b": swa_model.module.b.detach().numpy()}
    assert_tree_close(o.averaged_params(states[-1]), theirs, rtol=1e-5, atol=1e-6)
    assert_tree_close(
        ps[-1], {"w": model.w.detach().numpy(), "b": model.b.detach().numpy()}, rtol=1e-5, atol=1e-6
    )


def test_swa_schedule_keeps_the_cycles_until_swa_start():
    s = o.swa_schedule(o.cosine_decay_restarts(0.1, 5, t_mul=1.0), 12, 0.01, 7)
    np.testing.assert_array_equal(s.cycle_index(np.arange(20)), [0] * 5 + [1] * 5 + [2] * 10)


# --- readers -------------------------------------------------------------------------------------


def after(opt, n=9, params=PARAMS):
    params = jax.tree.map(jnp.asarray, params)
    state = opt.init(params)
    update = jax.jit(opt.update)
    for t in range(n):
        u, state = update(grads(t), state, params)
        params = optax.apply_updates(params, u)
    return state, params


def test_averaged_params_under_chain_and_inject_hyperparams():
    ema_alone, _ = after(o.with_ema(inner(), 0.9731))
    expected = o.averaged_params(ema_alone)
    chained, _ = after(optax.chain(optax.identity(), o.with_ema(inner(), 0.9731)))
    assert_tree_close(o.averaged_params(chained), f64(expected), rtol=0, atol=0)
    injected = optax.inject_hyperparams(
        lambda learning_rate: o.with_ema(optax.sgd(learning_rate, MOMENTUM), 0.9731)
    )
    state, _ = after(injected(learning_rate=LR))
    assert_tree_close(o.averaged_params(state), f64(expected), rtol=RTOL, atol=ATOL)
    assert_tree_close(expected, numpy_ema(trajectory(9), [0.9731] * 9)[-1])


def test_averaged_params_under_multi_transform_and_masked():
    """One wrapper per label, side by side: the labels' averages merged into one tree; a masked
    wrapper leaves optax's MaskedNode where it does not average."""
    opt = optax.multi_transform(
        {"ema": o.with_ema(inner(), 0.9731), "swa": o.swa(inner(), 3, 2)}, {"w": "ema", "b": "swa"}
    )
    state, _ = after(opt)
    traj = trajectory(9)
    merged = o.averaged_params(state)
    np.testing.assert_allclose(merged["w"], numpy_ema(traj, [0.9731] * 9)[-1]["w"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        merged["b"], np.mean([traj[t]["b"] for t in (3, 5, 7)], axis=0), rtol=RTOL, atol=ATOL
    )
    masked, _ = after(optax.masked(o.with_ema(inner(), 0.9731), {"w": True, "b": False}))
    average = o.averaged_params(masked)
    assert isinstance(average["b"], optax.MaskedNode)
    np.testing.assert_allclose(average["w"], merged["w"], rtol=RTOL, atol=ATOL)


def test_averaged_params_under_multisteps():
    """MultiSteps(k=3): the inner optimizer updates every third mini-step; the EMA follows the params
    after those updates only."""
    opt = optax.MultiSteps(o.with_ema(optax.sgd(LR), o.ema_warmup(*WARM)), 3)
    params = jax.tree.map(jnp.asarray, PARAMS)
    state = opt.init(params)
    update = jax.jit(opt.update)
    emitted = []
    for t in range(12):
        u, state = update(grads(t), state, params)
        new = optax.apply_updates(params, u)
        if t % 3 == 2:
            emitted.append(jax.tree.map(np.asarray, new))
        params = new
    decays = [numpy_ema_warmup(t, *WARM) for t in range(4)]
    assert_tree_close(o.averaged_params(state), numpy_ema(emitted, decays)[-1])


def test_averaged_params_errors():
    with pytest.raises(ValueError, match=r"averaged_params: the optimizer state holds no average.*with_ema"):
        o.averaged_params(optax.adam(0.1).init(PARAMS))
    state, _ = after(o.swa(o.with_ema(inner(), 0.9731), 3), n=2)
    with pytest.raises(
        ValueError, match="averaged_params: the optimizer state holds 2 averages that overlap"
    ):
        o.averaged_params(state)


# --- bad input -----------------------------------------------------------------------------------

BAD = [
    (lambda: o.with_ema(inner(), -0.1), "with_ema: decay must be in [0, 1], got -0.1"),
    (lambda: o.with_ema(inner(), 1.3), "with_ema: decay must be in [0, 1], got 1.3"),
    (lambda: o.with_ema(inner(), float("nan")), "with_ema: decay must be in [0, 1], got nan"),
    (lambda: o.with_ema(inner(), "0.9"), "with_ema: decay must be a real number, got '0.9'"),
    (
        lambda: o.with_ema(inner(), None),
        "with_ema: decay must be a schedule, a callable or a number, got None",
    ),
    (lambda: o.swa(inner(), -1), "swa: start must be >= 0, got -1"),
    (lambda: o.swa(inner(), 2.5), "swa: start must be an integer, got 2.5"),
    (lambda: o.swa(inner(), 7, 0), "swa: every must be >= 1, got 0"),
    (lambda: o.swa(inner(), 7, -3), "swa: every must be >= 1, got -3"),
    (lambda: o.swa(inner(), 7, 2, schedule=sgdr()), "swa: every must be 1 when schedule is given"),
    (lambda: o.swa(inner(), 7, schedule=lambda t: 0.1), "swa: schedule must be an optax_lrs Schedule"),
    (
        lambda: o.swa(inner(), 7, schedule=optax.cosine_decay_schedule(0.1, 9)),
        "swa: schedule must be an optax_lrs",
    ),
    (lambda: o.ema_warmup(gamma=0.0), "ema_warmup: gamma must be > 0, got 0.0"),
    (lambda: o.ema_warmup(power=-0.71), "ema_warmup: power must be >= 0, got -0.71"),
    (lambda: o.ema_warmup(max_decay=1.01), "ema_warmup: max_decay must be in [0, 1], got 1.01"),
    (lambda: o.swa_schedule(0.1, -1, 0.01, 7), "swa_schedule: swa_start must be >= 0, got -1"),
    (lambda: o.swa_schedule(0.1, 17, 0.01, -7), "swa_schedule: anneal_steps must be >= 0, got -7"),
    (
        lambda: o.swa_schedule(0.1, 17, 0.01, 7, "cosine"),
        "swa_schedule: anneal must be one of 'cos', 'linear'",
    ),
    (lambda: o.swa_schedule("abc", 17, 0.01, 7), "swa_schedule: schedule must be a schedule"),
]


@pytest.mark.parametrize("build,message", BAD, ids=[m for _, m in BAD])
def test_bad_arguments(build, message):
    with pytest.raises(ValueError) as info:
        build()
    assert str(info.value).startswith(message), str(info.value)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("name", ["with_ema", "swa"])
def test_update_needs_params(name, jit):
    tx = o.with_ema(inner(), 0.9731) if name == "with_ema" else o.swa(inner(), 3)
    update = jax.jit(tx.update) if jit else tx.update
    with pytest.raises(
        ValueError, match=rf"{name}: params must be given \(call update\(updates, state, params\)\)"
    ):
        update(grads(0), tx.init(PARAMS))


def test_traced_arguments_are_not_checked():
    """Out-of-range traced hyperparameters raise nothing and keep the average finite (the decay is
    clipped to [0, 1]; a negative start averages from the first update)."""

    def last(decay, start, every):
        ema, sw = o.with_ema(inner(), decay), o.swa(inner(), start, every)
        params = jax.tree.map(jnp.asarray, PARAMS)
        s1, s2 = ema.init(params), sw.init(params)
        for t in range(5):
            _, s1 = ema.update(grads(t), s1, params)
            _, s2 = sw.update(grads(t), s2, params)
        return o.averaged_params(s1), o.averaged_params(s2), s2.n_averaged

    e, s, n = jax.vmap(last)(jnp.array([1.7, -0.3]), jnp.array([-5, -(2**31)]), jnp.array([0, -2]))
    assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves((e, s)))
    np.testing.assert_array_equal(n, [5, 5])
