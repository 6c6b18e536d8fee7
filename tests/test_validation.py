"""Every concrete bad value a docstring rules out raises ValueError naming function, parameter, value."""

import numpy as np
import pytest

import optax_lrs as o

C = o.cosine_decay_schedule(1.0, 10)

BAD = [
    ("step_decay", dict(init_value=0.1, decay_rate=-0.5, decay_steps=10), "decay_rate", "-0.5"),
    ("step_decay", dict(init_value=0.1, decay_rate=0.5, decay_steps=0), "decay_steps", "0"),
    ("step_decay", dict(init_value=0.1, decay_rate=0.5, decay_steps=2.5), "decay_steps", "2.5"),
    ("step_decay", dict(init_value=float("nan"), decay_rate=0.5, decay_steps=2), "init_value", "nan"),
    ("multistep_decay", dict(init_value=0.1, boundaries=[30, 10], decay_rate=0.5), "boundaries", "[30, 10]"),
    ("multistep_decay", dict(init_value=0.1, boundaries=[-1, 10], decay_rate=0.5), "boundaries", "[-1, 10]"),
    ("multistep_decay", dict(init_value=0.1, boundaries=5, decay_rate=0.5), "boundaries", "5"),
    ("multistep_decay", dict(init_value=0.1, boundaries=[5], decay_rate=-1.0), "decay_rate", "-1.0"),
    (
        "piecewise_constant_schedule",
        dict(init_value=0.1, boundaries_and_scales={5: -0.5}),
        "boundaries_and_scales",
        "-0.5",
    ),
    (
        "piecewise_constant_schedule",
        dict(init_value=0.1, boundaries_and_scales={"a": 0.5}),
        "boundaries_and_scales",
        "a",
    ),
    ("exponential_decay", dict(init_value=0.1, transition_steps=10, decay_rate=-0.5), "decay_rate", "-0.5"),
    ("natural_exp_decay", dict(init_value=0.1, decay_rate=-1.0), "decay_rate", "-1.0"),
    ("natural_exp_decay", dict(init_value=0.1, decay_rate=1.0, decay_steps=0), "decay_steps", "0"),
    ("inverse_time_decay", dict(init_value=0.1, decay_rate=-1.0), "decay_rate", "-1.0"),
    ("inverse_time_decay", dict(init_value=0.1, decay_rate=1.0, decay_steps=-2), "decay_steps", "-2"),
    (
        "polynomial_schedule",
        dict(init_value=0.1, end_value=0.0, power=-1.0, transition_steps=10),
        "power",
        "-1.0",
    ),
    ("polynomial_decay", dict(init_value=0.1, decay_steps=0), "decay_steps", "0"),
    ("polynomial_decay", dict(init_value=0.1, decay_steps=10, power=-2.0), "power", "-2.0"),
    ("k_decay", dict(init_value=0.1, decay_steps=-1), "decay_steps", "-1"),
    ("k_decay", dict(init_value=0.1, decay_steps=10, k=0.0), "k", "0.0"),
    ("k_decay", dict(init_value=0.1, decay_steps=10, power=-1.0), "power", "-1.0"),
    ("cosine_decay_schedule", dict(init_value=0.1, decay_steps=-3), "decay_steps", "-3"),
    ("cosine_decay_schedule", dict(init_value=0.1, decay_steps=10, exponent=-1.0), "exponent", "-1.0"),
    (
        "exponential_decay_with_burnin",
        dict(init_value=0.1, decay_steps=0, decay_rate=0.5),
        "decay_steps",
        "0",
    ),
    (
        "exponential_decay_with_burnin",
        dict(init_value=0.1, decay_steps=10, decay_rate=-0.5),
        "decay_rate",
        "-0.5",
    ),
    (
        "exponential_decay_with_burnin",
        dict(init_value=0.1, decay_steps=10, decay_rate=0.5, burnin_steps=-1),
        "burnin_steps",
        "-1",
    ),
    ("cosine_decay_restarts", dict(init_value=0.1, first_decay_steps=0), "first_decay_steps", "0"),
    ("cosine_decay_restarts", dict(init_value=0.1, first_decay_steps=10, t_mul=0.5), "t_mul", "0.5"),
    ("cosine_decay_restarts", dict(init_value=0.1, first_decay_steps=10, m_mul=1.5), "m_mul", "1.5"),
    ("cosine_annealing_warm_restarts", dict(max_value=0.1, first_period=0), "first_period", "0"),
    (
        "cosine_annealing_warm_restarts",
        dict(max_value=0.1, first_period=5, period_mult=0.9),
        "period_mult",
        "0.9",
    ),
    ("cosine_annealing_warm_restarts", dict(max_value=0.1, first_period=5, decay=2.0), "decay", "2.0"),
    (
        "cosine_annealing_warm_restarts",
        dict(max_value=0.1, first_period=5, steps_per_period_unit=0),
        "steps_per_period_unit",
        "0",
    ),
    (
        "warmup_cosine_decay_schedule",
        dict(init_value=0.0, peak_value=1.0, warmup_steps=10, decay_steps=10),
        "decay_steps",
        "10",
    ),
    (
        "warmup_cosine_decay_schedule",
        dict(init_value=0.0, peak_value=1.0, warmup_steps=-1, decay_steps=10),
        "warmup_steps",
        "-1",
    ),
    (
        "warmup_hold_cosine_decay",
        dict(peak_value=1.0, total_steps=10, warmup_steps=8, hold_steps=5),
        "total_steps",
        "10",
    ),
    ("warmup_hold_cosine_decay", dict(peak_value=1.0, total_steps=10, hold_steps=-1), "hold_steps", "-1"),
    ("warmup_hold_cosine_decay", dict(peak_value=1.0, total_steps=0), "total_steps", "0"),
    ("transformer_schedule", dict(d_model=0), "d_model", "0"),
    ("transformer_schedule", dict(d_model=512, warmup_steps=0), "warmup_steps", "0"),
    (
        "piecewise_interpolate_schedule",
        dict(interpolate_type="cubic", init_value=1.0),
        "interpolate_type",
        "cubic",
    ),
    (
        "piecewise_interpolate_schedule",
        dict(interpolate_type="linear", init_value=1.0, boundaries_and_scales={5: -1.0}),
        "boundaries_and_scales",
        "-1.0",
    ),
    ("linear_onecycle_schedule", dict(transition_steps=0, peak_value=1.0), "transition_steps", "0"),
    (
        "linear_onecycle_schedule",
        dict(transition_steps=10, peak_value=1.0, pct_start=1.5),
        "pct_start",
        "1.5",
    ),
    (
        "linear_onecycle_schedule",
        dict(transition_steps=10, peak_value=1.0, pct_start=0.5, pct_final=0.2),
        "pct_final",
        "0.2",
    ),
    (
        "linear_onecycle_schedule",
        dict(transition_steps=10, peak_value=1.0, div_factor=0.0),
        "div_factor",
        "0.0",
    ),
    ("cosine_onecycle_schedule", dict(transition_steps=-5, peak_value=1.0), "transition_steps", "-5"),
    (
        "cosine_onecycle_schedule",
        dict(transition_steps=10, peak_value=1.0, final_div_factor=-1.0),
        "final_div_factor",
        "-1.0",
    ),
    ("warmup", dict(schedule=C, warmup_steps=-1), "warmup_steps", "-1"),
    ("warmup", dict(schedule=C, warmup_steps=5, mode="quadratic"), "mode", "quadratic"),
    ("warmup", dict(schedule=C, warmup_steps=5, mode="exponential", init_value=0.0), "init_value", "0.0"),
    ("warmup", dict(schedule="not a schedule", warmup_steps=5), "schedule", "not a schedule"),
    ("join_schedules", dict(schedules=[C, C], boundaries=[]), "boundaries", "[]"),
    ("join_schedules", dict(schedules=[C, C, C], boundaries=[20, 10]), "boundaries", "[20, 10]"),
    ("sgdr_schedule", dict(cosine_kwargs=[]), "cosine_kwargs", "[]"),
    ("sgdr_schedule", dict(cosine_kwargs=[dict(init_value=0.0)]), "cosine_kwargs[0]", "peak_value"),
    ("cyclic_schedule", dict(base_value=0.1, max_value=1.0, step_size_up=0), "step_size_up", "0"),
    (
        "cyclic_schedule",
        dict(base_value=0.1, max_value=1.0, step_size_up=5, step_size_down=-1),
        "step_size_down",
        "-1",
    ),
    (
        "cyclic_schedule",
        dict(base_value=0.1, max_value=1.0, step_size_up=5, mode="sawtooth"),
        "mode",
        "sawtooth",
    ),
    ("cyclic_schedule", dict(base_value=0.1, max_value=1.0, step_size_up=5, gamma=1.5), "gamma", "1.5"),
    ("one_cycle_schedule", dict(max_value=1.0, total_steps=0), "total_steps", "0"),
    ("one_cycle_schedule", dict(max_value=1.0, total_steps=10, pct_start=1.0), "pct_start", "1.0"),
    ("one_cycle_schedule", dict(max_value=1.0, total_steps=10, anneal="cosine"), "anneal", "cosine"),
    ("one_cycle_schedule", dict(max_value=1.0, total_steps=10, div_factor=0.0), "div_factor", "0.0"),
    (
        "one_cycle_schedule",
        dict(max_value=1.0, total_steps=10, final_div_factor=-1.0),
        "final_div_factor",
        "-1.0",
    ),
    (
        "wsd_schedule",
        dict(peak_value=1.0, warmup_steps=-1, stable_steps=5, decay_steps=5),
        "warmup_steps",
        "-1",
    ),
    (
        "wsd_schedule",
        dict(peak_value=1.0, warmup_steps=1, stable_steps=-5, decay_steps=5),
        "stable_steps",
        "-5",
    ),
    (
        "wsd_schedule",
        dict(peak_value=1.0, warmup_steps=1, stable_steps=5, decay_steps=-5),
        "decay_steps",
        "-5",
    ),
    (
        "wsd_schedule",
        dict(peak_value=1.0, warmup_steps=1, stable_steps=5, decay_steps=5, decay_shape="exp"),
        "decay_shape",
        "exp",
    ),
    ("inverse_sqrt_schedule", dict(peak_value=1.0, warmup_steps=-1), "warmup_steps", "-1"),
    ("inverse_sqrt_schedule", dict(peak_value=1.0, warmup_steps=10, timescale=0), "timescale", "0"),
    ("tanh_decay", dict(init_value=1.0, decay_steps=0), "decay_steps", "0"),
    ("tanh_decay", dict(init_value=1.0, decay_steps=10, lower=3.0, upper=-7.0), "upper", "-7.0"),
    (
        "tri_stage_schedule",
        dict(peak_value=1.0, warmup_steps=-1, hold_steps=1, decay_steps=1),
        "warmup_steps",
        "-1",
    ),
    (
        "tri_stage_schedule",
        dict(peak_value=1.0, warmup_steps=1, hold_steps=-1, decay_steps=1),
        "hold_steps",
        "-1",
    ),
    (
        "tri_stage_schedule",
        dict(peak_value=1.0, warmup_steps=1, hold_steps=1, decay_steps=-1),
        "decay_steps",
        "-1",
    ),
    (
        "tri_stage_schedule",
        dict(peak_value=1.0, warmup_steps=1, hold_steps=1, decay_steps=1, final_scale=0.0),
        "final_scale",
        "0.0",
    ),
    ("clip", dict(schedule=C, min_value=0.5, max_value=0.1), "max_value", "0.1"),
    ("per_epoch", dict(schedule=C, steps_per_epoch=0), "steps_per_epoch", "0"),
    ("staircase", dict(schedule=C, every=0), "every", "0"),
    ("repeat", dict(schedule=C, period=0), "period", "0"),
    ("repeat", dict(schedule=C, period=10, period_mult=0.5), "period_mult", "0.5"),
    ("repeat", dict(schedule=C, period=10, decay=1.5), "decay", "1.5"),
    ("select", dict(schedules=[C, C], index=2), "index", "2"),
    ("select", dict(schedules=[], index=0), "schedules", "[]"),
    ("binary", dict(op="pow", left=C, right=2.0), "op", "pow"),
    ("from_fn", dict(fn="no_such_module:f"), "fn", "no_such_module:f"),
    ("shift", dict(schedule=C, steps=1.5), "steps", "1.5"),
    ("constant_schedule", dict(value="high"), "value", "high"),
    ("constant_schedule", dict(value=True), "value", "True"),
    # the public parameter is named, not the field that stores it (end_value, transition_steps)
    (
        "warmup_constant_schedule",
        dict(init_value=0.0, peak_value=float("nan"), warmup_steps=10),
        "peak_value",
        "nan",
    ),
    (
        "warmup_constant_schedule",
        dict(init_value=0.0, peak_value=1.0, warmup_steps=2.5),
        "warmup_steps",
        "2.5",
    ),
    # flags are bools, not truthy values
    ("polynomial_decay", dict(init_value=1.0, decay_steps=10, cycle="false"), "cycle", "'false'"),
    (
        "exponential_decay",
        dict(init_value=1.0, transition_steps=10, decay_rate=0.5, staircase=0),
        "staircase",
        "0",
    ),
    ("warmup", dict(schedule=C, warmup_steps=5, shift=None), "shift", "None"),
    # None for a required number, strings, lists for a scalar, float32 overflow, int32 overflow
    ("cosine_decay_schedule", dict(init_value=None, decay_steps=10), "init_value", "None"),
    ("cosine_decay_schedule", dict(init_value="0.1", decay_steps=10), "init_value", "'0.1'"),
    ("cosine_decay_schedule", dict(init_value=[0.1, 0.2], decay_steps=10), "init_value", "[0.1, 0.2]"),
    ("cosine_decay_schedule", dict(init_value=1e39, decay_steps=10), "init_value", "1e+39"),
    ("cosine_decay_schedule", dict(init_value=1.0, decay_steps=2**31), "decay_steps", "2147483648"),
    ("cosine_decay_schedule", dict(init_value=1.0, decay_steps=10, alpha=complex(1, 2)), "alpha", "(1+2j)"),
    ("k_decay", dict(init_value=1.0, decay_steps=10, k=1e-50), "k", "1e-50"),  # 0 in float32
    ("linear_onecycle_schedule", dict(transition_steps=None, peak_value=1.0), "transition_steps", "None"),
    ("tanh_decay", dict(init_value=1.0, decay_steps=10, lower=None), "lower", "None"),
    (
        "piecewise_constant_schedule",
        dict(init_value=0.1, boundaries_and_scales={5: "0.5"}),
        "boundaries_and_scales",
        "0.5",
    ),
    (
        "sgdr_schedule",
        dict(cosine_kwargs=[dict(init_value=0.0, peak_value=float("nan"), warmup_steps=1, decay_steps=10)]),
        "cosine_kwargs[0]",
        "peak_value",
    ),
    ("join_schedules", dict(schedules=None, boundaries=[]), "schedules", "None"),
    ("binary", dict(op="div", left=C, right=0.0), "right", "0.0"),
    ("clip", dict(schedule=C, min_value="0.1"), "min_value", "'0.1'"),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "param", "shown"), BAD, ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(BAD)]
)
def test_bad_values_raise_value_error(name, kwargs, param, shown):
    with pytest.raises(ValueError) as info:
        o.get(name, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{name}: {param}"), message
    assert shown in message, message


def test_minimum_maximum_scale_name_themselves():
    for build, start in [
        (lambda: o.minimum(C, None), "minimum: b "),
        (lambda: o.maximum("abc", C), "maximum: a "),
        (lambda: o.scale(C, float("inf")), "scale: factor "),
    ]:
        with pytest.raises(ValueError) as info:
            build()
        assert str(info.value).startswith(start), str(info.value)


def test_unknown_mode_lists_valid_ones():
    with pytest.raises(ValueError, match="'linear', 'cosine', 'exponential', 'constant', 'scale'"):
        o.warmup(C, 5, mode="cubic")


def test_a_bad_value_in_a_large_batch_gives_a_short_message():
    """One bad power among 20 000: the message names the function, the parameter, the start of the
    values and their number, not 20 000 of them."""
    powers = np.full(20_000, 0.0731)
    powers[7] = -1.3
    with pytest.raises(ValueError) as e:
        o.polynomial_decay(1.0, 37, power=powers)
    message = str(e.value)
    assert message.startswith("polynomial_decay: power must be >= 0, got [0.0731")
    assert "-1.3" in message and message.endswith("... (20000 values)") and len(message) < 320
