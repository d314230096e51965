"""Settling: each ledger operation signed by its actor's key and executed, and every event it
leaves recorded in the events table and the value-flow book."""

from __future__ import annotations

from collections.abc import Mapping

from chain import (
    BURN_ADDRESS,
    Address,
    EventRow,
    Identity,
    Intent,
    Ledger,
    Malformed,
    Op,
    SignedIntent,
    TxResult,
    sign,
)
from economy.accounting import FlowBook
from economy.population import EXTERNAL
from economy.recorder import Table

__all__ = ["Clock", "Settler"]


class Clock:
    """The economy's own clock: the current tick (0 is genesis), advanced only by the model."""

    __slots__ = ("tick",)

    def __init__(self) -> None:
        self.tick = 0


class Settler:
    """Signs and executes operations for the economy's actors, and records what they did.

    Every operation is an EIP-712 intent signed by its actor's key with the actor's next nonce
    and a deadline of the current tick (with `signatures = "off"` the signature is left out;
    nonces, deadlines and authority are still checked by the ledger).

    Args:
        ledger: the ledger that executes.
        clock: the economy's clock (the intents' deadline, the market events' tick).
        events: the events table (ledger rows and market rows, in the order they happen).
        flows: the value-flow book every ledger row is booked in.
        names: address -> (label, role); each recorded row is followed by its payer's and its
            payee's (`economy.tables.EVENT_LABELS`; an address not in it: `EXTERNAL`). The
            ledger's rows themselves (`last_events`) are left as the ledger produced them.
    """

    def __init__(self, ledger: Ledger, clock: Clock, events: Table, flows: FlowBook,
                 names: Mapping[Address, tuple[str, str]] | None = None) -> None:
        self.ledger = ledger
        self.clock = clock
        self.events = events
        self.flows = flows
        self._names = {} if names is None else names
        self._verify = ledger.params.signatures == "verify"
        self._domain = ledger.domain
        #: the ledger rows of the last operation executed
        self.last_events: list[EventRow] = []

    def execute(self, identity: Identity, op: Op) -> TxResult:
        """Sign `op` for `identity` and execute it; never raises for a refused operation (one
        whose fields cannot even be encoded is refused by the ledger as malformed, signed or
        not, as a node would refuse it)."""
        address = identity.address
        intent = Intent(sender=address, nonce=self.ledger.nonce_of(address),
                        deadline=self.clock.tick, op=op)
        signed = None
        if self._verify:
            try:
                signed = sign(intent, identity, self._domain)
            except Malformed:  # fields no ABI holds: sent unsigned, the ledger refuses it
                pass
        if signed is None:
            signed = SignedIntent(intent=intent, signature=None, chain_id=self._domain.chain_id)
        result = self.ledger.execute(signed)
        events = self.last_events = self.ledger.drain_events()
        if events:
            name = self._names.get
            self.events.extend([(*e, *name(e.payer, EXTERNAL), *name(e.payee, EXTERNAL))
                                for e in events])
        self.flows.add(events)
        return result

    def event(self, kind: str, payer: Address, payee: str = BURN_ADDRESS, amount: int = 0,
              ref: str = "", detail: str = "") -> None:
        """Record a market event (no ledger row: a rejected action, a fault, a simulation)."""
        name = self._names.get
        self.events.append((*EventRow(self.clock.tick, 0, kind, payer, payee, amount, "", ref,
                                      detail), *name(payer, EXTERNAL), *name(payee, EXTERNAL)))
