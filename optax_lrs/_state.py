"""Readers of an optimizer state: `hyperparams` and `current_lr` (SPEC §6a)."""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import jax
import jax.numpy as jnp
import optax
import optax.contrib

from optax_lrs._greedy import GreedyLRState
from optax_lrs._plateau import ReduceOnPlateauState
from optax_lrs._transform import KeyPath, find_nodes, path_str

# `inject_hyperparams` has produced both over optax's versions
_INJECTED = tuple(
    getattr(optax, name)
    for name in ("InjectHyperparamsState", "InjectStatefulHyperparamsState")
    if hasattr(optax, name)
)
# ours, and optax.contrib's, whose `scale` means the same
_PLATEAU = (ReduceOnPlateauState, optax.contrib.ReduceLROnPlateauState, GreedyLRState)
PLATEAU_KEY = "plateau_scale"


def _entries(opt_state: Any) -> list[tuple[KeyPath, str, jax.Array]]:
    """(path of the state node, name, value) for every injected hyperparameter and plateau scale."""
    out = []
    for path, node in find_nodes(opt_state, _INJECTED + _PLATEAU):
        if isinstance(node, _PLATEAU):
            out.append((path, PLATEAU_KEY, jnp.asarray(node.scale)))
        else:
            out.extend((path, name, jnp.asarray(v)) for name, v in node.hyperparams.items())
    return out


def _keys(entries: list[tuple[KeyPath, str, jax.Array]]) -> list[str]:
    """Plain names when unique; otherwise `where/name`, `where` being the chain positions and labels
    on the way to the state holding it; otherwise the full path with field names too."""
    plain = Counter(name for _, name, _ in entries)
    keys = []
    for path, name, _ in entries:
        if plain[name] == 1:
            keys.append(name)
        else:
            keys.append("/".join(filter(None, (path_str(path), name))))
    if len(set(keys)) < len(keys):
        repeated = Counter(keys)
        keys = [
            "/".join(filter(None, (path_str(path, fields=True), name))) if repeated[k] > 1 else k
            for k, (path, name, _) in zip(keys, entries)
        ]
    return keys


def hyperparams(opt_state: Any) -> dict[str, jax.Array]:
    """Every injected hyperparameter and every plateau scale in an optimizer state, at any depth.

    Found: the `hyperparams` of each `optax.inject_hyperparams` state (`InjectHyperparamsState`,
    `InjectStatefulHyperparamsState`), and the `scale` of each `reduce_on_plateau` state (and of
    `optax.contrib.reduce_on_plateau`'s) under the key "plateau_scale", inside `optax.chain`,
    `multi_transform`, `masked`, `MultiSteps`, nested `inject_hyperparams`, lists and dicts.

    Keys: a value's own name ("learning_rate", "b1", "plateau_scale") when no other value has that
    name; otherwise "<where>/<name>", where <where> joins the `optax.chain` positions and the
    `multi_transform` labels (and other tuple indices and dict keys) on the way to the state that
    holds it, such as "0/learning_rate" and "1/learning_rate", or "head/learning_rate"; if that still
    collides (`inject_hyperparams` inside `inject_hyperparams`), the path also names the state fields
    on the way: "learning_rate" and "inner_state/learning_rate". Order: outer states first, then in
    pytree order.

    An injected hyperparameter holds the value that the last update used (at init: the one the first
    update will use); a plateau scale, the scale that the last update applied (1 at init).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> from optax_lrs import reduce_on_plateau
      >>> opt = optax.chain(optax.inject_hyperparams(optax.sgd)(learning_rate=0.1), reduce_on_plateau())
      >>> sorted(hyperparams(opt.init(jnp.zeros(2))))
      ['learning_rate', 'plateau_scale']
    """
    entries = _entries(opt_state)
    return {key: value for key, (_, _, value) in zip(_keys(entries), entries)}


def current_lr(opt_state: Any) -> jax.Array:
    """The learning rate the last update used: the injected `learning_rate` times every plateau scale.

    Convention, for the state after n updates: n >= 1, the rate of update n (optax's
    `inject_hyperparams` stores the hyperparameters evaluated at the count before its increment,
    `schedule(n − 1)`; `reduce_on_plateau` stores the scale it applied); n = 0, the rate the first
    update will use (`schedule(0)`, scale 1). With PyTorch: the lr of `optimizer.param_groups` during
    the n-th `optimizer.step()`, i.e. `scheduler.get_last_lr()` read before the `scheduler.step()`
    that follows it (`get_last_lr()` after that call is the next update's rate; after construction it
    is the first update's rate, as here at n = 0).

    Raises:
      ValueError: when the state has no injected `learning_rate` (build the optimizer with
        `optax.inject_hyperparams(optax.adam)(learning_rate=schedule)`), or several of them side by
        side (`multi_transform` with several rates: read each with `hyperparams`). Several nested
        in one another (`inject_hyperparams` inside `inject_hyperparams`) give the innermost, the
        rate its optimizer applied.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> from optax_lrs import linear_schedule
      >>> opt = optax.inject_hyperparams(optax.sgd)(learning_rate=linear_schedule(1.0, 0.0, 10))
      >>> state = opt.init(jnp.zeros(2))
      >>> for _ in range(3):
      ...     _, state = opt.update(jnp.ones(2), state)
      >>> round(float(current_lr(state)), 6)  # update 3 (step 2) used 1 − 2/10
      0.8
    """
    entries = _entries(opt_state)
    rates = [
        (key, path, v) for key, (path, name, v) in zip(_keys(entries), entries) if name == "learning_rate"
    ]
    if not rates:
        raise ValueError(
            "current_lr: the optimizer state holds no injected learning_rate; build the optimizer with "
            "optax.inject_hyperparams so that its state records it, e.g. "
            "optax.inject_hyperparams(optax.adam)(learning_rate=schedule)"
        )
    # nested inject_hyperparams: the innermost rate is the one its optimizer applied
    nested = all(inner[1][: len(outer[1])] == outer[1] for outer, inner in zip(rates, rates[1:]))
    if not nested:
        raise ValueError(
            f"current_lr: the optimizer state holds {len(rates)} learning rates "
            f"({', '.join(k for k, _, _ in rates)}); read them with optax_lrs.hyperparams(opt_state)"
        )
    scales = [v for _, name, v in entries if name == PLATEAU_KEY]
    return functools.reduce(jnp.multiply, scales, rates[-1][2])
