"""check_env: the PettingZoo API test plus a multi-step determinism check, on toy envs."""

from __future__ import annotations

import random
from typing import ClassVar

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo import ParallelEnv

from worlds import WorldError
from worlds.checks import check_env


class Toy(ParallelEnv):
    """Two walkers on a line; `leak` draws noise from the global random module (a bug)."""

    metadata: ClassVar[dict] = {"name": "toy_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, leak: bool = False, ignore_seed: bool = False) -> None:
        self.possible_agents = ["a_0", "a_1"]
        self.leak, self.ignore_seed = leak, ignore_seed
        self._obs = {a: spaces.Box(-1e6, 1e6, (2,), np.float64) for a in self.possible_agents}
        self._act = {a: spaces.Discrete(3) for a in self.possible_agents}

    def observation_space(self, agent):
        return self._obs[agent]

    def action_space(self, agent):
        return self._act[agent]

    def _observe(self):
        return {a: np.array([self.pos[a], self.noise], dtype=np.float64) for a in self.agents}

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.rng = np.random.default_rng(0 if self.ignore_seed else seed)
        self.pos = {a: 0.0 for a in self.agents}
        self.noise, self.t = 0.0, 0
        return self._observe(), {a: {} for a in self.agents}

    def step(self, actions):
        self.t += 1
        self.noise = random.random() if self.leak else float(self.rng.normal())
        for a, act in actions.items():
            self.pos[a] += act - 1
        obs = self._observe()
        rewards = {a: -abs(self.pos[a]) for a in self.agents}
        terms = {a: False for a in self.agents}
        truncs = {a: self.t >= 50 for a in self.agents}
        infos = {a: {} for a in self.agents}
        if self.t >= 50:
            self.agents = []
        return obs, rewards, terms, truncs, infos


def test_a_deterministic_env_passes() -> None:
    check_env(Toy)


def test_randomness_outside_the_seed_is_caught() -> None:
    with pytest.raises(WorldError, match="determinism"):
        check_env(lambda: Toy(leak=True))


def test_an_env_that_ignores_the_seed_is_caught() -> None:
    with pytest.raises(WorldError, match="seeding"):
        check_env(lambda: Toy(ignore_seed=True))


@pytest.mark.parametrize("kind", ["warehouse", "logistics", "windfarm", "toy"])
def test_every_shipped_twin_passes_check_twin_with_its_env(kind) -> None:
    """What a twin author runs before registering: each shipped twin passes check_twin,
    every tier it offers (the warehouse's L2 physics included) and its PettingZoo env too."""
    import importlib

    from worlds import check_twin, registry

    twin = registry.make(kind)
    env = None if kind == "toy" else importlib.import_module(f"worlds.{kind}").parallel_env
    check_twin(twin, env=env, n_orders=2)
