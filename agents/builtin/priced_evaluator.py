"""PricedEvaluator: an evaluator that posts the fee its sim time costs, and so declines work
that would not pay.

Judging a plan means evaluating it once in the twin at the job's tier, buying the sim time:
the CU of the job's request at that tier x (the cheapest CU price + the twin's licence). The
escrow pays the evaluator `evaluator_fee_bps` of the job's price (`obs.rules`), and, unless
the escrow rule pays it on reject too (`evaluator_paid_on_reject`), only when it completes the
job. So the evaluator posts a least fee (`OfferEvaluation`) of its expected cost per
evaluation x `1 + margin`, over the share of judged jobs that pay it (completions over
completions and rejections, its own and the market's last ticks). One fee is posted for
every job, and customers choose an evaluator before a job's price is known, so it prices the
dearest evaluation among the last `memory` jobs posted on the market: it turns away the
cheaper jobs rather than lose on the dear ones. Customers name it only on jobs whose fee
covers that (`ValueCustomer`). An evaluator whose cost no job's fee covers is named on no job:
it declines by its price. It re-posts when its cost estimate moves by more than
`repost_bps`.

On a job it is named on it rules as `Evaluator` does: complete if the plan is valid and no
slower than the job's `max_time_ms`, else reject.
"""

from __future__ import annotations

from collections import deque

from agents.builtin._market import plan_test_cost
from agents.builtin.evaluator import evaluate_jobs
from agents.params import Count, MarginBps, NonNegative
from economy import Action, Observation, OfferEvaluation
from economy.history import JobOutcome

__all__ = ["PricedEvaluator"]


class PricedEvaluator:
    """An evaluator that prices its service at its cost plus a margin.

    Args:
        margin: its margin over the expected cost of one evaluation (0.5 = 50 %).
        memory: jobs posted on the market its cost estimate looks back over.
        repost_bps: how far its cost must move before it posts a new fee.
    """

    def __init__(self, margin: NonNegative = 0.5, memory: Count = 32,
                 repost_bps: MarginBps = 1_000) -> None:
        self.margin = margin
        self.memory = memory
        self.repost_bps = repost_bps
        self.reset(0)

    def reset(self, seed: int) -> None:
        self._pending: set[int] = set()
        self._costs: deque[float] = deque(maxlen=self.memory)
        self._seen: set[int] = set()
        self._posted: int | None = None
        self._judged = [0, 0]  # [completed, rejected] of the jobs it judged
        self._cursor = 0

    def _paid_share(self, obs: Observation) -> float:
        """The share of judged jobs that end completed: its own record, and the market's
        recent one (`obs.market`) as one more observation each tick."""
        completed, rejected = self._judged
        for tick in obs.market.ticks if obs.market is not None else ():
            completed += tick.completed
            rejected += tick.rejected
        return max(completed, 1) / max(completed + rejected, 1)

    def quote(self, obs: Observation) -> int | None:
        """The least fee it asks per evaluation, base units (None: it cannot price one yet)."""
        if not self._costs:
            return self._posted
        cost = max(self._costs)
        paid = 1.0
        if obs.rules is not None and not obs.rules.evaluator_paid_on_reject:
            paid = self._paid_share(obs)
        return int(cost * (1 + self.margin) / paid) + 1

    def act(self, obs: Observation) -> list[Action]:
        for outcome in obs.outcomes:
            if (outcome.tick >= self._cursor and type(outcome) is JobOutcome
                    and outcome.role == "evaluator" and outcome.result != "expired"):
                self._judged[outcome.result != "completed"] += 1
        self._cursor = obs.tick
        for job in obs.open_jobs:  # every job posted is one it may be named on
            if job.job_id not in self._seen:
                self._seen.add(job.job_id)
                self._costs.append(plan_test_cost(obs, job.order, job.tier))
        self._seen.intersection_update(j.job_id for j in obs.open_jobs)
        actions = evaluate_jobs(obs, self._pending)
        fee = self.quote(obs)
        if fee is None:  # nothing to price from yet: it posts no fee, and is named on no job
            return actions
        if self._posted is None or abs(fee - self._posted) * 10_000 > self.repost_bps * max(
                self._posted, 1):
            self._posted = fee
            actions.append(OfferEvaluation(min_fee=fee))
        return actions
