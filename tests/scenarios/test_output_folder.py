"""A run's output folder is replaced atomically: whenever a run is killed (SIGKILL, SIGTERM, at
any step), the folder holds the previous complete run or the new complete run, never part of
one, and what the killed run left beside it is cleared by the next run into the same parent."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import scenarios
from scenarios import _outdir
from scenarios.cli import main
from scenarios.run import clean_dead_runs

_FORK = multiprocessing.get_context("fork")
_HANG = 120  # seconds: a hang guard, not a speed limit


@pytest.fixture
def tiny(small_market, write_toml):
    """The small market on the memory ledger, as a function of its ticks."""
    small_market["ledger"]["backend"] = "memory"
    loaded = scenarios.load_scenario(write_toml(small_market, "tiny"))
    return lambda ticks: scenarios.apply_overrides(loaded, ticks=ticks)


def _ticks_of(folder: Path) -> int:
    """The ticks of the complete run in `folder` (asserting it is complete)."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(scenarios.OUTPUTS), folder
    return json.loads((folder / "manifest.json").read_text())["ticks"]


def _killed(loaded, out: Path, step: str, sig: int, exchange: bool) -> None:
    """Run `loaded` into `out` in a forked process that sends itself `sig` at `step`."""

    def child() -> None:
        _outdir.USE_EXCHANGE = exchange

        def on_step(name: str) -> None:
            if name == step:
                os.kill(os.getpid(), sig)

        scenarios.run_scenario(loaded, out, on_step=on_step)
        os._exit(3)  # the step never came

    process = _FORK.Process(target=child)
    process.start()
    process.join(timeout=_HANG)
    assert process.exitcode == -sig, f"the run was not killed at {step!r}"


# (step, signal, names swapped atomically, the ticks the final folder holds after the kill:
# 2 the old run, 3 the new one, None nothing until the next run finishes the replacement)
KILLS = [
    ("built", signal.SIGKILL, False, 2),
    ("played", signal.SIGKILL, False, 2),
    ("written", signal.SIGKILL, False, 2),
    ("set-aside", signal.SIGKILL, False, None),
    ("replaced", signal.SIGKILL, False, 3),
    ("written", signal.SIGKILL, True, 2),
    ("replaced", signal.SIGKILL, True, 3),
    ("set-aside", signal.SIGTERM, False, None),
    ("replaced", signal.SIGTERM, True, 3),
]


@pytest.mark.parametrize(("step", "sig", "exchange", "held"), KILLS,
                         ids=[f"{k[0]}-{k[1].name}-{'swap' if k[2] else 'rename'}"
                              for k in KILLS])
def test_a_killed_run_leaves_the_old_run_or_the_new_one(tiny, tmp_path, step, sig, exchange,
                                                        held) -> None:
    """Killed at any step of replacing an earlier run, the final folder holds the old complete
    run or the new complete run (all outputs, summary.json among them); killed between the two
    renames (where names cannot be swapped), both complete runs are beside it under names that
    say so, and the next run into the parent puts the new one in place. Every leftover of the
    dead run is then removed."""
    out = tmp_path / "runs" / "out"
    scenarios.run_scenario(tiny(2), out)
    _killed(tiny(3), out, step, sig, exchange)
    if held is None:
        assert not out.exists()
        beside = sorted(p.name for p in out.parent.iterdir())
        assert [n.split("-")[0] for n in beside] == [".out.old", ".out.tmp"], beside
        assert sorted(_ticks_of(out.parent / n) for n in beside) == [2, 3]
    else:
        assert _ticks_of(out) == held
    clean_dead_runs(out.parent)  # what the next run into the parent does first
    assert [p.name for p in out.parent.iterdir()] == ["out"]
    assert _ticks_of(out) == (3 if held is None else held)


def test_a_killed_cli_run_is_finished_by_the_next_run(tiny, tmp_path) -> None:
    """`twinecon run --out` killed (SIGKILL, a real process) between setting the old run aside
    and renaming the new one in: the next `run --out` into the same parent finds no partial
    folder and leaves exactly its own complete run."""
    out = tmp_path / "out"
    scenario = tmp_path / "tiny.toml"  # written by the fixture
    argv = ["run", str(scenario), "--out", str(out), "--quiet", "--force", "--ticks"]
    assert main([*argv, "2"]) == 0
    code = textwrap.dedent("""
        import functools, os, signal, sys
        import scenarios._outdir as outdir
        import scenarios.run as run
        outdir.USE_EXCHANGE = False
        def on_step(name):
            if name == "set-aside":
                os.kill(os.getpid(), signal.SIGKILL)
        run.run_scenario = functools.partial(run.run_scenario, on_step=on_step)
        from twinecon.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    done = subprocess.run([sys.executable, "-c", code, *argv, "3"], timeout=_HANG,
                          capture_output=True, text=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not out.exists()
    assert main([*argv, "4"]) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name != "tiny.toml"] == ["out"]
    assert _ticks_of(out) == 4


def test_an_interrupted_replacement_puts_the_old_run_back(tiny, tmp_path) -> None:
    """An exception (Ctrl-C) between setting the old run aside and renaming the new one in:
    the old run goes back in place and nothing is left beside it."""
    out = tmp_path / "out"
    scenarios.run_scenario(tiny(2), out)

    def on_step(name: str) -> None:
        if name == "set-aside":
            raise KeyboardInterrupt

    _outdir.USE_EXCHANGE, before = False, _outdir.USE_EXCHANGE
    try:
        with pytest.raises(KeyboardInterrupt):
            scenarios.run_scenario(tiny(3), out, on_step=on_step)
    finally:
        _outdir.USE_EXCHANGE = before
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".toml"] == ["out"]
    assert _ticks_of(out) == 2


def test_leftovers_of_live_runs_are_kept(tmp_path) -> None:
    """Only the folders of dead processes are removed: a live run's temporary folder (here
    the parent process's) stays; a dead one's goes, old-style names (no host) included."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True, timeout=_HANG)
    pid = int(dead.stdout)
    live = tmp_path / f".a.tmp-{os.getppid()}.{_outdir._HOST}"
    gone = [tmp_path / f".a.tmp-{pid}.{_outdir._HOST}", tmp_path / f".b.tmp-{pid}",
            tmp_path / f".b.old-{pid}.{_outdir._HOST}"]
    other_host = tmp_path / f".c.tmp-{pid}.00000000"
    for folder in (live, other_host, *gone):
        folder.mkdir()
    removed = clean_dead_runs(tmp_path)
    assert sorted(removed) == sorted(gone)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other_host.name])


def test_a_folder_that_is_not_a_run_is_not_replaced(tiny, tmp_path) -> None:
    """--out naming a folder of other files (a home folder, a source tree) is refused before
    the run starts, and the folder is untouched."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(scenarios.ScenarioError, match="no run's outputs"):
        scenarios.run_scenario(tiny(2), out)
    assert (out / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.suffix != ".toml"] == ["mine"]


def test_a_manifest_that_cannot_be_written_fails_before_the_first_tick(tiny, tmp_path) -> None:
    """The manifest's record of the scenario is serialised before any tick is played, so a
    value it cannot hold costs no run (validation refuses such a file first)."""
    loaded = tiny(2)
    broken = loaded.scenario.model_copy(update={"description": object()})
    ticks: list[int] = []
    with pytest.raises(ValueError, match="serialize"):
        scenarios.run_scenario(type(loaded)(broken, loaded.source, loaded.base_dir),
                               tmp_path / "out", on_tick=lambda t, n: ticks.append(t))
    assert ticks == []
    assert not (tmp_path / "out").exists()
