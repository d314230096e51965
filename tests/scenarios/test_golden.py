"""Same seed, same bytes, across refactors: every built-in scenario on memory and evm gives the
outputs recorded in `golden/digests.json` (summary.json byte for byte, every table row by row).

A change meant to move results re-records the digests (`python tests/scenarios/golden/record.py`)
in its own commit, saying why; any other change must leave them as they are.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_HERE = Path(__file__).parent / "golden"
_spec = importlib.util.spec_from_file_location("golden_record", _HERE / "record.py")
record = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record)
DIGESTS = json.loads((_HERE / "digests.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("backend", record.BACKENDS)
@pytest.mark.parametrize("name", record.NAMES)
def test_builtin_outputs_match_the_recorded_digests(name: str, backend: str,
                                                    tmp_path: Path) -> None:
    """The run's summary.json and every table are what they were when the digests were
    recorded (a refactor moves no byte)."""
    got = record.run_digests(name, backend, tmp_path / "out")
    want = DIGESTS[f"{name}/{backend}"]
    moved = sorted(k for k in want if got.get(k) != want[k])
    assert got == want, f"{name} on {backend}: outputs moved in {moved}"


def test_every_builtin_has_recorded_digests() -> None:
    """A new built-in scenario gets digests too (record them in the commit that adds it)."""
    import scenarios

    assert set(record.NAMES) == set(scenarios.builtin_names())
    assert set(DIGESTS) == {f"{n}/{b}" for n in record.NAMES for b in record.BACKENDS}
