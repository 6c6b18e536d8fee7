"""SPEC 3b schedules against PyTorch, transformers, and NumPy float64 formulas."""

import numpy as np
import pytest
from test_decay import torch_lrs

import optax_lrs as o

T = np.arange(0, 400)


@pytest.mark.parametrize(
    ("up", "down", "mode", "gamma"),
    [
        (10, None, "triangular", 1.0),
        (7, 13, "triangular", 1.0),
        (5, 20, "triangular2", 1.0),
        (8, 3, "exp_range", 0.99),
    ],
)
def test_torch_cycliclr(up, down, mode, gamma):
    expected = torch_lrs(
        lambda torch, opt: torch.optim.lr_scheduler.CyclicLR(
            opt,
            base_lr=0.01,
            max_lr=0.1,
            step_size_up=up,
            step_size_down=down,
            mode=mode,
            gamma=gamma,
            cycle_momentum=False,
        ),
        400,
        0.01,
    )
    ours = o.cyclic_schedule(0.01, 0.1, up, down, mode, gamma)
    np.testing.assert_allclose(ours(T), expected, rtol=5e-6, atol=1e-9)


def test_cyclic_phase_exact_at_huge_steps():
    s = o.cyclic_schedule(0.01, 0.1, 7, 13)
    j = np.arange(20)
    k = (2**31 - 1 - 20) // 20
    np.testing.assert_array_equal(s((k * 20 + j).astype(np.int32)), s(j))


@pytest.mark.parametrize(
    ("pct", "anneal", "three"),
    [(0.3, "cos", False), (0.25, "linear", False), (0.3, "cos", True), (0.4, "linear", True)],
)
def test_torch_onecyclelr(pct, anneal, three):
    total = 200
    expected = torch_lrs(
        lambda torch, opt: torch.optim.lr_scheduler.OneCycleLR(
            opt,
            max_lr=0.5,
            total_steps=total,
            pct_start=pct,
            anneal_strategy=anneal,
            div_factor=20.0,
            final_div_factor=100.0,
            three_phase=three,
            cycle_momentum=False,
        ),
        total,
        0.5,
    )
    ours = o.one_cycle_schedule(0.5, total, pct, anneal, 20.0, 100.0, three)
    np.testing.assert_allclose(ours(np.arange(total)), expected, rtol=5e-6, atol=1e-9)


def hf_lambda(make):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = make(transformers, opt)
    return np.array([sched.lr_lambdas[0](t) for t in T])


@pytest.mark.parametrize(("shape", "ratio"), [("linear", 0.0), ("cosine", 0.1), ("1-sqrt", 0.05)])
def test_transformers_wsd(shape, ratio):
    warm, stable, decay = 30, 100, 150
    expected = hf_lambda(
        lambda tr, opt: tr.get_wsd_schedule(
            opt,
            num_warmup_steps=warm,
            num_decay_steps=decay,
            num_stable_steps=stable,
            decay_type=shape,
            min_lr_ratio=ratio,
        )
    )
    # HF's warmup starts at min_lr_ratio, its decay ends there
    ours = o.wsd_schedule(
        2.0, warm, stable, decay, init_value=2.0 * ratio, end_value=2.0 * ratio, decay_shape=shape
    )
    np.testing.assert_allclose(ours(T), 2.0 * expected, rtol=5e-6, atol=1e-7)


@pytest.mark.parametrize("shape", ["square", "sqrt"])
def test_wsd_other_shapes_formula(shape):
    p = np.clip((T - 130) / 150, 0, 1)
    f = {"square": 1 - p**2, "sqrt": np.sqrt(1 - p)}[shape]
    expected = np.where(T < 30, T / 30, np.where(T < 130, 1.0, 0.1 + 0.9 * f))
    expected = np.where(T >= 280, 0.1, expected)
    ours = o.wsd_schedule(1.0, 30, 100, 150, end_value=0.1, decay_shape=shape)
    np.testing.assert_allclose(ours(T), expected, rtol=5e-6, atol=1e-7)


@pytest.mark.parametrize(("warm", "timescale"), [(50, None), (20, 100), (0, None)])
def test_transformers_inverse_sqrt(warm, timescale):
    expected = hf_lambda(lambda tr, opt: tr.get_inverse_sqrt_schedule(opt, warm, timescale))
    np.testing.assert_allclose(o.inverse_sqrt_schedule(0.3, warm, timescale)(T), 0.3 * expected, rtol=5e-6)


@pytest.mark.parametrize(("lower", "upper", "end"), [(-7.0, 3.0, 0.0), (-6.0, 4.0, 0.01)])
def test_tanh_decay_formula(lower, upper, end):
    """timm TanhLRScheduler (one cycle, no warmup): lr_min + ½(lr_max − lr_min)(1 − tanh(lb(1 − tr) +
    ub·tr)), tr = t / t_initial; timm is not importable here without torchvision, so its formula."""
    total = 300
    tr = T / total
    expected = end + 0.5 * (1.0 - end) * (1 - np.tanh(lower * (1 - tr) + upper * tr))
    expected = np.where(T >= total, end, expected)  # timm: lr_min from t = t_initial on
    np.testing.assert_allclose(o.tanh_decay(1.0, total, end, lower, upper)(T), expected, rtol=5e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("warm", "hold", "decay", "init", "final"),
    [(50, 100, 150, 0.01, 0.01), (0, 10, 200, 0.1, 0.05), (40, 0, 100, 0.0, 0.001)],
)
def test_tri_stage_formula(warm, hold, decay, init, final):
    """fairseq tri_stage: init + (peak − init)·t/warmup, hold, peak·exp(−ln(1/final)·s/decay), final·peak."""
    peak = 0.5
    decay_factor = -np.log(final) / decay
    s = T - warm - hold
    expected = np.where(
        T < warm,
        init * peak + (peak - init * peak) * T / max(warm, 1),
        np.where(T < warm + hold, peak, np.where(s < decay, peak * np.exp(-decay_factor * s), final * peak)),
    )
    np.testing.assert_allclose(
        o.tri_stage_schedule(peak, warm, hold, decay, init, final)(T), expected, rtol=5e-6
    )
