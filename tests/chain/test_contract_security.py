"""Security of the ledger contracts (Hub, Token, Escrow, Registry, Compute, Assets) on the
in-process EVM.

Every attack runs on an `EvmLedger` (pyrevm) and must be refused with nothing changed: an
authentication failure (bad signature, replay, wrong domain, passed deadline) changes nothing at
all, not even the nonce; a broken rule consumes the nonce and nothing else. "Nothing" is read
from the chain itself (`Bench.look`: every balance of the cast and of the contracts, the hub's
nonces, the clock, the supply counters, the escrow's and the compute module's locked totals,
the wiring, the jobs, twins, leases, stakes, assets and pools watched) besides the ledger's
`state_hash`. Direct calls that bypass the hub, relayed meta-transactions, extreme amounts and
fees, the compute, royalty and data rules (only the provider claims, within the lock and before
expiry; only the protocol slashes, within the stake; no link cycles, no royalty stack over
100 %; usage records consumed once), and the EIP-712 digest (contract against Python) are
covered too.

Tests on the shared ledger (`bench`: alice, bob and carol hold GENESIS, dave owns the twin
`warehouse/a`, alice's job JOB_BUDGET is funded with carol evaluating and bob providing, expiring
at tick 200, the clock at tick 100) are isolated by snapshot/revert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chain import (
    BURN_ADDRESS,
    OPS,
    ClaimLease,
    ClaimRefund,
    CloseLease,
    CompleteJob,
    Contribute,
    CreateJob,
    CreatePool,
    Domain,
    FundJob,
    Identity,
    Intent,
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
    SignedIntent,
    Slash,
    Stake,
    SubmitJob,
    Transfer,
    TransferTwin,
    TxResult,
    Unstake,
    UseData,
    job_id_for,
    sign,
)
from chain.contract_ledger import KIND_INDEX
from chain.deployment import DEPLOYER
from chain.evm import EvmLedger
from chain.memory import MemoryLedger
from chain.ops import values_of
from chain.protocols import LedgerParams

BPS = 10_000
MAX = 2**256 - 1
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1 order
GENESIS = 10**21
JOB_BUDGET = 10**20
KEY = "warehouse/a"
H1, H2 = keccak(text="spec 1"), keccak(text="spec 2")
RELAYER = to_checksum_address("0x" + "5e" * 20)  # an account without a key or any role
SHARED = dict(transfer_fee_bps=125, fee_burn_bps=2_500, platform_fee_bps=200,
              evaluator_fee_bps=300, supply_cap=10**24)
EXECUTE_ABI = ["address", "uint256", "uint256", "uint8", "bytes", "bytes"]
_ERROR = keccak(text="Error(string)")[:4]
_REVERT = re.compile(r"output: 0x([0-9a-fA-F]*)")


def calldata(signature: str, types: tuple[str, ...] | list[str] = (), args: Any = ()) -> bytes:
    return keccak(text=signature)[:4] + abi_encode(list(types), list(args))


def execute_calldata(signed: SignedIntent, signature: bytes | None = None,
                     kind: int | None = None) -> bytes:
    """Hub.execute(...) for `signed`, encoded independently of ContractLedger (eth_abi)."""
    i = signed.intent
    params = abi_encode(list(i.op.ABI), list(values_of(i.op)))
    sig = signed.signature if signature is None else signature
    kind = KIND_INDEX[type(i.op)] if kind is None else kind
    return calldata("execute(address,uint256,uint256,uint8,bytes,bytes)", EXECUTE_ABI,
                    [i.sender, i.nonce, i.deadline, kind, params, sig or b""])


def revert_text(output: bytes) -> str:
    """The reason string of revert data, or its hex ("" for an empty revert)."""
    if output[:4] == _ERROR:
        return abi_decode(["string"], output[4:])[0]
    return output.hex()


def high_s(signature: bytes) -> bytes:
    """The other valid ECDSA form of a signature: s' = n - s, v flipped 27 <-> 28."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def compact(signature: bytes) -> bytes:
    """The EIP-2098 64-byte form r || (v - 27) << 255 | s."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (s | (signature[64] - 27) << 255).to_bytes(32, "big")


@dataclass
class Bench:
    """One EvmLedger, the cast, and the jobs and twins to watch."""

    ledger: EvmLedger
    ids: SimpleNamespace
    jobs: list[int] = field(default_factory=list)
    job: int = 0  # the shared ledger's funded job
    twins: list[str] = field(default_factory=list)
    leases: list[int] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)
    pools: list[str] = field(default_factory=list)
    lease: int = 0  # the compute ledger's open lease

    @classmethod
    def new(cls, ids: SimpleNamespace, **params: Any) -> Bench:
        return cls(EvmLedger(LedgerParams(**params), protocol=ids.protocol.address,
                             treasury=ids.treasury.address), ids)

    # -- reading the chain -----------------------------------------------------------------
    def view(self, to: str, signature: str, types: tuple[str, ...] = (), args: Any = ()) -> bytes:
        return self.ledger._t.call(to, calldata(signature, types, args))

    def view_int(self, to: str, signature: str, *args: Any) -> int:
        types = tuple("address" if isinstance(a, str) else "uint256" for a in args)
        return int.from_bytes(self.view(to, signature, types, args)[:32], "big")

    def chain_nonce(self, who: str) -> int:
        return self.view_int(self.ledger.hub, "nonces(address)", who)

    def accounts(self) -> list[str]:
        ledger = self.ledger
        contracts = (ledger.hub, ledger.token, ledger.registry, ledger.escrow, ledger.compute,
                     ledger.assets)
        return [*(i.address for i in vars(self.ids).values()),
                *map(to_checksum_address, contracts), RELAYER, DEPLOYER.address, BURN_ADDRESS]

    def look(self) -> dict[str, Any]:
        """Everything observable, read from the contracts (not the ledger's mirrors)."""
        ledger = self.ledger
        accounts = self.accounts()
        return dict(
            now=(ledger.now, self.view_int(ledger.hub, "now()")),
            supply=(ledger.total_supply, ledger.minted, ledger.burned,
                    self.view_int(ledger.escrow, "locked()"),
                    self.view_int(ledger.compute, "locked()"),
                    self.view_int(ledger.compute, "staked()")),
            wiring=[self.view(ledger.hub, f"{name}()") for name in (
                "token", "registry", "escrow", "compute", "assets", "owner")]
            + [self.view(ledger.token, f"{name}()") for name in ("escrow", "compute", "assets")]
            + [self.view(ledger.escrow, f"{name}()") for name in ("compute", "assets")],
            balances={a: ledger.balance_of(a) for a in accounts},
            nonces={a: self.chain_nonce(a) for a in accounts},
            jobs={j: ledger.job(j) for j in self.jobs},
            twins={k: ledger.twin(k) for k in self.twins},
            leases={i: ledger.lease(i) for i in self.leases},
            stakes={a: ledger.stake_of(a) for a in accounts},
            assets={k: ledger.asset(k) for k in self.assets},
            pools={k: ledger.pool(k) for k in self.pools},
        )

    # -- acting ----------------------------------------------------------------------------
    def signed(self, who: Identity, op: Op, *, nonce: int | None = None,
               deadline: int | None = None, signer: Identity | None = None,
               domain: Domain | None = None) -> SignedIntent:
        ledger = self.ledger
        intent = Intent(sender=who.address,
                        nonce=self.chain_nonce(who.address) if nonce is None else nonce,
                        deadline=ledger.now + 10 if deadline is None else deadline, op=op)
        return sign(intent, signer or who, domain or ledger.domain)

    def do(self, who: Identity, op: Op, **kw: Any) -> TxResult:
        return self.ledger.execute(self.signed(who, op, **kw))

    def ok(self, who: Identity, op: Op, **kw: Any) -> TxResult:
        result = self.do(who, op, **kw)
        assert result.ok, f"{op.KIND} by {who!r} was rejected: {result.code}: {result.reason}"
        return result

    def expect_reject(self, who: Identity, op: Op, code: str, **kw: Any) -> TxResult:
        """A rule rejects the action: the nonce moves by one and nothing else changes."""
        return self.expect_refused(self.signed(who, op, **kw), code, authenticated=True)

    def expect_refused(self, signed: SignedIntent, code: str | None, *,
                       authenticated: bool = False) -> TxResult:
        """Execute `signed`, which must be refused with `code` (None: any code), and check
        that nothing changed but, for an authenticated action, the sender's nonce."""
        ledger, sender, kind = self.ledger, signed.intent.sender, signed.intent.op.KIND
        ledger.drain_events()
        before, before_hash = self.look(), ledger.state_hash()
        result = ledger.execute(signed)
        assert not result.ok, f"{kind} by {sender} was accepted"
        if code is not None:
            assert result.code == code, f"expected {code}, got {result.code}: {result.reason}"
        events = ledger.drain_events()
        assert [(e[2], e[3], e[5], e[8]) for e in events] == [
            ("rejected", sender, 0, f"{kind}:{result.code}")]
        if authenticated:
            before["nonces"][sender] += 1
        else:
            assert ledger.state_hash() == before_hash
        assert self.look() == before
        assert ledger.nonce_of(sender) == before["nonces"][sender]  # mirror agrees
        ledger.check_invariants()
        return result

    def raw_reverts(self, caller: str, to: str, data: bytes) -> str:
        """A direct message call that must revert and change nothing; its revert text."""
        ledger = self.ledger
        before, before_hash = self.look(), ledger.state_hash()
        with pytest.raises(RuntimeError) as info:
            ledger._t.evm.message_call(caller, to, data)
        assert self.look() == before
        assert ledger.state_hash() == before_hash
        found = _REVERT.search(str(info.value))
        assert found is not None, str(info.value)
        return revert_text(bytes.fromhex(found.group(1)))

    def relay(self, data: bytes) -> tuple[bool, str]:
        """Send Hub.execute calldata from the relayer: (ok, revert text or return hex)."""
        out = self.ledger._t.send(RELAYER, self.ledger.hub, data)
        return out.ok, revert_text(out.output) if not out.ok else out.output.hex()

    # -- jobs and twins --------------------------------------------------------------------
    def create_job(self, client: Identity, evaluator: Identity, budget: int,
                   expires_at: int) -> int:
        nonce = self.chain_nonce(client.address)
        self.ok(client, CreateJob(evaluator=evaluator.address, assigner=BURN_ADDRESS,
                                  budget=budget, expires_at=expires_at))
        job_id = job_id_for(client.address, nonce)
        self.jobs.append(job_id)
        return job_id

    def funded_job(self, client: Identity, evaluator: Identity, provider: Identity,
                   budget: int, expires_at: int) -> int:
        job_id = self.create_job(client, evaluator, budget, expires_at)
        self.ok(client, FundJob(job_id=job_id, expected_budget=budget))
        self.ok(client, SetProvider(job_id=job_id, provider=provider.address))
        return job_id

    def open_lease(self, buyer: Identity, provider: Identity, cu: int, price: int,
                   expires_at: int) -> int:
        nonce = self.chain_nonce(buyer.address)
        self.ok(buyer, OpenLease(provider=provider.address, twin=KEY, cu=cu, price_per_cu=price,
                                 expires_at=expires_at))
        lease_id = job_id_for(buyer.address, nonce)
        self.leases.append(lease_id)
        return lease_id

    def register(self, owner: Identity, key: str) -> None:
        self.ok(owner, RegisterTwin(key=key, version="1", spec_hash=H1))
        self.twins.append(key)


@pytest.fixture(scope="module")
def shared(ids) -> Bench:
    b = Bench.new(ids, **SHARED)
    for who in (ids.alice, ids.bob, ids.carol):
        b.ok(ids.protocol, Mint(to=who.address, amount=GENESIS, flow="genesis"))
    b.ledger.set_time(100)
    b.register(ids.dave, KEY)
    b.job = b.funded_job(ids.alice, ids.carol, ids.bob, JOB_BUDGET, expires_at=200)
    b.ledger.drain_events()
    return b


@pytest.fixture
def bench(shared) -> Bench:
    """The shared ledger, reverted after the test to the state before it."""
    snap, jobs, twins = shared.ledger.snapshot(), list(shared.jobs), list(shared.twins)
    yield shared
    shared.ledger.revert(snap)
    shared.jobs[:], shared.twins[:] = jobs, twins
    shared.ledger.drain_events()


def payout(budget: int, platform_bps: int = 200, evaluator_bps: int = 300) -> tuple[int, ...]:
    """(provider, platform, evaluator) shares of a completed job's budget."""
    platform, evaluator = budget * platform_bps // BPS, budget * evaluator_bps // BPS
    return budget - platform - evaluator, platform, evaluator


# -- 1. twins: only the owner --------------------------------------------------------------


def test_non_owner_cannot_publish_or_transfer_a_twin(bench, ids):
    """Only the twin's owner appends versions or hands it over; the registry stays as it was."""
    for who in (ids.eve, ids.alice, ids.protocol):
        bench.expect_reject(who, PublishVersion(key=KEY, version="2", spec_hash=H2),
                            "unauthorized")
        bench.expect_reject(who, TransferTwin(key=KEY, to=who.address), "unauthorized")
    bench.expect_reject(ids.eve, RegisterTwin(key=KEY, version="9", spec_hash=H2),
                        "invalid_state")  # no hijack by re-registering
    assert bench.ledger.twin(KEY).owner == ids.dave.address
    # after a transfer the former owner is a stranger too
    bench.ok(ids.dave, TransferTwin(key=KEY, to=ids.bob.address))
    bench.expect_reject(ids.dave, PublishVersion(key=KEY, version="2", spec_hash=H2),
                        "unauthorized")
    bench.expect_reject(ids.dave, TransferTwin(key=KEY, to=ids.dave.address), "unauthorized")
    bench.ok(ids.bob, PublishVersion(key=KEY, version="2", spec_hash=H2))
    assert bench.ledger.twin(KEY).versions == (("1", H1), ("2", H2))


# -- 2. jobs: only the evaluator -----------------------------------------------------------


def test_only_the_evaluator_completes_or_rejects(bench, ids):
    """Client, provider, stranger and protocol cannot complete or reject: unauthorized."""
    job = bench.job
    bench.ok(ids.bob, SubmitJob(job_id=job, deliverable=H2))
    for who in (ids.alice, ids.bob, ids.eve, ids.protocol, ids.treasury):
        bench.expect_reject(who, CompleteJob(job_id=job), "unauthorized")
        bench.expect_reject(who, RejectJob(job_id=job), "unauthorized")
    bench.expect_reject(ids.eve, SubmitJob(job_id=job, deliverable=H1), "invalid_state")


def test_provider_cannot_complete_its_own_job(bench, ids):
    """The provider of a funded (not yet submitted) job cannot pay itself."""
    bench.expect_reject(ids.bob, CompleteJob(job_id=bench.job), "unauthorized")
    assert bench.ledger.job(bench.job).state == "funded"


# -- 3. terminal states absorb; one payout -------------------------------------------------


def test_completion_pays_exactly_once(bench, ids):
    """Complete once: the provider gains budget - fees, exactly once; then every transition
    (complete again, reject, claim after expiry) is invalid_state."""
    ledger, job = bench.ledger, bench.job
    provider, platform, evaluator = payout(JOB_BUDGET)
    bob, treasury, carol = (ledger.balance_of(i.address)
                            for i in (ids.bob, ids.treasury, ids.carol))
    bench.ok(ids.carol, CompleteJob(job_id=job))
    assert ledger.balance_of(ids.bob.address) == bob + provider
    assert ledger.balance_of(ids.treasury.address) == treasury + platform
    assert ledger.balance_of(ids.carol.address) == carol + evaluator
    assert provider + platform + evaluator == JOB_BUDGET
    bench.expect_reject(ids.carol, CompleteJob(job_id=job), "invalid_state")
    bench.expect_reject(ids.carol, RejectJob(job_id=job), "invalid_state")
    ledger.set_time(200)
    bench.expect_reject(ids.eve, ClaimRefund(job_id=job), "invalid_state")
    bench.expect_reject(ids.alice, ClaimRefund(job_id=job), "invalid_state")
    assert ledger.balance_of(ids.bob.address) == bob + provider
    assert ledger.job(job).state == "completed"


def test_rejected_job_cannot_be_completed(bench, ids):
    """After a rejection (full refund) neither completion nor a second rejection pays."""
    ledger, job = bench.ledger, bench.job
    alice = ledger.balance_of(ids.alice.address)
    bench.ok(ids.carol, RejectJob(job_id=job))
    assert ledger.balance_of(ids.alice.address) == alice + JOB_BUDGET
    bench.expect_reject(ids.carol, CompleteJob(job_id=job), "invalid_state")
    bench.expect_reject(ids.carol, RejectJob(job_id=job), "invalid_state")
    bench.expect_reject(ids.bob, SubmitJob(job_id=job, deliverable=H1), "invalid_state")
    ledger.set_time(300)
    bench.expect_reject(ids.eve, ClaimRefund(job_id=job), "invalid_state")
    assert ledger.balance_of(ids.alice.address) == alice + JOB_BUDGET
    assert ledger.balance_of(ledger.escrow) == 0


# -- 4. refunds ----------------------------------------------------------------------------


def test_refund_only_after_expiry_by_anyone_once(bench, ids):
    """Before expires_at nobody can claim; from it on a stranger can, and the evaluator can no
    longer complete; the refund goes to the client, once."""
    ledger, job = bench.ledger, bench.job
    for who in (ids.eve, ids.alice, ids.carol):
        bench.expect_reject(who, ClaimRefund(job_id=job), "invalid_state")
    ledger.set_time(199)
    bench.expect_reject(ids.eve, ClaimRefund(job_id=job), "invalid_state")
    ledger.set_time(200)
    bench.expect_reject(ids.carol, CompleteJob(job_id=job), "invalid_state")
    alice, eve = ledger.balance_of(ids.alice.address), ledger.balance_of(ids.eve.address)
    bench.ok(ids.eve, ClaimRefund(job_id=job))
    assert ledger.balance_of(ids.alice.address) == alice + JOB_BUDGET
    assert ledger.balance_of(ids.eve.address) == eve
    assert ledger.job(job).state == "expired"
    bench.expect_reject(ids.eve, ClaimRefund(job_id=job), "invalid_state")
    bench.expect_reject(ids.alice, ClaimRefund(job_id=job), "invalid_state")
    assert ledger.balance_of(ids.alice.address) == alice + JOB_BUDGET
    ledger.check_invariants()


# -- 5. signatures, nonces, domains ---------------------------------------------------------


def test_replayed_action_is_bad_nonce(bench, ids):
    """The same signed action executed twice: the second is bad_nonce and changes nothing,
    whether the first was applied or rejected by a rule."""
    applied = bench.signed(ids.alice, Transfer(to=ids.bob.address, amount=10**18))
    assert bench.ledger.execute(applied).ok
    bench.expect_refused(applied, "bad_nonce")
    rejected = bench.signed(ids.eve, Mint(to=ids.eve.address, amount=1))
    assert bench.ledger.execute(rejected).code == "unauthorized"
    bench.expect_refused(rejected, "bad_nonce")
    future = bench.signed(ids.alice, Post(topic="bid", ref=1),
                          nonce=bench.chain_nonce(ids.alice.address) + 1)
    bench.expect_refused(future, "bad_nonce")


def test_passed_deadline_changes_nothing(bench, ids):
    """An action past its deadline is refused without consuming its nonce."""
    late = bench.signed(ids.alice, Transfer(to=ids.bob.address, amount=1), deadline=110)
    bench.ledger.set_time(111)
    bench.expect_refused(late, "deadline_passed")


def test_other_domains_are_refused(bench, ids):
    """A signature for another chain id or another verifying contract is worthless here."""
    ledger, op = bench.ledger, Transfer(to=ids.eve.address, amount=10**18)
    other_chain = Domain(chain_id=1, verifying_contract=ledger.hub)
    signed = bench.signed(ids.alice, op, domain=other_chain)
    bench.expect_refused(signed, "wrong_domain")  # refused before the hub, as a node would
    claimed_here = SignedIntent(intent=signed.intent, signature=signed.signature,
                                chain_id=ledger.domain.chain_id)
    bench.expect_refused(claimed_here, "bad_signature")  # the hub recovers someone else
    other_hub = Domain(chain_id=ledger.domain.chain_id, verifying_contract=ledger.token)
    bench.expect_refused(bench.signed(ids.alice, op, domain=other_hub), "bad_signature")
    renamed = Domain(name="twinecon2", chain_id=ledger.domain.chain_id,
                     verifying_contract=ledger.hub)
    bench.expect_refused(bench.signed(ids.alice, op, domain=renamed), "bad_signature")


def _forgeries(bench: Bench, signed: SignedIntent) -> dict[str, bytes | None]:
    sig = signed.signature
    assert sig is not None
    intent = signed.intent
    return {
        "other_key": bench.signed(bench.ids.alice, intent.op, nonce=intent.nonce,
                                  signer=bench.ids.bob).signature,
        "other_message": bench.signed(bench.ids.alice, Post(topic="x", ref=1)).signature,
        "none": None,
        "empty": b"",
        "zeros_65": b"\x00" * 65,
        "random_65": keccak(b"forged r") + keccak(b"forged s") + b"\x5a",
        "high_s": high_s(sig),
        "v_0_1": sig[:64] + bytes([sig[64] - 27]),
        "compact_64": compact(sig),
        "truncated_64": sig[:64],
        "too_long_66": sig + b"\x00",
    }


FORGERIES = ("other_key", "other_message", "none", "empty", "zeros_65", "random_65", "high_s",
             "v_0_1", "compact_64", "truncated_64", "too_long_66")
#: Forgeries the hub refuses inside snekmate's ecdsa (which reverts with its own reason)
#: instead of at its own `assert signer == sender, "bad_signature"`.
ECDSA_REVERTS = ("zeros_65", "random_65", "high_s", "v_0_1")


def test_forged_signatures_change_nothing(bench, ids):
    """Every forged, malleated or malformed signature is refused and changes nothing at all."""
    signed = bench.signed(ids.alice, Transfer(to=ids.eve.address, amount=10**18))
    for name, forged in _forgeries(bench, signed).items():
        result = bench.expect_refused(
            SignedIntent(intent=signed.intent, signature=forged, chain_id=signed.chain_id), None)
        assert result.code == "bad_signature", (name, result)
    assert bench.ledger.execute(signed).ok  # the genuine one still works, once


@pytest.mark.parametrize("name", FORGERIES)
def test_forged_signature_is_bad_signature(bench, ids, name):
    """Each forgery is refused as bad_signature (as MemoryLedger does), nonce unmoved."""
    signed = bench.signed(ids.alice, Transfer(to=ids.eve.address, amount=10**18))
    forged = _forgeries(bench, signed)[name]
    bench.expect_refused(
        SignedIntent(intent=signed.intent, signature=forged, chain_id=signed.chain_id),
        "bad_signature")


def _keyless_sender(bench: Bench, who: str) -> SignedIntent:
    """An intent claiming to come from `who` (a contract or the zero address), signed by eve."""
    sender = BURN_ADDRESS if who == "zero" else to_checksum_address(getattr(bench.ledger, who))
    intent = Intent(sender=sender, nonce=0, deadline=200,
                    op=Transfer(to=bench.ids.eve.address, amount=1))
    return sign(intent, bench.ids.eve, bench.ledger.domain)


CONTRACTS = ("hub", "token", "registry", "escrow", "compute", "assets")


def test_keyless_senders_are_refused(bench):
    """No one signs for the zero address or a contract (escrow, hub, ...): the action is
    refused, directly or relayed, and nothing changes."""
    for who in ("zero", *CONTRACTS):
        signed = _keyless_sender(bench, who)
        result = bench.expect_refused(signed, None)
        assert result.code == "bad_signature", (who, result)
        before = bench.look()
        assert bench.relay(execute_calldata(signed)) == (False, "bad_signature"), who
        assert bench.look() == before
    bench.expect_refused(_keyless_sender(bench, "zero"), "bad_signature")


@pytest.mark.parametrize("who", CONTRACTS)
def test_contract_sender_is_bad_signature(bench, who):
    """As in MemoryLedger, an intent from a contract's address is a bad signature."""
    bench.expect_refused(_keyless_sender(bench, who), "bad_signature")


# -- 6. direct calls bypassing the hub -----------------------------------------------------


def _direct_calls(b: Bench) -> dict[str, tuple[str, str, bytes, str]]:
    """name -> (caller, contract, calldata, expected revert text; "" for no such function)."""
    i, ledger = b.ids, b.ledger
    hub, token, escrow, registry = ledger.hub, ledger.token, ledger.escrow, ledger.registry
    compute, assets = ledger.compute, ledger.assets
    run = "run(uint8,address,uint256,uint256,bytes)"
    run_abi = ("uint8", "address", "uint256", "uint256", "bytes")
    twin_id = int.from_bytes(keccak(text=KEY), "big")
    eve, alice, dave, deployer = i.eve.address, i.alice.address, i.dave.address, DEPLOYER.address
    bob, protocol = i.bob.address, i.protocol.address
    move_abi = ("address", "address", "uint256", "string", "uint256")

    def params(op: Op) -> bytes:
        return abi_encode(list(op.ABI), list(values_of(op)))

    def runs(kind: int, sender: str, op: Op) -> bytes:
        return calldata(run, run_abi, [kind, sender, 0, 10**9, params(op)])

    owner_error = "ownable: caller is not the owner"
    return {
        "Token.run mint": (eve, token, runs(1, i.protocol.address,
                                            Mint(to=eve, amount=10**18)), "unauthorized"),
        "Token.run transfer": (alice, token, runs(0, alice, Transfer(to=eve, amount=10**18)),
                               "unauthorized"),
        "Escrow.run complete": (i.carol.address, escrow, runs(6, i.carol.address,
                                CompleteJob(job_id=b.job)), "unauthorized"),
        "Escrow.run claim": (eve, escrow, runs(8, eve, ClaimRefund(job_id=b.job)),
                             "unauthorized"),
        "Registry.run transfer": (eve, registry, runs(11, dave, TransferTwin(key=KEY, to=eve)),
                                  "unauthorized"),
        "Registry.run publish": (dave, registry, runs(10, dave, PublishVersion(
            key=KEY, version="2", spec_hash=H2)), "unauthorized"),
        "Hub.run post": (eve, hub, runs(12, alice, Post(topic="x", ref=1)), "unauthorized"),
        "Registry.run set_licence": (dave, registry, runs(16, dave, SetLicence(
            key=KEY, fee_per_cu=10**18)), "unauthorized"),
        "Compute.run stake": (eve, compute, runs(13, eve, Stake(amount=1)), "unauthorized"),
        "Compute.run unstake": (bob, compute, runs(14, bob, Unstake(amount=1)),
                                "unauthorized"),
        "Compute.run slash": (protocol, compute, runs(15, protocol, Slash(
            offender=bob, amount=1, beneficiary=eve)), "unauthorized"),
        "Compute.run open_lease": (alice, compute, runs(17, alice, OpenLease(
            provider=bob, twin=KEY, cu=1, price_per_cu=1, expires_at=10**6)), "unauthorized"),
        "Compute.run claim_lease": (bob, compute, runs(18, bob, ClaimLease(
            lease_id=1, cu=1, receipt=H1)), "unauthorized"),
        "Compute.run close_lease": (eve, compute, runs(19, eve, CloseLease(lease_id=1)),
                                    "unauthorized"),
        "Assets.run register_asset": (eve, assets, runs(20, eve, RegisterAsset(
            key=KEY, kind="twin", content_hash=H1, royalty_bps=BPS)), "unauthorized"),
        "Assets.run link_asset": (eve, assets, runs(21, eve, LinkAsset(child="a", parent="b")),
                                  "unauthorized"),
        "Assets.run create_pool": (eve, assets, runs(22, eve, CreatePool(
            key="p", price_per_unit=1, owner_fee_bps=0)), "unauthorized"),
        "Assets.run contribute": (eve, assets, runs(23, eve, Contribute(
            pool="p", content_hash=H1, units=1)), "unauthorized"),
        "Assets.run use_data": (eve, assets, runs(24, alice, UseData(
            pool="p", units=1, record=H2)), "unauthorized"),
        "Token.module_move": (eve, token, calldata(
            "module_move(address,address,uint256,string,uint256)", move_abi,
            [escrow, eve, JOB_BUDGET, "service", 0]), "unauthorized"),
        "Token.module_move from alice": (eve, token, calldata(
            "module_move(address,address,uint256,string,uint256)", move_abi,
            [alice, eve, 1, "data", 0]), "unauthorized"),
        "Token.module_pay": (eve, token, calldata(
            "module_pay(address,address,uint256,string,uint256)", move_abi,
            [escrow, eve, JOB_BUDGET, "compute", 0]), "unauthorized"),
        "Token.module_burn": (eve, token, calldata(
            "module_burn(uint256,uint256)", ["uint256", "uint256"], [1, 0]), "unauthorized"),
        "Token.set_modules": (eve, token, calldata(
            "set_modules(address,address,address)", ["address"] * 3, [eve] * 3),
            "unauthorized"),
        "Token.set_modules by deployer": (deployer, token, calldata(
            "set_modules(address,address,address)", ["address"] * 3, [eve] * 3),
            "unauthorized"),
        "Escrow.set_modules": (eve, escrow, calldata(
            "set_modules(address,address)", ["address"] * 2, [eve] * 2), "unauthorized"),
        "Escrow.set_modules by deployer": (deployer, escrow, calldata(
            "set_modules(address,address)", ["address"] * 2, [eve] * 2), "unauthorized"),
        "Hub.set_time": (eve, hub, calldata("set_time(uint256)", ["uint256"], [10**6]),
                         owner_error),
        "Hub.set_time back by owner": (deployer, hub, calldata(
            "set_time(uint256)", ["uint256"], [99]), "invalid_state"),
        "Hub.wire": (eve, hub, calldata(
            "wire(address,address,address,address,address)", ["address"] * 5, [eve] * 5),
            owner_error),
        "Hub.wire again by owner": (deployer, hub, calldata(
            "wire(address,address,address,address,address)", ["address"] * 5, [eve] * 5),
            "invalid_state"),
        "Hub.execute unknown kind": (alice, hub, calldata(
            "execute(address,uint256,uint256,uint8,bytes,bytes)", EXECUTE_ABI,
            [alice, 0, 10**9, len(OPS), b"", b""]), "unknown_op"),
        # standard entry points that are deliberately not exported
        "ERC20.transfer": (alice, token, calldata(
            "transfer(address,uint256)", ["address", "uint256"], [eve, 1]), ""),
        "ERC20.approve": (alice, token, calldata(
            "approve(address,uint256)", ["address", "uint256"], [eve, MAX]), ""),
        "ERC20.transferFrom": (eve, token, calldata(
            "transferFrom(address,address,uint256)", ["address", "address", "uint256"],
            [alice, eve, 1]), ""),
        "ERC20.mint": (i.protocol.address, token, calldata(
            "mint(address,uint256)", ["address", "uint256"], [eve, 1]), ""),
        "ERC20.mint by owner": (deployer, token, calldata(
            "mint(address,uint256)", ["address", "uint256"], [eve, 1]), ""),
        "ERC20.burn": (alice, token, calldata("burn(uint256)", ["uint256"], [1]), ""),
        "ERC20.set_minter": (deployer, token, calldata(
            "set_minter(address,bool)", ["address", "bool"], [eve, True]), ""),
        "Token.transfer_ownership": (deployer, token, calldata(
            "transfer_ownership(address)", ["address"], [eve]), ""),
        "ERC721.transferFrom": (dave, registry, calldata(
            "transferFrom(address,address,uint256)", ["address", "address", "uint256"],
            [dave, eve, twin_id]), ""),
        "ERC721.safeTransferFrom": (dave, registry, calldata(
            "safeTransferFrom(address,address,uint256)", ["address", "address", "uint256"],
            [dave, eve, twin_id]), ""),
        "ERC721.safeTransferFrom data": (dave, registry, calldata(
            "safeTransferFrom(address,address,uint256,bytes)",
            ["address", "address", "uint256", "bytes"], [dave, eve, twin_id, b""]), ""),
        "ERC721.approve": (dave, registry, calldata(
            "approve(address,uint256)", ["address", "uint256"], [eve, twin_id]), ""),
        "ERC721.setApprovalForAll": (dave, registry, calldata(
            "setApprovalForAll(address,bool)", ["address", "bool"], [eve, True]), ""),
        "ERC721.burn": (dave, registry, calldata("burn(uint256)", ["uint256"], [twin_id]), ""),
        "ERC721.safe_mint": (deployer, registry, calldata(
            "safe_mint(address,string)", ["address", "string"], [eve, ""]), ""),
        "Registry.transfer_ownership": (deployer, registry, calldata(
            "transfer_ownership(address)", ["address"], [eve]), ""),
    }


DIRECT_CALLS = (
    "Token.run mint", "Token.run transfer", "Escrow.run complete", "Escrow.run claim",
    "Registry.run transfer", "Registry.run publish", "Hub.run post",
    "Registry.run set_licence", "Compute.run stake", "Compute.run unstake", "Compute.run slash",
    "Compute.run open_lease", "Compute.run claim_lease", "Compute.run close_lease",
    "Assets.run register_asset", "Assets.run link_asset", "Assets.run create_pool",
    "Assets.run contribute", "Assets.run use_data", "Token.module_move",
    "Token.module_move from alice", "Token.module_pay", "Token.module_burn",
    "Token.set_modules", "Token.set_modules by deployer", "Escrow.set_modules",
    "Escrow.set_modules by deployer", "Hub.set_time",
    "Hub.set_time back by owner", "Hub.wire", "Hub.wire again by owner",
    "Hub.execute unknown kind", "ERC20.transfer", "ERC20.approve", "ERC20.transferFrom",
    "ERC20.mint", "ERC20.mint by owner", "ERC20.burn", "ERC20.set_minter",
    "Token.transfer_ownership", "ERC721.transferFrom", "ERC721.safeTransferFrom",
    "ERC721.safeTransferFrom data", "ERC721.approve", "ERC721.setApprovalForAll",
    "ERC721.burn", "ERC721.safe_mint", "Registry.transfer_ownership",
)


def test_direct_call_list_is_complete(bench):
    """DIRECT_CALLS (the parameter ids) names every case _direct_calls builds."""
    assert set(DIRECT_CALLS) == set(_direct_calls(bench))


@pytest.mark.parametrize("name", DIRECT_CALLS)
def test_direct_calls_bypassing_the_hub_revert(bench, name):
    """Module entry points, admin functions and the standard ERC-20/721 selectors cannot be
    called around the hub: the call reverts (with the expected reason) and nothing changes."""
    caller, to, data, expected = _direct_calls(bench)[name]
    assert bench.raw_reverts(caller, to, data) == expected


# -- 7. overflowing amounts and exact splits -----------------------------------------------


def test_overflowing_amounts_are_rejected(ids):
    """Amounts of 2**256 - 1 fail on the balance or the cap, never on arithmetic."""
    b = Bench.new(ids, **SHARED)
    b.ok(ids.protocol, Mint(to=ids.alice.address, amount=GENESIS))
    b.expect_reject(ids.alice, Transfer(to=ids.bob.address, amount=MAX), "insufficient_funds")
    b.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=MAX), "cap_exceeded")
    b.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=10**24 - GENESIS + 1),
                    "cap_exceeded")
    job = b.create_job(ids.alice, ids.carol, MAX, expires_at=50)
    b.expect_reject(ids.alice, FundJob(job_id=job, expected_budget=MAX), "insufficient_funds")
    b.expect_reject(ids.alice, FundJob(job_id=job, expected_budget=MAX - 1), "invalid_state")
    too_big = Intent(sender=ids.alice.address, nonce=b.chain_nonce(ids.alice.address),
                     deadline=10, op=Transfer(to=ids.bob.address, amount=MAX + 1))
    b.expect_refused(SignedIntent(intent=too_big, signature=b"\x01" * 65, chain_id=31337),
                     "malformed")  # refused before the hub: it cannot even be encoded


def test_funding_a_max_budget_while_funds_are_locked_changes_only_the_nonce(bench, ids):
    """With a job already funded (locked > 0), funding a 2**256 - 1 budget is rejected and only
    the client's nonce moves (its code: see the next test)."""
    job = bench.create_job(ids.alice, ids.carol, MAX, expires_at=150)
    assert bench.view_int(bench.ledger.escrow, "locked()") == JOB_BUDGET
    bench.expect_refused(bench.signed(ids.alice, FundJob(job_id=job, expected_budget=MAX)), None,
                         authenticated=True)
    assert bench.ledger.job(job).state == "open"


def test_funding_a_max_budget_while_funds_are_locked_is_insufficient_funds(bench, ids):
    """With a job already funded (locked > 0), funding a 2**256 - 1 budget is still
    insufficient_funds, as in the reference ledger."""
    job = bench.create_job(ids.alice, ids.carol, MAX, expires_at=150)
    assert bench.view_int(bench.ledger.escrow, "locked()") == JOB_BUDGET
    bench.expect_reject(ids.alice, FundJob(job_id=job, expected_budget=MAX),
                        "insufficient_funds")


def test_mint_cap_and_authority(ids):
    """Minting stops exactly at the cap (cap_exceeded beyond), and only the protocol mints."""
    b = Bench.new(ids, supply_cap=1_000)
    for who in (ids.alice, ids.treasury, ids.eve):
        b.expect_reject(who, Mint(to=who.address, amount=1), "unauthorized")
    b.ok(ids.protocol, Mint(to=ids.alice.address, amount=600))
    b.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=401), "cap_exceeded")
    b.ok(ids.protocol, Mint(to=ids.bob.address, amount=400))
    b.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=1), "cap_exceeded")
    b.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=MAX), "cap_exceeded")
    b.ok(ids.alice, Transfer(to=ids.bob.address, amount=600))  # no fee: no burn frees the cap
    b.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=1), "cap_exceeded")
    assert (b.ledger.minted, b.ledger.total_supply) == (1_000, 1_000)


AMOUNTS = st.one_of(st.sampled_from([1, 2, MAX, MAX - 1, 2**255, BPS - 1]), st.integers(1, MAX))
FEES = st.one_of(st.sampled_from([0, 1, BPS - 1, BPS]), st.integers(0, BPS))
JOB_FEES = st.one_of(
    st.sampled_from([(0, 0), (BPS, 0), (0, BPS), (BPS // 2, BPS // 2), (1, BPS - 1)]),
    FEES.flatmap(lambda p: st.tuples(st.just(p), st.integers(0, BPS - p))))


@settings(max_examples=50, deadline=None)
@given(amount=AMOUNTS, fee_bps=FEES, burn_bps=FEES)
@example(amount=MAX, fee_bps=BPS, burn_bps=BPS)
@example(amount=MAX, fee_bps=BPS, burn_bps=0)
@example(amount=MAX, fee_bps=BPS, burn_bps=BPS // 3)
@example(amount=MAX, fee_bps=BPS - 1, burn_bps=1)
def test_transfer_of_the_whole_balance_splits_exactly(ids, amount, fee_bps, burn_bps):
    """A transfer of the whole balance, even 2**256 - 1 at a 10000 bps fee: recipient, treasury
    and burn get floor shares that add up to the amount to the last base unit (the contracts'
    mul-div does not overflow)."""
    b = Bench.new(ids, supply_cap=MAX, transfer_fee_bps=fee_bps, fee_burn_bps=burn_bps)
    ledger = b.ledger
    b.ok(ids.protocol, Mint(to=ids.alice.address, amount=amount))
    b.ok(ids.alice, Transfer(to=ids.bob.address, amount=amount))
    fee = amount * fee_bps // BPS
    burn = fee * burn_bps // BPS
    got = [ledger.balance_of(a) for a in (ids.alice.address, ids.bob.address, ledger.treasury)]
    assert got == [0, amount - fee, fee - burn]
    assert sum(got) + ledger.burned == amount
    assert (ledger.minted, ledger.burned, ledger.total_supply) == (amount, burn, amount - burn)
    ledger.check_invariants()


@settings(max_examples=50, deadline=None)
@given(budget=AMOUNTS, fees=JOB_FEES)
@example(budget=MAX, fees=(BPS, 0))
@example(budget=MAX, fees=(0, BPS))
@example(budget=MAX, fees=(BPS // 2, BPS // 2))
@example(budget=MAX, fees=(BPS - 1, 1))
@example(budget=1, fees=(BPS - 1, 1))
def test_job_payout_splits_exactly(ids, budget, fees):
    """A completed job pays provider + platform + evaluator = budget to the last base unit,
    at any fees (up to the whole budget) and any budget up to 2**256 - 1."""
    platform_bps, evaluator_bps = fees
    b = Bench.new(ids, supply_cap=MAX, platform_fee_bps=platform_bps,
                  evaluator_fee_bps=evaluator_bps)
    ledger = b.ledger
    b.ok(ids.protocol, Mint(to=ids.alice.address, amount=budget))
    job = b.funded_job(ids.alice, ids.carol, ids.bob, budget, expires_at=50)
    b.ok(ids.carol, CompleteJob(job_id=job))
    got = [ledger.balance_of(a) for a in (ids.bob.address, ledger.treasury, ids.carol.address)]
    assert got == list(payout(budget, platform_bps, evaluator_bps))
    assert sum(got) == budget
    assert ledger.balance_of(ids.alice.address) == ledger.balance_of(ledger.escrow) == 0
    b.expect_reject(ids.carol, CompleteJob(job_id=job), "invalid_state")
    ledger.check_invariants()


# -- 9. relayed meta-transactions ----------------------------------------------------------


@pytest.mark.parametrize("signatures", ["verify", "off"])
def test_relayed_meta_transaction(ids, signatures):
    """A relayer submits alice's signed transfer: it applies as alice's (her nonce, her tokens,
    nothing from the relayer); replayed it reverts bad_nonce."""
    b = Bench.new(ids, signatures=signatures)
    b.ok(ids.protocol, Mint(to=ids.alice.address, amount=GENESIS))
    signed = b.signed(ids.alice, Transfer(to=ids.bob.address, amount=10**18))
    before = b.look()
    assert b.relay(execute_calldata(signed)) == (True, (1).to_bytes(32, "big").hex())
    before["balances"][ids.alice.address] -= 10**18
    before["balances"][ids.bob.address] += 10**18
    before["nonces"][ids.alice.address] += 1
    assert b.look() == before
    assert b.relay(execute_calldata(signed)) == (False, "bad_nonce")
    assert b.look() == before


@pytest.mark.parametrize("signatures", ["verify", "off"])
@pytest.mark.parametrize("forgery, reason", [
    ("none", "bad_signature"),
    ("other_key", "bad_signature"),
    ("tampered_params", "bad_signature"),
    ("tampered_kind", "bad_signature"),
    ("compact_64", "bad_signature"),
    ("high_s", "ecdsa: invalid signature `s` value"),
    ("other_chain", "bad_signature"),
])
def test_relayed_forgery_reverts(ids, signatures, forgery, reason):
    """From a relayer the hub always checks the signature, even on a ledger deployed with
    signatures off: a forged, tampered or malleated one reverts and changes nothing."""
    b = Bench.new(ids, signatures=signatures)
    b.ok(ids.protocol, Mint(to=ids.alice.address, amount=GENESIS))
    op = Transfer(to=ids.bob.address, amount=10**18)
    signed = b.signed(ids.alice, op)
    sig = signed.signature
    data = {
        "none": execute_calldata(signed, b""),
        "other_key": execute_calldata(b.signed(ids.alice, op, signer=ids.eve)),
        "tampered_params": execute_calldata(SignedIntent(
            intent=Intent(sender=ids.alice.address, nonce=0, deadline=signed.intent.deadline,
                          op=Transfer(to=RELAYER, amount=10**18)),
            signature=sig, chain_id=signed.chain_id)),
        "tampered_kind": execute_calldata(signed, kind=KIND_INDEX[Mint]),
        "compact_64": execute_calldata(signed, compact(sig)),
        "high_s": execute_calldata(signed, high_s(sig)),
        "other_chain": execute_calldata(b.signed(
            ids.alice, op, domain=Domain(chain_id=1, verifying_contract=b.ledger.hub))),
    }[forgery]
    before, before_hash = b.look(), b.ledger.state_hash()
    assert b.relay(data) == (False, reason)
    assert (b.look(), b.ledger.state_hash()) == (before, before_hash)
    assert b.relay(execute_calldata(signed))[0]  # the genuine one still goes through


def test_own_call_needs_no_signature_only_when_signatures_are_off(ids):
    """The sender's own call skips the on-chain check only on a ledger with signatures off."""
    for signatures, applied in (("off", True), ("verify", False)):
        b = Bench.new(ids, signatures=signatures)
        signed = b.signed(ids.alice, Post(topic="bid", ref=1))
        out = b.ledger._t.send(ids.alice.address, b.ledger.hub, execute_calldata(signed, b""))
        assert out.ok is applied
        assert b.chain_nonce(ids.alice.address) == int(applied)


# -- 10. the EIP-712 digest, contract against Python ---------------------------------------

SAMPLE_OPS = [
    Transfer(to=BURN_ADDRESS, amount=MAX, flow="payment ✓", ref=2**64),
    Mint(to=RELAYER, amount=1, flow="genesis"),
    CreateJob(evaluator=RELAYER, assigner=BURN_ADDRESS, budget=MAX, expires_at=7, spec_hash=H1),
    FundJob(job_id=2**64 - 1, expected_budget=MAX),
    SetProvider(job_id=1, provider=RELAYER, budget=0),
    SubmitJob(job_id=5, deliverable=H2, policy="policy/ü"),
    CompleteJob(job_id=5, reason=b"\x01" * 32),
    RejectJob(job_id=5),
    ClaimRefund(job_id=0),
    RegisterTwin(key="fleet/ü" * 8, version="v" * 32, spec_hash=H1),
    PublishVersion(key="a/b", version="", spec_hash=b""),
    TransferTwin(key="", to=RELAYER),
    Post(topic="bid", ref=MAX, data=b"\xff" * 32),
    Stake(amount=MAX),
    Unstake(amount=1),
    Slash(offender=RELAYER, amount=MAX, beneficiary=BURN_ADDRESS, ref=7),
    SetLicence(key="warehouse/a", fee_per_cu=MAX),
    OpenLease(provider=RELAYER, twin="fleet/ü", cu=MAX, price_per_cu=0, expires_at=MAX),
    ClaimLease(lease_id=2**64 - 1, cu=0, receipt=H1),
    CloseLease(lease_id=3),
    RegisterAsset(key="policy/p", kind="policy", content_hash=H2, royalty_bps=10_001),
    LinkAsset(child="policy/p", parent="data/ü" * 4),
    CreatePool(key="pool/x", price_per_unit=MAX, owner_fee_bps=0),
    Contribute(pool="", content_hash=b"", units=MAX),
    UseData(pool="pool/x", units=1, record=b"\x01" * 32, ref=MAX),
]

_ADDRESSES = st.binary(min_size=20, max_size=20).map(to_checksum_address)
_FIELD = {"address": _ADDRESSES, "uint256": st.integers(0, MAX),
          "uint64": st.integers(0, 2**64 - 1), "string": st.text(max_size=16),
          "bytes32": st.binary(min_size=32, max_size=32)}
_ANY_OP = st.one_of([
    st.builds(cls, **{f.name: _FIELD[abi] for f, abi in zip(fields(cls), cls.ABI, strict=True)})
    for cls in OPS.values()])


def hub_digest(b: Bench, intent: Intent) -> bytes:
    op = intent.op
    return b.view(b.ledger.hub, "digest(address,uint256,uint256,uint8,bytes)",
                  ("address", "uint256", "uint256", "uint8", "bytes"),
                  [intent.sender, intent.nonce, intent.deadline, KIND_INDEX[type(op)],
                   abi_encode(list(op.ABI), list(values_of(op)))])


@pytest.mark.parametrize("chain_id", [31337, 8453])
def test_hub_digest_matches_python(ids, chain_id):
    """Hub.digest == Intent.digest(ledger.domain) for every op kind, and the hub's
    eip712Domain() is the Python Domain."""
    b = Bench.new(ids, chain_id=chain_id)
    assert [type(op) for op in SAMPLE_OPS] == list(OPS.values())
    for op in SAMPLE_OPS:
        intent = Intent(sender=ids.alice.address, nonce=MAX, deadline=3, op=op)
        assert hub_digest(b, intent) == intent.digest(b.ledger.domain), op.KIND
    fields, name, version, chain, contract, salt, extensions = abi_decode(
        ["bytes1", "string", "string", "uint256", "address", "bytes32", "uint256[]"],
        b.view(b.ledger.hub, "eip712Domain()"))
    d = b.ledger.domain
    assert (fields, name, version, chain, to_checksum_address(contract), salt, extensions) == (
        b"\x0f", d.name, d.version, chain_id, to_checksum_address(d.verifying_contract),
        b"\x00" * 32, ())


@settings(max_examples=50, deadline=None)
@given(op=_ANY_OP, sender=_ADDRESSES, nonce=st.integers(0, MAX), deadline=st.integers(0, MAX))
def test_hub_digest_matches_python_for_any_intent(ids, op, sender, nonce, deadline):
    """The same for random intents (full uint ranges, unicode strings)."""
    b = Bench.new(ids)
    intent = Intent(sender=sender, nonce=nonce, deadline=deadline, op=op)
    assert hub_digest(b, intent) == intent.digest(b.ledger.domain)


# -- 11. compute: stakes and leases ----------------------------------------------------------

TOKEN = 10**18
BOGUS_LEASE = 424242
SEED_CROWD = 31_337
MIN_STAKE = 10 * TOKEN
LEASE_CU, LEASE_PRICE, LICENCE = 100, TOKEN // 100, TOKEN // 1000
ECON = dict(SHARED, min_stake=MIN_STAKE, slash_reward_bps=4_000, data_fee_bps=500)


@pytest.fixture(scope="module")
def econ_shared(ids) -> Bench:
    """A ledger with the compute and IP modules in use: bob staked MIN_STAKE and provides
    alice's open lease (LEASE_CU at LEASE_PRICE in dave's twin, licence LICENCE per CU,
    expiring at tick 150); carol's data asset data/a (1000 bps) is the parent of bob's policy
    policy/p (500 bps); dave's pool pool/x has alice's and carol's contributions. Tick 100."""
    b = Bench.new(ids, **ECON)
    for who in (ids.alice, ids.bob, ids.carol):
        b.ok(ids.protocol, Mint(to=who.address, amount=GENESIS, flow="genesis"))
    b.ledger.set_time(100)
    b.register(ids.dave, KEY)
    b.ok(ids.dave, SetLicence(key=KEY, fee_per_cu=LICENCE))
    b.ok(ids.bob, Stake(amount=MIN_STAKE))
    b.lease = b.open_lease(ids.alice, ids.bob, LEASE_CU, LEASE_PRICE, expires_at=150)
    b.ok(ids.carol, RegisterAsset(key="data/a", kind="data", content_hash=H1, royalty_bps=1_000))
    b.ok(ids.bob, RegisterAsset(key="policy/p", kind="policy", content_hash=H2, royalty_bps=500))
    b.ok(ids.bob, LinkAsset(child="policy/p", parent="data/a"))
    b.assets += ["data/a", "policy/p"]
    b.ok(ids.dave, CreatePool(key="pool/x", price_per_unit=TOKEN // 10, owner_fee_bps=1_000))
    b.ok(ids.alice, Contribute(pool="pool/x", content_hash=H1, units=3))
    b.ok(ids.carol, Contribute(pool="pool/x", content_hash=H2, units=1))
    b.pools.append("pool/x")
    b.ledger.drain_events()
    return b


@pytest.fixture
def econ(econ_shared) -> Bench:
    """The compute-and-IP ledger, reverted after the test to the state before it."""
    b = econ_shared
    snap = b.ledger.snapshot()
    saved = (list(b.jobs), list(b.twins), list(b.leases), list(b.assets), list(b.pools))
    yield b
    b.ledger.revert(snap)
    b.jobs[:], b.twins[:], b.leases[:], b.assets[:], b.pools[:] = saved
    b.ledger.drain_events()


def test_only_the_provider_claims_within_the_lock_before_expiry_once(econ, ids):
    """Buyer, twin owner, stranger and protocol cannot claim (unauthorized); the provider
    cannot claim more than the lock (invalid_state) or from expires_at on; one claim pays
    price and licence for the CU used and returns the rest, and the lease is then closed to
    every further claim or close."""
    ledger, lease = econ.ledger, econ.lease
    for who in (ids.alice, ids.dave, ids.eve, ids.protocol):
        econ.expect_reject(who, ClaimLease(lease_id=lease, cu=1, receipt=H1), "unauthorized")
    econ.expect_reject(ids.bob, ClaimLease(lease_id=lease, cu=LEASE_CU + 1, receipt=H1),
                       "invalid_state")
    econ.expect_reject(ids.bob, ClaimLease(lease_id=BOGUS_LEASE, cu=1, receipt=H1),
                       "invalid_state")
    before = {a: ledger.balance_of(a) for a in (ids.alice.address, ids.bob.address,
                                                ids.dave.address, ledger.compute)}
    econ.ok(ids.bob, ClaimLease(lease_id=lease, cu=40, receipt=H1))
    lock = LEASE_CU * (LEASE_PRICE + LICENCE)
    compute = 40 * LEASE_PRICE
    fee = compute * SHARED["transfer_fee_bps"] // BPS  # the compute payment pays the fee
    assert ledger.balance_of(ids.bob.address) == before[ids.bob.address] + compute - fee
    assert ledger.balance_of(ids.dave.address) == before[ids.dave.address] + 40 * LICENCE
    assert ledger.balance_of(ids.alice.address) == (
        before[ids.alice.address] + lock - compute - 40 * LICENCE)
    assert ledger.balance_of(ledger.compute) == before[ledger.compute] - lock == MIN_STAKE
    assert (ledger.lease(lease).state, ledger.lease(lease).cu_used) == ("claimed", 40)
    econ.expect_reject(ids.bob, ClaimLease(lease_id=lease, cu=1, receipt=H1), "invalid_state")
    ledger.set_time(150)
    econ.expect_reject(ids.eve, CloseLease(lease_id=lease), "invalid_state")
    ledger.check_invariants()


def test_no_claim_from_expiry_on_and_the_close_returns_the_whole_lock(econ, ids):
    """Before expires_at nobody can close; from it on the provider can no longer claim and
    anyone may close, once, returning the whole lock to the buyer."""
    ledger, lease = econ.ledger, econ.lease
    for who in (ids.eve, ids.alice, ids.bob):
        econ.expect_reject(who, CloseLease(lease_id=lease), "invalid_state")
    ledger.set_time(149)
    econ.expect_reject(ids.eve, CloseLease(lease_id=lease), "invalid_state")
    ledger.set_time(150)
    econ.expect_reject(ids.bob, ClaimLease(lease_id=lease, cu=1, receipt=H1), "invalid_state")
    alice = ledger.balance_of(ids.alice.address)
    econ.ok(ids.eve, CloseLease(lease_id=lease))
    assert ledger.balance_of(ids.alice.address) == alice + LEASE_CU * (LEASE_PRICE + LICENCE)
    assert ledger.lease(lease).state == "expired"
    econ.expect_reject(ids.eve, CloseLease(lease_id=lease), "invalid_state")
    econ.expect_reject(ids.bob, ClaimLease(lease_id=lease, cu=0, receipt=H1), "invalid_state")
    ledger.check_invariants()


def test_leases_need_a_staked_provider_and_stakes_stay_while_providing(econ, ids):
    """No lease from a provider under the minimum stake, from oneself or from a module
    account; the provider cannot unstake while its lease is open (invalid_state) nor beyond
    its stake (insufficient_funds); after the claim it can."""
    ledger = econ.ledger
    ops = [OpenLease(provider=p, twin=KEY, cu=1, price_per_cu=1, expires_at=120)
           for p in (ids.carol.address, ids.alice.address, ledger.compute, ledger.escrow,
                     ledger.assets, BURN_ADDRESS)]
    for op in ops:
        econ.expect_reject(ids.alice, op, "invalid_state")
    econ.expect_reject(ids.alice, OpenLease(provider=ids.bob.address, twin="nope/x", cu=1,
                                            price_per_cu=1, expires_at=120), "invalid_state")
    econ.expect_reject(ids.bob, Unstake(amount=1), "invalid_state")
    econ.expect_reject(ids.bob, Unstake(amount=MIN_STAKE + 1), "insufficient_funds")
    econ.ok(ids.bob, ClaimLease(lease_id=econ.lease, cu=0, receipt=H1))
    econ.expect_reject(ids.bob, Unstake(amount=MIN_STAKE + 1), "insufficient_funds")
    econ.ok(ids.bob, Unstake(amount=MIN_STAKE))
    assert ledger.stake_of(ids.bob.address) == ledger.balance_of(ledger.compute) == 0
    ledger.check_invariants()


def test_only_the_protocol_slashes_within_the_stake(econ, ids):
    """Anyone but the protocol is unauthorized; a slash beyond the stake is
    insufficient_funds and a module account as beneficiary invalid_state; a slash pays its
    reward share to the beneficiary and burns the rest (the supply falls by it)."""
    ledger, bob = econ.ledger, ids.bob.address
    for who in (ids.alice, ids.bob, ids.eve, ids.treasury):
        econ.expect_reject(who, Slash(offender=bob, amount=1, beneficiary=who.address),
                           "unauthorized")
    econ.expect_reject(ids.protocol, Slash(offender=bob, amount=MIN_STAKE + 1,
                                           beneficiary=ids.eve.address), "insufficient_funds")
    econ.expect_reject(ids.protocol, Slash(offender=ids.carol.address, amount=1,
                                           beneficiary=ids.eve.address), "insufficient_funds")
    for module in (ledger.escrow, ledger.compute, ledger.assets, BURN_ADDRESS):
        econ.expect_reject(ids.protocol, Slash(offender=bob, amount=1, beneficiary=module),
                           "invalid_state")
    supply = ledger.total_supply
    econ.ok(ids.protocol, Slash(offender=bob, amount=MIN_STAKE, beneficiary=ids.eve.address,
                                ref=7))
    reward = MIN_STAKE * ECON["slash_reward_bps"] // BPS
    assert ledger.balance_of(ids.eve.address) == reward
    assert ledger.total_supply == supply - (MIN_STAKE - reward)
    assert ledger.stake_of(bob) == 0
    econ.expect_reject(ids.protocol, Slash(offender=bob, amount=1, beneficiary=ids.eve.address),
                       "insufficient_funds")
    ledger.check_invariants()


def test_overflowing_leases_and_data_uses_are_insufficient_funds(econ, ids):
    """A worst case or a price beyond 2**256 - 1 is beyond any balance: insufficient_funds,
    as in the reference ledger, never an arithmetic revert."""
    bob = ids.bob.address
    for cu, price in ((MAX, 2), (2, MAX), (1, MAX - LICENCE + 1), (2**128, 2**128)):
        econ.expect_reject(ids.alice, OpenLease(provider=bob, twin=KEY, cu=cu, price_per_cu=price,
                                                expires_at=120), "insufficient_funds")
    econ.expect_reject(ids.alice, UseData(pool="pool/x", units=MAX, record=H1),
                       "insufficient_funds")
    econ.ok(ids.carol, Contribute(pool="pool/x", content_hash=b"max", units=MAX - 4))
    econ.expect_reject(ids.carol, Contribute(pool="pool/x", content_hash=b"one", units=1),
                       "invalid_state")  # a pool's units stay countable


# -- 12. the royalty graph ---------------------------------------------------------------------


def test_no_link_cycles_and_no_royalty_stack_over_100_percent(econ, ids):
    """Only the child's owner links (unauthorized); no self link, no parent twice, no new
    parent once an asset has children (so no cycle), at most 4 parents and 16 ancestors, and
    the stack of the ancestors' shares at most 10000 bps (invalid_state)."""
    carol, bob = ids.carol, ids.bob
    econ.expect_reject(ids.eve, LinkAsset(child="policy/p", parent="data/a"), "unauthorized")
    econ.expect_reject(carol, LinkAsset(child="policy/p", parent="data/a"), "unauthorized")
    econ.expect_reject(carol, LinkAsset(child="data/a", parent="policy/p"), "invalid_state")
    econ.expect_reject(bob, LinkAsset(child="policy/p", parent="policy/p"), "invalid_state")
    econ.expect_reject(bob, LinkAsset(child="policy/p", parent="data/a"), "invalid_state")
    econ.expect_reject(bob, LinkAsset(child="policy/p", parent="data/none"), "invalid_state")
    econ.ok(carol, RegisterAsset(key="data/big", kind="data", content_hash=b"", royalty_bps=9_001))
    econ.assets.append("data/big")
    econ.expect_reject(bob, LinkAsset(child="policy/p", parent="data/big"), "invalid_state")
    econ.expect_reject(carol, RegisterAsset(key="data/x", kind="data", content_hash=b"",
                                            royalty_bps=10_001), "invalid_state")
    econ.expect_reject(carol, RegisterAsset(key="data/a", kind="policy", content_hash=b"",
                                            royalty_bps=0), "invalid_state")
    econ.expect_reject(carol, RegisterAsset(key="data/x", kind="model", content_hash=b"",
                                            royalty_bps=0), "invalid_state")
    for i in range(17):  # a chain: chain/16 has 16 ancestors, chain/17 would have 17
        econ.ok(carol, RegisterAsset(key=f"chain/{i}", kind="data", content_hash=b"",
                                     royalty_bps=1))
    for i in range(1, 17):
        econ.ok(carol, LinkAsset(child=f"chain/{i}", parent=f"chain/{i - 1}"))
    econ.ok(carol, RegisterAsset(key="chain/17", kind="data", content_hash=b"", royalty_bps=1))
    econ.assets += [f"chain/{i}" for i in range(18)]
    econ.expect_reject(carol, LinkAsset(child="chain/17", parent="chain/16"), "invalid_state")
    for parent in ("chain/0", "chain/1", "chain/2", "chain/3"):
        econ.ok(carol, LinkAsset(child="chain/17", parent=parent))
    econ.expect_reject(carol, LinkAsset(child="chain/17", parent="chain/4"), "invalid_state")
    assert econ.ledger.asset("chain/17").parents == ("chain/0", "chain/1", "chain/2", "chain/3")
    econ.ledger.check_invariants()


def test_twin_assets_belong_to_the_twin_and_pay_its_current_owner(econ, ids):
    """Only the twin's owner registers its twin asset (unauthorized; no twin: invalid_state);
    the royalties follow the twin when it changes hands."""
    ledger = econ.ledger
    econ.expect_reject(ids.eve, RegisterAsset(key=KEY, kind="twin", content_hash=b"",
                                              royalty_bps=2_000), "unauthorized")
    econ.expect_reject(ids.eve, RegisterAsset(key="nope/x", kind="twin", content_hash=b"",
                                              royalty_bps=2_000), "invalid_state")
    econ.ok(ids.dave, RegisterAsset(key=KEY, kind="twin", content_hash=b"", royalty_bps=2_000))
    econ.ok(ids.bob, RegisterAsset(key="policy/t", kind="policy", content_hash=b"",
                                   royalty_bps=0))
    econ.ok(ids.bob, LinkAsset(child="policy/t", parent=KEY))
    econ.ok(ids.dave, TransferTwin(key=KEY, to=ids.eve.address))
    job = econ.funded_job(ids.alice, ids.carol, ids.bob, JOB_BUDGET, expires_at=200)
    econ.ok(ids.bob, SubmitJob(job_id=job, deliverable=H1, policy="policy/t"))
    econ.ok(ids.carol, CompleteJob(job_id=job))
    service = payout(JOB_BUDGET)[0]
    assert ledger.balance_of(ids.eve.address) == service * 2_000 // BPS
    ledger.check_invariants()


def test_a_submission_names_a_registered_policy(econ, ids):
    """Submitting with a policy no asset is registered under is invalid_state."""
    job = econ.funded_job(ids.alice, ids.carol, ids.bob, JOB_BUDGET, expires_at=200)
    econ.expect_reject(ids.bob, SubmitJob(job_id=job, deliverable=H1, policy="policy/none"),
                       "invalid_state")
    econ.ok(ids.bob, SubmitJob(job_id=job, deliverable=H1, policy="policy/p"))
    assert econ.ledger.job(job).policy == "policy/p"


PROVIDER = Identity.derive(SEED_CROWD, 999, label="provider")
SHARES = st.lists(st.integers(0, 3_333), min_size=4, max_size=4)


@settings(max_examples=20, deadline=None)
@given(budget=AMOUNTS, shares=SHARES, mode=st.sampled_from(["lrp", "lap"]),
       paid_on_reject=st.booleans())
@example(budget=MAX, shares=[3_333] * 4, mode="lrp", paid_on_reject=True)
@example(budget=MAX, shares=[3_333] * 4, mode="lap", paid_on_reject=False)
@example(budget=MAX - 1, shares=[1, 9, 99, 999], mode="lrp", paid_on_reject=False)
def test_royalty_splits_are_exact_for_any_amount(ids, budget, shares, mode, paid_on_reject):
    """A diamond (root <- left, right <- policy) at any budget up to 2**256 - 1: the contracts
    pay the reference ledger's rows exactly (lrp: the root along both paths; lap: once), the
    royalties, dust and provider's part sum to the service, and the escrow is left empty."""
    params = dict(supply_cap=MAX, royalty_mode=mode, evaluator_paid_on_reject=paid_on_reject,
                  evaluator_fee_bps=300 if not paid_on_reject or budget < MAX // 2 else 0)
    b = Bench.new(ids, **params)
    reference = MemoryLedger(LedgerParams(**params), protocol=ids.protocol.address,
                             treasury=ids.treasury.address)
    owners = (ids.alice, ids.bob, ids.carol, ids.dave)
    keys = ("r/root", "r/left", "r/right", "r/policy")
    deposit = budget * params["evaluator_fee_bps"] // BPS if paid_on_reject else 0
    actions = [(ids.protocol, Mint(to=ids.eve.address, amount=budget + deposit))]
    actions += [(o, RegisterAsset(key=k, kind="data", content_hash=b"", royalty_bps=s))
                for o, k, s in zip(owners, keys, shares, strict=True)]
    actions += [(owners[c], LinkAsset(child=keys[c], parent=keys[p]))
                for c, p in ((1, 0), (2, 0), (3, 1), (3, 2))]
    job = job_id_for(ids.eve.address, 0)
    actions += [(ids.eve, CreateJob(evaluator=ids.carol.address, assigner=BURN_ADDRESS,
                                    budget=budget, expires_at=50)),
                (ids.eve, FundJob(job_id=job, expected_budget=budget)),
                (ids.eve, SetProvider(job_id=job, provider=PROVIDER.address)),
                (PROVIDER, SubmitJob(job_id=job, deliverable=H1, policy=keys[3])),
                (ids.carol, CompleteJob(job_id=job))]
    for who, op in actions:
        signed = b.signed(who, op)
        got, want = b.ledger.execute(signed), reference.execute(signed)
        assert (got.ok, got.code) == (want.ok, want.code) == (True, "ok"), op
        assert b.ledger.drain_events() == reference.drain_events(), op
    assert b.ledger.state_hash() == reference.state_hash()
    assert b.ledger.balance_of(b.ledger.escrow) == 0
    b.ledger.check_invariants()


# -- 13. data pools ----------------------------------------------------------------------------


def test_usage_records_are_consumed_once_and_content_counted_once(econ, ids):
    """A usage record pays once: reused by anyone, or zero, it is invalid_state; content
    already in a pool earns nothing (invalid_state); a use splits exactly."""
    ledger = econ.ledger
    econ.expect_reject(ids.bob, UseData(pool="pool/x", units=10, record=b""), "invalid_state")
    econ.expect_reject(ids.bob, UseData(pool="pool/none", units=10, record=H1), "invalid_state")
    econ.expect_reject(ids.bob, UseData(pool="pool/x", units=0, record=H1), "invalid_state")
    before = {a: ledger.balance_of(a) for a in (ids.alice.address, ids.carol.address,
                                                ids.dave.address, ledger.treasury)}
    econ.ok(ids.bob, UseData(pool="pool/x", units=10, record=H1, ref=3))
    price = 10 * (TOKEN // 10)
    fee, owner_fee = price * ECON["data_fee_bps"] // BPS, price * 1_000 // BPS
    rest = price - fee - owner_fee
    assert ledger.balance_of(ids.alice.address) == before[ids.alice.address] + rest * 3 // 4
    assert ledger.balance_of(ids.carol.address) == before[ids.carol.address] + rest // 4
    assert ledger.balance_of(ids.dave.address) == before[ids.dave.address] + owner_fee
    for who in (ids.bob, ids.alice, ids.eve):
        econ.expect_reject(who, UseData(pool="pool/x", units=1, record=H1), "invalid_state")
    for who in (ids.alice, ids.eve):
        econ.expect_reject(who, Contribute(pool="pool/x", content_hash=H1, units=5),
                           "invalid_state")
    assert econ.ledger.pool("pool/x").contributors == ((ids.alice.address, 3),
                                                        (ids.carol.address, 1))
    ledger.check_invariants()


def test_a_pool_has_at_most_64_contributors(ids):
    """The 65th contributor is refused (invalid_state); the first 64 may still add."""
    b = Bench.new(ids, signatures="off")
    b.ok(ids.dave, CreatePool(key="pool/x", price_per_unit=1, owner_fee_bps=0))
    b.pools.append("pool/x")
    crowd = [Identity.derive(SEED_CROWD, i) for i in range(65)]
    for i, who in enumerate(crowd[:64]):
        b.ok(who, Contribute(pool="pool/x", content_hash=bytes([i + 1]), units=1))
    before = b.ledger.pool("pool/x")
    result = b.do(crowd[64], Contribute(pool="pool/x", content_hash=b"late", units=1))
    assert (result.ok, result.code) == (False, "invalid_state")
    assert b.ledger.pool("pool/x") == before
    b.ok(crowd[0], Contribute(pool="pool/x", content_hash=b"more", units=2))
    assert len(b.ledger.pool("pool/x").contributors) == 64
