"""Counters of one tick, and the run's totals they fold into when the tick closes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields

import numpy as np

from chain import Flow, Ledger
from economy.metrics import gini
from economy.tables import TickRow

__all__ = ["SUMMED", "TickStats", "Totals", "tick_row"]

_NAN = float("nan")

#: The tick counters whose run totals the summary reports, under the same names.
SUMMED = ("orders", "jobs_posted", "bids", "awards", "submitted", "completed", "rejected",
          "expired", "cu_sold", "compute_spend", "customer_value", "faults",
          "rejected_actions", "cu_leased", "cu_claimed", "data_units", "emitted", "slashed",
          "compute_cost")


class Totals(defaultdict[str, int]):
    """The run's totals by name (base units for money), 0 for a name never counted."""

    def __init__(self) -> None:
        super().__init__(int)
        self.ratio_sum = 0.0  # Σ plan time / baseline time over completed jobs


@dataclass(slots=True)
class TickStats:
    """What happened in the current tick, counted by the services as it happens."""

    orders: int = 0
    jobs_posted: int = 0
    bids: int = 0
    awards: int = 0
    submitted: int = 0
    completed: int = 0
    rejected: int = 0
    expired: int = 0
    prices: list[int] = field(default_factory=list)  # completed jobs' prices
    cu_sold: int = 0  # CU of evaluations run
    compute_spend: int = 0  # what those evaluations cost their buyers
    time_ratios: list[float] = field(default_factory=list)  # completed plans vs baselines
    customer_value: int = 0
    faults: int = 0
    rejected_actions: int = 0
    cu_leased: int = 0
    cu_claimed: int = 0
    compute_fills: list[tuple[int, int]] = field(default_factory=list)  # (cu, price per CU)
    data_units: int = 0
    emitted: int = 0
    slashed: int = 0
    compute_cost: int = 0  # the real cost of the sim time run (CU x cost per CU)
    surplus: int = 0  # the compute market's realised gains from trade
    surplus_max: int = 0  # the most its books allowed

    def reset(self) -> None:
        """Start a new tick: every counter back to zero (the object stays the one the services
        hold)."""
        for f in fields(self):
            setattr(self, f.name, f.default if f.default_factory is MISSING
                    else f.default_factory())

    @property
    def volume(self) -> int:
        return sum(self.prices)

    @property
    def leased_value(self) -> int:
        """What the tick's leases were bought for (Σ cu x price per CU)."""
        return sum(q * p for q, p in self.compute_fills)

    def fold_into(self, totals: Totals) -> None:
        """Add this tick's counts to the run's totals."""
        for name in SUMMED:
            totals[name] += getattr(self, name)
        totals["volume"] += self.volume
        totals["compute_leased_value"] += self.leased_value
        totals["compute_surplus"] += self.surplus
        totals["compute_surplus_max"] += self.surplus_max
        totals.ratio_sum += sum(self.time_ratios)


def tick_row(stats: TickStats, *, tick: int, open_jobs: int, balances: Sequence[int],
             ledger: Ledger, flows: Mapping[str, int]) -> TickRow:
    """The ticks table's row of a closing tick.

    Args:
        stats: the tick's counters.
        open_jobs: jobs not yet terminal.
        balances: every participant's balance now.
        ledger: the ledger (supply, burned, treasury, decimals).
        flows: the tick's amounts by flow (`FlowBook.last_tick`).
    """
    s = stats
    unit = 10**ledger.params.decimals
    leased_cu = sum(q for q, _ in s.compute_fills)
    return TickRow(
        tick=tick, orders=s.orders, jobs_posted=s.jobs_posted, bids=s.bids, awards=s.awards,
        submitted=s.submitted, completed=s.completed, rejected=s.rejected, expired=s.expired,
        open_jobs=open_jobs,
        price_mean=float(np.mean(s.prices)) / unit if s.prices else _NAN,
        volume=s.volume, cu_sold=s.cu_sold, compute_spend=s.compute_spend,
        time_ratio_mean=float(np.mean(s.time_ratios)) if s.time_ratios else _NAN,
        customer_value=s.customer_value, gini=gini(balances), supply=ledger.total_supply,
        burned=ledger.burned, treasury=ledger.balance_of(ledger.treasury),
        policy_faults=s.faults, rejected_actions=s.rejected_actions, cu_leased=s.cu_leased,
        cu_claimed=s.cu_claimed,
        compute_price_mean=s.leased_value / leased_cu / unit if leased_cu else _NAN,
        compute_volume=flows.get(Flow.COMPUTE, 0), licence=flows.get(Flow.LICENCE, 0),
        royalties=flows.get(Flow.ROYALTY, 0), data_units=s.data_units,
        data_volume=sum(flows.get(f, 0) for f in (Flow.DATA, Flow.DATA_FEE, Flow.POOL_FEE)),
        emitted=s.emitted, slashed=s.slashed,
        compute_efficiency=s.surplus / s.surplus_max if s.surplus_max else _NAN,
    )
