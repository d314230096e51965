"""The built-in scenarios: each runs, trades its twin's services, and buying sim time pays."""

from __future__ import annotations

import pytest

import scenarios


def test_builtin_scenarios_are_listed() -> None:
    assert {"warehouse-market", "logistics-market", "windfarm-market"} <= set(
        scenarios.builtin_names())


def test_logistics_market_trades_routes_and_sim_time_buys_faster_routes(run) -> None:
    """Carriers post delivery requests; providers that test VRP candidates in the twin
    deliver routes much faster than the untested time-dependent dispatcher, which beats the
    shortest-path baseline; most jobs complete."""
    result = run("logistics-market", ledger="memory")
    s = result.summary
    assert result.manifest["twin_id"].startswith("logistics/lg-default@1.0.0+")
    assert s["jobs_completed"] > 50 and s["completion_rate"] > 0.5
    assert s["policy_faults"] == 0 and s["cu_sold"] > 0
    ratio = s["time_ratio_by_provider_group"]
    assert ratio["optimiser"] < ratio["dispatcher"] < 1.0
    assert s["customer_value"] > 0


def test_windfarm_market_trades_maintenance_schedules(run) -> None:
    """Operators post maintenance-planning requests; planned maintenance cuts downtime far
    below corrective repair; most jobs complete."""
    result = run("windfarm-market", ledger="memory", ticks=16)
    s = result.summary
    assert result.manifest["twin_id"].startswith("windfarm/wf-default@1.0.0+")
    assert s["jobs_completed"] > 10 and s["completion_rate"] > 0.5
    assert s["policy_faults"] == 0 and s["cu_sold"] > 0 and s["customer_value"] > 0
    ratio = s["time_ratio_by_provider_group"]
    assert ratio["planner"] < 0.6 and ratio["rule-of-thumb"] < 0.6


def test_old_name_of_time_value_is_still_read(small_market, write_toml) -> None:
    """`picker_cost_per_h` (the first name of `time_value_per_h`) still loads."""
    small_market["economy"] = {"tick_ms": 60000, "picker_cost_per_h": 45}
    loaded = scenarios.load_scenario(write_toml(small_market, "old"))
    assert loaded.scenario.economy.time_value_per_h == 45


@pytest.mark.parametrize("kind", ["logistics", "windfarm"])
def test_twin_params_are_checked_per_kind(small_market, write_toml, kind) -> None:
    """A parameter the kind's spec builder does not take is refused, naming the kind."""
    small_market["twin"] = {"kind": kind, "params": {"n_aisles": 4}}
    with pytest.raises(scenarios.ScenarioError, match=f"unknown {kind} parameter"):
        scenarios.build(scenarios.load_scenario(write_toml(small_market, "bad")))
