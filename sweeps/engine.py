"""Running a sweep: every planned run once, on local processes or a Ray cluster, resumably.

A run writes its folder `DIR/runs/<run_id>/` under a temporary name and puts it in place
atomically when complete (`scenarios.run_scenario`), so a folder with a `summary.json` is
always a finished run. Rerunning the same sweep skips finished runs and redoes unfinished
ones; a killed sweep (even by SIGKILL) loses nothing that had finished and duplicates
nothing. A run that raises is recorded in `DIR/runs/<run_id>.failed.json` and the sweep goes
on; `retry_failed` runs it again. `DIR/results.parquet` (one row per run) is compiled from the
run folders in row groups, so memory does not grow with the number of runs, and so is
`DIR/ticks.parquet`, the tick-level panel of every finished run (`sweeps.panel`).
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from economy.recorder import AMOUNT
from economy.summary import MONEY_PATHS, is_money
from sweeps.panel import compile_panel
from sweeps.plan import PlannedRun, SweepError, SweepPlan

__all__ = ["EXECUTORS", "MONEY_COLUMN", "Outcome", "compile_results", "is_money_column",
           "run_sweep"]

#: Where the runs of a sweep execute: local processes, or a Ray cluster.
EXECUTORS: tuple[str, ...] = ("local", "ray")

_INT64 = 2**63
ROW_GROUP = 512


@dataclass(frozen=True)
class Outcome:
    """What became of one run in this invocation."""

    run_id: str
    seed: int
    point: dict[str, Any]
    status: str  # "ok", "failed", or "skipped" (finished earlier)
    error: str
    wall_s: float
    summary: dict[str, Any] | None


def _execute(run_id: str, data: dict[str, Any], source: str, base_dir: str,
             runs_dir: str) -> tuple[str, str, str, float]:
    """Run one scenario into `runs_dir/run_id` (in a worker); never raises."""
    from scenarios.loading import LoadedScenario, validate_scenario
    from scenarios.run import run_scenario

    started = time.perf_counter()
    failed = Path(runs_dir) / f"{run_id}.failed.json"
    try:
        loaded = LoadedScenario(scenario=validate_scenario(data, source), source=source,
                                base_dir=Path(base_dir))
        run_scenario(loaded, Path(runs_dir) / run_id)
    except Exception as e:  # a failed run is recorded and the sweep goes on; an interrupt
        # (KeyboardInterrupt, SystemExit) is not a failure: the run is redone next time
        wall = time.perf_counter() - started
        error = f"{type(e).__name__}: {e}"
        failed.write_text(json.dumps({"run_id": run_id, "error": error, "wall_s": wall,
                                      "traceback": traceback.format_exc()}, indent=2))
        return run_id, "failed", error, wall
    failed.unlink(missing_ok=True)
    return run_id, "ok", "", time.perf_counter() - started


def _finished(runs_dir: Path, run_id: str) -> bool:
    return (runs_dir / run_id / "summary.json").exists()


def _clean_partial(runs_dir: Path) -> None:
    """Remove the temporary folders of runs a killed sweep left half-written (those of runs
    still going, in another sweep into the same folder, are kept)."""
    from scenarios.run import clean_dead_runs

    clean_dead_runs(runs_dir)


def _write_plan(sweep: SweepPlan, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    described = sweep.describe()
    path = out / "sweep.json"
    if path.exists():
        previous = json.loads(path.read_text())
        if previous.get("runs") != described["runs"]:
            raise SweepError(f"{out} holds another sweep (its sweep.json plans other runs); "
                             "choose another --out, or delete the folder to start over")
        return
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(described, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def run_sweep(sweep: SweepPlan, out_dir: str | Path, *, executor: str = "local",
              workers: int = 1, address: str | None = None, retry_failed: bool = False,
              base_dir: str | Path = ".",
              on_outcome: Callable[[Outcome, int, int], None] | None = None) -> list[Outcome]:
    """Run every planned run not finished yet, then compile `results.parquet`.

    Args:
        executor: "local" (a pool of `workers` processes; 1 runs in this process) or "ray"
            (a local Ray instance with `workers` CPUs, or the cluster at `address`).
        retry_failed: run again the runs recorded as failed (else they are kept as failed).
        on_outcome: called as (outcome, done, total) after each run (progress, result lines).
    """
    if workers < 1:
        raise SweepError(f"--workers must be at least 1, got {workers}")
    out = Path(out_dir)
    runs_dir = out / "runs"
    _write_plan(sweep, out)
    runs_dir.mkdir(exist_ok=True)
    _clean_partial(runs_dir)
    total = len(sweep.runs)
    outcomes: list[Outcome] = []
    pending: list[PlannedRun] = []
    by_id = {r.run_id: r for r in sweep.runs}
    for run in sweep.runs:
        if _finished(runs_dir, run.run_id):
            outcome = Outcome(run.run_id, run.seed, run.point, "skipped", "", 0.0,
                              _summary(runs_dir, run.run_id))
        elif (runs_dir / f"{run.run_id}.failed.json").exists() and not retry_failed:
            error = json.loads((runs_dir / f"{run.run_id}.failed.json").read_text())["error"]
            outcome = Outcome(run.run_id, run.seed, run.point, "failed", error, 0.0, None)
        else:
            pending.append(run)
            continue
        outcomes.append(outcome)
    done = len(outcomes)
    if on_outcome is not None:
        for outcome in outcomes:
            on_outcome(outcome, done, total)
    args = [(r.run_id, r.data, sweep.source, str(base_dir), str(runs_dir)) for r in pending]
    for run_id, status, error, wall in _dispatch(executor, workers, address, args):
        run = by_id[run_id]
        outcome = Outcome(run_id, run.seed, run.point, status, error, wall,
                          _summary(runs_dir, run_id) if status == "ok" else None)
        outcomes.append(outcome)
        done += 1
        if on_outcome is not None:
            on_outcome(outcome, done, total)
    compile_results(sweep, out)
    described = sweep.describe()
    compile_panel(described["runs"], described["params"], out)
    return outcomes


def _dispatch(executor: str, workers: int, address: str | None,
              args: list[tuple]) -> Iterator[tuple[str, str, str, float]]:
    if not args:
        return
    if executor == "local":
        if workers == 1:
            for a in args:
                yield _execute(*a)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_execute, *a) for a in args]
            for future in as_completed(futures):
                yield future.result()
        return
    if executor == "ray":
        yield from _dispatch_ray(workers, address, args)
        return
    raise SweepError(f"--executor must be {' or '.join(EXECUTORS)}, got {executor!r}")


def _dispatch_ray(workers: int, address: str | None,
                  args: list[tuple]) -> Iterator[tuple[str, str, str, float]]:
    try:
        import ray
    except ImportError as e:
        raise SweepError("the ray executor needs Ray: pip install 'twinecon[ray]'") from e
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports over the network
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "logging_level": "ERROR"}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers, **options)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(_execute)
        refs = [remote.remote(*a) for a in args]
        while refs:
            ready, refs = ray.wait(refs, num_returns=1)
            yield ray.get(ready[0])
    finally:
        if started_here:
            ray.shutdown()


def _summary(runs_dir: Path, run_id: str) -> dict[str, Any] | None:
    """A finished run's summary.json as written (amounts as decimal strings of base units,
    each with its `_tokens` float)."""
    try:
        return json.loads((runs_dir / run_id / "summary.json").read_text())
    except (OSError, ValueError):
        return None


def _flatten(obj: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """A summary's leaves as (column, value): keys joined by "_", amounts as exact ints."""
    if isinstance(obj, dict):
        for key in sorted(obj):
            yield from _flatten(obj[key], (*path, str(key)))
    elif isinstance(obj, bool | int | float | str) and path:
        if is_money(path) and isinstance(obj, str | int) and not isinstance(obj, bool):
            try:
                obj = Amount(obj)
            except ValueError:
                pass
        yield "_".join(path), obj


class Amount(int):
    """An amount of base units in a results row: a decimal128 column whatever its size."""


#: A results column that holds an amount of base units (the flattened `MONEY_PATHS`).
MONEY_COLUMN = re.compile("|".join(
    "_".join(".+" if k == "*" else re.escape(k) for k in p) for p in MONEY_PATHS))


def is_money_column(column: str) -> bool:
    """Whether a results.parquet column holds base-unit amounts (decimal128(38, 0))."""
    return MONEY_COLUMN.fullmatch(column) is not None


def _rows(sweep: SweepPlan, out: Path) -> Iterator[dict[str, Any]]:
    runs_dir = out / "runs"
    for run in sweep.runs:
        row: dict[str, Any] = {"run_id": run.run_id, "point_id": run.point_id,
                               "point_index": run.point_index, "seed": run.seed}
        summary = _summary(runs_dir, run.run_id)
        failed = runs_dir / f"{run.run_id}.failed.json"
        if summary is not None:
            row.update(status="ok", error=None)
        elif failed.exists():
            record = json.loads(failed.read_text())
            row.update(status="failed", error=record.get("error"))
        else:
            continue  # not run yet
        for param in sweep.params:
            row[param.column] = run.point[param.key]
        if summary is not None:
            for key, value in _flatten(summary):
                row.setdefault(key, value)
        yield row


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, Amount):
        return "money"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -_INT64 <= value < _INT64 else "float"
    if isinstance(value, float):
        return "float"
    return "str"


def _arrow_type(kinds: set[str]) -> pa.DataType:
    kinds = kinds - {"none"}
    if kinds == {"money"}:
        return AMOUNT
    if not kinds or "str" in kinds or ("bool" in kinds and kinds != {"bool"}):
        return pa.string()
    if kinds == {"bool"}:
        return pa.bool_()
    if kinds == {"int"}:
        return pa.int64()
    return pa.float64()


def compile_results(sweep: SweepPlan, out_dir: str | Path) -> Path:
    """Write `results.parquet`: one row per finished or failed run, parameters and seed next
    to every summary metric. Its schema does not depend on the values: every amount of base
    units is decimal128(38, 0) (exact, whatever its size) with its `<name>_tokens` float64
    beside it, counts int64, rates float64. Two streaming passes: the first finds the columns
    and their types, the second writes row groups of ROW_GROUP rows."""
    out = Path(out_dir)
    kinds: dict[str, set[str]] = {}
    for row in _rows(sweep, out):
        for key, value in row.items():
            kinds.setdefault(key, set()).add(_kind(value))
    fixed = {"run_id": pa.string(), "point_id": pa.string(), "point_index": pa.int64(),
             "seed": pa.int64(), "status": pa.string(), "error": pa.string()}
    schema = pa.schema([pa.field(name, kind) for name, kind in fixed.items()] + [
        pa.field(c, _arrow_type(k)) for c, k in kinds.items() if c not in fixed])
    target = out / "results.parquet"
    tmp = out / ".results.parquet.tmp"
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        batch: list[dict[str, Any]] = []
        for row in _rows(sweep, out):
            batch.append(row)
            if len(batch) >= ROW_GROUP:
                writer.write_table(_table(batch, schema))
                batch = []
        if batch or not kinds:
            writer.write_table(_table(batch, schema))
    os.replace(tmp, target)
    return target


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    arrays = []
    for f in schema:
        values = [r.get(f.name) for r in rows]
        if pa.types.is_decimal(f.type):
            values = [None if v is None else Decimal(int(v)) for v in values]
        elif pa.types.is_floating(f.type):
            values = [float(v) if v is not None else None for v in values]
        elif pa.types.is_string(f.type):
            values = [v if v is None or isinstance(v, str) else str(v) for v in values]
        arrays.append(pa.array(values, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
