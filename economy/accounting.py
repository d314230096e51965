"""Value-flow accounting: every movement of tokens attributed to provider classes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import pyarrow as pa

from chain import BURN_ADDRESS, Address, Flow
from chain.protocols import Event
from economy.recorder import AMOUNT
from economy.roles import FlowClass

__all__ = ["FLOWS_SCHEMA", "REVENUE_FLOWS", "FlowBook"]

FLOWS_SCHEMA = pa.schema([
    ("tick", pa.int64()),
    ("payer_class", pa.string()),
    ("payee_class", pa.string()),
    ("flow", pa.string()),
    ("amount", AMOUNT),
    ("n_transfers", pa.int64()),
])

#: Flows that are income for their payee (what "revenue" counts); escrow funding, refunds
#: and genesis allocations move money without earning it.
REVENUE_FLOWS = frozenset({
    Flow.SERVICE, Flow.EVALUATOR_FEE, Flow.PLATFORM_FEE, Flow.COMPUTE, Flow.TRANSFER_FEE,
    Flow.PAYMENT, Flow.BURN, Flow.MINT,
})


class FlowBook:
    """Aggregates money events into (payer class, payee class, flow) cells per tick.

    Args:
        class_of: the provider class of an address (participants, treasury, protocol).
        escrow: the escrow module account; its payouts are attributed to the job's client.
        client_of: the client address of a job id (for escrow attribution).
    """

    def __init__(
        self,
        class_of: Callable[[Address], FlowClass],
        escrow: Address,
        client_of: Callable[[str], Address | None],
    ) -> None:
        self._class_of = class_of
        self._escrow = escrow
        self._client_of = client_of
        self._tick: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.revenue: dict[str, int] = defaultdict(int)  # whole run, by payee class

    def _party(self, address: Address, ref: str, payer: bool) -> str:
        if address == BURN_ADDRESS:
            return FlowClass.PROTOCOL if payer else FlowClass.BURN
        if address == self._escrow:
            client = self._client_of(ref)
            return self._class_of(client) if client else FlowClass.CUSTOMER
        return self._class_of(address)

    def add(self, events: Iterable[Event]) -> None:
        """Take in a batch of ledger events (non-money events are ignored)."""
        for _tick, _tx, _kind, payer, payee, amount, flow, ref, _detail in events:
            if not amount:
                continue
            if flow == Flow.ESCROW_FUND:
                continue  # money parked, not paid: counted when escrow releases it
            key = (self._party(payer, ref, True), self._party(payee, ref, False), flow)
            cell = self._tick[key]
            cell[0] += amount
            cell[1] += 1
            if flow in REVENUE_FLOWS:
                self.revenue[key[1]] += amount

    def close_tick(self, tick: int) -> list[tuple]:
        """The tick's flow rows, sorted, and reset for the next tick."""
        rows = [(tick, *key, cell[0], cell[1]) for key, cell in sorted(self._tick.items())]
        self._tick.clear()
        return rows
