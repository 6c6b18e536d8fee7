"""The demo: seed 002's comparison of schedules, re-run on scikit-learn's bundled digits.

One small MLP is trained with SGD + momentum under every schedule at once: the schedules are
different families, so the batch runs over `select`'s index under `jax.vmap`, one compiled program.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable

import numpy as np

STEPS_PER_CHUNK = 50


def schedules(total_steps: int) -> dict[str, object]:
    """Seed 002's four (constant, time-based, step, exponential) plus cosine, warmup-cosine and
    one-cycle, scaled to `total_steps`."""
    import optax_lrs as o

    epoch = max(total_steps // 50, 1)  # seed 002 trains 50 epochs
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
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order].astype(np.int32)
    n_test = len(x) // 5
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test])


def init_params(seed: int = 0) -> dict:
    """The MLP's initial weights (64 -> 64 -> 10 on the 8x8 digits), the same for every run."""
    import jax
    import jax.numpy as jnp

    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    return {
        "w1": jax.random.normal(k1, (64, 64)) * (2 / 64) ** 0.5,
        "b1": jnp.zeros(64),
        "w2": jax.random.normal(k2, (64, 10)) * (1 / 64) ** 0.5,
        "b2": jnp.zeros(10),
    }


def loss_fn(params, xb, yb):
    """Mean softmax cross-entropy of the MLP on a batch."""
    import jax
    import optax

    h = jax.nn.relu(xb @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()


def minibatch(x, y, step, batch_size: int, seed: int = 0):
    """The minibatch of `step` (traceable): the same order for every run with the same `seed`."""
    import jax

    idx = jax.random.choice(jax.random.fold_in(jax.random.PRNGKey(seed + 1), step), len(x), (batch_size,))
    return x[idx], y[idx]


def make_trainer(scheds: list, data, batch_size: int, seed: int = 0) -> Callable:
    """`run(index, state, steps) -> (state, losses)`: `steps` SGD steps of the MLP under schedule
    `index`; vmap it over the index to train every schedule at once."""
    import jax
    import jax.numpy as jnp
    import optax

    import optax_lrs as o

    (x_train, y_train), _ = data
    x_train, y_train = jnp.asarray(x_train), jnp.asarray(y_train)

    def optimizer(index):
        return optax.sgd(learning_rate=o.select(scheds, index), momentum=0.5)

    def initial_state(index):
        params = init_params(seed)  # every schedule starts from the same weights
        return params, optimizer(index).init(params), jnp.zeros((), jnp.int32)

    def run(index, state, steps):
        opt = optimizer(index)

        def one(carry, _):
            params, opt_state, step = carry
            # the same minibatch order for every schedule
            xb, yb = minibatch(x_train, y_train, step, batch_size, seed)
            loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, step + 1), loss

        return jax.lax.scan(one, state, None, length=steps)

    return initial_state, run, loss_fn


def accuracy(params, x, y) -> float:
    import jax

    h = jax.nn.relu(x @ params["w1"] + params["b1"])
    return float(((h @ params["w2"] + params["b2"]).argmax(-1) == y).mean())


def run_demo(total_steps: int, out_dir: str, batch_size: int = 64, progress: bool = True) -> list[dict]:
    """Train, then write `out_dir/results.csv` and `out_dir/demo.png`; a bad `out_dir` is refused first."""
    import jax
    import jax.numpy as jnp
    from tqdm import tqdm

    from optax_lrs.cli import atomic_output, check_output

    check_output("run_demo: out_dir", out_dir, directory=True)  # not after minutes of training
    named = schedules(total_steps)
    names, scheds = list(named), list(named.values())
    data = load_data()
    initial_state, run, loss_fn = make_trainer(scheds, data, batch_size)
    indices = jnp.arange(len(scheds))
    state = jax.vmap(initial_state)(indices)
    chunk = jax.jit(jax.vmap(run, in_axes=(0, 0, None)), static_argnums=2)
    losses = []
    with tqdm(
        total=total_steps, desc="training 7 schedules at once", unit="step", disable=not progress
    ) as bar:
        done = 0
        while done < total_steps:
            n = min(STEPS_PER_CHUNK, total_steps - done)
            state, chunk_losses = chunk(indices, state, n)
            losses.append(np.asarray(chunk_losses))
            done += n
            bar.update(n)
    losses = np.concatenate(losses, axis=1)
    params = state[0]
    (x_train, y_train), (x_test, y_test) = data
    rows = []
    for i, name in enumerate(names):
        p = jax.tree_util.tree_map(lambda a, i=i: a[i], params)
        rows.append(
            {
                "schedule": name,
                "final_train_loss": float(loss_fn(p, x_train, y_train)),
                "test_accuracy": accuracy(p, x_test, y_test),
            }
        )
    with atomic_output(os.path.join(out_dir, "results.csv")) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with atomic_output(os.path.join(out_dir, "demo.png")) as tmp:
        _plot(named, losses, rows, total_steps, tmp)
    return rows


def _plot(named, losses, rows, total_steps, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(total_steps)
    fig, (ax_loss, ax_lr, ax_acc) = plt.subplots(1, 3, figsize=(16, 4.5))
    window = max(total_steps // 50, 1)
    kernel = np.ones(window) / window
    for (name, sched), curve in zip(named.items(), losses):
        ax_loss.plot(steps[window - 1 :], np.convolve(curve, kernel, mode="valid"), label=name)
        ax_lr.plot(steps, np.asarray(sched(steps)), label=name)
    ax_loss.set(title="training loss (moving average)", xlabel="step", yscale="log")
    ax_lr.set(title="learning rate", xlabel="step")
    ax_lr.legend(fontsize=8)
    ax_acc.barh([r["schedule"] for r in rows], [r["test_accuracy"] for r in rows], color="tab:green")
    lo = min(r["test_accuracy"] for r in rows)
    ax_acc.set(title="test accuracy (digits)", xlim=(max(0.0, lo - 0.05), 1.0))
    for i, r in enumerate(rows):
        ax_acc.text(r["test_accuracy"], i, f" {r['test_accuracy']:.3f}", va="center", fontsize=8)
    fig.suptitle("optax_lrs demo: 7 schedules trained at once under jax.vmap (sklearn digits, MLP, SGD)")
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)
