"""The warehouse twin: single-block parallel-aisle order picking at tiers L1 and L2.

``env``, ``parallel_env``, ``WarehouseParallelEnv`` and ``ACTIONS`` (the PettingZoo
environment ``warehouse_v1``) load pettingzoo on first use; ``physics`` (tier L2) loads
mujoco when imported or when ``twin.evaluator("L2")`` is first called.
"""

from worlds._lazy import lazy_attributes
from worlds.warehouse._scene import DEFAULT_HZ, HZ_CHOICES
from worlds.warehouse._types import AisleCongestion, Evaluation, Order, Plan
from worlds.warehouse.spec import warehouse_spec
from worlds.warehouse.twin import SOLVERS, WarehouseTwin

__all__ = [
    "ACTIONS",
    "DEFAULT_HZ",
    "HZ_CHOICES",
    "SOLVERS",
    "AisleCongestion",
    "Evaluation",
    "Order",
    "Plan",
    "WarehouseParallelEnv",
    "WarehouseTwin",
    "env",
    "parallel_env",
    "warehouse_spec",
]

__getattr__, __dir__ = lazy_attributes(
    __name__, "_env", ("ACTIONS", "WarehouseParallelEnv", "env", "parallel_env"))
