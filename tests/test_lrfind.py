"""lr_find against a float64 NumPy simulation of SGD on a quadratic, plain optax loops, and the
suggestion rules of Lightning (`_LRFinder.suggestion`) and fastai (`valley`, `minimum`) re-written
here in NumPy from their sources."""

import dataclasses
import functools
import pathlib
import pickle
import re

import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax
import pytest

import optax_lrs as o
from optax_lrs import _lrfind

matplotlib.use("Agg")

# float32 training against float64 formulas: a few ulps per step, over up to 100 steps
RTOL = 2e-4

H = 3.7  # SGD on 0.5·H·|x − c|² diverges for lr > 2/H
X0 = np.array([1.3, -0.7, 2.1, 0.45, -1.9])
# c = 0: the error x − c then stays a float32 number of its own size (near c ≠ 0 it rounds to 0)
C = np.zeros(5)


def quadratic(params, batch):
    return 0.5 * H * jnp.sum((params - batch) ** 2)


def quadratic_batches(n):
    return np.tile(C.astype(np.float32), (n, 1))


def ramp(min_lr, max_lr, n, mode="exponential"):
    k = np.arange(n) / (n - 1)
    return min_lr * (max_lr / min_lr) ** k if mode == "exponential" else min_lr + (max_lr - min_lr) * k


def ema(losses, beta):
    """fastai's AvgSmoothLoss / Lightning's _LRCallback average, in float64."""
    avg, out = 0.0, []
    for k, loss in enumerate(np.asarray(losses, np.float64)):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** (k + 1)))
    return np.array(out)


def first_divergence(losses, beta=0.98, threshold=4.0):
    """Lightning's early stop on the smoothed losses (plus non-finite losses), or len(losses)."""
    best = np.inf
    for k, (loss, s) in enumerate(zip(losses, ema(losses, beta))):
        if not np.isfinite(loss) or not np.isfinite(s) or (k > 0 and s > threshold * best):
            return k
        best = min(best, s)
    return len(losses)


def sgd_quadratic_float64(lrs):
    """Losses of plain SGD on the quadratic, in float64, one per learning rate."""
    x, out = X0.copy(), []
    with np.errstate(over="ignore", invalid="ignore"):
        for lr in lrs:
            out.append(0.5 * H * np.sum((x - C) ** 2))
            x = x - lr * H * (x - C)
    return np.array(out)


# --- the suggestion rules, from lightning/pytorch/tuner/lr_finder.py and fastai/callback/schedule.py


def lightning_suggestion(lrs, losses, skip_begin=10, skip_end=1):
    losses = np.asarray(losses, np.float64)[skip_begin:-skip_end]
    lrs = np.asarray(lrs)[skip_begin:-skip_end]
    finite = np.isfinite(losses)
    losses, lrs = losses[finite], lrs[finite]
    if len(losses) < 2:
        return np.nan
    return lrs[np.argmin(np.gradient(losses, lrs))]


def fastai_inputs(lrs, losses, num_it):
    """What fastai's Learner.lr_find passes to its suggestion functions."""
    lrs, losses = np.asarray(lrs)[num_it // 10 : -5], np.asarray(losses, np.float64)[num_it // 10 : -5]
    nan = np.nonzero(np.isnan(losses))[0]
    if len(nan):
        lrs, losses = lrs[: min(nan)], losses[: min(nan)]
    return lrs, losses


def fastai_valley(lrs, losses):
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


def fastai_minimum(lrs, losses):
    return lrs[np.argmin(losses)] / 10


def expected_suggestions(lrs, smoothed, num_it):
    fl, fs = fastai_inputs(lrs, smoothed, num_it)
    return {
        "steepest": lightning_suggestion(lrs, smoothed),
        "valley": fastai_valley(fl, fs) if len(fs) else np.nan,
        "minimum": fastai_minimum(fl, fs) if len(fs) else np.nan,
    }


def assert_suggestions(result, expected):
    """The rules' values; a parallel test also has "best", which is then its main suggestion."""
    assert set(result.suggestions) == set(expected) >= {"steepest", "valley", "minimum"}
    for name, value in expected.items():
        np.testing.assert_allclose(result.suggestions[name], value, rtol=1e-12, err_msg=name)
    assert result.suggestion == result.suggestions["best" if "best" in expected else "valley"]


# --------------------------------------------------------------------------------------------------
# the sequential test on the quadratic


@pytest.fixture(scope="module")
def quad():
    n = 100
    return n, o.lr_find(quadratic, jnp.asarray(X0, jnp.float32), quadratic_batches(n), num_steps=n)


def test_quadratic_diverges_past_2_over_h_where_float64_sgd_says(quad):
    n, r = quad
    lrs = ramp(1e-7, 10.0, n)
    np.testing.assert_allclose(r.learning_rates, lrs[: r.stopped_at + 1], rtol=1e-14)
    expected = sgd_quadratic_float64(lrs)
    stop = first_divergence(expected)
    assert stop < n and lrs[stop] > 2 / H
    assert abs(r.stopped_at - stop) <= 1
    assert len(r.losses) == len(r.smoothed_losses) == len(r.learning_rates) == r.stopped_at + 1
    m = min(r.stopped_at, stop) + 1
    np.testing.assert_allclose(r.losses[:m], expected[:m], rtol=RTOL)
    # the law of SGD on a quadratic: the loss falls after a step with lr < 2/H and grows after one above
    up = np.diff(r.losses) > 0
    np.testing.assert_array_equal(up, r.learning_rates[:-1] > 2 / H)
    assert r.losses[-1] > 1e3 * r.losses.min()


def test_smoothed_losses_are_the_bias_corrected_ema(quad):
    _, r = quad
    np.testing.assert_allclose(r.smoothed_losses, ema(r.losses, 0.98), rtol=1e-5)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_smoothing_parameter(beta):
    n = 60
    r = o.lr_find(quadratic, jnp.asarray(X0), quadratic_batches(n), min_lr=1e-3, num_steps=n, smoothing=beta)
    np.testing.assert_allclose(r.smoothed_losses, ema(r.losses, beta), rtol=1e-5)
    stop = first_divergence(sgd_quadratic_float64(ramp(1e-3, 10.0, n)), beta)
    assert abs(r.stopped_at - stop) <= 1


def test_suggestions_are_lightnings_and_fastais_rules(quad):
    n, r = quad
    assert_suggestions(r, expected_suggestions(r.learning_rates, r.smoothed_losses, n))


def test_lightnings_gradient_is_torch_gradient_with_lr_spacing(quad):
    torch = pytest.importorskip("torch")
    _, r = quad
    s = np.asarray(r.smoothed_losses[10:-1], np.float64)
    lrs = r.learning_rates[10:-1]
    ours = np.gradient(s, lrs)
    theirs = torch.gradient(torch.tensor(s), spacing=[torch.tensor(lrs)])[0].numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def noisy_regression(n_steps, batch=16, seed=0):
    """Least squares on noisy minibatches: a range-test curve with noise, a valley and a blow-up."""
    rng = np.random.default_rng(seed)
    w_true = rng.normal(size=4)
    x = rng.normal(size=(n_steps, batch, 4)).astype(np.float32)
    y = (x @ w_true + 0.3 * rng.normal(size=(n_steps, batch))).astype(np.float32)

    def loss(w, b):
        xb, yb = b
        return jnp.mean((xb @ w - yb) ** 2)

    return loss, jnp.zeros(4), (x, y)


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_suggestions_on_a_noisy_curve(mode):
    n = 80
    loss, w0, data = noisy_regression(n)
    r = o.lr_find(loss, w0, data, optax.adam, min_lr=1e-4, max_lr=30.0, num_steps=n, mode=mode)
    np.testing.assert_allclose(r.learning_rates, ramp(1e-4, 30.0, n, mode)[: r.stopped_at + 1], rtol=1e-14)
    assert_suggestions(r, expected_suggestions(r.learning_rates, r.smoothed_losses, n))
    np.testing.assert_allclose(r.smoothed_losses, ema(r.losses, 0.98), rtol=1e-5)


@pytest.mark.parametrize("seed", range(12))
def test_valley_is_fastais_on_random_curves(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 70))
    # few distinct values: ties, which the strict comparison must skip
    losses = rng.integers(0, 6 if seed % 2 else 40, n).astype(np.float64) + np.linspace(3, 0, n) * (seed % 3)
    lrs = np.geomspace(1e-5, 1.0, n)
    assert _lrfind._valley(lrs, losses) == fastai_valley(lrs, losses)


def test_valley_of_a_decreasing_pair_reads_the_last_lr_as_fastai_does():
    lrs = np.array([1e-3, 1e-2, 1e-1])
    losses = np.array([2.0, 1.0, 3.0])
    assert _lrfind._valley(lrs, losses) == fastai_valley(lrs, losses) == 1e-1


def test_equals_a_plain_optax_loop_with_the_ramp():
    """Adam's state does not depend on the learning rate: a fresh `optax.adam(lr_k)` per step is the
    ramp, with no inject_hyperparams."""
    n = 50
    loss, w0, (x, y) = noisy_regression(n, seed=3)
    r = o.lr_find(loss, w0, (x, y), optax.adam, min_lr=1e-3, max_lr=10.0, num_steps=n)
    lrs = ramp(1e-3, 10.0, n)
    w, state, losses = w0, optax.adam(1.0).init(w0), []
    grad = jax.jit(jax.value_and_grad(loss))
    for k in range(n):
        value, g = grad(w, (x[k], y[k]))
        losses.append(float(value))
        updates, state = optax.adam(lrs[k]).update(g, state, w)
        w = optax.apply_updates(w, updates)
    stop = first_divergence(losses)
    assert r.stopped_at == stop
    np.testing.assert_allclose(r.losses, losses[: stop + 1], rtol=1e-4)


def test_callable_batches_equal_array_batches():
    n = 40
    loss, w0, (x, y) = noisy_regression(n, seed=1)
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    a = o.lr_find(loss, w0, (x, y), min_lr=1e-4, max_lr=5.0, num_steps=n)
    b = o.lr_find(loss, w0, lambda k: (xj[k], yj[k]), min_lr=1e-4, max_lr=5.0, num_steps=n)
    assert a.stopped_at == b.stopped_at
    np.testing.assert_allclose(a.losses, b.losses, rtol=1e-6)


def test_longer_batches_use_the_first_num_steps():
    n = 30
    loss, w0, (x, y) = noisy_regression(2 * n, seed=2)
    a = o.lr_find(loss, w0, (x, y), num_steps=n, min_lr=1e-3)
    b = o.lr_find(loss, w0, (x[:n], y[:n]), num_steps=n, min_lr=1e-3)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_nan_loss_stops_the_recording_not_the_program():
    n = 40

    def loss(p, b):  # log of a negative number at step 17: NaN
        return jnp.sum(p**2) + jnp.log(b)

    batches = np.ones(n, np.float32)
    batches[17] = -1.0
    r = o.lr_find(loss, jnp.ones(3), batches, min_lr=1e-4, max_lr=1e-2, num_steps=n)
    assert r.stopped_at == 17 and len(r.losses) == 18
    assert np.isnan(r.losses[-1]) and np.all(np.isfinite(r.losses[:-1]))


def test_without_threshold_only_non_finite_losses_stop():
    n = 100
    r = o.lr_find(quadratic, jnp.asarray(X0), quadratic_batches(n), num_steps=n, diverge_threshold=None)
    expected = sgd_quadratic_float64(ramp(1e-7, 10.0, n)).astype(np.float32)  # overflows where ours does
    stop = first_divergence(expected, threshold=np.inf)
    assert abs(r.stopped_at - stop) <= 1
    assert r.stopped_at == n or not np.isfinite(r.losses[-1])


def test_whole_ramp_is_one_traced_scan():
    calls = []

    def loss(p, b):
        calls.append(1)  # runs once per trace, never per step
        return jnp.sum((p - b) ** 2)

    batches = np.zeros((64, 2), np.float32)
    o.lr_find(loss, jnp.ones(2), batches, num_steps=64)
    assert len(calls) == 1
    o.lr_find(loss, jnp.ones(2), batches, num_steps=64, min_lr=1e-5)  # same program, new values
    assert len(calls) == 1
    o.lr_find(loss, jnp.ones(2), batches, num_steps=64, parallel=4)
    assert len(calls) == 2


def test_loss_fn_may_be_jitted_and_scan_inside():
    n = 40

    @jax.jit
    def loss(p, b):  # a recurrence over the batch: lax.scan inside the loss
        def step(h, xt):
            return jnp.tanh(p["w"] * h + xt), (h - xt) ** 2

        _, errs = jax.lax.scan(step, 0.0, b)
        return jnp.mean(errs) + 0.1 * jnp.sum(p["w"] ** 2)

    batches = np.sin(np.arange(n * 8, dtype=np.float32) / 3).reshape(n, 8)
    r = o.lr_find(loss, {"w": jnp.asarray(0.5)}, batches, optax.adam, min_lr=1e-4, max_lr=1.0, num_steps=n)
    assert r.stopped_at == n and np.all(np.isfinite(r.losses))


def test_float64_under_x64():
    with jax.enable_x64(True):
        n = 100
        r = o.lr_find(quadratic, jnp.asarray(X0), quadratic_batches(n).astype(np.float64), num_steps=n)
        assert r.losses.dtype == np.float64
        expected = sgd_quadratic_float64(ramp(1e-7, 10.0, n))
        assert r.stopped_at == first_divergence(expected)
        np.testing.assert_allclose(r.losses, expected[: r.stopped_at + 1], rtol=1e-10)


def test_result_round_trips_through_numpy(quad, tmp_path):
    _, r = quad
    for field in ("learning_rates", "losses", "smoothed_losses"):
        assert type(getattr(r, field)) is np.ndarray
    np.savez(tmp_path / "r.npz", lrs=r.learning_rates, losses=r.losses, smoothed=r.smoothed_losses)
    back = np.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back["lrs"], r.learning_rates)
    np.testing.assert_array_equal(back["losses"], r.losses)
    np.testing.assert_array_equal(back["smoothed"], r.smoothed_losses)
    again = pickle.loads(pickle.dumps(r))
    assert again.stopped_at == r.stopped_at and again.suggestions == r.suggestions
    assert isinstance(r.stopped_at, int) and isinstance(r.suggestion, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.stopped_at = 0


def test_plot_marks_the_suggestion_on_a_log_axis(quad):
    import matplotlib.pyplot as plt

    _, r = quad
    ax = r.plot()
    assert ax.get_xscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert f"valley: {r.suggestion:.3g}" in labels
    plt.close(ax.figure)
    fig, given = plt.subplots()
    assert r.plot(ax=given) is given
    plt.close(fig)


# --------------------------------------------------------------------------------------------------
# parallel=K


def separate_runs(loss, w0, batches, optimizer, lrs, n, beta=0.98):
    """Each learning rate on its own: a Python loop over plain optax, jitted per step."""

    @jax.jit
    def step(w, state, b, lr):
        value, g = jax.value_and_grad(loss)(w, b)
        updates, state = optimizer(lr).update(g, state, w)
        return optax.apply_updates(w, updates), state, value

    out = []
    for lr in lrs:
        w, state, losses = w0, optimizer(lr).init(w0), []
        for k in range(n):
            w, state, value = step(w, state, jax.tree.map(lambda a, k=k: a[k], batches), lr)
            losses.append(float(value))
        last = min(first_divergence(losses, beta), n - 1)
        out.append((first_divergence(losses, beta) < n, losses[last], ema(losses[: last + 1], beta)[-1]))
    return out


def test_parallel_equals_separate_constant_lr_runs():
    n, k = 30, 7
    loss, w0, data = noisy_regression(n, seed=4)
    sgd = functools.partial(optax.sgd, momentum=0.9)
    r = o.lr_find(loss, w0, data, sgd, min_lr=1e-3, max_lr=3.0, num_steps=n, parallel=k)
    lrs = ramp(1e-3, 3.0, k)
    runs = separate_runs(loss, w0, data, sgd, lrs, n)
    diverged = [d for d, _, _ in runs]
    assert any(diverged) and not all(diverged)  # the test covers both kinds of run
    stop = diverged.index(True)
    assert r.stopped_at == stop
    np.testing.assert_allclose(r.learning_rates, lrs[: stop + 1], rtol=1e-14)
    np.testing.assert_allclose(r.losses, [x for _, x, _ in runs[: stop + 1]], rtol=1e-4)
    np.testing.assert_allclose(r.smoothed_losses, [s for _, _, s in runs[: stop + 1]], rtol=1e-4)
    # the same rules, seeing every run but the diverged one
    m = len(r.smoothed_losses) - 1
    fl, fs = r.learning_rates[:m], np.asarray(r.smoothed_losses[:m], np.float64)
    expected = {
        "steepest": lightning_suggestion(r.learning_rates, r.smoothed_losses, 0, 1),
        "valley": fastai_valley(fl, fs),
        "minimum": fastai_minimum(fl, fs),
        # the separate run that ended lowest, among those that did not diverge
        "best": lrs[min((s, i) for i, (d, _, s) in enumerate(runs[:stop]) if not d)[1]],
    }
    assert_suggestions(r, expected)


def test_parallel_without_divergence_keeps_every_lr():
    n, k = 20, 5
    r = o.lr_find(
        quadratic, jnp.asarray(X0), quadratic_batches(n), min_lr=1e-3, max_lr=0.5, num_steps=n, parallel=k
    )
    assert r.stopped_at == k and len(r.learning_rates) == k
    np.testing.assert_allclose(r.learning_rates, np.geomspace(1e-3, 0.5, k), rtol=1e-12)
    # constant-lr SGD on the quadratic: the loss after n − 1 steps is (1 − lr·H)^(2(n−1)) · loss_0
    loss0 = 0.5 * H * np.sum(X0**2)
    np.testing.assert_allclose(r.losses, (1 - r.learning_rates * H) ** (2 * (n - 1)) * loss0, rtol=RTOL)
    fl, fs = r.learning_rates, np.asarray(r.smoothed_losses, np.float64)
    expected = {
        "steepest": fl[np.argmin(np.gradient(fs, fl))],
        "valley": fastai_valley(fl, fs),
        "minimum": fastai_minimum(fl, fs),
        "best": fl[np.argmin(fs)],
    }
    assert_suggestions(r, expected)


# --------------------------------------------------------------------------------------------------
# arguments


def good(**kwargs):
    args = dict(loss_fn=quadratic, params=jnp.asarray(X0), batches=quadratic_batches(10), num_steps=10)
    return {**args, **kwargs}


BAD = [
    ({"min_lr": 0.0}, "lr_find: min_lr must be a finite number > 0, got 0.0"),
    ({"min_lr": -1e-3}, "lr_find: min_lr must be a finite number > 0, got -0.001"),
    ({"min_lr": float("nan")}, "lr_find: min_lr must be a finite number > 0, got nan"),
    ({"min_lr": "1e-3"}, "lr_find: min_lr must be a real number, got '1e-3'"),
    ({"min_lr": [1e-3, 1e-2]}, "lr_find: min_lr must be a single number, got [0.001, 0.01]"),
    ({"max_lr": 1e-7}, "lr_find: max_lr must be a finite number > min_lr = 1e-07, got 1e-07"),
    ({"min_lr": 1.0, "max_lr": 0.5}, "lr_find: max_lr must be a finite number > min_lr = 1.0, got 0.5"),
    ({"max_lr": float("inf")}, "lr_find: max_lr must be a finite number > min_lr = 1e-07, got inf"),
    ({"num_steps": 1}, "lr_find: num_steps must be an integer >= 2, got 1"),
    ({"num_steps": 10.0}, "lr_find: num_steps must be an integer >= 2, got 10.0"),
    ({"num_steps": True}, "lr_find: num_steps must be an integer >= 2, got True"),
    ({"mode": "cosine"}, "lr_find: mode must be one of 'exponential', 'linear', got 'cosine'"),
    ({"smoothing": 1.0}, "lr_find: smoothing must be in [0, 1), got 1.0"),
    ({"smoothing": -0.1}, "lr_find: smoothing must be in [0, 1), got -0.1"),
    ({"diverge_threshold": 1.0}, "lr_find: diverge_threshold must be > 1 or None, got 1.0"),
    ({"diverge_threshold": 0.5}, "lr_find: diverge_threshold must be > 1 or None, got 0.5"),
    ({"parallel": 1}, "lr_find: parallel must be an integer >= 2, got 1"),
    ({"parallel": 0}, "lr_find: parallel must be an integer >= 2, got 0"),
    ({"parallel": 2.5}, "lr_find: parallel must be an integer >= 2, got 2.5"),
    (
        {"batches": np.zeros((9, 5), np.float32)},
        "lr_find: batches must be arrays with a leading axis of length >= num_steps = 10, "
        "got 'a leaf of shape (9, 5)'",
    ),
    (
        {"batches": (np.zeros((10, 5)), 3.0)},
        "lr_find: batches must be arrays with a leading axis of length >= num_steps = 10, "
        "got 'a leaf of shape ()'",
    ),
    ({"batches": None}, "lr_find: batches must be a pytree of arrays with a leading axis, or a callable"),
    ({"optimizer": 0.1}, "lr_find: optimizer must be a callable taking learning_rate"),
    ({"loss_fn": "mse"}, "lr_find: loss_fn must be a callable loss_fn(params, batch), got 'mse'"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD, ids=[m.split(": ")[1][:40] for _, m in BAD])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        o.lr_find(**good(**kwargs))


def test_non_scalar_loss_is_refused():
    with pytest.raises(ValueError, match=re.escape("lr_find: loss_fn must return a scalar, got an array")):
        o.lr_find(lambda p, b: (p - b) ** 2, jnp.asarray(X0), quadratic_batches(10), num_steps=10)


# --------------------------------------------------------------------------------------------------
# the README's section


def test_readme_example_runs():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Learning-rate range test", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert isinstance(scope["result"], o.LRFindResult)
