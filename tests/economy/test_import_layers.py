"""Layering: economy sits below agents and scenarios; chain sits beside worlds, below economy."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_roots(imports: str) -> set[str]:
    code = (f"import sys, {imports}\n"
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.strip().split(","))


@pytest.mark.parametrize(("imports", "forbidden"), [
    ("economy", {"agents", "scenarios"}),
    ("chain", {"worlds", "economy", "agents", "scenarios", "mesa", "hypothesis"}),
    ("scenarios", {"sweeps", "ray", "duckdb", "SALib", "matplotlib"}),
])
def test_lower_layer_does_not_import_upper(imports: str, forbidden: set[str]) -> None:
    """Importing a layer loads none of the layers above it (nor mesa, for chain, nor
    hypothesis, which chain.checks.check_ledger imports only when called)."""
    roots = _loaded_roots(imports)
    assert imports in roots
    assert roots & forbidden == set()
