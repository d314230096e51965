"""Build the spec of a single-block parallel-aisle picking warehouse, storage assignment included.

Layout (all lengths integer mm; y grows away from the depot)::

    back cross   B0 ---- B1 ---- ... ---- B(n-1)       y = 2*cross_aisle_mm + (S-1)*slot_pitch_mm
                 |       |                |
    aisle slots  s(S-1)  ...              ...          y = cross_aisle_mm + s*slot_pitch_mm
                 |       |                |
                 s0      s0               s0
                 |       |                |
    front cross  F0 ---- F1 ---- ... ---- F(n-1)       y = 0
                 |
    depot        D                                     y = -depot_offset_mm

Node ids: depot 0; front cross of aisle a: 1 + a; back cross: 1 + n + a; slot s of aisle a:
1 + 2n + a*S + s. Node attributes: ``x_mm``, ``y_mm``, ``role`` ("depot" | "cross" |
"aisle"), ``aisle`` (cross and aisle nodes), ``slot`` (aisle nodes). Edges carry
``length_mm``. Each aisle node has two pick locations (left and right rack face), so the
warehouse holds at most ``2 * n_aisles * slots_per_aisle`` SKUs.

SKU ids are sorted by popularity class: class A first, then B, then C. Demand per class is
``abc_demand_bps`` (basis points of picks) spread evenly over its SKUs; ``abc_sku_bps`` sets
the class sizes. Storage "random" puts SKUs on uniformly random locations; "abc" fills the
locations nearest the depot (walking distance) with class A, then B, then C. The assignment
is drawn once from ``np.random.default_rng(storage_seed)`` and written into the spec, so the
spec is fully explicit and its hash covers it.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from twinecon.errors import suggest
from worlds.errors import InvalidSpec
from worlds.spec import TwinSpec, canonical_layout, spec_int

__all__ = ["ENGINE_VERSION", "MAX_NODES", "warehouse_spec"]

ENGINE_VERSION = "warehouse-l1/1"
_DEPOTS = ("front_left", "front_middle")
_STORAGE = ("random", "abc")

#: The most layout nodes (``1 + n_aisles * (slots_per_aisle + 2)``): the twin precomputes
#: all-pairs shortest paths over them (Floyd-Warshall: nodes^3 time, nodes^2 memory), once for
#: the market and once for the planner policies use; 400 nodes take about a tenth of a
#: second each on one core, 5,000 take about nine minutes.
MAX_NODES = 400
_SEED_MAX = 2**63 - 1
_LENGTH_MAX_MM = 100_000  # 100 m between two nodes; the physics scene is built to scale
_TIME_MAX_MS = 86_400_000  # a day
_CU_MAX = 1_000_000  # about a second of reference CPU per step


def _bps(name: str, shares: Any) -> list[int]:
    vals = [spec_int(f"{name}[{i}]", v, low=0) for i, v in enumerate(shares)]
    if len(vals) != 3 or sum(vals) != 10_000:
        raise InvalidSpec(
            f"{name} is {tuple(shares)!r}; expected three ints in basis points (A, B, C) "
            "summing to 10000, e.g. (2000, 3000, 5000)"
        )
    return vals


def _layout_graph(
    n_aisles: int,
    slots_per_aisle: int,
    slot_pitch_mm: int,
    aisle_pitch_mm: int,
    cross_aisle_mm: int,
    depot_aisle: int,
    depot_offset_mm: int,
) -> nx.Graph:
    n, s_max = n_aisles, slots_per_aisle
    y_back = 2 * cross_aisle_mm + (s_max - 1) * slot_pitch_mm
    G = nx.Graph()
    G.add_node(0, x_mm=depot_aisle * aisle_pitch_mm, y_mm=-depot_offset_mm, role="depot")
    for a in range(n):
        x = a * aisle_pitch_mm
        front, back = 1 + a, 1 + n + a
        G.add_node(front, x_mm=x, y_mm=0, role="cross", aisle=a)
        G.add_node(back, x_mm=x, y_mm=y_back, role="cross", aisle=a)
        prev = front
        for s in range(s_max):
            node = 1 + 2 * n + a * s_max + s
            G.add_node(node, x_mm=x, y_mm=cross_aisle_mm + s * slot_pitch_mm, role="aisle",
                       aisle=a, slot=s)
            G.add_edge(prev, node, length_mm=cross_aisle_mm if s == 0 else slot_pitch_mm)
            prev = node
        G.add_edge(prev, back, length_mm=cross_aisle_mm)
        if a > 0:
            G.add_edge(front - 1, front, length_mm=aisle_pitch_mm)
            G.add_edge(back - 1, back, length_mm=aisle_pitch_mm)
    G.add_edge(0, 1 + depot_aisle, length_mm=depot_offset_mm)
    return G


def warehouse_spec(
    name: str = "wh-default",
    version: str = "1.0.0",
    *,
    n_aisles: int = 10,
    slots_per_aisle: int = 20,
    slot_pitch_mm: int = 1000,
    aisle_pitch_mm: int = 3000,
    cross_aisle_mm: int = 2000,
    depot: str = "front_left",
    depot_offset_mm: int = 1000,
    n_skus: int = 400,
    storage: str = "abc",
    storage_seed: int = 0,
    abc_sku_bps: tuple[int, int, int] = (2000, 3000, 5000),
    abc_demand_bps: tuple[int, int, int] = (8000, 1500, 500),
    order_rate_per_h: int = 60,
    lines_mean: int = 4,
    max_lines: int = 10,
    speed_mm_s: int = 1200,
    pick_time_ms: int = 6000,
    congested_aisle_bps: int = 5000,
    congestion_period_min_ms: int = 30_000,
    congestion_period_max_ms: int = 120_000,
    congestion_busy_max_bps: int = 8000,
    graph_unit_step_cu: int = 12,
    pick_cu: int = 40,
    l2_robot_step_cu: int = 12,
) -> TwinSpec:
    """Build a warehouse twin spec (kind "warehouse").

    Args:
        name: twin name.
        version: semver for people; the hash is the identity.
        n_aisles: number of parallel aisles.
        slots_per_aisle: pick positions along each aisle (two rack faces each).
        slot_pitch_mm: distance between consecutive slots.
        aisle_pitch_mm: distance between aisle centre lines.
        cross_aisle_mm: distance from a cross-aisle node to the first/last slot.
        depot: "front_left" (at aisle 0) or "front_middle" (at aisle n_aisles // 2).
        depot_offset_mm: distance from the depot to the front cross aisle.
        n_skus: number of SKUs, at most 2 * n_aisles * slots_per_aisle.
        storage: "random" or "abc" (class A nearest the depot).
        storage_seed: seed of the storage-assignment draw.
        abc_sku_bps: share of SKUs in classes A, B, C, basis points summing to 10000.
        abc_demand_bps: share of picks going to classes A, B, C, basis points summing to 10000.
        order_rate_per_h: Poisson order arrival rate.
        lines_mean: mean of the geometric number of lines per order.
        max_lines: cap on lines per order.
        speed_mm_s: picker travel speed.
        pick_time_ms: time to pick one line.
        congested_aisle_bps: chance (bps) that an aisle has a congestion schedule in a seed.
        congestion_period_min_ms: shortest congestion cycle.
        congestion_period_max_ms: longest congestion cycle.
        congestion_busy_max_bps: largest busy share of a cycle (bps); entering a busy aisle
            waits until the busy window ends.
        graph_unit_step_cu: compute units per route step at tier L1.
        pick_cu: compute units per pick node at tier L1.
        l2_robot_step_cu: compute units per robot physics step at tier L2 (MuJoCo), the
            frozen calibration of this twin version (bench/bench_physics.py measures it).

    Bounds (each far above a real picking warehouse, and what one machine can build and run):
    the layout has at most `MAX_NODES` nodes, ``1 + n_aisles * (slots_per_aisle + 2)`` (the
    twin's all-pairs shortest paths cost nodes^3), so n_aisles <= 100 and slots_per_aisle
    <= 200; lengths at most 100 m (100000 mm); speed_mm_s <= 10000 (10 m/s);
    order_rate_per_h <= 3600 (one a second); lines_mean and max_lines <= 100 (each order's
    route is optimised over its lines); pick and congestion times at most a day; compute
    units per step at most 1000000; storage_seed < 2**63.

    Returns:
        The spec; `WarehouseTwin(spec)` builds the twin.

    Raises:
        InvalidSpec: a parameter is out of range, a float, or an unknown choice.
    """
    n = spec_int("n_aisles", n_aisles, high=100)
    s_max = spec_int("slots_per_aisle", slots_per_aisle, high=200)
    if 1 + n * (s_max + 2) > MAX_NODES:
        raise InvalidSpec(
            f"n_aisles {n} x slots_per_aisle {s_max} makes a layout of {1 + n * (s_max + 2)} "
            f"nodes (1 + n_aisles * (slots_per_aisle + 2)); expected at most {MAX_NODES}, "
            "since the twin precomputes all-pairs shortest paths (nodes^3): use fewer aisles "
            "or slots"
        )
    highs = dict(slot_pitch_mm=_LENGTH_MAX_MM, aisle_pitch_mm=_LENGTH_MAX_MM,
                 cross_aisle_mm=_LENGTH_MAX_MM, depot_offset_mm=_LENGTH_MAX_MM,
                 lines_mean=100, max_lines=100, speed_mm_s=10_000,
                 congestion_period_min_ms=_TIME_MAX_MS, congestion_period_max_ms=_TIME_MAX_MS,
                 storage_seed=_SEED_MAX, order_rate_per_h=3_600, pick_time_ms=_TIME_MAX_MS,
                 graph_unit_step_cu=_CU_MAX, pick_cu=_CU_MAX, l2_robot_step_cu=_CU_MAX)
    ints = {
        k: spec_int(k, v, high=highs.get(k))
        for k, v in dict(
            slot_pitch_mm=slot_pitch_mm, aisle_pitch_mm=aisle_pitch_mm,
            cross_aisle_mm=cross_aisle_mm, depot_offset_mm=depot_offset_mm,
            n_skus=n_skus, lines_mean=lines_mean, max_lines=max_lines,
            speed_mm_s=speed_mm_s, congestion_period_min_ms=congestion_period_min_ms,
            congestion_period_max_ms=congestion_period_max_ms,
        ).items()
    }
    zero_ok = {
        k: spec_int(k, v, low=0, high=highs.get(k))
        for k, v in dict(
            storage_seed=storage_seed, order_rate_per_h=order_rate_per_h,
            pick_time_ms=pick_time_ms, congested_aisle_bps=congested_aisle_bps,
            congestion_busy_max_bps=congestion_busy_max_bps,
            graph_unit_step_cu=graph_unit_step_cu, pick_cu=pick_cu,
            l2_robot_step_cu=l2_robot_step_cu,
        ).items()
    }
    if depot not in _DEPOTS:
        raise InvalidSpec(f"depot is {depot!r}; expected one of {_DEPOTS}{suggest(depot, _DEPOTS)}")
    if storage not in _STORAGE:
        raise InvalidSpec(
            f"storage is {storage!r}; expected one of {_STORAGE}{suggest(storage, _STORAGE)}"
        )
    n_locations = 2 * n * s_max
    if ints["n_skus"] > n_locations:
        raise InvalidSpec(
            f"n_skus is {ints['n_skus']} but the layout has {n_locations} pick locations "
            "(2 per slot); lower n_skus or add aisles/slots"
        )
    if ints["congestion_period_min_ms"] > ints["congestion_period_max_ms"]:
        raise InvalidSpec(
            f"congestion_period_min_ms ({congestion_period_min_ms}) exceeds "
            f"congestion_period_max_ms ({congestion_period_max_ms}); swap them"
        )
    for key in ("congested_aisle_bps", "congestion_busy_max_bps"):
        if zero_ok[key] > 10_000:
            raise InvalidSpec(f"{key} is {zero_ok[key]}; expected basis points in 0..10000")
    sku_bps = _bps("abc_sku_bps", abc_sku_bps)
    demand_bps = _bps("abc_demand_bps", abc_demand_bps)

    depot_aisle = 0 if depot == "front_left" else n // 2
    G = _layout_graph(n, s_max, ints["slot_pitch_mm"], ints["aisle_pitch_mm"],
                      ints["cross_aisle_mm"], depot_aisle, ints["depot_offset_mm"])

    # Class sizes: floor of the bps share, remainder to class C.
    n_sku = ints["n_skus"]
    n_a = n_sku * sku_bps[0] // 10_000
    n_b = n_sku * sku_bps[1] // 10_000
    sku_class = [0] * n_a + [1] * n_b + [2] * (n_sku - n_a - n_b)

    # Locations: (slot node, face) pairs, in node order.
    first_slot = 1 + 2 * n
    loc_node = np.repeat(np.arange(first_slot, first_slot + n * s_max, dtype=np.int64), 2)
    rng = np.random.default_rng(zero_ok["storage_seed"])
    if storage == "random":
        chosen = rng.permutation(n_locations)[:n_sku]
    else:
        dist = nx.single_source_dijkstra_path_length(G, 0, weight="length_mm")
        loc_dist = np.array([dist[int(v)] for v in loc_node], dtype=np.int64)
        # Random tie-break among equidistant locations, then nearest first.
        perm = rng.permutation(n_locations)
        by_dist = perm[np.argsort(loc_dist[perm], kind="stable")][:n_sku]
        chosen = by_dist.copy()
        # Within each class, shuffle which SKU takes which of the class's locations.
        start = 0
        for size in (n_a, n_b, n_sku - n_a - n_b):
            chosen[start:start + size] = rng.permutation(by_dist[start:start + size])
            start += size
    sku_node = [int(v) for v in loc_node[chosen]]
    sku_face = [int(v) for v in (chosen % 2)]

    body: dict[str, Any] = {
        "engine_version": ENGINE_VERSION,
        "geometry": {
            "n_aisles": n, "slots_per_aisle": s_max,
            "slot_pitch_mm": ints["slot_pitch_mm"], "aisle_pitch_mm": ints["aisle_pitch_mm"],
            "cross_aisle_mm": ints["cross_aisle_mm"], "depot": depot,
            "depot_offset_mm": ints["depot_offset_mm"],
        },
        "layout": canonical_layout(G),
        "storage": {
            "policy": storage, "seed": zero_ok["storage_seed"],
            "abc_sku_bps": sku_bps, "abc_demand_bps": demand_bps,
            "sku_class": sku_class, "sku_node": sku_node, "sku_face": sku_face,
        },
        "orders": {
            "type": "poisson", "rate_per_h": zero_ok["order_rate_per_h"],
            "lines": {"type": "geometric", "mean": ints["lines_mean"],
                      "max": ints["max_lines"]},
        },
        "picker": {"speed_mm_s": ints["speed_mm_s"], "pick_time_ms": zero_ok["pick_time_ms"]},
        "congestion": {
            "type": "aisle-entry-windows",
            "congested_aisle_bps": zero_ok["congested_aisle_bps"],
            "period_min_ms": ints["congestion_period_min_ms"],
            "period_max_ms": ints["congestion_period_max_ms"],
            "busy_max_bps": zero_ok["congestion_busy_max_bps"],
        },
        "metering": {
            "schedule": "cu-1",
            "graph_unit_step_cu": zero_ok["graph_unit_step_cu"],
            "pick_cu": zero_ok["pick_cu"],
            "l2_robot_step_cu": zero_ok["l2_robot_step_cu"],
        },
    }
    return TwinSpec(kind="warehouse", name=name, version=version, body=body)
