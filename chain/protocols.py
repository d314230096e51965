"""The Ledger protocol every backend honours, and the values it reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, runtime_checkable

from chain.identity import Address, Identity
from chain.intents import Domain, SignedIntent

__all__ = [
    "BURN_ADDRESS",
    "EVENT_COLUMNS",
    "TERMINAL",
    "Asset",
    "Event",
    "EventRow",
    "Job",
    "JobState",
    "Lease",
    "LeaseState",
    "Ledger",
    "LedgerParams",
    "ParamSpec",
    "Pool",
    "RoyaltyMode",
    "SignatureMode",
    "Twin",
    "TxResult",
]

#: Mints come from, and burns go to, the zero address (the ERC-20 convention).
BURN_ADDRESS: Address = "0x0000000000000000000000000000000000000000"


class EventRow(NamedTuple):
    """One row of the ledger's event log: a movement of tokens or a change of state.

    A NamedTuple, so it is still a plain tuple to the recorder and to every comparison; hash
    `tuple(row)`, not the row, where a repr is hashed (its repr names the fields).
    """

    tick: int
    tx: int  # the ledger's count of actions executed, this one included
    kind: str  # "transfer", "mint", "burn", "rejected", "job_created", ...
    payer: Address  # the zero address for a mint
    payee: Address  # the zero address for a burn
    amount: int  # base units; 0 for a change of state
    flow: str  # the movement's purpose (chain.Flow), "" for a change of state
    ref: str  # the job, lease, twin, asset or pool concerned ("" if none)
    detail: str = ""


#: Columns of an event row, in order.
EVENT_COLUMNS: tuple[str, ...] = EventRow._fields
#: The old name of an event row's type.
Event = EventRow


class JobState(StrEnum):
    """The states of the job escrow (ERC-8183)."""

    OPEN = "open"
    FUNDED = "funded"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"


TERMINAL = frozenset({JobState.COMPLETED, JobState.REJECTED, JobState.EXPIRED})


class RoyaltyMode(StrEnum):
    """How a service payment pays royalties up the asset graph (chain.royalty)."""

    LRP = "lrp"  # relative shares compound up the graph
    LAP = "lap"  # each ancestor takes its share of the payment itself


class SignatureMode(StrEnum):
    """Whether the ledger checks each action's signature."""

    VERIFY = "verify"  # every action's signature is checked
    OFF = "off"  # signatures are skipped (a trusted simulation)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSpec:
    """What a LedgerParams field holds: its default, bounds (inclusive; None: unbounded) or
    choices, and what it means. Scenario schemas and economy rules derive theirs from it."""

    name: str
    default: object
    doc: str
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] | None = None
    unit: str = ""


def _param(default: object, doc: str, *, min: int | None = None, max: int | None = None,
           choices: type[StrEnum] | None = None, unit: str = "") -> Any:
    """A LedgerParams field with its bounds and meaning as metadata."""
    return field(default=default, metadata={"doc": doc, "min": min, "max": max,
                                            "choices": choices, "unit": unit})


def _bps(default: int, doc: str) -> Any:
    return _param(default, doc, min=0, max=10_000, unit="basis points")


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerParams:
    """Protocol rules the ledger enforces; each is a scenario parameter.

    Each field's default, bounds and meaning are data (`LedgerParams.spec()`), checked when
    the params are made; `royalty_mode` and `signatures` take the enum or its string and hold
    the enum (equal to its string).
    """

    chain_id: int = _param(31337, "the EVM chain id actions are signed for")
    decimals: int = _param(18, "decimals of the token", min=0)
    supply_cap: int = _param(10**9 * 10**18, "base units that may ever be minted", min=0)
    transfer_fee_bps: int = _bps(0, "taken from each Transfer, paid by the recipient's side")
    fee_burn_bps: int = _bps(5_000, "share of a transfer fee burned; the rest to the treasury")
    platform_fee_bps: int = _bps(200, "of a job's budget, to the treasury on completion")
    evaluator_fee_bps: int = _bps(300, "of a job's budget, to the evaluator on completion")
    # (ruff RUF009: _param returns a dataclasses.field, so the default is not shared state)
    signatures: SignatureMode | str = _param(  # noqa: RUF009
        SignatureMode.VERIFY, "verify: every action's signature is checked; off: skipped",
        choices=SignatureMode)
    evaluator_paid_on_reject: bool = _param(
        False, "the client deposits the evaluator's fee at funding, beside the budget, and the "
        "evaluator is paid it on reject as on complete")
    min_expiry: int = _param(2, "ticks from creation a job's expiry must be at least", min=1,
                             unit="ticks")
    royalty_mode: RoyaltyMode | str = _param(  # noqa: RUF009
        RoyaltyMode.LRP, "lrp: relative shares compound up the graph; lap: each ancestor takes "
        "its share of the payment itself", choices=RoyaltyMode)
    min_stake: int = _param(0, "stake a compute provider must hold to have a lease opened "
                            "with it", min=0, unit="base units")
    slash_reward_bps: int = _bps(5_000, "share of a slash paid to the beneficiary; the rest "
                                 "burned")
    data_fee_bps: int = _bps(0, "protocol's share of each data use, to the treasury")

    @classmethod
    def spec(cls) -> dict[str, ParamSpec]:
        """Each field's default, bounds, choices and meaning, by name, in field order."""
        out = {}
        for f in fields(cls):
            m = f.metadata
            choices = tuple(c.value for c in m["choices"]) if m["choices"] else None
            out[f.name] = ParamSpec(name=f.name, default=f.default, doc=m["doc"], min=m["min"],
                                    max=m["max"], choices=choices, unit=m["unit"])
        return out

    def __post_init__(self) -> None:
        from chain.errors import ChainError

        for f in fields(self):
            value, m = getattr(self, f.name), f.metadata
            if m["choices"] is not None:
                try:
                    object.__setattr__(self, f.name, m["choices"](value))
                except ValueError:
                    allowed = " or ".join(repr(c.value) for c in m["choices"])
                    raise ChainError(f"{f.name} must be {allowed}, got {value!r}; use one of "
                                     "those") from None
                continue
            low, high = m["min"], m["max"]
            if (low is not None and value < low) or (high is not None and value > high):
                if high is not None:
                    want = f"in [{low}, {high}]" + (f" {m['unit']}" if m["unit"] else "")
                else:
                    want = "non-negative" if low == 0 else f"at least {low}"
                raise ChainError(f"{f.name} must be {want}, got {value}; set it within its "
                                 "bounds (LedgerParams.spec())")
        if self.platform_fee_bps + self.evaluator_fee_bps > 10_000:
            raise ChainError(
                "platform_fee_bps + evaluator_fee_bps must not exceed 10000 (the whole budget), "
                f"got {self.platform_fee_bps + self.evaluator_fee_bps}; lower one of them"
            )


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
    eval_deposit: int = 0  # the evaluator's fee held beside the budget (paid on reject too)
    policy: str = ""  # the asset that made the deliverable (royalties are paid up its graph)


@dataclass(frozen=True, slots=True, kw_only=True)
class Twin:
    """A registered twin: its owner and its immutable, linear version history."""

    key: str
    owner: Address
    versions: tuple[tuple[str, bytes], ...]  # (version, spec_hash), oldest first
    licence_per_cu: int = 0  # the owner's licence fee per compute unit of sim time

    @property
    def head(self) -> tuple[str, bytes]:
        return self.versions[-1]


class LeaseState(StrEnum):
    """The states of a compute lease."""

    OPEN = "open"
    CLAIMED = "claimed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """A compute lease: sim time locked at its worst case, claimed at actual usage."""

    lease_id: int
    buyer: Address
    provider: Address
    twin: str
    cu: int  # compute units locked
    price_per_cu: int
    licence_per_cu: int  # the twin's licence when the lease opened
    expires_at: int
    state: LeaseState = LeaseState.OPEN
    cu_used: int = 0  # claimed usage

    @property
    def locked(self) -> int:
        """Base units held for the lease: its worst case."""
        return self.cu * (self.price_per_cu + self.licence_per_cu)


@dataclass(frozen=True, slots=True, kw_only=True)
class Asset:
    """A registered IP asset: a node of the royalty graph."""

    key: str
    kind: str  # "data", "policy" or "twin"
    owner: Address
    content_hash: bytes
    royalty_bps: int  # what its licence asks of its descendants' earnings
    parents: tuple[str, ...] = ()
    children: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Pool:
    """A data pool: contributors' units, and what a unit of use costs."""

    key: str
    owner: Address
    price_per_unit: int
    owner_fee_bps: int
    contributors: tuple[tuple[Address, int], ...] = ()  # (address, units), first come first
    episodes: int = 0

    @property
    def total_units(self) -> int:
        return sum(u for _, u in self.contributors)


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
    def lease(self, lease_id: int) -> Lease | None: ...
    def stake_of(self, account: Address) -> int: ...
    def asset(self, key: str) -> Asset | None: ...
    def pool(self, key: str) -> Pool | None: ...
    def drain_events(self) -> list[EventRow]: ...
    def check_invariants(self) -> None: ...
    def state_hash(self) -> str: ...
