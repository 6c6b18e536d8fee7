"""greedy_lr against transformers' `GreedyLR` (on a torch SGD optimizer), run in the test: eagerly, with a
jitted update, in `lax.scan`, under `vmap`."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from optax_lrs._greedy import greedy_lr

torch = pytest.importorskip("torch")
GreedyLR = pytest.importorskip("transformers.optimization").GreedyLR

# float32 rounding: the scale is anchor · factor**k from two float32 exps and two products (a few
# ulps, 6e-8 each, whatever k), GreedyLR's rate a float64 product; measured worst here 4.1e-7.
RTOL = 1e-6
N = 60
PARAMS = {"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)}
GRADS = {"w": jnp.full((2, 3), 0.731), "b": jnp.asarray([-1.3, 0.29, 2.07])}


def metric(kind: str, n: int = N) -> np.ndarray:
    """Monitored values, float32 so that GreedyLR sees the very numbers we do."""
    t = np.arange(N)
    rng = np.random.default_rng(sum(map(ord, kind)))
    noise = rng.normal(size=N)
    values = {
        "noisy_decreasing": 1.21 + 2.3 * np.exp(-0.071 * t) + 0.031 * noise,
        # flat within the thresholds for 23 values, a steady fall, flat again
        "plateau_then_improvement": 1.473 - 0.047 * np.clip(t - 23, 0, 21) + 0.003 * noise,
        "rising": 0.43 + 0.0213 * t + 0.011 * noise,
        "nonfinite": 1.93 + np.cumsum(0.041 * noise) - 0.013 * t,
        "inf": 0.87 + 1.7 * np.exp(-0.043 * t) + 0.019 * noise,
    }[kind].astype(np.float32)
    if kind == "nonfinite":
        values[[4, 5, 31]] = np.nan
        values[17] = np.inf
    if kind == "inf":
        values[9] = np.inf
    return values[:n]


KINDS = ["noisy_decreasing", "plateau_then_improvement", "rising", "nonfinite", "inf"]


def torch_lrs(values: np.ndarray, learning_rate: float, accumulation_size: int = 1, **kwargs) -> np.ndarray:
    """The lr of the torch optimizer after each update, GreedyLR stepped once per epoch with the mean
    of the epoch's values."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=learning_rate)
    sched = GreedyLR(opt, **kwargs)
    out = []
    for i in range(len(values)):
        if (i + 1) % accumulation_size == 0:
            sched.step(float(np.mean(values[i + 1 - accumulation_size : i + 1], dtype=np.float64)))
        out.append(opt.param_groups[0]["lr"])
    return np.array(out)


def run(tx, values, how: str):
    """Our scale after each update and the updates: eagerly, with a jitted update, or in lax.scan."""
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
        expected = np.asarray(scales)[:, None] * np.asarray(g).reshape(1, -1)
        np.testing.assert_allclose(np.asarray(updates[name]).reshape(len(scales), -1), expected, rtol=RTOL)


SETTINGS = {
    "bounds_reset": dict(
        learning_rate=0.0731,
        factor=0.73,
        patience=3,
        threshold=0.0137,
        min_lr=0.0213,
        max_lr=0.187,
        reset_start=4,
    ),
    "rel_cooldown_warmup": dict(
        learning_rate=0.0419,
        factor=0.81,
        patience=2,
        threshold=0.0093,
        threshold_mode="rel",
        cooldown=2,
        warmup=3,
        min_lr=0.0077,
        max_lr=0.113,
        reset_start=5,
    ),
    "smooth": dict(
        learning_rate=0.137,
        factor=0.67,
        patience=1,
        threshold=0.0041,
        min_lr=0.031,
        max_lr=0.29,
        smooth=True,
        window_size=7,
        reset_start=3,
    ),
    "smooth_short_window": dict(
        learning_rate=0.0613,
        factor=0.83,
        patience=2,
        threshold=0.0029,
        min_lr=0.0041,
        max_lr=0.097,
        smooth=True,
        window_size=3,
    ),
    # a reduction from below 0.0522, and the increase from 0.0731 to max_lr, change the lr by less
    # than eps: they are skipped
    "eps": dict(
        learning_rate=0.0731,
        factor=0.91,
        patience=1,
        threshold=0.0137,
        min_lr=0.0011,
        max_lr=0.0762,
        eps=0.0047,
    ),
    "accumulate": dict(
        learning_rate=0.0583,
        factor=0.77,
        patience=1,
        threshold=0.0119,
        cooldown=1,
        min_lr=0.017,
        max_lr=0.21,
        accumulation_size=3,
        reset_start=2,
    ),
    "max": dict(
        learning_rate=0.0297,
        mode="max",
        factor=0.73,
        patience=2,
        threshold=0.0137,
        threshold_mode="rel",
        warmup=1,
        min_lr=0.009,
        max_lr=0.071,
        reset_start=3,
    ),
    "defaults": dict(learning_rate=0.0731),
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_jit_matches_transformers(name):
    """Every metric stream under one jitted update per setting: lr = scale · learning_rate after each
    update equals GreedyLR's, and the updates are scaled by it."""
    settings = SETTINGS[name]
    lr = settings["learning_rate"]
    tx = greedy_lr(**settings)
    changes = []
    for kind in KINDS:
        values = metric(kind)
        if settings.get("mode") == "max":
            values = -values
        expected = torch_lrs(values, **settings)
        scales, updates = run(tx, values, "jit")
        np.testing.assert_allclose(scales.astype(np.float64) * lr, expected, rtol=RTOL, err_msg=kind)
        assert_scaled(updates, expected / lr)
        changes.append(np.diff(expected))
    changes = np.concatenate(changes)
    # the streams make GreedyLR both raise and lower the rate under every setting
    assert (changes > 0).sum() >= 2 and (changes < 0).sum() >= 2


def test_bounds_and_reset_are_reached():
    """The runs above do reach max_lr, min_lr and the reset: checked on GreedyLR's own numbers."""
    a = SETTINGS["bounds_reset"]
    rising = torch_lrs(metric("rising"), **a)
    at_min = np.flatnonzero(rising == a["min_lr"])
    assert len(at_min) >= 4 and np.any(rising[at_min[0] :] == a["learning_rate"])  # reset after 4 at min
    assert np.any(torch_lrs(metric("noisy_decreasing"), **a) == a["max_lr"])
    eps = SETTINGS["eps"]
    for kind in ["rising", "noisy_decreasing"]:  # the rate stays within [0.0501, learning_rate]
        lrs = torch_lrs(metric(kind), **eps)
        np.testing.assert_allclose([lrs.min(), lrs.max()], [0.0731 * 0.91**4, 0.0731], rtol=1e-12)
    smooth = SETTINGS["smooth"]
    lrs = torch_lrs(metric("nonfinite"), **smooth)
    assert np.any(lrs == smooth["min_lr"]) and lrs[-1] > smooth["min_lr"]  # NaN mean until the reset
    # once a NaN or inf has left the window, GreedyLR's mean stays NaN: the rate never rises again
    short = SETTINGS["smooth_short_window"]
    for kind, first in [("nonfinite", 4), ("inf", 9)]:
        lrs = torch_lrs(metric(kind), **short)
        assert np.all(np.diff(lrs[first:]) <= 0) and lrs[-1] == short["min_lr"]


def test_no_drift_over_many_ups_and_downs():
    """3000 epochs, each better (a new low) or worse at random: the rate random-walks over about 100
    increases and reductions, and stays within float32 rounding of GreedyLR's (multiplying the
    previous scale by factor and its reciprocal would drift)."""
    rng = np.random.default_rng(731)
    better = rng.random(3000) < 0.5
    values = np.where(better, 5.0 - 0.00037 * np.arange(3000), 50.0).astype(np.float32)
    settings = dict(learning_rate=0.0731, factor=0.83, patience=0, min_lr=0.0, max_lr=1e3, eps=0.0)
    expected = torch_lrs(values, **settings)
    assert (np.diff(expected) != 0).sum() > 2000 and expected.max() / expected.min() > 1e4
    scales, _ = run(greedy_lr(**settings), values, "scan")
    np.testing.assert_allclose(scales.astype(np.float64) * settings["learning_rate"], expected, rtol=RTOL)


@pytest.mark.parametrize("how", ["eager", "scan"])
def test_eager_and_scan(how):
    """Smoothing over a NaN and an inf, down to min_lr and the reset: eagerly and in lax.scan."""
    settings = SETTINGS["smooth"]
    values = metric("nonfinite", 22)
    expected = torch_lrs(values, **settings)
    assert (
        expected.max() > expected[0] and expected.min() == settings["min_lr"] and expected[-1] < expected[0]
    )
    scales, updates = run(greedy_lr(**settings), values, how)
    np.testing.assert_allclose(scales.astype(np.float64) * settings["learning_rate"], expected, rtol=RTOL)
    assert_scaled(updates, expected / settings["learning_rate"])


def test_chain_after_sgd():
    """`optax.chain(optax.sgd(lr), greedy_lr(lr, ...))` moves the parameters by GreedyLR's lr · grad."""
    settings = SETTINGS["bounds_reset"]
    values = metric("noisy_decreasing", 30)
    expected = torch_lrs(values, **settings)
    opt = optax.chain(optax.sgd(settings["learning_rate"]), greedy_lr(**settings))
    state = opt.init(PARAMS)
    step = jax.jit(lambda s, v: opt.update(GRADS, s, PARAMS, value=v))
    for t, v in enumerate(values):
        u, state = step(state, v)
        for name, g in GRADS.items():
            np.testing.assert_allclose(u[name], -expected[t] * np.asarray(g), rtol=RTOL)


def test_vmap_two_metric_streams():
    """One transform, a batch of two states driven by two different streams under jit(vmap(update))."""
    settings = SETTINGS["rel_cooldown_warmup"]
    tx = greedy_lr(**settings)
    values = np.stack([metric("noisy_decreasing", 40), metric("rising", 40)])
    states = jax.vmap(lambda _: tx.init(PARAMS))(jnp.arange(2))
    update = jax.jit(jax.vmap(lambda s, v: tx.update(GRADS, s, value=v)))
    scales = []
    for t in range(values.shape[1]):
        u, states = update(states, values[:, t])
        scales.append(states.scale)
        np.testing.assert_allclose(
            u["b"], np.asarray(states.scale)[:, None] * np.asarray(GRADS["b"]), rtol=RTOL
        )
    scales = np.asarray(scales).T.astype(np.float64) * settings["learning_rate"]
    for i in range(2):
        np.testing.assert_allclose(scales[i], torch_lrs(values[i], **settings), rtol=RTOL)
    assert not np.allclose(scales[0], scales[1])


def test_vmap_traced_hyperparameters():
    """Four runs with their own traced learning_rate, factor, patience, threshold, bounds and
    reset_start, built inside the vmapped function: each equals GreedyLR's run."""
    kinds = ["noisy_decreasing", "rising", "plateau_then_improvement", "nonfinite"]
    values = np.stack([metric(k) for k in kinds])
    hyper = dict(
        learning_rate=np.array([0.0731, 0.0419, 0.137, 0.0583], np.float32),
        factor=np.array([0.73, 0.81, 0.67, 0.77], np.float32),
        patience=np.array([3, 2, 1, 0], np.int32),
        threshold=np.array([0.0137, 0.0093, 0.0041, 0.0119], np.float32),
        cooldown=np.array([0, 2, 1, 3], np.int32),
        warmup=np.array([1, 0, 2, 0], np.int32),
        min_lr=np.array([0.0213, 0.0077, 0.031, 0.017], np.float32),
        max_lr=np.array([0.187, 0.113, 0.29, 0.21], np.float32),
        reset_start=np.array([4, 2, 3, 5], np.int32),
    )

    def one(h, vs):
        tx = greedy_lr(**h)

        def body(state, v):
            _, state = tx.update(GRADS, state, value=v)
            return state, state.scale

        return jax.lax.scan(body, tx.init(PARAMS), vs)[1]

    batched = np.asarray(jax.jit(jax.vmap(one))(hyper, values))
    for i in range(4):
        kwargs = {k: v[i].item() for k, v in hyper.items()}
        expected = torch_lrs(values[i], **kwargs)
        assert len(np.unique(expected)) >= 3
        np.testing.assert_allclose(batched[i] * np.float64(kwargs["learning_rate"]), expected, rtol=RTOL)


def test_checkpoint():
    """Every leaf to NumPy and back mid-run (window half full, mid-epoch): the rest is bit-identical."""
    tx = greedy_lr(**{**SETTINGS["smooth"], "accumulation_size": 2})
    update = jax.jit(tx.update)
    values = metric("noisy_decreasing", 24)
    state = tx.init(PARAMS)
    for v in values[:7]:
        _, state = update(GRADS, state, value=v)
    assert int(state.num_accumulated) == 1 and int(state.window_count) == 3
    leaves, treedef = jax.tree.flatten(state)
    restored = jax.tree.unflatten(treedef, [jnp.asarray(np.asarray(x)) for x in leaves])
    for v in values[7:]:
        ua, state = update(GRADS, state, value=v)
        ub, restored = update(GRADS, restored, value=v)
        for x, y in zip(jax.tree.leaves((ua, state)), jax.tree.leaves((ub, restored))):
            np.testing.assert_array_equal(x, y)


# --- bad input ---------------------------------------------------------------------------------------

BAD = [
    (dict(learning_rate=0.0), "learning_rate", "0.0"),
    (dict(learning_rate=-0.07), "learning_rate", "-0.07"),
    (dict(learning_rate=float("inf")), "learning_rate", "inf"),
    (dict(mode="minimum"), "mode", "'minimum'"),
    (dict(factor=1.0), "factor", "1.0"),
    (dict(factor=1.37), "factor", "1.37"),
    (dict(factor=0.0), "factor", "0.0"),
    (dict(factor=float("nan")), "factor", "nan"),
    (dict(patience=-1), "patience", "-1"),
    (dict(patience=2.5), "patience", "2.5"),
    (dict(threshold=-0.0137), "threshold", "-0.0137"),
    (dict(threshold=1.3, threshold_mode="rel"), "threshold", "1.3"),
    (dict(threshold_mode="relative"), "threshold_mode", "'relative'"),
    (dict(cooldown=-2), "cooldown", "-2"),
    (dict(warmup=1.5), "warmup", "1.5"),
    (dict(min_lr=-0.001), "min_lr", "-0.001"),
    (dict(max_lr=0.0, min_lr=0.0), "max_lr", "0.0"),
    (dict(max_lr=0.0213, min_lr=0.0731), "max_lr", "0.0213"),
    (dict(eps=-1e-9), "eps", "-1e-09"),
    (dict(smooth=1), "smooth", "1"),
    (dict(smooth=True, window_size=0), "window_size", "0"),
    (dict(window_size=7.5), "window_size", "7.5"),
    (dict(reset_start=-3), "reset_start", "-3"),
    (dict(accumulation_size=0), "accumulation_size", "0"),
]


@pytest.mark.parametrize("kwargs,param,shown", BAD, ids=[f"{p}={s}" for _, p, s in BAD])
def test_bad_arguments(kwargs, param, shown):
    with pytest.raises(ValueError) as info:
        greedy_lr(**{"learning_rate": 0.0731, **kwargs})
    message = str(info.value)
    assert message.startswith(f"greedy_lr: {param} must be "), message
    assert message.endswith(f"got {shown}"), message


def test_traced_window_size_is_refused():
    with pytest.raises(ValueError, match="greedy_lr: window_size must be a concrete integer"):
        jax.jit(lambda w: greedy_lr(0.0731, smooth=True, window_size=w).init(PARAMS))(7)


@pytest.mark.parametrize("jit", [False, True])
def test_update_needs_a_scalar_value(jit):
    tx = greedy_lr(0.0731)
    update = jax.jit(tx.update) if jit else tx.update
    with pytest.raises(ValueError, match=r"greedy_lr: value must be given \(call update"):
        update(GRADS, tx.init(PARAMS))
    with pytest.raises(ValueError, match="greedy_lr: value must be a scalar"):
        update(GRADS, tx.init(PARAMS), value=jnp.ones(3))
