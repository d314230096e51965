"""Module accounts receive tokens only through their own rules, on every backend.

The escrow, compute and assets modules hold exactly what their rules account for (live job
budgets; open lease locks and stakes; nothing). Three ways around that, found while carrying
the compute and IP rules to the contracts, are refused with invalid_state: naming a module
account a job's provider (the completed job's service would be paid into it), giving a twin to
a module account (licences and royalties would be paid into it), and a pool's units beyond
2**256 - 1 (no contract can count them).
"""

from __future__ import annotations

import pytest

from chain import (
    BURN_ADDRESS,
    ClaimLease,
    CompleteJob,
    Contribute,
    CreateJob,
    CreatePool,
    FundJob,
    Identity,
    Intent,
    LedgerParams,
    MemoryLedger,
    Mint,
    OpenLease,
    RegisterTwin,
    SetLicence,
    SetProvider,
    SignedIntent,
    TransferTwin,
    job_id_for,
)
from chain.deployment import ASSETS_ADDRESS, COMPUTE_ADDRESS, ESCROW_ADDRESS

PROTOCOL, TREASURY, ALICE, BOB, CAROL = (Identity.derive(4_242, i) for i in range(5))
MODULES = {"zero": BURN_ADDRESS, "escrow": ESCROW_ADDRESS, "compute": COMPUTE_ADDRESS,
           "assets": ASSETS_ADDRESS}
BACKENDS = ("memory", "evm")


def _ledger(backend: str):
    params = LedgerParams(signatures="off")
    if backend == "memory":
        return MemoryLedger(params, protocol=PROTOCOL.address, treasury=TREASURY.address)
    from chain.evm import EvmLedger

    return EvmLedger(params, protocol=PROTOCOL.address, treasury=TREASURY.address)


def _do(ledger, who: Identity, op):
    intent = Intent(sender=who.address, nonce=ledger.nonce_of(who.address), deadline=10**6,
                    op=op)
    return ledger.execute(SignedIntent(intent=intent, signature=None, chain_id=31337))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("module", MODULES)
def test_a_module_account_cannot_provide_a_job(backend, module):
    """SetProvider naming a module account (or the zero address) is invalid_state, so no
    completed job pays its service into a module."""
    ledger = _ledger(backend)
    assert _do(ledger, PROTOCOL, Mint(to=ALICE.address, amount=1_000)).ok
    nonce = ledger.nonce_of(ALICE.address)
    assert _do(ledger, ALICE, CreateJob(evaluator=BOB.address, assigner=BURN_ADDRESS,
                                        budget=100, expires_at=50)).ok
    job_id = job_id_for(ALICE.address, nonce)
    assert _do(ledger, ALICE, FundJob(job_id=job_id, expected_budget=100)).ok
    result = _do(ledger, ALICE, SetProvider(job_id=job_id, provider=MODULES[module]))
    assert (result.ok, result.code) == (False, "invalid_state")
    assert _do(ledger, BOB, CompleteJob(job_id=job_id)).code == "invalid_state"  # no provider
    ledger.check_invariants()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("module", MODULES)
def test_a_twin_cannot_be_given_to_a_module_account(backend, module):
    """TransferTwin to a module account (or the zero address) is invalid_state, so no lease
    claim pays the twin's licence into a module."""
    ledger = _ledger(backend)
    assert _do(ledger, PROTOCOL, Mint(to=ALICE.address, amount=1_000)).ok
    assert _do(ledger, BOB, RegisterTwin(key="w/a", version="1", spec_hash=b"")).ok
    assert _do(ledger, BOB, SetLicence(key="w/a", fee_per_cu=3)).ok
    result = _do(ledger, BOB, TransferTwin(key="w/a", to=MODULES[module]))
    assert (result.ok, result.code) == (False, "invalid_state")
    assert ledger.twin("w/a").owner == BOB.address
    nonce = ledger.nonce_of(ALICE.address)
    assert _do(ledger, ALICE, OpenLease(provider=CAROL.address, twin="w/a", cu=10,
                                        price_per_cu=1, expires_at=5)).ok
    assert _do(ledger, CAROL, ClaimLease(lease_id=job_id_for(ALICE.address, nonce), cu=10,
                                         receipt=b"")).ok
    assert ledger.balance_of(BOB.address) == 30
    ledger.check_invariants()


@pytest.mark.parametrize("backend", BACKENDS)
def test_pool_units_stay_countable(backend):
    """A contribution that would take a pool's units past 2**256 - 1 is invalid_state."""
    ledger = _ledger(backend)
    assert _do(ledger, ALICE, CreatePool(key="p", price_per_unit=0, owner_fee_bps=0)).ok
    assert _do(ledger, ALICE, Contribute(pool="p", content_hash=b"1", units=2**256 - 2)).ok
    result = _do(ledger, BOB, Contribute(pool="p", content_hash=b"2", units=2))
    assert (result.ok, result.code) == (False, "invalid_state")
    assert _do(ledger, BOB, Contribute(pool="p", content_hash=b"2", units=1)).ok
    assert ledger.pool("p").total_units == 2**256 - 1
