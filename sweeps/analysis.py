"""Analysis of a finished sweep folder: per-point summaries, Sobol indices, paired differences.

A sweep folder holds `sweep.json` (the design: parameters, seeds, protocol rules, the list of
runs) and `results.parquet` (one row per run: ids, status, the parameter columns, then every
numeric leaf of the run's summary). This module reads them and answers three questions:

* `summarize`: for each parameter point, each metric's mean over seeds with a t interval;
* `sobol`: for a Sobol design, first-order and total Sobol indices of each metric (SALib);
* `paired`: each point minus a baseline point, seed by seed. Runs of the same seed share their
  exogenous random draws (common random numbers), so the paired difference cancels the noise
  both runs share and its interval is far narrower than the two points' separate intervals.

Every interval twinecon shows (`twinecon analyze`, `twinecon report`) is a t interval at the
confidence asked (95 % unless told), from `sweeps.stats` (the exact t quantile at any number
of seeds; p-values, effect sizes and seeds needed for the paired comparison too), and the
tables say which level. The report reads sweep folders through `load` and `load_manifests`
too, so the two commands see the same runs and the same numbers.

`load` gives money in tokens: results.parquet keeps every amount exact (decimal128 base units)
with its `<name>_tokens` float beside it; `load` puts the tokens under the amount's own name
(`price_mean` is in tokens) and lists those columns in `attrs["money"]`.

Every function takes the `(results, sweep)` pair `load` returns and gives back a long pandas
DataFrame (one row per point and metric, or per metric and parameter); `format_table` prints
one as aligned plain text for the command line. Failed runs (status other than "ok") never
enter a statistic; `summarize` counts them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sweeps.stats import (
    DEFAULT_CONFIDENCE,
    AnalysisError,
    Interval,
    check_confidence,
    interval,
    paired_test,
    t_halfwidth,
)
from twinecon.errors import suggest

__all__ = [
    "ID_COLUMNS",
    "AnalysisError",
    "Interval",
    "format_table",
    "interval",
    "load",
    "load_manifests",
    "metric_columns",
    "moved",
    "paired",
    "param_columns",
    "sobol",
    "summarize",
    "t_halfwidth",
]

#: Columns of results.parquet that describe a run rather than measure it.
ID_COLUMNS: tuple[str, ...] = ("run_id", "point_id", "point_index", "seed", "status", "error",
                               "wall_s")
_REQUIRED: tuple[str, ...] = ("run_id", "point_id", "point_index", "seed", "status")


# --------------------------------------------------------------------------------------------
# loading


def load(dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a sweep folder: `(results, sweep)` from `DIR/results.parquet` and `DIR/sweep.json`.

    Raises `AnalysisError` when the folder or either file is missing or unreadable, or when
    results.parquet lacks the id columns or a parameter column sweep.json names.
    """
    folder = Path(dir)
    if not folder.is_dir():
        raise AnalysisError(f"{folder}: no such sweep folder; pass the folder `twinecon sweep` "
                            "wrote (it holds sweep.json and results.parquet)")
    spec_path = folder / "sweep.json"
    results_path = folder / "results.parquet"
    if not spec_path.is_file():
        raise AnalysisError(f"{spec_path}: missing; this is not a sweep folder, or the sweep "
                            "never started (run `twinecon sweep` into it first)")
    if not results_path.is_file():
        raise AnalysisError(f"{results_path}: missing; the sweep has not written its results "
                            "yet (let it finish, or resume it, then analyse again)")
    try:
        sweep = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AnalysisError(f"{spec_path}: not readable JSON ({e}); rewrite it by running the "
                            "sweep again") from e
    if not isinstance(sweep, dict) or not isinstance(sweep.get("params"), list):
        raise AnalysisError(f"{spec_path}: not a sweep description (no 'params' list); "
                            "point at the folder `twinecon sweep` wrote")
    for param in sweep["params"]:
        if not isinstance(param, Mapping) or "key" not in param:
            raise AnalysisError(f"{spec_path}: a parameter without a 'key': {param!r}; "
                                "rewrite it by running the sweep again")
    try:
        df = pd.read_parquet(results_path)
    except Exception as e:  # pyarrow raises several unrelated types for a broken file
        raise AnalysisError(f"{results_path}: not a readable parquet file ({e}); "
                            "run the sweep again to rewrite it") from e
    missing = [c for c in (*_REQUIRED, *param_columns(sweep)) if c not in df.columns]
    if missing:
        raise AnalysisError(f"{results_path}: missing column(s) {', '.join(missing)}; the file "
                            "does not match sweep.json (run the sweep again to rewrite both)")
    return _in_tokens(df), sweep


def _in_tokens(df: pd.DataFrame) -> pd.DataFrame:
    """Every amount column as float tokens under its own name, from its `_tokens` twin (the
    twins dropped); an amount column without a twin (results written by an older twinecon,
    or by hand) stays as it is. `attrs["money"]` lists the amount columns in tokens."""
    from sweeps.engine import is_money_column

    money = [c for c in df.columns if is_money_column(str(c)) and not str(c).endswith(_TWIN)
             and f"{c}{_TWIN}" in df.columns]
    columns = {c: pd.to_numeric(df[f"{c}{_TWIN}"], errors="coerce").astype("float64")
               for c in money}
    out = df.drop(columns=[f"{c}{_TWIN}" for c in money]).assign(**columns)
    out.attrs["money"] = money
    return out


_TWIN = "_tokens"


def load_manifests(dir: str | Path, run_ids: Iterable[str], limit: int = 200
                   ) -> list[dict[str, Any]]:
    """The `manifest.json` of the run folders `DIR/runs/<run_id>/` of the first `limit` run ids,
    in order; a run whose manifest is missing or unreadable is left out (a failed run has
    none)."""
    runs = Path(dir) / "runs"
    out = []
    for run_id in list(run_ids)[:limit]:
        path = runs / str(run_id) / "manifest.json"
        if path.is_file():
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue
    return out


def param_columns(sweep: Mapping[str, Any]) -> list[str]:
    """The results columns of the swept parameters, in sweep.json order."""
    return [_param_column(p) for p in sweep.get("params", [])]


def _param_column(param: Mapping[str, Any]) -> str:
    column = param.get("column") or str(param.get("key", "")).replace(".", "_")
    if not column:
        raise AnalysisError(f"sweep.json: a parameter has neither 'column' nor 'key': {param}")
    return str(column)


def metric_columns(df: pd.DataFrame, sweep: Mapping[str, Any]) -> list[str]:
    """Every numeric (non-boolean) results column that is not an id, the seed or a parameter:
    the default metrics of `summarize`, `sobol` and `paired`."""
    skip = set(ID_COLUMNS) | set(param_columns(sweep))
    return [c for c in df.columns
            if c not in skip
            and pd.api.types.is_numeric_dtype(df[c])
            and not pd.api.types.is_bool_dtype(df[c])]


def _metrics(df: pd.DataFrame, sweep: Mapping[str, Any],
             metrics: str | Iterable[str] | None) -> tuple[list[str], bool]:
    """The metrics to analyse and whether the caller named them."""
    available = metric_columns(df, sweep)
    if metrics is None:
        if not available:
            raise AnalysisError("results.parquet has no numeric metric columns to analyse")
        return available, False
    chosen = [metrics] if isinstance(metrics, str) else list(metrics)
    if not chosen:
        raise AnalysisError("no metric given; name at least one, or pass none for all")
    for m in chosen:
        if m not in available:
            why = ("is not numeric" if m in df.columns and m not in ID_COLUMNS
                   and m not in param_columns(sweep) else "is not a metric column")
            raise AnalysisError(f"metric {m!r} {why} in results.parquet"
                                + suggest(m, available)
                                + f"; available: {', '.join(available[:20])}"
                                + (" ..." if len(available) > 20 else ""))
    return list(dict.fromkeys(chosen)), True


def _check_confidence(confidence: float) -> None:
    check_confidence(confidence)


def _ok(df: pd.DataFrame) -> pd.Series:
    return df["status"].astype("string").fillna("") == "ok"


def _points(df: pd.DataFrame, sweep: Mapping[str, Any]) -> pd.DataFrame:
    """One row per point_id, ordered by point_index: point_index, the parameter columns, and the
    run counts `runs` (rows in results), `failed` (status not ok), `missing` (listed in
    sweep.json, absent from results)."""
    params = param_columns(sweep)
    ok = _ok(df)
    g = df.groupby("point_id", sort=False)
    points = g[["point_index", *params]].first()
    points["point_index"] = g["point_index"].min()
    points["runs"] = g.size()
    points["failed"] = (~ok).groupby(df["point_id"], sort=False).sum().astype("int64")
    listed = pd.Series([str(r.get("point_id")) for r in sweep.get("runs", [])],
                       dtype="object").value_counts()
    listed = listed.reindex(points.index.astype(str)).fillna(0).to_numpy(dtype="int64")
    points["missing"] = np.clip(listed - points["runs"].to_numpy(), 0, None).astype("int64")
    return points.sort_values("point_index", kind="stable")


# --------------------------------------------------------------------------------------------
# statistics


def _stats(values: pd.DataFrame, confidence: float,
           floor: float | None = None) -> pd.DataFrame:
    """n, mean, std (ddof 1), lo, hi of each row of `values` (columns are replicates); `lo`
    not below `floor` where one is given."""
    n = values.count(axis=1).astype("int64")
    mean = values.mean(axis=1)
    std = values.std(axis=1, ddof=1)
    half = t_halfwidth(std.to_numpy(), n.to_numpy(), confidence)
    lo = mean - half
    if floor is not None:
        lo = lo.clip(lower=floor)
    return pd.DataFrame({"n": n, "mean": mean, "std": std, "lo": lo, "hi": mean + half},
                        index=values.index)


def floor_of(values: pd.Series | np.ndarray) -> float | None:
    """0 for a metric no run saw below zero (a count, a price, a volume: its interval is not
    reported below 0), else None."""
    v = pd.to_numeric(pd.Series(np.asarray(values)), errors="coerce").dropna()
    return 0.0 if len(v) and bool((v >= 0).all()) else None


def summarize(df: pd.DataFrame, sweep: Mapping[str, Any],
              metrics: str | Iterable[str] | None = None,
              confidence: float = DEFAULT_CONFIDENCE) -> pd.DataFrame:
    """Each metric's mean over seeds, per parameter point, with a t confidence interval.

    Returns one row per (point, metric), points in design order: `point_id`, `point_index`, the
    parameter columns, `runs`, `failed`, `missing` (run counts of the point), `metric`, `n`
    (successful runs with a value), `mean`, `std` (sample, ddof 1), and `lo`, `hi`: the
    two-sided `confidence` t interval of the mean (NaN when n < 2; `lo` not below 0 for a
    metric no run saw below 0, `floor_of`). Failed runs are excluded. `metrics` defaults to
    every numeric summary column (`metric_columns`). `attrs["confidence"]` is the level.
    """
    _check_confidence(confidence)
    chosen, _ = _metrics(df, sweep, metrics)
    points = _points(df, sweep)
    ok = df[_ok(df)]
    frames = []
    for metric in chosen:
        st = _stats(_replicates(ok, metric).reindex(points.index), confidence,
                    floor_of(ok[metric]))
        frame = points.copy()
        frame.insert(len(frame.columns), "metric", metric)
        frames.append(pd.concat([frame, st], axis=1))
    out = pd.concat(frames)
    out["_order"] = np.tile(np.arange(len(points)), len(chosen))
    out["_m"] = np.repeat(np.arange(len(chosen)), len(points))
    out = out.sort_values(["_order", "_m"], kind="stable").drop(columns=["_order", "_m"])
    out = out.rename_axis("point_id").reset_index()
    out.attrs["confidence"] = confidence
    return out


#: Columns that describe the run's set-up rather than its outcome: never "moved" by a point.
_SETUP = frozenset({"decimals", "ticks", "n_agents", "seed"})


def moved(df: pd.DataFrame, sweep: Mapping[str, Any], top: int | None = None) -> pd.DataFrame:
    """The metrics that moved most across the sweep's points, most first.

    A metric's `score` is the range of its point means (max - min) over its noise: the pooled
    standard error of a point mean (the within-point sd over sqrt(seeds)) where points have
    two seeds or more, else the metric's mean magnitude (a relative range). Metrics whose
    point means are all equal (flat lines), set-up columns (`decimals`, `ticks`) and group
    counts are left out. Returns `metric`, `range` (max - min of the point means), `noise`
    and `score`, sorted by `score`; `top` keeps the first few.
    """
    ok = df[_ok(df)]
    rows = []
    for metric in metric_columns(df, sweep):
        if metric in _SETUP or metric.endswith("_agents") or metric.startswith("agents_by_"):
            continue
        table = _replicates(ok, metric)
        means = table.mean(axis=1).dropna()
        if len(means) < 2:
            continue
        spread = float(means.max() - means.min())
        if not spread > 0:
            continue
        counts = table.count(axis=1)
        var = table.var(axis=1, ddof=1)
        pooled = var[counts >= 2].mean() if (counts >= 2).any() else math.nan
        noise = (math.sqrt(pooled) / math.sqrt(float(counts[counts >= 2].mean()))
                 if pooled == pooled and pooled > 0 else math.nan)
        if not noise == noise:  # no replicate noise to judge by: the relative range
            noise = float(np.abs(means).mean()) or 1.0
        rows.append({"metric": metric, "range": spread, "noise": noise,
                     "score": spread / noise})
    out = pd.DataFrame(rows, columns=["metric", "range", "noise", "score"])
    out = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    return out.head(top) if top is not None else out


def _replicates(ok: pd.DataFrame, metric: str) -> pd.DataFrame:
    """A metric's values as a point_id x replicate table (replicate = position within the
    point's successful runs), values as float64."""
    values = pd.to_numeric(ok[metric], errors="coerce").astype("float64")
    k = ok.groupby("point_id", sort=False).cumcount()
    table = pd.DataFrame({"point_id": ok["point_id"].to_numpy(), "k": k.to_numpy(),
                          "v": values.to_numpy()})
    return table.pivot(index="point_id", columns="k", values="v")


# --------------------------------------------------------------------------------------------
# Sobol indices


def sobol(df: pd.DataFrame, sweep: Mapping[str, Any],
          metrics: str | Iterable[str] | None = None,
          confidence: float = DEFAULT_CONFIDENCE) -> pd.DataFrame:
    """First-order and total Sobol indices of each metric, for a sweep of design "sobol".

    Each metric is averaged over the successful seeds of every sample row (`point_index`), the
    rows are put in SALib's sample order, and `SALib.analyze.sobol.analyze` runs with the
    sweep's `calc_second_order`, `seed=0` and `conf_level=confidence`. Returns one row per
    (metric, parameter): `metric`, `parameter` (the problem's names), `S1`, `S1_conf`, `ST`,
    `ST_conf`. A metric that is constant over the sample gets NaN indices (they are undefined);
    so does a default metric that is missing (NaN) in some rows, while a named one raises.

    Raises `AnalysisError` when the design is not Sobol or when sample rows have no successful
    run: SALib needs the whole N*(D+2) sample (N*(2D+2) with second order).
    """
    design = sweep.get("design")
    if design != "sobol":
        raise AnalysisError(f"sweep.json: design is {design!r}, not 'sobol'; Sobol indices need "
                            "a Sobol sample (sweep with design 'sobol'); use summarize or "
                            "paired for this sweep")
    _check_confidence(confidence)
    spec = sweep.get("sobol")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("problem"), Mapping):
        raise AnalysisError("sweep.json: design 'sobol' but no 'sobol.problem'; run the sweep "
                            "again so the engine records the SALib problem")
    problem = dict(spec["problem"])
    names = [str(x) for x in problem["names"]]
    second = bool(spec.get("calc_second_order", False))
    d = len(set(problem["groups"])) if problem.get("groups") else int(problem["num_vars"])
    per_base = 2 * d + 2 if second else d + 2
    chosen, named = _metrics(df, sweep, metrics)

    ok = df[_ok(df)]
    index = pd.to_numeric(ok["point_index"]).astype("int64")
    all_index = pd.to_numeric(df["point_index"]).astype("int64")
    n_base = spec.get("n")
    if n_base is None:  # not recorded: infer from the largest index in the results
        n_base = math.ceil((int(all_index.max()) + 1) / per_base) if len(df) else 0
    expected = int(n_base) * per_base
    if expected == 0:
        raise AnalysisError("sweep.json: the Sobol sample is empty (sobol.n is 0)")
    beyond = sorted(set(all_index[all_index >= expected].tolist()))
    if beyond:
        raise AnalysisError(f"results.parquet: point_index {beyond[:5]} beyond the Sobol sample "
                            f"of N*({per_base}) = {expected} rows (N={n_base}, D={d}); the "
                            "results do not belong to this sweep.json")
    have = set(index.tolist())
    absent = [i for i in range(expected) if i not in have]
    if absent:
        failed = sorted(set(all_index.tolist()) & set(absent))
        raise AnalysisError(
            f"Sobol analysis needs all N*({per_base}) = {expected} sample rows (N={n_base}, "
            f"D={d}) but {len(absent)} are missing (first: point_index "
            f"{', '.join(map(str, absent[:5]))}); {len(failed)} of them have only failed runs "
            f"and {len(absent) - len(failed)} have no run at all: resume the sweep or rerun "
            "those runs, then analyse again")

    from SALib.analyze import sobol as salib_sobol

    means = ok[chosen].apply(pd.to_numeric, errors="coerce").astype("float64") \
        .groupby(index.to_numpy()).mean().sort_index()
    rows = []
    for metric in chosen:
        y = means[metric].to_numpy()
        nan = np.full(d, np.nan)
        if np.isnan(y).any():
            if named:
                raise AnalysisError(f"metric {metric!r} has no value in "
                                    f"{int(np.isnan(y).sum())} of {expected} Sobol sample rows; "
                                    "Sobol indices need a value in every row")
            s1 = s1c = st = stc = nan
        elif np.ptp(y) == 0.0:
            s1 = s1c = st = stc = nan
        else:
            res = salib_sobol.analyze(problem, y, calc_second_order=second, conf_level=confidence,
                                      seed=0, print_to_console=False)
            s1, s1c, st, stc = (np.asarray(res[k], dtype="float64")
                                for k in ("S1", "S1_conf", "ST", "ST_conf"))
        labels = list(dict.fromkeys(problem["groups"])) if problem.get("groups") else names
        rows += [{"metric": metric, "parameter": labels[i], "S1": s1[i], "S1_conf": s1c[i],
                  "ST": st[i], "ST_conf": stc[i]} for i in range(d)]
    return pd.DataFrame(rows, columns=["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"])


# --------------------------------------------------------------------------------------------
# paired differences (common random numbers)


def _resolve_baseline(points: pd.DataFrame, sweep: Mapping[str, Any],
                      baseline: str | int | Mapping[str, Any] | None) -> str:
    """The point_id of the baseline: None -> the first point (lowest point_index); an int -> that
    point_index; a str -> that point_id; a mapping -> the one point with those parameter values
    (keyed by parameter key or column)."""
    if points.empty:
        raise AnalysisError("results.parquet has no runs; nothing to compare")
    if baseline is None:
        return str(points.index[0])
    if isinstance(baseline, bool):
        raise AnalysisError(f"baseline must be a point_id, a point_index or parameter values, "
                            f"not {baseline!r}")
    if isinstance(baseline, int | np.integer):
        hit = points.index[points["point_index"] == int(baseline)]
        if len(hit) == 0:
            raise AnalysisError(f"baseline point_index {baseline} is not in results.parquet "
                                f"(indexes {int(points['point_index'].min())}.."
                                f"{int(points['point_index'].max())})")
        return str(hit[0])
    if isinstance(baseline, str):
        if baseline not in points.index:
            raise AnalysisError(f"baseline point_id {baseline!r} is not in results.parquet"
                                + suggest(baseline, [str(p) for p in points.index]))
        return baseline
    if isinstance(baseline, Mapping):
        columns = {p.get("key"): _param_column(p) for p in sweep.get("params", [])}
        mask = pd.Series(True, index=points.index)
        for name, value in baseline.items():
            column = columns.get(name, name)
            if column not in points.columns or column not in columns.values():
                raise AnalysisError(f"baseline parameter {name!r} is not swept"
                                    + suggest(str(name), [*columns, *columns.values()]))
            mask &= points[column] == value
        hit = points.index[mask.to_numpy()]
        if len(hit) != 1:
            raise AnalysisError(f"baseline {dict(baseline)} matches {len(hit)} points; give "
                                "values that pick exactly one (or its point_id)")
        return str(hit[0])
    raise AnalysisError(f"baseline must be a point_id, a point_index or parameter values, "
                        f"not {type(baseline).__name__}")


def paired(df: pd.DataFrame, sweep: Mapping[str, Any],
           baseline: str | int | Mapping[str, Any] | None = None,
           metrics: str | Iterable[str] | None = None,
           confidence: float = DEFAULT_CONFIDENCE,
           precision: float | str | None = None) -> pd.DataFrame:
    """Each point minus a baseline point, seed by seed (common random numbers).

    For every point other than the baseline and every metric: the difference point - baseline
    within each seed both ran successfully, then the mean difference over those seeds and its
    two-sided `confidence` t interval. Runs of one seed share their exogenous random draws, so
    the difference cancels the shared noise: its interval is much narrower than the gap between
    the two points' separate intervals (`summarize`).

    `baseline`: None (the first point, lowest point_index), a point_index (int), a point_id
    (str), or parameter values ({key or column: value}) that pick exactly one point.

    Returns one row per (point, metric): `point_id`, `point_index`, the parameter columns,
    `same_exogenous` (the point differs from the baseline only in keys that leave the
    exogenous draws alone, so every random draw is shared), `metric`, `n` (paired seeds),
    `base_mean` and `mean` (the two points' means over those seeds), `diff`, `std` (of the
    per-seed differences), `lo`, `hi` (the t interval of `diff`), `p_t` (paired t test),
    `p_perm` (sign-flip permutation test, exact up to 16 seeds), `effect` (d_z = diff / std)
    and `seeds_needed` (for a half-width of at most `precision`: a number in the metric's
    unit, "P%" of the baseline's mean, or by default half the observed |diff|, i.e. the
    seeds to resolve the difference with an interval half its size; `sweeps.stats`).
    `attrs["baseline"]` holds the baseline's point_id, `attrs["baseline_point"]` its
    parameters, `attrs["confidence"]` the level and `attrs["precision"]` the precision asked.
    """
    _check_confidence(confidence)
    chosen, _ = _metrics(df, sweep, metrics)
    points = _points(df, sweep)
    base_id = _resolve_baseline(points, sweep, baseline)
    params = param_columns(sweep)
    exogenous = _exogenous_columns(sweep)
    base_row = points.loc[base_id]
    others = points.drop(index=base_id)
    same = pd.Series([all(_same(others.at[p, c], base_row[c]) for c in exogenous)
                      for p in others.index], index=others.index, dtype="bool")

    ok = df[_ok(df)]
    frames = []
    for metric in chosen:
        values = pd.to_numeric(ok[metric], errors="coerce").astype("float64")
        by_seed = values.groupby([ok["point_id"].to_numpy(), ok["seed"].to_numpy()]).mean() \
            .unstack()
        by_seed = by_seed.reindex(points.index)
        base = by_seed.loc[base_id]
        cur = by_seed.loc[others.index]
        diff = cur.sub(base, axis=1)
        both = diff.notna()
        st = _stats(diff, confidence)
        level = base.mean()
        tests = [paired_test(row, confidence, _precision(precision, level, row))
                 for row in (diff.loc[p].to_numpy() for p in cur.index)]
        frame = others[["point_index", *params]].copy()
        frame["same_exogenous"] = same
        frame["metric"] = metric
        frame["n"] = st["n"]
        base_wide = pd.DataFrame(np.broadcast_to(base.to_numpy(), cur.shape),
                                 index=cur.index, columns=cur.columns)
        frame["base_mean"] = base_wide.where(both).mean(axis=1)
        frame["mean"] = cur.where(both).mean(axis=1)
        frame["diff"] = st["mean"]
        frame["std"] = st["std"]
        frame["lo"] = st["lo"]
        frame["hi"] = st["hi"]
        frame["p_t"] = [t.p_t for t in tests]
        frame["p_perm"] = [t.p_perm for t in tests]
        frame["effect"] = [t.effect for t in tests]
        frame["seeds_needed"] = [t.seeds_needed for t in tests]
        frames.append(frame)
    columns = ["point_index", *params, "same_exogenous", "metric", "n", "base_mean", "mean",
               "diff", "std", "lo", "hi", "p_t", "p_perm", "effect", "seeds_needed"]
    if others.empty:
        out = pd.DataFrame(columns=["point_id", *columns])
    else:
        out = pd.concat(frames)
        out["_order"] = np.tile(np.arange(len(others)), len(chosen))
        out["_m"] = np.repeat(np.arange(len(chosen)), len(others))
        out = out.sort_values(["_order", "_m"], kind="stable").drop(columns=["_order", "_m"])
        out = out.rename_axis("point_id").reset_index()
    out.attrs["baseline"] = base_id
    out.attrs["baseline_point"] = {c: _plain(base_row[c]) for c in params}
    out.attrs["confidence"] = confidence
    out.attrs["precision"] = precision
    return out


def _exogenous_columns(sweep: Mapping[str, Any]) -> list[str]:
    """The parameter columns that shape the exogenous draws: sweep.json's `exogenous` list
    (or, in a sweep.json older than it, every parameter but the protocol rules)."""
    params = param_columns(sweep)
    if isinstance(sweep.get("exogenous"), list):
        marked = set(sweep["exogenous"])
        return [c for c in params if c in marked]
    rules = set(sweep.get("rules") or
                [_param_column(p) for p in sweep.get("params", []) if p.get("rule")])
    return [c for c in params if c not in rules]


def _precision(precision: float | str | None, base_mean: float, diffs: np.ndarray) -> float:
    """A half-width in the metric's unit: a number as it is, "P%" as P % of |base_mean|, None
    as half the mean |difference| (NaN when it is 0: no difference to resolve)."""
    if precision is None:
        finite = diffs[~np.isnan(diffs)]
        half = abs(float(finite.mean())) / 2 if len(finite) else math.nan
        return half if half > 0 else math.nan
    if isinstance(precision, str):
        text = precision.strip()
        try:
            if text.endswith("%"):
                share = float(text[:-1]) / 100.0
                if share <= 0:
                    raise ValueError
                return share * abs(float(base_mean))
            value = float(text)
        except ValueError:
            raise AnalysisError(f"precision {precision!r}: expected a positive number in the "
                                "metric's unit, or a share of the baseline's mean such as "
                                "10%") from None
    else:
        value = float(precision)
    if not value > 0:
        raise AnalysisError(f"precision must be positive, got {precision!r}")
    return value


def _same(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------------------------
# printing


def _cell(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "-"
    if value is pd.NA or value is pd.NaT:
        return "-"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.{digits}g}"
    return str(value)


def format_table(df: pd.DataFrame, digits: int = 6, columns: Sequence[str] | None = None) -> str:
    """A DataFrame as an aligned plain-text table: a header, a rule, one line per row; numbers
    right-aligned with `digits` significant digits, text left-aligned, missing values as '-'.
    `columns` picks and orders the columns shown (default: all)."""
    shown = list(columns) if columns is not None else [str(c) for c in df.columns]
    if not shown:
        return "(no columns)"
    if df.empty:
        return "  ".join(shown) + "\n(no rows)"
    cells = [[_cell(v, digits) for v in df[c].tolist()] for c in shown]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
               for c in shown]
    widths = [max(len(h), *(len(x) for x in col)) for h, col in zip(shown, cells, strict=True)]

    def line(items: Sequence[str]) -> str:
        parts = [x.rjust(w) if num else x.ljust(w)
                 for x, w, num in zip(items, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(shown), "  ".join("-" * w for w in widths)]
    out += [line([col[i] for col in cells]) for i in range(len(df))]
    return "\n".join(out)
