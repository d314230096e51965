"""twinecon.cli: one parser whose verbs the packages register, and the error handling every verb
shares, tested with a stand-in verb module and through `python -m twinecon`."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import twinecon
from twinecon.cli import VERB_MODULES, Subparsers, build_parser, main
from twinecon.errors import TwineconError

ROOT = Path(__file__).resolve().parents[2]


class Refused(TwineconError):
    """An error the stand-in verb raises on purpose."""


@pytest.fixture
def fake_verbs(monkeypatch: pytest.MonkeyPatch) -> str:
    """A verb module `fake_verbs` (the test double of a package's cli module) with the verbs
    ok (exit 0), refuse (a TwineconError), interrupt (Ctrl-C) and crash (a bug)."""
    module = types.ModuleType("fake_verbs")

    def raise_(error: BaseException) -> int:
        raise error

    def register(subparsers: Subparsers) -> None:
        ok = subparsers.add_parser("ok", help="succeed")
        ok.add_argument("--code", type=int, default=0)
        ok.set_defaults(handler=lambda args: args.code)
        for verb, error in (("refuse", Refused("no folder x; pass one that exists")),
                            ("interrupt", KeyboardInterrupt()),
                            ("crash", RuntimeError("a bug"))):
            subparsers.add_parser(verb).set_defaults(handler=lambda _, e=error: raise_(e))

    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_verbs", module)
    return "fake_verbs"


def test_a_registered_verb_runs_and_returns_its_exit_code(fake_verbs: str) -> None:
    """A verb module's verbs join the parser; main returns the handler's exit code."""
    assert main(["ok"], modules=[fake_verbs]) == 0
    assert main(["ok", "--code", "3"], modules=[fake_verbs]) == 3


def test_a_twinecon_error_is_one_line_and_exit_2(fake_verbs: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A TwineconError from any verb is one line `twinecon: error: ...` on stderr, exit 2, no
    traceback."""
    assert main(["refuse"], modules=[fake_verbs]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "twinecon: error: no folder x; pass one that exists\n"


def test_an_interrupt_exits_130_with_a_line(fake_verbs: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C during a verb is exit code 130 and one line, no traceback."""
    assert main(["interrupt"], modules=[fake_verbs]) == 130
    assert capsys.readouterr().err == "twinecon: interrupted\n"


def test_a_bug_is_not_hidden(fake_verbs: str) -> None:
    """An exception that is not a TwineconError is a bug: it propagates with its traceback."""
    with pytest.raises(RuntimeError, match="a bug"):
        main(["crash"], modules=[fake_verbs])


def test_no_verb_or_an_unknown_one_is_a_usage_error(fake_verbs: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's usage errors keep exit code 2 and name the choices."""
    for argv in ([], ["nope"]):
        with pytest.raises(SystemExit) as info:
            main(argv, modules=[fake_verbs])
        assert info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`twinecon --version` prints the package version and exits 0."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"twinecon {twinecon.__version__}\n"


def _verbs(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_verb_is_registered_once_with_a_handler() -> None:
    """The packages' verbs, in order, each with a handler, and every one's --help works."""
    verbs = _verbs(build_parser())
    assert list(verbs) == ["run", "validate", "schema", "list", "node", "describe",
                           "check-policy", "sweep", "query", "analyze", "report", "panel",
                           "rerun", "calibrate"]
    for name, parser in verbs.items():
        assert callable(parser.get_default("handler")), name
    assert VERB_MODULES == ("scenarios.cli", "scenarios.describe_cli",
                            "scenarios.check_policy_cli", "sweeps.cli", "sweeps.calibrate_cli")


@pytest.mark.parametrize("argv", [["--help"], *[[v, "--help"] for v in (
    "run", "validate", "schema", "list", "node", "describe", "sweep", "query", "analyze",
    "report", "panel", "rerun", "calibrate")], ["node", "start", "--help"]])
def test_help_of_every_verb(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` of the command and of every verb prints its usage and exits 0."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: twinecon " + " ".join(argv[:-1]))


def test_choices_come_from_the_packages_that_define_them() -> None:
    """--ledger offers chain's backends and --executor the sweep engine's executors; run and
    sweep offer the same --ledger and --signatures."""
    from chain.backends import BACKENDS
    from scenarios.cli import SIGNATURE_MODES
    from sweeps.engine import EXECUTORS

    verbs = _verbs(build_parser())

    def choices(verb: str, option: str) -> tuple[str, ...]:
        action = next(a for a in verbs[verb]._actions if option in a.option_strings)
        return tuple(action.choices or ())

    for verb in ("run", "sweep"):
        assert choices(verb, "--ledger") == tuple(BACKENDS)
        assert choices(verb, "--signatures") == SIGNATURE_MODES
    assert choices("sweep", "--executor") == EXECUTORS


@pytest.mark.parametrize("module", ["twinecon", "scenarios.cli", "sweeps.cli"])
def test_python_dash_m(module: str) -> None:
    """`python -m twinecon` runs the command line, and so do the old `python -m scenarios.cli`
    and `python -m sweeps.cli`; a TwineconError is one line on stderr and exit 2."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", module, "validate", "warehouse-markt"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("twinecon: error: warehouse-markt: ")
    assert done.stderr.count("\n") == 1
