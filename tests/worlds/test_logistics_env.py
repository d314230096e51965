"""Tests of the logistics PettingZoo environment: API compliance, determinism, dynamics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pettingzoo.test import api_test, max_cycles_test, parallel_api_test, parallel_seed_test

import worlds.logistics
from worlds import InvalidPlan
from worlds.checks import check_env
from worlds.logistics import LogisticsParallelEnv, LogisticsTwin, env, parallel_env


@pytest.fixture(scope="module")
def penv() -> LogisticsParallelEnv:
    return parallel_env()


def test_metadata_and_defaults(penv: LogisticsParallelEnv) -> None:
    """Both forms build with no arguments and name the env, the twin and their capabilities."""
    assert penv.metadata == {"name": "logistics_v1", "twin_id": penv.twin.twin_id,
                             "render_modes": [], "is_parallelizable": True}
    assert penv.possible_agents == ["truck_0", "truck_1", "truck_2"]
    aec = env()
    assert aec.metadata["name"] == "logistics_v1"
    assert aec.metadata["twin_id"] == penv.twin.twin_id
    assert penv.twin.twin_id.startswith("logistics/lg-default@1.0.0+")


def test_parallel_api(penv: LogisticsParallelEnv) -> None:
    """PettingZoo's parallel API test passes (500 cycles, masked random actions)."""
    parallel_api_test(penv, num_cycles=500)


# The AEC API test warns for every Dict observation space (it whitelists Dict observations
# only for PettingZoo's own classic games); the Dict(observation, action_mask) layout is the
# documented PettingZoo convention for action masks, so these two warnings are expected.
@pytest.mark.filterwarnings(
    "ignore:Observation space for each agent probably should be gymnasium.spaces.box")
@pytest.mark.filterwarnings("ignore:Observation is not a NumPy array:UserWarning")
def test_aec_api() -> None:
    """PettingZoo's AEC API test passes on env()."""
    api_test(env(), num_cycles=300)


def test_max_cycles() -> None:
    """Every agent acts exactly max_cycles times in both forms (the module exposes both)."""
    max_cycles_test(worlds.logistics)


def test_pettingzoo_seed_test() -> None:
    """PettingZoo's own seed test passes (it compares one step only in 1.27, hence the next)."""
    parallel_seed_test(parallel_env, num_cycles=100)


def test_check_env() -> None:
    """worlds.checks.check_env (API test plus 40-step determinism and seeding) passes."""
    check_env(parallel_env, steps=40)


def _rollout(seed: int, steps: int, action_seed: int = 0) -> list[Any]:
    e = parallel_env()
    obs, infos = e.reset(seed=seed)
    rng = np.random.default_rng(action_seed)
    out: list[Any] = [[(a, o["observation"].tobytes(), o["action_mask"].tobytes())
                       for a, o in sorted(obs.items())]]
    for _ in range(steps):
        if not e.agents:
            break
        acts = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"]))) for a in e.agents}
        obs, rew, term, trunc, infos = e.step(acts)
        out.append([(a, obs[a]["observation"].tobytes(), obs[a]["action_mask"].tobytes(),
                     rew[a], term[a], trunc[a], infos[a]["elapsed_ms"]) for a in sorted(obs)])
    return out


def test_multi_step_determinism() -> None:
    """Two envs reset with one seed and driven by the same seeded valid actions agree bitwise
    for 60 steps (observations, rewards, terminations, truncations, clocks); another reset
    seed gives another trajectory."""
    a = _rollout(21, 60)
    assert len(a) == 61
    assert a == _rollout(21, 60)
    assert a != _rollout(22, 60)


def test_reset_draws_a_request_and_traffic_from_the_seed(penv: LogisticsParallelEnv) -> None:
    """The same seed gives the same request and evaluation seed; the info names them."""
    _, info = penv.reset(seed=5)
    first = (penv._order, penv.eval_seed)
    penv.reset(seed=6)
    assert (penv._order, penv.eval_seed) != first
    penv.reset(seed=5)
    assert (penv._order, penv.eval_seed) == first
    assert info["truck_0"]["order_id"] == first[0].order_id
    assert info["truck_0"]["customers_left"] == len(first[0].lines)


def test_action_mask_marks_the_roads_and_invalid_moves_wait(
        penv: LogisticsParallelEnv) -> None:
    """The mask has one 1 per neighbour plus the wait action; an invalid move waits wait_ms."""
    obs, _ = penv.reset(seed=3)
    net = penv.twin.net
    depot = penv._order.depot
    mask = obs["truck_0"]["action_mask"]
    assert mask.sum() == len(net.nbrs[depot]) + 1 and mask[-1] == 1
    bad = int(np.flatnonzero(mask == 0)[0]) if (mask == 0).any() else None
    obs, rew, _, _, infos = penv.step({"truck_0": bad, "truck_1": penv.n_moves})
    assert infos["truck_0"]["node"] == depot and infos["truck_0"]["elapsed_ms"] == 60_000
    assert infos["truck_1"]["elapsed_ms"] == 60_000 and infos["truck_2"]["elapsed_ms"] == 60_000
    assert rew["truck_0"] == pytest.approx(-60_000 / 3_600_000)


def _drive(e: LogisticsParallelEnv, routes: tuple[tuple[int, ...], ...]) -> dict[int, int]:
    """Drive each truck along its route (trucks without one wait); return, per route, the
    elapsed ms when the truck reaches the route's last node."""
    net = e.twin.net
    pos = [0] * len(e.possible_agents)
    back: dict[int, int] = {}
    while e.agents:
        acts = {}
        for a in e.agents:
            i = e.possible_agents.index(a)
            r = routes[i] if i < len(routes) else ()
            if pos[i] + 1 < len(r):
                acts[a] = net.nbrs[r[pos[i]]].index(r[pos[i] + 1])
                pos[i] += 1
            else:
                acts[a] = e.n_moves
        _, _, _, _, infos = e.step(acts)
        for a, info in infos.items():
            i = e.possible_agents.index(a)
            if i < len(routes) and pos[i] == len(routes[i]) - 1 and i not in back:
                back[i] = info["elapsed_ms"]
    return back


def test_driving_a_plan_takes_the_time_evaluate_reports() -> None:
    """Driving a plan's routes in the env, with its request and evaluation seed, brings each
    truck back after exactly the route time `evaluate` reports (requests whose routes pass no
    unserved customer before serving it, so the env's automatic deliveries match the plan)."""
    e = parallel_env(max_cycles=2000)
    twin: LogisticsTwin = e.twin
    rng = np.random.default_rng(8)
    checked = 0
    while checked < 6:
        for order in twin.orders(rng, 3_600_000):
            plan = twin.solve(order, "vrp")
            drop_nodes = {r[i] for r, d in zip(plan.routes, plan.drops, strict=True) for i in d}
            clean = all(not (v in drop_nodes and i not in d)
                        for r, d in zip(plan.routes, plan.drops, strict=True)
                        for i, v in enumerate(r))
            if not clean:
                continue
            ev = twin.evaluate(plan, order, 99)
            e.reset(seed=0, options={"order": order, "eval_seed": 99})
            assert _drive(e, plan.routes) == dict(enumerate(ev.route_time_ms)), order.order_id
            checked += 1


def test_a_greedy_policy_serves_everything(penv: LogisticsParallelEnv) -> None:
    """Following the nearest-customer feature (then the depot-distance feature) serves every
    customer and brings every truck home well before truncation; rewards add up to the
    deliveries minus the hours spent."""
    for seed in range(5):
        obs, _ = penv.reset(seed=seed)
        n_customers = len(penv._order.lines)
        total = 0.0
        steps = 0
        while penv.agents:
            acts = {}
            for a in penv.agents:
                o, m = obs[a]["observation"], obs[a]["action_mask"]
                per = o[8:].reshape(-1, 4)
                valid = np.flatnonzero(m[:-1])
                serve = o[6] > 0 and per[valid, 2].min() < 1.0  # a customer it can serve
                key = per[valid, 2] if serve else per[valid, 3]
                acts[a] = int(valid[np.argmin(key)])
            obs, rew, _, trunc, _ = penv.step(acts)
            total += sum(rew.values())
            steps += 1
            assert not any(trunc.values())
        hours = sum(penv._clock[i] - penv._order.release_ms for i in range(3)) / 3_600_000
        assert total == pytest.approx(n_customers - hours)
        assert steps < 200


def test_bad_options_and_arguments_raise() -> None:
    """A non-Order request, a bad max_cycles or a render mode are refused with the fix."""
    e = parallel_env()
    with pytest.raises(InvalidPlan, match="expected an Order"):
        e.reset(seed=0, options={"order": (1, 2)})
    with pytest.raises(InvalidPlan, match="max_cycles"):
        parallel_env(max_cycles=0)
    with pytest.raises(InvalidPlan, match="render_mode"):
        parallel_env(render_mode="human")
