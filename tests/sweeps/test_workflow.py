"""The economist's workflow on real runs: tokens where people read, exact amounts where programs
read, one fixed results schema, a tick panel across the sweep, common random numbers for every
protocol rule, and warnings instead of silent answers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import scenarios
from economy.summary import from_json, is_money
from sweeps import analysis
from sweeps.panel import panel
from twinecon.cli import main

FAST = ["--ledger", "memory", "--signatures", "off"]


def _sweep(tmp_path: Path, name: str, *args: str, ticks: int = 30) -> Path:
    out = tmp_path / name
    assert main(["sweep", "warehouse-market", *args, "--ticks", str(ticks), *FAST, "--quiet",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def rule_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two rules (a fee and the licence, in tokens smaller than a base-unit float shows) and a
    policy param, 2 seeds each: 8 runs of 30 ticks."""
    root = tmp_path_factory.mktemp("workflow")
    out = root / "rules"
    assert main(["sweep", "warehouse-market", "--set", "rules.fees.platform_fee_bps=0,1000",
                 "--set", "twin.licence_per_cu=0,0.0000005", "--set",
                 "agents.1.params.value_share_bps=8000,6000", "--zip", "--seeds", "2",
                 "--ticks", "30", *FAST, "--quiet", "--out", str(out)]) == 0
    return out


def test_summary_json_is_exact_and_readable_by_pandas(tmp_path: Path) -> None:
    """Amounts are decimal strings of base units (exact at any size) with a float in tokens
    beside each; pandas reads the file; from_json gives back the run's own ints."""
    loaded = scenarios.apply_overrides(scenarios.load_scenario("warehouse-market"), ticks=20,
                                       ledger="memory")
    result = scenarios.run_scenario(loaded, tmp_path / "run")
    path = tmp_path / "run" / "summary.json"
    series = pd.read_json(path, typ="series")
    data = json.loads(path.read_text())
    assert data["supply"] == str(result.summary["supply"]) and result.summary["supply"] > 2**64
    assert data["supply_tokens"] == result.summary["supply"] / 10**18
    assert int(series["supply"]) == result.summary["supply"]
    assert data["pnl_by_group"]["customer"]["agents"] == 8  # a count stays a number
    assert isinstance(data["pnl_by_group"]["customer"]["profit"], str)
    assert from_json(data) == json.loads(json.dumps(result.summary))
    assert is_money(("markets", "compute", "price_per_cu_mean"))
    assert not is_money(("markets", "compute", "cu_leased"))


def test_results_schema_is_fixed_whatever_the_magnitudes(tmp_path: Path) -> None:
    """Every amount is decimal128(38, 0) with a float64 `_tokens` twin, in a 2-tick sweep
    (amounts 0 or small) and a 30-tick one alike: a longer sweep never changes the schema."""
    short = pq.read_schema(_sweep(tmp_path, "short", ticks=2) / "results.parquet")
    long = pq.read_schema(_sweep(tmp_path, "long", ticks=30) / "results.parquet")
    assert short.field("price_mean").type == pa.decimal128(38, 0)
    assert short.field("burned").type == pa.decimal128(38, 0)
    assert short.field("price_mean_tokens").type == pa.float64()
    assert short.field("jobs_completed").type == pa.int64()
    common = set(short.names) & set(long.names)
    assert {n for n in common if short.field(n).type != long.field(n).type} == set()
    exact = duckdb.sql(f"select supply, supply_tokens from '{tmp_path}/long/results.parquet'"
                       ).fetchall()[0]
    assert isinstance(exact[0], Decimal) and float(exact[0]) / 1e18 == pytest.approx(exact[1])


def test_small_token_amounts_set_from_the_command_line(tmp_path: Path) -> None:
    """--set twin.licence_per_cu=0.0000005 (and quoted) is tokens, exact in base units."""
    for text in ("0.0000005", '"0.0000005"', "0.0000005 tokens"):
        out = tmp_path / f"run{len(text)}"
        assert main(["run", "warehouse-market", "--ticks", "2", *FAST, "--quiet", "--out",
                     str(out), "--set", f"twin.licence_per_cu={text}"]) == 0
        config = json.loads((out / "manifest.json").read_text())["config"]
        assert scenarios.to_base_units(config["twin"]["licence_per_cu"]) == 500_000_000_000


def test_protocol_rules_and_policy_params_share_the_demand(rule_sweep: Path) -> None:
    """Points differing in a fee, the licence and a policy param face the same requests per
    seed (the tick panel's `orders` match tick by tick), and sweep.json says so."""
    sweep = json.loads((rule_sweep / "sweep.json").read_text())
    assert sweep["exogenous"] == []
    assert all(p["exogenous"] is False for p in sweep["params"])
    ticks = panel(rule_sweep)
    orders = ticks.pivot_table(index=["seed", "tick"], columns="point_index", values="orders")
    assert (orders.nunique(axis=1) == 1).all()
    assert orders.to_numpy().sum() > 0
    paired = analysis.paired(*analysis.load(rule_sweep), metrics="orders")
    assert paired["same_exogenous"].all() and (paired["diff"] == 0).all()
    # the licence reached the ledger as tokens, not rounded to 0 or 1
    results = pd.read_parquet(rule_sweep / "results.parquet")
    assert sorted(results["twin_licence_per_cu"].unique()) == [0.0, 5e-07]


def test_the_twin_is_exogenous(tmp_path: Path) -> None:
    """A parameter of the request process (the tick's length) changes the draws and is marked
    so: a paired comparison across it says the draws are not shared."""
    out = _sweep(tmp_path, "tick", "--set", "economy.tick_ms=60000,120000", ticks=5)
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["exogenous"] == ["economy_tick_ms"]
    assert not analysis.paired(*analysis.load(out), metrics="orders")["same_exogenous"].any()


def test_the_panel_has_every_run_and_tick_with_its_parameters(rule_sweep: Path,
                                                              capsys) -> None:
    ticks = panel(rule_sweep)
    results = pd.read_parquet(rule_sweep / "results.parquet")
    assert len(ticks) == len(results) * 31  # ticks 0..30 of each run
    for column in ("run_id", "point_id", "seed", "rules_fees_platform_fee_bps",
                   "twin_licence_per_cu", "agents_1_params_value_share_bps", "tick", "volume"):
        assert column in ticks.columns
    merged = ticks.groupby("run_id")["completed"].sum()
    assert merged.to_dict() == results.set_index("run_id")["jobs_completed"].to_dict()
    in_tokens = panel(rule_sweep, tokens=True)
    assert in_tokens["volume"].dtype == "float64"
    assert in_tokens["volume"].sum() == pytest.approx(
        sum(int(v) for v in ticks["volume"]) / 1e18)
    assert main(["panel", str(rule_sweep)]) == 0
    assert f"{len(ticks):,} rows" in capsys.readouterr().out
    assert main(["query", str(rule_sweep), "select count(*) as n, sum(tokens(volume)) as v "
                 "from ticks"]) == 0
    assert str(len(ticks)) in capsys.readouterr().out


def test_sampled_points_are_recorded_as_the_runs_used_them(tmp_path: Path) -> None:
    """A sampled float for an int key is the int the run used, in sweep.json, results and the
    run's own scenario."""
    out = _sweep(tmp_path, "sampled", "--sample", "random:3", "--range",
                 "economy.order_lapse_ticks=10:50", ticks=2)
    results = pd.read_parquet(out / "results.parquet")
    for row in results.itertuples():
        config = json.loads((out / "runs" / row.run_id / "manifest.json").read_text())["config"]
        assert row.economy_order_lapse_ticks == config["economy"]["order_lapse_ticks"]
        assert float(row.economy_order_lapse_ticks).is_integer()
    # a policy param the scenario leaves at its default: an int, as the constructor's default
    out = _sweep(tmp_path, "param", "--sample", "random:2", "--range",
                 "agents.1.params.memory=4:32", ticks=2)
    results = pd.read_parquet(out / "results.parquet")
    assert (results.status == "ok").all()
    assert all(float(v).is_integer() for v in results["agents_1_params_memory"])


def test_analyze_states_its_level_and_units_and_warns(rule_sweep: Path, tmp_path: Path,
                                                      capsys) -> None:
    assert main(["analyze", str(rule_sweep), "--metric", "price_mean", "--paired",
                 "--confidence", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "90 % t-interval" in out and "Money in tokens: price_mean" in out
    for column in ("p_t", "p_perm", "effect", "seeds_needed"):
        assert column in out
    price = analysis.summarize(*analysis.load(rule_sweep), metrics="price_mean")["mean"]
    assert (price < 1).all()  # tokens, not 10^16 base units
    short = _sweep(tmp_path, "empty", "--seeds", "2", ticks=2)
    assert main(["analyze", str(short), "--metric", "jobs_completed"]) == 0
    err = capsys.readouterr().err
    assert "no run completed a job" in err and "zero variance): jobs_completed (0)" in err


def test_report_cli_takes_metrics_and_a_baseline(rule_sweep: Path, capsys) -> None:
    assert main(["report", str(rule_sweep), "--metric", "price_mean", "--metric", "treasury",
                 "--baseline", "1"]) == 0
    html = (rule_sweep / "report.html").read_text()
    assert "Paired differences against the baseline" in html
    assert "mean price (tokens)" in html and "95 % CI" in html
    assert main(["report", str(rule_sweep), "--baseline", "nope"]) == 2
    assert "--baseline" in capsys.readouterr().err


def test_a_run_that_completes_nothing_says_so(tmp_path: Path, capsys) -> None:
    """A run whose customers post nothing worth a service ends with a warning, and the table
    shows the rejected actions by role."""
    assert main(["run", "warehouse-market", "--ticks", "3", *FAST, "--out",
                 str(tmp_path / "r")]) == 0
    captured = capsys.readouterr()
    assert "rejected actions" in captured.out
    assert "twinecon: warning:" in captured.err and "job" in captured.err
