"""The logistics twin: time-dependent truck routing on a road network at tier L1."""

from worlds.logistics._types import Evaluation, Order, Plan
from worlds.logistics.spec import logistics_spec
from worlds.logistics.twin import BASELINE_METHOD, SOLVERS, LogisticsTwin

__all__ = [
    "BASELINE_METHOD",
    "SOLVERS",
    "Evaluation",
    "LogisticsTwin",
    "Order",
    "Plan",
    "logistics_spec",
]
