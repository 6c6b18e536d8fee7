"""Per-parameter learning rates (SPEC §6c): `scale_by_tree` and the multiplier trees it takes,
`param_groups` (regex rules over key paths) and `layerwise_decay` (BEiT/timm layer-wise decay).

A parameter's key path is its dict keys, attribute names and sequence indices joined with "/": the
flax tree `{"params": {"Dense_0": {"kernel": w}}}` names `w` "params/Dense_0/kernel", the list
`[a, b]` names its items "0" and "1", a lone array is "".
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_lrs._base import Schedule, as_leaf, check, fail, float_dtype, is_number, is_traced
from optax_lrs._transform import path_str, scale_updates

KeyPath = tuple[Any, ...]


def _name(path: KeyPath) -> str:
    """The "a/b/c" key path of a leaf (attribute names included)."""
    return path_str(path, fields=True)


def _need_params(fn: str, params: Any) -> None:
    if params is None:
        fail(fn, "params", "the parameter pytree (not None)", None)


def _is_schedule(x: Any) -> bool:
    # A Schedule is itself a pytree: in a multiplier tree it is one leaf, as is any callable that JAX
    # treats as a leaf (a function, an optax schedule). A callable pytree node (an equinox module
    # holding params) is a container, not a schedule.
    return isinstance(x, Schedule) or (callable(x) and jax.tree_util.all_leaves([x]))


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic, jax.Array))


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _multiplier(fn: str, param: str, value: Any) -> Any:
    """A checked multiplier: a callable schedule as given, a real number or array as a float leaf."""
    if _is_schedule(value):
        return value
    if _is_array(value) and jnp.issubdtype(value.dtype, jnp.floating):
        if np.dtype(value.dtype).kind != "f":  # bfloat16, float8: as float32 for the checks
            value = value.astype(float_dtype())
    elif not (is_number(value) or (_is_array(value) and jnp.issubdtype(value.dtype, jnp.integer))):
        fail(fn, param, "a real number, a real array or a schedule", value)
    return as_leaf(fn, param, value, "float")


def _covers(prefix: KeyPath, path: KeyPath) -> bool:
    return tuple(path[: len(prefix)]) == tuple(prefix)


def _mismatch(paths: list[KeyPath], tree: Any, err: Exception) -> str:
    """Where a multiplier tree and a tree of updates (or params) part ways."""
    leaves = [p for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]
    for p in leaves:
        if not any(_covers(m, p) for m in paths):
            return f"the leaf {_name(p)!r} has no multiplier"
    for m in paths:
        if not any(_covers(m, p) for p in leaves):
            return f"the multiplier {_name(m)!r} has no leaf"
    return f"their containers differ ({err})"


def _check_shape(fn: str, name: str, mshape: tuple[int, ...], shape: tuple[int, ...]) -> None:
    try:
        ok = tuple(jnp.broadcast_shapes(mshape, shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{fn}: multipliers[{name!r}] must be broadcastable to its leaf's shape {tuple(shape)}, "
            f"got shape {tuple(mshape)}"
        )


class ScaleByTreeState(NamedTuple):
    """State of `scale_by_tree`: the number of updates applied (int32, saturating at 2**31 − 1)."""

    count: jax.Array


def scale_by_tree(multipliers: Any) -> optax.GradientTransformation:
    """Multiply each leaf's update by its own multiplier: per-parameter learning rates.

    `multipliers` has the structure of the params, or of a prefix of it: a multiplier where the params
    have a subtree applies to every leaf below (`{"body": 0.1, "head": 1.0}` for params
    `{"body": {...}, "head": {...}}`; a lone number scales everything). Each multiplier is

    - a real number, or an array broadcastable to its leaf's shape (kept in the transform, so it may
      be a traced value when the transform is built inside `jit` or `vmap`);
    - an `optax_lrs.Schedule` or any callable schedule (an optax schedule; a callable that is itself a
      pytree node, such as an equinox module, is read as a container), evaluated at the update count
      (the number of updates already applied, 0 on the first update, as optax's `count`; saturating
      at 2**31 − 1).

    Put it after the optimizer, `optax.chain(optax.sgd(lr), scale_by_tree(m))`, so that a leaf's
    learning rate is `lr · m` (PyTorch's parameter groups with `lr = base_lr · m`; with a schedule
    `lr(t)` in the optimizer, every group follows it, as a PyTorch scheduler moves all groups). Updated
    leaves keep their dtype; non-floating leaves pass unchanged. The state is `ScaleByTreeState(count)`.

    A multiplier tree whose structure does not fit the updates raises `ValueError` naming the first
    key path ("a/b/c") where they part ways.

    Example:
      >>> import jax.numpy as jnp, optax_lrs
      >>> tx = optax_lrs.scale_by_tree({"body": 0.5, "head": optax_lrs.linear_schedule(10.0, 1.0, 9)})
      >>> grads = {"body": {"w": jnp.ones(2), "b": jnp.ones(1)}, "head": jnp.ones(2)}
      >>> state = tx.init(grads)
      >>> updates, state = tx.update(grads, state)
      >>> updates["body"]["w"], updates["head"]
      (Array([0.5, 0.5], dtype=float32), Array([10., 10.], dtype=float32))
      >>> updates, state = tx.update(grads, state)
      >>> updates["head"]
      Array([9., 9.], dtype=float32)
    """
    fn = "scale_by_tree"
    if multipliers is None:
        fail(fn, "multipliers", "a pytree of multipliers (numbers, arrays or schedules)", None)
    flat, treedef = jax.tree_util.tree_flatten_with_path(multipliers, is_leaf=_is_schedule)
    paths = [tuple(p) for p, _ in flat]
    names = [_name(p) for p in paths]
    leaves = [_multiplier(fn, f"multipliers[{n!r}]", m) for n, (_, m) in zip(names, flat)]

    def subtrees(tree: Any, what: str) -> list[Any]:
        try:
            return treedef.flatten_up_to(tree)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{fn}: multipliers must have the structure of the {what} or of a prefix of it; "
                f"{_mismatch(paths, tree, err)}"
            ) from None

    def check_shapes(tree: Any, what: str, values: list[Any]) -> list[Any]:
        subs = subtrees(tree, what)
        for name, m, sub in zip(names, values, subs):
            for leaf in jax.tree.leaves(sub):
                _check_shape(fn, name, jnp.shape(m), jnp.shape(leaf))
        return subs

    def init(params: Any) -> ScaleByTreeState:
        if params is not None:  # checked early where possible; schedules are checked at update
            fixed = [1.0 if _is_schedule(m) else m for m in leaves]
            check_shapes(params, "params", fixed)
        return ScaleByTreeState(count=jnp.zeros([], jnp.int32))

    def update(updates: Any, state: ScaleByTreeState, params: Any = None) -> tuple[Any, ScaleByTreeState]:
        del params
        evaluated: dict[int, jax.Array] = {}  # a schedule shared by many leaves is evaluated once
        values = []
        for m in leaves:
            if _is_schedule(m):
                if id(m) not in evaluated:
                    evaluated[id(m)] = jnp.asarray(m(state.count))
                m = evaluated[id(m)]
            values.append(m)
        subs = check_shapes(updates, "updates", values)
        scaled = [scale_updates(sub, m) for sub, m in zip(subs, values)]
        return treedef.unflatten(scaled), ScaleByTreeState(count=optax.safe_int32_increment(state.count))

    return optax.GradientTransformation(init, update)


def param_groups(params: Any, rules: Mapping[str, Any], default: Any = 1.0) -> Any:
    """The multiplier tree of `scale_by_tree` from regex rules over key paths.

    Each leaf of `params` gets the multiplier of the first rule (in the mapping's order) whose regular
    expression matches its whole key path ("a/b/c", see the module docstring; `re.fullmatch`, as
    big_vision's `lr_mults`), or `default` when none does. Multipliers are numbers, arrays or
    schedules, as in `scale_by_tree`. Matching the whole path means "head" does not match
    "params/head/kernel": write "params/head/.*" or ".*head.*". A rule that matches no key path at all
    raises `ValueError` (a typo would otherwise train silently at the default rate); a rule shadowed by
    earlier ones is fine.

    PyTorch-Encoding's `LR_Scheduler` gives the head 10× the base learning rate; with a flax model:

    Example:
      >>> import jax.numpy as jnp, optax, optax_lrs
      >>> params = {"params": {"Dense_0": {"kernel": jnp.ones((2, 3)), "bias": jnp.ones(3)},
      ...                      "head": {"kernel": jnp.ones((3, 1)), "bias": jnp.ones(1)}}}
      >>> mults = optax_lrs.param_groups(params, {"params/head/.*": 10.0})
      >>> float(mults["params"]["head"]["kernel"]), float(mults["params"]["Dense_0"]["kernel"])
      (10.0, 1.0)
      >>> tx = optax.chain(optax.sgd(0.01), optax_lrs.scale_by_tree(mults))
    """
    fn = "param_groups"
    _need_params(fn, params)
    if not isinstance(rules, Mapping):
        fail(fn, "rules", "a mapping {regular expression: multiplier}", rules)
    compiled = []
    for pattern, value in rules.items():
        if not isinstance(pattern, str):
            fail(fn, "rules", "keyed by regular expressions (strings)", pattern)
        try:
            regex = re.compile(pattern)
        except re.error as err:
            fail(fn, "rules", f"keyed by valid regular expressions ({err})", pattern)
        compiled.append((regex, _multiplier(fn, f"rules[{pattern!r}]", value)))
    default = _multiplier(fn, "default", default)

    names = [_name(p) for p, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    for regex, _ in compiled:
        if not any(regex.fullmatch(n) for n in names):
            example = f" such as {names[0]!r}" if names else ""
            fail(fn, "rules", f"patterns that match a whole key path{example}", regex.pattern)

    def pick(path: KeyPath, _leaf: Any) -> Any:
        name = _name(path)
        return next((m for regex, m in compiled if regex.fullmatch(name)), default)

    return jax.tree_util.tree_map_with_path(pick, params)


def layerwise_decay(
    params: Any,
    decay: jax.typing.ArrayLike,
    layer_of: Callable[[str], int],
    num_layers: int,
) -> Any:
    """The multiplier tree of layer-wise learning-rate decay (BEiT, ELECTRA fine-tuning; timm's
    `param_groups_layer_decay`): leaf `p` gets `decay ** (num_layers − layer_of(path(p)))`.

    `layer_of` maps a key path ("a/b/c", see the module docstring) to an integer layer id in
    `[0, num_layers]`: 0 for the embeddings (patch and position embeddings, class token), `i + 1` for
    transformer block `i`, `num_layers` for the head, which keeps the full learning rate. So for a ViT
    with `D` blocks `num_layers = D + 1` and the embeddings get `decay ** (D + 1)`: timm's
    `lr_scale`s, where the final norm shares the last block's id `D` (BEiT puts it with the head, id
    `D + 1`). `decay > 0` may be traced (built inside `vmap`, a batch of decays).

    Example:
      >>> import jax.numpy as jnp, optax_lrs
      >>> params = {"embed": jnp.ones(4), "blocks": [jnp.ones(4), jnp.ones(4)], "head": jnp.ones(4)}
      >>> def layer_of(path):
      ...     if path.startswith("blocks/"):
      ...         return int(path.split("/")[1]) + 1
      ...     return 3 if path == "head" else 0
      >>> mults = optax_lrs.layerwise_decay(params, 0.5, layer_of, num_layers=3)
      >>> [float(m) for m in (mults["embed"], *mults["blocks"], mults["head"])]
      [0.125, 0.25, 0.5, 1.0]
    """
    fn = "layerwise_decay"
    _need_params(fn, params)
    leaf = as_leaf(fn, "decay", decay, "float")
    check(fn, "decay", decay, "> 0", lambda d: d > 0)
    if not callable(layer_of):
        fail(fn, "layer_of", "a function from a key path string to a layer id", layer_of)
    if not _is_int(num_layers) or num_layers < 0:
        fail(fn, "num_layers", "an integer >= 0", num_layers)
    top = int(num_layers)
    scales: dict[int, jax.Array] = {}

    def scale(k: int) -> jax.Array:
        if k not in scales:
            if is_traced(decay):
                scales[k] = leaf**k
            else:  # in float64, rounded once, as timm's Python floats
                scales[k] = jnp.asarray(np.asarray(decay, np.float64) ** k, float_dtype())
        return scales[k]

    def mult(path: KeyPath, _leaf: Any) -> jax.Array:
        name = _name(path)
        layer = layer_of(name)
        if not _is_int(layer) or not 0 <= layer <= top:
            fail(fn, f"layer_of({name!r})", f"an integer in [0, num_layers={top}]", layer)
        return scale(top - int(layer))

    return jax.tree_util.tree_map_with_path(mult, params)
