"""PricedEvaluator: an evaluator that posts the fee its sim time costs, and so declines work
that would not pay.

Judging a plan means evaluating it once in the twin at the job's tier, buying the sim time:
the CU of the job's request at that tier x (the cheapest CU price + the twin's licence). The
escrow pays the evaluator `evaluator_fee_bps` of the job's price (`obs.rules`). So the
evaluator posts a least fee (`OfferEvaluation`) of its expected cost per evaluation x
`1 + margin`, from the evaluations it has done (an average over recent jobs, since customers
choose an evaluator before the job's price is known), and customers name it only on jobs whose
fee covers that (`ValueCustomer`). An evaluator whose cost no job's fee covers is named on no
job: it declines by its price. It re-posts when its cost estimate moves by more than
`repost_bps`.

On a job it is named on it rules as `Evaluator` does: complete if the plan is valid and no
slower than the job's `max_time_ms`, else reject.
"""

from __future__ import annotations

from collections import deque

from agents.builtin.evaluator import evaluate_jobs
from economy import Action, JobState, Observation, OfferEvaluation

__all__ = ["PricedEvaluator"]


class PricedEvaluator:
    """An evaluator that prices its service at its cost plus a margin.

    Args:
        margin: its margin over the expected cost of one evaluation (0.3 = 30 %).
        memory: evaluations its cost estimate averages over.
        repost_bps: how far its cost must move before it posts a new fee.
    """

    def __init__(self, margin: float = 0.3, memory: int = 32, repost_bps: int = 1_000) -> None:
        self.margin = margin
        self.memory = memory
        self.repost_bps = repost_bps
        self.reset(0)

    def reset(self, seed: int) -> None:
        self._pending: set[int] = set()
        self._costs: deque[float] = deque(maxlen=self.memory)
        self._seen: set[int] = set()
        self._posted: int | None = None

    def _cost(self, obs: Observation, job) -> float:
        cu_price = obs.quotes[0].price_per_cu if obs.quotes else 0
        licence = obs.rules.licence_per_cu if obs.rules is not None else 0
        return obs.planner.estimate_cu(job.order, job.tier) * (cu_price + licence)

    def quote(self, obs: Observation) -> int:
        """The least fee it asks per evaluation, base units."""
        if self._costs:
            cost = sum(self._costs) / len(self._costs)
        elif obs.open_jobs:  # before any work: the jobs on the market now
            cost = sum(self._cost(obs, j) for j in obs.open_jobs) / len(obs.open_jobs)
        else:
            return 0 if self._posted is None else self._posted
        return int(cost * (1 + self.margin)) + 1

    def act(self, obs: Observation) -> list[Action]:
        for job in obs.jobs:
            if (job.evaluator == obs.address and job.state is JobState.SUBMITTED
                    and job.job_id not in self._seen):
                self._seen.add(job.job_id)
                self._costs.append(self._cost(obs, job))
        self._seen.intersection_update(j.job_id for j in obs.jobs)
        actions = evaluate_jobs(obs, self._pending)
        fee = self.quote(obs)
        if self._posted is None or abs(fee - self._posted) * 10_000 > self.repost_bps * max(
                self._posted, 1):
            self._posted = fee
            actions.append(OfferEvaluation(min_fee=fee))
        return actions
