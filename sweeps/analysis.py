"""Analysis of a finished sweep folder: per-point summaries, Sobol indices, paired differences.

A sweep folder holds `sweep.json` (the design: parameters, seeds, protocol rules, the list of
runs) and `results.parquet` (one row per run: ids, status, the parameter columns, then every
numeric leaf of the run's summary). This module reads them and answers three questions:

* `summarize`: for each parameter point, each metric's mean over seeds with a t interval;
* `sobol`: for a Sobol design, first-order and total Sobol indices of each metric (SALib);
* `paired`: each point minus a baseline point, seed by seed. Runs of the same seed share their
  exogenous random draws (common random numbers), so the paired difference cancels the noise
  both runs share and its interval is far narrower than the two points' separate intervals.

Every 95 % interval twinecon shows (`twinecon analyze`, `twinecon report`) is a t interval of
`t_halfwidth` (the exact t quantile, at any number of seeds): `interval` for one set of values,
`summarize` for every point. The report reads sweep folders through `load` and
`load_manifests` too, so the two commands see the same runs.

Every function takes the `(results, sweep)` pair `load` returns and gives back a long pandas
DataFrame (one row per point and metric, or per metric and parameter); `format_table` prints
one as aligned plain text for the command line. Failed runs (status other than "ok") never
enter a statistic; `summarize` counts them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twinecon.errors import TwineconError, suggest

__all__ = [
    "ID_COLUMNS",
    "AnalysisError",
    "Interval",
    "format_table",
    "interval",
    "load",
    "load_manifests",
    "metric_columns",
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


class AnalysisError(TwineconError, ValueError):
    """A sweep folder cannot be analysed as asked; the message names the file or the metric
    and says what to do."""


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
    return df, sweep


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
    if not 0.0 < confidence < 1.0:
        raise AnalysisError(f"confidence must lie strictly between 0 and 1, got {confidence}")


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


def t_halfwidth(std: Any, n: Any, confidence: float = 0.95) -> np.ndarray:
    """Half-width of the two-sided t interval of a mean: t_{(1+c)/2, n-1} * std / sqrt(n), with
    the exact t quantile (scipy) at every n; NaN where n < 2.

    Args:
        std: sample standard deviations (ddof 1), a scalar or an array.
        n: the number of values behind each, broadcastable to `std`.
        confidence: the interval's coverage, strictly between 0 and 1.

    Returns:
        The half-widths, float64, of the broadcast shape (0-d for scalars).
    """
    _check_confidence(confidence)
    from scipy import stats  # SALib's dependency; imported late so `load` works without it

    n = np.asarray(n, dtype="float64")
    std = np.asarray(std, dtype="float64")
    enough = n >= 2
    safe_n = np.where(enough, n, 2.0)
    q = stats.t.ppf((1.0 + confidence) / 2.0, safe_n - 1.0)
    return np.where(enough, q * std / np.sqrt(safe_n), np.nan)


def _stats(values: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """n, mean, std (ddof 1), lo, hi of each row of `values` (columns are replicates)."""
    n = values.count(axis=1).astype("int64")
    mean = values.mean(axis=1)
    std = values.std(axis=1, ddof=1)
    half = t_halfwidth(std.to_numpy(), n.to_numpy(), confidence)
    return pd.DataFrame({"n": n, "mean": mean, "std": std,
                         "lo": mean - half, "hi": mean + half}, index=values.index)


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """A mean over replicates and its two-sided t interval `lo` = mean - half, `hi` = mean +
    half; `std`, `half`, `lo` and `hi` are NaN when n < 2 (and `mean` too when n == 0)."""

    n: int
    mean: float
    std: float
    half: float
    lo: float
    hi: float


def interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Interval:
    """The mean of `values` (NaN left out) with its `confidence` t interval (`t_halfwidth`).

    Args:
        values: (n,) replicates of one quantity, e.g. one metric over a point's seeds.
        confidence: the interval's coverage, strictly between 0 and 1.
    """
    v = np.asarray(values, dtype="float64")
    v = v[~np.isnan(v)]
    n = len(v)
    mean = float(v.mean()) if n else math.nan
    std = float(v.std(ddof=1)) if n > 1 else math.nan
    half = float(t_halfwidth(std, n, confidence))
    return Interval(n=n, mean=mean, std=std, half=half, lo=mean - half, hi=mean + half)


def summarize(df: pd.DataFrame, sweep: Mapping[str, Any],
              metrics: str | Iterable[str] | None = None,
              confidence: float = 0.95) -> pd.DataFrame:
    """Each metric's mean over seeds, per parameter point, with a t confidence interval.

    Returns one row per (point, metric), points in design order: `point_id`, `point_index`, the
    parameter columns, `runs`, `failed`, `missing` (run counts of the point), `metric`, `n`
    (successful runs with a value), `mean`, `std` (sample, ddof 1), and `lo`, `hi`: the
    two-sided `confidence` t interval of the mean (NaN when n < 2). Failed runs are excluded.
    `metrics` defaults to every numeric summary column (`metric_columns`).
    """
    _check_confidence(confidence)
    chosen, _ = _metrics(df, sweep, metrics)
    points = _points(df, sweep)
    ok = df[_ok(df)]
    frames = []
    for metric in chosen:
        st = _stats(_replicates(ok, metric).reindex(points.index), confidence)
        frame = points.copy()
        frame.insert(len(frame.columns), "metric", metric)
        frames.append(pd.concat([frame, st], axis=1))
    out = pd.concat(frames)
    out["_order"] = np.tile(np.arange(len(points)), len(chosen))
    out["_m"] = np.repeat(np.arange(len(chosen)), len(points))
    out = out.sort_values(["_order", "_m"], kind="stable").drop(columns=["_order", "_m"])
    return out.rename_axis("point_id").reset_index()


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
          confidence: float = 0.95) -> pd.DataFrame:
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
           confidence: float = 0.95) -> pd.DataFrame:
    """Each point minus a baseline point, seed by seed (common random numbers).

    For every point other than the baseline and every metric: the difference point - baseline
    within each seed both ran successfully, then the mean difference over those seeds and its
    two-sided `confidence` t interval. Runs of one seed share their exogenous random draws, so
    the difference cancels the shared noise: its interval is much narrower than the gap between
    the two points' separate intervals (`summarize`).

    `baseline`: None (the first point, lowest point_index), a point_index (int), a point_id
    (str), or parameter values ({key or column: value}) that pick exactly one point.

    Returns one row per (point, metric): `point_id`, `point_index`, the parameter columns,
    `same_exogenous` (the point differs from the baseline only in protocol rules, so every
    random draw is shared), `metric`, `n` (paired seeds), `base_mean` and `mean` (the two
    points' means over those seeds), `diff`, `std` (of the per-seed differences), `lo`, `hi`.
    `attrs["baseline"]` holds the baseline's point_id, `attrs["baseline_point"]` its parameters.
    """
    _check_confidence(confidence)
    chosen, _ = _metrics(df, sweep, metrics)
    points = _points(df, sweep)
    base_id = _resolve_baseline(points, sweep, baseline)
    params = param_columns(sweep)
    rules = set(sweep.get("rules") or
                [_param_column(p) for p in sweep.get("params", []) if p.get("rule")])
    exogenous = [c for c in params if c not in rules]
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
        frames.append(frame)
    columns = ["point_index", *params, "same_exogenous", "metric", "n", "base_mean", "mean",
               "diff", "std", "lo", "hi"]
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
    return out


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
