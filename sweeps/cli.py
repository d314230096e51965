"""The sweep verbs of the `twinecon` command line: sweep, query, analyze, report, panel, rerun.

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

Values are written as in a scenario file: token amounts in tokens (twin.licence_per_cu=
0.0000005, or "0.05 tokens"), quoted strings kept as strings. A sampled value lands as the
run uses it (an int where the scenario holds an int) and is shown so.

Every point runs with the same seeds (the scenario's seed, +1, ...), so points that differ
only in keys that leave the exogenous draws alone (rules.*, ledger.*, twin.licence_per_cu,
economy values, policy params) face the same demand per seed: common random numbers.
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

    q = subparsers.add_parser(
        "query", help="run SQL (DuckDB) over a sweep's results and tick panel",
        description="SQL over the views `results` (results.parquet: one row per run; each "
                    "amount as exact base units, NAME, and in tokens, NAME_tokens) and `ticks` "
                    "(the tick panel: one row per run and tick), with the macro tokens(x) "
                    "turning base units into tokens.")
    q.add_argument("dir", type=Path, help="the sweep folder")
    q.add_argument("sql", help='SQL over `results` and `ticks`, e.g. "select seed, '
                              'avg(price_mean_tokens) from results group by seed"')
    q.set_defaults(handler=_query)

    an = subparsers.add_parser("analyze", help="means and intervals per point; Sobol indices; "
                                               "paired differences with p-values")
    an.add_argument("dir", type=Path, help="the sweep folder")
    an.add_argument("--metric", action="append", default=[],
                    help="metrics (default: all; money is shown in tokens)")
    an.add_argument("--paired", action="store_true",
                    help="paired differences against the baseline point (common random "
                         "numbers), with p-values, effect size and seeds needed")
    _add_answer_options(an)
    an.add_argument("--csv", type=Path, help="also write the table as CSV")
    an.set_defaults(handler=_analyze)

    rp = subparsers.add_parser("report", help="write report.html for a run or a sweep folder")
    rp.add_argument("dir", type=Path, help="a run folder or a sweep folder")
    rp.add_argument("--metric", action="append", default=[],
                    help="a metric to plot (repeatable; default: those that moved most)")
    _add_answer_options(rp)
    rp.set_defaults(handler=_report)

    pn = subparsers.add_parser(
        "panel", help="the tick-level panel of a sweep: one row per run and tick",
        description="Every run's ticks.parquet in one long table with its run id, point, seed "
                    "and parameter values (DIR/ticks.parquet, written by the sweep; built "
                    "here for an older sweep). Prints its shape and columns; --csv or "
                    "--parquet writes it.")
    pn.add_argument("dir", type=Path, help="the sweep folder")
    pn.add_argument("--csv", type=Path, help="write the panel as CSV (money in tokens)")
    pn.add_argument("--parquet", type=Path,
                    help="write the panel as Parquet (money as exact base units)")
    pn.set_defaults(handler=_panel)

    rr = subparsers.add_parser("rerun",
                               help="re-execute one run and check it reproduces bit for bit")
    rr.add_argument("run_dir", type=Path, help="a run folder, e.g. DIR/runs/RUN_ID")
    rr.set_defaults(handler=_rerun)


def _add_answer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", metavar="INDEX|KEY=VALUE",
                        help="the point others are compared with: a point index, or "
                             "KEY=VALUE[,KEY=VALUE] of its parameters (default: the first)")
    parser.add_argument("--confidence", type=float, default=0.95,
                        help="the level of every interval (default 0.95)")
    parser.add_argument("--precision", metavar="H|P%",
                        help="the half-width 'seeds needed' aims at: in the metric's unit, or "
                             "P%% of the baseline's mean (default: half the difference)")


def _baseline(text: str | None) -> Any:
    """--baseline as `analysis.paired` takes it: an int index, or {key: value}."""
    if text is None:
        return None
    from scenarios.overrides import parse_value
    from sweeps.plan import SweepError

    if text.strip().isdigit():
        return int(text)
    pairs = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise SweepError(f"--baseline {text!r}: expected a point index or KEY=VALUE"
                             "[,KEY=VALUE] (for example --baseline "
                             "rules.fees.platform_fee_bps=0)")
        pairs[key.strip()] = parse_value(value)
    return pairs


def _tokens_text(summary: dict[str, Any], key: str) -> str | None:
    """A summary amount for a progress line, in tokens ("price_mean=0.0302 tokens")."""
    twin = summary.get(f"{key}_tokens")
    if isinstance(twin, float):
        return f"{key}={twin:.4g} tokens"
    value = summary.get(key)
    if isinstance(value, int | str) and str(value).lstrip("-").isdigit():
        return f"{key}={int(value) / 10 ** int(summary.get('decimals', 18)):.4g} tokens"
    return None


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
    _check_first(sweep, loaded)
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
                shown = [f"jobs_completed={s['jobs_completed']}" if "jobs_completed" in s
                         else None, _tokens_text(s, "price_mean"),
                         f"time_ratio_mean={s['time_ratio_mean']:.4g}"
                         if isinstance(s.get("time_ratio_mean"), float) else None]
                metrics = " ".join(m for m in shown if m)
                line = (f"{outcome.run_id} seed={outcome.seed} {point} {outcome.status} "
                        f"{outcome.wall_s:.1f}s {metrics or outcome.error}")
                progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

        outcomes = run_sweep(sweep, args.out, executor=args.executor, workers=args.workers,
                             address=args.address, retry_failed=args.retry_failed,
                             base_dir=loaded.base_dir, on_outcome=on_outcome)
    skipped = sum(o.status == "skipped" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    print(f"{args.out}: {len(outcomes)} runs ({skipped} finished earlier, {failed} failed); "
          f"results in {args.out / 'results.parquet'}, tick panel in "
          f"{args.out / 'ticks.parquet'}")
    _warn(args.out)
    return 0


def _check_first(sweep: Any, loaded: Any) -> None:
    """Build the first planned run's scenario as `twinecon validate` does (policies and their
    params, twin, genesis), so a key the scenario does not take fails now, with exit 2, not
    in every run; a value only some points set wrong fails in those runs, recorded."""
    from dataclasses import replace

    from scenarios.build import check
    from scenarios.loading import validate_scenario

    if sweep.runs:
        first = sweep.runs[0]
        check(replace(loaded, scenario=validate_scenario(first.data, loaded.source)))


def _warn(folder: Path, metrics: list[str] | None = None) -> None:
    """Print the sweep's warnings (`sweeps.diagnose`) to stderr."""
    from sweeps import analysis
    from sweeps.diagnose import diagnose

    try:
        results, sweep = analysis.load(folder)
    except analysis.AnalysisError:
        return
    for line in diagnose(results, sweep, folder, metrics):
        print(f"twinecon: warning: {line}", file=sys.stderr)


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
    ticks = args.dir / "ticks.parquet"
    if ticks.is_file():
        quoted = ticks.as_posix().replace("'", "''")
        con.execute(f"create view ticks as select * from read_parquet('{quoted}')")
    decimals = 18
    try:
        decimals = int(con.execute("select any_value(decimals) from results").fetchone()[0])
    except (duckdb.Error, TypeError, ValueError):
        pass
    con.execute(f"create macro tokens(x) as cast(x as double) / 1e{decimals}")
    try:
        frame = con.execute(args.sql).df()
    except duckdb.Error as e:
        raise SweepError(f"query failed: {e}") from None
    print(frame.to_string(index=False))
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from sweeps import analysis
    from sweeps.diagnose import diagnose
    from sweeps.stats import level_text

    results, sweep = analysis.load(args.dir)
    metrics = args.metric or None
    level = level_text(args.confidence)
    money = set(results.attrs.get("money", ()))
    if args.paired:
        table = analysis.paired(results, sweep, metrics=metrics, confidence=args.confidence,
                                baseline=_baseline(args.baseline), precision=args.precision)
        base = ", ".join(f"{k}={v}" for k, v in table.attrs["baseline_point"].items())
        base = base or "the first point"
        print(f"Paired differences (point - baseline, seed by seed) against {base}; "
              f"lo, hi: the {level} t-interval of diff; p_t: paired t test; "
              "p_perm: sign-flip permutation test (exact up to 16 seeds); effect: d_z = "
              "diff / std; seeds_needed: for a half-width of "
              f"{args.precision or 'half the difference'}.")
    else:
        table = analysis.summarize(results, sweep, metrics=metrics,
                                   confidence=args.confidence)
        print(f"Mean over seeds per point; lo, hi: the {level} t-interval of the mean (lo not "
              "below 0 for a metric never below 0).")
    shown = list(dict.fromkeys(table["metric"])) if "metric" in table else []
    if money & set(shown):
        print("Money in tokens: " + ", ".join(m for m in shown if m in money) + ".")
    print(analysis.format_table(table))
    if sweep.get("design") == "sobol" and not args.paired:
        print()
        print(f"Sobol indices ({level} intervals: S1_conf, ST_conf):")
        print(analysis.format_table(analysis.sobol(results, sweep, metrics=metrics,
                                                   confidence=args.confidence)))
    for line in diagnose(results, sweep, args.dir, shown):
        print(f"twinecon: warning: {line}", file=sys.stderr)
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


def _report(args: argparse.Namespace) -> int:
    from sweeps.report import write_report

    print(write_report(args.dir, metrics=args.metric or None,
                       baseline=_baseline(args.baseline), confidence=args.confidence,
                       precision=args.precision))
    return 0


def _panel(args: argparse.Namespace) -> int:
    from sweeps.panel import panel

    frame = panel(args.dir)
    runs = frame["run_id"].nunique() if len(frame) else 0
    print(f"{args.dir / 'ticks.parquet'}: {len(frame):,} rows ({runs} runs x ticks), "
          f"{len(frame.columns)} columns")
    print("columns: " + ", ".join(map(str, frame.columns)))
    if args.parquet:
        frame.to_parquet(args.parquet, index=False)
        print(f"wrote {args.parquet}")
    if args.csv:
        panel(args.dir, tokens=True).to_csv(args.csv, index=False)
        print(f"wrote {args.csv} (money in tokens)")
    print('in Python: from sweeps.panel import panel; df = panel("DIR", tokens=True)')
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
