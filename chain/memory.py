"""MemoryLedger: the reference semantics of the ledger, in plain Python.

Every other backend is tested against this one. This module authenticates actions and keeps
the books (balances, invariants, the state hash); the rules of each module contract live in
its own private module (`chain/_memory_token.py`, `_memory_escrow`, `_memory_registry`,
`_memory_compute`, `_memory_assets`), dispatched through the operations table. The rules:

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

from collections.abc import Callable, Iterable

from chain import _memory_assets, _memory_compute, _memory_escrow, _memory_registry, _memory_token
from chain._memory_state import LIVE, State, b32, checked
from chain._state_hash import state_hash
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
    ChainError,
    DeadlinePassed,
    InvalidSignature,
    InvalidState,
    InvariantViolation,
    Malformed,
    NonceMismatch,
    UnknownOp,
    WrongDomain,
)
from chain.identity import Address, Identity
from chain.intents import Domain, SignedIntent, recover
from chain.ops import (
    MAX_PARAMS,
    STRING_LIMITS,
    TABLE,
    Module,
    Op,
    Post,
    params_size,
    ref_of,
    values_of,
)
from chain.protocols import (
    BURN_ADDRESS,
    Asset,
    EventRow,
    Job,
    Lease,
    LeaseState,
    LedgerParams,
    Pool,
    Twin,
    TxResult,
)

__all__ = ["ESCROW_ADDRESS", "STRING_LIMITS", "MemoryLedger"]

_INTENT_ABI = ("address", "uint256", "uint256")
_FULL_ABI: dict[type, tuple[str, ...]] = {}
_OK = TxResult(ok=True)
#: Accounts no key controls (the zero address and the contracts'): actions "from" them are
#: bad signatures on every backend.
_KEYLESS = frozenset({BURN_ADDRESS, ESCROW_ADDRESS, HUB_ADDRESS, TOKEN_ADDRESS,
                      REGISTRY_ADDRESS, COMPUTE_ADDRESS, ASSETS_ADDRESS})


def _full_abi(cls: type) -> tuple[str, ...]:
    """The types of an intent's sender, nonce and deadline, then of its operation's fields."""
    types = _FULL_ABI[cls] = _INTENT_ABI + cls.ABI
    return types


def _too_long(op: Op) -> tuple[str, int] | None:
    """The first string field over its limit, with the limit (None if all fit)."""
    for field, limit in STRING_LIMITS.get(type(op), ()):
        if len(getattr(op, field).encode()) > limit:
            return field, limit
    return None


class _Hub:
    """The Hub's own operation: `post`, a message that moves nothing but the nonce."""

    @staticmethod
    def post(s: State, sender: Address, op: Post, nonce: int) -> None:
        s.emit("post", sender, BURN_ADDRESS, 0, op.topic, str(op.ref), b32(op.data).hex())


#: The reference rules of each module contract (chain.ops.TABLE names an op's module; its
#: rule is the function named like its kind).
_RULES = {Module.TOKEN: _memory_token, Module.ESCROW: _memory_escrow,
          Module.REGISTRY: _memory_registry, Module.HUB: _Hub, Module.COMPUTE: _memory_compute,
          Module.ASSETS: _memory_assets}
_HANDLERS: dict[type[Op], Callable[[State, Address, Op, int], None]] = {
    spec.op: getattr(_RULES[spec.module], spec.kind) for spec in TABLE}


class MemoryLedger:
    """The reference ledger: token, job escrow, twin registry, compute and assets in
    dictionaries.

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
        self.protocol = checked(protocol, "protocol")
        self.treasury = checked(treasury, "treasury")
        self.escrow = ESCROW_ADDRESS
        self._verify = params.signatures == "verify"
        self._state = State(params=params, protocol=self.protocol, treasury=self.treasury)

    def enroll(self, identities: Iterable[Identity]) -> None:
        """Keys are not needed in memory: a no-op (the rpc backend signs with them)."""

    # -- reading ---------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self._state.now

    def set_time(self, tick: int) -> None:
        """Advance the ledger clock to `tick` (time never goes back)."""
        if tick < self._state.now:
            raise InvalidState(f"time cannot go back from tick {self._state.now} to {tick}")
        self._state.now = tick

    def balance_of(self, account: Address) -> int:
        return self._state.balances.get(account, 0)

    def nonce_of(self, account: Address) -> int:
        return self._state.nonces.get(account, 0)

    @property
    def total_supply(self) -> int:
        return self._state.minted - self._state.burned

    @property
    def minted(self) -> int:
        return self._state.minted

    @property
    def burned(self) -> int:
        return self._state.burned

    def job(self, job_id: int) -> Job | None:
        return self._state.jobs.get(job_id)

    def twin(self, key: str) -> Twin | None:
        return self._state.twins.get(key)

    def lease(self, lease_id: int) -> Lease | None:
        return self._state.leases.get(lease_id)

    def stake_of(self, account: Address) -> int:
        return self._state.stakes.get(account, 0)

    def asset(self, key: str) -> Asset | None:
        return self._state.assets.get(key)

    def pool(self, key: str) -> Pool | None:
        return self._state.pools.get(key)

    def balances(self) -> dict[Address, int]:
        """A copy of every non-zero balance, module accounts included."""
        return {a: b for a, b in self._state.balances.items() if b}

    def drain_events(self) -> list[EventRow]:
        """Hand over the events recorded since the last drain (keeps memory bounded)."""
        events, self._state.events = self._state.events, []
        return events

    # -- executing -------------------------------------------------------------------------
    def execute(self, signed: SignedIntent) -> TxResult:
        """Authenticate and apply one signed action; never raises for a bad action."""
        intent = signed.intent
        sender = intent.sender
        state = self._state
        state.tx += 1
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
            expected = state.nonces.get(sender, 0)
            if intent.nonce != expected:
                raise NonceMismatch(sender, expected, intent.nonce)
            if state.now > intent.deadline:
                raise DeadlinePassed(intent.deadline, state.now)
        except ChainError as e:
            return self._reject(sender, intent.op, e)
        state.nonces[sender] = expected + 1
        handler = _HANDLERS.get(type(intent.op))
        try:
            if handler is None:
                raise UnknownOp(f"unknown operation {type(intent.op).__name__}")
            if too_long:
                field, limit = too_long
                raise InvalidState(f"{field} must be at most {limit} bytes (UTF-8)")
            handler(state, sender, intent.op, intent.nonce)
        except ChainError as e:
            return self._reject(sender, intent.op, e)
        return _OK

    def _reject(self, sender: Address, op: Op, error: ChainError) -> TxResult:
        self._state.emit("rejected", sender, BURN_ADDRESS, 0, "", ref_of(op),
                         f"{op.KIND}:{error.code}")
        return TxResult(ok=False, code=error.code, reason=str(error))

    def check_invariants(self) -> None:
        """Raise InvariantViolation unless every ledger invariant holds now."""
        s = self._state
        total = 0
        for account, balance in s.balances.items():
            if balance < 0:
                raise InvariantViolation(f"{account} has a negative balance {balance}")
            total += balance
        if total != s.minted - s.burned:
            raise InvariantViolation(f"balances sum to {total} but minted - burned is "
                                     f"{s.minted - s.burned}")
        if s.minted > self.params.supply_cap:
            raise InvariantViolation(f"minted {s.minted} exceeds the cap")
        escrowed = sum(j.budget + j.eval_deposit for j in s.jobs.values()
                       if j.state in LIVE)
        if escrowed != s.balances.get(ESCROW_ADDRESS, 0):
            raise InvariantViolation(f"escrow holds {self.balance_of(ESCROW_ADDRESS)} but live "
                                     f"jobs account for {escrowed}")
        held = (sum(le.locked for le in s.leases.values() if le.state is LeaseState.OPEN)
                + sum(s.stakes.values()))
        if held != s.balances.get(COMPUTE_ADDRESS, 0):
            raise InvariantViolation(f"the compute module holds "
                                     f"{self.balance_of(COMPUTE_ADDRESS)} but open leases and "
                                     f"stakes account for {held}")
        if any(v < 0 for v in s.stakes.values()):
            raise InvariantViolation("a stake is negative")
        if s.balances.get(ASSETS_ADDRESS, 0):
            raise InvariantViolation("the assets module holds tokens")

    def state_hash(self) -> str:
        """sha256 over the whole state in a canonical order: equal states, equal hashes."""
        s = self._state

        def ordered(table: dict) -> list:
            return [table[k] for k in sorted(table)]

        return state_hash(
            now=s.now, minted=s.minted, burned=s.burned,
            balances=((a, s.balances[a]) for a in sorted(s.balances)),
            nonces=((a, s.nonces[a]) for a in sorted(s.nonces)), jobs=ordered(s.jobs),
            twins=ordered(s.twins), leases=ordered(s.leases),
            stakes=((a, s.stakes[a]) for a in sorted(s.stakes)), assets=ordered(s.assets),
            pools=ordered(s.pools), records=sorted(s.records))

    def snapshot(self) -> object:
        """An opaque copy of the state, for `revert` (tests, what-if queries)."""
        return self._state.snapshot()

    def revert(self, snapshot: object) -> None:
        """Restore a state taken by `snapshot`; events recorded since are kept as history."""
        self._state.restore(snapshot)  # type: ignore[arg-type]
