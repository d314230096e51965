"""Tests of the L1 logistics twin: spec, requests, solvers, evaluation, metering, receipts."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worlds import InvalidPlan, InvalidSpec, TwinSpec, check_twin
from worlds.logistics import (
    BASELINE_METHOD,
    SOLVERS,
    LogisticsTwin,
    Order,
    Plan,
    logistics_spec,
)

SEED = 11
GOLDEN_SHA256 = "ab3baa09f2eff893fa28d014f3f3b25fe3c1b2bf3878a0bd62b4058155469206"


@pytest.fixture(scope="module")
def lg() -> LogisticsTwin:
    return LogisticsTwin(logistics_spec())


@pytest.fixture(scope="module")
def lg_orders(lg: LogisticsTwin) -> list[Order]:
    """200 requests from a fixed seed (one simulated hour is ~30)."""
    rng = np.random.default_rng(2024)
    out: list[Order] = []
    while len(out) < 200:
        out += lg.orders(rng, 3_600_000)
    return out[:200]


@pytest.fixture(scope="module")
def times(lg: LogisticsTwin, lg_orders: list[Order]) -> np.ndarray:
    """(3, 200) evaluated time_ms per method (rows in SOLVERS order), seed = order index."""
    return np.array([[lg.evaluate(lg.solve(o, m), o, i).time_ms
                      for i, o in enumerate(lg_orders)] for m in SOLVERS])


def _assert_valid_plan(twin: LogisticsTwin, plan: Plan, order: Order) -> None:
    """The plan's routes are depot-to-depot road walks serving each customer once in capacity."""
    assert 1 <= len(plan.routes) <= twin.n_trucks
    want = dict(zip(order.lines, order.demand_units, strict=True))
    served = []
    for route, drops in zip(plan.routes, plan.drops, strict=True):
        assert route[0] == order.depot == route[-1]
        for u, v in itertools.pairwise(route):
            assert twin.graph.has_edge(u, v), (u, v)
        assert list(drops) == sorted(set(drops))
        load = 0
        for i, v in enumerate(route):
            if i in drops:
                served.append(v)
                load += want[v]
                assert load <= twin.capacity_units
            elif v == order.depot:
                load = 0
    assert sorted(served) == sorted(order.lines)


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value]


# --- spec ---------------------------------------------------------------------------------
def test_spec_is_integer_only_and_hash_stable() -> None:
    """The body holds no floats; rebuilding and the JSON round trip keep the golden hash."""
    spec = logistics_spec()
    assert all(isinstance(v, int | str | bool) for v in _walk(spec.body))
    assert spec.sha256 == logistics_spec().sha256 == GOLDEN_SHA256
    again = TwinSpec.from_json(spec.to_json())
    assert again == spec and again.sha256 == spec.sha256
    assert spec.id.startswith("logistics/lg-default@1.0.0+")
    assert spec.body["engine_version"] == "logistics-l1/1"


def test_spec_hash_moves_with_every_kind_of_parameter() -> None:
    """Network seed, fleet, congestion, demand and metering changes all change the hash."""
    base = logistics_spec().sha256
    for kw in ({"network_seed": 1}, {"n_trucks": 4}, {"peak_slowdown_bps": (3000, 20_000)},
               {"request_rate_per_h": 31}, {"edge_traversal_cu": 3}):
        assert logistics_spec(**kw).sha256 != base, kw


def test_road_network_shape(lg: LogisticsTwin) -> None:
    """Connected roads with int length/speed/class; 3 depots whose zones all have customers;
    arterials (class 1) are faster than local streets (class 0)."""
    G = lg.graph
    assert nx.is_connected(G) and G.number_of_nodes() == 144
    roles = [r for _, r in G.nodes(data="role")]
    assert roles.count("depot") == 3 and lg.depots == tuple(sorted(lg.depots))
    assert all(len(lg.customers(z)) > 0 for z in range(3))
    for _, _, a in G.edges(data=True):
        assert all(isinstance(a[k], int) and a[k] >= 0
                   for k in ("length_mm", "speed_mm_s", "congestion_class"))
    speed = {k: {a["speed_mm_s"] for *_, a in G.edges(data=True) if a["congestion_class"] == k}
             for k in (0, 1)}
    assert min(speed[1]) > max(speed[0])
    # Every customer's zone is its nearest depot in free-flow time.
    for v, z in G.nodes(data="zone"):
        assert lg.free_flow_ms(lg.depots[z], v) == min(lg.free_flow_ms(d, v) for d in lg.depots)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"block_mm": 400.0}, "expected an int"),
        ({"demand_max_units": 31}, "never be served"),
        ({"slot_ms": 7_000_000}, "does not divide day_ms"),
        ({"peak_periods_ms": ((25_000_000, 32_400_000),)}, "slot boundaries"),
        ({"peak_periods_ms": ((0, 1_800_000), (900_000, 2_700_000))}, "overlap"),
        ({"peak_slowdown_bps": (1, 2, 3)}, "expected two ints"),
        ({"service_end_ms": 0}, "service_end_ms"),
        ({"jitter_bps": 5000}, "jitter_bps"),
    ],
)
def test_spec_parameter_validation(kwargs: dict[str, Any], match: str) -> None:
    """Bad builder parameters raise InvalidSpec saying what is expected."""
    with pytest.raises(InvalidSpec, match=match):
        logistics_spec(**kwargs)


def test_twin_refuses_other_kinds_and_engines() -> None:
    """A spec of another kind or engine version is refused with the builder to use."""
    spec = logistics_spec()
    with pytest.raises(InvalidSpec, match="kind 'logistics'"):
        LogisticsTwin(dataclasses.replace(spec, kind="warehouse"))
    body = {**spec.body, "engine_version": "logistics-l1/0"}
    with pytest.raises(InvalidSpec, match="engine_version"):
        LogisticsTwin(TwinSpec(kind="logistics", name="x", version="1.0.0", body=body))


def test_check_twin_passes_on_default(lg: LogisticsTwin) -> None:
    """The shipped compliance checker passes on the default twin."""
    check_twin(lg)


def test_check_twin_passes_on_a_small_variant() -> None:
    """A small one-depot, two-truck twin without arterials also passes the checker."""
    check_twin(LogisticsTwin(logistics_spec(grid_cols=5, grid_rows=4, n_depots=1, n_trucks=2,
                                            arterial_every=0, network_seed=3)))


# --- requests -----------------------------------------------------------------------------
def test_poisson_request_counts_match_rate(lg: LogisticsTwin) -> None:
    """Mean requests per 2-minute tick over 3000 ticks is rate/30 within 6%; variance ~ mean."""
    rng = np.random.default_rng(5)
    counts = [len(lg.orders(rng, 120_000)) for _ in range(3000)]
    assert np.mean(counts) == pytest.approx(1.0, rel=0.06)
    assert np.var(counts) == pytest.approx(1.0, rel=0.15)


def test_requests_are_deterministic_and_well_formed(lg: LogisticsTwin) -> None:
    """Same rng seed, same requests; customers unique and in the depot's zone; demand and
    release time in range."""
    a = lg.orders(np.random.default_rng(9), 7_200_000)
    assert a == lg.orders(np.random.default_rng(9), 7_200_000) and a
    assert len({o.order_id for o in a}) == len(a)
    body = lg.spec.body["demand"]
    for o in a:
        zone = lg.depots.index(o.depot)
        assert set(o.lines) <= set(lg.customers(zone))
        assert 1 <= len(o.lines) == len(set(o.lines)) <= 15
        assert all(1 <= d <= 10 for d in o.demand_units) and len(o.demand_units) == len(o.lines)
        assert body["service_start_ms"] <= o.release_ms < body["service_end_ms"]
    assert lg.orders(np.random.default_rng(0), 0) == []


def test_make_order_rejects_bad_requests(lg: LogisticsTwin) -> None:
    """Non-customers, repeats, out-of-range demand, a non-depot or a bad release are refused."""
    c = lg.customers(0)
    d = lg.depots[0]
    with pytest.raises(InvalidPlan, match="customer"):
        lg.make_order([d], [1], depot=d, release_ms=0, order_id="x")
    with pytest.raises(InvalidPlan, match="repeats"):
        lg.make_order([c[0], c[0]], [1, 1], depot=d, release_ms=0, order_id="x")
    with pytest.raises(InvalidPlan, match=r"1\.\.30"):
        lg.make_order([c[0]], [31], depot=d, release_ms=0, order_id="x")
    with pytest.raises(InvalidPlan, match="not a depot"):
        lg.make_order([c[0]], [1], depot=c[1], release_ms=0, order_id="x")
    with pytest.raises(InvalidPlan, match="release_ms"):
        lg.make_order([c[0]], [1], depot=d, release_ms=-1, order_id="x")


# --- solvers ------------------------------------------------------------------------------
def test_solver_names_and_baseline(lg: LogisticsTwin, lg_orders: list[Order]) -> None:
    """The twin names its solvers and baseline; baseline() evaluates the baseline plan."""
    assert lg.solvers == SOLVERS == ("shortest_path", "td_shortest_path", "vrp")
    assert lg.baseline_method == BASELINE_METHOD == "shortest_path"
    o = lg_orders[3]
    assert lg.baseline(o, SEED) == lg.evaluate(lg.solve(o, "shortest_path"), o, SEED)


@pytest.mark.parametrize("method", SOLVERS)
def test_every_solver_gives_valid_plans(lg: LogisticsTwin, lg_orders: list[Order],
                                        method: str) -> None:
    """Each solver's plan is a set of depot-to-depot road walks serving every customer once
    within capacity, and the twin agrees it is valid."""
    for order in lg_orders:
        plan = lg.solve(order, method)
        assert plan.solver == method
        _assert_valid_plan(lg, plan, order)
        assert lg.evaluate(plan, order, SEED).valid


def test_method_quality_ordering(times: np.ndarray) -> None:
    """Over 200 requests: mean time vrp < td_shortest_path < shortest_path, and per request
    td is no worse than the baseline in >= 90% and vrp no worse than td in >= 95%."""
    sp, td, vrp = times
    assert vrp.mean() < td.mean() < sp.mean()
    assert (td <= sp).mean() >= 0.90
    assert (vrp <= td).mean() >= 0.95


def test_time_dependence_pays_off_in_the_peak(lg: LogisticsTwin, lg_orders: list[Order],
                                              times: np.ndarray) -> None:
    """Requests released in a peak gain >= 5% from time-dependent legs; off-peak requests
    whose trucks stay off-peak get the baseline's very routes."""
    net = lg.net
    slot = [(o.release_ms // net.slot_ms) % net.n_slots for o in lg_orders]
    peak = np.array([net.peak[s] for s in slot])
    sp, td, _ = times
    assert peak.sum() >= 30
    assert td[peak].mean() <= 0.95 * sp[peak].mean()
    same = 0
    for o, s, t in zip(lg_orders, slot, sp, strict=True):
        if not any(net.peak[(s + k) % net.n_slots] for k in range(-1, 2 + 4 * t // 3_600_000)):
            same += 1
            assert lg.solve(o, "td_shortest_path").routes == lg.solve(o, "shortest_path").routes
    assert same >= 50


def test_without_peaks_td_routing_is_static_routing() -> None:
    """With no peak periods the time-dependent legs are the static shortest paths."""
    twin = LogisticsTwin(logistics_spec(peak_periods_ms=()))
    rng = np.random.default_rng(1)
    for o in twin.orders(rng, 7_200_000):
        assert (twin.solve(o, "td_shortest_path").routes
                == twin.solve(o, "shortest_path").routes)


def test_peak_routes_avoid_congested_arterials(lg: LogisticsTwin,
                                               lg_orders: list[Order]) -> None:
    """In the peak, time-dependent routes drive less on arterials (class 1) than static ones."""
    net = lg.net
    G = lg.graph

    def arterial_mm(plan: Plan) -> int:
        return sum(G.edges[u, v]["length_mm"] for r in plan.routes
                   for u, v in itertools.pairwise(r) if G.edges[u, v]["congestion_class"] == 1)

    peak = [o for o in lg_orders if net.peak[(o.release_ms // net.slot_ms) % net.n_slots]]
    sp = sum(arterial_mm(lg.solve(o, "shortest_path")) for o in peak)
    td = sum(arterial_mm(lg.solve(o, "td_shortest_path")) for o in peak)
    assert td < 0.7 * sp


def test_vrp_uses_the_fleet(lg: LogisticsTwin, lg_orders: list[Order]) -> None:
    """VRP plans put more trucks on the road than the baseline on average."""
    n_sp = np.mean([len(lg.solve(o, "shortest_path").routes) for o in lg_orders])
    n_vrp = np.mean([len(lg.solve(o, "vrp").routes) for o in lg_orders])
    assert n_vrp > n_sp


def test_vrp_with_rng_gives_varied_valid_candidates(lg: LogisticsTwin,
                                                    lg_orders: list[Order]) -> None:
    """Randomised VRP candidates are valid and not all identical; the same rng seed repeats."""
    order = max(lg_orders, key=lambda o: len(o.lines))
    rng = np.random.default_rng(1)
    plans = [lg.solve(order, "vrp", rng) for _ in range(12)]
    for p in plans:
        _assert_valid_plan(lg, p, order)
    assert len({p.routes for p in plans}) > 1
    assert lg.solve(order, "vrp", np.random.default_rng(4)) == lg.solve(
        order, "vrp", np.random.default_rng(4))


def test_unknown_solver_suggests(lg: LogisticsTwin, lg_orders: list[Order]) -> None:
    """An unknown solver name raises InvalidPlan with a near-match suggestion."""
    with pytest.raises(InvalidPlan, match="did you mean 'shortest_path'"):
        lg.solve(lg_orders[0], "shortest-path")
    with pytest.raises(InvalidPlan, match="solve needs an Order"):
        lg.solve(lg_orders[0].lines, "vrp")  # type: ignore[arg-type]


def test_solve_cu_is_up_front_and_ordered(lg: LogisticsTwin, lg_orders: list[Order]) -> None:
    """Solver CU depends on the request size only: sp < td < vrp, growing with customers."""
    o = max(lg_orders, key=lambda o: len(o.lines))
    cu = [lg.solve_cu(o, m) for m in SOLVERS]
    assert 0 < cu[0] < cu[1] < cu[2]
    small = min(lg_orders, key=lambda o: len(o.lines))
    assert lg.solve_cu(small, "vrp") < cu[2]


# --- evaluation ---------------------------------------------------------------------------
def test_evaluate_is_deterministic(lg: LogisticsTwin, lg_orders: list[Order]) -> None:
    """Same plan, request and seed give an identical evaluation and receipt, on a new twin too;
    another seed gives another result."""
    other = LogisticsTwin(logistics_spec())
    changed = 0
    for order in lg_orders[:20]:
        plan = lg.solve(order, "vrp")
        a = lg.evaluate(plan, order, SEED)
        assert a == lg.evaluate(plan, order, SEED) == other.evaluate(plan, order, SEED)
        assert a.receipt.to_dict() == other.evaluate(plan, order, SEED).receipt.to_dict()
        b = lg.evaluate(plan, order, SEED + 1)
        assert b.receipt.plan_hash == a.receipt.plan_hash
        changed += b.time_ms != a.time_ms and b.receipt.result_hash != a.receipt.result_hash
    assert changed >= 18


def test_receipt_fields(lg: LogisticsTwin, lg_orders: list[Order]) -> None:
    """The receipt names the twin, tier L1, the seed, the engine version and the CU."""
    order = lg_orders[0]
    ev = lg.evaluate(lg.solve(order, "vrp"), order, SEED)
    r = ev.receipt
    assert (r.twin_id, r.tier, r.hz, r.seed, r.engine_version, r.cu) == (
        lg.twin_id, "L1", 0, SEED, "logistics-l1/1", ev.cu)
    assert len(r.plan_hash) == len(r.result_hash) == 64
    assert lg.evaluate(lg.solve(order, "shortest_path"), order, SEED).receipt.plan_hash \
        != r.plan_hash


def test_time_is_the_last_truck_back(lg: LogisticsTwin, lg_orders: list[Order]) -> None:
    """time_ms is the largest per-route time; distance the sum of the routes' edge lengths."""
    G = lg.graph
    for order in lg_orders[:30]:
        plan = lg.solve(order, "vrp")
        ev = lg.evaluate(plan, order, SEED)
        assert ev.time_ms == max(ev.route_time_ms) and len(ev.route_time_ms) == len(plan.routes)
        assert ev.distance_mm == sum(G.edges[u, v]["length_mm"] for r in plan.routes
                                     for u, v in itertools.pairwise(r))


def test_calm_roads_give_free_flow_time_plus_stops() -> None:
    """Without peaks, noise or incidents a one-customer trip takes free-flow time there and
    back plus one service time, for every seed."""
    twin = LogisticsTwin(logistics_spec(peak_periods_ms=(), noise_max_bps=0, incident_bps=0))
    d = twin.depots[1]
    c = twin.customers(1)[5]
    order = twin.make_order([c], [5], depot=d, release_ms=30_000_000, order_id="calm")
    plan = twin.solve(order, "vrp")
    want = twin.free_flow_ms(d, c) + 120_000 + twin.free_flow_ms(c, d)
    for seed in (0, 1, 2):
        assert twin.evaluate(plan, order, seed).time_ms == want


def test_congestion_and_noise_only_slow_trucks_down(lg: LogisticsTwin,
                                                    lg_orders: list[Order]) -> None:
    """No seed makes a plan faster than its free-flow time plus services and reloads."""
    order = max(lg_orders, key=lambda o: len(o.lines))
    plan = lg.solve(order, "shortest_path")
    ff = 0
    for route in plan.routes:
        ff = max(ff, sum(lg.free_flow_ms(u, v) for u, v in itertools.pairwise(route)))
    times_ = {lg.evaluate(plan, order, s).time_ms for s in range(20)}
    assert len(times_) > 5 and min(times_) >= ff


def test_traversal_is_exact_within_a_regime_and_fifo(lg: LogisticsTwin) -> None:
    """Inside one congestion regime an edge takes its full slot time, even across slot
    boundaries; later departures never arrive earlier (FIFO, up to 1 ms of rounding)."""
    net = lg.net
    table = net.det_table
    rng = np.random.default_rng(0)
    for e in rng.integers(0, net.n_edges, size=40).tolist():
        t = 900_000 * 4 - 10  # 01:00 minus 10 ms: off-peak on both sides of the boundary
        assert net.traverse(table, e, t) == t + table[0][e]
    noisy = net.seed_table(3)
    for e in rng.integers(0, net.n_edges, size=40).tolist():
        ts = np.sort(rng.integers(20_000_000, 70_000_000, size=50)).tolist()
        arr = [net.traverse(noisy, e, t) for t in ts]
        assert all(b >= a - 1 for a, b in itertools.pairwise(arr))


def _mutations(order: Order, lg: LogisticsTwin) -> list[tuple[str, Any, str]]:
    c0 = order.lines[0]

    def junction(route: tuple[int, ...]) -> int:
        return next(i for i, v in enumerate(route) if v not in order.lines and v != order.depot)

    return [
        ("skip a node", lambda p: p._replace(
            routes=((p.routes[0][0], *p.routes[0][2:]), *p.routes[1:]),
            drops=(tuple(i - 1 for i in p.drops[0]), *p.drops[1:])), "is not a road"),
        ("no routes", lambda p: p._replace(routes=(), drops=()), "no routes"),
        ("too many routes", lambda p: p._replace(
            routes=p.routes + (p.routes[0],) * 3, drops=p.drops + ((),) * 3),
         "the fleet has 3 trucks"),
        ("drop lists", lambda p: p._replace(drops=(*p.drops, ())),
         "drop lists"),
        ("missing customer", lambda p: p._replace(
            drops=(tuple(i for i in p.drops[0] if p.routes[0][i] != c0), *p.drops[1:])),
         f"misses customers [{c0}]"),
        ("wrong depot", lambda p: p._replace(
            routes=tuple(r[1:] for r in p.routes),
            drops=tuple(tuple(i - 1 for i in d) for d in p.drops)), "not at the request's depot"),
        ("wrong end", lambda p: p._replace(
            routes=(p.routes[0][:-1], *p.routes[1:])), "ends at node"),
        ("drops unsorted", lambda p: p._replace(
            drops=(tuple(reversed(p.drops[0])), *p.drops[1:])), "strictly increasing"),
        ("drop on a junction", lambda p: p._replace(
            drops=(tuple(sorted({*p.drops[0], junction(p.routes[0])})), *p.drops[1:])),
         "not a customer of this request"),
        ("drop twice", lambda p: p._replace(
            routes=(*p.routes, p.routes[0]), drops=(*p.drops, p.drops[0])),
         "delivered twice"),
        ("not node ids", lambda p: p._replace(
            routes=((*p.routes[0][:-1], 10**6, order.depot), *p.routes[1:])), "not node ids"),
        ("float node", lambda p: p._replace(
            routes=((*p.routes[0][:-1], 1.5, order.depot), *p.routes[1:])), "not node ids"),
    ]


def _two_trip_order(lg: LogisticsTwin) -> Order:
    zone = lg.customers(0)
    return lg.make_order(zone[:6], [9, 9, 9, 9, 9, 9], depot=lg.depots[0],
                         release_ms=40_000_000, order_id="two-trips")


@pytest.mark.parametrize("which", range(12))
def test_invalid_plans_are_reported_not_raised(lg: LogisticsTwin, which: int) -> None:
    """A broken plan gives valid=False, a reason naming the fault, zero time and distance,
    and still the metered CU."""
    order = _two_trip_order(lg)
    good = lg.solve(order, "shortest_path")
    assert lg.evaluate(good, order, SEED).valid
    name, mutate, reason = _mutations(order, lg)[which]
    bad = mutate(good)
    ev = lg.evaluate(bad, order, SEED)
    assert not ev.valid, name
    assert reason in ev.reason, (name, ev.reason)
    assert ev.time_ms == 0 and ev.distance_mm == 0 and ev.route_time_ms == ()
    assert ev.cu == lg.cu_for(bad, order) == ev.receipt.cu


def test_capacity_is_checked_per_trip(lg: LogisticsTwin) -> None:
    """One trip carrying all 54 units is over the 30-unit capacity; reloading in between fixes
    it."""
    order = _two_trip_order(lg)
    net = lg.net
    stops = [order.depot, *order.lines, order.depot]
    route, drops = [order.depot], []
    for v in stops[1:]:
        route += net.static_path(route[-1], v)[1:]
        if v != order.depot:
            drops.append(len(route) - 1)
    one_trip = Plan(solver="greedy", routes=(tuple(route),), drops=(tuple(drops),))
    ev = lg.evaluate(one_trip, order, SEED)
    assert not ev.valid and "carries 36 units, over the truck capacity 30" in ev.reason
    assert lg.evaluate(lg.solve(order, "vrp"), order, SEED).valid


def test_not_a_plan_raises(lg: LogisticsTwin, lg_orders: list[Order]) -> None:
    """Passing something that is not a Plan (or not an Order) or a bad seed raises."""
    o = lg_orders[0]
    plan = lg.solve(o, "vrp")
    with pytest.raises(InvalidPlan, match="expected a Plan"):
        lg.evaluate(plan.routes, o, SEED)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlan, match="expected an Order"):
        lg.evaluate(plan, o.lines, SEED)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlan, match="seed"):
        lg.evaluate(plan, o, -1)


def test_cu_for_matches_evaluate_and_formula(lg: LogisticsTwin,
                                             lg_orders: list[Order]) -> None:
    """cu_for equals evaluate().cu and the spec formula 70 + 2 * hops + 4 * customers."""
    for order in lg_orders[:30]:
        for method in SOLVERS:
            plan = lg.solve(order, method)
            cu = lg.cu_for(plan, order)
            assert cu == lg.evaluate(plan, order, SEED).cu
            hops = sum(len(r) - 1 for r in plan.routes)
            assert cu == 70 + 2 * hops + 4 * len(order.lines)


def test_multi_tick_determinism(lg: LogisticsTwin) -> None:
    """Ten ticks of requests, solves and evaluations replay byte-identically from one seed."""

    def run() -> list[str]:
        rng = np.random.default_rng(77)
        out = []
        for tick in range(10):
            for order in lg.orders(rng, 600_000):
                for m in SOLVERS:
                    out.append(lg.evaluate(lg.solve(order, m, rng), order, tick)
                               .receipt.result_hash)
        return out

    first = run()
    assert first == run() and len(first) >= 30


_TWIN = LogisticsTwin(logistics_spec())


@settings(max_examples=40, deadline=None)
@given(zone=st.integers(0, 2), data=st.data(), seed=st.integers(0, 2**32 - 1),
       release_ms=st.integers(0, 86_400_000 * 2))
def test_property_all_solvers_valid_and_evaluate_deterministic(zone: int, data: Any,
                                                               seed: int,
                                                               release_ms: int) -> None:
    """For any request, every solver's plan is valid, evaluating twice is identical, and VRP's
    predicted makespan is never worse than the td baseline's."""
    twin = _TWIN
    pool = twin.customers(zone)
    lines = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=12, unique=True))
    units = data.draw(st.lists(st.integers(1, 30), min_size=len(lines), max_size=len(lines)))
    order = twin.make_order(lines, units, depot=twin.depots[zone], release_ms=release_ms,
                            order_id="h")
    predicted = {}
    for method in SOLVERS:
        plan = twin.solve(order, method)
        _assert_valid_plan(twin, plan, order)
        a = twin.evaluate(plan, order, seed)
        assert a.valid, a.reason
        assert a == twin.evaluate(plan, order, seed)
        predicted[method] = twin._predict_ms(order, plan.routes, plan.drops)[0]
    assert predicted["vrp"] <= predicted["td_shortest_path"]
