"""scenarios: scenario files, validation, building, running and the command line."""

from scenarios.build import Built, build
from scenarios.errors import ScenarioError
from scenarios.loading import LoadedScenario, builtin_names, find_scenario, load_scenario
from scenarios.run import OUTPUTS, RunResult, apply_overrides, run_scenario
from scenarios.schema import Scenario, to_base_units

__all__ = [
    "OUTPUTS",
    "Built",
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
