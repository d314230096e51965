"""Build the spec of a road-network delivery twin: roads, depots, fleet, congestion and demand.

Road network (all integer, lengths in mm, speeds in mm/s): a ``grid_cols x grid_rows`` grid
of junctions ``block_mm`` apart, each junction moved by up to ``jitter_bps`` of a block in x and
y. Every ``arterial_every``-th row and column is an arterial (fast, congestion class 1); the
other roads are local streets (slower, congestion class 0). A share ``drop_edge_bps`` of the
local streets is removed, never disconnecting the network. An edge's ``length_mm`` is the
integer Euclidean distance of its ends (``math.isqrt``). Everything is drawn once from
``np.random.default_rng(network_seed)`` and written into the spec, so the hash covers it.

Node ids are ``row * grid_cols + col``; node attributes ``x_mm``, ``y_mm``, ``role``
("depot" | "customer" | "junction") and ``zone`` (index of the depot nearest in free-flow
time). Edge attributes ``length_mm``, ``speed_mm_s`` and ``congestion_class``. ``n_depots``
depots are spread over the grid (at least a third of the grid diagonal apart where possible);
a share ``customer_bps`` of the other junctions are customer addresses.

Congestion: the day (``day_ms``) is cut into slots of ``slot_ms``. In a slot inside one of
``peak_periods_ms`` (``[start_ms, end_ms)`` pairs on slot boundaries) an edge of class ``c``
takes ``10000 + peak_slowdown_bps[c]`` basis points of its free-flow time. Per evaluation seed
every (edge, slot) also gets a random slowdown up to ``noise_max_bps`` and, with chance
``incident_bps``, an incident adding ``incident_slowdown_bps``.

Demand: delivery requests arrive as a Poisson process (``request_rate_per_h``); each is
released at a uniform time of day in ``[service_start_ms, service_end_ms)`` at a uniformly
drawn depot and asks for ``min(Geometric(1 / customers_mean), customers_max)`` distinct
customers of that depot's zone, each wanting ``demand_min_units..demand_max_units`` units.

Metering (CU, about 1 us of reference CPU each, frozen here): ``edge_traversal_cu`` per
simulated edge traversal, ``stop_cu`` per delivery, ``eval_base_cu`` per evaluation, and
``edge_relaxation_cu`` per edge relaxation of a solver run (see `LogisticsTwin.solve_cu`).
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np

from worlds.errors import InvalidSpec
from worlds.spec import TwinSpec, canonical_layout, spec_int

__all__ = ["ENGINE_VERSION", "MAX_NODES", "MAX_SLOTS", "logistics_spec"]

ENGINE_VERSION = "logistics-l1/1"
_HOUR_MS = 3_600_000

#: The most junctions (``grid_cols * grid_rows``): the twin precomputes all-pairs shortest
#: paths over them four times (Floyd-Warshall: nodes^3 time, nodes^2 memory), for the market
#: and again for the planner policies use; 256 junctions (16 x 16) take about a twentieth of a
#: second each time on one core, 625 (25 x 25) about three seconds in all.
MAX_NODES = 256
#: The most congestion slots in a day (``day_ms // slot_ms``, one a minute): the twin keeps
#: a travel time per slot and road.
MAX_SLOTS = 1_440
_SEED_MAX = 2**63 - 1
_DAY_MAX_MS = 7 * 86_400_000  # a week
_SPEED_MAX = 100_000  # mm/s, 360 km/h
_BPS_MAX = 1_000_000  # a hundredfold slowdown
_CU_MAX = 1_000_000  # about a second of reference CPU per unit of work


def _ff_ms(length_mm: int, speed_mm_s: int) -> int:
    return -(-length_mm * 1000 // speed_mm_s)


def _road_graph(cols: int, rows: int, block_mm: int, jitter_bps: int, drop_edge_bps: int,
                arterial_every: int, local_speed: int, arterial_speed: int,
                rng: np.random.Generator) -> nx.Graph:
    G = nx.Graph()
    jit = block_mm * jitter_bps // 10_000
    dx = rng.integers(-jit, jit + 1, size=rows * cols).tolist()
    dy = rng.integers(-jit, jit + 1, size=rows * cols).tolist()
    for r in range(rows):
        for c in range(cols):
            v = r * cols + c
            G.add_node(v, x_mm=c * block_mm + dx[v], y_mm=r * block_mm + dy[v])

    def arterial(i: int) -> bool:
        return arterial_every > 0 and i % arterial_every == arterial_every // 2

    for r in range(rows):
        for c in range(cols):
            v = r * cols + c
            for w, art in ((v + 1, arterial(r)), (v + cols, arterial(c))):
                if (w == v + 1 and c + 1 >= cols) or (w == v + cols and r + 1 >= rows):
                    continue
                x0, y0 = G.nodes[v]["x_mm"], G.nodes[v]["y_mm"]
                x1, y1 = G.nodes[w]["x_mm"], G.nodes[w]["y_mm"]
                G.add_edge(v, w, length_mm=max(1, math.isqrt((x1 - x0) ** 2 + (y1 - y0) ** 2)),
                           speed_mm_s=arterial_speed if art else local_speed,
                           congestion_class=1 if art else 0)
    # Remove local streets at random, keeping the network connected.
    local = sorted((u, v) for u, v, k in G.edges(data="congestion_class") if k == 0)
    order = rng.permutation(len(local)).tolist()
    drop = (rng.integers(0, 10_000, size=len(local)) < drop_edge_bps).tolist()
    for i in order:
        if not drop[i]:
            continue
        u, v = local[i]
        attrs = dict(G.edges[u, v])
        G.remove_edge(u, v)
        if not nx.has_path(G, u, v):
            G.add_edge(u, v, **attrs)
    return G


def _place_depots(G: nx.Graph, n_depots: int, min_sep_mm: int,
                  rng: np.random.Generator) -> list[int]:
    """Pick depots in a random order, each at least `min_sep_mm` from the others if possible."""
    pos = {v: (G.nodes[v]["x_mm"], G.nodes[v]["y_mm"]) for v in G.nodes}
    candidates = [int(v) for v in rng.permutation(G.number_of_nodes())]
    chosen: list[int] = []
    for v in candidates:
        x, y = pos[v]
        if all((x - pos[d][0]) ** 2 + (y - pos[d][1]) ** 2 >= min_sep_mm ** 2 for d in chosen):
            chosen.append(v)
            if len(chosen) == n_depots:
                break
    for v in candidates:  # not enough room: fill up in draw order
        if len(chosen) == n_depots:
            break
        if v not in chosen:
            chosen.append(v)
    return sorted(chosen)


def logistics_spec(
    name: str = "lg-default",
    version: str = "1.0.0",
    *,
    grid_cols: int = 12,
    grid_rows: int = 12,
    block_mm: int = 400_000,
    jitter_bps: int = 2500,
    drop_edge_bps: int = 1500,
    arterial_every: int = 4,
    local_speed_mm_s: int = 8_333,
    arterial_speed_mm_s: int = 16_667,
    n_depots: int = 3,
    customer_bps: int = 6000,
    network_seed: int = 0,
    n_trucks: int = 3,
    truck_capacity_units: int = 30,
    truck_max_speed_mm_s: int = 25_000,
    service_time_ms: int = 120_000,
    reload_time_ms: int = 300_000,
    day_ms: int = 86_400_000,
    slot_ms: int = 900_000,
    peak_periods_ms: tuple[tuple[int, int], ...] = ((25_200_000, 34_200_000),
                                                    (57_600_000, 66_600_000)),
    peak_slowdown_bps: tuple[int, ...] = (3000, 30_000),
    noise_max_bps: int = 2000,
    incident_bps: int = 50,
    incident_slowdown_bps: int = 30_000,
    request_rate_per_h: int = 30,
    service_start_ms: int = 21_600_000,
    service_end_ms: int = 72_000_000,
    customers_mean: int = 6,
    customers_max: int = 15,
    demand_min_units: int = 1,
    demand_max_units: int = 10,
    edge_traversal_cu: int = 2,
    stop_cu: int = 4,
    eval_base_cu: int = 70,
    edge_relaxation_cu: int = 2,
) -> TwinSpec:
    """Build a logistics twin spec (kind "logistics").

    Args:
        name: twin name.
        version: semver for people; the hash is the identity.
        grid_cols, grid_rows: junctions per row and per column (>= 2 each).
        block_mm: junction spacing before jitter.
        jitter_bps: largest junction displacement in x and y, bps of a block (< 5000).
        drop_edge_bps: chance that a local street is removed (if it does not disconnect).
        arterial_every: every k-th row and column is an arterial (0: none).
        local_speed_mm_s, arterial_speed_mm_s: free-flow speeds by road type.
        n_depots: number of depots (each has a zone of customers).
        customer_bps: chance that a non-depot junction is a customer address.
        network_seed: seed of the road network, depot and customer draw.
        n_trucks: trucks per request (they all start at the request's depot).
        truck_capacity_units: load a truck carries per trip.
        truck_max_speed_mm_s: trucks drive at min(road speed, this).
        service_time_ms: time to make one delivery.
        reload_time_ms: time to reload at the depot between trips.
        day_ms: length of the congestion day (profiles repeat every day).
        slot_ms: congestion slot length (divides day_ms).
        peak_periods_ms: ``(start_ms, end_ms)`` peak windows on slot boundaries.
        peak_slowdown_bps: extra travel time in a peak, bps of free-flow, per congestion
            class (class 0 local streets, class 1 arterials).
        noise_max_bps: largest random per-(edge, slot) slowdown of an evaluation seed.
        incident_bps: chance per (edge, slot) of an incident.
        incident_slowdown_bps: extra travel time of an incident.
        request_rate_per_h: Poisson request arrival rate.
        service_start_ms, service_end_ms: window of request release times (time of day).
        customers_mean: mean of the geometric number of customers per request.
        customers_max: cap on customers per request.
        demand_min_units, demand_max_units: units wanted per customer (uniform).
        edge_traversal_cu: CU per simulated edge traversal.
        stop_cu: CU per delivery simulated.
        eval_base_cu: CU per evaluation (validation, receipt).
        edge_relaxation_cu: CU per edge relaxation of a reference solver.

    Bounds (each far above a city delivery model, and what one machine can build and run):
    at most `MAX_NODES` junctions (``grid_cols * grid_rows``, each <= 128: the twin's all-pairs
    shortest paths cost nodes^3) and `MAX_SLOTS` congestion slots a day; block_mm at most
    10 km; speeds at most 100000 mm/s; a day (day_ms) at most a week; service, reload and
    peak times within the day; slowdowns at most 1000000 bps (a hundredfold);
    request_rate_per_h <= 3600; n_trucks <= 50; customers_mean and customers_max <= 100 (a
    request's routes are optimised over its customers); truck_capacity_units <= 10000;
    compute units per unit of work at most 1000000; network_seed < 2**63.

    Returns:
        The spec; `LogisticsTwin(spec)` builds the twin.

    Raises:
        InvalidSpec: a parameter is out of range, a float, or inconsistent with another.
    """
    cols = spec_int("grid_cols", grid_cols, low=2, high=MAX_NODES // 2)
    rows = spec_int("grid_rows", grid_rows, low=2, high=MAX_NODES // 2)
    if cols * rows > MAX_NODES:
        raise InvalidSpec(
            f"grid_cols {cols} x grid_rows {rows} is {cols * rows} junctions; expected at most "
            f"{MAX_NODES}, since the twin precomputes all-pairs shortest paths (nodes^3): use "
            "a smaller grid and a larger block_mm"
        )
    highs = dict(block_mm=10_000_000, local_speed_mm_s=_SPEED_MAX, n_depots=MAX_NODES // 2,
                 arterial_speed_mm_s=_SPEED_MAX, n_trucks=50, truck_capacity_units=10_000,
                 truck_max_speed_mm_s=_SPEED_MAX, day_ms=_DAY_MAX_MS, slot_ms=_DAY_MAX_MS,
                 customers_mean=100, customers_max=100, demand_min_units=10_000,
                 demand_max_units=10_000, arterial_every=MAX_NODES // 2, network_seed=_SEED_MAX,
                 service_time_ms=_DAY_MAX_MS, reload_time_ms=_DAY_MAX_MS,
                 incident_slowdown_bps=_BPS_MAX, request_rate_per_h=3_600,
                 service_start_ms=_DAY_MAX_MS, edge_traversal_cu=_CU_MAX, stop_cu=_CU_MAX,
                 eval_base_cu=_CU_MAX, edge_relaxation_cu=_CU_MAX, noise_max_bps=_BPS_MAX)
    ints = {k: spec_int(k, v, high=highs[k]) for k, v in dict(
        block_mm=block_mm, local_speed_mm_s=local_speed_mm_s,
        arterial_speed_mm_s=arterial_speed_mm_s, n_depots=n_depots, n_trucks=n_trucks,
        truck_capacity_units=truck_capacity_units, truck_max_speed_mm_s=truck_max_speed_mm_s,
        day_ms=day_ms, slot_ms=slot_ms, customers_mean=customers_mean,
        customers_max=customers_max, demand_min_units=demand_min_units,
        demand_max_units=demand_max_units,
    ).items()}
    zero_ok = {k: spec_int(k, v, low=0, high=highs[k]) for k, v in dict(
        arterial_every=arterial_every, network_seed=network_seed,
        service_time_ms=service_time_ms, reload_time_ms=reload_time_ms,
        incident_slowdown_bps=incident_slowdown_bps, request_rate_per_h=request_rate_per_h,
        service_start_ms=service_start_ms, edge_traversal_cu=edge_traversal_cu,
        stop_cu=stop_cu, eval_base_cu=eval_base_cu, edge_relaxation_cu=edge_relaxation_cu,
        noise_max_bps=noise_max_bps,
    ).items()}
    jitter = spec_int("jitter_bps", jitter_bps, low=0, high=4999)
    drop_bps = spec_int("drop_edge_bps", drop_edge_bps, low=0, high=10_000)
    cust_bps = spec_int("customer_bps", customer_bps, low=1, high=10_000)
    inc_bps = spec_int("incident_bps", incident_bps, low=0, high=10_000)
    day, slot = ints["day_ms"], ints["slot_ms"]
    if day % slot:
        raise InvalidSpec(f"slot_ms ({slot}) does not divide day_ms ({day}); pick a divisor "
                          "such as 900000 (15 min) for a 86400000 ms day")
    if day // slot > MAX_SLOTS:
        raise InvalidSpec(f"day_ms {day} / slot_ms {slot} is {day // slot} congestion slots; "
                          f"expected at most {MAX_SLOTS} (the twin keeps a travel time per "
                          "slot and road): use longer slots")
    start = zero_ok["service_start_ms"]
    end = spec_int("service_end_ms", service_end_ms, low=start + 1, high=day)
    if ints["demand_min_units"] > ints["demand_max_units"]:
        raise InvalidSpec(f"demand_min_units ({demand_min_units}) exceeds demand_max_units "
                          f"({demand_max_units}); swap them")
    if ints["demand_max_units"] > ints["truck_capacity_units"]:
        raise InvalidSpec(
            f"demand_max_units ({demand_max_units}) exceeds truck_capacity_units "
            f"({truck_capacity_units}): a customer could never be served; lower the demand "
            "or raise the capacity"
        )
    if n_depots > cols * rows // 2:
        raise InvalidSpec(f"n_depots is {n_depots} for a {cols}x{rows} grid; expected at most "
                          f"{cols * rows // 2}")
    if len(peak_periods_ms) > day // slot:
        raise InvalidSpec(f"peak_periods_ms has {len(peak_periods_ms)} periods; expected at "
                          f"most one per congestion slot ({day // slot})")
    peaks: list[list[int]] = []
    for i, pair in enumerate(peak_periods_ms):
        if len(pair) != 2:
            raise InvalidSpec(f"peak_periods_ms[{i}] is {pair!r}; expected (start_ms, end_ms)")
        p0 = spec_int(f"peak_periods_ms[{i}][0]", pair[0], low=0, high=day)
        p1 = spec_int(f"peak_periods_ms[{i}][1]", pair[1], low=p0 + 1, high=day)
        if p0 % slot or p1 % slot:
            raise InvalidSpec(f"peak period ({p0}, {p1}) is not on slot boundaries "
                              f"(multiples of slot_ms={slot}); round it")
        if peaks and p0 < peaks[-1][1]:
            raise InvalidSpec(f"peak periods overlap or are unsorted at index {i}; sort them "
                              "by start and merge overlaps")
        peaks.append([p0, p1])
    slow = [spec_int(f"peak_slowdown_bps[{i}]", v, low=0, high=_BPS_MAX)
            for i, v in enumerate(peak_slowdown_bps)]
    if len(slow) != 2:
        raise InvalidSpec(f"peak_slowdown_bps is {tuple(peak_slowdown_bps)!r}; expected two "
                          "ints (local streets, arterials), e.g. (3000, 30000)")

    rng = np.random.default_rng(zero_ok["network_seed"])
    G = _road_graph(cols, rows, ints["block_mm"], jitter, drop_bps, zero_ok["arterial_every"],
                    ints["local_speed_mm_s"], ints["arterial_speed_mm_s"], rng)
    diag = math.isqrt(((cols - 1) ** 2 + (rows - 1) ** 2) * ints["block_mm"] ** 2)
    depots = _place_depots(G, ints["n_depots"], diag // 3, rng)
    vmax = ints["truck_max_speed_mm_s"]
    for _, _, attrs in G.edges(data=True):
        attrs["ff_ms"] = _ff_ms(attrs["length_mm"], min(attrs["speed_mm_s"], vmax))
    dists = [nx.single_source_dijkstra_path_length(G, d, weight="ff_ms") for d in depots]
    for _, _, attrs in G.edges(data=True):
        del attrs["ff_ms"]
    is_customer = (rng.integers(0, 10_000, size=G.number_of_nodes()) < cust_bps).tolist()
    depot_set = set(depots)
    zone_size = [0] * len(depots)
    for v in G.nodes:
        zone = min(range(len(depots)), key=lambda i: (dists[i][v], i))
        role = "depot" if v in depot_set else ("customer" if is_customer[v] else "junction")
        G.nodes[v].update(role=role, zone=zone)
        zone_size[zone] += role == "customer"
    if min(zone_size) == 0:
        raise InvalidSpec(f"a depot zone has no customers (sizes {zone_size}); raise "
                          "customer_bps, enlarge the grid or use fewer depots")

    body: dict[str, Any] = {
        "engine_version": ENGINE_VERSION,
        "network": {
            "generator": "perturbed-grid", "grid_cols": cols, "grid_rows": rows,
            "block_mm": ints["block_mm"], "jitter_bps": jitter, "drop_edge_bps": drop_bps,
            "arterial_every": zero_ok["arterial_every"],
            "local_speed_mm_s": ints["local_speed_mm_s"],
            "arterial_speed_mm_s": ints["arterial_speed_mm_s"],
            "customer_bps": cust_bps, "seed": zero_ok["network_seed"],
        },
        "layout": canonical_layout(G),
        "depots": depots,
        "fleet": {
            "n_trucks": ints["n_trucks"], "capacity_units": ints["truck_capacity_units"],
            "max_speed_mm_s": vmax, "service_time_ms": zero_ok["service_time_ms"],
            "reload_time_ms": zero_ok["reload_time_ms"],
        },
        "congestion": {
            "type": "slot-profile", "day_ms": day, "slot_ms": slot,
            "peak_periods_ms": peaks, "peak_slowdown_bps": slow,
            "noise_max_bps": zero_ok["noise_max_bps"], "incident_bps": inc_bps,
            "incident_slowdown_bps": zero_ok["incident_slowdown_bps"],
        },
        "demand": {
            "type": "poisson", "rate_per_h": zero_ok["request_rate_per_h"],
            "service_start_ms": start, "service_end_ms": end,
            "customers": {"type": "geometric", "mean": ints["customers_mean"],
                          "max": ints["customers_max"]},
            "units_min": ints["demand_min_units"], "units_max": ints["demand_max_units"],
        },
        "metering": {
            "schedule": "cu-1", "edge_traversal_cu": zero_ok["edge_traversal_cu"],
            "stop_cu": zero_ok["stop_cu"], "eval_base_cu": zero_ok["eval_base_cu"],
            "edge_relaxation_cu": zero_ok["edge_relaxation_cu"],
        },
    }
    return TwinSpec(kind="logistics", name=name, version=version, body=body)
