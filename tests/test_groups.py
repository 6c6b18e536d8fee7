"""Per-parameter learning rates: `param_groups` on a flax-style tree against hand-computed numbers,
`scale_by_tree` under jit / scan / vmap / checkpoints, SGD with two parameter groups against PyTorch
(momentum and StepLR included), and `layerwise_decay` against timm's `param_groups_layer_decay`."""

import importlib.util
import re
import sys
import types
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_lrs as o
from optax_lrs._groups import ScaleByTreeState

LR, STEPS, HEAD = 0.0731, 37, 3.17
TOL = dict(rtol=2e-6, atol=1e-7)  # float32 rounding of a product of a few float32 numbers
TORCH_TOL = dict(rtol=1e-6, atol=2e-7)  # 37 float32 SGD steps: a few ulps of parameters near 0.5


def flax_params():
    rng = np.random.default_rng(7)
    f = lambda *s: jnp.asarray(rng.standard_normal(s), jnp.float32)  # noqa: E731
    return {
        "params": {
            "Dense_0": {"kernel": f(3, 4), "bias": f(4)},
            "Dense_1": {"kernel": f(4, 4), "bias": f(4)},
            "head": {"kernel": f(4, 2), "bias": f(2)},
        }
    }


def ones_like(tree):
    return jax.tree.map(jnp.ones_like, tree)


def cos_np(t, init, steps):
    return init * 0.5 * (1 + np.cos(np.pi * np.minimum(t, steps) / steps))


# --------------------------------------------------------------------------------------------------
# param_groups and the key paths


def test_param_groups_first_match_wins_schedules_and_default():
    params = flax_params()
    cos = o.cosine_decay_schedule(10.0, STEPS)
    rules = {
        "params/head/bias": 0.0,  # before the broader head rule: wins for the head's bias
        "params/head/.*": cos,
        ".*/bias": HEAD,  # the head's bias matched this too, but an earlier rule took it
        "params/Dense_1/kernel": optax.linear_schedule(1.0, 0.0, 50),  # any callable schedule
    }
    mults = o.param_groups(params, rules, default=0.5)
    tx = o.scale_by_tree(mults)
    grads = ones_like(params)
    state = tx.init(params)
    for t in range(STEPS):
        updates, state = tx.update(grads, state)
        p = updates["params"]
        np.testing.assert_array_equal(p["head"]["bias"], 0.0)
        np.testing.assert_allclose(p["head"]["kernel"], cos_np(t, 10.0, STEPS) * np.ones((4, 2)), **TOL)
        np.testing.assert_allclose(p["Dense_0"]["bias"], np.full(4, 3.17), rtol=1e-7)
        np.testing.assert_allclose(p["Dense_1"]["bias"], np.full(4, 3.17), rtol=1e-7)
        np.testing.assert_allclose(p["Dense_1"]["kernel"], np.full((4, 4), 1.0 - t / 50), **TOL)
        np.testing.assert_array_equal(p["Dense_0"]["kernel"], 0.5)
    assert int(state.count) == STEPS


def test_seed_000_head_at_ten_times_the_learning_rate():
    # seed 000's LR_Scheduler: lr for the backbone, lr * 10 for the head
    params = flax_params()
    tx = optax.chain(optax.sgd(LR), o.scale_by_tree(o.param_groups(params, {"params/head/.*": 10.0})))
    updates, _ = tx.update(ones_like(params), tx.init(params))
    np.testing.assert_allclose(updates["params"]["head"]["kernel"], np.full((4, 2), -0.731), rtol=1e-6)
    np.testing.assert_allclose(updates["params"]["Dense_0"]["kernel"], np.full((3, 4), -LR), rtol=1e-7)


class Pair(NamedTuple):
    x: jax.Array
    y: jax.Array


def test_key_paths_of_lists_tuples_and_attributes():
    params = {"layers": [jnp.ones(2), (jnp.ones(1), jnp.ones(3))], "pair": Pair(jnp.ones(2), jnp.ones(2))}
    mults = o.param_groups(params, {"layers/1/0": 2.0, "layers/1/.*": 3.0, "pair/y": 4.0})
    got = [float(m) for m in jax.tree.leaves(mults)]
    # leaves in order: layers/0, layers/1/0, layers/1/1, pair/x, pair/y
    assert got == [1.0, 2.0, 3.0, 1.0, 4.0]
    # a lone array: the key path is ""
    assert float(o.param_groups(jnp.ones(3), {"": 2.0})) == 2.0


def test_fullmatch_not_search():
    params = flax_params()
    with pytest.raises(ValueError, match=r"param_groups: rules must be patterns that match a whole key path"):
        o.param_groups(params, {"head": 10.0})  # would match under re.search
    mults = o.param_groups(params, {".*head.*": 10.0})
    assert float(mults["params"]["head"]["bias"]) == 10.0


# --------------------------------------------------------------------------------------------------
# scale_by_tree: prefixes, arrays, dtypes, jit, scan, vmap, checkpoints


def test_prefix_trees_and_broadcast_arrays():
    params = flax_params()
    grads = ones_like(params)
    tx = o.scale_by_tree(
        {"params": {"Dense_0": 0.25, "Dense_1": jnp.asarray([1.0, 2.0, 3.0, 4.0]), "head": HEAD}}
    )
    updates, _ = tx.update(grads, tx.init(params))
    p = updates["params"]
    np.testing.assert_array_equal(p["Dense_0"]["kernel"], np.full((3, 4), 0.25))
    np.testing.assert_array_equal(p["Dense_1"]["kernel"], np.tile([1.0, 2.0, 3.0, 4.0], (4, 1)))
    np.testing.assert_array_equal(p["Dense_1"]["bias"], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(p["head"]["bias"], [3.17, 3.17], rtol=1e-7)
    # a lone multiplier scales everything
    tx = o.scale_by_tree(2.0)
    updates, _ = tx.update(grads, tx.init(params))
    assert all(np.all(np.asarray(u) == 2.0) for u in jax.tree.leaves(updates))


def test_dtypes_kept():
    g = {"a": jnp.ones(3, jnp.bfloat16), "b": jnp.ones(3, jnp.float32), "n": jnp.arange(3)}
    tx = o.scale_by_tree({"a": HEAD, "b": o.cosine_decay_schedule(1.0, STEPS), "n": HEAD})
    updates, state = tx.update(g, tx.init(g))
    assert updates["a"].dtype == jnp.bfloat16 and updates["b"].dtype == jnp.float32
    np.testing.assert_array_equal(updates["n"], [0, 1, 2])  # non-floating leaves pass unchanged
    assert state.count.dtype == jnp.int32


def test_masked_and_none_leaves_pass_through():
    g = {"a": jnp.ones(2), "b": jnp.ones(3), "c": jnp.ones(1)}
    mults = {"a": HEAD, "b": o.cosine_decay_schedule(10.0, STEPS), "c": 5.0}
    tx = optax.masked(o.scale_by_tree(mults), {"a": True, "b": True, "c": False})
    updates, _ = tx.update(g, tx.init(g))
    np.testing.assert_allclose(updates["a"], [3.17, 3.17], rtol=1e-7)
    np.testing.assert_array_equal(updates["b"], [10.0, 10.0, 10.0])
    np.testing.assert_array_equal(updates["c"], [1.0])  # masked out: untouched
    tx = o.scale_by_tree(mults)
    updates, _ = tx.update({**g, "b": None}, tx.init(g))
    assert updates["b"] is None


def _schedule_tx():
    cos = o.cosine_decay_schedule(10.0, STEPS)
    return o.scale_by_tree(o.param_groups(flax_params(), {"params/head/.*": cos, ".*bias": HEAD}))


def _expected_head(t):
    return cos_np(t, 10.0, STEPS)


def test_jit_and_scan_equal_the_formula():
    params = flax_params()
    grads = ones_like(params)
    tx = _schedule_tx()

    update = jax.jit(tx.update)
    state = jax.jit(tx.init)(params)
    heads = []
    for _ in range(STEPS):
        updates, state = update(grads, state)
        heads.append(updates["params"]["head"]["kernel"][0, 0])
    np.testing.assert_allclose(heads, _expected_head(np.arange(STEPS)), **TOL)

    def body(state, _):
        updates, state = tx.update(grads, state)
        return state, updates

    state, stacked = jax.lax.scan(body, tx.init(params), None, length=STEPS)
    np.testing.assert_allclose(
        stacked["params"]["head"]["kernel"][:, 0, 0], _expected_head(np.arange(STEPS)), **TOL
    )
    np.testing.assert_allclose(stacked["params"]["Dense_0"]["bias"], np.full((STEPS, 4), 3.17), rtol=1e-7)
    assert int(state.count) == STEPS


def test_vmap_over_multiplier_trees_built_inside():
    params = flax_params()
    grads = ones_like(params)
    heads, defaults = jnp.asarray([3.17, 10.0, 0.731]), jnp.asarray([1.0, 0.5, 0.1])

    def two_updates(head, default):
        tx = o.scale_by_tree(o.param_groups(params, {"params/head/.*": head}, default=default))
        state = tx.init(params)
        _, state = tx.update(grads, state)
        return tx.update(grads, state)[0]

    batched = jax.jit(jax.vmap(two_updates))(heads, defaults)
    for i in range(3):
        one = two_updates(float(heads[i]), float(defaults[i]))
        for a, b in zip(jax.tree.leaves(batched), jax.tree.leaves(one)):
            np.testing.assert_array_equal(a[i], b)

    # a batch of schedules as multipliers, and a batch of whole multiplier trees
    def with_schedule(sched):
        tx = o.scale_by_tree({"params": {"Dense_0": 1.0, "Dense_1": 1.0, "head": sched}})
        _, state = tx.update(grads, tx.init(params))
        return tx.update(grads, state)[0]["params"]["head"]["bias"]

    inits = [10.0, 3.17]
    out = jax.vmap(with_schedule)(o.stack([o.cosine_decay_schedule(v, STEPS) for v in inits]))
    np.testing.assert_allclose(out, [[cos_np(1, v, STEPS)] * 2 for v in inits], **TOL)

    trees = {
        "params": {"Dense_0": jnp.asarray([1.0, 2.0]), "Dense_1": jnp.asarray([0.5, 0.25]), "head": heads[:2]}
    }
    out = jax.vmap(lambda m: o.scale_by_tree(m).update(grads, ScaleByTreeState(jnp.int32(0)))[0])(trees)
    np.testing.assert_array_equal(out["params"]["Dense_1"]["kernel"][:, 0, 0], [0.5, 0.25])


def test_vmap_over_a_batch_of_states():
    params = flax_params()
    tx = _schedule_tx()
    counts = jnp.asarray([0, 5, 36], jnp.int32)
    grads = jax.tree.map(lambda x: jnp.broadcast_to(jnp.ones_like(x), (3, *x.shape)), params)
    updates, states = jax.vmap(tx.update)(grads, ScaleByTreeState(counts))
    np.testing.assert_allclose(
        updates["params"]["head"]["bias"][:, 0], _expected_head(np.asarray(counts)), **TOL
    )
    np.testing.assert_array_equal(states.count, counts + 1)


def test_count_saturates():
    tx = o.scale_by_tree({"a": o.cosine_decay_schedule(1.0, STEPS, alpha=0.1)})
    top = jnp.asarray(2**31 - 1, jnp.int32)
    updates, state = jax.jit(tx.update)({"a": jnp.ones(2)}, ScaleByTreeState(top))
    assert int(state.count) == 2**31 - 1
    np.testing.assert_allclose(updates["a"], [0.1, 0.1], rtol=1e-6)


def _quadratic_grads(params):
    return jax.grad(lambda p: sum(jnp.sum((x - 1.0) ** 2) for x in jax.tree.leaves(p)))(params)


def test_checkpoint_round_trip_is_bit_identical():
    params = flax_params()
    tx = optax.chain(optax.sgd(LR, momentum=0.9), _schedule_tx())

    @jax.jit
    def step(params, state):
        updates, state = tx.update(_quadratic_grads(params), state, params)
        return optax.apply_updates(params, updates), state

    state = tx.init(params)
    for _ in range(11):
        params, state = step(params, state)
    leaves, treedef = jax.tree_util.tree_flatten((params, state))
    restored = jax.tree_util.tree_unflatten(treedef, [np.asarray(x) for x in leaves])
    for a, b in zip(leaves, jax.tree.leaves(restored)):
        assert np.asarray(a).dtype == np.asarray(b).dtype
    p1, s1 = params, state
    p2, s2 = restored
    for _ in range(STEPS - 11):
        p1, s1 = step(p1, s1)
        p2, s2 = step(p2, s2)
    for a, b in zip(jax.tree.leaves((p1, s1)), jax.tree.leaves((p2, s2))):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------------------------------
# against PyTorch: SGD with two parameter groups


def _least_squares():
    """A linear least-squares problem whose features are split between a body and a head group."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 5)).astype(np.float32)
    y = rng.standard_normal(16).astype(np.float32)
    init = {
        "params": {
            "body": {"kernel": (0.5 * rng.standard_normal(3)).astype(np.float32)},
            "head": {"kernel": (0.5 * rng.standard_normal(2)).astype(np.float32), "bias": np.float32(0.1)},
        }
    }
    return x, y, init


def _torch_run(momentum, step_lr):
    torch = pytest.importorskip("torch")
    x, y, init = _least_squares()
    p = init["params"]
    w1 = torch.tensor(p["body"]["kernel"], requires_grad=True)
    w2 = torch.tensor(p["head"]["kernel"], requires_grad=True)
    b = torch.tensor(p["head"]["bias"], requires_grad=True)
    groups = [{"params": [w1], "lr": LR}, {"params": [w2, b], "lr": LR * HEAD}]
    opt = torch.optim.SGD(groups, lr=LR, momentum=momentum)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.53) if step_lr else None
    xt, yt = torch.tensor(x), torch.tensor(y)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = torch.mean((xt[:, :3] @ w1 + xt[:, 3:] @ w2 + b - yt) ** 2)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    return {"body": w1.detach().numpy(), "head_kernel": w2.detach().numpy(), "head_bias": b.detach().numpy()}


def _jax_run(tx):
    x, y, init = _least_squares()
    params = jax.tree.map(jnp.asarray, init)

    def loss(params):
        p = params["params"]
        return jnp.mean(
            (x[:, :3] @ p["body"]["kernel"] + x[:, 3:] @ p["head"]["kernel"] + p["head"]["bias"] - y) ** 2
        )

    @jax.jit
    def step(params, state):
        updates, state = tx.update(jax.grad(loss)(params), state, params)
        return optax.apply_updates(params, updates), state

    state = tx.init(params)
    for _ in range(STEPS):
        params, state = step(params, state)
    p = params["params"]
    return {"body": p["body"]["kernel"], "head_kernel": p["head"]["kernel"], "head_bias": p["head"]["bias"]}


def _head_groups(head):
    _, _, init = _least_squares()
    return o.param_groups(init, {"params/head/.*": head})


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_two_group_sgd_equals_torch(momentum):
    tx = optax.chain(optax.sgd(LR, momentum=momentum or None), o.scale_by_tree(_head_groups(HEAD)))
    want = _torch_run(momentum, step_lr=False)
    got = _jax_run(tx)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], **TORCH_TOL)


def test_two_group_sgd_with_step_lr_equals_torch():
    want = _torch_run(0.9, step_lr=True)
    # the schedule in the optimizer, constant multipliers
    staircase = optax.exponential_decay(LR, 7, 0.53, staircase=True)
    tx = optax.chain(optax.sgd(staircase, momentum=0.9), o.scale_by_tree(_head_groups(HEAD)))
    got = _jax_run(tx)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], **TORCH_TOL)
    # the schedule times the multipliers, in the tree
    sched = o.step_decay(LR, 0.53, 7)
    _, _, init = _least_squares()
    mults = o.param_groups(init, {"params/head/.*": HEAD * sched}, default=sched)
    got = _jax_run(optax.chain(optax.sgd(1.0, momentum=0.9), o.scale_by_tree(mults)))
    for k in want:
        np.testing.assert_allclose(got[k], want[k], **TORCH_TOL)


# --------------------------------------------------------------------------------------------------
# against timm: layer-wise learning-rate decay


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def timm_layer_decay():
    """timm's `param_groups_layer_decay`, loaded by file path: `import timm` needs torchvision, so its
    two imports from the rest of timm are stubbed (`use_reentrant_ckpt`, unused here, and
    `group_parameters`, from timm's own `_manipulate.py`) and `sys.modules` is restored afterwards."""
    pytest.importorskip("torch")
    spec = importlib.util.find_spec("timm")
    if spec is None:
        pytest.skip("timm is not installed (pip install --no-deps timm)")
    root = Path(spec.submodule_search_locations[0])
    names = ("timm", "timm.layers", "timm.models")
    saved = {n: sys.modules.get(n) for n in names}
    try:
        sys.modules["timm"] = types.ModuleType("timm")
        sys.modules["timm.layers"] = types.ModuleType("timm.layers")
        sys.modules["timm.layers"].use_reentrant_ckpt = False
        manipulate = _load("_timm_manipulate", root / "models" / "_manipulate.py")
        sys.modules["timm.models"] = types.ModuleType("timm.models")
        sys.modules["timm.models"].group_parameters = manipulate.group_parameters
        groups = _load("_timm_param_groups", root / "optim" / "_param_groups.py")
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m
    return groups.param_groups_layer_decay


def _torch_vit(depth, dim=4):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(dim)
            self.attn = nn.Module()
            self.attn.qkv = nn.Linear(dim, 3 * dim)
            self.attn.proj = nn.Linear(dim, dim)
            self.norm2 = nn.LayerNorm(dim)
            self.mlp = nn.Module()
            self.mlp.fc1 = nn.Linear(dim, 2 * dim)
            self.mlp.fc2 = nn.Linear(2 * dim, dim)

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, 5, dim))
            self.patch_embed = nn.Module()
            self.patch_embed.proj = nn.Conv2d(3, dim, 2, 2)
            self.blocks = nn.Sequential(*[Block() for _ in range(depth)])
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, 3)

        def group_matcher(self, coarse=False):  # timm's VisionTransformer.group_matcher
            return dict(
                stem=r"^cls_token|reg_token|pos_embed|patch_embed|norm_pre",
                blocks=[(r"^blocks\.(\d+)", None), (r"^norm", (99999,))],
            )

    return ViT()


def _nested(named):
    """{"blocks.0.attn.qkv.weight": w, ...} as nested dicts, `blocks` a list: "blocks/0/attn/qkv/weight"."""
    tree = {}
    for name, value in named.items():
        *parents, last = name.split(".")
        node = tree
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    tree["blocks"] = [tree["blocks"][str(i)] for i in range(len(tree["blocks"]))]
    return tree


def _vit_layer_of(depth):
    def layer_of(path):
        if re.match(r"(cls_token|pos_embed|patch_embed)(/|$)", path):
            return 0
        block = re.match(r"blocks/(\d+)/", path)
        if block:
            return int(block.group(1)) + 1
        return depth if path.startswith("norm/") else depth + 1  # timm: the final norm joins the last block

    return layer_of


@pytest.mark.parametrize("depth", [5, 7])
def test_layerwise_decay_equals_timm(timm_layer_decay, depth):
    model = _torch_vit(depth)
    scale_of = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in timm_layer_decay(model, weight_decay=0.05, layer_decay=0.7313):
        for p in group["params"]:
            scale_of[names[id(p)]] = group["lr_scale"]
    assert sorted(scale_of) == sorted(names.values())

    params = _nested({n: jnp.asarray(p.detach().numpy()) for n, p in model.named_parameters()})
    mults = o.layerwise_decay(params, 0.7313, _vit_layer_of(depth), num_layers=depth + 1)
    ours = {
        ".".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path): float(m)
        for path, m in jax.tree_util.tree_flatten_with_path(mults)[0]
    }
    assert sorted(ours) == sorted(scale_of)
    for name, want in scale_of.items():
        np.testing.assert_allclose(ours[name], want, rtol=1e-7, err_msg=name)
    last = f"blocks.{depth - 1}.norm1.bias"  # timm's convention: the final norm joins the last block
    assert ours["head.weight"] == scale_of["head.weight"] == 1.0
    assert ours["norm.bias"] == ours[last] and scale_of["norm.bias"] == scale_of[last]


def test_layerwise_decay_traced_decay_under_vmap():
    model_free = {"embed": jnp.ones(2), "blocks": [jnp.ones(2)] * 3, "head": jnp.ones(2)}

    def layer_of(path):
        return {"embed": 0, "head": 4}[path] if "/" not in path else int(path.split("/")[1]) + 1

    decays = jnp.asarray([0.7313, 0.65, 0.9])
    batched = jax.vmap(lambda d: o.layerwise_decay(model_free, d, layer_of, 4))(decays)
    for i, d in enumerate([0.7313, 0.65, 0.9]):
        want = [d**4, d**3, d**2, d**1, 1.0]
        got = [batched["embed"][i], *(b[i] for b in batched["blocks"]), batched["head"][i]]
        np.testing.assert_allclose(got, want, rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# bad input


PARAMS = {"a": jnp.ones(2), "b": {"c": jnp.ones(3)}}
LAYER0 = lambda path: 0  # noqa: E731
SCALE, GROUPS, DECAY = o.scale_by_tree, o.param_groups, o.layerwise_decay
NAN, INF = float("nan"), float("inf")

BAD = [
    (SCALE, (None,), {}, "scale_by_tree: multipliers must be a pytree of multipliers .*, got None"),
    (SCALE, ({"a": "x"},), {}, r"scale_by_tree: multipliers\['a'\] must be a real number, .*got 'x'"),
    (SCALE, ({"a": True},), {}, r"scale_by_tree: multipliers\['a'\] must be .*, got True"),
    (SCALE, ({"a": NAN},), {}, r"scale_by_tree: multipliers\['a'\] must be finite, got nan"),
    (SCALE, ({"b": {"c": 1e40}},), {}, r"multipliers\['b/c'\] must be finite in float32, got 1e\+40"),
    (SCALE, ([1 + 2j],), {}, r"scale_by_tree: multipliers\['0'\] must be a real number, got \(1\+2j\)"),
    (GROUPS, (None, {}), {}, "param_groups: params must be the parameter pytree .*, got None"),
    (GROUPS, (PARAMS, "a"), {}, "param_groups: rules must be a mapping .*, got 'a'"),
    (GROUPS, (PARAMS, ["a"]), {}, r"param_groups: rules must be a mapping .*, got \['a'\]"),
    (GROUPS, (PARAMS, {"a(": 2.0}), {}, r"param_groups: rules must be keyed by valid .*, got 'a\('"),
    (GROUPS, (PARAMS, {3: 2.0}), {}, "param_groups: rules must be keyed by regular expressions .*, got 3"),
    (GROUPS, (PARAMS, {"a": None}), {}, r"param_groups: rules\['a'\] must be a real number.*, got None"),
    (GROUPS, (PARAMS, {"b/x": 2.0}), {}, "param_groups: rules must be patterns that match .*, got 'b/x'"),
    (GROUPS, (PARAMS, {}), {"default": "1"}, "param_groups: default must be a real number.*, got '1'"),
    (GROUPS, (PARAMS, {}), {"default": INF}, "param_groups: default must be finite, got inf"),
    (DECAY, (None, 0.7, LAYER0, 3), {}, "layerwise_decay: params must be the parameter pytree .*, got None"),
    (DECAY, (PARAMS, 0.0, LAYER0, 3), {}, "layerwise_decay: decay must be > 0, got 0.0"),
    (DECAY, (PARAMS, -0.7, LAYER0, 3), {}, "layerwise_decay: decay must be > 0, got -0.7"),
    (DECAY, (PARAMS, "0.7", LAYER0, 3), {}, "layerwise_decay: decay must be a real number, got '0.7'"),
    (DECAY, (PARAMS, NAN, LAYER0, 3), {}, "layerwise_decay: decay must be finite, got nan"),
    (DECAY, (PARAMS, 0.7, "vit", 3), {}, "layerwise_decay: layer_of must be a function .*, got 'vit'"),
    (DECAY, (PARAMS, 0.7, LAYER0, -1), {}, "layerwise_decay: num_layers must be an integer >= 0, got -1"),
    (DECAY, (PARAMS, 0.7, LAYER0, 2.5), {}, "layerwise_decay: num_layers must be an integer >= 0, got 2.5"),
    (DECAY, (PARAMS, 0.7, LAYER0, True), {}, "layerwise_decay: num_layers must be an integer >= 0, got True"),
    (
        DECAY,
        (PARAMS, 0.7, lambda p: 4, 3),
        {},
        r"layer_of\('a'\) must be an integer in \[0, num_layers=3\], got 4",
    ),
    (DECAY, (PARAMS, 0.7, lambda p: "1", 3), {}, r"layer_of\('a'\) must be an integer in .*, got '1'"),
]


@pytest.mark.parametrize("fn, args, kwargs, message", BAD)
def test_bad_input(fn, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fn(*args, **kwargs)


def test_structure_and_shape_mismatch_name_the_path():
    tx = o.scale_by_tree({"a": 1.0, "b": {"c": 2.0, "d": 3.0}})
    with pytest.raises(
        ValueError, match=r"scale_by_tree: multipliers must have the structure of the params.*'b/d'"
    ):
        tx.init(PARAMS)
    tx = o.scale_by_tree({"a": 1.0})
    with pytest.raises(
        ValueError, match=r"scale_by_tree: .*structure of the updates.*the leaf 'b/c' has no multiplier"
    ):
        tx.update(PARAMS, ScaleByTreeState(jnp.int32(0)))
    tx = o.scale_by_tree({"a": jnp.ones(3), "b": 1.0})
    with pytest.raises(
        ValueError, match=r"multipliers\['a'\] must be broadcastable to its leaf's shape \(2,\), got"
    ):
        tx.init(PARAMS)
    with pytest.raises(
        ValueError, match=r"multipliers\['a'\] must be broadcastable .*\(2,\), got shape \(3,\)"
    ):
        jax.jit(tx.update)(PARAMS, ScaleByTreeState(jnp.int32(0)))
