"""Sweeps: planning, resumable execution, failures, results.parquet, CRN, rerun, executors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest

from scenarios.loading import validate_scenario
from sweeps import SweepError, plan, run_sweep
from sweeps.cli import main


def _data(small_market: dict, ticks: int = 6) -> dict:
    loaded = validate_scenario({**small_market, "ticks": ticks}, "small.toml")
    return loaded.model_dump(mode="json")


def _plan(small_market: dict, sets: list[str], **kw):
    return plan(_data(small_market, kw.pop("ticks", 6)), scenario="small-market",
                source="small.toml", sets=sets, **kw)


def test_set_is_a_cartesian_product_and_zip_pairs(small_market) -> None:
    grid = _plan(small_market, ["ledger.transfer_fee_bps=0,50,100",
                                "economy.time_value_per_h=10,20"], seeds=2)
    assert grid.design == "grid" and len(grid.runs) == 3 * 2 * 2
    points = {tuple(r.point.values()) for r in grid.runs}
    assert points == {(f, v) for f in (0, 50, 100) for v in (10, 20)}
    zipped = _plan(small_market, ["ledger.transfer_fee_bps=0,50",
                                  "economy.time_value_per_h=10,20"], zip_values=True)
    assert [tuple(r.point.values()) for r in zipped.runs] == [(0, 10), (50, 20)]
    with pytest.raises(SweepError, match="same length"):
        _plan(small_market, ["ledger.transfer_fee_bps=0,50", "economy.time_value_per_h=1"],
              zip_values=True)


def test_run_ids_are_stable_and_seeds_shared(small_market) -> None:
    a = _plan(small_market, ["ledger.transfer_fee_bps=0,50"], seeds=3)
    b = _plan(small_market, ["ledger.transfer_fee_bps=0,50"], seeds=3)
    assert [r.run_id for r in a.runs] == [r.run_id for r in b.runs]
    assert len({r.run_id for r in a.runs}) == 6
    assert [r.seed for r in a.runs] == [11, 12, 13, 11, 12, 13]  # every point, same seeds


@pytest.mark.parametrize(("sets", "message"), [
    (["ledger.transfer_fee_bp=1,2"], "did you mean 'transfer_fee_bps'"),
    (["agents.9.count=1"], "list of 5"),
    (["nonsense"], "expected key=v1,v2"),
])
def test_bad_parameters_are_named(small_market, sets, message) -> None:
    with pytest.raises(SweepError, match=message):
        _plan(small_market, sets)


def test_sobol_sample_has_saltelli_size(small_market) -> None:
    sweep = _plan(small_market, [], sample="sobol:8",
                  ranges=["ledger.transfer_fee_bps=0:200", "economy.time_value_per_h=10:60"])
    assert sweep.design == "sobol" and len(sweep.runs) == 8 * (2 + 2)
    assert all(isinstance(r.data["rules"]["fees"]["transfer_fee_bps"], int) for r in sweep.runs)
    assert sweep.describe()["sobol"]["problem"]["names"] == [
        "ledger_transfer_fee_bps", "economy_time_value_per_h"]


def test_sweep_writes_one_results_row_per_run_readable_everywhere(small_market, tmp_path):
    sweep = _plan(small_market, ["ledger.transfer_fee_bps=0,100"], seeds=2)
    outcomes = run_sweep(sweep, tmp_path / "sw")
    assert [o.status for o in outcomes] == ["ok"] * 4
    path = tmp_path / "sw" / "results.parquet"
    df = pd.read_parquet(path)
    assert len(df) == 4 and set(df.run_id) == {r.run_id for r in sweep.runs}
    assert {"ledger_transfer_fee_bps", "seed", "orders", "jobs_completed", "burned",
            "point_id"} <= set(df.columns)
    assert pl.read_parquet(path).height == 4
    burned = duckdb.sql(f"select ledger_transfer_fee_bps f, sum(burned) b from '{path}' "
                        "group by f order by f").fetchall()
    assert burned[0][1] == 0 and burned[1][1] > 0
    # common random numbers: the fee (a protocol rule) does not change the demand per seed
    orders = df.pivot(index="seed", columns="ledger_transfer_fee_bps", values="orders")
    assert (orders[0] == orders[100]).all()
    again = run_sweep(sweep, tmp_path / "sw")
    assert [o.status for o in again] == ["skipped"] * 4
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(small_market, tmp_path) -> None:
    sweep = _plan(small_market, ["ledger.platform_fee_bps=100,20000"])  # 20000 bps: invalid
    outcomes = {o.point["ledger.platform_fee_bps"]: o for o in run_sweep(sweep, tmp_path / "s")}
    assert outcomes[100].status == "ok"
    assert outcomes[20000].status == "failed" and "platform_fee_bps" in outcomes[20000].error
    df = pd.read_parquet(tmp_path / "s" / "results.parquet")
    assert sorted(df.status) == ["failed", "ok"]
    kept = run_sweep(sweep, tmp_path / "s")
    assert sorted(o.status for o in kept) == ["failed", "skipped"]
    retried = run_sweep(sweep, tmp_path / "s", retry_failed=True)
    assert sorted(o.status for o in retried) == ["failed", "skipped"]
    assert [o.wall_s > 0 for o in retried if o.status == "failed"] == [True]


def test_another_sweep_into_the_same_folder_is_refused(small_market, tmp_path) -> None:
    run_sweep(_plan(small_market, ["ledger.transfer_fee_bps=0"]), tmp_path / "s")
    with pytest.raises(SweepError, match="another sweep"):
        run_sweep(_plan(small_market, ["ledger.transfer_fee_bps=5"]), tmp_path / "s")


def test_sweep_killed_with_sigkill_resumes_without_loss_or_duplicates(small_market, write_toml,
                                                                      tmp_path) -> None:
    """Kill a running sweep (SIGKILL) after some runs finished; rerun the same command: every
    run finishes once, finished runs are untouched, no temporary folder is left."""
    small_market["ticks"] = 25
    path = write_toml(small_market, "small")
    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "sweeps.cli", "sweep", str(path), "--set",
           "ledger.transfer_fee_bps=0,10,20,30,40,50,60,70,80,90", "--out", str(out), "--quiet",
           "--ledger", "memory"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = list((out / "runs").glob("*/summary.json")) if (out / "runs").exists() else []
        if len(done) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns
                for p in (out / "runs").glob("*/summary.json")}
    assert 2 <= len(finished) < 10, "kill the sweep mid-way"
    assert main(cmd[3:]) == 0  # the same command again
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert len(runs) == 10 and not [r for r in runs if r.startswith(".")]
    for run_id, mtime in finished.items():
        assert (out / "runs" / run_id / "summary.json").stat().st_mtime_ns == mtime
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 10 and df.run_id.is_unique and (df.status == "ok").all()


def test_rerun_reproduces_a_run_bit_for_bit(small_market, tmp_path, capsys) -> None:
    sweep = _plan(small_market, ["ledger.transfer_fee_bps=50"])
    run_sweep(sweep, tmp_path / "s")
    run_dir = tmp_path / "s" / "runs" / sweep.runs[0].run_id
    assert main(["rerun", str(run_dir)]) == 0
    assert "reproduces bit for bit" in capsys.readouterr().out
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["orders"] += 1  # tamper: the check must notice
    (run_dir / "summary.json").write_text(json.dumps(summary))
    assert main(["rerun", str(run_dir)]) == 1
    assert "summary.json" in capsys.readouterr().out


def test_query_prints_sql_over_results(small_market, tmp_path, capsys) -> None:
    run_sweep(_plan(small_market, ["ledger.transfer_fee_bps=0,100"]), tmp_path / "s")
    assert main(["query", str(tmp_path / "s"), "select count(*) as n from results"]) == 0
    assert capsys.readouterr().out.split() == ["n", "2"]
    assert main(["query", str(tmp_path / "nothing"), "select 1"]) == 2


def test_two_local_workers_give_the_same_results(small_market, tmp_path) -> None:
    sweep = _plan(small_market, ["ledger.transfer_fee_bps=0,25,50,75"])
    run_sweep(sweep, tmp_path / "one")
    run_sweep(sweep, tmp_path / "two", workers=2)
    one = pd.read_parquet(tmp_path / "one" / "results.parquet")
    two = pd.read_parquet(tmp_path / "two" / "results.parquet")
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.slow
def test_ray_gives_the_same_results_as_local_processes(small_market, tmp_path) -> None:
    """Ray (a local instance started for the sweep) and local processes: identical
    results.parquet, row order aside (rows follow the plan either way)."""
    pytest.importorskip("ray")
    sweep = _plan(small_market, ["ledger.transfer_fee_bps=0,50,100"], seeds=2)
    run_sweep(sweep, tmp_path / "local", workers=2)
    run_sweep(sweep, tmp_path / "ray", executor="ray", workers=2)
    local = pd.read_parquet(tmp_path / "local" / "results.parquet")
    ray = pd.read_parquet(tmp_path / "ray" / "results.parquet")
    pd.testing.assert_frame_equal(local.sort_values("run_id").reset_index(drop=True),
                                  ray.sort_values("run_id").reset_index(drop=True))


def test_sweep_help_states_product_and_zip(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = capsys.readouterr().out
    assert "CARTESIAN PRODUCT" in text and "--zip" in text and "element by element" in text


def test_bad_sweep_command_is_one_line_exit_2(tmp_path, capsys) -> None:
    assert main(["sweep", "warehouse-market", "--set", "ledger.nope=1", "--out",
                 str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "ledger.nope" in err
    assert not Path(tmp_path / "s").exists()


def test_sobol_sweep_to_sobol_indices_from_the_command_line(small_market, write_toml,
                                                            tmp_path, capsys) -> None:
    """sweep --sample sobol:N then analyze prints first- and total-order indices; a rule that
    cannot matter (the burn share with no fee) gets an index of zero."""
    small_market["ticks"] = 14
    small_market["ledger"]["transfer_fee_bps"] = 0
    path = write_toml(small_market, "small")
    out = tmp_path / "sob"
    assert main(["sweep", str(path), "--sample", "sobol:2", "--range",
                 "ledger.fee_burn_bps=0:10000", "--range", "economy.time_value_per_h=10:60",
                 "--out", str(out), "--quiet", "--ledger", "memory"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(out), "--metric", "consumer_surplus"]) == 0
    text = capsys.readouterr().out
    assert "S1" in text and "ST" in text
    rows = {line.split()[1]: line.split()[2:] for line in text.splitlines()
            if line.startswith("consumer_surplus")}
    assert rows["ledger_fee_burn_bps"][0] == "0"  # S1 of a rule that cannot matter here
    assert float(rows["economy_time_value_per_h"][2]) > 0.5  # ST: value per hour drives it


def test_every_protocol_rule_counts_as_a_rule_for_paired_analysis() -> None:
    """A `[rules.*]` key is a protocol rule (points differing only in it share demand per seed,
    so `analyze --paired` may pair them), as a `ledger.*` key is; a population or twin key is
    not."""
    from sweeps.plan import Param

    for key in ("rules.fees.transfer_fee_bps", "rules.compute.clearing",
                "rules.compute.spot_check_bps", "ledger.transfer_fee_bps"):
        assert Param(key).rule, key
    for key in ("agents.2.params.candidates", "twin.params.n_aisles",
                "economy.time_value_per_h"):
        assert not Param(key).rule, key
