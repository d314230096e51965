"""The economy over the shipped test double: any registered twin kind runs the whole market,
through the twin protocol alone (the toy courier twin offers tiers L0 and L1, no L2)."""

from __future__ import annotations

import pytest

import scenarios


@pytest.fixture
def toy_market(small_market):
    small_market["twin"] = {"kind": "toy", "params": {"rate_per_h": 30}}
    small_market["ticks"] = 16
    return small_market


def test_the_whole_market_runs_on_the_toy_twin(toy_market, run, write_toml) -> None:
    """Customers post the toy's requests, providers buy sim time and deliver tested plans that
    beat the baseline; the twin id is the toy's."""
    result = run(write_toml(toy_market, "toy"))
    s = result.summary
    assert result.manifest["twin_id"].startswith("toy/toy-default@1.0.0+")
    assert s["jobs_completed"] > 5 and s["cu_sold"] > 0 and s["policy_faults"] == 0
    assert s["time_ratio_by_provider_group"]["thorough"] < 1.0
    assert s["customer_value"] > 0


def test_a_tier_the_twin_offers_is_bought_and_one_it_lacks_is_refused(toy_market, run,
                                                                       read_table,
                                                                       write_toml) -> None:
    """Jobs judged at L0 (the toy's analytic tier) trade; jobs asking for L2 are refused with
    bad_tier naming the tiers the twin offers, and the run goes on."""
    toy_market["agents"][1]["params"]["tier"] = "L0"
    s = run(write_toml(toy_market, "l0")).summary
    assert s["jobs_completed"] > 0
    toy_market["agents"][1]["params"]["tier"] = "L2"
    result = run(write_toml(toy_market, "l2"))
    events = read_table(result, "events")
    refused = events[events.kind == "action_rejected"]
    assert len(refused) > 0 and refused.detail.str.contains("PostJob:bad_tier").all()
    assert refused.detail.str.contains("it offers L0, L1").all()
    assert result.summary["jobs_posted"] == 0


def test_an_unregistered_twin_kind_is_refused_with_a_near_match(small_market,
                                                                write_toml) -> None:
    small_market["twin"] = {"kind": "warehose"}
    with pytest.raises(scenarios.ScenarioError, match=r"twin.kind: .*did you mean 'warehouse'"):
        scenarios.load_scenario(write_toml(small_market, "kind"))
