"""A custom customer policy: buys a plan for an order only when the time it could save is worth
it, and judges the plan itself unless an evaluator's posted fee fits.

Each order comes with the time the customer's own (baseline) plan takes on it
(`obs.baselines`); a plan `gain_bps` faster saves that share of it, worth
`obs.rules.time_value_per_h` an hour. The job's budget is `value_share_bps` of that value, and
the job asks for exactly that gain. Check it: `twinecon check-policy
examples/thrifty_customer.py:ThriftyCustomer`.
"""

from __future__ import annotations

from agents.builtin.evaluator import evaluate_jobs
from agents.params import Bps, Count, Ticks
from economy import Action, JobState, Observation, PostJob

HOUR_MS = 3_600_000


class ThriftyCustomer:
    """Posts a job for an order when a `gain_bps` faster plan is worth a budget; at most
    `max_open_jobs` jobs open at once."""

    role = "customer"  # the seat `twinecon check-policy` puts it in

    def __init__(self, gain_bps: Bps = 1_000, value_share_bps: Bps = 5_000,
                 max_open_jobs: Count = 2, expires_in: Ticks = 12) -> None:
        self.gain_bps = gain_bps
        self.value_share_bps = value_share_bps
        self.max_open_jobs = max_open_jobs
        self.expires_in = expires_in
        self.pending: set[int] = set()  # its own jobs' plans sent to the twin

    def reset(self, seed: int) -> None:
        self.pending = set()

    def act(self, obs: Observation) -> list[Action]:
        actions = evaluate_jobs(obs, self.pending)  # judge the plans of jobs it judges itself
        rules = obs.rules
        if rules is None:
            return actions
        waiting = sum(1 for j in obs.jobs
                      if j.client == obs.address and j.state is not JobState.SUBMITTED)
        balance = obs.balance
        for order, baseline_ms in zip(obs.orders, obs.baselines, strict=True):
            if waiting >= self.max_open_jobs:
                break
            value = baseline_ms * self.gain_bps * rules.time_value_per_h // (10_000 * HOUR_MS)
            budget = value * self.value_share_bps // 10_000
            if budget <= 0 or budget > balance:
                continue
            fee = budget * rules.evaluator_fee_bps // 10_000  # what a judge earns at most
            fits = [q for q in obs.evaluator_quotes if q.min_fee <= fee]
            judge = min(fits, key=lambda q: (q.min_fee, q.evaluator)).evaluator if fits else None
            actions.append(PostJob(order_id=order.order_id, budget=budget, evaluator=judge,
                                   expires_in=self.expires_in, min_gain_bps=self.gain_bps))
            balance -= budget
            waiting += 1
        return actions
