"""The run's output tables: one typed row per table, its Arrow schema derived from the row.

A row is a frozen dataclass whose fields are annotated with their column kind (`Count`,
`Money`, `Rate`, `Text`); `schema_of(Row)` is the table's schema and `row.values()` the tuple
the recorder appends, in field order. Adding a column is adding a field, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Annotated, Any, get_type_hints

import pyarrow as pa

from chain import EventRow
from economy.recorder import AMOUNT

__all__ = ["AGENTS_SCHEMA", "EVENTS_SCHEMA", "TICKS_SCHEMA", "AgentRow", "Count", "Money",
           "Rate", "Text", "TickRow", "schema_of"]

#: Column kinds: an integer count, an exact amount of base units, a float rate, a string.
Count = Annotated[int, pa.int64()]
Money = Annotated[int, AMOUNT]
Rate = Annotated[float, pa.float64()]
Text = Annotated[str, pa.string()]
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
    """One agent's balance and nonce at a tick."""

    tick: Count
    agent: Count
    role: Text
    label: Text
    address: Text
    balance: Money
    nonce: Count


TICKS_SCHEMA = schema_of(TickRow)
AGENTS_SCHEMA = schema_of(AgentRow)
#: The events table holds the ledger's own rows (`chain.EventRow`) and the market's rows.
EVENTS_SCHEMA = pa.schema([
    (name, AMOUNT if name == "amount" else _ARROW[kind])
    for name, kind in get_type_hints(EventRow).items()])
