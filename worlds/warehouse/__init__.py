"""The warehouse twin: single-block parallel-aisle order picking at tier L1."""

from worlds.warehouse._types import Evaluation, Order, Plan
from worlds.warehouse.env import env, parallel_env
from worlds.warehouse.spec import warehouse_spec
from worlds.warehouse.twin import SOLVERS, WarehouseTwin

__all__ = [
    "SOLVERS",
    "Evaluation",
    "Order",
    "Plan",
    "WarehouseTwin",
    "env",
    "parallel_env",
    "warehouse_spec",
]
