"""Monte Carlo futures of a maintenance request, and a schedule executed in all of them at once.

`draw_futures` draws everything random about a request's futures that does not depend on the
plan: the accessible days of each future, the days each crew is available (each crew-day
independently with ``crew_availability_bps``), and the successive lifetimes of every component
(`MAX_LIVES` per component: the current one from its age or wear, then fresh ones). So every
plan evaluated with one seed meets the same weather and the same component lives (common
random numbers), and comparisons between plans are sharp.

`run_schedule` executes a schedule in every future. Jobs are taken in order of the time they
become ready, one per future per step of a loop over events (vectorised over the futures):

- a failure at ``f`` stops its turbine; a corrective repair is ready at ``f + lead_time``,
  goes to the crew that can start it first (lowest id on ties), starts on that crew's first
  workable day at or after the later of (ready, crew free), lasts ``repair_duration`` and
  renews the component; cost ``repair_cost``;
- a planned replacement (crew ``k``, day ``d``) starts on crew ``k``'s first workable day at or
  after the later of (day ``d``, crew ``k`` free), stops the turbine for ``replace_duration``
  and renews the component; cost ``replace_cost``. If the component has already failed by
  then, the replacement is dropped (the corrective repair renews it).

A day is workable for a crew if the weather gives access and the crew is available; a job
needs a workable day to start and then runs to its end. Components age
in calendar time. A turbine's downtime is the union of its components' down intervals, cut at
the end of the run. A component renewed more than `MAX_LIVES - 1` times reuses its fresh
lives cyclically (rare: it takes many short lives in one run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worlds.windfarm._failures import NEVER, gamma_lives_h, to_ms, weibull_lives_h
from worlds.windfarm._farm import DAY_MS, Farm
from worlds.windfarm._weather import access_days, day_months, next_access

__all__ = ["MAX_LIVES", "Futures", "Outcome", "Request", "draw_futures", "run_schedule"]

MAX_LIVES = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """A request's component lanes (lane ``i * C + c`` = component c of local turbine i).

    Attributes:
        n_turbines: turbines in the request.
        age_h: (J,) int64 current ages.
        wear: (J,) int64 current wear (0 for Weibull components).
        start_doy: first day's day of the year.
    """

    n_turbines: int
    age_h: np.ndarray
    wear: np.ndarray
    start_doy: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Futures:
    """Plan-independent draws of S futures.

    Attributes:
        next_ok: (S, K, D + 1) int16: crew k's first workable day >= d (D if none).
        lives: (S, J, MAX_LIVES) int64 ms, `NEVER` past the run.
    """

    next_ok: np.ndarray
    lives: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.lives.shape[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """Per-future totals of one schedule, each (S,) int64."""

    maintenance_cost: np.ndarray
    down_ms: np.ndarray
    failures: np.ndarray
    replacements: np.ndarray


def draw_futures(farm: Farm, req: Request, ss: np.random.SeedSequence,
                 n_samples: int) -> Futures:
    """Draw the weather, crew availability and component lives of `n_samples` futures."""
    weather_ss, lives_ss, crews_ss = ss.spawn(3)
    n_days, n_crews = farm.run_days, farm.n_crews
    rng_w = np.random.Generator(np.random.PCG64(weather_ss))
    good = access_days(rng_w.random((n_samples, n_days)), day_months(req.start_doy, n_days),
                       farm.stay_good, farm.stay_bad)
    workable = np.broadcast_to(good[:, None, :], (n_samples, n_crews, n_days))
    if farm.crew_availability_bps < 10_000:
        # 16 random bits per crew-day: available with chance floor(bps * 2^16 / 10^4) / 2^16
        # (within 1/65536 of the spec's bps, at a third of the cost of an exact draw).
        rng_c = np.random.Generator(np.random.PCG64(crews_ss))
        draws = rng_c.integers(0, 1 << 16, size=(n_samples, n_crews, n_days), dtype=np.uint16)
        workable = workable & (draws < farm.crew_availability_bps * (1 << 16) // 10_000)
    next_ok = next_access(workable.reshape(n_samples * n_crews, n_days)).reshape(
        n_samples, n_crews, n_days + 1)

    rng_l = np.random.Generator(np.random.PCG64(lives_ss))
    n_comp = farm.n_components
    comp = np.tile(np.arange(n_comp), req.n_turbines)               # (J,)
    n_lanes = len(comp)
    window_ms = n_days * DAY_MS
    age = np.zeros((n_lanes, MAX_LIVES))
    age[:, 0] = req.age_h
    u = rng_l.random((n_samples, n_lanes, MAX_LIVES))
    life_h = np.empty((n_samples, n_lanes, MAX_LIVES))
    weibull_lanes = np.flatnonzero(~farm.is_gamma[comp])
    if len(weibull_lanes):
        wc = comp[weibull_lanes]
        life_h[:, weibull_lanes, :] = weibull_lives_h(
            u[:, weibull_lanes, :], age[weibull_lanes][None],
            farm.wb_shape[wc][None, :, None], farm.wb_scale_h[wc][None, :, None])
    gamma_lanes = np.flatnonzero(farm.is_gamma[comp])
    if len(gamma_lanes):
        gc = comp[gamma_lanes]
        wear = np.zeros((len(gamma_lanes), MAX_LIVES))
        wear[:, 0] = req.wear[gamma_lanes]
        shape = (n_samples, len(gamma_lanes), MAX_LIVES)

        def per_lane(x: np.ndarray) -> np.ndarray:
            return np.broadcast_to(x.reshape(1, -1, 1) if x.ndim == 1 else x[None],
                                   shape).ravel()

        g = gamma_lives_h(rng_l, per_lane(wear), per_lane(age[gamma_lanes]),
                          per_lane(farm.g_rate_per_y[gc]), per_lane(farm.g_exp[gc]),
                          per_lane(farm.g_scale[gc]),
                          per_lane(farm.failure_wear[gc].astype(np.float64)),
                          n_days * 24.0)
        life_h[:, gamma_lanes, :] = g.reshape(shape)
    return Futures(next_ok=next_ok, lives=to_ms(life_h, window_ms))


def run_schedule(farm: Farm, req: Request, fut: Futures, job_day: np.ndarray,
                 job_crew: np.ndarray, job_lane: np.ndarray) -> Outcome:
    """Execute a schedule in every future.

    Args:
        farm: the farm parameters.
        req: the request's lanes.
        fut: the futures (from `draw_futures` for this request).
        job_day, job_crew, job_lane: (P,) int64 planned replacements sorted by day (then
            crew, then the crew's order): start day, crew id, lane.

    Returns:
        Per-future maintenance cost, turbine downtime, failures and replacements.
    """
    n_samples, n_lanes, _ = fut.lives.shape
    n_comp = farm.n_components
    comp = np.tile(np.arange(n_comp), req.n_turbines)
    turbine = np.repeat(np.arange(req.n_turbines), n_comp)
    lead, repair_ms, replace_ms = farm.lead_ms[comp], farm.repair_ms[comp], farm.replace_ms[comp]
    repair_cost, replace_cost = farm.repair_cost[comp], farm.replace_cost[comp]
    n_days = fut.next_ok.shape[2] - 1
    run_end = n_days * DAY_MS
    next_ok = fut.next_ok
    lives = fut.lives

    n_jobs = len(job_day)
    job_ms = np.append(job_day * DAY_MS, NEVER)                     # sentinel for "no more"
    job_crew = np.append(job_crew, 0)
    job_lane = np.append(job_lane, 0)

    fail_at = lives[:, :, 0].copy()                                 # (S, J) absolute ms
    n_lives = np.zeros((n_samples, n_lanes), dtype=np.int64)
    crew_free = np.zeros((n_samples, farm.n_crews), dtype=np.int64)
    pi = np.zeros(n_samples, dtype=np.int64)
    cost = np.zeros(n_samples, dtype=np.int64)
    failures = np.zeros(n_samples, dtype=np.int64)
    replaced = np.zeros(n_samples, dtype=np.int64)
    rows = np.arange(n_samples)
    spans: list[tuple[np.ndarray, ...]] = []

    crews = np.arange(farm.n_crews)

    def start_at(s: np.ndarray, k: np.ndarray, t0: np.ndarray) -> np.ndarray:
        """When crew k of future s can start a job it may take from t0 (arrays broadcast)."""
        day = np.minimum(t0 // DAY_MS, n_days)
        nd = next_ok[s, k, day].astype(np.int64)
        return np.where(nd == day, t0, np.maximum(nd * DAY_MS, t0))

    def renew(s: np.ndarray, j: np.ndarray, end: np.ndarray) -> None:
        r = n_lives[s, j] + 1
        n_lives[s, j] = r
        r = np.where(r < MAX_LIVES, r, 1 + (r - 1) % (MAX_LIVES - 1))
        life = lives[s, j, r]
        fail_at[s, j] = np.where((life == NEVER) | (end >= run_end), NEVER, end + life)

    while True:
        ready = np.where(fail_at < run_end, fail_at + lead, NEVER)
        j = ready.argmin(axis=1)
        c_ready = ready[rows, j]
        p_ready = job_ms[pi]
        planned = (p_ready <= c_ready) & (pi < n_jobs)
        corrective = ~planned & (c_ready < NEVER)
        if not (planned.any() or corrective.any()):
            break
        if corrective.any():
            s, jj = rows[corrective], j[corrective]
            starts = start_at(s[:, None], crews[None, :],
                              np.maximum(c_ready[corrective][:, None], crew_free[s]))
            k = starts.argmin(axis=1)
            start = starts[np.arange(len(s)), k]
            end = start + repair_ms[jj]
            crew_free[s, k] = end
            spans.append((s, turbine[jj], fail_at[s, jj], np.minimum(end, run_end)))
            cost[s] += repair_cost[jj]
            failures[s] += 1
            renew(s, jj, end)
        if planned.any():
            s = rows[planned]
            p = pi[s]
            pi[s] = p + 1
            jj, k = job_lane[p], job_crew[p]
            start = start_at(s, k, np.maximum(job_ms[p], crew_free[s, k]))
            ok = (start < run_end) & (fail_at[s, jj] > start)
            s, jj, k, start = s[ok], jj[ok], k[ok], start[ok]
            end = start + replace_ms[jj]
            crew_free[s, k] = end
            spans.append((s, turbine[jj], start, np.minimum(end, run_end)))
            cost[s] += replace_cost[jj]
            replaced[s] += 1
            renew(s, jj, end)

    return Outcome(maintenance_cost=cost, down_ms=_union_ms(spans, n_samples, req.n_turbines,
                                                            run_end),
                   failures=failures, replacements=replaced)


def _union_ms(spans: list[tuple[np.ndarray, ...]], n_samples: int, n_turbines: int,
              run_end: int) -> np.ndarray:
    """(S,) total length of the union of each (future, turbine)'s down intervals."""
    out = np.zeros(n_samples, dtype=np.int64)
    if not spans:
        return out
    s, t, a, b = (np.concatenate(x) for x in zip(*spans, strict=True))
    # Shift each (future, turbine) group onto its own stretch of the time axis, so one
    # running maximum over the sorted intervals never carries across groups.
    _, group = np.unique(s * n_turbines + t, return_inverse=True)
    offset = group.astype(np.int64) * (run_end + 1)
    a, b = a + offset, b + offset
    order = np.lexsort((a, offset))
    a, b, s = a[order], b[order], s[order]
    reach = np.maximum.accumulate(b)
    prev = np.concatenate(([np.int64(0)], reach[:-1]))
    length = np.maximum(b - np.maximum(a, prev), 0)
    np.add.at(out, s, length)
    return out
