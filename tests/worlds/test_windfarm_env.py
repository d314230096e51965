"""Tests of the wind-farm PettingZoo environment: compliance, determinism, day dynamics."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo.test import api_test, max_cycles_test, parallel_api_test, parallel_seed_test

import worlds.windfarm
from worlds.checks import check_env
from worlds.windfarm import WindfarmParallelEnv, env, parallel_env, windfarm_spec


def _run(seed: int, steps: int, action_seed: int = 0) -> list[tuple]:
    """Drive an env with seeded valid (masked) actions; record observations and rewards."""
    e = parallel_env(max_cycles=steps)
    observations, _ = e.reset(seed=seed)
    rng = np.random.default_rng(action_seed)
    out = [tuple(observations[a]["observation"].tobytes() for a in e.possible_agents)]
    while e.agents:
        actions = {a: int(rng.choice(np.flatnonzero(observations[a]["action_mask"])))
                   for a in e.agents}
        observations, rewards, _, _, _ = e.step(actions)
        out.append((tuple(observations[a]["observation"].tobytes() for a in e.possible_agents),
                    tuple(observations[a]["action_mask"].tobytes() for a in e.possible_agents),
                    tuple(rewards[a] for a in e.possible_agents)))
    return out


def test_parallel_api() -> None:
    """PettingZoo's parallel API test passes (no warnings: pytest turns them into errors)."""
    parallel_api_test(parallel_env(), num_cycles=200)


# api_test warns that a Dict observation space is "probably" not what it expects and that a
# Dict observation "is not a NumPy array": the Dict(observation, action_mask) layout is
# PettingZoo's own documented convention for action masking (the warehouse's and logistics
# envs use it too), so those two are expected.
@pytest.mark.filterwarnings("ignore:Observation space for each agent probably should be")
@pytest.mark.filterwarnings("ignore:Observation is not a NumPy array")
def test_aec_api() -> None:
    """PettingZoo's AEC API test passes on env() (parallel_to_aec with its wrappers)."""
    api_test(env(), num_cycles=100)


def test_max_cycles() -> None:
    """The module's parallel_env and env honour max_cycles (each crew acts that many days)."""
    max_cycles_test(worlds.windfarm)


def test_seed_test_and_repo_env_check() -> None:
    """PettingZoo's seed test (one step in 1.27) and worlds.checks.check_env both pass."""
    parallel_seed_test(parallel_env, num_cycles=50)
    check_env(parallel_env, steps=40)


def test_multi_step_determinism() -> None:
    """Same seed and same seeded valid actions: identical observations and rewards for a
    whole 60-day episode; another seed gives another trajectory."""
    a, b = _run(3, 60), _run(3, 60)
    assert len(a) == 61 and a == b
    assert _run(4, 60) != a


def test_metadata_spaces_and_defaults() -> None:
    """Both factories work without arguments and carry the name, twin id and spaces."""
    p = parallel_env()
    spec = windfarm_spec()
    assert p.metadata == {"name": "windfarm_v1", "twin_id": spec.id, "render_modes": [],
                          "is_parallelizable": True}
    assert env().metadata["twin_id"] == spec.id
    assert p.possible_agents == ["crew_0", "crew_1"]
    assert p.action_space("crew_0").n == 1 + 10 * 4
    assert p.observation_space("crew_0")["observation"].shape == (10 * 13 + 3 + 4 * 2,)
    assert p.observation_space("crew_0")["action_mask"].shape == (1 + 10 * 4,)
    assert p.observation_space("crew_1") is p.observation_space("crew_1")
    other = parallel_env(windfarm_spec(n_crews=3, n_turbines=4), max_cycles=5)
    assert other.possible_agents == ["crew_0", "crew_1", "crew_2"]
    with pytest.raises(ValueError, match="max_cycles"):
        parallel_env(max_cycles=0)


def test_observations_stay_in_their_space_and_masks_allow_idle() -> None:
    """Over a year of random valid actions every observation is inside the space and idling
    is always allowed."""
    e = parallel_env(max_cycles=365)
    observations, infos = e.reset(seed=9)
    rng = np.random.default_rng(1)
    while e.agents:
        for a in e.agents:
            assert e.observation_space(a).contains(observations[a])
            assert observations[a]["action_mask"][0] == 1
            assert "action_mask" not in infos[a]  # one place for the mask, as the other envs
            assert np.array_equal(observations[a]["action_mask"], e.action_mask(a))
        actions = {a: int(rng.choice(np.flatnonzero(observations[a]["action_mask"])))
                   for a in e.agents}
        observations, _, _, truncations, infos = e.step(actions)
    assert all(truncations.values())


def test_a_replacement_costs_then_renews_the_component() -> None:
    """Replacing a working component on an accessible day charges its cost in the day's
    reward, stops the turbine while the crew works, and leaves the component new."""
    e: WindfarmParallelEnv = parallel_env(max_cycles=50)
    obs, _ = e.reset(seed=2)
    idle = {a: 0 for a in e.possible_agents}
    while not obs["crew_0"]["action_mask"][1:].any():  # wait for an accessible day
        obs, _, _, _, _ = e.step(idle)
    running = ~(e._failed | e._serviced).any(axis=1)
    running[3] = False  # the crew stops turbine 3 for the day
    gearbox_t3 = 1 + 3 * 4 + 2
    obs, rewards, _, _, _ = e.step({"crew_0": gearbox_t3, "crew_1": 0})
    expected = running.sum() * 3000 * 0.35 * 24 * 60 / 1000 / 1000 - 180.0  # kEUR
    assert rewards["crew_0"] == rewards["crew_1"] == pytest.approx(expected)
    assert e._serviced[3, 2] and obs["crew_0"]["action_mask"].sum() == 1  # busy: idle only
    assert obs["crew_1"]["action_mask"][gearbox_t3] == 0  # taken by crew 0
    for _ in range(2):
        e.step(idle)
    # New: a day old, and at most one day of wear (gamma jumps are rare but can be tens).
    assert not e._serviced[3, 2] and e._age_h[3, 2] == 24.0 and e._wear[3, 2] < 100.0


def test_masked_out_actions_idle() -> None:
    """An action the mask forbids (here: out of range or on a busy crew) changes nothing."""
    a, b = parallel_env(max_cycles=20), parallel_env(max_cycles=20)
    a.reset(seed=5)
    b.reset(seed=5)
    for _ in range(20):
        oa = a.step({"crew_0": 0, "crew_1": 0})
        ob = b.step({"crew_0": 10_000, "crew_1": -3})
        assert repr(oa) == repr(ob)
