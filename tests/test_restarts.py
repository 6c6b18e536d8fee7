"""SPEC §6d, restarts: `reset_on_restart` against a fresh `optax.adam` started at every cycle (the
counts carried over), and `snapshots` against the params recorded by hand at every cycle's end; on
SGDR cycles of known lengths, eagerly, jitted, in `lax.scan`, under `vmap`, after a checkpoint, and
read through nested states."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_lrs as o

PARAMS = {
    "w": np.array([[0.413, -1.29, 0.0871], [2.31, -0.557, 0.912]], np.float32),
    "b": np.array([-0.193, 0.0437, 1.71], np.float32),
}
RTOL = 2e-6  # float32: our sgdr's lr against optax's (an ulp or two), through Adam's division
# moments are sums of float32 terms of order 1 (cancelling): one or two ulps of 1, absolute
# a compiled update may fuse `params + updates` into one rounding (an FMA with the update's product):
# from the params the loop computes on its own, an ulp of the result and half an ulp of the update
# (|update| < 0.13)
ULP, UPDATE_ULP = 1.2e-7, 1e-8

# SGDR cycles of 5, 8, 13, 6, 9, 4 and 7 updates: first updates of cycles at counts 5, 13, 26, 32,
# 41, 45; last updates at counts 4, 12, 25, 31, 40, 44 (the last cycle never ends: its value holds)
LENGTHS = (5, 8, 13, 6, 9, 4, 7)
STARTS = [5, 13, 26, 32, 41, 45]
ENDS = [s - 1 for s in STARTS]
N = 52
SGDR = [
    dict(init_value=0.0013, peak_value=0.0731, warmup_steps=2, decay_steps=n, end_value=0.0029)
    for n in LENGTHS
]


def sgdr():
    return o.sgdr_schedule(SGDR)


def grads(t: int) -> dict:
    return {
        "w": (np.cos(0.37 * t + np.arange(6).reshape(2, 3)) * 0.91).astype(np.float32),
        "b": (np.sin(0.29 * t + np.arange(3)) * 1.13 - 0.17).astype(np.float32),
    }


def host(tree):
    """Every leaf as a NumPy array: the checks index and slice these without compiling anything."""
    return jax.tree.map(np.asarray, tree)


def run(tx, n: int = N, how: str = "jit", params=PARAMS, update=None):
    """The state after each of n updates and the params after each, by an eager or jitted update or
    one jitted lax.scan; `update`, where given, is the jitted update to use (with `tx`'s state)."""
    params = jax.tree.map(jnp.asarray, params)
    state = tx.init(params)
    if how == "scan":
        gs = jax.tree.map(lambda *xs: jnp.stack(xs), *[grads(t) for t in range(n)])

        def body(carry, g):
            params, state = carry
            u, state = tx.update(g, state, params)
            params = optax.apply_updates(params, u)
            return (params, state), (params, state, u)

        _, out = jax.jit(lambda c, gs: jax.lax.scan(body, c, gs))((params, state), gs)
        # each update's slice, cut on the host (slicing the device arrays compiles a program a shape)
        ps, states, us = ([jax.tree.map(lambda x, k=k: x[k], tree) for k in range(n)] for tree in host(out))
        return jax.tree.map(jnp.asarray, states), ps, us
    if update is None:
        update = jax.jit(tx.update) if how == "jit" else tx.update
    states, ps, us = [], [], []
    for t in range(n):
        u, state = update(grads(t), state, params)
        params = optax.apply_updates(params, u)
        states.append(state)
        ps.append(jax.tree.map(np.asarray, params))
        us.append(u)
    return states, ps, us


def test_the_cycles():
    index = np.asarray(sgdr().cycle_index(np.arange(N + 1)))
    np.testing.assert_array_equal(np.flatnonzero(np.diff(index)) + 1, STARTS)


# --- reset_on_restart ----------------------------------------------------------------------------


@functools.cache
def reset_adam():
    """One `reset_on_restart(adam(sgdr), sgdr)` for every test: its jitted update compiles once."""
    s = sgdr()
    return o.reset_on_restart(optax.adam(s), s)


@functools.cache
def fresh_adam_run(n: int = N):
    """optax's own Adam with optax's own `sgdr_schedule`, replaced at every cycle start by a fresh
    `init` whose count fields carry the running counts: its updates and states after each update."""
    ref = optax.adam(optax.sgdr_schedule(SGDR))
    params = jax.tree.map(jnp.asarray, PARAMS)
    state = ref.init(params)
    update = jax.jit(ref.update)
    states, updates = [], []
    for t in range(n):
        if t in STARTS:
            adam, lr = ref.init(params)
            state = (adam._replace(count=state[0].count), lr._replace(count=state[1].count))
        u, state = update(grads(t), state, params)
        params = optax.apply_updates(params, u)
        states.append(state)
        updates.append(u)
    return states, updates


@pytest.mark.parametrize("how", ["eager", "jit", "scan"])
def test_reset_on_restart_is_a_fresh_adam_at_every_cycle(how):
    states, _, updates = run(reset_adam(), how=how)
    ref_states, ref_updates = fresh_adam_run()
    b1, b2 = 0.9, 0.999
    for t in range(N):
        adam, lr = states[t].inner_state
        theirs_adam, theirs_lr = ref_states[t]
        assert (
            int(states[t].count) == int(adam.count) == int(lr.count) == t + 1
        )  # nothing restarts the counts
        for name in PARAMS:
            np.testing.assert_allclose(
                adam.mu[name], theirs_adam.mu[name], rtol=1e-6, atol=1e-7, err_msg=f"{t}"
            )
            np.testing.assert_allclose(
                adam.nu[name], theirs_adam.nu[name], rtol=1e-6, atol=1e-8, err_msg=f"{t}"
            )
            np.testing.assert_allclose(
                updates[t][name], ref_updates[t][name], rtol=RTOL, atol=1e-8, err_msg=f"{t}"
            )
        g = grads(t)
        first = t in STARTS
        # the first update of a cycle starts from zero moments; the one before it does not
        for name in PARAMS:
            fresh_mu, fresh_nu = (1 - b1) * g[name], (1 - b2) * np.square(g[name], dtype=np.float64)
            assert np.allclose(adam.mu[name], fresh_mu, rtol=1e-6, atol=0) == first or t == 0, (t, name)
            if first:
                np.testing.assert_allclose(adam.nu[name], fresh_nu, rtol=1e-6)


def test_reset_on_restart_keeps_the_injected_learning_rate_on_schedule():
    """`inject_hyperparams(adam)(learning_rate=s)`: after each update the rate it used is optax's
    sgdr at that count (the schedule is not restarted), and the moments restart."""
    s = sgdr()
    opt = o.reset_on_restart(optax.inject_hyperparams(optax.adam)(learning_rate=s, b1=0.87), s)
    states, _, _ = run(opt)
    theirs = optax.sgdr_schedule(SGDR)
    for t in range(N):
        np.testing.assert_allclose(o.current_lr(states[t]), theirs(t), rtol=RTOL, atol=1e-9)
        assert float(o.hyperparams(states[t])["b1"]) == np.float32(0.87)
        mu = states[t].inner_state.inner_state[0].mu["b"]
        fresh = np.float32(1 - 0.87) * grads(t)["b"]
        assert np.allclose(mu, fresh, rtol=1e-6, atol=0) == (t in STARTS or t == 0), t


def test_reset_on_restart_with_a_hand_set_rate():
    """A rate set by hand in the injected hyperparameters survives the restarts."""
    s = sgdr()
    opt = o.reset_on_restart(optax.inject_hyperparams(optax.sgd)(learning_rate=0.0731, momentum=0.83), s)
    params = jax.tree.map(jnp.asarray, PARAMS)
    state = opt.init(params)
    state.inner_state.hyperparams["learning_rate"] = jnp.asarray(0.0029, jnp.float32)
    update = jax.jit(opt.update)
    for t in range(N):
        u, state = update(grads(t), state, params)
        assert float(state.inner_state.hyperparams["learning_rate"]) == np.float32(0.0029)
        if t in STARTS:  # momentum restarted: the update is lr·g
            np.testing.assert_allclose(u["w"], -np.float32(0.0029) * grads(t)["w"], rtol=1e-6)


# jitted updates with the schedule an argument: one program for every schedule of a structure
RESET_ADAM_UPDATE = jax.jit(
    lambda s, g, state, params: o.reset_on_restart(optax.adam(s), s).update(g, state, params)
)
SNAPSHOTS3_UPDATE = jax.jit(
    lambda s, g, state, params: o.snapshots(optax.sgd(0.0371, momentum=0.83), s, 3).update(g, state, params)
)


@functools.cache
def snapshots3(schedule):
    """`snapshots(sgd(0.0371, momentum=0.83), schedule, 3)`, one for each (equal) schedule: the jitted
    update of its closure compiles once."""
    return o.snapshots(optax.sgd(0.0371, momentum=0.83), schedule, 3)


def test_reset_on_restart_of_equal_cycles_under_vmap():
    """A batch of runs, each with its own traced cycle length and params, the schedule built inside
    the vmapped function: the same as the runs one by one."""
    periods = np.array([5, 7, 11], np.int32)
    inits = jax.tree.map(lambda p: np.stack([p, -0.7 * p, 1.9 * p]), PARAMS)
    gs = jax.tree.map(lambda *xs: jnp.stack(xs), *[grads(t) for t in range(30)])

    def one(period, params):
        s = o.cosine_decay_restarts(0.0731, period, t_mul=1.0)
        tx = o.reset_on_restart(optax.adam(s), s)

        def body(carry, g):
            params, state = carry
            u, state = tx.update(g, state, params)
            return (optax.apply_updates(params, u), state), None

        (params, state), _ = jax.lax.scan(body, (params, tx.init(params)), gs)
        return params, state

    params, states = host(jax.jit(jax.vmap(one))(periods, inits))
    for i, period in enumerate(periods):
        s = o.cosine_decay_restarts(0.0731, int(period), t_mul=1.0)
        init = jax.tree.map(lambda x, i=i: x[i], inits)
        # the first run with its schedule closed over, the others with it an argument (one program)
        update = None if i == 0 else functools.partial(RESET_ADAM_UPDATE, s)
        separate, ps, _ = run(o.reset_on_restart(optax.adam(s), s), n=30, params=init, update=update)
        for name in PARAMS:
            np.testing.assert_allclose(params[name][i], ps[-1][name], rtol=1e-6, atol=1e-7)
            mu = states.inner_state[0].mu[name][i]
            np.testing.assert_allclose(mu, separate[-1].inner_state[0].mu[name], rtol=1e-6, atol=1e-9)
        # the last restart was at the last multiple of the period: mu counts the updates since
        assert int(states.count[i]) == 30


def test_reset_on_restart_inside_multisteps():
    """MultiSteps(k=2) around it: the count is the number of real updates, so the moments restart at
    the real update that starts a cycle (mini-steps 10 and 11 for the cycle starting at update 5)."""
    s = sgdr()
    opt = optax.MultiSteps(o.reset_on_restart(optax.adam(s), s), 2)
    params = jax.tree.map(jnp.asarray, PARAMS)
    state = opt.init(params)
    update = jax.jit(opt.update)
    for t in range(12):
        _, state = update(grads(t), state, params)
    inner = state.inner_opt_state
    assert int(inner.count) == 6
    mean = (grads(10)["b"] + grads(11)["b"]) / 2  # the 6th real update (count 5) starts cycle 1
    np.testing.assert_allclose(inner.inner_state[0].mu["b"], np.float32(0.1) * mean, rtol=1e-6)


# --- snapshots -----------------------------------------------------------------------------------


def assert_snapshots(states, ps, keep, ends, how):
    rtol, atol = (0, 0) if how == "eager" else (ULP, UPDATE_ULP)
    for t in range(len(states)):
        stacked, n = o.snapshot_params(states[t])
        taken = [e for e in ends if e <= t][-keep:]
        assert int(n) == len(taken), t
        for name in PARAMS:
            assert stacked[name].shape == (keep, *PARAMS[name].shape)
            assert stacked[name].dtype == PARAMS[name].dtype
        stacked = host(stacked)
        for name in PARAMS:
            for k, e in enumerate(taken):  # oldest first
                np.testing.assert_allclose(
                    stacked[name][k], ps[e][name], rtol=rtol, atol=atol, err_msg=f"{t} {k}"
                )
            np.testing.assert_array_equal(stacked[name][len(taken) :], 0.0)


@functools.cache
def bare_sgd_params(how):
    """The params of `sgd(sgdr, momentum=0.83)` after each update, run once for every `keep`."""
    return run(optax.sgd(sgdr(), momentum=0.83), how=how)[1]


@pytest.mark.parametrize("how", ["eager", "jit", "scan"])
@pytest.mark.parametrize("keep", [4, 1, 9])
def test_snapshots_at_the_end_of_every_cycle(keep, how):
    """SGDR cycles of known lengths: the latest `keep` cycles' last params, oldest first; with 6
    cycle ends and keep = 4 the ring wraps, with keep = 9 it never fills."""
    s = sgdr()
    states, ps, us = run(o.snapshots(optax.sgd(s, momentum=0.83), s, keep), how=how)
    assert_snapshots(states, ps, keep, ENDS, how)
    # the updates pass through unchanged (one scan and another compile their roundings apart)
    bare_ps = bare_sgd_params(how)
    tol = dict(rtol=1e-6, atol=1e-7) if how == "scan" else dict(rtol=0, atol=0)
    for t in range(N):
        for name in PARAMS:
            np.testing.assert_allclose(ps[t][name], bare_ps[t][name], **tol)


DOUBLING_ENDS = [2, 8, 20]


@pytest.mark.parametrize(
    "schedule,ends",
    [
        (o.cosine_decay_restarts(0.0731, 6, t_mul=1.0), [5, 11, 17, 23, 29]),
        (o.cosine_decay_restarts(0.0731, 3, t_mul=2.0), DOUBLING_ENDS),
        (o.cyclic_schedule(0.0013, 0.0731, 3, 4), [6, 13, 20, 27]),
        (
            o.repeat(o.linear_schedule(0.0731, 0.0, 9), 9, period_mult=1.5),
            [8, 22],
        ),  # cycles of 9 and 13.5: the second starts at 9, the third at ceil(22.5)
    ],
    ids=["equal", "doubling", "cyclic", "repeat"],
)
def test_snapshots_of_other_cycles(schedule, ends):
    # the doubling cycles share the equal ones' structure: their schedule is an argument of one
    # program (the one the vmapped test's runs use), the equal ones' closed over
    update = functools.partial(SNAPSHOTS3_UPDATE, schedule) if ends == DOUBLING_ENDS else None
    states, ps, _ = run(snapshots3(schedule), n=30, update=update)
    assert_snapshots(states, ps, 3, ends, "jit")


def test_snapshots_batch_of_states_and_traced_schedule():
    """vmap over params and over a traced cycle length (the schedule built inside the vmapped
    function): the same snapshots as the runs one by one."""
    periods = np.array([4, 6, 9], np.int32)
    inits = jax.tree.map(lambda p: np.stack([p, -0.7 * p, 1.9 * p]), PARAMS)
    gs = jax.tree.map(lambda *xs: jnp.stack(xs), *[grads(t) for t in range(30)])

    def one(period, params):
        s = o.cosine_decay_restarts(0.0731, period, t_mul=1.0)
        tx = o.snapshots(optax.sgd(0.0371, momentum=0.83), s, 3)

        def body(carry, g):
            params, state = carry
            u, state = tx.update(g, state, params)
            return (optax.apply_updates(params, u), state), None

        (_, state), _ = jax.lax.scan(body, (params, tx.init(params)), gs)
        return o.snapshot_params(state)

    stacked, n = host(jax.jit(jax.vmap(one))(periods, inits))
    for i, period in enumerate(periods):
        init = jax.tree.map(lambda x, i=i: x[i], inits)
        s = o.cosine_decay_restarts(0.0731, int(period), t_mul=1.0)
        # period 6 with its schedule closed over (the program of test_snapshots_of_other_cycles[equal]),
        # the others with it an argument (the program of [doubling])
        update = None if period == 6 else functools.partial(SNAPSHOTS3_UPDATE, s)
        states, ps, _ = run(snapshots3(s), n=30, params=init, update=update)
        ends = [t for t in range(30) if t % period == period - 1]
        assert int(n[i]) == min(len(ends), 3)
        for name in PARAMS:
            for k, e in enumerate(ends[-3:]):
                # two compiled programs: a few ulps of rounding apart along the trajectory
                np.testing.assert_allclose(stacked[name][i, k], ps[e][name], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("build", ["reset", "snapshots"])
@pytest.mark.parametrize("how", ["eager", "jit"])
def test_checkpoint(build, how):
    """Every leaf to NumPy and back mid-run (mid-cycle, with the ring wrapped): the rest is
    bit-identical."""
    s = sgdr()
    tx = reset_adam() if build == "reset" else o.snapshots(optax.sgd(s, 0.83), s, 2)
    update = jax.jit(tx.update) if how == "jit" else tx.update
    params = jax.tree.map(jnp.asarray, PARAMS)
    state = tx.init(params)
    for t in range(29):
        u, state = update(grads(t), state, params)
        params = optax.apply_updates(params, u)
    leaves, treedef = jax.tree.flatten(state)
    restored = jax.tree.unflatten(treedef, [jnp.asarray(np.asarray(x)) for x in leaves])
    pa, pb = params, params
    for t in range(29, N):
        ua, state = update(grads(t), state, pa)
        ub, restored = update(grads(t), restored, pb)
        pa, pb = optax.apply_updates(pa, ua), optax.apply_updates(pb, ub)
    for x, y in zip(jax.tree.leaves((state, pa)), jax.tree.leaves((restored, pb))):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)
    assert all(isinstance(x, jax.Array) for x in jax.tree.leaves(state))


# --- readers -------------------------------------------------------------------------------------


def after(opt, n=N):
    params = jax.tree.map(jnp.asarray, PARAMS)
    state = opt.init(params)
    update = jax.jit(opt.update)
    ps = []
    for t in range(n):
        u, state = update(grads(t), state, params)
        params = optax.apply_updates(params, u)
        ps.append(jax.tree.map(np.asarray, params))
    return state, ps


@pytest.mark.parametrize(
    "wrap",
    [
        lambda tx: optax.chain(optax.identity(), tx),
        lambda tx: optax.inject_hyperparams(lambda scale: optax.chain(optax.scale(scale), tx))(scale=1.0),
        lambda tx: optax.masked(tx, {"w": True, "b": True}),
    ],
    ids=["chain", "inject_hyperparams", "masked"],
)
def test_snapshot_params_at_any_depth(wrap):
    s = sgdr()
    state, ps = after(wrap(o.snapshots(optax.sgd(0.0371), s, 3)))
    stacked, n = host(o.snapshot_params(state))
    assert int(n) == 3
    for name in PARAMS:
        for k, e in enumerate(ENDS[-3:]):
            np.testing.assert_allclose(stacked[name][k], ps[e][name], rtol=ULP, atol=UPDATE_ULP)


def test_snapshot_params_under_multi_transform_and_multisteps():
    """Two labels wrapped side by side are merged into one tree; inside MultiSteps the cycles count
    real updates."""
    s = sgdr()
    opt = optax.multi_transform(
        {"a": o.snapshots(optax.sgd(0.0371), s, 3), "b": o.snapshots(optax.adam(0.0371), s, 3)},
        {"w": "a", "b": "b"},
    )
    state, ps = after(opt)
    stacked, n = host(o.snapshot_params(state))
    assert int(n) == 3
    for name in PARAMS:
        for k, e in enumerate(ENDS[-3:]):
            np.testing.assert_allclose(stacked[name][k], ps[e][name], rtol=ULP, atol=UPDATE_ULP)
    state, ps = after(optax.MultiSteps(o.snapshots(optax.sgd(0.0371), s, 2), 2), n=2 * 14)
    stacked, n = host(o.snapshot_params(state))
    assert int(n) == 2  # real updates with counts 4 and 12 ended cycles: mini-steps 9 and 25
    np.testing.assert_allclose(stacked["w"][0], ps[9]["w"], rtol=ULP, atol=UPDATE_ULP)
    np.testing.assert_allclose(stacked["w"][1], ps[25]["w"], rtol=ULP, atol=UPDATE_ULP)


def test_snapshot_params_errors():
    with pytest.raises(ValueError, match=r"snapshot_params: the optimizer state holds no snapshots state"):
        o.snapshot_params(optax.adam(0.1).init(PARAMS))
    s = sgdr()
    state, _ = after(o.snapshots(o.snapshots(optax.sgd(0.0371), s, 2), s, 2), n=3)
    with pytest.raises(
        ValueError, match="snapshot_params: the optimizer state holds 2 snapshots states that overlap"
    ):
        o.snapshot_params(state)


# --- bad input -----------------------------------------------------------------------------------

BAD = [
    (lambda: o.snapshots(optax.sgd(0.1), sgdr(), 0), "snapshots: keep must be an integer >= 1, got 0"),
    (lambda: o.snapshots(optax.sgd(0.1), sgdr(), -2), "snapshots: keep must be an integer >= 1, got -2"),
    (lambda: o.snapshots(optax.sgd(0.1), sgdr(), 2.5), "snapshots: keep must be an integer >= 1, got 2.5"),
    (lambda: o.snapshots(optax.sgd(0.1), sgdr(), "3"), "snapshots: keep must be a real number, got '3'"),
    (lambda: o.snapshots(optax.sgd(0.1), sgdr(), None), "snapshots: keep must be an integer >= 1, got None"),
    (lambda: o.snapshots(optax.sgd(0.1), lambda t: 0.1), "snapshots: schedule must be an optax_lrs Schedule"),
    (
        lambda: o.reset_on_restart(optax.sgd(0.1), lambda t: 0.1),
        "reset_on_restart: schedule must be an optax_lrs",
    ),
    (
        lambda: o.reset_on_restart(optax.sgd(0.1), optax.sgdr_schedule(SGDR)),
        "reset_on_restart: schedule must be an optax_lrs Schedule",
    ),
    (
        lambda: o.reset_on_restart(optax.sgd(0.1), 0.1),
        "reset_on_restart: schedule must be an optax_lrs Schedule",
    ),
]


@pytest.mark.parametrize("build,message", BAD, ids=[m for _, m in BAD])
def test_bad_arguments(build, message):
    with pytest.raises(ValueError) as info:
        build()
    assert str(info.value).startswith(message), str(info.value)


def test_keep_cannot_be_traced():
    with pytest.raises(ValueError, match="snapshots: keep must be a concrete integer"):
        jax.jit(lambda k: o.snapshots(optax.sgd(0.1), sgdr(), k).init(PARAMS))(3)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("name", ["reset_on_restart", "snapshots"])
def test_update_needs_params(name, jit):
    tx = getattr(o, name)(optax.sgd(0.1), sgdr())
    update = jax.jit(tx.update) if jit else tx.update
    with pytest.raises(
        ValueError, match=rf"{name}: params must be given \(call update\(updates, state, params\)\)"
    ):
        update(grads(0), tx.init(PARAMS))
