"""The shape of the sweeps package: modules small enough to read, public names where users
import them from."""

from __future__ import annotations

from pathlib import Path

import sweeps
import sweeps.report

MAX_LINES = 700


def test_no_module_of_sweeps_is_over_700_lines() -> None:
    """A module that grows past 700 lines does more than one thing: split it by what it does."""
    root = Path(sweeps.__file__).parent
    sizes = {p.relative_to(root).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in root.rglob("*.py")}
    assert "report/_render.py" in sizes
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_report_names_stay_importable_from_sweeps_report() -> None:
    """What `sweeps.report` exported as one module it still exports as a package."""
    assert sorted(sweeps.report.__all__) == ["DEFAULT_METRICS", "REPORT_NAME", "ReportError",
                                             "main", "render_report", "write_report"]
    for name in sweeps.report.__all__:
        assert getattr(sweeps.report, name) is not None
