"""ContractLedger: the Ledger protocol on the real contracts, over any EVM transport.

The contracts (chain/contracts/) hold the state and enforce every rule; this class deploys
them, turns signed actions into calls of `Hub.execute` from the sender's address, and decodes
the contracts' events into the same event rows the reference ledger (`MemoryLedger`) records.
Two transports carry the calls: an in-process pyrevm EVM (`chain.evm`) and a JSON-RPC node
through web3 (`chain.rpc`).

What the contracts cannot see is checked here, as a node would before accepting a
transaction: the chain id the action was signed for, and whether its fields can be ABI-encoded
at all (`malformed`). Both refusals change nothing, as in the reference ledger.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple, Protocol

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from chain._contract_events import (
    address_of,
    build_decoders,
    dyn_at,
    revert_code,
    selector,
    uint_at,
)
from chain._state_hash import state_hash
from chain.abi import Unencodable, encode, encode_bytes, is_address, malformed, word
from chain.compile import compile_all
from chain.deployment import DEPLOYER
from chain.errors import (
    ChainError,
    InvalidSignature,
    InvalidState,
    InvariantViolation,
    Malformed,
    UnknownOp,
    WrongDomain,
)
from chain.identity import Address, Identity
from chain.intents import Domain, SignedIntent
from chain.ops import KIND_INDEX, MAX_PARAMS, Op, ref_of, values_of
from chain.protocols import (
    BURN_ADDRESS,
    Asset,
    EventRow,
    Job,
    JobState,
    Lease,
    LeaseState,
    LedgerParams,
    Pool,
    Twin,
    TxResult,
)

__all__ = ["KIND_INDEX", "ContractLedger", "Outcome", "Transport", "revert_code"]

_STATES = (None, JobState.OPEN, JobState.FUNDED, JobState.SUBMITTED, JobState.COMPLETED,
           JobState.REJECTED, JobState.EXPIRED)
_LIVE = (JobState.FUNDED, JobState.SUBMITTED)
_LEASE_STATES = (None, LeaseState.OPEN, LeaseState.CLAIMED, LeaseState.EXPIRED)
_LEASE_ABI = ["(address,address,string,uint256,uint256,uint256,uint256,uint8,uint256)"]
_ASSET_ABI = ["string", "address", "bytes32", "uint256", "string[]", "uint256"]
_POOL_ABI = ["address", "uint256", "uint256", "(address,uint256)[]", "uint256"]


class Outcome(NamedTuple):
    """What one transaction did: whether it reverted, its return or revert data, its logs."""

    ok: bool
    output: bytes
    logs: list[tuple[str | None, list[bytes], bytes]]  # (contract address or None, topics, data)


class Transport(Protocol):
    """Carries calls to an EVM: in-process (pyrevm) or a JSON-RPC node (web3)."""

    chain_id: int
    #: True when this ledger is the chain's only writer, so it may mirror nonces and time.
    exclusive: bool

    def deploy(self, deployer: Identity, initcode: bytes) -> Address: ...
    def send(self, sender: Address, to: Address, data: bytes) -> Outcome: ...
    def call(self, to: Address, data: bytes) -> bytes: ...
    def snapshot(self) -> object: ...
    def revert(self, snapshot: object) -> None: ...
    def enroll(self, identities: Iterable[Identity]) -> None: ...
    def settle(self) -> None: ...
    # optional: `storage(address, slot) -> int` reads a storage word without a call frame


_EXECUTE = selector("execute(address,uint256,uint256,uint8,bytes,bytes)")
_PARAMS_AT = word(192)  # the offset of `params` in execute's arguments
_KIND_WORDS = [word(i) for i in range(len(KIND_INDEX))]
_HEADS: dict[str, bytes] = {}  # selector ++ sender word, per sender
_OK = TxResult(ok=True)
_ZERO20 = b"\x00" * 20


def _head(sender: object) -> bytes:
    """The selector and the sender's word of execute's calldata (cached per sender)."""
    if not (type(sender) is str and is_address(sender)):
        raise Unencodable(f"the sender must be a 0x-prefixed 20-byte hex address, got "
                          f"{sender!r}")
    head = _HEADS[sender] = _EXECUTE + _addr_arg(sender)
    return head


def _uint256(value: object) -> bytes:
    if type(value) is int and 0 <= value < 2**256:
        return value.to_bytes(32, "big")
    raise Unencodable(f"nonce and deadline must be ints in [0, 2**256), got {value!r}")


_checksum = lru_cache(maxsize=65_536)(to_checksum_address)
_ZERO_WORD = b"\x00" * 32


class ContractLedger:
    """The Ledger protocol on the deployed contracts.

    Args:
        params: the protocol rules, given to the contracts at deployment.
        protocol: the only account allowed to mint.
        treasury: where platform fees and the treasury share of transfer fees go.
        transport: the EVM the contracts run on.
        deployer: the account that deploys the contracts and owns the clock.
    """

    backend = "contract"

    def __init__(self, params: LedgerParams, *, protocol: Address, treasury: Address,
                 transport: Transport, deployer: Identity = DEPLOYER) -> None:
        for name, value in (("protocol", protocol), ("treasury", treasury)):
            if malformed(("address",), (value,)):
                raise InvalidState(f"{name} must be a 0x-prefixed 20-byte hex address, got "
                                   f"{value!r}")
        if params.decimals > 255 or params.supply_cap >= 2**256:
            raise ChainError("the contracts hold decimals <= 255 and supply_cap < 2**256")
        if transport.chain_id != params.chain_id:
            raise WrongDomain(params.chain_id, transport.chain_id)
        self.params = params
        self.protocol = to_checksum_address(protocol)
        self.treasury = to_checksum_address(treasury)
        self._t = transport
        self._deployer = deployer
        self._exclusive = transport.exclusive
        art = compile_all()

        def deploy(initcode: bytes) -> Address:
            return to_checksum_address(transport.deploy(deployer, initcode))

        self.hub = deploy(art["Hub"].initcode + abi_encode(
            ["bool"], [params.signatures == "verify"]))
        self.token = deploy(art["Token"].initcode + abi_encode(
            ["address", "address", "address", "uint256", "uint256", "uint256", "uint8"],
            [self.hub, self.protocol, self.treasury, params.supply_cap, params.transfer_fee_bps,
             params.fee_burn_bps, params.decimals]))
        self.registry = deploy(art["Registry"].initcode + abi_encode(
            ["address"], [self.hub]))
        self.escrow = deploy(art["Escrow"].initcode + abi_encode(
            ["address", "address", "address", "uint256", "uint256", "bool", "uint256", "bool"],
            [self.hub, self.token, self.treasury, params.platform_fee_bps,
             params.evaluator_fee_bps, params.evaluator_paid_on_reject, params.min_expiry,
             params.royalty_mode == "lap"]))
        self.compute = deploy(art["Compute"].initcode + abi_encode(
            ["address", "address", "address", "address", "uint256", "uint256"],
            [self.hub, self.token, self.registry, self.protocol, params.min_stake,
             params.slash_reward_bps]))
        self.assets = deploy(art["Assets"].initcode + abi_encode(
            ["address", "address", "address", "address", "uint256"],
            [self.hub, self.token, self.registry, self.treasury, params.data_fee_bps]))
        self._owner_call(self.hub, "wire(address,address,address,address,address)",
                         ["address"] * 5,
                         [self.token, self.registry, self.escrow, self.compute, self.assets])
        self.domain = Domain(chain_id=params.chain_id, verifying_contract=self.hub)
        #: Accounts no key controls: actions "from" them are bad signatures.
        self._keyless = frozenset({BURN_ADDRESS, self.hub, self.token, self.registry,
                                   self.escrow, self.compute, self.assets})
        self._now = self._view_int(self.hub, "now()")
        self._tx = 0
        self._events: list[EventRow] = []
        self._nonces: dict[Address, int] = {}
        self._accounts: set[Address] = set()  # every account tokens ever moved to or from
        self._senders: set[Address] = set()  # every account whose nonce moved
        self._job_ids: set[int] = set()
        self._open_jobs: set[int] = set()  # jobs not yet terminal
        self._twin_keys: set[str] = set()
        self._lease_ids: set[int] = set()
        self._open_leases: set[int] = set()  # leases not yet claimed or closed
        self._stakers: set[Address] = set()  # every account that ever staked
        self._asset_keys: set[str] = set()
        self._pool_keys: set[str] = set()
        self._records: set[bytes] = set()  # data usage records consumed
        self._pool_by_id: dict[bytes, str] = {}  # keccak256(key) -> key (never wrong: kept)
        self._slashed = ""  # the offender of the slash being decoded
        self._decoders = build_decoders(self)
        # a transport that reads storage directly (pyrevm) answers balances without a call
        self._storage = getattr(transport, "storage", None)
        self._balance_map = word(art["Token"].storage["erc20"]["balanceOf"]["slot"])
        self._balance_slots: dict[str, int] = {}
        self._snapshots = 0  # snapshots taken and not yet reverted to

    # -- plumbing ---------------------------------------------------------------------------
    def _owner_call(self, to: Address, signature: str, types: list[str], args: list) -> None:
        out = self._t.send(self._deployer.address, to,
                           selector(signature) + abi_encode(types, args))
        if not out.ok:
            raise ChainError(f"{signature} failed on the ledger contracts: "
                             f"{revert_code(out.output)}")

    def _view(self, to: Address, signature: str, data: bytes = b"") -> bytes:
        return self._t.call(to, selector(signature) + data)

    def _view_int(self, to: Address, signature: str, data: bytes = b"") -> int:
        return int.from_bytes(self._view(to, signature, data)[:32], "big")

    def enroll(self, identities: Iterable[Identity]) -> None:
        """Make these agents' keys available to the transport (the rpc backend signs their raw
        transactions with them and funds their gas); a no-op in-process."""
        self._t.enroll(identities)

    # -- reading ---------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self._now

    def set_time(self, tick: int) -> None:
        """Advance the ledger clock (the Hub's `now`) to `tick`; time never goes back.

        A new tick is also when the transport may settle its history (pyrevm folds its
        journal into the state, which keeps memory bounded), unless a snapshot is held.
        """
        if tick < self._now:
            raise InvalidState(f"time cannot go back from tick {self._now} to {tick}")
        if tick != self._now:
            self._owner_call(self.hub, "set_time(uint256)", ["uint256"], [tick])
            self._now = tick
            if not self._snapshots:
                self._t.settle()

    def balance_of(self, account: Address) -> int:
        if self._storage is None:
            return self._view_int(self.token, "balanceOf(address)", _addr_arg(account))
        slot = self._balance_slots.get(account)
        if slot is None:  # Vyper: HashMap[k] of the map at slot s lives at keccak256(s ++ k)
            slot = int.from_bytes(keccak(self._balance_map + _addr_arg(account)), "big")
            self._balance_slots[account] = slot
        return self._storage(self.token, slot)

    def nonce_of(self, account: Address) -> int:
        if self._exclusive:
            return self._nonces.get(account, 0)
        return self._view_int(self.hub, "nonces(address)", _addr_arg(account))

    @property
    def total_supply(self) -> int:
        return self._view_int(self.token, "totalSupply()")

    @property
    def minted(self) -> int:
        return self._view_int(self.token, "minted()")

    @property
    def burned(self) -> int:
        return self._view_int(self.token, "burned()")

    def job(self, job_id: int) -> Job | None:
        if type(job_id) is not int or not 0 <= job_id < 2**64:
            return None
        # decoded by hand (a hot path: the economy and the invariant check read every live
        # job): one dynamic tuple, its head of 12 words, the policy string after it
        out = self._view(self.escrow, "jobs(uint64)", word(job_id))
        t = out[uint_at(out, 0):]
        state = uint_at(t, 6)
        if state == 0:
            return None
        provider = t[96:128]
        return Job(
            job_id=job_id, client=address_of(t[0:32]), evaluator=address_of(t[32:64]),
            assigner=address_of(t[64:96]),
            provider=None if provider == _ZERO_WORD else address_of(provider),
            budget=uint_at(t, 4), expires_at=uint_at(t, 5), state=_STATES[state],
            spec_hash=t[256:288], deliverable=t[288:320] if uint_at(t, 7) else None,
            eval_deposit=uint_at(t, 10), policy=dyn_at(t, 11).decode(),
        )

    def twin(self, key: str) -> Twin | None:
        if not isinstance(key, str) or len(key.encode()) > 64:
            return None
        out = self._view(self.registry, "twin(string)", abi_encode(["string"], [key]))
        owner, licence, versions = abi_decode(["address", "uint256", "(string,bytes32)[]"], out)
        if int(owner, 16) == 0:
            return None
        return Twin(key=key, owner=to_checksum_address(owner),
                    versions=tuple((name, spec_hash) for name, spec_hash in versions),
                    licence_per_cu=licence)

    def lease(self, lease_id: int) -> Lease | None:
        if type(lease_id) is not int or not 0 <= lease_id < 2**64:
            return None
        (buyer, provider, twin, cu, price_per_cu, licence_per_cu, expires_at, state,
         cu_used) = abi_decode(_LEASE_ABI, self._view(self.compute, "leases(uint64)",
                                                      word(lease_id)))[0]
        if state == 0:
            return None
        return Lease(lease_id=lease_id, buyer=_checksum(buyer), provider=_checksum(provider),
                     twin=twin, cu=cu, price_per_cu=price_per_cu, licence_per_cu=licence_per_cu,
                     expires_at=expires_at, state=_LEASE_STATES[state], cu_used=cu_used)

    def stake_of(self, account: Address) -> int:
        return self._view_int(self.compute, "stakes(address)", _addr_arg(account))

    def asset(self, key: str) -> Asset | None:
        if not isinstance(key, str) or len(key.encode()) > 64:
            return None
        kind, owner, content_hash, royalty_bps, parents, children = abi_decode(
            _ASSET_ABI, self._view(self.assets, "asset(string)", abi_encode(["string"], [key])))
        if not kind:
            return None
        return Asset(key=key, kind=kind, owner=_checksum(owner), content_hash=content_hash,
                     royalty_bps=royalty_bps, parents=tuple(parents), children=children)

    def pool(self, key: str) -> Pool | None:
        if not isinstance(key, str) or len(key.encode()) > 64:
            return None
        owner, price_per_unit, owner_fee_bps, contributors, episodes = abi_decode(
            _POOL_ABI, self._view(self.assets, "pool(string)", abi_encode(["string"], [key])))
        if int(owner, 16) == 0:
            return None
        return Pool(key=key, owner=_checksum(owner), price_per_unit=price_per_unit,
                    owner_fee_bps=owner_fee_bps,
                    contributors=tuple((_checksum(a), units) for a, units in contributors),
                    episodes=episodes)

    def balances(self) -> dict[Address, int]:
        """Every non-zero balance of an account tokens have moved to or from."""
        found = {a: self.balance_of(a) for a in sorted(self._accounts)}
        return {a: b for a, b in found.items() if b}

    def drain_events(self) -> list[EventRow]:
        events, self._events = self._events, []
        return events

    # -- executing -------------------------------------------------------------------------
    def execute(self, signed: SignedIntent) -> TxResult:
        """Check what a node would, then call Hub.execute from the sender's address."""
        intent = signed.intent
        op = intent.op
        sender = intent.sender
        self._tx += 1
        if signed.chain_id != self.params.chain_id:
            return self._refuse(sender, op, WrongDomain(self.params.chain_id, signed.chain_id))
        cls = type(op)
        kind = KIND_INDEX.get(cls)
        if kind is None:
            return self._refuse(sender, op, UnknownOp(
                f"the contracts have no operation {cls.__name__}"))
        try:  # what a node checks first: can the transaction be encoded at all
            head = _HEADS.get(sender) or _head(sender)
            params = encode(op.ABI, values_of(op))
            nonce, deadline = _uint256(intent.nonce), _uint256(intent.deadline)
        except Unencodable as e:
            return self._refuse(sender, op, Malformed(f"{op.KIND}: {e}"))
        if len(params) > MAX_PARAMS:  # the Hub cannot take it: no transaction at all
            return self._refuse(sender, op, Malformed(
                f"{op.KIND}: its fields take {len(params)} bytes encoded, over the "
                f"{MAX_PARAMS} an action may carry; shorten its strings"))
        sender = _checksum(sender)
        if sender in self._keyless:  # no key exists; a node would refuse it
            return self._refuse(sender, op, InvalidSignature(sender, None))
        signature = signed.signature or b""
        if len(signature) > 65:
            signature = b""  # not a signature at all: the hub refuses it as a bad signature
        data = b"".join((
            head, nonce, deadline, _KIND_WORDS[kind], _PARAMS_AT,
            (224 + 32 * -(-len(params) // 32)).to_bytes(32, "big"),
            len(params).to_bytes(32, "big"), params,
            encode_bytes(signature),
        ))
        out = self._t.send(sender, self.hub, data)
        if not out.ok:  # authentication failed: nothing changed
            code = revert_code(out.output)
            self._emit("rejected", sender, BURN_ADDRESS, 0, "", ref_of(op), f"{op.KIND}:{code}")
            return TxResult(ok=False, code=code, reason=f"{op.KIND} refused by the "
                            f"{self.backend} ledger's Hub: {code}")
        if self._exclusive:
            self._nonces[sender] = intent.nonce + 1
        self._senders.add(sender)
        code = ""  # set by the hub's Rejected event, if a rule rejected the action
        self._slashed = ""  # set by a Slashed event: the offender its burn row names
        decoders = self._decoders
        for address, topics, log_data in out.logs:
            decoder = decoders.get(topics[0]) if topics else None
            # a transport that cannot tell log addresses apart (pyrevm: only the ledger's
            # contracts have code there) gives None
            if decoder is not None and (address is None or address.lower() == decoder[0]):
                code = decoder[1](topics, log_data, op) or code
        if not code:  # no Rejected event: the rule accepted it
            return _OK
        return TxResult(ok=False, code=code,
                        reason=f"{op.KIND} rejected by the {self.backend} ledger's rules: {code}")

    def _refuse(self, sender: Address, op: Op, error: ChainError) -> TxResult:
        self._emit("rejected", sender, BURN_ADDRESS, 0, "", ref_of(op), f"{op.KIND}:{error.code}")
        return TxResult(ok=False, code=error.code, reason=str(error))

    def _emit(self, kind: str, payer: str, payee: str, amount: int, flow: str, ref: str,
              detail: str = "") -> None:
        self._events.append(EventRow(self._now, self._tx, kind, payer, payee, amount, flow, ref,
                                     detail))

    # -- invariants, hashing, snapshots ----------------------------------------------------
    def check_invariants(self) -> None:
        """Raise InvariantViolation unless the contracts' state satisfies every invariant."""
        supply, minted, burned = self.total_supply, self.minted, self.burned
        total = sum(self.balance_of(a) for a in self._accounts)
        if not total == supply == minted - burned:
            raise InvariantViolation(f"balances sum to {total}, total supply is {supply}, "
                                     f"minted - burned is {minted - burned}")
        if minted > self.params.supply_cap:
            raise InvariantViolation(f"minted {minted} exceeds the cap")
        live = 0
        for job_id in self._open_jobs:
            job = self.job(job_id)
            if job is not None and job.state in _LIVE:
                live += job.budget + job.eval_deposit
        locked = self._view_int(self.escrow, "locked()")
        held = self.balance_of(self.escrow)
        if not live == locked == held:
            raise InvariantViolation(f"escrow holds {held}, records {locked} locked, and live "
                                     f"jobs account for {live}")
        leases = [self.lease(i) for i in self._open_leases]
        open_locks = sum(le.locked for le in leases if le and le.state is LeaseState.OPEN)
        stakes = sum(self.stake_of(a) for a in self._stakers)
        recorded = (self._view_int(self.compute, "locked()"),
                    self._view_int(self.compute, "staked()"))
        held = self.balance_of(self.compute)
        if not (open_locks, stakes) == recorded or held != open_locks + stakes:
            raise InvariantViolation(f"the compute module holds {held}, records (locks, stakes) "
                                     f"{recorded}, open leases and stakes account for "
                                     f"{(open_locks, stakes)}")
        if self.balance_of(self.assets):
            raise InvariantViolation("the assets module holds tokens")

    def state_hash(self) -> str:
        """sha256 over the whole state, in MemoryLedger's canonical order and format: the same
        state on any backend gives the same hash."""
        return state_hash(
            now=self._now, minted=self.minted, burned=self.burned,
            balances=sorted(self.balances().items()),
            nonces=((a, self.nonce_of(a)) for a in sorted(self._senders)),
            jobs=map(self.job, sorted(self._job_ids)),
            twins=map(self.twin, sorted(self._twin_keys)),
            leases=map(self.lease, sorted(self._lease_ids)),
            stakes=((a, self.stake_of(a)) for a in sorted(self._stakers)),
            assets=map(self.asset, sorted(self._asset_keys)),
            pools=map(self.pool, sorted(self._pool_keys)), records=sorted(self._records))

    def _mirrors(self) -> tuple:
        return (self._now, self._tx, self._nonces, self._accounts, self._senders,
                self._job_ids, self._open_jobs, self._twin_keys, self._lease_ids,
                self._open_leases, self._stakers, self._asset_keys, self._pool_keys,
                self._records)

    def snapshot(self) -> object:
        """An opaque copy of the state, for `revert` (tests, what-if queries)."""
        mirrors = copy.deepcopy(self._mirrors())
        self._snapshots += 1
        return (self._t.snapshot(), mirrors)

    def revert(self, snapshot: object) -> None:
        """Restore a state taken by `snapshot`; events recorded since are kept as history."""
        chain_snapshot, mirrors = snapshot  # type: ignore[misc]
        self._t.revert(chain_snapshot)
        self._snapshots = max(0, self._snapshots - 1)
        (self._now, self._tx, self._nonces, self._accounts, self._senders, self._job_ids,
         self._open_jobs, self._twin_keys, self._lease_ids, self._open_leases, self._stakers,
         self._asset_keys, self._pool_keys, self._records) = copy.deepcopy(mirrors)


def _addr_arg(account: str) -> bytes:
    return b"\x00" * 12 + bytes.fromhex(account[2:])
