"""optax_lrs.compat.mxnet against MXNet 1.9.1 itself and against seed 004's printed numbers.

The MXNet values are a fixture, `tests/refs/mxnet_1.9.1.json`, written by
`tests/refs/make_mxnet_refs.py` from MXNet's own stateful schedulers called as its optimizer calls them
(num_update = 1, 2, ..., N, then a few far values); MXNet is not imported here. MXNet's update n is
optax's step t = n − 1.
"""

import inspect
import json
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_lrs as o
from optax_lrs.compat import mxnet

FIXTURE = json.loads((pathlib.Path(__file__).parent / "refs" / "mxnet_1.9.1.json").read_text())
SETS = {s["name"]: s for s in FIXTURE["sets"]}

# float32 rounding: relative, a few ulps through the arithmetic and factor**k (up to ~90 drops); and
# absolute, two ulps of the set's largest rate, since near final_lr a decayed value is a difference of
# numbers of the size of base_lr. An off-by-one update is orders of magnitude larger (see
# test_tolerance_sees_an_off_by_one).
RTOL = 2e-6
ULPS = 2.0**-22


def build(s):
    return getattr(mxnet, s["scheduler"])(**s["kwargs"])


def reference(s):
    """(optax steps as int32, MXNet's lrs, absolute tolerance)."""
    lrs = np.asarray(s["lrs"], np.float64)
    steps = np.asarray(s["num_updates"], np.int64) - 1
    return steps.astype(np.int32), lrs, ULPS * np.abs(lrs).max()


# lax.map hands the schedule one traced int32 scalar at a time, inside one jit
_one_at_a_time = jax.jit(lambda sched, steps: jax.lax.map(sched, steps))


PAD = 1024  # every set's steps padded to one length: one compilation per schedule structure


def evaluate(sched, steps, way):
    padded = jnp.asarray(np.pad(steps, (0, PAD - len(steps)), mode="edge"))
    if way == "vector":
        return np.asarray(sched(padded))[: len(steps)]
    if way == "jit_scalar":
        return np.asarray(_one_at_a_time(sched, padded))[: len(steps)]
    return np.stack([np.asarray(sched(int(t))) for t in steps])  # eager Python ints


def test_fixture_is_mxnet_1_9_1_counting_updates_from_one():
    assert FIXTURE["mxnet_version"] == "1.9.1"
    assert FIXTURE["optimizer_num_updates"] == [1, 2, 3]  # what mx.optimizer.SGD passed its scheduler
    assert {s["scheduler"] for s in SETS.values()} == set(mxnet.__all__)
    for s in SETS.values():
        assert s["num_updates"][0] == 1 and np.all(np.diff(s["num_updates"]) > 0)


@pytest.mark.parametrize("way", ["vector", "jit_scalar", "eager_int"])
@pytest.mark.parametrize("name", list(SETS))
def test_equals_mxnet(name, way):
    s = SETS[name]
    steps, lrs, atol = reference(s)
    ours = evaluate(build(s), steps, way)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, lrs, rtol=RTOL, atol=atol)


@pytest.mark.parametrize("name", [n for n, s in SETS.items() if len(set(s["lrs"])) > 1])
def test_tolerance_sees_an_off_by_one(name):
    """Reading MXNet's update n at our step n (no translation) misses the tolerance."""
    s = SETS[name]
    steps, lrs, atol = reference(s)
    ours = evaluate(build(s), steps + 1, "vector")
    assert np.any(np.abs(ours - lrs) > atol + RTOL * np.abs(lrs))


@pytest.mark.parametrize("name", list(SETS))
def test_config_round_trip(name):
    sched = build(SETS[name])
    config = json.loads(json.dumps(sched.to_config()))
    back = o.from_config(config)
    assert back == sched
    steps = reference(SETS[name])[0]
    np.testing.assert_array_equal(evaluate(back, steps, "vector"), evaluate(sched, steps, "vector"))


# pairs of sets of one structure (the same class and warmup mode, the same number of steps): a vmap
# over every numeric parameter at once must give both sets' MXNet values
VMAP_PAIRS = [
    ("factor_7_stop_warm5_linear", "factor_7_warm17_linear_from0"),
    ("multi_4", "multi_4_warm17_linear_from0"),
    ("poly_default_warm5_linear", "poly_0.5_warm17_linear_from0"),
    ("cosine_warm5_linear", "cosine_warm17_linear_from0"),
]


def full_kwargs(s):
    params = inspect.signature(getattr(mxnet, s["scheduler"])).parameters
    kwargs = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    return {**kwargs, **s["kwargs"]}


@pytest.mark.parametrize("pair", VMAP_PAIRS, ids=lambda p: p[0])
def test_vmap_over_every_numeric_parameter(pair):
    a, b = (SETS[n] for n in pair)
    ka, kb = full_kwargs(a), full_kwargs(b)
    assert ka["warmup_mode"] == kb["warmup_mode"] and a["num_updates"] == b["num_updates"]
    mode = ka.pop("warmup_mode")
    kb.pop("warmup_mode")
    cls = getattr(mxnet, a["scheduler"])
    batched = {k: jnp.asarray(np.array([ka[k], kb[k]])) for k in ka}
    steps = jnp.asarray(reference(a)[0])
    out = jax.vmap(lambda kw: cls(**kw, warmup_mode=mode)(steps))(batched)
    for row, s in zip(np.asarray(out), (a, b)):
        _, lrs, atol = reference(s)
        np.testing.assert_allclose(row, lrs, rtol=RTOL, atol=atol)


# --- seed 004's numbers ---------------------------------------------------------------------------


def test_seed_004_factor_scheduler():
    """`scheduler(1), scheduler(250), scheduler(251), scheduler(501)` prints `(1, 1, 0.5, 0.25)`."""
    s = mxnet.FactorScheduler(base_lr=1, step=250, factor=0.5)
    assert [float(s(n - 1)) for n in (1, 250, 251, 501)] == [1, 1, 0.5, 0.25]


def test_seed_004_multifactor_scheduler():
    """Halve after the 250th, 750th and 900th iterations: the 250th is still 1, the 251st is 0.5."""
    s = mxnet.MultiFactorScheduler(base_lr=1, step=[250, 750, 900], factor=0.5)
    n = np.array([1, 250, 251, 750, 751, 900, 901, 1000])
    assert s(n - 1).tolist() == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]


def test_seed_004_poly_scheduler():
    """pwr=2, from 1 to 0.001 at iteration 800, then 0.001."""
    s = mxnet.PolyScheduler(base_lr=1, final_lr=1e-3, max_update=800, pwr=2)
    n = np.arange(1, 1001)
    expected = np.where(n <= 800, 1e-3 + (1 - 1e-3) * (1 - np.minimum(n, 800) / 800) ** 2, 1e-3)
    np.testing.assert_allclose(s(n - 1), expected, rtol=RTOL, atol=ULPS)
    np.testing.assert_allclose(s(n[799:] - 1), 1e-3, rtol=RTOL)


class SeedCosineScheduler:
    """Seed 004's own callable-class cosine schedule (iteration from 1), as printed there."""

    def __init__(self, base_lr, final_lr, max_update):
        self.base_lr = base_lr
        self.final_lr = final_lr
        self.max_update = max_update

    def __call__(self, iteration):
        if iteration <= self.max_update:
            unit = (1 + math.cos(iteration * math.pi / self.max_update)) / 2
            return (unit * (self.base_lr - self.final_lr)) + self.final_lr
        else:
            return self.final_lr


def test_seed_004_cosine_scheduler_equals_the_seed_class():
    seed = SeedCosineScheduler(base_lr=1, final_lr=1e-3, max_update=800)
    ours = mxnet.CosineScheduler(base_lr=1, final_lr=1e-3, max_update=800)
    n = np.arange(1, 1001)
    np.testing.assert_allclose(ours(n - 1), [seed(i) for i in n], rtol=RTOL, atol=ULPS)


def test_seed_004_cosine_with_linear_warmup():
    """ "Start with value 0, and linearly increase it to the initial learning rate for the first 100
    iterations", then the cosine from 1 to 1e-3 at iteration 800."""
    s = mxnet.CosineScheduler(
        base_lr=1, final_lr=1e-3, max_update=800, warmup_steps=100, warmup_begin_lr=0, warmup_mode="linear"
    )
    n = np.arange(1, 1001)
    cos = 1e-3 + (1 - 1e-3) * 0.5 * (1 + np.cos(np.pi * (np.minimum(n, 800) - 100) / 700))
    np.testing.assert_allclose(s(n - 1), np.where(n < 100, n / 100, cos), rtol=RTOL, atol=ULPS)
    assert float(s(99)) == 1.0  # base_lr at update 100 = step 99, one update before optax's warmups


# --- MXNet's own checks, and ours -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        ("FactorScheduler", dict(step=0), "FactorScheduler: step must be an integer >= 1, got 0"),
        ("FactorScheduler", dict(step=7.5), "FactorScheduler: step must be an integer >= 1, got 7.5"),
        ("FactorScheduler", dict(step=7, factor=1.5), "FactorScheduler: factor must be in [0, 1], got 1.5"),
        (
            "FactorScheduler",
            dict(step=7, stop_factor_lr=-0.1),
            "FactorScheduler: stop_factor_lr must be >= 0",
        ),
        (
            "MultiFactorScheduler",
            dict(step=[5, 5]),
            "MultiFactorScheduler: step must be a non-empty, strictly",
        ),
        (
            "MultiFactorScheduler",
            dict(step=[0, 5]),
            "MultiFactorScheduler: step must be a non-empty, strictly",
        ),
        ("MultiFactorScheduler", dict(step=[]), "MultiFactorScheduler: step must be a non-empty, strictly"),
        ("PolyScheduler", dict(max_update=0), "PolyScheduler: max_update must be an integer >= 1, got 0"),
        (
            "PolyScheduler",
            dict(max_update=10, warmup_steps=10),
            "PolyScheduler: max_update must be != warmup",
        ),
        ("PolyScheduler", dict(max_update=10, pwr=-1), "PolyScheduler: pwr must be >= 0, got -1"),
        (
            "CosineScheduler",
            dict(max_update=10, warmup_mode="exp"),
            "CosineScheduler: warmup_mode must be one of",
        ),
        ("CosineScheduler", dict(max_update=10, warmup_steps=-1), "CosineScheduler: warmup_steps must be an"),
        (
            "CosineScheduler",
            dict(max_update=10, warmup_begin_lr=0.1),
            "CosineScheduler: warmup_begin_lr must be",
        ),
    ],
)
def test_bad_input(cls, kwargs, message):
    with pytest.raises(ValueError) as err:
        getattr(mxnet, cls)(**kwargs)
    assert str(err.value).startswith(message)
