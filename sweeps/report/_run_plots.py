"""A run's time-series figures: prices and volume, jobs, balances and Gini, sim time.

Each takes the run's `ticks.parquet` (and `agents.parquet`) as DataFrames sorted by tick and
returns one `Plot`; money columns are base units, shown in tokens (`decimals`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sweeps.report._look import (
    CLASS_COLOURS,
    JOB_COLOURS,
    ROLE_ORDER,
    SERIES,
    Plot,
    encode,
    figure,
    no_data,
    tick_axis,
)
from sweeps.report._numbers import fmt, tokens

__all__ = ["COMPUTE_COLUMNS", "plot_balances", "plot_compute", "plot_jobs", "plot_market"]


def plot_market(ticks: pd.DataFrame, tick: np.ndarray, decimals: int) -> Plot:
    """Mean price of the jobs completed per tick, above the traded volume per tick."""
    price = ticks["price_mean"].to_numpy(dtype=np.float64)
    volume = tokens(ticks["volume"], decimals)
    fig, axes = figure(4.6, 2, 1, sharex=True, height_ratios=(3, 2))
    ax_p, ax_v = axes[0, 0], axes[1, 0]
    sold = ~np.isnan(price)
    if sold.any():
        ax_p.plot(tick[sold], price[sold], color=SERIES[0], lw=1.4, marker="o", ms=3.5)
        overall = float(np.nansum(volume) / max(ticks["completed"].sum(), 1))
        ax_p.axhline(overall, color=SERIES[1], lw=1, ls="--",
                     label=f"run mean {fmt(overall)} tokens")
        ax_p.legend(loc="upper left")
    else:
        no_data(ax_p, "no job was completed, so nothing was priced")
    ax_p.set_title("Mean price of completed jobs")
    ax_p.set_ylabel("tokens per job")
    ax_v.bar(tick, volume, width=0.85, color=SERIES[0], alpha=0.85)
    if not volume.any():
        no_data(ax_v, "no volume")
        ax_v.set_ylim(0, 1)
    ax_v.set_title("Volume (value of completed jobs)")
    ax_v.set_ylabel("tokens")
    ax_v.set_xlabel("tick")
    ax_v.set_xlim(tick.min() - 0.6, tick.max() + 0.6)
    tick_axis(ax_p, ax_v)
    n_priced = int(sold.sum())
    mean_note = "; the dashed line is the run's volume-weighted mean" if n_priced else ""
    return Plot(
        "Prices and volume",
        encode(fig),
        "Line chart of the mean price per completed job per tick, above a bar chart of the "
        "traded volume per tick, both in tokens.",
        f"Top: mean price of the jobs completed in each tick ({n_priced} of {len(tick)} ticks "
        f"had completions{mean_note}). Bottom: volume, the total price of the jobs completed "
        "in the tick.")


#: The ticks columns of the sim-time figure; runs from before the full economy lack them.
COMPUTE_COLUMNS = ("cu_leased", "cu_sold", "cu_claimed", "compute_price_mean", "licence",
                   "royalties", "data_volume", "emitted")


def plot_compute(ticks: pd.DataFrame, tick: np.ndarray, decimals: int) -> Plot:
    """Sim time leased, used and claimed; its mean price; what the IP and data markets and
    emissions paid, per tick."""
    fig, axes = figure(6.4, 3, 1, sharex=True, height_ratios=(3, 2, 2))
    ax_cu, ax_p, ax_m = axes[0, 0], axes[1, 0], axes[2, 0]
    leased = ticks["cu_leased"].to_numpy(dtype=np.float64)
    used = ticks["cu_sold"].to_numpy(dtype=np.float64)
    claimed = ticks["cu_claimed"].to_numpy(dtype=np.float64)
    ax_cu.bar(tick, leased, width=0.85, color=SERIES[0], alpha=0.35, label="leased (locked)")
    ax_cu.bar(tick, used, width=0.55, color=SERIES[0], label="used by evaluations")
    ax_cu.plot(tick, claimed, color=SERIES[1], lw=1.2, marker=".", ms=4,
               label="claimed by sellers")
    if leased.any():
        ax_cu.legend(loc="upper left")
    else:
        no_data(ax_cu, "no sim time was leased")
    ax_cu.set_title("Sim time: compute units per tick")
    ax_cu.set_ylabel("CU")
    price = ticks["compute_price_mean"].to_numpy(dtype=np.float64) * 1e6
    priced = ~np.isnan(price)
    if priced.any():
        ax_p.plot(tick[priced], price[priced], color=SERIES[0], lw=1.4, marker="o", ms=3)
    else:
        no_data(ax_p, "no lease was opened")
    ax_p.set_title("Mean price of sim time leased")
    ax_p.set_ylabel("tokens per 1M CU")
    streams = [("licence", "licence to the twin's owner"), ("royalties", "royalties"),
               ("data_volume", "data uses"), ("emitted", "emissions")]
    shown = False
    for i, (column, label) in enumerate(streams):
        values = tokens(ticks[column], decimals)
        if values.any():
            ax_m.plot(tick, values, color=SERIES[i % len(SERIES)], lw=1.3, label=label)
            shown = True
    if shown:
        ax_m.legend(loc="upper left")
    else:
        no_data(ax_m, "no licence, royalty, data or emission payments")
    ax_m.set_title("World, IP and data income, and emissions")
    ax_m.set_ylabel("tokens")
    ax_m.set_xlabel("tick")
    ax_m.set_xlim(tick.min() - 0.6, tick.max() + 0.6)
    tick_axis(ax_cu, ax_p, ax_m)
    return Plot(
        "Sim time, licences, royalties and data",
        encode(fig),
        "Bar chart of compute units leased and used per tick with a line of the units "
        "claimed, above a line chart of the mean price per million compute units and a line "
        "chart of licence, royalty, data and emission payments per tick in tokens.",
        f"Top: compute units leased (locked at the worst case), used by evaluations and "
        f"claimed by the sellers, per tick ({int(leased.sum()):,} leased, {int(used.sum()):,} "
        "used in all); unused units returned to the buyers. Middle: the mean price of the "
        "units leased in the tick. Bottom: the licence fees paid to the twin's owner, the "
        "royalties paid up the IP graph, the value of data uses, and the tokens emitted.")


def plot_jobs(ticks: pd.DataFrame, tick: np.ndarray) -> Plot:
    """Jobs posted and their outcomes per tick, next to the running totals."""
    fig, axes = figure(4.4, 1, 2, width_ratios=(3, 2))
    ax, ax_c = axes[0, 0], axes[0, 1]
    posted = ticks["jobs_posted"].to_numpy()
    ax.bar(tick - 0.21, posted, width=0.42, color="#9aa3ae", label="posted")
    bottom = np.zeros(len(tick))
    for name, column in (("completed", "completed"), ("rejected", "rejected"),
                         ("expired", "expired")):
        values = ticks[column].to_numpy()
        ax.bar(tick + 0.21, values, width=0.42, bottom=bottom, color=JOB_COLOURS[name],
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
        colour = "#6b7280" if name == "posted" else JOB_COLOURS[name]
        ax_c.step(tick, ticks[column].cumsum().to_numpy(), where="post", color=colour, lw=1.6,
                  label=name)
    if "open_jobs" in ticks:
        ax_c.step(tick, ticks["open_jobs"].to_numpy(), where="post", color=JOB_COLOURS["open"],
                  lw=1.2, ls=":", label="open now")
    ax_c.set_title("Cumulative")
    ax_c.set_xlabel("tick")
    ax_c.yaxis.get_major_locator().set_params(integer=True)
    ax_c.legend(loc="upper left")
    tick_axis(ax, ax_c)
    totals = {c: int(ticks[c].sum()) for c in ("jobs_posted", "completed", "rejected",
                                               "expired")}
    return Plot(
        "Jobs",
        encode(fig),
        "Bar chart of jobs posted per tick next to the completed, rejected and expired jobs "
        "stacked, and step lines of the cumulative counts.",
        f"Left: jobs posted in each tick (grey, left bar) and the jobs that reached an outcome "
        f"in it (right bar, stacked: completed, rejected, expired). Right: running totals and "
        f"the jobs open at the end of each tick. Over the run: {totals['jobs_posted']} posted, "
        f"{totals['completed']} completed, {totals['rejected']} rejected, "
        f"{totals['expired']} expired.")


def plot_balances(ticks: pd.DataFrame, agents: pd.DataFrame, decimals: int) -> Plot:
    """Each role's mean balance change since the start, next to the Gini of all balances."""
    fig, axes = figure(4.0, 1, 2, width_ratios=(3, 2))
    ax, ax_g = axes[0, 0], axes[0, 1]
    df = pd.DataFrame({"tick": agents["tick"].to_numpy(), "role": agents["role"].astype(str),
                       "balance": tokens(agents["balance"], decimals)})
    roles = sorted(df["role"].unique(), key=lambda r: (ROLE_ORDER.index(r)
                                                       if r in ROLE_ORDER else 99, r))
    first = df["tick"].min() if len(df) else 0
    for i, role in enumerate(roles):
        sub = df[df["role"] == role]
        mean = sub.groupby("tick")["balance"].mean()
        n = int((sub["tick"] == first).sum()) or sub.groupby("tick").size().max()
        start = float(mean.iloc[0])
        ax.plot(mean.index.to_numpy(), (mean - start).to_numpy(), lw=1.6,
                color=CLASS_COLOURS.get(role, SERIES[i % len(SERIES)]),
                label=f"{role} \u00d7{n} (start {fmt(start)})")
    if not roles:
        no_data(ax, "no balances recorded")
    ax.axhline(0, color="#8a8f98", lw=0.8)
    ax.set_title("Mean balance by role, change since the start")
    ax.set_xlabel("tick")
    ax.set_ylabel("tokens")
    ax.legend(loc="best")
    ax_g.plot(ticks["tick"].to_numpy(), ticks["gini"].to_numpy(dtype=np.float64),
              color=SERIES[3], lw=1.6)
    ax_g.set_title("Gini of balances")
    ax_g.set_xlabel("tick")
    ax_g.margins(y=0.25)
    tick_axis(ax, ax_g)
    gini = ticks["gini"].to_numpy(dtype=np.float64)
    return Plot(
        "Balances and inequality",
        encode(fig),
        "Line chart of each role's mean balance change over time, and a line chart of the "
        "Gini coefficient of all balances over time.",
        "Left: mean balance of each role's agents minus its value at the first recorded tick "
        "(the legend gives the number of agents and the starting mean). Right: Gini "
        f"coefficient of all participants' balances, from {fmt(gini[0])} to "
        f"{fmt(gini[-1])}.")
