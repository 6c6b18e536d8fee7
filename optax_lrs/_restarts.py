"""Transforms driven by a schedule's cycles (SPEC §6d): `reset_on_restart` and `snapshots`.

Both read `schedule.cycle_index(t)` at the update count `t` (optax's convention: 0 on the first
update). The update with count t is

- the first of a new cycle when t > 0 and cycle_index(t) > cycle_index(t − 1);
- the last of its cycle when cycle_index(t + 1) > cycle_index(t).

A schedule whose last cycle never ends (the last cycle of `sgdr_schedule` or `join_schedules`, whose
final value holds) has no last update for that cycle.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from optax_lrs._base import check, fail, is_traced
from optax_lrs._transform import find_nodes, path_str, require_params

# Fields that a reset keeps: every `count` (the schedule's clock, Adam's bias-correction clock), and
# the injected hyperparameters of `inject_hyperparams` states (a rate set by hand survives).
KEPT_FIELDS = ("count", "hyperparams", "hyperparams_states")


def require_cycles(fn: str, schedule: Any) -> Any:
    """`schedule` itself, or the `ValueError` of a transform that reads cycles from something without
    `cycle_index` (a plain callable)."""
    if not callable(getattr(schedule, "cycle_index", None)):
        fail(fn, "schedule", "an optax_lrs Schedule (its cycle_index gives the cycles)", schedule)
    return schedule


def _cycles_at(schedule: Any, count: jax.Array, offsets: tuple[int, ...]) -> list[jax.Array]:
    """`schedule.cycle_index(count + d)` for each offset d in {-1, 0, 1}, in one evaluation (count + 1
    saturates at the int32 maximum, count − 1 at 0)."""
    count = jnp.asarray(count, jnp.int32)
    shifted = {-1: jnp.maximum(count, 1) - 1, 0: count, 1: optax.safe_increment(count)}
    index = schedule.cycle_index(jnp.stack([shifted[d] for d in offsets]))
    return [index[i] for i in range(len(offsets))]


def ends_cycle(schedule: Any, count: jax.Array) -> jax.Array:
    """Whether the update with count t is the last of its cycle: cycle_index(t + 1) > cycle_index(t)."""
    now, nxt = _cycles_at(schedule, count, (0, 1))
    return nxt > now


def starts_cycle(schedule: Any, count: jax.Array) -> jax.Array:
    """Whether the update with count t is the first of a new cycle: t > 0 and
    cycle_index(t) > cycle_index(t − 1)."""
    prev, now = _cycles_at(schedule, count, (-1, 0))
    return (jnp.asarray(count) > 0) & (now > prev)


# --------------------------------------------------------------------------------------------------


class ResetOnRestartState(NamedTuple):
    """State of `reset_on_restart`: arrays only.

    Attributes:
      count: updates applied (int32).
      inner_state: the wrapped optimizer's state.
    """

    count: jax.Array
    inner_state: Any


def _kept(path: tuple[Any, ...]) -> bool:
    return any(isinstance(k, jax.tree_util.GetAttrKey) and k.name in KEPT_FIELDS for k in path)


def _reset(state: Any, fresh: Any, restart: jax.Array) -> Any:
    """`fresh` where `restart`, leaf by leaf, except the kept fields, which keep `state`'s values."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(state)
    new = treedef.flatten_up_to(fresh)
    out = []
    for (path, old), init in zip(leaves, new):
        old = jnp.asarray(old)
        out.append(old if _kept(path) else jnp.where(restart, jnp.asarray(init), old).astype(old.dtype))
    return jax.tree_util.tree_unflatten(treedef, out)


def reset_on_restart(
    optimizer: optax.GradientTransformation, schedule: Any
) -> optax.GradientTransformationExtraArgs:
    """Re-initialise `optimizer`'s state at the first update of every new cycle of `schedule`.

    At the update with count t (optax's convention: 0 on the first update) where t > 0 and
    `schedule.cycle_index(t) > schedule.cycle_index(t − 1)`, the inner state is replaced by
    `optimizer.init(params)` (params: the current ones, passed to `update`) before the update is
    computed, except the kept fields: every NamedTuple field named `count` at any depth (the clock
    that drives optax's schedules, `scale_by_schedule`, `inject_hyperparams`) and the injected
    `hyperparams` (and `hyperparams_states`) of `inject_hyperparams` states, so the moments restart
    and the schedule does not. Adam's `count` is kept too, so its bias correction does not restart:
    the first update of a cycle uses mu = (1 − b1)·g, nu = (1 − b2)·g² corrected by the running
    count (as the restarts of the Keras `SGDRScheduler` callback, which keep one Keras optimizer, do
    not touch Adam's iteration counter either). The selection is a `jnp.where` per leaf: no branch on values.

    Put what must not restart outside the wrapper: `optax.chain(reset_on_restart(adam, s),
    reduce_on_plateau())`, `with_ema(reset_on_restart(adam, s), decay)`,
    `optax.MultiSteps(reset_on_restart(adam, s), k)` (inside, the count is the number of real
    updates). Use the schedule that drives the learning rate, e.g.
    `reset_on_restart(optax.adam(s), s)` with `s = cosine_decay_restarts(...)`.

    Args:
      optimizer: the `optax.GradientTransformation` to wrap.
      schedule: an optax_lrs Schedule; its `cycle_index` says where cycles start (a plain callable
        has no cycles: `ValueError`).

    Returns:
      An `optax.GradientTransformationExtraArgs` whose state is a `ResetOnRestartState`; `update`
      needs `params` (`ValueError` without them).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> from optax_lrs import cosine_decay_restarts
      >>> s = cosine_decay_restarts(0.1, 3, t_mul=1.0)
      >>> opt = reset_on_restart(optax.adam(s), s)
      >>> params = jnp.zeros(2)
      >>> state = opt.init(params)
      >>> for _ in range(4):  # the 4th update (count 3) starts cycle 1
      ...     _, state = opt.update(jnp.ones(2), state, params)
      >>> adam = state.inner_state[0]
      >>> int(adam.count), [round(float(x), 6) for x in adam.mu]  # mu after one update of the cycle
      (4, [0.1, 0.1])
    """
    fn = "reset_on_restart"
    schedule = require_cycles(fn, schedule)
    inner = optax.with_extra_args_support(optimizer)

    def init_fn(params: Any) -> ResetOnRestartState:
        return ResetOnRestartState(count=jnp.zeros((), jnp.int32), inner_state=inner.init(params))

    def update_fn(updates, state, params=None, **extra_args):
        require_params(fn, params)
        restart = starts_cycle(schedule, state.count)
        inner_state = _reset(state.inner_state, inner.init(params), restart)
        updates, inner_state = inner.update(updates, inner_state, params, **extra_args)
        return updates, ResetOnRestartState(count=optax.safe_increment(state.count), inner_state=inner_state)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


# --------------------------------------------------------------------------------------------------


class SnapshotsState(NamedTuple):
    """State of `snapshots`: arrays only.

    Attributes:
      count: updates applied (int32).
      num_valid: snapshots held, at most `keep` (int32).
      slot: the ring slot the next snapshot goes to (int32).
      snapshots: the params' pytree with a leading axis of length `keep` (`keep` full copies of the
        params, in their own dtypes): a ring buffer, slots not yet written hold zeros.
      inner_state: the wrapped optimizer's state.
    """

    count: jax.Array
    num_valid: jax.Array
    slot: jax.Array
    snapshots: Any
    inner_state: Any


def _write(ring: Any, params: Any, slot: jax.Array) -> Any:
    return jax.tree.map(lambda r, p: r.at[slot].set(jnp.asarray(p).astype(r.dtype)), ring, params)


def _keep_ring(ring: Any, params: Any, slot: jax.Array) -> Any:
    del params, slot
    return ring


def _keep(fn: str, keep: Any) -> int:
    """`keep` as a Python int >= 1: it sets the shape of the state, so it cannot be traced."""
    if is_traced(keep):
        fail(fn, "keep", "a concrete integer (it sets the shape of the state)", "a traced value")
    rule = "an integer >= 1"
    if keep is None:
        fail(fn, "keep", rule, keep)
    check(fn, "keep", keep, rule, lambda a: (a >= 1) & (a == np.floor(a)))
    return int(np.asarray(keep))


def snapshots(
    optimizer: optax.GradientTransformation, schedule: Any, keep: int = 5
) -> optax.GradientTransformationExtraArgs:
    """Keep the params after the last update of each of the latest `keep` cycles of `schedule`
    (snapshot ensembles; the Keras `SGDRScheduler` callback's weights at the end of each cycle).

    The update with count t (optax's convention: 0 on the first update) is the last of its cycle
    when `schedule.cycle_index(t + 1) > schedule.cycle_index(t)`; after it, the params it produces
    (`optax.apply_updates(params, updates)`, in the params' own dtypes, exactly) are written into a
    ring buffer of `keep` slots, the oldest overwritten once it is full. The state therefore holds
    `keep` full copies of the params. A cycle that never ends (the last cycle of `sgdr_schedule`,
    whose final value holds) gives no snapshot: read the params themselves at the end of training.
    Read the snapshots with `snapshot_params(opt_state)`.

    Args:
      optimizer: the `optax.GradientTransformation` to wrap (its updates are returned unchanged).
      schedule: an optax_lrs Schedule; its `cycle_index` says where cycles end (a plain callable has
        no cycles: `ValueError`).
      keep: integer >= 1, a Python number (it sets the shape of the state).

    Returns:
      An `optax.GradientTransformationExtraArgs` whose state is a `SnapshotsState`; `update` needs
      `params` (`ValueError` without them).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> from optax_lrs import cosine_decay_restarts
      >>> s = cosine_decay_restarts(1.0, 2, t_mul=1.0)  # cycles of 2 updates
      >>> opt = snapshots(optax.sgd(1.0), s, keep=2)
      >>> params = jnp.zeros(1)
      >>> state = opt.init(params)
      >>> for _ in range(7):
      ...     updates, state = opt.update(-jnp.ones(1), state, params)
      ...     params = optax.apply_updates(params, updates)
      >>> stacked, n = snapshot_params(state)  # after updates 4 and 6 (counts 3 and 5)
      >>> stacked.tolist(), int(n)
      ([[4.0], [6.0]], 2)
    """
    fn = "snapshots"
    schedule = require_cycles(fn, schedule)
    keep = _keep(fn, keep)
    inner = optax.with_extra_args_support(optimizer)

    def init_fn(params: Any) -> SnapshotsState:
        zero = jnp.zeros((), jnp.int32)
        ring = jax.tree.map(lambda p: jnp.zeros((keep, *jnp.shape(p)), jnp.asarray(p).dtype), params)
        return SnapshotsState(zero, zero, zero, ring, inner.init(params))

    def update_fn(updates, state, params=None, **extra_args):
        require_params(fn, params)
        updates, inner_state = inner.update(updates, state.inner_state, params, **extra_args)
        new_params = optax.apply_updates(params, updates)
        take = ends_cycle(schedule, state.count)
        slot = state.slot
        # a cond, not a select: the updates that end no cycle skip the copy (under vmap, with a
        # batched `take`, it is a select again)
        ring = jax.lax.cond(take, _write, _keep_ring, state.snapshots, new_params, slot)
        new_state = SnapshotsState(
            count=optax.safe_increment(state.count),
            num_valid=jnp.where(take, jnp.minimum(state.num_valid + 1, keep), state.num_valid).astype(
                jnp.int32
            ),
            slot=jnp.where(take, (slot + 1) % keep, slot).astype(jnp.int32),
            snapshots=ring,
            inner_state=inner_state,
        )
        return updates, new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def merge_side_by_side(fn: str, what: str, found: list[tuple[tuple[Any, ...], Any]], trees: list[Any]) -> Any:
    """One pytree from the trees of several states found side by side (the labels of
    `multi_transform`, whose inner states hold `optax.MaskedNode` where another label's params are):
    each leaf from the one tree that holds it. `ValueError` when they overlap (nested wrappers)."""
    if len(trees) == 1:
        return trees[0]

    def masked(x):
        return isinstance(x, optax.MaskedNode)

    flat = [jax.tree_util.tree_flatten(t, is_leaf=masked) for t in trees]
    merged = []
    ok = all(treedef == flat[0][1] for _, treedef in flat)
    if ok:
        for leaves in zip(*(leaves for leaves, _ in flat)):
            held = [x for x in leaves if not masked(x)]
            if len(held) > 1:
                ok = False
                break
            merged.append(held[0] if held else leaves[0])
    if not ok:
        where = ", ".join(path_str(path, fields=True) or "(top)" for path, _ in found)
        raise ValueError(
            f"{fn}: the optimizer state holds {len(found)} {what} that overlap (at {where}); "
            "wrap the optimizer only once"
        )
    return jax.tree_util.tree_unflatten(flat[0][1], merged)


def snapshot_params(opt_state: Any) -> tuple[Any, jax.Array]:
    """The snapshots of a `snapshots` state found anywhere in a nested optimizer state.

    Returns `(stacked, num_valid)`: `stacked` is the params' pytree with a leading axis of length
    `keep`, ordered oldest to newest, the first `num_valid` entries being the params after the last
    update of each of the latest `num_valid` completed cycles and the rest zeros (while fewer than
    `keep` cycles have ended); `num_valid` is an int32 scalar. `stacked[-1]` is the newest snapshot
    once `keep` have been taken; before that it is `stacked[num_valid − 1]`.

    Found inside `optax.chain`, `multi_transform` (several labels wrapped side by side are merged into
    one tree, and `num_valid` is the smallest of theirs), `masked`, `MultiSteps` and
    `inject_hyperparams`. Works under `jit` (`num_valid` is then traced).

    Raises:
      ValueError: when the state holds no `snapshots` state.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> from optax_lrs import cosine_decay_restarts
      >>> opt = optax.chain(optax.clip(1.0), snapshots(optax.sgd(0.1), cosine_decay_restarts(1.0, 3)))
      >>> stacked, n = snapshot_params(opt.init({"w": jnp.zeros(2)}))
      >>> stacked["w"].shape, int(n)
      ((5, 2), 0)
    """
    fn = "snapshot_params"
    found = find_nodes(opt_state, SnapshotsState)
    if not found:
        raise ValueError(
            f"{fn}: the optimizer state holds no snapshots state; build the optimizer with "
            "optax_lrs.snapshots(optimizer, schedule, keep)"
        )
    trees = []
    for _, node in found:
        keep = jax.tree.leaves(node.snapshots)[0].shape[0] if jax.tree.leaves(node.snapshots) else 1
        order = (node.slot - node.num_valid + jnp.arange(keep)) % keep
        trees.append(jax.tree.map(lambda ring, order=order: jnp.take(ring, order, axis=0), node.snapshots))
    stacked = merge_side_by_side(fn, "snapshots states", found, trees)
    num_valid = found[0][1].num_valid
    for _, node in found[1:]:
        num_valid = jnp.minimum(num_valid, node.num_valid)
    return stacked, num_valid
