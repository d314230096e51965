"""The value types a logistics twin hands out and takes back: requests, plans, evaluations."""

from __future__ import annotations

from typing import NamedTuple

from worlds.receipt import Receipt

__all__ = ["Evaluation", "Order", "Plan"]


class Order(NamedTuple):
    """One delivery request: a batch of customers served from one depot.

    Attributes:
        order_id: deterministic id (see `LogisticsTwin.orders`).
        lines: customer node ids, unique, in the order they were drawn (the baseline serves
            them in this order).
        demand_units: (len(lines),) units each customer wants, aligned with `lines`.
        depot: depot node id every truck of the request starts from and returns to.
        release_ms: time of day the trucks leave the depot (congestion depends on it).
    """

    order_id: str
    lines: tuple[int, ...]
    demand_units: tuple[int, ...]
    depot: int
    release_ms: int


class Plan(NamedTuple):
    """Delivery routes: one walk over the road network per truck used.

    Attributes:
        solver: name of whoever produced it (a reference solver or an agent's label).
        routes: one node sequence per truck, consecutive nodes adjacent, first and last the
            request's depot; an intermediate depot visit after deliveries is a reload (it
            starts a new trip).
        drops: per route, the strictly increasing positions in that route where a delivery
            is made (the node there is the customer served).
    """

    solver: str
    routes: tuple[tuple[int, ...], ...]
    drops: tuple[tuple[int, ...], ...]


class Evaluation(NamedTuple):
    """The result of driving one plan through the twin for one seed.

    Attributes:
        valid: whether the plan serves every customer once from the right depot, within
            capacity, over existing roads.
        reason: "" if valid, else what is wrong with the plan.
        distance_mm: total distance driven by all trucks (0 if invalid).
        time_ms: time from release until the last truck is back at the depot (0 if invalid).
        cu: compute units charged, equal to `LogisticsTwin.cu_for(plan, order)`.
        receipt: checkable record of the request and result.
        route_time_ms: per route, time from release until that truck is back (() if invalid).
    """

    valid: bool
    reason: str
    distance_mm: int
    time_ms: int
    cu: int
    receipt: Receipt
    route_time_ms: tuple[int, ...] = ()
