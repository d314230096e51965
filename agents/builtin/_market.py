"""What the responding strategies read off an observation alike: the size class of an order,
and what testing one plan for it in the twin costs."""

from __future__ import annotations

from typing import Any

from economy import Observation

#: Order sizes told apart: 1..7 lines, and 8 or more.
SIZE_BUCKETS = 8


def size_bucket(order: Any) -> int:
    """The order's size class, 0 .. SIZE_BUCKETS - 1, by its number of lines."""
    return min(max(len(order.lines), 1), SIZE_BUCKETS) - 1


def plan_test_cost(obs: Observation, order: Any, tier: str) -> float:
    """Base units one evaluation of a plan for `order` at `tier` costs its buyer: the CU of
    the order's baseline plan x (the cheapest posted CU price + the twin's licence per CU)."""
    cu_price = obs.quotes[0].price_per_cu if obs.quotes else 0
    licence = obs.rules.licence_per_cu if obs.rules is not None else 0
    return obs.planner.estimate_cu(order, tier) * (cu_price + licence)
