"""All-pairs shortest paths of a small integer-weighted graph, predecessors included.

The twins precompute every shortest distance and path once (Floyd-Warshall over numpy
arrays), so solving and evaluating never search a graph. The predecessor matrix decides
which of several equally short paths a route takes, so it is part of a twin's results: the
rule is fixed here, once, and tested against a plain Python loop (`tests/worlds/test_graph.py`)::

    w = weight_matrix(3, eu=[0, 1], ev=[1, 2], w=[5, 7])    # the path 0 - 1 - 2
    dist, pred = all_pairs(w)                                # dist[0, 2] == 12
    shortest_path(pred, 0, 2)                                # [0, 1, 2]

Tie-breaking: intermediate nodes are tried in increasing id, and a path through node ``k``
replaces the best so far only if it is strictly shorter; so among equally short paths the one
found first (direct edges, then paths through lower ids) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["UNREACHABLE", "all_pairs", "shortest_path", "weight_matrix"]

#: The distance of a pair with no path (and of a missing edge in a weight matrix's
#: distances): far above any real distance, and twice it still fits in int64.
UNREACHABLE = 1 << 50


def weight_matrix(n: int, eu: Sequence[int] | np.ndarray, ev: Sequence[int] | np.ndarray,
                  w: Sequence[int] | np.ndarray) -> np.ndarray:
    """The (n, n) int64 weight matrix of an undirected edge list (0 where there is no edge).

    Args:
        n: number of nodes, ids 0..n-1.
        eu, ev: (n_edges,) the two ends of each edge.
        w: (n_edges,) int weights, each >= 1.

    Returns:
        (n, n) int64, symmetric: ``m[u, v] == m[v, u] == w`` for each edge.
    """
    m = np.zeros((n, n), dtype=np.int64)
    m[eu, ev] = w
    m[ev, eu] = w
    return m


def all_pairs(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Floyd-Warshall over a weight matrix.

    Args:
        weight: (n, n) int weights, ``weight[i, j]`` the edge i -> j, 0 for no edge.

    Returns:
        dist: (n, n) int64 shortest distances, ``>= UNREACHABLE`` where there is no path.
        pred: (n, n) int64, ``pred[i, j]`` the node before j on the chosen shortest
            i -> j path (``pred[i, i] == i``; -1 where there is no path).
    """
    weight = np.asarray(weight, dtype=np.int64)
    n = len(weight)
    edge = weight > 0
    dist = np.where(edge, weight, np.int64(UNREACHABLE))
    np.fill_diagonal(dist, 0)
    pred = np.where(edge, np.arange(n, dtype=np.int64)[:, None], np.int64(-1))
    np.fill_diagonal(pred, np.arange(n))
    for k in range(n):
        via = dist[:, k:k + 1] + dist[k:k + 1, :]
        better = via < dist
        dist = np.where(better, via, dist)
        pred = np.where(better, pred[k:k + 1, :], pred)
    return dist, pred


def shortest_path(pred: np.ndarray, u: int, v: int) -> list[int]:
    """The chosen shortest path u -> v, both ends included, read off `all_pairs`' `pred`.

    Args:
        pred: (n, n) predecessors from `all_pairs` (only row `u` is read).
        u, v: the ends; v must be reachable from u.
    """
    row = pred[u]
    out = [v]
    while out[-1] != u:
        out.append(int(row[out[-1]]))
    out.reverse()
    return out
