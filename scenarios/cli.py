"""The `twinecon` command line: run, validate, schema, list."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from twinecon import __version__
from twinecon.errors import TwineconError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="twinecon",
        description="A multi-agent economy simulator over registered digital twins.")
    p.add_argument("--version", action="version", version=f"twinecon {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write its outputs")
    run.add_argument("scenario", help="a scenario file or a built-in name (see `list`)")
    run.add_argument("--out", type=Path, help="output folder (default: runs/NAME-seedN)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--ticks", type=int, help="override the number of ticks")
    run.add_argument("--signatures", choices=("verify", "off"),
                     help="check every action's signature, or skip the check (faster)")
    run.add_argument("--strict", action="store_true",
                     help="re-raise a policy's exception instead of isolating it")
    run.add_argument("--quiet", action="store_true", help="no progress bar or table")

    val = sub.add_parser("validate", help="check a scenario file without running it")
    val.add_argument("scenario")

    sub.add_parser("schema", help="print the scenario JSON Schema")
    sub.add_parser("list", help="list the built-in scenarios")
    return p


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from scenarios.loading import load_scenario
    from scenarios.run import apply_overrides, run_scenario

    loaded = apply_overrides(load_scenario(args.scenario), seed=args.seed, ticks=args.ticks,
                             signatures=args.signatures)
    sc = loaded.scenario
    out = args.out or Path("runs") / f"{sc.name}-seed{sc.seed}"
    console = Console(stderr=True)
    show = not args.quiet and console.is_terminal
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} ticks"), TimeRemainingColumn(),
                  console=console, disable=not show, transient=True) as progress:
        task = progress.add_task(sc.name, total=sc.ticks)
        result = run_scenario(loaded, out, strict=args.strict,
                              on_tick=lambda t, n: progress.update(task, completed=t))
    if not args.quiet:
        s = result.summary
        scale = 10 ** s["decimals"]
        table = Table(title=f"{sc.name} (seed {sc.seed}, {s['ticks']} ticks, "
                            f"{s['n_agents']} agents)")
        table.add_column("metric")
        table.add_column("value", justify="right")
        ratio = s["time_ratio_mean"]
        for name, value in (
            ("jobs posted / completed", f"{s['jobs_posted']} / {s['jobs_completed']}"),
            ("rejected / expired", f"{s['jobs_rejected']} / {s['jobs_expired']}"),
            ("mean price (tokens)", f"{s['price_mean'] / scale:.4f}"),
            ("plan time vs S-shape", "n/a" if ratio is None else f"{ratio:.3f}"),
            ("sim time sold (CU)", f"{s['cu_sold']:,}"),
            ("customer value (tokens)", f"{s['customer_value'] / scale:.3f}"),
            ("Gini of balances", f"{s['gini_final']:.3f}"),
            ("policy faults", str(s["policy_faults"])),
        ):
            table.add_row(name, value)
        Console().print(table)
    print(result.out_dir)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from scenarios.build import build
    from scenarios.loading import load_scenario

    loaded = load_scenario(args.scenario)
    build(loaded)  # policies, twin parameters and genesis are checked too
    print(f"{loaded.source}: ok ({loaded.scenario.name}, "
          f"{sum(g.count for g in loaded.scenario.agents)} agents)")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from scenarios.schema import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0


def _list(args: argparse.Namespace) -> int:
    from scenarios.loading import BUILTIN_DIR, builtin_names, load_scenario

    for name in builtin_names():
        sc = load_scenario(BUILTIN_DIR / f"{name}.toml").scenario
        print(f"{name:24} {sc.description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; a TwineconError becomes one line on stderr and exit code 2."""
    args = _parser().parse_args(argv)
    handler = {"run": _run, "validate": _validate, "schema": _schema, "list": _list}
    try:
        return handler[args.command](args)
    except TwineconError as e:
        print(f"twinecon: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twinecon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
