"""The wind-farm twin at tier L1: maintenance schedules evaluated over Monte Carlo futures.

Build it from a spec made by `windfarm_spec`::

    twin = WindfarmTwin(windfarm_spec())
    rng = np.random.default_rng(7)
    order = twin.orders(rng, tick_ms=3_600_000)[0]     # a maintenance-planning request
    plan = twin.solve(order, "age_replacement")
    ev = twin.evaluate(plan, order, seed=7)             # ev.cost, ev.time_ms, ev.receipt

A request (`Order`) covers some turbines and the current age (and, for gamma-process
components, the observed wear) of each of their components. A plan books planned
replacements (turbine, component, start day) on the crews over the horizon. `evaluate` runs
the schedule through ``mc_samples`` futures drawn from ``SeedSequence([seed,
int(spec.sha256[:16], 16)])``: component failures or degradation, weather access windows and
crew availability, failed components repaired correctively as soon as parts, a crew and a
weather window allow (see `worlds.windfarm._futures`). It reports mean cost (repairs +
replacements + energy lost x price, EUR), mean turbine downtime (`time_ms`, what the economy
values) and energy lost.

Reference solvers (`SOLVERS`): "corrective" (the baseline: no planned work, repair on
failure), "age_replacement" (the age rule), "condition_threshold" (the condition rule on
observable wear, the age rule elsewhere) and "sim_scheduler" (starts from the condition rule
and takes the rule variants and per-component changes that are significantly cheaper in the
twin's own Monte Carlo on the spec's scheduler seeds, so it costs sim time: its plans carry
that search in `cu_for`).

Compute units at L1, known before evaluation, with ``unit = run_days * (sample_day_cu_milli
+ n_turbines * sample_day_turbine_cu_milli)`` (CU x 1000 of one simulated future)::

    base_cu + mc_samples * unit // 1000

with ``run_days = horizon_days + tail_days`` and ``n_turbines`` the request's turbines. A plan
whose solver is "sim_scheduler" also carries its search: per scheduler seed, drawing
``scheduler_samples`` futures (``scheduler_samples * unit // 1000``) and running at most
`search_evaluations` schedules on them (``search_run_cu + scheduler_samples * run_days *
n_turbines * search_sample_day_turbine_cu_milli // 1000`` each).

Every draw that does not depend on the plan (weather, crew availability, component lives) is
shared by all plans evaluated with one seed (common random numbers): comparisons between plans
are sharp. Results are integers computed from integer ms; floats appear only inside the draws.

On the default spec (30 requests of 1-5 turbines, seed 11; means over 4-year futures): corrective
1841 kEUR and 151 turbine-days down (5.2 failures); age rule 1313 kEUR, 53 days (1.7 failures,
6.5 replacements); condition rule 1263 kEUR, 58 days; simulation scheduler 1255 kEUR, 58 days.
With wear-out (Weibull shape > 1) the age rule beats corrective; with infant mortality (shape
< 1) it costs more; observed wear lets the condition rule beat the age rule (all tested).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from twinecon.seeds import twin_sequence
from worlds._base import TwinBase, check_seed
from worlds.errors import InvalidPlan
from worlds.windfarm._farm import HOUR_MS, Farm, farm_from_body
from worlds.windfarm._futures import Futures, Outcome, Request, draw_futures, run_schedule
from worlds.windfarm._solvers import (
    Schedule,
    crew_schedule,
    duration_days,
    rule_wants,
    search,
    search_evaluations,
)
from worlds.windfarm._state import draw_states
from worlds.windfarm._types import Evaluation, Order, Plan
from worlds.windfarm.spec import ENGINE_VERSION

__all__ = ["BASELINE", "SOLVERS", "WindfarmTwin"]

SOLVERS: tuple[str, ...] = ("corrective", "age_replacement", "condition_threshold",
                            "sim_scheduler")
BASELINE = "corrective"
_FUTURES_CACHE_SIZE = 16
_SCHEDULER_STREAM = 0x5C4ED  # keeps the scheduler's futures apart from any evaluation's


class WindfarmTwin(TwinBase[Order, Plan, Evaluation]):
    """A wind farm's maintenance evaluated over seeded Monte Carlo futures.

    Args:
        spec: a spec of kind "windfarm" (see `windfarm_spec`).

    Raises:
        InvalidSpec: wrong kind or engine version, or a body the twin cannot use.
    """

    kind = "windfarm"
    engine_version = ENGINE_VERSION
    request_type = Order
    plan_type: type[Plan] = Plan
    solvers: tuple[str, ...] = SOLVERS
    baseline_method: str = BASELINE
    _plan_fields = "schedule=..."
    _request_prefix = "wf"

    def _init(self, body: dict[str, Any]) -> None:
        self._farm = farm_from_body(body)
        self._rate_per_h = self._farm.rate_per_h
        self._dur_days = duration_days(self._farm)
        self._futures_cache: OrderedDict[tuple[Any, ...], Futures] = OrderedDict()

    # --- the farm ---------------------------------------------------------------------------
    @property
    def farm(self) -> Farm:
        """The spec read into arrays (per-component parameters, weather, planning)."""
        return self._farm

    @property
    def component_names(self) -> tuple[str, ...]:
        """Component names; a component id is an index into this tuple."""
        return self._farm.names

    # --- requests ---------------------------------------------------------------------------
    def make_order(self, lines: Sequence[int], *, age_h: Sequence[int],
                   wear: Sequence[int] | None = None, start_doy: int = 0,
                   order_id: str) -> Order:
        """Build a request from turbine ids and component states (for callers with their own).

        Args:
            lines: turbine ids, unique (sorted in the order).
            age_h: per turbine (in `lines` order) and component, the age in hours,
                flattened turbine-major.
            wear: the same for the observed wear (0 for Weibull components); default 0.
            start_doy: day of the year the horizon starts.
            order_id: the request's id.

        Raises:
            InvalidPlan: ids out of range or repeated, or states of the wrong length or sign.
        """
        n_comp = self._farm.n_components
        turbines = [int(t) for t in lines]
        ages = [int(a) for a in age_h]
        wears = [0] * len(ages) if wear is None else [int(w) for w in wear]
        if len(ages) != len(turbines) * n_comp or len(wears) != len(ages):
            raise InvalidPlan(
                f"order {order_id!r}: {len(turbines)} turbines need {len(turbines) * n_comp} "
                f"ages and wears ({n_comp} components each), got {len(ages)} and {len(wears)}"
            )
        order = sorted(range(len(turbines)), key=lambda i: turbines[i])
        ages = [a for i in order for a in ages[i * n_comp:(i + 1) * n_comp]]
        wears = [w for i in order for w in wears[i * n_comp:(i + 1) * n_comp]]
        out = Order(order_id=order_id, lines=tuple(sorted(turbines)), age_h=tuple(ages),
                    wear=tuple(wears), start_doy=int(start_doy))
        reason = self._order_reason(out)
        if reason:
            raise InvalidPlan(reason)
        return out

    def _order_reason(self, order: Order) -> str:
        farm = self._farm
        lines, n = order.lines, farm.n_turbines
        if not lines or list(lines) != sorted(set(lines)) or not 0 <= lines[0] <= lines[-1] < n:
            return (f"order {order.order_id!r} lines {lines!r}: expected sorted unique turbine "
                    f"ids in 0..{n - 1}, at least one")
        n_lanes = len(lines) * farm.n_components
        if len(order.age_h) != n_lanes or len(order.wear) != n_lanes:
            return (f"order {order.order_id!r}: expected {n_lanes} ages and wears "
                    f"({farm.n_components} per turbine), got {len(order.age_h)} and "
                    f"{len(order.wear)}")
        if not all(type(v) is int and v >= 0 for v in (*order.age_h, *order.wear)):
            return f"order {order.order_id!r}: ages and wears must be ints >= 0"
        limit = np.tile(np.where(farm.is_gamma, farm.failure_wear, 1), len(lines))
        if (np.asarray(order.wear) >= limit).any():
            return (f"order {order.order_id!r}: a wear is at or past its failure level "
                    f"(or nonzero for a Weibull component); failure_wear per component: "
                    f"{farm.failure_wear.tolist()}")
        if type(order.start_doy) is not int or not 0 <= order.start_doy < 365:
            return f"order {order.order_id!r}: start_doy is {order.start_doy!r}; expected 0..364"
        return ""

    def _draw_request(self, rng: np.random.Generator, request_id: str) -> Order:
        """A request covering ``Uniform{1..turbines_max}`` distinct turbines; each
        component's age is uniform in ``0..initial_age_max_h``; a gamma-process component's
        wear is drawn from its process at that age (redrawn at a younger age if it would
        already have failed, then kept below the failure level); the horizon starts on a
        uniform day of the year (`orders` draws the count and the ``"wf-..."`` id)."""
        farm = self._farm
        k = int(rng.integers(1, farm.turbines_max + 1))
        turbines = np.sort(rng.choice(farm.n_turbines, size=k, replace=False))
        start_doy = int(rng.integers(0, 365))
        age, wear = draw_states(farm, rng, k)
        return Order(order_id=request_id, lines=tuple(int(t) for t in turbines),
                     age_h=tuple(int(v) for v in age.ravel()),
                     wear=tuple(int(v) for v in wear.ravel()), start_doy=start_doy)

    # --- solving ----------------------------------------------------------------------------
    def solve(self, order: Order, method: str, rng: np.random.Generator | None = None) -> Plan:
        """Plan a request with a reference solver.

        Args:
            order: the request.
            method: one of `SOLVERS`.
            rng: only for "sim_scheduler": draw the seeds it searches on from `rng` instead
                of using the spec's ``scheduler.seeds`` (so repeated calls can differ).

        Returns:
            A valid plan.

        Raises:
            InvalidPlan: unknown method or a malformed request.
        """
        self._check_order(order)
        farm = self._farm
        ones = (10_000,) * farm.n_components
        if method == "corrective":
            schedule: Schedule = tuple(() for _ in range(farm.n_crews))
        elif method == "age_replacement":
            schedule = self._rule(order, ones, False)
        elif method == "condition_threshold":
            schedule = self._rule(order, ones, True)
        elif method == "sim_scheduler":
            seeds = (farm.sched_seeds if rng is None else
                     tuple(int(s) for s in rng.integers(0, 2**63, size=len(farm.sched_seeds))))
            futures = [self._futures(order, seed, farm.sched_samples, _SCHEDULER_STREAM)
                       for seed in seeds]

            def costs(schedule: Schedule) -> np.ndarray:
                jobs = self._jobs(schedule, order)[1]
                return np.concatenate([self._sample_costs(self._run(order, fut, jobs))
                                       for fut in futures])

            schedule = search(farm, order.lines, order.age_h, order.wear, costs)
        else:
            raise self._unknown_solver(method)
        return Plan(solver=method, schedule=schedule)

    def _rule(self, order: Order, scales: tuple[int, ...], condition: bool) -> Schedule:
        wants = rule_wants(self._farm, order.lines, order.age_h, order.wear, scales, condition)
        return crew_schedule(self._farm, wants)

    # --- evaluation -------------------------------------------------------------------------
    def cu_for(self, plan: Plan, order: Order) -> int:
        """Compute units `evaluate` charges for this plan and request (known up front)."""
        self._check_types(plan, order)
        farm = self._farm
        # CU x 1000 of one simulated future: its weather and its turbines' components.
        unit = farm.run_days * (farm.day_cu_milli + len(order.lines) * farm.turbine_cu_milli)
        cu = farm.base_cu + farm.samples * unit // 1000
        if plan.solver == "sim_scheduler":
            n_seeds, n_samples = len(farm.sched_seeds), farm.sched_samples
            run = farm.search_run_cu + (n_samples * farm.run_days * len(order.lines)
                                        * farm.search_turbine_cu_milli // 1000)
            runs = search_evaluations(farm, len(order.lines)) * n_seeds
            cu += n_seeds * n_samples * unit // 1000 + runs * run
        return cu

    def evaluate(self, plan: Plan, order: Order, seed: int) -> Evaluation:
        """Run a schedule through the request's Monte Carlo futures for one seed.

        Args:
            plan: the schedule to evaluate.
            order: the request it serves.
            seed: scenario seed of the futures.

        Returns:
            The evaluation; an invalid schedule gives ``valid=False`` and a reason (zero
            figures), still charged `cu_for(plan, order)` CU. Same inputs give an identical
            evaluation.

        Raises:
            InvalidPlan: `plan` is not a Plan, `order` not a well-formed Order, or `seed`
                not an int >= 0.
        """
        cu = self.cu_for(plan, order)
        self._check_order(order)
        seed = check_seed(seed)
        reason, jobs = self._jobs(plan.schedule, order)
        figures = dict.fromkeys(("cost", "downtime_ms", "energy_lost_kwh", "time_ms",
                                 "failures_milli", "replacements_milli"), 0)
        if not reason:
            farm = self._farm
            out = self._run(order, self._futures(order, seed, farm.samples), jobs)
            n = len(out.down_ms)
            down = int(out.down_ms.sum())
            energy = self._energy_kwh(down, n)
            figures = {
                "cost": int(out.maintenance_cost.sum()) // n + energy * farm.price_eur_per_mwh
                // 1000,
                "downtime_ms": down // n, "energy_lost_kwh": energy, "time_ms": down // n,
                "failures_milli": int(out.failures.sum()) * 1000 // n,
                "replacements_milli": int(out.replacements.sum()) * 1000 // n,
            }
        result = {"valid": not reason, "reason": reason, "cu": cu, **figures}
        request = {"solver": plan.solver, "schedule": _plain(plan.schedule),
                   "order_id": order.order_id, "lines": list(order.lines),
                   "age_h": list(order.age_h), "wear": list(order.wear),
                   "start_doy": order.start_doy}
        receipt = self._receipt(seed=seed, cu=cu, request=request, result=result)
        return Evaluation(valid=not reason, reason=reason, cu=cu, receipt=receipt, **figures)

    # --- internals --------------------------------------------------------------------------
    def _check_order(self, order: Any) -> None:
        self._check_order_type(order, "expected")
        reason = self._order_reason(order)
        if reason:
            raise InvalidPlan(reason + "; build requests with twin.make_order()")

    def _energy_kwh(self, down_ms: int, n_samples: int) -> int:
        farm = self._farm
        return (down_ms * farm.rated_kw * farm.capacity_factor_bps
                // (10_000 * HOUR_MS * n_samples))

    def _sample_costs(self, out: Outcome) -> np.ndarray:
        """(S,) float cost of each future: maintenance plus the energy lost, EUR."""
        farm = self._farm
        eur_per_ms = (farm.rated_kw * farm.capacity_factor_bps * farm.price_eur_per_mwh
                      / (10_000 * HOUR_MS * 1000))
        return out.maintenance_cost + out.down_ms * eur_per_ms

    def _request(self, order: Order) -> Request:
        return Request(n_turbines=len(order.lines),
                       age_h=np.asarray(order.age_h, dtype=np.int64),
                       wear=np.asarray(order.wear, dtype=np.int64), start_doy=order.start_doy)

    def _futures(self, order: Order, seed: int, n_samples: int, stream: int = 0) -> Futures:
        key = (order, seed, n_samples, stream)
        fut = self._futures_cache.get(key)
        if fut is not None:
            self._futures_cache.move_to_end(key)
            return fut
        ss = twin_sequence(seed, self._sha256)
        if stream:  # a stream of its own: [seed, twin key, stream]
            ss = np.random.SeedSequence([*ss.entropy, stream])
        fut = draw_futures(self._farm, self._request(order), ss, n_samples)
        self._futures_cache[key] = fut
        if len(self._futures_cache) > _FUTURES_CACHE_SIZE:
            self._futures_cache.popitem(last=False)
        return fut

    def _run(self, order: Order, fut: Futures, jobs: tuple[np.ndarray, ...]) -> Outcome:
        return run_schedule(self._farm, self._request(order), fut, *jobs)

    def _jobs(self, schedule: Any, order: Order) -> tuple[str, tuple[np.ndarray, ...]]:
        """Check a schedule; return (reason, (day, crew, lane) arrays sorted for the run)."""
        farm = self._farm
        empty = np.zeros(0, dtype=np.int64)
        none = (empty, empty, empty)
        if not isinstance(schedule, tuple | list):
            return (f"schedule is a {type(schedule).__name__}; expected a tuple of per-crew "
                    "tuples of (turbine, component, start_day)", none)
        if len(schedule) > farm.n_crews:
            return (f"schedule has {len(schedule)} crews; the farm has {farm.n_crews} "
                    f"(crew ids 0..{farm.n_crews - 1})", none)
        local = {t: i for i, t in enumerate(order.lines)}
        rows: list[tuple[int, int, int, int]] = []   # (day, crew, position, lane)
        lane_spans: dict[int, list[tuple[int, int, int]]] = {}
        for k, jobs in enumerate(schedule):
            if not isinstance(jobs, tuple | list):
                return f"crew {k}'s jobs are a {type(jobs).__name__}; expected a tuple", none
            spans = []
            for pos, job in enumerate(jobs):
                if (not isinstance(job, tuple | list) or len(job) != 3
                        or not all(type(v) is int for v in job)):
                    return (f"crew {k} job {pos} is {job!r:.60}; expected a (turbine, "
                            "component, start_day) triple of ints", none)
                turbine, c, day = job
                if turbine not in local:
                    return (f"crew {k} job {pos}: turbine {turbine} is not in the request "
                            f"(turbines {list(order.lines)})", none)
                if not 0 <= c < farm.n_components:
                    names = ", ".join(f"{i}={n}" for i, n in enumerate(farm.names))
                    return f"crew {k} job {pos}: unknown component {c}; expected {names}", none
                if not 0 <= day < farm.horizon_days:
                    return (f"crew {k} job {pos}: start day {day} is outside the horizon "
                            f"0..{farm.horizon_days - 1}", none)
                lane = local[turbine] * farm.n_components + c
                spans.append((day, day + self._dur_days[c], job))
                lane_spans.setdefault(lane, []).append((day, day + self._dur_days[c], k))
                rows.append((day, k, pos, lane))
            spans.sort(key=lambda s: (s[0], s[1]))
            for (_, e0, j0), (d1, _, j1) in itertools.pairwise(spans):
                if d1 < e0:
                    return (f"crew {k} is double-booked: {j1} starts on day {d1} before "
                            f"{j0} ends on day {e0}", none)
        for lane, spans in sorted(lane_spans.items()):
            spans.sort()
            for (_, e0, k0), (d1, _, k1) in itertools.pairwise(spans):
                if d1 < e0:
                    t, c = order.lines[lane // farm.n_components], lane % farm.n_components
                    return (f"turbine {t} component {c} is booked twice at once: by crew {k1} "
                            f"on day {d1} and by crew {k0} until day {e0}", none)
        if not rows:
            return "", none
        rows.sort()
        arr = np.array(rows, dtype=np.int64)
        return "", (arr[:, 0], arr[:, 1], arr[:, 3])


def _plain(schedule: Any) -> Any:
    """The schedule as JSON-able lists (non-int leaves as their repr)."""
    if isinstance(schedule, tuple | list):
        return [_plain(v) for v in schedule]
    if type(schedule) is int:
        return schedule
    return repr(schedule)

