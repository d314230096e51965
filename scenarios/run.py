"""Running a scenario to completion and writing its output folder.

The folder appears complete or not at all: a run writes into a temporary folder beside it and
puts it in place only when every output is written, replacing an existing run atomically (the
old run is deleted only once the new one is in place); the next run into the same parent
removes what killed runs left (`scenarios._outdir`). So a folder with a `summary.json` is
always a finished run, and a killed run leaves the previous one as it was.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from agents.builtin.llm import LOG_NAME as LLM_LOG
from agents.builtin.llm import bind_run as bind_llm_run
from economy import Recorder
from economy.summary import to_json as summary_json
from scenarios import _outdir
from scenarios.build import build
from scenarios.errors import FaultLimitReached, ScenarioError
from scenarios.loading import LoadedScenario, validate_scenario
from scenarios.overrides import apply_point

__all__ = ["OUTPUTS", "STEPS", "RunResult", "apply_overrides", "clean_dead_runs",
           "run_scenario"]

#: The files every run writes.
OUTPUTS = ("manifest.json", "summary.json", "ticks.parquet", "agents.parquet",
           "events.parquet", "flows.parquet", "jobs.parquet")

#: The steps of a run `run_scenario` reports to `on_step`, in order: built (the economy is
#: built, the manifest written; no tick played), played (the last tick played), written (every
#: output in the temporary folder), set-aside (the old run renamed aside: only where names
#: cannot be swapped atomically), replaced (the new run in place, the old not yet deleted),
#: done.
STEPS = ("built", "played", "written", "set-aside", "replaced", "done")


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


def clean_dead_runs(parent: str | Path) -> list[Path]:
    """Remove the temporary and set-aside folders that killed runs left in `parent` (those of
    runs still going are kept); a run killed between putting its new folder in place and
    deleting the old is finished first. Every run does this in its output's parent.

    Returns:
        The folders removed or moved into place.
    """
    return _outdir.clean_dead(Path(parent))


def _check_out(out: Path) -> None:
    """Refuse to replace anything but a run's folder (or an empty one)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ScenarioError(str(out), "", "the output folder exists and is not a folder; "
                            "choose another --out")
    if out.is_dir() and not _outdir.is_run_folder(out, OUTPUTS):
        raise ScenarioError(str(out), "", f"the output folder holds files but no run's "
                            f"outputs ({', '.join(OUTPUTS)}), so it is not replaced; choose "
                            "another --out, or empty it")


def _check_faults(model: Any, max_faults: int | None) -> None:
    """Raise FaultLimitReached once the run's policy faults reach `max_faults`."""
    faults = model.totals["faults"]
    if max_faults is not None and faults >= max_faults:
        raise FaultLimitReached(faults, model.tick, model.last_fault or "")


def run_scenario(
    loaded: LoadedScenario,
    out_dir: str | Path,
    *,
    strict: bool = False,
    on_tick: Callable[[int, int], None] | None = None,
    on_step: Callable[[str], None] | None = None,
    max_faults: int | None = None,
) -> RunResult:
    """Build and run `loaded`, writing every output into `out_dir`.

    The folder is written under a temporary name and put in place when complete, replacing an
    existing run's folder atomically: at every instant `out_dir` holds the old complete run or
    the new one (on Linux; elsewhere, for an instant between two renames, neither, with both
    complete beside it). So a folder with a `summary.json` is always a finished run. What
    killed runs left beside it is removed first (`clean_dead_runs`).

    Args:
        loaded: the validated scenario.
        out_dir: where the outputs go: a new folder, an empty one, or an earlier run's.
        strict: re-raise a policy's exception instead of isolating it.
        on_tick: called as on_tick(tick, ticks) after every tick (progress bars).
        on_step: called with each step of `STEPS` the run reaches (progress, and tests that
            stop a run at a given step).
        max_faults: stop the run at the end of the tick in which its policies' faults reach
            this many (None: never); nothing is written to `out_dir` then (a run already there
            stays as it was), as with any run that does not finish.

    Raises:
        FaultLimitReached: `max_faults` policy faults, naming the last.
        ScenarioError: `out_dir` is something other than a folder of a run's outputs (or an
            empty folder), or could not be replaced.
    """
    sc = loaded.scenario
    step = on_step or (lambda _: None)
    out = Path(out_dir)
    _check_out(out)
    # Recorded in the manifest: serialised before the first tick, so a scenario the manifest
    # could not hold fails now, not after the last tick (validate_scenario refuses it first).
    config = sc.model_dump(mode="json")
    canonical = json.dumps(config, sort_keys=True).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    _outdir.clean_dead(out.parent)
    tmp = _outdir.temp_path(out)
    _outdir.remove(tmp)
    tmp.mkdir()
    built = None
    try:
        built = build(loaded, recorder=Recorder(tmp), strict=strict)
        model = built.model
        # the llm agents' log (llm.jsonl) and their run's budget (agents.builtin.llm)
        outputs = [*OUTPUTS, LLM_LOG] if bind_llm_run(built.agents, tmp) else list(OUTPUTS)
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
            "outputs": outputs,
            "config": config,
        }
        _dump(manifest, tmp / "manifest.json")
        step("built")
        _check_faults(model, max_faults)
        for tick in range(1, sc.ticks + 1):
            model.step()
            _check_faults(model, max_faults)
            if on_tick is not None:
                on_tick(tick, sc.ticks)
        step("played")
        summary = {"scenario": sc.name, "seed": sc.seed, "ledger": sc.ledger.backend,
                   **model.finish()}
        _dump(summary_json(summary), tmp / "summary.json")
        step("written")
        _check_out(out)
        _outdir.replace(tmp, out, step)
    except OSError as e:
        if (tmp / "summary.json").exists():
            raise ScenarioError(str(out), "", f"could not be replaced ({e}); the finished "
                                f"run is in {tmp}") from None
        _outdir.remove(tmp)
        raise
    except BaseException:
        _outdir.remove(tmp)
        raise
    finally:
        if built is not None:
            built.close()
    step("done")
    return RunResult(out_dir=out, summary=summary, manifest=manifest)
