"""optax_lrs.compat.encoding.LR_Scheduler against seed 000's PyTorch-Encoding code, re-run here.

`SeedLRScheduler` is the seed's class as printed there (plain Python float64 math), minus its print
and with the `else: raise` its listing garbles; `seed_lrs` drives it as the seed's training loop does
(`for epoch ...: for i, batch in enumerate(loader): scheduler(optimizer, i, epoch)`), reading the rate it
writes into the optimizer before each update.
"""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_lrs as o
from optax_lrs.compat.encoding import LR_Scheduler


class SeedLRScheduler:
    def __init__(self, mode, base_lr, num_epochs, iters_per_epoch=0, lr_step=0, warmup_epochs=0):
        self.mode = mode
        self.lr = base_lr
        if mode == "step":
            assert lr_step
        self.lr_step = lr_step
        self.iters_per_epoch = iters_per_epoch
        self.N = num_epochs * iters_per_epoch
        self.epoch = -1
        self.warmup_iters = warmup_epochs * iters_per_epoch

    def __call__(self, optimizer, i, epoch):
        T = epoch * self.iters_per_epoch + i
        if self.mode == "cos":
            lr = 0.5 * self.lr * (1 + math.cos(1.0 * T / self.N * math.pi))
        elif self.mode == "poly":
            lr = self.lr * pow((1 - 1.0 * T / self.N), 0.9)
        elif self.mode == "step":
            lr = self.lr * (0.1 ** (epoch // self.lr_step))
        else:
            raise NotImplementedError
        # warm up lr schedule
        if self.warmup_iters > 0 and T < self.warmup_iters:
            lr = lr * 1.0 * T / self.warmup_iters
        if epoch > self.epoch:
            self.epoch = epoch
        assert lr >= 0
        self._adjust_learning_rate(optimizer, lr)

    def _adjust_learning_rate(self, optimizer, lr):
        if len(optimizer.param_groups) == 1:
            optimizer.param_groups[0]["lr"] = lr


class Optimizer:
    def __init__(self):
        self.param_groups = [{"lr": None}]


def seed_lr(kwargs, i, epoch):
    optimizer = Optimizer()
    SeedLRScheduler(**kwargs)(optimizer, i, epoch)
    return optimizer.param_groups[0]["lr"]


def seed_lrs(kwargs):
    """The rate of every update of the seed's training loop, in order (T = 0, 1, ..., N − 1)."""
    optimizer, scheduler, lrs = Optimizer(), SeedLRScheduler(**kwargs), []
    for epoch in range(kwargs["num_epochs"]):
        for i in range(kwargs["iters_per_epoch"]):
            scheduler(optimizer, i, epoch)
            lrs.append(optimizer.param_groups[0]["lr"])
    return np.asarray(lrs)


HYPERPARAMS = [
    dict(base_lr=0.0731, num_epochs=11, iters_per_epoch=37, lr_step=3, warmup_epochs=0),
    dict(base_lr=0.013, num_epochs=7, iters_per_epoch=53, lr_step=2, warmup_epochs=1),
    dict(base_lr=0.2, num_epochs=9, iters_per_epoch=1, lr_step=4, warmup_epochs=3),  # one update an epoch
]
CASES = [(mode, kw) for mode in ("cos", "poly", "step") for kw in HYPERPARAMS]
IDS = [f"{mode}-{i}" for mode in ("cos", "poly", "step") for i in range(len(HYPERPARAMS))]

# float32 rounding: a few ulps relative, and two ulps of base_lr absolute (near the end of 'cos' the
# value is a difference of numbers of the size of base_lr)
RTOL = 2e-6
ULPS = 2.0**-22


def boundaries(kw):
    """Every epoch start, the end of the warmup and the last update, each ±1, within [0, N)."""
    ipe, n = kw["iters_per_epoch"], kw["num_epochs"] * kw["iters_per_epoch"]
    edges = [e * ipe for e in range(kw["num_epochs"] + 1)] + [kw["warmup_epochs"] * ipe, n - 1]
    return sorted({b + d for b in edges for d in (-1, 0, 1) if 0 <= b + d < n})


@pytest.mark.parametrize(("mode", "kw"), CASES, ids=IDS)
def test_equals_the_seed_over_the_whole_run(mode, kw):
    kwargs = dict(mode=mode, **kw)
    expected = seed_lrs(kwargs)
    n = kw["num_epochs"] * kw["iters_per_epoch"]
    assert len(expected) == n
    sched = LR_Scheduler(**kwargs)
    ours = np.asarray(sched(jnp.arange(n)))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, rtol=RTOL, atol=ULPS * kw["base_lr"])
    # the boundaries, ±1, again as eager Python ints
    steps = boundaries(kw)
    eager = np.stack([np.asarray(sched(t)) for t in steps])
    np.testing.assert_allclose(eager, expected[steps], rtol=RTOL, atol=ULPS * kw["base_lr"])


@pytest.mark.parametrize(("mode", "kw"), CASES, ids=IDS)
def test_at_and_past_the_end(mode, kw):
    """At T = N the seed's formula still holds (0 for 'cos' and 'poly'); past it 'cos' and 'poly' hold
    0, where the seed's formula would rise again or turn complex, and 'step' goes on dropping."""
    kwargs = dict(mode=mode, **kw)
    sched = LR_Scheduler(**kwargs)
    ipe, epochs = kw["iters_per_epoch"], kw["num_epochs"]
    atol = ULPS * kw["base_lr"]
    np.testing.assert_allclose(sched(epochs * ipe), seed_lr(kwargs, 0, epochs), rtol=RTOL, atol=atol)
    later = [(0, epochs + 1), (ipe - 1, 2 * epochs + 5)]
    ours = np.asarray(sched(jnp.asarray([e * ipe + i for i, e in later])))
    if mode == "step":
        np.testing.assert_allclose(ours, [seed_lr(kwargs, i, e) for i, e in later], rtol=RTOL)
    else:
        assert ours.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("mode", "kw"), CASES, ids=IDS)
def test_config_round_trip(mode, kw):
    sched = LR_Scheduler(mode, **kw)
    back = o.from_config(json.loads(json.dumps(sched.to_config())))
    assert back == sched
    steps = jnp.arange(kw["num_epochs"] * kw["iters_per_epoch"] + 5)
    np.testing.assert_array_equal(back(steps), sched(steps))


@pytest.mark.parametrize("mode", ["cos", "poly", "step"])
def test_vmap_over_every_numeric_parameter(mode):
    keys = list(HYPERPARAMS[0])
    batched = {k: jnp.asarray([kw[k] for kw in HYPERPARAMS]) for k in keys}
    steps = jnp.arange(400)
    out = jax.vmap(lambda kw: LR_Scheduler(mode, **kw)(steps))(batched)
    for row, kw in zip(np.asarray(out), HYPERPARAMS):
        expected = seed_lrs(dict(mode=mode, **kw))[: len(steps)]
        np.testing.assert_allclose(row[: len(expected)], expected, rtol=RTOL, atol=ULPS * kw["base_lr"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(mode="exp", base_lr=0.1, num_epochs=3, iters_per_epoch=5), "LR_Scheduler: mode must be one of"),
        (
            dict(mode="cos", base_lr=0.1, num_epochs=3),
            "LR_Scheduler: iters_per_epoch must be an integer >= 1",
        ),
        (dict(mode="cos", base_lr=0.1, num_epochs=0, iters_per_epoch=5), "LR_Scheduler: num_epochs must be"),
        (dict(mode="step", base_lr=0.1, num_epochs=3, iters_per_epoch=5), "LR_Scheduler: lr_step must be"),
        (
            dict(mode="poly", base_lr=0.1, num_epochs=3, iters_per_epoch=5, warmup_epochs=0.5),
            "LR_Scheduler: warmup_epochs must be an integer >= 0, got 0.5",
        ),
    ],
)
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError) as err:
        LR_Scheduler(**kwargs)
    assert str(err.value).startswith(message)
