"""Scaling the built-in scenario to a population size (shared by the benchmarks)."""

from __future__ import annotations

from dataclasses import replace

from scenarios import LoadedScenario, load_scenario
from scenarios.loading import validate_scenario


def scaled(n_agents: int, *, ticks: int, signatures: str = "off",
           ledger: str = "memory") -> LoadedScenario:
    """warehouse-market with every group's count scaled so the total is about `n_agents`."""
    loaded = load_scenario("warehouse-market")
    data = loaded.scenario.model_dump()
    total = sum(g["count"] for g in data["agents"])
    for g in data["agents"]:
        g["count"] = max(1, round(g["count"] * n_agents / total))
    data["ticks"] = ticks
    data["ledger"]["signatures"] = signatures
    data["ledger"]["backend"] = ledger
    data["economy"]["agents_every"] = 0  # final balances only: recording is not the subject
    return replace(loaded, scenario=validate_scenario(data, loaded.source))
