"""The three twin envs seed their episodes one way: from twin_sequence(seed, spec.sha256)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from twinecon.seeds import twin_sequence
from worlds import registry
from worlds.windfarm._state import draw_states

_SMALL = {
    "warehouse": {"n_aisles": 3, "slots_per_aisle": 4, "n_skus": 20},
    "logistics": {"grid_cols": 6, "grid_rows": 6},
    "windfarm": {"n_turbines": 4},
}


def _episode(factory: Callable[[], Any], seed: int | None, steps: int = 12) -> list[str]:
    """The observations, rewards and infos of `steps` steps driven by fixed actions (the
    first legal one of each agent), as text: what one reset seed must fix."""
    env = factory()
    obs, infos = env.reset(seed=seed)
    out = [repr(sorted(obs.items(), key=lambda kv: kv[0])), repr(sorted(infos.items()))]
    for _ in range(steps):
        if not env.agents:
            break
        actions = {}
        for a in env.agents:
            mask = obs[a]["action_mask"] if isinstance(obs[a], dict) else infos[a].get(
                "action_mask")
            actions[a] = int(np.flatnonzero(mask)[-1]) if mask is not None else 0
        obs, rewards, _, _, infos = env.step(actions)
        out.append(repr((sorted(obs.items(), key=lambda kv: kv[0]), sorted(rewards.items()),
                         sorted(infos.items()))))
    return out


@pytest.fixture(params=sorted(_SMALL))
def factory(request: pytest.FixtureRequest) -> Callable[[], Any]:
    spec = registry.spec(request.param, **_SMALL[request.param])
    return lambda: registry.env(request.param, spec)


def test_a_reset_seed_fixes_the_episode(factory: Callable[[], Any]) -> None:
    """reset(seed) twice gives the same episode step for step; another seed another one;
    None draws fresh entropy each time (two unseeded episodes differ)."""
    assert _episode(factory, 5) == _episode(factory, 5)
    assert _episode(factory, 5) != _episode(factory, 6)
    assert _episode(factory, None) != _episode(factory, None)


def test_episodes_are_drawn_from_the_twin_sequence() -> None:
    """Each env's first draws are those of twin_sequence(seed, spec.sha256): the warehouse's
    first order, the logistics request (first child) and evaluation seed (second child),
    the wind farm's initial component states."""
    seed = 9
    wh = registry.env("warehouse", registry.spec("warehouse", **_SMALL["warehouse"]))
    _, infos = wh.reset(seed=seed)
    first = wh.twin.orders(np.random.default_rng(twin_sequence(seed, wh.twin.spec.sha256)),
                           3_600_000)[0]
    assert infos["robot_0"]["order_id"] == first.order_id

    lg = registry.env("logistics", registry.spec("logistics", **_SMALL["logistics"]))
    _, infos = lg.reset(seed=seed)
    request_ss, eval_ss = twin_sequence(seed, lg.twin.spec.sha256).spawn(2)
    rng, drawn = np.random.default_rng(request_ss), []
    while not drawn:
        drawn = lg.twin.orders(rng, 3_600_000)
    assert infos["truck_0"]["order_id"] == drawn[0].order_id
    assert lg.eval_seed == int(np.random.default_rng(eval_ss).integers(0, 2**31))
    lg.reset(seed=seed, options={"order": drawn[0]})
    assert lg.eval_seed == int(np.random.default_rng(eval_ss).integers(0, 2**31))

    wf = registry.env("windfarm", registry.spec("windfarm", **_SMALL["windfarm"]))
    wf.reset(seed=seed)
    rng = np.random.default_rng(twin_sequence(seed, wf.spec.sha256))
    age, wear = draw_states(wf._farm, rng, wf._farm.n_turbines)
    assert np.array_equal(wf._age_h, age) and np.array_equal(wf._wear, wear)
