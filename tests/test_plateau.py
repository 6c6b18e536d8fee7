"""reduce_on_plateau against PyTorch `ReduceLROnPlateau`, `optax.contrib.reduce_on_plateau` and Keras
`ReduceLROnPlateau`, run in the test; eagerly, jitted, in `lax.scan`, under `vmap`, after a checkpoint."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.contrib
import pytest

import optax_lrs as o

torch = pytest.importorskip("torch")

# The scale is a product of float32 factors; PyTorch multiplies Python floats.
RTOL = 1e-6
N = 64
PARAMS = {"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)}
GRADS = {"w": jnp.full((2, 3), 0.731), "b": jnp.asarray([-1.3, 0.29, 2.07])}


def metric(kind: str, n: int = N) -> np.ndarray:
    """Monitored values (float32, so that PyTorch sees the very numbers we do)."""
    t = np.arange(n)
    rng = np.random.default_rng(sum(map(ord, kind)))
    walk = np.cumsum(rng.normal(0.0, 0.041, n))
    values = {
        "decreasing": 1.37 + 2.9 * np.exp(-0.113 * t),  # improvements shrink below the threshold
        "noisy": 1.93 + walk,
        "flat": np.full(n, 0.8316),
        "negative": -0.57 + walk - 0.0061 * t,
        "near_zero": 3.7e-7 * np.exp(-0.05 * t) * (1 + 0.3 * rng.random(n)),
        "nan": 1.93 + walk,
        "increasing": 0.93 * (1 - np.exp(-0.087 * t)) + 0.013 * rng.normal(size=n),
        "negative_increasing": -2.3 + 0.9 * (1 - np.exp(-0.07 * t)) + 0.02 * rng.normal(size=n),
    }[kind].astype(np.float32)
    if kind == "nan":
        values[[i for i in (0, 9, 10, 31) if i < n]] = np.nan
    return values


def torch_scales(
    values: np.ndarray, accumulation_size: int = 1, min_scale: float = 0.0, **kwargs
) -> np.ndarray:
    """The lr of an optimizer whose lr is 1 after each update, PyTorch stepping once per epoch with the
    mean of the epoch's values."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=min_scale, **kwargs)
    out = []
    for i in range(len(values)):
        if (i + 1) % accumulation_size == 0:
            opt.step()
            sched.step(float(np.mean(values[i + 1 - accumulation_size : i + 1], dtype=np.float64)))
        out.append(opt.param_groups[0]["lr"])
    return np.array(out)


def optax_contrib_run(values: np.ndarray, **kwargs):
    tx = optax.contrib.reduce_on_plateau(**kwargs)
    state = tx.init(PARAMS)
    update = jax.jit(tx.update)
    scales, states, updates = [], [], []
    for v in values:
        u, state = update(GRADS, state, value=v)
        scales.append(state.scale)
        states.append(state)
        updates.append(u)
    return np.array(scales), states, updates


def run(tx, values, how: str = "scan"):
    """Our scale after each update, and the updates, driven eagerly, by a jitted update, or by lax.scan."""
    state = tx.init(PARAMS)
    if how == "scan":

        def body(state, v):
            u, state = tx.update(GRADS, state, value=v)
            return state, (state.scale, u)

        _, (scales, updates) = jax.jit(lambda s, vs: jax.lax.scan(body, s, vs))(state, jnp.asarray(values))
        return np.asarray(scales), updates
    update = jax.jit(tx.update) if how == "jit" else tx.update
    scales, updates = [], []
    for v in values:
        u, state = update(GRADS, state, value=v)
        scales.append(state.scale)
        updates.append(u)
    return np.asarray(scales), jax.tree.map(lambda *xs: jnp.stack(xs), *updates)


def assert_scaled(updates, scales):
    for name, g in GRADS.items():
        expected = np.asarray(scales)[:, None].reshape((-1,) + (1,) * g.ndim) * np.asarray(g)
        np.testing.assert_allclose(np.asarray(updates[name]), expected, rtol=RTOL)


# --- PyTorch ----------------------------------------------------------------------------------------

SETTINGS = [
    dict(factor=0.37, patience=3, threshold=0.0173, cooldown=2),
    dict(factor=0.61, patience=2, threshold=0.0291, threshold_mode="abs", min_scale=0.083),
    dict(factor=0.23, patience=0, threshold=0.0, cooldown=1),
    dict(factor=0.5, patience=1, eps=0.07),  # the reductions past 0.125 change the scale by < eps
    dict(factor=0.43, patience=2, threshold=0.011, cooldown=1, accumulation_size=3),
    dict(factor=0.71, patience=4, threshold=0.0019, threshold_mode="abs", cooldown=3, min_scale=0.27),
]
MIN_KINDS = ["decreasing", "noisy", "flat", "negative", "near_zero", "nan"]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
@pytest.mark.parametrize("kind", MIN_KINDS)
def test_torch_min(kind, settings):
    values = metric(kind)
    expected = torch_scales(values, **settings)
    scales, updates = run(o.reduce_on_plateau(**settings), values)
    np.testing.assert_allclose(scales, expected, rtol=RTOL)
    assert_scaled(updates, expected)


@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
@pytest.mark.parametrize("kind", ["increasing", "negative_increasing", "nan"])
def test_torch_max(kind, threshold_mode):
    settings = dict(
        mode="max", factor=0.29, patience=2, threshold=0.0137, threshold_mode=threshold_mode, cooldown=1
    )
    values = metric(kind)
    expected = torch_scales(values, **settings)
    assert expected[-1] < 1  # the sequence does reach plateaus
    np.testing.assert_allclose(run(o.reduce_on_plateau(**settings), values)[0], expected, rtol=RTOL)


@pytest.mark.parametrize("how", ["eager", "jit", "scan"])
@pytest.mark.parametrize(
    "settings", [SETTINGS[0], SETTINGS[3], SETTINGS[4]], ids=["cooldown", "eps", "accumulate"]
)
def test_torch_eager_jit_scan(how, settings):
    values = metric("nan", 40)
    expected = torch_scales(values, **settings)
    assert len(np.unique(expected)) >= 3
    scales, updates = run(o.reduce_on_plateau(**settings), values, how)
    np.testing.assert_allclose(scales, expected, rtol=RTOL)
    assert_scaled(updates, expected)


@pytest.mark.parametrize("cooldown", [0, 1, 2])
@pytest.mark.parametrize("patience", [0, 2, 3, 4])
def test_boundaries(patience, cooldown):
    """A flat metric: PyTorch reduces at update patience + 1 (0-based), then every
    cooldown + patience + 1 updates; ours at the same updates, not one earlier or later."""
    values = metric("flat", 16)  # 0.37**15 is still far above eps
    expected = torch_scales(values, factor=0.37, patience=patience, cooldown=cooldown)
    reductions = np.flatnonzero(np.diff(np.concatenate([[1.0], expected])))
    np.testing.assert_array_equal(reductions, np.arange(patience + 1, 16, cooldown + patience + 1))
    scales, _ = run(o.reduce_on_plateau(factor=0.37, patience=patience, cooldown=cooldown), values)
    np.testing.assert_allclose(scales, expected, rtol=RTOL)


def test_nan_is_never_better():
    tx = o.reduce_on_plateau(factor=0.37, patience=1)
    state = tx.init(PARAMS)
    for v in [np.nan, 1.7, np.nan, np.nan]:
        _, state = tx.update(GRADS, state, value=v)
    assert float(state.best) == np.float32(1.7)
    np.testing.assert_allclose(
        float(state.scale), torch_scales(np.array([np.nan, 1.7, np.nan, np.nan]), factor=0.37, patience=1)[-1]
    )


# --- optax.contrib -----------------------------------------------------------------------------------

CONTRIB = [
    dict(factor=0.37, patience=3, rtol=0.0173),
    dict(factor=0.61, patience=2, atol=0.0291, cooldown=2),
    dict(factor=0.23, patience=1, rtol=0.0071, atol=0.0013, min_scale=0.041),
    dict(factor=0.43, patience=2, rtol=0.011, cooldown=1, accumulation_size=3),
    dict(factor=0.5, patience=0, rtol=0.02),  # optax reduces at every improvement here
    dict(factor=0.3, patience=5, atol=0.0049, cooldown=4, accumulation_size=2, min_scale=0.05),
]


@pytest.mark.parametrize("settings", CONTRIB, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
@pytest.mark.parametrize("kind", ["decreasing", "noisy", "flat", "negative", "nan"])
def test_optax_contrib(kind, settings):
    values = metric(kind)
    expected, states, updates = optax_contrib_run(values, **settings)
    scales, ours = run(o.reduce_on_plateau(**settings), values, "scan")
    np.testing.assert_array_equal(scales, expected)
    for name in GRADS:
        np.testing.assert_array_equal(np.asarray(ours[name]), np.stack([u[name] for u in updates]))


def test_optax_contrib_rule_in_mode_max():
    """Mode "max" mirrors the rule: with rtol = 0 it is optax.contrib's on the negated values."""
    values = metric("increasing")
    expected, _, _ = optax_contrib_run(-values, factor=0.37, patience=2, rtol=0.0, atol=0.0137, cooldown=1)
    tx = o.reduce_on_plateau(factor=0.37, patience=2, mode="max", rtol=0.0, atol=0.0137, cooldown=1)
    scales, _ = run(tx, values)
    assert expected[-1] < 1
    np.testing.assert_array_equal(scales, expected)


def test_optax_contrib_state_fields():
    """Field by field: best, bad-epoch count, cooldown, accumulation."""
    values = metric("noisy")
    settings = dict(factor=0.43, patience=2, rtol=0.011, cooldown=1, accumulation_size=3)
    _, states, _ = optax_contrib_run(values, **settings)
    tx = o.reduce_on_plateau(**settings)
    state, update = tx.init(PARAMS), jax.jit(tx.update)
    for v, theirs in zip(values, states):
        _, state = update(GRADS, state, value=v)
        np.testing.assert_array_equal(state.best, theirs.best_value)
        np.testing.assert_array_equal(state.num_bad_epochs, theirs.plateau_count)
        np.testing.assert_array_equal(state.cooldown_counter, theirs.cooldown_count)
        np.testing.assert_array_equal(state.num_accumulated, theirs.count)
        np.testing.assert_array_equal(state.accumulated_value, theirs.avg_value)


# --- Keras -------------------------------------------------------------------------------------------


def keras_scales(values, factor, patience, min_delta, cooldown, min_lr, mode):
    keras = pytest.importorskip("keras")
    assert keras.backend.backend() == "jax"
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    callback = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss",
        factor=factor,
        patience=patience,
        min_delta=min_delta,
        cooldown=cooldown,
        min_lr=min_lr,
        mode=mode,
    )
    callback.set_model(model)
    callback.on_train_begin()
    out = []
    for epoch, v in enumerate(values):
        callback.on_epoch_end(epoch, {"val_loss": float(v)})
        out.append(float(model.optimizer.learning_rate))
    return np.array(out)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras's own, about numpy's __array__
@pytest.mark.parametrize(
    "kind,mode,factor,patience,min_delta,cooldown,min_lr",
    [
        ("noisy", "min", 0.37, 3, 0.0173, 0, 0.0),
        ("decreasing", "min", 0.61, 2, 0.0291, 3, 0.0),
        ("negative", "min", 0.43, 4, 0.0083, 2, 0.0),
        ("flat", "min", 0.5, 1, 0.001, 0, 0.07),
        ("increasing", "max", 0.29, 2, 0.0137, 2, 0.0),
    ],
)
def test_keras(kind, mode, factor, patience, min_delta, cooldown, min_lr):
    """Keras counts `wait >= patience` and counts the epoch that ends its cooldown: its (P, C) is
    PyTorch's (P − 1, max(C − 1, 0)) with an absolute threshold. Its lr is a float32 variable."""
    values = metric(kind)
    expected = keras_scales(values, factor, patience, min_delta, cooldown, min_lr, mode)
    assert expected[-1] < 1
    tx = o.reduce_on_plateau(
        factor=factor,
        patience=patience - 1,
        mode=mode,
        threshold=min_delta,
        threshold_mode="abs",
        cooldown=max(cooldown - 1, 0),
        min_scale=min_lr,
    )
    np.testing.assert_allclose(run(tx, values)[0], expected, rtol=RTOL)


# --- vmap, checkpoints, chains -------------------------------------------------------------------------


def test_vmap_traced_hyperparameters():
    """8 runs, each with its metric and its own traced factor, patience, threshold, cooldown, built
    inside the vmapped function: the same as 8 separate runs, and as PyTorch."""
    kinds = ["noisy", "decreasing", "flat", "negative", "nan", "noisy", "decreasing", "negative"]
    values = np.stack([metric(k) for k in kinds])
    values[5] = metric("nan")[::-1]
    factors = np.array([0.37, 0.61, 0.23, 0.5, 0.43, 0.71, 0.29, 0.83], np.float32)
    patiences = np.array([3, 2, 0, 1, 2, 4, 5, 1], np.int32)
    thresholds = np.array([0.0173, 0.0291, 0.0, 1e-4, 0.011, 0.0019, 0.033, 0.007], np.float32)
    cooldowns = np.array([2, 0, 1, 0, 1, 3, 0, 2], np.int32)

    def one(factor, patience, threshold, cooldown, vs):
        tx = o.reduce_on_plateau(factor=factor, patience=patience, threshold=threshold, cooldown=cooldown)

        def body(state, v):
            _, state = tx.update(GRADS, state, value=v)
            return state, state.scale

        return jax.lax.scan(body, tx.init(PARAMS), vs)[1]

    batched = np.asarray(jax.jit(jax.vmap(one))(factors, patiences, thresholds, cooldowns, values))
    for i in range(8):
        kwargs = dict(factor=float(factors[i]), patience=int(patiences[i]), threshold=float(thresholds[i]))
        kwargs["cooldown"] = int(cooldowns[i])
        separate, _ = run(o.reduce_on_plateau(**kwargs), values[i])
        np.testing.assert_array_equal(batched[i], separate)
        np.testing.assert_allclose(batched[i], torch_scales(values[i], **kwargs), rtol=RTOL)
    assert len(np.unique(batched)) > 8


def test_vmap_batch_of_states():
    tx = o.reduce_on_plateau(factor=0.37, patience=2, threshold=0.0173, cooldown=1)
    values = np.stack([metric(k, 30) for k in ["noisy", "flat", "nan"]])
    states = jax.vmap(lambda _: tx.init(PARAMS))(jnp.arange(3))
    update = jax.jit(jax.vmap(lambda s, v: tx.update(GRADS, s, value=v)))
    for t in range(30):
        _, states = update(states, values[:, t])
    for i in range(3):
        expected = torch_scales(values[i], factor=0.37, patience=2, threshold=0.0173, cooldown=1)[-1]
        np.testing.assert_allclose(states.scale[i], expected, rtol=RTOL)


@pytest.mark.parametrize("how", ["eager", "jit"])
def test_checkpoint(how):
    """Every leaf to NumPy and back, mid-epoch and mid-cooldown: the rest of the run is bit-identical."""
    tx = o.reduce_on_plateau(factor=0.37, patience=1, threshold=0.0173, cooldown=2, accumulation_size=3)
    update = jax.jit(tx.update) if how == "jit" else tx.update
    values = metric("noisy", 40)
    state = tx.init(PARAMS)
    for v in values[:20]:
        _, state = update(GRADS, state, value=v)
    assert int(state.num_accumulated) == 2
    leaves, treedef = jax.tree.flatten(state)
    restored = jax.tree.unflatten(treedef, [jnp.asarray(np.asarray(x)) for x in leaves])
    a, b = [], []
    for v in values[20:]:
        ua, state = update(GRADS, state, value=v)
        ub, restored = update(GRADS, restored, value=v)
        a.append((ua, state))
        b.append((ub, restored))
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)
    assert all(isinstance(x, jax.Array) for x in jax.tree.leaves(state))
    assert type(state) is type(tx.init(PARAMS)) and state._fields == (
        "scale",
        "best",
        "num_bad_epochs",
        "cooldown_counter",
        "num_accumulated",
        "accumulated_value",
    )


def test_chain_schedule_times_scale():
    """`optax.chain(optax.adam(schedule), reduce_on_plateau(...))` under jit: Adam's updates with the
    schedule, times PyTorch's plateau lr."""
    schedule = o.one_cycle_schedule(0.0173, N, pct_start=0.27)
    settings = dict(factor=0.37, patience=2, threshold=0.0173, cooldown=1)
    values = metric("noisy")
    chained = optax.chain(optax.adam(schedule), o.reduce_on_plateau(**settings))
    plain = optax.adam(schedule)
    s1, s2 = chained.init(PARAMS), plain.init(PARAMS)
    step1 = jax.jit(lambda g, s, v: chained.update(g, s, PARAMS, value=v))
    step2 = jax.jit(lambda g, s: plain.update(g, s, PARAMS))
    scales = torch_scales(values, **settings)
    assert len(np.unique(scales)) >= 3
    for t, v in enumerate(values):
        c = np.float32(np.cos(0.3 * t))
        grads = jax.tree.map(lambda g, c=c: g * c, GRADS)
        u1, s1 = step1(grads, s1, v)
        u2, s2 = step2(grads, s2)
        for name in GRADS:
            np.testing.assert_allclose(u1[name], np.asarray(u2[name]) * scales[t], rtol=RTOL, atol=1e-12)


def test_bfloat16_updates_keep_their_dtype():
    tx = o.reduce_on_plateau(factor=0.5, patience=0)
    state = tx.init(None)
    for v in [1.0, 2.0]:
        u, state = tx.update({"w": jnp.ones(2, jnp.bfloat16)}, state, value=v)
    assert u["w"].dtype == jnp.bfloat16 and float(u["w"][0]) == 0.5


# --- bad input ---------------------------------------------------------------------------------------

BAD = [
    (dict(factor=1.0), "factor", "1.0"),
    (dict(factor=1.37), "factor", "1.37"),
    (dict(factor=-0.2), "factor", "-0.2"),
    (dict(factor=float("nan")), "factor", "nan"),
    (dict(factor="0.1"), "factor", "'0.1'"),
    (dict(patience=-1), "patience", "-1"),
    (dict(patience=2.5), "patience", "2.5"),
    (dict(mode="minimum"), "mode", "'minimum'"),
    (dict(threshold_mode="relative"), "threshold_mode", "'relative'"),
    (dict(threshold=-0.0173), "threshold", "-0.0173"),
    (dict(threshold=1.3), "threshold", "1.3"),
    (dict(threshold=-0.5, threshold_mode="abs"), "threshold", "-0.5"),
    (dict(cooldown=-2), "cooldown", "-2"),
    (dict(cooldown=1.5), "cooldown", "1.5"),
    (dict(min_scale=-0.1), "min_scale", "-0.1"),
    (dict(min_scale=1.7), "min_scale", "1.7"),
    (dict(eps=-1e-9), "eps", "-1e-09"),
    (dict(accumulation_size=0), "accumulation_size", "0"),
    (dict(accumulation_size=2.5), "accumulation_size", "2.5"),
    (dict(rtol=-0.1), "rtol", "-0.1"),
    (dict(rtol=1.3), "rtol", "1.3"),
    (dict(atol=-0.2), "atol", "-0.2"),
    (dict(rtol=0.0, atol=0.0), "rtol", "0.0"),
    (dict(rtol=0.01, factor=0.0), "factor", "0.0"),
    (dict(rtol=0.01, threshold=0.02), "threshold", "0.02"),
    (dict(atol=0.01, threshold_mode="abs"), "threshold_mode", "'abs'"),
    (dict(atol=0.01, eps=1e-3), "eps", "0.001"),
]


@pytest.mark.parametrize("kwargs,param,shown", BAD, ids=[f"{p}={s}" for _, p, s in BAD])
def test_bad_arguments(kwargs, param, shown):
    with pytest.raises(ValueError) as info:
        o.reduce_on_plateau(**kwargs)
    message = str(info.value)
    assert message.startswith(f"reduce_on_plateau: {param} must be "), message
    assert message.endswith(f"got {shown}"), message


def test_unknown_mode_lists_the_valid_ones():
    with pytest.raises(ValueError, match="mode must be one of 'min', 'max'"):
        o.reduce_on_plateau(mode="auto")
    with pytest.raises(ValueError, match="threshold_mode must be one of 'rel', 'abs'"):
        o.reduce_on_plateau(threshold_mode="absolute")


@pytest.mark.parametrize("jit", [False, True])
def test_update_needs_value(jit):
    tx = o.reduce_on_plateau()
    update = jax.jit(tx.update) if jit else tx.update
    with pytest.raises(ValueError, match=r"reduce_on_plateau: value must be given \(call update"):
        update(GRADS, tx.init(PARAMS))
    with pytest.raises(ValueError, match="reduce_on_plateau: value must be a scalar"):
        update(GRADS, tx.init(PARAMS), value=jnp.ones(3))
    with pytest.raises(ValueError, match="reduce_on_plateau: value must be given"):
        optax.chain(optax.sgd(0.1), tx).update(GRADS, optax.chain(optax.sgd(0.1), tx).init(PARAMS), PARAMS)


def test_traced_arguments_are_not_checked():
    """Out-of-range traced hyperparameters raise nothing and keep the scale finite."""

    def last_scale(factor, patience):
        tx = o.reduce_on_plateau(factor=factor, patience=patience)
        state = tx.init(None)
        for v in [1.0, 1.0, 1.0]:
            _, state = tx.update(None, state, value=v)
        return state.scale

    out = jax.vmap(last_scale)(jnp.array([1.5, -0.3, 0.37]), jnp.array([-1, 0, 0]))
    assert np.all(np.isfinite(out)) and np.all((np.asarray(out) >= 0) & (np.asarray(out) <= 1))
