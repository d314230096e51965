"""ServiceProvider: bids on pick-plan jobs, buys sim time to test candidate plans, delivers."""

from __future__ import annotations

from agents.params import BaseUnits, ComputeUnits, Count, MarginBps, Tier
from economy import Action, Bid, JobState, Observation, Simulate, Submit, UseData

__all__ = ["ServiceProvider"]


class ServiceProvider:
    """Sells pick plans: the more sim time it buys, the better the plan it delivers.

    With `candidates` = 0 it delivers the first solver's plan untested. Otherwise it builds
    `candidates` plans (each solver once, then the last solver again from random starts),
    evaluates them all in the twin with the job's evaluation seed (paying for the compute
    units), and delivers the fastest. Its bid covers that expected sim-time cost plus a markup.
    If the sim time cannot be bought within its limit (no results two ticks after asking),
    it delivers its last solver's plan (the most elaborate) untested rather than let the job
    expire.

    Args:
        solvers: reference solvers to draw candidates from, in order (default: the twin's).
        candidates: plans evaluated per job (0: none, deliver untested).
        markup_bps: margin over expected cost, in basis points.
        base_fee: base units added to every bid (its labour).
        max_jobs: jobs it works on at once.
        max_price_per_cu: the most it pays per compute unit (None: any offered price).
        policy: the registered asset (its policy) named on every deliverable, so completed
            jobs pay royalties up that asset's IP graph ("" for none).
        data_pool: a data pool it pays to use for every job it plans ("" for none).
        data_units: units of that pool's data each job uses.
        lease_cu: when its leases run short, lease at least this many CU at once (what
            later evaluations do not use returns when the lease ends).
        tier: the tier it tests candidates at (None: the job's own tier). "L1" testing of an
            "L2" job is cheap but can pick plans the physics judge ranks differently.
    """

    def __init__(
        self,
        solvers: tuple[str, ...] | list[str] | None = None,
        candidates: Count = 4,
        markup_bps: MarginBps = 2_000,
        base_fee: BaseUnits = 5 * 10**16,
        max_jobs: Count = 3,
        max_price_per_cu: BaseUnits | None = None,
        policy: str = "",
        data_pool: str = "",
        data_units: Count = 1,
        lease_cu: ComputeUnits = 0,
        tier: Tier | None = None,
    ) -> None:
        self.solvers = tuple(solvers) if solvers is not None else None
        self.candidates = candidates
        self.markup_bps = markup_bps
        self.base_fee = base_fee
        self.max_jobs = max_jobs
        self.max_price_per_cu = max_price_per_cu
        self.policy = policy
        self.data_pool = data_pool
        self.data_units = data_units
        self.lease_cu = lease_cu
        self.tier = tier
        self._simulated: dict[int, int] = {}  # job id -> tick its simulation was asked for

    def reset(self, seed: int) -> None:
        self._simulated = {}

    def _plans(self, obs: Observation, order) -> tuple:
        solvers = self.solvers or obs.planner.solvers
        plans = [obs.planner.solve(order, s) for s in solvers[: max(1, self.candidates)]]
        while len(plans) < self.candidates:
            plans.append(obs.planner.solve(order, solvers[-1], obs.rng))
        return tuple(plans)

    def act(self, obs: Observation) -> list[Action]:
        actions: list[Action] = []
        mine = [j for j in obs.jobs if j.provider == obs.address]
        answered = set()
        for result in obs.results:
            best = result.best
            job = next((j for j in mine if j.job_id == result.job_id), None)
            if best is not None and job is not None and job.state is JobState.FUNDED:
                actions.append(Submit(job_id=job.job_id, plan=best[0], policy=self.policy))
                answered.add(job.job_id)
        for job in mine:
            if job.state is not JobState.FUNDED:
                continue
            asked = self._simulated.get(job.job_id)
            if asked is not None:
                if asked <= obs.tick - 2 and job.job_id not in answered:  # no sim time to be had
                    solvers = self.solvers or obs.planner.solvers
                    actions.append(Submit(job_id=job.job_id, policy=self.policy,
                                          plan=obs.planner.solve(job.order, solvers[-1])))
                    self._simulated[job.job_id] = obs.tick + 10**9  # once
                continue
            self._simulated[job.job_id] = obs.tick
            plans = self._plans(obs, job.order)
            if self.data_pool:
                actions.append(UseData(pool=self.data_pool, units=self.data_units,
                                       job_id=job.job_id))
            if self.candidates == 0:
                actions.append(Submit(job_id=job.job_id, plan=plans[0], policy=self.policy))
            else:
                actions.append(Simulate(job_id=job.job_id, plans=plans,
                                        max_price_per_cu=self.max_price_per_cu,
                                        min_lease_cu=self.lease_cu, tier=self.tier))
        busy = sum(1 for j in mine if j.state is not JobState.SUBMITTED)
        if busy >= self.max_jobs or not obs.open_jobs:
            return actions
        price_per_cu = obs.quotes[0].price_per_cu if obs.quotes else 0
        # in its own random order: providers that all bid on the oldest jobs first leave the
        # rest without bids until they expire
        for i in obs.rng.permutation(len(obs.open_jobs)).tolist():
            job = obs.open_jobs[i]
            if busy >= self.max_jobs:
                break
            if job.client == obs.address or job.evaluator == obs.address:
                continue
            tier = self.tier or job.tier
            cost = self.candidates * obs.planner.estimate_cu(job.order, tier) * price_per_cu
            price = self.base_fee + cost * (10_000 + self.markup_bps) // 10_000
            if price <= job.budget:
                actions.append(Bid(job_id=job.job_id, price=price))
                busy += 1
        return actions
