"""Shared fixtures for the economy, agents and scenarios tests: scenario files written to a
temporary folder, short runs of a scenario, and a scripted policy a test drives by hand. For
the rpc ledger tests: `hardhat_node`, a local hardhat JSON-RPC node shared by the session.

Scenario data is a plain dict in the schema's shape; `write_toml` turns it into a TOML file so
tests go through the same loading path (`scenarios.load_scenario`) users do.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import scenarios
from chain.node import LocalNode, NodeError, find_hardhat
from economy import Action, Observation

#: A small warehouse-market: 4 customers, one thorough provider group, evaluators, compute.
SMALL_MARKET: dict[str, Any] = {
    "name": "small-market",
    "seed": 11,
    "ticks": 20,
    "ledger": {"signatures": "off", "transfer_fee_bps": 50, "fee_burn_bps": 5000,
               "platform_fee_bps": 200, "evaluator_fee_bps": 300},
    "economy": {"tick_ms": 60000, "time_value_per_h": 30},
    "twin": {"params": {"n_aisles": 10, "slots_per_aisle": 20, "storage": "abc",
                        "order_rate_per_h": 6, "lines_mean": 5}},
    "agents": [
        {"role": "world", "policy": "idle", "count": 1},
        {"role": "customer", "policy": "customer", "count": 4, "balance": 200,
         "params": {"budget_per_line": "0.06 tokens", "max_open_jobs": 2, "expires_in": 12,
                    "min_gain_bps": 300}},
        {"role": "provider", "label": "thorough", "policy": "provider", "count": 2,
         "balance": 50,
         "params": {"candidates": 8, "markup_bps": 2000, "base_fee": "0.01 tokens"}},
        {"role": "evaluator", "policy": "evaluator", "count": 2, "balance": 50},
        {"role": "compute", "policy": "compute", "count": 2, "balance": 10,
         "params": {"price_per_cu": "0.000002 tokens", "capacity_cu": 2_000_000}},
    ],
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def to_toml(data: dict[str, Any]) -> str:
    """A scenario dict as TOML text (top-level keys, [sections], [[agents]])."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and k != "agents"]
    for section, body in data.items():
        if isinstance(body, dict):
            lines.append(f"\n[{section}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in body.items()]
    for group in data.get("agents", []):
        lines.append("\n[[agents]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in group.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def small_market() -> dict[str, Any]:
    """A fresh, mutable copy of the small market scenario data."""
    return copy.deepcopy(SMALL_MARKET)


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[..., Path]:
    """Write scenario data (a dict) or raw TOML text to `tmp_path/<name>.toml`."""

    def write(data: dict[str, Any] | str, name: str = "scenario") -> Path:
        path = tmp_path / f"{name}.toml"
        path.write_text(data if isinstance(data, str) else to_toml(data), encoding="utf-8")
        return path

    return write


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., scenarios.RunResult]:
    """Run a scenario (a name, a path or a LoadedScenario) into a fresh folder under tmp_path."""
    counter = iter(range(10**6))

    def go(ref: str | Path | scenarios.LoadedScenario, *, strict: bool = False,
           **overrides: Any) -> scenarios.RunResult:
        loaded = ref if isinstance(ref, scenarios.LoadedScenario) else \
            scenarios.load_scenario(ref)
        if overrides:
            loaded = scenarios.apply_overrides(loaded, **overrides)
        return scenarios.run_scenario(loaded, tmp_path / f"run-{next(counter)}", strict=strict)

    return go


def read(result: scenarios.RunResult, table: str) -> pd.DataFrame:
    """One output table of a run, money columns as Python ints."""
    df = pd.read_parquet(result.out_dir / f"{table}.parquet")
    for column in ("amount", "balance", "volume", "supply", "burned", "treasury"):
        if column in df.columns:
            df[column] = [int(v) for v in df[column]]
    return df


@pytest.fixture
def read_table() -> Callable[[scenarios.RunResult, str], pd.DataFrame]:
    return read


class Script:
    """A policy a test drives: returns the actions pushed for the next tick, and keeps every
    observation it was given."""

    def __init__(self) -> None:
        self.queue: list[Action] = []
        self.seen: list[Observation] = []

    def push(self, *actions: Action) -> None:
        self.queue.extend(actions)

    def act(self, observation: Observation) -> list[Action]:
        self.seen.append(observation)
        out, self.queue = self.queue, []
        return out


@pytest.fixture
def build_model(
    write_toml: Callable[..., Path],
) -> Callable[..., tuple[scenarios.Built, dict[str, Script]]]:
    """Build scenario data in memory (no output folder), replacing the named agents' policies
    with `Script`s: `built, scripts = build_model(data, script=["customer-0"])`."""

    def make(data: dict[str, Any], script: tuple[str, ...] | list[str] = ()
             ) -> tuple[scenarios.Built, dict[str, Script]]:
        built = scenarios.build(scenarios.load_scenario(write_toml(data, "built")))
        scripts: dict[str, Script] = {}
        for agent in built.agents:
            if agent.label in script:
                agent.policy = scripts[agent.label] = Script()
        return built, scripts

    return make


@pytest.fixture(scope="session")
def hardhat_installed() -> None:
    """Skip the test when hardhat is not installed (`make node-deps`); fail instead if CI=true."""
    try:
        find_hardhat()
    except NodeError as e:
        reason = f"no local hardhat node: {e}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def hardhat_node(hardhat_installed: None) -> Iterator[LocalNode]:
    """A local hardhat node (chain id 31337) on a free 127.0.0.1 port, shared by the session;
    skipped without hardhat (failed if CI=true)."""
    with LocalNode.start() as node:
        yield node


@pytest.fixture
def one_error_line(capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Reads what a command printed and checks it is one `twinecon: error: ...` line on
    stderr and no traceback; returns that line."""
    def read() -> str:
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("twinecon: error: ")
        return lines[0]

    return read
