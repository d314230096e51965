"""`twinecon run --max-faults N`: a run whose policies fault N times stops at the end of that
tick with exit code 3 and one line naming the agent and its last fault; no run folder is
written (one already there stays as it was)."""

from __future__ import annotations

import pytest

import scenarios
from scenarios import FaultLimitReached
from scenarios.cli import main

FAULTY = '''\
class Raiser:
    def act(self, obs):
        if obs.tick >= 2:
            raise RuntimeError(f"boom at tick {obs.tick}\\nsecond line")
        return []


class BadReset:
    def reset(self, seed):
        raise ValueError("no reset")

    def act(self, obs):
        return []
'''
RAISE_LINE = next(i for i, line in enumerate(FAULTY.splitlines(), 1) if "boom" in line)


def _market(*providers: str, ticks: int = 6) -> dict:
    return {
        "name": "faults", "seed": 5, "ticks": ticks,
        "ledger": {"backend": "memory", "signatures": "off"},
        "twin": {"kind": "warehouse"},
        "agents": [{"role": "world", "policy": "idle"},
                   *({"role": "provider", "label": cls.lower(), "policy": f"faulty.py:{cls}"}
                     for cls in providers)],
    }


@pytest.fixture
def faulty(tmp_path, write_toml):
    (tmp_path / "faulty.py").write_text(FAULTY)
    return lambda *providers, **kw: write_toml(_market(*providers, **kw), "faults")


def _stopped_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_the_run_stops_at_the_nth_fault_with_exit_3_and_writes_no_folder(
        faulty, tmp_path, capsys) -> None:
    """One fault a tick from tick 2: --max-faults 3 stops at the end of tick 4, exit 3, one
    line naming the agent, its last fault and where it was raised (its message's line break
    folded); the output folder is not created."""
    out = tmp_path / "runs" / "stopped"
    code = main(["run", str(faulty("Raiser")), "--out", str(out), "--max-faults", "3",
                 "--quiet"])
    line = _stopped_line(capsys)
    assert code == 3
    assert line == ("twinecon: stopped at tick 4: 3 policy fault(s), the most max_faults "
                    "allows; last: raiser-0 (faulty.py:Raiser): act raised RuntimeError: boom "
                    f"at tick 4 second line (at faulty.py:{RAISE_LINE} in Raiser.act) "
                    "(--max-faults 3; no run folder written)")
    assert not out.exists()
    assert list((tmp_path / "runs").iterdir()) == []  # its temporary folder removed too


def test_under_the_limit_the_run_finishes_as_before(faulty, tmp_path, capsys) -> None:
    """Faults below N: the run finishes (exit 0) and its summary counts them; without
    --max-faults a run goes on whatever its faults."""
    for extra, name in ((["--max-faults", "6"], "under"), ([], "unlimited")):
        out = tmp_path / name
        assert main(["run", str(faulty("Raiser")), "--out", str(out), "--quiet", *extra]) == 0
        assert scenarios.OUTPUTS and (out / "summary.json").is_file()
        assert '"policy_faults": 5' in (out / "summary.json").read_text()
    capsys.readouterr()


def test_an_earlier_run_in_the_folder_stays_as_it_was(faulty, tmp_path, capsys) -> None:
    """--force with a run that stops: the finished run already in --out is kept, byte for
    byte."""
    out = tmp_path / "kept"
    path = faulty("Raiser")
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["run", str(path), "--out", str(out), "--quiet", "--force",
                 "--max-faults", "1"]) == 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    capsys.readouterr()


def test_a_failed_reset_counts_at_tick_0(faulty, tmp_path) -> None:
    """A reset that raises is a fault of tick 0: --max-faults 1 stops before tick 1
    (run_scenario raises FaultLimitReached with the count, the tick and the last fault)."""
    loaded = scenarios.load_scenario(faulty("BadReset", "Raiser"))
    with pytest.raises(FaultLimitReached) as info:
        scenarios.run_scenario(loaded, tmp_path / "out", max_faults=1)
    assert (info.value.faults, info.value.tick) == (1, 0)
    assert info.value.last.startswith("badreset-0 (faulty.py:BadReset): reset raised "
                                      "ValueError: no reset (at faulty.py:")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad", ["0", "-2", "many"])
def test_max_faults_must_be_a_whole_number_of_at_least_one(bad, faulty, capsys) -> None:
    """--max-faults 0, negative or not a number: a usage error (exit 2), nothing run."""
    with pytest.raises(SystemExit) as info:
        main(["run", str(faulty("Raiser")), "--max-faults", bad])
    assert info.value.code == 2
    assert "--max-faults: expected a whole number of at least 1" in capsys.readouterr().err
