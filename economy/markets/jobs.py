"""The job market's book: open jobs, sealed bids, providers' records, and the award rule's
clearing (the lowest qualified bid, or a scoring auction that prices expected quality)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chain import TERMINAL, Address, JobState
from economy.errors import ActionRejected
from economy.observation import JobView
from economy.rules import AwardRule, ScorePricing

__all__ = ["Award", "JobMarket"]


class Award(NamedTuple):
    """One job awarded by a clearing.

    Attributes:
        job_id: the job.
        provider: the winner.
        price: what the winner is paid (its bid, or more under second-score pricing).
        bids: every qualified bid on the job, (bidder, price), by bidder.
    """

    job_id: int
    provider: Address
    price: int
    bids: tuple[tuple[Address, int], ...]


class JobMarket:
    """Jobs from posting to a terminal state, indexed by the parties that may act on them.

    A funded job without a provider takes bids; each clearing awards it under the award rule
    (`economy.rules.award`) among its qualified bids (price within budget, from neither the
    client nor the evaluator, by a provider whose failures (jobs rejected, or awarded and never
    delivered) exceed its completions by at most `max_strikes`), ties broken by the market's
    random stream. A job with no qualified bid stays open until it expires.

    Args:
        max_strikes: failures (rejections, non-deliveries) beyond completions that disqualify
            a provider.
        rule: the award rule (default: lowest price).
        time_value_per_h: base units an hour of twin time saved is worth (prices quality under
            the scoring rule).
    """

    def __init__(self, *, max_strikes: int = 2, rule: AwardRule | None = None,
                 time_value_per_h: int = 0) -> None:
        self.max_strikes = max_strikes
        self.rule = rule or AwardRule()
        self._value_per_h = time_value_per_h
        self.record: dict[Address, list[int]] = {}  # provider -> [completed, rejected]
        self._gains: dict[Address, list[int]] = {}  # provider -> [Σ gain bps, jobs judged]
        self.views: dict[int, JobView] = {}
        self._bids: dict[int, dict[Address, int]] = {}
        self._by_party: dict[Address, dict[int, None]] = {}  # ordered sets: no set iteration

    def __len__(self) -> int:
        return len(self.views)

    def add(self, view: JobView) -> None:
        self.views[view.job_id] = view
        for party in (view.client, view.evaluator):
            self._by_party.setdefault(party, {})[view.job_id] = None

    def get(self, job_id: int) -> JobView:
        view = self.views.get(job_id)
        if view is None:
            raise ActionRejected("unknown_job", f"no open job {job_id} in the market")
        return view

    def update(self, job_id: int, **changes: object) -> JobView:
        view = self.views[job_id]._replace(**changes)
        if view.provider is not None and self.views[job_id].provider is None:
            self._by_party.setdefault(view.provider, {})[job_id] = None
        if view.state in TERMINAL:
            self._drop(view)
        else:
            self.views[job_id] = view
        return view

    def _drop(self, view: JobView) -> None:
        del self.views[view.job_id]
        self._bids.pop(view.job_id, None)
        for party in (view.client, view.evaluator, view.provider):
            if party is not None:
                jobs = self._by_party.get(party)
                if jobs is not None:
                    jobs.pop(view.job_id, None)
                    if not jobs:
                        del self._by_party[party]

    def jobs_of(self, address: Address) -> tuple[JobView, ...]:
        ids = self._by_party.get(address)
        if not ids:
            return ()
        return tuple(self.views[j] for j in ids)

    def open_jobs(self) -> tuple[JobView, ...]:
        """Funded jobs without a provider, in posting order."""
        return tuple(
            v for v in self.views.values() if v.state is JobState.FUNDED and v.provider is None
        )

    def check_bid(self, job_id: int, bidder: Address, price: int) -> None:
        """Raise ActionRejected unless `bidder` may bid `price` on `job_id` now."""
        view = self.get(job_id)
        if view.state is not JobState.FUNDED or view.provider is not None:
            raise ActionRejected("bids_closed", f"job {job_id} is not taking bids")
        if bidder in (view.client, view.evaluator):
            raise ActionRejected("conflict", "the client and the evaluator of a job may not bid")
        if type(price) is not int or not 0 < price <= view.budget:
            raise ActionRejected(
                "bad_price", f"a bid on job {job_id} must be in [1, {view.budget}], got {price!r}"
            )

    def bid(self, job_id: int, bidder: Address, price: int) -> None:
        """Record a checked bid; a later bid by the same bidder replaces its earlier one."""
        self._bids.setdefault(job_id, {})[bidder] = price

    def record_outcome(self, provider: Address, *, completed: bool, gain_bps: int = 0) -> None:
        """Count a provider's completed or failed job (rejected, or awarded and never
        delivered) and the improvement its deliverable achieved over the baseline (a failed
        one achieved none)."""
        cell = self.record.setdefault(provider, [0, 0])
        cell[0 if completed else 1] += 1
        gains = self._gains.setdefault(provider, [0, 0])
        gains[0] += gain_bps if completed else 0
        gains[1] += 1

    def reputation(self, provider: Address) -> int:
        """The improvement (bps of the baseline's time) the provider is expected to deliver:
        its evaluated record averaged with the award rule's prior."""
        rule = self.rule
        total, n = self._gains.get(provider, (0, 0))
        return (rule.prior_gain_bps * rule.prior_weight + total) // (rule.prior_weight + n) \
            if rule.prior_weight + n else 0

    def reputations(self) -> tuple[tuple[Address, int, int], ...]:
        """(provider, jobs judged, expected improvement bps) of every provider judged, by
        address."""
        return tuple((a, self._gains[a][1], self.reputation(a)) for a in sorted(self._gains))

    def qualified(self, provider: Address) -> bool:
        completed, rejected = self.record.get(provider, (0, 0))
        return rejected - completed <= self.max_strikes

    def clear(self, rng: np.random.Generator) -> list[Award]:
        """Winners of this round under the award rule, in posting order."""
        awards = []
        for job_id, all_bids in self._bids.items():
            bids = {a: p for a, p in all_bids.items() if self.qualified(a)}
            if not bids:
                continue
            if self.rule.scoring:
                winner, price = self._best_score(self.views[job_id], bids, rng)
            else:
                price = min(bids.values())
                tied = sorted(a for a, p in bids.items() if p == price)
                winner = tied[int(rng.integers(len(tied)))] if len(tied) > 1 else tied[0]
            awards.append(Award(job_id=job_id, provider=winner, price=price,
                                bids=tuple(sorted(bids.items()))))
        for award in awards:
            self._bids.pop(award.job_id, None)
        return awards

    def quality_value(self, provider: Address, baseline_ms: int) -> int:
        """What the provider's expected improvement on a job with this baseline is worth,
        base units (the scoring rule's quality term)."""
        return (baseline_ms * self.reputation(provider) * self._value_per_h
                // (10_000 * 3_600_000))

    def _best_score(self, view: JobView, bids: dict[Address, int],
                    rng: np.random.Generator) -> tuple[Address, int]:
        """The scoring auction: (winner, price)."""
        scores = {a: self.quality_value(a, view.baseline_ms) - p for a, p in bids.items()}
        best = max(scores.values())
        tied = sorted(a for a, s in scores.items() if s == best)
        winner = tied[int(rng.integers(len(tied)))] if len(tied) > 1 else tied[0]
        if self.rule.pricing == ScorePricing.FIRST:
            return winner, bids[winner]
        second = max((s for a, s in scores.items() if a != winner), default=0)
        price = self.quality_value(winner, view.baseline_ms) - max(second, 0)
        return winner, min(view.budget, max(bids[winner], price))

    def expired(self, tick: int) -> list[int]:
        """Non-terminal jobs whose refund may be claimed at `tick`."""
        return [j for j, v in self.views.items() if v.expires_at <= tick]
