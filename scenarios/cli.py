"""The scenario verbs of the `twinecon` command line: run, validate, schema, list, node.

`register` adds them to the one parser `twinecon.cli` builds; `add_overrides` adds the options
a run and a sweep share (ticks, ledger backend, node url, signature checks), so their choices
are written once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chain import choices
from twinecon.cli import Subparsers, main

__all__ = ["BACKENDS", "SIGNATURE_MODES", "add_overrides", "main", "register"]

#: `ledger.backend`: the ledger's backends (the values of chain.Backend).
BACKENDS: tuple[str, ...] = choices.BACKENDS
#: `ledger.signatures`: check every action's signature, or skip the check (the values of
#: chain.SignatureMode).
SIGNATURE_MODES: tuple[str, ...] = choices.SIGNATURE_MODES


def add_overrides(parser: argparse.ArgumentParser) -> None:
    """Add --ticks, --ledger, --rpc-url and --signatures: the scenario values a run and a sweep
    override from the command line."""
    parser.add_argument("--ticks", type=int, help="override the number of ticks")
    parser.add_argument("--ledger", choices=BACKENDS,
                        help="ledger backend: the Python reference, the contracts on an "
                             "in-process EVM (default), or the contracts on a JSON-RPC node")
    parser.add_argument("--rpc-url", help="node url for --ledger rpc (default: the node "
                                          "`twinecon node start` started)")
    parser.add_argument("--signatures", choices=SIGNATURE_MODES,
                        help="check every action's signature, or skip the check (faster)")


def register(subparsers: Subparsers) -> None:
    """Add run, validate, schema, list and node to the `twinecon` parser."""
    run = subparsers.add_parser("run", help="run a scenario and write its outputs")
    run.add_argument("scenario", help="a scenario file or a built-in name (see `list`)")
    run.add_argument("--out", type=Path, help="output folder (default: runs/NAME-seedN); an "
                                              "existing run there is kept unless --force")
    run.add_argument("--force", action="store_true",
                     help="replace the run already in --out (atomically, once the new run "
                          "is complete)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    add_overrides(run)
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="set any scenario value by its dotted path, such as "
                          "rules.royalty.mode=lrp or agents.2.params.candidates=4 (repeatable)")
    run.add_argument("--strict", action="store_true",
                     help="re-raise a policy's exception instead of isolating it")
    run.add_argument("--max-faults", type=_positive, metavar="N",
                     help="stop the run (exit code 3, no run folder written) at the end of "
                          "the tick in which its policies' faults reach N, naming the last")
    run.add_argument("--quiet", action="store_true", help="no progress bar or table")
    run.set_defaults(handler=_run)

    val = subparsers.add_parser("validate", help="check a scenario file without running it")
    val.add_argument("scenario")
    val.set_defaults(handler=_validate)

    schema = subparsers.add_parser(
        "schema", help="print the scenario JSON Schema (--policy: the policy wire form's)",
        description="Print the JSON Schema of a scenario file, or with --policy the JSON "
                    "Schema (draft 2020-12) of the policy wire form: the observation a remote "
                    "or subprocess policy receives, every action it may answer, and the "
                    "messages (docs/policy-wire.md).")
    schema.add_argument("--policy", action="store_true",
                        help="the policy wire form's schema instead of the scenario's")
    schema.add_argument("--twin", default="warehouse", metavar="KIND",
                        help="with --policy: the twin kind whose requests and plans it holds "
                             "(default: warehouse)")
    schema.set_defaults(handler=_schema)
    subparsers.add_parser("list", help="list the built-in scenarios").set_defaults(
        handler=_list)
    _add_node_parser(subparsers)


def _add_node_parser(subparsers: Subparsers) -> None:
    node = subparsers.add_parser("node", help="start, stop or check a local hardhat JSON-RPC node",
                                 description="A local hardhat node on 127.0.0.1 that outlives "
                                             "the command (its pid, url and log are kept in "
                                             "the state folder). Needs `make node-deps`.")
    node.set_defaults(handler=_node_command)
    actions = node.add_subparsers(dest="node_command", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start a node in the background; print its url")
    start.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    start.add_argument("--chain-id", type=int, default=31337, help="chain id (default: 31337)")
    start.add_argument("--timeout", type=float, default=60.0,
                       help="seconds to wait for the node to answer (default: 60)")
    stop = actions.add_parser("stop", help="stop the node started by `node start`")
    stat = actions.add_parser("status", help="print the running node's url, pid and log")
    for action in (start, stop, stat):
        action.add_argument("--state-dir", type=Path, default=Path(".twinecon") / "node",
                            help="where node.json and node.log live (default: .twinecon/node)")


def _positive(text: str) -> int:
    """An int >= 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _run(args: argparse.Namespace) -> int:
    from scenarios.errors import FaultLimitReached

    with _resource_errors(args.scenario):
        try:
            return _run_scenario(args)
        except FaultLimitReached as e:
            print(f"twinecon: {e} (--max-faults {args.max_faults}; no run folder written)",
                  file=sys.stderr)
            return 3


def _run_scenario(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from scenarios.loading import load_scenario
    from scenarios.overrides import parse_assignment
    from scenarios.run import apply_overrides, run_scenario

    loaded = apply_overrides(load_scenario(args.scenario), seed=args.seed, ticks=args.ticks,
                             signatures=args.signatures, ledger=args.ledger,
                             rpc_url=args.rpc_url,
                             sets=dict(parse_assignment(t) for t in args.set))
    sc = loaded.scenario
    out = args.out or Path("runs") / f"{sc.name}-seed{sc.seed}"
    if not args.force and out.is_dir() and any(out.iterdir()):
        from scenarios.errors import ScenarioError

        raise ScenarioError(str(out), "", "the output folder already exists and is not empty; "
                            "pass --force to replace the run in it (the new run replaces it "
                            "only once complete), or choose another --out")
    console = Console(stderr=True)
    show = not args.quiet and console.is_terminal
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} ticks"), TimeRemainingColumn(),
                  console=console, disable=not show, transient=True) as progress:
        task = progress.add_task(sc.name, total=sc.ticks)
        result = run_scenario(loaded, out, strict=args.strict, max_faults=args.max_faults,
                              on_tick=lambda t, n: progress.update(task, completed=t))
    s = result.summary
    if not args.quiet:
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
            ("plan time vs baseline", "n/a" if ratio is None else f"{ratio:.3f}"),
            ("sim time sold (CU)", f"{s['cu_sold']:,}"),
            ("customer value (tokens)", f"{s['customer_value'] / scale:.3f}"),
            ("Gini of balances", f"{s['gini_final']:.3f}"),
            ("policy faults", str(s["policy_faults"])),
            ("rejected actions", _rejected_text(s)),
        ):
            table.add_row(name, value)
        Console().print(table)
    from economy.summary import problems

    for line in problems(s):
        print(f"twinecon: warning: {line}", file=sys.stderr)
    print(result.out_dir)
    return 0


def _rejected_text(summary: dict) -> str:
    """Rejected actions of all and by role: "12 of 340 (provider 12 of 200)"."""
    taken = summary.get("actions_by_role") or {}
    refused = summary.get("rejected_actions_by_role") or {}
    total = sum(taken.values())
    by_role = ", ".join(f"{r} {refused[r]} of {taken[r]}" for r in sorted(refused)
                        if refused[r])
    text = f"{summary['rejected_actions']} of {total}"
    return f"{text} ({by_role})" if by_role else text


def _validate(args: argparse.Namespace) -> int:
    from scenarios.build import check
    from scenarios.loading import load_scenario

    with _resource_errors(args.scenario):
        loaded = load_scenario(args.scenario)
        check(loaded)  # each group's policy, the twin, the ledger and genesis, not every agent
    print(f"{loaded.source}: ok ({loaded.scenario.name}, "
          f"{sum(g.count for g in loaded.scenario.agents)} agents)")
    from agents.remote import is_remote_ref

    for i, group in enumerate(loaded.scenario.agents):
        if is_remote_ref(group.policy):
            what = "its command is not started" if group.policy.startswith("exec:") \
                else "the server is not called"
            print(f"note: agents[{i}].policy {group.policy!r}: its syntax is checked, {what} "
                  "(its answers are checked when the run calls it)")
    return 0


@contextmanager
def _resource_errors(source: str) -> Iterator[None]:
    """A recursion or memory error becomes one `ScenarioError` line, not a traceback (the
    schema's bounds are meant to keep them from happening at all)."""
    from scenarios.errors import ScenarioError

    try:
        yield
    except RecursionError:
        raise ScenarioError(str(source), "", "nests too deeply to process (RecursionError); "
                            "flatten the data, and report this as a bug: the schema's bounds "
                            "should have refused it") from None
    except MemoryError:
        raise ScenarioError(str(source), "", "ran out of memory (MemoryError); lower the "
                            "scenario's counts and sizes") from None


def _schema(args: argparse.Namespace) -> int:
    if args.policy:
        return _policy_schema(args.twin)
    from scenarios.schema import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0


def _policy_schema(kind: str) -> int:
    """Print the policy wire form's JSON Schema for twin kind `kind`."""
    from agents.wire import WIRE_VERSION, Wire
    from scenarios.errors import ScenarioError
    from twinecon.errors import suggest
    from worlds import registry

    kinds = registry.kinds()
    if kind not in kinds:
        raise ScenarioError("--twin", "", f"unknown twin kind {kind!r}{suggest(kind, kinds)}; "
                            f"one of {', '.join(kinds)}")
    wire = Wire.for_twin(registry.make(kind))
    schema = wire.json_schema(title=f"{WIRE_VERSION}: observations and actions, {kind} twin")
    print(json.dumps(schema, indent=2))
    return 0


def _list(args: argparse.Namespace) -> int:
    from scenarios.loading import BUILTIN_DIR, builtin_names, load_scenario

    for name in builtin_names():
        sc = load_scenario(BUILTIN_DIR / f"{name}.toml").scenario
        print(f"{name:24} {sc.description}")
    return 0


def _node_command(args: argparse.Namespace) -> int:
    from chain.node import start_background, status, stop_background

    if args.node_command == "start":
        state, started = start_background(args.state_dir, port=args.port,
                                          chain_id=args.chain_id, timeout=args.timeout)
        if not started:
            print(f"twinecon: a node is already running (pid {state.pid}, chain id "
                  f"{state.chain_id}); `twinecon node stop` ends it", file=sys.stderr)
        print(state.url)
        return 0
    if args.node_command == "stop":
        state = stop_background(args.state_dir)
        print("no node running" if state is None else
              f"stopped the node at {state.url} (pid {state.pid})")
        return 0
    state = status(args.state_dir)
    if state is None:
        print("no node running")
        return 1
    answering = "answering" if state.answering else "NOT answering"
    print(f"{state.url} {answering} (chain id {state.chain_id}, pid {state.pid}, "
          f"log {state.log})")
    return 0 if answering == "answering" else 1


if __name__ == "__main__":
    sys.exit(main())
