"""MemoryLedger rules of the economy's modules: compute stakes and leases, the royalty graph,
data pools, and the evaluator-paid-on-reject escrow rule.

Each test builds a small fresh ledger (signatures off: authentication is covered elsewhere)
and checks the money rows, the module balances and the invariants after every action.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import (
    COMPUTE_ADDRESS,
    ESCROW_ADDRESS,
    ClaimLease,
    CloseLease,
    CompleteJob,
    Contribute,
    CreatePool,
    Flow,
    LeaseState,
    LinkAsset,
    Mint,
    OpenLease,
    RegisterAsset,
    RegisterTwin,
    RejectJob,
    SetLicence,
    SetProvider,
    Slash,
    Stake,
    SubmitJob,
    Unstake,
    UseData,
    job_id_for,
)
from chain.royalty import pro_rata, royalty_payouts, split

TOKEN = 10**18
TWIN = "warehouse/a"
H = keccak(text="content")


def _rows(events, flow=None):
    return [(e[3], e[4], e[5], e[6]) for e in events if e[5] and (flow is None or e[6] == flow)]


@pytest.fixture
def d(make_driver, ids):
    """A fresh ledger: alice, bob, carol, dave hold 1000 tokens; dave owns twin warehouse/a."""
    driver = make_driver(signatures="off", min_stake=10 * TOKEN, slash_reward_bps=4_000,
                         data_fee_bps=500, platform_fee_bps=200, evaluator_fee_bps=300)
    for who in (ids.alice, ids.bob, ids.carol, ids.dave):
        driver.ok(ids.protocol, Mint(to=who.address, amount=1000 * TOKEN, flow="genesis"))
    driver.ok(ids.dave, RegisterTwin(key=TWIN, version="1", spec_hash=H))
    driver.ledger.set_time(10)
    driver.ledger.drain_events()
    return driver


def _lease(d, buyer, provider, cu=1000, price=2, expires_at=20):
    nonce = d.ledger.nonce_of(buyer.address)
    d.ok(buyer, OpenLease(provider=provider.address, twin=TWIN, cu=cu, price_per_cu=price,
                          expires_at=expires_at))
    return job_id_for(buyer.address, nonce)


# -- compute ---------------------------------------------------------------------------------


def test_lock_then_claim_pays_usage_and_licence_and_returns_the_rest(d, ids):
    """The buyer locks cu x (price + licence); the claim pays the provider its price for the
    CU used, the twin owner its licence for them, and the buyer the rest."""
    d.ok(ids.dave, SetLicence(key=TWIN, fee_per_cu=1))
    d.ok(ids.bob, Stake(amount=10 * TOKEN))
    before = d.ledger.balance_of(ids.alice.address)
    lease = _lease(d, ids.alice, ids.bob, cu=1000, price=2)
    assert d.ledger.balance_of(ids.alice.address) == before - 3000
    assert d.ledger.balance_of(COMPUTE_ADDRESS) == 10 * TOKEN + 3000
    d.ledger.check_invariants()
    d.ledger.drain_events()
    d.ok(ids.bob, ClaimLease(lease_id=lease, cu=600, receipt=H))
    assert _rows(d.ledger.drain_events()) == [
        (COMPUTE_ADDRESS, ids.bob.address, 1200, Flow.COMPUTE),
        (COMPUTE_ADDRESS, ids.dave.address, 600, Flow.LICENCE),
        (COMPUTE_ADDRESS, ids.alice.address, 1200, Flow.LEASE_REFUND),
    ]
    assert d.ledger.lease(lease).state is LeaseState.CLAIMED
    assert d.ledger.lease(lease).cu_used == 600
    assert d.ledger.balance_of(COMPUTE_ADDRESS) == 10 * TOKEN
    d.ledger.check_invariants()


def test_a_claim_is_bounded_by_the_lock_once_and_before_expiry(d, ids):
    d.ok(ids.bob, Stake(amount=10 * TOKEN))
    lease = _lease(d, ids.alice, ids.bob, cu=100, expires_at=12)
    d.expect_reject(ids.bob, ClaimLease(lease_id=lease, cu=101, receipt=H), "invalid_state")
    d.expect_reject(ids.carol, ClaimLease(lease_id=lease, cu=1, receipt=H), "unauthorized")
    d.expect_reject(ids.alice, CloseLease(lease_id=lease), "invalid_state")  # still running
    d.ledger.set_time(12)
    d.expect_reject(ids.bob, ClaimLease(lease_id=lease, cu=1, receipt=H), "invalid_state")
    d.ledger.drain_events()
    d.ok(ids.carol, CloseLease(lease_id=lease))  # anyone: the whole lock returns
    assert _rows(d.ledger.drain_events()) == [
        (COMPUTE_ADDRESS, ids.alice.address, 200, Flow.LEASE_REFUND)]
    d.expect_reject(ids.carol, CloseLease(lease_id=lease), "invalid_state")
    d.ledger.check_invariants()


def test_leases_need_a_staked_provider_and_stakes_are_locked_while_providing(d, ids):
    d.expect_reject(ids.alice, OpenLease(provider=ids.bob.address, twin=TWIN, cu=1,
                                         price_per_cu=1, expires_at=20), "invalid_state")
    d.ok(ids.bob, Stake(amount=10 * TOKEN))
    lease = _lease(d, ids.alice, ids.bob)
    d.expect_reject(ids.bob, Unstake(amount=TOKEN), "invalid_state")
    d.ok(ids.bob, ClaimLease(lease_id=lease, cu=0, receipt=H))
    d.expect_reject(ids.bob, Unstake(amount=11 * TOKEN), "insufficient_funds")
    d.ok(ids.bob, Unstake(amount=10 * TOKEN))
    assert d.ledger.stake_of(ids.bob.address) == 0
    assert d.ledger.balance_of(COMPUTE_ADDRESS) == 0
    d.ledger.check_invariants()


def test_only_the_protocol_slashes_within_the_stake_and_the_rest_burns(d, ids):
    d.ok(ids.bob, Stake(amount=10 * TOKEN))
    d.expect_reject(ids.alice, Slash(offender=ids.bob.address, amount=TOKEN,
                                     beneficiary=ids.alice.address), "unauthorized")
    d.expect_reject(ids.protocol, Slash(offender=ids.bob.address, amount=11 * TOKEN,
                                        beneficiary=ids.alice.address), "insufficient_funds")
    burned = d.ledger.burned
    d.ledger.drain_events()
    d.ok(ids.protocol, Slash(offender=ids.bob.address, amount=5 * TOKEN,
                             beneficiary=ids.alice.address, ref=7))
    assert _rows(d.ledger.drain_events()) == [
        (COMPUTE_ADDRESS, ids.alice.address, 2 * TOKEN, Flow.SLASH),
        (COMPUTE_ADDRESS, "0x" + "0" * 40, 3 * TOKEN, Flow.BURN),
    ]
    assert d.ledger.burned == burned + 3 * TOKEN
    assert d.ledger.stake_of(ids.bob.address) == 5 * TOKEN
    d.ledger.check_invariants()


# -- royalties -------------------------------------------------------------------------------


def _graph(d, ids):
    """dave's twin (10 %) and carol's dataset (20 %) are parents of bob's policy."""
    d.ok(ids.dave, RegisterAsset(key=TWIN, kind="twin", content_hash=H, royalty_bps=1_000))
    d.ok(ids.carol, RegisterAsset(key="data/d", kind="data", content_hash=H, royalty_bps=2_000))
    d.ok(ids.bob, RegisterAsset(key="policy/p", kind="policy", content_hash=H, royalty_bps=0))
    d.ok(ids.bob, LinkAsset(child="policy/p", parent=TWIN))
    d.ok(ids.bob, LinkAsset(child="policy/p", parent="data/d"))


@pytest.mark.parametrize("mode", ["lrp", "lap"])
def test_a_completed_job_pays_royalties_up_the_policy_graph(make_driver, ids, mode):
    d = make_driver(signatures="off", royalty_mode=mode, platform_fee_bps=200,
                    evaluator_fee_bps=300)
    for who in (ids.alice, ids.bob, ids.carol, ids.dave):
        d.ok(ids.protocol, Mint(to=who.address, amount=1000 * TOKEN, flow="genesis"))
    d.ok(ids.dave, RegisterTwin(key=TWIN, version="1", spec_hash=H))
    _graph(d, ids)
    # an asset outside the policy's graph earns nothing from it
    d.ok(ids.carol, RegisterAsset(key="data/e", kind="data", content_hash=H, royalty_bps=5_000))
    budget = 1_000_003
    job = d.funded_job(ids.alice, ids.eve, ids.bob, budget, expires_at=50)
    d.ok(ids.bob, SubmitJob(job_id=job, deliverable=H, policy="policy/p"))
    d.ledger.drain_events()
    d.ok(ids.eve, CompleteJob(job_id=job))
    rows = _rows(d.ledger.drain_events())
    assert sum(r[2] for r in rows) == budget  # exact: every base unit of escrow is paid out
    service = budget - budget * 200 // 10_000 - budget * 300 // 10_000
    royalties = {r[1]: r[2] for r in rows if r[3] == Flow.ROYALTY}
    assert royalties == {ids.dave.address: service * 1_000 // 10_000,
                         ids.carol.address: service * 2_000 // 10_000}
    dust = sum(r[2] for r in rows if r[3] == Flow.DUST)
    assert dust == service - sum(royalties.values()) - service * 7_000 // 10_000
    d.ledger.check_invariants()


def test_lrp_compounds_and_lap_pays_each_ancestor_once():
    """A chain policy -> data (20 %) -> twin (10 %): lrp gives the twin 10 % of the data's
    20 %, lap gives it 10 % of the whole payment."""
    from chain import Asset

    assets = {
        "p": Asset(key="p", kind="policy", owner="P", content_hash=b"", royalty_bps=0,
                   parents=("d",)),
        "d": Asset(key="d", kind="data", owner="D", content_hash=b"", royalty_bps=2_000,
                   parents=("t",)),
        "t": Asset(key="t", kind="twin", owner="T", content_hash=b"", royalty_bps=1_000),
    }
    owner = lambda a: a.owner  # noqa: E731
    rest, pays, dust = royalty_payouts(10_000, "p", "lrp", assets.__getitem__, owner)
    assert (rest, sorted(pays), dust) == (8_000, [("D", 1_800), ("T", 200)], 0)
    rest, pays, dust = royalty_payouts(10_000, "p", "lap", assets.__getitem__, owner)
    assert (rest, sorted(pays), dust) == (7_000, [("D", 2_000), ("T", 1_000)], 0)


@settings(max_examples=200, deadline=None)
@given(amount=st.integers(0, 2**256 - 1),
       shares=st.lists(st.integers(0, 2_500), max_size=4))
def test_splits_are_exact_for_any_amount(amount, shares):
    parts, rest, dust = split(amount, shares)
    assert sum(parts) + rest + dust == amount
    assert 0 <= dust <= len(shares)
    weights = [s + 1 for s in shares] or [1]
    parts, dust = pro_rata(amount, weights)
    assert sum(parts) + dust == amount and 0 <= dust < len(weights)


def test_the_royalty_graph_stays_acyclic_bounded_and_within_100_percent(d, ids):
    _graph(d, ids)
    d.expect_reject(ids.bob, LinkAsset(child="policy/p", parent="policy/p"), "invalid_state")
    d.expect_reject(ids.carol, LinkAsset(child="policy/p", parent="data/d"), "unauthorized")
    # a parent with children has fixed parents: no cycle can be closed through it
    d.expect_reject(ids.carol, LinkAsset(child="data/d", parent="policy/p"), "invalid_state")
    d.ok(ids.alice, RegisterAsset(key="data/big", kind="data", content_hash=H,
                                  royalty_bps=7_001))
    d.expect_reject(ids.bob, LinkAsset(child="policy/p", parent="data/big"), "invalid_state")
    d.expect_reject(ids.alice, RegisterAsset(key=TWIN + "x", kind="twin", content_hash=H,
                                             royalty_bps=0), "invalid_state")
    d.expect_reject(ids.alice, RegisterAsset(key="x", kind="model", content_hash=H,
                                             royalty_bps=0), "invalid_state")
    assert d.ledger.asset("policy/p").parents == (TWIN, "data/d")


def test_a_twin_assets_royalties_follow_the_twin(d, ids):
    from chain import TransferTwin

    _graph(d, ids)
    d.ok(ids.dave, TransferTwin(key=TWIN, to=ids.carol.address))
    job = d.funded_job(ids.alice, ids.eve, ids.bob, 10_000, expires_at=50)
    d.ok(ids.bob, SubmitJob(job_id=job, deliverable=H, policy="policy/p"))
    d.ledger.drain_events()
    d.ok(ids.eve, CompleteJob(job_id=job))
    royalties = [r for r in _rows(d.ledger.drain_events()) if r[3] == Flow.ROYALTY]
    assert {r[1] for r in royalties} == {ids.carol.address}


# -- data ------------------------------------------------------------------------------------


def test_a_data_use_pays_fees_and_contributors_pro_rata_once_per_record(d, ids):
    d.ok(ids.carol, CreatePool(key="traffic", price_per_unit=1_001, owner_fee_bps=1_000))
    d.ok(ids.carol, Contribute(pool="traffic", content_hash=keccak(text="ep1"), units=3))
    d.ok(ids.dave, Contribute(pool="traffic", content_hash=keccak(text="ep2"), units=1))
    d.expect_reject(ids.dave, Contribute(pool="traffic", content_hash=keccak(text="ep1"),
                                         units=5), "invalid_state")  # duplicate content
    record = keccak(text="use 1")
    d.ledger.drain_events()
    d.ok(ids.alice, UseData(pool="traffic", units=7, record=record, ref=1))
    rows = _rows(d.ledger.drain_events())
    price = 7 * 1_001
    fee, owner_fee = price * 500 // 10_000, price * 1_000 // 10_000
    pool = price - fee - owner_fee
    assert rows == [
        (ids.alice.address, d.ledger.treasury, fee, Flow.DATA_FEE),
        (ids.alice.address, ids.carol.address, owner_fee, Flow.POOL_FEE),
        (ids.alice.address, ids.carol.address, pool * 3 // 4, Flow.DATA),
        (ids.alice.address, ids.dave.address, pool // 4, Flow.DATA),
        (ids.alice.address, d.ledger.treasury, pool - pool * 3 // 4 - pool // 4, Flow.DUST),
    ][: 4 + (pool % 4 != 0)]
    d.expect_reject(ids.alice, UseData(pool="traffic", units=1, record=record),
                    "invalid_state")  # the record was consumed
    d.ledger.check_invariants()


# -- escrow rules ----------------------------------------------------------------------------


def test_evaluator_paid_on_reject_from_a_deposit_beside_the_budget(make_driver, ids):
    d = make_driver(signatures="off", evaluator_paid_on_reject=True, platform_fee_bps=200,
                    evaluator_fee_bps=300)
    for who in (ids.alice, ids.bob):
        d.ok(ids.protocol, Mint(to=who.address, amount=1000 * TOKEN, flow="genesis"))
    before = d.ledger.balance_of(ids.alice.address)
    job = d.funded_job(ids.alice, ids.eve, None, 10_000, expires_at=50)
    assert d.ledger.balance_of(ESCROW_ADDRESS) == 10_300  # budget + the evaluator's deposit
    d.ok(ids.alice, SetProvider(job_id=job, provider=ids.bob.address, budget=8_000))
    assert d.ledger.balance_of(ESCROW_ADDRESS) == 8_240  # both shrink with the award
    d.ledger.check_invariants()
    d.ok(ids.bob, SubmitJob(job_id=job, deliverable=H))
    d.ledger.drain_events()
    d.ok(ids.eve, RejectJob(job_id=job))
    assert _rows(d.ledger.drain_events()) == [
        (ESCROW_ADDRESS, ids.eve.address, 240, Flow.EVALUATOR_FEE),
        (ESCROW_ADDRESS, ids.alice.address, 8_000, Flow.REFUND),
    ]
    assert d.ledger.balance_of(ids.alice.address) == before - 240
    d.ledger.check_invariants()


def test_min_expiry_is_enforced(make_driver, ids):
    from chain import CreateJob

    d = make_driver(signatures="off", min_expiry=5)
    d.expect_reject(ids.alice, CreateJob(evaluator=ids.eve.address, assigner="0x" + "0" * 40,
                                         budget=1, expires_at=4), "invalid_state")
    d.ok(ids.alice, CreateJob(evaluator=ids.eve.address, assigner="0x" + "0" * 40, budget=1,
                              expires_at=5))


def test_a_lease_claim_pays_the_compute_price_less_the_transfer_fee(make_driver, ids):
    """The compute payment of a claim takes the transfer fee (treasury and burn) as a transfer
    would; the licence and the refund do not."""
    d = make_driver(signatures="off", transfer_fee_bps=100, fee_burn_bps=5_000)
    for who in (ids.alice, ids.dave):
        d.ok(ids.protocol, Mint(to=who.address, amount=1000 * TOKEN, flow="genesis"))
    d.ok(ids.dave, RegisterTwin(key=TWIN, version="1", spec_hash=H))
    d.ok(ids.dave, SetLicence(key=TWIN, fee_per_cu=1_000))
    lease = _lease(d, ids.alice, ids.bob, cu=100, price=10_000)
    d.ledger.drain_events()
    d.ok(ids.bob, ClaimLease(lease_id=lease, cu=50, receipt=H))
    assert _rows(d.ledger.drain_events()) == [
        (COMPUTE_ADDRESS, ids.bob.address, 495_000, Flow.COMPUTE),
        (COMPUTE_ADDRESS, d.ledger.treasury, 2_500, Flow.TRANSFER_FEE),
        (COMPUTE_ADDRESS, "0x" + "0" * 40, 2_500, Flow.BURN),
        (COMPUTE_ADDRESS, ids.dave.address, 50_000, Flow.LICENCE),
        (COMPUTE_ADDRESS, ids.alice.address, 550_000, Flow.LEASE_REFUND),
    ]
    d.ledger.check_invariants()


def test_lrp_sums_what_reaches_an_asset_over_its_paths_and_splits_it_once():
    """A diamond: the policy derives from two datasets (20 % and 10 %) that both derive from
    the twin (50 %). Under lrp the twin's share of what reaches each dataset is added up and
    paid in one row; its owner gets half of the datasets' 30 %, as the paths would give."""
    from chain import Asset

    assets = {
        "p": Asset(key="p", kind="policy", owner="P", content_hash=b"", royalty_bps=0,
                   parents=("a", "b")),
        "a": Asset(key="a", kind="data", owner="A", content_hash=b"", royalty_bps=2_000,
                   parents=("t",)),
        "b": Asset(key="b", kind="data", owner="B", content_hash=b"", royalty_bps=1_000,
                   parents=("t",)),
        "t": Asset(key="t", kind="twin", owner="T", content_hash=b"", royalty_bps=5_000),
    }
    rest, pays, dust = royalty_payouts(100_000, "p", "lrp", assets.__getitem__,
                                       lambda a: a.owner)
    assert pays == [("A", 10_000), ("B", 5_000), ("T", 15_000)]
    assert (rest, dust) == (70_000, 0)


def test_a_twin_assets_links_follow_the_twins_owner(d, ids):
    """After the twin changes hands, its new owner (not the registrant) links its asset."""
    from chain import TransferTwin

    d.ok(ids.dave, RegisterAsset(key=TWIN, kind="twin", content_hash=H, royalty_bps=1_000))
    d.ok(ids.carol, RegisterAsset(key="data/d", kind="data", content_hash=H, royalty_bps=0))
    d.ok(ids.dave, TransferTwin(key=TWIN, to=ids.carol.address))
    d.expect_reject(ids.dave, LinkAsset(child=TWIN, parent="data/d"), "unauthorized")
    d.ok(ids.carol, LinkAsset(child=TWIN, parent="data/d"))


def test_an_action_too_long_to_send_is_malformed_and_changes_nothing(d, ids):
    """Strings that push an action's encoded fields past 320 bytes cannot be sent: the
    action is malformed, changes nothing, and its nonce stays unused; one just over a
    string's limit but sendable breaks a rule (its nonce is used)."""
    d.expect_reject(ids.alice, LinkAsset(child="x" * 200, parent="y"), "malformed",
                    authenticated=False)
    d.expect_reject(ids.alice, LinkAsset(child="x" * 65, parent="y"), "invalid_state")
