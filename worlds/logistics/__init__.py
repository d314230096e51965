"""The logistics twin: time-dependent truck routing on a road network at tier L1, and its
PettingZoo environment (``logistics_v1``).

``env``, ``parallel_env`` and ``LogisticsParallelEnv`` load pettingzoo on first use.
"""

from worlds._lazy import lazy_attributes
from worlds.logistics._types import Evaluation, Order, Plan
from worlds.logistics.spec import logistics_spec
from worlds.logistics.twin import BASELINE_METHOD, SOLVERS, LogisticsTwin

__all__ = [
    "BASELINE_METHOD",
    "SOLVERS",
    "Evaluation",
    "LogisticsParallelEnv",
    "LogisticsTwin",
    "Order",
    "Plan",
    "env",
    "logistics_spec",
    "parallel_env",
]

__getattr__, __dir__ = lazy_attributes(
    __name__, "_env", ("LogisticsParallelEnv", "env", "parallel_env"))
