"""What the market did lately, and what each agent got from it: a bounded history of the
market's ticks, each agent's own outcomes (its bids won or lost, its jobs' results) and its
profit and loss by category.

All of it is plain, immutable data (NamedTuples), built once per tick and shared by every
observer (the history) or built per observer (its outcomes and P&L).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from typing import NamedTuple

from chain import Address
from economy.accounting import PNL_CATEGORIES

__all__ = ["BidOutcome", "JobOutcome", "MarketHistory", "MarketTick", "PnL", "TierTick"]


class TierTick(NamedTuple):
    """One tick's job market at one fidelity tier.

    Attributes:
        tier: "L1", "L2", ...
        awards: jobs awarded.
        price_mean, price_min, price_max: the award prices, base units (0 with no award).
        bidders_mean: qualified bids per awarded job.
    """

    tier: str
    awards: int
    price_mean: int
    price_min: int
    price_max: int
    bidders_mean: float


class MarketTick(NamedTuple):
    """What the market did in one tick.

    Attributes:
        tick: the tick.
        jobs_posted, awards, completed, rejected, expired: job counts.
        tiers: the awards by tier.
        cu_offered: compute units offered (the sellers' capacity this tick).
        cu_leased: compute units leased.
        cu_price_mean: mean price per CU of the leases, base units (0 with none).
        utilisation: leased / offered (0.0 with nothing offered).
        rejection_rate: rejected / (completed + rejected) (0.0 with neither).
    """

    tick: int
    jobs_posted: int
    awards: int
    completed: int
    rejected: int
    expired: int
    tiers: tuple[TierTick, ...]
    cu_offered: int
    cu_leased: int
    cu_price_mean: int
    utilisation: float
    rejection_rate: float


class BidOutcome(NamedTuple):
    """How one of the agent's bids ended when its job was awarded.

    Attributes:
        job_id, tick: the job, and the tick it was awarded in.
        price: what the agent bid.
        won: whether it won.
        award_price: what the winner is paid.
        bidders: qualified bids on the job.
    """

    job_id: int
    tick: int
    price: int
    won: bool
    award_price: int
    bidders: int


class JobOutcome(NamedTuple):
    """How a job the agent was a party of ended.

    Attributes:
        job_id, tick: the job, and the tick it ended in.
        role: the agent's part: "client", "provider" or "evaluator".
        result: "completed", "rejected" or "expired".
        price: the job's price (its budget while unawarded), base units.
        time_ratio: the delivered plan's time over the baseline's (completed jobs with a
            baseline; else None).
    """

    job_id: int
    tick: int
    role: str
    result: str
    price: int
    time_ratio: float | None


class PnL(NamedTuple):
    """An agent's profit and loss over the run so far, by category, exact base units:
    + income, - cost. Money parked in a module (escrow, a lease lock, a stake) and returned
    from it is neither; `compute_cost` is the real cost of the sim time a compute seller ran
    (CU used x `compute_cost_per_cu`, no ledger row); `profit` is everything but emissions."""

    service: int
    evaluation: int
    platform: int
    sim_time: int
    licence: int
    royalties: int
    data: int
    fees: int
    slashing: int
    payments: int
    compute_cost: int
    emissions: int

    @property
    def profit(self) -> int:
        """Earned income less every cost (emissions apart)."""
        return sum(self) - self.emissions

    @classmethod
    def of(cls, categories: Mapping[str, int] | None) -> PnL:
        return cls(*(categories.get(c, 0) for c in PNL_CATEGORIES)) if categories else _ZERO


if PnL._fields != PNL_CATEGORIES:  # one list of categories
    raise RuntimeError("PnL is out of step with economy.accounting.PNL_CATEGORIES")
_ZERO = PnL(*(0,) * len(PNL_CATEGORIES))


class MarketHistory:
    """The last `ticks` ticks of the market, and each agent's last `outcomes` outcomes.

    Args:
        ticks: how many ticks the history keeps.
        outcomes: how many outcomes each agent keeps.
    """

    def __init__(self, *, ticks: int = 32, outcomes: int = 64) -> None:
        self.ticks: deque[MarketTick] = deque(maxlen=ticks)
        self._outcomes: dict[Address, deque] = defaultdict(lambda: deque(maxlen=outcomes))
        self._awards: dict[str, list[tuple[int, int]]] = defaultdict(list)  # tier->(price, n)
        self._view: tuple[MarketTick, ...] = ()

    # -- during a tick -----------------------------------------------------------------------
    def awarded(self, tick: int, job_id: int, tier: str, bids: Mapping[Address, int],
                winner: Address, price: int) -> None:
        """A job was awarded: every bidder's outcome, and the tier's prices."""
        self._awards[tier].append((price, len(bids)))
        n = len(bids)
        for bidder, bid in bids.items():
            self._outcomes[bidder].append(BidOutcome(
                job_id=job_id, tick=tick, price=bid, won=bidder == winner, award_price=price,
                bidders=n))

    def ended(self, tick: int, job_id: int, parties: Mapping[str, Address | None],
              result: str, price: int, time_ratio: float | None) -> None:
        """A job ended: an outcome for each of its parties (role -> address)."""
        for role, address in parties.items():
            if address is not None:
                self._outcomes[address].append(JobOutcome(
                    job_id=job_id, tick=tick, role=role, result=result, price=price,
                    time_ratio=time_ratio))

    # -- at the tick's end -------------------------------------------------------------------
    def close_tick(self, tick: int, *, jobs_posted: int, completed: int, rejected: int,
                   expired: int, cu_offered: int, cu_leased: int, cu_value: int) -> None:
        """Record the tick (`cu_value`: Σ CU x price per CU of its leases)."""
        tiers = []
        awards = 0
        for tier in sorted(self._awards):
            prices = [p for p, _ in self._awards[tier]]
            awards += len(prices)
            tiers.append(TierTick(
                tier=tier, awards=len(prices), price_mean=sum(prices) // len(prices),
                price_min=min(prices), price_max=max(prices),
                bidders_mean=sum(n for _, n in self._awards[tier]) / len(prices)))
        self._awards.clear()
        judged = completed + rejected
        self.ticks.append(MarketTick(
            tick=tick, jobs_posted=jobs_posted, awards=awards, completed=completed,
            rejected=rejected, expired=expired, tiers=tuple(tiers), cu_offered=cu_offered,
            cu_leased=cu_leased, cu_price_mean=cu_value // cu_leased if cu_leased else 0,
            utilisation=cu_leased / cu_offered if cu_offered else 0.0,
            rejection_rate=rejected / judged if judged else 0.0))
        self._view = tuple(self.ticks)

    # -- what an observer sees ---------------------------------------------------------------
    @property
    def view(self) -> tuple[MarketTick, ...]:
        """The recorded ticks, oldest first (the same tuple for every observer of a tick)."""
        return self._view

    def outcomes_of(self, address: Address) -> tuple[BidOutcome | JobOutcome, ...]:
        """The agent's recorded outcomes, oldest first."""
        kept = self._outcomes.get(address)
        return tuple(kept) if kept else ()
