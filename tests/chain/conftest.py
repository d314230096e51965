"""Fixtures for the chain tests: seeded identities, ledgers, and a driver that signs actions.

Ledger tests that share a funded ledger isolate with snapshot/revert (titanoboa style): the
`chain` fixture snapshots the module's ledger before each test and reverts it after.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from chain import (
    BURN_ADDRESS,
    CreateJob,
    Domain,
    FundJob,
    Identity,
    Intent,
    LedgerParams,
    MemoryLedger,
    Mint,
    Op,
    SetProvider,
    SignedIntent,
    TxResult,
    job_id_for,
    sign,
)

SEED = 20_240
ROLES = ("protocol", "treasury", "alice", "bob", "carol", "dave", "eve")
GENESIS = 10**21  # minted to alice, bob and carol on the shared ledger

#: The fee rules of the shared ledger: a transfer fee with a burn share, and job fees.
SHARED_PARAMS = dict(
    transfer_fee_bps=125,
    fee_burn_bps=2_500,
    platform_fee_bps=200,
    evaluator_fee_bps=300,
    supply_cap=10**24,
)


@dataclass
class Driver:
    """Builds, signs and executes actions on one ledger for a cast of identities."""

    ledger: MemoryLedger
    ids: SimpleNamespace

    def signed(
        self,
        who: Identity,
        op: Op,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
        chain_id: int | None = None,
        signer: Identity | None = None,
        domain: Domain | None = None,
    ) -> SignedIntent:
        """An action from `who` with its next nonce, signed by `signer` (default: `who`).

        `domain` signs under another domain (and claims its chain id); `chain_id` overrides
        the claimed chain id only. On a ledger with signatures off, nothing is signed unless
        a signer or domain is given.
        """
        ledger = self.ledger
        intent = Intent(
            sender=who.address,
            nonce=ledger.nonce_of(who.address) if nonce is None else nonce,
            deadline=ledger.now + 10 if deadline is None else deadline,
            op=op,
        )
        if ledger.params.signatures == "off" and signer is None and domain is None:
            signed = SignedIntent(intent=intent, signature=None, chain_id=ledger.domain.chain_id)
        else:
            signed = sign(intent, signer or who, domain or ledger.domain)
        if chain_id is not None:
            signed = SignedIntent(intent=intent, signature=signed.signature, chain_id=chain_id)
        return signed

    def do(self, who: Identity, op: Op, **kw: Any) -> TxResult:
        return self.ledger.execute(self.signed(who, op, **kw))

    def ok(self, who: Identity, op: Op, **kw: Any) -> TxResult:
        """Execute and require success."""
        result = self.do(who, op, **kw)
        assert result.ok, f"{op.KIND} by {who!r} was rejected: {result.code}: {result.reason}"
        return result

    def view(self) -> tuple:
        """Everything but nonces and the clock: balances, supply counters, jobs and twins."""
        ledger = self.ledger
        return (
            ledger.balances(),
            ledger.minted,
            ledger.burned,
            dict(ledger._state.jobs),
            dict(ledger._state.twins),
        )

    def nonces(self) -> dict[str, int]:
        return {i.address: self.ledger.nonce_of(i.address) for i in vars(self.ids).values()}

    def expect_reject(
        self, who: Identity, op: Op, code: str, *, authenticated: bool = True, **kw: Any
    ) -> TxResult:
        """Execute an action that must be rejected with `code`, and check what it changed.

        An authenticated rejection consumes the sender's nonce and changes nothing else; an
        authentication failure changes nothing at all. Either emits one `rejected` event
        naming the op kind and the code.
        """
        self.ledger.drain_events()
        before_view, before_nonces = self.view(), self.nonces()
        before_hash = self.ledger.state_hash()
        result = self.do(who, op, **kw)
        assert not result.ok
        assert result.code == code, f"expected {code}, got {result.code}: {result.reason}"
        assert result.reason, "a rejection explains itself"
        events = self.ledger.drain_events()
        assert len(events) == 1, events
        (tick, _tx, kind, payer, _payee, amount, _flow, _ref, detail) = events[0]
        assert (kind, payer, amount, detail) == ("rejected", who.address, 0, f"{op.KIND}:{code}")
        assert tick == self.ledger.now
        assert self.view() == before_view
        after_nonces = self.nonces()
        if authenticated:
            before_nonces[who.address] += 1
            assert after_nonces == before_nonces
        else:
            assert after_nonces == before_nonces
            assert self.ledger.state_hash() == before_hash
        return result

    # -- job helpers -------------------------------------------------------------------------
    def create_job(
        self,
        client: Identity,
        evaluator: Identity,
        budget: int,
        expires_at: int,
        assigner: str = BURN_ADDRESS,
    ) -> int:
        nonce = self.ledger.nonce_of(client.address)
        self.ok(client, CreateJob(evaluator=evaluator.address, assigner=assigner, budget=budget,
                                  expires_at=expires_at))
        return job_id_for(client.address, nonce)

    def funded_job(
        self, client: Identity, evaluator: Identity, provider: Identity | None, budget: int,
        expires_at: int,
    ) -> int:
        job_id = self.create_job(client, evaluator, budget, expires_at)
        self.ok(client, FundJob(job_id=job_id, expected_budget=budget))
        if provider is not None:
            self.ok(client, SetProvider(job_id=job_id, provider=provider.address))
        return job_id


@pytest.fixture(scope="session")
def ids() -> SimpleNamespace:
    """The cast, derived from a fixed seed: protocol, treasury, alice, bob, carol, dave, eve."""
    return SimpleNamespace(
        **{role: Identity.derive(SEED, i, label=role) for i, role in enumerate(ROLES)}
    )


@pytest.fixture(scope="session")
def make_driver(ids):
    """A factory: a fresh MemoryLedger (protocol and treasury from the cast) and its driver."""

    def make(**params: Any) -> Driver:
        ledger = MemoryLedger(
            LedgerParams(**params), protocol=ids.protocol.address, treasury=ids.treasury.address
        )
        return Driver(ledger, ids)

    return make


@pytest.fixture(scope="module")
def shared(make_driver, ids) -> Driver:
    """One funded ledger per module (verified signatures, SHARED_PARAMS), at tick 100."""
    driver = make_driver(**SHARED_PARAMS)
    for who in (ids.alice, ids.bob, ids.carol):
        driver.ok(ids.protocol, Mint(to=who.address, amount=GENESIS, flow="genesis"))
    driver.ledger.set_time(100)
    driver.ledger.drain_events()
    return driver


@pytest.fixture
def funded(shared) -> Driver:
    """The shared funded ledger, reverted after the test to the state before it."""
    snap = shared.ledger.snapshot()
    shared.ledger.drain_events()
    yield shared
    shared.ledger.revert(snap)
    shared.ledger.drain_events()
