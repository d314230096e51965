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
    ("twinecon", {"chain", "worlds", "economy", "agents", "scenarios", "sweeps"}),
    ("twinecon.cli", {"chain", "worlds", "economy", "agents", "scenarios", "sweeps"}),
])
def test_lower_layer_does_not_import_upper(imports: str, forbidden: set[str]) -> None:
    """Importing a layer loads none of the layers above it (nor mesa, for chain, nor
    hypothesis, which chain.checks.check_ledger imports only when called); twinecon, the
    bottom, loads none at all, nor does its command line until it runs."""
    roots = _loaded_roots(imports)
    assert imports.split(".")[0] in roots
    assert roots & forbidden == set()


def _loaded_modules(imports: str) -> set[str]:
    code = f"import sys, {imports}\nprint(','.join(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.strip().split(","))


def test_economy_is_typed_against_the_twin_protocol_not_a_twin() -> None:
    """`import economy` loads no twin kind (no worlds.warehouse, logistics or windfarm), no
    environment library (pettingzoo, gymnasium), no physics (mujoco), and no mesa: the
    economy sees twins only through `worlds.protocols`."""
    loaded = _loaded_modules("economy")
    roots = {m.split(".")[0] for m in loaded}
    assert roots & {"pettingzoo", "gymnasium", "mujoco", "mesa"} == set()
    twins = {m for m in loaded if m.split(".")[:2] in (["worlds", "warehouse"],
                                                      ["worlds", "logistics"],
                                                      ["worlds", "windfarm"])}
    assert twins == set()
