"""The run's seed tree: one key per stream, streams independent of each other, and every
stream of agent i independent of how many agents come after it."""

from __future__ import annotations

import random

import numpy as np
import pytest
from eth_utils import keccak

import scenarios
from chain import Identity
from chain.identity import address_of_key
from twinecon.seeds import IDENTITY_DOMAIN, SYSTEM_INDEX, SeedTree, Stream, twin_sequence


def test_stream_keys_are_unique() -> None:
    """No two streams share a key, so no two streams draw the same numbers."""
    values = [s.value for s in Stream]
    assert len(values) == len(set(values))
    tree = SeedTree(3)
    firsts = {tree.integer(s, 0) for s in Stream if s is not Stream.IDENTITY}
    assert len(firsts) == len(Stream) - 1


def test_a_stream_is_the_same_every_time_and_differs_by_index_and_seed() -> None:
    """The same (seed, stream, indices) gives the same draws; another index, another seed or
    another stream gives others."""
    a = SeedTree(7).rng(Stream.DEMAND, 2).integers(2**62, size=4).tolist()
    assert a == SeedTree(7).rng(Stream.DEMAND, 2).integers(2**62, size=4).tolist()
    for other in (SeedTree(7).rng(Stream.DEMAND, 3), SeedTree(8).rng(Stream.DEMAND, 2),
                  SeedTree(7).rng(Stream.POLICY, 2)):
        assert other.integers(2**62, size=4).tolist() != a


def test_policy_reset_seed_is_not_its_observation_stream() -> None:
    """The seed a policy's reset gets is drawn from its own stream, not the first word of the
    generator it observes (a policy seeding a generator from it would replay obs.rng)."""
    tree = SeedTree(11)
    for i in range(20):
        reset = tree.integer(Stream.POLICY_RESET, i)
        assert reset != tree.integer(Stream.POLICY, i)
        assert reset != int(tree.sequence(Stream.POLICY, i).generate_state(1)[0])


def test_identities_follow_the_documented_derivation() -> None:
    """Keys come from IDENTITY_DOMAIN, the seed and the index; system keys sit at their
    reserved indices."""
    tree = SeedTree(5)
    assert tree.identity_material(3) == (IDENTITY_DOMAIN + (5).to_bytes(32, "big")
                                         + (3).to_bytes(32, "big"))
    assert Identity.derive(5, 3).address != Identity.derive(5, 4).address
    expected = address_of_key(keccak(tree.identity_material(3) + (0).to_bytes(4, "big")))
    assert Identity.derive(5, 3).address == expected
    assert len(set(SYSTEM_INDEX.values())) == 3 and min(SYSTEM_INDEX.values()) > 10**9
    with pytest.raises(ValueError, match="identities are keys"):
        tree.rng(Stream.IDENTITY, 0)


def test_twin_sequence_mixes_in_the_spec_hash() -> None:
    """Two twins evaluated with one seed draw independently."""
    a = np.random.default_rng(twin_sequence(7, "ab" * 32)).integers(2**62)
    b = np.random.default_rng(twin_sequence(7, "cd" * 32)).integers(2**62)
    assert a != b


def test_bad_seeds_are_refused() -> None:
    for bad in (-1, 1.5, True, "7"):
        with pytest.raises(ValueError, match="run seed"):
            SeedTree(bad)  # type: ignore[arg-type]


def test_adding_an_agent_leaves_what_the_others_draw_unchanged(small_market,
                                                               write_toml) -> None:
    """With one more agent at the end of the population, agents 0..N keep their keys, their
    policy streams, their reset seeds, and the customers their orders."""
    def build(extra: int):
        data = {**small_market, "agents": [dict(g) for g in small_market["agents"]]}
        data["agents"][-1]["count"] += extra
        built = scenarios.build(scenarios.load_scenario(write_toml(data, f"n{extra}")))
        model = built.model
        for _ in range(20):
            model.begin_tick()  # the world phase only: demand drawn, nobody acts
            model.resolve([])
            model.end_tick()
        rows = []
        for agent in built.agents:
            obs = model.observe(agent)
            rows.append((agent.address, int(obs.rng.integers(2**62)),
                         model.seeds.integer(Stream.POLICY_RESET, agent.index),
                         tuple(o.order_id for o in obs.orders)))
        return rows

    n, n_plus_one = build(0), build(1)
    assert len(n_plus_one) == len(n) + 1
    assert n_plus_one[:len(n)] == n
    assert any(row[3] for row in n)  # customers did receive orders to compare


def test_global_random_state_does_not_reach_a_run(small_market, write_toml) -> None:
    """Nothing in a run reads numpy's or Python's global random state: reseeding them
    changes no output."""
    small_market["ticks"] = 8

    def summary(global_seed: int) -> dict:
        np.random.seed(global_seed)
        random.seed(global_seed)
        built = scenarios.build(scenarios.load_scenario(write_toml(small_market, "g")))
        for _ in range(8):
            built.model.step()
        return built.model.summary()

    assert summary(1) == summary(2)
