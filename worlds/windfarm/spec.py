"""Build the spec of a wind farm whose turbine components fail, degrade and get maintained.

A farm has ``n_turbines`` identical turbines of ``rated_power_kw`` producing on average
``capacity_factor_bps`` of rated power while running. Each turbine has the same components
(by default rotor, main_bearing, gearbox, generator: component id = position in the list),
each with one failure model:

- ``{"model": "weibull", "shape_milli", "scale_h"}``: lifetime ``T ~ Weibull(k, eta)`` with
  ``k = shape_milli / 1000`` and ``eta = scale_h`` hours; ``R(t) = exp(-(t/eta)^k)``, mean
  ``eta * Gamma(1 + 1/k)``. ``k > 1`` is wear-out, ``k < 1`` infant mortality. Nothing about
  the component's condition is observable but its age.
- ``{"model": "gamma", "shape_per_year_milli", "time_exp_milli", "scale_milli",
  "failure_wear", "condition_wear"}``: a gamma degradation process (van Noortwijk 2009) with
  independent increments ``X(t+d) - X(t) ~ Gamma(a * ((t+d)^b - t^b), s)``, ``t`` in years,
  ``a = shape_per_year_milli / 1000``, ``b = time_exp_milli / 1000``,
  ``s = scale_milli / 1000`` wear units; the component fails when its wear reaches
  ``failure_wear``. Wear is observable (vibration, oil debris), so the condition rule replaces
  it when its wear is expected to reach ``condition_wear``. With ``b = 1`` the mean life is
  about ``failure_wear / (a * s)`` years.

Per component (integer currency units are EUR): ``repair_cost_eur`` for a corrective repair
after a failure (crane, secondary damage), ``replace_cost_eur`` for a planned replacement,
``repair_duration_ms`` / ``replace_duration_ms`` the crew's time on the turbine (the turbine
stands still meanwhile), ``lead_time_ms`` from a failure until a repair can start (parts,
vessel), ``age_threshold_h`` the age at which the age-replacement rule replaces it, and
``initial_age_max_h``: requests draw each component's current age uniformly below it.

``n_crews`` crews do the work; a crew may start a job only on a day the weather allows
(transfer vessels need calm seas) and the crew is available (each crew-day independently with
``crew_availability_bps``). Weather is a two-state Markov chain over days (good:
accessible, bad: not) whose stay probabilities ``p_stay_good_bps`` / ``p_stay_bad_bps`` are
given per calendar month (12 values each), so access is seasonal and persistent.

A maintenance-planning request covers some turbines for ``horizon_days``; its futures run on
``tail_days`` more with only corrective repairs, so a plan pays for the risk it leaves behind
(without the tail a finite horizon would never reward a replacement late in the horizon).
``mc_samples`` futures are averaged per evaluation. Compute units at L1:
``base_cu + samples * (horizon_days + tail_days) * (sample_day_cu_milli + n_turbines *
sample_day_turbine_cu_milli) // 1000``.

Every value in the body is an int (or a str name), units in the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twinecon.errors import suggest
from worlds.errors import InvalidSpec
from worlds.spec import TwinSpec, spec_int

__all__ = ["DEFAULT_COMPONENTS", "ENGINE_VERSION", "MAX_LANES", "MAX_SAMPLE_DAYS",
           "windfarm_spec"]

ENGINE_VERSION = "windfarm-l1/1"
MODELS = ("weibull", "gamma")
_DAY_MS = 86_400_000

#: The most future-days one draw of futures simulates (``samples * (horizon_days +
#: tail_days)``, for mc_samples and for scheduler_samples): the weather of each future is
#: drawn day by day; 10^7 take seconds (the defaults: 64 * 1460 = 93440).
MAX_SAMPLE_DAYS = 10_000_000
#: The most component lanes one draw of futures holds (``samples * request_turbines_max *
#: components``), each with `MAX_LIVES` lifetimes: 10^7 lanes are about half a gigabyte.
MAX_LANES = 10_000_000
_MAX_COMPONENTS = 16
_SEED_MAX = 2**63 - 1
_EUR_MAX = 10**10
_DURATION_MAX_MS = 365 * _DAY_MS
_HOURS_MAX = 1_000_000  # 114 years
_WEAR_MAX = 1_000_000
_CU_MAX = 1_000_000

#: The literature-illustrative component set (Weibull parameters after Tian, Jin, Wu & Ding
#: 2011, Renewable Energy 36:1502, in days x 24 h: rotor eta 3000 d beta 3, generator 3300 d
#: beta 2; the main bearing and gearbox as gamma degradation processes with about the mean
#: life of their Weibull rows, 3750 d x Gamma(1.5) and 2400 d x Gamma(4/3)). Costs, durations
#: and lead times are illustrative orders of magnitude for a 3 MW turbine.
DEFAULT_COMPONENTS: tuple[dict[str, Any], ...] = (
    {
        "name": "rotor",
        "failure": {"model": "weibull", "shape_milli": 3000, "scale_h": 72_000},
        "repair_cost_eur": 300_000, "replace_cost_eur": 110_000,
        "repair_duration_ms": 4 * _DAY_MS, "replace_duration_ms": 2 * _DAY_MS,
        "lead_time_ms": 21 * _DAY_MS, "age_threshold_h": 40_000, "initial_age_max_h": 72_000,
    },
    {
        "name": "main_bearing",
        "failure": {"model": "gamma", "shape_per_year_milli": 1_200, "time_exp_milli": 1000,
                    "scale_milli": 91_000, "failure_wear": 1000, "condition_wear": 600},
        "repair_cost_eur": 220_000, "replace_cost_eur": 70_000,
        "repair_duration_ms": 3 * _DAY_MS, "replace_duration_ms": 1 * _DAY_MS,
        "lead_time_ms": 28 * _DAY_MS, "age_threshold_h": 38_000, "initial_age_max_h": 80_000,
    },
    {
        "name": "gearbox",
        "failure": {"model": "gamma", "shape_per_year_milli": 1_900, "time_exp_milli": 1000,
                    "scale_milli": 91_000, "failure_wear": 1000, "condition_wear": 500},
        "repair_cost_eur": 450_000, "replace_cost_eur": 180_000,
        "repair_duration_ms": 6 * _DAY_MS, "replace_duration_ms": 3 * _DAY_MS,
        "lead_time_ms": 35 * _DAY_MS, "age_threshold_h": 20_000, "initial_age_max_h": 52_000,
    },
    {
        "name": "generator",
        "failure": {"model": "weibull", "shape_milli": 2000, "scale_h": 79_200},
        "repair_cost_eur": 200_000, "replace_cost_eur": 80_000,
        "repair_duration_ms": 3 * _DAY_MS, "replace_duration_ms": 1 * _DAY_MS,
        "lead_time_ms": 14 * _DAY_MS, "age_threshold_h": 40_000, "initial_age_max_h": 79_200,
    },
)

#: North-Sea-like access: long calm spells in summer, long storms in winter (Jan..Dec).
DEFAULT_STAY_GOOD_BPS = (7000, 7200, 7800, 8500, 9000, 9200, 9300, 9100, 8600, 7900, 7200, 7000)
DEFAULT_STAY_BAD_BPS = (7500, 7300, 6800, 6000, 5000, 4500, 4200, 4600, 5500, 6500, 7200, 7500)

_COMPONENT_INTS = ("repair_cost_eur", "replace_cost_eur", "repair_duration_ms",
                   "replace_duration_ms", "lead_time_ms", "age_threshold_h",
                   "initial_age_max_h")
_COMPONENT_HIGH = {"repair_cost_eur": _EUR_MAX, "replace_cost_eur": _EUR_MAX,
                   "repair_duration_ms": _DURATION_MAX_MS, "replace_duration_ms": _DURATION_MAX_MS,
                   "lead_time_ms": _DURATION_MAX_MS, "age_threshold_h": _HOURS_MAX,
                   "initial_age_max_h": _HOURS_MAX}
_FAILURE_KEYS = {
    "weibull": ("shape_milli", "scale_h"),
    "gamma": ("shape_per_year_milli", "time_exp_milli", "scale_milli", "failure_wear",
              "condition_wear"),
}


def _keys(where: str, got: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key in got:
        if key not in allowed:
            raise InvalidSpec(f"{where} has unknown key {key!r}{suggest(str(key), allowed)}; "
                              f"allowed: {', '.join(allowed)}")
    missing = [k for k in allowed if k not in got]
    if missing:
        raise InvalidSpec(f"{where} lacks {missing}; give every key of DEFAULT_COMPONENTS")


def _failure(where: str, f: Any) -> dict[str, Any]:
    if not isinstance(f, Mapping) or f.get("model") not in MODELS:
        got = f.get("model") if isinstance(f, Mapping) else f
        hint = suggest(str(got), MODELS)
        raise InvalidSpec(f"{where}.model is {got!r}; expected one of {MODELS}{hint}")
    model = f["model"]
    _keys(where, {k: v for k, v in f.items() if k != "model"}, _FAILURE_KEYS[model])
    out: dict[str, Any] = {"model": model}
    if model == "weibull":
        out["shape_milli"] = spec_int(f"{where}.shape_milli", f["shape_milli"], low=100,
                                      high=20_000)
        out["scale_h"] = spec_int(f"{where}.scale_h", f["scale_h"], high=10 * _HOURS_MAX)
    else:
        out["shape_per_year_milli"] = spec_int(f"{where}.shape_per_year_milli",
                                               f["shape_per_year_milli"], high=_WEAR_MAX)
        out["time_exp_milli"] = spec_int(f"{where}.time_exp_milli", f["time_exp_milli"],
                                         low=100, high=5000)
        out["scale_milli"] = spec_int(f"{where}.scale_milli", f["scale_milli"], high=_WEAR_MAX)
        out["failure_wear"] = spec_int(f"{where}.failure_wear", f["failure_wear"],
                                       high=_WEAR_MAX)
        out["condition_wear"] = spec_int(f"{where}.condition_wear", f["condition_wear"],
                                         high=_WEAR_MAX)
        if out["condition_wear"] > out["failure_wear"]:
            raise InvalidSpec(f"{where}.condition_wear ({out['condition_wear']}) exceeds "
                              f"failure_wear ({out['failure_wear']}); lower it")
    return out


def _components(components: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(components, Mapping | str) or not len(components):
        raise InvalidSpec("components is empty or not a list; expected a list of component "
                          "dicts like DEFAULT_COMPONENTS")
    if len(components) > _MAX_COMPONENTS:
        raise InvalidSpec(f"components has {len(components)} entries; expected at most "
                          f"{_MAX_COMPONENTS} (every turbine has each)")
    out, names = [], set()
    for i, c in enumerate(components):
        where = f"components[{i}]"
        if not isinstance(c, Mapping):
            raise InvalidSpec(f"{where} is a {type(c).__name__}; expected a dict")
        _keys(where, c, ("name", "failure", *_COMPONENT_INTS))
        name = c["name"]
        if not isinstance(name, str) or not name or name in names:
            raise InvalidSpec(f"{where}.name is {name!r}; expected a unique non-empty str")
        names.add(name)
        comp: dict[str, Any] = {"name": name, "failure": _failure(f"{where}.failure",
                                                                   c["failure"])}
        for key in _COMPONENT_INTS:
            comp[key] = spec_int(f"{where}.{key}", c[key], low=0, high=_COMPONENT_HIGH[key])
        for key in ("repair_duration_ms", "replace_duration_ms", "initial_age_max_h",
                    "age_threshold_h"):
            spec_int(f"{where}.{key}", comp[key])
        out.append(comp)
    return out


def _monthly(name: str, values: Sequence[int]) -> list[int]:
    vals = [spec_int(f"{name}[{i}]", v, low=0, high=9_999) for i, v in enumerate(values)]
    if len(vals) != 12:
        raise InvalidSpec(f"{name} has {len(vals)} values; expected 12 (one per month, "
                          "January first), basis points in 0..9999")
    return vals


def windfarm_spec(
    name: str = "wf-default",
    version: str = "1.0.0",
    *,
    n_turbines: int = 10,
    rated_power_kw: int = 3000,
    capacity_factor_bps: int = 3500,
    components: Sequence[Mapping[str, Any]] = DEFAULT_COMPONENTS,
    n_crews: int = 2,
    crew_availability_bps: int = 9500,
    p_stay_good_bps: Sequence[int] = DEFAULT_STAY_GOOD_BPS,
    p_stay_bad_bps: Sequence[int] = DEFAULT_STAY_BAD_BPS,
    energy_price_eur_per_mwh: int = 60,
    horizon_days: int = 365,
    tail_days: int = 1095,
    mc_samples: int = 64,
    request_rate_per_h: int = 4,
    request_turbines_max: int | None = None,
    scheduler_seeds: Sequence[int] = (1, 2),
    scheduler_samples: int = 64,
    scheduler_scales_bps: Sequence[int] = (0, 6000, 8000, 10_000, 12_500),
    base_cu: int = 100,
    sample_day_cu_milli: int = 30,
    sample_day_turbine_cu_milli: int = 10,
    search_run_cu: int = 600,
    search_sample_day_turbine_cu_milli: int = 6,
) -> TwinSpec:
    """Build a wind-farm twin spec (kind "windfarm").

    Args:
        name: twin name.
        version: semver for people; the hash is the identity.
        n_turbines: turbines in the farm (ids 0..n-1).
        rated_power_kw: rated power of one turbine.
        capacity_factor_bps: mean output of a running turbine, basis points of rated power.
        components: per-component failure model, costs and durations (see the module
            docstring); defaults to `DEFAULT_COMPONENTS`.
        n_crews: maintenance crews (each does one job at a time).
        crew_availability_bps: the chance a crew is available on a given day (leave,
            training, its vessel elsewhere), independently per crew and day.
        p_stay_good_bps: per month, the chance an accessible day is followed by another.
        p_stay_bad_bps: per month, the chance an inaccessible day is followed by another.
        energy_price_eur_per_mwh: value of energy not produced while a turbine stands still.
        horizon_days: planning horizon: interventions start on days 0..horizon_days-1.
        tail_days: days the futures run on after the horizon with corrective repairs only.
        mc_samples: Monte Carlo futures averaged in one evaluation.
        request_rate_per_h: Poisson rate of maintenance-planning requests.
        request_turbines_max: a request covers 1..this many distinct turbines (default
            ``min(5, n_turbines)``).
        scheduler_seeds: the seeds the "sim_scheduler" solver tries candidates on.
        scheduler_samples: futures per seed in the scheduler's own evaluations.
        scheduler_scales_bps: threshold scales (basis points of each component's rule
            threshold; 0 = run to failure) the scheduler searches per component.
        base_cu: compute units per evaluation, whatever its size.
        sample_day_cu_milli: compute units x 1000 per simulated future and day (the weather).
        sample_day_turbine_cu_milli: compute units x 1000 per simulated future, day and
            turbine (the components). Calibrated once on the reference machine (2-vCPU Xeon,
            Python 3.11, numpy 2): 1 CU is about 1 microsecond of one core.
        search_run_cu: compute units per schedule the "sim_scheduler" tries on one seed
            (on futures it has drawn once per seed, charged as an evaluation's are).
        search_sample_day_turbine_cu_milli: compute units x 1000 per future, day and turbine
            of such a run.

    Bounds (each far above a real farm's planning, and what one machine can run): at most
    1000 turbines, 16 components, 64 crews; horizon and tail at most ten years each;
    ``samples * (horizon_days + tail_days)`` at most `MAX_SAMPLE_DAYS` and ``samples *
    request_turbines_max * components`` at most `MAX_LANES`, for mc_samples and
    scheduler_samples (the futures an evaluation draws); at most 16 scheduler seeds and 32
    scales (the scheduler runs a schedule per scale and seed); costs at most 10^10 EUR,
    durations at most a year, ages at most 10^6 h; request_rate_per_h <= 3600; compute units
    at most 1000000 per unit of work; seeds < 2**63.

    Returns:
        The spec; `WindfarmTwin(spec)` builds the twin.

    Raises:
        InvalidSpec: a parameter is out of range, a float, or an unknown choice.
    """
    comps = _components(components)
    n = spec_int("n_turbines", n_turbines, high=1000)
    body: dict[str, Any] = {
        "engine_version": ENGINE_VERSION,
        "turbines": {
            "n_turbines": n,
            "rated_power_kw": spec_int("rated_power_kw", rated_power_kw, high=100_000),
            "capacity_factor_bps": spec_int("capacity_factor_bps", capacity_factor_bps,
                                            high=10_000),
        },
        "components": comps,
        "crews": {"n_crews": spec_int("n_crews", n_crews, high=64),
                  "availability_bps": spec_int("crew_availability_bps", crew_availability_bps,
                                               high=10_000)},
        "weather": {
            "model": "markov2-monthly",
            "p_stay_good_bps": _monthly("p_stay_good_bps", p_stay_good_bps),
            "p_stay_bad_bps": _monthly("p_stay_bad_bps", p_stay_bad_bps),
        },
        "energy": {"price_eur_per_mwh": spec_int("energy_price_eur_per_mwh",
                                                 energy_price_eur_per_mwh, low=0,
                                                 high=1_000_000)},
        "planning": {
            "horizon_days": spec_int("horizon_days", horizon_days, high=3650),
            "tail_days": spec_int("tail_days", tail_days, low=0, high=3650),
            "mc_samples": spec_int("mc_samples", mc_samples, high=100_000),
        },
        "requests": {
            "type": "poisson",
            "rate_per_h": spec_int("request_rate_per_h", request_rate_per_h, low=0,
                                   high=3_600),
            "turbines_max": spec_int("request_turbines_max", min(5, n)
                                     if request_turbines_max is None else request_turbines_max,
                                     high=n),
        },
        "scheduler": {
            "seeds": [spec_int(f"scheduler_seeds[{i}]", s, low=0, high=_SEED_MAX)
                      for i, s in enumerate(_at_most(16, "scheduler_seeds", scheduler_seeds))],
            "samples": spec_int("scheduler_samples", scheduler_samples, high=100_000),
            "scales_bps": [spec_int(f"scheduler_scales_bps[{i}]", s, low=0, high=100_000)
                           for i, s in enumerate(_at_most(32, "scheduler_scales_bps",
                                                          scheduler_scales_bps))],
        },
        "metering": {
            "schedule": "cu-1",
            "base_cu": spec_int("base_cu", base_cu, low=0, high=_CU_MAX),
            "sample_day_cu_milli": spec_int("sample_day_cu_milli", sample_day_cu_milli, low=0,
                                            high=_CU_MAX),
            "sample_day_turbine_cu_milli": spec_int("sample_day_turbine_cu_milli",
                                                    sample_day_turbine_cu_milli, low=0,
                                                    high=_CU_MAX),
            "search_run_cu": spec_int("search_run_cu", search_run_cu, low=0, high=_CU_MAX),
            "search_sample_day_turbine_cu_milli": spec_int(
                "search_sample_day_turbine_cu_milli", search_sample_day_turbine_cu_milli, low=0,
                high=_CU_MAX),
        },
    }
    if not body["scheduler"]["seeds"] or not body["scheduler"]["scales_bps"]:
        raise InvalidSpec("scheduler_seeds and scheduler_scales_bps need at least one value "
                          "each, e.g. (1, 2) and (0, 10000)")
    days = body["planning"]["horizon_days"] + body["planning"]["tail_days"]
    lanes = body["requests"]["turbines_max"] * len(comps)
    for key, samples in (("mc_samples", body["planning"]["mc_samples"]),
                         ("scheduler_samples", body["scheduler"]["samples"])):
        if samples * days > MAX_SAMPLE_DAYS:
            raise InvalidSpec(f"{key} {samples} x (horizon_days + tail_days) {days} is "
                              f"{samples * days} future-days; expected at most "
                              f"{MAX_SAMPLE_DAYS} (each future's weather is drawn day by "
                              "day): lower the samples or the days")
        if samples * lanes > MAX_LANES:
            raise InvalidSpec(f"{key} {samples} x request_turbines_max x components {lanes} "
                              f"is {samples * lanes} component lanes; expected at most "
                              f"{MAX_LANES} (each holds its lifetimes in memory): lower the "
                              "samples or request_turbines_max")
    return TwinSpec(kind="windfarm", name=name, version=version, body=body)


def _at_most(n: int, name: str, values: Sequence[Any]) -> Sequence[Any]:
    """`values` if it holds at most `n` of them (the scheduler runs each)."""
    if len(values) > n:
        raise InvalidSpec(f"{name} has {len(values)} values; expected at most {n} (the "
                          "scheduler runs a schedule for each)")
    return values
