"""MemoryLedger: the reference semantics of the ledger, in plain Python.

Every other backend is tested against this one. The rules:

- An action that is malformed (a field its ABI type cannot hold) or whose authentication fails
  (wrong domain, bad signature, wrong nonce, deadline passed) changes nothing at all, not even
  the nonce: on a chain it would never be executed.
- An authenticated action that breaks a rule (missing authority, insufficient funds, wrong job
  state) consumes its nonce and changes nothing else; a `rejected` event records why.
- Strings have the contracts' limits (flow and topic 32 bytes, twin key 64, version 32) and a
  bytes32 field is zero-padded to 32 bytes, as the contracts store it.
- Every movement of tokens is one event row `payer → payee, amount, flow`; the sum of the rows
  a payer sends equals what leaves its balance, so events alone reconstruct every balance.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache

from eth_utils import to_checksum_address

from chain.abi import malformed, validator
from chain.deployment import (
    ASSETS_ADDRESS,
    COMPUTE_ADDRESS,
    ESCROW_ADDRESS,
    HUB_ADDRESS,
    REGISTRY_ADDRESS,
    TOKEN_ADDRESS,
)
from chain.errors import (
    CapExceeded,
    ChainError,
    DeadlinePassed,
    InsufficientFunds,
    InvalidSignature,
    InvalidState,
    InvariantViolation,
    Malformed,
    NonceMismatch,
    Unauthorized,
    UnknownOp,
    WrongDomain,
)
from chain.flows import Flow
from chain.identity import Address, Identity
from chain.intents import Domain, SignedIntent, recover
from chain.ops import (
    MAX_PARAMS,
    STRING_LIMITS,
    ClaimLease,
    ClaimRefund,
    CloseLease,
    CompleteJob,
    Contribute,
    CreateJob,
    CreatePool,
    FundJob,
    LinkAsset,
    Mint,
    Op,
    OpenLease,
    Post,
    PublishVersion,
    RegisterAsset,
    RegisterTwin,
    RejectJob,
    SetLicence,
    SetProvider,
    Slash,
    Stake,
    SubmitJob,
    Transfer,
    TransferTwin,
    Unstake,
    UseData,
    job_id_for,
    params_size,
    ref_of,
    values_of,
)
from chain.protocols import (
    BURN_ADDRESS,
    Asset,
    Event,
    Job,
    JobState,
    Lease,
    LeaseState,
    LedgerParams,
    Pool,
    Twin,
    TxResult,
)
from chain.royalty import MAX_PARENTS, graph_problem, pro_rata, royalty_payouts

__all__ = ["ESCROW_ADDRESS", "MemoryLedger"]

_INTENT_ABI = ("address", "uint256", "uint256")
_FULL_ABI: dict[type, tuple[str, ...]] = {}


def _full_abi(cls: type) -> tuple[str, ...]:
    """The types of an intent's sender, nonce and deadline, then of its operation's fields."""
    types = _FULL_ABI[cls] = _INTENT_ABI + cls.ABI
    return types
#: The most versions one twin may have (the Registry contract's bound).
MAX_VERSIONS = 256
#: The most contributors one data pool may have (the Assets contract's bound).
MAX_CONTRIBUTORS = 64
#: The kinds of asset the royalty graph holds.
ASSET_KINDS = ("data", "policy", "twin")
#: Flows only the ledger's own rules may record; a Transfer may not claim them.
_RESERVED_FLOWS = frozenset({
    Flow.GENESIS, Flow.MINT, Flow.TRANSFER_FEE, Flow.BURN, Flow.ESCROW_FUND, Flow.SERVICE,
    Flow.PLATFORM_FEE, Flow.EVALUATOR_FEE, Flow.REFUND, Flow.ROYALTY, Flow.DUST,
    Flow.LEASE_LOCK, Flow.LICENCE, Flow.LEASE_REFUND, Flow.STAKE, Flow.UNSTAKE, Flow.SLASH,
    Flow.DATA, Flow.DATA_FEE, Flow.POOL_FEE,
})
_OK = TxResult(ok=True)
#: Accounts no key controls (the zero address and the contracts'): actions "from" them are
#: bad signatures on every backend.
_KEYLESS = frozenset({BURN_ADDRESS, ESCROW_ADDRESS, HUB_ADDRESS, TOKEN_ADDRESS,
                      REGISTRY_ADDRESS, COMPUTE_ADDRESS, ASSETS_ADDRESS})
#: Module accounts: tokens reach and leave them only through their modules' rules.
_MODULES = frozenset({BURN_ADDRESS, ESCROW_ADDRESS, COMPUTE_ADDRESS, ASSETS_ADDRESS})
_LIVE = (JobState.FUNDED, JobState.SUBMITTED)
_MAX_UINT = 2**256 - 1


@lru_cache(maxsize=65_536)
def _checked(address: str, field: str) -> Address:
    """The checksummed form of an address already known to be well-formed."""
    return to_checksum_address(address)


def _too_long(op: Op) -> tuple[str, int] | None:
    """The first string field over its limit, with the limit (None if all fit)."""
    for field, limit in STRING_LIMITS.get(type(op), ()):
        if len(getattr(op, field).encode()) > limit:
            return field, limit
    return None


def _b32(value: bytes) -> bytes:
    return bytes(value).ljust(32, b"\x00")


def _positive(amount: int, field: str = "amount") -> int:
    if type(amount) is not int or amount <= 0:
        raise InvalidState(f"{field} must be a positive int in base units, got {amount!r}")
    return amount


class MemoryLedger:
    """The reference ledger: token, job escrow and twin registry in dictionaries.

    Args:
        params: the protocol rules.
        protocol: the only account allowed to mint.
        treasury: where platform fees and the treasury share of transfer fees go.
    """

    def __init__(self, params: LedgerParams, *, protocol: Address, treasury: Address) -> None:
        self.params = params
        self.domain = Domain(chain_id=params.chain_id)
        for name, value in (("protocol", protocol), ("treasury", treasury)):
            if malformed(("address",), (value,)):
                raise InvalidState(f"{name} must be a 0x-prefixed 20-byte hex address, got "
                                   f"{value!r}")
        self.protocol = _checked(protocol, "protocol")
        self.treasury = _checked(treasury, "treasury")
        self.escrow = ESCROW_ADDRESS
        self._verify = params.signatures == "verify"
        self._now = 0
        self._tx = 0
        self._balances: dict[Address, int] = {}
        self._nonces: dict[Address, int] = {}
        self._jobs: dict[int, Job] = {}
        self._twins: dict[str, Twin] = {}
        self._leases: dict[int, Lease] = {}
        self._stakes: dict[Address, int] = {}
        self._providing: dict[Address, int] = {}  # provider -> open leases
        self._assets: dict[str, Asset] = {}
        self._pools: dict[str, Pool] = {}
        self._content: set[tuple[str, bytes]] = set()  # (pool, content hash) contributed
        self._records: set[bytes] = set()  # data usage records consumed
        self._minted = 0
        self._burned = 0
        self._events: list[Event] = []
        self._handlers: dict[type[Op], Callable[[Address, Op, int], None]] = {
            Transfer: self._transfer,
            Mint: self._mint,
            CreateJob: self._create_job,
            FundJob: self._fund_job,
            SetProvider: self._set_provider,
            SubmitJob: self._submit_job,
            CompleteJob: self._complete_job,
            RejectJob: self._reject_job,
            ClaimRefund: self._claim_refund,
            RegisterTwin: self._register_twin,
            PublishVersion: self._publish_version,
            TransferTwin: self._transfer_twin,
            Post: self._post,
            Stake: self._stake,
            Unstake: self._unstake,
            Slash: self._slash,
            SetLicence: self._set_licence,
            OpenLease: self._open_lease,
            ClaimLease: self._claim_lease,
            CloseLease: self._close_lease,
            RegisterAsset: self._register_asset,
            LinkAsset: self._link_asset,
            CreatePool: self._create_pool,
            Contribute: self._contribute,
            UseData: self._use_data,
        }

    def enroll(self, identities: Iterable[Identity]) -> None:
        """Keys are not needed in memory: a no-op (the rpc backend signs with them)."""

    # -- reading ---------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self._now

    def set_time(self, tick: int) -> None:
        """Advance the ledger clock to `tick` (time never goes back)."""
        if tick < self._now:
            raise InvalidState(f"time cannot go back from tick {self._now} to {tick}")
        self._now = tick

    def balance_of(self, account: Address) -> int:
        return self._balances.get(account, 0)

    def nonce_of(self, account: Address) -> int:
        return self._nonces.get(account, 0)

    @property
    def total_supply(self) -> int:
        return self._minted - self._burned

    @property
    def minted(self) -> int:
        return self._minted

    @property
    def burned(self) -> int:
        return self._burned

    def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def twin(self, key: str) -> Twin | None:
        return self._twins.get(key)

    def lease(self, lease_id: int) -> Lease | None:
        return self._leases.get(lease_id)

    def stake_of(self, account: Address) -> int:
        return self._stakes.get(account, 0)

    def asset(self, key: str) -> Asset | None:
        return self._assets.get(key)

    def pool(self, key: str) -> Pool | None:
        return self._pools.get(key)

    def balances(self) -> dict[Address, int]:
        """A copy of every non-zero balance, module accounts included."""
        return {a: b for a, b in self._balances.items() if b}

    def drain_events(self) -> list[Event]:
        """Hand over the events recorded since the last drain (keeps memory bounded)."""
        events, self._events = self._events, []
        return events

    # -- executing -------------------------------------------------------------------------
    def execute(self, signed: SignedIntent) -> TxResult:
        """Authenticate and apply one signed action; never raises for a bad action."""
        intent = signed.intent
        sender = intent.sender
        self._tx += 1
        try:
            if signed.chain_id != self.params.chain_id:
                raise WrongDomain(self.params.chain_id, signed.chain_id)
            op = intent.op
            types = _FULL_ABI.get(type(op)) or _full_abi(type(op))
            values = (sender, intent.nonce, intent.deadline, *values_of(op))
            if not validator(types)(values):
                raise Malformed(f"{op.KIND}: {malformed(types, values)}")
            too_long = _too_long(op)  # a string over its limit: can it still be sent?
            if too_long and params_size(op) > MAX_PARAMS:
                raise Malformed(f"{op.KIND}: its fields take {params_size(op)} bytes encoded, "
                                f"over the {MAX_PARAMS} an action may carry; shorten its "
                                "strings")
            if sender in _KEYLESS:  # no key exists for these
                raise InvalidSignature(sender, None)
            if self._verify:
                try:
                    signer = recover(signed, self.domain)
                except Exception:  # malformed signature bytes: treat as no valid signer
                    signer = None
                if signer != sender:
                    raise InvalidSignature(sender, signer)
            expected = self._nonces.get(sender, 0)
            if intent.nonce != expected:
                raise NonceMismatch(sender, expected, intent.nonce)
            if self._now > intent.deadline:
                raise DeadlinePassed(intent.deadline, self._now)
        except ChainError as e:
            return self._reject(sender, intent.op, e)
        self._nonces[sender] = expected + 1
        handler = self._handlers.get(type(intent.op))
        try:
            if handler is None:
                raise UnknownOp(f"unknown operation {type(intent.op).__name__}")
            if too_long:
                field, limit = too_long
                raise InvalidState(f"{field} must be at most {limit} bytes (UTF-8)")
            handler(sender, intent.op, intent.nonce)
        except ChainError as e:
            return self._reject(sender, intent.op, e)
        return _OK

    def _reject(self, sender: Address, op: Op, error: ChainError) -> TxResult:
        self._emit("rejected", sender, BURN_ADDRESS, 0, "", ref_of(op), f"{op.KIND}:{error.code}")
        return TxResult(ok=False, code=error.code, reason=str(error))

    def _emit(
        self, kind: str, payer: Address, payee: Address, amount: int, flow: str, ref: str,
        detail: str = "",
    ) -> None:
        # flows as plain strings (a Flow member is a str subclass): rows compare and hash the
        # same on every backend
        self._events.append((self._now, self._tx, kind, payer, payee, amount,
                             flow if type(flow) is str else str(flow), ref, detail))

    def _debit(self, account: Address, amount: int) -> None:
        held = self._balances.get(account, 0)
        if held < amount:
            raise InsufficientFunds(account, amount, held)
        self._balances[account] = held - amount

    def _credit(self, account: Address, amount: int) -> None:
        self._balances[account] = self._balances.get(account, 0) + amount

    def _pay(self, payer: Address, payee: Address, amount: int, flow: str, ref: str) -> None:
        """Move tokens between accounts (no fee); the payer's funds are checked by the caller."""
        if amount:
            self._balances[payer] -= amount
            self._credit(payee, amount)
            self._emit("transfer", payer, payee, amount, flow, ref)

    # -- token -----------------------------------------------------------------------------
    def _transfer(self, sender: Address, op: Transfer, nonce: int) -> None:
        amount = _positive(op.amount)
        to = _checked(op.to, "to")
        if to in _MODULES:
            raise InvalidState(f"transfer to {to} is not allowed; module accounts move tokens "
                               "only through their rules (jobs, leases, stakes)")
        if op.flow in _RESERVED_FLOWS:
            raise InvalidState(f"flow {op.flow!r} is recorded by the ledger's own rules; tag a "
                               "transfer 'payment', 'compute' or a flow of your own")
        held = self._balances.get(sender, 0)
        if held < amount:
            raise InsufficientFunds(sender, amount, held)
        self._pay_with_fee(sender, to, amount, op.flow, str(op.ref) if op.ref else "")

    def _pay_with_fee(self, payer: Address, to: Address, amount: int, flow: str,
                      ref: str) -> None:
        """Move `amount` less the transfer fee to `to`; the fee splits between the treasury
        and burn. The payer's funds are checked by the caller."""
        if not amount:
            return
        fee = amount * self.params.transfer_fee_bps // 10_000
        burn = fee * self.params.fee_burn_bps // 10_000
        self._balances[payer] -= amount
        self._credit(to, amount - fee)
        self._emit("transfer", payer, to, amount - fee, flow, ref)
        if fee:
            if fee - burn:
                self._credit(self.treasury, fee - burn)
                self._emit("transfer", payer, self.treasury, fee - burn, Flow.TRANSFER_FEE, ref)
            if burn:
                self._burned += burn
                self._emit("burn", payer, BURN_ADDRESS, burn, Flow.BURN, ref)

    def _mint(self, sender: Address, op: Mint, nonce: int) -> None:
        if sender != self.protocol:
            raise Unauthorized(sender, "mint", f"the protocol account {self.protocol}")
        amount = _positive(op.amount)
        to = _checked(op.to, "to")
        if to in _MODULES:
            raise InvalidState(f"cannot mint to {to}")
        if self._minted + amount > self.params.supply_cap:
            raise CapExceeded(amount, self._minted, self.params.supply_cap)
        self._minted += amount
        self._credit(to, amount)
        self._emit("mint", BURN_ADDRESS, to, amount, op.flow, "")

    # -- job escrow ------------------------------------------------------------------------
    def _live_job(self, job_id: int, states: tuple[JobState, ...], action: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise InvalidState(f"no job {job_id}; check the id (job_id_for(client, nonce))")
        if job.state not in states:
            wanted = " or ".join(s.value for s in states)
            raise InvalidState(f"cannot {action} job {job_id} in state {job.state.value}; "
                               f"it must be {wanted}")
        return job

    def _not_expired(self, job: Job, action: str) -> None:
        if self._now >= job.expires_at:
            raise InvalidState(f"cannot {action} job {job.job_id}: it expired at tick "
                               f"{job.expires_at}; anyone may claim the refund")

    def _create_job(self, sender: Address, op: CreateJob, nonce: int) -> None:
        job_id = job_id_for(sender, nonce)
        evaluator = _checked(op.evaluator, "evaluator")
        assigner = _checked(op.assigner, "assigner")
        _positive(op.budget, "budget")
        if evaluator == BURN_ADDRESS:
            raise InvalidState("a job needs an evaluator; the zero address cannot evaluate")
        if op.expires_at < self._now + self.params.min_expiry:
            raise InvalidState(f"expires_at {op.expires_at} must be at least tick "
                               f"{self._now + self.params.min_expiry} (now {self._now} + "
                               f"min_expiry {self.params.min_expiry})")
        if job_id in self._jobs:  # a 64-bit collision: astronomically unlikely, still refused
            raise InvalidState(f"job id {job_id} already exists")
        self._jobs[job_id] = Job(
            job_id=job_id, client=sender, evaluator=evaluator, assigner=assigner, provider=None,
            budget=op.budget, expires_at=op.expires_at, state=JobState.OPEN,
            spec_hash=_b32(op.spec_hash),
        )
        self._emit("job_created", sender, evaluator, 0, "", str(job_id), str(op.budget))

    def _fund_job(self, sender: Address, op: FundJob, nonce: int) -> None:
        job = self._live_job(op.job_id, (JobState.OPEN,), "fund")
        if sender != job.client:
            raise Unauthorized(sender, f"fund job {job.job_id}", f"its client {job.client}")
        if op.expected_budget != job.budget:
            raise InvalidState(f"job {job.job_id} budget is {job.budget}, not the expected "
                               f"{op.expected_budget}")
        self._not_expired(job, "fund")
        deposit = self._eval_deposit(job.budget)
        self._debit(sender, job.budget + deposit)
        self._credit(ESCROW_ADDRESS, job.budget + deposit)
        self._jobs[job.job_id] = replace(job, state=JobState.FUNDED, eval_deposit=deposit)
        self._emit("transfer", sender, ESCROW_ADDRESS, job.budget + deposit, Flow.ESCROW_FUND,
                   str(job.job_id), "funded")

    def _eval_deposit(self, budget: int) -> int:
        """The evaluator's fee the client deposits beside the budget (paid-on-reject rule)."""
        if not self.params.evaluator_paid_on_reject:
            return 0
        return budget * self.params.evaluator_fee_bps // 10_000

    def _set_provider(self, sender: Address, op: SetProvider, nonce: int) -> None:
        job = self._live_job(op.job_id, (JobState.OPEN, JobState.FUNDED), "set the provider of")
        if sender not in (job.client, job.assigner):
            raise Unauthorized(sender, f"set the provider of job {job.job_id}",
                               "its client or assigner")
        if job.provider is not None:
            raise InvalidState(f"job {job.job_id} already has provider {job.provider}")
        provider = _checked(op.provider, "provider")
        if provider in _MODULES or provider == job.client:
            # a module account paid a service would hold tokens no rule of its accounts for
            raise InvalidState("the provider must be an account other than the client, the "
                               "module accounts (escrow, compute, assets) and the zero address")
        budget = op.budget or job.budget
        if type(budget) is not int or not 0 < budget <= job.budget:
            raise InvalidState(f"the new budget must be in [1, {job.budget}] (the current "
                               f"budget), got {op.budget}")
        self._not_expired(job, "award")
        ref = str(job.job_id)
        deposit = self._eval_deposit(budget) if job.state is JobState.FUNDED else 0
        self._jobs[job.job_id] = replace(job, provider=provider, budget=budget,
                                         eval_deposit=deposit)
        self._emit("job_provider_set", sender, provider, 0, "", ref, str(budget))
        if job.state is JobState.FUNDED and budget < job.budget:
            self._pay(ESCROW_ADDRESS, job.client,
                      job.budget + job.eval_deposit - budget - deposit, Flow.REFUND, ref)

    def _submit_job(self, sender: Address, op: SubmitJob, nonce: int) -> None:
        job = self._live_job(op.job_id, (JobState.FUNDED,), "submit to")
        if sender != job.provider:
            raise Unauthorized(sender, f"submit to job {job.job_id}",
                               f"its provider {job.provider}")
        self._not_expired(job, "submit to")
        if op.policy and op.policy not in self._assets:
            raise InvalidState(f"no asset {op.policy!r} is registered; register the policy "
                               "first or submit without one")
        deliverable = _b32(op.deliverable)
        self._jobs[job.job_id] = replace(job, state=JobState.SUBMITTED, deliverable=deliverable,
                                         policy=op.policy)
        self._emit("job_submitted", sender, job.client, 0, "", str(job.job_id), deliverable.hex())

    def _complete_job(self, sender: Address, op: CompleteJob, nonce: int) -> None:
        job = self._live_job(op.job_id, _LIVE, "complete")
        if sender != job.evaluator:
            raise Unauthorized(sender, f"complete job {job.job_id}",
                               f"its evaluator {job.evaluator}")
        if job.provider is None:
            raise InvalidState(f"job {job.job_id} has no provider to pay; set one first")
        self._not_expired(job, "complete")
        budget, ref = job.budget, str(job.job_id)
        platform = budget * self.params.platform_fee_bps // 10_000
        if self.params.evaluator_paid_on_reject:  # the fee was deposited beside the budget
            evaluator_fee, service = job.eval_deposit, budget - platform
        else:
            evaluator_fee = budget * self.params.evaluator_fee_bps // 10_000
            service = budget - platform - evaluator_fee
        self._jobs[job.job_id] = replace(job, state=JobState.COMPLETED)
        self._emit("job_completed", sender, job.provider, 0, "", ref, _b32(op.reason).hex())
        self._pay(ESCROW_ADDRESS, self.treasury, platform, Flow.PLATFORM_FEE, ref)
        self._pay(ESCROW_ADDRESS, job.evaluator, evaluator_fee, Flow.EVALUATOR_FEE, ref)
        if job.policy:
            service, royalties, dust = royalty_payouts(
                service, job.policy, self.params.royalty_mode, self._assets.__getitem__,
                self._asset_owner)
            for owner, amount in royalties:
                self._pay(ESCROW_ADDRESS, owner, amount, Flow.ROYALTY, ref)
            self._pay(ESCROW_ADDRESS, self.treasury, dust, Flow.DUST, ref)
        self._pay(ESCROW_ADDRESS, job.provider, service, Flow.SERVICE, ref)

    def _refund(self, job: Job, state: JobState, kind: str, detail: str) -> None:
        ref = str(job.job_id)
        self._jobs[job.job_id] = replace(job, state=state)
        self._emit(kind, job.evaluator, job.client, 0, "", ref, detail)
        if job.state not in _LIVE:
            return
        if state is JobState.REJECTED:  # the evaluator did its work: its deposit is its fee
            self._pay(ESCROW_ADDRESS, job.evaluator, job.eval_deposit, Flow.EVALUATOR_FEE, ref)
            self._pay(ESCROW_ADDRESS, job.client, job.budget, Flow.REFUND, ref)
        else:
            self._pay(ESCROW_ADDRESS, job.client, job.budget + job.eval_deposit, Flow.REFUND, ref)

    def _reject_job(self, sender: Address, op: RejectJob, nonce: int) -> None:
        job = self._live_job(op.job_id, _LIVE, "reject")
        if sender != job.evaluator:
            raise Unauthorized(sender, f"reject job {job.job_id}", f"its evaluator {job.evaluator}")
        self._not_expired(job, "reject")
        self._refund(job, JobState.REJECTED, "job_rejected", _b32(op.reason).hex())

    def _claim_refund(self, sender: Address, op: ClaimRefund, nonce: int) -> None:
        job = self._live_job(op.job_id, (JobState.OPEN, *_LIVE), "claim the refund of")
        if self._now < job.expires_at:
            raise InvalidState(f"job {job.job_id} expires at tick {job.expires_at}; the refund "
                               f"can be claimed from then (now {self._now})")
        self._refund(job, JobState.EXPIRED, "job_expired", "")

    # -- twin registry ---------------------------------------------------------------------
    def _register_twin(self, sender: Address, op: RegisterTwin, nonce: int) -> None:
        if not op.key or "/" not in op.key or not op.version:
            raise InvalidState("a twin key is 'kind/name' and needs a version")
        if op.key in self._twins:
            raise InvalidState(f"twin {op.key} is already registered (owner "
                               f"{self._twins[op.key].owner}); publish a new version instead")
        self._twins[op.key] = Twin(key=op.key, owner=sender,
                                   versions=((op.version, _b32(op.spec_hash)),))
        self._emit("twin_registered", sender, sender, 0, "", op.key, op.version)

    def _owned_twin(self, sender: Address, key: str, action: str) -> Twin:
        twin = self._twins.get(key)
        if twin is None:
            raise InvalidState(f"no twin {key!r} is registered")
        if sender != twin.owner:
            raise Unauthorized(sender, f"{action} twin {key}", f"its owner {twin.owner}")
        return twin

    def _publish_version(self, sender: Address, op: PublishVersion, nonce: int) -> None:
        twin = self._owned_twin(sender, op.key, "publish a version of")
        if not op.version:
            raise InvalidState("a version needs a name")
        if any(v == op.version for v, _ in twin.versions):
            raise InvalidState(f"twin {op.key} already has version {op.version}; versions are "
                               "immutable, publish a new version number")
        if len(twin.versions) >= MAX_VERSIONS:
            raise InvalidState(f"twin {op.key} has the most versions a twin may have "
                               f"({MAX_VERSIONS}); register a new twin")
        self._twins[op.key] = replace(
            twin, versions=(*twin.versions, (op.version, _b32(op.spec_hash))))
        self._emit("twin_version", sender, sender, 0, "", op.key, op.version)

    def _transfer_twin(self, sender: Address, op: TransferTwin, nonce: int) -> None:
        twin = self._owned_twin(sender, op.key, "transfer")
        to = _checked(op.to, "to")
        if to in _MODULES:
            # its licences and royalties would be paid into a module account
            raise InvalidState(f"a twin cannot be given to {to}: the zero address and the "
                               "module accounts (escrow, compute, assets) own no twins")
        self._twins[op.key] = replace(twin, owner=to)
        self._emit("twin_transferred", sender, to, 0, "", op.key)

    def _set_licence(self, sender: Address, op: SetLicence, nonce: int) -> None:
        twin = self._owned_twin(sender, op.key, "set the licence of")
        self._twins[op.key] = replace(twin, licence_per_cu=op.fee_per_cu)
        self._emit("licence_set", sender, sender, 0, "", op.key, str(op.fee_per_cu))

    # -- compute: stakes and leases --------------------------------------------------------
    def _stake(self, sender: Address, op: Stake, nonce: int) -> None:
        amount = _positive(op.amount)
        self._debit(sender, amount)
        self._credit(COMPUTE_ADDRESS, amount)
        self._stakes[sender] = self._stakes.get(sender, 0) + amount
        self._emit("transfer", sender, COMPUTE_ADDRESS, amount, Flow.STAKE, sender)

    def _unstake(self, sender: Address, op: Unstake, nonce: int) -> None:
        amount = _positive(op.amount)
        staked = self._stakes.get(sender, 0)
        if amount > staked:
            raise InsufficientFunds(sender, amount, staked)
        if self._providing.get(sender):
            raise InvalidState(f"{sender} provides {self._providing[sender]} open lease(s); "
                               "unstake after they are claimed or closed")
        self._stakes[sender] = staked - amount
        self._pay(COMPUTE_ADDRESS, sender, amount, Flow.UNSTAKE, sender)

    def _slash(self, sender: Address, op: Slash, nonce: int) -> None:
        if sender != self.protocol:
            raise Unauthorized(sender, "slash", f"the protocol account {self.protocol}")
        amount = _positive(op.amount)
        offender = _checked(op.offender, "offender")
        beneficiary = _checked(op.beneficiary, "beneficiary")
        if beneficiary in _MODULES:
            raise InvalidState(f"a slash cannot reward {beneficiary}")
        staked = self._stakes.get(offender, 0)
        if amount > staked:
            raise InsufficientFunds(offender, amount, staked)
        reward = amount * self.params.slash_reward_bps // 10_000
        self._stakes[offender] = staked - amount
        self._emit("slashed", offender, beneficiary, 0, "", str(op.ref) if op.ref else "",
                   str(amount))
        self._pay(COMPUTE_ADDRESS, beneficiary, reward, Flow.SLASH, offender)
        if amount - reward:
            self._balances[COMPUTE_ADDRESS] -= amount - reward
            self._burned += amount - reward
            self._emit("burn", COMPUTE_ADDRESS, BURN_ADDRESS, amount - reward, Flow.BURN,
                       offender)

    def _open_lease(self, sender: Address, op: OpenLease, nonce: int) -> None:
        provider = _checked(op.provider, "provider")
        if provider in _MODULES or provider == sender:
            raise InvalidState("the provider must be an account other than the buyer, the "
                               "modules and the zero address")
        twin = self._twins.get(op.twin)
        if twin is None:
            raise InvalidState(f"no twin {op.twin!r} is registered")
        _positive(op.cu, "cu")
        if op.expires_at <= self._now:
            raise InvalidState(f"expires_at {op.expires_at} must be after the current tick "
                               f"{self._now}")
        staked = self._stakes.get(provider, 0)
        if staked < self.params.min_stake:
            raise InvalidState(f"provider {provider} has staked {staked}, under the minimum "
                               f"{self.params.min_stake}")
        lease_id = job_id_for(sender, nonce)
        if lease_id in self._leases:
            raise InvalidState(f"lease id {lease_id} already exists")
        lease = Lease(lease_id=lease_id, buyer=sender, provider=provider, twin=op.twin,
                      cu=op.cu, price_per_cu=op.price_per_cu,
                      licence_per_cu=twin.licence_per_cu, expires_at=op.expires_at)
        self._debit(sender, lease.locked)
        self._credit(COMPUTE_ADDRESS, lease.locked)
        self._leases[lease_id] = lease
        self._providing[provider] = self._providing.get(provider, 0) + 1
        ref = str(lease_id)
        self._emit("lease_opened", sender, provider, 0, "", ref, str(op.cu))
        if lease.locked:
            self._emit("transfer", sender, COMPUTE_ADDRESS, lease.locked, Flow.LEASE_LOCK, ref)

    def _open(self, lease_id: int, action: str) -> Lease:
        lease = self._leases.get(lease_id)
        if lease is None:
            raise InvalidState(f"no lease {lease_id}")
        if lease.state is not LeaseState.OPEN:
            raise InvalidState(f"cannot {action} lease {lease_id} in state {lease.state.value}")
        return lease

    def _end_lease(self, lease: Lease, state: LeaseState, cu_used: int) -> None:
        self._leases[lease.lease_id] = replace(lease, state=state, cu_used=cu_used)
        left = self._providing[lease.provider] - 1
        if left:
            self._providing[lease.provider] = left
        else:
            del self._providing[lease.provider]

    def _claim_lease(self, sender: Address, op: ClaimLease, nonce: int) -> None:
        lease = self._open(op.lease_id, "claim")
        if sender != lease.provider:
            raise Unauthorized(sender, f"claim lease {lease.lease_id}",
                               f"its provider {lease.provider}")
        if self._now >= lease.expires_at:
            raise InvalidState(f"lease {lease.lease_id} expired at tick {lease.expires_at}; "
                               "its lock returns to the buyer")
        if type(op.cu) is not int or not 0 <= op.cu <= lease.cu:
            raise InvalidState(f"a claim must be in [0, {lease.cu}] CU (the lock), got {op.cu}")
        self._end_lease(lease, LeaseState.CLAIMED, op.cu)
        ref = str(lease.lease_id)
        compute, licence = op.cu * lease.price_per_cu, op.cu * lease.licence_per_cu
        self._emit("lease_claimed", sender, lease.buyer, 0, "", ref, _b32(op.receipt).hex())
        self._pay_with_fee(COMPUTE_ADDRESS, lease.provider, compute, Flow.COMPUTE, ref)
        self._pay(COMPUTE_ADDRESS, self._twins[lease.twin].owner, licence, Flow.LICENCE, ref)
        self._pay(COMPUTE_ADDRESS, lease.buyer, lease.locked - compute - licence,
                  Flow.LEASE_REFUND, ref)

    def _close_lease(self, sender: Address, op: CloseLease, nonce: int) -> None:
        lease = self._open(op.lease_id, "close")
        if self._now < lease.expires_at:
            raise InvalidState(f"lease {lease.lease_id} runs until tick {lease.expires_at}; "
                               f"it can be closed from then (now {self._now})")
        self._end_lease(lease, LeaseState.EXPIRED, 0)
        ref = str(lease.lease_id)
        self._emit("lease_expired", sender, lease.buyer, 0, "", ref, "")
        self._pay(COMPUTE_ADDRESS, lease.buyer, lease.locked, Flow.LEASE_REFUND, ref)

    # -- IP: assets and royalties ----------------------------------------------------------
    def _asset_owner(self, asset: Asset) -> Address:
        """Who an asset's royalties go to: a twin asset's follow the twin's current owner."""
        if asset.kind == "twin":
            return self._twins[asset.key].owner
        return asset.owner

    def _register_asset(self, sender: Address, op: RegisterAsset, nonce: int) -> None:
        if not op.key:
            raise InvalidState("an asset needs a key")
        if op.kind not in ASSET_KINDS:
            raise InvalidState(f"asset kind must be one of {', '.join(ASSET_KINDS)}, got "
                               f"{op.kind!r}")
        if op.key in self._assets:
            raise InvalidState(f"asset {op.key} is already registered")
        if not 0 <= op.royalty_bps <= 10_000:
            raise InvalidState(f"royalty_bps must be in [0, 10000], got {op.royalty_bps}")
        if op.kind == "twin":
            self._owned_twin(sender, op.key, "register as an asset")
        self._assets[op.key] = Asset(key=op.key, kind=op.kind, owner=sender,
                                     content_hash=_b32(op.content_hash),
                                     royalty_bps=op.royalty_bps)
        self._emit("asset_registered", sender, sender, 0, "", op.key,
                   f"{op.kind}:{op.royalty_bps}")

    def _link_asset(self, sender: Address, op: LinkAsset, nonce: int) -> None:
        child = self._assets.get(op.child)
        parent = self._assets.get(op.parent)
        if child is None or parent is None:
            raise InvalidState(f"both assets must be registered: {op.child!r}, {op.parent!r}")
        owner = self._asset_owner(child)  # a twin asset's follows the twin
        if sender != owner:
            raise Unauthorized(sender, f"link asset {op.child}", f"its owner {owner}")
        if op.parent == op.child or op.parent in child.parents:
            raise InvalidState(f"{op.child} cannot link {op.parent} (itself, or linked already)")
        if child.children:
            raise InvalidState(f"{op.child} has children; its parents are fixed")
        if len(child.parents) >= MAX_PARENTS:
            raise InvalidState(f"an asset may have at most {MAX_PARENTS} parents")
        linked = replace(child, parents=(*child.parents, op.parent))
        problem = graph_problem(op.child, {**self._assets, op.child: linked}.__getitem__)
        if problem:
            raise InvalidState(problem)
        self._assets[op.child] = linked
        self._assets[op.parent] = replace(parent, children=parent.children + 1)
        self._emit("asset_linked", sender, sender, 0, "", op.child, op.parent)

    # -- data pools ------------------------------------------------------------------------
    def _create_pool(self, sender: Address, op: CreatePool, nonce: int) -> None:
        if not op.key:
            raise InvalidState("a pool needs a key")
        if op.key in self._pools:
            raise InvalidState(f"pool {op.key} already exists")
        if not 0 <= op.owner_fee_bps <= 10_000 - self.params.data_fee_bps:
            raise InvalidState(f"owner_fee_bps must be in [0, {10_000 - self.params.data_fee_bps}]"
                               f" (10000 less the protocol's data_fee_bps), got "
                               f"{op.owner_fee_bps}")
        self._pools[op.key] = Pool(key=op.key, owner=sender, price_per_unit=op.price_per_unit,
                                   owner_fee_bps=op.owner_fee_bps)
        self._emit("pool_created", sender, sender, 0, "", op.key, str(op.price_per_unit))

    def _contribute(self, sender: Address, op: Contribute, nonce: int) -> None:
        pool = self._pools.get(op.pool)
        if pool is None:
            raise InvalidState(f"no pool {op.pool!r}")
        _positive(op.units, "units")
        if pool.total_units + op.units > _MAX_UINT:
            raise InvalidState(f"pool {op.pool} would hold more than 2**256 - 1 units, which "
                               "no contract can count; contribute fewer units")
        content = _b32(op.content_hash)
        if (op.pool, content) in self._content:
            raise InvalidState(f"content {content.hex()} is already in pool {op.pool}; "
                               "duplicates earn no units")
        contributors = dict(pool.contributors)
        if sender not in contributors and len(contributors) >= MAX_CONTRIBUTORS:
            raise InvalidState(f"pool {op.pool} has {MAX_CONTRIBUTORS} contributors, the most "
                               "a pool may have")
        contributors[sender] = contributors.get(sender, 0) + op.units
        self._content.add((op.pool, content))
        self._pools[op.pool] = replace(pool, contributors=tuple(contributors.items()),
                                       episodes=pool.episodes + 1)
        self._emit("contributed", sender, pool.owner, 0, "", op.pool, str(op.units))

    def _use_data(self, sender: Address, op: UseData, nonce: int) -> None:
        pool = self._pools.get(op.pool)
        if pool is None:
            raise InvalidState(f"no pool {op.pool!r}")
        _positive(op.units, "units")
        record = _b32(op.record)
        if record == b"\x00" * 32:
            raise InvalidState("a usage record id must not be zero")
        if record in self._records:
            raise InvalidState(f"usage record {record.hex()} was consumed already")
        if not pool.contributors:
            raise InvalidState(f"pool {op.pool} has no contributions to use")
        price = op.units * pool.price_per_unit
        held = self._balances.get(sender, 0)
        if held < price:
            raise InsufficientFunds(sender, price, held)
        self._records.add(record)
        fee = price * self.params.data_fee_bps // 10_000
        owner_fee = price * pool.owner_fee_bps // 10_000
        parts, dust = pro_rata(price - fee - owner_fee, [u for _, u in pool.contributors])
        ref = op.pool
        self._emit("data_used", sender, pool.owner, 0, "", ref, record.hex())
        self._pay(sender, self.treasury, fee, Flow.DATA_FEE, ref)
        self._pay(sender, pool.owner, owner_fee, Flow.POOL_FEE, ref)
        for (contributor, _), part in zip(pool.contributors, parts, strict=True):
            self._pay(sender, contributor, part, Flow.DATA, ref)
        self._pay(sender, self.treasury, dust, Flow.DUST, ref)

    def _post(self, sender: Address, op: Post, nonce: int) -> None:
        self._emit("post", sender, BURN_ADDRESS, 0, op.topic, str(op.ref), _b32(op.data).hex())

    # -- invariants, hashing, snapshots ----------------------------------------------------
    def check_invariants(self) -> None:
        """Raise InvariantViolation unless every ledger invariant holds now."""
        total = 0
        for account, balance in self._balances.items():
            if balance < 0:
                raise InvariantViolation(f"{account} has a negative balance {balance}")
            total += balance
        if total != self._minted - self._burned:
            raise InvariantViolation(f"balances sum to {total} but minted - burned is "
                                     f"{self._minted - self._burned}")
        if self._minted > self.params.supply_cap:
            raise InvariantViolation(f"minted {self._minted} exceeds the cap")
        escrowed = sum(j.budget + j.eval_deposit for j in self._jobs.values()
                       if j.state in _LIVE)
        if escrowed != self._balances.get(ESCROW_ADDRESS, 0):
            raise InvariantViolation(f"escrow holds {self.balance_of(ESCROW_ADDRESS)} but live "
                                     f"jobs account for {escrowed}")
        held = (sum(le.locked for le in self._leases.values() if le.state is LeaseState.OPEN)
                + sum(self._stakes.values()))
        if held != self._balances.get(COMPUTE_ADDRESS, 0):
            raise InvariantViolation(f"the compute module holds "
                                     f"{self.balance_of(COMPUTE_ADDRESS)} but open leases and "
                                     f"stakes account for {held}")
        if any(v < 0 for v in self._stakes.values()):
            raise InvariantViolation("a stake is negative")
        if self._balances.get(ASSETS_ADDRESS, 0):
            raise InvariantViolation("the assets module holds tokens")

    def state_hash(self) -> str:
        """sha256 over the whole state in a canonical order: equal states, equal hashes."""
        h = hashlib.sha256()
        h.update(f"{self._now}|{self._minted}|{self._burned}".encode())
        for a in sorted(self._balances):
            if self._balances[a]:
                h.update(f"b{a}{self._balances[a]}".encode())
        for a in sorted(self._nonces):
            h.update(f"n{a}{self._nonces[a]}".encode())
        for j in sorted(self._jobs):
            h.update(repr(self._jobs[j]).encode())
        for k in sorted(self._twins):
            h.update(repr(self._twins[k]).encode())
        for i in sorted(self._leases):
            h.update(repr(self._leases[i]).encode())
        for a in sorted(self._stakes):
            if self._stakes[a]:
                h.update(f"s{a}{self._stakes[a]}".encode())
        for k in sorted(self._assets):
            h.update(repr(self._assets[k]).encode())
        for k in sorted(self._pools):
            h.update(repr(self._pools[k]).encode())
        for r in sorted(self._records):
            h.update(r)
        return h.hexdigest()

    def snapshot(self) -> object:
        """An opaque copy of the state, for `revert` (tests, what-if queries)."""
        return copy.deepcopy((self._now, self._tx, self._balances, self._nonces, self._jobs,
                              self._twins, self._minted, self._burned, self._leases,
                              self._stakes, self._providing, self._assets, self._pools,
                              self._content, self._records))

    def revert(self, snapshot: object) -> None:
        """Restore a state taken by `snapshot`; events recorded since are kept as history."""
        (self._now, self._tx, self._balances, self._nonces, self._jobs, self._twins,
         self._minted, self._burned, self._leases, self._stakes, self._providing, self._assets,
         self._pools, self._content, self._records) = copy.deepcopy(snapshot)  # type: ignore[misc]
