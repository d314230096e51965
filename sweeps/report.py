"""Self-contained HTML reports of a run folder or a sweep folder.

`write_report(folder)` writes `folder/report.html`: one file with no external references
(plots are base64 PNGs, the CSS and a tiny script are inline), so it can be mailed, archived
or opened offline. A run folder (`twinecon run ... --out DIR`) gets its market, jobs,
balances and value-flow plots; a sweep folder (`sweep.json` + `results.parquet`) gets each key
metric against each parameter with 95 % intervals across seeds, and a table of points.

Each page sets `data-expected` on `<body>` to its number of images and, once loaded,
`data-rendered` to the number that decoded, so a headless browser can prove the plots render.

Plots use `matplotlib.figure.Figure` directly (the Agg canvas, no pyplot, no global state).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from twinecon.errors import TwineconError, suggest

__all__ = ["DEFAULT_METRICS", "REPORT_NAME", "ReportError", "render_report", "write_report"]

#: The file a report is written to, inside the folder it reports on.
REPORT_NAME = "report.html"

#: The metrics a sweep report plots when none are given (those present in results.parquet).
DEFAULT_METRICS = ("jobs_completed", "price_mean", "customer_value", "gini_final",
                   "time_ratio_mean")

RUN_FILES = ("manifest.json", "summary.json", "ticks.parquet", "agents.parquet",
             "flows.parquet")
SWEEP_FILES = ("sweep.json", "results.parquet")


class ReportError(TwineconError, ValueError):
    """A folder cannot be reported on; the message names it, what it lacks, and the fix."""


# --------------------------------------------------------------------------------------------
# Look: one palette, one rc context, one PNG encoder.

_DPI = 110
_WIDTH_IN = 9.6
_RC = {
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8a8f98",
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.formatter.useoffset": False,
    "grid.color": "#dfe3e8",
    "grid.linewidth": 0.7,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "xtick.color": "#4a4f57",
    "ytick.color": "#4a4f57",
}
#: Colour per role / value-flow class, the same in every plot.
_CLASS_COLOURS = {
    "customer": "#4c78a8", "behaviour": "#f58518", "provider": "#f58518",
    "evaluator": "#54a24b", "compute": "#b279a2", "world": "#9d755d", "data": "#72b7b2",
    "treasury": "#e45756", "burn": "#79706e", "protocol": "#bab0ac",
}
_JOB_COLOURS = {"posted": "#c9ced6", "completed": "#54a24b", "rejected": "#e45756",
                "expired": "#f2a93b", "open": "#4c78a8"}
_SERIES = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#b279a2", "#72b7b2", "#9d755d",
           "#eeca3b")
#: Value-flow classes in the order of DESIGN.md's matrix.
_CLASS_ORDER = ("customer", "world", "data", "compute", "behaviour", "evaluator", "treasury",
                "burn", "protocol")
_ROLE_ORDER = ("customer", "provider", "evaluator", "compute", "world", "data")

#: Money leaves of summary.json (base units); flattened dict leaves start with these prefixes.
_MONEY_KEYS = frozenset({"price_mean", "volume", "compute_spend", "customer_value",
                         "consumer_surplus", "producer_surplus", "supply", "minted", "burned",
                         "treasury"})
_MONEY_PREFIXES = ("revenue_by_class_", "balance_mean_by_role_")

_LABELS = {
    "jobs_completed": "jobs completed", "jobs_posted": "jobs posted",
    "jobs_rejected": "jobs rejected", "jobs_expired": "jobs expired",
    "completion_rate": "completion rate", "price_mean": "mean price (tokens)",
    "customer_value": "customer value (tokens)", "gini_final": "Gini of balances (final)",
    "time_ratio_mean": "plan time vs baseline", "volume": "volume (tokens)",
    "cu_sold": "sim time sold (CU)", "compute_spend": "compute spend (tokens)",
    "consumer_surplus": "consumer surplus (tokens)",
    "producer_surplus": "producer surplus (tokens)",
}

# t quantiles t_{0.975, df} for df = 1..30; 1.96 beyond.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


@dataclass(frozen=True, slots=True)
class _Plot:
    """One embedded figure: its PNG (base64), alt text and caption."""

    title: str
    png_b64: str
    alt: str
    caption: str


def _figure(height_in: float, nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Figure, Any]:
    fig = Figure(figsize=(_WIDTH_IN, height_in), dpi=_DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _encode(fig: Figure) -> str:
    buf = io.BytesIO()
    # No "Software" text chunk: the same data gives the same bytes on any matplotlib.
    fig.savefig(buf, format="png", dpi=_DPI, facecolor="white", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _label(metric: str) -> str:
    return _LABELS.get(metric, metric.replace("_", " "))


def _is_money(column: str) -> bool:
    return column in _MONEY_KEYS or column.startswith(_MONEY_PREFIXES)


def _tokens(values: Iterable[Any], decimals: int) -> np.ndarray:
    """Base-unit amounts (int, Decimal, float, None) as float tokens, exact up to rounding."""
    scale = 10**decimals
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(math.nan)
        elif isinstance(v, int | Decimal | np.integer):
            out.append(int(v) / scale)  # int / int: correctly rounded, no precision lost early
        else:
            out.append(float(v) / scale)
    return np.asarray(out, dtype=np.float64)


def _fmt(x: Any) -> str:
    """A number for people: ints with separators, floats to four significant digits."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    x = float(x)
    if math.isnan(x):
        return "—"
    if x == 0:
        return "0"
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _tick_axis(*axes: Any) -> None:
    """Ticks are whole numbers: no 2.5 on a tick axis."""
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _no_data(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            color="#6b7280", fontsize=10, style="italic")


# --------------------------------------------------------------------------------------------
# Reading folders.


def _read_json(path: Path, folder: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReportError(f"{folder}: cannot read {path.name} ({e}); re-create the folder") \
            from e
    if not isinstance(data, dict):
        raise ReportError(f"{folder}: {path.name} is not a JSON object")
    return data


def _read_parquet(path: Path, folder: Path, columns: Sequence[str]) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several unrelated types for a bad file
        raise ReportError(f"{folder}: cannot read {path.name} ({e}); re-create the folder") \
            from e
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ReportError(f"{folder}: {path.name} lacks the column(s) {', '.join(missing)}; "
                          "it was written by another version of twinecon, re-create it")
    return df


def _kind(folder: Path) -> str:
    if not folder.exists():
        raise ReportError(f"{folder} does not exist; give a run folder (twinecon run --out) "
                          "or a sweep folder (twinecon sweep)")
    if not folder.is_dir():
        raise ReportError(f"{folder} is not a folder; give a run folder (with summary.json) "
                          "or a sweep folder (with sweep.json)")
    if (folder / "sweep.json").is_file():
        missing = [f for f in SWEEP_FILES if not (folder / f).is_file()]
        if missing:
            raise ReportError(f"{folder} is a sweep folder but lacks {', '.join(missing)}; "
                              "finish the sweep (re-running it resumes) and report again")
        return "sweep"
    if (folder / "summary.json").is_file() or (folder / "manifest.json").is_file():
        missing = [f for f in RUN_FILES if not (folder / f).is_file()]
        if missing:
            raise ReportError(f"{folder} is a run folder but lacks {', '.join(missing)}; "
                              "re-run the scenario into it")
        return "run"
    raise ReportError(f"{folder} is neither a run folder (it lacks summary.json) nor a sweep "
                      "folder (it lacks sweep.json)")


# --------------------------------------------------------------------------------------------
# HTML.

_CSS = """
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#e3e7ec; --accent:#4c78a8; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
main { max-width:1100px; margin:0 auto; padding:28px 32px 48px; }
header { border-bottom:3px solid var(--accent); padding-bottom:14px; margin-bottom:20px; }
h1 { font-size:28px; margin:0 0 4px; letter-spacing:-0.01em; }
h1 small { font-size:16px; font-weight:500; color:var(--muted); margin-left:8px; }
h2 { font-size:19px; margin:34px 0 12px; padding-bottom:4px; border-bottom:1px solid var(--line); }
p.lede { margin:2px 0 12px; color:var(--muted); }
dl.meta { display:flex; flex-wrap:wrap; gap:8px; margin:10px 0 0; }
dl.meta div { background:#fff; border:1px solid var(--line); border-radius:6px; padding:4px 10px; }
dl.meta dt { display:inline; color:var(--muted); font-size:12px; text-transform:uppercase;
  letter-spacing:.04em; margin-right:6px; }
dl.meta dd { display:inline; margin:0; font-weight:600; font-size:14px; }
code, .mono { font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace; font-size:13px; }
table { border-collapse:collapse; background:#fff; border:1px solid var(--line); font-size:14px;
  min-width:50%; }
th, td { padding:5px 12px; border-bottom:1px solid var(--line); text-align:left; }
th { background:#eef1f5; font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
td.num { white-space:nowrap; }
.pair { display:flex; flex-wrap:wrap; gap:18px; align-items:flex-start; }
.pair table { flex:1 1 380px; min-width:0; }
.points table { font-size:13px; width:100%; }
.points th { vertical-align:bottom; }
tbody tr:nth-child(even) td { background:#fafbfc; }
.scroll { overflow-x:auto; max-height:640px; overflow-y:auto; }
figure { margin:18px 0; background:#fff; border:1px solid var(--line); border-radius:8px;
  padding:12px 12px 8px; box-shadow:0 1px 2px rgba(0,0,0,.04); }
figure img { display:block; width:100%; height:auto; }
figcaption { color:var(--muted); font-size:13.5px; margin-top:6px; }
figcaption b { color:var(--ink); }
.note { color:var(--muted); font-size:13.5px; }
.fail { color:#b42318; }
footer { margin-top:40px; color:var(--muted); font-size:12.5px; }
"""

_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.dataset.expected = String(imgs.length);
  document.body.dataset.rendered = String(ok.length);
});
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _meta(items: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in items)
    return f'<dl class="meta">{cells}</dl>'


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool],
           cls: str = "") -> str:
    def cell(tag: str, value: Any, num: bool) -> str:
        text = _e(value)
        if tag == "th":  # long dotted parameter keys may break after a dot or an underscore
            text = text.replace(".", ".<wbr>").replace("_", "_<wbr>")
        return f'<{tag}{" class=num" if num else ""}>{text}</{tag}>'

    head = "".join(cell("th", h, n) for h, n in zip(header, numeric, strict=True))
    body = "".join("<tr>" + "".join(cell("td", v, n) for v, n in zip(r, numeric, strict=True))
                   + "</tr>" for r in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll {cls}">{table}</div>' if cls else table


def _figures(plots: Sequence[_Plot]) -> str:
    out = []
    for i, p in enumerate(plots, 1):
        out.append(
            f'<figure id="fig-{i}"><img src="data:image/png;base64,{p.png_b64}" '
            f'alt="{_e(p.alt)}"><figcaption><b>Figure {i}. {_e(p.title)}.</b> '
            f"{_e(p.caption)}</figcaption></figure>")
    return "\n".join(out)


def _page(title: str, subtitle: str, lede: str, meta: Sequence[tuple[str, Any]],
          sections: Sequence[tuple[str, str]], n_images: int, source: str) -> str:
    try:
        version = metadata.version("twinecon")
    except metadata.PackageNotFoundError:
        version = "unknown"
    body = "\n".join(f"<section><h2>{_e(h)}</h2>\n{content}</section>" for h, content in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="twinecon {_e(version)}">
<title>{_e(title)} — {_e(subtitle)}</title>
<style>{_CSS}</style>
</head>
<body data-expected="{n_images}">
<main>
<header>
<h1>{_e(title)}<small>{_e(subtitle)}</small></h1>
<p class="lede">{_e(lede)}</p>
{_meta(meta)}
</header>
{body}
<footer>Written by twinecon {_e(version)} from <code>{_e(source)}</code>.
Money is shown in tokens; the run's files keep exact base units.</footer>
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# Run report.


def _run_plots(ticks: pd.DataFrame, agents: pd.DataFrame, flows: pd.DataFrame,
               decimals: int) -> list[_Plot]:
    tick = ticks["tick"].to_numpy()
    plots = [_plot_market(ticks, tick, decimals), _plot_jobs(ticks, tick),
             _plot_balances(ticks, agents, decimals)]
    if set(_COMPUTE_COLUMNS) <= set(ticks.columns):  # runs before the full economy lack them
        plots.append(_plot_compute(ticks, tick, decimals))
    plots += _plot_flows(flows, decimals)
    return plots


def _plot_market(ticks: pd.DataFrame, tick: np.ndarray, decimals: int) -> _Plot:
    price = ticks["price_mean"].to_numpy(dtype=np.float64)
    volume = _tokens(ticks["volume"], decimals)
    fig, axes = _figure(4.6, 2, 1, sharex=True, height_ratios=(3, 2))
    ax_p, ax_v = axes[0, 0], axes[1, 0]
    sold = ~np.isnan(price)
    if sold.any():
        ax_p.plot(tick[sold], price[sold], color=_SERIES[0], lw=1.4, marker="o", ms=3.5)
        overall = float(np.nansum(volume) / max(ticks["completed"].sum(), 1))
        ax_p.axhline(overall, color=_SERIES[1], lw=1, ls="--",
                     label=f"run mean {_fmt(overall)} tokens")
        ax_p.legend(loc="upper left")
    else:
        _no_data(ax_p, "no job was completed, so nothing was priced")
    ax_p.set_title("Mean price of completed jobs")
    ax_p.set_ylabel("tokens per job")
    ax_v.bar(tick, volume, width=0.85, color=_SERIES[0], alpha=0.85)
    if not volume.any():
        _no_data(ax_v, "no volume")
        ax_v.set_ylim(0, 1)
    ax_v.set_title("Volume (value of completed jobs)")
    ax_v.set_ylabel("tokens")
    ax_v.set_xlabel("tick")
    ax_v.set_xlim(tick.min() - 0.6, tick.max() + 0.6)
    _tick_axis(ax_p, ax_v)
    n_priced = int(sold.sum())
    mean_note = "; the dashed line is the run's volume-weighted mean" if n_priced else ""
    return _Plot(
        "Prices and volume",
        _encode(fig),
        "Line chart of the mean price per completed job per tick, above a bar chart of the "
        "traded volume per tick, both in tokens.",
        f"Top: mean price of the jobs completed in each tick ({n_priced} of {len(tick)} ticks "
        f"had completions{mean_note}). Bottom: volume, the total price of the jobs completed "
        "in the tick.")


_COMPUTE_COLUMNS = ("cu_leased", "cu_sold", "cu_claimed", "compute_price_mean", "licence",
                    "royalties", "data_volume", "emitted")


def _plot_compute(ticks: pd.DataFrame, tick: np.ndarray, decimals: int) -> _Plot:
    """Sim time leased, used and claimed; its mean price; what the IP and data markets and
    emissions paid, per tick."""
    fig, axes = _figure(6.4, 3, 1, sharex=True, height_ratios=(3, 2, 2))
    ax_cu, ax_p, ax_m = axes[0, 0], axes[1, 0], axes[2, 0]
    leased = ticks["cu_leased"].to_numpy(dtype=np.float64)
    used = ticks["cu_sold"].to_numpy(dtype=np.float64)
    claimed = ticks["cu_claimed"].to_numpy(dtype=np.float64)
    ax_cu.bar(tick, leased, width=0.85, color=_SERIES[0], alpha=0.35, label="leased (locked)")
    ax_cu.bar(tick, used, width=0.55, color=_SERIES[0], label="used by evaluations")
    ax_cu.plot(tick, claimed, color=_SERIES[1], lw=1.2, marker=".", ms=4,
               label="claimed by sellers")
    if leased.any():
        ax_cu.legend(loc="upper left")
    else:
        _no_data(ax_cu, "no sim time was leased")
    ax_cu.set_title("Sim time: compute units per tick")
    ax_cu.set_ylabel("CU")
    price = ticks["compute_price_mean"].to_numpy(dtype=np.float64) * 1e6
    priced = ~np.isnan(price)
    if priced.any():
        ax_p.plot(tick[priced], price[priced], color=_SERIES[0], lw=1.4, marker="o", ms=3)
    else:
        _no_data(ax_p, "no lease was opened")
    ax_p.set_title("Mean price of sim time leased")
    ax_p.set_ylabel("tokens per 1M CU")
    streams = [("licence", "licence to the twin's owner"), ("royalties", "royalties"),
               ("data_volume", "data uses"), ("emitted", "emissions")]
    shown = False
    for i, (column, label) in enumerate(streams):
        values = _tokens(ticks[column], decimals)
        if values.any():
            ax_m.plot(tick, values, color=_SERIES[i % len(_SERIES)], lw=1.3, label=label)
            shown = True
    if shown:
        ax_m.legend(loc="upper left")
    else:
        _no_data(ax_m, "no licence, royalty, data or emission payments")
    ax_m.set_title("World, IP and data income, and emissions")
    ax_m.set_ylabel("tokens")
    ax_m.set_xlabel("tick")
    ax_m.set_xlim(tick.min() - 0.6, tick.max() + 0.6)
    _tick_axis(ax_cu, ax_p, ax_m)
    return _Plot(
        "Sim time, licences, royalties and data",
        _encode(fig),
        "Bar chart of compute units leased and used per tick with a line of the units "
        "claimed, above a line chart of the mean price per million compute units and a line "
        "chart of licence, royalty, data and emission payments per tick in tokens.",
        f"Top: compute units leased (locked at the worst case), used by evaluations and "
        f"claimed by the sellers, per tick ({int(leased.sum()):,} leased, {int(used.sum()):,} "
        "used in all); unused units returned to the buyers. Middle: the mean price of the "
        "units leased in the tick. Bottom: the licence fees paid to the twin's owner, the "
        "royalties paid up the IP graph, the value of data uses, and the tokens emitted.")


def _plot_jobs(ticks: pd.DataFrame, tick: np.ndarray) -> _Plot:
    fig, axes = _figure(4.4, 1, 2, width_ratios=(3, 2))
    ax, ax_c = axes[0, 0], axes[0, 1]
    posted = ticks["jobs_posted"].to_numpy()
    ax.bar(tick - 0.21, posted, width=0.42, color="#9aa3ae", label="posted")
    bottom = np.zeros(len(tick))
    for name, column in (("completed", "completed"), ("rejected", "rejected"),
                         ("expired", "expired")):
        values = ticks[column].to_numpy()
        ax.bar(tick + 0.21, values, width=0.42, bottom=bottom, color=_JOB_COLOURS[name],
               label=name)
        bottom = bottom + values
    ax.set_title("Jobs per tick")
    ax.set_xlabel("tick")
    ax.set_ylabel("jobs")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", ncols=4)
    ax.set_ylim(0, max(posted.max(initial=0), bottom.max(initial=0), 1) * 1.3)
    for name, column in (("posted", "jobs_posted"), ("completed", "completed"),
                         ("rejected", "rejected"), ("expired", "expired")):
        colour = "#6b7280" if name == "posted" else _JOB_COLOURS[name]
        ax_c.step(tick, ticks[column].cumsum().to_numpy(), where="post", color=colour, lw=1.6,
                  label=name)
    if "open_jobs" in ticks:
        ax_c.step(tick, ticks["open_jobs"].to_numpy(), where="post", color=_JOB_COLOURS["open"],
                  lw=1.2, ls=":", label="open now")
    ax_c.set_title("Cumulative")
    ax_c.set_xlabel("tick")
    ax_c.yaxis.get_major_locator().set_params(integer=True)
    ax_c.legend(loc="upper left")
    _tick_axis(ax, ax_c)
    totals = {c: int(ticks[c].sum()) for c in ("jobs_posted", "completed", "rejected",
                                               "expired")}
    return _Plot(
        "Jobs",
        _encode(fig),
        "Bar chart of jobs posted per tick next to the completed, rejected and expired jobs "
        "stacked, and step lines of the cumulative counts.",
        f"Left: jobs posted in each tick (grey, left bar) and the jobs that reached an outcome "
        f"in it (right bar, stacked: completed, rejected, expired). Right: running totals and "
        f"the jobs open at the end of each tick. Over the run: {totals['jobs_posted']} posted, "
        f"{totals['completed']} completed, {totals['rejected']} rejected, "
        f"{totals['expired']} expired.")


def _plot_balances(ticks: pd.DataFrame, agents: pd.DataFrame, decimals: int) -> _Plot:
    fig, axes = _figure(4.0, 1, 2, width_ratios=(3, 2))
    ax, ax_g = axes[0, 0], axes[0, 1]
    df = pd.DataFrame({"tick": agents["tick"].to_numpy(), "role": agents["role"].astype(str),
                       "balance": _tokens(agents["balance"], decimals)})
    roles = sorted(df["role"].unique(), key=lambda r: (_ROLE_ORDER.index(r)
                                                       if r in _ROLE_ORDER else 99, r))
    first = df["tick"].min() if len(df) else 0
    for i, role in enumerate(roles):
        sub = df[df["role"] == role]
        mean = sub.groupby("tick")["balance"].mean()
        n = int((sub["tick"] == first).sum()) or sub.groupby("tick").size().max()
        start = float(mean.iloc[0])
        ax.plot(mean.index.to_numpy(), (mean - start).to_numpy(), lw=1.6,
                color=_CLASS_COLOURS.get(role, _SERIES[i % len(_SERIES)]),
                label=f"{role} \u00d7{n} (start {_fmt(start)})")
    if not roles:
        _no_data(ax, "no balances recorded")
    ax.axhline(0, color="#8a8f98", lw=0.8)
    ax.set_title("Mean balance by role, change since the start")
    ax.set_xlabel("tick")
    ax.set_ylabel("tokens")
    ax.legend(loc="best")
    ax_g.plot(ticks["tick"].to_numpy(), ticks["gini"].to_numpy(dtype=np.float64),
              color=_SERIES[3], lw=1.6)
    ax_g.set_title("Gini of balances")
    ax_g.set_xlabel("tick")
    ax_g.margins(y=0.25)
    _tick_axis(ax, ax_g)
    gini = ticks["gini"].to_numpy(dtype=np.float64)
    return _Plot(
        "Balances and inequality",
        _encode(fig),
        "Line chart of each role's mean balance change over time, and a line chart of the "
        "Gini coefficient of all balances over time.",
        "Left: mean balance of each role's agents minus its value at the first recorded tick "
        "(the legend gives the number of agents and the starting mean). Right: Gini "
        f"coefficient of all participants' balances, from {_fmt(gini[0])} to "
        f"{_fmt(gini[-1])}.")


def _flow_totals(flows: pd.DataFrame) -> dict[tuple[str, str, str], int]:
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for payer, payee, flow, amount in zip(flows["payer_class"], flows["payee_class"],
                                          flows["flow"], flows["amount"], strict=True):
        totals[(str(payer), str(payee), str(flow))] += int(amount)
    return totals


def _class_key(name: str) -> tuple[int, str]:
    return (_CLASS_ORDER.index(name) if name in _CLASS_ORDER else 99, name)


def _plot_flows(flows: pd.DataFrame, decimals: int) -> list[_Plot]:
    totals = _flow_totals(flows)
    genesis = sum(v for (_, _, f), v in totals.items() if f == "genesis")
    moved = {k: v for k, v in totals.items() if k[2] != "genesis" and v}
    refunds = sum(v for (_, _, f), v in moved.items() if f == "refund")
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for (payer, payee, flow), v in moved.items():
        if flow != "refund":  # escrow handing a customer its own money back: not a payment
            cells[(payer, payee)] += v
    payers = sorted({p for p, _ in cells}, key=_class_key)
    payees = sorted({q for _, q in cells}, key=_class_key)
    scale = 10**decimals
    matrix = np.full((len(payers), len(payees)), np.nan)
    for (p, q), v in cells.items():
        matrix[payers.index(p), payees.index(q)] = v / scale
    left_out = []
    if genesis:
        left_out.append(f"genesis allocations ({_fmt(genesis / scale)} tokens minted at tick 0)")
    if refunds:
        left_out.append(f"escrow refunds to customers ({_fmt(refunds / scale)} tokens)")
    genesis_note = (" Left out, as they pay for nothing: " + " and ".join(left_out) + "."
                    if left_out else "")

    fig, axes = _figure(max(3.2, 0.62 * len(payers) + 1.7))
    ax = axes[0, 0]
    if cells:
        positive = matrix[~np.isnan(matrix)]
        lo, hi = float(positive.min()), float(positive.max())
        log = hi / lo > 50
        norm = LogNorm(lo, hi) if log else Normalize(0, hi)
        base = matplotlib.colormaps["YlGnBu"]
        cmap = ListedColormap(base(np.linspace(0.18, 1.0, 256)))  # palest yellow reads as empty
        im = ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, norm=norm, aspect="auto")
        ax.set_facecolor("#f3f4f6")
        for i in range(len(payers)):
            for j in range(len(payees)):
                v = matrix[i, j]
                if not np.isnan(v):
                    dark = norm(v) > 0.55
                    ax.text(j, i, _fmt(v), ha="center", va="center", fontsize=9,
                            color="white" if dark else "#1f2933",
                            fontweight="bold" if dark else "normal")
        ax.set_xticks(range(len(payees)), payees)
        ax.set_yticks(range(len(payers)), payers)
        ax.set_xticks(np.arange(len(payees) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(payers) + 1) - 0.5, minor=True)
        ax.grid(False)
        ax.grid(which="minor", color="white", lw=2)
        ax.tick_params(which="minor", length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.xaxis.set_ticks_position("top")
        ax.xaxis.set_label_position("top")
        ax.set_xlabel("payee class", labelpad=8)
        ax.set_ylabel("payer class")
        fig.colorbar(im, ax=ax, label="tokens" + (" (log scale)" if log else ""), shrink=0.9)
    else:
        _no_data(ax, "no tokens moved between participants")
        ax.set_axis_off()
    matrix_plot = _Plot(
        "Value-flow matrix",
        _encode(fig),
        "Heat map of the total tokens paid over the run from each payer class (rows) to each "
        "payee class (columns), each cell annotated with its amount.",
        "Tokens paid over the whole run from each payer class (rows) to each payee class "
        "(columns), all purposes together; grey cells moved nothing. Escrow payouts count "
        "against the job's customer (escrow is not a party)." + genesis_note)

    by_flow: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for (_, _, flow), v in moved.items():
        by_flow[flow] += v
    for payer, payee, flow, n in zip(flows["payer_class"], flows["payee_class"], flows["flow"],
                                     flows["n_transfers"], strict=True):
        if (str(payer), str(payee), str(flow)) in moved:
            count[str(flow)] += int(n)
    names = sorted(by_flow, key=lambda f: by_flow[f])
    fig, axes = _figure(max(2.6, 0.38 * len(names) + 1.2))
    ax = axes[0, 0]
    if names:
        values = np.array([by_flow[f] / scale for f in names])
        ax.barh(names, values, color=_SERIES[0], height=0.6)
        log = values.max() / values.min() > 50
        if log:
            ax.set_xscale("log")
        for y, (f, v) in enumerate(zip(names, values, strict=True)):
            ax.text(v, y, f"  {_fmt(v)}  ({count[f]:,} transfers)", va="center", fontsize=8.5,
                    color="#374151")
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi * (8 if log else 1.35))
        ax.set_xlabel("tokens over the run" + (" (log scale)" if log else ""))
        ax.grid(axis="y", visible=False)
    else:
        _no_data(ax, "no flows")
        ax.set_axis_off()
    ax.set_title("Flows by purpose")
    purpose_plot = _Plot(
        "Flows by purpose",
        _encode(fig),
        "Horizontal bar chart of the total tokens moved over the run for each purpose "
        "(service, compute, fees, burn, refunds), with the number of transfers.",
        "Total tokens moved over the run by purpose, genesis excepted, with the number of "
        "transfers behind each bar.")
    return [matrix_plot, purpose_plot]


def _headline(summary: dict[str, Any],
              decimals: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The market's headline metrics, and the money and health ones (rows missing from the
    summary are left out)."""
    scale = 10**decimals

    def money(key: str) -> str | None:
        v = summary.get(key)
        return None if v is None else _fmt(int(v) / scale)

    def num(key: str) -> str | None:
        v = summary.get(key)
        return None if v is None else _fmt(v)

    rate = summary.get("completion_rate")
    none_completed = summary.get("jobs_completed") == 0
    market = [
        ("Orders (demand)", num("orders")),
        ("Jobs posted", num("jobs_posted")),
        ("Jobs completed", num("jobs_completed")),
        ("Jobs rejected", num("jobs_rejected")),
        ("Jobs expired", num("jobs_expired")),
        ("Completion rate", None if rate is None else f"{100 * rate:.1f} %"),
        ("Mean price per completed job (tokens)",
         "— (none completed)" if none_completed else money("price_mean")),
        ("Volume (tokens)", money("volume")),
        ("Sim time sold (CU)", num("cu_sold")),
        ("Compute spend (tokens)", money("compute_spend")),
        ("Plan time vs baseline (lower is better)",
         "— (none completed)" if none_completed else num("time_ratio_mean")),
        ("Customer value (tokens)", money("customer_value")),
        ("Consumer surplus (tokens)", money("consumer_surplus")),
        ("Producer surplus (tokens)", money("producer_surplus")),
    ]
    money_rows = [
        ("Gini of balances, final", num("gini_final")),
        ("Supply (tokens)", money("supply")),
        ("Burned (tokens)", money("burned")),
        ("Treasury (tokens)", money("treasury")),
        ("Policy faults", num("policy_faults")),
        ("Rejected actions", num("rejected_actions")),
    ]
    return ([(k, v) for k, v in market if v is not None],
            [(k, v) for k, v in money_rows if v is not None])


def _render_run(folder: Path) -> tuple[str, int]:
    summary = _read_json(folder / "summary.json", folder)
    manifest = _read_json(folder / "manifest.json", folder)
    ticks = _read_parquet(folder / "ticks.parquet", folder,
                          ("tick", "jobs_posted", "completed", "rejected", "expired",
                           "price_mean", "volume", "gini"))
    agents = _read_parquet(folder / "agents.parquet", folder, ("tick", "role", "balance"))
    flows = _read_parquet(folder / "flows.parquet", folder,
                          ("payer_class", "payee_class", "flow", "amount", "n_transfers"))
    if ticks.empty:
        raise ReportError(f"{folder}: ticks.parquet has no rows; re-run the scenario")
    ticks = ticks.sort_values("tick", ignore_index=True)
    config = manifest.get("config", {})
    decimals = int(summary.get("decimals", config.get("ledger", {}).get("decimals", 18)))
    scenario = str(summary.get("scenario", manifest.get("scenario", folder.name)))

    with matplotlib.rc_context(_RC):
        plots = _run_plots(ticks, agents, flows, decimals)
    by_role = summary.get("agents_by_role", {})
    agents_text = f"{summary.get('n_agents', manifest.get('n_agents', '?'))}"
    if by_role:
        agents_text += " (" + ", ".join(f"{n} {r}" for r, n in by_role.items()) + ")"
    ledger = str(summary.get("ledger", manifest.get("ledger", "unknown")))
    if manifest.get("signatures"):
        ledger += f", signatures {manifest['signatures']}"
    meta = [
        ("seed", summary.get("seed", manifest.get("seed", "?"))),
        ("ticks", summary.get("ticks", manifest.get("ticks", "?"))),
        ("ledger", ledger),
        ("twin", manifest.get("twin_id", "unknown")),
        ("agents", agents_text),
    ]
    if manifest.get("scenario_sha256"):
        meta.append(("scenario sha256", str(manifest["scenario_sha256"])[:12]))
    market, money = _headline(summary, decimals)
    table = ('<div class="pair">' + _table(("market", "value"), market, (False, True))
             + _table(("money and health", "value"), money, (False, True)) + "</div>")
    sections = [("Headline metrics", table), ("Plots", _figures(plots))]
    page = _page(scenario, "run report", str(config.get("description", "")), meta, sections,
                 len(plots), folder.name)
    return page, len(plots)


# --------------------------------------------------------------------------------------------
# Sweep report.


def _interval(values: np.ndarray) -> tuple[float, float, int]:
    """Mean, half-width of its 95 % t-interval (0 with one value), and n, ignoring NaN."""
    v = values[~np.isnan(values)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(v.mean())
    if n == 1:
        return mean, 0.0, 1
    t = _T975[n - 2] if n - 1 <= len(_T975) else 1.96
    return mean, t * float(v.std(ddof=1)) / math.sqrt(n), n


def _ordered_values(series: pd.Series, declared: Sequence[Any] | None) -> list[Any]:
    present = list(pd.unique(series.dropna()))
    if declared:
        order = [v for v in declared if v in present]
        return order + [v for v in present if v not in order]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _has_numbers(series: pd.Series) -> bool:
    """A metric column worth plotting: numbers (ints, floats or Decimals), not all missing."""
    values = series.dropna()
    if _is_numeric(series):
        return len(values) > 0
    return len(values) > 0 and all(isinstance(v, int | float | Decimal | np.number)
                                   and not isinstance(v, bool | np.bool_) for v in values)


def _metric_values(results: pd.DataFrame, metric: str, decimals: int) -> np.ndarray:
    col = results[metric]
    if _is_money(metric):
        return _tokens(col, decimals)
    return np.asarray([math.nan if v is None else float(v) for v in col], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Param:
    key: str
    column: str
    numeric: bool
    values: list[Any]  # in plotting order


def _plot_metric(ok: pd.DataFrame, y: np.ndarray, metric: str, params: Sequence[_Param],
                 design: str) -> _Plot:
    continuous = design in ("sobol", "random")
    ncols = min(len(params), 3)
    nrows = math.ceil(len(params) / ncols)
    fig, axes = _figure(3.3 * nrows + 0.3, nrows, ncols, sharey=True)
    for ax in axes.flat[len(params):]:
        ax.set_axis_off()
    grouped_by: dict[str, str] = {}
    for ax, p in zip(axes.flat, params, strict=False):
        x_raw = ok[p.column]
        if np.isnan(y).all():
            _no_data(ax, "no successful run has a value")
        elif continuous and p.numeric:
            x = x_raw.to_numpy(dtype=np.float64)
            keep = ~np.isnan(y)
            ax.scatter(x[keep], y[keep], s=24, alpha=0.75, color=_SERIES[0],
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
            for g, (value, mask) in enumerate(groups):
                means, halves, xs = [], [], []
                for pos, v in zip(positions, p.values, strict=True):
                    m, h, n = _interval(y[mask & (x_raw == v).to_numpy()])
                    if n:
                        means.append(m)
                        halves.append(h)
                        xs.append(float(pos))
                dodge = (g - (len(groups) - 1) / 2) * 0.03 * span
                colour = _SERIES[g % len(_SERIES)]
                label = "mean, 95 % CI" if value is None else _fmt_value(value)
                ax.errorbar(np.asarray(xs) + dodge, means, yerr=halves, color=colour,
                            marker="o", ms=4.5, lw=1.4, capsize=3.5, elinewidth=1.1,
                            label=label)
            if not p.numeric:
                ax.set_xticks(positions, [str(v) for v in p.values])
            elif len(p.values) <= 8:
                ax.set_xticks(p.values)
            ax.margins(x=0.08)
        ax.set_xlabel(p.key)
        if ax in axes[:, 0]:
            ax.set_ylabel(_label(metric))
        handles = ax.get_legend_handles_labels()[0]
        if len(handles) > 1 or (continuous and p.numeric):
            # Above the axes, one row: short entries (the other parameter's values) under a
            # title naming it, so the legend never hides a marker or an error bar.
            ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len(handles),
                      fontsize=8, handlelength=1.6, columnspacing=1.0, borderaxespad=0.2,
                      title=f"{grouped_by[p.key]} =" if p.key in grouped_by else None,
                      title_fontsize=8, alignment="left")
    fig.suptitle(_label(metric), x=0.01, ha="left", fontweight="bold", fontsize=11)
    seeds = ok.groupby("point_id").size()
    n_seed = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()}\u2013{seeds.max()}"
    if continuous:
        how = ("Each dot is one run; the line joins the means of runs grouped into equal-count "
               "bins of the parameter.")
    else:
        how = (f"Markers are means over the {n_seed} successful run(s) per point; error bars "
               "are 95 % t-intervals of the mean across seeds.")
        if grouped_by:
            how += " One line per value of the other parameter."
        elif len(params) > 1 and design == "grid":
            how += " Means pool the other parameters' values too (marginal means)."
    return _Plot(
        _label(metric)[:1].upper() + _label(metric)[1:],
        _encode(fig),
        f"{'Scatter' if continuous else 'Error-bar'} plot of {_label(metric)} against "
        + ", ".join(p.key for p in params) + ".",
        f"{_label(metric).capitalize()} against each swept parameter. {how}")


def _fmt_value(value: Any) -> str:
    return _fmt(value) if isinstance(value, float) else str(value)


def _binned_mean(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    if len(x) < 8:
        return
    n_bins = min(8, len(x) // 4)
    order = np.argsort(x, kind="stable")
    xs, ys = [], []
    for chunk in np.array_split(order, n_bins):
        xs.append(float(x[chunk].mean()))
        ys.append(float(y[chunk].mean()))
    ax.plot(xs, ys, color=_SERIES[1], lw=1.4, alpha=0.85, marker="s", ms=3,
            label="binned mean", zorder=2)


def _seeds_text(seeds: Sequence[Any]) -> str:
    if not seeds:
        return "?"
    ints = sorted(int(s) for s in seeds)
    if len(ints) > 3 and ints == list(range(ints[0], ints[-1] + 1)):
        return f"{ints[0]}\u2013{ints[-1]} ({len(ints)} seeds)"
    if len(ints) > 8:
        return ", ".join(map(str, ints[:6])) + f", … ({len(ints)} seeds)"
    return ", ".join(map(str, ints))


def _run_manifests(folder: Path, run_ids: Iterable[str], limit: int = 200) -> list[dict]:
    out = []
    for run_id in list(run_ids)[:limit]:
        path = folder / "runs" / str(run_id) / "manifest.json"
        if path.is_file():
            try:
                out.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue
    return out


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


def _render_sweep(folder: Path, metrics: Sequence[str] | None) -> tuple[str, int]:
    sweep = _read_json(folder / "sweep.json", folder)
    missing_keys = [k for k in ("scenario", "params") if k not in sweep]
    if missing_keys:
        raise ReportError(f"{folder}: sweep.json lacks {', '.join(missing_keys)}; "
                          "it was not written by `twinecon sweep`")
    specs = list(sweep["params"])
    for spec in specs:
        if not isinstance(spec, dict) or "key" not in spec:
            raise ReportError(f"{folder}: sweep.json has a parameter without a 'key': {spec!r}")
    columns = [str(s.get("column", s["key"])) for s in specs]
    results = _read_parquet(folder / "results.parquet", folder, ("run_id", "status", *columns))
    design = str(sweep.get("design", "grid"))
    if "point_id" not in results:
        results["point_id"] = ["|".join(str(v) for v in row)
                               for row in results[columns].itertuples(index=False)]
    if "point_index" not in results:
        results["point_index"] = pd.factorize(results["point_id"])[0]
    ok = results[results["status"] == "ok"].reset_index(drop=True)
    failed = results[results["status"] != "ok"].reset_index(drop=True)

    manifests = _run_manifests(folder, ok["run_id"])
    decimals = 18
    if "decimals" in results and results["decimals"].notna().any():
        decimals = int(results["decimals"].dropna().iloc[0])
    elif "decimals" in sweep:
        decimals = int(sweep["decimals"])
    elif manifests:
        decimals = int(manifests[0].get("config", {}).get("ledger", {}).get("decimals", 18))

    if metrics is None:
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
    chosen = [m for m in chosen if m not in not_numeric]
    params = [
        _Param(str(s["key"]), c, _is_numeric(results[c]),
               _ordered_values(results[c], s.get("values")))
        for s, c in zip(specs, columns, strict=True)
    ]
    values = {m: _metric_values(ok, m, decimals) for m in chosen}

    plots: list[_Plot] = []
    if len(ok) and params:
        with matplotlib.rc_context(_RC):
            plots = [_plot_metric(ok, values[m], m, params, design) for m in chosen]

    # Table of points: parameters, runs, and each metric's mean ± half-width.
    rows = []
    for (index, point_id), sub in results.groupby(["point_index", "point_id"], sort=True):
        mask = (ok["point_id"] == point_id).to_numpy()
        row: list[Any] = [int(index)]
        row += [_fmt(v) if isinstance(v, float) else str(v) for v in sub.iloc[0][columns]]
        n_ok = int(mask.sum())
        row.append(f"{n_ok}/{len(sub)}")
        for m in chosen:
            mean, half, n = _interval(values[m][mask])
            row.append("—" if n == 0 else _fmt(mean) + (f" ± {half:.2g}" if n > 1 else ""))
        rows.append(row)
    header = ["point", *[p.key for p in params], "runs ok", *[_label(m) for m in chosen]]
    numeric = [True, *[p.numeric for p in params], True, *[True] * len(chosen)]
    max_rows = 300
    points_html = _table(header, rows[:max_rows], numeric, cls="points")
    if len(rows) > max_rows:
        points_html += (f'<p class="note">Showing the first {max_rows} of {len(rows)} points; '
                        "results.parquet has them all.</p>")
    points_html = ('<p class="note">Mean ± half-width of the 95 % t-interval across the '
                   "point's successful runs.</p>" + points_html)

    seeds = list(sweep.get("seeds") or [])
    if not seeds and "seed" in results:
        seeds = sorted(pd.unique(results["seed"].dropna()).tolist())
    wall = float(results["wall_s"].sum()) if "wall_s" in results else None
    summary_rows = [
        ("Design", design),
        *[(f"Parameter {s['key']}", _param_text(s)) for s in specs],
        ("Seeds", _seeds_text(seeds)),
        ("Points", _fmt(results["point_id"].nunique())),
        ("Runs ok / failed", f"{len(ok):,} / {len(failed):,}"),
    ]
    if wall is not None:
        summary_rows.append(("Total run time (s)", _fmt(round(wall, 1))))
    sections = [("Sweep", _table(("setting", "value"), summary_rows, (False, False)))]
    skipped = ""
    if not_numeric:
        skipped = ('<p class="note">Not plotted, as no run has a value: '
                   + ", ".join(f"<code>{_e(m)}</code>" for m in not_numeric) + ".</p>")
    if plots:
        sections.append(("Metrics against parameters", _figures(plots) + skipped))
    else:
        sections.append(("Metrics against parameters",
                         ('<p class="note fail">No successful runs to plot.</p>'
                          if not len(ok) else '<p class="note">No metrics to plot.</p>')
                         + skipped))
    sections.append(("Parameter points", points_html))
    if len(failed):
        fail_rows = [(r.run_id, getattr(r, "seed", ""), str(getattr(r, "error", ""))[:300])
                     for r in failed.itertuples(index=False)]
        sections.append(("Failed runs", _table(("run", "seed", "error"), fail_rows,
                                               (False, True, False), cls="failed")))

    ledger = sweep.get("ledger") or _distinct(
        [*(results["ledger"].dropna().unique() if "ledger" in results else []),
         *(m.get("ledger") for m in manifests)])
    twin = sweep.get("twin_id") or _distinct(m.get("twin_id") for m in manifests)
    meta = [("design", design), ("seeds", _seeds_text(seeds)), ("ledger", ledger),
            ("twin", twin), ("runs", f"{len(results):,}")]
    lede = (f"{len(params)} parameter(s) \u00d7 {len(seeds) if seeds else '?'} seed(s); "
            + ", ".join(p.key for p in params))
    page = _page(str(sweep["scenario"]), "sweep report", lede, meta, sections, len(plots),
                 folder.name)
    return page, len(plots)


# --------------------------------------------------------------------------------------------
# Public API.


def render_report(path: str | Path, *, metrics: Sequence[str] | None = None) -> str:
    """The HTML report of a run folder or a sweep folder, as a string.

    Args:
        path: a run folder (`summary.json`, `manifest.json`, `ticks.parquet`,
            `agents.parquet`, `flows.parquet`) or a sweep folder (`sweep.json`,
            `results.parquet`, optionally `runs/<run_id>/`).
        metrics: sweep reports only: the results columns to plot, in order; default the
            ones of `DEFAULT_METRICS` that the sweep has.

    Raises:
        ReportError: the folder is missing, is neither kind, lacks a file or a column, or a
            metric is unknown.
    """
    folder = Path(path)
    kind = _kind(folder)
    if kind == "run":
        if metrics is not None:
            raise ReportError(f"{folder} is a run folder; metrics= chooses what a sweep report "
                              "plots, leave it out for a run")
        return _render_run(folder)[0]
    return _render_sweep(folder, metrics)[0]


def write_report(path: str | Path, *, metrics: Sequence[str] | None = None) -> Path:
    """Write `report.html` into a run folder or a sweep folder and return its path.

    Args and Raises: as `render_report`.
    """
    page = render_report(path, metrics=metrics)
    out = Path(path) / REPORT_NAME
    out.write_text(page, encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sweeps.report FOLDER [METRIC ...]`: write the report, print its path."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m sweeps.report FOLDER [METRIC ...]"
    if not args or args[0] in ("-h", "--help"):
        print(usage, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    try:
        out = write_report(args[0], metrics=args[1:] or None)
    except TwineconError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
