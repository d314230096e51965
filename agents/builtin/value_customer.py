"""ValueCustomer: an operator that buys a plan only when the plan is worth more than it costs.

**Value.** A plan's worth to the customer is the twin time it saves against the baseline plan
(`obs.baselines`: what its operation takes without the service) at the scenario's
`time_value_per_h` (`obs.rules`): picking time in a warehouse, truck time in logistics,
turbine downtime in a wind farm. So prices and values are on one scale in every twin.

**What it expects.** It keeps, by order size (its number of lines), the improvement its last
jobs of that size delivered: a completed job's `1 - time_ratio`, and 0 for a job that ended
without a plan (no provider would do it, or the plan failed its rule). Before any, it expects
`prior_gain_bps`. An order's expected value is its baseline's time x that improvement x the
value of time.

**Budget and whether to post.** Its budget, the most it pays, is `value_share_bps` of the
expected value: a reserve price below its value, so a trade it makes is worth making. It does
not post an order whose budget would not pay for one evaluation of a plan in the twin (no
provider could test a plan for it), or whose expected improvement is below the least it
accepts (`min_gain_bps`): that order goes without a service. A share of such orders
(`explore_bps`) is posted anyway at the prior's budget, to learn whether the market has
changed.

**Acceptance.** A plan is accepted if it is at least `min_gain_bps` faster than the baseline,
and at least fast enough that its saving is worth the price the customer expects to pay (what
its jobs of that size have cost, per ms of baseline): it does not pay for plans worth less
than their price.

**Who judges.** It wants an independent evaluator (`third_party_evaluator`) when one will do
the job for what the escrow rule pays it: the cheapest evaluator whose posted least fee
(`obs.evaluator_quotes`) `fee_cover` times over is covered by `evaluator_fee_bps` of the lowest
price it has paid lately per CU of testing an order of the size, times this order's CU (so
not before it has paid for one). An evaluator that has
posted no fee is not named (its price is unknown). Otherwise it judges the plan itself, buying
the sim time.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from agents.builtin._market import SIZE_BUCKETS, plan_test_cost, size_bucket
from agents.builtin.evaluator import evaluate_jobs
from agents.params import Bps, Count, NonNegative, Ticks, Tier
from economy import Action, JobState, Observation, PostJob
from economy.history import JobOutcome

__all__ = ["ValueCustomer"]

_MS_PER_H = 3_600_000


class ValueCustomer:
    """Posts a job for an order when the plan's expected value covers its cost.

    Args:
        value_share_bps: its budget, as a share of the order's expected value (its reserve
            price), basis points.
        prior_gain_bps: the improvement over the baseline it expects before it has any
            experience of an order's size, basis points of the baseline's time.
        min_gain_bps: the least improvement it accepts, basis points of the baseline's time.
        max_open_jobs: jobs it keeps open as client at once; further orders wait.
        expires_in: ticks before an unfinished job may be refunded.
        third_party_evaluator: use an independent evaluator when one's quote is covered.
        explore_bps: share of orders not worth posting that are posted anyway, to learn.
        memory: jobs of each size it remembers.
        tier: the fidelity tier its jobs are judged at ("L1", or "L2": its real site is the
            physics twin).
        fee_cover: how many times over the fee it expects to pay must cover an evaluator's
            quote before it names it (prices vary and fall as providers learn; an evaluator
            paid less than its sim time would not take the work).
    """

    def __init__(self, value_share_bps: Bps = 8_000, prior_gain_bps: Bps = 1_000,
                 min_gain_bps: Bps = 100, max_open_jobs: Count = 2, expires_in: Ticks = 12,
                 third_party_evaluator: bool = True, explore_bps: Bps = 500,
                 memory: Count = 16, tier: Tier = "L1", fee_cover: NonNegative = 1.0) -> None:
        self.fee_cover = fee_cover
        self.value_share_bps = value_share_bps
        self.prior_gain_bps = prior_gain_bps
        self.min_gain_bps = min_gain_bps
        self.max_open_jobs = max_open_jobs
        self.expires_in = expires_in
        self.third_party_evaluator = third_party_evaluator
        self.explore_bps = explore_bps
        self.memory = memory
        self.tier = tier
        self.reset(0)

    def reset(self, seed: int) -> None:
        self._pending: set[int] = set()
        self._gains: list[deque] = [deque(maxlen=self.memory) for _ in range(SIZE_BUCKETS)]
        self._price_per_ms: list[deque] = [deque(maxlen=self.memory) for _ in range(SIZE_BUCKETS)]
        # what a job cost per CU of testing its order: an evaluator's cost is per CU too
        self._price_per_cu: list[deque] = [deque(maxlen=self.memory) for _ in range(SIZE_BUCKETS)]
        self._jobs: dict[int, tuple[int, int]] = {}  # job id -> (size bucket, baseline ms)
        self._cursor = 0

    # -- learning ------------------------------------------------------------------------------
    def _learn(self, obs: Observation) -> None:
        for job in obs.jobs:
            if job.client == obs.address and job.job_id not in self._jobs:
                self._jobs[job.job_id] = (size_bucket(job.order), job.baseline_ms,
                                          obs.planner.estimate_cu(job.order, job.tier))
        for outcome in obs.outcomes:
            if (outcome.tick < self._cursor or type(outcome) is not JobOutcome
                    or outcome.role != "client"):
                continue
            known = self._jobs.pop(outcome.job_id, None)
            if known is None:
                continue
            bucket, baseline_ms, cu = known
            if outcome.result == "completed" and outcome.time_ratio is not None:
                self._gains[bucket].append(max(0.0, 1.0 - outcome.time_ratio))
                if baseline_ms:
                    self._price_per_ms[bucket].append(outcome.price / baseline_ms)
                if cu:
                    self._price_per_cu[bucket].append(outcome.price / cu)
            else:
                self._gains[bucket].append(0.0)
        self._cursor = obs.tick

    def expected_gain(self, order: Any) -> float:
        """The improvement it expects on an order of this size (a share of the baseline)."""
        seen = self._gains[size_bucket(order)]
        prior = self.prior_gain_bps / 10_000
        # the prior counts as one job, so a single bad outcome does not end a size's market
        return (prior + sum(seen)) / (1 + len(seen))

    def _expected_price(self, order: Any, baseline_ms: int) -> float:
        seen = self._price_per_ms[size_bucket(order)]
        return sum(seen) / len(seen) * baseline_ms if seen else 0.0

    def _lowest_price(self, order: Any, cu: int) -> float:
        """The least it has paid lately for an order of this size per CU of testing it,
        times `cu`."""
        seen = self._price_per_cu[size_bucket(order)]
        return min(seen) * cu if seen else 0.0

    # -- deciding ------------------------------------------------------------------------------
    def _evaluator(self, obs: Observation, fee: float) -> Any:
        """The cheapest evaluator whose least fee `fee` covers (None: judge it itself)."""
        if not self.third_party_evaluator:
            return None
        quoted = {q.evaluator: q.min_fee for q in obs.evaluator_quotes}
        fits = [e for e in obs.evaluators
                if e != obs.address and e in quoted and quoted[e] * self.fee_cover <= fee]
        if not fits:
            return None
        cheapest = min(quoted[e] for e in fits)
        fits = [e for e in fits if quoted[e] == cheapest]
        return fits[int(obs.rng.integers(len(fits)))]

    def act(self, obs: Observation) -> list[Action]:
        self._learn(obs)
        actions = evaluate_jobs(obs, self._pending)
        open_jobs = sum(1 for j in obs.jobs
                        if j.client == obs.address and j.state is not JobState.SUBMITTED)
        rules = obs.rules
        if rules is None:
            return actions
        value_per_ms = rules.time_value_per_h / _MS_PER_H
        balance = obs.balance
        for order, baseline_ms in zip(obs.orders, obs.baselines, strict=False):
            if open_jobs >= self.max_open_jobs:
                break
            gain = self.expected_gain(order)
            budget = int(gain * baseline_ms * value_per_ms * self.value_share_bps / 10_000)
            one_test = plan_test_cost(obs, order, self.tier)
            if budget <= one_test or gain * 10_000 < self.min_gain_bps:
                if obs.rng.integers(10_000) >= self.explore_bps:
                    continue
                budget = int(self.prior_gain_bps / 10_000 * baseline_ms * value_per_ms
                             * self.value_share_bps / 10_000)
                if budget <= 0:
                    continue
            if budget > balance:
                break
            balance -= budget
            price = self._expected_price(order, baseline_ms)
            worth_bps = int(10_000 * price / (baseline_ms * value_per_ms)) if price else 0
            # the fee an evaluator earns is a share of the price, known only at the award: the
            # customer promises the fee of the lowest price it has paid for an order of the
            # size (before any, none, and it judges the plan itself)
            low = self._lowest_price(order, obs.planner.estimate_cu(order, self.tier))
            fee = min(low, budget) * rules.evaluator_fee_bps / 10_000
            actions.append(PostJob(order_id=order.order_id, budget=budget,
                                   evaluator=self._evaluator(obs, fee) if low else None,
                                   expires_in=self.expires_in, tier=self.tier,
                                   min_gain_bps=min(9_999, max(self.min_gain_bps, worth_bps))))
            open_jobs += 1
        return actions
