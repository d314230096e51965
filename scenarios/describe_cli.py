"""The `twinecon describe` verb: a scenario's ODD model description, in Markdown or JSON.

`register` adds it to the one parser `twinecon.cli` builds. It takes the scenario and the same
overrides as `twinecon run` (--seed, --ticks, --ledger, --rpc-url, --signatures, --set), so
that it describes exactly the model such a run would be, down to the digest `manifest.json`
records. Everything heavy is imported when the verb runs, not when the command line starts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from twinecon.cli import Subparsers, main

__all__ = ["FORMATS", "main", "register"]

#: Output formats: a Markdown document, or the same content as structured JSON.
FORMATS = ("markdown", "json")


def register(subparsers: Subparsers) -> None:
    """Add `describe` to the `twinecon` parser."""
    from scenarios.cli import add_overrides

    describe = subparsers.add_parser(
        "describe", help="write the ODD model description of a scenario",
        description="Write the ODD description (Overview, Design concepts, Details; Grimm et "
                    "al. 2020, JASSS 23(2) 7) of a scenario, generated from the scenario, the "
                    "code its groups and rules run and its twin's spec, with the digest a run "
                    "of it records in manifest.json. Nothing is run.")
    describe.add_argument("scenario", help="a scenario file or a built-in name (see `list`)")
    describe.add_argument("--format", choices=FORMATS, default="markdown",
                          help="markdown (default) or json (the same sections as data)")
    describe.add_argument("--out", type=Path,
                          help="write to this file instead of stdout (refused if it exists, "
                               "unless --force)")
    describe.add_argument("--force", action="store_true",
                          help="with --out: replace an existing file")
    describe.add_argument("--seed", type=int, help="override the scenario's seed")
    add_overrides(describe)
    describe.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                          help="set any scenario value by its dotted path, as `twinecon run "
                               "--set` does (repeatable)")
    describe.set_defaults(handler=_describe)


def _describe(args: argparse.Namespace) -> int:
    from scenarios.cli import _resource_errors
    from scenarios.describe import describe
    from scenarios.errors import ScenarioError
    from scenarios.loading import load_scenario
    from scenarios.overrides import parse_assignment
    from scenarios.run import apply_overrides

    out: Path | None = args.out
    if out is not None:
        _check_out(out, args.force)
    with _resource_errors(args.scenario):
        loaded = apply_overrides(load_scenario(args.scenario), seed=args.seed,
                                 ticks=args.ticks, signatures=args.signatures,
                                 ledger=args.ledger, rpc_url=args.rpc_url,
                                 sets=dict(parse_assignment(t) for t in args.set))
        description = describe(loaded)
    text = description.to_json() if args.format == "json" else description.to_markdown()
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        _write(out, text, args.force)
    except OSError as e:
        raise ScenarioError(str(out), "", f"cannot be written ({e.strerror or e}); check the "
                            "path and its permissions") from None
    print(out)
    return 0


def _check_out(out: Path, force: bool) -> None:
    """Refuse an --out that is a folder, or an existing file without --force."""
    from scenarios.errors import ScenarioError

    if out.is_dir():
        raise ScenarioError(str(out), "", "is a folder; --out names the file to write")
    if (out.exists() or out.is_symlink()) and not force:
        raise ScenarioError(str(out), "", "exists and is not replaced; pass --force to "
                            "replace it, or choose another --out")


def _write(out: Path, text: str, force: bool) -> None:
    """Write `text` to `out`: with `force`, whole or not at all (a temporary file beside it,
    then renamed over it); without, only as a new file (never over one that appeared since)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not force:
        try:
            with out.open("x", encoding="utf-8", newline="\n") as f:
                f.write(text)
        except FileExistsError:
            _check_out(out, force)  # raises: it exists now
            raise
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


if __name__ == "__main__":
    sys.exit(main())
