"""The run's output tables: one typed row per table, its Arrow schema derived from the row.

A row is a frozen dataclass whose fields are annotated with their column kind (`Count`,
`Money`, `Rate`, `Text`, `Id`; `Maybe*` where the value may be None, a null); `schema_of(Row)`
is the table's schema and `row.values()` the tuple the recorder appends, in field order.
Adding a column is adding a field, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Annotated, Any, get_type_hints

import pyarrow as pa

from chain import EventRow
from economy.recorder import AMOUNT

__all__ = ["AGENTS_SCHEMA", "BID", "EVENTS_SCHEMA", "EVENT_LABELS", "JOBS_SCHEMA",
           "TICKS_SCHEMA", "AgentRow", "Bids", "Count", "Id", "JobRow", "MaybeCount",
           "MaybeMoney", "MaybeRate", "MaybeText", "Money", "Rate", "Text", "TickRow",
           "schema_of"]

#: Column kinds: an integer count, an exact amount of base units, a float rate, a string, a
#: uint64 identifier (a job id); the `Maybe` kinds hold None as a null.
Count = Annotated[int, pa.int64()]
Money = Annotated[int, AMOUNT]
Rate = Annotated[float, pa.float64()]
Text = Annotated[str, pa.string()]
Id = Annotated[int, pa.uint64()]
MaybeCount = Annotated[int | None, pa.int64()]
MaybeMoney = Annotated[int | None, AMOUNT]
MaybeRate = Annotated[float | None, pa.float64()]
MaybeText = Annotated[str | None, pa.string()]
#: One bid on a job: the bidder's label and its price (base units, a `Decimal`).
BID = pa.struct([("provider", pa.string()), ("price", AMOUNT)])
Bids = Annotated[tuple, pa.list_(BID)]
_ARROW = {int: pa.int64(), str: pa.string()}


@cache
def schema_of(row: type) -> pa.Schema:
    """The Arrow schema of a row dataclass: its fields, in order, with their annotated types."""
    hints = get_type_hints(row, include_extras=True)
    return pa.schema([(f.name, hints[f.name].__metadata__[0]) for f in fields(row)])


class _Row:
    __slots__ = ()

    def values(self) -> tuple[Any, ...]:
        """The row as the tuple the recorder appends (field order)."""
        return tuple(getattr(self, f.name) for f in fields(self))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class TickRow(_Row):
    """What one tick did: market activity, prices, quality, welfare and the ledger's totals.

    Money in base units; `price_mean` and `compute_price_mean` in tokens (NaN when nothing
    traded); `time_ratio_mean` is the plans' time over the baseline's, of completed jobs.
    """

    tick: Count
    orders: Count
    jobs_posted: Count
    bids: Count
    awards: Count
    submitted: Count
    completed: Count
    rejected: Count
    expired: Count
    open_jobs: Count
    price_mean: Rate
    volume: Money
    cu_sold: Count
    compute_spend: Money
    time_ratio_mean: Rate
    customer_value: Money
    gini: Rate
    supply: Money
    burned: Money
    treasury: Money
    policy_faults: Count
    rejected_actions: Count
    cu_leased: Count
    cu_claimed: Count
    compute_price_mean: Rate
    compute_volume: Money
    licence: Money
    royalties: Money
    data_units: Count
    data_volume: Money
    emitted: Money
    slashed: Money
    compute_efficiency: Rate


@dataclass(frozen=True, slots=True)
class AgentRow(_Row):
    """One agent's balance and nonce at a tick; `group` is its scenario group's name."""

    tick: Count
    agent: Count
    role: Text
    label: Text
    group: Text
    address: Text
    balance: Money
    nonce: Count


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRow(_Row):
    """One job, written when it reaches a terminal state (or, still open, at the run's end).

    Ticks: posted, awarded and ended (None: not awarded / not ended). `outcome` is
    completed, rejected, expired or open; `state` the escrow's state as the run left it.
    Parties by address, label and scenario group (the provider's None if never awarded);
    the evaluator is the customer itself unless the job named one. Bids: every bidder's
    last bid, cheapest first, (label, price). `price` is the award price, what the provider
    is paid on completion (None if never awarded); `budget` what the customer escrowed when
    posting. `cu_used` and `compute_cost`: the sim time every party's `Simulate` on the job
    drew, and what it cost. `time_ratio`: the delivered plan's time over the baseline's
    (completed jobs with a baseline). `reason`: the text of the ruling (the evaluator's or
    customer's; the ledger keeps its keccak), or why the job expired.
    """

    job_id: Id
    order_id: Text
    tier: Text
    posted_tick: Count
    expires_at: Count
    awarded_tick: MaybeCount
    ended_tick: MaybeCount
    outcome: Text
    state: Text
    customer: Text
    customer_label: Text
    customer_group: Text
    provider: MaybeText
    provider_label: MaybeText
    provider_group: MaybeText
    evaluator: Text
    evaluator_label: Text
    budget: Money
    n_bids: Count
    bid_min: MaybeMoney
    bid_max: MaybeMoney
    bids: Bids
    price: MaybeMoney
    cu_used: Count
    compute_cost: Money
    baseline_ms: Count
    max_time_ms: Count
    time_ratio: MaybeRate
    reason: Text


TICKS_SCHEMA = schema_of(TickRow)
AGENTS_SCHEMA = schema_of(AgentRow)
JOBS_SCHEMA = schema_of(JobRow)
#: The columns the economy adds to each ledger or market row of the events table: who the
#: payer and the payee are (`Population.name_of`).
EVENT_LABELS = ("payer_label", "payer_role", "payee_label", "payee_role")
#: The events table holds the ledger's own rows (`chain.EventRow`) and the market's rows,
#: each followed by the `EVENT_LABELS` of its payer and payee.
EVENTS_SCHEMA = pa.schema([
    *((name, AMOUNT if name == "amount" else _ARROW[kind])
      for name, kind in get_type_hints(EventRow).items()),
    *((name, pa.string()) for name in EVENT_LABELS)])
