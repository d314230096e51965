"""sweeps.analysis on synthetic sweep folders (sweep.json + results.parquet written here, not by
the engine): per-point means and t intervals, Sobol indices of the Ishigami function, paired
differences under common random numbers, and results.parquet read by polars and duckdb."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sweeps import analysis
from sweeps.analysis import AnalysisError
from twinecon.errors import TwineconError

NOISE = [0.5, -1.0, 2.0, 0.3]  # seed noise of the summarize case, seeds 0..3


def _id(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def make_sweep(points: list[dict[str, Any]], seeds: list[int],
               metrics: Callable[[int, dict[str, Any], int], dict[str, Any]], *,
               params: list[dict[str, Any]], rules: list[str] = (),  # type: ignore[assignment]
               design: str = "grid", sobol: dict[str, Any] | None = None,
               failed: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
               ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A sweep in the engine's shape: `points` are {key: value}; `metrics(index, point, seed)`
    gives a run's summary leaves; (index, seed) in `failed` become failed runs."""
    columns = {p["key"]: p["column"] for p in params}
    runs, rows = [], []
    for index, point in enumerate(points):
        point_id = _id("point", point)
        for seed in seeds:
            run_id = _id("run", point, seed)
            runs.append({"run_id": run_id, "point_id": point_id, "point_index": index,
                         "seed": seed, "point": point})
            row: dict[str, Any] = {"run_id": run_id, "point_id": point_id, "point_index": index,
                                   "seed": seed, "status": "ok", "error": None,
                                   "wall_s": 0.25}
            row |= {columns[k]: v for k, v in point.items()}
            if (index, seed) in failed:
                row |= {"status": "failed", "error": "RuntimeError: boom"}
            else:
                row |= metrics(index, point, seed)
            rows.append(row)
    sweep: dict[str, Any] = {"scenario": "synthetic", "scenario_sha256": "0" * 64,
                             "design": design, "params": params, "seeds": seeds,
                             "rules": list(rules), "runs": runs}
    if sobol is not None:
        sweep["sobol"] = sobol
    df = pd.DataFrame(rows)
    df["point_index"] = df["point_index"].astype("int64")
    df["seed"] = df["seed"].astype("int64")
    return df, sweep


def write_sweep(folder: Path, df: pd.DataFrame, sweep: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sweep.json").write_text(json.dumps(sweep), encoding="utf-8")
    df.to_parquet(folder / "results.parquet", index=False)
    return folder


FEE = {"key": "ledger.transfer_fee_bps", "column": "ledger_transfer_fee_bps",
       "values": [0, 50, 100]}
TIME = {"key": "economy.time_value_per_h", "column": "economy_time_value_per_h",
        "values": [30, 60]}


def linear_sweep(failed: set[tuple[int, int]] = frozenset()  # type: ignore[assignment]
                 ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """customer_value = 2*fee + NOISE[seed]; jobs_completed = 10 + seed; plus non-metrics."""
    def metrics(index: int, point: dict[str, Any], seed: int) -> dict[str, Any]:
        return {"customer_value": 2.0 * point["ledger.transfer_fee_bps"] + NOISE[seed],
                "jobs_completed": 10 + seed, "twin_kind": "warehouse", "halted": False}

    points = [{"ledger.transfer_fee_bps": f} for f in FEE["values"]]
    return make_sweep(points, [0, 1, 2, 3], metrics, params=[FEE],
                      rules=["ledger_transfer_fee_bps"], failed=failed)


# --------------------------------------------------------------------------------------------
# load


def test_load_reads_both_files(tmp_path: Path) -> None:
    df, sweep = linear_sweep()
    folder = write_sweep(tmp_path / "sw", df, sweep)
    results, loaded = analysis.load(folder)
    assert loaded == sweep
    assert len(results) == 12
    assert results["seed"].dtype == "int64" and results["point_index"].dtype == "int64"


@pytest.mark.parametrize("broken", ["no-folder", "no-json", "no-parquet", "bad-json",
                                    "no-column", "no-key"])
def test_load_errors_name_the_file(tmp_path: Path, broken: str) -> None:
    df, sweep = linear_sweep()
    folder = write_sweep(tmp_path / "sw", df, sweep)
    expect = {"no-folder": "no such sweep folder", "no-json": "sweep.json: missing",
              "no-parquet": "results.parquet: missing", "bad-json": "sweep.json: not readable",
              "no-column": "ledger_transfer_fee_bps",
              "no-key": "sweep.json: a parameter without a 'key'"}[broken]
    if broken == "no-folder":
        folder = tmp_path / "nowhere"
    elif broken == "no-json":
        (folder / "sweep.json").unlink()
    elif broken == "no-parquet":
        (folder / "results.parquet").unlink()
    elif broken == "bad-json":
        (folder / "sweep.json").write_text("{not json")
    elif broken == "no-key":
        (folder / "sweep.json").write_text(json.dumps({**sweep, "params": ["fee"]}))
    else:
        df.drop(columns=["ledger_transfer_fee_bps"]).to_parquet(folder / "results.parquet")
    with pytest.raises(AnalysisError, match=expect) as info:
        analysis.load(folder)
    assert isinstance(info.value, TwineconError)


# --------------------------------------------------------------------------------------------
# summarize


def test_default_metrics_are_the_numeric_summary_columns() -> None:
    df, sweep = linear_sweep()
    assert analysis.metric_columns(df, sweep) == ["customer_value", "jobs_completed"]


def test_summarize_means_and_t_intervals() -> None:
    df, sweep = linear_sweep()
    out = analysis.summarize(df, sweep, confidence=0.95)
    assert list(out["metric"]) == ["customer_value", "jobs_completed"] * 3
    assert list(out["ledger_transfer_fee_bps"]) == [0, 0, 50, 50, 100, 100]
    value = out[out["metric"] == "customer_value"].reset_index(drop=True)
    noise = np.array(NOISE)
    lo, hi = stats.t.interval(0.95, len(noise) - 1, loc=noise.mean(),
                              scale=noise.std(ddof=1) / np.sqrt(len(noise)))
    for i, fee in enumerate([0, 50, 100]):
        row = value.loc[i]
        assert row["n"] == 4 and row["failed"] == 0 and row["runs"] == 4
        assert row["mean"] == pytest.approx(2 * fee + noise.mean(), abs=1e-12)
        assert row["std"] == pytest.approx(noise.std(ddof=1), rel=1e-12)
        assert row["lo"] == pytest.approx(2 * fee + lo, rel=1e-12)
        assert row["hi"] == pytest.approx(2 * fee + hi, rel=1e-12)
    jobs = out[out["metric"] == "jobs_completed"]
    assert (jobs["mean"] == 11.5).all()
    # a wider confidence widens the interval
    wide = analysis.summarize(df, sweep, metrics="customer_value", confidence=0.99)
    assert (wide["hi"] - wide["lo"] > value["hi"] - value["lo"]).all()


@pytest.mark.parametrize("n", [2, 5, 31, 32, 40, 1000])
def test_interval_uses_the_exact_t_quantile_at_any_n(n: int) -> None:
    """`interval` (what the report draws) is the mean +- t_{0.975, n-1} * std / sqrt(n) with the
    exact t quantile, no normal 1.96 from some n up; NaN values are left out."""
    values = np.random.default_rng(n).normal(3.0, 2.0, n)
    ci = analysis.interval(np.append(values, np.nan))
    lo, hi = stats.t.interval(0.95, n - 1, loc=values.mean(),
                              scale=values.std(ddof=1) / np.sqrt(n))
    assert ci.n == n and ci.mean == pytest.approx(values.mean(), rel=1e-12)
    assert ci.lo == pytest.approx(lo, rel=1e-12) and ci.hi == pytest.approx(hi, rel=1e-12)
    assert ci.half == float(analysis.t_halfwidth(ci.std, n))
    assert (ci.lo, ci.hi) == (ci.mean - ci.half, ci.mean + ci.half)


def test_interval_of_one_value_or_none_has_no_bounds() -> None:
    """One replicate gives a mean without an interval; none gives neither."""
    one = analysis.interval([4.0, np.nan])
    assert one.n == 1 and one.mean == 4.0
    assert np.isnan([one.std, one.half, one.lo, one.hi]).all()
    empty = analysis.interval([])
    assert empty.n == 0 and np.isnan(empty.mean)
    with pytest.raises(AnalysisError, match="between 0 and 1"):
        analysis.t_halfwidth(1.0, 3, confidence=1.0)


def test_load_manifests_reads_the_run_folders_it_can(tmp_path: Path) -> None:
    """Manifests come back in run-id order, at most `limit`; a run without a readable
    manifest.json (failed, or broken) is left out."""
    for run_id, text in [("a", '{"seed": 1}'), ("b", "{not json"), ("c", '{"seed": 3}'),
                         ("d", '{"seed": 4}')]:
        (tmp_path / "runs" / run_id).mkdir(parents=True)
        (tmp_path / "runs" / run_id / "manifest.json").write_text(text)
    assert analysis.load_manifests(tmp_path, ["c", "b", "missing", "a"]) == [
        {"seed": 3}, {"seed": 1}]
    assert analysis.load_manifests(tmp_path, ["a", "c", "d"], limit=2) == [
        {"seed": 1}, {"seed": 3}]


def test_summarize_excludes_and_counts_failed_runs() -> None:
    df, sweep = linear_sweep(failed={(1, 2), (2, 0), (2, 1), (2, 2)})
    df.loc[df["status"] == "failed", "customer_value"] = 1e9  # must never be read
    out = analysis.summarize(df, sweep, metrics=["customer_value"]).set_index(
        "ledger_transfer_fee_bps")
    assert list(out["failed"]) == [0, 1, 3]
    assert list(out["n"]) == [4, 3, 1]
    kept = np.array([NOISE[0], NOISE[1], NOISE[3]])
    assert out.loc[50, "mean"] == pytest.approx(100 + kept.mean())
    assert out.loc[50, "std"] == pytest.approx(kept.std(ddof=1))
    # one value: a mean but no interval
    assert out.loc[100, "mean"] == pytest.approx(200 + NOISE[3])
    assert np.isnan(out.loc[100, ["std", "lo", "hi"]].astype(float)).all()


def test_summarize_counts_runs_missing_from_results() -> None:
    df, sweep = linear_sweep()
    df = df[~((df["point_index"] == 0) & (df["seed"] == 3))]
    out = analysis.summarize(df, sweep, metrics="customer_value")
    assert list(out["missing"]) == [1, 0, 0]
    assert list(out["n"]) == [3, 4, 4]


def test_unknown_metric_is_a_clear_error() -> None:
    df, sweep = linear_sweep()
    with pytest.raises(AnalysisError, match=r"customer_valu.*did you mean 'customer_value'"):
        analysis.summarize(df, sweep, metrics=["customer_valu"])
    with pytest.raises(AnalysisError, match="'twin_kind' is not numeric"):
        analysis.summarize(df, sweep, metrics=["twin_kind"])
    with pytest.raises(AnalysisError, match="confidence"):
        analysis.summarize(df, sweep, confidence=95)


# --------------------------------------------------------------------------------------------
# Sobol indices

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}


def sobol_sweep(n: int, seeds: list[int]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The Ishigami function on SALib's Sobol sample (N=n, no second order), plus tiny noise per
    seed; `flat` is a constant metric."""
    from SALib.sample import sobol as sobol_sample
    from SALib.test_functions import Ishigami

    matrix = sobol_sample.sample(ISHIGAMI, n, calc_second_order=False, seed=1)
    y = Ishigami.evaluate(matrix)
    rng = np.random.default_rng(7)
    noise = rng.normal(0.0, 1e-3, size=(len(matrix), max(seeds) + 1))
    params = [{"key": f"twin.params.{name}", "column": name, "range": list(bounds)}
              for name, bounds in zip(ISHIGAMI["names"], ISHIGAMI["bounds"], strict=True)]
    points = [{f"twin.params.{name}": float(v)
               for name, v in zip(ISHIGAMI["names"], row, strict=True)} for row in matrix]

    def metrics(index: int, point: dict[str, Any], seed: int) -> dict[str, Any]:
        return {"ishigami": float(y[index] + noise[index, seed]), "flat": 3}

    info = {"n": n, "calc_second_order": False, "problem": ISHIGAMI}
    return make_sweep(points, seeds, metrics, params=params, design="sobol", sobol=info)


def test_sobol_recovers_ishigami_indices() -> None:
    df, sweep = sobol_sweep(1024, [0, 1, 2])
    # a failed seed of one row is fine: the row's mean comes from the others
    df.loc[5, ["status", "ishigami"]] = ["failed", np.nan]
    out = analysis.sobol(df, sweep)
    assert list(out.columns) == ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert list(out["metric"]) == ["ishigami"] * 3 + ["flat"] * 3
    got = out[out["metric"] == "ishigami"].set_index("parameter")
    assert list(got.index) == ["x1", "x2", "x3"]
    assert got["S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert got["ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.05)
    assert (got[["S1_conf", "ST_conf"]] > 0).all().all()
    # a constant metric has no variance to apportion
    assert out[out["metric"] == "flat"][["S1", "ST"]].isna().all().all()


def test_sobol_needs_a_sobol_design() -> None:
    df, sweep = linear_sweep()
    with pytest.raises(AnalysisError, match="design is 'grid', not 'sobol'"):
        analysis.sobol(df, sweep)


def test_sobol_says_how_many_rows_are_missing() -> None:
    df, sweep = sobol_sweep(8, [0, 1])  # N*(D+2) = 40 rows
    df = df[~df["point_index"].isin([3, 17])].copy()  # no run at all
    df.loc[df["point_index"] == 21, "status"] = "failed"  # every seed failed
    with pytest.raises(AnalysisError, match=r"N\*\(5\) = 40 sample rows .* 3 are missing "
                       r"\(first: point_index 3, 17, 21\); 1 of them have only failed runs "
                       r"and 2 have no run at all"):
        analysis.sobol(df, sweep, metrics=["ishigami"])


def test_sobol_named_metric_with_holes_raises() -> None:
    df, sweep = sobol_sweep(8, [0])
    df.loc[df["point_index"] == 4, "ishigami"] = np.nan
    with pytest.raises(AnalysisError, match="no value in 1 of 40"):
        analysis.sobol(df, sweep, metrics="ishigami")
    assert analysis.sobol(df, sweep)["S1"].isna().all()  # by default: NaN indices


# --------------------------------------------------------------------------------------------
# paired differences


EFFECT = {0: 0.0, 50: -4.0, 100: -9.0}  # the true effect of the fee on the metric


def crn_sweep(seeds: int = 20) -> tuple[pd.DataFrame, dict[str, Any]]:
    """y = effect(fee) + common[seed] (large, shared by every point of a seed) + a little
    idiosyncratic noise. The last point also changes an exogenous parameter."""
    rng = np.random.default_rng(3)
    common = rng.normal(0.0, 100.0, size=seeds)
    own = rng.normal(0.0, 0.5, size=(4, seeds))
    points = [{"ledger.transfer_fee_bps": f, "economy.time_value_per_h": 30} for f in EFFECT]
    points.append({"ledger.transfer_fee_bps": 0, "economy.time_value_per_h": 60})

    def metrics(index: int, point: dict[str, Any], seed: int) -> dict[str, Any]:
        effect = EFFECT[point["ledger.transfer_fee_bps"]]
        return {"customer_value": effect + common[seed] + own[index, seed]}

    return make_sweep(points, list(range(seeds)), metrics, params=[FEE, TIME],
                      rules=["ledger_transfer_fee_bps"], failed={(1, 3)})


def test_paired_interval_contains_the_effect_and_is_far_narrower() -> None:
    df, sweep = crn_sweep()
    out = analysis.paired(df, sweep, metrics=["customer_value"])
    base = out.attrs["baseline"]
    assert out.attrs["baseline_point"] == {"ledger_transfer_fee_bps": 0,
                                           "economy_time_value_per_h": 30}
    assert base not in set(out["point_id"])
    assert list(out["ledger_transfer_fee_bps"]) == [50, 100, 0]
    assert list(out["same_exogenous"]) == [True, True, False]
    assert list(out["n"]) == [19, 20, 20]  # seed 3 of fee 50 failed: 19 pairs

    unpaired = analysis.summarize(df, sweep, metrics="customer_value").set_index("point_id")
    b = unpaired.loc[base]
    for _, row in out.iloc[:2].iterrows():
        fee = row["ledger_transfer_fee_bps"]
        assert row["lo"] <= EFFECT[fee] <= row["hi"]
        assert row["diff"] == pytest.approx(row["mean"] - row["base_mean"])
        p = unpaired.loc[row["point_id"]]
        # the difference of the two unpaired intervals: [lo_p - hi_b, hi_p - lo_b]
        unpaired_width = (p["hi"] - b["lo"]) - (p["lo"] - b["hi"])
        assert (row["hi"] - row["lo"]) * 50 < unpaired_width
        # it cannot even tell the sign of the effect; the paired interval can
        assert p["lo"] - b["hi"] < 0 < p["hi"] - b["lo"]
        assert row["hi"] < 0


def test_paired_matches_a_hand_computed_paired_t_interval() -> None:
    df, sweep = crn_sweep(seeds=5)
    out = analysis.paired(df, sweep, metrics="customer_value", confidence=0.9)
    row = out.iloc[1]  # fee 100, all five seeds
    ok = df.set_index(["point_index", "seed"])["customer_value"]
    d = (ok.loc[2] - ok.loc[0]).to_numpy()
    lo, hi = stats.t.interval(0.9, len(d) - 1, loc=d.mean(), scale=d.std(ddof=1) / np.sqrt(5))
    assert row["diff"] == pytest.approx(d.mean())
    assert row["std"] == pytest.approx(d.std(ddof=1))
    assert (row["lo"], row["hi"]) == pytest.approx((lo, hi))


def test_paired_baseline_choices() -> None:
    df, sweep = crn_sweep(seeds=4)
    by_index = analysis.paired(df, sweep, baseline=2, metrics="customer_value")
    fee100 = df.loc[df["point_index"] == 2, "point_id"].iloc[0]
    assert by_index.attrs["baseline"] == fee100
    by_values = analysis.paired(df, sweep, metrics="customer_value",
                                baseline={"ledger.transfer_fee_bps": 100})
    by_id = analysis.paired(df, sweep, baseline=fee100, metrics="customer_value")
    pd.testing.assert_frame_equal(by_index, by_values)
    pd.testing.assert_frame_equal(by_index, by_id)
    assert list(by_index["point_index"]) == [0, 1, 3]
    with pytest.raises(AnalysisError, match="matches 2 points"):
        analysis.paired(df, sweep, baseline={"ledger_transfer_fee_bps": 0})
    with pytest.raises(AnalysisError, match="point_index 9 is not in"):
        analysis.paired(df, sweep, baseline=9)
    with pytest.raises(AnalysisError, match="not swept"):
        analysis.paired(df, sweep, baseline={"ledger.fee": 0})
    with pytest.raises(AnalysisError, match="point_id 'nope'"):
        analysis.paired(df, sweep, baseline="nope")


# --------------------------------------------------------------------------------------------
# the table, and other readers of results.parquet


def test_format_table_aligns_columns() -> None:
    df, sweep = linear_sweep(failed={(2, 0), (2, 1), (2, 2)})
    text = analysis.format_table(analysis.summarize(df, sweep, metrics="customer_value"),
                                 columns=["ledger_transfer_fee_bps", "metric", "n", "mean", "lo"])
    lines = text.splitlines()
    assert lines[0].split() == ["ledger_transfer_fee_bps", "metric", "n", "mean", "lo"]
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 5
    assert lines[2].index("customer_value") == lines[0].index("metric")  # text left-aligned
    assert all(line.endswith(("-", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"))
               for line in lines[2:])
    assert lines[4].split()[-1] == "-"  # one value: no interval
    assert lines[2].split()[3] == "0.45"
    widths = {len(line) for line in lines[1:4]}
    assert len(widths) == 1  # numbers right-aligned to one edge
    assert analysis.format_table(pd.DataFrame({"a": []})).endswith("(no rows)")


def test_results_parquet_survives_polars_and_duckdb(tmp_path: Path) -> None:
    import duckdb
    import polars as pl

    df, sweep = linear_sweep(failed={(0, 1)})
    path = write_sweep(tmp_path / "sw", df, sweep) / "results.parquet"
    frame = pl.read_parquet(path)
    assert frame.columns == list(df.columns)
    assert frame.schema["point_index"] == pl.Int64 and frame.schema["seed"] == pl.Int64
    assert frame.schema["customer_value"] == pl.Float64
    assert frame.schema["point_id"] == pl.String
    assert frame.filter(pl.col("status") == "failed").height == 1
    rows = duckdb.sql(
        f"select ledger_transfer_fee_bps, avg(customer_value) as mean, count(*) as n "
        f"from '{path}' where status = 'ok' group by 1 order by 1").fetchall()
    expect = analysis.summarize(*analysis.load(path.parent), metrics="customer_value")
    assert [r[0] for r in rows] == [0, 50, 100]
    assert [r[2] for r in rows] == list(expect["n"])
    assert [r[1] for r in rows] == pytest.approx(list(expect["mean"]))
