"""AdaptiveProvider: sells plans at a price it learns above a reservation price that counts
every cost, and buys sim time at the margin.

**Reservation price.** For a job it would test `k` candidate plans for, the provider's cost
is the sim time (`k` x the CU of a plan at the job's tier x (the cheapest CU price + the
twin's licence)) plus the data it uses; of a price it keeps what the platform and evaluator
fees and the royalty stack of its policy leave; and it is paid only if its plan passes the
customer's rule, with the chance `P(pass | k)` it has seen. So its reservation price is
`cost / (share kept x P(pass | k))`, and it does not bid where that exceeds the job's budget.

**Price (ZIP, Cliff 1997).** It bids its reservation price times `1 + margin`, and learns the
margin from its bids' outcomes: a won bid moves it toward a price a little above the bid, a
bid lost to a lower price toward just under the winning price (never below zero margin). With
rivals the margin falls toward cost; alone it rises toward the customer's budget.

**Sim time at the margin.** From the evaluations it has bought it keeps, by job size (the
request's number of lines), how much faster than the baseline the best of the first `k`
candidates was, and whether it passed the job's rule. It tests the `k` that maximises the
expected value of testing less its cost: under the lowest-price award, the chance of passing
times the price; under the scoring award also the value of the expected improvement to the
customer (what the scoring rule pays for, through the provider's reputation). A fraction of
jobs (`explore_bps`) is tested with more candidates, to keep learning the curve.

**Delivery.** It delivers the best plan only if it passes the job's rule (a plan the customer
will reject earns nothing and counts against it). If none of its first plans passes, it tests
as many more (up to `max_candidates` in all) when the price it would keep covers their sim
time, since a job won and not delivered is a failure on its record; otherwise it lets the job
expire.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from agents.builtin._market import SIZE_BUCKETS, plan_test_cost, size_bucket
from agents.params import Bps, Count, NonNegative, Share, Tier
from economy import Action, Bid, JobState, Observation, Simulate, Submit, UseData
from economy.history import BidOutcome, JobOutcome

__all__ = ["AdaptiveProvider"]



class AdaptiveProvider:
    """A provider that prices from its costs and learns its margin and its sim-time use.

    Args:
        margin: the starting margin over the reservation price (0.3 = 30 %).
        learning_rate: how far one outcome moves the margin toward its target (ZIP's beta).
        momentum: how much of the last change carries into the next (ZIP's gamma).
        max_jobs: jobs it works on at once.
        max_candidates: the most plans it tests for one job.
        start_candidates: plans it tests while it has no experience of a job's size.
        explore_bps: share of jobs tested with `max_candidates` plans, to learn the curve.
        solvers: the reference solvers it draws candidates from (default: the twin's).
        policy: the registered asset named on its deliverables ("" for none).
        data_pool: a data pool it pays to use for every job it plans ("" for none).
        data_units: units of that pool's data each job uses.
        tier: the tier it tests at (None: the job's own).
        min_pass: it bids only where it expects its plan to pass the job's rule at least this
            often (a job won and not delivered is a failure on its record, as a rejection).
    """

    def __init__(self, margin: NonNegative = 0.3, learning_rate: Share = 0.3,
                 momentum: Share = 0.3, max_jobs: Count = 3, max_candidates: Count = 16,
                 start_candidates: Count = 4, explore_bps: Bps = 1_000,
                 solvers: tuple[str, ...] | list[str] | None = None, policy: str = "",
                 data_pool: str = "", data_units: Count = 1, tier: Tier | None = None,
                 min_pass: Share = 0.5) -> None:
        self.min_pass = min_pass
        self.margin0 = float(margin)
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.max_jobs = max_jobs
        self.max_candidates = max(1, max_candidates)
        self.start_candidates = max(1, start_candidates)
        self.explore_bps = explore_bps
        self.solvers = tuple(solvers) if solvers is not None else None
        self.policy = policy
        self.data_pool = data_pool
        self.data_units = data_units
        self.tier = tier
        self.reset(0)

    def reset(self, seed: int) -> None:
        self.margin = self.margin0
        self._step = 0.0
        self._curves: list[deque] = [deque(maxlen=128) for _ in range(SIZE_BUCKETS)]
        self._bids: dict[int, tuple[int, int]] = {}  # job id -> (reservation, candidates)
        self._asked: dict[int, int] = {}  # job id -> tick its evaluations were asked for
        self._ratios: dict[int, list[float]] = {}  # job id -> its candidates' time ratios
        #: candidates it tested for each job it finished testing, in order (what it chose)
        self.tested: list[int] = []
        self._cursor = 0  # outcomes before this tick were learned from

    # -- learning ------------------------------------------------------------------------------
    def _learn_price(self, obs: Observation) -> None:
        for outcome in obs.outcomes:
            if outcome.tick < self._cursor:
                continue
            if type(outcome) is BidOutcome:
                reservation, _ = self._bids.get(outcome.job_id, (0, 0))
                if not reservation:
                    continue
                if outcome.won:
                    target = outcome.price * 1.05 / reservation - 1
                elif outcome.award_price < outcome.price:
                    target = outcome.award_price * 0.98 / reservation - 1
                else:  # lost to a better score at a higher price: not a price signal
                    continue
                self._step = (self.momentum * self._step
                              + (1 - self.momentum) * self.learning_rate
                              * (target - self.margin))
                self.margin = max(0.0, self.margin + self._step)
                if not outcome.won:
                    self._bids.pop(outcome.job_id, None)
            elif type(outcome) is JobOutcome and outcome.role == "provider":
                self._bids.pop(outcome.job_id, None)
                self._asked.pop(outcome.job_id, None)
                self._ratios.pop(outcome.job_id, None)
        self._cursor = obs.tick

    def _learn_curve(self, job: Any, ratios: list[float]) -> None:
        """Record a job's candidates' times over its baseline, in the order tested."""
        self.tested.append(len(ratios))
        threshold = job.max_time_ms / job.baseline_ms if job.baseline_ms else 1.0
        self._curves[size_bucket(job.order)].append((tuple(ratios), threshold))

    def _outlook(self, job: Any, k: int) -> tuple[float, float]:
        """(P(pass), expected improvement share) of testing the first `k` candidates, from
        the jobs of this size seen so far (a prior of one half and no gain before any). A job
        that tested fewer than `k` counts with what it tested: what more candidates would
        have found is learned only by testing more (`explore_bps`)."""
        curves = self._curves[size_bucket(job.order)]
        if not curves:
            return 0.5, 0.0
        passed = gain = 0.0
        for ratios, threshold in curves:
            best = min(ratios[:k])  # a job that tested fewer: no gain assumed from the rest
            if best <= threshold:
                passed += 1
                gain += max(0.0, 1.0 - best)
        n = len(curves)
        return (passed + 0.5) / (n + 1), gain / n

    # -- deciding ------------------------------------------------------------------------------
    def _costs(self, obs: Observation, job: Any, tier: str) -> tuple[float, float, float]:
        """(cost of one candidate's sim time, cost of the data a job uses, share of a price
        it keeps)."""
        rules = obs.rules
        per_plan = plan_test_cost(obs, job.order, tier)
        data = 0.0
        if self.data_pool and rules is not None:
            for pool in rules.pools:
                if pool.key == self.data_pool:
                    data = pool.price_per_unit * self.data_units
        kept = 1.0
        if rules is not None:
            kept = (10_000 - rules.platform_fee_bps - rules.evaluator_fee_bps) / 10_000
            kept *= (10_000 - rules.royalty_bps(self.policy)) / 10_000 if self.policy else 1
        return per_plan, data, max(kept, 1e-6)

    def _plan_k(self, obs: Observation, job: Any, per_plan: float, price: float) -> int:
        """The number of candidates whose expected value less cost is highest."""
        if not any(self._curves[size_bucket(job.order)]):
            return self.start_candidates
        rules = obs.rules
        scoring = rules is not None and rules.award == "scoring"
        value_rate = rules.time_value_per_h / 3_600_000 if rules is not None else 0.0
        best_k, best = 1, None
        for k in range(1, self.max_candidates + 1):
            p_pass, gain = self._outlook(job, k)
            value = p_pass * price + (gain * job.baseline_ms * value_rate if scoring else 0)
            net = value - k * per_plan
            if best is None or net > best:
                best_k, best = k, net
        return best_k

    def _bid(self, obs: Observation, job: Any) -> Bid | None:
        tier = self.tier or job.tier
        per_plan, data, kept = self._costs(obs, job, tier)
        anchor = _recent_price(obs, job) or job.budget / 2
        k = self._plan_k(obs, job, per_plan, anchor * kept)
        if obs.rng.integers(10_000) < self.explore_bps:
            k = self.max_candidates
        p_pass, _ = self._outlook(job, k)
        if p_pass < self.min_pass:  # a job it would likely fail: a strike, and no pay
            return None
        reservation = (k * per_plan + data) / (kept * max(p_pass, 0.05))
        price = int(max(reservation, 1) * (1 + self.margin))
        if reservation > job.budget:
            return None
        price = min(price, job.budget)
        self._bids[job.job_id] = (max(int(reservation), 1), k)
        return Bid(job_id=job.job_id, price=price)

    def _plans(self, obs: Observation, order: Any, k: int, start: int = 0) -> tuple:
        """Candidates `start` to `start + k` of its sequence: each solver's own plan first,
        then restarts of the last solver on the policy's random stream."""
        solvers = self.solvers or obs.planner.solvers
        plans = [obs.planner.solve(order, s) for s in solvers[start:start + k]]
        while len(plans) < k:
            plans.append(obs.planner.solve(order, solvers[-1], obs.rng))
        return tuple(plans)

    def _retry(self, obs: Observation, job: Any, tested: int) -> Simulate | None:
        """More candidates for a job whose first ones all failed, if worth their sim time."""
        more = min(tested, self.max_candidates - tested)
        if more <= 0 or job.expires_at - obs.tick < 2:
            return None
        per_plan, _, kept = self._costs(obs, job, self.tier or job.tier)
        if more * per_plan >= job.budget * kept:
            return None
        return Simulate(job_id=job.job_id, plans=self._plans(obs, job.order, more, tested),
                        tier=self.tier)

    def act(self, obs: Observation) -> list[Action]:
        self._learn_price(obs)
        actions: list[Action] = []
        mine = [j for j in obs.jobs if j.provider == obs.address]
        answered = set()
        for result in obs.results:
            job = next((j for j in mine if j.job_id == result.job_id), None)
            if job is None or not job.baseline_ms:
                continue
            ratios = self._ratios.setdefault(job.job_id, [])
            ratios.extend(ev.time_ms / job.baseline_ms if ev.valid else float("inf")
                          for ev in result.evaluations)
            answered.add(job.job_id)
            best = result.best
            retry = None
            if job.state is JobState.FUNDED:
                if best is not None and best[1].time_ms <= job.max_time_ms:
                    actions.append(Submit(job_id=job.job_id, plan=best[0], policy=self.policy))
                else:
                    retry = self._retry(obs, job, len(ratios))
            if retry is not None:
                actions.append(retry)
            else:  # the job's candidates are all tested: what they show is learned
                self._learn_curve(job, self._ratios.pop(job.job_id))
        for job in mine:
            if job.state is not JobState.FUNDED or job.job_id in answered:
                continue
            if job.job_id in self._asked:
                continue
            self._asked[job.job_id] = obs.tick
            _, k = self._bids.get(job.job_id, (0, self.start_candidates))
            if self.data_pool:
                actions.append(UseData(pool=self.data_pool, units=self.data_units,
                                       job_id=job.job_id))
            actions.append(Simulate(job_id=job.job_id, plans=self._plans(obs, job.order, k),
                                    tier=self.tier))
        busy = sum(1 for j in mine if j.state is not JobState.SUBMITTED)
        if busy >= self.max_jobs or not obs.open_jobs:
            return actions
        for i in obs.rng.permutation(len(obs.open_jobs)).tolist():
            job = obs.open_jobs[i]
            if busy >= self.max_jobs:
                break
            if obs.address in (job.client, job.evaluator) or not job.baseline_ms:
                continue
            bid = self._bid(obs, job)
            if bid is not None:
                actions.append(bid)
                busy += 1
        return actions


def _recent_price(obs: Observation, job: Any) -> float:
    """The mean award price at the job's tier over the market's recent ticks (0 if none)."""
    if obs.market is None:
        return 0.0
    total = n = 0
    for tick in obs.market.ticks[-8:]:
        for t in tick.tiers:
            if t.tier == job.tier:
                total += t.price_mean * t.awards
                n += t.awards
    return total / n if n else 0.0
