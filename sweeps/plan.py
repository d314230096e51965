"""Planning a sweep: parameter points (grid, zip, Sobol or random) times seeds, each run keyed.

A parameter is a dotted path into the scenario (`rules.fees.transfer_fee_bps`,
`economy.time_value_per_h`, `agents.2.params.candidates`); its results column is the path with
dots as underscores. A run is keyed by the hash of (scenario, parameter point, seed,
overrides), so the same command plans the same runs and a rerun finds what is done.

Every point uses the same seeds, and a run's seed drives all of the scenario's exogenous draws
(demand, twin futures) through the model's seed tree. Only the twin (its kind and params), the
length of a tick, the L2 physics rate and the population (groups, counts, roles, policies)
shape those draws; every other key (`rules.*`, `ledger.*`, `twin.licence_per_cu`, the
economy's values and limits, policy params) leaves them alone (`Param.exogenous` is False), so
points that differ only in such keys face the same demand per seed: common random numbers.

A point is recorded (in sweep.json, results.parquet and the progress lines) with the values
its runs used: a sampled float set where the scenario holds an int is the rounded int, a
token amount the tokens set (rounded to base units).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenarios.overrides import OverrideError, parse_value, shown_value, value_at
from scenarios.overrides import apply_point as _apply_point
from twinecon.errors import TwineconError

__all__ = ["Param", "PlannedRun", "SweepError", "SweepPlan", "column_of", "parse_range",
           "parse_set", "parse_value", "plan"]


class SweepError(TwineconError):
    """A sweep that cannot be planned or run as asked."""


def column_of(key: str) -> str:
    """The results column of a parameter key: dots become underscores."""
    return key.replace(".", "_")


def parse_set(text: str) -> tuple[str, list[Any]]:
    """`key=v1,v2,...` → (key, [values])."""
    key, sep, values = text.partition("=")
    if not sep or not key.strip() or not values.strip():
        raise SweepError(f"--set {text!r}: expected key=v1,v2,... (for example "
                         "--set rules.fees.transfer_fee_bps=0,50,100)")
    return key.strip(), [parse_value(v) for v in values.split(",") if v.strip()]


def parse_range(text: str) -> tuple[str, float, float]:
    """`key=lo:hi` → (key, lo, hi)."""
    key, sep, bounds = text.partition("=")
    lo, colon, hi = bounds.partition(":")
    try:
        low, high = _bound(lo), _bound(hi)
    except ValueError:
        low = high = float("nan")
    if not sep or not colon or not key.strip() or not low < high:
        raise SweepError(f"--range {text!r}: expected key=lo:hi with lo < hi (for example "
                         "--range economy.time_value_per_h=10:60, or token amounts as the "
                         "scenario writes them: --range twin.licence_per_cu=0:0.000001)")
    return key.strip(), low, high


def _bound(text: str) -> float:
    """A range bound: a number, or a token amount as a scenario writes it ("0.05 tokens",
    quoted or not)."""
    s = text.strip().strip("\"'").strip()
    s = s.removesuffix("tokens").removesuffix("token").strip().replace("_", "")
    return float(s)


@dataclass(frozen=True)
class Param:
    key: str
    values: tuple[Any, ...] = ()
    bounds: tuple[float, float] | None = None

    @property
    def column(self) -> str:
        return column_of(self.key)

    @property
    def rule(self) -> bool:
        """A protocol rule: a `[rules.*]` table's key, a `ledger.*` parameter, the twin's
        licence, or a market limit of `[economy]` (strikes, candidates per action)."""
        return self.key.startswith(_RULE_PREFIXES) or self.key in _RULE_KEYS

    @property
    def exogenous(self) -> bool:
        """Whether the parameter shapes the exogenous random draws (demand, twin conditions):
        the twin (but its licence), the tick's length, the physics rate, and the population
        (which groups there are, their counts, roles and policies). Every protocol rule, the
        economy's values and a policy's params leave the draws alone: points differing only
        in them share every draw per seed."""
        key = self.key
        if key == "seed" or key.startswith(("twin.", "economy.tick_ms", "economy.l2_hz")):
            return key != "twin.licence_per_cu"
        parts = key.split(".")
        if parts[0] == "agents":
            return not (len(parts) >= 3 and parts[2] in _AGENT_VALUES)
        return parts[0] in ("assets", "pools")  # who owns what is the population's


#: Keys of a protocol rule: by prefix, and one by one.
_RULE_PREFIXES = ("rules.", "ledger.")
_RULE_KEYS = frozenset({"twin.licence_per_cu", "economy.max_strikes",
                        "economy.max_candidates"})
#: An agent group's keys that change what its agents do or hold, not who they are.
_AGENT_VALUES = frozenset({"params", "balance", "isolation", "time_limit_ms",
                           "memory_limit_mb"})


@dataclass(frozen=True)
class PlannedRun:
    run_id: str
    point_id: str
    point_index: int
    seed: int
    point: dict[str, Any]
    data: dict[str, Any]  # the full scenario data of this run, ready to validate


@dataclass
class SweepPlan:
    scenario: str
    source: str
    scenario_sha256: str
    design: str
    params: list[Param]
    seeds: list[int]
    overrides: dict[str, Any]
    runs: list[PlannedRun] = field(default_factory=list)
    sobol: dict[str, Any] | None = None

    def describe(self) -> dict[str, Any]:
        """sweep.json: what was planned (the runs without their scenario data)."""
        params = []
        for p in self.params:
            entry: dict[str, Any] = {"key": p.key, "column": p.column, "rule": p.rule,
                                     "exogenous": p.exogenous}
            if p.bounds is not None:
                entry["range"] = list(p.bounds)
            else:
                entry["values"] = list(p.values)
            params.append(entry)
        out: dict[str, Any] = {
            "scenario": self.scenario, "source": self.source,
            "scenario_sha256": self.scenario_sha256, "design": self.design, "params": params,
            "rules": [p.column for p in self.params if p.rule],
            "exogenous": [p.column for p in self.params if p.exogenous], "seeds": self.seeds,
            "overrides": self.overrides,
            "runs": [{"run_id": r.run_id, "point_id": r.point_id, "point_index": r.point_index,
                      "seed": r.seed, "point": r.point} for r in self.runs],
        }
        if self.sobol is not None:
            out["sobol"] = self.sobol
        return out


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def apply_point(data: dict[str, Any], point: dict[str, Any], source: str) -> dict[str, Any]:
    """A copy of the scenario data with each parameter set (scenarios.overrides.apply_point,
    its errors as SweepError)."""
    try:
        return _apply_point(data, point, source)
    except OverrideError as e:
        raise SweepError(str(e)) from None


def plan(data: dict[str, Any], *, scenario: str, source: str, sets: list[str],
         zip_values: bool = False, sample: str | None = None, ranges: list[str] | None = None,
         seeds: int = 1, overrides: dict[str, Any] | None = None) -> SweepPlan:
    """Plan every run of a sweep over the scenario data `data` (overrides already applied).

    Args:
        sets: `key=v1,v2,...` lists: a full grid (their cartesian product), or with
            `zip_values` paired element by element.
        sample: "sobol:N" (Saltelli/Sobol sequence through SALib, N*(D+2) points) or
            "random:N" (N uniform points), over `ranges`.
        ranges: `key=lo:hi` bounds of the sampled parameters.
        seeds: runs per point; seeds are the scenario's seed, seed+1, ...
    """
    if seeds < 1:
        raise SweepError(f"--seeds must be at least 1, got {seeds}")
    ranges = ranges or []
    base_seed = int(data.get("seed", 0))
    seed_list = [base_seed + k for k in range(seeds)]
    sobol_info = None
    if sample:
        if sets:
            raise SweepError("--sample draws points over --range bounds; it cannot be combined "
                             "with --set (fix a parameter by editing the scenario instead)")
        kind, _, count = sample.partition(":")
        if kind not in ("sobol", "random") or not count.isdigit() or int(count) < 1:
            raise SweepError(f"--sample {sample!r}: expected sobol:N or random:N with N >= 1")
        if not ranges:
            raise SweepError("--sample needs at least one --range key=lo:hi")
        bounded = [parse_range(r) for r in ranges]
        params = [Param(key=k, bounds=(lo, hi)) for k, lo, hi in bounded]
        n = int(count)
        if kind == "sobol":
            from SALib.sample import sobol as sobol_sample

            problem = {"num_vars": len(params), "names": [p.column for p in params],
                       "bounds": [list(p.bounds) for p in params]}  # type: ignore[arg-type]
            matrix = sobol_sample.sample(problem, n, calc_second_order=False, seed=0)
            sobol_info = {"n": n, "calc_second_order": False, "problem": problem}
        else:
            rng = np.random.default_rng(0)
            lows = np.array([p.bounds[0] for p in params])  # type: ignore[index]
            highs = np.array([p.bounds[1] for p in params])  # type: ignore[index]
            matrix = lows + rng.random((n, len(params))) * (highs - lows)
        points = [{p.key: float(v) for p, v in zip(params, row, strict=True)} for row in matrix]
        design = kind
    else:
        if ranges:
            raise SweepError("--range bounds a sampled parameter; add --sample sobol:N or "
                             "random:N, or give values with --set key=v1,v2")
        parsed = [parse_set(s) for s in sets]
        keys = [k for k, _ in parsed]
        if len(set(keys)) != len(keys):
            raise SweepError(f"--set names a parameter twice: {keys}")
        params = [Param(key=k, values=tuple(v)) for k, v in parsed]
        if zip_values:
            lengths = {len(v) for _, v in parsed}
            if len(lengths) > 1:
                raise SweepError("--zip pairs the --set lists element by element, so they must "
                                 f"have the same length; got {sorted(lengths)}")
            combos = list(zip(*[v for _, v in parsed], strict=True)) if parsed else [()]
        else:
            combos = list(itertools.product(*[v for _, v in parsed]))
        points = [dict(zip(keys, combo, strict=True)) for combo in combos]
        design = "zip" if zip_values else "grid"
    overrides = dict(overrides or {})
    scenario_sha = _digest(data)
    sweep = SweepPlan(scenario=scenario, source=source, scenario_sha256=scenario_sha,
                      design=design, params=params, seeds=seed_list, overrides=overrides,
                      sobol=sobol_info)
    for index, point in enumerate(points):
        applied = apply_point(data, point, source)
        # ids hash the point as asked (so a sweep planned before keeps its runs); the point
        # is recorded as the runs use it
        used = {k: shown_value(k, value_at(applied, k)) for k in point}
        point_id = _digest({"scenario": scenario_sha, "point": point})[:16]
        for seed in seed_list:
            run_data = {**applied, "seed": seed}
            run_id = _digest({"scenario": scenario_sha, "point": point, "seed": seed})[:16]
            sweep.runs.append(PlannedRun(run_id=run_id, point_id=point_id, point_index=index,
                                         seed=seed, point=used, data=run_data))
    return sweep
