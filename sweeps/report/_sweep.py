"""The report of a sweep folder: its design, metric figures, the paired answer against a
baseline point, the points table and failed runs.

The folder is read, and every mean, interval and test computed, by `sweeps.analysis` (`load`,
`load_manifests`, `summarize`, `paired`, `moved`) and `sweeps.stats`, so the report shows what
`twinecon analyze` prints, at the level it states; money is shown in tokens. Without named
metrics it plots those that moved most across the points (`analysis.moved`), not a fixed
list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from sweeps import analysis
from sweeps.analysis import AnalysisError
from sweeps.report import _html
from sweeps.report._look import RC, Plot
from sweeps.report._numbers import fmt, label
from sweeps.report._paired import paired_section
from sweeps.report._sweep_plots import Param, is_numeric, ordered_values, plot_metric
from sweeps.report.errors import ReportError
from sweeps.stats import DEFAULT_CONFIDENCE, level_text
from twinecon.errors import suggest

__all__ = ["DEFAULT_METRICS", "render_sweep"]


#: The metrics a sweep report falls back to when no metric moved across the points (a sweep
#: of one point, or every metric flat), those present in results.parquet.
DEFAULT_METRICS = ("jobs_completed", "price_mean", "customer_value", "gini_final",
                   "time_ratio_mean")
#: How many of the metrics that moved most a report plots when none are named.
TOP_METRICS = 6


def _has_numbers(series: pd.Series) -> bool:
    """A metric column worth plotting: numbers (ints, floats or Decimals), not all missing."""
    values = series.dropna()
    if is_numeric(series):
        return len(values) > 0
    return len(values) > 0 and all(isinstance(v, int | float | Decimal | np.number)
                                   and not isinstance(v, bool | np.bool_) for v in values)


def _metric_values(results: pd.DataFrame, metric: str) -> np.ndarray:
    """A metric's values as float64 (money already in tokens: `analysis.load`)."""
    return np.asarray([math.nan if v is None else float(v) for v in results[metric]],
                      dtype=np.float64)


def _seeds_text(seeds: Sequence[Any]) -> str:
    if not seeds:
        return "?"
    ints = sorted(int(s) for s in seeds)
    if len(ints) > 3 and ints == list(range(ints[0], ints[-1] + 1)):
        return f"{ints[0]}\u2013{ints[-1]} ({len(ints)} seeds)"
    if len(ints) > 8:
        return ", ".join(map(str, ints[:6])) + f", … ({len(ints)} seeds)"
    return ", ".join(map(str, ints))


def _distinct(values: Iterable[Any]) -> str:
    seen = list(dict.fromkeys(str(v) for v in values if v is not None))
    return ", ".join(seen) if seen else "unknown"


def _param_text(spec: dict[str, Any]) -> str:
    if "values" in spec:
        return ", ".join(str(v) for v in spec["values"])
    if "range" in spec:
        lo, hi = spec["range"][0], spec["range"][-1]
        return f"[{lo}, {hi}]"
    return "?"


def render_sweep(folder: Path, metrics: Sequence[str] | None, *, baseline: Any = None,
                 confidence: float = DEFAULT_CONFIDENCE, precision: Any = None) -> str:
    """The page of a sweep folder (its files checked present by the caller); `metrics`,
    `baseline`, `confidence` and `precision` as `render_report`."""
    try:
        results, sweep = analysis.load(folder)
    except AnalysisError as e:
        raise ReportError(str(e)) from e
    if "scenario" not in sweep:
        raise ReportError(f"{folder}: sweep.json lacks scenario; it was not written by "
                          "`twinecon sweep`")
    columns = analysis.param_columns(sweep)
    design = str(sweep.get("design", "grid"))
    is_ok = (results["status"] == "ok").to_numpy()
    ok = results[is_ok].reset_index(drop=True)
    manifests = analysis.load_manifests(folder, ok["run_id"])
    chosen, not_numeric = _choose_metrics(folder, results, sweep, columns, metrics)
    params = [Param(str(spec["key"]), c, is_numeric(results[c]),
                    ordered_values(results[c], spec.get("values")))
              for spec, c in zip(sweep["params"], columns, strict=True)]
    # The metrics as float64 columns (money in tokens), so analysis takes them as they are shown.
    shown = results.assign(**{m: _metric_values(results, m) for m in chosen})
    shown.attrs = dict(results.attrs)
    level = level_text(confidence)

    plots: list[Plot] = []
    if len(ok) and params:
        with matplotlib.rc_context(RC):
            plots = [plot_metric(ok, shown[m].to_numpy()[is_ok], m, params, design,
                                 confidence=confidence) for m in chosen]
    paired_html, paired_plots = "", []
    if len(ok) and chosen and design in ("grid", "zip") and results["point_id"].nunique() > 1:
        try:
            with matplotlib.rc_context(RC):
                paired_html, paired_plots = paired_section(
                    shown, sweep, chosen, baseline=baseline, confidence=confidence,
                    precision=precision)
        except AnalysisError as e:
            raise ReportError(f"{folder}: {e}") from e
    seeds = list(sweep.get("seeds") or [])
    if not seeds and "seed" in results:
        seeds = sorted(pd.unique(results["seed"].dropna()).tolist())
    sections = [("Sweep", _design_table(results, sweep, seeds))]
    skipped = ""
    if not_numeric:
        skipped = ('<p class="note">Not plotted, as no run has a value: '
                   + ", ".join(f"<code>{_html.escape(m)}</code>" for m in not_numeric) + ".</p>")
    if paired_html:
        sections.append(("Does the change help? Paired differences against the baseline",
                         paired_html + _html.figures(paired_plots, start=1)))
    if plots:
        sections.append(("Metrics against parameters",
                         _html.figures(plots, start=len(paired_plots) + 1) + skipped))
    else:
        sections.append(("Metrics against parameters",
                         ('<p class="note fail">No successful runs to plot.</p>'
                          if not len(ok) else '<p class="note">No metrics to plot.</p>')
                         + skipped))
    sections.append(("Parameter points", _points_table(shown, sweep, chosen, params,
                                                       confidence)))
    failed = results[~is_ok]
    if len(failed):
        fail_rows = [(r.run_id, getattr(r, "seed", ""), str(getattr(r, "error", ""))[:300])
                     for r in failed.itertuples(index=False)]
        sections.append(("Failed runs", _html.table(("run", "seed", "error"), fail_rows,
                                                    (False, True, False), cls="failed")))

    ledger = sweep.get("ledger") or _distinct(
        [*(results["ledger"].dropna().unique() if "ledger" in results else []),
         *(m.get("ledger") for m in manifests)])
    twin = sweep.get("twin_id") or _distinct(m.get("twin_id") for m in manifests)
    meta = [("design", design), ("seeds", _seeds_text(seeds)), ("ledger", ledger),
            ("twin", twin), ("runs", f"{len(results):,}")]
    lede = (f"{len(params)} parameter(s) \u00d7 {len(seeds) if seeds else '?'} seed(s); "
            + ", ".join(p.key for p in params))
    meta.append(("intervals", f"{level} t"))
    return _html.page(str(sweep["scenario"]), "sweep report", lede, meta, sections,
                      len(plots) + len(paired_plots), folder.name)


def _choose_metrics(folder: Path, results: pd.DataFrame, sweep: dict[str, Any],
                    columns: Sequence[str],
                    metrics: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The metrics to plot (named, or the `TOP_METRICS` that moved most), and those left out
    as no run has a number in them (an error when the caller named them)."""
    if metrics is None:
        chosen = list(analysis.moved(results, sweep, top=TOP_METRICS)["metric"])
        if not chosen:
            chosen = [m for m in DEFAULT_METRICS if m in results.columns]
    else:
        chosen = list(dict.fromkeys(metrics))
        for m in chosen:
            if m not in results.columns:
                candidates = [c for c in results.columns if c not in columns]
                raise ReportError(f"{folder}: results.parquet has no metric {m!r}"
                                  + suggest(m, candidates))
    not_numeric = [m for m in chosen if not _has_numbers(results[m])]
    if metrics is not None and not_numeric:
        raise ReportError(f"{folder}: results.parquet has no numeric value in "
                          f"{', '.join(not_numeric)}; choose numeric metrics")
    return [m for m in chosen if m not in not_numeric], not_numeric


def _design_table(results: pd.DataFrame, sweep: dict[str, Any], seeds: Sequence[Any]) -> str:
    """The sweep's design, parameters, seeds and run counts."""
    n_ok = int((results["status"] == "ok").sum())
    rows = [
        ("Design", str(sweep.get("design", "grid"))),
        *[(f"Parameter {s['key']}", _param_text(s)) for s in sweep["params"]],
        ("Seeds", _seeds_text(seeds)),
        ("Points", fmt(results["point_id"].nunique())),
        ("Runs ok / failed", f"{n_ok:,} / {len(results) - n_ok:,}"),
    ]
    if "wall_s" in results:
        rows.append(("Total run time (s)", fmt(round(float(results["wall_s"].sum()), 1))))
    return _html.table(("setting", "value"), rows, (False, False))


def _points_table(shown: pd.DataFrame, sweep: dict[str, Any], chosen: Sequence[str],
                  params: Sequence[Param], confidence: float = DEFAULT_CONFIDENCE,
                  max_rows: int = 300) -> str:
    """A row per point: its parameters, runs ok, and each metric's mean ± half-width of its
    t interval at `confidence`, as `twinecon analyze` computes them (`analysis.summarize`)."""
    intervals: dict[tuple[Any, str], tuple[int, float, float]] = {}
    if chosen and len(shown):
        means = analysis.summarize(shown, sweep, metrics=chosen, confidence=confidence)
        halves = analysis.t_halfwidth(means["std"].to_numpy(), means["n"].to_numpy(),
                                      confidence)
        intervals = {(p, m): (int(n), mean, half) for p, m, n, mean, half in zip(
            means["point_id"], means["metric"], means["n"], means["mean"], halves, strict=True)}
    columns = [p.column for p in params]
    rows = []
    for (index, point_id), sub in shown.groupby(["point_index", "point_id"], sort=True):
        row: list[Any] = [int(index)]
        row += [fmt(v) if isinstance(v, float) else str(v) for v in sub.iloc[0][columns]]
        row.append(f"{int((sub['status'] == 'ok').sum())}/{len(sub)}")
        for m in chosen:
            n, mean, half = intervals.get((point_id, m), (0, math.nan, math.nan))
            row.append("—" if n == 0 else fmt(mean) + (f" ± {half:.2g}" if n > 1 else ""))
        rows.append(row)
    header = ["point", *[p.key for p in params], "runs ok", *[label(m) for m in chosen]]
    numeric = [True, *[p.numeric for p in params], True, *[True] * len(chosen)]
    markup = _html.table(header, rows[:max_rows], numeric, cls="points")
    if len(rows) > max_rows:
        markup += (f'<p class="note">Showing the first {max_rows} of {len(rows)} points; '
                   "results.parquet has them all.</p>")
    return (f'<p class="note">Mean ± half-width of the {level_text(confidence)} t-interval '
            "across the point's successful runs; money in tokens.</p>" + markup)
