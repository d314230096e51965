"""Customer: a warehouse operator that buys a pick plan for each of its orders."""

from __future__ import annotations

from agents.builtin.evaluator import evaluate_jobs
from agents.params import BaseUnits, Bps, Count, Ticks, Tier
from economy import Action, JobState, Observation, PostJob

__all__ = ["Customer"]


class Customer:
    """Posts a job per order with a budget per order line, keeping a few jobs open at once.

    Args:
        budget_per_line: base units offered per order line.
        max_open_jobs: jobs it keeps open as client at once; further orders wait.
        expires_in: ticks before an unfinished job may be refunded.
        third_party_evaluator: pick an evaluator agent at random (else evaluate itself).
        min_gain_bps: how much faster than the twin's baseline plan a plan must be.
        tier: the fidelity tier its jobs are judged at ("L1", or "L2": its real warehouse is
            the physics twin).
    """

    def __init__(
        self,
        budget_per_line: BaseUnits = 5 * 10**16,
        max_open_jobs: Count = 2,
        expires_in: Ticks = 12,
        third_party_evaluator: bool = True,
        min_gain_bps: Bps = 0,
        tier: Tier = "L1",
    ) -> None:
        self.min_gain_bps = min_gain_bps
        self.tier = tier
        self.budget_per_line = budget_per_line
        self.max_open_jobs = max_open_jobs
        self.expires_in = expires_in
        self.third_party_evaluator = third_party_evaluator
        self._pending: set[int] = set()

    def reset(self, seed: int) -> None:
        self._pending = set()

    def act(self, obs: Observation) -> list[Action]:
        actions = evaluate_jobs(obs, self._pending)
        open_jobs = sum(1 for j in obs.jobs
                        if j.client == obs.address and j.state is not JobState.SUBMITTED)
        balance = obs.balance
        for order in obs.orders[: max(0, self.max_open_jobs - open_jobs)]:
            budget = self.budget_per_line * len(order.lines)
            if budget > balance:
                break
            balance -= budget
            evaluator = None
            if self.third_party_evaluator and obs.evaluators:
                evaluator = obs.evaluators[int(obs.rng.integers(len(obs.evaluators)))]
            actions.append(PostJob(order_id=order.order_id, budget=budget,
                                   evaluator=evaluator, expires_in=self.expires_in,
                                   min_gain_bps=self.min_gain_bps, tier=self.tier))
        return actions
