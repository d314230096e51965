"""Running a scenario to completion and writing its output folder."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from economy import Recorder
from scenarios.build import build
from scenarios.loading import LoadedScenario, validate_scenario
from scenarios.overrides import apply_point

__all__ = ["OUTPUTS", "RunResult", "apply_overrides", "run_scenario"]

#: The files every run writes.
OUTPUTS = ("manifest.json", "summary.json", "ticks.parquet", "agents.parquet",
           "events.parquet", "flows.parquet")


@dataclass(frozen=True, slots=True)
class RunResult:
    out_dir: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]


def apply_overrides(loaded: LoadedScenario, *, seed: int | None = None,
                    ticks: int | None = None, signatures: str | None = None,
                    ledger: str | None = None, rpc_url: str | None = None,
                    sets: dict[str, Any] | None = None) -> LoadedScenario:
    """The scenario with command-line overrides applied (validated like the file).

    `sets` maps dotted paths (`rules.royalty.mode`) to values, set before the named options.
    """
    sc = loaded.scenario
    data = sc.model_dump()
    if sets:
        data = apply_point(data, sets, loaded.source)
    if seed is not None:
        data["seed"] = seed
    if ticks is not None:
        data["ticks"] = ticks
    if signatures is not None:
        data["ledger"]["signatures"] = signatures
    if ledger is not None:
        data["ledger"]["backend"] = ledger
    if rpc_url is not None:
        data["ledger"]["rpc_url"] = rpc_url
    return replace(loaded, scenario=validate_scenario(data, loaded.source))


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("twinecon", "numpy", "networkx", "eth-account", "pyarrow", "pydantic",
                 "vyper", "snekmate", "pyrevm", "web3"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _dump(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def run_scenario(
    loaded: LoadedScenario,
    out_dir: str | Path,
    *,
    strict: bool = False,
    on_tick: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Build and run `loaded`, writing every output into `out_dir`.

    The folder is written under a temporary name and renamed when complete, so a folder with
    a `summary.json` is always a finished run; an existing folder is replaced.

    Args:
        loaded: the validated scenario.
        out_dir: where the outputs go.
        strict: re-raise a policy's exception instead of isolating it.
        on_tick: called as on_tick(tick, ticks) after every tick (progress bars).
    """
    sc = loaded.scenario
    out = Path(out_dir)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        built = build(loaded, recorder=Recorder(tmp), strict=strict)
        model = built.model
        for tick in range(1, sc.ticks + 1):
            model.step()
            if on_tick is not None:
                on_tick(tick, sc.ticks)
        summary = {"scenario": sc.name, "seed": sc.seed, "ledger": sc.ledger.backend,
                   **model.finish()}
        canonical = json.dumps(sc.model_dump(mode="json"), sort_keys=True).encode()
        manifest = {
            "scenario": sc.name,
            "scenario_sha256": hashlib.sha256(canonical).hexdigest(),
            "scenario_source": loaded.source,
            "seed": sc.seed,
            "ticks": sc.ticks,
            "ledger": sc.ledger.backend,
            "signatures": sc.ledger.signatures,
            "twin_id": model.twin.twin_id,
            "n_agents": len(built.agents),
            "versions": _versions(),
            "outputs": list(OUTPUTS),
            "config": sc.model_dump(mode="json"),
        }
        _dump(manifest, tmp / "manifest.json")
        _dump(summary, tmp / "summary.json")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return RunResult(out_dir=out, summary=summary, manifest=manifest)
