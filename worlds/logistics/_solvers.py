"""Trip-building heuristics: which truck serves which customers in which order.

They work on a small symmetric cost matrix ``cost`` over ``[depot, customer 1, ..., customer
k]`` (integer ms) and return *trips*: lists of customer indices 1..k, each within capacity.
The twin assigns trips to trucks and expands every leg into a road path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["angles", "assign_lpt", "chunk", "savings", "sweep", "trip_cost", "two_opt"]

Trip = list[int]


def trip_cost(trip: Sequence[int], cost: Sequence[Sequence[int]]) -> int:
    """Travel cost depot -> trip -> depot."""
    total, u = 0, 0
    for v in trip:
        total += cost[u][v]
        u = v
    return total + cost[u][0]


def chunk(seq: Sequence[int], demand: Sequence[int], capacity: int,
          target: int | None = None) -> list[Trip]:
    """Split `seq` into consecutive trips, closing a trip before it exceeds the capacity
    (or `target` units, if lower)."""
    limit = capacity if target is None else max(1, min(capacity, target))
    trips: list[Trip] = []
    cur: Trip = []
    load = 0
    for c in seq:
        if cur and load + demand[c] > limit:
            trips.append(cur)
            cur, load = [], 0
        cur.append(c)
        load += demand[c]
    if cur:
        trips.append(cur)
    return trips


def savings(cost: Sequence[Sequence[int]], demand: Sequence[int], capacity: int, *,
            min_trips: int = 1, rng: np.random.Generator | None = None) -> list[Trip]:
    """Clarke-Wright parallel savings: merge trips end to end by decreasing saving
    ``c(0,i) + c(0,j) - c(i,j)`` while the capacity allows and more than `min_trips` remain.

    Args:
        cost: (k+1, k+1) costs, index 0 the depot.
        demand: (k+1,) units, demand[0] unused.
        capacity: truck capacity.
        min_trips: stop merging at this many trips (keeps trucks in parallel).
        rng: if given, savings are scaled by random factors in [0.85, 1.15] (diversity).
    """
    k = len(cost) - 1
    pairs = []
    for i in range(1, k + 1):
        for j in range(i + 1, k + 1):
            s = cost[0][i] + cost[0][j] - cost[i][j]
            pairs.append((s, i, j))
    if rng is not None and pairs:
        f = rng.uniform(0.85, 1.15, size=len(pairs)).tolist()
        pairs = [(s * x, i, j) for (s, i, j), x in zip(pairs, f, strict=True)]
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    trips: dict[int, Trip] = {i: [i] for i in range(1, k + 1)}
    trip_of = list(range(k + 1))
    load = list(demand)
    for s, i, j in pairs:
        if s <= 0 or len(trips) <= min_trips:
            break
        ti, tj = trip_of[i], trip_of[j]
        if ti == tj or load[ti] + load[tj] > capacity:
            continue
        a, b = trips[ti], trips[tj]
        if a[-1] == i and b[0] == j:
            merged = a + b
        elif a[0] == i and b[-1] == j:
            merged = b + a
        elif a[-1] == i and b[-1] == j:
            merged = a + b[::-1]
        elif a[0] == i and b[0] == j:
            merged = a[::-1] + b
        else:
            continue
        trips[ti] = merged
        load[ti] += load[tj]
        for c in b:
            trip_of[c] = ti
        del trips[tj]
    return [trips[t] for t in sorted(trips)]


def sweep(angle: Sequence[float], demand: Sequence[int], capacity: int, n_groups: int,
          offset: int) -> list[Trip]:
    """Sweep: customers by polar angle around the depot, starting at the `offset`-th, cut into
    consecutive trips of about ``total / n_groups`` units (never over capacity)."""
    order = sorted(range(1, len(angle)), key=lambda c: (angle[c], c))
    if not order:
        return []
    offset %= len(order)
    order = order[offset:] + order[:offset]
    total = sum(demand[c] for c in order)
    return chunk(order, demand, capacity, target=-(-total // max(1, n_groups)))


def two_opt(trip: Trip, cost: Sequence[Sequence[int]]) -> Trip:
    """Improve a trip's order with 2-opt moves (first improvement) until none helps."""
    tour = [0, *trip, 0]
    m = len(tour)
    improved = True
    while improved:
        improved = False
        for i in range(1, m - 2):
            a, b = tour[i - 1], tour[i]
            for j in range(i + 1, m - 1):
                c, d = tour[j], tour[j + 1]
                if cost[a][c] + cost[b][d] < cost[a][b] + cost[c][d]:
                    tour[i:j + 1] = tour[i:j + 1][::-1]
                    improved = True
                    a, b = tour[i - 1], tour[i]
    return tour[1:-1]


def assign_lpt(trips: list[Trip], cost: Sequence[Sequence[int]], n_trucks: int,
               per_trip_ms: Sequence[int]) -> tuple[list[list[Trip]], int]:
    """Longest trip first to the least-loaded truck.

    Args:
        trips: the trips.
        cost: the cost matrix.
        n_trucks: trucks available.
        per_trip_ms: (len(trips),) fixed time of each trip besides travel (service, reload).

    Returns:
        (trips per truck, estimated makespan in ms).
    """
    dur = [trip_cost(t, cost) + per_trip_ms[i] for i, t in enumerate(trips)]
    order = sorted(range(len(trips)), key=lambda i: (-dur[i], i))
    busy = [0] * n_trucks
    out: list[list[Trip]] = [[] for _ in range(n_trucks)]
    for i in order:
        truck = min(range(n_trucks), key=lambda j: (busy[j], j))
        busy[truck] += dur[i]
        out[truck].append(trips[i])
    return [t for t in out if t], max(busy)


def angles(xs: Sequence[int], ys: Sequence[int], x0: int, y0: int) -> list[float]:
    """Polar angle of each point around (x0, y0) (a float: only used for ordering)."""
    return [math.atan2(y - y0, x - x0) for x, y in zip(xs, ys, strict=True)]
