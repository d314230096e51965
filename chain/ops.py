"""The ledger's operations: what a signed action asks the ledger to do, and their one table.

Each operation is a frozen value with a `KIND` (its name in the signed envelope and the event
log) and `ABI` (the Solidity types of its fields, in order), which fix how its parameters are
hashed into the EIP-712 envelope. `TABLE` is the one table of operations: per op its kind
index (Hub.execute's `kind`), the module contract that runs it and the bounds of its string
fields. Everything else is derived from it: `OPS`, `KIND_INDEX`, `STRING_LIMITS` here, and the
contracts' constants (`chain/contracts/ops.vy`, rendered by `python -m chain.ops_vyper`).

To add an operation:
1. here, its class (fields, `KIND`, `ABI`) and a row at the end of `_ROWS` (its module and
   the bound of each string field; never reorder rows: the index is signed);
2. `python -m chain.ops_vyper`, which rewrites `chain/contracts/ops.vy` (`ops.KIND_<NAME>`);
3. its rule, twice: a function named like its kind in `chain/_memory_<module>.py` (the
   reference; MemoryLedger finds it through the table) and a branch on `ops.KIND_<NAME>` in
   that module contract's `run` (chain/contracts/<Module>.vy);
4. if it logs a new event, its decoder in `chain/_contract_events.py`.
The Hub needs no change: it dispatches on `ops.MODULE_OF[kind]`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from operator import attrgetter
from typing import ClassVar

from chain.abi import Unencodable, encode
from chain.errors import Malformed
from chain.hashing import keccak
from chain.identity import Address

__all__ = [
    "KIND_INDEX",
    "MAX_PARAMS",
    "OPS",
    "STRING_BOUNDS",
    "STRING_LIMITS",
    "TABLE",
    "ClaimLease",
    "ClaimRefund",
    "CloseLease",
    "CompleteJob",
    "Contribute",
    "CreateJob",
    "CreatePool",
    "FundJob",
    "LinkAsset",
    "Mint",
    "Module",
    "Op",
    "OpSpec",
    "OpenLease",
    "Post",
    "PublishVersion",
    "RegisterAsset",
    "RegisterTwin",
    "RejectJob",
    "SetLicence",
    "SetProvider",
    "Slash",
    "Stake",
    "SubmitJob",
    "Transfer",
    "TransferTwin",
    "Unstake",
    "UseData",
    "job_id_for",
    "params_hash",
    "params_size",
    "ref_of",
    "values_of",
]

ZERO32 = b"\x00" * 32
#: The most bytes an operation's ABI-encoded fields may take (the Hub's `params` bound): a
#: longer action cannot be sent at all, so every backend refuses it as malformed.
MAX_PARAMS = 320


def job_id_for(client: Address, nonce: int) -> int:
    """The id of the job created by `client`'s action with `nonce` (a uint64).

    Derived, not counted, so a client can fund its job in the same tick it creates it.
    """
    digest = keccak(bytes.fromhex(client[2:]) + nonce.to_bytes(32, "big"))
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True, slots=True, kw_only=True)
class Op:
    """Base of every ledger operation."""

    KIND: ClassVar[str] = ""
    ABI: ClassVar[tuple[str, ...]] = ()


_GETTERS: dict[type, attrgetter] = {}


def values_of(op: Op) -> tuple:
    """The operation's field values in declaration order (as dataclasses.astuple, without its
    recursive deep copy, which costs more than executing the operation)."""
    getter = _GETTERS.get(type(op))
    if getter is None:
        names = [f.name for f in fields(op)]
        getter = _GETTERS[type(op)] = attrgetter(*names, names[0]) if names else None
    return getter(op)[:-1] if getter is not None else ()


def params_size(op: Op) -> int:
    """Bytes of the operation's ABI-encoded fields (a word each, strings also their bytes)."""
    size = 32 * len(op.ABI)
    for t, v in zip(op.ABI, values_of(op), strict=True):
        if t == "string":
            size += 32 + 32 * -(-len(v.encode()) // 32)
    return size


def params_hash(op: Op) -> bytes:
    """keccak256 of the ABI encoding of the operation's fields, in declaration order.

    Raises Malformed when a field cannot be encoded under the operation's ABI.
    """
    try:
        return keccak(encode(op.ABI, values_of(op)))
    except Unencodable as e:
        raise Malformed(f"{op.KIND}: {e}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Op):
    """Move `amount` to `to`; a transfer fee (bps) is taken from it for treasury and burn."""

    KIND: ClassVar[str] = "transfer"
    ABI: ClassVar[tuple[str, ...]] = ("address", "uint256", "string", "uint256")
    to: Address
    amount: int
    flow: str = "payment"
    ref: int = 0  # what it pays for (a job id, a request id); 0 for none


@dataclass(frozen=True, slots=True, kw_only=True)
class Mint(Op):
    """Create new tokens for `to`; only the protocol account may, and never beyond the cap."""

    KIND: ClassVar[str] = "mint"
    ABI: ClassVar[tuple[str, ...]] = ("address", "uint256", "string")
    to: Address
    amount: int
    flow: str = "mint"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateJob(Op):
    """Open a job (state Open) with the sender as client; its id is job_id_for(sender, nonce).

    `assigner` may set the provider besides the client (a market acting on the client's
    standing order); the zero address means the client alone.
    """

    KIND: ClassVar[str] = "create_job"
    ABI: ClassVar[tuple[str, ...]] = ("address", "address", "uint256", "uint256", "bytes32")
    evaluator: Address
    assigner: Address
    budget: int
    expires_at: int  # tick at and after which anyone may claim the refund
    spec_hash: bytes = ZERO32  # commitment to the job's terms (the order, the twin)


@dataclass(frozen=True, slots=True, kw_only=True)
class FundJob(Op):
    """Move the budget into escrow (Open → Funded); `expected_budget` guards against a change."""

    KIND: ClassVar[str] = "fund_job"
    ABI: ClassVar[tuple[str, ...]] = ("uint64", "uint256")
    job_id: int
    expected_budget: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SetProvider(Op):
    """Name the provider of a job that has none (client or assigner; Open or Funded).

    A non-zero `budget` lowers the job's budget to it (the winning bid of a reverse auction);
    if the job is funded the excess is refunded to the client at once.
    """

    KIND: ClassVar[str] = "set_provider"
    ABI: ClassVar[tuple[str, ...]] = ("uint64", "address", "uint256")
    job_id: int
    provider: Address
    budget: int = 0  # 0: keep the budget


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitJob(Op):
    """The provider commits its deliverable's hash (Funded → Submitted).

    `policy` names the registered asset (a policy) that made the deliverable; on completion
    the service payment pays royalties up that asset's graph. "" names none.
    """

    KIND: ClassVar[str] = "submit_job"
    ABI: ClassVar[tuple[str, ...]] = ("uint64", "bytes32", "string")
    job_id: int
    deliverable: bytes
    policy: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteJob(Op):
    """The evaluator accepts (Funded | Submitted → Completed): escrow pays out, fees first."""

    KIND: ClassVar[str] = "complete_job"
    ABI: ClassVar[tuple[str, ...]] = ("uint64", "bytes32")
    job_id: int
    reason: bytes = ZERO32


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectJob(Op):
    """The evaluator rejects (Funded | Submitted → Rejected): the client is refunded in full."""

    KIND: ClassVar[str] = "reject_job"
    ABI: ClassVar[tuple[str, ...]] = ("uint64", "bytes32")
    job_id: int
    reason: bytes = ZERO32


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimRefund(Op):
    """Anyone, once the job has expired and is not terminal: refund the client (→ Expired)."""

    KIND: ClassVar[str] = "claim_refund"
    ABI: ClassVar[tuple[str, ...]] = ("uint64",)
    job_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterTwin(Op):
    """Register a twin `key` ("kind/name") with its first version; the sender owns it."""

    KIND: ClassVar[str] = "register_twin"
    ABI: ClassVar[tuple[str, ...]] = ("string", "string", "bytes32")
    key: str
    version: str
    spec_hash: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishVersion(Op):
    """The owner appends a new version to a twin's immutable, linear history."""

    KIND: ClassVar[str] = "publish_version"
    ABI: ClassVar[tuple[str, ...]] = ("string", "string", "bytes32")
    key: str
    version: str
    spec_hash: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferTwin(Op):
    """The owner hands a twin to a new owner."""

    KIND: ClassVar[str] = "transfer_twin"
    ABI: ClassVar[tuple[str, ...]] = ("string", "address")
    key: str
    to: Address


@dataclass(frozen=True, slots=True, kw_only=True)
class Post(Op):
    """Publish a message (a bid, an offer) under `topic`: it moves nothing but the nonce."""

    KIND: ClassVar[str] = "post"
    ABI: ClassVar[tuple[str, ...]] = ("string", "uint256", "bytes32")
    topic: str
    ref: int
    data: bytes = ZERO32


# -- compute: stakes and lock-then-claim leases ---------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Stake(Op):
    """Move `amount` of the sender's tokens into its compute stake (the Compute module)."""

    KIND: ClassVar[str] = "stake"
    ABI: ClassVar[tuple[str, ...]] = ("uint256",)
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Unstake(Op):
    """Take `amount` back from the sender's stake; refused while it provides an open lease."""

    KIND: ClassVar[str] = "unstake"
    ABI: ClassVar[tuple[str, ...]] = ("uint256",)
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Slash(Op):
    """The protocol takes `amount` of `offender`'s stake: `slash_reward_bps` of it to
    `beneficiary` (the challenger or victim), the rest burned. `ref` names the evidence."""

    KIND: ClassVar[str] = "slash"
    ABI: ClassVar[tuple[str, ...]] = ("address", "uint256", "address", "uint256")
    offender: Address
    amount: int
    beneficiary: Address
    ref: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SetLicence(Op):
    """The twin's owner sets the licence fee per compute unit of sim time in its twin."""

    KIND: ClassVar[str] = "set_licence"
    ABI: ClassVar[tuple[str, ...]] = ("string", "uint256")
    key: str
    fee_per_cu: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenLease(Op):
    """The buyer locks the worst case, cu x (price_per_cu + the twin's licence per CU), for
    sim time in twin `twin` from `provider`, until tick `expires_at`.

    Its id is job_id_for(sender, nonce). The licence per CU is fixed when the lease opens.
    """

    KIND: ClassVar[str] = "open_lease"
    ABI: ClassVar[tuple[str, ...]] = ("address", "string", "uint256", "uint256", "uint256")
    provider: Address
    twin: str
    cu: int
    price_per_cu: int
    expires_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimLease(Op):
    """The provider claims the CU actually used (<= locked) before expiry, committing to its
    usage receipt: it is paid its price (less the transfer fee, as a transfer would be), the
    twin's owner the licence, the buyer the rest."""

    KIND: ClassVar[str] = "claim_lease"
    ABI: ClassVar[tuple[str, ...]] = ("uint64", "uint256", "bytes32")
    lease_id: int
    cu: int
    receipt: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseLease(Op):
    """Anyone, once an unclaimed lease has expired: the whole lock returns to the buyer."""

    KIND: ClassVar[str] = "close_lease"
    ABI: ClassVar[tuple[str, ...]] = ("uint64",)
    lease_id: int


# -- IP: assets and the royalty graph --------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterAsset(Op):
    """Register an asset (`kind` data, policy or twin) owned by the sender.

    Its licence asks `royalty_bps` of what its descendants earn. A twin asset's key is a
    registered twin's key, registered by that twin's owner; its royalties follow the twin.
    """

    KIND: ClassVar[str] = "register_asset"
    ABI: ClassVar[tuple[str, ...]] = ("string", "string", "bytes32", "uint256")
    key: str
    kind: str
    content_hash: bytes
    royalty_bps: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkAsset(Op):
    """The owner of `child` records that it derives from `parent` (a royalty edge).

    Parents are fixed once the child has children; the royalty stack (the shares of all of
    the child's distinct ancestors) must stay within 10000 bps.
    """

    KIND: ClassVar[str] = "link_asset"
    ABI: ClassVar[tuple[str, ...]] = ("string", "string")
    child: str
    parent: str


# -- data: contributor pools with metered use ------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class CreatePool(Op):
    """Open a data pool `key` owned by the sender: each unit used costs `price_per_unit`, of
    which the owner keeps `owner_fee_bps` (the protocol's `data_fee_bps` to the treasury)."""

    KIND: ClassVar[str] = "create_pool"
    ABI: ClassVar[tuple[str, ...]] = ("string", "uint256", "uint256")
    key: str
    price_per_unit: int
    owner_fee_bps: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Contribute(Op):
    """Contribute an episode of `units` to `pool`; content already in the pool earns nothing."""

    KIND: ClassVar[str] = "contribute"
    ABI: ClassVar[tuple[str, ...]] = ("string", "bytes32", "uint256")
    pool: str
    content_hash: bytes
    units: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UseData(Op):
    """Pay for `units` of `pool`'s data under usage record `record` (consumed once): fees to
    the treasury and the pool's owner, the rest to contributors pro rata to their units."""

    KIND: ClassVar[str] = "use_data"
    ABI: ClassVar[tuple[str, ...]] = ("string", "uint256", "bytes32", "uint256")
    pool: str
    units: int
    record: bytes
    ref: int = 0  # what the data was used for (a job id); 0 for none


def ref_of(op: Op) -> str:
    """What an operation concerns, for the event log: its job id, twin key or ref ("" if none)."""
    for field in ("job_id", "lease_id", "key", "child", "pool", "ref"):
        value = getattr(op, field, None)
        if value:
            return str(value)
    return ""


class Module(StrEnum):
    """The contract that runs an operation; its reference rules are MemoryLedger's module of
    the same name. The order is the contracts' module id (`ops.MODULE_TOKEN` = 0, ...)."""

    TOKEN = "token"
    ESCROW = "escrow"
    REGISTRY = "registry"
    HUB = "hub"
    COMPUTE = "compute"
    ASSETS = "assets"


#: The contracts' string bounds, by name: the most bytes (UTF-8) a string of that name holds
#: (`String[ops.MAX_KEY]` in the contracts). A longer one breaks a rule (`invalid_state`).
STRING_BOUNDS: dict[str, int] = {"flow": 32, "topic": 32, "key": 64, "version": 32,
                                 "asset_kind": 16}


@dataclass(frozen=True, slots=True, kw_only=True)
class OpSpec:
    """One row of the operations table: everything the ledgers and contracts know of an op."""

    index: int  # its `kind` argument of Hub.execute, and its place in OPS
    op: type[Op]
    module: Module  # the contract that runs it
    strings: tuple[tuple[str, str], ...]  # (string field, its bound's name in STRING_BOUNDS)

    @property
    def kind(self) -> str:
        return self.op.KIND

    @property
    def abi(self) -> tuple[str, ...]:
        return self.op.ABI

    @property
    def limits(self) -> tuple[tuple[str, int], ...]:
        """(string field, most bytes it holds), in field order."""
        return tuple((name, STRING_BOUNDS[bound]) for name, bound in self.strings)


#: The one table of operations, in kind-index order (never reorder: the index is signed).
#: Each row: the op, the module contract that runs it, its string fields' bounds.
_ROWS: tuple[tuple[type[Op], Module, dict[str, str]], ...] = (
    (Transfer, Module.TOKEN, {"flow": "flow"}),
    (Mint, Module.TOKEN, {"flow": "flow"}),
    (CreateJob, Module.ESCROW, {}),
    (FundJob, Module.ESCROW, {}),
    (SetProvider, Module.ESCROW, {}),
    (SubmitJob, Module.ESCROW, {"policy": "key"}),
    (CompleteJob, Module.ESCROW, {}),
    (RejectJob, Module.ESCROW, {}),
    (ClaimRefund, Module.ESCROW, {}),
    (RegisterTwin, Module.REGISTRY, {"key": "key", "version": "version"}),
    (PublishVersion, Module.REGISTRY, {"key": "key", "version": "version"}),
    (TransferTwin, Module.REGISTRY, {"key": "key"}),
    (Post, Module.HUB, {"topic": "topic"}),
    (Stake, Module.COMPUTE, {}),
    (Unstake, Module.COMPUTE, {}),
    (Slash, Module.COMPUTE, {}),
    (SetLicence, Module.REGISTRY, {"key": "key"}),
    (OpenLease, Module.COMPUTE, {"twin": "key"}),
    (ClaimLease, Module.COMPUTE, {}),
    (CloseLease, Module.COMPUTE, {}),
    (RegisterAsset, Module.ASSETS, {"key": "key", "kind": "asset_kind"}),
    (LinkAsset, Module.ASSETS, {"child": "key", "parent": "key"}),
    (CreatePool, Module.ASSETS, {"key": "key"}),
    (Contribute, Module.ASSETS, {"pool": "key"}),
    (UseData, Module.ASSETS, {"pool": "key"}),
)


def _table(rows: tuple[tuple[type[Op], Module, dict[str, str]], ...]) -> tuple[OpSpec, ...]:
    """The rows as OpSpecs, refusing a row whose string fields and bounds do not match."""
    table = []
    for index, (op, module, strings) in enumerate(rows):
        names = [f.name for f in fields(op)]
        declared = {n for n, t in zip(names, op.ABI, strict=True) if t == "string"}
        if set(strings) != declared or not set(strings.values()) <= set(STRING_BOUNDS):
            raise TypeError(f"the ops table row of {op.__name__} must bound exactly its string "
                            f"fields {sorted(declared)} by names in STRING_BOUNDS, got {strings}")
        table.append(OpSpec(index=index, op=op, module=module,
                            strings=tuple((n, strings[n]) for n in names if n in strings)))
    return tuple(table)


TABLE: tuple[OpSpec, ...] = _table(_ROWS)
#: Each operation's kind name -> its class, in kind-index order.
OPS: dict[str, type[Op]] = {spec.kind: spec.op for spec in TABLE}
#: An operation's `kind` argument of Hub.execute: its row in TABLE.
KIND_INDEX: dict[type[Op], int] = {spec.op: spec.index for spec in TABLE}
#: String fields and the most bytes (UTF-8) the contracts accept in each, per op that has any.
STRING_LIMITS: dict[type[Op], tuple[tuple[str, int], ...]] = {
    spec.op: spec.limits for spec in TABLE if spec.strings}
