"""The logistics twin at tier L1: routes delivery requests and evaluates them as discrete events.

Build it from a spec made by `logistics_spec`::

    twin = LogisticsTwin(logistics_spec())
    rng = np.random.default_rng(7)
    order = twin.orders(rng, tick_ms=3_600_000)[0]
    plan = twin.solve(order, "vrp")
    ev = twin.evaluate(plan, order, seed=7)   # ev.time_ms, ev.cu, ev.receipt

A request (`Order`) is a batch of customers (``lines``) with their demand, served by up to
``n_trucks`` trucks from one depot, leaving at ``release_ms`` (time of day). A `Plan` gives each
truck used a walk over the roads from the depot back to it, and the positions where it
delivers; an intermediate depot visit after deliveries reloads the truck (a new trip).

Reference solvers (`SOLVERS`):

- ``"shortest_path"`` (the baseline): customers in the order given, cut into trips by
  capacity, trip ``j`` on truck ``j mod n_trucks``, each leg the free-flow shortest path (a
  navigator without traffic information).
- ``"td_shortest_path"``: the same trips, each leg the fastest path for the congestion the
  truck meets when it leaves (time-dependent A* on the congestion profile).
- ``"vrp"``: Clarke-Wright savings (classic, and stopped at ``n_trucks`` trips) and sweep
  (from several start angles, balanced over the trucks) candidates, each trip improved by
  2-opt, trips assigned longest first to the least-loaded truck, legs time-dependent; the
  candidate with the lowest predicted makespan on the congestion profile wins (the
  ``"td_shortest_path"`` plan is one candidate, so its prediction is never worse). With an
  `rng` the candidates are randomised instead (varied plans for a provider to try).

Evaluation model (integer ms): every truck leaves the depot at ``release_ms`` and drives its
route on the seeded travel times (the congestion profile plus per-(edge, 15 min slot) noise and
incidents drawn from ``SeedSequence([seed, int(spec.sha256[:16], 16)])``, the same for every
plan, so plans are compared on common random numbers); a delivery costs ``service_time_ms``, a
reload ``reload_time_ms``. ``time_ms`` is the time from release until the last truck is back.

Compute units at L1 (known before evaluation): ``eval_base_cu + hops * edge_traversal_cu +
len(order.lines) * stop_cu`` where ``hops`` counts the edges of all routes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from worlds._base import TwinBase, check_seed
from worlds.errors import InvalidPlan
from worlds.logistics import _solvers as S
from worlds.logistics._network import Network
from worlds.logistics._types import Evaluation, Order, Plan
from worlds.logistics.spec import ENGINE_VERSION

__all__ = ["BASELINE_METHOD", "SOLVERS", "LogisticsTwin"]

SOLVERS: tuple[str, ...] = ("shortest_path", "td_shortest_path", "vrp")
BASELINE_METHOD = "shortest_path"
_VRP_EXPANDED = 3  # candidates expanded with time-dependent legs (best by static estimate)
_VRP_OFFSETS = 8  # sweep start angles tried


class LogisticsTwin(TwinBase[Order, Plan, Evaluation]):
    """A road network with a truck fleet, evaluated as a time-dependent discrete-event model.

    Args:
        spec: a spec of kind "logistics" (see `logistics_spec`).

    Raises:
        InvalidSpec: wrong kind or engine version, or a layout the twin cannot use.
    """

    kind = "logistics"
    engine_version = ENGINE_VERSION
    request_type = Order
    plan_type: type[Plan] = Plan
    solvers: tuple[str, ...] = SOLVERS
    baseline_method: str = BASELINE_METHOD
    _plan_fields = "routes=..., drops=..."

    def _init(self, body: dict[str, Any]) -> None:
        self.net = Network(body, self._sha256)
        net = self.net
        self.graph = net.graph
        self.depots: tuple[int, ...] = tuple(net.depots)
        self.n_trucks = net.n_trucks
        self.capacity_units = net.capacity
        demand = body["demand"]
        self._rate_per_h = int(demand["rate_per_h"])
        self._window = (int(demand["service_start_ms"]), int(demand["service_end_ms"]))
        self._cust_mean = int(demand["customers"]["mean"])
        self._cust_max = int(demand["customers"]["max"])
        self._units = (int(demand["units_min"]), int(demand["units_max"]))
        meter = body["metering"]
        self._traversal_cu = int(meter["edge_traversal_cu"])
        self._stop_cu = int(meter["stop_cu"])
        self._base_cu = int(meter["eval_base_cu"])
        self._relax_cu = int(meter["edge_relaxation_cu"])

    # --- network ----------------------------------------------------------------------------
    def distance_mm(self, u: int, v: int) -> int:
        """Shortest road distance between two nodes."""
        return int(self.net.dist_mm[u, v])

    def free_flow_ms(self, u: int, v: int) -> int:
        """Shortest travel time between two nodes without congestion."""
        return int(self.net.ff_ms[u, v])

    # --- orders -----------------------------------------------------------------------------
    def make_order(self, lines: Sequence[int], demand_units: Sequence[int], *, depot: int,
                   release_ms: int, order_id: str) -> Order:
        """Build a request from customer nodes (for callers that bring their own demand).

        Raises:
            InvalidPlan: a node is not a customer or repeats, a demand is out of
                1..capacity, the depot is not a depot, or release_ms is negative.
        """
        net = self.net
        nodes = tuple(int(c) for c in lines)
        units = tuple(int(d) for d in demand_units)
        bad = [c for c in nodes if not (0 <= c < net.n and net.is_customer[c])]
        if bad or not nodes or len(set(nodes)) != len(nodes):
            raise InvalidPlan(
                f"request {order_id!r} lines {nodes!r}: expected one or more unique customer "
                f"nodes; got non-customers {bad[:5]!r} or repeats; pick from twin.customers(zone)"
            )
        if len(units) != len(nodes) or any(not 1 <= d <= net.capacity for d in units):
            raise InvalidPlan(
                f"request {order_id!r} demand_units {units!r}: expected one int in "
                f"1..{net.capacity} (the truck capacity) per line"
            )
        if depot not in self.depots:
            raise InvalidPlan(f"request {order_id!r} depot {depot!r} is not a depot; expected "
                              f"one of {self.depots}")
        if isinstance(release_ms, bool) or not isinstance(release_ms, int) or release_ms < 0:
            raise InvalidPlan(f"request {order_id!r} release_ms is {release_ms!r}; expected an "
                              "int >= 0 (ms of the day)")
        return Order(order_id=order_id, lines=nodes, demand_units=units, depot=int(depot),
                     release_ms=release_ms)

    def customers(self, zone: int) -> tuple[int, ...]:
        """The customer nodes of depot `zone` (an index into `depots`)."""
        return tuple(self.net.customers_by_zone[zone])

    def _draw_request(self, rng: np.random.Generator, request_id: str) -> Order:
        """A request at a uniform depot: ``min(Geometric(1 / mean), max, zone size)``
        distinct customers of its zone, a uniform demand per customer and a uniform release
        time in the service window (`orders` draws the count and the ``"o-..."`` id)."""
        zone = int(rng.integers(len(self.depots)))
        pool = self.net.customers_by_zone[zone]
        k = min(int(rng.geometric(1.0 / self._cust_mean)), self._cust_max, len(pool))
        picks = rng.choice(len(pool), size=k, replace=False).tolist()
        units = rng.integers(self._units[0], self._units[1] + 1, size=k).tolist()
        release = int(rng.integers(self._window[0], self._window[1]))
        return self.make_order([pool[i] for i in picks], units, depot=self.depots[zone],
                               release_ms=release, order_id=request_id)

    # --- solving ----------------------------------------------------------------------------
    def solve(self, order: Order, method: str, rng: np.random.Generator | None = None) -> Plan:
        """Route a request with a reference solver.

        Args:
            order: the request.
            method: one of `SOLVERS`: "shortest_path", "td_shortest_path" or "vrp".
            rng: only for "vrp": randomised candidates, so repeated calls differ.

        Returns:
            A valid plan.

        Raises:
            InvalidPlan: unknown method or not an Order.
        """
        self._check_order_type(order, "solve needs")
        if method not in SOLVERS:
            raise self._unknown_solver(method)
        if method == "vrp":
            return self._vrp(order, rng)
        trips = self._given_order_trips(order)
        trucks: list[list[list[int]]] = [[] for _ in range(self.n_trucks)]
        for j, trip in enumerate(trips):
            trucks[j % self.n_trucks].append(trip)
        routes, drops = self._expand(order, [t for t in trucks if t],
                                     timed=method == "td_shortest_path")
        return Plan(solver=method, routes=routes, drops=drops)

    def _given_order_trips(self, order: Order) -> list[list[int]]:
        demand = dict(zip(order.lines, order.demand_units, strict=True))
        return S.chunk(order.lines, demand, self.net.capacity)

    def _expand(self, order: Order, trucks: list[list[list[int]]], *,
                timed: bool) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
        """Join each truck's trips (customer nodes) into a road walk and its drop positions."""
        net = self.net
        depot = order.depot
        routes, drops = [], []
        for trips in trucks:
            route = [depot]
            pos: list[int] = []
            t = order.release_ms
            for j, trip in enumerate(trips):
                for c in (*trip, depot):
                    if timed:
                        path, t, _ = net.td_path(route[-1], c, t)
                    else:
                        path = net.static_path(route[-1], c)
                    route.extend(path[1:])
                    if c != depot:
                        pos.append(len(route) - 1)
                        t += net.service_ms
                if j + 1 < len(trips):
                    t += net.reload_ms
            routes.append(tuple(route))
            drops.append(tuple(pos))
        return tuple(routes), tuple(drops)

    def _predict_ms(self, order: Order, routes: Sequence[Sequence[int]],
                    drops: Sequence[Sequence[int]]) -> tuple[int, int]:
        """(makespan, distance) of a valid plan on the deterministic congestion profile."""
        net = self.net
        t0 = order.release_ms
        end, dist = t0, 0
        for route, pos in zip(routes, drops, strict=True):
            t, d = net.drive(route, pos, net.det_table, t0)
            end, dist = max(end, t), dist + d
        return end - t0, dist

    def _vrp(self, order: Order, rng: np.random.Generator | None) -> Plan:
        net = self.net
        k = len(order.lines)
        nodes = [order.depot, *order.lines]
        dem = [0, *order.demand_units]
        cost = net.regime_ms(order.release_ms)[np.ix_(nodes, nodes)].tolist()
        cap, n_trucks = net.capacity, net.n_trucks
        min_trips = -(-sum(dem) // cap)
        ang = S.angles([net.x_mm[v] for v in nodes], [net.y_mm[v] for v in nodes],
                       net.x_mm[order.depot], net.y_mm[order.depot])
        candidates: list[list[list[int]]] = []
        if rng is None:
            candidates.append(S.savings(cost, dem, cap))
            candidates.append(S.savings(cost, dem, cap, min_trips=n_trucks))
            offsets = range(k) if k <= _VRP_OFFSETS else [i * k // _VRP_OFFSETS
                                                           for i in range(_VRP_OFFSETS)]
            for g in sorted({min_trips, n_trucks}):
                candidates += [S.sweep(ang, dem, cap, g, o) for o in offsets]
        else:
            candidates.append(S.savings(cost, dem, cap, rng=rng))
            candidates.append(S.savings(cost, dem, cap, min_trips=n_trucks, rng=rng))
            for _ in range(_VRP_OFFSETS):
                g = int(rng.integers(min_trips, max(min_trips, n_trucks) + 2))
                candidates.append(S.sweep(ang, dem, cap, g, int(rng.integers(max(k, 1)))))
        ranked: dict[tuple, tuple[int, int, list[list[list[int]]]]] = {}
        for i, trips in enumerate(candidates):
            trips = [S.two_opt(t, cost) for t in trips]
            fixed = [net.service_ms * len(t) + net.reload_ms for t in trips]
            trucks, est = S.assign_lpt(trips, cost, n_trucks, fixed)
            key = tuple(tuple(tuple(t) for t in tr) for tr in trucks)
            if key not in ranked:
                ranked[key] = (est, i, trucks)
        plans: list[tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]] = []
        shortlist = sorted(ranked.values(), key=lambda r: (r[0], r[1]))[:_VRP_EXPANDED]
        for _, _, trucks in shortlist:
            as_nodes = [[[nodes[c] for c in trip] for trip in tr] for tr in trucks]
            plans.append(self._expand(order, as_nodes, timed=True))
        if rng is None:
            td = self.solve(order, "td_shortest_path")
            plans.append((td.routes, td.drops))
        scores = [(*self._predict_ms(order, r, d), i) for i, (r, d) in enumerate(plans)]
        routes, drops = plans[min(scores)[2]]
        return Plan(solver="vrp", routes=routes, drops=drops)

    def solve_cu(self, order: Order, method: str) -> int:
        """Compute units a reference solver run is priced at, known before solving.

        An upper bound in edge relaxations times ``edge_relaxation_cu``: at most ``2k`` legs
        for ``k`` customers; a static leg looks up a path of at most ``n`` nodes, a
        time-dependent leg runs one A* (each edge relaxed at most twice); "vrp" expands
        4 candidates and scores ``k^2`` savings for each of its ``2 + 2 * 8`` constructions.
        """
        if method not in SOLVERS:
            raise self._unknown_solver(method)
        legs = 2 * len(order.lines)
        net = self.net
        if method == "shortest_path":
            relax = legs * net.n
        elif method == "td_shortest_path":
            relax = legs * 2 * net.n_edges
        else:
            relax = (_VRP_EXPANDED + 1) * legs * 2 * net.n_edges
            relax += (2 + 2 * _VRP_OFFSETS) * len(order.lines) ** 2
        return relax * self._relax_cu

    # --- evaluation -------------------------------------------------------------------------
    def cu_for(self, plan: Plan, order: Order) -> int:
        """Compute units `evaluate` charges for this plan and request (known up front)."""
        self._check_types(plan, order)
        hops = sum(max(len(r) - 1, 0) for r in plan.routes)
        return self._base_cu + hops * self._traversal_cu + len(order.lines) * self._stop_cu

    def _invalid_reason(self, plan: Plan, order: Order) -> str:
        net = self.net
        routes, drops = plan.routes, plan.drops
        depot = order.depot
        if not routes:
            return (f"plan has no routes; expected one route per truck used "
                    f"(1..{net.n_trucks})")
        if len(routes) > net.n_trucks:
            return f"plan has {len(routes)} routes but the fleet has {net.n_trucks} trucks"
        if not isinstance(drops, tuple | list) or len(drops) != len(routes):
            got = len(drops) if isinstance(drops, tuple | list) else type(drops).__name__
            return f"plan has {got} drop lists for {len(routes)} routes; expected one per route"
        want = dict(zip(order.lines, order.demand_units, strict=True))
        served: dict[int, int] = {}
        for k, (route, pos) in enumerate(zip(routes, drops, strict=True)):
            if not isinstance(route, tuple | list) or len(route) < 2:
                return f"route {k} has fewer than 2 nodes; expected a walk depot -> ... -> depot"
            bad = [v for v in route if isinstance(v, bool) or not isinstance(v, int | np.integer)
                   or not 0 <= v < net.n]
            if bad:
                return f"route {k} holds {bad[:3]!r} which are not node ids 0..{net.n - 1}"
            if route[0] != depot:
                return (f"route {k} starts at node {route[0]}, not at the request's depot "
                        f"{depot}")
            if route[-1] != depot:
                return f"route {k} ends at node {route[-1]}, not at the request's depot {depot}"
            for i, (u, v) in enumerate(itertools.pairwise(route)):
                if v not in net.edge_of[u]:
                    return f"route {k} hop {i} from node {u} to node {v} is not a road"
            last = len(route) - 2
            if (not isinstance(pos, tuple | list)
                    or any(isinstance(p, bool) or not isinstance(p, int | np.integer)
                           or not 1 <= p <= last for p in pos)
                    or any(b <= a for a, b in itertools.pairwise(pos))):
                return (f"drops of route {k} are {pos!r:.60}; expected strictly increasing "
                        f"positions in 1..{last}")
            drop_at = set(pos)
            load, trip = 0, 0
            for i in range(1, last + 1):
                v = route[i]
                if i in drop_at:
                    if v not in want:
                        return (f"route {k} drops at position {i} on node {v}, which is not "
                                "a customer of this request")
                    if v in served:
                        return f"customer {v} is delivered twice (routes {served[v]} and {k})"
                    served[v] = k
                    load += want[v]
                    if load > net.capacity:
                        return (f"route {k} trip {trip} carries {load} units, over the truck "
                                f"capacity {net.capacity}; reload at the depot in between")
                elif v == depot:
                    load, trip = 0, trip + 1
        missing = [c for c in order.lines if c not in served]
        if missing:
            return f"plan misses customers {missing}"
        return ""

    def evaluate(self, plan: Plan, order: Order, seed: int) -> Evaluation:
        """Drive a plan through the discrete-event model for one seed.

        Args:
            plan: the routes to evaluate.
            order: the request they serve.
            seed: scenario seed for the travel-time noise and incidents.

        Returns:
            The evaluation; an invalid plan gives ``valid=False`` and a reason, still
            charged `cu_for(plan, order)` CU. Same inputs give an identical evaluation.

        Raises:
            InvalidPlan: `plan` is not a Plan, `order` not an Order, or `seed` not an int.
        """
        cu = self.cu_for(plan, order)
        seed = check_seed(seed)
        reason = self._invalid_reason(plan, order)
        distance_mm = time_ms = 0
        route_ms: list[int] = []
        if not reason:
            net = self.net
            table = net.seed_table(seed)
            t0 = order.release_ms
            for route, pos in zip(plan.routes, plan.drops, strict=True):
                t, d = net.drive(route, pos, table, t0)
                route_ms.append(t - t0)
                distance_mm += d
            time_ms = max(route_ms)
        result = {"valid": not reason, "reason": reason, "distance_mm": distance_mm,
                  "time_ms": time_ms, "cu": cu, "route_time_ms": route_ms}
        request = {"solver": plan.solver, "routes": _jsonable(plan.routes),
                   "drops": _jsonable(plan.drops), "order_id": order.order_id,
                   "lines": list(order.lines), "demand_units": list(order.demand_units),
                   "depot": order.depot, "release_ms": order.release_ms}
        receipt = self._receipt(seed=seed, cu=cu, request=request, result=result)
        return Evaluation(valid=not reason, reason=reason, distance_mm=distance_mm,
                          time_ms=time_ms, cu=cu, receipt=receipt,
                          route_time_ms=tuple(route_ms))

    def _check_plan_shape(self, plan: Plan) -> None:
        if not isinstance(plan.routes, tuple | list) or not all(
                isinstance(r, tuple | list) for r in plan.routes):
            raise InvalidPlan("plan.routes must be a tuple of routes, each a tuple of node ids")


def _jsonable(value: Any) -> Any:
    """Nested tuples of ints as lists; anything else (in an invalid plan) as its repr."""
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    return repr(value)

