"""scenarios: scenario files, validation, building, running and the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twinecon.lazy import lazy_exports

if TYPE_CHECKING:
    from scenarios.build import Built, build
    from scenarios.errors import FaultLimitReached, ScenarioError
    from scenarios.loading import LoadedScenario, builtin_names, find_scenario, load_scenario
    from scenarios.run import OUTPUTS, RunResult, apply_overrides, run_scenario
    from scenarios.schema import Scenario, to_base_units

__all__ = [
    "OUTPUTS",
    "Built",
    "FaultLimitReached",
    "LoadedScenario",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "apply_overrides",
    "build",
    "builtin_names",
    "find_scenario",
    "load_scenario",
    "run_scenario",
    "to_base_units",
]

# Imported at first use (twinecon.lazy), so `import scenarios` loads none of its modules.
__getattr__, __dir__ = lazy_exports(__name__, {
    "scenarios.build": ("Built", "build"),
    "scenarios.errors": ("FaultLimitReached", "ScenarioError"),
    "scenarios.loading": ("LoadedScenario", "builtin_names", "find_scenario", "load_scenario"),
    "scenarios.run": ("OUTPUTS", "RunResult", "apply_overrides", "run_scenario"),
    "scenarios.schema": ("Scenario", "to_base_units"),
})
