"""A custom evaluator: posts a fee that covers its sim time, and rules on the plans of the jobs
it is named on after testing each once in the twin.

Its cost per evaluation is the CU of the dearest open job's request at its tier
(`obs.planner.estimate_cu`) at the cheapest posted CU price plus the twin's licence; its fee
is that plus `margin_bps` (customers name an evaluator whose fee their job's price covers).
Check it: `twinecon check-policy examples/cost_evaluator.py:CostEvaluator`.
"""

from __future__ import annotations

from agents.params import MarginBps
from economy import Action, Complete, JobState, Observation, OfferEvaluation, Reject, Simulate


class CostEvaluator:
    """Judges a plan valid and no slower than the job's `max_time_ms`; asks its cost plus
    `margin_bps` per evaluation."""

    role = "evaluator"  # the seat `twinecon check-policy` puts it in

    def __init__(self, margin_bps: MarginBps = 5_000) -> None:
        self.margin_bps = margin_bps
        self.testing: set[int] = set()  # jobs whose plan is in the twin
        self.posted: int | None = None

    def reset(self, seed: int) -> None:
        self.testing, self.posted = set(), None

    def act(self, obs: Observation) -> list[Action]:
        actions: list[Action] = []
        jobs = {j.job_id: j for j in obs.jobs}
        for result in obs.results:  # last tick's tests: rule on them
            self.testing.discard(result.job_id)
            job, ev = jobs.get(result.job_id), result.evaluations[0]
            if job is None or job.state is not JobState.SUBMITTED:
                continue
            if ev.valid and ev.time_ms <= job.max_time_ms:
                actions.append(Complete(job_id=job.job_id, reason=f"time_ms={ev.time_ms}"))
            else:
                why = ev.reason if not ev.valid else f"time_ms={ev.time_ms}>{job.max_time_ms}"
                actions.append(Reject(job_id=job.job_id, reason=why))
        skip = self.testing | {a.job_id for a in actions}  # in the twin, or ruled on now
        for job in jobs.values():  # new plans to judge: test each once
            if (job.evaluator == obs.address and job.state is JobState.SUBMITTED
                    and job.plan is not None and job.job_id not in skip):
                self.testing.add(job.job_id)
                actions.append(Simulate(job_id=job.job_id, plans=(job.plan,)))
        if obs.open_jobs and obs.quotes and obs.rules is not None:
            per_cu = obs.quotes[0].price_per_cu + obs.rules.licence_per_cu
            cu = max(obs.planner.estimate_cu(j.order, j.tier) for j in obs.open_jobs)
            fee = cu * per_cu * (10_000 + self.margin_bps) // 10_000
            if fee != self.posted:
                self.posted = fee
                actions.append(OfferEvaluation(min_fee=fee))
        return actions
