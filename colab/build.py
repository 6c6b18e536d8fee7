"""Writes the Colab notebooks of this folder (without outputs): `python colab/build.py`.

The notebooks are plain data; keeping their source here makes them reviewable and reproducible.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = "optax-lrs/optax_lrs"  # the GitHub repository the badges and the install cell point to
HERE = Path(__file__).parent


def badge(name: str) -> str:
    url = f"https://colab.research.google.com/github/{REPO}/blob/main/colab/{name}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


INSTALL = f"""# In Colab, install optax_lrs (and the reference libraries this notebook compares with).
# Run locally from a checkout, it uses the installed package: `pip install -e ".[test]"`.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "optax_lrs[test] @ git+https://github.com/{REPO}"])"""

GALLERY = [
    new_markdown_cell("""# Every schedule of optax_lrs, plotted, with its formula

Each plot is `optax_lrs.plot(schedule, steps)`; each formula is the one in the schedule's docstring
(the same text `optax-lrs show NAME` prints). Composition (`join_schedules`, `warmup`, `repeat`, `+ - * /`...)
comes at the end."""),
    new_code_cell(INSTALL),
    new_code_cell("""import inspect

import matplotlib.pyplot as plt

import optax_lrs as lrs

N = 1000
cos = lrs.cosine_decay_schedule(0.1, N)
EXAMPLES = {
    "constant_schedule": lrs.constant_schedule(0.05),
    "step_decay": lrs.step_decay(0.1, 0.5, 200),
    "multistep_decay": lrs.multistep_decay(0.1, [300, 600, 800], 0.3),
    "piecewise_constant_schedule": lrs.piecewise_constant_schedule(0.1, {250: 0.5, 500: 0.4, 750: 0.1}),
    "exponential_decay": lrs.exponential_decay(0.1, 100, 0.7, staircase=False),
    "natural_exp_decay": lrs.natural_exp_decay(0.1, 0.3, 100),
    "inverse_time_decay": lrs.inverse_time_decay(0.1, 1.0, 100),
    "polynomial_schedule": lrs.polynomial_schedule(0.1, 0.001, 2.0, 800, 100),
    "linear_schedule": lrs.linear_schedule(0.1, 0.0, N),
    "polynomial_decay": lrs.polynomial_decay(0.1, 300, 0.001, 2.0, cycle=True),
    "k_decay": lrs.k_decay(0.1, N, k=3.0, power=2.0),
    "exponential_decay_with_burnin": lrs.exponential_decay_with_burnin(0.1, 100, 0.8, 0.01, 150),
    "transformer_schedule": lrs.transformer_schedule(512, 200),
    "cosine_decay_schedule": cos,
    "warmup_cosine_decay_schedule": lrs.warmup_cosine_decay_schedule(0.0, 0.1, 100, N, 0.001),
    "warmup_hold_cosine_decay": lrs.warmup_hold_cosine_decay(0.1, N, warmup_steps=100, hold_steps=200),
    "cosine_decay_restarts": lrs.cosine_decay_restarts(0.1, 150, t_mul=2.0, m_mul=0.8),
    "cosine_annealing_warm_restarts": lrs.cosine_annealing_warm_restarts(0.1, 100, period_mult=1.5),
    "sgdr_schedule": lrs.sgdr_schedule([dict(init_value=0.0, peak_value=0.1, warmup_steps=50,
                                             decay_steps=250, end_value=0.001)] * 4),
    "warmup": lrs.warmup(cos, 200, mode="cosine"),
    "warmup_constant_schedule": lrs.warmup_constant_schedule(0.0, 0.1, 200),
    "warmup_exponential_decay_schedule": lrs.warmup_exponential_decay_schedule(0.0, 0.1, 100, 100, 0.7),
    "piecewise_interpolate_schedule": lrs.piecewise_interpolate_schedule("cosine", 0.1, {300: 0.2, 700: 0.1}),
    "linear_onecycle_schedule": lrs.linear_onecycle_schedule(N, 0.1),
    "cosine_onecycle_schedule": lrs.cosine_onecycle_schedule(N, 0.1),
    "one_cycle_schedule": lrs.one_cycle_schedule(0.1, N, three_phase=True),
    "cyclic_schedule": lrs.cyclic_schedule(0.01, 0.1, 100, mode="triangular2"),
    "wsd_schedule": lrs.wsd_schedule(0.1, 100, 600, 300),
    "inverse_sqrt_schedule": lrs.inverse_sqrt_schedule(0.1, 100),
    "tanh_decay": lrs.tanh_decay(0.1, N),
    "tri_stage_schedule": lrs.tri_stage_schedule(0.1, 100, 400, 500),
    "join_schedules": lrs.join_schedules([lrs.linear_schedule(0.0, 0.1, 100), cos], [100]),
    "binary": 0.5 * cos + 0.5 * lrs.step_decay(0.1, 0.5, 250),
    "clip": lrs.clip(lrs.exponential_decay(0.1, 100, 0.5), min_value=0.01),
    "shift": lrs.shift(cos, 300),
    "per_epoch": lrs.per_epoch(lrs.step_decay(0.1, 0.5, 2), 100),
    "staircase": lrs.staircase(cos, 100),
    "repeat": lrs.repeat(cos * 1.0, 250, period_mult=1.0, decay=0.7),
    "select": lrs.select([cos, lrs.step_decay(0.1, 0.5, 200)], 1),
    "from_fn": lrs.from_fn(lambda t, lr: lr / (1.0 + 0.01 * t), lr=0.1),
}
missing = set(lrs.available()) - set(EXAMPLES)
assert not missing, f"no example for {missing}"
len(EXAMPLES)"""),
    new_code_cell("""names = list(EXAMPLES)
cols = 4
fig, axes = plt.subplots(len(names) // cols + 1, cols, figsize=(16, 3 * (len(names) // cols + 1)))
for ax, name in zip(axes.flat, names):
    lrs.plot({name: EXAMPLES[name]}, N, ax=ax)
    ax.set_title(name, fontsize=10)
    ax.legend().remove()
for ax in list(axes.flat)[len(names):]:
    ax.axis("off")
fig.tight_layout()"""),
    new_markdown_cell("## The formulas, from each docstring"),
    new_code_cell('''def formula(name):
    """The docstring's paragraphs between its summary line and `Args:`."""
    doc = inspect.getdoc(getattr(lrs, name))
    body = doc.split("\\n\\n", 1)[1] if "\\n\\n" in doc else ""
    return doc.splitlines()[0], body.split("Args:")[0].strip()


for name in names:
    summary, math = formula(name)
    print(f"{name}: {summary}\\n    " + math.replace("\\n", "\\n    ") + "\\n")'''),
]

TRAINING = [
    new_markdown_cell("""# Training under `jax.vmap` over schedules and hyperparameter grids

Two experiments on scikit-learn's bundled digits (8x8 images, 10 classes), each one compiled program:

1. the comparison of seed 002 (constant, time-based, step, exponential decay, plus cosine, warmup-cosine and
   one-cycle), the same run as `optax-lrs demo`;
2. a grid of warmup lengths x peak learning rates of `warmup_cosine_decay_schedule`: a grid of
   hyperparameters is one schedule whose leaves are batched, so `jax.vmap` trains every member at once."""),
    new_code_cell(INSTALL),
    new_code_cell("""import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import optax_lrs as lrs
from optax_lrs import demo

STEPS = 400
(x_train, y_train), (x_test, y_test) = demo.load_data()
x_train.shape, x_test.shape"""),
    new_markdown_cell("## 1. Seed 002's comparison: seven schedules, one `vmap`"),
    new_code_cell("""rows = demo.run_demo(STEPS, "demo_output", progress=False)
for r in rows:
    print(f"{r['schedule']:<15} final loss {r['final_train_loss']:.4f}   test accuracy {r['test_accuracy']:.3f}")"""),
    new_code_cell("""from IPython.display import Image

Image("demo_output/demo.png")"""),
    new_markdown_cell("## 2. A grid: warmup length x peak learning rate"),
    new_code_cell('''grid = lrs.grid(lrs.warmup_cosine_decay_schedule, init_value=0.0, peak_value=[3e-3, 1e-2, 3e-2, 1e-1],
                warmup_steps=[0, 20, 80], decay_steps=STEPS, end_value=1e-4)


def init_params(key):
    k1, k2 = jax.random.split(key)
    return {"w1": jax.random.normal(k1, (64, 64)) / 8.0, "b1": jnp.zeros(64),
            "w2": jax.random.normal(k2, (64, 10)) / 8.0, "b2": jnp.zeros(10)}


def logits(p, x):
    return jax.nn.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]


def loss_fn(p, x, y):
    return optax.softmax_cross_entropy_with_integer_labels(logits(p, x), y).mean()


def train(schedule):
    """Full-batch SGD with momentum under one schedule; returns the losses and the test accuracy."""
    opt = optax.sgd(schedule, momentum=0.9)
    params = init_params(jax.random.PRNGKey(0))

    def step(carry, _):
        params, state = carry
        loss, grads = jax.value_and_grad(loss_fn)(params, x_train, y_train)
        updates, state = opt.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), loss

    (params, _), losses = jax.lax.scan(step, (params, opt.init(params)), None, length=STEPS)
    accuracy = (logits(params, x_test).argmax(-1) == y_test).mean()
    return losses, accuracy


t0 = time.perf_counter()
losses, accuracy = jax.jit(jax.vmap(train))(grid)
print(f"{losses.shape[0]} runs of {STEPS} steps in {time.perf_counter() - t0:.1f} s (compilation included)")'''),
    new_code_cell("""# one run alone gives the same losses as its row of the vmapped grid
member = jax.tree_util.tree_map(lambda x: x[5], grid)
alone, _ = jax.jit(train)(member)
np.testing.assert_allclose(alone, losses[5], rtol=1e-4, atol=1e-6)
print("member 5:", member)"""),
    new_code_cell("""peaks = np.asarray(grid.peak_value).reshape(4, 3)[:, 0]
warmups = np.asarray(grid.warmup_steps).reshape(4, 3)[0]
acc = np.asarray(accuracy).reshape(4, 3)
fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.5))
for i in range(losses.shape[0]):
    a.plot(losses[i], label=f"peak {float(grid.peak_value[i]):g}, warmup {int(grid.warmup_steps[i])}", lw=1)
a.set_yscale("log"); a.set_xlabel("step"); a.set_ylabel("training loss"); a.legend(fontsize=7, ncol=2)
im = b.imshow(acc, cmap="viridis")
b.set_xticks(range(3), [str(w) for w in warmups]); b.set_yticks(range(4), [f"{p:g}" for p in peaks])
b.set_xlabel("warmup_steps"); b.set_ylabel("peak_value"); b.set_title("test accuracy")
for (i, j), v in np.ndenumerate(acc):
    b.text(j, i, f"{v:.3f}", ha="center", va="center", color="w")
fig.colorbar(im, ax=b)
fig.tight_layout()"""),
]

MIGRATION = [
    new_markdown_cell("""# Migrating from Keras, PyTorch, MXNet and optax

Each section puts the other library's schedule code next to ours and shows the numbers equal
(`np.testing.assert_allclose` at float32 rounding). Step conventions: Keras and optax count optimizer
steps from 0; PyTorch's `scheduler.step()` is called after each epoch/step, so its value after `k` calls is
ours at step `k`; MXNet's `FactorScheduler` is evaluated at `num_update` (counted from 1 in its optimizers)."""),
    new_code_cell(INSTALL),
    new_code_cell("""import os

os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import optax

import optax_lrs as lrs

steps = np.arange(0, 1000)


def same(ours, theirs, rtol=2e-6, atol=1e-9):
    np.testing.assert_allclose(np.asarray(ours, np.float64), np.asarray(theirs, np.float64), rtol=rtol, atol=atol)
    print("equal at", len(np.asarray(theirs)), "steps; max |difference| =",
          float(np.max(np.abs(np.asarray(ours, np.float64) - np.asarray(theirs, np.float64)))))"""),
    new_markdown_cell("## optax: the same names and parameters (a drop-in)"),
    new_code_cell("""# optax
theirs = optax.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 1000, end_value=1e-5)
# optax_lrs: same call; also vmappable over every hyperparameter, a pytree, printable
ours = lrs.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 1000, end_value=1e-5)
same(ours(steps), [theirs(int(t)) for t in steps])
print(ours)"""),
    new_markdown_cell("## Keras 3"),
    new_code_cell("""try:
    import keras
except ImportError:
    keras = None
    print("keras is not installed: pip install keras")

if keras is not None:
    # Keras
    k_cos = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=500, alpha=0.01, warmup_target=None)
    k_exp = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5, staircase=True)
    k_pw = keras.optimizers.schedules.PiecewiseConstantDecay([200, 600], [0.1, 0.01, 0.001])
    # optax_lrs
    same(lrs.cosine_decay_schedule(0.1, 500, alpha=0.01)(steps), [float(k_cos(t)) for t in steps])
    same(lrs.exponential_decay(0.1, 100, 0.5, staircase=True)(steps), [float(k_exp(t)) for t in steps])
    # Keras's PiecewiseConstantDecay switches *after* a boundary (step > b): ours switches at b, so shift by 1
    same(lrs.piecewise_constant_schedule(0.1, {201: 0.1, 601: 0.1})(steps), [float(k_pw(t)) for t in steps])"""),
    new_markdown_cell("## PyTorch"),
    new_code_cell("""try:
    import torch
except ImportError:
    torch = None
    print("torch is not installed: pip install torch")


def torch_values(make, n, lr):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


if torch is not None:
    S = torch.optim.lr_scheduler
    # PyTorch                                                   # optax_lrs
    same(torch_values(lambda o: S.StepLR(o, 30, gamma=0.5), 200, 0.1),
         lrs.step_decay(0.1, 0.5, 30)(np.arange(200)))
    same(torch_values(lambda o: S.MultiStepLR(o, [50, 120], gamma=0.1), 200, 0.1),
         lrs.multistep_decay(0.1, [50, 120], 0.1)(np.arange(200)))
    same(torch_values(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=20, T_mult=2, eta_min=0.001), 300, 0.1),
         lrs.cosine_annealing_warm_restarts(0.1, 20, period_mult=2, min_value=0.001)(np.arange(300)))
    same(torch_values(lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=300), 300, 0.1),
         lrs.one_cycle_schedule(0.1, 300)(np.arange(300)), rtol=1e-5)"""),
    new_markdown_cell("""## MXNet

MXNet 1.x needs `numpy<1.24` and does not install beside current JAX, so its code is shown and its
numbers come from its documented formulas: `FactorScheduler(step, factor, stop_factor_lr, base_lr)` gives
`max(base_lr * factor ** floor(num_update / step), stop_factor_lr)`, and `MultiFactorScheduler(step=[...],
factor)` multiplies by `factor` once `num_update` passes each entry."""),
    new_code_cell("""# MXNet (not run here):
#   sched = mx.lr_scheduler.FactorScheduler(step=100, factor=0.9, stop_factor_lr=1e-3, base_lr=0.1)
#   lr = sched(num_update)
mxnet_factor = np.maximum(0.1 * 0.9 ** np.floor(steps / 100), 1e-3)  # its documented formula
# optax_lrs
same(lrs.step_decay(0.1, 0.9, 100, end_value=1e-3)(steps), mxnet_factor)
# MXNet: MultiFactorScheduler(step=[300, 600], factor=0.5, base_lr=0.1) decays once num_update > each step
mxnet_multi = 0.1 * 0.5 ** ((steps > 300).astype(int) + (steps > 600))
same(lrs.multistep_decay(0.1, [301, 601], 0.5)(steps), mxnet_multi)"""),
]


def write(name: str, cells: list) -> None:
    nb = new_notebook(cells=[new_markdown_cell(badge(name)), *cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["colab"] = {"provenance": []}
    nbformat.write(nb, HERE / name)


def main() -> None:
    write("01_gallery.ipynb", GALLERY)
    write("02_training_under_vmap.ipynb", TRAINING)
    write("03_migrating.ipynb", MIGRATION)


if __name__ == "__main__":
    main()
