"""Tests that worlds stays the bottom layer."""

from __future__ import annotations

import subprocess
import sys


def test_worlds_imports_no_upper_layer_or_heavy_dependency() -> None:
    """Importing worlds and worlds.warehouse loads no chain/economy/agents/scenarios/mesa/eth."""
    code = (
        "import sys, worlds, worlds.warehouse, worlds.checks\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'chain', 'economy', 'agents', 'scenarios', 'mesa', 'eth_account', 'web3', 'mujoco'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
