"""Tests of the warehouse PettingZoo environment: API compliance, determinism, rules."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, max_cycles_test, parallel_api_test

import worlds.warehouse
from worlds import InvalidPlan
from worlds.checks import check_env
from worlds.warehouse import env, parallel_env, warehouse_spec
from worlds.warehouse._env import EAST, NORTH, PICK, WAIT, WEST

SMALL = warehouse_spec(n_aisles=3, slots_per_aisle=4, n_skus=24)


def _rollout(seed: int, steps: int, **kw) -> list:
    """A trajectory driven by seeded random valid actions (the same actions for any seed)."""
    e = parallel_env(**kw)
    obs, infos = e.reset(seed=seed)
    rng = np.random.default_rng(0)
    out = [repr(sorted(obs.items())), repr(sorted(infos.items()))]
    for _ in range(steps):
        acts = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in e.agents}
        obs, rew, term, trunc, infos = e.step(acts)
        out.append(repr((sorted(obs.items()), sorted(rew.items()), term, trunc,
                         sorted(infos.items()))))
    return out


def test_parallel_api() -> None:
    """PettingZoo's parallel API test passes on the default environment."""
    parallel_api_test(parallel_env(), num_cycles=300)


# api_test warns that a Dict observation space is "probably" not what it expects and that a
# Dict observation "is not a NumPy array": the Dict(observation, action_mask) layout is
# PettingZoo's own documented convention for action masking, so those two are expected.
@pytest.mark.filterwarnings("ignore:Observation space for each agent probably should be")
@pytest.mark.filterwarnings("ignore:Observation is not a NumPy array")
def test_aec_api() -> None:
    """PettingZoo's AEC API test passes on env() with no arguments."""
    api_test(env(), num_cycles=200)


def test_max_cycles() -> None:
    """The module's parallel_env and env honour max_cycles (each agent acts exactly that often)."""
    max_cycles_test(worlds.warehouse)


def test_check_env_passes() -> None:
    """The worlds checker (API test plus 30-step determinism and seeding) passes."""
    check_env(lambda: parallel_env(SMALL, n_robots=3))


def test_metadata_and_spaces() -> None:
    """Metadata names the env and the twin; spaces are pre-built and returned by identity."""
    e = parallel_env()
    assert e.metadata == {"name": "warehouse_v1", "twin_id": e.twin.twin_id,
                          "render_modes": [], "is_parallelizable": True}
    assert e.possible_agents == ["robot_0", "robot_1", "robot_2", "robot_3"]
    for a in e.possible_agents:
        assert e.observation_space(a) is e.observation_spaces[a]
        assert e.action_space(a) is e.action_spaces[a]
    obs, _ = e.reset(seed=3)
    for a, o in obs.items():
        assert e.observation_space(a).contains(o)
        assert o["action_mask"][WAIT] == 1


def test_multi_step_determinism() -> None:
    """60 steps from one seed replay identically (obs, rewards, flags, infos); another seed
    gives another trajectory."""
    a = _rollout(11, 60)
    assert a == _rollout(11, 60)
    assert a != _rollout(12, 60)


def test_truncation_at_max_cycles() -> None:
    """All agents are truncated (never terminated) on cycle max_cycles, then the env is empty."""
    e = parallel_env(SMALL, n_robots=2, max_cycles=5)
    e.reset(seed=0)
    for i in range(5):
        _, _, term, trunc, _ = e.step({})
        assert not any(term.values())
        assert all(trunc.values()) == (i == 4)
    assert e.agents == []
    with pytest.raises(InvalidPlan, match="reset"):
        e.step({})


def test_conflicts_are_resolved_without_sharing_a_node() -> None:
    """Two robots leaving the depot for the same node: one moves, the other is blocked; robots
    never share a non-depot node over a random run."""
    e = parallel_env(SMALL, n_robots=2)
    e.reset(seed=0)
    _, _, _, _, infos = e.step({"robot_0": NORTH, "robot_1": NORTH})
    assert sorted(i["blocked"] for i in infos.values()) == [0, 1]
    rng = np.random.default_rng(1)
    e = parallel_env(SMALL, n_robots=4)
    obs, _ = e.reset(seed=1)
    for _ in range(300):
        acts = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in e.agents}
        obs, *_ = e.step(acts)
        placed = [p for p in e._pos if p != e._depot]
        assert len(placed) == len(set(placed))


def test_illegal_action_is_a_wait() -> None:
    """An unmasked illegal action (west from the depot, pick with nothing here) is a counted
    wait that costs wait time."""
    e = parallel_env(SMALL, n_robots=1, time_cost_per_s=1.0, wait_ms=1000)
    obs, _ = e.reset(seed=0)
    assert obs["robot_0"]["action_mask"][WEST] == 0
    _, rew, _, _, infos = e.step({"robot_0": WEST})
    assert infos["robot_0"]["invalid"] == 1 and e._pos[0] == e._depot
    assert rew["robot_0"] == pytest.approx(-1.0)
    _, _, _, _, infos = e.step({"robot_0": PICK})
    assert infos["robot_0"]["invalid"] == 1


def test_greedy_robot_completes_orders() -> None:
    """Following the 'closer to target' hints and picking when allowed completes orders, with
    rewards for lines and orders and a clock that matches the twin's time model."""
    e = parallel_env(SMALL, n_robots=1, max_cycles=400)
    obs, _ = e.reset(seed=5)
    total = 0.0
    infos: dict = {}
    while e.agents:
        o = obs["robot_0"]
        if o["action_mask"][PICK]:
            act = PICK
        else:
            hints = o["observation"][7:11]
            act = (NORTH, NORTH + 1, EAST, WEST)[int(np.argmax(hints))] if hints.any() else WAIT
        obs, rew, _, _, infos = e.step({"robot_0": act})
        total += rew["robot_0"]
    info = infos["robot_0"]
    assert info["orders"] >= 3 and info["picks"] >= info["orders"]
    assert total > 0
    pick_cu = info["cu"] - 400 * 12  # L1 metering: 12 CU per cycle, 40 per pick node
    assert pick_cu >= 40 * info["orders"] and pick_cu % 40 == 0
    assert info["twin_time_ms"] > 0


def test_bad_arguments_are_refused() -> None:
    """Out-of-range arguments raise InvalidPlan with the expected range."""
    with pytest.raises(InvalidPlan, match="n_robots"):
        parallel_env(n_robots=0)
    with pytest.raises(InvalidPlan, match="render_mode"):
        parallel_env(render_mode="human")
