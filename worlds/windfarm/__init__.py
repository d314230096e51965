"""The wind-farm twin: maintenance planning for turbine components at tier L1."""

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
    "WindfarmTwin",
    "windfarm_spec",
]
