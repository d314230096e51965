"""Read a wind-farm spec body into the typed arrays the solvers, the futures and the env use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from worlds.errors import InvalidSpec

__all__ = ["DAY_MS", "HOUR_MS", "Farm", "farm_from_body"]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Farm:
    """Per-component arrays (shape (C,)) and scalars of one spec; read-only by convention.

    Floats here are model rates derived from the spec's ints (shape_milli / 1000 and so on),
    never spec values themselves.
    """

    names: tuple[str, ...]
    n_turbines: int
    n_crews: int
    crew_availability_bps: int
    rated_kw: int
    capacity_factor_bps: int
    price_eur_per_mwh: int
    is_gamma: np.ndarray           # (C,) bool
    wb_shape: np.ndarray           # (C,) float, Weibull k (1.0 where gamma)
    wb_scale_h: np.ndarray         # (C,) float, Weibull eta in hours (1.0 where gamma)
    g_rate_per_y: np.ndarray       # (C,) float, gamma shape per year^b (0 where Weibull)
    g_exp: np.ndarray              # (C,) float, b (1 where Weibull)
    g_scale: np.ndarray            # (C,) float, wear units per unit shape
    failure_wear: np.ndarray       # (C,) int64 (0 where Weibull)
    condition_wear: np.ndarray     # (C,) int64 (0 where Weibull)
    repair_cost: np.ndarray        # (C,) int64 EUR
    replace_cost: np.ndarray       # (C,) int64 EUR
    repair_ms: np.ndarray          # (C,) int64
    replace_ms: np.ndarray         # (C,) int64
    lead_ms: np.ndarray            # (C,) int64
    age_threshold_h: np.ndarray    # (C,) int64
    age_max_h: np.ndarray          # (C,) int64
    stay_good: np.ndarray          # (12,) float probabilities
    stay_bad: np.ndarray           # (12,) float probabilities
    horizon_days: int
    tail_days: int
    samples: int
    rate_per_h: int
    turbines_max: int
    sched_seeds: tuple[int, ...]
    sched_samples: int
    sched_scales_bps: tuple[int, ...]
    base_cu: int
    day_cu_milli: int
    turbine_cu_milli: int
    search_run_cu: int
    search_turbine_cu_milli: int

    @property
    def n_components(self) -> int:
        return len(self.names)

    @property
    def run_days(self) -> int:
        """Days one future is simulated: the horizon plus the tail."""
        return self.horizon_days + self.tail_days


def _ints(comps: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([int(c[key]) for c in comps], dtype=np.int64)


def farm_from_body(body: dict[str, Any]) -> Farm:
    """Parse a spec body made by `windfarm_spec`.

    Raises:
        InvalidSpec: a key is missing or mistyped.
    """
    try:
        comps = body["components"]
        fails = [c["failure"] for c in comps]
        is_gamma = np.array([f["model"] == "gamma" for f in fails], dtype=bool)

        def fval(key: str, default: float, where: bool) -> np.ndarray:
            return np.array([f[key] / 1000 if (f["model"] == "gamma") == where else default
                             for f in fails], dtype=np.float64)

        def wear(key: str) -> np.ndarray:
            return np.array([f[key] if f["model"] == "gamma" else 0 for f in fails],
                            dtype=np.int64)

        weather, plan, sched = body["weather"], body["planning"], body["scheduler"]
        return Farm(
            names=tuple(c["name"] for c in comps),
            n_turbines=int(body["turbines"]["n_turbines"]),
            n_crews=int(body["crews"]["n_crews"]),
            crew_availability_bps=int(body["crews"]["availability_bps"]),
            rated_kw=int(body["turbines"]["rated_power_kw"]),
            capacity_factor_bps=int(body["turbines"]["capacity_factor_bps"]),
            price_eur_per_mwh=int(body["energy"]["price_eur_per_mwh"]),
            is_gamma=is_gamma,
            wb_shape=fval("shape_milli", 1.0, False),
            wb_scale_h=np.array([f["scale_h"] if f["model"] == "weibull" else 1.0
                                 for f in fails], dtype=np.float64),
            g_rate_per_y=fval("shape_per_year_milli", 0.0, True),
            g_exp=fval("time_exp_milli", 1.0, True),
            g_scale=fval("scale_milli", 1.0, True),
            failure_wear=wear("failure_wear"),
            condition_wear=wear("condition_wear"),
            repair_cost=_ints(comps, "repair_cost_eur"),
            replace_cost=_ints(comps, "replace_cost_eur"),
            repair_ms=_ints(comps, "repair_duration_ms"),
            replace_ms=_ints(comps, "replace_duration_ms"),
            lead_ms=_ints(comps, "lead_time_ms"),
            age_threshold_h=_ints(comps, "age_threshold_h"),
            age_max_h=_ints(comps, "initial_age_max_h"),
            stay_good=np.asarray(weather["p_stay_good_bps"], dtype=np.float64) / 10_000,
            stay_bad=np.asarray(weather["p_stay_bad_bps"], dtype=np.float64) / 10_000,
            horizon_days=int(plan["horizon_days"]),
            tail_days=int(plan["tail_days"]),
            samples=int(plan["mc_samples"]),
            rate_per_h=int(body["requests"]["rate_per_h"]),
            turbines_max=int(body["requests"]["turbines_max"]),
            sched_seeds=tuple(int(s) for s in sched["seeds"]),
            sched_samples=int(sched["samples"]),
            sched_scales_bps=tuple(int(s) for s in sched["scales_bps"]),
            base_cu=int(body["metering"]["base_cu"]),
            day_cu_milli=int(body["metering"]["sample_day_cu_milli"]),
            turbine_cu_milli=int(body["metering"]["sample_day_turbine_cu_milli"]),
            search_run_cu=int(body["metering"]["search_run_cu"]),
            search_turbine_cu_milli=int(body["metering"]["search_sample_day_turbine_cu_milli"]),
        )
    except (KeyError, TypeError, IndexError) as exc:
        raise InvalidSpec(
            f"windfarm spec body lacks or mistypes {exc}; build it with windfarm_spec()"
        ) from None
