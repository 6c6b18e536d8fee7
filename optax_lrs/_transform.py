"""What every schedule-driven transform of the package shares (SPEC §6, "common to all of them").

- Arguments: concrete bad ones raise through `optax_lrs._base`'s helpers; `require_params` and
  `require_arg` raise the `ValueError` of a wrapper that needs `params` or an extra argument (the
  loss `value`) and was called without it, before anything is traced.
- Updates: `scale_updates` multiplies every floating leaf by an array and keeps the leaf's dtype.
- States: `find_nodes` walks a nested optimizer state (`optax.chain` tuples, `multi_transform`'s
  dict of inner states, `masked`, `MultiSteps`, `inject_hyperparams`, lists, dicts, any registered
  pytree) and returns every node of the given types at any depth, with its path; `path_str` spells
  a path. The readers (`hyperparams`, `current_lr`, and those of later transforms) are built on it.

A transform's state is a `NamedTuple` of arrays and its rules use `jnp.where`, never a Python branch
on a state value, so `init`/`update` run under `jit`, `lax.scan` and `vmap`, and a state survives a
checkpoint (every leaf to NumPy and back) bit for bit.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

KeyPath = tuple[Any, ...]


def require_params(fn: str, params: Any) -> None:
    """Raise `ValueError` when a wrapper that needs the current params was called without them."""
    if params is None:
        raise ValueError(f"{fn}: params must be given (call update(updates, state, params))")


def require_arg(fn: str, name: str, value: Any) -> None:
    """Raise `ValueError` when `update` was called without the keyword argument `name` it needs."""
    if value is None:
        raise ValueError(f"{fn}: {name} must be given (call update(updates, state, params, {name}=...))")


def scale_updates(updates: Any, scale: jax.Array) -> Any:
    """Every floating leaf of `updates` times `scale`, in the leaf's own dtype (bfloat16 updates stay
    bfloat16); other leaves unchanged."""

    def one(g):
        g = jnp.asarray(g)
        return (g * scale).astype(g.dtype) if jnp.issubdtype(g.dtype, jnp.inexact) else g

    return jax.tree.map(one, updates)


def find_nodes(tree: Any, types: type | tuple[type, ...]) -> list[tuple[KeyPath, Any]]:
    """Every node of `types` in a nested state, outer ones first, each with its key path.

    A node found is searched too (`inject_hyperparams` inside `inject_hyperparams`). Paths are JAX key
    paths: `SequenceKey` for `optax.chain` positions and list items, `DictKey` for `multi_transform`
    labels and dict keys, `GetAttrKey` for NamedTuple fields (`inner_state`, `inner_opt_state`, ...).
    """
    found: list[tuple[KeyPath, Any]] = []

    def walk(node: Any, prefix: KeyPath) -> None:
        is_leaf = lambda x: x is not node and isinstance(x, types)  # noqa: E731
        for path, leaf in jax.tree_util.tree_flatten_with_path(node, is_leaf=is_leaf)[0]:
            if isinstance(leaf, types):
                found.append((prefix + tuple(path), leaf))
                walk(leaf, prefix + tuple(path))

    if isinstance(tree, types):
        found.append(((), tree))
    walk(tree, ())
    return found


def path_str(path: KeyPath, fields: bool = False) -> str:
    """A key path as `a/b/c`: chain positions, labels and dict keys; NamedTuple field names only with
    `fields` (`inner_state/0`)."""
    parts = []
    for key in path:
        if isinstance(key, jax.tree_util.SequenceKey):
            parts.append(str(key.idx))
        elif isinstance(key, jax.tree_util.DictKey):
            parts.append(str(key.key))
        elif isinstance(key, jax.tree_util.GetAttrKey):
            if fields:
                parts.append(key.name)
        else:
            parts.append(str(key))
    return "/".join(parts)
