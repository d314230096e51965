"""The value types a warehouse twin hands out and takes back: orders, plans, evaluations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from worlds.receipt import Receipt

__all__ = ["AisleCongestion", "Evaluation", "Order", "Plan"]


class Order(NamedTuple):
    """One customer order to pick.

    Attributes:
        order_id: deterministic id (see `WarehouseTwin.orders`).
        lines: SKU ids, unique, in the order they were drawn.
        picks: sorted unique layout node ids the picker must visit.
    """

    order_id: str
    lines: tuple[int, ...]
    picks: tuple[int, ...]


class Plan(NamedTuple):
    """A pick route: a walk over the layout from the depot back to the depot.

    Attributes:
        solver: name of whoever produced it (a reference solver or an agent's label).
        route: node ids; consecutive nodes adjacent, first and last the depot.
    """

    solver: str
    route: tuple[int, ...]


class Evaluation(NamedTuple):
    """The result of walking one plan through the twin for one seed.

    Attributes:
        valid: whether the route is a depot-to-depot walk visiting every pick.
        reason: "" if valid, else what is wrong with the route.
        distance_mm: walked distance (0 if invalid).
        time_ms: simulated completion time including picks and congestion waits (0 if invalid).
        cu: compute units charged, equal to `WarehouseTwin.cu_for(plan, order)`.
        receipt: checkable record of the request and result.
    """

    valid: bool
    reason: str
    distance_mm: int
    time_ms: int
    cu: int
    receipt: Receipt


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AisleCongestion:
    """The aisles' busy windows under one evaluation seed (`WarehouseTwin.congestion`).

    A picker stepping into aisle ``a`` at time ``t`` (ms since the route started) waits until
    ``(t + phase_ms[a]) % period_ms[a]`` is no longer below ``busy_ms[a]``; an aisle with
    period 0 is never busy. The arrays are read-only.

    Attributes:
        period_ms: (n_aisles,) int64 cycle length, 0 for an uncongested aisle.
        busy_ms: (n_aisles,) int64 busy part of each cycle.
        phase_ms: (n_aisles,) int64 offset of the cycle.
    """

    period_ms: np.ndarray
    busy_ms: np.ndarray
    phase_ms: np.ndarray

    def __post_init__(self) -> None:
        for a in (self.period_ms, self.busy_ms, self.phase_ms):
            a.flags.writeable = False
