"""The sweep verbs of the `twinecon` command line: sweep, query, analyze, report, rerun.

`register` adds them to the one parser `twinecon.cli` builds (the top layer: it may import
every other).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from scenarios.cli import add_overrides
from sweeps.choices import EXECUTORS
from twinecon.cli import Subparsers, main

__all__ = ["main", "register"]

_SWEEP_HELP = """\
Run a scenario over parameter points times seeds.

  --set KEY=V1,V2,...   values of one parameter (a dotted path into the scenario, e.g.
                        rules.fees.transfer_fee_bps or agents.2.params.candidates). Several
                        --set options form the full grid: their CARTESIAN PRODUCT.
  --zip                 pair the --set lists element by element instead of the product
                        (all lists must have the same length).
  --sample sobol:N      a Sobol (Saltelli) sample of N*(D+2) points over the --range bounds
                        (SALib), for `twinecon analyze` to compute Sobol indices;
  --sample random:N     N uniform random points over the --range bounds.
  --range KEY=LO:HI     bounds of a sampled parameter.

Every point runs with the same seeds (the scenario's seed, +1, ...), so points that differ
only in protocol rules (rules.*, ledger.*) face the same demand per seed: common random numbers.
Rerunning the same command skips finished runs and redoes unfinished ones.
"""


def register(subparsers: Subparsers) -> None:
    """Add sweep, query, analyze, report and rerun to the `twinecon` parser."""
    sw = subparsers.add_parser("sweep", description=_SWEEP_HELP,
                               help="run a scenario over a parameter grid or sample, times seeds",
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    sw.add_argument("scenario", help="a scenario file or a built-in name")
    sw.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2,...",
                    help="values of a parameter; several --set form their cartesian product")
    sw.add_argument("--zip", action="store_true",
                    help="pair the --set lists element by element (not their product)")
    sw.add_argument("--sample", metavar="sobol:N|random:N",
                    help="sample points over --range bounds instead of --set values")
    sw.add_argument("--range", action="append", default=[], metavar="KEY=LO:HI",
                    help="bounds of a sampled parameter")
    sw.add_argument("--seeds", type=int, default=1, help="runs per point (default 1)")
    sw.add_argument("--out", type=Path, required=True, help="the sweep folder")
    sw.add_argument("--executor", choices=EXECUTORS, default=EXECUTORS[0],
                    help="local processes (default) or Ray")
    sw.add_argument("--workers", type=int, default=1, help="parallel runs (default 1)")
    sw.add_argument("--address", help="a Ray cluster address (default: start a local Ray)")
    add_overrides(sw)
    sw.add_argument("--retry-failed", action="store_true",
                    help="run again the runs recorded as failed")
    sw.add_argument("--quiet", action="store_true", help="no progress bar or result lines")
    sw.set_defaults(handler=_sweep)

    q = subparsers.add_parser("query", help="run SQL (DuckDB) over a sweep's results.parquet")
    q.add_argument("dir", type=Path, help="the sweep folder")
    q.add_argument("sql", help='SQL over the table `results`, e.g. "select seed, '
                              'avg(price_mean) from results group by seed"')
    q.set_defaults(handler=_query)

    an = subparsers.add_parser("analyze", help="means and intervals per point; Sobol indices; "
                                               "paired differences")
    an.add_argument("dir", type=Path, help="the sweep folder")
    an.add_argument("--metric", action="append", default=[], help="metrics (default: all)")
    an.add_argument("--paired", action="store_true",
                    help="paired differences against the first point (common random numbers)")
    an.add_argument("--csv", type=Path, help="also write the table as CSV")
    an.set_defaults(handler=_analyze)

    rp = subparsers.add_parser("report", help="write report.html for a run or a sweep folder")
    rp.add_argument("dir", type=Path, help="a run folder or a sweep folder")
    rp.set_defaults(handler=_report)

    rr = subparsers.add_parser("rerun",
                               help="re-execute one run and check it reproduces bit for bit")
    rr.add_argument("run_dir", type=Path, help="a run folder, e.g. DIR/runs/RUN_ID")
    rr.set_defaults(handler=_rerun)


def _sweep(args: argparse.Namespace) -> int:
    from scenarios.loading import load_scenario
    from scenarios.run import apply_overrides
    from sweeps.engine import run_sweep
    from sweeps.plan import plan

    loaded = apply_overrides(load_scenario(args.scenario), ticks=args.ticks,
                             signatures=args.signatures, ledger=args.ledger,
                             rpc_url=args.rpc_url)
    overrides = {k: v for k, v in (("ticks", args.ticks), ("ledger", args.ledger),
                                   ("signatures", args.signatures)) if v is not None}
    sweep = plan(loaded.scenario.model_dump(mode="json"), scenario=loaded.scenario.name,
                 source=loaded.source, sets=args.set, zip_values=args.zip, sample=args.sample,
                 ranges=args.range, seeds=args.seeds, overrides=overrides)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    show = not args.quiet
    failures = [0]
    with Progress(TextColumn("[bold]sweep"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total} runs"), TextColumn("{task.fields[failed]} failed"),
                  TimeRemainingColumn(), console=console, disable=not show) as progress:
        task = progress.add_task("sweep", total=len(sweep.runs), failed=0)

        def on_outcome(outcome: Any, done: int, total: int) -> None:
            if outcome.status == "failed":
                failures[0] += 1
            progress.update(task, completed=done, failed=failures[0])
            if show and outcome.status != "skipped":
                point = " ".join(f"{k}={v}" for k, v in outcome.point.items())
                s = outcome.summary or {}
                metrics = " ".join(f"{k}={s[k]:.4g}" if isinstance(s.get(k), float) else
                                   f"{k}={s[k]}" for k in ("jobs_completed", "price_mean",
                                                           "time_ratio_mean") if k in s)
                line = (f"{outcome.run_id} seed={outcome.seed} {point} {outcome.status} "
                        f"{outcome.wall_s:.1f}s {metrics or outcome.error}")
                progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

        outcomes = run_sweep(sweep, args.out, executor=args.executor, workers=args.workers,
                             address=args.address, retry_failed=args.retry_failed,
                             base_dir=loaded.base_dir, on_outcome=on_outcome)
    skipped = sum(o.status == "skipped" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    print(f"{args.out}: {len(outcomes)} runs ({skipped} finished earlier, {failed} failed); "
          f"results in {args.out / 'results.parquet'}")
    return 0


def _results(folder: Path) -> Path:
    from sweeps.plan import SweepError

    path = folder / "results.parquet"
    if not path.exists():
        raise SweepError(f"{folder} has no results.parquet; run `twinecon sweep ... --out "
                         f"{folder}` first")
    return path


def _query(args: argparse.Namespace) -> int:
    import duckdb

    from sweeps.plan import SweepError

    path = _results(args.dir)
    con = duckdb.connect()
    quoted = path.as_posix().replace("'", "''")
    con.execute(f"create view results as select * from read_parquet('{quoted}')")
    try:
        frame = con.execute(args.sql).df()
    except duckdb.Error as e:
        raise SweepError(f"query failed: {e}") from None
    print(frame.to_string(index=False))
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from sweeps import analysis

    results, sweep = analysis.load(args.dir)
    metrics = args.metric or None
    if args.paired:
        table = analysis.paired(results, sweep, metrics=metrics)
    else:
        table = analysis.summarize(results, sweep, metrics=metrics)
    print(analysis.format_table(table))
    if sweep.get("design") == "sobol" and not args.paired:
        print()
        print(analysis.format_table(analysis.sobol(results, sweep, metrics=metrics)))
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


def _report(args: argparse.Namespace) -> int:
    from sweeps.report import write_report

    print(write_report(args.dir))
    return 0


def _files_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file() and p.name != "report.html"}


def _rerun(args: argparse.Namespace) -> int:
    from scenarios.loading import LoadedScenario, validate_scenario
    from scenarios.run import run_scenario
    from sweeps.plan import SweepError

    manifest_path = args.run_dir / "manifest.json"
    if not manifest_path.exists():
        raise SweepError(f"{args.run_dir} is not a finished run (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    source = manifest.get("scenario_source", str(args.run_dir))
    loaded = LoadedScenario(scenario=validate_scenario(manifest["config"], source),
                            source=source, base_dir=Path(source).parent)
    with tempfile.TemporaryDirectory() as tmp:
        again = run_scenario(loaded, Path(tmp) / "again").out_dir
        before, after = _files_digest(args.run_dir), _files_digest(again)
    volatile = {"manifest.json"}  # records package versions and the source path
    differ = sorted(n for n in set(before) | set(after)
                    if n not in volatile and before.get(n) != after.get(n))
    if differ:
        print(f"{args.run_dir}: does NOT reproduce; differing files: {', '.join(differ)}")
        return 1
    print(f"{args.run_dir}: reproduces bit for bit ({len(before) - 1} output files identical)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
