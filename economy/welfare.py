"""Welfare of the job market: each job's baseline and its provider's sim-time spend, and on
completion the customer's value, both sides' surplus and the plan's quality by provider group.

What agents do not see: the customer's value of a plan is the time it saves against the
twin's baseline plan, at the job's tier, priced at `time_value_per_h`; consumer surplus is
that value less what the customer paid; producer surplus is what reached the provider less
the sim time it bought for the job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chain import Address, EventRow, Flow
from economy.observation import JobView
from economy.stats import TickStats, Totals
from economy.tiers import TierEvaluators

__all__ = ["JobWelfare"]


@dataclass(slots=True)
class _JobBook:
    baseline_ms: int
    compute_spend: int = 0  # the provider's sim-time spend for this job


class JobWelfare:
    """Per-job books and the run's welfare totals.

    Args:
        tiers: the twin's evaluators (the delivered plan is measured at the job's tier).
        escrow: the escrow module's address (what the customer paid is what entered it).
        time_value_per_h: base units an hour of twin time saved is worth to a customer.
        group_of: a provider's group (plan quality is reported by group).
        stats, totals: the tick's counters and the run's totals.
    """

    def __init__(self, tiers: TierEvaluators, escrow: Address, time_value_per_h: int,
                 group_of: Callable[[Address], str], stats: TickStats, totals: Totals) -> None:
        self._tiers = tiers
        self._group_of = group_of
        self._escrow = escrow
        self._value_per_h = time_value_per_h
        self.stats = stats
        self._totals = totals
        self._books: dict[int, _JobBook] = {}
        self.quality: dict[str, list] = {}  # provider group -> [sum of time ratios, jobs]

    def open(self, job_id: int, baseline_ms: int) -> None:
        """A job was posted; its baseline plan takes `baseline_ms` at its tier."""
        self._books[job_id] = _JobBook(baseline_ms=baseline_ms)

    def close(self, job_id: int) -> None:
        """A job ended (rejected or expired): nothing more to account."""
        self._books.pop(job_id, None)

    def spent(self, job_id: int, cost: int) -> None:
        """The job's provider bought `cost` of sim time for it."""
        book = self._books.get(job_id)
        if book is not None:
            book.compute_spend += cost

    def completed(self, view: JobView, events: Sequence[EventRow]) -> tuple[float, int]:
        """Account a completed job from its delivered plan and the ledger rows that paid it.

        Args:
            view: the job, with its plan and provider.
            events: the ledger's rows of the completion.

        Returns:
            (the plan's time over the baseline's, NaN without a baseline; the improvement it
            achieved, bps of the baseline's time).
        """
        book = self._books.pop(view.job_id)
        ev = (self._tiers.evaluate(view.plan, view.order, view.eval_seed, view.tier)
              if view.plan else None)
        plan_ms = ev.time_ms if ev is not None and ev.valid else book.baseline_ms
        saved_ms = max(0, book.baseline_ms - plan_ms)
        value = saved_ms * self._value_per_h // 3_600_000
        s = self.stats
        s.prices.append(view.budget)
        s.customer_value += value
        if book.baseline_ms:
            s.time_ratios.append(plan_ms / book.baseline_ms)
            cell = self.quality.setdefault(self._group_of(view.provider), [0.0, 0])
            cell[0] += plan_ms / book.baseline_ms
            cell[1] += 1
        # what the customer paid (the price, and an evaluator deposit under that rule) and what
        # reached the provider (after fees and royalties), from the ledger's own rows
        paid = sum(e.amount for e in events if e.payer == self._escrow)
        service = sum(e.amount for e in events if e.flow == Flow.SERVICE)
        self._totals["consumer_surplus"] += value - paid
        self._totals["producer_surplus"] += service - book.compute_spend
        if not book.baseline_ms:
            return float("nan"), 0
        return plan_ms / book.baseline_ms, saved_ms * 10_000 // book.baseline_ms
