"""The wind-farm twin (maintenance planning at tier L1) and its PettingZoo environments.

`parallel_env`, `env` and `WindfarmParallelEnv` come from the private `worlds.windfarm._env`,
bound here on first use (pettingzoo loads then, not on ``import worlds.windfarm``), so
``from worlds.windfarm import env`` gives the AEC factory and
``pettingzoo.test.max_cycles_test(worlds.windfarm)`` finds both factories.
"""

from worlds._lazy import lazy_attributes
from worlds.windfarm._types import Evaluation, Intervention, Order, Plan
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

__getattr__, __dir__ = lazy_attributes(
    __name__, "_env", ("WindfarmParallelEnv", "env", "parallel_env"))
