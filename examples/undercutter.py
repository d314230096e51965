"""A custom provider policy: bids a fixed share below each job's budget, then delivers TSP
plans tested in the twin. Run it in the built-in scenario with examples/custom-policy.toml."""

from __future__ import annotations

from agents.params import Bps, Count
from economy import Action, Bid, JobState, Observation, Simulate, Submit


class Undercutter:
    """Bids `discount_bps` below the budget; tests `candidates` TSP plans and submits the best."""

    role = "provider"  # the seat `twinecon check-policy` puts it in

    def __init__(self, discount_bps: Bps = 9_000, candidates: Count = 3) -> None:
        self.discount_bps = discount_bps
        self.candidates = candidates
        self.working: set[int] = set()

    def act(self, obs: Observation) -> list[Action]:
        actions: list[Action] = []
        for result in obs.results:  # evaluations bought last tick
            if result.best is not None:
                actions.append(Submit(job_id=result.job_id, plan=result.best[0]))
        for job in obs.jobs:  # jobs we won and have not started
            if job.provider == obs.address and job.state is JobState.FUNDED \
                    and job.job_id not in self.working:
                self.working.add(job.job_id)
                plans = tuple(obs.planner.solve(job.order, "tsp", obs.rng)
                              for _ in range(self.candidates))
                actions.append(Simulate(job_id=job.job_id, plans=plans))
        for job in obs.open_jobs[:2]:  # bid on the first two open jobs
            price = job.budget * (10_000 - self.discount_bps) // 10_000
            actions.append(Bid(job_id=job.job_id, price=max(1, price)))
        return actions
