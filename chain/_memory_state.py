"""The reference ledger's state: what every module's rules read and move (balances, events).

`MemoryLedger` owns one `State`; the rules of each module contract (`_memory_token`,
`_memory_escrow`, `_memory_registry`, `_memory_compute`, `_memory_assets`) are functions of it,
and the money they move goes through its four primitives (`debit`, `credit`, `pay`,
`pay_with_fee`), each of which records its event row.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache

from chain.deployment import ASSETS_ADDRESS, COMPUTE_ADDRESS, ESCROW_ADDRESS
from chain.errors import InsufficientFunds, InvalidState
from chain.flows import Flow
from chain.hashing import to_checksum_address
from chain.identity import Address
from chain.protocols import (
    BURN_ADDRESS,
    Asset,
    EventRow,
    Job,
    JobState,
    Lease,
    LedgerParams,
    Pool,
    Twin,
)

__all__ = ["LIVE", "MODULES", "State", "b32", "checked", "positive"]

#: Module accounts: tokens reach and leave them only through their modules' rules.
MODULES = frozenset({BURN_ADDRESS, ESCROW_ADDRESS, COMPUTE_ADDRESS, ASSETS_ADDRESS})
#: The job states whose budget is held in escrow.
LIVE = (JobState.FUNDED, JobState.SUBMITTED)
#: What `snapshot` copies and `restore` puts back (events are history: never reverted).
_SNAPSHOT = ("now", "tx", "balances", "nonces", "jobs", "twins", "minted", "burned", "leases",
             "stakes", "providing", "assets", "pools", "content", "records")


@lru_cache(maxsize=65_536)
def checked(address: str, field: str) -> Address:
    """The checksummed form of an address already known to be well-formed."""
    return to_checksum_address(address)


def b32(value: bytes) -> bytes:
    """A bytes32 field as the contracts store it: zero-padded to 32 bytes."""
    return bytes(value).ljust(32, b"\x00")


def positive(amount: int, field: str = "amount") -> int:
    """`amount`, if it is a positive int; else the rule is broken (InvalidState)."""
    if type(amount) is not int or amount <= 0:
        raise InvalidState(f"{field} must be a positive int in base units, got {amount!r}")
    return amount


@dataclass(slots=True, kw_only=True)
class State:
    """Everything the reference ledger holds, mutated in place by the modules' rules."""

    params: LedgerParams
    protocol: Address
    treasury: Address
    now: int = 0
    tx: int = 0
    balances: dict[Address, int] = field(default_factory=dict)
    nonces: dict[Address, int] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    twins: dict[str, Twin] = field(default_factory=dict)
    leases: dict[int, Lease] = field(default_factory=dict)
    stakes: dict[Address, int] = field(default_factory=dict)
    providing: dict[Address, int] = field(default_factory=dict)  # provider -> open leases
    assets: dict[str, Asset] = field(default_factory=dict)
    pools: dict[str, Pool] = field(default_factory=dict)
    content: set[tuple[str, bytes]] = field(default_factory=set)  # (pool, hash) contributed
    records: set[bytes] = field(default_factory=set)  # data usage records consumed
    minted: int = 0
    burned: int = 0
    events: list[EventRow] = field(default_factory=list)

    def snapshot(self) -> tuple:
        """A deep copy of the state (not the events), for `restore`."""
        return copy.deepcopy(tuple(getattr(self, name) for name in _SNAPSHOT))

    def restore(self, snapshot: tuple) -> None:
        """Put back a state taken by `snapshot`; the events recorded since are kept."""
        for name, value in zip(_SNAPSHOT, copy.deepcopy(snapshot), strict=True):
            setattr(self, name, value)

    def emit(self, kind: str, payer: Address, payee: Address, amount: int, flow: str, ref: str,
             detail: str = "") -> None:
        """Record one event row at the current tick and transaction."""
        # flows as plain strings (a Flow member is a str subclass): rows compare and hash the
        # same on every backend
        self.events.append(EventRow(self.now, self.tx, kind, payer, payee, amount,
                                    flow if type(flow) is str else str(flow), ref, detail))

    def debit(self, account: Address, amount: int) -> None:
        """Take `amount` from `account`, or raise InsufficientFunds (records no row)."""
        held = self.balances.get(account, 0)
        if held < amount:
            raise InsufficientFunds(account, amount, held)
        self.balances[account] = held - amount

    def credit(self, account: Address, amount: int) -> None:
        """Add `amount` to `account` (records no row)."""
        self.balances[account] = self.balances.get(account, 0) + amount

    def pay(self, payer: Address, payee: Address, amount: int, flow: str, ref: str) -> None:
        """Move tokens between accounts (no fee); the payer's funds are checked by the caller."""
        if amount:
            self.balances[payer] -= amount
            self.credit(payee, amount)
            self.emit("transfer", payer, payee, amount, flow, ref)

    def pay_with_fee(self, payer: Address, to: Address, amount: int, flow: str,
                     ref: str) -> None:
        """Move `amount` less the transfer fee to `to`; the fee splits between the treasury
        and burn. The payer's funds are checked by the caller."""
        if not amount:
            return
        fee = amount * self.params.transfer_fee_bps // 10_000
        burn = fee * self.params.fee_burn_bps // 10_000
        self.balances[payer] -= amount
        self.credit(to, amount - fee)
        self.emit("transfer", payer, to, amount - fee, flow, ref)
        if fee:
            if fee - burn:
                self.credit(self.treasury, fee - burn)
                self.emit("transfer", payer, self.treasury, fee - burn, Flow.TRANSFER_FEE, ref)
            if burn:
                self.burned += burn
                self.emit("burn", payer, BURN_ADDRESS, burn, Flow.BURN, ref)
