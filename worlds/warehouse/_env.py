"""The warehouse twin as a PettingZoo environment: picking robots walking the L1 layout graph.

``warehouse_v1``. Use it like any PettingZoo environment::

    from worlds.warehouse import parallel_env
    env = parallel_env(n_robots=4, max_cycles=500)        # default spec: warehouse_spec()
    obs, infos = env.reset(seed=7)
    while env.agents:
        actions = {a: policy(obs[a]) for a in env.agents}  # respect obs[a]["action_mask"]
        obs, rewards, terminations, truncations, infos = env.step(actions)

``env(**kw)`` is the same game as an AEC environment (`parallel_to_aec`, with PettingZoo's
out-of-bounds and order-enforcing wrappers).

**Agents** ``robot_0 .. robot_{n-1}``, all starting at the depot (which holds any number of
robots; every other node holds one). Each robot is assigned an order at reset and the next one
when it brings a finished order back to the depot; orders come from the twin's own order
process (`WarehouseTwin.orders`), drawn from the reset seed.

**Actions** ``Discrete(6)``: 0 wait, 1 north (+y), 2 south (-y), 3 east (+x), 4 west (-x),
5 pick. A move follows the layout edge in that direction; pick takes every line of the
robot's order stored at its node. The observation's ``action_mask`` marks the legal ones
(wait is always legal); an illegal action, or a missing one, is a wait (``infos[a]["invalid"]``
counts them).

**Conflicts** are resolved deterministically: robots move in a priority order that rotates by
one every cycle; a robot moves if its target node is free at its turn, and blocked robots
retry after the others have moved, so a robot can follow another into the node it leaves but
two robots never swap or share a node (``infos[a]["blocked"]`` counts refusals).

**Rewards** per cycle: ``pick_reward`` per order line picked, ``order_reward`` per order
returned to the depot, minus ``time_cost_per_s`` times the action's duration in the twin's
L1 time model (edge travel time at the picker speed, ``pick_time_ms`` per line, ``wait_ms`` for
a wait or a blocked move). A cycle is one decision per robot (a semi-MDP step), so robots'
clocks drift apart; ``infos[a]["twin_time_ms"]`` is the robot's own clock and
``infos[a]["cu"]`` the compute units its cycles cost at L1 metering
(``graph_unit_step_cu`` per cycle, ``pick_cu`` per pick node).

**Observations** ``Dict(observation=Box(0, 1, (11 + 2 (n - 1),), float32),
action_mask=Box(0, 1, (6,), int8))``; ``observation`` holds, scaled to [0, 1]: own x, y;
target x, y (the nearest remaining pick by walking distance, else the depot); distance to it;
remaining pick nodes / ``max_lines``; share of cycles left; for each direction N, S, E, W
whether that move gets closer to the target; then the other robots' x, y.

**Episodes** never terminate (orders keep coming); all robots are truncated after
``max_cycles`` cycles. Same spec, arguments and reset seed: the same trajectory, bit for bit.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec_wrapper

from worlds._seeding import episode_sequence
from worlds._twin_cache import shared_twin
from worlds.errors import InvalidPlan, InvalidSpec
from worlds.spec import TwinSpec
from worlds.warehouse._types import Order
from worlds.warehouse.spec import warehouse_spec
from worlds.warehouse.twin import WarehouseTwin

__all__ = ["ACTIONS", "WarehouseParallelEnv", "env", "parallel_env"]

NAME = "warehouse_v1"
ACTIONS: tuple[str, ...] = ("wait", "north", "south", "east", "west", "pick")
WAIT, NORTH, SOUTH, EAST, WEST, PICK = range(6)
_DIRS = (NORTH, SOUTH, EAST, WEST)
_ORDER_TICK_MS = 3_600_000


class WarehouseParallelEnv(ParallelEnv):
    """Robots picking orders on the warehouse layout graph (see the module docstring).

    Args:
        spec: a warehouse spec; None for `warehouse_spec()`.
        n_robots: number of robots (agents).
        max_cycles: cycles before every robot is truncated.
        pick_reward: reward per order line picked.
        order_reward: reward per order returned to the depot.
        time_cost_per_s: reward subtracted per second of twin time an action takes.
        wait_ms: twin time of a wait or a blocked move.
        render_mode: only None (no rendering).

    Raises:
        InvalidSpec: not a warehouse spec, or a layout edge that is not axis-aligned.
        InvalidPlan: a parameter out of range.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 (PettingZoo's convention: a plain class dict)
        "name": NAME, "render_modes": [], "is_parallelizable": True,
    }

    def __init__(self, spec: TwinSpec | None = None, n_robots: int = 4, max_cycles: int = 500,
                 *, pick_reward: float = 1.0, order_reward: float = 5.0,
                 time_cost_per_s: float = 0.01, wait_ms: int = 1000,
                 render_mode: str | None = None) -> None:
        for name, value in (("n_robots", n_robots), ("max_cycles", max_cycles),
                            ("wait_ms", wait_ms)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidPlan(f"{name} is {value!r}; expected an int >= 1")
        if render_mode is not None:
            raise InvalidPlan(f"render_mode is {render_mode!r}; {NAME} does not render: "
                              "pass render_mode=None")
        twin = shared_twin(WarehouseTwin, spec, warehouse_spec)
        self.twin = twin
        self.render_mode = render_mode
        self.max_cycles = max_cycles
        self.metadata = {**type(self).metadata, "twin_id": twin.twin_id}
        self.possible_agents = [f"robot_{i}" for i in range(n_robots)]
        self.agents: list[str] = []
        self._n = n_robots
        self._pick_reward = float(pick_reward)
        self._order_reward = float(order_reward)
        self._cost_ms = float(time_cost_per_s) / 1000
        self._wait_ms = wait_ms
        body = twin.spec.body
        self._pick_ms = int(body["picker"]["pick_time_ms"])
        self._max_lines = int(body["orders"]["lines"]["max"])
        self._step_cu = int(body["metering"]["graph_unit_step_cu"])
        self._pick_cu = int(body["metering"]["pick_cu"])
        self._build_graph(twin)

        self._obs_dim = 11 + 2 * (n_robots - 1)
        self.observation_spaces = {
            a: spaces.Dict({
                "observation": spaces.Box(0.0, 1.0, (self._obs_dim,), np.float32),
                "action_mask": spaces.Box(0, 1, (len(ACTIONS),), np.int8),
            })
            for a in self.possible_agents
        }
        self.action_spaces = {a: spaces.Discrete(len(ACTIONS)) for a in self.possible_agents}
        self._rng: np.random.Generator | None = None
        self._queue: deque[Order] = deque()

    def _build_graph(self, twin: WarehouseTwin) -> None:
        G = twin.graph
        n = G.number_of_nodes()
        xs = [G.nodes[v]["x_mm"] for v in range(n)]
        ys = [G.nodes[v]["y_mm"] for v in range(n)]
        x0, y0 = min(xs), min(ys)
        sx, sy = max(max(xs) - x0, 1), max(max(ys) - y0, 1)
        self._nx = [(x - x0) / sx for x in xs]
        self._ny = [(y - y0) / sy for y in ys]
        nbr = [[-1] * 6 for _ in range(n)]
        for u, v in G.edges:
            for a, b in ((u, v), (v, u)):
                dx, dy = xs[b] - xs[a], ys[b] - ys[a]
                if dx and dy:
                    raise InvalidSpec(f"layout edge ({a}, {b}) is not axis-aligned; {NAME} "
                                      "moves robots north, south, east or west only")
                d = (NORTH if dy > 0 else SOUTH) if dy else (EAST if dx > 0 else WEST)
                if nbr[a][d] >= 0:
                    raise InvalidSpec(f"node {a} has two neighbours to the {ACTIONS[d]}; "
                                      f"{NAME} needs at most one per direction")
                nbr[a][d] = b
        self._nbr = nbr
        dist = twin.distances_mm()
        self._dist = dist.tolist()
        self._dist_scale = 1.0 / max(int(dist.max()), 1)
        self._travel_ms = twin.travel_times_ms().tolist()
        self._depot = twin.depot
        # Static part of the mask per node: wait always, the four moves where an edge exists.
        self._move_mask = [[1] + [int(nbr[v][d] >= 0) for d in _DIRS] for v in range(n)]

    # --- PettingZoo surface -----------------------------------------------------------------
    def observation_space(self, agent: str) -> spaces.Space:
        """The agent's observation space (the same object every call)."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        """The agent's action space (the same object every call)."""
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """Start an episode: all robots at the depot, each with a fresh order.

        Args:
            seed: seeds the episode's order stream, ``twinecon.seeds.twin_sequence(seed,
                spec.sha256)`` as every twin stream; None draws fresh entropy from the OS.
            options: ignored.

        Returns:
            (observations, infos) for every agent.
        """
        self._rng = np.random.default_rng(episode_sequence(seed, self.twin.spec.sha256))
        self._queue.clear()
        self.agents = self.possible_agents[:]
        self._cycle = 0
        self._pos = [self._depot] * self._n
        self._remaining: list[dict[int, int]] = [{} for _ in range(self._n)]
        self._clock = [0] * self._n
        self._cu = [0] * self._n
        self._picks = [0] * self._n
        self._orders = [0] * self._n
        self._order_ids = [""] * self._n
        for i in range(self._n):
            self._assign(i)
        return self._observe(), self._infos([0] * self._n, [0] * self._n)

    def _assign(self, i: int) -> None:
        while not self._queue:
            self._queue.extend(self.twin.orders(self._rng, _ORDER_TICK_MS))
        order = self._queue.popleft()
        sku_node = self.twin.sku_node
        remaining: dict[int, int] = {}
        for s in order.lines:
            node = sku_node(s)
            remaining[node] = remaining.get(node, 0) + 1
        self._remaining[i] = remaining
        self._order_ids[i] = order.order_id

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Advance one cycle: every robot acts once (see the module docstring for the rules).

        Args:
            actions: agent -> action in 0..5; missing agents wait.

        Returns:
            (observations, rewards, terminations, truncations, infos), keyed by the agents
            live before the step.
        """
        if not self.agents:
            raise InvalidPlan("step() after the episode ended; call reset() first")
        n, pos, depot = self._n, self._pos, self._depot
        self._cycle += 1
        rewards = [0.0] * n
        spent = [0] * n
        invalid = [0] * n
        blocked = [0] * n
        target: list[int] = [-1] * n
        for i, agent in enumerate(self.possible_agents):
            a = actions.get(agent, WAIT)
            a = WAIT if a is None else int(a)
            p = pos[i]
            if a == PICK:
                lines = self._remaining[i].pop(p, 0)
                if lines:
                    rewards[i] += self._pick_reward * lines
                    spent[i] = lines * self._pick_ms
                    self._picks[i] += lines
                    self._cu[i] += self._pick_cu
                    continue
                invalid[i] = 1
            elif NORTH <= a <= WEST:
                t = self._nbr[p][a]
                if t >= 0:
                    target[i] = t
                    continue
                invalid[i] = 1
            elif a != WAIT:
                invalid[i] = 1
            spent[i] = self._wait_ms

        # Moves in rotating priority order; blocked robots retry until nothing changes.
        occupied = {p for p in pos if p != depot}
        start = self._cycle % n
        pending = [i for i in (*range(start, n), *range(start)) if target[i] >= 0]
        moved = True
        while pending and moved:
            moved = False
            waiting = []
            for i in pending:
                t = target[i]
                if t != depot and t in occupied:
                    waiting.append(i)
                    continue
                occupied.discard(pos[i])
                if t != depot:
                    occupied.add(t)
                spent[i] = self._travel_ms[pos[i]][t]
                pos[i] = t
                moved = True
            pending = waiting
        for i in pending:
            blocked[i] = 1
            spent[i] = self._wait_ms

        cost = self._cost_ms
        for i in range(n):
            if not self._remaining[i] and pos[i] == depot:
                rewards[i] += self._order_reward
                self._orders[i] += 1
                self._assign(i)
            rewards[i] -= cost * spent[i]
            self._clock[i] += spent[i]
            self._cu[i] += self._step_cu

        agents = self.agents
        obs = self._observe()
        infos = self._infos(invalid, blocked)
        rew = dict(zip(agents, rewards, strict=True))
        terms = dict.fromkeys(agents, False)
        done = self._cycle >= self.max_cycles
        truncs = dict.fromkeys(agents, done)
        if done:
            self.agents = []
        return obs, rew, terms, truncs, infos

    # --- observations -----------------------------------------------------------------------
    def _observe(self) -> dict[str, dict[str, np.ndarray]]:
        n, pos, depot = self._n, self._pos, self._depot
        nx, ny, dist, nbr = self._nx, self._ny, self._dist, self._nbr
        scale = self._dist_scale
        left = 1.0 - self._cycle / self.max_cycles
        inv_lines = 1.0 / self._max_lines
        flat: list[float] = []
        masks: list[int] = []
        coords = [(nx[p], ny[p]) for p in pos]
        for i in range(n):
            p = pos[i]
            row = dist[p]
            rem = self._remaining[i]
            t = min(rem, key=row.__getitem__) if rem else depot
            d = row[t]
            flat += (nx[p], ny[p], nx[t], ny[t], d * scale, min(len(rem) * inv_lines, 1.0),
                     left)
            nb = nbr[p]
            for k in _DIRS:
                v = nb[k]
                flat.append(1.0 if v >= 0 and dist[v][t] < d else 0.0)
            for j in range(n):
                if j != i:
                    flat += coords[j]
            masks += self._move_mask[p]
            masks.append(1 if p in rem else 0)
        arr = np.array(flat, dtype=np.float32).reshape(n, self._obs_dim)
        mask = np.array(masks, dtype=np.int8).reshape(n, len(ACTIONS))
        return {a: {"observation": arr[i], "action_mask": mask[i]}
                for i, a in enumerate(self.possible_agents)}

    def _infos(self, invalid: list[int], blocked: list[int]) -> dict[str, dict[str, Any]]:
        return {a: {"twin_time_ms": self._clock[i], "cu": self._cu[i],
                    "picks": self._picks[i], "orders": self._orders[i],
                    "order_id": self._order_ids[i], "invalid": invalid[i],
                    "blocked": blocked[i]}
                for i, a in enumerate(self.possible_agents)}


def parallel_env(spec: TwinSpec | None = None, n_robots: int = 4, max_cycles: int = 500,
                 **kw: Any) -> WarehouseParallelEnv:
    """Build the parallel environment (arguments as `WarehouseParallelEnv`)."""
    return WarehouseParallelEnv(spec, n_robots, max_cycles, **kw)


def env(**kw: Any) -> wrappers.OrderEnforcingWrapper:
    """Build the AEC environment: `parallel_env(**kw)` through `parallel_to_aec`, wrapped."""
    aec = parallel_to_aec_wrapper(parallel_env(**kw))
    return wrappers.OrderEnforcingWrapper(wrappers.AssertOutOfBoundsWrapper(aec))
