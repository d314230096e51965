"""Calibrating a scenario's parameters to observed data: the method of simulated moments.

`calibrate` searches a box of parameters for the values whose simulated moments or time series
come closest to a target (`load_target`), and says how well the data pin them down
(docs/calibration.md has the formats, the loss and the uncertainty in full):

* every candidate runs on the same seeds (common random numbers) over the sweep executor, into
  DIR/runs/<run_id> keyed by (scenario, point, seed): a rerun reuses every finished run;
* loss: sum_k w_k ((sim_k - obs_k) / s_k)^2, sim_k the mean over seeds, money in tokens, s_k
  fixed (|obs_k| or the target's scale); a series column adds the mean of its ticks' terms;
* search: optuna's TPE sampler, `workers` candidates per batch (ask/tell), then NEWTON_STEPS
  Gauss-Newton steps on a quadratic metamodel of the moments around the best;
* uncertainty: MSM standard errors from the curvature of a quadratic fitted to the loss
  around the best and fresh runs of the best point (the data's noise, Omega): best -+ z sd.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from sweeps.plan import SweepError, apply_point, column_of, parse_range
from twinecon.errors import TwineconError, suggest

__all__ = ["LEVEL", "NEWTON_STEPS", "Bound", "Calibration", "Estimate", "MomentFit", "Target",
           "TrialRecord", "calibrate", "load_target", "parse_param", "summary_moments"]

#: The coverage of the intervals (normal quantiles of the standard errors).
LEVEL = 0.9
#: Candidates after the TPE trials, each a Gauss-Newton step from the best on a metamodel.
NEWTON_STEPS = 3


def summary_moments(summary: Mapping[str, Any]) -> dict[str, float]:
    """Every numeric leaf of a run's summary.json, named as `results.parquet` names it (nested
    keys joined by underscores, `markets_compute_price_per_cu_mean`), as floats: money in
    tokens (base units, an int or a decimal string, / 10^decimals; a `<name>_tokens` twin is
    tokens already), counts and rates as they are, None as NaN."""
    from economy.summary import is_money

    scale = 10 ** int(summary.get("decimals", 18))
    out: dict[str, float] = {}

    def walk(obj: Any, path: tuple[str, ...]) -> None:
        if isinstance(obj, dict):
            for key in sorted(obj):
                walk(obj[key], (*path, str(key)))
        elif path and isinstance(obj, int | str) and not isinstance(obj, bool) \
                and is_money(path):  # int / int: correctly rounded
            out["_".join(path)] = int(obj) / scale if str(obj).lstrip("-").isdigit() else math.nan
        elif path and (obj is None or isinstance(obj, bool | int | float)):
            out["_".join(path)] = math.nan if obj is None else float(obj)

    walk(dict(summary), ())
    return out


@dataclass(frozen=True)
class Bound:
    """One calibrated parameter: a dotted scenario path and its box [low, high], in the
    scenario's unit (tokens for token amounts); `integer`: the scenario holds an int there."""

    key: str
    low: float
    high: float
    integer: bool = False


def parse_param(text: str, loaded: Any) -> Bound:
    """`key=lo:hi` → a Bound, checked against the scenario `loaded` (a LoadedScenario): the key
    names a number (or a new param), and the scenario validates and builds at both bounds.

    Raises:
        SweepError: not key=lo:hi with lo < hi, an unknown key, a non-numeric value there, an
            integer range without two integers, or a bound the scenario refuses.
    """
    from dataclasses import replace

    from scenarios.build import check
    from scenarios.loading import validate_scenario
    from scenarios.overrides import value_at
    from scenarios.schema import MOVED_KEYS, is_token_amount

    data, source = loaded.scenario.model_dump(mode="json"), loaded.source

    try:
        key, low, high = parse_range(text)
    except SweepError:
        raise SweepError(f"--param {text!r}: expected key=lo:hi with lo < hi (for example "
                         "--param economy.time_value_per_h=10:60)") from None
    current = value_at(data, key)
    token = is_token_amount(MOVED_KEYS.get(key, key))  # tokens: an int or a decimal string
    if not token and isinstance(current, bool | str | list | dict):
        raise SweepError(f"--param {text!r}: {source} holds {current!r} at {key}; only "
                         "numbers are calibrated")
    integer = not token and isinstance(current, int)
    if integer:
        low, high = float(math.ceil(low)), float(math.floor(high))
        if not low < high:
            raise SweepError(f"--param {text!r}: {key} is an integer in {source}, and the "
                             "range holds fewer than two integers")
    for value in (low, high):
        point = {key: int(value) if integer else value}
        try:
            check(replace(loaded, scenario=validate_scenario(apply_point(data, point, source),
                                                             source)))
        except TwineconError as e:
            raise SweepError(f"--param {text!r}: the scenario refuses {key}={point[key]}: "
                             f"{e}") from None
    return Bound(key=key, low=low, high=high, integer=integer)


@dataclass(frozen=True)
class Target:
    """Observed data, as `calibrate` compares it. `observed` is flat: for moments one value
    per name, (M,); for a series name-major, (M * T,): name 0 at every tick of `ticks`, then
    name 1, ... Money in tokens; NaN where a series is undefined. `weights` and `scales` are
    per name, (M,), scales in the names' units. `ticks` is () for moments."""

    path: str
    kind: str  # "moments" or "series"
    names: tuple[str, ...]
    observed: tuple[float, ...]
    weights: tuple[float, ...]
    scales: tuple[float, ...]
    ticks: tuple[int, ...] = ()

    @property
    def per_name(self) -> int:
        """Cells of each name: T for a series, 1 for moments."""
        return len(self.ticks) if self.kind == "series" else 1


def _column(table: Any, name: str, decimals: int, where: str) -> np.ndarray:
    """A numeric parquet column as floats; decimal128 (base units) in tokens."""
    import pyarrow as pa

    column = table.column(name)
    if pa.types.is_decimal(column.type):
        return np.array([math.nan if v is None else int(v) / 10**decimals
                         for v in column.to_pylist()], dtype=np.float64)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise SweepError(f"--target {where}: column {name} is not numeric ({column.type})")
    return np.array(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _scale(values: np.ndarray) -> float:
    """|value| of a moment, root mean square of a series (NaN left out); 1 where it is 0."""
    rms = float(np.sqrt(np.mean(values[~np.isnan(values)] ** 2)))
    return rms if rms > 0 else 1.0


def load_target(path: str | Path, *, fit: Sequence[str] = (), decimals: int = 18) -> Target:
    """Read observed data: moments (a parquet of `moment`, `value` in tokens for money,
    optional `weight` >= 0 and `scale` > 0) or a time series (a parquet of `tick` and columns
    named like ticks.parquet's; decimal128 columns are base units, other money is tokens).

    Args:
        fit: the names to fit (default: every moment or column of the file).
        decimals: the token's decimals, for decimal128 (base-unit) columns.

    Raises:
        SweepError: no such file, not parquet, neither format, an unknown name, a bad value.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    where, file = str(path), Path(path)
    if not file.is_file():
        raise SweepError(f"--target {where}: no such file")
    try:
        table = pq.read_table(file)
    except (OSError, pa.ArrowException) as e:
        raise SweepError(f"--target {where}: not a parquet file ({e})") from None
    columns = table.column_names
    if "moment" in columns and "value" in columns:
        names = [str(m) for m in table.column("moment").to_pylist()]
        if len(set(names)) != len(names):
            raise SweepError(f"--target {where}: a moment is listed twice")
        values = _column(table, "value", 0, where)
        weights, scales = (_column(table, c, 0, where) if c in columns
                           else np.full(len(names), d)
                           for c, d in (("weight", 1.0), ("scale", math.nan)))
        table = None
    elif "tick" in columns:
        names = [c for c in columns if c != "tick"]
    else:
        raise SweepError(f"--target {where}: expected moments (columns moment, value) or a "
                         f"time series (a tick column); it has {', '.join(columns)}")
    unknown = [n for n in fit if n not in names]
    if unknown:
        raise SweepError(f"--fit {unknown[0]}: not in {where}{suggest(unknown[0], names)}; "
                         f"it has {', '.join(names)}")
    chosen = list(dict.fromkeys(fit)) if fit else names
    if table is not None:
        return _series_target(where, table, chosen, decimals)
    index = [names.index(n) for n in chosen]
    values, weights, scales = values[index], weights[index], scales[index]
    for name, v, w, s in zip(chosen, values, weights, scales, strict=True):
        problem = ("has no value" if not math.isfinite(v) else
                   "needs a weight >= 0" if not (math.isfinite(w) and w >= 0) else
                   "needs a scale > 0" if not (math.isnan(s) or 0 < s < math.inf) else "")
        if problem:
            raise SweepError(f"--target {where}: moment {name} {problem} (value {v}, weight "
                             f"{w}, scale {s})")
    scales = np.where(np.isnan(scales), [_scale(np.array([v])) for v in values], scales)
    return Target(path=where, kind="moments", names=tuple(chosen),
                  observed=tuple(map(float, values)), weights=tuple(map(float, weights)),
                  scales=tuple(map(float, scales)))


def _series_target(where: str, table: Any, names: list[str], decimals: int) -> Target:
    from economy.tables import TICKS_SCHEMA

    available = [n for n in TICKS_SCHEMA.names if n != "tick"]
    for name in names:
        if name not in available:
            raise SweepError(f"--target {where}: column {name!r} is not a ticks.parquet column"
                             f"{suggest(name, available)}; they are {', '.join(available)}")
    ticks = [int(t) for t in table.column("tick").to_pylist()]
    if not ticks or min(ticks) < 0 or len(set(ticks)) != len(ticks):
        raise SweepError(f"--target {where}: the tick column must hold distinct ticks >= 0")
    cells = [_column(table, name, decimals, where)[np.argsort(ticks)] for name in names]
    for name in (n for n, c in zip(names, cells, strict=True) if np.isnan(c).all()):
        raise SweepError(f"--target {where}: column {name} has no values (all NaN); leave it "
                         "out with --fit")
    return Target(path=where, kind="series", names=tuple(names),
                  observed=tuple(map(float, np.concatenate(cells))),
                  weights=(1.0,) * len(names), scales=tuple(_scale(c) for c in cells),
                  ticks=tuple(sorted(ticks)))


def _nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean over `axis` leaving NaN out (NaN where every value is), without warnings."""
    defined = ~np.isnan(a)
    total, count = np.where(defined, a, 0.0).sum(axis=axis), defined.sum(axis=axis)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def _terms(y: np.ndarray, obs: np.ndarray, target: Target) -> np.ndarray:
    """Weighted loss terms of runs y (S, C) against obs (C,): (M,), each name's mean over its
    cells of ((mean over runs - observed) / scale)^2; NaN where no cell is defined on both
    sides (the MSM criterion with a fixed diagonal weighting, money in tokens)."""
    sq = ((_nanmean(y, axis=0) - obs) / np.repeat(np.asarray(target.scales), target.per_name))
    return _nanmean(sq.reshape(len(target.names), -1) ** 2, axis=-1) * np.asarray(target.weights)


def _run_cells(run_dir: Path, target: Target) -> tuple[np.ndarray, set[str]]:
    """A finished run's cells (C,) in the target's units, and the names the run has."""
    summary = json.loads((run_dir / "summary.json").read_text())
    if target.kind == "moments":
        moments = summary_moments(summary)
        return np.array([moments.get(n, math.nan) for n in target.names]), set(moments)
    import pyarrow.parquet as pq

    table = pq.read_table(run_dir / "ticks.parquet", columns=["tick", *target.names])
    row = {int(t): i for i, t in enumerate(table.column("tick").to_pylist())}
    index = np.array([row.get(t, -1) for t in target.ticks])  # -1: the NaN appended below
    cells = [np.append(_column(table, n, int(summary["decimals"]), str(run_dir)),
                       math.nan)[index] for n in target.names]
    return np.concatenate(cells), set(table.column_names)


@contextmanager
def _session(loaded: Any, executor: str, workers: int, address: str | None) -> Iterator[None]:
    """One Ray instance for the whole calibration. Local workers are forked for each batch, so
    what a run loads on first use is loaded here first: pandas, and by `scenarios.build.check`
    (which `parse_param` ran) the policies and the twin."""
    if executor != "ray":
        import pandas  # noqa: F401

        yield
        return
    try:
        import ray
    except ImportError as e:
        raise SweepError("the ray executor needs Ray: pip install 'twinecon[ray]'") from e
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = not ray.is_initialized()
    if started:
        ray.init(**({"address": address} if address else {"num_cpus": workers}),
                 include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        yield
    finally:
        if started:
            ray.shutdown()


@dataclass(frozen=True)
class TrialRecord:
    """One candidate: parameters (scenario units), loss (None if its runs failed or a name was
    undefined on every seed), each name's weighted term, who proposed it (tpe, newton)."""

    number: int
    params: dict[str, float]
    loss: float | None
    terms: dict[str, float]
    error: str = ""
    source: str = "tpe"


@dataclass(frozen=True)
class Estimate:
    """A parameter's best value and standard error `sd`, in the scenario's unit (sd None
    without fresh runs, inf if the data do not identify the parameter)."""

    key: str
    best: float
    sd: float | None

    @property
    def interval(self) -> tuple[float, float] | None:
        """best -+ z sd, LEVEL coverage (it may reach beyond the search box)."""
        if self.sd is None or not math.isfinite(self.sd):
            return None
        half = NormalDist().inv_cdf(0.5 + LEVEL / 2) * self.sd
        return self.best - half, self.best + half


@dataclass(frozen=True)
class MomentFit:
    """How the best point fits one target name (for a series, `observed` and `simulated` are
    means over the `n` ticks compared); `term`: the name's weighted share of the loss."""

    name: str
    observed: float
    simulated: float
    difference: float  # simulated - observed
    scale: float
    weight: float
    term: float
    n: int


@dataclass(frozen=True)
class Calibration:
    """What `calibrate` found. Parameters in the scenario's units, money in tokens.

    Attributes:
        best, best_trial, loss: the trial of least loss on the calibration seeds.
        loss_fresh: the loss of the mean of the fresh runs of the best point (None without
            them); much above `loss` when the search fitted the calibration seeds' noise.
        estimates: per parameter its best value, standard error and interval; note: how the
            standard errors were found, or why there are none.
        fit: per target name, how the best point fits. trials: every trial, in order.
    """

    scenario: str
    source: str
    target: Target
    bounds: tuple[Bound, ...]
    seeds: tuple[int, ...]
    fresh_seeds: tuple[int, ...]
    sampler_seed: int
    best: dict[str, float]
    best_trial: int
    loss: float
    loss_fresh: float | None
    estimates: tuple[Estimate, ...]
    note: str
    fit: tuple[MomentFit, ...]
    trials: tuple[TrialRecord, ...]
    out_dir: Path

    def describe(self) -> dict[str, Any]:
        """calibration.json."""
        return {
            "scenario": self.scenario, "source": self.source, "target": vars(self.target),
            "params": [vars(b) for b in self.bounds], "seeds": list(self.seeds),
            "fresh_seeds": list(self.fresh_seeds), "search": {
                "sampler": "optuna TPE, multivariate, constant liar", "seed": self.sampler_seed,
                "newton_steps": NEWTON_STEPS},
            "best": {"params": self.best, "trial": self.best_trial, "loss": self.loss,
                     "loss_fresh": self.loss_fresh},
            "uncertainty": {
                "method": "MSM sandwich: loss curvature (response surface), Omega from fresh runs",
                "level": LEVEL, "note": self.note, "sd": {e.key: e.sd for e in self.estimates},
                "intervals": {e.key: e.interval for e in self.estimates}},
            "fit": [vars(f) for f in self.fit],
            "trials": [vars(t) for t in self.trials],
        }


@dataclass
class _Search:
    """The trials of one calibration: their runs (over the sweep executor) and scores."""

    data: dict[str, Any]
    source: str
    base_dir: str
    runs_dir: Path
    dispatch: tuple[str, int, str | None]  # executor, workers, address
    target: Target
    seeds: list[int]
    on_trial: Callable[[TrialRecord, int, int], None] | None
    total: int

    def __post_init__(self) -> None:
        self.obs = np.asarray(self.target.observed)
        self.records: list[TrialRecord] = []
        self.cells: dict[int, np.ndarray] = {}  # trial number → (S, C)

    def run_id(self, point: dict[str, Any], seed: int) -> str:
        key = json.dumps({"scenario": self.data, "point": point, "seed": seed},
                         sort_keys=True, default=str)
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def run(self, points: list[dict[str, Any]],
            seeds: Sequence[int]) -> list[tuple[np.ndarray, str, set[str]]]:
        """Each point on every seed (runs finished or failed before are not redone): per point
        its cells (S, C) (NaN rows for failed runs), the first error, the names its runs have."""
        from sweeps.engine import _dispatch

        args, planned = [], set()
        for point in points:
            applied = apply_point(self.data, point, self.source)
            for seed in seeds:
                run_id = self.run_id(point, seed)
                if not (run_id in planned or (self.runs_dir / run_id / "summary.json").exists()
                        or (self.runs_dir / f"{run_id}.failed.json").exists()):
                    args.append((run_id, {**applied, "seed": seed}, self.source,
                                 self.base_dir, str(self.runs_dir)))
                planned.add(run_id)
        list(_dispatch(*self.dispatch, args))  # each run writes its folder (or .failed.json)
        out = []
        for point in points:
            rows, errors, names = [], [], set()
            for seed in seeds:
                run_dir = self.runs_dir / self.run_id(point, seed)
                if (run_dir / "summary.json").exists():
                    cells, have = _run_cells(run_dir, self.target)
                    rows.append(cells)
                    names |= have
                else:
                    failed = self.runs_dir / f"{run_dir.name}.failed.json"
                    errors.append(json.loads(failed.read_text()).get("error", "failed")
                                  if failed.exists() else "no output")
                    rows.append(np.full(len(self.obs), math.nan))
            out.append((np.stack(rows), (errors or [""])[0], names))
        return out

    def evaluate(self, points: list[dict[str, Any]], source: str) -> list[TrialRecord]:
        """Run each point on the calibration seeds and record it as a trial."""
        results = self.run(points, self.seeds)
        if not self.records:
            self.check_names(results)
        for point, (y, error, _) in zip(points, results, strict=True):
            terms = _terms(y, self.obs, self.target)
            loss, number = float(terms.sum()), len(self.records)
            if math.isnan(loss):
                undefined = (n for n, v in zip(self.target.names, terms, strict=True)
                             if math.isnan(v))
                record = TrialRecord(number, point, None, {}, error or "undefined on every "
                                     f"seed: {', '.join(undefined)}", source)
            else:
                self.cells[number] = y
                record = TrialRecord(number, point, loss, dict(zip(  # error: a seed that failed
                    self.target.names, map(float, terms), strict=True)), error, source)
            self.records.append(record)
            if self.on_trial is not None:
                self.on_trial(record, len(self.records), self.total)
        return self.records[-len(points):]

    def check_names(self, results: list[tuple[np.ndarray, str, set[str]]]) -> None:
        """Every target name must be in some run of the first batch (one run may lack a leaf,
        as a group's without completions); else the error lists the names the runs have."""
        have: set[str] = set().union(*(names for _, _, names in results))
        if not have:
            raise SweepError(f"every run of the first candidates failed: {results[0][1]}")
        what = "moment" if self.target.kind == "moments" else "column"
        for name in (n for n in self.target.names if n not in have):
            listed = sorted(have - {"tick"}, key=lambda n: (len(n), n))  # the short ones first
            listed = [*listed[:60], f"... ({len(listed) - 60} more)"][:len(listed)]
            raise SweepError(f"--target {self.target.path}: {what} {name!r} is not in the runs' "
                             f"{'summary.json' if what == 'moment' else 'ticks.parquet'}"
                             f"{suggest(name, listed)}; they have {', '.join(listed)}")

    def ranked(self) -> list[TrialRecord]:
        """The trials with a loss, least loss first."""
        return sorted((r for r in self.records if r.loss is not None),
                      key=lambda r: (r.loss, r.number))


def calibrate(loaded: Any, target: Target, bounds: Sequence[Bound], *, out_dir: str | Path,
              seeds: int = 2, trials: int = 32, workers: int = 1, executor: str = "local",
              address: str | None = None, sampler_seed: int = 0, noise_seeds: int = 10,
              on_trial: Callable[[TrialRecord, int, int], None] | None = None) -> Calibration:
    """Fit `bounds` of the scenario `loaded` (a `scenarios.LoadedScenario`, overrides applied)
    to `target`, then write `out_dir/calibration.json` and `out_dir/trials.parquet`.

    Args:
        seeds: runs per candidate, on the scenario's seed, +1, ... (the same for every one).
        trials: candidates the TPE sampler proposes, in batches of `workers`; up to
            NEWTON_STEPS Gauss-Newton candidates follow.
        executor, workers, address: where runs execute (as `twinecon sweep`).
        sampler_seed: the sampler's seed: the same call, the same result.
        noise_seeds: fresh runs of the best point for the standard errors (0: none).
        on_trial: called as (trial, done, total) after each trial.

    Raises:
        SweepError: a bad argument, a target name the runs do not have, a target tick beyond
            the run, or no trial with a defined loss.
    """
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution

    from scenarios.run import clean_dead_runs

    for name, value, least in (("--seeds", seeds, 1), ("--trials", trials, 1),
                               ("--workers", workers, 1), ("--noise-seeds", noise_seeds, 0)):
        if value < least:
            raise SweepError(f"{name} must be at least {least}, got {value}")
    keys = [b.key for b in bounds]
    if not keys or len(set(keys)) != len(keys):
        raise SweepError(f"name each parameter once: --param key=lo:hi (got {keys})")
    data = loaded.scenario.model_dump(mode="json")
    if target.ticks and target.ticks[-1] > data["ticks"]:
        raise SweepError(f"--target {target.path}: it reaches tick {target.ticks[-1]}, the "
                         f"scenario runs {data['ticks']} ticks (set --ticks)")
    out = Path(out_dir)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    clean_dead_runs(out / "runs")
    base = int(data.get("seed", 0))
    search = _Search(data, loaded.source, str(loaded.base_dir), out / "runs",
                     (executor, workers, address), target, [base + k for k in range(seeds)],
                     on_trial, trials + NEWTON_STEPS)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists: dict[str, Any] = {b.key: IntDistribution(int(b.low), int(b.high)) if b.integer
             else FloatDistribution(b.low, b.high) for b in bounds}
    with _session(loaded, executor, workers, address), warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # multivariate
        study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(
            seed=sampler_seed, n_startup_trials=max(workers, min(10, trials // 3)),
            multivariate=True, constant_liar=True))
        while len(search.records) < trials:
            asked = [study.ask(dists) for _ in range(min(workers, trials - len(search.records)))]
            records = search.evaluate([{k: t.params[k] for k in keys} for t in asked], "tpe")
            for trial, record in zip(asked, records, strict=True):
                study.tell(trial, record.loss, state=optuna.trial.TrialState.FAIL
                           if record.loss is None else optuna.trial.TrialState.COMPLETE)
        if not search.ranked():
            raise SweepError(f"no trial has a defined loss; the first failed with: "
                             f"{search.records[0].error}")
        for _ in range(NEWTON_STEPS):
            point = _newton(bounds, search)
            if point is None:
                break
            search.evaluate([point], "newton")
        best = search.ranked()[0]
        fresh_seeds = [base + seeds + k for k in range(noise_seeds)]
        y = (search.run([best.params], fresh_seeds)[0][0] if fresh_seeds
             else np.empty((0, len(search.obs))))
        fresh = y[~np.isnan(y).all(axis=1)]  # (R, C): the fresh runs that finished
    estimates, note = _uncertainty(bounds, search, fresh, seeds)
    loss_fresh = float(_terms(fresh, search.obs, target).sum()) if len(fresh) else math.nan
    result = Calibration(
        scenario=data["name"], source=loaded.source, target=target, bounds=tuple(bounds),
        seeds=tuple(search.seeds), fresh_seeds=tuple(fresh_seeds), sampler_seed=sampler_seed,
        best=dict(best.params), best_trial=best.number, loss=float(best.loss or 0.0),
        loss_fresh=None if math.isnan(loss_fresh) else loss_fresh, estimates=estimates,
        note=note, fit=_fit(search.cells[best.number], search.obs, target),
        trials=tuple(search.records), out_dir=out)
    _write(result, out)
    return result


@dataclass(frozen=True)
class _Surface:
    """A quadratic fitted to the loss of the better half of the trials (`local`, their mean
    cells `sim` (n, C)), in x = (parameters - best) / box width: loss ~ c + b'x + x'hx/2 (h
    positive definite), `design` (n, q) the quadratic's terms at each trial."""

    design: np.ndarray
    h: np.ndarray  # (p, p)
    local: list[TrialRecord]
    sim: np.ndarray


def _surface(bounds: Sequence[Bound], search: _Search) -> _Surface | str:
    """The response surface of the loss around the best trial, or why there is none."""
    ranked, p = search.ranked(), len(bounds)
    pairs = [(i, j) for i in range(p) for j in range(i, p)]
    for local in (ranked[:max(2 * (1 + p + len(pairs)), math.ceil(len(ranked) / 2))], ranked):
        x = np.array([[r.params[b.key] - ranked[0].params[b.key] for b in bounds]
                      for r in local]) / np.array([b.high - b.low for b in bounds])
        design = np.column_stack([np.ones(len(local)), x, *(x[:, i] * x[:, j] for i, j in pairs)])
        if len(local) > design.shape[1] and np.linalg.matrix_rank(design) == design.shape[1]:
            break
    else:
        return "not identified: too few trials, or trials that do not vary every parameter"
    coef = np.linalg.lstsq(design, np.array([r.loss for r in local], float), rcond=None)[0]
    h = np.zeros((p, p))
    for (i, j), c in zip(pairs, coef[1 + p:], strict=True):
        h[i, j] = h[j, i] = 2 * c if i == j else c
    if np.linalg.eigvalsh(h).min() <= 1e-9 * np.abs(h).max():
        return "not identified: the loss is flat, or not convex, around the best"
    sim = np.stack([_nanmean(search.cells[r.number], axis=0) for r in local])
    return _Surface(design, h, local, sim)


def _weights(target: Target, use: np.ndarray) -> np.ndarray:
    """The loss's weight of each cell in `use`: w / (scale^2 n), n its name's cells used."""
    group = np.repeat(np.arange(len(target.names)), target.per_name)[use]
    return np.asarray(target.weights)[group] / (np.asarray(target.scales)[group] ** 2
                                                * np.bincount(group)[group])


def _newton(bounds: Sequence[Bound], search: _Search) -> dict[str, Any] | None:
    """A Gauss-Newton step from the best trial, (G'WG)^-1 G'W (obs - fit), the cells fitted by
    quadratics in x over the surface's trials (G their slopes at the best), within the box
    (integers rounded); None without a surface or at a point already tried."""
    surface = _surface(bounds, search)
    if isinstance(surface, str):
        return None
    use = ~(np.isnan(search.obs) | np.isnan(surface.sim).any(axis=0))
    coef = np.linalg.lstsq(surface.design, surface.sim[:, use], rcond=None)[0]
    g, w = coef[1:1 + len(bounds)].T, _weights(search.target, use)
    try:
        step = np.linalg.solve(g.T @ (w[:, None] * g), g.T @ (w * (search.obs[use] - coef[0])))
    except np.linalg.LinAlgError:
        return None
    best = search.ranked()[0].params
    point: dict[str, Any] = {}
    for b, dx in zip(bounds, step, strict=True):
        v = min(max(best[b.key] + dx * (b.high - b.low), b.low), b.high)
        point[b.key] = round(v) if b.integer else float(v)
    return None if any(r.params == point for r in search.records) else point


def _uncertainty(bounds: Sequence[Bound], search: _Search, fresh: np.ndarray,
                 n_seeds: int) -> tuple[tuple[Estimate, ...], str]:
    """The MSM standard errors and LEVEL intervals, and how they were found. A data set moved
    by d moves the estimate by 2 h^-1 grad_x sum_c w_c sim_c(x) d_c; each fresh run's
    deviation from their mean is one d (Omega), the gradient a fit over the surface's trials."""
    best, t, p = search.ranked()[0].params, search.target, len(bounds)
    surface = (_surface(bounds, search) if len(fresh) >= 2
               else "no standard errors: they need at least 2 fresh runs")
    if not isinstance(surface, str):
        sim = surface.sim
        use = ~(np.isnan(search.obs) | np.isnan(sim).any(axis=0) | np.isnan(fresh).any(axis=0))
        if not use.any():
            surface = "no standard errors: no moment is defined in every run"
    note = surface if isinstance(surface, str) else ""
    sd = [math.inf if "identified" in note else None] * p
    if not isinstance(surface, str):
        w = _weights(t, use)
        d = fresh[:, use] - fresh[:, use].mean(axis=0)  # (R, C'): data sets about their mean
        grads = np.linalg.lstsq(surface.design, (sim[:, use] * w) @ d.T, rcond=None)[0][1:1 + p]
        shifts = 2 * np.linalg.solve(surface.h, grads)  # (p, R), per box width
        cov = (1 + 1 / n_seeds) * np.atleast_2d(np.cov(shifts, ddof=1))
        sd = [float(math.sqrt(v) * (b.high - b.low)) for v, b in zip(np.diag(cov), bounds,
                                                                        strict=True)]
        note = (f"a quadratic fit over {len(surface.local)} trials, Omega from {len(fresh)} "
                f"fresh runs, {int(use.sum())} cells")
    return tuple(Estimate(b.key, best[b.key], s) for b, s in zip(bounds, sd, strict=True)), note


def _fit(y: np.ndarray, obs: np.ndarray, target: Target) -> tuple[MomentFit, ...]:
    """Per target name, observed and simulated (means over the ticks both define)."""
    sim, t = _nanmean(y, axis=0), target.per_name
    terms = _terms(y, obs, target)
    out = []
    for k, name in enumerate(target.names):
        o, s = obs[k * t:(k + 1) * t], sim[k * t:(k + 1) * t]
        both = ~(np.isnan(o) | np.isnan(s))
        om, sm = (float(o[both].mean()), float(s[both].mean())) if both.any() else (
            math.nan, math.nan)
        out.append(MomentFit(name, om, sm, sm - om, target.scales[k], target.weights[k],
                             float(terms[k]), int(both.sum())))
    return tuple(out)


def _write(result: Calibration, out: Path) -> None:
    """calibration.json and trials.parquet (one row per trial: trial, source, loss, error, the
    parameter columns, `term_<name>` per target name), each put in place atomically."""
    import pandas as pd

    plain = json.loads(json.dumps(result.describe(), default=float), parse_constant=lambda _: None)
    tmp = out / ".calibration.json.tmp"  # NaN and inf (not identified) above became null
    tmp.write_text(json.dumps(plain, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, out / "calibration.json")
    rows = [{"trial": t.number, "source": t.source, "loss": t.loss, "error": t.error or None,
             **{column_of(b.key): t.params[b.key] for b in result.bounds},
             **{f"term_{n}": t.terms.get(n, math.nan) for n in result.target.names}}
            for t in result.trials]
    tmp = out / ".trials.parquet.tmp"
    pd.DataFrame(rows).astype({"loss": "float64"}).to_parquet(tmp, index=False)
    os.replace(tmp, out / "trials.parquet")
