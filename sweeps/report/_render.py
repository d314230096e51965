"""Writing `report.html` into a run folder or a sweep folder: the reports' entry point."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sweeps.report._run import render_run
from sweeps.report._sweep import render_sweep
from sweeps.report.errors import ReportError
from sweeps.stats import DEFAULT_CONFIDENCE
from twinecon.errors import TwineconError

__all__ = ["REPORT_NAME", "RUN_FILES", "SWEEP_FILES", "main", "render_report", "write_report"]


#: The file a report is written to, inside the folder it reports on.
REPORT_NAME = "report.html"

#: The files of a run folder (`twinecon run --out DIR`) that its report reads.
RUN_FILES = ("manifest.json", "summary.json", "ticks.parquet", "agents.parquet",
             "flows.parquet")
#: The files of a sweep folder (`twinecon sweep --out DIR`) that its report reads.
SWEEP_FILES = ("sweep.json", "results.parquet")


def _kind(folder: Path) -> str:
    """ "run" or "sweep", once the folder is known to hold that kind's files."""
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


def render_report(path: str | Path, *, metrics: Sequence[str] | None = None,
                  baseline: Any = None, confidence: float = DEFAULT_CONFIDENCE,
                  precision: Any = None) -> str:
    """The HTML report of a run folder or a sweep folder, as a string.

    Args:
        path: a run folder (`summary.json`, `manifest.json`, `ticks.parquet`,
            `agents.parquet`, `flows.parquet`) or a sweep folder (`sweep.json`,
            `results.parquet`, optionally `runs/<run_id>/`).
        metrics: sweep reports only: the results columns to plot, in order; default the
            metrics that moved most across the points (`sweeps.analysis.moved`).
        baseline: sweep reports only: the point the paired section compares every other
            with (a point_index, a point_id, or {parameter: value}); default the first.
        confidence: the level of every interval (0.95).
        precision: the half-width "seeds needed" aims at (a number in the metric's unit, or
            "P%" of the baseline's mean); default half the observed difference.

    Raises:
        ReportError: the folder is missing, is neither kind, lacks a file or a column, or a
            metric is unknown.
    """
    folder = Path(path)
    kind = _kind(folder)
    if kind == "run":
        if metrics is not None or baseline is not None:
            raise ReportError(f"{folder} is a run folder; --metric and --baseline choose what a "
                              "sweep report shows, leave them out for a run")
        return render_run(folder)
    return render_sweep(folder, metrics, baseline=baseline, confidence=confidence,
                        precision=precision)


def write_report(path: str | Path, *, metrics: Sequence[str] | None = None,
                 baseline: Any = None, confidence: float = DEFAULT_CONFIDENCE,
                 precision: Any = None) -> Path:
    """Write `report.html` into a run folder or a sweep folder and return its path.

    Args and Raises: as `render_report`.
    """
    page = render_report(path, metrics=metrics, baseline=baseline, confidence=confidence,
                         precision=precision)
    out = Path(path) / REPORT_NAME
    out.write_text(page, encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sweeps.report FOLDER [METRIC ...]`: write the report, print its path."""
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
