"""A run's value flows: the payer-class x payee-class heat map and the totals by purpose.

Both read `flows.parquet` (one row per payer class, payee class and flow tag, with the amount
in base units and the number of transfers). Genesis allocations and escrow refunds pay for
nothing, so the matrix leaves them out and says so.
"""

from __future__ import annotations

from collections import defaultdict

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, LogNorm, Normalize

from sweeps.report._look import CLASS_ORDER, SERIES, Plot, encode, figure, no_data
from sweeps.report._numbers import fmt

__all__ = ["plot_flows"]


def _flow_totals(flows: pd.DataFrame) -> dict[tuple[str, str, str], int]:
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for payer, payee, flow, amount in zip(flows["payer_class"], flows["payee_class"],
                                          flows["flow"], flows["amount"], strict=True):
        totals[(str(payer), str(payee), str(flow))] += int(amount)
    return totals


def _class_key(name: str) -> tuple[int, str]:
    return (CLASS_ORDER.index(name) if name in CLASS_ORDER else 99, name)


def plot_flows(flows: pd.DataFrame, decimals: int) -> list[Plot]:
    """The value-flow matrix and the flows-by-purpose bars, in that order."""
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
        left_out.append(f"genesis allocations ({fmt(genesis / scale)} tokens minted at tick 0)")
    if refunds:
        left_out.append(f"escrow refunds to customers ({fmt(refunds / scale)} tokens)")
    genesis_note = (" Left out, as they pay for nothing: " + " and ".join(left_out) + "."
                    if left_out else "")

    fig, axes = figure(max(3.2, 0.62 * len(payers) + 1.7))
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
                    ax.text(j, i, fmt(v), ha="center", va="center", fontsize=9,
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
        no_data(ax, "no tokens moved between participants")
        ax.set_axis_off()
    matrix_plot = Plot(
        "Value-flow matrix",
        encode(fig),
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
    fig, axes = figure(max(2.6, 0.38 * len(names) + 1.2))
    ax = axes[0, 0]
    if names:
        values = np.array([by_flow[f] / scale for f in names])
        ax.barh(names, values, color=SERIES[0], height=0.6)
        log = values.max() / values.min() > 50
        if log:
            ax.set_xscale("log")
        for y, (f, v) in enumerate(zip(names, values, strict=True)):
            ax.text(v, y, f"  {fmt(v)}  ({count[f]:,} transfers)", va="center", fontsize=8.5,
                    color="#374151")
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi * (8 if log else 1.35))
        ax.set_xlabel("tokens over the run" + (" (log scale)" if log else ""))
        ax.grid(axis="y", visible=False)
    else:
        no_data(ax, "no flows")
        ax.set_axis_off()
    ax.set_title("Flows by purpose")
    purpose_plot = Plot(
        "Flows by purpose",
        encode(fig),
        "Horizontal bar chart of the total tokens moved over the run for each purpose "
        "(service, compute, fees, burn, refunds), with the number of transfers.",
        "Total tokens moved over the run by purpose, genesis excepted, with the number of "
        "transfers behind each bar.")
    return [matrix_plot, purpose_plot]
