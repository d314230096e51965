"""The job market: open jobs, sealed bids, and clearing to the lowest qualified bid."""

from __future__ import annotations

import numpy as np

from chain import TERMINAL, Address, JobState
from economy.errors import ActionRejected
from economy.observation import JobView

__all__ = ["JobMarket"]


class JobMarket:
    """Jobs from posting to a terminal state, indexed by the parties that may act on them.

    A funded job without a provider takes bids; each clearing awards it to the lowest
    qualified bid (price within budget, from neither the client nor the evaluator, by a
    provider whose rejections exceed its completions by at most `max_strikes`), ties broken
    by the market's random stream. A job with no qualified bid stays open until it
    expires.
    """

    def __init__(self, *, max_strikes: int = 2) -> None:
        self.max_strikes = max_strikes
        self.record: dict[Address, list[int]] = {}  # provider -> [completed, rejected]
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

    def record_outcome(self, provider: Address, *, completed: bool) -> None:
        """Count a provider's completed or rejected job (its reputation)."""
        cell = self.record.setdefault(provider, [0, 0])
        cell[0 if completed else 1] += 1

    def qualified(self, provider: Address) -> bool:
        completed, rejected = self.record.get(provider, (0, 0))
        return rejected - completed <= self.max_strikes

    def clear(self, rng: np.random.Generator) -> list[tuple[int, Address, int]]:
        """Winners of this round: (job_id, provider, price), in posting order."""
        awards = []
        for job_id, all_bids in self._bids.items():
            bids = {a: p for a, p in all_bids.items() if self.qualified(a)}
            if not bids:
                continue
            best = min(bids.values())
            tied = sorted(a for a, p in bids.items() if p == best)
            winner = tied[int(rng.integers(len(tied)))] if len(tied) > 1 else tied[0]
            awards.append((job_id, winner, best))
        for job_id, _, _ in awards:
            self._bids.pop(job_id, None)
        return awards

    def expired(self, tick: int) -> list[int]:
        """Non-terminal jobs whose refund may be claimed at `tick`."""
        return [j for j, v in self.views.items() if v.expires_at <= tick]
