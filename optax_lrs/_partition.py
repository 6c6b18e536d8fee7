"""Differentiate a schedule with respect to its real-valued hyperparameters.

A schedule's leaves are of two kinds: real hyperparameters (values, rates, factors, exponents), which
have gradients, and integer step counts (`decay_steps`, boundaries, tables derived from them), which
do not. `jax.grad` over a whole schedule therefore needs `allow_int=True` and hands back `float0`
gradients for the counts. `partition` splits a schedule (or any pytree holding schedules) into the
part to differentiate and the rest; `combine` puts them back together (equinox's `partition` and
`combine` are the model).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optax_lrs._base import Schedule


def _is_real_array(leaf: Any) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray, np.generic)) and jnp.issubdtype(leaf.dtype, jnp.inexact)


def _kinds(cls: type) -> dict[str, str | None]:
    return {f.name: f.metadata.get("kind") for f in dataclasses.fields(cls)}


def _child(node: Any, key: Any) -> Any:
    if isinstance(key, jax.tree_util.GetAttrKey):
        return getattr(node, key.name)
    if isinstance(key, jax.tree_util.SequenceKey):
        return node[key.idx]
    if isinstance(key, jax.tree_util.DictKey):
        return node[key.key]
    return None  # a node without named children: its leaves are judged by dtype


def _is_param(root: Any, path: tuple[Any, ...], leaf: Any) -> bool:
    """Whether the leaf at `path` is a real hyperparameter: a `float_leaf` field of a schedule, or a
    real array outside any schedule's integer or derived fields."""
    node = root
    for key in path:
        if isinstance(node, Schedule) and isinstance(key, jax.tree_util.GetAttrKey):
            kind = _kinds(type(node)).get(key.name)
            if kind in ("int", "derived"):
                return False
            if kind == "float":
                break
        node = _child(node, key)
    return _is_real_array(leaf)


def partition(tree: Any) -> tuple[Any, Any]:
    """Split a schedule (or a pytree holding schedules) into its real hyperparameters and the rest.

    Both halves have the structure of `tree`, with `None` where a leaf belongs to the other half;
    `combine(params, rest)` rebuilds `tree`. `params` holds the real-valued hyperparameters
    (initial and peak values, rates, factors, exponents, constants of `s * c`, `from_fn`'s real
    arrays): differentiate with respect to it, without `allow_int`. `rest` holds the integer step
    counts (`decay_steps`, `warmup_steps`, boundaries, cycle indices) and derived tables (cycle
    starts computed from `t_mul`), which have no gradient: a derived table stays fixed, so the
    gradient with respect to a factor such as `t_mul` is that of its closed-form uses only. Leaves
    outside schedules are split by dtype (real arrays are parameters; Python numbers are not).

    A step count has no gradient. Give it as an integer: a float JAX array (concrete or traced) for
    an integer parameter is rounded, and the constructor warns (`UserWarning`, naming the function
    and the parameter) because a gradient with respect to it would silently be zero; a Python float
    or NumPy value that is a whole number (`decay_steps=1e4`) is accepted without a warning.

    Example:
      >>> import jax
      >>> from optax_lrs import cosine_decay_schedule
      >>> params, rest = partition(cosine_decay_schedule(1.0, 100, alpha=0.1))
      >>> params
      cosine_decay_schedule(init_value=1.0, decay_steps=None, alpha=0.1, exponent=1.0)
      >>> grads = jax.grad(lambda p: combine(p, rest)(100))(params)
      >>> {k: round(float(v), 6) for k, v in named_leaves(grads).items()}
      {'init_value': 0.1, 'alpha': 1.0, 'exponent': 0.0}
    """
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    mask = [_is_param(tree, path, leaf) for path, leaf in flat]
    leaves = [leaf for _, leaf in flat]
    params = jax.tree_util.tree_unflatten(treedef, [x if m else None for x, m in zip(leaves, mask)])
    rest = jax.tree_util.tree_unflatten(treedef, [None if m else x for x, m in zip(leaves, mask)])
    return params, rest


def combine(*trees: Any) -> Any:
    """Merge trees of one structure that hold `None` where another holds the leaf: the inverse of
    `partition` (`combine(*partition(s))` equals `s`). At each leaf the first tree's non-None value
    is taken."""
    if not trees:
        raise ValueError("combine: trees must be at least one pytree, got none")

    def first(*xs: Any) -> Any:
        return next((x for x in xs if x is not None), None)

    return jax.tree_util.tree_map(first, *trees, is_leaf=lambda x: x is None)


def named_leaves(tree: Any) -> dict[str, Any]:
    """The leaves of a pytree by their dotted path (`"init_value"`, `"schedule.peak_value"`,
    `"left.value"`, `"schedules.0.alpha"`), leaving out the `None`s of a `partition` half: a readable
    view of a schedule's hyperparameters or of their gradients."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {jax.tree_util.keystr(path, simple=True, separator="."): leaf for path, leaf in flat}
