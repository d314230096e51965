"""Value-flow accounting: every movement of tokens attributed to provider classes, and to
each account's profit and loss by category."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

import pyarrow as pa

from chain import BURN_ADDRESS, Address, Flow
from chain.protocols import Event
from economy.recorder import AMOUNT
from economy.roles import FlowClass

__all__ = ["FLOWS_SCHEMA", "PNL_CATEGORIES", "REVENUE_FLOWS", "FlowBook"]

FLOWS_SCHEMA = pa.schema([
    ("tick", pa.int64()),
    ("payer_class", pa.string()),
    ("payee_class", pa.string()),
    ("flow", pa.string()),
    ("amount", AMOUNT),
    ("n_transfers", pa.int64()),
])

#: Flows that are income earned by their payee (what "revenue" counts); escrow funding,
#: refunds and genesis allocations move money without earning it, and emissions (new tokens
#: for useful work) are reported apart.
REVENUE_FLOWS = frozenset({
    Flow.SERVICE, Flow.EVALUATOR_FEE, Flow.PLATFORM_FEE, Flow.COMPUTE, Flow.TRANSFER_FEE,
    Flow.PAYMENT, Flow.BURN, Flow.ROYALTY, Flow.LICENCE, Flow.DATA, Flow.DATA_FEE,
    Flow.POOL_FEE, Flow.SLASH, Flow.DUST,
})
#: Money parked in a module (job escrow, lease locks, stakes) or handed back from a stake:
#: it is counted when the module pays it out, not when it is parked.
PARKED_FLOWS = frozenset({Flow.ESCROW_FUND, Flow.LEASE_LOCK, Flow.STAKE, Flow.UNSTAKE})
#: The flows whose payees are each market's sellers (for concentration, HHI).
MARKET_FLOWS = {"jobs": Flow.SERVICE, "compute": Flow.COMPUTE, "data": Flow.DATA,
                "royalties": Flow.ROYALTY}
_MARKET_OF = {flow: market for market, flow in MARKET_FLOWS.items()}
#: The profit-and-loss category each paid flow counts under (income for its payee, a cost for
#: whoever's money paid it). Genesis allocations, money parked in a module and returned from
#: it are not income or cost; a slash's burned share is the offender's slashing cost.
PNL_CATEGORIES = ("service", "evaluation", "platform", "sim_time", "licence", "royalties",
                  "data", "fees", "slashing", "payments", "compute_cost", "emissions")
_CATEGORY = {
    Flow.SERVICE: "service", Flow.EVALUATOR_FEE: "evaluation", Flow.PLATFORM_FEE: "platform",
    Flow.COMPUTE: "sim_time", Flow.LICENCE: "licence", Flow.ROYALTY: "royalties",
    Flow.DATA: "data", Flow.DATA_FEE: "data", Flow.POOL_FEE: "data",
    Flow.TRANSFER_FEE: "fees", Flow.BURN: "fees", Flow.DUST: "fees", Flow.SLASH: "slashing",
    Flow.PAYMENT: "payments", Flow.MINT: "emissions", Flow.REWARD: "emissions",
}


class FlowBook:
    """Aggregates money events into (payer class, payee class, flow) cells per tick.

    Args:
        class_of: the provider class of an address (participants, treasury, protocol).
        modules: module accounts (job escrow, compute leases and stakes); what they pay out
            is attributed to whose money they held.
        holder_of: whose money a module moves under an event's ref (a job's client, a
            lease's buyer, a staker).
    """

    def __init__(
        self,
        class_of: Callable[[Address], FlowClass],
        modules: tuple[Address, ...],
        holder_of: Callable[[str], Address | None],
    ) -> None:
        self._class_of = class_of
        self._modules = frozenset(modules)
        self._holder_of = holder_of
        self._tick: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.revenue: dict[str, int] = defaultdict(int)  # whole run, by payee class
        self.by_payee: dict[str, dict[str, int]] = {m: defaultdict(int) for m in MARKET_FLOWS}
        self.by_flow: dict[str, int] = defaultdict(int)  # whole run, by flow
        self.last_tick: dict[str, int] = {}  # the last closed tick's amounts by flow
        #: whole run, by account (module payments attributed to whose money they were), by
        #: category: + income, - cost, exact base units
        self.pnl: dict[Address, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
            PNL_CATEGORIES, 0))

    def _party(self, address: Address, ref: str, payer: bool) -> str:
        if address == BURN_ADDRESS:
            return FlowClass.PROTOCOL if payer else FlowClass.BURN
        if address in self._modules:
            holder = self._holder_of(ref)
            return self._class_of(holder) if holder else FlowClass.CUSTOMER
        return self._class_of(address)

    def charge(self, address: Address, category: str, amount: int) -> None:
        """A cost no ledger row carries (the resource cost of running sim time)."""
        self.pnl[address][category] -= amount

    def _account(self, address: Address, ref: str) -> Address:
        """Whose money an address moves: a module's holder under `ref`, else itself."""
        if address in self._modules:
            return self._holder_of(ref) or address
        return address

    def add(self, events: Iterable[Event]) -> None:
        """Take in a batch of ledger events (non-money events are ignored)."""
        for _tick, _tx, _kind, payer, payee, amount, flow, ref, _detail in events:
            if not amount:
                continue
            if flow in PARKED_FLOWS:
                continue  # money parked, not paid: counted when the module releases it
            category = _CATEGORY.get(flow)
            if category is not None:
                if flow == Flow.BURN and payer in self._modules and ref.startswith("0x"):
                    # a slashed stake's burned share (its rows name the offender; a module's
                    # payout under a job or lease id burns its transfer fee: a fee)
                    category = "slashing"
                self.pnl[self._account(payer, ref)][category] -= amount
                self.pnl[self._account(payee, ref)][category] += amount
            key = (self._party(payer, ref, True), self._party(payee, ref, False), flow)
            cell = self._tick[key]
            cell[0] += amount
            cell[1] += 1
            self.by_flow[flow] += amount
            if flow in REVENUE_FLOWS:
                self.revenue[key[1]] += amount
            market = _MARKET_OF.get(flow)
            if market is not None:
                self.by_payee[market][payee] += amount

    def close_tick(self, tick: int) -> list[tuple]:
        """The tick's flow rows, sorted, and reset for the next tick."""
        rows = [(tick, *key, cell[0], cell[1]) for key, cell in sorted(self._tick.items())]
        totals: dict[str, int] = defaultdict(int)
        for (_, _, flow), cell in self._tick.items():
            totals[flow] += cell[0]
        self.last_tick = dict(totals)
        self._tick.clear()
        return rows
