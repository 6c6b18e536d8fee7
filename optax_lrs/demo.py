"""The demo: the schedules of the Keras CIFAR-10 tutorial, and three more, compared on scikit-learn's digits.

One small MLP (64 -> 64 -> 10) is trained with SGD with momentum 0.5 under seven schedules, each from
several seeds (initial weights, minibatch order and which training labels are noisy): the schedules are
different families, so the batch runs over `select`'s index and the seed under one `jax.vmap`, one
compiled program for every run. A fraction of the training labels is replaced by random classes: on the
clean digits every schedule reaches ~98% and they tie; with noisy labels, how far and when the learning
rate comes down decides how much of the noise the model learns.

The figure is drawn on a `matplotlib.figure.Figure` of its own, never through pyplot: running the demo
does not change the caller's matplotlib backend (a notebook keeps its inline figures).
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections.abc import Callable

import numpy as np

from optax_lrs._extras import require

STEPS_PER_CHUNK = 50
FULL_STEPS, QUICK_STEPS = 3000, 300
SEEDS = 16
LABEL_NOISE = 0.3  # the fraction of training labels replaced by a uniformly random class (maybe the same)
MOMENTUM = 0.5  # the tutorial's SGD momentum
BATCH_SIZE = 64
_NOISE_STREAM = 7919  # folded into the seed's key for the label noise, apart from the weights' keys


def schedules(total_steps: int) -> dict[str, object]:
    """The Keras CIFAR-10 tutorial's four (constant, time-based, step and exponential decay, all from 0.1
    over 50 epochs) plus cosine, warmup-cosine and one-cycle, scaled to `total_steps`."""
    import optax_lrs as o

    epoch = max(total_steps // 50, 1)  # the tutorial trains 50 epochs
    return {
        "constant": o.constant_schedule(0.1),
        "time-based": o.inverse_time_decay(0.1, 0.1 / 50, decay_steps=epoch),
        "step": o.step_decay(0.1, 0.5, 10 * epoch),
        "exponential": o.natural_exp_decay(0.1, 0.1, decay_steps=epoch),
        "cosine": o.cosine_decay_schedule(0.1, total_steps),
        "warmup-cosine": o.warmup_cosine_decay_schedule(0.0, 0.1, total_steps // 10, total_steps),
        "one-cycle": o.cosine_onecycle_schedule(total_steps, 0.2),
    }


def load_data(seed: int = 0):
    """scikit-learn's bundled 8x8 digits scaled to [0, 1], shuffled by `seed`: ((x, y) train, (x, y) test),
    a fifth of the images held out for the test."""
    datasets = require("sklearn.datasets", feature="the demo's data (the digits)")
    x, y = datasets.load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order].astype(np.int32)
    n_test = len(x) // 5
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test])


def init_params(seed: int = 0) -> dict:
    """The MLP's initial weights (64 -> 64 -> 10 on the 8x8 digits, He-scaled normals), drawn on the host
    by NumPy's generator from `seed`: the same for every run with the same seed, and nothing to compile."""
    import jax.numpy as jnp

    rng = np.random.default_rng([seed, 0])
    return {
        "w1": jnp.asarray(rng.standard_normal((64, 64)) * (2 / 64) ** 0.5, jnp.float32),
        "b1": jnp.zeros(64),
        "w2": jnp.asarray(rng.standard_normal((64, 10)) * (1 / 64) ** 0.5, jnp.float32),
        "b2": jnp.zeros(10),
    }


def logits(params, x):
    import jax

    return jax.nn.relu(x @ params["w1"] + params["b1"]) @ params["w2"] + params["b2"]


def loss_fn(params, xb, yb):
    """Mean softmax cross-entropy of the MLP on a batch."""
    import optax

    return optax.softmax_cross_entropy_with_integer_labels(logits(params, xb), yb).mean()


def minibatch(x, y, step, batch_size: int, seed=0):
    """The minibatch of `step` (traceable): the same order for every run with the same `seed`."""
    import jax

    idx = jax.random.choice(jax.random.fold_in(jax.random.PRNGKey(seed + 1), step), len(x), (batch_size,))
    return x[idx], y[idx]


def noisy_labels(y: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """`y` with each label replaced, with probability `fraction`, by a uniformly random class (one draw
    per `seed`, by NumPy on the host). A replaced label keeps its class with probability 1/10."""
    rng = np.random.default_rng([seed, 1])
    replace = rng.random(np.shape(y)) < fraction
    return np.where(replace, rng.integers(0, 10, np.shape(y)), y).astype(np.int32)


def make_trainer(
    scheds: list, data, batch_size: int, seed: int = 0, label_noise: float = 0.0, momentum: float = MOMENTUM
) -> tuple[Callable, Callable, Callable]:
    """`(initial_state, run, loss_fn)`: `initial_state(index, seed=seed, params=None, labels=None)` starts a
    run of schedule `index` (minibatch order from `seed`; weights and noisy labels are the integer seed's
    draws unless given, as under `jax.vmap`); `run(index, state, steps) -> (state, losses)` makes `steps`
    SGD steps with `momentum`. vmap both to train every run at once; every schedule sees the same
    weights, minibatches and labels for the same seed."""
    import jax
    import jax.numpy as jnp
    import optax

    import optax_lrs as o

    (x_train, y_train), _ = data
    x_train, y_train = jnp.asarray(x_train), jnp.asarray(y_train)

    def optimizer(index):
        return optax.sgd(learning_rate=o.select(scheds, index), momentum=momentum)

    def initial_state(index, seed=seed, params=None, labels=None):
        if params is None:
            params = init_params(seed)
        if labels is None:
            labels = noisy_labels(np.asarray(y_train), label_noise, seed) if label_noise else y_train
        seed = jnp.asarray(seed, jnp.int32)
        return params, optimizer(index).init(params), jnp.zeros((), jnp.int32), seed, jnp.asarray(labels)

    def run(index, state, steps):
        opt = optimizer(index)

        def one(carry, _):
            params, opt_state, step, seed, labels = carry
            xb, yb = minibatch(x_train, labels, step, batch_size, seed)
            loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, step + 1, seed, labels), loss

        return jax.lax.scan(one, state, None, length=steps)

    return initial_state, run, loss_fn


def accuracy(params, x, y):
    """The fraction of `x` that the MLP classifies as `y` (traceable)."""
    return (logits(params, x).argmax(-1) == y).mean()


def start_runs(initial_state: Callable, y_train, label_noise: float, index, seed):
    """The stacked initial states of the runs (`index[r]`, `seed[r]`), for `jax.vmap(run)`: each seed's
    weights and noisy labels drawn once on the host, then one compiled `initial_state` for all runs."""
    import jax

    seed = np.asarray(seed)
    drawn = {int(s): init_params(int(s)) for s in np.unique(seed)}
    params = jax.tree_util.tree_map(lambda *a: np.stack(a), *[drawn[int(s)] for s in seed])
    labels = {int(s): noisy_labels(np.asarray(y_train), label_noise, int(s)) for s in np.unique(seed)}
    labels = np.stack([labels[int(s)] for s in seed])
    return jax.jit(jax.vmap(initial_state))(np.asarray(index), seed, params, labels)


def summarize(names: list[str], per_run: dict[str, np.ndarray]) -> list[dict]:
    """One row per schedule from per-run results shaped (schedules, seeds): the mean of each, and the
    standard deviation (ddof 1) and the per-seed values of the test accuracy."""
    rows = []
    for i, name in enumerate(names):
        acc = np.asarray(per_run["test_accuracy"][i], np.float64)
        rows.append(
            {
                "schedule": name,
                "final_train_loss": float(np.mean(per_run["final_train_loss"][i])),
                "test_accuracy": float(acc.mean()),
                "test_accuracy_std": float(acc.std(ddof=1)),
                "test_loss": float(np.mean(per_run["test_loss"][i])),
                "seeds": acc.size,
                "test_accuracy_per_seed": " ".join(f"{a:.4f}" for a in acc),
            }
        )
    return rows


def describe(total_steps: int, batch_size: int, label_noise: float) -> str:
    """What the demo trains, for the figure's title."""
    return (
        f"MLP 64-64-10, SGD with momentum {MOMENTUM}, batch {batch_size}, {total_steps} steps, on "
        f"scikit-learn's digits with {label_noise:.0%} of the training labels replaced at random"
    )


class _Phases:
    """`with say("loading"):` prints what the demo does, then how long it took, on stderr (where the
    progress bar goes)."""

    def __init__(self, on: bool):
        self.on = on

    def __call__(self, what: str):
        self.what = what
        return self

    def __enter__(self):
        self.t0 = time.perf_counter()
        if self.on:
            print(f"  {self.what} ...", end="", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self.on:
            print(f" {time.perf_counter() - self.t0:.1f} s", file=sys.stderr, flush=True)


def run_demo(
    total_steps: int,
    out_dir: str,
    batch_size: int = BATCH_SIZE,
    progress: bool = True,
    seeds: int = SEEDS,
    label_noise: float = LABEL_NOISE,
) -> list[dict]:
    """Train every schedule from `seeds` seeds at once, then write `out_dir/results.csv` (one row per
    schedule: mean final train loss, test accuracy mean, std and per seed, mean test loss) and
    `out_dir/demo.png`; returns the rows. With `progress`, says on stderr what it does, with timings, and
    shows a progress bar. A missing optional package or a bad argument is refused before any work."""
    for module in ("matplotlib", "sklearn", "tqdm"):
        require(module, feature="the demo")
    from optax_lrs.cli import atomic_output, check_output

    check_output("run_demo: out_dir", out_dir, directory=True)  # not after minutes of training
    if not (isinstance(seeds, int) and seeds >= 2):
        raise ValueError(f"run_demo: seeds must be an integer >= 2 (for a spread), got {seeds!r}")
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f"run_demo: label_noise must be in [0, 1), got {label_noise!r}")
    say = _Phases(progress)
    named = schedules(total_steps)
    names, scheds = list(named), list(named.values())
    n_runs = len(names) * seeds
    if progress:
        print(
            f"optax_lrs demo: {len(names)} schedules x {seeds} seeds = {n_runs} runs of {total_steps} steps, "
            "trained at once under one jax.vmap",
            file=sys.stderr,
        )
    with say("importing scikit-learn's datasets, matplotlib and tqdm"):
        import jax
        import matplotlib.figure  # noqa: F401  (imported here to be timed with the rest)
        import sklearn.datasets  # noqa: F401
        from tqdm import tqdm
    with say("loading the digits"):
        data = load_data()
        (x_train, y_train), (x_test, y_test) = data
    if progress:
        print(
            f"    {len(x_train)} training images ({label_noise:.0%} of their labels replaced at random, "
            f"a new draw per seed), {len(x_test)} test images",
            file=sys.stderr,
        )
    initial_state, run, loss_fn = make_trainer(scheds, data, batch_size, label_noise=label_noise)
    index = np.repeat(np.arange(len(names)), seeds)  # run r is schedule r // seeds, seed r % seeds
    seed = np.tile(np.arange(seeds), len(names))
    chunks = [STEPS_PER_CHUNK] * (total_steps // STEPS_PER_CHUNK)
    chunks += [total_steps % STEPS_PER_CHUNK] if total_steps % STEPS_PER_CHUNK else []
    with say(f"compiling one program for all {n_runs} runs"):
        state = start_runs(initial_state, y_train, label_noise, index, seed)
        train = {
            n: jax.jit(jax.vmap(lambda i, s, n=n: run(i, s, n))).lower(index, state).compile()
            for n in sorted(set(chunks))
        }
    losses = []
    bar = tqdm(total=total_steps, desc="  training", unit="step", disable=not progress, file=sys.stderr)
    with bar:
        for n in chunks:
            state, chunk_losses = train[n](index, state)
            losses.append(np.asarray(chunk_losses))
            bar.update(n)
    losses = np.concatenate(losses, axis=1).reshape(len(names), seeds, total_steps)

    def evaluate(state):
        params, labels = state[0], state[4]
        return {
            "final_train_loss": loss_fn(params, x_train, labels),  # on the labels it was trained on
            "test_accuracy": accuracy(params, x_test, y_test),
            "test_loss": loss_fn(params, x_test, y_test),
        }

    with say("evaluating"):
        per_run = jax.jit(jax.vmap(evaluate))(state)
        per_run = {k: np.asarray(v).reshape(len(names), seeds) for k, v in per_run.items()}
        rows = summarize(names, per_run)
    with say(f"writing {os.path.join(out_dir, 'results.csv')} and demo.png"):
        with atomic_output(os.path.join(out_dir, "results.csv")) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        fig = figure(named, losses, per_run["test_accuracy"], describe(total_steps, batch_size, label_noise))
        with atomic_output(os.path.join(out_dir, "demo.png")) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
    return rows


def figure(named: dict, losses: np.ndarray, test_accuracy: np.ndarray, setting: str):
    """The demo's figure, on a `matplotlib.figure.Figure` of its own (not through pyplot, whose backend
    stays as the caller set it): the mean training loss, the learning rate and the test error of each
    schedule, one colour per schedule in every panel.

    `losses` is shaped (schedules, seeds, steps) and `test_accuracy` (schedules, seeds), in the order of
    `named`; `setting` says what was trained (`describe`).
    """
    from matplotlib.figure import Figure

    n_sched, n_seeds, total_steps = losses.shape
    steps = np.arange(total_steps)
    colours = [f"C{i}" for i in range(n_sched)]
    fig = Figure(figsize=(16, 5.2))
    ax_loss, ax_lr, ax_err = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.15, 1, 1]})
    window = max(total_steps // 50, 1)
    kernel = np.ones(window) / window
    for (name, sched), curve, colour in zip(named.items(), losses.mean(axis=1), colours):
        ax_loss.plot(steps[window - 1 :], np.convolve(curve, kernel, mode="valid"), color=colour, label=name)
        ax_lr.plot(steps, np.asarray(sched(steps)), color=colour, label=name)
    ax_loss.set(
        title=f"training loss (mean of {n_seeds} seeds, moving average of {window} steps)",
        xlabel="step",
        ylabel="cross-entropy on the (noisy) training batch",
    )
    ax_loss.legend(fontsize=8, loc="upper right", title="schedule", title_fontsize=8)
    ax_loss.text(
        0.03,
        0.03,
        "on noisy labels, a lower training loss late in\ntraining means more of the noise learned by heart",
        transform=ax_loss.transAxes,
        fontsize=8,
        style="italic",
        color="0.35",
    )
    ax_lr.set(title="learning rate", xlabel="step", ylabel="learning rate")

    error = 100 * (1 - np.asarray(test_accuracy, np.float64))
    mean, spread = error.mean(axis=1), error.std(axis=1, ddof=1)
    y = np.arange(n_sched)[::-1]  # the first schedule on top, as in the legend
    ax_err.barh(y, mean, xerr=spread, color=colours, alpha=0.85, capsize=3)
    for yi, per_seed in zip(y, error):
        ax_err.plot(per_seed, np.full(n_seeds, yi), "o", ms=3, mfc="white", mec="k", mew=0.6)
    right = float(max(error.max(), (mean + spread).max()) * 1.45)
    for yi, m, s in zip(y, mean, spread):
        ax_err.text(right * 0.98, yi, f"{m:.1f} ± {s:.1f}%", va="center", ha="right", fontsize=8)
    ax_err.set_yticks(y, list(named))
    ax_err.set(
        title=f"test error (bar: mean ± std over {n_seeds} seeds; dots: each seed)",
        xlabel="test error on the clean test labels, % (lower is better)",
        xlim=(0, right),
    )
    for ax in (ax_loss, ax_lr, ax_err):
        ax.title.set_fontsize(10)
    fig.suptitle(
        f"optax_lrs demo: {n_sched} schedules x {n_seeds} seeds = {n_sched * n_seeds} runs trained at once "
        f"under one jax.vmap\n{setting}",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def format_table(rows: list[dict]) -> str:
    """The results as a text table: mean final train loss, and test accuracy mean ± std over the seeds."""
    accuracy_head = f"test accuracy (mean ± std, {rows[0]['seeds']} seeds)"
    lines = [f"{'schedule':<15}{'final train loss':>18}{accuracy_head:>40}"]
    for r in rows:
        acc = f"{r['test_accuracy']:.4f} ± {r['test_accuracy_std']:.4f}"
        lines.append(f"{r['schedule']:<15}{r['final_train_loss']:>18.4f}{acc:>40}")
    return "\n".join(lines)


def main(quick: bool = False, out_dir: str = "demo_output") -> int:
    """`optax-lrs demo [--quick] [--out DIR]`: run the demo, print the table, say what was written."""
    t0 = time.perf_counter()
    rows = run_demo(QUICK_STEPS if quick else FULL_STEPS, out_dir)
    print(format_table(rows))
    print(f"wrote {out_dir}/demo.png and {out_dir}/results.csv ({time.perf_counter() - t0:.0f} s in all)")
    return 0
