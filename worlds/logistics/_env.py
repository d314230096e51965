"""The logistics twin as a PettingZoo environment: trucks drive one delivery request edge by edge.

``parallel_env()`` is a `ParallelEnv` (``env()`` its AEC form) named ``logistics_v1``::

    from worlds.logistics import parallel_env
    env = parallel_env()                       # the default spec, max_cycles=200
    obs, infos = env.reset(seed=7)
    while env.agents:
        actions = {a: env.action_space(a).sample(mask=obs[a]["action_mask"])
                   for a in env.agents}
        obs, rewards, terminations, truncations, infos = env.step(actions)

Agents: ``truck_0 .. truck_{n_trucks-1}``, all starting loaded at the request's depot at its
release time. An episode is one delivery request, drawn from the twin's demand model with the
reset seed (or given as ``options={"order": Order, "eval_seed": int}``); travel times are the
twin's seeded ones for that episode's evaluation seed (congestion profile, noise, incidents),
so a truck meets exactly the traffic `LogisticsTwin.evaluate` would.

Action ``Discrete(max_degree + 1)``: ``i < degree`` drives to the ``i``-th neighbour (sorted
ids) of the truck's node; the last action waits ``wait_ms``. The ``action_mask`` marks the
valid moves (waiting is always valid); an invalid or missing action waits. Each truck keeps its
own clock: a step is one edge (or one wait) per truck, arrivals are settled in clock order.
Arriving at an undelivered customer of the request with enough load delivers there
(``service_time_ms``); leaving the depot with a partial load reloads first
(``reload_time_ms``), so the last return costs no reload. Driving a plan's routes this way
takes exactly the time `LogisticsTwin.evaluate` reports for the same evaluation seed, as long
as no truck passes an unserved customer before the stop where the plan serves it (here it
would deliver at once).

Observation ``Dict(observation=Box(0, 1, (8 + 4 * max_degree,), float32), action_mask=Box(0,
1, (max_degree + 1,), int8))``: the truck's position (x, y scaled to the map), load share, at
depot, time of day, peak now, share of customers left, elapsed share of 8 h; then per
neighbour slot: valid, travel time now (congestion profile, scaled to the slowest edge), and
free-flow time from that neighbour to the nearest customer it could still serve and to the
depot (scaled to the network's longest free-flow time).

Reward per step: ``delivery_reward`` per delivery made minus ``time_penalty_per_h`` times the
hours the step took. A truck terminates when every customer is served and it is back at the
depot; every truck is truncated after ``max_cycles`` steps.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from worlds._seeding import episode_sequence
from worlds._twin_cache import shared_twin
from worlds.errors import InvalidPlan
from worlds.logistics._types import Order
from worlds.logistics.spec import logistics_spec
from worlds.logistics.twin import LogisticsTwin
from worlds.spec import TwinSpec

__all__ = ["LogisticsParallelEnv", "env", "parallel_env"]

ENV_NAME = "logistics_v1"
_HOUR_MS = 3_600_000
_HORIZON_MS = 8 * _HOUR_MS
_N_GLOBAL = 8
_N_PER_NEIGHBOUR = 4


class LogisticsParallelEnv(ParallelEnv):
    """Trucks of one logistics twin delivering one request per episode.

    Args:
        spec: a logistics spec (default: ``logistics_spec()``).
        max_cycles: steps before every truck is truncated.
        wait_ms: how long the wait action lasts.
        delivery_reward: reward per delivery.
        time_penalty_per_h: reward lost per hour a truck spends.
        render_mode: only None (no rendering).
    """

    metadata: ClassVar[dict[str, Any]] = {"name": ENV_NAME, "render_modes": [],
                                "is_parallelizable": True}

    def __init__(self, spec: TwinSpec | None = None, max_cycles: int = 200, *,
                 wait_ms: int = 60_000, delivery_reward: float = 1.0,
                 time_penalty_per_h: float = 1.0, render_mode: str | None = None) -> None:
        if render_mode is not None:
            raise InvalidPlan(f"render_mode {render_mode!r} is not supported; pass None")
        if isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or max_cycles < 1:
            raise InvalidPlan(f"max_cycles is {max_cycles!r}; expected an int >= 1")
        self.twin = shared_twin(LogisticsTwin, spec, logistics_spec)
        self.render_mode = render_mode
        self.max_cycles = max_cycles
        self.wait_ms = int(wait_ms)
        self.delivery_reward = float(delivery_reward)
        self.time_penalty_per_h = float(time_penalty_per_h)
        self.metadata = {**type(self).metadata, "twin_id": self.twin.twin_id}  # type: ignore[misc]
        net = self.twin.net
        self._net = net
        self.possible_agents = [f"truck_{i}" for i in range(net.n_trucks)]
        self.agents: list[str] = []
        self.n_moves = net.max_degree
        n_obs = _N_GLOBAL + _N_PER_NEIGHBOUR * self.n_moves
        self.observation_spaces = {
            a: spaces.Dict({
                "observation": spaces.Box(0.0, 1.0, (n_obs,), np.float32),
                "action_mask": spaces.Box(0, 1, (self.n_moves + 1,), np.int8),
            }) for a in self.possible_agents
        }
        self.action_spaces = {a: spaces.Discrete(self.n_moves + 1) for a in self.possible_agents}
        # Scales for the observation.
        self._x0, self._y0 = min(net.x_mm), min(net.y_mm)
        self._xs = max(1, max(net.x_mm) - self._x0)
        self._ys = max(1, max(net.y_mm) - self._y0)
        self._edge_ms_max = max(max(col) for col in net.det_table)
        self._ff_max = max(1, int(net.ff_ms.max()))
        self._order: Order | None = None
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self._xy = [((net.x_mm[u] - self._x0) / self._xs, (net.y_mm[u] - self._y0) / self._ys)
                    for u in range(net.n)]
        self._moves = [tuple((v, net.edge_of[u][v]) for v in net.nbrs[u]) for u in range(net.n)]
        self._pad = [[0.0] * (_N_PER_NEIGHBOUR * (self.n_moves - k))
                     for k in range(self.n_moves + 1)]
        self._masks = []
        for u in range(net.n):
            mask = np.zeros(self.n_moves + 1, dtype=np.int8)
            mask[:len(net.nbrs[u])] = 1
            mask[-1] = 1
            self._masks.append(mask)

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    # --- episode ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Start an episode: one delivery request, every truck loaded at its depot.

        Args:
            seed: seeds the episode, ``twinecon.seeds.twin_sequence(seed, spec.sha256)`` as
                every twin stream: its first child draws the request, its second the
                evaluation seed; None draws fresh entropy from the OS.
            options: ``{"order": Order}`` to drive a given request, ``{"eval_seed": int}``
                for given travel times (each replaces its draw).

        Returns:
            (observations, infos) for every agent.
        """
        order_ss, eval_ss = episode_sequence(seed, self.twin.spec.sha256).spawn(2)
        options = options or {}
        order = options.get("order")
        if order is None:
            rng = np.random.default_rng(order_ss)
            drawn: list[Order] = []
            while not drawn:
                drawn = self.twin.orders(rng, _HOUR_MS)
            order = drawn[0]
        elif not isinstance(order, Order):
            raise InvalidPlan(f"options['order'] is a {type(order).__name__}; expected an Order "
                              "from twin.orders() or twin.make_order()")
        eval_seed = options.get("eval_seed")
        if eval_seed is None:
            eval_seed = int(np.random.default_rng(eval_ss).integers(0, 2**31))
        self._order = order
        self.eval_seed = int(eval_seed)
        self._table = self._net.seed_table(self.eval_seed)
        self._demand = dict(zip(order.lines, order.demand_units, strict=True))
        self._left: set[int] = set(order.lines)
        n = len(self.possible_agents)
        self._node = [order.depot] * n
        self._clock = [order.release_ms] * n
        self._load = [self._net.capacity] * n
        self._delivered = [0] * n
        self._steps = 0
        self.agents = self.possible_agents[:]
        obs = {a: self._observe(i) for i, a in enumerate(self.possible_agents)}
        return obs, {a: self._info(i) for i, a in enumerate(self.possible_agents)}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            return {}, {}, {}, {}, {}
        net, order = self._net, self._request()
        live = [self._index[a] for a in self.agents]
        start = {i: self._clock[i] for i in live}
        for i in live:
            u, t = self._node[i], self._clock[i]
            a = actions.get(self.possible_agents[i])
            moves = self._moves[u]
            if isinstance(a, int | np.integer) and 0 <= a < len(moves):
                v, e = moves[int(a)]
                if u == order.depot and self._load[i] < net.capacity:
                    t += net.reload_ms  # leaving the depot for another trip: reload first
                    self._load[i] = net.capacity
                self._clock[i] = net.traverse(self._table, e, t)
                self._node[i] = v
            else:
                self._clock[i] = t + self.wait_ms
        rewards: dict[str, float] = {}
        for i in sorted(live, key=lambda j: (self._clock[j], j)):
            v, got = self._node[i], 0
            if v in self._left and self._load[i] >= self._demand[v]:
                self._left.discard(v)
                self._load[i] -= self._demand[v]
                self._clock[i] += net.service_ms
                self._delivered[i] += 1
                got = 1
            spent_h = (self._clock[i] - start[i]) / _HOUR_MS
            rewards[self.possible_agents[i]] = (got * self.delivery_reward
                                                - spent_h * self.time_penalty_per_h)
        self._steps += 1
        done = not self._left
        obs, terms, truncs, infos = {}, {}, {}, {}
        for i in live:
            a = self.possible_agents[i]
            obs[a] = self._observe(i)
            terms[a] = done and self._node[i] == order.depot
            truncs[a] = not terms[a] and self._steps >= self.max_cycles
            infos[a] = self._info(i)
        self.agents = [a for a in self.agents if not (terms[a] or truncs[a])]
        return obs, rewards, terms, truncs, infos

    def _request(self) -> Order:
        if self._order is None:
            raise InvalidPlan("the environment has no episode yet; call reset() first")
        return self._order

    def _info(self, i: int) -> dict[str, Any]:
        order = self._request()
        return {"twin_id": self.twin.twin_id, "order_id": order.order_id,
                "node": self._node[i], "elapsed_ms": self._clock[i] - order.release_ms,
                "delivered": self._delivered[i], "customers_left": len(self._left)}

    def _observe(self, i: int) -> dict[str, np.ndarray]:
        net, order = self._net, self._request()
        u, t, load = self._node[i], self._clock[i], self._load[i]
        slot = (t // net.slot_ms) % net.n_slots
        col = net.det_table[slot]
        demand = self._demand
        targets = [c for c in self._left if demand[c] <= load]
        ff, ff_max, depot = net.ff_list, self._ff_max, order.depot
        x, y = self._xy[u]
        feats = [x, y, load / net.capacity, float(u == depot), (t % net.day_ms) / net.day_ms,
                 float(net.peak[slot]), len(self._left) / len(order.lines),
                 min(1.0, (t - order.release_ms) / _HORIZON_MS)]
        for v, e in self._moves[u]:
            row = ff[v]
            near = min([row[c] for c in targets]) if targets else ff_max
            feats += (1.0, min(1.0, col[e] / self._edge_ms_max), near / ff_max,
                      row[depot] / ff_max)
        feats += self._pad[len(self._moves[u])]
        return {"observation": np.array(feats, dtype=np.float32),
                "action_mask": self._masks[u].copy()}

    def render(self) -> None:
        return None

    def close(self) -> None:
        return None


def parallel_env(spec: TwinSpec | None = None, max_cycles: int = 200,
                 **kw: Any) -> LogisticsParallelEnv:
    """The parallel environment (see the module docstring for its spaces and rules)."""
    return LogisticsParallelEnv(spec, max_cycles, **kw)


def env(spec: TwinSpec | None = None, max_cycles: int = 200, **kw: Any) -> AECEnv:
    """The AEC environment: `parallel_env` through `parallel_to_aec`, with PettingZoo's
    out-of-bounds and order-enforcing wrappers."""
    aec = parallel_to_aec_wrapper(parallel_env(spec, max_cycles, **kw))
    aec = wrappers.AssertOutOfBoundsWrapper(aec)
    return wrappers.OrderEnforcingWrapper(aec)
