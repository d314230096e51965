"""The market the behavioural tests vary: warehouse-market's responding agents (value
customers, adaptive providers, priced evaluators, utilisation-priced compute), on the memory
ledger with signatures off, and paired comparisons over seeds.

A paired comparison runs the same seeds under two rules (the exogenous streams, orders and
arrivals, are the same in both) and reports the mean difference with its t-interval: the
textbook way to tell a rule's effect from sampling noise.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

import pytest
from scipy import stats

import scenarios
from scenarios.loading import LoadedScenario, find_scenario, validate_scenario

TOKEN = 10**18


def warehouse_market(**changes: Any) -> dict[str, Any]:
    """The built-in warehouse-market as data, without its cost-plus "hasty" group, with
    `changes` applied: "section.key" = value (e.g. "rules.fees.platform_fee_bps") and
    "agents.LABEL.key" = value for the agent group labelled (or of the role) LABEL."""
    data = tomllib.loads(find_scenario("warehouse-market").read_text())
    data["agents"] = [a for a in data["agents"] if a.get("label") != "hasty"]
    data["ledger"] = {"backend": "memory", "signatures": "off"}
    data.setdefault("economy", {})["debug_invariants"] = False
    for key, value in changes.items():
        *path, last = key.split(".")
        if path[0] == "agents":
            group = next(a for a in data["agents"]
                         if a.get("label", a["role"]) == path[1])
            target = group
            for part in path[2:]:
                target = target.setdefault(part, {})
        else:
            target = data
            for part in path:
                target = target.setdefault(part, {})
        target[last] = value
    return data


def run(data: dict[str, Any], seed: int, ticks: int | None = None) -> dict[str, Any]:
    """One run's summary (summary.json's fields) of scenario data at `seed`."""
    return run_model(data, seed, ticks).summary()


def run_model(data: dict[str, Any], seed: int, ticks: int | None = None) -> Any:
    """The model of scenario data at `seed`, run to its end."""
    data = copy.deepcopy(data)
    data["seed"] = seed
    if ticks is not None:
        data["ticks"] = ticks
    scenario = validate_scenario(data, "behaviour-test")
    model = scenarios.build(LoadedScenario(scenario=scenario, source="behaviour-test",
                                           base_dir=Path("."))).model
    for _ in range(scenario.ticks):
        model.step()
    return model


class Paired(NamedTuple):
    """The mean of paired differences b - a over seeds, with its 95 % t-interval."""

    mean: float
    lo: float
    hi: float
    a: tuple[float, ...]
    b: tuple[float, ...]

    @property
    def excludes_zero(self) -> bool:
        return self.lo > 0 or self.hi < 0


def interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi): the t-interval of a mean."""
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def paired(metric: Callable[[dict[str, Any]], float], a: dict[str, Any], b: dict[str, Any],
           seeds: Sequence[int], ticks: int | None = None) -> Paired:
    """`metric` of each seed's run under `a` and under `b`, and the interval of b - a."""
    xs = tuple(metric(run(a, s, ticks)) for s in seeds)
    ys = tuple(metric(run(b, s, ticks)) for s in seeds)
    mean, lo, hi = interval([y - x for x, y in zip(xs, ys, strict=True)])
    return Paired(mean, lo, hi, xs, ys)


def group(summary: dict[str, Any], label: str) -> dict[str, int]:
    """A scenario group's profit and loss by category (base units; `agents` its size)."""
    return summary["pnl_by_group"][label]


def provider_costs(pnl: dict[str, int]) -> int:
    """Everything a provider group spent to serve (positive base units)."""
    return -sum(pnl[k] for k in ("sim_time", "licence", "data", "fees", "platform",
                                 "royalties", "evaluation"))


def margin(summary: dict[str, Any], label: str = "thorough") -> float:
    """The group's price-cost margin (Lerner): its profit over its service revenue."""
    pnl = group(summary, label)
    return (pnl["service"] - provider_costs(pnl)) / pnl["service"] if pnl["service"] else 0.0


@pytest.fixture(scope="session")
def market() -> SimpleNamespace:
    """This module's helpers, for the behavioural tests."""
    return SimpleNamespace(warehouse_market=warehouse_market, run=run, run_model=run_model,
                           paired=paired, interval=interval, group=group, margin=margin,
                           TOKEN=TOKEN)
