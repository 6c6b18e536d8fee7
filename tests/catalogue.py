"""The cases the generic suite runs over: one entry per schedule (adding an entry is all a new
schedule needs for jit / vmap / grad / config / huge-step coverage).

`kwargs` are the constructor's arguments. `vmap` gives, for the numeric parameters whose other
values must respect a constraint, two valid values to batch over; every other numeric parameter is
batched over [v, default_other(v)].
"""

import dataclasses
from typing import Any

import jax.numpy as jnp
import numpy as np

import optax_lrs as o


@dataclasses.dataclass
class Case:
    name: str
    kwargs: dict[str, Any]
    vmap: dict[str, list[Any]] = dataclasses.field(default_factory=dict)

    @property
    def id(self):
        return f"{self.name}-{sorted(self.kwargs)}"


def _cos(**kw):
    return o.cosine_decay_schedule(**kw)


def damped(t, lr, k):
    """A user's schedule for `from_fn` (importable, so its config round-trips)."""
    return lr / (1.0 + k * jnp.sqrt(t))


CASES = [
    Case("constant_schedule", dict(value=0.3)),
    Case(
        "step_decay",
        dict(init_value=0.1, decay_rate=0.5, decay_steps=10, offset=1, end_value=0.01),
        vmap={"offset": [1, 5]},
    ),
    Case("step_decay", dict(init_value=0.1, decay_rate=0.5, decay_steps=7)),
    Case("multistep_decay", dict(init_value=1.0, boundaries=[25, 75, 90], decay_rate=0.5)),
    Case("multistep_decay", dict(init_value=1.0, boundaries=[25, 75], decay_rate=0.3, end_value=0.2)),
    Case("piecewise_constant_schedule", dict(init_value=2.0, boundaries_and_scales={10: 0.5, 50: 0.1})),
    Case("exponential_decay", dict(init_value=0.5, transition_steps=7, decay_rate=0.8)),
    Case(
        "exponential_decay",
        dict(
            init_value=0.5,
            transition_steps=7,
            decay_rate=0.8,
            transition_begin=20,
            staircase=True,
            end_value=0.1,
        ),
    ),
    Case("natural_exp_decay", dict(init_value=0.1, decay_rate=0.1, decay_steps=3)),
    Case("natural_exp_decay", dict(init_value=0.1, decay_rate=0.1, decay_steps=3, staircase=True)),
    Case("inverse_time_decay", dict(init_value=0.1, decay_rate=0.5, decay_steps=10)),
    Case("inverse_time_decay", dict(init_value=0.1, decay_rate=0.5, decay_steps=10, staircase=True)),
    Case(
        "polynomial_schedule",
        dict(init_value=1.0, end_value=0.01, power=2.0, transition_steps=80, transition_begin=5),
    ),
    Case("linear_schedule", dict(init_value=0.0, end_value=0.3, transition_steps=33, transition_begin=7)),
    Case("polynomial_decay", dict(init_value=1.0, decay_steps=40, end_value=0.1, power=0.9)),
    Case("polynomial_decay", dict(init_value=1.0, decay_steps=40, end_value=0.1, power=2.0, cycle=True)),
    Case("k_decay", dict(init_value=1.0, decay_steps=60, end_value=0.01, k=3.0, power=4.0)),
    Case("cosine_decay_schedule", dict(init_value=0.7, decay_steps=50, alpha=0.1, exponent=2.0)),
    Case(
        "exponential_decay_with_burnin",
        dict(
            init_value=0.1,
            decay_steps=10,
            decay_rate=0.7,
            burnin_value=0.01,
            burnin_steps=15,
            min_value=0.005,
        ),
    ),
    Case(
        "cosine_decay_restarts",
        dict(init_value=1.0, first_decay_steps=20, t_mul=2.0, m_mul=0.8, alpha=0.05),
        vmap={"t_mul": [2.0, 1.5]},
    ),
    Case(
        "cosine_decay_restarts",
        dict(init_value=1.0, first_decay_steps=20, t_mul=1.0),
        vmap={"t_mul": [1.0, 2.0]},
    ),
    Case(
        "cosine_annealing_warm_restarts",
        dict(
            max_value=1.0, first_period=3, period_mult=1.5, min_value=0.01, decay=0.8, steps_per_period_unit=4
        ),
        vmap={"period_mult": [1.5, 2.0]},
    ),
    Case(
        "cosine_annealing_warm_restarts", dict(max_value=1.0, first_period=10), vmap={"first_period": [10, 7]}
    ),
    Case(
        "sgdr_schedule",
        dict(
            cosine_kwargs=[
                dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=30),
                dict(init_value=0.0, peak_value=0.5, warmup_steps=5, decay_steps=60, end_value=0.01),
            ]
        ),
    ),
    Case(
        "warmup_cosine_decay_schedule",
        dict(init_value=0.01, peak_value=0.5, warmup_steps=10, decay_steps=70, end_value=0.02, exponent=1.5),
        vmap={"warmup_steps": [10, 0], "decay_steps": [70, 11]},
    ),
    Case(
        "warmup_hold_cosine_decay",
        dict(peak_value=0.5, total_steps=80, init_value=0.01, warmup_steps=10, hold_steps=15, end_value=0.02),
        vmap={"total_steps": [80, 25], "warmup_steps": [10, 0], "hold_steps": [15, 0]},
    ),
    Case("warmup_constant_schedule", dict(init_value=0.01, peak_value=0.5, warmup_steps=12)),
    Case(
        "warmup_exponential_decay_schedule",
        dict(
            init_value=0.01,
            peak_value=0.5,
            warmup_steps=10,
            transition_steps=8,
            decay_rate=0.7,
            end_value=0.05,
        ),
    ),
    Case(
        "piecewise_interpolate_schedule",
        dict(interpolate_type="cosine", init_value=1.0, boundaries_and_scales={10: 0.5, 40: 0.1}),
    ),
    Case(
        "linear_onecycle_schedule", dict(transition_steps=90, peak_value=0.4), vmap={"pct_start": [0.3, 0.2]}
    ),
    Case("cosine_onecycle_schedule", dict(transition_steps=90, peak_value=0.4, pct_start=0.25)),
    Case("transformer_schedule", dict(d_model=512.0, warmup_steps=40, scale=2.0)),
    Case("warmup", dict(schedule=_cos(init_value=1.0, decay_steps=50), warmup_steps=10, init_value=0.1)),
    Case(
        "warmup",
        dict(schedule=_cos(init_value=1.0, decay_steps=50), warmup_steps=10, mode="cosine", shift=False),
    ),
    Case(
        "warmup",
        dict(
            schedule=_cos(init_value=1.0, decay_steps=50),
            warmup_steps=10,
            init_value=0.01,
            mode="exponential",
        ),
    ),
    Case(
        "warmup",
        dict(
            schedule=_cos(init_value=1.0, decay_steps=50), warmup_steps=10, init_value=0.05, mode="constant"
        ),
    ),
    Case(
        "warmup",
        dict(schedule=_cos(init_value=1.0, decay_steps=50), warmup_steps=10, mode="scale", shift=False),
    ),
    Case(
        "join_schedules",
        dict(
            schedules=[_cos(init_value=1.0, decay_steps=20), _cos(init_value=0.5, decay_steps=30)],
            boundaries=[25],
        ),
    ),
    Case(
        "join_schedules",
        dict(
            schedules=[o.linear_schedule(0.0, 1.0, 10), _cos(init_value=1.0, decay_steps=30)], boundaries=[10]
        ),
    ),
    Case(
        "select",
        dict(
            schedules=[
                _cos(init_value=1.0, decay_steps=30),
                o.step_decay(1.0, 0.5, 10),
                o.constant_schedule(0.2),
            ],
            index=1,
        ),
        vmap={"index": [1, 2]},
    ),
    Case("from_fn", dict(fn=damped, lr=0.5, k=0.3)),
    Case("binary", dict(op="mul", left=_cos(init_value=1.0, decay_steps=30), right=0.5)),
    Case("binary", dict(op="div", left=o.step_decay(1.0, 0.5, 10), right=4.0)),
    Case("cyclic_schedule", dict(base_value=0.1, max_value=1.0, step_size_up=7, step_size_down=5)),
    Case("cyclic_schedule", dict(base_value=0.1, max_value=1.0, step_size_up=6, mode="triangular2")),
    Case(
        "cyclic_schedule", dict(base_value=0.1, max_value=1.0, step_size_up=6, mode="exp_range", gamma=0.99)
    ),
    Case("one_cycle_schedule", dict(max_value=0.5, total_steps=80, pct_start=0.25)),
    Case(
        "one_cycle_schedule",
        dict(max_value=0.5, total_steps=80, pct_start=0.25, anneal="linear", three_phase=True),
        vmap={"pct_start": [0.25, 0.4]},
    ),
    Case(
        "one_cycle_momentum",
        dict(total_steps=83, pct_start=0.27, base_momentum=0.8137, max_momentum=0.9431),
        vmap={
            "pct_start": [0.27, 0.4913],
            "base_momentum": [0.8137, 0.7919],
            "max_momentum": [0.9431, 0.9617],
        },
    ),
    Case(
        "one_cycle_momentum",
        dict(
            total_steps=97,
            pct_start=0.3317,
            anneal="linear",
            base_momentum=0.7919,
            max_momentum=0.9617,
            three_phase=True,
        ),
        vmap={
            "pct_start": [0.3317, 0.4913],
            "base_momentum": [0.7919, 0.8533],
            "max_momentum": [0.9617, 0.9431],
        },
    ),
    Case(
        "cyclic_momentum",
        dict(step_size_up=7, step_size_down=11, base_momentum=0.8137, max_momentum=0.9431),
        vmap={"base_momentum": [0.8137, 0.7919], "max_momentum": [0.9431, 0.9617]},
    ),
    Case("cyclic_momentum", dict(step_size_up=6, base_momentum=0.7919, mode="triangular2")),
    Case(
        "cyclic_momentum",
        dict(step_size_up=9, step_size_down=4, max_momentum=0.9617, mode="exp_range", gamma=0.9917),
        vmap={"gamma": [0.9917, 0.9731], "max_momentum": [0.9617, 0.9431]},
    ),
    Case(
        "wsd_schedule", dict(peak_value=1.0, warmup_steps=10, stable_steps=20, decay_steps=30, end_value=0.1)
    ),
    Case(
        "wsd_schedule",
        dict(
            peak_value=1.0,
            warmup_steps=10,
            stable_steps=20,
            decay_steps=30,
            init_value=0.1,
            decay_shape="1-sqrt",
        ),
    ),
    Case("inverse_sqrt_schedule", dict(peak_value=1.0, warmup_steps=10, timescale=25)),
    Case("tanh_decay", dict(init_value=1.0, decay_steps=60, end_value=0.01, lower=-6.0, upper=4.0)),
    Case(
        "tri_stage_schedule",
        dict(peak_value=1.0, warmup_steps=10, hold_steps=15, decay_steps=30, init_scale=0.05),
    ),
    Case("clip", dict(schedule=_cos(init_value=1.0, decay_steps=30), min_value=0.2, max_value=0.8)),
    Case("shift", dict(schedule=_cos(init_value=1.0, decay_steps=30), steps=12)),
    Case("per_epoch", dict(schedule=o.step_decay(1.0, 0.5, 3), steps_per_epoch=7)),
    # epochs of 7/3 steps
    Case("per_epoch", dict(schedule=o.step_decay(0.731, 0.61, 3), steps_per_epoch=7, ticks=3)),
    Case("staircase", dict(schedule=_cos(init_value=1.0, decay_steps=60), every=9)),
    Case(
        "repeat", dict(schedule=_cos(init_value=1.0, decay_steps=20), period=20, period_mult=1.5, decay=0.7)
    ),
    # a cosine restarting every 37.5 steps
    Case("repeat", dict(schedule=_cos(init_value=0.731, decay_steps=75), period=75, ticks=2)),
    Case(
        "repeat",
        dict(
            schedule=_cos(init_value=0.731, decay_steps=41), period=41, period_mult=1.37, decay=0.83, ticks=3
        ),
        vmap={"period_mult": [1.37, 1.61]},
    ),
    Case("time_warp", dict(schedule=_cos(init_value=0.731, decay_steps=53), steps=53, k=1.7)),
    Case("time_warp", dict(schedule=o.inverse_time_decay(0.731, 0.37, 13), steps=61, k=0.43)),
    # `length` is static (an array shape): a NumPy integer, which the generic suite does not take for a
    # numeric hyperparameter to vmap over; the constant factor is the number it batches instead
    Case("cumulative_product", dict(schedule=0.9731, length=np.int64(37))),
    Case("ema_warmup", dict(gamma=1.3, power=0.71, max_decay=0.9731)),
    Case("ema_warmup", dict(gamma=0.37, power=2.3, max_decay=0.9913), vmap={"power": [2.3, 1.1]}),
    Case(
        "swa_schedule",
        dict(schedule=_cos(init_value=1.0, decay_steps=60), swa_start=40, swa_value=0.0371, anneal_steps=23),
    ),
    Case(
        "swa_schedule",
        dict(
            schedule=o.step_decay(1.0, 0.5, 13),
            swa_start=37,
            swa_value=0.0371,
            anneal_steps=7,
            anneal="linear",
        ),
    ),
]
