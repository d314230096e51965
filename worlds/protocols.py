"""What the economy asks of a twin: the surface every service twin offers.

A service twin turns a spec into requests (`orders`) that customers post as jobs, reference
plans (`solve`) that providers start from, exact sim-time prices (`cu_for`) and evaluations
(`evaluate`) that measure a plan's quality in the twin's own terms. `time_ms` is the quality
the economy values (lower is better): pick-route time in the warehouse, the last delivery back
at the depot in logistics, turbine downtime in the wind farm.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from worlds.receipt import Receipt
from worlds.spec import TwinSpec

__all__ = ["Request", "ServiceTwin", "TwinEvaluation"]


class Request(Protocol):
    """One service request (a pick order, a delivery batch, a maintenance-planning request)."""

    @property
    def order_id(self) -> str: ...
    @property
    def lines(self) -> tuple[int, ...]: ...


class TwinEvaluation(Protocol):
    """The result of evaluating one plan for one request and seed."""

    @property
    def valid(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def time_ms(self) -> int: ...
    @property
    def cu(self) -> int: ...
    @property
    def receipt(self) -> Receipt: ...


@runtime_checkable
class ServiceTwin(Protocol):
    """A twin whose services the job market trades."""

    solvers: tuple[str, ...]
    baseline_method: str
    plan_type: type  # the plan class `evaluate` takes

    @property
    def spec(self) -> TwinSpec: ...
    @property
    def twin_id(self) -> str: ...
    def orders(self, rng: np.random.Generator, tick_ms: int) -> list[Any]: ...
    def solve(self, order: Any, method: str, rng: np.random.Generator | None = None) -> Any: ...
    def cu_for(self, plan: Any, order: Any) -> int: ...
    def evaluate(self, plan: Any, order: Any, seed: int) -> Any: ...
