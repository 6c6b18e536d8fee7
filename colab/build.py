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
    "one_cycle_momentum": lrs.one_cycle_momentum(N, three_phase=True),
    "cyclic_momentum": lrs.cyclic_momentum(100, mode="triangular2"),
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
    "time_warp": lrs.time_warp(cos, 1000, 2.5),
    "cumulative_product": 0.1 * lrs.cumulative_product(lrs.from_fn(lambda t: 1.0 - 0.3 / (t + 50.0)), 1000),
    "select": lrs.select([cos, lrs.step_decay(0.1, 0.5, 200)], 1),
    "from_fn": lrs.from_fn(lambda t, lr: lr / (1.0 + 0.01 * t), lr=0.1),
    "ema_warmup": lrs.ema_warmup(gamma=1.0, power=0.75, max_decay=0.99),
    "swa_schedule": lrs.swa_schedule(cos, swa_start=500, swa_value=0.03, anneal_steps=150),
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

Two experiments on scikit-learn's bundled digits (8x8 images, 10 classes), each trained by one compiled
program:

1. the comparison of the Keras CIFAR-10 tutorial (constant, time-based, step and exponential decay, all from
   0.1), plus cosine, warmup-cosine and one-cycle: `demo.run_demo`, the comparison that `optax-lrs demo`
   runs, here for `STEPS` = 400 steps (the command runs 3000). A small MLP (64 -> 64 -> 10) is trained by
   minibatch SGD (momentum 0.5, batch 64) on training labels of which 30% are replaced by random classes
   (a new draw per seed), from 16 seeds per schedule: 7 x 16 = 112 runs under one `jax.vmap`. Each
   schedule is scored by its error on the clean test labels, mean ± std over the seeds;
2. a grid of warmup lengths x peak learning rates of `warmup_cosine_decay_schedule` (full-batch SGD with
   momentum 0.9 on the clean labels, one initialization): a grid of hyperparameters is one schedule whose
   leaves are batched, so `jax.vmap` trains every member at once."""),
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
    new_markdown_cell("""## 1. The Keras CIFAR-10 tutorial's comparison, on noisy labels: 7 schedules x 16 seeds, one `vmap`

`run_demo` writes `demo_output/results.csv` and `demo_output/demo.png` and returns one row per schedule. The
cell below prints each schedule's final training loss (on the noisy labels it was trained on) and its test
accuracy, both means over the 16 seeds; the figure adds the spread: test error as mean ± std over the seeds
(bars) and each seed's (dots)."""),
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
    new_markdown_cell("""# Migrating from Keras, PyTorch, timm, Hugging Face, MXNet and optax

`optax_lrs.compat` has every schedule of these libraries under its own name, with its parameter names and
defaults: `from optax_lrs.compat import torch as ct` then `ct.StepLR(0.1, step_size=7, gamma=0.31)`. Each
returns an ordinary optax_lrs `Schedule` (jit, vmap, `to_config` work as for any other), built from the core
schedules and their composition. Each section below runs the library's own code next to ours and
**asserts** that the numbers are equal, over a range of steps that contains every boundary (warmup ends,
drops, restarts, the end of the decay) and, where the library can be asked directly, steps far past the end.

There is no optimizer to read the base rate from, so it is the first argument (`lr`, `learning_rate`).
Our step is optax's update count, 0 on the first update. The step translations:

| library | what it does | so ours at step `k` is |
|---|---|---|
| Keras 3, optax | the optimizer calls `schedule(t)` with its update count, 0 on the first update | theirs at `k` |
| PyTorch | `optimizer.step(); scheduler.step()`, once per update or once per epoch | the lr the optimizer holds before update `k`; epoch schedulers take `steps_per_epoch=n` |
| timm | `step_update(num_updates)` after each update (`t_in_epochs=False`), or `step(epoch + 1)` after each epoch | the lr before update `k`; `steps_per_epoch=n` for per-epoch schedulers |
| Hugging Face | a `LambdaLR` the `Trainer` steps after each update | `learning_rate · lr_lambda(k)` |
| MXNet | its optimizer passes `num_update` = 1 on the first update | its lr at `num_update = k + 1` |

**Tolerance.** Ours computes in float32 (unit roundoff 6e-8); torch, timm, transformers and MXNet compute
in float64 Python floats, Keras in float32. Every comparison is
`np.testing.assert_allclose(ours, theirs, rtol=5e-6, atol=2e-7 * lr)`: a few float32 roundings, amplified
by the steepest curves (tanh tails, a polynomial near its end), stay below 5e-6 relative, and values near
zero that are differences of numbers the size of the rate get 2e-7 of it absolute. A translation one step
off fails it: at a drop, a warmup's end or a restart the values differ by the jump itself (the MXNet section
shows one)."""),
    new_code_cell(INSTALL),
    new_code_cell("""import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is imported
import importlib.util
import json
import math
import sys
import types
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch

import optax_lrs as lrs

RTOL = 5e-6  # float32 rounding, see above
ATOL = 2e-7  # times the peak learning rate


def every_step(upto, far=()):
    # steps 0 .. upto - 1 (every boundary of the cases below lies in there), then a few far steps
    return np.array([*range(upto), *far], np.int64)


def same(name, ours, steps, theirs, lr):
    # ours (an optax_lrs Schedule) at `steps` equals `theirs` (the library's numbers) to float32 rounding
    # (the steps are padded to one length, so that the arrays of every case share compiled operations)
    padded = np.pad(np.asarray(steps), (0, -len(steps) % 2048), mode="edge")
    got = np.asarray(ours(jnp.asarray(padded, jnp.int32)), np.float64)[: len(steps)]
    want = np.asarray(theirs, np.float64)
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL * lr, err_msg=name)
    worst = np.max(np.abs(got - want)) / lr
    span = f"{len(want):4d} steps ({steps[0]}..{steps[-1]})"
    print(f"{name:<44} equal at {span}, max |ours - theirs| / lr = {worst:.1e}")"""),
    new_markdown_cell("""## optax: the same names and parameters

Every optax schedule is in optax_lrs under its name, with optax's parameters and values (a drop-in), as a
pytree that vmaps over its hyperparameters."""),
    new_code_cell("""steps = every_step(1200, far=(10**5, 2**31 - 1))
CASES = [
    # optax                                                     optax_lrs: the same call
    (optax.warmup_cosine_decay_schedule(0.0, 0.0731, 97, 1013, end_value=1e-4),
     lrs.warmup_cosine_decay_schedule(0.0, 0.0731, 97, 1013, end_value=1e-4)),
    (optax.exponential_decay(0.0731, 37, 0.61, transition_begin=53, staircase=True, end_value=2e-3),
     lrs.exponential_decay(0.0731, 37, 0.61, transition_begin=53, staircase=True, end_value=2e-3)),
    (optax.piecewise_constant_schedule(0.0731, {113: 0.3, 517: 0.47}),
     lrs.piecewise_constant_schedule(0.0731, {113: 0.3, 517: 0.47})),
    (optax.polynomial_schedule(0.0731, 1e-4, 1.7, 811, transition_begin=29),
     lrs.polynomial_schedule(0.0731, 1e-4, 1.7, 811, transition_begin=29)),
    (optax.cosine_onecycle_schedule(1013, 0.0731, pct_start=0.27),
     lrs.cosine_onecycle_schedule(1013, 0.0731, pct_start=0.27)),
]
for theirs, ours in CASES:
    same(f"optax.{ours.name}", ours, steps, jax.vmap(theirs)(jnp.asarray(steps, jnp.int32)), lr=0.0731)
print(CASES[0][1])"""),
    new_markdown_cell("""## Keras 3 (`keras.optimizers.schedules`, `LearningRateScheduler`)

The same class names and arguments; `name` is accepted and ignored. Keras's optimizer calls its schedule
inside a jitted function with the update count, so Keras is evaluated here as `jax.jit(jax.vmap(schedule))`.
The `LearningRateScheduler` callback sets the optimizer's rate at the start of every epoch; ours takes
`steps_per_epoch` (and, for any Python function, `num_epochs`, over which its values are tabulated)."""),
    new_code_cell("""import keras

from optax_lrs.compat import keras as ck

K = keras.optimizers.schedules
steps = every_step(400, far=(10**4, 10**5, 10**6))
CASES = [
    # Keras                                                          optax_lrs: the same call
    (K.CosineDecay(0.0, 113, alpha=0.07, warmup_target=0.0731, warmup_steps=17),
     ck.CosineDecay(0.0, 113, alpha=0.07, warmup_target=0.0731, warmup_steps=17)),
    (K.CosineDecayRestarts(0.0731, first_decay_steps=37, t_mul=1.5, m_mul=0.7, alpha=0.01),
     ck.CosineDecayRestarts(0.0731, first_decay_steps=37, t_mul=1.5, m_mul=0.7, alpha=0.01)),
    (K.ExponentialDecay(0.0731, decay_steps=23, decay_rate=0.61, staircase=True),
     ck.ExponentialDecay(0.0731, decay_steps=23, decay_rate=0.61, staircase=True)),
    (K.InverseTimeDecay(0.0731, decay_steps=19, decay_rate=0.37),
     ck.InverseTimeDecay(0.0731, decay_steps=19, decay_rate=0.37)),
    (K.PiecewiseConstantDecay([29, 101], [0.0731, 0.0213, 0.0047]),  # switches after a boundary
     ck.PiecewiseConstantDecay([29, 101], [0.0731, 0.0213, 0.0047])),
    (K.PolynomialDecay(0.0731, decay_steps=53, end_learning_rate=0.0011, power=1.7, cycle=True),
     ck.PolynomialDecay(0.0731, decay_steps=53, end_learning_rate=0.0011, power=1.7, cycle=True)),
]
for theirs, ours in CASES:
    keras_values = jax.jit(jax.vmap(theirs))(jnp.asarray(steps, jnp.int32))
    same(f"keras {type(theirs).__name__}", ours, steps, keras_values, lr=0.0731)


# The LearningRateScheduler callback with a plain Python epoch function (math, not jax.numpy): a step decay
def step_decay(epoch):
    return 0.0731 * math.pow(0.53, math.floor((1 + epoch) / 4.0))


SPE, EPOCHS = 13, 20  # updates per epoch, epochs
callback = keras.callbacks.LearningRateScheduler(step_decay)
keras_opt = keras.optimizers.SGD(0.0731)
callback.set_model(types.SimpleNamespace(optimizer=keras_opt))  # all the callback uses of its model
keras_values = []
for epoch in range(EPOCHS):
    callback.on_epoch_begin(epoch)
    keras_values += [float(keras_opt.learning_rate)] * SPE  # the rate of each update of the epoch
ours = ck.LearningRateScheduler(step_decay, steps_per_epoch=SPE, num_epochs=EPOCHS)
same("keras LearningRateScheduler", ours, np.arange(SPE * EPOCHS), keras_values, lr=0.0731)"""),
    new_markdown_cell("""## PyTorch (`torch.optim.lr_scheduler`)

Torch's scheduler is run as training runs it: the rate is read from the optimizer before each update,
then `optimizer.step()`, then `scheduler.step()` after every update or, for an epoch scheduler, after every
`steps_per_epoch` updates, where ours takes `steps_per_epoch=` (keyword-only). `CyclicLR` and
`OneCycleLR` are stepped per update and set the rate themselves (no `lr`); their momentum is a schedule
of its own, `CyclicMomentum` / `OneCycleMomentum`, compared here with the optimizer's `momentum`.
`SequentialLR` takes our schedules where torch takes schedulers. `MultiplicativeLR`'s running product is
tabulated over `num_epochs` (an argument torch does not have). `ReduceLROnPlateau` is a gradient
transformation (see `04_transforms.ipynb`)."""),
    new_code_cell("""from optax_lrs.compat import torch as ct

L = torch.optim.lr_scheduler


def torch_lrs(make, updates, steps_per_epoch=1, key="lr", lr=0.1):
    # torch's training loop: the optimizer's rate (or momentum) before each update
    weight = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([weight], lr=lr, momentum=0.9)
    scheduler = make(opt)
    values = []
    for k in range(updates):
        values.append(opt.param_groups[0][key])
        weight.grad = torch.ones(1)
        opt.step()
        if (k + 1) % steps_per_epoch == 0:
            scheduler.step()
    return type(scheduler).__name__, values


CASES = [
    # (PyTorch, on an SGD optimizer with lr=0.1,               optax_lrs,  updates, steps_per_epoch, read)
    (lambda opt: L.StepLR(opt, step_size=7, gamma=0.31),
     ct.StepLR(0.1, step_size=7, gamma=0.31, steps_per_epoch=5), 200, 5, "lr"),
    (lambda opt: L.MultiStepLR(opt, milestones=[31, 13, 32], gamma=0.47),
     ct.MultiStepLR(0.1, milestones=[31, 13, 32], gamma=0.47), 60, 1, "lr"),
    (lambda opt: L.ExponentialLR(opt, gamma=0.93),
     ct.ExponentialLR(0.1, gamma=0.93, steps_per_epoch=3), 90, 3, "lr"),
    (lambda opt: L.PolynomialLR(opt, total_iters=23, power=1.7),
     ct.PolynomialLR(0.1, total_iters=23, power=1.7), 40, 1, "lr"),
    (lambda opt: L.CosineAnnealingLR(opt, T_max=37, eta_min=0.003),  # past T_max it rises again
     ct.CosineAnnealingLR(0.1, T_max=37, eta_min=0.003), 170, 1, "lr"),
    (lambda opt: L.CosineAnnealingWarmRestarts(opt, T_0=7, T_mult=2, eta_min=0.001),
     ct.CosineAnnealingWarmRestarts(0.1, T_0=7, T_mult=2, eta_min=0.001, steps_per_epoch=3), 330, 3, "lr"),
    (lambda opt: L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=11, step_size_down=7,
                            mode="exp_range", gamma=0.993),
     ct.CyclicLR(0.01, 0.1, step_size_up=11, step_size_down=7, mode="exp_range", gamma=0.993), 100, 1, "lr"),
    (lambda opt: L.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=11, step_size_down=7,
                            mode="exp_range", gamma=0.993),
     ct.CyclicMomentum(step_size_up=11, step_size_down=7, mode="exp_range", gamma=0.993), 100, 1, "momentum"),
    (lambda opt: L.OneCycleLR(opt, max_lr=0.1, total_steps=137, pct_start=0.27, three_phase=True),
     ct.OneCycleLR(0.1, total_steps=137, pct_start=0.27, three_phase=True), 137, 1, "lr"),
    (lambda opt: L.OneCycleLR(opt, max_lr=0.1, total_steps=137, pct_start=0.27, three_phase=True),
     ct.OneCycleMomentum(total_steps=137, pct_start=0.27, three_phase=True), 137, 1, "momentum"),
    (lambda opt: L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.1, total_iters=9),
                                      L.ExponentialLR(opt, gamma=0.93)], milestones=[9]),
     ct.SequentialLR([ct.LinearLR(0.1, start_factor=0.1, total_iters=9), ct.ExponentialLR(0.1, gamma=0.93)],
                     milestones=[9]), 40, 1, "lr"),
    (lambda opt: L.LambdaLR(opt, lambda epoch: 0.95**epoch),
     ct.LambdaLR(0.1, lambda epoch: 0.95**epoch, steps_per_epoch=4), 80, 4, "lr"),
    (lambda opt: L.MultiplicativeLR(opt, lambda epoch: 0.97 - 0.001 * epoch),  # a running product: tabulated
     ct.MultiplicativeLR(0.1, lambda epoch: 0.97 - 0.001 * epoch, num_epochs=60, steps_per_epoch=2),
     120, 2, "lr"),
]
for make, ours, updates, spe, key in CASES:
    name, values = torch_lrs(make, updates, spe, key)
    label = f"torch {name}" + (f" ({key})" if key != "lr" else "") + (f", {spe}/epoch" if spe > 1 else "")
    same(label, ours, np.arange(updates), values, lr=0.1 if key == "lr" else 0.9)"""),
    new_markdown_cell("""## timm (`timm.scheduler`)

timm's schedulers take the optimizer; ours take its rate as the first argument, `learning_rate`, and keep
timm's other parameters. With `t_in_epochs=True` (timm's default) ours needs `steps_per_epoch`. timm is
run as its `train.py` runs it: `step_update(num_updates)` after every update, `step(epoch + 1)` after every
epoch. (Noise, `noise_range_t`, is drawn from a JAX key: the same distribution, not the same draws.)

timm's package `__init__` imports torchvision; its scheduler modules do not, so they are loaded here by
their file paths (on Colab `pip install timm` is enough for this cell)."""),
    new_code_cell("""from optax_lrs.compat import timm as cti


def load_timm_schedulers():
    # timm/scheduler/*.py by path, under empty stand-ins for the `timm` and `timm.scheduler` packages
    spec = importlib.util.find_spec("timm")
    if spec is None:
        return None
    root = Path(spec.origin).parent
    saved = {name: sys.modules.pop(name, None) for name in ("timm", "timm.scheduler")}
    for name, path in (("timm", root), ("timm.scheduler", root / "scheduler")):
        sys.modules[name] = types.ModuleType(name)
        sys.modules[name].__path__ = [str(path)]
    try:
        files = ("cosine_lr", "poly_lr", "step_lr", "multistep_lr")
        return {f: importlib.import_module(f"timm.scheduler.{f}") for f in files}
    finally:
        for name, module in saved.items():
            sys.modules.pop(name)
            if module is not None:
                sys.modules[name] = module


def timm_lrs(make, updates, steps_per_epoch=None, lr=0.0731):
    # timm's train.py: the optimizer's rate before each update; step_update after each, step after each epoch
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make(opt)
    values = []
    for k in range(updates):
        values.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step_update(num_updates=k + 1)
        if steps_per_epoch and (k + 1) % steps_per_epoch == 0:
            scheduler.step((k + 1) // steps_per_epoch)
    return type(scheduler).__name__, values


TIMM = load_timm_schedulers()
if TIMM is None:
    print("timm is not installed (pip install timm): its comparison is skipped")
else:
    Cos, Poly = TIMM["cosine_lr"].CosineLRScheduler, TIMM["poly_lr"].PolyLRScheduler
    Step, MultiStep = TIMM["step_lr"].StepLRScheduler, TIMM["multistep_lr"].MultiStepLRScheduler
    CASES = [
        # (timm, on an SGD optimizer with lr=0.0731,          optax_lrs,          updates, steps_per_epoch)
        (lambda opt: Cos(opt, t_initial=53, lr_min=1e-3, cycle_mul=1.5, cycle_decay=0.7, cycle_limit=3,
                         warmup_t=11, warmup_lr_init=1e-4, t_in_epochs=False, k_decay=1.3),
         cti.CosineLRScheduler(0.0731, t_initial=53, lr_min=1e-3, cycle_mul=1.5, cycle_decay=0.7,
                               cycle_limit=3, warmup_t=11, warmup_lr_init=1e-4, t_in_epochs=False,
                               k_decay=1.3),
         400, None),
        (lambda opt: Step(opt, decay_t=4, decay_rate=0.53, warmup_t=3, warmup_lr_init=3e-3),
         cti.StepLRScheduler(0.0731, decay_t=4, decay_rate=0.53, warmup_t=3, warmup_lr_init=3e-3,
                             steps_per_epoch=13), 13 * 20, 13),
        (lambda opt: MultiStep(opt, decay_t=[17, 41], decay_rate=0.41, warmup_t=5, t_in_epochs=False),
         cti.MultiStepLRScheduler(0.0731, decay_t=[17, 41], decay_rate=0.41, warmup_t=5, t_in_epochs=False),
         70, None),
        (lambda opt: Poly(opt, t_initial=89, power=1.7, lr_min=1e-4, k_decay=1.3, t_in_epochs=False),
         cti.PolyLRScheduler(0.0731, t_initial=89, power=1.7, lr_min=1e-4, k_decay=1.3, t_in_epochs=False),
         120, None),
    ]
    for make, ours, updates, spe in CASES:
        name, values = timm_lrs(make, updates, spe)
        label = f"timm {name}" + (f", {spe}/epoch" if spe else "")
        same(label, ours, np.arange(updates), values, lr=0.0731)"""),
    new_markdown_cell("""## Hugging Face transformers (`get_scheduler` and the `get_*_schedule*` functions)

`ch.get_scheduler(learning_rate, name, ...)` takes transformers' arguments after the rate (which comes first
in place of the optimizer); each `get_*_schedule*` function is there too under its name. transformers returns
a `LambdaLR` whose rate at step k is `learning_rate · lr_lambda(k)`: that function is asked directly here,
which also reaches far past the end (the cosine rises again after `num_training_steps`, as in transformers).
A fractional `num_cycles` (2.3 restarts over 100 steps) keeps its exact period.
`"reduce_lr_on_plateau"` gives the `reduce_on_plateau` gradient transformation."""),
    new_code_cell("""import transformers

from optax_lrs.compat import hf as ch


def hf_lrs(name, steps, lr, **kwargs):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = transformers.get_scheduler(name, opt, **kwargs)  # a LambdaLR
    return [lr * scheduler.lr_lambdas[0](int(t)) for t in steps]


steps = every_step(320, far=(10**4, 10**6, 2**31 - 1))
CASES = [
    # the same arguments to transformers.get_scheduler(name, optimizer, ...), ch.get_scheduler(lr, name, ...)
    ("linear", dict(num_warmup_steps=10, num_training_steps=137)),
    ("cosine", dict(num_warmup_steps=13, num_training_steps=113)),
    ("cosine_with_restarts", dict(num_warmup_steps=10, num_training_steps=110,  # a period of 100 / 2.3 steps
                                  scheduler_specific_kwargs=dict(num_cycles=2.3))),
    ("polynomial", dict(num_warmup_steps=7, num_training_steps=119,
                        scheduler_specific_kwargs=dict(lr_end=1e-4, power=1.7))),
    ("constant_with_warmup", dict(num_warmup_steps=11)),
    ("inverse_sqrt", dict(num_warmup_steps=17)),
    ("cosine_with_min_lr", dict(num_warmup_steps=9, num_training_steps=121,
                                scheduler_specific_kwargs=dict(min_lr_rate=0.1))),
    ("warmup_stable_decay", dict(num_warmup_steps=9, num_training_steps=150,
                                 scheduler_specific_kwargs=dict(num_decay_steps=41, min_lr_ratio=0.05))),
]
for name, kwargs in CASES:
    same(f"transformers {name}", ch.get_scheduler(0.0731, name, **kwargs), steps,
         hf_lrs(name, steps, 0.0731, **kwargs), lr=0.0731)

# the functions by their own names: transformers.get_linear_schedule_with_warmup(optimizer, 10, 137)
same("transformers get_linear_schedule_with_warmup", ch.get_linear_schedule_with_warmup(0.0731, 10, 137),
     steps, hf_lrs("linear", steps, 0.0731, num_warmup_steps=10, num_training_steps=137), lr=0.0731)"""),
    new_markdown_cell("""## MXNet 1.9.1 (`mxnet.lr_scheduler`)

MXNet 1.x needs `numpy<1.24` and does not install beside current JAX, so its numbers come from a fixture,
`tests/refs/mxnet_1.9.1.json`, which `tests/refs/make_mxnet_refs.py` wrote from MXNet 1.9.1's own
schedulers, called as its optimizer calls them (`num_update` = 1, 2, 3, ...). Our step t is MXNet's update
t + 1. Outside a checkout (on Colab) the fixture is absent and one case's numbers, copied from it, are used.

The old version of this notebook translated `FactorScheduler` as `base_lr · factor^floor(num_update / step)`,
which drops one update early: MXNet drops *after* update `step` (at update 100 of `step=100, factor=0.9,
base_lr=0.1` it gives 0.1, that formula 0.09). `compat.mxnet.FactorScheduler` follows MXNet."""),
    new_code_cell("""from optax_lrs.compat import mxnet as cm

# MXNet:  sched = mx.lr_scheduler.FactorScheduler(step=7, factor=0.83, stop_factor_lr=0.005, base_lr=0.0731,
#                                                 warmup_steps=5, warmup_begin_lr=0.0123)
#         lr = sched(num_update)   # num_update = 1 on the first update
ours = cm.FactorScheduler(step=7, factor=0.83, stop_factor_lr=0.005, base_lr=0.0731,
                          warmup_steps=5, warmup_begin_lr=0.0123)
# MXNet's numbers for this case, {num_update: lr}: produced by MXNet 1.9.1 via tests/refs/make_mxnet_refs.py
# (set "factor_7_stop_warm5_linear" of tests/refs/mxnet_1.9.1.json), copied here for use without the fixture
MXNET_FACTOR = {1: 0.02446, 2: 0.03662, 4: 0.06094, 5: 0.0731, 7: 0.0731, 8: 0.060673, 14: 0.060673,
                15: 0.05035859, 98: 0.00648533743953, 99: 0.00538283007481, 105: 0.00538283007481,
                106: 0.005, 150: 0.005, 10000: 0.005, 1000000: 0.005}
updates = np.array(list(MXNET_FACTOR))
same("mxnet FactorScheduler (copied numbers)", ours, updates - 1, list(MXNET_FACTOR.values()), lr=0.0731)

# the old translation, factor^floor(num_update / step), is one update early: the tolerance sees it
old = 0.0731 * 0.83 ** np.floor(7 / 7)
print(f"update 7: MXNet {MXNET_FACTOR[7]}, ours {float(ours(6)):.6g}, old translation {old:.6g}")
assert not np.isclose(old, MXNET_FACTOR[7], rtol=RTOL)


def find_fixture():
    # tests/refs/ of the checkout optax_lrs was installed from (editable), or of a folder above this one
    roots = [Path(lrs.__file__).resolve().parents[1], Path.cwd(), *Path.cwd().parents]
    return next((p for p in (r / "tests/refs/mxnet_1.9.1.json" for r in roots) if p.is_file()), None)


path = find_fixture()
if path is None:
    print("tests/refs/mxnet_1.9.1.json is not here (not a checkout): MXNet's numbers for the case above:")
    for n, lr in MXNET_FACTOR.items():
        print(f"  num_update {n:>7}: MXNet {lr:<16} ours (step {n - 1}) {float(ours(n - 1)):.8g}")
else:
    fixture = json.loads(path.read_text())
    assert fixture["mxnet_version"] == "1.9.1"
    sets = {s["name"]: s for s in fixture["sets"]}
    case = sets["factor_7_stop_warm5_linear"]
    copied = dict(zip(case["num_updates"], case["lrs"]))
    assert all(copied[n] == lr for n, lr in MXNET_FACTOR.items())  # the numbers above are the fixture's
    for s in fixture["sets"]:
        # e.g. cm.PolyScheduler(max_update=211, base_lr=0.0731, pwr=1.7, final_lr=0.0012)
        ours = getattr(cm, s["scheduler"])(**s["kwargs"])
        peak = max(abs(v) for v in s["lrs"])
        same(f"mxnet {s['scheduler']} {s['name']}", ours, np.asarray(s["num_updates"]) - 1, s["lrs"], lr=peak)"""),
]


TRANSFORMS = [
    new_markdown_cell("""# Schedule-driven transforms: `reduce_on_plateau`, one-cycle momentum, layer-wise decay

This notebook shows the transforms of optax_lrs that act on the updates rather than define a schedule:

1. `reduce_on_plateau` on a noisy minibatch loss (least squares on scikit-learn's digits), the whole run in
   one `jax.lax.scan`, next to PyTorch's `ReduceLROnPlateau` fed the same losses: the two scale traces are
   equal; then `current_lr` / `hyperparams`, which read the learning rate back from an optimizer state
   (an injected schedule times the plateau's scale);
2. one-cycle with momentum: `one_cycle_schedule` and `one_cycle_momentum` injected into `optax.sgd`,
   their values read from the state during training, equal to PyTorch's `OneCycleLR(cycle_momentum=True)`;
3. per-parameter learning rates on a small transformer-like params tree: `layerwise_decay`,
   `param_groups` (regular expressions over key paths) and `scale_by_tree`, with the per-layer update
   magnitudes of a few jitted Adam steps."""),
    new_code_cell(INSTALL),
    new_code_cell("""import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
import torch
from sklearn.datasets import load_digits

import optax_lrs as lrs

# least squares from the 64 pixels of each digit to its one-hot label: a linear model
x_np, y_np = load_digits(return_X_y=True)
x = jnp.asarray(x_np / 16.0, jnp.float32)
targets = jax.nn.one_hot(y_np, 10)
BATCH = 32  # a minibatch per update: the loss each update sees is noisy


def loss_fn(params, xb, tb):
    return 0.5 * jnp.mean(jnp.sum((xb @ params["kernel"] + params["bias"] - tb) ** 2, axis=-1))


def train(opt, steps, seed=7):
    \"\"\"`steps` minibatch updates in one `lax.scan`; the loss of each minibatch goes to the optimizer
    as `value=`. Returns the losses and the optimizer state after every update (stacked).\"\"\"
    params = {"kernel": jnp.zeros((64, 10)), "bias": jnp.zeros(10)}

    def step(carry, key):
        params, state = carry
        idx = jax.random.choice(key, x.shape[0], (BATCH,), replace=False)
        loss, grads = jax.value_and_grad(loss_fn)(params, x[idx], targets[idx])
        updates, state = opt.update(grads, state, params, value=loss)
        return (optax.apply_updates(params, updates), state), (loss, state)

    keys = jax.random.split(jax.random.PRNGKey(seed), steps)
    _, (losses, states) = jax.lax.scan(step, (params, opt.init(params)), keys)
    return losses, states


x.shape"""),
    new_markdown_cell("""## 1. `reduce_on_plateau` on a noisy loss, next to PyTorch's `ReduceLROnPlateau`

`optax.chain(optax.sgd(lr), lrs.reduce_on_plateau(...))` multiplies the updates by a scale that drops by
`factor` once the loss has not beaten `best·(1 − threshold)` for more than `patience` updates, then waits
`cooldown` updates before counting again, and never goes below `min_scale` (PyTorch's rules exactly).

Step convention: `state.scale` after update `k` is the lr that PyTorch's scheduler sets in `step(loss_k)`
on an optimizer whose lr is 1. PyTorch calls `scheduler.step(loss)` *after* `optimizer.step()`, so its new
lr applies from the next step; here the update whose loss triggers the reduction already uses it (as in
`optax.contrib.reduce_on_plateau`). `min_scale` is PyTorch's `min_lr` for lr = 1.

Once the loss has flattened, the best (lowest, luckiest) minibatch loss is rarely beaten: a reduction then
comes every `patience + cooldown + 1` updates until the scale reaches `min_scale`."""),
    new_code_cell("""STEPS = 900
PLATEAU = dict(factor=0.47, patience=31, cooldown=9, threshold=0.0023)
MIN_SCALE = 0.021
opt = optax.chain(optax.sgd(0.113), lrs.reduce_on_plateau(**PLATEAU, min_scale=MIN_SCALE))
losses, states = jax.jit(train, static_argnums=(0, 1))(opt, STEPS)
scales = np.asarray(states[1].scale)  # chain state = (sgd's, plateau's); scale after each update

# PyTorch: the same losses into ReduceLROnPlateau, on SGD over a dummy parameter with lr = 1
dummy = torch.nn.Parameter(torch.zeros(1))
torch_opt = torch.optim.SGD([dummy], lr=1.0)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **PLATEAU, min_lr=MIN_SCALE)
torch_scales = []
for loss in np.asarray(losses):
    torch_opt.step()
    scheduler.step(float(loss))
    torch_scales.append(torch_opt.param_groups[0]["lr"])

np.testing.assert_allclose(scales, torch_scales, rtol=1e-6)
print("reductions after updates", np.flatnonzero(np.diff(scales)) + 1, "; scales", np.unique(scales)[::-1])"""),
    new_code_cell("""fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.2))
a.plot(losses, lw=0.5, alpha=0.5, label="minibatch loss")
a.plot(np.arange(49, STEPS), np.convolve(losses, np.ones(50) / 50, "valid"), label="mean of 50")
a.set_xlabel("update"); a.set_ylabel("loss"); a.set_ylim(0.1, 0.5); a.legend()
b.step(np.arange(1, STEPS + 1), scales, where="post", lw=3, alpha=0.5, label="optax_lrs: state.scale")
b.step(np.arange(1, STEPS + 1), torch_scales, where="post", ls="--", c="k", label="torch ReduceLROnPlateau lr")
b.set_yscale("log"); b.set_xlabel("update"); b.set_ylabel("scale"); b.legend()
fig.tight_layout()
plt.show()"""),
    new_markdown_cell("""### Reading the learning rate back: `current_lr` and `hyperparams`

With the learning rate itself a schedule, injected by `optax.inject_hyperparams`, the state holds both the
schedule's value and the plateau's scale. `lrs.hyperparams(state)` finds every injected hyperparameter
and plateau scale at any depth of the state; `lrs.current_lr(state)` is the rate the last update used: the
injected `learning_rate` (the schedule at step `n − 1` after `n` updates) times every plateau scale. Both
work inside the scan, so the effective rate of every update comes out of the compiled run."""),
    new_code_cell("""cosine = lrs.cosine_decay_schedule(0.113, STEPS, alpha=0.07)
opt = optax.chain(optax.inject_hyperparams(optax.sgd)(learning_rate=cosine),
                  lrs.reduce_on_plateau(**PLATEAU, min_scale=MIN_SCALE))


def train_and_read(opt, steps):
    losses, states = train(opt, steps)
    return losses, jax.vmap(lrs.current_lr)(states), jax.vmap(lrs.hyperparams)(states)


losses2, lr_used, hp = jax.jit(train_and_read, static_argnums=(0, 1))(opt, STEPS)
print({k: v.shape for k, v in hp.items()})
# update n used cosine(n − 1) times the scale that update applied
np.testing.assert_allclose(lr_used, cosine(np.arange(STEPS)) * hp["plateau_scale"], rtol=1e-6)

last = {k: float(v[-1]) for k, v in hp.items()}
print("after the last update:", last, "-> current_lr", float(lr_used[-1]))

fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot(np.arange(1, STEPS + 1), hp["learning_rate"], label="injected learning_rate (cosine)")
ax.plot(np.arange(1, STEPS + 1), lr_used, label="current_lr = learning_rate x plateau_scale")
ax.set_yscale("log"); ax.set_xlabel("update"); ax.legend(fontsize=8)
fig.tight_layout()
plt.show()"""),
    new_markdown_cell("""## 2. One-cycle with momentum

PyTorch's `OneCycleLR(cycle_momentum=True)` moves SGD's momentum against the learning rate: high momentum
while the rate is low, low momentum at its peak. Here both are schedules, `one_cycle_schedule` and
`one_cycle_momentum` (same `total_steps`, `pct_start`, `anneal`), injected into `optax.sgd`. After update
`n` the injected state holds the values update `n` used (`schedule(n − 1)`), which is PyTorch's
`param_groups[0]["lr"]` / `["momentum"]` during its `n`-th `optimizer.step()`."""),
    new_code_cell("""T = 640
CYCLE = dict(total_steps=T, pct_start=0.27, anneal="cos")
lr_schedule = lrs.one_cycle_schedule(0.173, **CYCLE, div_factor=17.0, final_div_factor=310.0)
momentum_schedule = lrs.one_cycle_momentum(**CYCLE, base_momentum=0.83, max_momentum=0.94)
opt = optax.inject_hyperparams(optax.sgd)(learning_rate=lr_schedule, momentum=momentum_schedule)
cycle_losses, states = jax.jit(train, static_argnums=(0, 1))(opt, T)
lr_trace = np.asarray(states.hyperparams["learning_rate"])
momentum_trace = np.asarray(states.hyperparams["momentum"])

# PyTorch: the lr and momentum of each optimizer.step()
torch_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.173, momentum=0.94)
scheduler = torch.optim.lr_scheduler.OneCycleLR(
    torch_opt, max_lr=0.173, total_steps=T, pct_start=0.27, anneal_strategy="cos", div_factor=17.0,
    final_div_factor=310.0, cycle_momentum=True, base_momentum=0.83, max_momentum=0.94)
torch_lr, torch_momentum = [], []
for _ in range(T):
    torch_lr.append(torch_opt.param_groups[0]["lr"])
    torch_momentum.append(torch_opt.param_groups[0]["momentum"])
    torch_opt.step()
    scheduler.step()

np.testing.assert_allclose(lr_trace, torch_lr, rtol=1e-5)
np.testing.assert_allclose(momentum_trace, torch_momentum, rtol=1e-5)
print(f"equal over {T} updates; max |lr difference| {np.max(np.abs(lr_trace - torch_lr)):.2e}, "
      f"max |momentum difference| {np.max(np.abs(momentum_trace - torch_momentum)):.2e}")
print(f"loss: first {float(cycle_losses[0]):.3f}, mean of the last 50 {float(cycle_losses[-50:].mean()):.3f}")"""),
    new_code_cell("""fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.2))
steps = np.arange(T)
a.plot(steps, lr_trace, lw=3, alpha=0.5, label="optax_lrs (injected state)")
a.plot(steps, torch_lr, "k--", label="torch OneCycleLR")
a.set_title("learning rate"); a.set_xlabel("update"); a.legend()
b.plot(steps, momentum_trace, lw=3, alpha=0.5, label="optax_lrs (injected state)")
b.plot(steps, torch_momentum, "k--", label="torch OneCycleLR")
b.set_title("momentum"); b.set_xlabel("update"); b.legend()
fig.tight_layout()
plt.show()"""),
    new_markdown_cell("""## 3. Layer-wise learning-rate decay and parameter groups

A leaf's key path is its dict keys and list indices joined with "/": below, `blocks/2/mlp/up`.
`lrs.layerwise_decay(params, decay, layer_of, num_layers)` gives leaf `p` the multiplier
`decay ** (num_layers − layer_of(path))` (BEiT / timm layer decay: embeddings 0, block `i` at `i + 1`, the
head at `num_layers` with the full rate). `lrs.param_groups(params, {regex: multiplier})` gives each leaf
the multiplier of the first regular expression that matches its *whole* path (`re.fullmatch`), 1
otherwise. Both return a tree of multipliers for `lrs.scale_by_tree`, chained after the optimizer."""),
    new_code_cell("""D, HEADS_DIM, NUM_BLOCKS, VOCAB, LENGTH = 24, 24, 4, 37, 12
keys = iter(jax.random.split(jax.random.PRNGKey(5), 64))


def dense(n_in, n_out):
    return jax.random.normal(next(keys), (n_in, n_out)) / np.sqrt(n_in)


params = {
    "embed": {"tokens": jax.random.normal(next(keys), (VOCAB, D)) * 0.3,
              "position": jax.random.normal(next(keys), (LENGTH, D)) * 0.3},
    "blocks": [{"attn": {"qkv": dense(D, 3 * HEADS_DIM), "out": dense(HEADS_DIM, D)},
                "mlp": {"up": dense(D, 2 * D), "down": dense(2 * D, D)},
                "norm": {"scale": jnp.ones(D)}} for _ in range(NUM_BLOCKS)],
    "head": {"norm": {"scale": jnp.ones(D)}, "kernel": dense(D, 10), "bias": jnp.zeros(10)},
}


def layer_of(path):
    if path.startswith("embed/"):
        return 0
    if path.startswith("blocks/"):
        return int(path.split("/")[1]) + 1
    return NUM_BLOCKS + 1  # the head


layer_mults = lrs.layerwise_decay(params, 0.71, layer_of, num_layers=NUM_BLOCKS + 1)
group_mults = lrs.param_groups(params, {r"head/.*": 2.3, r"embed/position": 0.0, r".*/norm/scale": 0.45})
mults = jax.tree.map(lambda a, b: a * b, layer_mults, group_mults)

print(f"{'key path':<26}{'layerwise':>10}{'group':>8}{'product':>10}")
for (path, lw), g, m in zip(jax.tree_util.tree_flatten_with_path(layer_mults)[0],
                            jax.tree.leaves(group_mults), jax.tree.leaves(mults)):
    name = "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)
    print(f"{name:<26}{float(lw):>10.4f}{float(g):>8.2f}{float(m):>10.4f}")

try:  # fullmatch: "head" names no whole key path (the leaves are head/kernel, head/bias, ...)
    lrs.param_groups(params, {"head": 2.3})
except ValueError as err:
    print("\\nValueError:", err)"""),
    new_markdown_cell("""A few jitted steps of `optax.chain(optax.adam(lr), lrs.scale_by_tree(mults))` on a toy task (classify a
token sequence by the sum of its tokens mod 10) with a one-head attention + MLP block stack. Adam's update
has magnitude about `lr` in every coordinate (exactly `lr` at the first step, where it is `lr·sign(g)`), so
the mean |update| / lr of each layer shows its multiplier."""),
    new_code_cell("""def rms_norm(h, scale):
    return h * jax.lax.rsqrt(jnp.mean(h * h, axis=-1, keepdims=True) + 1e-6) * scale


def forward(params, tokens):
    h = params["embed"]["tokens"][tokens] + params["embed"]["position"]
    for block in params["blocks"]:
        q, k, v = jnp.split(rms_norm(h, block["norm"]["scale"]) @ block["attn"]["qkv"], 3, axis=-1)
        attention = jax.nn.softmax(q @ jnp.swapaxes(k, -1, -2) / np.sqrt(HEADS_DIM), axis=-1)
        h = h + (attention @ v) @ block["attn"]["out"]
        h = h + jax.nn.gelu(h @ block["mlp"]["up"]) @ block["mlp"]["down"]
    pooled = rms_norm(h.mean(axis=1), params["head"]["norm"]["scale"])
    return pooled @ params["head"]["kernel"] + params["head"]["bias"]


tokens = jax.random.randint(jax.random.PRNGKey(11), (256, LENGTH), 0, VOCAB)
labels = tokens.sum(axis=1) % 10


def task_loss(params):
    return optax.softmax_cross_entropy_with_integer_labels(forward(params, tokens), labels).mean()


LR = 0.0031
opt = optax.chain(optax.adam(LR), lrs.scale_by_tree(mults))


@jax.jit
def step(params, state):
    loss, grads = jax.value_and_grad(task_loss)(params)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, loss, updates


def per_layer(tree):
    \"\"\"Mean |x| / LR over the leaves of each layer (embed, block 0..3, head).\"\"\"
    named = {k: [] for k in ["embed", *[f"block {i}" for i in range(NUM_BLOCKS)], "head"]}
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        top = path[0].key
        name = f"block {path[1].idx}" if top == "blocks" else top
        if not (top == "embed" and path[1].key == "position"):  # frozen (multiplier 0): left out
            named[name].append(np.abs(np.asarray(leaf)).ravel())
    return {k: float(np.concatenate(v).mean()) / LR for k, v in named.items()}


state = opt.init(params)
history = []
for i in range(6):
    params, state, loss, updates = step(params, state)
    history.append(per_layer(updates))
    print(f"step {i + 1}: loss {float(loss):.4f}  " + "  ".join(f"{k} {v:.3f}" for k, v in history[-1].items()))

assert float(jnp.abs(updates["embed"]["position"]).max()) == 0.0  # multiplier 0: frozen
expected = per_layer(jax.tree.map(lambda m, p: jnp.broadcast_to(m, p.shape) * LR, mults, params))
np.testing.assert_allclose(list(history[0].values()), list(expected.values()), rtol=1e-3)"""),
    new_code_cell("""fig, ax = plt.subplots(figsize=(6.5, 3.2))
layers = list(expected)
at = np.arange(len(layers))
ax.bar(at - 0.27, [expected[k] for k in layers], 0.27, label="mean multiplier")
ax.bar(at, [history[0][k] for k in layers], 0.27, label="mean |update| / lr, step 1")
ax.bar(at + 0.27, [history[-1][k] for k in layers], 0.27, label="mean |update| / lr, step 6")
ax.set_xticks(range(len(layers)), layers); ax.set_yscale("log"); ax.legend(fontsize=8)
ax.set_title("per-layer update magnitude (adam + scale_by_tree)")
fig.tight_layout()
plt.show()"""),
]


RANGE_TEST = [
    new_markdown_cell("""# The learning-rate range test, and SGDR with snapshot ensembles and SWA

Two tools around the schedules, on the digits MLP of `optax_lrs.demo` (scikit-learn's bundled 8x8 digits,
64 -> 64 -> 10, SGD with momentum):

1. **`lr_find`**, the learning-rate range test (Smith 2017, fastai's and Lightning's `lr_find`): a short run
   whose learning rate grows exponentially step by step, the whole ramp one compiled `lax.scan`; the loss
   first barely moves, then falls, then blows up, and a good learning rate lies on the falling part. With
   `parallel=K` the question is asked the other way round: K constant learning rates, each trained for the
   whole run from the same start on the same minibatches, side by side under one `jax.vmap`.
2. **SGDR with snapshots and SWA**: cosine annealing with warm restarts (`cosine_annealing_warm_restarts`)
   drives SGD; `snapshots(...)` keeps the params at the end of each of the last cycles (a snapshot
   ensemble, Huang et al. 2017) and `swa(..., schedule=...)` averages the params at the same cycle ends
   (SWA with a cyclical learning rate, Izmailov et al. 2018). The wrappers nest, and their readers
   `snapshot_params` / `averaged_params` find their states at any depth of the optimizer state."""),
    new_code_cell(INSTALL),
    new_code_cell("""import functools
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import optax_lrs as lrs
from optax_lrs import demo

T0 = time.perf_counter()
(x_train, y_train), (x_test, y_test) = demo.load_data()
x_train, y_train = jnp.asarray(x_train), jnp.asarray(y_train)
BATCH = 48
params0 = demo.init_params(seed=1)


def loss(params, batch):  # lr_find's signature: loss(params, batch) -> scalar
    return demo.loss_fn(params, *batch)


def batch_of(k):  # the minibatch of step k, drawn inside the compiled scan
    return demo.minibatch(x_train, y_train, k, BATCH, seed=3)


sgd = functools.partial(optax.sgd, momentum=0.9)  # lr_find takes a factory of learning_rate
x_train.shape, x_test.shape"""),
    new_markdown_cell("""## 1. The range test: one ramp, and 16 constant rates under one `vmap`

The sequential test records the loss of each step's minibatch before its update and smooths it as fastai
and Lightning do (a bias-corrected EMA, beta 0.98); it stops recording once the smoothed loss exceeds 4x
its best so far (Lightning's rule), though the compiled program runs to its end. Its suggestions:
`valley` (fastai's default, `result.suggestion`), `steepest` (Lightning's) and `minimum` (the lowest
loss's rate / 10).

With `parallel=16`, each point of the curve is a whole run of `num_steps` updates at one constant rate, and
its loss is that run's (smoothed) loss at the end: the lowest point is the best constant rate for a run
that long, and that is its `suggestion` (`suggestions["best"]`)."""),
    new_code_cell("""MIN_LR, MAX_LR, RAMP_STEPS = 1.3e-5, 97.0, 180
K, RUN_STEPS = 16, 90

t0 = time.perf_counter()
seq = lrs.lr_find(loss, params0, batch_of, sgd, min_lr=MIN_LR, max_lr=MAX_LR, num_steps=RAMP_STEPS)
t1 = time.perf_counter()
par = lrs.lr_find(loss, params0, batch_of, sgd, min_lr=MIN_LR, max_lr=MAX_LR, num_steps=RUN_STEPS, parallel=K)
t2 = time.perf_counter()

print(f"sequential: {RAMP_STEPS} steps, stopped at step {seq.stopped_at} (lr {seq.learning_rates[-1]:.3g}), "
      f"{t1 - t0:.1f} s with compilation")
print("   suggestions:", {k: f"{v:.3g}" for k, v in seq.suggestions.items()})
best = par.suggestion  # the rate whose run ended lowest
print(f"parallel: {K} rates x {RUN_STEPS} steps, {len(par.learning_rates)} recorded "
      f"(the run at lr {par.learning_rates[-1]:.3g} diverged), {t2 - t1:.1f} s with compilation")
print("   suggestions:", {k: f"{v:.3g}" for k, v in par.suggestions.items()},
      f"; best constant rate {best:.3g}")

fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.4))
seq.plot(ax=a)
a.set_title(f"sequential: one ramp of {RAMP_STEPS} steps")
par.plot(ax=b)
b.set_ylim(bottom=0)  # each run's last minibatch loss (grey) lies below its smoothed loss
b.set_title(f"parallel={K}: {K} constant rates, {RUN_STEPS} steps each")
fig.tight_layout()
plt.show()"""),
    new_code_cell("""# the ramp blew up before its end, and the recording stopped there
assert seq.stopped_at < RAMP_STEPS and len(seq.learning_rates) == seq.stopped_at + 1
assert MIN_LR < seq.suggestion < MAX_LR
# the smoothed loss at the suggestion is below the one at min_lr: the loss is already falling there
at_suggestion = np.interp(np.log(seq.suggestion), np.log(seq.learning_rates), seq.smoothed_losses)
assert at_suggestion < seq.smoothed_losses[0]
# parallel: the first K rates of the same log-spaced ramp, up to and including the first run that diverged
np.testing.assert_allclose(par.learning_rates, np.geomspace(MIN_LR, MAX_LR, K)[: len(par.learning_rates)])
assert len(par.learning_rates) == min(par.stopped_at + 1, K)
assert par.smoothed_losses.min() < 0.5 * par.smoothed_losses[0]  # the best constant rate learned something
assert par.suggestion == par.learning_rates[np.argmin(par.smoothed_losses[:-1])]  # the last one diverged"""),
    new_markdown_cell("""Read the two curves differently. The sequential one lags: at step k the smoothed loss averages the last
~50 steps, taken at smaller rates, and each rate is used for one step only, so the loss keeps falling until
the rate is near 1, and `valley` lands almost two decades below that, early on the falling slope. The parallel curve's
lowest point is the best *constant* rate for a 90-step run; its `valley` reads the same rule on
16 finished runs, where the loss falls from the very first point, and so lands far below that
minimum: on this curve the best rate itself says more, which is why it is the parallel test's
`suggestion`. `steepest`
(the slope against the rate itself, not its logarithm) picks the smallest rates on both.

## 2. SGDR with snapshot ensembles and SWA

Peak learning rate 0.143: below the parallel test's best constant rate, above the ramp's `valley`.
Cycles of 113 steps, each next one 1.3x longer, rounded up: `cycle_index` gives the cycle of every step, so
the number of steps of five cycles is read from the schedule. `snapshots(..., keep=3)` keeps the params
after the last update of each of the last three cycles; `swa(..., start=..., schedule=sched)` averages
the params at the same cycle ends from the start of cycle 2. The whole training is one `jax.lax.scan`
inside `jax.jit`."""),
    new_code_cell("""PEAK, FIRST, MULT, FLOOR = 0.143, 113, 1.3, 3e-4
CYCLES, KEEP = 5, 3
sched = lrs.cosine_annealing_warm_restarts(PEAK, FIRST, period_mult=MULT, min_value=FLOOR)

cycle = np.asarray(sched.cycle_index(np.arange(5000)))
restarts = np.flatnonzero(np.diff(cycle)) + 1  # the first step of every cycle after the first
STEPS = int(restarts[CYCLES - 1])  # CYCLES whole cycles
SWA_START = int(restarts[CYCLES - KEEP - 1])  # the first step of the first averaged cycle
print("cycle lengths", np.diff([0, *restarts[:CYCLES]]), "-> STEPS", STEPS, ", SWA from step", SWA_START)

opt = lrs.snapshots(lrs.swa(optax.sgd(sched, momentum=0.9), start=SWA_START, schedule=sched), sched, keep=KEEP)


@jax.jit
def train(params):
    state = opt.init(params)

    def step(carry, k):
        params, state = carry
        value, grads = jax.value_and_grad(loss)(params, batch_of(k))
        updates, state = opt.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), value

    (params, state), losses = jax.lax.scan(step, (params, state), jnp.arange(STEPS))
    return params, state, losses


t0 = time.perf_counter()
params, state, losses = jax.block_until_ready(train(params0))
print(f"{STEPS} steps in {time.perf_counter() - t0:.1f} s (compilation included)")

stacked, num_valid = lrs.snapshot_params(state)  # the snapshots state is the outer one
swa_params = lrs.averaged_params(state)  # the swa state, found inside it
print("snapshots held:", int(num_valid), "; params averaged by swa:", int(state.inner_state.n_averaged))"""),
    new_code_cell("""t = np.arange(STEPS)
ends = np.flatnonzero(np.asarray(sched.cycle_index(t + 1)) > np.asarray(sched.cycle_index(t)))  # last steps

fig, ax = plt.subplots(figsize=(11, 4), layout="constrained")
ax.plot(t, sched(t), color="C0", label="learning rate")
for i, end in enumerate(ends):
    kept = i >= len(ends) - KEEP
    ax.axvline(end, color="C3" if kept else "0.6", ls="--", lw=1.2 if kept else 0.8,
               label=("cycle end: snapshot + SWA" if kept else "cycle end") if i in (0, len(ends) - 1) else None)
ax.set_xlabel("step"); ax.set_ylabel("learning rate")
loss_ax = ax.twinx()
window = 25
loss_ax.plot(t[window - 1:], np.convolve(losses, np.ones(window) / window, "valid"), color="C1", lw=1,
             label=f"training loss (mean of {window})")
loss_ax.set_yscale("log"); loss_ax.set_ylabel("training loss", color="C1")
fig.legend(loc="outside lower center", ncol=4, fontsize=8)
ax.set_title("SGDR: cosine annealing with warm restarts, and where the weights are kept")
plt.show()"""),
    new_code_cell("""def probabilities(p, x):
    h = jax.nn.relu(x @ p["w1"] + p["b1"])
    return jax.nn.softmax(h @ p["w2"] + p["b2"])


def accuracy(probs):
    return float((np.asarray(probs).argmax(-1) == y_test).mean())


n = int(num_valid)
per_snapshot = jax.vmap(probabilities, in_axes=(0, None))(stacked, x_test)[:n]  # (n, test, 10)
results = {
    "last weights": accuracy(probabilities(params, x_test)),
    **{f"snapshot {i} (end of cycle {CYCLES - n + i})": accuracy(per_snapshot[i]) for i in range(n)},
    f"ensemble of {n} snapshots": accuracy(per_snapshot.mean(0)),
    "SWA-averaged weights": accuracy(probabilities(swa_params, x_test)),
}
for name, acc in results.items():
    print(f"{name:<30} test accuracy {acc:.4f}  ({round(acc * len(y_test))}/{len(y_test)})")"""),
    new_code_cell("""assert n == KEEP and int(state.inner_state.n_averaged) == KEEP
# the training ends at a cycle's end: the newest snapshot is the last weights, exactly
jax.tree.map(np.testing.assert_array_equal, jax.tree.map(lambda s: s[n - 1], stacked), params)
# the snapshots differ from each other (each cycle's restart moves the weights away)
for i in range(n):
    for j in range(i + 1, n):
        gap = max(float(jnp.abs(a[i] - a[j]).max()) for a in jax.tree.leaves(stacked))
        assert gap > 1e-2, (i, j, gap)
# SWA averaged the weights at the same cycle ends: its average is the snapshots' mean
jax.tree.map(lambda avg, s: np.testing.assert_allclose(avg, s.mean(0), atol=1e-6), swa_params, stacked)
assert all(acc > 0.9 for acc in results.values())
print(f"notebook ran in {time.perf_counter() - T0:.1f} s")"""),
    new_markdown_cell("""What the numbers show (on CPU, with the versions we ran): every model is above 97% on the 359 test
digits. The snapshot ensemble and the SWA weights each get 352 right, the last weights 350; the snapshots alone
get 352, 352 and 350 (the newest one is the last weights). The gap is two test images. On this small, well-separated problem that is within
noise, not evidence that averaging helps, and neither averaging is guaranteed to win (another seed or
schedule can order them differently). Both cost nothing during training here: the snapshots are 3 copies of the
params in the optimizer state, and the SWA average one more. The ensemble costs 3 forward passes at
inference; the SWA weights cost one, and are the mean of the same three snapshots, averaged in weight
space instead of in prediction space. On larger networks and longer schedules, with more varied
snapshots, both are known to help (Huang et al. 2017; Izmailov et al. 2018).

## From the command line

The range test on the same digits model, with its plot written to a file:

```
optax-lrs find -o lr_find.png                  # one ramp of 100 steps from 1e-7 to 10
optax-lrs find --parallel 16 -o lr_find.png    # 16 constant rates side by side under one vmap
```

(`--steps`, `--min-lr` and `--max-lr` set the rest; it uses the demo's SGD with momentum 0.5 and prints the
suggestions.)"""),
]


def write(name: str, cells: list) -> None:
    nb = new_notebook(cells=[new_markdown_cell(badge(name)), *cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["colab"] = {"provenance": []}
    path = HERE / name
    # nbformat draws random cell ids: keep those of unchanged cells, so that a rebuild changes nothing
    if path.exists():
        unused = {}
        for cell in nbformat.read(path, as_version=4).cells:
            if "id" in cell:
                unused.setdefault((cell.cell_type, cell.source), []).append(cell.id)
        for cell in nb.cells:
            ids = unused.get((cell.cell_type, cell.source))
            if ids:
                cell.id = ids.pop(0)
    nbformat.write(nb, path)


def main() -> None:
    write("01_gallery.ipynb", GALLERY)
    write("02_training_under_vmap.ipynb", TRAINING)
    write("03_migrating.ipynb", MIGRATION)
    write("04_transforms.ipynb", TRANSFORMS)
    write("05_range_test_and_averaging.ipynb", RANGE_TEST)


if __name__ == "__main__":
    main()
