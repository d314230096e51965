"""MemoryLedger unit rules: token, job escrow, twin registry and authentication.

Tests on the shared funded ledger (`funded`: alice, bob and carol hold a genesis allocation,
the clock is at tick 100, transfer fee 125 bps with a 25 % burn share, platform fee 200 bps,
evaluator fee 300 bps) are isolated by snapshot/revert. Every rejection goes through
`Driver.expect_reject`, which checks the code, the single `rejected` event naming the op kind
and code, and that nothing but the nonce (or, for an authentication failure, nothing at all)
changed.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import (
    BURN_ADDRESS,
    ESCROW_ADDRESS,
    ChainError,
    ClaimRefund,
    CompleteJob,
    CreateJob,
    Domain,
    Flow,
    FundJob,
    InvalidState,
    JobState,
    Ledger,
    LedgerParams,
    MemoryLedger,
    Mint,
    Op,
    Post,
    PublishVersion,
    RegisterTwin,
    RejectJob,
    SetProvider,
    SubmitJob,
    Transfer,
    TransferTwin,
)

BPS = 10_000
H1, H2, H3 = (keccak(text=f"spec {i}") for i in range(3))
DELIVERABLE = keccak(text="pick plan")


def money_events(events):
    """(payer, payee, amount, flow, ref) of every row that moves tokens."""
    return [(e[3], e[4], e[5], e[6], e[7]) for e in events if e[5]]


# -- the ledger object ----------------------------------------------------------------------


def test_memory_ledger_honours_the_protocol(funded):
    """MemoryLedger is a Ledger (the runtime-checkable protocol every backend honours)."""
    assert isinstance(funded.ledger, Ledger)
    assert funded.ledger.domain.chain_id == funded.ledger.params.chain_id


def test_revert_restores_the_state_hash(funded, ids):
    """snapshot()/revert() restores the exact state: same state hash, balances, jobs, nonces."""
    ledger = funded.ledger
    snap, before, view, nonces = (ledger.snapshot(), ledger.state_hash(), funded.view(),
                                  funded.nonces())
    funded.ok(ids.alice, Transfer(to=ids.bob.address, amount=10**18))
    funded.funded_job(ids.alice, ids.carol, ids.bob, 5 * 10**18, expires_at=200)
    funded.ok(ids.dave, RegisterTwin(key="warehouse/a", version="1", spec_hash=H1))
    ledger.set_time(150)
    assert ledger.state_hash() != before
    ledger.revert(snap)
    assert ledger.state_hash() == before
    assert (funded.view(), funded.nonces(), ledger.now) == (view, nonces, 100)
    ledger.check_invariants()
    # the snapshot is a copy: reverting twice works, and later changes don't touch it
    funded.ok(ids.alice, Transfer(to=ids.bob.address, amount=1))
    ledger.revert(snap)
    assert ledger.state_hash() == before


def test_state_hash_is_a_function_of_state(make_driver, ids):
    """Two ledgers driven through the same actions have the same state hash; one more differs."""
    a, b = make_driver(), make_driver()
    for d in (a, b):
        d.ok(ids.protocol, Mint(to=ids.alice.address, amount=1000))
    assert a.ledger.state_hash() == b.ledger.state_hash()
    a.ok(ids.alice, Post(topic="bid", ref=1))
    assert a.ledger.state_hash() != b.ledger.state_hash()


def test_time_never_goes_back(funded):
    """set_time moves the clock forward only."""
    funded.ledger.set_time(100)
    with pytest.raises(InvalidState, match="time cannot go back from tick 100 to 99"):
        funded.ledger.set_time(99)
    assert funded.ledger.now == 100


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(transfer_fee_bps=10_001), "transfer_fee_bps must be in"),
        (dict(fee_burn_bps=-1), "fee_burn_bps must be in"),
        (dict(platform_fee_bps=6_000, evaluator_fee_bps=4_001), "must not exceed 10000"),
        (dict(signatures="maybe"), "signatures must be"),
        (dict(supply_cap=-1), "non-negative"),
    ],
)
def test_invalid_params_are_refused(params, match):
    """LedgerParams refuses fees outside [0, 10000] bps, job fees over the budget, bad modes."""
    with pytest.raises(ChainError, match=match):
        LedgerParams(**params)


# -- token ----------------------------------------------------------------------------------


def test_mint_only_by_protocol(funded, ids):
    """Only the protocol account may mint; anyone else is rejected as unauthorized."""
    funded.expect_reject(ids.alice, Mint(to=ids.alice.address, amount=1), "unauthorized")
    funded.expect_reject(ids.treasury, Mint(to=ids.dave.address, amount=1), "unauthorized")
    result = funded.ok(ids.protocol, Mint(to=ids.dave.address, amount=7))
    assert result.code == "ok"
    assert funded.ledger.balance_of(ids.dave.address) == 7


def test_unauthorized_mint_names_the_protocol(funded, ids):
    """The rejection reason names who may mint."""
    result = funded.do(ids.bob, Mint(to=ids.bob.address, amount=1))
    assert result.code == "unauthorized"
    assert f"only the protocol account {ids.protocol.address}" in result.reason


def test_mint_never_beyond_supply_cap(make_driver, ids):
    """Minting stops at supply_cap: the mint that would pass it is rejected with cap_exceeded."""
    d = make_driver(supply_cap=1_000)
    d.ok(ids.protocol, Mint(to=ids.alice.address, amount=600))
    result = d.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=401), "cap_exceeded")
    assert "mint at most 400" in result.reason
    d.ok(ids.protocol, Mint(to=ids.bob.address, amount=400))
    d.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=1), "cap_exceeded")
    assert d.ledger.minted == d.ledger.total_supply == 1_000
    d.ledger.check_invariants()


def test_burns_do_not_free_room_under_the_cap(make_driver, ids):
    """The cap limits what is ever minted, not the current supply: burning does not re-open it."""
    d = make_driver(supply_cap=10_000, transfer_fee_bps=10_000, fee_burn_bps=10_000)
    d.ok(ids.protocol, Mint(to=ids.alice.address, amount=10_000))
    d.ok(ids.alice, Transfer(to=ids.bob.address, amount=4_000))  # all fee, all burned
    assert d.ledger.total_supply == 6_000 and d.ledger.burned == 4_000
    d.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=1), "cap_exceeded")


def test_mint_and_transfer_need_a_positive_amount(funded, ids):
    """Amounts are positive ints in base units; zero is an invalid_state."""
    funded.expect_reject(ids.protocol, Mint(to=ids.alice.address, amount=0), "invalid_state")
    funded.expect_reject(ids.alice, Transfer(to=ids.bob.address, amount=0), "invalid_state")


@pytest.mark.parametrize("amount", [-1, 2**256, 1.5, True])
def test_unencodable_amounts_are_malformed_and_change_nothing(make_driver, ids, amount):
    """A negative, fractional or 257-bit amount cannot be ABI-encoded: no chain would ever see
    it, so the action is refused as malformed without consuming the nonce (signatures off,
    since such an op cannot even be signed)."""
    d = make_driver(signatures="off")
    d.ok(ids.protocol, Mint(to=ids.alice.address, amount=10))
    d.expect_reject(ids.protocol, Mint(to=ids.alice.address, amount=amount), "malformed",
                    authenticated=False)
    d.expect_reject(ids.alice, Transfer(to=ids.bob.address, amount=amount), "malformed",
                    authenticated=False)


def test_mint_and_transfer_to_zero_address_refused(funded, ids):
    """Nobody mints or transfers to the zero address (burns happen only through fees)."""
    funded.expect_reject(ids.protocol, Mint(to=BURN_ADDRESS, amount=1), "invalid_state")
    funded.expect_reject(ids.alice, Transfer(to=BURN_ADDRESS, amount=1), "invalid_state")


def test_transfer_fee_split_on_shared_ledger(funded, ids):
    """A transfer pays amount - fee to the recipient, the fee's burn share is burned and the
    rest goes to the treasury: recipient + treasury + burned == amount, exactly."""
    ledger, p = funded.ledger, funded.ledger.params
    amount = 123_456_789_012_345_678_901
    fee = amount * p.transfer_fee_bps // BPS
    burn = fee * p.fee_burn_bps // BPS
    alice0, bob0, treasury0, burned0 = (ledger.balance_of(ids.alice.address),
                                        ledger.balance_of(ids.bob.address),
                                        ledger.balance_of(ids.treasury.address), ledger.burned)
    funded.ok(ids.alice, Transfer(to=ids.bob.address, amount=amount, ref=9))
    got = ledger.balance_of(ids.bob.address) - bob0
    to_treasury = ledger.balance_of(ids.treasury.address) - treasury0
    burned = ledger.burned - burned0
    assert (got, to_treasury, burned) == (amount - fee, fee - burn, burn)
    assert got + to_treasury + burned == amount
    assert ledger.balance_of(ids.alice.address) == alice0 - amount
    assert money_events(ledger.drain_events()) == [
        (ids.alice.address, ids.bob.address, amount - fee, "payment", "9"),
        (ids.alice.address, ids.treasury.address, fee - burn, Flow.TRANSFER_FEE, "9"),
        (ids.alice.address, BURN_ADDRESS, burn, Flow.BURN, "9"),
    ]
    ledger.check_invariants()


@settings(max_examples=150, deadline=None)
@given(
    amount=st.integers(1, 10**30),
    fee_bps=st.integers(0, BPS),
    burn_bps=st.integers(0, BPS),
)
def test_transfer_fee_split_is_exact(make_driver, ids, amount, fee_bps, burn_bps):
    """For any fee and burn share: recipient + treasury + burned == amount, the fee is
    floor(amount * fee_bps / 10000) and the burn floor(fee * burn_bps / 10000)."""
    d = make_driver(signatures="off", transfer_fee_bps=fee_bps, fee_burn_bps=burn_bps,
                    supply_cap=10**31)
    d.ok(ids.protocol, Mint(to=ids.alice.address, amount=amount))
    d.ok(ids.alice, Transfer(to=ids.bob.address, amount=amount))
    ledger = d.ledger
    fee = amount * fee_bps // BPS
    burn = fee * burn_bps // BPS
    assert ledger.balance_of(ids.bob.address) == amount - fee
    assert ledger.balance_of(ids.treasury.address) == fee - burn
    assert ledger.burned == burn
    assert ledger.balance_of(ids.alice.address) == 0
    assert (ledger.balance_of(ids.bob.address) + ledger.balance_of(ids.treasury.address)
            + ledger.burned) == amount
    ledger.check_invariants()


def test_insufficient_funds_rejected_state_unchanged_but_nonce(funded, ids):
    """A transfer beyond the balance is rejected (insufficient_funds); only the nonce moves."""
    funded.ok(ids.protocol, Mint(to=ids.dave.address, amount=49))
    result = funded.expect_reject(ids.dave, Transfer(to=ids.bob.address, amount=50),
                                  "insufficient_funds")
    assert "needs 50 but holds 49" in result.reason
    held = funded.ledger.balance_of(ids.alice.address)
    funded.expect_reject(ids.alice, Transfer(to=ids.bob.address, amount=held + 1),
                         "insufficient_funds")


def test_transfer_to_self_keeps_balance_but_fee(make_driver, ids):
    """Paying yourself moves nothing but the fee."""
    d = make_driver(transfer_fee_bps=1_000, fee_burn_bps=5_000)
    d.ok(ids.protocol, Mint(to=ids.alice.address, amount=1_000))
    d.ok(ids.alice, Transfer(to=ids.alice.address, amount=1_000))
    assert d.ledger.balance_of(ids.alice.address) == 900
    assert d.ledger.balance_of(ids.treasury.address) == 50 and d.ledger.burned == 50
    d.ledger.check_invariants()


def test_transfer_to_escrow_is_refused(funded, ids):
    """Escrow moves only through jobs: a plain transfer or a mint to the escrow is rejected."""
    funded.expect_reject(ids.alice, Transfer(to=ESCROW_ADDRESS, amount=1), "invalid_state")
    funded.expect_reject(ids.protocol, Mint(to=ESCROW_ADDRESS, amount=1), "invalid_state")


def test_module_addresses_are_checksummed():
    """Module accounts follow the Address convention (EIP-55 checksummed)."""
    assert to_checksum_address(ESCROW_ADDRESS) == ESCROW_ADDRESS
    assert to_checksum_address(BURN_ADDRESS) == BURN_ADDRESS


# -- job escrow -----------------------------------------------------------------------------


def job_balances(d, ids):
    ledger = d.ledger
    return {name: ledger.balance_of(getattr(ids, name).address)
            for name in ("alice", "bob", "carol", "treasury")} | {
        "escrow": ledger.balance_of(ESCROW_ADDRESS)}


def test_escrow_lifecycle_and_exact_split(funded, ids):
    """Open → Funded → (provider set) → Submitted → Completed; the escrow pays platform fee,
    evaluator fee and the provider's share, which sum exactly to the budget."""
    ledger, p = funded.ledger, funded.ledger.params
    budget = 1_234_567_891  # not a multiple of 10000: the bps shares round down
    b0 = job_balances(funded, ids)
    job_id = funded.create_job(ids.alice, ids.carol, budget, expires_at=150)
    job = ledger.job(job_id)
    assert (job.state, job.client, job.evaluator, job.provider, job.budget) == (
        JobState.OPEN, ids.alice.address, ids.carol.address, None, budget)

    funded.ok(ids.alice, FundJob(job_id=job_id, expected_budget=budget))
    assert ledger.job(job_id).state == JobState.FUNDED
    b1 = job_balances(funded, ids)
    assert (b1["alice"], b1["escrow"]) == (b0["alice"] - budget, b0["escrow"] + budget)

    funded.ok(ids.alice, SetProvider(job_id=job_id, provider=ids.bob.address))
    assert ledger.job(job_id).provider == ids.bob.address
    assert ledger.job(job_id).state == JobState.FUNDED

    funded.ok(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE))
    assert ledger.job(job_id).state == JobState.SUBMITTED
    assert ledger.job(job_id).deliverable == DELIVERABLE
    ledger.drain_events()

    funded.ok(ids.carol, CompleteJob(job_id=job_id))
    assert ledger.job(job_id).state == JobState.COMPLETED
    platform = budget * p.platform_fee_bps // BPS
    evaluator = budget * p.evaluator_fee_bps // BPS
    service = budget - platform - evaluator
    b2 = job_balances(funded, ids)
    assert b2["escrow"] == b0["escrow"]
    assert b2["treasury"] - b1["treasury"] == platform
    assert b2["carol"] - b1["carol"] == evaluator
    assert b2["bob"] - b1["bob"] == service
    assert platform + evaluator + service == budget
    ref = str(job_id)
    assert sorted(money_events(ledger.drain_events())) == sorted([
        (ESCROW_ADDRESS, ids.treasury.address, platform, Flow.PLATFORM_FEE, ref),
        (ESCROW_ADDRESS, ids.carol.address, evaluator, Flow.EVALUATOR_FEE, ref),
        (ESCROW_ADDRESS, ids.bob.address, service, Flow.SERVICE, ref),
    ])
    ledger.check_invariants()


@settings(max_examples=100, deadline=None)
@given(
    budget=st.integers(1, 10**27),
    platform_bps=st.integers(0, BPS),
    evaluator_share=st.floats(0, 1),
    submit=st.booleans(),
)
def test_completion_split_sums_to_budget(make_driver, ids, budget, platform_bps,
                                         evaluator_share, submit):
    """For any fee rates, platform + evaluator + provider payouts == budget exactly, the
    escrow ends empty, and completion works from Funded or Submitted."""
    evaluator_bps = int((BPS - platform_bps) * evaluator_share)
    d = make_driver(signatures="off", platform_fee_bps=platform_bps,
                    evaluator_fee_bps=evaluator_bps, supply_cap=10**28)
    d.ok(ids.protocol, Mint(to=ids.alice.address, amount=budget))
    job_id = d.funded_job(ids.alice, ids.carol, ids.bob, budget, expires_at=10)
    if submit:
        d.ok(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE))
    d.ok(ids.carol, CompleteJob(job_id=job_id))
    ledger = d.ledger
    treasury, carol, bob = (ledger.balance_of(i.address) for i in (ids.treasury, ids.carol,
                                                                     ids.bob))
    assert treasury == budget * platform_bps // BPS
    assert carol == budget * evaluator_bps // BPS
    assert treasury + carol + bob == budget
    assert ledger.balance_of(ESCROW_ADDRESS) == 0 and ledger.balance_of(ids.alice.address) == 0
    ledger.check_invariants()


def test_only_evaluator_completes_or_rejects(funded, ids):
    """Client, provider and strangers may neither complete nor reject; the evaluator may."""
    job_id = funded.funded_job(ids.alice, ids.carol, ids.bob, 10**18, expires_at=150)
    funded.ok(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE))
    for who in (ids.alice, ids.bob, ids.dave, ids.protocol):
        result = funded.expect_reject(who, CompleteJob(job_id=job_id), "unauthorized")
        assert f"its evaluator {ids.carol.address}" in result.reason
        funded.expect_reject(who, RejectJob(job_id=job_id), "unauthorized")
    assert funded.ledger.job(job_id).state == JobState.SUBMITTED
    funded.ok(ids.carol, CompleteJob(job_id=job_id))


def test_no_double_payout(funded, ids):
    """A completed job is terminal: completing it again is rejected and pays nothing."""
    job_id = funded.funded_job(ids.alice, ids.carol, ids.bob, 10**18, expires_at=150)
    funded.ok(ids.carol, CompleteJob(job_id=job_id))
    funded.expect_reject(ids.carol, CompleteJob(job_id=job_id), "invalid_state")
    funded.ledger.check_invariants()


@pytest.mark.parametrize("terminal", ["completed", "rejected", "expired"])
def test_terminal_states_absorb(funded, ids, terminal):
    """Completed, Rejected and Expired jobs accept no further transition from anyone."""
    budget = 10**18
    job_id = funded.funded_job(ids.alice, ids.carol, ids.bob, budget, expires_at=150)
    if terminal == "completed":
        funded.ok(ids.carol, CompleteJob(job_id=job_id))
    elif terminal == "rejected":
        funded.ok(ids.carol, RejectJob(job_id=job_id))
    else:
        funded.ledger.set_time(150)
        funded.ok(ids.dave, ClaimRefund(job_id=job_id))
    assert funded.ledger.job(job_id).state == terminal
    attempts = [
        (ids.alice, FundJob(job_id=job_id, expected_budget=budget)),
        (ids.alice, SetProvider(job_id=job_id, provider=ids.dave.address)),
        (ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE)),
        (ids.carol, CompleteJob(job_id=job_id)),
        (ids.carol, RejectJob(job_id=job_id)),
        (ids.dave, ClaimRefund(job_id=job_id)),
    ]
    funded.ledger.set_time(300)  # even once expired
    for who, op in attempts:
        funded.expect_reject(who, op, "invalid_state")
    assert funded.ledger.job(job_id).state == terminal


@pytest.mark.parametrize("submitted", [False, True])
def test_reject_refunds_in_full(funded, ids, submitted):
    """Rejection (from Funded or Submitted) returns the whole budget to the client."""
    alice0 = funded.ledger.balance_of(ids.alice.address)
    job_id = funded.funded_job(ids.alice, ids.carol, ids.bob, 3 * 10**18 + 7, expires_at=150)
    if submitted:
        funded.ok(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE))
    funded.ledger.drain_events()
    funded.ok(ids.carol, RejectJob(job_id=job_id, reason=keccak(text="late")))
    assert funded.ledger.job(job_id).state == JobState.REJECTED
    assert funded.ledger.balance_of(ids.alice.address) == alice0
    assert funded.ledger.balance_of(ESCROW_ADDRESS) == 0
    assert money_events(funded.ledger.drain_events()) == [
        (ESCROW_ADDRESS, ids.alice.address, 3 * 10**18 + 7, Flow.REFUND, str(job_id))]


def test_claim_refund_only_from_expiry(funded, ids):
    """Before expires_at nobody may claim the refund; at expires_at anyone may, and the
    client gets the whole budget back (→ Expired)."""
    alice0 = funded.ledger.balance_of(ids.alice.address)
    job_id = funded.funded_job(ids.alice, ids.carol, ids.bob, 10**18, expires_at=120)
    funded.ledger.set_time(119)
    for who in (ids.alice, ids.dave):
        result = funded.expect_reject(who, ClaimRefund(job_id=job_id), "invalid_state")
        assert "expires at tick 120" in result.reason
    funded.ledger.set_time(120)
    funded.ok(ids.dave, ClaimRefund(job_id=job_id))  # a third party, exactly at expiry
    assert funded.ledger.job(job_id).state == JobState.EXPIRED
    assert funded.ledger.balance_of(ids.alice.address) == alice0
    assert funded.ledger.balance_of(ids.dave.address) == 0
    funded.ledger.check_invariants()


@pytest.mark.parametrize("state", ["open", "funded", "submitted"])
def test_claim_refund_after_expiry_from_any_live_state(funded, ids, state):
    """After expiry a refund can be claimed from Open, Funded or Submitted; the client gets
    back exactly what it put into escrow (nothing, for an unfunded job)."""
    alice0 = funded.ledger.balance_of(ids.alice.address)
    if state == "open":
        job_id = funded.create_job(ids.alice, ids.carol, 10**18, expires_at=120)
    else:
        job_id = funded.funded_job(ids.alice, ids.carol, ids.bob, 10**18, expires_at=120)
        if state == "submitted":
            funded.ok(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE))
    funded.ledger.set_time(500)
    funded.ok(ids.eve, ClaimRefund(job_id=job_id))
    assert funded.ledger.job(job_id).state == JobState.EXPIRED
    assert funded.ledger.balance_of(ids.alice.address) == alice0
    assert funded.ledger.balance_of(ESCROW_ADDRESS) == 0


def test_nothing_but_refund_after_expiry(funded, ids):
    """Once expired, a job cannot be funded, awarded, submitted to, completed or rejected."""
    budget = 10**18
    open_id = funded.create_job(ids.alice, ids.carol, budget, expires_at=120)
    live_id = funded.funded_job(ids.alice, ids.carol, None, budget, expires_at=120)
    sub_id = funded.funded_job(ids.alice, ids.carol, ids.bob, budget, expires_at=120)
    funded.ok(ids.bob, SubmitJob(job_id=sub_id, deliverable=DELIVERABLE))
    funded.ledger.set_time(120)
    funded.expect_reject(ids.alice, FundJob(job_id=open_id, expected_budget=budget),
                         "invalid_state")
    funded.expect_reject(ids.alice, SetProvider(job_id=live_id, provider=ids.bob.address),
                         "invalid_state")
    funded.ledger.set_time(121)
    result = funded.expect_reject(ids.carol, CompleteJob(job_id=sub_id), "invalid_state")
    assert "expired at tick 120" in result.reason
    funded.expect_reject(ids.carol, RejectJob(job_id=sub_id), "invalid_state")


def test_submit_after_expiry_rejected(funded, ids):
    """The provider cannot submit at or after expires_at."""
    job_id = funded.funded_job(ids.alice, ids.carol, ids.bob, 10**18, expires_at=120)
    funded.ledger.set_time(120)
    funded.expect_reject(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE),
                         "invalid_state")


def test_fund_with_wrong_expected_budget_rejected(funded, ids):
    """FundJob carries the budget the client expects; a mismatch is rejected, job stays Open."""
    job_id = funded.create_job(ids.alice, ids.carol, 500, expires_at=150)
    for expected in (499, 501, 0):
        result = funded.expect_reject(ids.alice, FundJob(job_id=job_id, expected_budget=expected),
                                      "invalid_state")
        assert "budget is 500" in result.reason
    assert funded.ledger.job(job_id).state == JobState.OPEN
    funded.ok(ids.alice, FundJob(job_id=job_id, expected_budget=500))


def test_only_client_funds_and_only_with_funds(funded, ids):
    """Only the client funds its job, and only from what it holds."""
    job_id = funded.create_job(ids.alice, ids.carol, 10**18, expires_at=150)
    funded.expect_reject(ids.bob, FundJob(job_id=job_id, expected_budget=10**18), "unauthorized")
    funded.ok(ids.protocol, Mint(to=ids.dave.address, amount=10))
    poor = funded.create_job(ids.dave, ids.carol, 11, expires_at=150)
    funded.expect_reject(ids.dave, FundJob(job_id=poor, expected_budget=11),
                         "insufficient_funds")
    assert funded.ledger.job(poor).state == JobState.OPEN


def test_unknown_job_rejected(funded, ids):
    """An op on a job id that does not exist is an invalid_state."""
    funded.expect_reject(ids.alice, FundJob(job_id=12345, expected_budget=1), "invalid_state")
    funded.expect_reject(ids.dave, ClaimRefund(job_id=12345), "invalid_state")


@pytest.mark.parametrize(
    "field, value",
    [("budget", 0), ("expires_at", 100), ("expires_at", 50), ("evaluator", BURN_ADDRESS)],
)
def test_create_job_validation(funded, ids, field, value):
    """A job needs a positive budget, an expiry after now and a non-zero evaluator."""
    fields = dict(evaluator=ids.carol.address, assigner=BURN_ADDRESS, budget=10,
                  expires_at=150) | {field: value}
    funded.expect_reject(ids.alice, CreateJob(**fields), "invalid_state")


@pytest.mark.parametrize("field", ["evaluator", "assigner"])
@pytest.mark.parametrize("value", ["0x1234", "nobody", 7, "0x" + "zz" * 20])
def test_malformed_addresses_rejected(make_driver, ids, field, value):
    """A malformed address in an op is refused as malformed, not an exception, and changes
    nothing (signatures off, since such an op cannot even be ABI-encoded for signing)."""
    d = make_driver(signatures="off")
    fields = dict(evaluator=ids.carol.address, assigner=BURN_ADDRESS, budget=10,
                  expires_at=150) | {field: value}
    result = d.expect_reject(ids.alice, CreateJob(**fields), "malformed", authenticated=False)
    assert "must be a 0x-prefixed 20-byte hex address" in result.reason
    d.expect_reject(ids.alice, Transfer(to=value, amount=1), "malformed", authenticated=False)


def test_strings_longer_than_the_contracts_hold_are_invalid(funded, ids):
    """Flows and topics hold 32 bytes, twin keys 64, versions 32 (UTF-8), as the contracts."""
    funded.expect_reject(ids.alice, Transfer(to=ids.bob.address, amount=1, flow="f" * 33),
                         "invalid_state")
    funded.ok(ids.alice, Transfer(to=ids.bob.address, amount=1, flow="f" * 32))
    funded.expect_reject(ids.alice, RegisterTwin(key="w/" + "k" * 63, version="1",
                                                 spec_hash=b"\x01" * 32), "invalid_state")
    funded.expect_reject(ids.alice, RegisterTwin(key="w/k", version="é" * 17,
                                                 spec_hash=b"\x01" * 32), "invalid_state")
    funded.expect_reject(ids.alice, Post(topic="t" * 33, ref=1), "invalid_state")


def test_provider_rules(funded, ids):
    """The client or the assigner names the provider, once; it cannot be the client or zero;
    only the named provider submits; a job without provider cannot complete."""
    job_id = funded.create_job(ids.alice, ids.carol, 10**18, expires_at=150,
                               assigner=ids.dave.address)
    funded.ok(ids.alice, FundJob(job_id=job_id, expected_budget=10**18))
    funded.expect_reject(ids.carol, CompleteJob(job_id=job_id), "invalid_state")  # no provider
    funded.expect_reject(ids.bob, SetProvider(job_id=job_id, provider=ids.bob.address),
                         "unauthorized")
    funded.expect_reject(ids.dave, SetProvider(job_id=job_id, provider=ids.alice.address),
                         "invalid_state")
    funded.expect_reject(ids.dave, SetProvider(job_id=job_id, provider=BURN_ADDRESS),
                         "invalid_state")
    funded.expect_reject(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE),
                         "unauthorized")
    funded.ok(ids.dave, SetProvider(job_id=job_id, provider=ids.bob.address))  # the assigner
    funded.expect_reject(ids.alice, SetProvider(job_id=job_id, provider=ids.eve.address),
                         "invalid_state")
    funded.expect_reject(ids.eve, SubmitJob(job_id=job_id, deliverable=DELIVERABLE),
                         "unauthorized")
    funded.ok(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE))
    funded.expect_reject(ids.bob, SubmitJob(job_id=job_id, deliverable=DELIVERABLE),
                         "invalid_state")  # Submitted once


def test_escrow_cannot_be_provider(funded, ids):
    """The escrow module account cannot be named provider (tokens would be locked forever)."""
    job_id = funded.funded_job(ids.alice, ids.carol, None, 10**18, expires_at=150)
    funded.expect_reject(ids.alice, SetProvider(job_id=job_id, provider=ESCROW_ADDRESS),
                         "invalid_state")


# -- twin registry ----------------------------------------------------------------------------


def test_twin_registry_ownership_and_history(funded, ids):
    """The registrant owns a twin; only the owner publishes; versions are never reused, history
    is linear and immutable; transfer_twin moves ownership and the old owner loses its rights."""
    key = "warehouse/l1"
    ledger = funded.ledger
    funded.ok(ids.alice, RegisterTwin(key=key, version="1.0", spec_hash=H1))
    first = ledger.twin(key)
    assert (first.owner, first.versions, first.head) == (ids.alice.address, (("1.0", H1),),
                                                         ("1.0", H1))
    funded.expect_reject(ids.bob, RegisterTwin(key=key, version="9", spec_hash=H3),
                         "invalid_state")
    funded.expect_reject(ids.bob, PublishVersion(key=key, version="2.0", spec_hash=H2),
                         "unauthorized")
    funded.ok(ids.alice, PublishVersion(key=key, version="2.0", spec_hash=H2))
    second = ledger.twin(key)
    assert second.versions == (("1.0", H1), ("2.0", H2))
    assert first.versions == (("1.0", H1),)  # an earlier view is not mutated
    for version in ("1.0", "2.0"):
        funded.expect_reject(ids.alice, PublishVersion(key=key, version=version, spec_hash=H3),
                             "invalid_state")
    funded.expect_reject(ids.alice, PublishVersion(key=key, version="", spec_hash=H3),
                         "invalid_state")

    funded.expect_reject(ids.bob, TransferTwin(key=key, to=ids.bob.address), "unauthorized")
    funded.expect_reject(ids.alice, TransferTwin(key=key, to=BURN_ADDRESS), "invalid_state")
    funded.ok(ids.alice, TransferTwin(key=key, to=ids.bob.address))
    assert ledger.twin(key).owner == ids.bob.address
    assert ledger.twin(key).versions == second.versions  # history travels with the twin
    funded.expect_reject(ids.alice, PublishVersion(key=key, version="3.0", spec_hash=H3),
                         "unauthorized")
    funded.expect_reject(ids.alice, TransferTwin(key=key, to=ids.alice.address), "unauthorized")
    funded.ok(ids.bob, PublishVersion(key=key, version="3.0", spec_hash=H3))
    assert [v for v, _ in ledger.twin(key).versions] == ["1.0", "2.0", "3.0"]


@pytest.mark.parametrize("key, version", [("noslash", "1"), ("", "1"), ("world/x", "")])
def test_register_twin_needs_key_and_version(funded, ids, key, version):
    """A twin key is 'kind/name' and the first version needs a name."""
    funded.expect_reject(ids.alice, RegisterTwin(key=key, version=version, spec_hash=H1),
                         "invalid_state")
    assert funded.ledger.twin(key) is None


def test_unknown_twin_rejected(funded, ids):
    """Publishing to or transferring an unregistered twin is an invalid_state."""
    funded.expect_reject(ids.alice, PublishVersion(key="a/b", version="1", spec_hash=H1),
                         "invalid_state")
    funded.expect_reject(ids.alice, TransferTwin(key="a/b", to=ids.bob.address),
                         "invalid_state")


# -- authentication ---------------------------------------------------------------------------


def test_wrong_chain_id_changes_nothing(funded, ids):
    """An action signed for another chain id is rejected (wrong_domain) and changes nothing,
    not even the nonce."""
    op = Transfer(to=ids.bob.address, amount=1)
    funded.expect_reject(ids.alice, op, "wrong_domain", authenticated=False,
                         domain=Domain(chain_id=1))
    result = funded.expect_reject(ids.alice, op, "wrong_domain", authenticated=False,
                                  chain_id=funded.ledger.params.chain_id + 1)
    assert f"chain id {funded.ledger.params.chain_id + 1}" in result.reason


def test_signature_for_other_domain_claiming_this_chain_is_bad(funded, ids):
    """Claiming this ledger's chain id does not help a signature made under another domain."""
    funded.expect_reject(ids.alice, Transfer(to=ids.bob.address, amount=1), "bad_signature",
                         authenticated=False, domain=Domain(chain_id=1),
                         chain_id=funded.ledger.params.chain_id)


def test_replayed_action_rejected(funded, ids):
    """An action executes at most once: the same signed action again is rejected (bad_nonce)
    and changes nothing."""
    signed = funded.signed(ids.alice, Transfer(to=ids.bob.address, amount=10**18))
    assert funded.ledger.execute(signed).ok
    funded.ledger.drain_events()
    before, nonce = funded.ledger.state_hash(), funded.ledger.nonce_of(ids.alice.address)
    result = funded.ledger.execute(signed)
    assert (result.ok, result.code) == (False, "bad_nonce")
    assert funded.ledger.state_hash() == before
    assert funded.ledger.nonce_of(ids.alice.address) == nonce
    assert [e[8] for e in funded.ledger.drain_events()] == ["transfer:bad_nonce"]


@pytest.mark.parametrize("offset", [-1, 1, 10**6])
def test_out_of_order_nonce_changes_nothing(funded, ids, offset):
    """A nonce other than the next one (past or future) is rejected and consumes nothing."""
    funded.ok(ids.alice, Post(topic="warmup", ref=0))
    nonce = funded.ledger.nonce_of(ids.alice.address) + offset
    funded.expect_reject(ids.alice, Post(topic="bid", ref=1), "bad_nonce", authenticated=False,
                         nonce=nonce)


def test_wrong_signer_rejected(funded, ids):
    """An action for alice signed by bob is rejected (bad_signature) and changes nothing."""
    result = funded.expect_reject(ids.alice, Transfer(to=ids.bob.address, amount=10**18),
                                  "bad_signature", authenticated=False, signer=ids.bob)
    assert f"a signature by {ids.bob.address}" in result.reason
    # bob cannot mint by signing an action "from" the protocol either
    funded.expect_reject(ids.protocol, Mint(to=ids.bob.address, amount=1), "bad_signature",
                         authenticated=False, signer=ids.bob)


@pytest.mark.parametrize("signature", [None, b"", b"\x00" * 65, b"\xff" * 65, b"\x01" * 64])
def test_missing_or_malformed_signature_rejected(funded, ids, signature):
    """Under signatures='verify', a missing or malformed signature is bad_signature, never an
    exception out of execute()."""
    from chain import SignedIntent

    good = funded.signed(ids.alice, Post(topic="bid", ref=1))
    bad = SignedIntent(intent=good.intent, signature=signature, chain_id=good.chain_id)
    funded.ledger.drain_events()
    before = funded.ledger.state_hash()
    result = funded.ledger.execute(bad)
    assert result.code == "bad_signature"
    assert funded.ledger.state_hash() == before
    assert [e[8] for e in funded.ledger.drain_events()] == ["post:bad_signature"]


def test_signatures_off_skips_verification(make_driver, ids):
    """With signatures='off' the ledger trusts the sender field (a simulation speed mode)."""
    d = make_driver(signatures="off")
    d.ok(ids.protocol, Mint(to=ids.alice.address, amount=5), signer=ids.bob)
    assert d.ledger.balance_of(ids.alice.address) == 5


def test_deadline_in_the_past_rejected(funded, ids):
    """The deadline is the last tick the ledger accepts an action: now > deadline is rejected
    (deadline_passed) and changes nothing; deadline == now is accepted."""
    now = funded.ledger.now
    result = funded.expect_reject(ids.alice, Post(topic="bid", ref=1), "deadline_passed",
                                  authenticated=False, deadline=now - 1)
    assert f"tick {now - 1}" in result.reason
    funded.ok(ids.alice, Post(topic="bid", ref=1), deadline=now)


def test_authentication_order_domain_first(funded, ids):
    """Authentication checks domain, then signature, then nonce, then deadline."""
    kw = dict(nonce=99, deadline=0, signer=ids.bob)
    assert funded.do(ids.alice, Post(topic="x", ref=0), chain_id=1, **kw).code == "wrong_domain"
    assert funded.do(ids.alice, Post(topic="x", ref=0), **kw).code == "bad_signature"
    assert funded.do(ids.alice, Post(topic="x", ref=0), nonce=99, deadline=0).code == "bad_nonce"
    assert funded.do(ids.alice, Post(topic="x", ref=0), deadline=0).code == "deadline_passed"


def test_unknown_op_consumes_nonce(funded, ids):
    """An authenticated op the ledger does not know is rejected (unknown_op); execute never
    raises for it."""

    class Bogus(Op):
        KIND = "bogus"

    funded.expect_reject(ids.alice, Bogus(), "unknown_op")


def test_post_moves_only_the_nonce(funded, ids):
    """A Post records one event and moves nothing but the sender's nonce."""
    funded.ledger.drain_events()
    view, nonce = funded.view(), funded.ledger.nonce_of(ids.dave.address)
    funded.ok(ids.dave, Post(topic="bid", ref=42, data=H1))
    assert funded.view() == view
    assert funded.ledger.nonce_of(ids.dave.address) == nonce + 1
    (event,) = funded.ledger.drain_events()
    assert event[2:] == ("post", ids.dave.address, BURN_ADDRESS, 0, "bid", "42", H1.hex())


def test_balance_of_and_balances_agree(funded, ids):
    """balances() lists exactly the non-zero balances balance_of reports, escrow included."""
    funded.funded_job(ids.alice, ids.carol, None, 10**18, expires_at=150)
    balances = funded.ledger.balances()
    assert balances[ESCROW_ADDRESS] == 10**18
    assert all(v > 0 for v in balances.values())
    for who in vars(ids).values():
        assert funded.ledger.balance_of(who.address) == balances.get(who.address, 0)
    assert sum(balances.values()) == funded.ledger.total_supply


def test_memory_ledger_needs_valid_module_addresses(ids):
    """The protocol and treasury accounts must be addresses."""
    with pytest.raises(ChainError, match="protocol must be"):
        MemoryLedger(LedgerParams(), protocol="nobody", treasury=ids.treasury.address)


def test_transfer_cannot_forge_ledger_flows(funded, ids):
    """A Transfer may not claim a flow the ledger's own rules record (service, refund, mint...):
    the value-flow accounts would otherwise be forgeable."""
    for flow in ("service", "refund", "escrow_fund", "mint", "genesis", "platform_fee"):
        funded.expect_reject(ids.alice, Transfer(to=ids.bob.address, amount=1, flow=flow),
                             "invalid_state")


def test_module_accounts_cannot_send(ids):
    """With signatures off, an action claiming to come from the escrow or the zero address is
    refused before anything changes (no key exists for them)."""
    from chain import BURN_ADDRESS, Intent, LedgerParams, MemoryLedger, SignedIntent

    ledger = MemoryLedger(LedgerParams(signatures="off"), protocol=ids.protocol.address,
                          treasury=ids.treasury.address)
    before = ledger.state_hash()
    for sender in (ESCROW_ADDRESS, BURN_ADDRESS):
        intent = Intent(sender=sender, nonce=0, deadline=10,
                        op=Transfer(to=ids.bob.address, amount=1))
        result = ledger.execute(SignedIntent(intent=intent, signature=None,
                                             chain_id=ledger.domain.chain_id))
        assert (result.ok, result.code) == (False, "bad_signature")
    assert ledger.state_hash() == before
