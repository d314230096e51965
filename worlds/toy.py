"""A tiny service twin (kind "toy"), shipped as the test double for code above worlds.

`ToyTwin` has the whole `ServiceTwin` surface of the real twins (requests, reference solvers
with a baseline, exact CU, evaluations with receipts, tiers and their evaluators) in a model
small enough to reason about by hand, and it builds and evaluates in microseconds: the
economy's and the agents' tests use it where the warehouse would cost them seconds::

    from worlds.toy import ToyTwin, toy_spec
    twin = ToyTwin(toy_spec())
    order = twin.orders(np.random.default_rng(7), tick_ms=3_600_000)[0]
    plan = twin.solve(order, "two_opt")
    ev = twin.evaluate(plan, order, seed=7)          # ev.time_ms, ev.cu, ev.receipt
    l0 = twin.evaluator("L0")                        # analytic tier: flat CU, no waits

**Model**: a courier leaves a depot at (0, 0), visits a request's stops and comes back,
moving along the axes (Manhattan distance) at ``speed_mm_s``. The ``n_stops`` stops lie on a
grid of ``grid_mm`` in ``[-extent, extent]^2``, drawn once from
``np.random.default_rng(layout_seed)`` and written into the spec. A request (`Order`) names
1 to ``lines_max`` distinct stops; a `Plan` is the order to visit them in (a permutation of
the request's stops).

**Evaluation (tier L1)**: ``time_ms`` is the travel time (each leg rounded up to a whole ms),
plus ``service_ms`` and a seeded wait at each stop: stop ``s`` waits ``waits[s]`` ms, drawn
uniform in ``0..wait_max_ms`` from ``SeedSequence([seed, int(spec.sha256[:16], 16)])``, the
same for every plan (common random numbers). CU: ``base_cu + len(route) * stop_cu``, known
before evaluation. **Tier L0** (`ToyL0Evaluator`): the same without the waits (closed form,
independent of the seed) for a flat ``l0_cu``.

**Solvers**: ``"given"`` (the baseline: the stops in the order drawn), ``"nearest"``
(nearest neighbour from the depot) and ``"two_opt"`` (2-opt from the nearest-neighbour tour;
with an `rng`, from a random tour, so repeated calls give different candidates).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from worlds._base import TwinBase, check_seed
from worlds._canon import sha256_hex
from worlds._seeding import twin_rng
from worlds.errors import InvalidPlan, InvalidSpec
from worlds.receipt import Receipt
from worlds.spec import TwinSpec, spec_int
from worlds.tier import Tier

__all__ = ["ENGINE_VERSION", "L0_ENGINE_VERSION", "SOLVERS", "Evaluation", "Order", "Plan",
           "ToyL0Evaluator", "ToyTwin", "toy_spec"]

ENGINE_VERSION = "toy-l1/1"
L0_ENGINE_VERSION = "toy-l0/1"
SOLVERS: tuple[str, ...] = ("given", "nearest", "two_opt")


class Order(NamedTuple):
    """One delivery round.

    Attributes:
        order_id: deterministic id (``"toy-"`` + 16 hex digits, see `ToyTwin.orders`).
        lines: the stop ids to visit, unique, in the order they were drawn.
    """

    order_id: str
    lines: tuple[int, ...]


class Plan(NamedTuple):
    """The order to visit a request's stops in.

    Attributes:
        solver: name of whoever produced it (a reference solver or an agent's label).
        route: stop ids, a permutation of the request's lines (the depot is implicit).
    """

    solver: str
    route: tuple[int, ...]


class Evaluation(NamedTuple):
    """The result of driving one plan for one seed.

    Attributes:
        valid: whether the route visits every stop of the request exactly once.
        reason: "" if valid, else what is wrong with the route.
        distance_mm: distance driven, depot to depot (0 if invalid).
        time_ms: travel, service and waits (0 if invalid).
        cu: compute units charged, equal to the evaluator's `cu_for(plan, order)`.
        receipt: checkable record of the request and result.
    """

    valid: bool
    reason: str
    distance_mm: int
    time_ms: int
    cu: int
    receipt: Receipt


def toy_spec(name: str = "toy-default", version: str = "1.0.0", *, n_stops: int = 12,
             grid_mm: int = 1000, extent: int = 5, layout_seed: int = 0,
             speed_mm_s: int = 1000, service_ms: int = 2000, wait_max_ms: int = 3000,
             rate_per_h: int = 60, lines_max: int = 5, base_cu: int = 20, stop_cu: int = 10,
             l0_cu: int = 5) -> TwinSpec:
    """Build a toy twin spec (kind "toy").

    Args:
        name: twin name.
        version: semver for people; the hash is the identity.
        n_stops: number of stops, at most ``(2 * extent + 1) ** 2 - 1``.
        grid_mm: grid pitch of the stop positions.
        extent: stops lie at ``grid_mm * (i, j)`` for ``i, j in -extent..extent``.
        layout_seed: seed of the stop positions.
        speed_mm_s: courier speed.
        service_ms: time spent at each stop.
        wait_max_ms: largest seeded wait at a stop.
        rate_per_h: Poisson request rate.
        lines_max: most stops per request (at most n_stops).
        base_cu: CU of an L1 evaluation besides its stops.
        stop_cu: CU per stop of an L1 evaluation.
        l0_cu: CU of an L0 evaluation (flat).

    Bounds (what one machine builds in well under a second): extent <= 100 (the grid's
    cells are listed), n_stops <= 1000 (the twin keeps a stop-to-stop distance matrix);
    grid_mm at most 1000000 (1 km); speed_mm_s <= 100000; service and wait times at most an
    hour; rate_per_h <= 3600; CU at most 1000000; layout_seed < 2**63.

    Raises:
        InvalidSpec: a parameter out of range.
    """
    extent = spec_int("extent", extent, low=1, high=100)
    n_cells = (2 * extent + 1) ** 2 - 1  # the depot's cell is not a stop
    n = spec_int("n_stops", n_stops, low=1, high=1000)
    if n > n_cells:
        raise InvalidSpec(f"n_stops is {n} but the grid holds {n_cells} stops; raise extent")
    lines_max = spec_int("lines_max", lines_max, low=1)
    if lines_max > n:
        raise InvalidSpec(f"lines_max is {lines_max}; expected at most n_stops ({n})")
    cells = [(i, j) for i in range(-extent, extent + 1) for j in range(-extent, extent + 1)
             if (i, j) != (0, 0)]
    rng = np.random.default_rng(spec_int("layout_seed", layout_seed, low=0, high=2**63 - 1))
    pitch = spec_int("grid_mm", grid_mm, low=1, high=1_000_000)
    stops = [[cells[c][0] * pitch, cells[c][1] * pitch]
             for c in rng.choice(len(cells), size=n, replace=False).tolist()]
    body = {
        "engine_version": ENGINE_VERSION,
        "stops_mm": stops,
        "courier": {"speed_mm_s": spec_int("speed_mm_s", speed_mm_s, low=1, high=100_000),
                    "service_ms": spec_int("service_ms", service_ms, low=0, high=3_600_000),
                    "wait_max_ms": spec_int("wait_max_ms", wait_max_ms, low=0,
                                            high=3_600_000)},
        "requests": {"rate_per_h": spec_int("rate_per_h", rate_per_h, low=0, high=3_600),
                     "lines_max": lines_max},
        "metering": {"base_cu": spec_int("base_cu", base_cu, low=0, high=1_000_000),
                     "stop_cu": spec_int("stop_cu", stop_cu, low=0, high=1_000_000),
                     "l0_cu": spec_int("l0_cu", l0_cu, low=0, high=1_000_000)},
    }
    return TwinSpec(kind="toy", name=name, version=version, body=body)


class ToyTwin(TwinBase[Order, Plan, Evaluation]):
    """A courier visiting stops on a grid (see the module docstring).

    Args:
        spec: a spec of kind "toy" (see `toy_spec`).

    Raises:
        InvalidSpec: wrong kind or engine version, or a malformed body.
    """

    kind = "toy"
    engine_version = ENGINE_VERSION
    request_type = Order
    plan_type: type[Plan] = Plan
    solvers: tuple[str, ...] = SOLVERS
    baseline_method: str = "given"
    tiers: tuple[Tier, ...] = (Tier.L0, Tier.L1)
    _plan_fields = "route=..."
    _request_prefix = "toy"

    def _init(self, body: dict[str, Any]) -> None:
        xy = np.array([[0, 0], *body["stops_mm"]], dtype=np.int64)  # row 0: the depot
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise InvalidSpec("toy spec stops_mm must be [x_mm, y_mm] pairs; use toy_spec()")
        self.n_stops = len(xy) - 1
        # _dist[a + 1, b + 1]: stop a to stop b; index 0 is the depot.
        self._dist = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)
        courier = body["courier"]
        speed = int(courier["speed_mm_s"])
        self._leg_ms = -(-self._dist * 1000 // speed)
        self._service_ms = int(courier["service_ms"])
        self._wait_max_ms = int(courier["wait_max_ms"])
        self._rate_per_h = int(body["requests"]["rate_per_h"])
        self._lines_max = int(body["requests"]["lines_max"])
        meter = body["metering"]
        self._base_cu, self._stop_cu = int(meter["base_cu"]), int(meter["stop_cu"])
        self.l0_cu = int(meter["l0_cu"])

    # --- requests ---------------------------------------------------------------------------
    def make_order(self, lines: Sequence[int], *, order_id: str) -> Order:
        """Build a request from stop ids (for callers that bring their own demand).

        Raises:
            InvalidPlan: no stops, a stop out of range, or a repeat.
        """
        stops = tuple(int(s) for s in lines)
        if not stops or len(set(stops)) != len(stops) or not all(
                0 <= s < self.n_stops for s in stops):
            raise InvalidPlan(f"order {order_id!r} lines {stops!r}: expected unique stop ids "
                              f"in 0..{self.n_stops - 1}, at least one")
        return Order(order_id=order_id, lines=stops)

    def _draw_request(self, rng: np.random.Generator, request_id: str) -> Order:
        """``Uniform{1..lines_max}`` distinct stops (`orders` draws the count and the id)."""
        k = int(rng.integers(1, self._lines_max + 1))
        return self.make_order(rng.choice(self.n_stops, size=k, replace=False).tolist(),
                               order_id=request_id)

    # --- solving ----------------------------------------------------------------------------
    def solve(self, order: Order, method: str, rng: np.random.Generator | None = None) -> Plan:
        """Order a request's stops with a reference solver.

        Args:
            order: the request.
            method: one of `SOLVERS`: "given", "nearest" or "two_opt".
            rng: only for "two_opt": start from a random tour instead of nearest neighbour.

        Raises:
            InvalidPlan: unknown method or not an Order.
        """
        self._check_order_type(order, "solve needs")
        if method == "given":
            route = list(order.lines)
        elif method == "nearest":
            route = self._nearest(order.lines)
        elif method == "two_opt":
            start = (self._nearest(order.lines) if rng is None
                     else [order.lines[i] for i in rng.permutation(len(order.lines))])
            route = self._two_opt(start)
        else:
            raise self._unknown_solver(method)
        return Plan(solver=method, route=tuple(route))

    def _nearest(self, stops: Sequence[int]) -> list[int]:
        left, route, at = list(stops), [], -1
        while left:
            nxt = min(left, key=lambda s: (int(self._dist[at + 1, s + 1]), s))
            route.append(nxt)
            left.remove(nxt)
            at = nxt
        return route

    def _two_opt(self, route: list[int]) -> list[int]:
        tour = [-1, *route, -1]  # -1: the depot
        d = self._dist
        improved = True
        while improved:
            improved = False
            for i, j in itertools.combinations(range(1, len(tour) - 1), 2):
                a, b, c, e = tour[i - 1] + 1, tour[i] + 1, tour[j] + 1, tour[j + 1] + 1
                if d[a, c] + d[b, e] < d[a, b] + d[c, e]:
                    tour[i:j + 1] = tour[i:j + 1][::-1]
                    improved = True
        return tour[1:-1]

    # --- evaluation -------------------------------------------------------------------------
    def cu_for(self, plan: Plan, order: Order) -> int:
        """Compute units `evaluate` charges: ``base_cu + len(route) * stop_cu``."""
        self._check_types(plan, order)
        return self._base_cu + len(plan.route) * self._stop_cu

    def _check_plan_shape(self, plan: Plan) -> None:
        if not isinstance(plan.route, tuple | list):
            raise InvalidPlan(f"plan.route is a {type(plan.route).__name__}; expected a tuple "
                              "of stop ids")

    def invalid_reason(self, plan: Plan, order: Order) -> str:
        """What is wrong with the route for the request ("" if it visits every stop once).

        Raises:
            InvalidPlan: `plan` is not a Plan or `order` not an Order.
        """
        self._check_types(plan, order)
        route = plan.route
        if not all(_is_int(s) for s in route):
            return f"route {route!r:.60} is not a sequence of int stop ids"
        if sorted(int(s) for s in route) != sorted(order.lines):
            return (f"route visits {sorted(route)!r:.60}; expected each of the request's stops "
                    f"{sorted(order.lines)!r:.60} exactly once")
        return ""

    def drive(self, route: Sequence[int], waits: Sequence[int] | None) -> tuple[int, int]:
        """(time_ms, distance_mm) of a valid route, with the stops' `waits` (None: none)."""
        legs = [-1, *route, -1]
        distance = time = 0
        for a, b in itertools.pairwise(legs):
            distance += int(self._dist[a + 1, b + 1])
            time += int(self._leg_ms[a + 1, b + 1])
        time += len(route) * self._service_ms
        if waits is not None:
            time += sum(waits[s] for s in route)
        return time, distance

    def waits(self, seed: int) -> tuple[int, ...]:
        """(n_stops,) the seeded wait at each stop under evaluation seed `seed`, ms."""
        rng = twin_rng(check_seed(seed), self._sha256)
        return tuple(rng.integers(0, self._wait_max_ms + 1, size=self.n_stops).tolist())

    def evaluate(self, plan: Plan, order: Order, seed: int) -> Evaluation:
        """Drive a plan for one seed at tier L1.

        Returns:
            The evaluation; an invalid route gives ``valid=False`` and a reason, still
            charged `cu_for(plan, order)` CU.

        Raises:
            InvalidPlan: `plan` is not a Plan, `order` not an Order, or `seed` not an int.
        """
        cu = self.cu_for(plan, order)
        seed = check_seed(seed)
        return _evaluation(self, plan, order, seed, cu, self.waits(seed), tier=Tier.L1,
                           engine_version=ENGINE_VERSION)

    # --- tiers ------------------------------------------------------------------------------
    def _evaluator_at(self, tier: Tier, hz: int | None) -> ToyL0Evaluator:
        if hz:
            raise InvalidPlan(f"hz is {hz!r} but tier {tier} of the toy twin has no physics "
                              "step; pass no hz")
        return ToyL0Evaluator(self)


class ToyL0Evaluator:
    """The toy twin's analytic tier: travel and service in closed form, no waits, flat CU.

    Args:
        twin: the toy twin.
    """

    tier: Tier = Tier.L0
    hz: int = 0

    def __init__(self, twin: ToyTwin) -> None:
        self.twin = twin

    def cu_for(self, plan: Plan, order: Order) -> int:
        """Compute units `evaluate` charges: the spec's flat ``l0_cu``."""
        self.twin.check_request(plan, order)
        return self.twin.l0_cu

    def evaluate(self, plan: Plan, order: Order, seed: int) -> Evaluation:
        """The L1 answer without the seeded waits (the seed is only recorded)."""
        cu = self.cu_for(plan, order)
        seed = check_seed(seed)
        return _evaluation(self.twin, plan, order, seed, cu, None, tier=Tier.L0,
                           engine_version=L0_ENGINE_VERSION)


def _evaluation(twin: ToyTwin, plan: Plan, order: Order, seed: int, cu: int,
                waits: Sequence[int] | None, *, tier: Tier, engine_version: str) -> Evaluation:
    """Drive the plan (with `waits`, or none) and record it at `tier`."""
    reason = twin.invalid_reason(plan, order)
    time_ms = distance_mm = 0
    if not reason:
        time_ms, distance_mm = twin.drive([int(s) for s in plan.route], waits)
    result = {"valid": not reason, "reason": reason, "distance_mm": distance_mm,
              "time_ms": time_ms, "cu": cu}
    request = {"solver": plan.solver, "order_id": order.order_id, "lines": list(order.lines),
               "route": [int(s) if _is_int(s) else repr(s) for s in plan.route]}
    receipt = Receipt(twin_id=twin.twin_id, tier=tier.value, hz=0, seed=seed,
                      plan_hash=sha256_hex(request), cu=cu, engine_version=engine_version,
                      result_hash=sha256_hex(result))
    return Evaluation(valid=not reason, reason=reason, distance_mm=distance_mm,
                      time_ms=time_ms, cu=cu, receipt=receipt)


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)
