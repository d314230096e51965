"""The `twinecon` command line: one parser, whose verbs the packages above register.

`twinecon` is the bottom of the tree, so it names the modules that hold verbs instead of
importing them: each module in `VERB_MODULES` has a `register(subparsers)` function (the
`VerbModule` protocol) that adds its verbs, each with its handler set as the parser default
`handler`, a function `(argparse.Namespace) -> int` returning the exit code. They are imported
only when the command line runs, so `import twinecon` loads no upper layer.

What every verb shares lives here: `twinecon --version`, `--help`, and the error handling
(`dispatch`): a `TwineconError` becomes one line `twinecon: error: ...` on stderr and exit code
2, no traceback; Ctrl-C becomes `twinecon: interrupted` and exit code 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

from twinecon import __version__
from twinecon.errors import TwineconError

__all__ = ["VERB_MODULES", "Handler", "Subparsers", "VerbModule", "build_parser", "dispatch",
           "main"]

#: The modules whose verbs make up the command line, in the order `--help` lists them.
VERB_MODULES: tuple[str, ...] = ("scenarios.cli", "scenarios.describe_cli",
                                 "scenarios.check_policy_cli", "sweeps.cli",
                                 "sweeps.calibrate_cli")

#: What `add_subparsers()` returns: where a verb module adds its verbs.
Subparsers = argparse._SubParsersAction

#: A verb's handler: the parsed arguments in, the exit code out.
Handler = Callable[[argparse.Namespace], int]


class VerbModule(Protocol):
    """A module that adds verbs to the `twinecon` command line."""

    def register(self, subparsers: Subparsers) -> None:
        """Add this module's verbs, each with `set_defaults(handler=...)`."""


def build_parser(modules: Sequence[str] = VERB_MODULES) -> argparse.ArgumentParser:
    """The `twinecon` parser with the verbs of every module in `modules` (imported here)."""
    parser = argparse.ArgumentParser(
        prog="twinecon",
        description="A multi-agent economy simulator over registered digital twins.")
    parser.add_argument("--version", action="version", version=f"twinecon {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
        module: VerbModule = importlib.import_module(name)  # type: ignore[assignment]
        module.register(subparsers)
    return parser


def dispatch(args: argparse.Namespace) -> int:
    """Run the verb's handler; a TwineconError becomes one line on stderr and exit code 2, an
    interrupt exit code 130."""
    handler: Handler = args.handler
    try:
        return handler(args)
    except TwineconError as e:
        print(f"twinecon: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("twinecon: interrupted", file=sys.stderr)
        return 130


def main(argv: Sequence[str] | None = None, *,
         modules: Sequence[str] = VERB_MODULES) -> int:
    """The `twinecon` entry point: parse `argv` (default: the process's arguments), run the
    verb, return its exit code. `modules` replaces the verb modules (for tests)."""
    args = build_parser(modules).parse_args(None if argv is None else list(argv))
    return dispatch(args)
