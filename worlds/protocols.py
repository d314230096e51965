"""What the economy asks of a twin: the surface every service twin offers.

A service twin turns a spec into requests (`orders`) that customers post as jobs, reference
plans (`solve`) that providers start from, exact sim-time prices (`cu_for`) and evaluations
(`evaluate`) that measure a plan's quality in the twin's own terms. `time_ms` is the quality
the economy values (lower is better): pick-route time in the warehouse, the last delivery back
at the depot in logistics, turbine downtime in the wind farm.

A twin evaluates at tier L1 itself and offers its tiers (`tiers`) through `evaluator(tier)`:
an `Evaluator` is one tier of one twin, with the same `cu_for` / `evaluate` surface, so a
market meters and evaluates every tier alike. The protocols are generic over the twin's
request, plan and evaluation types::

    def best(twin: ServiceTwin[R, P, E], order: R, seed: int) -> P: ...

`worlds.toy.ToyTwin` is the small reference implementation (and the test double for code
above worlds); the shipped twins build on `worlds._base.TwinBase`.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from worlds.receipt import Receipt
from worlds.spec import TwinSpec
from worlds.tier import Tier

__all__ = ["Evaluator", "Plan", "Request", "ServiceTwin", "TwinEvaluation"]


class Request(Protocol):
    """One service request (a pick order, a delivery batch, a maintenance-planning request)."""

    @property
    def order_id(self) -> str: ...
    @property
    def lines(self) -> tuple[int, ...]: ...


class Plan(Protocol):
    """One answer to a request (a pick route, delivery routes, a maintenance schedule)."""

    @property
    def solver(self) -> str: ...


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


RequestT = TypeVar("RequestT", bound=Request)
PlanT = TypeVar("PlanT", bound=Plan)
EvaluationT_co = TypeVar("EvaluationT_co", bound=TwinEvaluation, covariant=True)
RequestT_contra = TypeVar("RequestT_contra", bound=Request, contravariant=True)
PlanT_contra = TypeVar("PlanT_contra", bound=Plan, contravariant=True)


@runtime_checkable
class Evaluator(Protocol[RequestT_contra, PlanT_contra, EvaluationT_co]):
    """One fidelity tier of one twin: prices and evaluates plans at that tier.

    `cu_for(plan, request)` is known before evaluation and equals ``evaluate(...).cu``; the
    same (plan, request, seed) gives an equal evaluation and receipt.
    """

    @property
    def tier(self) -> str:
        """The tier, a `Tier` value ("L0", "L1" or "L2")."""
        ...

    @property
    def hz(self) -> int:
        """The physics rate in Hz (0 for tiers without a fixed step)."""
        ...

    def cu_for(self, plan: PlanT_contra, request: RequestT_contra, /) -> int: ...
    def evaluate(self, plan: PlanT_contra, request: RequestT_contra, seed: int,
                 /) -> EvaluationT_co: ...


@runtime_checkable
class ServiceTwin(Protocol[RequestT, PlanT, EvaluationT_co]):
    """A twin whose services the job market trades; it is its own L1 `Evaluator`."""

    #: Names of the reference solvers `solve` accepts.
    solvers: tuple[str, ...]
    #: The solver whose plan a customer has without buying a service.
    baseline_method: str
    #: The plan class `evaluate` takes (lets a market check deliverables).
    plan_type: type[PlanT]
    #: The tiers `evaluator` offers; always includes L1.
    tiers: tuple[Tier, ...]

    @property
    def spec(self) -> TwinSpec: ...
    @property
    def twin_id(self) -> str: ...
    @property
    def tier(self) -> str: ...
    @property
    def hz(self) -> int: ...
    def orders(self, rng: np.random.Generator, tick_ms: int) -> list[RequestT]: ...
    def solve(self, order: RequestT, method: str,
              rng: np.random.Generator | None = None) -> PlanT: ...
    def cu_for(self, plan: PlanT, order: RequestT, /) -> int: ...
    def evaluate(self, plan: PlanT, order: RequestT, seed: int, /) -> EvaluationT_co: ...
    def baseline(self, order: RequestT, seed: int) -> EvaluationT_co: ...
    def evaluator(self, tier: str = "L1", *,
                  hz: int | None = None) -> Evaluator[RequestT, PlanT, Any]: ...
