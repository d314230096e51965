"""The `twinecon check-policy` verb: `agents.checks.check_policy` from the command line.

``twinecon check-policy file.py:Class [--role R] [--scenario S] [--ticks N]`` plays the policy
in a seat of its role in a short scenario, twice with the same seed, and exits 0 with its
report when every check passes, 1 with the failed check's one line (what, expected, got, fix)
when one fails, and 2 on bad input (a policy that cannot be loaded, an unknown role or
scenario). Everything heavy is imported when the verb runs, not when the command line starts.
"""

from __future__ import annotations

import argparse
import sys

from twinecon.cli import Subparsers, main

__all__ = ["ROLES", "main", "register"]

#: The seats a policy can be checked in: the values of `economy.Role` (a test checks they are
#: equal; written out so that `twinecon --help` imports no economy).
ROLES = ("customer", "provider", "evaluator", "compute", "world", "data")
#: Ticks each run plays unless --ticks says otherwise (`agents.checks.DEFAULT_TICKS`).
DEFAULT_TICKS = 40


def register(subparsers: Subparsers) -> None:
    """Add `check-policy` to the `twinecon` parser."""
    check = subparsers.add_parser(
        "check-policy", help="check a policy in a short run before putting it in a scenario",
        description="Play a policy in a seat of its role in a short scenario (memory ledger, "
                    "signatures off), twice with the same seed, and check that it never "
                    "raises, returns a list of valid actions, gives the same actions both "
                    "times and stays within its time budget per call. Exit 0 with its report, "
                    "1 with the first failed check, 2 on bad input.")
    check.add_argument("policy", help="'path/to/file.py:Class', 'package.module:Class' or a "
                                      "built-in policy's name")
    check.add_argument("--role", choices=ROLES,
                       help="the seat's role (default: a built-in's own, or the class's "
                            "`role` attribute)")
    check.add_argument("--scenario",
                       help="a built-in scenario's name or a scenario file (default: "
                            "warehouse-market, which has a seat of every role)")
    check.add_argument("--ticks", type=int, default=DEFAULT_TICKS,
                       help=f"ticks each run plays (default: {DEFAULT_TICKS})")
    check.add_argument("--seed", type=int, help="the seed of both runs (default: the "
                                                "scenario's)")
    check.add_argument("--budget-ms", type=int, metavar="MS",
                       help="time budget per call (default: the scenario's [policies] "
                            "time_limit_ms; 0: none)")
    check.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                       help="a policy param, as a scenario's params table writes it "
                            "(repeatable; default: the scenario's for a policy it runs)")
    check.set_defaults(handler=_check_policy)


def _params(texts: list[str]) -> dict | None:
    from scenarios.overrides import OverrideError, parse_value

    if not texts:
        return None
    params = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key.strip().isidentifier() or not value.strip():
            raise OverrideError(f"--param {text!r}: expected name=value (for example --param "
                                "discount_bps=9000)")
        params[key.strip()] = parse_value(value)
    return params


def _check_policy(args: argparse.Namespace) -> int:
    from agents.checks import PolicyCheckFailed, check_policy

    try:
        report = check_policy(args.policy, role=args.role, scenario=args.scenario,
                              ticks=args.ticks, params=_params(args.param), seed=args.seed,
                              budget_ms=args.budget_ms)
    except PolicyCheckFailed as e:
        print(f"twinecon: {args.policy}: failed: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
