"""The economy as a PettingZoo environment (scenarios.env): the API tests, seeding and
determinism, rewards as realised profit, masks placed as the twins' envs place theirs, the
parametric policies' actions always valid, and a trained policy plugged back into a scenario."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

from agents.parametric import PARAMETRIC, ParametricProvider
from agents.rl_policy import FORMAT, TrainedPolicy
from economy.history import PnL
from scenarios.build import build
from scenarios.env import EconomyGymEnv, EconomyParallelEnv, env, parallel_env
from scenarios.loading import load_scenario
from scenarios.run import apply_overrides
from twinecon.seeds import Stream
from worlds import registry
from worlds.checks import check_env

ROOT = Path(__file__).resolve().parents[2]
#: One learner of each role a learner may take, in warehouse-market.
MIXED = ["customer-0", "hasty-0", "compute-0"]

# api_test warns that a Dict observation space is "probably" not what it expects and that a
# Dict observation "is not a NumPy array": Dict(observation, action_mask) is PettingZoo's
# documented layout for action masks, the one the twins' envs use too.
DICT_OBS = [pytest.mark.filterwarnings("ignore:Observation space for each agent probably"),
            pytest.mark.filterwarnings("ignore:Observation is not a NumPy array")]
# ... and, with learners of different roles, that their spaces differ: each role has its own
# features and levers.
MIXED_ROLES = [pytest.mark.filterwarnings("ignore:Agents have different observation space"),
               pytest.mark.filterwarnings("ignore:Observations are different shapes")]


def _valid_actions(obs: dict, rng: np.random.Generator) -> dict[str, int]:
    return {a: int(rng.choice(np.flatnonzero(o["action_mask"]))) for a, o in obs.items()}


def _episode(e: EconomyParallelEnv, seed: int | None, action_seed: int = 0) -> list:
    """Observations, masks, rewards and infos of a whole episode under seeded valid actions."""
    obs, infos = e.reset(seed=seed)
    rng = np.random.default_rng(action_seed)
    out: list = [repr(sorted((a, o["observation"].tobytes(), o["action_mask"].tobytes())
                             for a, o in obs.items())), repr(sorted(infos.items()))]
    while e.agents:
        obs, rewards, terms, truncs, infos = e.step(_valid_actions(obs, rng))
        out.append(repr((sorted((a, o["observation"].tobytes(), o["action_mask"].tobytes())
                                for a, o in obs.items()), sorted(rewards.items()),
                         sorted(terms.items()), sorted(truncs.items()),
                         sorted(infos.items()))))
    return out


# -- PettingZoo's tests and the repo's checker ---------------------------------------------
def test_parallel_api() -> None:
    """PettingZoo's parallel API test passes with a learner of every role."""
    parallel_api_test(parallel_env(learners=MIXED, ticks=30), num_cycles=40)


@pytest.mark.parametrize("learners", [
    pytest.param(["thorough"], marks=DICT_OBS, id="one-role"),
    pytest.param(MIXED, marks=DICT_OBS + MIXED_ROLES, id="mixed-roles"),
])
def test_aec_api(learners: list[str]) -> None:
    """PettingZoo's AEC API test passes on env() (parallel_to_aec, bounds-checked): two
    providers (one role: the only warnings are the Dict observation's), and one learner of
    each role (their spaces differ, as they should)."""
    api_test(env(learners=learners, ticks=30), num_cycles=40)


def test_seed_tests_and_check_env() -> None:
    """PettingZoo's seed tests (parallel and AEC) and worlds.checks.check_env pass."""
    parallel_seed_test(lambda: parallel_env(learners=MIXED, ticks=25), num_cycles=25)
    seed_test(lambda: env(learners=["hasty-0"], ticks=25), num_cycles=25)
    check_env(lambda: parallel_env(learners=MIXED, ticks=30), steps=30)


def test_same_seed_same_episode_across_resets() -> None:
    """Same seed, same seeded actions: the same episode, bit for bit, on a fresh env and on
    one reset again (rewards included); another seed gives another episode; reset() without
    a seed takes the constructor's seed, then the next one."""
    e = parallel_env(learners=MIXED, ticks=40)
    first = _episode(e, 5)
    assert _episode(e, 5) == first  # reset twice with the same seed
    assert _episode(parallel_env(learners=MIXED, ticks=40), 5) == first
    assert _episode(e, 6) != first
    fresh = parallel_env(learners=MIXED, ticks=40, seed=5)
    assert _episode(fresh, None) == first and fresh.seed_used == 5
    assert _episode(fresh, None) == _episode(e, 6)  # then seed 6


# -- rewards ----------------------------------------------------------------------------------
def test_reward_is_the_change_in_realised_profit_in_tokens() -> None:
    """Each step's reward is the learner's profit (obs.pnl.profit) now less at the last step,
    in tokens (x reward_scale); a customer's adds the value of the plans it received."""
    e = parallel_env(learners=MIXED, ticks=60, reward_scale=1.0)
    obs, _ = e.reset(seed=3)
    rng = np.random.default_rng(1)
    scaled = parallel_env(learners=MIXED, ticks=60, reward_scale=100.0)
    scaled.reset(seed=3)
    last = dict.fromkeys(e.possible_agents, 0)
    total = dict.fromkeys(e.possible_agents, 0.0)
    values = 0.0
    while e.agents:
        actions = _valid_actions(obs, rng)
        obs, rewards, _, _, infos = e.step(actions)
        _, rewards_s, _, _, _ = scaled.step(actions)
        for a, seen in e.observations().items():
            profit = seen.pnl.profit  # what the learner's own observation says
            value = infos[a]["value"]
            assert rewards[a] == pytest.approx((profit - last[a]) / 1e18 + value, abs=1e-12)
            assert rewards_s[a] == pytest.approx(100 * rewards[a], rel=1e-9, abs=1e-12)
            if e._roles[a] != "customer":
                assert value == 0.0
            values += value
            last[a] = profit
            total[a] += rewards[a]
    assert values > 0  # the customer was served
    assert any(abs(total[a]) > 1e-6 for a in ("hasty_0", "compute_0"))
    for a in e.possible_agents:
        assert infos[a]["profit"] == pytest.approx(last[a] / 1e18)


# -- masks ------------------------------------------------------------------------------------
_SMALL_TWINS = {
    "warehouse": {"n_aisles": 3, "slots_per_aisle": 4, "n_skus": 20},
    "logistics": {"grid_cols": 6, "grid_rows": 6},
    "windfarm": {"n_turbines": 4},
}


def _mask_layout(e: Any) -> None:
    """Where every env of the project puts its mask: in the observation, a Dict of
    `observation` and `action_mask` (int8, one per action of its Discrete space, the no-op 0
    always allowed), and nowhere else (not in infos)."""
    obs, infos = e.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(15):
        if not e.agents:
            break
        for a in e.agents:
            space = e.observation_space(a)
            assert isinstance(space, spaces.Dict)
            assert set(space.spaces) == {"observation", "action_mask"}
            mask_space = space["action_mask"]
            assert mask_space.dtype == np.int8
            assert mask_space.shape == (e.action_space(a).n,)
            assert obs[a]["action_mask"].dtype == np.int8 and obs[a]["action_mask"][0] == 1
            assert space.contains(obs[a])
            assert "action_mask" not in infos[a]
        obs, _, _, _, infos = e.step(_valid_actions({a: obs[a] for a in e.agents}, rng))


@pytest.mark.parametrize("kind", ["economy", *sorted(_SMALL_TWINS)])
def test_masks_are_placed_as_every_other_env_places_them(kind: str) -> None:
    if kind == "economy":
        _mask_layout(parallel_env(learners=MIXED, ticks=20))
    else:
        _mask_layout(registry.env(kind, registry.spec(kind, **_SMALL_TWINS[kind])))


def test_a_masked_out_action_is_the_no_op() -> None:
    """An action the mask rules out (or out of range) does what action 0 does."""
    a = parallel_env(learners=["hasty-0", "customer-0"], ticks=30)
    b = parallel_env(learners=["hasty-0", "customer-0"], ticks=30)
    obs_a, _ = a.reset(seed=2)
    b.reset(seed=2)
    masked = 0
    while a.agents:
        acts_a = dict.fromkeys(a.agents, 0)
        acts_b = {}
        for name, o in obs_a.items():
            ruled_out = np.flatnonzero(o["action_mask"] == 0)
            masked += len(ruled_out) > 0
            acts_b[name] = int(ruled_out[-1]) if len(ruled_out) else 10_000
        out_a, out_b = a.step(acts_a), b.step(acts_b)
        assert repr(out_a[:4]) == repr(out_b[:4])
        obs_a = out_a[0]
    assert masked > 0


def test_learners_actions_are_always_valid() -> None:
    """Two episodes of random valid actions for a learner of every role: none of their
    actions is rejected, no policy faults, and each learner did something."""
    import pyarrow.compute as pc

    e = parallel_env(learners=MIXED, ticks=80)
    for seed in (11, 12):
        obs, _ = e.reset(seed=seed)
        rng = np.random.default_rng(seed)
        while e.agents:
            obs, _, _, _, infos = e.step(_valid_actions(obs, rng))
        model = e.built.model
        events = model.settler.events.to_arrow()
        for name in e.possible_agents:
            agent = e.built.agents[e._index[name]]
            mine = events.filter(pc.equal(events["payer"], agent.address))
            kinds = set(mine["kind"].to_pylist())
            assert "action_rejected" not in kinds and "policy_fault" not in kinds
            assert mine.num_rows > 0 and infos[name]["faults"] == 0


def test_learners_by_label_group_or_agent_name_and_refusals() -> None:
    e = parallel_env(learners=["thorough", "compute_1"], ticks=5)
    assert e.possible_agents == ["thorough_0", "thorough_1", "compute_1"]
    assert e.labels["compute_1"] == "compute-1"
    assert parallel_env(ticks=5).possible_agents == ["thorough_0"]  # the first provider
    assert isinstance(e.action_space("thorough_0"), spaces.Discrete)
    assert e.action_space("thorough_0").n == len(ParametricProvider.ACTIONS) == 43
    assert e.observation_space("compute_1")["observation"].shape == (
        PARAMETRIC["compute"].N_FEATURES,)
    with pytest.raises(ValueError, match=r"names no agent.*hasty"):
        parallel_env(learners=["hastey-0"])
    with pytest.raises(ValueError, match="evaluator"):
        parallel_env(learners=["evaluator-0"])
    with pytest.raises(ValueError, match="ticks"):
        parallel_env(learners=["hasty-0"], ticks=0)


def test_gym_env_is_the_parallel_env_of_one_learner() -> None:
    """The single-agent wrapper: features then mask as one Box, the parallel env's rewards."""
    from gymnasium.utils.env_checker import check_env as gym_check_env

    g = EconomyGymEnv("warehouse-market", "hasty-0", ticks=20)
    gym_check_env(g, skip_render_check=True)
    p = parallel_env(learners=["hasty-0"], ticks=20)
    obs, _ = g.reset(seed=4)
    pobs, _ = p.reset(seed=4)
    assert np.array_equal(obs, np.concatenate([pobs["hasty_0"]["observation"],
                                               pobs["hasty_0"]["action_mask"]]))
    for t in range(20):
        action = 41 if t % 2 else 20
        obs, reward, term, trunc, _ = g.step(action)
        pobs, rewards, _, truncs, _ = p.step({"hasty_0": action})
        assert reward == rewards["hasty_0"] and trunc == truncs["hasty_0"] and not term
    assert trunc
    factored = EconomyGymEnv("warehouse-market", "hasty-0", ticks=20, factored=True)
    assert list(factored.action_space.nvec) == [8, 6]
    gym_check_env(factored, skip_render_check=True)
    p.reset(seed=4)
    factored.reset(seed=4)
    for choice in ([7, 4], [0, 5], [3, 0], [9, 9]):
        action = ParametricProvider.compose(choice)
        assert action == (0 if choice[0] in (0, 9) else 1 + (choice[0] - 1) * 6 + choice[1])
        assert factored.step(np.array(choice))[1] == p.step({"hasty_0": action})[1]["hasty_0"]


# -- the trained policy -----------------------------------------------------------------------
def _weights(path: Path, role: str = "provider", seed: int = 0) -> Path:
    """A random two-layer network in the format export_sb3 writes."""
    cls = PARAMETRIC[role]
    rng = np.random.default_rng(seed)
    width = cls.N_FEATURES + len(cls.ACTIONS)
    arrays = {"w0": rng.normal(0, 0.5, (16, width)).astype(np.float32),
              "b0": np.zeros(16, np.float32),
              "w1": rng.normal(0, 1.0, (len(cls.ACTIONS), 16)).astype(np.float32),
              "b1": np.zeros(len(cls.ACTIONS), np.float32)}
    meta = {"format": FORMAT, "role": role, "layers": 2, "activation": "tanh",
            "n_features": cls.N_FEATURES, "n_actions": len(cls.ACTIONS), "params": {}}
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    return path


def test_trained_policy_acts_as_the_env_does(tmp_path: Path) -> None:
    """A TrainedPolicy in the seat of a built scenario makes exactly the episode the env
    makes when driven by the same network's choices: the same profit, tick by tick."""
    weights = _weights(tmp_path / "w.npz")
    e = parallel_env(learners=["hasty-0"], ticks=40)
    chooser = TrainedPolicy(str(weights))  # only its network: the env keeps the features
    obs, _ = e.reset(seed=8)
    profits = []
    while e.agents:
        mask = obs["hasty_0"]["action_mask"]
        logits = chooser.logits(np.concatenate([obs["hasty_0"]["observation"],
                                                mask.astype(np.float32)]))
        action = int(np.argmax(np.where(mask.astype(bool), logits, -np.inf)))
        obs, _, _, _, infos = e.step({"hasty_0": action})
        profits.append(infos["hasty_0"]["profit"])
    built = build(apply_overrides(load_scenario("warehouse-market"), ledger="memory",
                                  signatures="off", seed=8))
    model = built.model
    agent = next(a for a in built.agents if a.label == "hasty-0")
    agent.policy = TrainedPolicy(str(weights))
    agent.policy.reset(model.seeds.integer(Stream.POLICY_RESET, agent.index))
    played = []
    for _ in range(40):
        model.step()
        played.append(PnL.of(model.flows.pnl.get(agent.address)).profit / 1e18)
    assert played == pytest.approx(profits, abs=1e-15) and agent.n_faults == 0
    assert len(set(agent.policy.actions)) > 1  # the network's choice varies with the state


def test_trained_policy_plugs_into_a_scenario_file(tmp_path: Path) -> None:
    """`policy = "agents.rl_policy:TrainedPolicy"` with `params = { weights = ... }` builds
    and runs as any policy, without faults; a file that is not weights is refused."""
    from scenarios.loading import LoadedScenario

    weights = _weights(tmp_path / "provider.npz")
    loaded = apply_overrides(load_scenario("warehouse-market"), ledger="memory",
                             signatures="off", ticks=10)
    data = loaded.scenario.model_dump()
    group = next(g for g in data["agents"] if g["label"] == "hasty")
    group.update(policy="agents.rl_policy:TrainedPolicy",
                 params={"weights": str(weights), "max_jobs": 2})
    from scenarios.loading import validate_scenario

    built = build(LoadedScenario(validate_scenario(data, "test"), "test", tmp_path))
    for _ in range(10):
        built.model.step()
    hasty = [a for a in built.agents if a.group == "hasty"]
    assert all(a.n_faults == 0 and isinstance(a.policy, TrainedPolicy) for a in hasty)
    assert hasty[0].policy.inner.max_jobs == 2
    np.savez(tmp_path / "bad.npz", meta=np.array(json.dumps({"format": "other"})))
    with pytest.raises(ValueError, match="not a twinecon policy weights file"):
        TrainedPolicy(str(tmp_path / "bad.npz"))


def test_only_the_env_module_loads_the_environment_libraries() -> None:
    """`import agents.parametric, agents.rl_policy, scenarios.build` loads no pettingzoo,
    gymnasium, torch or stable-baselines3: a trained policy runs on NumPy alone."""
    code = ("import sys, agents.parametric, agents.rl_policy, scenarios, scenarios.build\n"
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    roots = set(out.stdout.strip().split(","))
    assert roots & {"pettingzoo", "gymnasium", "torch", "stable_baselines3"} == set()


@pytest.mark.slow
def test_training_smoke(tmp_path: Path) -> None:
    """The README's training command, reduced: a few hundred PPO steps write the weights and
    the SB3 model; the exported network gives the PPO actor's logits; the trained policy
    loads them and plays a scenario tick without faults."""
    pytest.importorskip("stable_baselines3")
    import torch
    from stable_baselines3 import PPO

    readme = (ROOT / "README.md").read_text()
    assert "examples/train_provider.py --out runs/rl" in readme  # the command reduced here
    assert 'policy = "agents.rl_policy:TrainedPolicy"' in readme
    out = tmp_path / "rl"
    subprocess.run([sys.executable, str(ROOT / "examples" / "train_provider.py"), "--out",
                    str(out), "--steps", "300", "--envs", "1", "--ticks", "40"], check=True,
                   cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert (out / "provider.npz").is_file() and (out / "provider_sb3.zip").is_file()
    policy = TrainedPolicy(str(out / "provider.npz"))
    model = PPO.load(out / "provider_sb3.zip", device="cpu")
    x = np.random.default_rng(0).uniform(-1, 1, (5, model.observation_space.shape[0]))
    with torch.no_grad():  # the factored levers: one categorical per factor
        dist = model.policy.get_distribution(torch.as_tensor(x, dtype=torch.float32))
        theirs = np.concatenate([d.logits.numpy() for d in dist.distribution], axis=1)
    assert policy.factored and theirs.shape[1] == sum(ParametricProvider.FACTORS)
    for row, logits in zip(x, theirs, strict=True):
        assert np.allclose(policy.inner.joint_scores(policy.logits(row)),
                           policy.inner.joint_scores(logits), atol=1e-4)
    built = build(apply_overrides(load_scenario("warehouse-market"), ledger="memory",
                                  signatures="off", ticks=2))
    agent = next(a for a in built.agents if a.label == "hasty-0")
    agent.policy = policy
    agent.reset(built.model.seeds.integer(Stream.POLICY_RESET, agent.index))
    built.model.step()
    assert agent.n_faults == 0 and len(policy.actions) == 1
