"""Digests of every built-in scenario's outputs, recorded before a refactor and compared after.

`python tests/scenarios/golden/record.py` rewrites `digests.json` (only do so when a change is
meant to move the bytes, and say why in the commit); `test_golden.py` reruns the same runs and
compares. The digests cover `summary.json` byte for byte and the rows of every Parquet table
(their values, not the file bytes, which carry the writer's version).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).parent
DIGESTS = HERE / "digests.json"
#: The built-ins compared, each at its own length (every market of each trades: leases
#: claimed, spot checks and slashes, epochs, royalties, data); about 25 s for all on both.
NAMES = ("compute-call-market", "compute-sealed-auction", "ip-royalties", "logistics-market",
         "warehouse-market", "warehouse-physics", "windfarm-market")
BACKENDS = ("memory", "evm")
TABLES = ("events", "ticks", "agents", "flows", "jobs")


def table_digest(path: Path) -> str:
    """sha256 over the rows of a Parquet table, in order (values, not file bytes)."""
    h = hashlib.sha256()
    table = pq.read_table(path)
    h.update(repr(table.schema.names).encode())
    for row in zip(*(c.to_pylist() for c in table.columns), strict=True):
        h.update(repr(row).encode())
    return h.hexdigest()


def run_digests(name: str, backend: str, out: Path) -> dict[str, str]:
    """Run built-in `name` on `backend` into `out` and digest its outputs."""
    import scenarios

    loaded = scenarios.apply_overrides(scenarios.load_scenario(name), ledger=backend)
    scenarios.run_scenario(loaded, out)
    digests = {"summary": hashlib.sha256((out / "summary.json").read_bytes()).hexdigest()}
    for t in TABLES:
        digests[t] = table_digest(out / f"{t}.parquet")
    return digests


def record() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in NAMES:
            for backend in BACKENDS:
                out[f"{name}/{backend}"] = run_digests(name, backend, Path(tmp) / name / backend)
                print(name, backend, out[f"{name}/{backend}"]["summary"][:12], flush=True)
    return out


if __name__ == "__main__":
    DIGESTS.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
    sys.exit(0)
