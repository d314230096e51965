"""The scaffolding every shipped service twin shares, so each twin module holds only its model.

`TwinBase` gives a twin built from a `TwinSpec`: the spec check and error wrapping of
``__init__``, `spec` / `twin_id`, the request draw of `orders` (Poisson arrivals, then per
request an id and the twin's own `_draw_request`), `baseline`, `evaluator` (L1 is the twin
itself; other tiers come from `_evaluator_at`), the seed and type checks, and the receipt of
an L1 evaluation. A subclass sets the class attributes and implements `_init`,
`_draw_request`, `solve`, `cu_for` and `evaluate`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from twinecon.errors import suggest
from worlds._canon import sha256_hex
from worlds._seeding import arrivals, request_id
from worlds.errors import InvalidPlan, InvalidSpec, UnknownTier, WorldError
from worlds.protocols import Evaluator
from worlds.receipt import Receipt
from worlds.spec import TwinSpec, require_spec
from worlds.tier import Tier

__all__ = ["TwinBase", "check_seed"]

RequestT = TypeVar("RequestT")
PlanT = TypeVar("PlanT")
EvaluationT = TypeVar("EvaluationT")


def check_seed(seed: Any) -> int:
    """`seed` as an int if it is an int >= 0 (bools are not seeds).

    Raises:
        InvalidPlan: anything else.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidPlan(f"seed is {seed!r}; expected an int >= 0")
    return int(seed)


class TwinBase(ABC, Generic[RequestT, PlanT, EvaluationT]):
    """A service twin built from a spec of its kind (see the module docstring).

    Args:
        spec: a spec of the twin's `kind` and `engine_version` (see ``{kind}_spec()``).

    Raises:
        InvalidSpec: wrong kind or engine version, or a body the twin cannot use.
    """

    #: The spec kind the twin is built from, e.g. "warehouse".
    kind: ClassVar[str]
    #: The engine version its specs must name (``body["engine_version"]``).
    engine_version: ClassVar[str]
    #: The request class `orders` draws and the twin takes back.
    request_type: ClassVar[type]
    #: The plan class `evaluate` takes: lets a market check deliverables.
    plan_type: type
    #: Names of the reference solvers `solve` accepts.
    solvers: tuple[str, ...]
    #: The plan a customer gets without buying a service: the value of a plan is the time
    #: it saves against this one.
    baseline_method: str
    #: The tiers `evaluator` offers.
    tiers: tuple[Tier, ...] = (Tier.L1,)
    #: As an `Evaluator`, the twin is its L1 tier, which has no fixed step.
    tier: Tier = Tier.L1
    hz: int = 0
    #: How a plan is built, for error messages: "Plan(solver=..., <this>)".
    _plan_fields: ClassVar[str]
    #: The prefix of the request ids `orders` draws.
    _request_prefix: ClassVar[str] = "o"
    #: Requests per hour of `orders`, set by `_init`.
    _rate_per_h: int

    def __init__(self, spec: TwinSpec) -> None:
        body = require_spec(spec, kind=self.kind, engine_version=self.engine_version,
                            twin=type(self).__name__)
        self._spec = spec
        self._twin_id = spec.id
        self._sha256 = spec.sha256
        try:
            self._init(body)
        except WorldError:
            raise
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise InvalidSpec(f"{self.kind} spec body lacks or mistypes {exc}; build it with "
                              f"{self.kind}_spec()") from None

    @abstractmethod
    def _init(self, body: dict[str, Any]) -> None:
        """Read the spec body into the twin's arrays (KeyError etc. become InvalidSpec)."""

    # --- identity ---------------------------------------------------------------------------
    @property
    def spec(self) -> TwinSpec:
        """The spec the twin was built from."""
        return self._spec

    @property
    def twin_id(self) -> str:
        """``kind/name@version+sha256[:12]``."""
        return self._twin_id

    # --- requests ---------------------------------------------------------------------------
    def orders(self, rng: np.random.Generator, tick_ms: int) -> list[RequestT]:
        """Draw the requests arriving during one tick.

        The count is Poisson with mean ``rate_per_h * tick_ms / 3_600_000``; each request
        then draws its id (``prefix-`` + 16 hex digits from one 64-bit draw of `rng`, so it
        is deterministic given the rng state) and its content (see the twin's docstring).

        Args:
            rng: the caller's generator for this twin's request process.
            tick_ms: tick length.

        Returns:
            The tick's requests, in arrival order.

        Raises:
            InvalidPlan: `tick_ms` is not an int >= 0.
        """
        count = arrivals(rng, self._rate_per_h, tick_ms)
        return [self._draw_request(rng, request_id(rng, self._request_prefix))
                for _ in range(count)]

    @abstractmethod
    def _draw_request(self, rng: np.random.Generator, request_id: str) -> RequestT:
        """Draw one request's content from `rng` (after its id)."""

    # --- solving and evaluating -------------------------------------------------------------
    @abstractmethod
    def solve(self, order: RequestT, method: str,
              rng: np.random.Generator | None = None) -> PlanT:
        """Plan a request with a reference solver (one of `solvers`)."""

    @abstractmethod
    def cu_for(self, plan: PlanT, order: RequestT) -> int:
        """Compute units `evaluate` charges for this plan and request (known up front)."""

    @abstractmethod
    def evaluate(self, plan: PlanT, order: RequestT, seed: int) -> EvaluationT:
        """Evaluate a plan for a request under one seed at tier L1."""

    def baseline(self, order: RequestT, seed: int) -> EvaluationT:
        """Evaluate the baseline plan (`baseline_method`) every seller is compared with."""
        return self.evaluate(self.solve(order, self.baseline_method), order, seed)

    def evaluator(self, tier: str = "L1", *, hz: int | None = None) -> Evaluator[Any, Any, Any]:
        """The evaluator of one of the twin's tiers.

        Args:
            tier: one of `tiers`; "L1" is the twin itself.
            hz: the physics rate of a tier that steps physics (None: its default); a tier
                without a fixed step takes None or 0.

        Returns:
            An `Evaluator`: `cu_for(plan, request)` and `evaluate(plan, request, seed)` at
            that tier. A tier other than L1 is built anew on each call (the L2 physics
            tier compiles a MuJoCo model): keep it.

        Raises:
            UnknownTier: the twin does not offer `tier`.
            InvalidPlan: an `hz` the tier cannot run at.
        """
        if tier not in self.tiers:
            raise UnknownTier(self.kind, tier, self.tiers)
        if tier == Tier.L1:
            if hz:
                raise InvalidPlan(f"hz is {hz!r} but tier L1 of the {self.kind} twin has no "
                                  "physics step; pass hz only with a physics tier (L2)")
            return self
        return self._evaluator_at(Tier(tier), hz)

    def _evaluator_at(self, tier: Tier, hz: int | None) -> Evaluator[Any, Any, Any]:
        """The evaluator of an offered tier other than L1 (a twin offering one overrides)."""
        raise NotImplementedError(f"{type(self).__name__} lists tier {tier} in `tiers` but "
                                  "does not build its evaluator in `_evaluator_at`")

    # --- shared checks and records ----------------------------------------------------------
    def check_request(self, plan: PlanT, order: RequestT) -> None:
        """Raise InvalidPlan unless `plan` is a `plan_type` of the right shape and `order` a
        request of this twin (what `cu_for` and `evaluate` check before anything else)."""
        self._check_types(plan, order)

    def _check_types(self, plan: Any, order: Any) -> None:
        """Raise InvalidPlan unless `plan` is a `plan_type` of the right shape and `order` a
        `request_type`."""
        if not isinstance(plan, self.plan_type):
            raise InvalidPlan(f"expected a Plan, got {type(plan).__name__}; build one with "
                              f"twin.solve() or Plan(solver=..., {self._plan_fields})")
        self._check_plan_shape(plan)
        self._check_order_type(order, "expected")

    def _check_plan_shape(self, plan: Any) -> None:
        """Raise InvalidPlan if a plan's fields are not even containers (a twin refines)."""

    def _check_order_type(self, order: Any, what: str) -> None:
        if not isinstance(order, self.request_type):
            raise InvalidPlan(f"{what} an Order, got {type(order).__name__}; "
                              "use twin.orders() or twin.make_order()")

    def _unknown_solver(self, method: Any) -> InvalidPlan:
        return InvalidPlan(f"unknown solver {method!r}; expected one of {self.solvers}"
                           f"{suggest(str(method), self.solvers)}")

    def _receipt(self, *, seed: int, cu: int, request: dict[str, Any],
                 result: dict[str, Any]) -> Receipt:
        """The receipt of an L1 evaluation: `request` and `result` are hashed canonically."""
        return Receipt(twin_id=self._twin_id, tier=self.tier.value, hz=self.hz, seed=seed,
                       plan_hash=sha256_hex(request), cu=cu,
                       engine_version=self.engine_version, result_hash=sha256_hex(result))
