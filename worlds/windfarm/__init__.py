"""The wind-farm twin (maintenance planning at tier L1) and its PettingZoo environments.

`parallel_env` and `env` are the functions of `worlds.windfarm.env`, bound here on import so
``from worlds.windfarm import env`` gives the AEC factory (not the submodule of that name) and
``pettingzoo.test.max_cycles_test(worlds.windfarm)`` finds both.
"""

from worlds.windfarm._types import Evaluation, Intervention, Order, Plan
from worlds.windfarm.env import WindfarmParallelEnv, env, parallel_env
from worlds.windfarm.spec import DEFAULT_COMPONENTS, windfarm_spec
from worlds.windfarm.twin import BASELINE, SOLVERS, WindfarmTwin

__all__ = [
    "BASELINE",
    "DEFAULT_COMPONENTS",
    "SOLVERS",
    "Evaluation",
    "Intervention",
    "Order",
    "Plan",
    "WindfarmParallelEnv",
    "WindfarmTwin",
    "env",
    "parallel_env",
    "windfarm_spec",
]
