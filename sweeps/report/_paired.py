"""A sweep report's answer to "does this change help": each point against a baseline point,
seed by seed (`sweeps.analysis.paired`, the numbers `twinecon analyze --paired` prints).

For every chosen metric it states the paired difference with its t interval, both p-values
(paired t, and the sign-flip permutation test that needs no normality), the effect size d_z
and the seeds a resolved answer would need, then says in one sentence per metric whether the
interval excludes zero. A forest plot shows each difference relative to the baseline's mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sweeps import analysis
from sweeps.report import _html
from sweeps.report._look import SERIES, Plot, encode, figure
from sweeps.report._numbers import fmt, label
from sweeps.stats import level_text

__all__ = ["paired_section"]


def _p(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3g}"


def _signed(value: float) -> str:
    if math.isnan(value):
        return "—"
    return ("+" if value > 0 else "") + fmt(value)


def _seeds(value: float) -> str:
    if math.isnan(value):
        return "—"
    return "> 100,000" if math.isinf(value) else f"{int(value):,}"


def _point_text(row: pd.Series, params: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{key} = {_value(row[column])}" for key, column in params)


def _value(v: Any) -> str:
    return fmt(v) if isinstance(v, float) else str(v)


def _verdict(row: pd.Series, metric: str, unit: str, level: str) -> str:
    """One sentence: the change, its interval, and whether it is resolved from zero."""
    diff, lo, hi = float(row["diff"]), float(row["lo"]), float(row["hi"])
    name = label(metric)
    if int(row["n"]) < 2 or math.isnan(lo):
        return (f"{name}: {_signed(diff)}{unit} on {int(row['n'])} seed(s): too few seeds "
                "for an interval.")
    span = f"{level} CI {_signed(lo)} to {_signed(hi)}"
    tests = f"paired t p = {_p(row['p_t'])}, sign-flip p = {_p(row['p_perm'])}"
    if lo > 0 or hi < 0:
        way = "raises" if diff > 0 else "lowers"
        return f"{name}: the change {way} it by {_signed(diff)}{unit} ({span}; {tests})."
    if diff == 0 and lo == 0 and hi == 0:
        return f"{name}: identical in every seed (no change at all)."
    need = _seeds(float(row["seeds_needed"]))
    return (f"{name}: {_signed(diff)}{unit}, not distinguishable from zero ({span}; {tests}); "
            f"about {need} seeds would resolve a difference this size.")


def paired_section(results: pd.DataFrame, sweep: dict[str, Any], metrics: Sequence[str],
                   baseline: Any = None, confidence: float = 0.95,
                   precision: Any = None, max_rows: int = 200) -> tuple[str, list[Plot]]:
    """The section's HTML and its forest plot: every point against `baseline` (as
    `analysis.paired` takes it; default the first point) on `metrics`."""
    table = analysis.paired(results, sweep, baseline=baseline, metrics=list(metrics),
                            confidence=confidence, precision=precision)
    if table.empty:
        return '<p class="note">One point only: nothing to compare.</p>', []
    level = level_text(confidence)
    params = [(str(p["key"]), analysis.param_columns({"params": [p]})[0])
              for p in sweep.get("params", [])]
    base = table.attrs["baseline_point"]
    base_text = ", ".join(f"{k} = {_value(base[c])}" for k, c in params) or "the first point"
    money = set(results.attrs.get("money", ()))
    intro = (f'<p class="note">Each point minus the baseline <b>{_html.escape(base_text)}</b>, '
             f"seed by seed: runs of one seed share their demand and twin draws when the "
             f"points differ only in rules or values (<i>same draws</i>), so the difference "
             f"cancels the noise both share. Intervals are {level} t-intervals of the mean "
             f"difference; <i>p (t)</i> is the paired t test, <i>p (sign-flip)</i> an exact "
             f"permutation test that needs no normality (with n seeds it cannot go below "
             f"2/2<sup>n</sup>); <i>d<sub>z</sub></i> is the difference over its seed-to-seed "
             f"standard deviation; <i>seeds needed</i> is for an interval half as wide as the "
             f"difference{'' if precision is None else f' (precision {precision})'}.</p>")
    verdicts = []
    rows = []
    for _, row in table.iterrows():
        unit = " tokens" if row["metric"] in money else ""
        point = _point_text(row, params)
        verdicts.append(f"<li><b>{_html.escape(point)}</b>: "
                        f"{_html.escape(_verdict(row, row['metric'], unit, level))}</li>")
        rows.append([point, label(row["metric"]), "yes" if row["same_exogenous"] else "no",
                     int(row["n"]), fmt(row["base_mean"]), fmt(row["mean"]),
                     _signed(float(row["diff"])),
                     f"{_signed(float(row['lo']))} to {_signed(float(row['hi']))}",
                     _p(row["p_t"]), _p(row["p_perm"]),
                     "—" if math.isnan(row["effect"]) else f"{row['effect']:.2f}",
                     _seeds(float(row["seeds_needed"]))])
    header = ["point", "metric", "same draws", "seeds", "baseline", "point mean", "difference",
              f"{level} CI", "p (t)", "p (sign-flip)", "d_z", "seeds needed"]
    numeric = [False, False, False, True, True, True, True, True, True, True, True, True]
    markup = (intro + "<ul>" + "".join(verdicts[:max_rows]) + "</ul>"
              + '<div class="scroll">'
              + _html.table(header, rows[:max_rows], numeric, cls="paired") + "</div>")
    if len(rows) > max_rows:
        markup += (f'<p class="note">Showing {max_rows} of {len(rows)} comparisons; '
                   "<code>twinecon analyze --paired</code> prints them all.</p>")
    return markup, [_forest(table, params, level)]


def _forest(table: pd.DataFrame, params: Sequence[tuple[str, str]], level: str) -> Plot:
    """Each comparison's difference as a share of the baseline's mean, with its interval."""
    shown = table.head(40)
    scale = shown["base_mean"].abs().replace(0.0, np.nan)
    rel = (shown["diff"] / scale * 100).to_numpy(dtype=float)
    lo = (shown["lo"] / scale * 100).to_numpy(dtype=float)
    hi = (shown["hi"] / scale * 100).to_numpy(dtype=float)
    labels = [f"{label(m)} @ {_point_text(r, params)}" for m, (_, r)
              in zip(shown["metric"], shown.iterrows(), strict=True)]
    fig, axes = figure(0.38 * len(shown) + 1.2)
    ax = axes[0, 0]
    y = np.arange(len(shown))[::-1]
    ok = ~np.isnan(rel)
    err = np.vstack([rel - lo, hi - rel])
    ax.errorbar(rel[ok], y[ok], xerr=np.nan_to_num(err[:, ok]), fmt="o", color=SERIES[0],
                ecolor=SERIES[0], capsize=3, ms=5, lw=0, elinewidth=1.2)
    ax.axvline(0, color="#888", lw=1, ls="--")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("difference, % of the baseline's mean")
    for yy, flag in zip(y, ok, strict=True):
        if not flag:
            ax.annotate("baseline mean is 0", (0, yy), fontsize=7, color="#888",
                        xytext=(4, -3), textcoords="offset points")
    return Plot("Paired differences", encode(fig),
                f"Forest plot of each point's paired difference from the baseline with "
                f"{level} intervals.",
                f"Paired difference from the baseline, as a percentage of the baseline's "
                f"mean, with {level} t-intervals across seeds; the dashed line is no change.")
