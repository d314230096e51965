"""Tests of the L1 warehouse twin: layout, storage, orders, solvers, evaluation, metering."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worlds import InvalidPlan, InvalidSpec, check_twin
from worlds.warehouse import SOLVERS, Order, Plan, WarehouseTwin, warehouse_spec

SEED = 11


def _assert_walk(twin: WarehouseTwin, plan: Plan, order: Order) -> None:
    route = plan.route
    assert route[0] == twin.depot and route[-1] == twin.depot
    for u, v in itertools.pairwise(route):
        assert twin.graph.has_edge(u, v), (u, v)
    assert set(order.picks) <= set(route)


def test_layout_shape(twin: WarehouseTwin) -> None:
    """Default layout: 1 depot, 2 cross nodes and 20 slot nodes per aisle, connected."""
    G = twin.graph
    roles = [r for _, r in G.nodes(data="role")]
    assert roles.count("depot") == 1
    assert roles.count("cross") == 2 * 10
    assert roles.count("aisle") == 10 * 20
    assert G.number_of_edges() == G.number_of_nodes() - 1 + 9  # tree plus one cycle per aisle gap
    assert all(isinstance(d, int) and d > 0 for _, _, d in G.edges(data="length_mm"))


def test_aisle_length_matches_geometry(twin: WarehouseTwin) -> None:
    """Front-to-back cross distance of an aisle is 2 cross_aisle_mm + (S-1) slot pitches."""
    front, back = twin._geo.front[3], twin._geo.back[3]
    assert twin.distance_mm(front, back) == 2 * 2000 + 19 * 1000


def test_sku_locations_hold_two_faces(twin: WarehouseTwin) -> None:
    """Every SKU sits on an aisle node, at most two SKUs per node (left and right face)."""
    nodes = twin.spec.body["storage"]["sku_node"]
    faces = twin.spec.body["storage"]["sku_face"]
    assert len(set(zip(nodes, faces, strict=True))) == len(nodes) == 400
    assert max(np.bincount(nodes)) <= 2


def test_abc_storage_puts_class_a_nearer_the_depot() -> None:
    """Under ABC storage class A SKUs are on average nearer the depot than under random."""
    abc = WarehouseTwin(warehouse_spec(storage="abc"))
    rnd = WarehouseTwin(warehouse_spec(storage="random"))

    def mean_a(t: WarehouseTwin) -> float:
        nodes = np.asarray(t.spec.body["storage"]["sku_node"])[t.sku_class == 0]
        return float(np.mean([t.distance_mm(t.depot, int(v)) for v in nodes]))

    assert mean_a(abc) < 0.6 * mean_a(rnd)
    # And within ABC, A is nearer than C.
    nodes = np.asarray(abc.spec.body["storage"]["sku_node"])
    d = np.array([abc.distance_mm(abc.depot, int(v)) for v in nodes])
    assert d[abc.sku_class == 0].max() <= d[abc.sku_class == 2].min()


def test_demand_is_skewed_to_class_a(twin: WarehouseTwin) -> None:
    """Class A (20% of SKUs) receives 80% of demand probability, per the spec's bps."""
    assert twin.sku_probs[twin.sku_class == 0].sum() == pytest.approx(0.8)
    assert twin.sku_probs.sum() == pytest.approx(1.0)


def test_poisson_order_counts_match_rate(twin: WarehouseTwin) -> None:
    """Mean orders per 1-minute tick over 2000 ticks is rate/60 within 5%."""
    rng = np.random.default_rng(5)
    counts = [len(twin.orders(rng, 60_000)) for _ in range(2000)]
    assert np.mean(counts) == pytest.approx(60 / 60, rel=0.05)
    assert np.var(counts) == pytest.approx(1.0, rel=0.15)  # Poisson: variance = mean


def test_orders_are_deterministic_and_well_formed(twin: WarehouseTwin) -> None:
    """Same rng seed gives identical orders; lines unique and capped; picks sorted nodes."""
    a = twin.orders(np.random.default_rng(9), 3_600_000)
    b = twin.orders(np.random.default_rng(9), 3_600_000)
    assert a == b and a
    assert len({o.order_id for o in a}) == len(a)
    for o in a:
        assert 1 <= len(o.lines) <= 10 and len(set(o.lines)) == len(o.lines)
        assert list(o.picks) == sorted(set(o.picks))
        nodes = twin.spec.body["storage"]["sku_node"]
        assert set(o.picks) == {nodes[s] for s in o.lines}


def test_zero_length_tick_has_no_orders(twin: WarehouseTwin) -> None:
    """A tick of 0 ms draws no orders."""
    assert twin.orders(np.random.default_rng(0), 0) == []


@pytest.mark.parametrize("method", SOLVERS)
def test_every_solver_gives_a_valid_walk(twin: WarehouseTwin, orders: list[Order],
                                         method: str) -> None:
    """Each solver's route starts and ends at the depot, only uses edges, visits all picks."""
    for order in orders:
        plan = twin.solve(order, method)
        assert plan.solver == method
        _assert_walk(twin, plan, order)
        assert twin.evaluate(plan, order, SEED).valid


def test_tsp_not_worse_than_s_shape_on_distance(twin: WarehouseTwin,
                                                orders: list[Order]) -> None:
    """TSP (NN + 2-opt) beats S-shape on mean distance and is no worse on >= 95% of orders."""
    d = np.array([[twin.evaluate(twin.solve(o, m), o, SEED).distance_mm
                   for m in ("tsp", "s_shape", "largest_gap")] for o in orders])
    assert d[:, 0].mean() < d[:, 1].mean()
    assert d[:, 0].mean() <= d[:, 2].mean()
    assert (d[:, 0] <= d[:, 1]).mean() >= 0.95


def test_single_pick_routes_are_optimal(twin: WarehouseTwin) -> None:
    """With one pick every solver walks exactly depot -> pick -> depot."""
    order = twin.make_order([7], order_id="one")
    best = 2 * twin.distance_mm(twin.depot, order.picks[0])
    for method in ("tsp", "largest_gap"):
        assert twin.evaluate(twin.solve(order, method), order, SEED).distance_mm == best


def test_largest_gap_skips_the_gap() -> None:
    """Largest gap does not traverse a middle aisle whose picks sit at both ends."""
    twin = WarehouseTwin(warehouse_spec(storage="random"))
    nodes = twin.spec.body["storage"]["sku_node"]
    slot0 = {a: 1 + 2 * 10 + a * 20 for a in range(10)}

    def sku_at(node: int) -> int:
        return nodes.index(node)

    # Picks: deep in aisle 0, both ends of aisle 2, front of aisle 4.
    picks = [slot0[0] + 10, slot0[2], slot0[2] + 19, slot0[4] + 5]
    order = twin.make_order([sku_at(v) for v in picks], order_id="gap")
    route = twin.solve(order, "largest_gap").route
    _assert_walk(twin, Plan(solver="x", route=route), order)
    assert slot0[2] + 10 not in route  # the middle of aisle 2 is the largest gap


def test_tsp_with_rng_gives_varied_valid_candidates(twin: WarehouseTwin,
                                                    orders: list[Order]) -> None:
    """Random-start TSP candidates are valid walks and not all identical."""
    order = max(orders, key=lambda o: len(o.picks))
    rng = np.random.default_rng(1)
    plans = [twin.solve(order, "tsp", rng) for _ in range(20)]
    for p in plans:
        _assert_walk(twin, p, order)
    assert len({p.route for p in plans}) > 1


def test_unknown_solver_suggests(twin: WarehouseTwin, orders: list[Order]) -> None:
    """An unknown solver name raises InvalidPlan with a near-match suggestion."""
    with pytest.raises(InvalidPlan, match="did you mean 's_shape'"):
        twin.solve(orders[0], "s-shape")


def test_evaluate_is_deterministic(twin: WarehouseTwin, orders: list[Order]) -> None:
    """Same plan, order and seed give an identical evaluation and receipt, also on a new twin."""
    other = WarehouseTwin(warehouse_spec())
    for order in orders[:20]:
        plan = twin.solve(order, "tsp")
        a = twin.evaluate(plan, order, SEED)
        assert a == twin.evaluate(plan, order, SEED) == other.evaluate(plan, order, SEED)
        assert a.receipt.to_dict() == other.evaluate(plan, order, SEED).receipt.to_dict()


def test_receipt_fields(twin: WarehouseTwin, orders: list[Order]) -> None:
    """The receipt names the twin, tier L1, the seed, the engine version and the CU."""
    order = orders[0]
    ev = twin.evaluate(twin.solve(order, "s_shape"), order, SEED)
    r = ev.receipt
    assert (r.twin_id, r.tier, r.hz, r.seed, r.engine_version, r.cu) == (
        twin.twin_id, "L1", 0, SEED, "warehouse-l1/1", ev.cu)
    assert len(r.plan_hash) == len(r.result_hash) == 64


def test_receipt_differs_for_other_seed_or_plan(twin: WarehouseTwin,
                                                orders: list[Order]) -> None:
    """A different seed changes the receipt; a different plan changes the plan hash."""
    order = max(orders, key=lambda o: len(o.picks))
    plan = twin.solve(order, "s_shape")
    a = twin.evaluate(plan, order, 1).receipt
    assert twin.evaluate(plan, order, 2).receipt != a
    assert twin.evaluate(twin.solve(order, "tsp"), order, 1).receipt.plan_hash != a.plan_hash


def test_time_depends_on_seed_through_congestion(twin: WarehouseTwin,
                                                 orders: list[Order]) -> None:
    """Over 50 seeds a fixed plan takes different times but always covers travel plus picks."""
    order = max(orders, key=lambda o: len(o.picks))
    plan = twin.solve(order, "s_shape")
    times = {twin.evaluate(plan, order, s).time_ms for s in range(50)}
    floor = -(-twin.evaluate(plan, order, 0).distance_mm * 1000 // 1200)
    assert len(times) > 5
    assert min(times) >= floor + len(order.lines) * 6000


def test_no_congestion_means_time_is_travel_plus_picks() -> None:
    """With congestion switched off, time = ceil-per-edge travel time + picks, for every seed."""
    twin = WarehouseTwin(warehouse_spec(congested_aisle_bps=0))
    order = twin.make_order([0, 150, 399], order_id="x")
    plan = twin.solve(order, "s_shape")
    route = plan.route
    travel = sum(-(-twin.graph.edges[u, v]["length_mm"] * 1000 // 1200)
                 for u, v in itertools.pairwise(route))
    for seed in (0, 1, 2):
        assert twin.evaluate(plan, order, seed).time_ms == travel + 3 * 6000


def test_layout_accessors_are_read_only(twin: WarehouseTwin) -> None:
    """distances_mm() and travel_times_ms() are read-only (n, n) matrices agreeing with
    distance_mm and travel_ms (each edge's time rounded up at the picker speed); sku_node
    names the node each SKU is stored at."""
    n = twin.graph.number_of_nodes()
    dist, travel = twin.distances_mm(), twin.travel_times_ms()
    assert dist.shape == travel.shape == (n, n)
    with pytest.raises(ValueError, match="read-only"):
        dist[0, 1] = 0
    with pytest.raises(ValueError, match="read-only"):
        travel[0, 1] = 0
    assert dist[twin.depot, 50] == twin.distance_mm(twin.depot, 50) > 0
    for u, v, mm in twin.graph.edges(data="length_mm"):
        assert travel[u, v] == twin.travel_ms(v, u) == -(-mm * 1000 // 1200)
    nodes = twin.spec.body["storage"]["sku_node"]
    assert [twin.sku_node(s) for s in range(twin.n_skus)] == nodes


def test_congestion_is_a_read_only_record_per_seed(twin: WarehouseTwin) -> None:
    """congestion(seed) gives each aisle a period in the spec's range (0: never busy, about
    half the aisles at 5000 bps), a busy part within busy_max_bps and a phase below the
    period; the same seed gives the same windows, the arrays are read-only."""
    cong = twin.congestion(4)
    live = cong.period_ms > 0
    assert 0 < live.sum() < twin.n_aisles
    assert ((cong.period_ms[live] >= 30_000) & (cong.period_ms[live] <= 120_000)).all()
    assert (cong.busy_ms[live] <= cong.period_ms[live] * 8000 // 10_000).all()
    assert (cong.phase_ms[live] < cong.period_ms[live]).all()
    assert twin.congestion(4) is cong
    again = WarehouseTwin(twin.spec).congestion(4)
    assert again.period_ms.tolist() == cong.period_ms.tolist()
    assert again.phase_ms.tolist() == cong.phase_ms.tolist()
    with pytest.raises(ValueError, match="read-only"):
        cong.busy_ms[0] = 0
    with pytest.raises(InvalidPlan, match="seed"):
        twin.congestion(-1)


def test_evaluate_matches_a_plain_walk_over_the_public_accessors(
        twin: WarehouseTwin, orders: list[Order]) -> None:
    """The vectorised walk equals a plain loop built from the public accessors: travel_ms per
    edge, pick_time_ms per line at its node's first visit, and before each step from a cross
    aisle into an aisle the rest of that aisle's busy window in congestion(seed)."""
    roles = dict(twin.graph.nodes(data="role"))
    aisle = dict(twin.graph.nodes(data="aisle"))
    for order in orders[:25]:
        lines_at: dict[int, int] = {}
        for s in order.lines:
            lines_at[twin.sku_node(s)] = lines_at.get(twin.sku_node(s), 0) + 1
        for method, seed in (("tsp", 1), ("s_shape", 2), ("largest_gap", 3)):
            plan = twin.solve(order, method)
            cong = twin.congestion(seed)
            t, seen = 0, set()
            for u, v in itertools.pairwise(plan.route):
                if roles[u] != "aisle" and roles[v] == "aisle":
                    a = aisle[v]
                    period, busy = int(cong.period_ms[a]), int(cong.busy_ms[a])
                    if period and (t + int(cong.phase_ms[a])) % period < busy:
                        t += busy - (t + int(cong.phase_ms[a])) % period
                t += twin.travel_ms(u, v)
                if v not in seen:
                    seen.add(v)
                    t += lines_at.get(v, 0) * 6000
            assert twin.evaluate(plan, order, seed).time_ms == t


def test_evaluation_can_beat_the_shortest_route(twin: WarehouseTwin,
                                                orders: list[Order]) -> None:
    """Some order has a longer candidate route that is faster in the twin than the shortest."""
    rng = np.random.default_rng(3)
    found = 0
    for seed in range(3):
        for order in [o for o in orders if len(o.picks) >= 4][:40]:
            plans = [twin.solve(order, m) for m in SOLVERS]
            plans += [twin.solve(order, "tsp", rng) for _ in range(8)]
            evs = [twin.evaluate(p, order, seed) for p in plans]
            shortest = min(evs, key=lambda e: (e.distance_mm, e.time_ms))
            fastest = min(evs, key=lambda e: e.time_ms)
            faster = fastest.time_ms < shortest.time_ms
            longer = fastest.distance_mm > shortest.distance_mm
            found += faster and longer
    assert found >= 1


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r, t: (r[0], *r[2:]), "is not an edge"),
        (lambda r, t: r[:-1], "not at the depot"),
        (lambda r, t: (r[0], r[1], r[0]), "misses pick nodes"),
        (lambda r, t: r[1:], "starts at node"),
        (lambda r, t: (), "empty"),
        (lambda r, t: (*r[:-1], 99_999, t.depot), "not node ids"),
        (lambda r, t: (*r[:-1], 1.5, t.depot), "not a sequence of int"),
    ],
)
def test_invalid_routes_are_reported_not_raised(twin: WarehouseTwin, orders: list[Order],
                                                mutate, reason: str) -> None:
    """A broken route gives valid=False, a reason, zero time, and still the metered CU."""
    order = max(orders, key=lambda o: len(o.picks))
    good = twin.solve(order, "s_shape")
    bad = good._replace(route=tuple(mutate(good.route, twin)))
    ev = twin.evaluate(bad, order, SEED)
    assert not ev.valid
    assert reason in ev.reason
    assert ev.time_ms == 0 and ev.distance_mm == 0
    assert ev.cu == twin.cu_for(bad, order)


def test_not_a_plan_raises(twin: WarehouseTwin, orders: list[Order]) -> None:
    """Passing something that is not a Plan (or not an Order) raises InvalidPlan."""
    with pytest.raises(InvalidPlan, match="expected a Plan"):
        twin.evaluate(list(twin.solve(orders[0], "tsp").route), orders[0], SEED)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlan, match="expected an Order"):
        twin.evaluate(twin.solve(orders[0], "tsp"), orders[0].picks, SEED)  # type: ignore[arg-type]


def test_cu_for_matches_evaluate_and_formula(twin: WarehouseTwin, orders: list[Order]) -> None:
    """cu_for equals evaluate().cu and the spec formula steps*12 + picks*40."""
    for order in orders[:30]:
        for method in SOLVERS:
            plan = twin.solve(order, method)
            cu = twin.cu_for(plan, order)
            assert cu == twin.evaluate(plan, order, SEED).cu
            assert cu == (len(plan.route) - 1) * 12 + len(order.picks) * 40


def test_baseline_is_s_shape(twin: WarehouseTwin, orders: list[Order]) -> None:
    """baseline() is the evaluation of the S-shape plan."""
    order = orders[3]
    assert twin.baseline(order, SEED) == twin.evaluate(twin.solve(order, "s_shape"), order, SEED)


def test_make_order_rejects_bad_skus(twin: WarehouseTwin) -> None:
    """Out-of-range or repeated SKU ids are refused with the allowed range."""
    with pytest.raises(InvalidPlan, match=r"0\.\.399"):
        twin.make_order([400], order_id="x")
    with pytest.raises(InvalidPlan, match="repeats"):
        twin.make_order([1, 1], order_id="x")


def test_spec_parameter_validation() -> None:
    """Bad builder parameters raise InvalidSpec with the fix or a suggestion."""
    with pytest.raises(InvalidSpec, match="did you mean 'abc'"):
        warehouse_spec(storage="abd")
    with pytest.raises(InvalidSpec, match="pick locations"):
        warehouse_spec(n_skus=401)
    with pytest.raises(InvalidSpec, match="summing to 10000"):
        warehouse_spec(abc_sku_bps=(2000, 3000, 4000))
    with pytest.raises(InvalidSpec, match="kind 'warehouse'"):
        WarehouseTwin(dataclasses.replace(warehouse_spec(), kind="logistics"))


def test_front_middle_depot_twin_is_valid() -> None:
    """A twin with the depot at the front middle passes the checker."""
    twin = WarehouseTwin(warehouse_spec(depot="front_middle", n_aisles=7, slots_per_aisle=8,
                                        n_skus=100))
    assert twin.graph.nodes[twin.depot]["x_mm"] == 3 * 3000
    check_twin(twin)


def test_check_twin_passes_on_default(twin: WarehouseTwin) -> None:
    """The shipped compliance checker passes on the default twin."""
    check_twin(twin)


def test_multi_tick_determinism(twin: WarehouseTwin) -> None:
    """Ten ticks of orders, solves and evaluations replay byte-identically from one seed."""

    def run() -> list[str]:
        rng = np.random.default_rng(77)
        out = []
        for tick in range(10):
            for order in twin.orders(rng, 600_000):
                for m in SOLVERS:
                    out.append(twin.evaluate(twin.solve(order, m, rng), order, tick)
                               .receipt.result_hash)
        return out

    assert run() == run()


@settings(max_examples=60, deadline=None)
@given(skus=st.lists(st.integers(0, 399), min_size=0, max_size=12, unique=True),
       seed=st.integers(0, 2**32 - 1))
def test_property_all_solvers_valid_and_evaluate_deterministic(skus: list[int],
                                                               seed: int) -> None:
    """For any order, every solver's plan is valid and evaluating it twice is identical."""
    twin = _TWIN
    order = twin.make_order(skus, order_id="h")
    for method in SOLVERS:
        plan = twin.solve(order, method)
        _assert_walk(twin, plan, order)
        a = twin.evaluate(plan, order, seed)
        assert a.valid, a.reason
        assert a == twin.evaluate(plan, order, seed)
        assert a.time_ms >= -(-a.distance_mm * 1000 // 1200)


_TWIN = WarehouseTwin(warehouse_spec())
