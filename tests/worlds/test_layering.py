"""Tests that worlds stays the bottom layer and that its heavy libraries load only when used."""

from __future__ import annotations

import json
import subprocess
import sys

_UPPER = {"chain", "economy", "agents", "scenarios", "mesa", "eth_account", "web3"}
_HEAVY = {"pettingzoo", "gymnasium", "mujoco"}

# One fresh interpreter goes through the stages in order and reports, after each, which
# upper-layer or heavy packages are loaded.
_STAGES = """
import json, sys
WATCH = set(sys.argv[1].split(","))
seen = {}
def stage(name):
    seen[name] = sorted(WATCH & {m.split(".")[0] for m in sys.modules})
import worlds, worlds.warehouse, worlds.logistics, worlds.windfarm, worlds.toy
import worlds.checks, worlds.registry
stage("import")
import numpy as np
from worlds import registry
for kind in ("warehouse", "logistics", "windfarm"):
    t = registry.make(kind)
    o = t.orders(np.random.default_rng(1), 36_000_000)[0]
    t.evaluate(t.solve(o, t.baseline_method), o, 1)
stage("l1")
from worlds.warehouse._scene import scene_mjcf
wh = registry.make("warehouse", n_aisles=3, slots_per_aisle=4, n_skus=20)
scene_mjcf(wh)
stage("scene")
from worlds.windfarm import env
assert callable(env)
stage("env")
wh.evaluator("L2")
stage("l2")
print(json.dumps(seen))
"""


def test_each_library_loads_only_when_its_part_is_used() -> None:
    """Importing worlds, every twin package, the registry and the checks loads no upper
    layer and none of pettingzoo, gymnasium or mujoco; building, solving and evaluating
    the twins at L1 and writing the L2 scene text load none either; asking a package for
    its env loads pettingzoo (not mujoco); the warehouse's evaluator('L2') loads mujoco."""
    out = subprocess.run([sys.executable, "-c", _STAGES, ",".join(_UPPER | _HEAVY)],
                         capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    assert seen["import"] == seen["l1"] == seen["scene"] == []
    assert set(seen["env"]) == {"gymnasium", "pettingzoo"}
    assert set(seen["l2"]) == _HEAVY
