"""PyTorch-Encoding's `LR_Scheduler` by its own name.

The original (`encoding.utils.LR_Scheduler`) is a callable object that a training loop calls before
every batch, `scheduler(optimizer, i, epoch)`, and that writes the rate into the optimizer's
parameter groups. Here it is one optax_lrs `Schedule` of the step.
"""

from __future__ import annotations

import jax
import numpy as np

from optax_lrs._base import Schedule, check, check_choice
from optax_lrs._compose import per_epoch
from optax_lrs._cosine import cosine_decay_schedule
from optax_lrs._decay import polynomial_decay, step_decay
from optax_lrs._warmup import warmup

__all__ = ["LR_Scheduler"]

_MODES = ("cos", "poly", "step")


def _is_count(a, least):
    return (a >= least) & (a == np.floor(a))


def LR_Scheduler(
    mode: str,
    base_lr: jax.typing.ArrayLike,
    num_epochs: jax.typing.ArrayLike,
    iters_per_epoch: jax.typing.ArrayLike = 0,
    lr_step: jax.typing.ArrayLike = 0,
    warmup_epochs: jax.typing.ArrayLike = 0,
) -> Schedule:
    """PyTorch-Encoding's `LR_Scheduler(mode, base_lr, num_epochs, iters_per_epoch=0, lr_step=0,
    warmup_epochs=0)` as a schedule of optax's step.

    The original is called before batch i of epoch `epoch` (both from 0) with
    T = epoch · iters_per_epoch + i, which is optax's count t (0 on the first update); with
    N = num_epochs · iters_per_epoch and W = warmup_epochs · iters_per_epoch:

    - 'cos': base_lr · ½(1 + cos(π T / N)), here `cosine_decay_schedule(base_lr, N)`;
    - 'poly': base_lr · (1 − T / N)^0.9, here `polynomial_decay(base_lr, N, 0.0, 0.9)`;
    - 'step': base_lr · 0.1^(epoch // lr_step) with epoch = T // iters_per_epoch, here
      `per_epoch(step_decay(base_lr, 0.1, lr_step), iters_per_epoch)`;
    - then, for T < W, the rate is scaled by T / W: `warmup(..., W, mode="scale", shift=False)`
      (0 at the first update).

    Past the end (T > N, which the original's training loop never reaches) 'cos' and 'poly' hold 0,
    where the original formula would rise again ('cos') or become complex ('poly'); 'step' goes on
    dividing by 10 every lr_step epochs.

    Args:
      mode: 'cos', 'poly' or 'step' (the original raises for anything else).
      base_lr: the peak rate.
      num_epochs: an integer >= 1.
      iters_per_epoch: updates per epoch, an integer >= 1. (The original's default 0 divides by zero
        in 'cos' and 'poly'; in 'step' it leaves the epoch to the caller, which a function of the step
        cannot: required here.)
      lr_step: epochs between drops in 'step' mode, an integer >= 1 there (the original asserts it).
      warmup_epochs: an integer >= 0 (with warmup_epochs · iters_per_epoch whole updates).

    Example:
      >>> s = LR_Scheduler("poly", 0.01, num_epochs=10, iters_per_epoch=100, warmup_epochs=1)
      >>> [round(float(s(t)), 6) for t in (0, 50, 100, 1000)]
      [0.0, 0.004774, 0.009095, 0.0]
    """
    fn = "LR_Scheduler"
    check_choice(fn, "mode", mode, _MODES)
    check(fn, "num_epochs", num_epochs, "an integer >= 1", lambda a: _is_count(a, 1))
    check(fn, "iters_per_epoch", iters_per_epoch, "an integer >= 1", lambda a: _is_count(a, 1))
    check(fn, "warmup_epochs", warmup_epochs, "an integer >= 0", lambda a: _is_count(a, 0))
    total = num_epochs * iters_per_epoch
    if mode == "cos":
        schedule = cosine_decay_schedule(base_lr, total)
    elif mode == "poly":
        schedule = polynomial_decay(base_lr, total, 0.0, 0.9)
    else:
        check(fn, "lr_step", lr_step, "an integer >= 1 in 'step' mode", lambda a: _is_count(a, 1))
        schedule = per_epoch(step_decay(base_lr, 0.1, lr_step), iters_per_epoch)
    return warmup(schedule, warmup_epochs * iters_per_epoch, mode="scale", shift=False)
