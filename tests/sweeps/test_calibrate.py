"""twinecon calibrate: recovering known parameters from data the simulator made, both target
formats, money compared in tokens, reruns that reuse every run, and errors as one line.

The observed data come from runs at known parameter values on seeds the calibration never
uses; nothing asserts a simulator output by value, only how the fit relates to the truth.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from scenarios.loading import load_scenario
from scenarios.run import apply_overrides, run_scenario
from sweeps.calibrate import (
    NEWTON_STEPS,
    calibrate,
    load_target,
    parse_param,
    summary_moments,
)
from sweeps.plan import SweepError
from twinecon.cli import main

#: A cheap economy: the warehouse market on the Python ledger, signatures off, 30 ticks.
FAST = {"ticks": 30, "ledger": "memory", "signatures": "off"}
FAST_ARGS = ["--ticks", "30", "--ledger", "memory", "--signatures", "off"]
#: The demand rate per customer (orders per hour, an int) and the compute sellers' cost per
#: CU (tokens): the first moves the orders, the second the price of sim time.
RATE, COST = "twin.params.order_rate_per_h", "economy.compute_cost_per_cu"
TRUTH = {RATE: 9, COST: 0.000002}
BOX = {RATE: (2, 14), COST: (0.0000005, 0.000004)}

README = Path(__file__).resolve().parents[2] / "README.md"
#: The README's calibration block, run as written (from a scratch folder).
README_SNIPPET = re.search(r"```sh\n(.*?)```", README.read_text()[
    README.read_text().index("### Calibrate to data"):], re.S).group(1).strip()


def _observe(out: Path, seeds: range, point: dict) -> list[dict]:
    """Runs of warehouse-market at `point` on `seeds` (never the calibration's): summaries."""
    summaries = []
    for seed in seeds:
        loaded = apply_overrides(load_scenario("warehouse-market"), seed=seed, sets=point,
                                 **FAST)
        summaries.append(run_scenario(loaded, out / f"observed-{seed}").summary)
    return summaries


def _tokens(amount: object, decimals: int) -> float:
    """A summary amount (an int, or a decimal string of base units) in tokens, by hand."""
    return int(str(amount)) / 10**decimals


@pytest.mark.slow
def test_recovers_known_parameters_within_their_intervals(tmp_path: Path) -> None:
    """Moments of 4 runs at known (rate, cost): the truth lies in each reported interval and
    near the best; the fit matches; a rerun of the same call reuses every run, same result."""
    summaries = _observe(tmp_path, range(1000, 1004), TRUTH)
    decimals = summaries[0]["decimals"]
    orders = sum(s["orders"] for s in summaries) / len(summaries)
    price = sum(_tokens(s["markets"]["compute"]["price_per_cu_mean"], decimals)
                for s in summaries) / len(summaries)  # tokens, converted independently
    pd.DataFrame({"moment": ["orders", "markets_compute_price_per_cu_mean"],
                  "value": [orders, price]}).to_parquet(tmp_path / "moments.parquet")
    loaded = apply_overrides(load_scenario("warehouse-market"), **FAST)
    bounds = [parse_param(f"{k}={lo}:{hi}", loaded) for k, (lo, hi) in BOX.items()]
    assert [b.integer for b in bounds] == [True, False]
    target = load_target(tmp_path / "moments.parquet")
    out = tmp_path / "cal"

    def fit():
        return calibrate(loaded, target, bounds, out_dir=out, seeds=2, trials=16, workers=2,
                         sampler_seed=0, noise_seeds=10)

    result = fit()
    for e, b in zip(result.estimates, bounds, strict=True):
        truth, width = TRUTH[e.key], b.high - b.low
        assert e.sd is not None and 0 < e.sd < width, (e, result.note)
        low, high = e.interval
        assert low <= truth <= high, (e, result.note)
        assert abs(e.best - truth) <= 0.2 * width, e
        print(f"{e.key}: true {truth}, best {e.best:.4g}, sd {e.sd:.3g}, 90% interval "
              f"[{low:.4g}, {high:.4g}]")
    fits = {f.name: f for f in result.fit}
    assert fits["orders"].observed == orders
    assert math.isclose(fits["markets_compute_price_per_cu_mean"].observed, price)
    assert abs(fits["markets_compute_price_per_cu_mean"].difference) < 0.1 * price
    assert result.loss == min(t.loss for t in result.trials if t.loss is not None)
    assert 16 <= len(result.trials) <= 16 + NEWTON_STEPS  # TPE's, then Gauss-Newton steps
    written = json.loads((out / "calibration.json").read_text())
    assert written["best"]["params"] == result.best and len(written["trials"]) == len(
        result.trials)
    trials = pd.read_parquet(out / "trials.parquet")
    assert len(trials) == len(result.trials)
    assert {"trial", "source", "loss", "twin_params_order_rate_per_h",
            "economy_compute_cost_per_cu", "term_orders"} <= set(trials.columns)
    runs = sorted(p.name for p in (out / "runs").iterdir())
    again = fit()  # the same call: the same candidates, every run found finished
    assert sorted(p.name for p in (out / "runs").iterdir()) == runs
    assert again.describe() == result.describe()


def test_time_series_target_compares_money_in_tokens(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A run's ticks.parquet is a time-series target: its decimal128 money (compute_spend,
    base units) is compared in tokens, its float tokens (compute_price_mean) as they are."""
    _observe(tmp_path, range(2000, 2001), {COST: 0.000002})
    ticks = tmp_path / "observed-2000" / "ticks.parquet"
    code = main(["calibrate", "warehouse-market", "--target", str(ticks), "--fit",
                 "compute_spend", "--fit", "compute_price_mean", "--param",
                 f"{COST}=0.0000005:0.000004", *FAST_ARGS, "--seeds", "2", "--trials", "6",
                 "--noise-seeds", "3", "--out", str(tmp_path / "cal"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "parameter" in out and "90% interval" in out and COST in out
    assert "compute_spend" in out and "observed" in out and "simulated" in out
    written = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert written["target"]["kind"] == "series"
    observed = pd.read_parquet(ticks)
    spend = [int(v) / 10**18 for v in observed["compute_spend"]]  # base units, by hand
    fit = {f["name"]: f for f in written["fit"]}
    assert fit["compute_spend"]["n"] == len(spend)
    assert math.isclose(fit["compute_spend"]["observed"], sum(spend) / len(spend))
    assert fit["compute_spend"]["simulated"] < 100 * max(spend)  # tokens on both sides
    assert len(written["trials"]) >= 6


def test_moments_target_with_weights_and_scales(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A moments parquet with weight and scale columns: the loss uses them as given, and a
    moment's term is its weight times its squared difference over its scale (less noise)."""
    pd.DataFrame({"moment": ["orders", "jobs_posted"], "value": [30.0, 25.0],
                  "weight": [2.0, 0.5], "scale": [5.0, 10.0]}).to_parquet(
        tmp_path / "m.parquet")
    code = main(["calibrate", "warehouse-market", "--target", str(tmp_path / "m.parquet"),
                 "--param", f"{RATE}=4:12", *FAST_ARGS, "--trials", "4", "--seeds", "1",
                 "--noise-seeds", "0", "--out", str(tmp_path / "cal"), "--quiet"])
    assert code == 0
    assert "orders" in capsys.readouterr().out
    written = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert written["target"]["weights"] == [2.0, 0.5]
    assert written["target"]["scales"] == [5.0, 10.0]
    assert written["uncertainty"]["intervals"] == {RATE: None}  # no fresh runs, no interval
    for f in written["fit"]:  # the term is the weighted squared standardised difference
        assert math.isclose(f["term"], f["weight"] * (f["difference"] / f["scale"]) ** 2)
    best = min(written["trials"], key=lambda t: t["loss"])
    assert math.isclose(best["loss"], sum(f["term"] for f in written["fit"]))


def test_summary_moments_are_tokens_counts_and_nan() -> None:
    """summary.json leaves by their flattened names: money (ints or decimal strings of base
    units) in tokens, counts as they are, None as NaN."""
    moments = summary_moments({"decimals": 2, "orders": 7, "price_mean": "1250",
                               "price_mean_tokens": 12.5, "time_ratio_mean": None,
                               "markets": {"compute": {"price_per_cu_mean": 300, "hhi": 0.5}},
                               "pnl_by_group": {"thorough": {"agents": 2, "profit": "-50"}}})
    assert moments["orders"] == 7 and moments["price_mean"] == 12.5
    assert moments["price_mean_tokens"] == 12.5
    assert moments["markets_compute_price_per_cu_mean"] == 3.0
    assert moments["markets_compute_hhi"] == 0.5
    assert moments["pnl_by_group_thorough_agents"] == 2  # a count
    assert moments["pnl_by_group_thorough_profit"] == -0.5
    assert math.isnan(moments["time_ratio_mean"])


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run `twinecon calibrate ...`: exit 2, one line on stderr, no traceback."""
    assert main(["calibrate", "warehouse-market", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("twinecon: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_errors_are_one_line_naming_the_problem(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown moment or column names the file, the name, a close match and what there is;
    a bad range, an unknown key and a missing file are named too."""
    moments = tmp_path / "moments.parquet"
    pd.DataFrame({"moment": ["jobs_complete"], "value": [3.0]}).to_parquet(moments)
    series = tmp_path / "series.parquet"
    pd.DataFrame({"tick": [1, 2], "ordrs": [1.0, 2.0]}).to_parquet(series)
    common = [*FAST_ARGS[:1], "5", *FAST_ARGS[2:], "--trials", "1", "--seeds", "1",
              "--noise-seeds", "0", "--out", str(tmp_path / "cal"), "--quiet"]
    rate = ["--param", f"{RATE}=2:14"]
    err = _error(["--target", str(moments), *rate, *common], capsys)
    assert str(moments) in err and "'jobs_complete'" in err
    assert "did you mean 'jobs_completed'" in err and "orders" in err
    err = _error(["--target", str(series), *rate, *common], capsys)
    assert str(series) in err and "'ordrs'" in err and "'orders'" in err
    assert "price_mean" in err
    err = _error(["--target", str(moments), "--param", f"{RATE}=14:2", *common], capsys)
    assert f"--param '{RATE}=14:2'" in err and "lo < hi" in err
    err = _error(["--target", str(moments), "--param", "economy.time_valu_per_h=1:5",
                  *common], capsys)
    assert "time_valu_per_h" in err and "did you mean 'time_value_per_h'" in err
    err = _error(["--target", str(moments), "--param", "twin.params.order_rate_per_hr=1:5",
                  *common], capsys)
    assert "order_rate_per_hr" in err  # a twin parameter the twin does not take
    err = _error(["--target", str(tmp_path / "nope.parquet"), *rate, *common], capsys)
    assert "nope.parquet" in err and "no such file" in err
    err = _error(["--target", str(moments), "--fit", "orders", *rate, *common], capsys)
    assert "--fit orders" in err and "jobs_complete" in err
    with pytest.raises(SweepError, match="at least 1"):
        loaded = apply_overrides(load_scenario("warehouse-market"), **FAST)
        calibrate(loaded, load_target(moments), [parse_param(f"{RATE}=2:14", loaded)],
                  out_dir=tmp_path / "cal", seeds=0)


@pytest.mark.slow
def test_readme_snippet_runs_as_written(tmp_path: Path) -> None:
    """The README snippet (repo-root commands, with python -m twinecon for .venv/bin/twinecon)
    prints the parameter table and the fit, and writes calibration.json."""
    script = README_SNIPPET.replace(".venv/bin/twinecon", f"{sys.executable} -m twinecon")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "twin.params.order_rate_per_h" in done.stdout and "90% interval" in done.stdout
    assert "compute_price_mean" in done.stdout
    written = json.loads((tmp_path / "runs" / "calibration" / "calibration.json").read_text())
    assert set(written["best"]["params"]) == {RATE, COST}
