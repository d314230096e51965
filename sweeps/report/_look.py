"""The look every report figure shares: one palette, one rc context, one size, one encoder.

Figures are `matplotlib.figure.Figure` objects drawn on the Agg canvas (no pyplot, no global
state) and embedded as base64 PNGs without a "Software" chunk, so the same data gives the same
bytes.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = ["CLASS_COLOURS", "CLASS_ORDER", "JOB_COLOURS", "RC", "ROLE_ORDER", "SERIES", "Plot",
           "encode", "figure", "no_data", "tick_axis"]


_DPI = 110
_WIDTH_IN = 9.6
#: matplotlib settings of every report figure (applied with `matplotlib.rc_context`).
RC = {
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
CLASS_COLOURS = {
    "customer": "#4c78a8", "behaviour": "#f58518", "provider": "#f58518",
    "evaluator": "#54a24b", "compute": "#b279a2", "world": "#9d755d", "data": "#72b7b2",
    "treasury": "#e45756", "burn": "#79706e", "protocol": "#bab0ac",
}
JOB_COLOURS = {"posted": "#c9ced6", "completed": "#54a24b", "rejected": "#e45756",
               "expired": "#f2a93b", "open": "#4c78a8"}
SERIES = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#b279a2", "#72b7b2", "#9d755d",
          "#eeca3b")
#: Value-flow classes in the order of DESIGN.md's matrix.
CLASS_ORDER = ("customer", "world", "data", "compute", "behaviour", "evaluator", "treasury",
               "burn", "protocol")
ROLE_ORDER = ("customer", "provider", "evaluator", "compute", "world", "data")


@dataclass(frozen=True, slots=True)
class Plot:
    """One embedded figure: its PNG (base64), alt text and caption."""

    title: str
    png_b64: str
    alt: str
    caption: str


def figure(height_in: float, nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Figure, Any]:
    """A page-wide figure `height_in` inches tall and its (nrows, ncols) array of axes."""
    fig = Figure(figsize=(_WIDTH_IN, height_in), dpi=_DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def encode(fig: Figure) -> str:
    """The figure as a base64 PNG."""
    buf = io.BytesIO()
    # No "Software" text chunk: the same data gives the same bytes on any matplotlib.
    fig.savefig(buf, format="png", dpi=_DPI, facecolor="white", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def tick_axis(*axes: Any) -> None:
    """Ticks are whole numbers: no 2.5 on a tick axis."""
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def no_data(ax: Any, text: str) -> None:
    """Say in the middle of an empty axes why it is empty."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center",
            color="#6b7280", fontsize=10, style="italic")
