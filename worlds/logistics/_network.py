"""The road network's time-dependent travel model, precomputed once per twin.

Time is integer ms of the day (it wraps every ``day_ms``). An edge's travel time depends on
its slot: in a slot the edge is driven at a constant speed, and a traversal that crosses a slot
boundary carries the fraction already driven into the next slot (Ichoua-style integration),
so a later departure never arrives earlier (up to 1 ms of rounding). A *row* is an edge's
full-traversal time per slot (a `SlotTable`); the deterministic table (congestion profile only)
is what the solvers plan with, a seeded table (profile plus noise and incidents) what
evaluation and the environment drive on. A seeded table draws slot ``s`` from
``SeedSequence([seed, int(spec.sha256[:16], 16)], spawn_key=(s,))`` when a truck first
drives in that slot, so an evaluation pays only for the slots it uses.

Static shortest paths for every congestion regime (off-peak, peak) are precomputed with
Floyd-Warshall, so a leg that stays inside one regime window needs no search; other legs use
a time-dependent A* whose heuristic is the free-flow time (a lower bound in every slot).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from worlds.errors import InvalidSpec
from worlds.graph import UNREACHABLE, all_pairs, shortest_path, weight_matrix
from worlds.spec import graph_from_layout

__all__ = ["Network"]

_FRACTION = 1 << 40  # denominator of the remaining-edge fraction across slot boundaries
_SEED_CACHE_SIZE = 8

Traverse = Callable[["SlotTable", int, int], int]


class SlotTable(list):
    """Full-traversal ms per slot and edge, ``table[slot][edge]``; a slot's column is
    computed on first use (``None`` until then) by the fill function."""

    __slots__ = ("_fill",)

    def __init__(self, columns: list[list[int] | None],
                 fill: Callable[[int], list[int]] | None = None) -> None:
        super().__init__(columns)
        self._fill = fill

    def fill(self, s: int) -> list[int]:
        """Compute, store and return the column of slot `s`."""
        if self._fill is None:
            raise RuntimeError(f"slot {s} of a complete table is missing")
        col = self._fill(s)
        self[s] = col
        return col


def _make_traverse(slot_ms: int, n_slots: int) -> Traverse:
    """Return ``traverse(table, edge, t) -> arrival_ms`` for one edge entered at time `t`."""

    def traverse(table: SlotTable, e: int, t: int) -> int:
        k = t // slot_ms
        s = k % n_slots
        T = (table[s] or table.fill(s))[e]
        b = (k + 1) * slot_ms
        if t + T <= b:
            return t + T
        rem = _FRACTION
        need = T
        while True:
            # Merge following slots with the same time, so a constant speed stays exact.
            while t + need > b:
                s_next = (s + 1) % n_slots
                if (table[s_next] or table.fill(s_next))[e] != T:
                    break
                b += slot_ms
                s = s_next
            if t + need <= b:
                return t + need
            rem -= (b - t) * _FRACTION // T
            t = b
            s = (s + 1) % n_slots
            T = (table[s] or table.fill(s))[e]
            b = t + slot_ms
            need = -(-rem * T // _FRACTION)

    return traverse


class Network:
    """Arrays and travel-time functions of one road network (built from a spec body).

    Attributes:
        graph: the road network as an `nx.Graph` (for inspection; the hot paths use lists).
        n: number of nodes (ids 0..n-1).
        depots: depot node ids, sorted.
        customers_by_zone: per depot index, the sorted customer nodes of its zone.
        nbrs: per node, sorted neighbour ids.
        edge_of: per node, ``{neighbour: edge id}``.
        length_mm: (n_edges,) edge lengths.
        x_mm, y_mm: node coordinates.
        ff_ms: (n, n) int64 free-flow shortest travel times (the off-peak regime).
        dist_mm: (n, n) int64 shortest road distances.
        traverse: ``traverse(table, edge, t) -> arrival``.
        det_table: the deterministic full-traversal times, ``det_table[slot][edge]``.
    """

    def __init__(self, body: dict[str, Any], sha256: str) -> None:
        G = graph_from_layout(body["layout"])
        n = G.number_of_nodes()
        if sorted(G.nodes) != list(range(n)):
            raise InvalidSpec("logistics layout node ids must be 0..n-1; rebuild the spec")
        self.graph = G
        self.n = n
        self.x_mm = [int(G.nodes[v]["x_mm"]) for v in range(n)]
        self.y_mm = [int(G.nodes[v]["y_mm"]) for v in range(n)]
        role = [G.nodes[v]["role"] for v in range(n)]
        zone = [int(G.nodes[v]["zone"]) for v in range(n)]
        self.depots: list[int] = sorted(int(d) for d in body["depots"])
        if [v for v in range(n) if role[v] == "depot"] != self.depots:
            raise InvalidSpec("spec depots do not match the layout's depot nodes; rebuild it")
        self.customers_by_zone = [[v for v in range(n) if role[v] == "customer" and zone[v] == z]
                                  for z in range(len(self.depots))]
        self.is_customer = [r == "customer" for r in role]

        fleet = body["fleet"]
        self.n_trucks = int(fleet["n_trucks"])
        self.capacity = int(fleet["capacity_units"])
        self.service_ms = int(fleet["service_time_ms"])
        self.reload_ms = int(fleet["reload_time_ms"])
        vmax = int(fleet["max_speed_mm_s"])

        edges = sorted((min(u, v), max(u, v), a) for u, v, a in G.edges(data=True))
        self.n_edges = len(edges)
        eu = np.array([e[0] for e in edges], dtype=np.int64)
        ev = np.array([e[1] for e in edges], dtype=np.int64)
        length = np.array([e[2]["length_mm"] for e in edges], dtype=np.int64)
        speed = np.minimum(np.array([e[2]["speed_mm_s"] for e in edges], dtype=np.int64), vmax)
        cls = np.array([e[2]["congestion_class"] for e in edges], dtype=np.int64)
        if (length <= 0).any() or (speed <= 0).any():
            raise InvalidSpec("every edge needs length_mm >= 1 and speed_mm_s >= 1")
        self.length_mm = length.tolist()
        self.edge_of: list[dict[int, int]] = [{} for _ in range(n)]
        for i, (u, v, _) in enumerate(edges):
            self.edge_of[u][v] = i
            self.edge_of[v][u] = i
        self.nbrs = [tuple(sorted(d)) for d in self.edge_of]
        self.max_degree = max(len(nb) for nb in self.nbrs)

        cong = body["congestion"]
        self.day_ms, self.slot_ms = int(cong["day_ms"]), int(cong["slot_ms"])
        self.n_slots = self.day_ms // self.slot_ms
        peak = np.zeros(self.n_slots, dtype=bool)
        for p0, p1 in cong["peak_periods_ms"]:
            peak[p0 // self.slot_ms:p1 // self.slot_ms] = True
        self.peak = peak.tolist()
        slow = np.asarray(cong["peak_slowdown_bps"], dtype=np.int64)
        if len(slow) <= int(cls.max()):
            raise InvalidSpec(f"an edge has congestion class {int(cls.max())} but "
                              f"peak_slowdown_bps has {len(slow)} entries")
        self._noise = (int(cong["noise_max_bps"]), int(cong["incident_bps"]),
                       int(cong["incident_slowdown_bps"]))
        # Slowdown of every (slot, edge) from the profile alone; regime 0 = off-peak.
        self._profile_bps = np.where(peak[:, None], slow[cls][None, :], 0)  # (S, E)
        self._num = length * 1000  # full time = ceil(num * (10000 + bps) / (speed * 10000))
        self._den = speed * 10_000
        self._twin_key = int(sha256[:16], 16)
        self.traverse = _make_traverse(self.slot_ms, self.n_slots)
        det = self._times(self._profile_bps)  # (S, E)
        self.det_table = SlotTable(det.tolist())
        self.regime = [int(p) for p in peak]
        # Slots until the regime changes (a run of identical regimes, cyclic).
        S = self.n_slots
        self._run_end_slot = [0] * S
        for s in range(S):
            k = 1
            while k <= S and self.regime[(s + k) % S] == self.regime[s]:
                k += 1
            self._run_end_slot[s] = k
        regimes = sorted(set(self.regime))
        self._reg_dist: dict[int, np.ndarray] = {}
        self._reg_pred: dict[int, np.ndarray] = {}
        self._reg_dist_list: dict[int, list[list[int]]] = {}
        for r in regimes:
            s = self.regime.index(r)
            dist, pred = all_pairs(weight_matrix(n, eu, ev, det[s]))
            if (dist >= UNREACHABLE).any():
                raise InvalidSpec("logistics layout is not connected; every node must be "
                                  "reachable")
            self._reg_dist[r], self._reg_pred[r] = dist, pred
            self._reg_dist_list[r] = dist.tolist()
        self.ff_ms, self._ff_pred = all_pairs(weight_matrix(n, eu, ev, -(-self._num // speed)))
        self.ff_list: list[list[int]] = self.ff_ms.tolist()
        self.dist_mm, _ = all_pairs(weight_matrix(n, eu, ev, length))
        self._paths: dict[tuple[int, int, int], tuple[int, ...]] = {}
        self._seed_tables: dict[int, SlotTable] = {}

    # --- travel times -----------------------------------------------------------------------
    def _times(self, bps: np.ndarray) -> np.ndarray:
        """Full-traversal ms for slowdowns in bps of shape (..., E)."""
        return -(-(self._num * (10_000 + bps)) // self._den)

    def seed_table(self, seed: int) -> SlotTable:
        """The seeded travel times of one evaluation seed (slots drawn lazily, cached)."""
        table = self._seed_tables.get(seed)
        if table is not None:
            return table
        noise_max, inc_bps, inc_slow = self._noise
        entropy = [seed, self._twin_key]
        profile, E = self._profile_bps, self.n_edges

        def fill(s: int) -> list[int]:
            ss = np.random.SeedSequence(entropy, spawn_key=(s,))
            draw = np.random.Generator(np.random.PCG64(ss)).integers(0, 10_000, size=(2, E))
            bps = profile[s] + draw[0] * (noise_max + 1) // 10_000
            bps += np.where(draw[1] < inc_bps, inc_slow, 0)
            return self._times(bps).tolist()

        table = SlotTable([None] * self.n_slots, fill)
        if len(self._seed_tables) >= _SEED_CACHE_SIZE:
            self._seed_tables.pop(next(iter(self._seed_tables)))
        self._seed_tables[seed] = table
        return table

    def regime_ms(self, t: int) -> np.ndarray:
        """(n, n) int64 shortest travel times under the congestion regime in force at `t`."""
        return self._reg_dist[self.regime[(t // self.slot_ms) % self.n_slots]]

    # --- paths ------------------------------------------------------------------------------
    def static_path(self, u: int, v: int, regime: int = -1) -> tuple[int, ...]:
        """Shortest path u -> v by free-flow time (regime -1) or a regime's profile times."""
        key = (regime, u, v)
        path = self._paths.get(key)
        if path is None:
            pred = self._ff_pred if regime < 0 else self._reg_pred[regime]
            path = tuple(shortest_path(pred, u, v))
            self._paths[key] = path
        return path

    def td_path(self, u: int, v: int, t: int) -> tuple[tuple[int, ...], int, int]:
        """Fastest path u -> v leaving at `t` on the deterministic table.

        Returns:
            (path, arrival_ms, relaxations): relaxations is 0 when a precomputed regime path
            provably stays inside its regime window.
        """
        s = (t // self.slot_ms) % self.n_slots
        r = self.regime[s]
        window_end = (t // self.slot_ms + self._run_end_slot[s]) * self.slot_ms
        d = self._reg_dist_list[r][u][v]
        if t + d <= window_end:
            return self.static_path(u, v, r), t + d, 0
        return self._td_astar(u, v, t, self.det_table)

    def _td_astar(self, src: int, dst: int, t0: int,
                  table: SlotTable) -> tuple[tuple[int, ...], int, int]:
        h = self.ff_ms[:, dst].tolist()
        best = [UNREACHABLE] * self.n
        pred = [-1] * self.n
        best[src] = t0
        heap = [(t0 + h[src], t0, src)]
        traverse, edge_of = self.traverse, self.edge_of
        relaxed = 0
        while heap:
            _, t, u = heapq.heappop(heap)
            if u == dst:
                break
            if t > best[u]:
                continue
            for w, e in edge_of[u].items():
                relaxed += 1
                a = traverse(table, e, t)
                if a < best[w]:
                    best[w] = a
                    pred[w] = u
                    heapq.heappush(heap, (a + h[w], a, w))
        out = [dst]
        while out[-1] != src:
            out.append(pred[out[-1]])
        return tuple(reversed(out)), best[dst], relaxed

    # --- driving ----------------------------------------------------------------------------
    def drive(self, route: Sequence[int], drops: Sequence[int], table: SlotTable,
              t0: int) -> tuple[int, int]:
        """Drive one valid route from `t0`; return (arrival back at the depot, distance_mm).

        A delivery at a drop position costs ``service_ms``; an intermediate visit of the
        route's depot after at least one delivery costs ``reload_ms`` (a new trip starts).
        """
        traverse, edge_of, length = self.traverse, self.edge_of, self.length_mm
        depot = route[0]
        last = len(route) - 1
        drop_set = set(drops)
        t = t0
        dist = 0
        carried = False
        u = depot
        for i in range(1, last + 1):
            v = route[i]
            e = edge_of[u][v]
            t = traverse(table, e, t)
            dist += length[e]
            if i in drop_set:
                t += self.service_ms
                carried = True
            elif v == depot and carried and i < last:
                t += self.reload_ms
                carried = False
            u = v
        return t, dist

