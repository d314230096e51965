"""The jobs table: one row per job, written when the job reaches a terminal state (and, for the
jobs still open when the run ends, at its end, as they stand).

While a job is open it costs one small record here: its bids, its award and the sim time
spent evaluating plans for it; the row is built once, when the job ends.
"""

from __future__ import annotations

from decimal import Decimal

from chain import Address, JobState
from economy.observation import JobView
from economy.population import Population
from economy.recorder import Table
from economy.tables import JobRow

__all__ = ["JobLog"]


class _Open:
    """What the job log keeps of an open job."""

    __slots__ = ("awarded_tick", "bids", "compute_cost", "cu_used", "price", "view")

    def __init__(self, view: JobView) -> None:
        self.view = view  # as posted
        self.bids: dict[Address, int] = {}  # bidder -> its last bid
        self.awarded_tick: int | None = None
        self.price: int | None = None
        self.cu_used = 0
        self.compute_cost = 0


class JobLog:
    """Jobs from posting to their row in the jobs table.

    Rows are appended in the order jobs end (the order the run resolves them in: seeded, so
    deterministic); `close` appends the jobs still open, in posting order.

    Args:
        table: the jobs table (`economy.tables.JOBS_SCHEMA`).
        population: the run's participants (labels and groups; `names` for other addresses).
    """

    def __init__(self, table: Table, population: Population) -> None:
        self.table = table
        self._population = population
        self._open: dict[int, _Open] = {}

    def __len__(self) -> int:
        return len(self._open)

    def posted(self, view: JobView) -> None:
        self._open[view.job_id] = _Open(view)

    def bid(self, job_id: int, bidder: Address, price: int) -> None:
        """A bid the market took (a later bid by the same bidder replaces its earlier one)."""
        job = self._open.get(job_id)
        if job is not None:
            job.bids[bidder] = price

    def awarded(self, job_id: int, tick: int, price: int) -> None:
        job = self._open.get(job_id)
        if job is not None:
            job.awarded_tick = tick
            job.price = price

    def simulated(self, job_id: int, cu: int, cost: int) -> None:
        """Sim time spent evaluating plans for the job (by any of its parties)."""
        job = self._open.get(job_id)
        if job is not None:
            job.cu_used += cu
            job.compute_cost += cost

    def ended(self, view: JobView, state: JobState, tick: int, reason: str = "",
              time_ratio: float | None = None) -> None:
        """The job reached a terminal state: its row."""
        job = self._open.pop(view.job_id, None)
        if job is not None:
            self.table.append(self._row(job, view, state.value, state.value, tick, reason,
                                        time_ratio).values())

    def close(self, views: dict[int, JobView]) -> None:
        """Append the rows of the jobs still open (`views`: the market's current views), in
        posting order."""
        for job_id, job in self._open.items():
            view = views.get(job_id, job.view)
            self.table.append(self._row(job, view, "open", view.state.value, None, "",
                                        None).values())
        self._open.clear()

    def _row(self, job: _Open, view: JobView, outcome: str, state: str, tick: int | None,
             reason: str, time_ratio: float | None) -> JobRow:
        posted = job.view
        population = self._population
        customer = population.by_address[posted.client]
        provider = population.by_address.get(view.provider) if view.provider else None
        label = population.names.get
        bids = sorted((price, label(bidder, ("", ""))[0], bidder)
                      for bidder, price in job.bids.items())
        return JobRow(
            job_id=posted.job_id, order_id=str(posted.order.order_id), tier=posted.tier,
            posted_tick=posted.posted_tick, expires_at=posted.expires_at,
            awarded_tick=job.awarded_tick, ended_tick=tick, outcome=outcome, state=state,
            customer=posted.client, customer_label=customer.label,
            customer_group=customer.group, provider=view.provider,
            provider_label=None if view.provider is None else (
                provider.label if provider else label(view.provider, ("", ""))[0]),
            provider_group=None if view.provider is None else (
                provider.group if provider else ""),
            evaluator=posted.evaluator,
            evaluator_label=label(posted.evaluator, ("", ""))[0],
            budget=posted.budget, n_bids=len(bids),
            bid_min=bids[0][0] if bids else None, bid_max=bids[-1][0] if bids else None,
            bids=tuple({"provider": name, "price": Decimal(price)} for price, name, _ in bids),
            price=job.price, cu_used=job.cu_used, compute_cost=job.compute_cost,
            baseline_ms=posted.baseline_ms, max_time_ms=posted.max_time_ms,
            time_ratio=time_ratio, reason=reason)
