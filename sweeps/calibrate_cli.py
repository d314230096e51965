"""The `twinecon calibrate` verb: fit scenario parameters to observed moments or time series.

`register` adds it to the one parser `twinecon.cli` builds; the work is `sweeps.calibrate`
(imported when the verb runs, with optuna and pyarrow, so `twinecon --help` stays fast).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from scenarios.cli import add_overrides
from sweeps.choices import EXECUTORS
from twinecon.cli import Subparsers, main

__all__ = ["format_result", "main", "register"]

_HELP = """\
Fit scenario parameters to observed data (the method of simulated moments).

  --target FILE         moments: a parquet with columns moment, value (optional weight,
                        scale), a moment being a numeric leaf of summary.json flattened with
                        underscores (jobs_completed, price_mean,
                        markets_compute_price_per_cu_mean), money in tokens. Or a time
                        series: a parquet with a tick column and columns named like
                        ticks.parquet's (orders, completed, price_mean); a run's ticks.parquet
                        is one (choose its columns with --fit). Money is compared in tokens.
  --param KEY=LO:HI     a parameter to fit (a dotted path into the scenario) and its box.

Loss: the weighted sum over moments of ((simulated - observed) / scale)^2, the simulated value
the mean over --seeds runs on the same seeds for every candidate, scale = |observed| (or the
target's scale column); a series column adds the mean over its ticks, scaled by the
observed column's root mean square. Search: optuna's TPE
sampler (seeded by --seed), --workers candidates at a time, then steps to the minimum of a
quadratic fitted to the loss. Uncertainty: MSM standard errors, the data's noise from
--noise-seeds fresh runs of the best point (docs/calibration.md). Writes DIR/calibration.json
and DIR/trials.parquet; rerunning the same command reuses every finished run in DIR/runs.
"""


def register(subparsers: Subparsers) -> None:
    """Add calibrate to the `twinecon` parser."""
    cal = subparsers.add_parser("calibrate", description=_HELP,
                                help="fit scenario parameters to observed moments or series",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    cal.add_argument("scenario", help="a scenario file or a built-in name")
    cal.add_argument("--target", type=Path, required=True,
                     help="observed moments or a time series (parquet)")
    cal.add_argument("--param", action="append", default=[], metavar="KEY=LO:HI",
                     required=True, help="a parameter to fit and its bounds (repeatable)")
    cal.add_argument("--fit", action="append", default=[], metavar="NAME",
                     help="fit only these moments or columns of the target (repeatable)")
    cal.add_argument("--seeds", type=int, default=2,
                     help="runs per candidate, the same seeds for every one (default 2)")
    cal.add_argument("--trials", type=int, default=32, help="candidates tried (default 32)")
    cal.add_argument("--noise-seeds", type=int, default=10,
                     help="fresh runs of the best point for the standard errors (default "
                          "10; 0: none)")
    cal.add_argument("--seed", type=int, default=0,
                     help="the sampler's seed: the same command gives the same result")
    cal.add_argument("--out", type=Path, required=True,
                     help="where the runs, calibration.json and trials.parquet go")
    cal.add_argument("--executor", choices=EXECUTORS, default=EXECUTORS[0],
                     help="local processes (default) or Ray")
    cal.add_argument("--workers", type=int, default=1,
                     help="candidates run at a time, each on every seed (default 1)")
    cal.add_argument("--address", help="a Ray cluster address (default: start a local Ray)")
    add_overrides(cal)
    cal.add_argument("--quiet", action="store_true", help="no line per trial on stderr")
    cal.set_defaults(handler=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    from scenarios.loading import load_scenario
    from scenarios.run import apply_overrides
    from sweeps.calibrate import calibrate, load_target, parse_param

    loaded = apply_overrides(load_scenario(args.scenario), ticks=args.ticks,
                             signatures=args.signatures, ledger=args.ledger,
                             rpc_url=args.rpc_url)
    target = load_target(args.target, fit=args.fit, decimals=loaded.scenario.ledger.decimals)
    bounds = [parse_param(p, loaded) for p in args.param]
    best = [math.inf]

    def on_trial(trial: Any, done: int, total: int) -> None:
        if args.quiet:
            return
        if trial.loss is not None:
            best[0] = min(best[0], trial.loss)
        point = " ".join(f"{k}={_fmt(v)}" for k, v in trial.params.items())
        loss = f"loss {_fmt(trial.loss)}" if trial.loss is not None else f"failed: {trial.error}"
        print(f"trial {done}/{total} {point} {loss} (best {_fmt(best[0])})", file=sys.stderr,
              flush=True)

    result = calibrate(loaded, target, bounds, out_dir=args.out, seeds=args.seeds,
                       trials=args.trials, workers=args.workers, executor=args.executor,
                       address=args.address, sampler_seed=args.seed,
                       noise_seeds=args.noise_seeds, on_trial=on_trial)
    print(format_result(result))
    return 0


def _fmt(x: Any) -> str:
    """A number for people: ints as they are, floats to four significant digits."""
    if x is None:
        return "-"
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return "-" if math.isnan(x) else "inf"
    return f"{x:.4g}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)


def _interval(e: Any) -> str:
    if e.sd is not None and math.isinf(e.sd):
        return "not identified"
    return "-" if e.interval is None else f"[{_fmt(e.interval[0])}, {_fmt(e.interval[1])}]"


def format_result(result: Any) -> str:
    """The calibration for people: the parameters (best, standard error, interval, bounds),
    the fit of each target name at the best (observed, simulated, difference, its share of the
    loss), and where the files are. Money in tokens."""
    from sweeps.calibrate import LEVEL

    t = result.target
    what = (f"moments: {', '.join(t.names)}" if t.kind == "moments" else
            f"series: {', '.join(t.names)}; ticks {t.ticks[0]}..{t.ticks[-1]}")
    ok = sum(tr.loss is not None for tr in result.trials)
    fresh = ("" if result.loss_fresh is None else
             f"; {_fmt(result.loss_fresh)} on {len(result.fresh_seeds)} fresh seeds")
    params = _table(["parameter", "best", "sd", f"{round(100 * LEVEL)}% interval", "bounds"],
                    [[e.key, _fmt(e.best), _fmt(e.sd), _interval(e),
                      f"[{_fmt(b.low)}, {_fmt(b.high)}]"]
                     for e, b in zip(result.estimates, result.bounds, strict=True)])
    fit = _table(["target", "observed", "simulated", "difference", "scale", "weight",
                  "loss term"],
                 [[f.name, _fmt(f.observed), _fmt(f.simulated), _fmt(f.difference),
                   _fmt(f.scale), _fmt(f.weight), _fmt(f.term)] for f in result.fit])
    series = ("\n(series: observed and simulated are means over the ticks compared)"
              if t.kind == "series" else "")
    return "\n".join([
        f"calibrated {result.scenario} to {t.path} ({what})",
        f"{len(result.trials)} trials ({ok} with a loss) x {len(result.seeds)} seeds; best "
        f"trial {result.best_trial}: loss {_fmt(result.loss)}{fresh}",
        "", params, f"(MSM standard errors: {result.note})", "", fit + series, "",
        f"{result.out_dir / 'calibration.json'}, {result.out_dir / 'trials.parquet'}"])


if __name__ == "__main__":
    sys.exit(main())
