"""The value types a wind-farm twin hands out and takes back: requests, plans, evaluations."""

from __future__ import annotations

from typing import NamedTuple

from worlds.receipt import Receipt

__all__ = ["Evaluation", "Intervention", "Order", "Plan"]

#: One planned replacement: (turbine id, component id, start day within the horizon).
Intervention = tuple[int, int, int]


class Order(NamedTuple):
    """One maintenance-planning request: some turbines and the state of their components.

    The state arrays are flattened turbine-major: entry ``i * n_components + c`` belongs to
    component ``c`` of turbine ``lines[i]``.

    Attributes:
        order_id: deterministic id (see `WindfarmTwin.orders`).
        lines: the turbine ids covered, sorted, unique.
        age_h: current age of each component, hours since it was last renewed.
        wear: observed wear of each gamma-process component (wear units); 0 for components
            whose condition is not observable (Weibull).
        start_doy: day of the year the horizon starts (0 = 1 January), for the seasons.
    """

    order_id: str
    lines: tuple[int, ...]
    age_h: tuple[int, ...]
    wear: tuple[int, ...]
    start_doy: int


class Plan(NamedTuple):
    """A maintenance schedule: per crew, the planned replacements in the order it does them.

    Attributes:
        solver: name of whoever produced it (a reference solver or an agent's label).
        schedule: one tuple per crew (crew id = position; fewer than `n_crews` tuples leave
            the rest idle) of `Intervention` triples (turbine, component, start_day).
    """

    solver: str
    schedule: tuple[tuple[Intervention, ...], ...]


class Evaluation(NamedTuple):
    """The result of running one schedule through the twin's futures for one seed.

    All figures are means over the Monte Carlo futures (floored to ints) over the horizon
    plus the tail.

    Attributes:
        valid: whether the schedule is executable (known turbines and components, inside the
            horizon, no crew or component booked twice at once).
        reason: "" if valid, else what is wrong with the schedule.
        cost: repairs + replacements + energy lost x price, EUR (0 if invalid).
        downtime_ms: total turbine downtime, summed over the request's turbines.
        energy_lost_kwh: energy not produced during that downtime.
        time_ms: equal to `downtime_ms`: the quality the economy values (lower is better).
        failures_milli: failures per future x 1000.
        replacements_milli: planned replacements carried out per future x 1000.
        cu: compute units charged, equal to `WindfarmTwin.cu_for(plan, order)`.
        receipt: checkable record of the request and result.
    """

    valid: bool
    reason: str
    cost: int
    downtime_ms: int
    energy_lost_kwh: int
    time_ms: int
    failures_milli: int
    replacements_milli: int
    cu: int
    receipt: Receipt
