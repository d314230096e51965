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
failure). `search` is the simulation scheduler: it tries rule variants and per-component
changes in the twin's own Monte Carlo and keeps those that are significantly cheaper.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from worlds.windfarm._farm import DAY_MS, HOURS_PER_YEAR, Farm

__all__ = ["SIGNIFICANCE", "crew_schedule", "duration_days", "rule_wants", "search",
           "search_evaluations"]

Schedule = tuple[tuple[tuple[int, int, int], ...], ...]

#: A search move is taken when it lowers the mean cost by more than this many standard errors
#: of the paired per-future cost difference.
SIGNIFICANCE = 2.0


def duration_days(farm: Farm) -> list[int]:
    """Days a planned replacement books its crew (and its component), per component."""
    return [max(-(-int(ms) // DAY_MS), 1) for ms in farm.replace_ms]


def rule_wants(farm: Farm, lines: Sequence[int], age_h: Sequence[int], wear: Sequence[int],
               scales_bps: Sequence[int], condition: bool) -> list[tuple[int, int, int]]:
    """(day, turbine, component) replacements a rule asks for, days in 0..horizon-1."""
    n_comp, horizon = farm.n_components, farm.horizon_days
    booked_days = duration_days(farm)
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
            period = max(period, booked_days[c])
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


def search(farm: Farm, lines: Sequence[int], age_h: Sequence[int], wear: Sequence[int],
           costs: Callable[[Schedule], np.ndarray]) -> Schedule:
    """The simulation scheduler: local search over rule variants, judged in Monte Carlo.

    Every candidate is costed on the same futures (common random numbers), so two schedules
    are compared by their paired per-future cost differences; a move is taken only if it
    lowers the mean cost by more than `SIGNIFICANCE` standard errors of that difference (a
    paired test), so the search does not chase the noise of its own futures.

    Starting from the condition rule (it uses all the request shows), the moves are, in
    order: the age rule and run-to-failure instead; for each component type, each scale of
    ``sched_scales_bps``; then for each component of the request, dropping its replacements,
    or replacing it on day 0 if it had none. At most `search_evaluations` schedules are run.

    Args:
        farm: the farm.
        lines, age_h, wear: the request (turbines; ages and wear, turbine-major).
        costs: per-future costs of a schedule, (n,) floats, the same futures every call.

    Returns:
        The best schedule found.
    """
    n_comp = farm.n_components
    seen: dict[Schedule, np.ndarray] = {}

    def price(schedule: Schedule) -> np.ndarray:
        if schedule not in seen:
            seen[schedule] = costs(schedule)
        return seen[schedule]

    def wants_of(scales: tuple[int, ...], condition: bool,
                 edits: dict[tuple[int, int], bool]) -> list[tuple[int, int, int]]:
        wants = [w for w in rule_wants(farm, lines, age_h, wear, scales, condition)
                 if edits.get((w[1], w[2]), True)]
        wants += [(0, t, c) for (t, c), keep in edits.items() if keep]
        return wants

    state = ((10_000,) * n_comp, True, {})
    best = crew_schedule(farm, wants_of(*state))
    best_cost = price(best)

    def consider(scales: tuple[int, ...], condition: bool,
                 edits: dict[tuple[int, int], bool]) -> None:
        nonlocal best, best_cost, state
        schedule = crew_schedule(farm, wants_of(scales, condition, edits))
        diff = price(schedule) - best_cost
        if diff.mean() < -SIGNIFICANCE * diff.std() / np.sqrt(len(diff)):
            best, best_cost, state = schedule, price(schedule), (scales, condition, edits)

    consider((10_000,) * n_comp, False, {})
    consider((0,) * n_comp, True, {})
    for c in range(n_comp):
        for scale in farm.sched_scales_bps:
            consider(tuple(scale if i == c else s for i, s in enumerate(state[0])), state[1],
                     state[2])
    planned = {(t, c) for jobs in best for t, c, _ in jobs}
    for turbine in lines:
        for c in range(n_comp):
            lane = (int(turbine), c)
            # Drop a planned component's replacements; plan an unplanned one on day 0.
            consider(state[0], state[1], {**state[2], lane: lane not in planned})
    return best


def search_evaluations(farm: Farm, n_turbines: int) -> int:
    """Upper bound on the schedules `search` runs (what its CU are charged for)."""
    return 3 + farm.n_components * (len(farm.sched_scales_bps) + n_turbines)
