"""The value a completed job creates for its customer, and the plan quality it shows by
provider group.

What agents do not see: the customer's value of a plan is the time it saves against the
twin's baseline plan, at the job's tier, priced at `time_value_per_h`. The surpluses are
not kept here: they come from every account's profit and loss (`economy.summary`), so that
value created = consumer surplus + producer surplus + protocol income + burn, exactly.
"""

from __future__ import annotations

from collections.abc import Callable

from chain import Address
from economy.observation import JobView
from economy.stats import TickStats
from economy.tiers import TierEvaluators

__all__ = ["JobWelfare"]


class JobWelfare:
    """Completed jobs' value and quality.

    Args:
        tiers: the twin's evaluators (the delivered plan is measured at the job's tier).
        time_value_per_h: base units an hour of twin time saved is worth to a customer.
        group_of: a provider's group (plan quality is reported by group).
        stats: the tick's counters.
    """

    def __init__(self, tiers: TierEvaluators, time_value_per_h: int,
                 group_of: Callable[[Address], str], stats: TickStats) -> None:
        self._tiers = tiers
        self._group_of = group_of
        self._value_per_h = time_value_per_h
        self.stats = stats
        self.quality: dict[str, list] = {}  # provider group -> [sum of time ratios, jobs]
        self.awards: dict[str, int] = {}  # provider group -> jobs awarded

    def awarded(self, provider: Address) -> None:
        """Count a job awarded to `provider`, by its group."""
        group = self._group_of(provider)
        self.awards[group] = self.awards.get(group, 0) + 1

    def completed(self, view: JobView) -> tuple[float, int]:
        """Account a completed job from its delivered plan.

        Returns:
            (the plan's time over the baseline's, NaN without a baseline; the improvement it
            achieved, bps of the baseline's time).
        """
        baseline_ms = view.baseline_ms
        ev = (self._tiers.evaluate(view.plan, view.order, view.eval_seed, view.tier)
              if view.plan else None)
        plan_ms = ev.time_ms if ev is not None and ev.valid else baseline_ms
        saved_ms = max(0, baseline_ms - plan_ms)
        s = self.stats
        s.prices.append(view.budget)
        s.customer_value += saved_ms * self._value_per_h // 3_600_000
        if not baseline_ms:
            return float("nan"), 0
        s.time_ratios.append(plan_ms / baseline_ms)
        cell = self.quality.setdefault(self._group_of(view.provider), [0.0, 0])
        cell[0] += plan_ms / baseline_ms
        cell[1] += 1
        return plan_ms / baseline_ms, saved_ms * 10_000 // baseline_ms
