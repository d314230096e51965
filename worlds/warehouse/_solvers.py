"""Reference pick-routing heuristics: they choose the stops, the twin expands them into walks.

Each solver returns a list of *stops* (node ids, starting and ending at the depot); the twin
joins consecutive stops by precomputed shortest paths. The stops are chosen so that each
shortest-path leg follows the intended aisle (front-cross to back-cross of one aisle is
always shortest straight through it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Geometry", "largest_gap", "s_shape", "tsp"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Geometry:
    """Per-twin precomputed arrays the solvers read.

    Attributes:
        depot: depot node id.
        node_aisle: (n_nodes,) aisle index of each node, -1 for the depot.
        node_y_mm: (n_nodes,) y coordinate.
        front: (n_aisles,) front cross node of each aisle.
        back: (n_aisles,) back cross node of each aisle.
        dist_mm: (n_nodes, n_nodes) shortest-path distances.
    """

    depot: int
    node_aisle: np.ndarray
    node_y_mm: np.ndarray
    front: tuple[int, ...]
    back: tuple[int, ...]
    dist_mm: np.ndarray


def _by_aisle(geo: Geometry, picks: tuple[int, ...]) -> dict[int, list[int]]:
    """Group pick nodes by aisle, each list sorted front to back."""
    groups: dict[int, list[int]] = {}
    for p in picks:
        groups.setdefault(int(geo.node_aisle[p]), []).append(p)
    for nodes in groups.values():
        nodes.sort(key=lambda v: int(geo.node_y_mm[v]))
    return dict(sorted(groups.items()))


def s_shape(geo: Geometry, picks: tuple[int, ...]) -> list[int]:
    """S-shape (traversal): traverse every aisle holding a pick, alternating direction.

    Aisles are visited left to right. With an odd number of pick aisles the last one is
    entered from the front and left from the front after its deepest pick.
    """
    groups = _by_aisle(geo, picks)
    stops = [geo.depot]
    aisles = list(groups)
    for i, a in enumerate(aisles):
        if i % 2 == 0:
            if i == len(aisles) - 1:
                stops += [geo.front[a], groups[a][-1], geo.front[a]]
            else:
                stops += [geo.front[a], geo.back[a]]
        else:
            stops += [geo.back[a], geo.front[a]]
    stops.append(geo.depot)
    return stops


def largest_gap(geo: Geometry, picks: tuple[int, ...]) -> list[int]:
    """Largest gap (Roodbergen): skip the largest gap of every intermediate aisle.

    The leftmost and rightmost pick aisles are traversed; along the back cross aisle each
    intermediate aisle is entered from the back up to its largest gap and left the same way;
    along the front cross aisle on the way back, the same from the front. One pick aisle
    degenerates to the return policy.
    """
    groups = _by_aisle(geo, picks)
    aisles = list(groups)
    if not aisles:
        return [geo.depot]
    if len(aisles) == 1:
        a = aisles[0]
        return [geo.depot, geo.front[a], groups[a][-1], geo.front[a], geo.depot]
    first, last, middle = aisles[0], aisles[-1], aisles[1:-1]
    # For each intermediate aisle, split its picks into the front part and the back part.
    front_part: dict[int, list[int]] = {}
    back_part: dict[int, list[int]] = {}
    for a in middle:
        nodes = groups[a]
        ys = [int(geo.node_y_mm[geo.front[a]])] + [int(geo.node_y_mm[v]) for v in nodes]
        ys.append(int(geo.node_y_mm[geo.back[a]]))
        gaps = [ys[i + 1] - ys[i] for i in range(len(ys) - 1)]
        g = gaps.index(max(gaps))  # picks before gap g come from the front, after from back
        front_part[a], back_part[a] = nodes[:g], nodes[g:]
    stops = [geo.depot, geo.front[first], geo.back[first]]
    for a in middle:
        if back_part[a]:
            stops += [geo.back[a], back_part[a][0], geo.back[a]]
    stops += [geo.back[last], geo.front[last]]
    for a in reversed(middle):
        if front_part[a]:
            stops += [geo.front[a], front_part[a][-1], geo.front[a]]
    stops.append(geo.depot)
    return stops


_MASKS: dict[int, np.ndarray] = {}


def _two_opt(d: np.ndarray, tour: np.ndarray) -> np.ndarray:
    """Best-improvement 2-opt on a closed tour (tour[0] == tour[-1] fixed).

    Args:
        d: (m, m) symmetric int64 distances among the stops.
        tour: (m + 1,) local stop indices, closed.

    Returns:
        The improved closed tour; its length strictly decreases each move, so this ends.
    """
    m = len(tour) - 1
    if m < 4:
        return tour
    mask = _MASKS.get(m)
    if mask is None:
        mask = _MASKS[m] = ~np.triu(np.ones((m, m), dtype=bool), k=2)
    while True:
        a, b = tour[:-1], tour[1:]
        de = d[a, b]
        delta = d[a[:, None], a[None, :]] + d[b[:, None], b[None, :]] - de[:, None] - de[None, :]
        delta[mask] = 0
        idx = int(delta.argmin())
        if delta.flat[idx] >= 0:
            return tour
        k, j = divmod(idx, m)
        tour[k + 1:j + 1] = tour[k + 1:j + 1][::-1].copy()


def tsp(geo: Geometry, picks: tuple[int, ...], rng: np.random.Generator | None) -> list[int]:
    """TSP over the shortest-path metric among depot and picks: start tour, then 2-opt.

    Without `rng` the start tour is nearest-neighbour from the depot (deterministic); with
    `rng` it is a random permutation, so repeated calls give different local optima.
    """
    stops = np.array((geo.depot, *picks), dtype=np.int64)
    m = len(stops)
    if m == 1:
        return [geo.depot]
    d = geo.dist_mm[np.ix_(stops, stops)]
    if rng is None:
        order = [0]
        left = list(range(1, m))
        while left:
            row = d[order[-1]]
            nxt = min(left, key=lambda j: (int(row[j]), j))
            order.append(nxt)
            left.remove(nxt)
    else:
        order = [0, *(1 + rng.permutation(m - 1)).tolist()]
    tour = _two_opt(d, np.array([*order, 0], dtype=np.int64))
    return [int(v) for v in stops[tour]]
