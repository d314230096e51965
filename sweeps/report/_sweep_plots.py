"""A sweep's metric figures: one metric against each swept parameter, one panel each.

A grid design draws each parameter value's mean over the successful runs with its t interval
(`sweeps.stats.interval`, the interval `twinecon analyze` prints, at the report's level), one
line per value of the other parameter when there are exactly two; a categorical parameter
(text or yes/no values, such as a market rule) as grouped bars, since its values have no
order to join with a line; a Sobol or random design scatters every run with a binned mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sweeps.report._look import SERIES, Plot, encode, figure, no_data
from sweeps.report._numbers import fmt, label
from sweeps.stats import DEFAULT_CONFIDENCE, interval, level_text

__all__ = ["Param", "is_numeric", "ordered_values", "plot_metric"]


def ordered_values(series: pd.Series, declared: Sequence[Any] | None) -> list[Any]:
    """A parameter's values present in the results: in sweep.json's order when declared, else
    sorted."""
    present = list(pd.unique(series.dropna()))
    if declared:
        order = [v for v in declared if v in present]
        return order + [v for v in present if v not in order]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


def is_numeric(series: pd.Series) -> bool:
    """Numbers, not booleans."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


@dataclass(frozen=True, slots=True)
class Param:
    """A swept parameter as a plot axis."""

    key: str
    column: str
    numeric: bool
    values: list[Any]  # in plotting order


def plot_metric(ok: pd.DataFrame, y: np.ndarray, metric: str, params: Sequence[Param],
                design: str, confidence: float = DEFAULT_CONFIDENCE) -> Plot:
    """`metric` against each parameter of `params`.

    Args:
        ok: (n_runs, ...) the successful runs' rows of results.parquet.
        y: (n_runs,) float64, the metric's value in each of those runs (tokens for money), NaN
            where a run has none.
        design: the sweep's design: "grid", "sobol" or "random".
        confidence: the level of the intervals drawn.
    """
    level = level_text(confidence)
    finite = y[~np.isnan(y)]
    floor = 0.0 if len(finite) and (finite >= 0).all() else None
    continuous = design in ("sobol", "random")
    ncols = min(len(params), 3)
    nrows = math.ceil(len(params) / ncols)
    fig, axes = figure(3.3 * nrows + 0.3, nrows, ncols, sharey=True)
    for ax in axes.flat[len(params):]:
        ax.set_axis_off()
    grouped_by: dict[str, str] = {}
    for ax, p in zip(axes.flat, params, strict=False):
        x_raw = ok[p.column]
        if np.isnan(y).all():
            no_data(ax, "no successful run has a value")
        elif continuous and p.numeric:
            x = x_raw.to_numpy(dtype=np.float64)
            keep = ~np.isnan(y)
            ax.scatter(x[keep], y[keep], s=24, alpha=0.75, color=SERIES[0],
                       edgecolor="white", linewidth=0.5, label="one run", zorder=3)
            _binned_mean(ax, x[keep], y[keep])
        else:
            other = [q for q in params if q is not p]
            split = (design == "grid" and len(other) == 1 and 1 < len(other[0].values) <= 6)
            groups = [(None, np.ones(len(ok), dtype=bool))]
            if split:
                q = other[0]
                groups = [(v, (ok[q.column] == v).to_numpy()) for v in q.values]
                grouped_by[p.key] = q.key
            positions = (p.values if p.numeric else list(range(len(p.values))))
            span = (max(positions) - min(positions)) if len(positions) > 1 else 1.0
            width = 0.8 / len(groups)
            for g, (value, mask) in enumerate(groups):
                means, errs, xs = [], [], []
                for pos, v in zip(positions, p.values, strict=True):
                    ci = interval(y[mask & (x_raw == v).to_numpy()], confidence, floor)
                    if ci.n:
                        means.append(ci.mean)
                        # one run has no interval: a bar of length 0 marks the lone value
                        errs.append((ci.mean - ci.lo, ci.hi - ci.mean) if ci.n > 1
                                    else (0.0, 0.0))
                        xs.append(float(pos))
                colour = SERIES[g % len(SERIES)]
                name = f"mean, {level} CI" if value is None else _fmt_value(value)
                yerr = np.asarray(errs, dtype=float).T.reshape(2, -1)
                if p.numeric:
                    dodge = (g - (len(groups) - 1) / 2) * 0.03 * span
                    ax.errorbar(np.asarray(xs) + dodge, means, yerr=yerr, color=colour,
                                marker="o", ms=4.5, lw=1.4, capsize=3.5, elinewidth=1.1,
                                label=name)
                else:  # no order between the values: bars side by side, not a line
                    dodge = (g - (len(groups) - 1) / 2) * width
                    ax.bar(np.asarray(xs) + dodge, means, width=width * 0.92, yerr=yerr,
                           color=colour, alpha=0.85, capsize=3.5,
                           error_kw={"elinewidth": 1.1}, label=name)
            if not p.numeric:
                ax.set_xticks(positions, [str(v) for v in p.values])
            elif len(p.values) <= 8:
                ax.set_xticks(p.values)
            ax.margins(x=0.08)
        ax.set_xlabel(p.key)
        if ax in axes[:, 0]:
            ax.set_ylabel(label(metric))
        handles = ax.get_legend_handles_labels()[0]
        if len(handles) > 1 or (continuous and p.numeric):
            # Above the axes, one row: short entries (the other parameter's values) under a
            # title naming it, so the legend never hides a marker or an error bar.
            ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len(handles),
                      fontsize=8, handlelength=1.6, columnspacing=1.0, borderaxespad=0.2,
                      title=f"{grouped_by[p.key]} =" if p.key in grouped_by else None,
                      title_fontsize=8, alignment="left")
    fig.suptitle(label(metric), x=0.01, ha="left", fontweight="bold", fontsize=11)
    seeds = ok.groupby("point_id").size()
    n_seed = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()}\u2013{seeds.max()}"
    if continuous:
        how = ("Each dot is one run; the line joins the means of runs grouped into equal-count "
               "bins of the parameter.")
    else:
        how = (f"Markers (bars, for a parameter whose values are categories) are means over "
               f"the {n_seed} successful run(s) per point; error bars are {level} t-intervals "
               "of the mean across seeds.")
        if grouped_by:
            how += " One line per value of the other parameter."
        elif len(params) > 1 and design == "grid":
            how += " Means pool the other parameters' values too (marginal means)."
    return Plot(
        label(metric)[:1].upper() + label(metric)[1:],
        encode(fig),
        f"{'Scatter' if continuous else 'Error-bar'} plot of {label(metric)} against "
        + ", ".join(p.key for p in params) + ".",
        f"{label(metric).capitalize()} against each swept parameter. {how}")


def _fmt_value(value: Any) -> str:
    return fmt(value) if isinstance(value, float) else str(value)


def _binned_mean(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    if len(x) < 8:
        return
    n_bins = min(8, len(x) // 4)
    order = np.argsort(x, kind="stable")
    xs, ys = [], []
    for chunk in np.array_split(order, n_bins):
        xs.append(float(x[chunk].mean()))
        ys.append(float(y[chunk].mean()))
    ax.plot(xs, ys, color=SERIES[1], lw=1.4, alpha=0.85, marker="s", ms=3,
            label="binned mean", zorder=2)
