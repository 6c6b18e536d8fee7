"""optax_lrs: learning-rate schedules for JAX/Optax that jit, vmap over every hyperparameter and
differentiate, as pytrees."""

from optax_lrs._averaging import averaged_params, ema_warmup, swa, swa_schedule, with_ema
from optax_lrs._base import Schedule, available, get, grid, stack
from optax_lrs._compose import (
    binary,
    clip,
    cumulative_product,
    from_fn,
    join_schedules,
    maximum,
    minimum,
    per_epoch,
    repeat,
    scale,
    select,
    shift,
    staircase,
    time_warp,
)
from optax_lrs._config import from_config, to_config
from optax_lrs._cosine import (
    cosine_annealing_warm_restarts,
    cosine_decay_restarts,
    cosine_decay_schedule,
    sgdr_schedule,
    warmup_cosine_decay_schedule,
    warmup_hold_cosine_decay,
)
from optax_lrs._cyclic import (
    cyclic_schedule,
    inverse_sqrt_schedule,
    one_cycle_schedule,
    tanh_decay,
    tri_stage_schedule,
    wsd_schedule,
)
from optax_lrs._decay import (
    constant_schedule,
    exponential_decay,
    exponential_decay_with_burnin,
    inverse_time_decay,
    k_decay,
    linear_schedule,
    multistep_decay,
    natural_exp_decay,
    piecewise_constant_schedule,
    polynomial_decay,
    polynomial_schedule,
    step_decay,
    transformer_schedule,
)
from optax_lrs._greedy import GreedyLRState, greedy_lr
from optax_lrs._groups import layerwise_decay, param_groups, scale_by_tree
from optax_lrs._lrfind import LRFindResult, lr_find
from optax_lrs._momentum import cyclic_momentum, one_cycle_momentum
from optax_lrs._partition import combine, named_leaves, partition
from optax_lrs._piecewise import (
    cosine_onecycle_schedule,
    linear_onecycle_schedule,
    piecewise_interpolate_schedule,
)
from optax_lrs._plateau import reduce_on_plateau
from optax_lrs._restarts import reset_on_restart, snapshot_params, snapshots
from optax_lrs._state import current_lr, hyperparams
from optax_lrs._warmup import warmup, warmup_constant_schedule, warmup_exponential_decay_schedule
from optax_lrs.plotting import plot, values  # matplotlib is imported only when plot is called

__version__ = "0.1.0"

__all__ = [
    "reduce_on_plateau",
    "hyperparams",
    "current_lr",
    "staircase",
    "shift",
    "scale",
    "repeat",
    "per_epoch",
    "time_warp",
    "partition",
    "combine",
    "named_leaves",
    "greedy_lr",
    "GreedyLRState",
    "cumulative_product",
    "minimum",
    "maximum",
    "clip",
    "wsd_schedule",
    "tri_stage_schedule",
    "tanh_decay",
    "one_cycle_schedule",
    "inverse_sqrt_schedule",
    "cyclic_schedule",
    "cyclic_momentum",
    "one_cycle_momentum",
    "Schedule",
    "available",
    "binary",
    "constant_schedule",
    "cosine_annealing_warm_restarts",
    "cosine_decay_restarts",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "exponential_decay_with_burnin",
    "from_config",
    "from_fn",
    "get",
    "grid",
    "inverse_time_decay",
    "join_schedules",
    "k_decay",
    "linear_onecycle_schedule",
    "linear_schedule",
    "multistep_decay",
    "natural_exp_decay",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_decay",
    "polynomial_schedule",
    "select",
    "sgdr_schedule",
    "stack",
    "step_decay",
    "to_config",
    "transformer_schedule",
    "warmup",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
    "warmup_hold_cosine_decay",
    "values",
    "plot",
    "scale_by_tree",
    "param_groups",
    "layerwise_decay",
    "with_ema",
    "ema_warmup",
    "swa",
    "swa_schedule",
    "averaged_params",
    "reset_on_restart",
    "snapshots",
    "snapshot_params",
    "lr_find",
    "LRFindResult",
]
