"""What a sweep's numbers cannot tell, said out loud: the warnings `twinecon sweep`, `analyze`
and `report` print instead of answering silently from runs that say nothing.

* no run completed a job (the runs are too short, or every order priced out);
* failed runs, policy faults and rejected actions (how many runs had them);
* a warm-up that takes much of the run (the first completed job comes late, so run totals
  mix the market's start with its steady state);
* metrics that are the same in every run (zero variance: intervals of 0, a paired test of
  nothing, Sobol indices undefined).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["WARM_UP_SHARE", "diagnose"]

#: A warm-up is reported when the first completed job comes, in the median run, after this
#: share of the run's ticks.
WARM_UP_SHARE = 0.25


def diagnose(results: pd.DataFrame, sweep: Mapping[str, Any], folder: str | Path | None = None,
             metrics: Iterable[str] | None = None) -> list[str]:
    """The warnings of a sweep, each one sentence saying what is wrong and what to do.

    Args:
        results: results.parquet as `sweeps.analysis.load` gives it.
        sweep: sweep.json.
        folder: the sweep folder (for the warm-up, read from its tick panel or run folders);
            None skips the warm-up check.
        metrics: the metrics shown (zero variance is checked among them; default none).
    """
    out: list[str] = []
    ok = results[results["status"].astype("string").fillna("") == "ok"]
    failed = len(results) - len(ok)
    if failed:
        out.append(f"{failed} of {len(results)} runs failed: they are left out of every "
                   "statistic (see runs/<run_id>.failed.json; --retry-failed runs them again)")
    if len(ok) and "jobs_completed" in ok:
        jobs = pd.to_numeric(ok["jobs_completed"], errors="coerce").fillna(0)
        if (jobs == 0).all():
            out.append("no run completed a job: the runs are likely too short for the market "
                       "to start (raise --ticks), or every order was priced out; every "
                       "price and quality metric is empty")
        elif (jobs == 0).any():
            out.append(f"{int((jobs == 0).sum())} of {len(ok)} runs completed no job")
    if "policy_faults" in ok:
        hit = pd.to_numeric(ok["policy_faults"], errors="coerce").fillna(0) > 0
        if hit.any():
            out.append(f"{int(hit.sum())} of {len(ok)} runs recorded policy faults (each run's "
                       "events.parquet says which agent and why)")
    prefix = "actions_by_role_"
    for column in [c for c in ok.columns if str(c).startswith(prefix)]:
        role = str(column)[len(prefix):]
        refused = f"rejected_actions_by_role_{role}"
        if refused not in ok:
            continue
        taken = pd.to_numeric(ok[column], errors="coerce").fillna(0)
        lost = pd.to_numeric(ok[refused], errors="coerce").fillna(0)
        every = (taken > 0) & (lost == taken)
        if every.any():
            out.append(f"in {int(every.sum())} of {len(ok)} runs every action of the {role} "
                       "agents was rejected: check their policy params, and events.parquet's "
                       "action_rejected rows for the reason")
    no_jobs = "jobs_completed" in ok and bool(
        (pd.to_numeric(ok["jobs_completed"], errors="coerce").fillna(0) == 0).all())
    if folder is not None and len(ok) and not no_jobs:
        warm = _warm_up(Path(folder), ok)
        if warm is not None:
            out.append(warm)
    flat = []
    for metric in metrics or ():
        if metric in ok and not _setup(str(metric)):
            values = pd.to_numeric(ok[metric], errors="coerce").dropna()
            if len(values) > 1 and values.nunique() == 1:
                flat.append(f"{metric} ({values.iloc[0]:g})")
    if flat:
        shown = ", ".join(flat[:8]) + (f" and {len(flat) - 8} more" if len(flat) > 8 else "")
        out.append(f"the same in every run (zero variance): {shown}; their intervals are 0 "
                   "and no comparison or Sobol index can use them")
    return out


def _setup(column: str) -> bool:
    """A column that describes the run's set-up (never expected to vary by outcome)."""
    return (column in ("decimals", "ticks", "n_agents", "seed")
            or column.startswith("agents_by_role_") or column.endswith("_agents"))


def _warm_up(folder: Path, ok: pd.DataFrame) -> str | None:
    """The warm-up warning, from the first tick with a completed job in each run."""
    firsts: list[float] = []
    lengths: list[int] = []
    for run_id in list(ok["run_id"])[:200]:
        path = folder / "runs" / str(run_id) / "ticks.parquet"
        try:
            ticks = pd.read_parquet(path, columns=["tick", "completed"])
        except Exception:  # a run folder removed or written by another version: skip it
            continue
        if ticks.empty:
            continue
        lengths.append(int(ticks["tick"].max()))
        done = ticks.loc[ticks["completed"] > 0, "tick"]
        firsts.append(float(done.min()) if len(done) else float(ticks["tick"].max()))
    if not firsts:
        return None
    first = float(pd.Series(firsts).median())
    length = float(pd.Series(lengths).median())
    if length > 0 and first > WARM_UP_SHARE * length:
        return (f"warm-up: in the median run the first job completes at tick {first:.0f} of "
                f"{length:.0f}, so run totals mix the market's start with its steady state; "
                "raise --ticks, or read the tick panel (twinecon panel) past the warm-up")
    return None
