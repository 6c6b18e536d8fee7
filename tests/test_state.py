"""hyperparams and current_lr: against PyTorch's lr along OneCycleLR (and times ReduceLROnPlateau), and
optax's own states at every depth of nested optimizers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.contrib
import pytest

import optax_lrs as o

torch = pytest.importorskip("torch")

RTOL = 2e-6  # float32 rounding of PyTorch's float64 lr (and of the product with the plateau scale)
N = 50
PARAMS = {"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)}
GRADS = {"w": jnp.full((2, 3), 0.731), "b": jnp.asarray([-1.3, 0.29, 2.07])}
inject = optax.inject_hyperparams


def torch_one_cycle(n, **kwargs):
    """The lr each of n `optimizer.step()`s used, read as `get_last_lr()` before the `scheduler.step()`
    that follows it; and `get_last_lr()` right after construction."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, total_steps=n, **kwargs)
    at_construction = sched.get_last_lr()[0]
    used = []
    for k in range(n):
        opt.step()
        used.append(sched.get_last_lr()[0])
        assert used[-1] == opt.param_groups[0]["lr"]
        if k < n - 1:
            sched.step()
    return at_construction, np.array(used)


def torch_plateau(values, **kwargs):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    out = []
    for v in values:
        opt.step()
        sched.step(float(v))
        out.append(opt.param_groups[0]["lr"])
    return np.array(out)


def losses(n=N, seed=7):
    rng = np.random.default_rng(seed)
    return (1.93 + np.cumsum(rng.normal(0.0, 0.041, n))).astype(np.float32)


ONE_CYCLE = [
    dict(max_lr=0.0173, pct_start=0.27, anneal_strategy="cos", div_factor=13.0, final_div_factor=310.0),
    dict(max_lr=2.9, pct_start=0.41, anneal_strategy="linear", div_factor=7.0, final_div_factor=97.0),
]


def one_cycle(kw):
    return o.one_cycle_schedule(
        kw["max_lr"],
        N,
        pct_start=kw["pct_start"],
        anneal=kw["anneal_strategy"],
        div_factor=kw["div_factor"],
        final_div_factor=kw["final_div_factor"],
    )


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("kw", ONE_CYCLE, ids=["cos", "linear"])
def test_current_lr_is_torch_lr_of_last_step(kw, jit):
    """After update k (1-based) current_lr is the lr of PyTorch's k-th `optimizer.step()`; at init, the
    lr `get_last_lr()` returns right after construction. SGD's update confirms it is the rate used."""
    at_construction, used = torch_one_cycle(N, cycle_momentum=False, **kw)
    opt = inject(optax.sgd)(learning_rate=one_cycle(kw))
    state = opt.init(PARAMS)
    read = jax.jit(o.current_lr) if jit else o.current_lr
    np.testing.assert_allclose(read(state), at_construction, rtol=RTOL)
    update = jax.jit(opt.update)
    atol = RTOL * kw["max_lr"]  # float32 rounding at the scale of the curve (its tail is ~1e-4 of it)
    for k in range(N):
        u, state = update(GRADS, state)
        np.testing.assert_allclose(read(state), used[k], rtol=RTOL, atol=atol)
        np.testing.assert_allclose(u["b"], -read(state) * np.asarray(GRADS["b"]), rtol=RTOL)


@pytest.mark.parametrize(
    "settings",
    [
        dict(factor=0.37, patience=2, threshold=0.0173, cooldown=1),
        dict(factor=0.61, patience=1, threshold=0.02),
    ],
)
def test_current_lr_schedule_times_plateau(settings):
    """A schedule times a plateau scale (what PyTorch cannot chain): PyTorch's OneCycleLR lr times its
    ReduceLROnPlateau lr, each run on its own."""
    kw = ONE_CYCLE[0]
    _, used = torch_one_cycle(N, cycle_momentum=False, **kw)
    values = losses()
    scales = torch_plateau(values, **settings)
    assert len(np.unique(scales)) >= 3
    opt = optax.chain(inject(optax.sgd)(learning_rate=one_cycle(kw)), o.reduce_on_plateau(**settings))
    state = opt.init(PARAMS)
    np.testing.assert_allclose(o.current_lr(state), used[0], rtol=RTOL)
    update = jax.jit(lambda g, s, v: opt.update(g, s, PARAMS, value=v))
    for k, v in enumerate(values):
        u, state = update(GRADS, state, v)
        lr = o.current_lr(state)
        np.testing.assert_allclose(lr, used[k] * scales[k], rtol=RTOL, atol=RTOL * kw["max_lr"] * scales[k])
        np.testing.assert_allclose(u["w"], -lr * np.asarray(GRADS["w"]), rtol=RTOL)
        np.testing.assert_allclose(o.hyperparams(state)["plateau_scale"], scales[k], rtol=RTOL)


def test_current_lr_with_optax_contrib_plateau():
    values = losses()
    opt = optax.chain(
        inject(optax.sgd)(learning_rate=0.0173),
        optax.contrib.reduce_on_plateau(factor=0.37, patience=2, rtol=0.01),
    )
    state = opt.init(PARAMS)
    for v in values:
        _, state = opt.update(GRADS, state, PARAMS, value=v)
    scale = state[1].scale
    assert scale < 1
    np.testing.assert_allclose(o.current_lr(state), np.float32(0.0173) * scale, rtol=RTOL)
    assert o.hyperparams(state)["plateau_scale"] == scale


def test_current_lr_under_vmap():
    schedules = o.stack([o.cosine_decay_schedule(v, 20) for v in (0.1, 0.37, 2.9)])

    def run(schedule):
        opt = inject(optax.adam)(learning_rate=schedule)
        state = opt.init(PARAMS)
        for _ in range(7):
            _, state = opt.update(GRADS, state)
        return o.current_lr(state)

    expected = [optax.cosine_decay_schedule(v, 20)(6) for v in (0.1, 0.37, 2.9)]
    np.testing.assert_allclose(jax.jit(jax.vmap(run))(schedules), expected, rtol=RTOL)


# --- nested states --------------------------------------------------------------------------------


def after(opt, n, params=PARAMS, **extra):
    state = opt.init(params)
    update = jax.jit(lambda g, s: opt.update(g, s, params, **extra))
    for _ in range(n):
        _, state = update(GRADS, state)
    return state


def f32(x):
    return float(np.float32(x))


def test_hyperparams_under_chain():
    sched = optax.linear_schedule(0.37, 0.0, 10)
    state = after(
        optax.chain(inject(optax.scale_by_adam)(b1=0.83), inject(optax.sgd)(learning_rate=sched)), 4
    )
    hp = {k: float(v) for k, v in o.hyperparams(state).items()}
    assert hp == {
        "b1": f32(0.83),
        "b2": f32(0.999),
        "eps": f32(1e-8),
        "eps_root": 0.0,
        "learning_rate": f32(sched(3)),
    }
    assert float(o.current_lr(state)) == f32(sched(3))


def test_hyperparams_colliding_names_get_their_chain_position():
    state = after(
        optax.chain(inject(optax.sgd)(learning_rate=0.37), inject(optax.sgd)(learning_rate=0.029)), 1
    )
    assert {k: float(v) for k, v in o.hyperparams(state).items()} == {
        "0/learning_rate": f32(0.37),
        "1/learning_rate": f32(0.029),
    }
    with pytest.raises(
        ValueError, match=r"2 learning rates \(0/learning_rate, 1/learning_rate\).*hyperparams"
    ):
        o.current_lr(state)


def test_hyperparams_under_multi_transform_and_masked():
    params = {"head": jnp.zeros(3), "body": jnp.zeros((2, 3))}
    grads = {"head": jnp.ones(3), "body": jnp.ones((2, 3))}
    opt = optax.multi_transform(
        {
            "fast": optax.chain(
                inject(optax.sgd)(learning_rate=0.37), o.reduce_on_plateau(factor=0.5, patience=0)
            ),
            "slow": optax.masked(
                inject(optax.adam)(learning_rate=0.0173), lambda p: jax.tree.map(lambda _: True, p)
            ),
        },
        {"head": "fast", "body": "slow"},
    )
    state = opt.init(params)
    for v in [1.0, 2.0, 3.0]:
        _, state = opt.update(grads, state, params, value=v)
    hp = {k: float(v) for k, v in o.hyperparams(state).items()}
    assert hp["fast/0/learning_rate"] == f32(0.37)
    assert hp["slow/learning_rate"] == f32(0.0173)
    assert hp["b1"] == f32(0.9)
    assert hp["plateau_scale"] == 0.25  # PyTorch: patience 0, two bad epochs
    np.testing.assert_allclose(torch_plateau([1.0, 2.0, 3.0], factor=0.5, patience=0)[-1], 0.25)
    with pytest.raises(ValueError, match="2 learning rates"):
        o.current_lr(state)


def test_hyperparams_under_multisteps():
    """MultiSteps updates the inner state every k mini-steps: 7 mini-steps with k = 3 are 2 updates."""
    sched = optax.exponential_decay(0.37, 1, 0.83)
    values = [2.0, 1.0, 1.5, 1.7, 1.9, 2.1, 2.3]
    opt = optax.MultiSteps(
        optax.chain(inject(optax.adam)(learning_rate=sched), o.reduce_on_plateau(0.5, 0)), 3
    )
    state = opt.init(PARAMS)
    for v in values:
        _, state = opt.update(GRADS, state, PARAMS, value=v)
    hp = o.hyperparams(state)
    assert float(hp["learning_rate"]) == f32(sched(1))
    # the inner plateau saw the values of the 2 emitting mini-steps (3rd and 6th): 1.5 then 2.1
    expected = torch_plateau([1.5, 2.1], factor=0.5, patience=0)[-1]
    assert float(hp["plateau_scale"]) == expected == 0.5
    np.testing.assert_allclose(o.current_lr(state), f32(sched(1)) * 0.5, rtol=RTOL)


def test_nested_inject_hyperparams():
    def adam_with_lr(learning_rate, b1):
        return inject(optax.adam)(learning_rate=learning_rate, b1=b1)

    state = after(inject(adam_with_lr)(learning_rate=0.0173, b1=0.83), 2)
    hp = {k: float(v) for k, v in o.hyperparams(state).items()}
    assert hp["learning_rate"] == hp["inner_state/learning_rate"] == f32(0.0173)
    assert hp["b1"] == hp["inner_state/b1"] == f32(0.83)
    assert hp["b2"] == f32(0.999)
    assert float(o.current_lr(state)) == f32(0.0173)


def test_deprecated_inject_hyperparams_state():
    state = (
        optax.InjectHyperparamsState(
            count=jnp.asarray(3), hyperparams={"learning_rate": jnp.asarray(0.29)}, inner_state=()
        ),
    )
    assert float(o.hyperparams(state)["learning_rate"]) == f32(0.29)
    assert float(o.current_lr(state)) == f32(0.29)


def test_current_lr_needs_an_injected_rate():
    state = after(
        optax.chain(optax.adam(optax.linear_schedule(0.1, 0.0, 10)), o.reduce_on_plateau()), 2, value=1.0
    )
    assert list(o.hyperparams(state)) == ["plateau_scale"]
    with pytest.raises(
        ValueError, match=r"current_lr: .*no injected learning_rate.*optax\.inject_hyperparams"
    ):
        o.current_lr(state)
    assert o.hyperparams(optax.sgd(0.1).init(PARAMS)) == {}
