"""Reference maintenance planners: replacement rules turned into crew schedules, and a search.

A rule proposes, per component of the request, the days on which it should be replaced
within the horizon; `crew_schedule` books those on the crews (earliest possible start, crew
free first, lowest crew id on ties; a replacement that no longer fits the horizon is
dropped). The rules:

- age rule: replace when the component's age reaches ``age_threshold_h * scale``, then every
  ``age_threshold_h * scale`` again;
- condition rule (gamma-process components, whose wear is observed): replace when the
  *expected* wear, ``wear + rate * scale_wear * ((age + t)^b - age^b)``, reaches
  ``condition_wear * scale``, then as often as a fresh component takes to get there; Weibull
  components, whose condition is not observable, fall back to the age rule.

``scale`` is in basis points per component (10000 = the spec's threshold, 0 = never: run to
failure). `search` is the simulation scheduler: it tries rule variants in the twin's own Monte
Carlo and keeps the cheapest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from worlds.windfarm._farm import DAY_MS, HOURS_PER_YEAR, Farm

__all__ = ["crew_schedule", "duration_days", "rule_wants", "search", "search_evaluations"]

Schedule = tuple[tuple[tuple[int, int, int], ...], ...]


def duration_days(farm: Farm) -> list[int]:
    """Days a planned replacement books its crew (and its component), per component."""
    return [max(-(-int(ms) // DAY_MS), 1) for ms in farm.replace_ms]


def rule_wants(farm: Farm, lines: Sequence[int], age_h: Sequence[int], wear: Sequence[int],
               scales_bps: Sequence[int], condition: bool) -> list[tuple[int, int, int]]:
    """(day, turbine, component) replacements a rule asks for, days in 0..horizon-1."""
    n_comp, horizon = farm.n_components, farm.horizon_days
    wants = []
    for i, turbine in enumerate(lines):
        for c in range(n_comp):
            scale = scales_bps[c]
            if scale <= 0:
                continue
            lane = i * n_comp + c
            if condition and farm.is_gamma[c]:
                first, period = _condition_days(farm, c, age_h[lane], wear[lane], scale)
            else:
                limit_h = farm.age_threshold_h[c] * scale / 10_000
                first = max(math.ceil((limit_h - age_h[lane]) / 24), 0)
                period = math.ceil(limit_h / 24)
            period = max(period, duration_days(farm)[c])
            day = first
            while day < horizon:
                wants.append((day, int(turbine), c))
                day += period
    return wants


def _condition_days(farm: Farm, c: int, age_h: int, wear: int, scale: int) -> tuple[int, int]:
    target = min(farm.condition_wear[c] * scale / 10_000, farm.failure_wear[c] - 1)
    per_year = farm.g_rate_per_y[c] * farm.g_scale[c]
    b = farm.g_exp[c]
    age_y = age_h / HOURS_PER_YEAR
    if wear >= target:
        first_y = 0.0
    else:
        first_y = ((target - wear) / per_year + age_y ** b) ** (1 / b) - age_y
    fresh_y = (target / per_year) ** (1 / b)
    return max(math.ceil(first_y * 365), 0), max(math.ceil(fresh_y * 365), 1)


def crew_schedule(farm: Farm, wants: list[tuple[int, int, int]]) -> Schedule:
    """Book wanted (day, turbine, component) replacements on the crews.

    Each replacement starts on the earliest day >= its wanted day on which some crew and
    the component are free (the crew free first; lowest id on ties) and is dropped if that
    day is past the horizon.
    """
    dur = duration_days(farm)
    crew_free = [0] * farm.n_crews
    comp_free: dict[tuple[int, int], int] = {}
    booked: list[list[tuple[int, int, int]]] = [[] for _ in range(farm.n_crews)]
    for day, turbine, c in sorted(wants):
        start = max(day, min(crew_free), comp_free.get((turbine, c), 0))
        k = min(range(farm.n_crews), key=lambda k: (max(start, crew_free[k]), k))
        start = max(start, crew_free[k])
        if start >= farm.horizon_days:
            continue
        booked[k].append((turbine, c, start))
        crew_free[k] = comp_free[(turbine, c)] = start + dur[c]
    return tuple(tuple(jobs) for jobs in booked)


def search(farm: Farm, plans: Callable[[tuple[int, ...], bool], Schedule],
           cost: Callable[[Schedule], float]) -> Schedule:
    """The simulation scheduler: coordinate search over per-component rule scales.

    Starts from the best of run-to-failure, the age rule and the condition rule (scales
    10000), then for each component in turn tries every scale of `sched_scales_bps` with the
    condition rule, keeping a change only if it lowers the simulated cost. At most
    `search_evaluations(farm)` distinct schedules are costed.

    Args:
        farm: the farm.
        plans: builds the schedule of a rule from per-component scales (bps) and whether the
            condition rule is used.
        cost: mean simulated cost of a schedule (lower is better).

    Returns:
        The cheapest schedule found (ties: the first found).
    """
    seen: dict[Schedule, float] = {}

    def price(schedule: Schedule) -> float:
        if schedule not in seen:
            seen[schedule] = cost(schedule)
        return seen[schedule]

    n_comp = farm.n_components
    starts = [((0,) * n_comp, True), ((10_000,) * n_comp, False), ((10_000,) * n_comp, True)]
    best_scales = starts[0][0]
    best = plans(*starts[0])
    best_cost = price(best)
    for scales, cond in starts[1:]:
        schedule = plans(scales, cond)
        if price(schedule) < best_cost:
            best, best_cost, best_scales = schedule, price(schedule), scales
    for c in range(n_comp):
        for scale in farm.sched_scales_bps:
            trial = tuple(scale if i == c else s for i, s in enumerate(best_scales))
            schedule = plans(trial, True)
            if price(schedule) < best_cost:
                best, best_cost, best_scales = schedule, price(schedule), trial
    return best


def search_evaluations(farm: Farm) -> int:
    """Upper bound on the schedules `search` costs (what its CU are charged for)."""
    return 3 + farm.n_components * len(farm.sched_scales_bps)

