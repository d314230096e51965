"""The Ledger protocol every backend honours, and the values it reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from chain.identity import Address, Identity
from chain.intents import Domain, SignedIntent

__all__ = [
    "BURN_ADDRESS",
    "EVENT_COLUMNS",
    "TERMINAL",
    "Job",
    "JobState",
    "Ledger",
    "LedgerParams",
    "Twin",
    "TxResult",
]

#: Mints come from, and burns go to, the zero address (the ERC-20 convention).
BURN_ADDRESS: Address = "0x0000000000000000000000000000000000000000"

#: Columns of an event row, in order. `amount` is an int in base units; `payer`/`payee` are
#: addresses (the zero address for mint and burn); `ref` names the job or twin concerned.
EVENT_COLUMNS = ("tick", "tx", "kind", "payer", "payee", "amount", "flow", "ref", "detail")
Event = tuple[int, int, str, str, str, int, str, str, str]


class JobState(StrEnum):
    """The states of the job escrow (ERC-8183)."""

    OPEN = "open"
    FUNDED = "funded"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"


TERMINAL = frozenset({JobState.COMPLETED, JobState.REJECTED, JobState.EXPIRED})


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerParams:
    """Protocol rules the ledger enforces; each is a scenario parameter."""

    chain_id: int = 31337
    decimals: int = 18
    supply_cap: int = 10**9 * 10**18  # base units that may ever be minted
    transfer_fee_bps: int = 0  # taken from each Transfer, paid by the recipient's side
    fee_burn_bps: int = 5_000  # share of a transfer fee burned; the rest to the treasury
    platform_fee_bps: int = 200  # of a job's budget, to the treasury on completion
    evaluator_fee_bps: int = 300  # of a job's budget, to the evaluator on completion
    signatures: str = "verify"  # "verify": every action's signature is checked; "off": skipped

    def __post_init__(self) -> None:
        from chain.errors import ChainError

        for name in ("transfer_fee_bps", "fee_burn_bps", "platform_fee_bps", "evaluator_fee_bps"):
            value = getattr(self, name)
            if not 0 <= value <= 10_000:
                raise ChainError(f"{name} must be in [0, 10000] basis points, got {value}")
        if self.platform_fee_bps + self.evaluator_fee_bps > 10_000:
            raise ChainError(
                "platform_fee_bps + evaluator_fee_bps must not exceed 10000 (the whole budget), "
                f"got {self.platform_fee_bps + self.evaluator_fee_bps}"
            )
        if self.signatures not in ("verify", "off"):
            raise ChainError(f"signatures must be 'verify' or 'off', got {self.signatures!r}")
        if self.supply_cap < 0 or self.decimals < 0:
            raise ChainError("supply_cap and decimals must be non-negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A job in escrow."""

    job_id: int
    client: Address
    evaluator: Address
    assigner: Address
    provider: Address | None
    budget: int
    expires_at: int
    state: JobState
    spec_hash: bytes
    deliverable: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Twin:
    """A registered twin: its owner and its immutable, linear version history."""

    key: str
    owner: Address
    versions: tuple[tuple[str, bytes], ...]  # (version, spec_hash), oldest first

    @property
    def head(self) -> tuple[str, bytes]:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class TxResult:
    """What became of one signed action."""

    ok: bool
    code: str = "ok"  # "ok", or the ChainError code that rejected it
    reason: str = ""


@runtime_checkable
class Ledger(Protocol):
    """Executes signed economic actions and reports balances, state and events."""

    params: LedgerParams
    domain: Domain
    protocol: Address
    treasury: Address
    escrow: Address

    @property
    def now(self) -> int: ...
    def set_time(self, tick: int) -> None: ...
    def enroll(self, identities: Iterable[Identity]) -> None: ...
    def execute(self, signed: SignedIntent) -> TxResult: ...
    def balance_of(self, account: Address) -> int: ...
    def nonce_of(self, account: Address) -> int: ...
    @property
    def total_supply(self) -> int: ...
    @property
    def minted(self) -> int: ...
    @property
    def burned(self) -> int: ...
    def job(self, job_id: int) -> Job | None: ...
    def twin(self, key: str) -> Twin | None: ...
    def drain_events(self) -> list[Event]: ...
    def check_invariants(self) -> None: ...
    def state_hash(self) -> str: ...
