"""The ledger backends in whole runs: same scenario, same seed, same numbers on each."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import scenarios
from scenarios.cli import main


def _without_backend(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "ledger"}


def test_builtin_scenario_is_identical_on_memory_and_evm(run) -> None:
    """The built-in scenario gives a byte-identical summary.json (apart from the field naming
    the backend) and identical events, flows and ticks tables on memory and on the contracts."""
    memory, evm = run("warehouse-market", ledger="memory"), run("warehouse-market", ledger="evm")
    assert evm.manifest["ledger"] == evm.summary["ledger"] == "evm"
    assert memory.summary["ledger"] == "memory"
    assert memory.summary["jobs_completed"] > 20 and memory.summary["jobs_rejected"] > 0
    text_m = (memory.out_dir / "summary.json").read_text()
    text_e = (evm.out_dir / "summary.json").read_text()
    assert text_e == text_m.replace('"ledger": "memory"', '"ledger": "evm"')
    for table in ("events", "flows", "ticks", "agents"):
        pd.testing.assert_frame_equal(pd.read_parquet(memory.out_dir / f"{table}.parquet"),
                                      pd.read_parquet(evm.out_dir / f"{table}.parquet"))


@pytest.mark.parametrize("name,ticks", [("compute-call-market", 25),
                                        ("compute-sealed-auction", 25), ("ip-royalties", 12),
                                        ("warehouse-physics", 15)])
def test_full_economy_builtins_are_identical_on_memory_and_evm(run, name, ticks) -> None:
    """Leases under each clearing rule, licences, stakes and slashes, royalties, data pools,
    emissions and L2 jobs: the contracts give the reference ledger's outputs, byte for byte."""
    memory = run(name, ledger="memory", ticks=ticks)
    evm = run(name, ledger="evm", ticks=ticks)
    text_m = (memory.out_dir / "summary.json").read_text()
    assert (evm.out_dir / "summary.json").read_text() == text_m.replace(
        '"ledger": "memory"', '"ledger": "evm"')
    for table in ("events", "flows", "ticks"):
        pd.testing.assert_frame_equal(pd.read_parquet(memory.out_dir / f"{table}.parquet"),
                                      pd.read_parquet(evm.out_dir / f"{table}.parquet"))


@pytest.mark.rpc
def test_full_economy_on_a_hardhat_node_matches_memory(hardhat_node, run) -> None:
    """Royalties, the data pool, leases and emissions through a JSON-RPC node match the
    reference ledger."""
    memory = run("ip-royalties", ledger="memory", ticks=6)
    rpc = run("ip-royalties", ledger="rpc", rpc_url=hardhat_node.url, ticks=6)
    assert memory.summary["markets"]["royalties"]["volume"] > 0  # jobs completed, paid up
    assert _without_backend(rpc.summary) == _without_backend(memory.summary)
    pd.testing.assert_frame_equal(pd.read_parquet(memory.out_dir / "events.parquet"),
                                  pd.read_parquet(rpc.out_dir / "events.parquet"))


def test_evm_is_the_default_backend(small_market, write_toml) -> None:
    """Once parity holds, a scenario that does not name a backend runs on the contracts."""
    del small_market["ledger"]["signatures"]
    loaded = scenarios.load_scenario(write_toml(small_market, "plain"))
    assert loaded.scenario.ledger.backend == "evm"


@pytest.mark.rpc
def test_small_market_on_a_hardhat_node_matches_memory(hardhat_node, small_market, write_toml,
                                                       run) -> None:
    """The same run through a JSON-RPC node (every transaction a raw transaction signed by the
    agent's key) gives the reference ledger's summary and events."""
    small_market["ticks"] = 4
    path = write_toml(small_market, "small")
    memory = run(path, ledger="memory")
    rpc = run(path, ledger="rpc", rpc_url=hardhat_node.url)
    assert _without_backend(rpc.summary) == _without_backend(memory.summary)
    pd.testing.assert_frame_equal(pd.read_parquet(memory.out_dir / "events.parquet"),
                                  pd.read_parquet(rpc.out_dir / "events.parquet"))


def test_rpc_without_a_node_is_one_fixable_line(small_market, write_toml, tmp_path, capsys,
                                                monkeypatch) -> None:
    """`--ledger rpc` with no url and no node started: exit 2, one line saying what to do."""
    monkeypatch.chdir(tmp_path)  # no .twinecon/node state here
    path = write_toml(small_market, "small")
    assert main(["run", str(path), "--ledger", "rpc", "--quiet", "--out",
                 str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and len(err.splitlines()) == 1, err
    assert "ledger.backend" in err and "twinecon node start" in err
    assert not (tmp_path / "out").exists()


def test_unreachable_rpc_url_is_one_fixable_line(small_market, write_toml, tmp_path,
                                                 capsys) -> None:
    """A url where no node answers: exit 2, one line naming the url."""
    path = write_toml(small_market, "small")
    url = "http://127.0.0.1:9"  # discard port: nothing answers JSON-RPC there
    assert main(["run", str(path), "--ledger", "rpc", "--rpc-url", url, "--quiet",
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and url in err, err


def test_manifest_records_the_compiler_and_evm_versions(run, small_market, write_toml) -> None:
    """A run on the contracts records the compiler and EVM package versions it used."""
    small_market["ticks"] = 2
    result = run(write_toml(small_market, "small"), ledger="evm")
    versions = json.loads((result.out_dir / "manifest.json").read_text())["versions"]
    assert versions["vyper"].startswith("0.4") and versions["pyrevm"] != "not installed"


@pytest.mark.rpc
def test_readme_node_flow(hardhat_installed, small_market, write_toml, tmp_path, monkeypatch,
                          capsys) -> None:
    """The README's flow: `twinecon node start`, then `run --ledger rpc` with no url finds
    that node, then `node stop`."""
    monkeypatch.chdir(tmp_path)
    small_market["ticks"] = 2
    path = write_toml(small_market, "small")
    assert main(["node", "start"]) == 0
    try:
        url = capsys.readouterr().out.strip()
        assert url.startswith("http://127.0.0.1:")
        assert main(["run", str(path), "--ledger", "rpc", "--quiet", "--out", "out"]) == 0
        summary = json.loads((tmp_path / "out" / "summary.json").read_text())
        assert summary["ledger"] == "rpc" and int(summary["minted"]) > 0
    finally:
        assert main(["node", "stop"]) == 0
