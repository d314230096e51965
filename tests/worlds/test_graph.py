"""Tests of worlds.graph: the numpy Floyd-Warshall against a plain Python loop, ties included."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from worlds.graph import UNREACHABLE, all_pairs, shortest_path, weight_matrix


def _reference(weight: list[list[int]]) -> tuple[list[list[int]], list[list[int]]]:
    """Textbook Floyd-Warshall with the documented tie rule: k in increasing id, replace only
    on a strictly shorter path, the predecessor of j through k is k's predecessor of j."""
    n = len(weight)
    dist = [[0 if i == j else (weight[i][j] or UNREACHABLE) for j in range(n)] for i in range(n)]
    pred = [[i if i == j or weight[i][j] else -1 for j in range(n)] for i in range(n)]
    for k in range(n):
        for i in range(n):
            for j in range(n):
                if dist[i][k] + dist[k][j] < dist[i][j]:
                    dist[i][j] = dist[i][k] + dist[k][j]
                    pred[i][j] = pred[k][j]
    return dist, pred


@st.composite
def _graphs(draw: st.DrawFn) -> np.ndarray:
    """Small graphs with weights 1..3 (many equally short paths), directed or not, sometimes
    disconnected."""
    n = draw(st.integers(1, 9))
    directed = draw(st.booleans())
    cells = draw(st.lists(st.integers(0, 3), min_size=n * n, max_size=n * n))
    w = np.array(cells, dtype=np.int64).reshape(n, n)
    np.fill_diagonal(w, 0)
    if not directed:
        w = np.triu(w) + np.triu(w).T
    return w


@settings(max_examples=300, deadline=None)
@given(_graphs())
def test_all_pairs_matches_the_plain_loop_exactly(w: np.ndarray) -> None:
    """Distances and predecessors (so which of several shortest paths is taken) are those of
    the plain loop, bit for bit; an unreachable pair is >= UNREACHABLE with predecessor -1."""
    dist, pred = all_pairs(w)
    ref_dist, ref_pred = _reference(w.tolist())
    assert dist.dtype == pred.dtype == np.int64
    reachable = np.array(ref_dist) < UNREACHABLE
    assert (dist[reachable] == np.array(ref_dist)[reachable]).all()
    assert (dist[~reachable] >= UNREACHABLE).all()
    assert pred.tolist() == ref_pred


@settings(max_examples=100, deadline=None)
@given(_graphs())
def test_shortest_path_walks_edges_and_has_the_shortest_length(w: np.ndarray) -> None:
    """Every path read off pred runs over edges from u to v and is exactly dist[u, v] long."""
    dist, pred = all_pairs(w)
    n = len(w)
    for u in range(n):
        for v in range(n):
            if dist[u, v] >= UNREACHABLE:
                continue
            path = shortest_path(pred, u, v)
            assert path[0] == u and path[-1] == v
            assert sum(int(w[a, b]) for a, b in itertools.pairwise(path)) == dist[u, v]
            assert all(w[a, b] > 0 for a, b in itertools.pairwise(path))


def test_ties_keep_the_path_through_the_lower_node() -> None:
    """On a square 0-1-3 / 0-2-3 with equal sides, 0 -> 3 goes through node 1."""
    w = weight_matrix(4, eu=[0, 0, 1, 2], ev=[1, 2, 3, 3], w=[1, 1, 1, 1])
    dist, pred = all_pairs(w)
    assert dist[0, 3] == 2 and shortest_path(pred, 0, 3) == [0, 1, 3]
    assert shortest_path(pred, 3, 0) == [3, 1, 0]


def test_weight_matrix_is_symmetric_with_zero_for_no_edge() -> None:
    """An undirected edge list becomes a symmetric matrix; absent edges are 0."""
    m = weight_matrix(3, eu=[0], ev=[2], w=[7])
    assert m.tolist() == [[0, 0, 7], [0, 0, 0], [7, 0, 0]]
