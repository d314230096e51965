"""Market rules of the tick loop: rejected actions, bid limits, lowest-bid awards, expiry
refunds, exact sim-time charges, and the flows table against the event log."""

from __future__ import annotations

from collections import defaultdict

import pytest

from chain import COMPUTE_ADDRESS
from economy import Bid, PostJob, Simulate

CU_PRICE = 2_000_000_000_000


def _events(built):
    df = built.model.recorder.tables["events"].to_arrow().to_pandas()
    df["amount"] = [int(v) for v in df.amount]
    return df


def _agent(built, label):
    return next(a for a in built.agents if a.label == label)


def _step_until_orders(built, customer, script, limit=30):
    for _ in range(limit):
        built.model.step()
        if script.seen[-1].orders or built.model.observe(customer).orders:
            return built.model.observe(customer).orders
    pytest.fail("the customer received no order")


@pytest.fixture
def scripted(small_market, build_model):
    """The small market with transfer fees off and every customer, provider and evaluator
    driven by a script (scripts do nothing unless told); compute sellers post their offers."""
    small_market["ledger"]["transfer_fee_bps"] = 0
    labels = [f"{g.get('label', g['role'])}-{k}" for g in small_market["agents"]
              if g["role"] in ("customer", "provider", "evaluator") for k in range(g["count"])]
    return build_model(small_market, script=labels)


def test_unknown_order_is_rejected_and_run_goes_on(scripted) -> None:
    """A PostJob for an order the customer does not have is recorded as action_rejected
    (unknown_order) and counted; the run continues and later actions still execute."""
    built, scripts = scripted
    customer = _agent(built, "customer-0")
    scripts["customer-0"].push(PostJob(order_id="no-such-order", budget=10**17))
    built.model.step()
    rejected = _events(built).query("kind == 'action_rejected'")
    assert len(rejected) == 1
    assert rejected.payer.iloc[0] == customer.address
    assert "PostJob:unknown_order" in rejected.detail.iloc[0]
    assert built.model.totals["rejected_actions"] == 1
    order = _step_until_orders(built, customer, scripts["customer-0"])[0]
    scripts["customer-0"].push(PostJob(order_id=order.order_id, budget=10**17))
    before = built.model.summary()["jobs_posted"]
    built.model.step()
    assert built.model.summary()["jobs_posted"] == before + 1


def test_bid_above_budget_is_rejected(scripted) -> None:
    """A bid above the job's budget is rejected (bad_price) and never wins; a bid within it
    is accepted and awarded."""
    built, scripts = scripted
    customer, provider = _agent(built, "customer-0"), _agent(built, "thorough-0")
    order = _step_until_orders(built, customer, scripts["customer-0"])[0]
    budget = 10**17
    scripts["customer-0"].push(PostJob(order_id=order.order_id, budget=budget, expires_in=10,
                                       evaluator=_agent(built, "evaluator-0").address))
    built.model.step()
    job = next(j for j in built.model.observe(customer).jobs if j.client == customer.address)
    scripts["thorough-0"].push(Bid(job_id=job.job_id, price=budget + 1))
    built.model.step()
    events = _events(built)
    rejected = events.query("kind == 'action_rejected'")
    assert list(rejected.payer) == [provider.address]
    assert "Bid:bad_price" in rejected.detail.iloc[0]
    assert str(job.job_id) == rejected.ref.iloc[0]
    assert events.query("kind == 'job_provider_set'").empty
    scripts["thorough-0"].push(Bid(job_id=job.job_id, price=budget))
    built.model.step()
    awards = _events(built).query("kind == 'job_provider_set'")
    assert list(awards.payee) == [provider.address]


def test_lowest_qualified_bid_wins(small_market, build_model) -> None:
    """Every award goes to the lowest bid placed on that job in that tick, at that price;
    with a cheap and a dear provider both bidding, the cheap one wins."""
    small_market["agents"][2] = {
        "role": "provider", "label": "cheap", "policy": "provider", "balance": 50,
        "params": {"candidates": 0, "base_fee": "0.01 tokens", "max_jobs": 50}}
    small_market["agents"].insert(3, {
        "role": "provider", "label": "dear", "policy": "provider", "balance": 50,
        "params": {"candidates": 0, "base_fee": "0.05 tokens", "max_jobs": 50}})
    built, _ = build_model(small_market)
    for _ in range(15):
        built.model.step()
    events = _events(built)
    bids = events.query("kind == 'post' and flow == 'bid'")
    by_job = defaultdict(dict)
    for tick, ref, payer, word in zip(bids.tick, bids.ref, bids.payer, bids.detail,
                                      strict=True):
        by_job[(tick, ref)][payer] = int(word, 16)
    awards = events.query("kind == 'job_provider_set'")
    assert len(awards) > 0
    contested = 0
    for tick, ref, winner, price in zip(awards.tick, awards.ref, awards.payee, awards.detail,
                                        strict=True):
        placed = by_job[(tick, ref)]
        assert placed[winner] == min(placed.values()) == int(price)
        contested += len(placed) > 1
    assert contested > 0
    cheap = _agent(built, "cheap-0").address
    assert set(awards.payee) == {cheap}


def test_expired_jobs_are_refunded(small_market, build_model) -> None:
    """With no provider, jobs expire after expires_in ticks; the escrowed budget returns to the
    customer in full, as refund flows in the flows table."""
    small_market["agents"] = [g for g in small_market["agents"] if g["role"] != "provider"]
    small_market["agents"][1]["params"]["expires_in"] = 2
    built, _ = build_model(small_market)
    for _ in range(12):
        built.model.step()
    s = built.model.finish()
    assert s["jobs_expired"] > 0
    assert s["jobs_completed"] == 0
    flows = built.model.recorder.tables["flows"].to_arrow().to_pandas()
    refunds = flows[flows.flow == "refund"]
    assert refunds.n_transfers.sum() == s["jobs_expired"]
    events = _events(built)
    refunded = set(events.query("flow == 'refund'").ref)
    funded = events.query("flow == 'escrow_fund'")
    assert sum(int(a) for a in refunds.amount) == \
        funded[funded.ref.isin(refunded)].amount.sum()
    assert set(refunds.payer_class) == set(refunds.payee_class) == {"customer"}


def test_simulate_charges_exact_cu_at_posted_price(scripted) -> None:
    """Simulate costs exactly the sum of cu_for over the plans times the compute seller's
    posted price: the buyer locks it in a lease, and the seller's claim of the CU used pays
    it out of the Compute module, leaving nothing locked."""
    built, scripts = scripted
    model = built.model
    customer = _agent(built, "customer-0")
    order = _step_until_orders(built, customer, scripts["customer-0"])[0]
    scripts["customer-0"].push(PostJob(order_id=order.order_id, budget=10**17, expires_in=10))
    model.step()
    job = next(j for j in model.observe(customer).jobs if j.client == customer.address)
    plans = tuple(model.planner.solve(job.order, s) for s in ("s_shape", "largest_gap"))
    cu = sum(model.twin.cu_for(p, job.order) for p in plans)
    quote = model.observe(customer).quotes[0]
    before = model.ledger.balance_of(customer.address)
    seller_before = model.ledger.balance_of(quote.provider)
    scripts["customer-0"].push(Simulate(job_id=job.job_id, plans=plans))
    model.step()
    cost = cu * quote.price_per_cu
    assert cost > 0
    assert model.ledger.balance_of(customer.address) == before - cost
    assert model.ledger.balance_of(quote.provider) == seller_before + cost
    events = _events(built)
    lock = events.query("flow == 'lease_lock'")
    assert list(zip(lock.payer, lock.payee, lock.amount, strict=True)) == \
        [(customer.address, COMPUTE_ADDRESS, cost)]
    compute = events.query("flow == 'compute'")
    assert list(zip(compute.payer, compute.payee, compute.amount, strict=True)) == \
        [(COMPUTE_ADDRESS, quote.provider, cost)]
    assert model.ledger.balance_of(COMPUTE_ADDRESS) == 0
    model.step()  # results arrive in the next observation
    result = scripts["customer-0"].seen[-1].results
    assert [(r.job_id, r.cu, r.cost) for r in result] == [(job.job_id, cu, cost)]


def test_service_flows_match_completed_payouts(small_market, build_model) -> None:
    """The flows table's service total equals the provider payouts (service transfers) of the
    completed jobs in the event log, and only completed jobs pay service."""
    built, _ = build_model(small_market)
    for _ in range(25):
        built.model.step()
    s = built.model.finish()
    assert s["jobs_completed"] > 0
    events = _events(built)
    completed = set(events.query("kind == 'job_completed'").ref)
    service = events.query("flow == 'service'")
    assert set(service.ref) == completed
    flows = built.model.recorder.tables["flows"].to_arrow().to_pandas()
    rows = flows[flows.flow == "service"]
    assert sum(int(a) for a in rows.amount) == service.amount.sum()
    assert rows.n_transfers.sum() == s["jobs_completed"]
    assert set(rows.payee_class) == {"behaviour"}


class _WalkAway:
    """Bids 1 base unit on every open job, and never delivers what it wins."""

    def act(self, obs):
        return [Bid(job_id=j.job_id, price=1) for j in obs.open_jobs
                if obs.address not in (j.client, j.evaluator)]


def test_a_provider_that_wins_and_never_delivers_loses_the_right_to_win(
        small_market, build_model) -> None:
    """An awarded job that expires undelivered counts against its provider as a rejection
    does: once `max_strikes` + 1 of them have expired it wins no more awards, and the honest
    (dearer) providers win and complete the jobs instead."""
    small_market.setdefault("economy", {})["max_strikes"] = 1
    for group in small_market["agents"]:
        if group["role"] == "customer":
            group["params"]["expires_in"] = 8
    small_market["agents"].insert(2, {"role": "provider", "label": "walkaway",
                                      "policy": "idle", "balance": 1})
    built, _ = build_model(small_market)
    walkaway = _agent(built, "walkaway-0")
    walkaway.policy = _WalkAway()
    for _ in range(40):
        built.model.step()
    events = _events(built)
    awards = events.query("kind == 'job_provider_set'")
    won = awards[awards.payee == walkaway.address]
    expired = events.query("kind == 'job_expired'")
    failures = sorted(expired[expired.ref.isin(set(won.ref))].tick)
    assert len(failures) >= 2
    struck_out = failures[1]  # its second failure: beyond max_strikes = 1
    assert won.tick.max() <= struck_out
    later = awards[awards.tick > struck_out]
    assert len(later) > 0 and walkaway.address not in set(later.payee)
    assert built.model.summary()["jobs_completed"] > 0
