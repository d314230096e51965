"""The protocol-rule modules on their own: clearing under each compute rule, emission
schedules, and the ledger parameters each rule sets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import LedgerParams
from economy.mechanisms import Ask, BidOrder, clear_call, clear_posted, clear_sealed_reverse
from economy.rules import ComputeRule, EmissionRule, Rules

_asks = st.lists(st.builds(Ask, seller=st.sampled_from("abcdef"), qty=st.integers(1, 50),
                           price=st.integers(0, 20)), max_size=6,
                 unique_by=lambda a: a.seller)
_bids = st.lists(st.builds(BidOrder, buyer=st.sampled_from([str(i) for i in range(8)]),
                           qty=st.integers(1, 60), price=st.integers(0, 25)), max_size=8,
                 unique_by=lambda b: b.buyer)


def _sealed_reference(asks, bids, pricing):
    """One reverse auction per request over the whole remaining book (the plain way)."""
    left = {a.seller: a.qty for a in asks}
    fills = []
    for bid in bids:
        book = [Ask(seller=a.seller, qty=left[a.seller], price=a.price) for a in asks
                if left[a.seller] > 0]
        if not book:
            break
        won = clear_sealed_reverse(book, bid.qty, pricing, reserve=bid.price, buyer=bid.buyer)
        for f in won:
            left[f.seller] -= f.qty
        fills.extend(won)
    return tuple(fills)


@settings(max_examples=300, deadline=None)
@given(asks=_asks, bids=_bids, pricing=st.sampled_from(["first", "second"]))
def test_sealed_rule_equals_one_auction_per_request_over_the_whole_book(asks, bids, pricing):
    """The sealed rule looks only at the asks that can matter to each request (enough to
    cover it and the first losing one); its fills are the plain auction's, unit for unit."""
    rule = ComputeRule(clearing="sealed", sealed_pricing=pricing)
    assert rule.clear(asks, bids) == _sealed_reference(asks, bids, pricing)


@settings(max_examples=100, deadline=None)
@given(asks=_asks, bids=_bids)
def test_posted_and_call_rules_are_the_mechanisms(asks, bids):
    assert ComputeRule(clearing="posted").clear(asks, bids) == clear_posted(asks, bids)
    for pricing in ("mid", "bid", "ask"):
        assert ComputeRule(clearing="call", call_pricing=pricing).clear(asks, bids) == \
            clear_call(asks, bids, pricing)


def test_unknown_rule_values_are_refused():
    with pytest.raises(ValueError, match="clearing must be one of posted, sealed, call"):
        ComputeRule(clearing="dutch")
    with pytest.raises(ValueError, match="schedule"):
        EmissionRule(schedule="inflation")


@pytest.mark.parametrize(("schedule", "expected"), [
    ("none", [0, 0, 0, 0, 0]),
    ("constant", [100, 100, 100, 100, 100]),
    ("halving", [100, 100, 50, 50, 25]),
    ("bme", [7, 7, 7, 7, 7]),
])
def test_emission_schedules(schedule, expected):
    rule = EmissionRule(schedule=schedule, amount=100, half_life=2)
    assert [rule.amount_for(e, 7, 0, 10**9) for e in range(5)] == expected


def test_emission_never_passes_its_cap_or_the_supply_cap():
    rule = EmissionRule(schedule="constant", amount=100, cap=250)
    emitted = 0
    for epoch in range(5):
        emitted += rule.amount_for(epoch, 0, emitted, 10**9)
    assert emitted == 250
    assert rule.amount_for(0, 0, 0, room=30) == 30


def test_rules_set_the_ledger_parameters_they_enforce():
    """Every ledger-enforced rule reaches LedgerParams, so memory and the contracts enforce
    the same rule."""
    from economy.rules import DataRule, EscrowRule, FeeRule, RoyaltyRule

    rules = Rules(fees=FeeRule(transfer_fee_bps=25), royalty=RoyaltyRule(mode="lap"),
                  escrow=EscrowRule(evaluator_paid_on_reject=True, min_expiry=3),
                  compute=ComputeRule(min_stake=7, slash_reward_bps=100),
                  data=DataRule(fee_bps=250))
    params = LedgerParams(**rules.ledger_params())
    assert (params.transfer_fee_bps, params.royalty_mode, params.evaluator_paid_on_reject,
            params.min_expiry, params.min_stake, params.slash_reward_bps,
            params.data_fee_bps) == (25, "lap", True, 3, 7, 100, 250)
