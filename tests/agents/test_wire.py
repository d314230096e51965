"""The policy wire form (agents.wire): observations and actions survive the trip through JSON
bytes unchanged, big integers travel as strings, and decoding refuses anything else with a
message naming the field."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import WireError
from agents.wire import MAX_SAFE_INT, WIRE_VERSION, Wire, dumps, loads
from chain import JobState
from economy import (
    Bid,
    JobView,
    LeaseView,
    Observation,
    Pay,
    Quote,
    Role,
    SimResult,
    Simulate,
    Submit,
)
from economy.history import BidOutcome, JobOutcome, MarketTick, PnL, TierTick
from economy.intake import ACTION_TYPES
from economy.observation import EvaluatorQuote, MarketView, PoolView, RulesView
from worlds import registry
from worlds.receipt import Receipt
from worlds.toy import Evaluation, Order, Plan

ROOT = Path(__file__).resolve().parents[2]
WIRE = Wire(plan_type=Plan, request_type=Order, evaluation_types=(Evaluation,))
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

big = st.integers(min_value=-(2**300), max_value=2**300)
amount = st.integers(min_value=0, max_value=2**256 - 1)
small = st.integers(min_value=-MAX_SAFE_INT, max_value=MAX_SAFE_INT)
text = st.text(max_size=12)
address = st.from_regex(r"0x[0-9a-fA-F]{40}", fullmatch=True)
ints = st.tuples(small, small) | st.tuples() | st.tuples(small, small, small)

orders = st.builds(Order, order_id=text, lines=ints)
plans = st.builds(Plan, solver=text, route=ints)
receipts = st.builds(Receipt, twin_id=text, tier=st.sampled_from(["L1", "L2"]), hz=small,
                     seed=amount, plan_hash=text, cu=amount, engine_version=text,
                     result_hash=text)
evaluations = st.builds(Evaluation, valid=st.booleans(), reason=text, distance_mm=small,
                        time_ms=small, cu=amount, receipt=receipts)


class L2Evaluation(NamedTuple):
    """An evaluation type the wire does not know in advance (another tier's)."""

    valid: bool
    reason: str
    time_ms: int
    energy_mj: int
    cu: int
    receipt: Receipt


l2_evaluations = st.builds(L2Evaluation, valid=st.booleans(), reason=text, time_ms=small,
                           energy_mj=small, cu=amount, receipt=receipts)
jobs = st.builds(JobView, job_id=amount, client=address, evaluator=address,
                 provider=st.none() | address, budget=amount,
                 state=st.sampled_from(list(JobState)), order=orders, twin_id=text,
                 eval_seed=amount, max_time_ms=small, posted_tick=small, expires_at=small,
                 plan=st.none() | plans, tier=st.sampled_from(["L1", "L2"]),
                 baseline_ms=small)
quotes = st.builds(Quote, provider=address, price_per_cu=amount, capacity_left_cu=amount)
leases = st.builds(LeaseView, lease_id=amount, buyer=address, provider=address, cu=amount,
                   cu_used=amount, price_per_cu=amount, licence_per_cu=amount,
                   expires_at=small)
results = st.builds(SimResult, job_id=amount, plans=st.lists(plans, max_size=3).map(tuple),
                    evaluations=st.lists(evaluations | l2_evaluations, max_size=3).map(tuple),
                    cu=amount, cost=amount)
bps = st.integers(0, 10_000)
ratio = st.floats(0, 10, allow_nan=False)
pools = st.builds(PoolView, key=text, owner=address, price_per_unit=amount, owner_fee_bps=bps)
rules_views = st.builds(
    RulesView, transfer_fee_bps=bps, fee_burn_bps=bps, platform_fee_bps=bps,
    evaluator_fee_bps=bps, evaluator_paid_on_reject=st.booleans(), min_expiry=small,
    max_strikes=small, award=text, award_pricing=text, award_prior_gain_bps=bps,
    award_prior_weight=small, time_value_per_h=amount, clearing=text, sealed_pricing=text,
    call_pricing=text, lease_ticks=small, min_stake=amount, spot_check_bps=bps, slash_bps=bps,
    slash_reward_bps=bps, licence_per_cu=amount, compute_cost_per_cu=amount, royalty_mode=text,
    royalty_stacks=st.lists(st.tuples(text, bps), max_size=2).map(tuple), data_fee_bps=bps,
    pools=st.lists(pools, max_size=2).map(tuple), emission=text, emission_amount=amount,
    epoch_ticks=small, max_candidates=small, tiers=st.lists(text, max_size=2).map(tuple))
tier_ticks = st.builds(TierTick, tier=text, awards=small, price_mean=amount, price_min=amount,
                       price_max=amount, bidders_mean=ratio)
market_ticks = st.builds(
    MarketTick, tick=small, jobs_posted=small, awards=small, completed=small, rejected=small,
    expired=small, tiers=st.lists(tier_ticks, max_size=2).map(tuple), cu_offered=amount,
    cu_leased=amount, cu_price_mean=amount, utilisation=ratio, rejection_rate=ratio)
markets = st.builds(MarketView, ticks=st.lists(market_ticks, max_size=2).map(tuple),
                    reputations=st.lists(st.tuples(address, small, bps), max_size=2)
                    .map(tuple))
outcomes = (st.builds(BidOutcome, job_id=amount, tick=small, price=amount, won=st.booleans(),
                      award_price=amount, bidders=small)
            | st.builds(JobOutcome, job_id=amount, tick=small, role=text, result=text,
                        price=amount, time_ratio=st.none() | ratio))
pnls = st.builds(PnL, *(big for _ in PnL._fields))
observations = st.builds(
    Observation, tick=small, address=address, role=st.sampled_from(list(Role)),
    balance=amount, nonce=amount, orders=st.lists(orders, max_size=3).map(tuple),
    jobs=st.lists(jobs, max_size=3).map(tuple), open_jobs=st.lists(jobs, max_size=3).map(tuple),
    quotes=st.lists(quotes, max_size=3).map(tuple),
    results=st.lists(results, max_size=2).map(tuple),
    evaluators=st.lists(address, max_size=3).map(tuple), planner=st.none(), rng=st.none(),
    leases=st.lists(leases, max_size=2).map(tuple), compute_clearing=text, stake=amount,
    rules=st.none() | rules_views, market=st.none() | markets,
    outcomes=st.lists(outcomes, max_size=3).map(tuple), pnl=st.none() | pnls,
    baselines=st.lists(small, max_size=3).map(tuple),
    evaluator_quotes=st.lists(st.builds(EvaluatorQuote, evaluator=address, min_fee=amount),
                              max_size=2).map(tuple))

#: how each action field is drawn, by the field's name
ACTION_FIELDS: dict[str, Any] = {
    "order_id": text, "budget": big, "evaluator": st.none() | address, "expires_in": small,
    "max_time_ms": st.none() | small, "min_gain_bps": small, "tier": st.sampled_from(["L1"]),
    "job_id": big, "price": big, "price_per_cu": big, "capacity_cu": big,
    "overclaim_bps": small, "cu": big, "max_price_per_cu": st.none() | big,
    "compute": st.none() | address, "amount": big, "pool": text, "units": big,
    "content": st.binary(max_size=40), "plans": st.lists(plans, max_size=3).map(tuple),
    "max_cost": st.none() | big, "min_lease_cu": big, "plan": plans, "policy": text,
    "reason": text, "to": address, "min_fee": big,
}


def _action(cls: type) -> st.SearchStrategy:
    draws = dict(ACTION_FIELDS)
    if cls is Simulate:
        draws["tier"] = st.none() | st.sampled_from(["L1", "L2"])
    return st.builds(cls, **{f.name: draws[f.name] for f in fields(cls)})


actions = st.one_of([_action(cls) for cls in ACTION_TYPES.values()])


@SETTINGS
@given(observations)
def test_observations_round_trip(obs: Observation) -> None:
    """Any observation, encoded, written as JSON bytes and decoded, equals the original
    (the receiver supplies its own planner and rng); an evaluation of a type the wire knows
    comes back as that type, one of another tier's type as a record of the same fields."""
    data = loads(dumps(WIRE.encode_observation(obs)))
    back = WIRE.decode_observation(data, planner=None, rng=None)
    assert back == obs
    for a, b in zip(obs.results, back.results, strict=True):
        for ea, eb in zip(a.evaluations, b.evaluations, strict=True):
            assert eb._fields == ea._fields and type(eb.receipt) is Receipt
            assert (type(eb) is Evaluation) == (type(ea) is Evaluation)


@SETTINGS
@given(st.lists(actions, max_size=6))
def test_actions_round_trip(out: list) -> None:
    """Every action type of the economy, with any field values, survives the trip: the same
    exact classes and values."""
    back = WIRE.decode_actions(loads(dumps(WIRE.encode_actions(out))))
    assert back == out and [type(a) for a in back] == [type(a) for a in out]


@SETTINGS
@given(observations)
def test_big_integers_travel_as_strings_and_numbers_stay_safe(obs: Observation) -> None:
    """In the JSON of an observation every integer is within +-(2**53 - 1) (what any
    language's JSON reads exactly), amounts, ids, nonces, seeds and CU are strings, and the
    rest are finite floats (rates)."""
    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif type(value) is int:
            assert abs(value) <= MAX_SAFE_INT, key
            assert key not in {"balance", "nonce", "stake", "job_id", "budget", "eval_seed",
                               "cu", "seed", "lease_id", "cost", "price_per_cu"}, key
        elif type(value) is float:  # rates and ratios: finite floats
            assert value == value and abs(value) != float("inf"), key
        else:
            assert value is None or type(value) in (str, bool), key

    walk(json.loads(dumps(WIRE.encode_observation(obs))))


def test_the_wire_knows_every_action_and_every_field() -> None:
    """The wire form carries exactly the economy's action types, each with all its fields, and
    every field of the economy's views: a new action or field must be given its wire type."""
    assert set(WIRE.action_types()) == set(ACTION_TYPES)
    for name, spec in WIRE.action_types().items():
        assert list(spec) == [f.name for f in fields(ACTION_TYPES[name])], name
    observation = WIRE._observation.codecs
    assert list(observation) == [f for f in Observation._fields if f not in ("planner", "rng")]
    views = {r.cls: r for r in (WIRE._job, *(observation[k].inner for k in
                                              ("quotes", "leases", "results")))}
    rules, market = observation["rules"].inner, observation["market"].inner
    tick = market.codecs["ticks"].inner
    outcome = observation["outcomes"].inner
    views.update({r.cls: r for r in (
        rules, market, tick, tick.codecs["tiers"].inner, rules.codecs["pools"].inner,
        observation["pnl"].inner, observation["evaluator_quotes"].inner,
        *outcome.records.values())})
    for view in (JobView, Quote, LeaseView, SimResult, RulesView, MarketView, MarketTick,
                 TierTick, PoolView, PnL, EvaluatorQuote, BidOutcome, JobOutcome):
        assert list(views[view].codecs) == list(view._fields), view.__name__


def test_the_doc_lists_every_action_type() -> None:
    """docs/policy-wire.md documents every action type and names the wire version."""
    doc = (ROOT / "docs" / "policy-wire.md").read_text()
    assert WIRE_VERSION in doc
    for name, spec in WIRE.action_types().items():
        assert re.search(rf"\|\s*`{name}`\s*\|", doc), name
        for field_name in spec:
            assert field_name in doc, (name, field_name)


@pytest.mark.parametrize("kind", ["warehouse", "logistics", "windfarm", "toy"])
def test_every_shipped_twin_crosses_the_wire(kind: str) -> None:
    """Each shipped twin's requests, plans and evaluations cross the wire: a real order, its
    reference plans and their evaluations round-trip, and the twin's types are described
    for clients as JSON."""
    twin = registry.make(kind)
    wire = Wire.for_twin(twin)
    json.dumps(wire.types())
    order = next(o for seed in range(50)
                 for o in twin.orders(np.random.default_rng(seed), 3_600_000))
    plan = twin.solve(order, twin.baseline_method)
    ev = twin.evaluate(plan, order, 7)
    obs = Observation(tick=1, address="0x" + "ab" * 20, role=Role.PROVIDER, balance=1,
                      nonce=0, orders=(order,), jobs=(), open_jobs=(), quotes=(),
                      results=(SimResult(job_id=1, plans=(plan,), evaluations=(ev,), cu=ev.cu,
                                         cost=2),),
                      evaluators=(), planner=None, rng=None)
    back = wire.decode_observation(loads(dumps(wire.encode_observation(obs))), planner=None,
                                   rng=None)
    assert back == obs and type(back.results[0].evaluations[0]) is type(ev)
    sub = Submit(job_id=2**70, plan=plan)
    assert wire.decode_action(loads(dumps(wire.encode_action(sub)))) == sub


BID = {"type": "Bid", "job_id": "7", "price": "1500"}


@pytest.mark.parametrize(("data", "says"), [
    ({**BID, "type": "Bidd"}, r"action\.type: expected an action type .* \(did you mean 'Bid'"),
    ({"job_id": "7", "price": "1"}, r"action\.type: expected an action type .*got nothing"),
    ({**BID, "prise": "1"}, r"action\.prise: expected a field of Bid .*did you mean 'price'"),
    ({"type": "Bid", "job_id": "7"}, r"action\.price: expected the field 'price' of Bid"),
    ({**BID, "price": 1500}, r"action\.price: expected an integer as a string .*number 1500"),
    ({**BID, "price": "1.5e3"}, r"action\.price: expected an integer as a string"),
    ({**BID, "price": "0015"}, r"action\.price: expected an integer as a string"),
    ({**BID, "price": "9" * 1_001}, r"action\.price: expected an integer as a string"),
    ({**BID, "price": True}, r"action\.price: .*got true"),
    ({**BID, "price": None}, r"action\.price: .*got null"),
    ({"type": "PostJob", "order_id": "o", "budget": "1", "expires_in": 1.0},
     r"action\.expires_in: expected an integer number .*number 1\.0"),
    ({"type": "PostJob", "order_id": "o", "budget": "1", "expires_in": 2**53},
     r"action\.expires_in: expected an integer number within"),
    ({"type": "Pay", "to": "0x1234", "amount": "1"}, r"action\.to: expected an address"),
    ({"type": "Contribute", "pool": "p", "content": "0xabc", "units": "1"},
     r"action\.content: expected bytes"),
    ({"type": "Submit", "job_id": "1", "plan": {"solver": "s"}},
     r"action\.plan\.route: expected the field 'route' of Plan"),
    ({"type": "Submit", "job_id": "1", "plan": {"solver": "s", "route": [1, "2"]}},
     r"action\.plan\.route\[1\]: expected an integer number"),
    ({"type": "Simulate", "job_id": "1", "plans": {"solver": "s", "route": []}},
     r"action\.plans: expected an array, got an object"),
    (["Bid"], r"action: expected an action object, got an array"),
])
def test_decoding_is_strict_and_names_the_field(data: Any, says: str) -> None:
    """An unknown type or field (with a near match), a missing field, a number where a
    string belongs and the reverse, a float or an unsafe number for an int, a malformed
    address or byte string, a plan with a missing or mistyped field: each is a WireError that
    says where, what was expected and what was there."""
    with pytest.raises(WireError, match=says):
        WIRE.decode_action(data)


@pytest.mark.parametrize(("raw", "says"), [
    (b'{"type": "Bid", "type": "Pay"}', "'type' twice"),
    (b'{"price": NaN}', "no NaN or Infinity"),
    (b"\xff\xfe", "UnicodeDecodeError"),
    (b'{"a": 1} {"b": 2}', "one JSON document"),
    (b"[" * 100_000 + b"]" * 100_000, "nested at most 64 deep"),
    (b'["\\n", ' + b"[" * 100_000 + b"]" * 100_000 + b"]", "nested at most 64 deep"),
])
def test_messages_are_parsed_strictly(raw: bytes, says: str) -> None:
    """A message is one UTF-8 JSON document without repeated keys, NaN or infinities, nested
    at most 64 deep (checked before the parser recurses: with the recursion limit libraries
    set, 100,000 brackets would crash the process): anything else is a WireError."""
    with pytest.raises(WireError, match=re.escape(says)):
        loads(raw)


class EvilInt(int):
    def __index__(self) -> int:
        raise SystemExit("indexed")


class SubBid(Bid):
    pass


@pytest.mark.parametrize(("action", "says"), [
    (Bid(job_id=1, price=EvilInt(5)), r"actions\[0\]\.price: expected an int, got .*EvilInt"),
    (Bid(job_id=1, price=1.0), r"actions\[0\]\.price: expected an int, got float"),
    (Bid(job_id=True, price=1), r"actions\[0\]\.job_id: expected an int, got bool"),
    (SubBid(job_id=1, price=1), r"actions\[0\]: expected an action .*SubBid"),
    (Submit(job_id=1, plan=("solver", (1,))), r"actions\[0\]\.plan: expected a Plan"),
    (Pay(to="nobody", amount=1), r"actions\[0\]\.to: expected an address"),
    (Simulate(job_id=1, plans=iter(())), r"actions\[0\]\.plans: expected a tuple"),
])
def test_encoding_takes_plain_values_only(action: Any, says: str) -> None:
    """What a policy hands over is encoded from plain values only: an int subclass (whose
    methods could run code), a float or a bool for an int, an action subclass, a plan of
    another type, a malformed address, an iterator for a tuple are WireErrors naming the
    field; numpy integers are taken as the ints they hold."""
    with pytest.raises(WireError, match=says):
        WIRE.encode_actions([action])
    assert WIRE.encode_action(Bid(job_id=np.int64(3), price=np.uint8(4))) == {
        "type": "Bid", "job_id": "3", "price": "4"}
