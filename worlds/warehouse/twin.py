"""The warehouse twin at tier L1: routes orders and evaluates pick routes as discrete events.

Build it from a spec made by `warehouse_spec`::

    twin = WarehouseTwin(warehouse_spec())
    rng = np.random.default_rng(7)
    order = twin.orders(rng, tick_ms=600_000)[0]
    plan = twin.solve(order, "tsp")
    ev = twin.evaluate(plan, order, seed=7)   # ev.time_ms, ev.cu, ev.receipt

Everything per twin is precomputed once (all-pairs shortest distances and predecessors as
numpy arrays, travel times, adjacency), so `solve` and `evaluate` never touch networkx.

Evaluation model (integer ms): the picker walks the route at ``speed_mm_s`` (each edge rounded
up to a whole ms), spends ``pick_time_ms`` per order line the first time it reaches that
line's node, and, each time it steps from a cross aisle into an aisle, waits out that aisle's
busy window if it is in one. Each aisle is congested with chance ``congested_aisle_bps``;
a congested aisle has a cycle ``period_ms`` in [period_min_ms, period_max_ms], a busy share
up to ``busy_max_bps`` and a random phase, all drawn from
``SeedSequence([seed, int(spec.sha256[:16], 16)])`` (`congestion(seed)` shows them). So a
plan's true time depends on when it enters which aisle, not only on its distance.

Tiers: L1 is the twin itself; ``evaluator("L2", hz=...)`` drives the same plans through a
MuJoCo scene (`worlds.warehouse.physics.L2Evaluator`; mujoco is imported only then).

Compute units at L1: ``(len(route) - 1) * graph_unit_step_cu + len(order.picks) * pick_cu``,
known before evaluation.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from worlds._base import TwinBase, check_seed
from worlds._seeding import twin_rng
from worlds.errors import InvalidPlan, InvalidSpec
from worlds.graph import UNREACHABLE, all_pairs, shortest_path
from worlds.spec import graph_from_layout
from worlds.tier import Tier
from worlds.warehouse._scene import DEFAULT_HZ
from worlds.warehouse._solvers import Geometry, largest_gap, s_shape, tsp
from worlds.warehouse._types import AisleCongestion, Evaluation, Order, Plan
from worlds.warehouse.spec import ENGINE_VERSION

if TYPE_CHECKING:
    from worlds.warehouse.physics import L2Evaluator

__all__ = ["SOLVERS", "WarehouseTwin"]

SOLVERS: tuple[str, ...] = ("s_shape", "largest_gap", "tsp")
_CONGESTION_CACHE_SIZE = 256


class WarehouseTwin(TwinBase[Order, Plan, Evaluation]):
    """A single-block picking warehouse evaluated as a graph / discrete-event model.

    Args:
        spec: a spec of kind "warehouse" (see `warehouse_spec`).

    Raises:
        InvalidSpec: wrong kind or engine version, or a layout the twin cannot use.
    """

    kind = "warehouse"
    engine_version = ENGINE_VERSION
    request_type = Order
    plan_type: type[Plan] = Plan
    solvers: tuple[str, ...] = SOLVERS
    baseline_method: str = "s_shape"
    tiers: tuple[Tier, ...] = (Tier.L1, Tier.L2)
    _plan_fields = "route=..."

    def _init(self, body: dict[str, Any]) -> None:
        self.graph = graph_from_layout(body["layout"])
        G = self.graph
        n = G.number_of_nodes()
        if sorted(G.nodes) != list(range(n)):
            raise InvalidSpec("warehouse layout node ids must be 0..n-1; rebuild the spec")
        depots = [v for v, r in G.nodes(data="role") if r == "depot"]
        if len(depots) != 1:
            raise InvalidSpec(f"warehouse layout has {len(depots)} depot nodes; expected 1")
        self.depot: int = depots[0]

        length = np.zeros((n, n), dtype=np.int64)
        for u, v, mm in G.edges(data="length_mm"):
            if not isinstance(mm, int) or mm <= 0:
                raise InvalidSpec(f"edge ({u}, {v}) has length_mm {mm!r}; expected an int >= 1")
            length[u, v] = length[v, u] = mm
        self._adj = length > 0
        self._length = length
        self._dist, self._pred = all_pairs(length)
        if (self._dist >= UNREACHABLE).any():
            raise InvalidSpec("warehouse layout is not connected; every node must be reachable")
        speed = body["picker"]["speed_mm_s"]
        self._travel_ms = (length * 1000 + speed - 1) // speed  # ceil, integer ms
        self._dist.flags.writeable = False  # handed out by distances_mm()
        self._travel_ms.flags.writeable = False  # handed out by travel_times_ms()
        self._pick_ms = int(body["picker"]["pick_time_ms"])

        roles = dict(G.nodes(data="role"))
        node_aisle = np.full(n, -1, dtype=np.int64)
        node_y = np.zeros(n, dtype=np.int64)
        for v, data in G.nodes(data=True):
            node_y[v] = data["y_mm"]
            if "aisle" in data:
                node_aisle[v] = data["aisle"]
        self._is_aisle = np.array([roles[v] == "aisle" for v in range(n)], dtype=bool)
        self._node_aisle = node_aisle
        self.n_aisles = int(node_aisle.max()) + 1
        front, back = [], []
        for a in range(self.n_aisles):
            cross = sorted((int(node_y[v]), v) for v in range(n)
                           if roles[v] == "cross" and node_aisle[v] == a)
            if len(cross) != 2:
                raise InvalidSpec(f"aisle {a} has {len(cross)} cross nodes; expected 2")
            front.append(cross[0][1])
            back.append(cross[1][1])
        self._geo = Geometry(depot=self.depot, node_aisle=node_aisle, node_y_mm=node_y,
                             front=tuple(front), back=tuple(back), dist_mm=self._dist)

        storage = body["storage"]
        self._sku_node = np.asarray(storage["sku_node"], dtype=np.int64)
        self._sku_node_list: list[int] = storage["sku_node"]
        if not self._is_aisle[self._sku_node].all():
            raise InvalidSpec("storage.sku_node must name aisle nodes only; rebuild the spec")
        sku_class = np.asarray(storage["sku_class"], dtype=np.int64)
        self.n_skus = len(self._sku_node)
        self.sku_class = sku_class
        class_size = np.bincount(sku_class, minlength=3).astype(np.float64)
        demand = np.asarray(storage["abc_demand_bps"], dtype=np.float64)
        demand = np.where(class_size > 0, demand, 0.0)
        weight = demand[sku_class] / class_size[sku_class]
        self.sku_probs = weight / weight.sum()  # (n_skus,) float, a rate not a spec value
        self._sku_cdf = np.cumsum(self.sku_probs)
        self._sku_cdf[-1] = 1.0

        orders = body["orders"]
        self._rate_per_h = int(orders["rate_per_h"])
        self._lines_mean = int(orders["lines"]["mean"])
        self._max_lines = int(orders["lines"]["max"])
        cong = body["congestion"]
        self._cong = (int(cong["congested_aisle_bps"]), int(cong["period_min_ms"]),
                      int(cong["period_max_ms"]), int(cong["busy_max_bps"]))
        self._cong_cache: dict[int, AisleCongestion] = {}
        meter = body["metering"]
        self._step_cu = int(meter["graph_unit_step_cu"])
        self._pick_cu = int(meter["pick_cu"])
        self._paths: dict[tuple[int, int], list[int]] = {}

    # --- layout -----------------------------------------------------------------------------
    def distance_mm(self, u: int, v: int) -> int:
        """Shortest walking distance between two nodes."""
        return int(self._dist[u, v])

    def distances_mm(self) -> np.ndarray:
        """(n_nodes, n_nodes) int64 shortest walking distances, read-only."""
        return self._dist

    def travel_ms(self, u: int, v: int) -> int:
        """Time to walk the edge u - v at the picker speed (rounded up to a whole ms; 0 if
        u and v are not adjacent)."""
        return int(self._travel_ms[u, v])

    def travel_times_ms(self) -> np.ndarray:
        """(n_nodes, n_nodes) int64 edge walking times as `travel_ms`, read-only."""
        return self._travel_ms

    def sku_node(self, sku: int) -> int:
        """The layout node SKU `sku` is stored at (an aisle node)."""
        return self._sku_node_list[sku]

    # --- orders -----------------------------------------------------------------------------
    def make_order(self, lines: Sequence[int], *, order_id: str) -> Order:
        """Build an order from SKU ids (for callers that bring their own demand).

        Raises:
            InvalidPlan: an SKU id is out of range or repeated.
        """
        skus = tuple(int(s) for s in lines)
        bad = [s for s in skus if not 0 <= s < self.n_skus]
        if bad or len(set(skus)) != len(skus):
            raise InvalidPlan(
                f"order {order_id!r} lines {skus!r}: expected unique SKU ids in "
                f"0..{self.n_skus - 1}; got out-of-range {bad!r} or repeats; dedupe or fix them"
            )
        picks = tuple(sorted({self._sku_node_list[s] for s in skus}))
        return Order(order_id=order_id, lines=skus, picks=picks)

    def _draw_request(self, rng: np.random.Generator, request_id: str) -> Order:
        """An order of ``min(Geometric(1 / lines_mean), max_lines)`` distinct SKUs drawn by
        popularity (`orders` draws the count and the ``"o-..."`` id)."""
        k = min(int(rng.geometric(1.0 / self._lines_mean)), self._max_lines, self.n_skus)
        skus: list[int] = []
        # Draw with replacement and keep first occurrences until k distinct SKUs.
        while len(skus) < k:
            draws = np.searchsorted(self._sku_cdf, rng.random(2 * k), side="right")
            for s in draws.tolist():
                if s not in skus:
                    skus.append(s)
                    if len(skus) == k:
                        break
        return self.make_order(skus, order_id=request_id)

    # --- solving ----------------------------------------------------------------------------
    def _path(self, u: int, v: int) -> list[int]:
        key = (u, v)
        path = self._paths.get(key)
        if path is None:
            path = self._paths[key] = shortest_path(self._pred, u, v)
        return path

    def expand(self, stops: Sequence[int]) -> tuple[int, ...]:
        """Join consecutive stops by shortest paths into a walk over the layout."""
        route = [int(stops[0])]
        for u, v in itertools.pairwise(stops):
            if u != v:
                route.extend(self._path(int(u), int(v))[1:])
        return tuple(route)

    def solve(self, order: Order, method: str, rng: np.random.Generator | None = None) -> Plan:
        """Route an order with a reference solver.

        Args:
            order: the order to pick.
            method: one of `SOLVERS`: "s_shape", "largest_gap" or "tsp".
            rng: only for "tsp": start 2-opt from a random permutation instead of
                nearest neighbour, so repeated calls give different candidates.

        Returns:
            A plan whose route is a depot-to-depot walk visiting every pick.

        Raises:
            InvalidPlan: unknown method or not an Order.
        """
        self._check_order_type(order, "solve needs")
        if method == "tsp":
            stops = tsp(self._geo, order.picks, rng)
        elif method == "s_shape":
            stops = s_shape(self._geo, order.picks)
        elif method == "largest_gap":
            stops = largest_gap(self._geo, order.picks)
        else:
            raise self._unknown_solver(method)
        return Plan(solver=method, route=self.expand(stops))

    # --- evaluation -------------------------------------------------------------------------
    def cu_for(self, plan: Plan, order: Order) -> int:
        """Compute units `evaluate` charges for this plan and order (known up front)."""
        self._check_types(plan, order)
        return max(len(plan.route) - 1, 0) * self._step_cu + len(order.picks) * self._pick_cu

    def _check_plan_shape(self, plan: Plan) -> None:
        if not isinstance(plan.route, tuple | list):
            raise InvalidPlan(f"plan.route is a {type(plan.route).__name__}; expected a tuple "
                              "of node ids")

    def congestion(self, seed: int) -> AisleCongestion:
        """The aisles' busy windows under evaluation seed `seed` (what `evaluate` and the L2
        tier wait out at aisle entries); the same object for the same seed while cached.

        Raises:
            InvalidPlan: `seed` is not an int >= 0.
        """
        seed = check_seed(seed)
        cached = self._cong_cache.get(seed)
        if cached is not None:
            return cached
        share_bps, p_min, p_max, busy_max = self._cong
        rng = twin_rng(seed, self._sha256)
        n = self.n_aisles
        congested = rng.integers(0, 10_000, size=n) < share_bps
        period = rng.integers(p_min, p_max + 1, size=n)
        busy = period * rng.integers(0, busy_max + 1, size=n) // 10_000
        phase = rng.integers(0, period)
        period = np.where(congested, period, 0)
        out = AisleCongestion(period_ms=period, busy_ms=busy, phase_ms=phase)
        if len(self._cong_cache) >= _CONGESTION_CACHE_SIZE:
            self._cong_cache.pop(next(iter(self._cong_cache)))
        self._cong_cache[seed] = out
        return out

    def invalid_reason(self, plan: Plan, order: Order) -> str:
        """What is wrong with the plan's route for the order ("" if it is a depot-to-depot
        walk over the layout visiting every pick): the reason `evaluate` reports.

        Raises:
            InvalidPlan: `plan` is not a Plan or `order` not an Order.
        """
        self._check_types(plan, order)
        return self._invalid_reason(plan.route, _as_array(plan.route), order)

    def _invalid_reason(self, route: tuple[int, ...], r: np.ndarray | None,
                        order: Order) -> str:
        n = len(self._adj)
        if not len(route):
            return "route is empty; expected a walk starting and ending at the depot"
        if r is None or r.ndim != 1 or r.dtype.kind not in "iu":
            return f"route {route!r:.60} is not a sequence of int node ids 0..{n - 1}"
        if r.min() < 0 or r.max() >= n:
            bad = [int(v) for v in r if not 0 <= v < n]
            return f"route holds {bad[:3]!r} which are not node ids 0..{n - 1}"
        if r[0] != self.depot:
            return f"route starts at node {int(r[0])}, not at the depot {self.depot}"
        if r[-1] != self.depot:
            return f"route ends at node {int(r[-1])}, not at the depot {self.depot}"
        hop = ~self._adj[r[:-1], r[1:]]
        if hop.any():
            i = int(hop.argmax())
            return f"hop {i} from node {int(r[i])} to node {int(r[i + 1])} is not an edge"
        missing = set(order.picks).difference(r.tolist())
        if missing:
            return f"route misses pick nodes {sorted(missing)}"
        return ""

    def evaluate(self, plan: Plan, order: Order, seed: int) -> Evaluation:
        """Walk a plan through the discrete-event model for one seed.

        Args:
            plan: the route to evaluate.
            order: the order it serves (picks to visit, lines to pick).
            seed: scenario seed for the congestion draw.

        Returns:
            The evaluation; an invalid route gives ``valid=False`` and a reason, still
            charged `cu_for(plan, order)` CU. Same inputs give an identical evaluation.

        Raises:
            InvalidPlan: `plan` is not a Plan, `order` not an Order, or `seed` not an int.
        """
        cu = self.cu_for(plan, order)
        seed = check_seed(seed)
        route = plan.route
        r = _as_array(route)
        reason = self._invalid_reason(route, r, order)
        distance_mm = time_ms = 0
        if not reason:
            r = np.asarray(r, dtype=np.int64)
            time_ms, distance_mm = self._walk(r, tuple(r.tolist()), order, seed)
        result = {"valid": not reason, "reason": reason, "distance_mm": distance_mm,
                  "time_ms": time_ms, "cu": cu}
        route_ints = r.tolist() if not reason else [
            v if isinstance(v, int) and not isinstance(v, bool) else repr(v) for v in route]
        request = {"solver": plan.solver, "route": route_ints,
                   "order_id": order.order_id, "lines": list(order.lines),
                   "picks": list(order.picks)}
        receipt = self._receipt(seed=seed, cu=cu, request=request, result=result)
        return Evaluation(valid=not reason, reason=reason, distance_mm=distance_mm,
                          time_ms=time_ms, cu=cu, receipt=receipt)

    def _walk(self, r: np.ndarray, route: tuple[int, ...], order: Order,
              seed: int) -> tuple[int, int]:
        """Discrete-event walk of a valid route; returns (time_ms, distance_mm)."""
        a, b = r[:-1], r[1:]
        distance_mm = int(self._length[a, b].sum())
        step = self._travel_ms[a, b]
        total = int(step.sum()) + len(order.lines) * self._pick_ms
        entries = np.flatnonzero(~self._is_aisle[a] & self._is_aisle[b])
        if not len(entries):
            return total, distance_mm
        cong = self.congestion(seed)
        period, busy, phase = cong.period_ms, cong.busy_ms, cong.phase_ms
        aisles = self._node_aisle[b[entries]]
        live = period[aisles] > 0
        if not live.any():
            return total, distance_mm
        entries, aisles = entries[live], aisles[live]
        # Lines are picked on the first arrival at their node: route index of each pick.
        sku_node = self._sku_node_list
        pick_at = sorted(route.index(sku_node[s]) for s in order.lines)
        # Departure from r[i] without waits = travel before i + picks at indices <= i.
        travel_before = (np.cumsum(step) - step)[entries].tolist()
        wait = 0
        for i, t, p, bz, ph in zip(entries.tolist(), travel_before, period[aisles].tolist(),
                                   busy[aisles].tolist(), phase[aisles].tolist(), strict=True):
            pos = (t + bisect_right(pick_at, i) * self._pick_ms + wait + ph) % p
            if pos < bz:
                wait += bz - pos
        return total + wait, distance_mm

    # --- tiers ------------------------------------------------------------------------------
    def _evaluator_at(self, tier: Tier, hz: int | None) -> L2Evaluator:
        """L2: `L2Evaluator(self, hz=hz or DEFAULT_HZ)` (imports mujoco)."""
        from worlds.warehouse.physics import L2Evaluator  # mujoco: loaded only when used

        return L2Evaluator(self, hz=DEFAULT_HZ if hz is None else hz)


def _as_array(route: Any) -> np.ndarray | None:
    """The route as a numpy array, or None if numpy cannot make one of it."""
    try:
        return np.asarray(route)
    except (ValueError, TypeError):
        return None

