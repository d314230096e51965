"""Tests of the L1 wind-farm twin: spec, requests, planners, Monte Carlo evaluation, metering."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worlds import InvalidPlan, InvalidSpec, TwinSpec, check_twin
from worlds.windfarm import (
    DEFAULT_COMPONENTS,
    SOLVERS,
    Order,
    Plan,
    WindfarmTwin,
    windfarm_spec,
)
from worlds.windfarm._failures import NEVER, gamma_lives_h, weibull_lives_h
from worlds.windfarm._farm import DAY_MS, farm_from_body
from worlds.windfarm._futures import Futures, Request, _union_ms, draw_futures, run_schedule
from worlds.windfarm._weather import access_days, access_days_loop, day_months, next_access

SEED = 11
#: sha256 of the default spec's canonical JSON: a change here changes every result.
GOLDEN_SHA256 = "5b5b0053da1eb1598b7e81d491e6524f0b97d3ab37f0cbb75683044443858ded"


def _components(shape_milli: int) -> list[dict]:
    """The default components, every one a Weibull of the given shape (gamma ones at ~η)."""
    out = []
    for c in DEFAULT_COMPONENTS:
        scale = c["failure"].get("scale_h", c["initial_age_max_h"])
        out.append({**c, "failure": {"model": "weibull", "shape_milli": shape_milli,
                                     "scale_h": scale}})
    return out


def _orders(twin: WindfarmTwin, n: int, seed: int) -> list[Order]:
    rng = np.random.default_rng(seed)
    out: list[Order] = []
    while len(out) < n:
        out += twin.orders(rng, 3_600_000)
    return out[:n]


@pytest.fixture(scope="module")
def twin() -> WindfarmTwin:
    return WindfarmTwin(windfarm_spec())


@pytest.fixture(scope="module")
def orders(twin: WindfarmTwin) -> list[Order]:
    return _orders(twin, 30, 2024)


def _costs(twin: WindfarmTwin, orders: list[Order], method: str, seed: int = SEED) -> np.ndarray:
    return np.array([twin.evaluate(twin.solve(o, method), o, seed).cost for o in orders])


# --- spec -------------------------------------------------------------------------------------
def test_check_twin_passes_on_default(twin: WindfarmTwin) -> None:
    """The shipped compliance checker passes on the default twin."""
    check_twin(twin)


def test_spec_is_integer_only_and_hash_stable() -> None:
    """The body holds no floats; two builds and a JSON round trip give the golden hash."""

    def leaves(v):
        if isinstance(v, dict):
            for x in v.values():
                yield from leaves(x)
        elif isinstance(v, list):
            for x in v:
                yield from leaves(x)
        else:
            yield v

    spec = windfarm_spec()
    assert all(isinstance(v, int | str) for v in leaves(spec.body))
    assert spec.kind == "windfarm" and spec.body["engine_version"] == "windfarm-l1/1"
    assert windfarm_spec().sha256 == spec.sha256 == TwinSpec.from_json(spec.to_json()).sha256
    assert spec.sha256 == GOLDEN_SHA256
    assert windfarm_spec(n_crews=3).sha256 != spec.sha256
    assert [c["name"] for c in spec.body["components"]] == [
        "rotor", "main_bearing", "gearbox", "generator"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_turbines": 10.0}, "expected an int"),
        ({"capacity_factor_bps": 10_001}, r"in 1\.\.10000"),
        ({"p_stay_good_bps": (9000,) * 11}, "expected 12"),
        ({"components": []}, "empty"),
        ({"components": [{**DEFAULT_COMPONENTS[0], "failure": {"model": "weibul"}}]},
         "did you mean 'weibull'"),
        ({"components": [{**DEFAULT_COMPONENTS[0], "repair_cost": 1}]}, "unknown key"),
        ({"components": [{**DEFAULT_COMPONENTS[1],
                          "failure": {**DEFAULT_COMPONENTS[1]["failure"],
                                      "condition_wear": 2000}}]}, "exceeds failure_wear"),
        ({"components": [DEFAULT_COMPONENTS[0], DEFAULT_COMPONENTS[0]]}, "unique"),
        ({"request_turbines_max": 11}, r"in 1\.\.10"),
        ({"scheduler_seeds": ()}, "at least one"),
    ],
)
def test_spec_parameter_validation(kwargs: dict, match: str) -> None:
    """Bad builder parameters raise InvalidSpec saying what was expected."""
    with pytest.raises(InvalidSpec, match=match):
        windfarm_spec(**kwargs)


def test_twin_rejects_other_specs() -> None:
    """A spec of another kind or engine version is refused with the fix."""
    spec = windfarm_spec()
    with pytest.raises(InvalidSpec, match="kind 'windfarm'"):
        WindfarmTwin(dataclasses.replace(spec, kind="warehouse"))
    body = json.loads(spec.to_json())["body"]
    body["engine_version"] = "windfarm-l1/0"
    with pytest.raises(InvalidSpec, match="engine_version"):
        WindfarmTwin(TwinSpec(kind="windfarm", name="x", version="1.0.0", body=body))


# --- requests ---------------------------------------------------------------------------------
def test_orders_are_deterministic_and_well_formed(twin: WindfarmTwin) -> None:
    """Same rng seed, same requests; turbines sorted unique; states in range; Poisson rate."""
    a = twin.orders(np.random.default_rng(9), 36_000_000)
    assert a == twin.orders(np.random.default_rng(9), 36_000_000)
    assert len({o.order_id for o in a}) == len(a)
    farm = twin.farm
    for o in a:
        assert list(o.lines) == sorted(set(o.lines)) and 1 <= len(o.lines) <= 5
        age = np.array(o.age_h).reshape(-1, 4)
        wear = np.array(o.wear).reshape(-1, 4)
        assert (age >= 0).all() and (age <= farm.age_max_h).all()
        assert (wear[:, ~farm.is_gamma] == 0).all()
        assert (wear[:, farm.is_gamma] < farm.failure_wear[farm.is_gamma]).all()
        assert 0 <= o.start_doy < 365
    counts = [len(twin.orders(np.random.default_rng(s), 3_600_000)) for s in range(400)]
    assert np.mean(counts) == pytest.approx(4, rel=0.1)
    assert twin.orders(np.random.default_rng(0), 0) == []


def test_make_order_validates_and_sorts(twin: WindfarmTwin) -> None:
    """make_order sorts turbines with their states and refuses malformed states."""
    o = twin.make_order([5, 2], age_h=[1, 2, 3, 4, 5, 6, 7, 8], start_doy=3, order_id="x")
    assert o.lines == (2, 5) and o.age_h == (5, 6, 7, 8, 1, 2, 3, 4) and o.wear == (0,) * 8
    with pytest.raises(InvalidPlan, match="need 4 ages"):
        twin.make_order([1], age_h=[1, 2], order_id="x")
    with pytest.raises(InvalidPlan, match=r"turbine ids in 0\.\.9"):
        twin.make_order([10], age_h=[1] * 4, order_id="x")
    with pytest.raises(InvalidPlan, match="failure level"):
        twin.make_order([1], age_h=[1] * 4, wear=[0, 1000, 0, 0], order_id="x")
    with pytest.raises(InvalidPlan, match="start_doy"):
        twin.make_order([1], age_h=[1] * 4, start_doy=365, order_id="x")


# --- planners ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method", SOLVERS)
def test_every_solver_gives_a_valid_schedule(twin: WindfarmTwin, orders: list[Order],
                                             method: str) -> None:
    """Each solver books replacements of the request's components inside the horizon."""
    for order in orders[:8]:
        plan = twin.solve(order, method)
        assert plan.solver == method and len(plan.schedule) == twin.farm.n_crews
        for jobs in plan.schedule:
            for turbine, c, day in jobs:
                assert turbine in order.lines and 0 <= c < 4 and 0 <= day < 365
        ev = twin.evaluate(plan, order, SEED)
        assert ev.valid, ev.reason
    assert twin.solve(orders[0], "corrective").schedule == ((), ())


def test_age_rule_books_due_components(twin: WindfarmTwin) -> None:
    """The age rule replaces a component now if past its threshold, later when it gets there."""
    # rotor threshold 40000 h: age 45000 is due on day 0, age 40000 - 24*100 on day 100.
    order = twin.make_order([0, 1], age_h=[45_000, 0, 0, 0, 40_000 - 2_400, 0, 0, 0],
                            order_id="due")
    jobs = sorted(j for crew in twin.solve(order, "age_replacement").schedule for j in crew)
    assert jobs == [(0, 0, 0), (1, 0, 100)]


def test_unknown_solver_suggests(twin: WindfarmTwin, orders: list[Order]) -> None:
    """An unknown solver name raises InvalidPlan with a near-match suggestion."""
    with pytest.raises(InvalidPlan, match="did you mean 'age_replacement'"):
        twin.solve(orders[0], "age-replacement")


def test_sim_scheduler_search_depends_on_rng_only_when_given(twin: WindfarmTwin,
                                                             orders: list[Order]) -> None:
    """Without rng the scheduler is deterministic; with rng it searches on drawn seeds."""
    order = max(orders, key=lambda o: len(o.lines))
    assert twin.solve(order, "sim_scheduler") == twin.solve(order, "sim_scheduler")
    plan = twin.solve(order, "sim_scheduler", np.random.default_rng(1))
    assert twin.evaluate(plan, order, SEED).valid


# --- evaluation -------------------------------------------------------------------------------
def test_evaluate_is_deterministic(twin: WindfarmTwin, orders: list[Order]) -> None:
    """Same plan, request and seed: identical evaluation and receipt, also on a new twin."""
    other = WindfarmTwin(windfarm_spec())
    for order in orders[:5]:
        plan = twin.solve(order, "condition_threshold")
        a = twin.evaluate(plan, order, SEED)
        assert a == twin.evaluate(plan, order, SEED) == other.evaluate(plan, order, SEED)
        assert a.receipt.to_dict() == other.evaluate(plan, order, SEED).receipt.to_dict()


def test_other_seed_or_plan_changes_the_receipt(twin: WindfarmTwin, orders: list[Order]) -> None:
    """Another seed gives other futures (another result); another plan another plan hash."""
    order = max(orders, key=lambda o: len(o.lines))
    plan = twin.solve(order, "age_replacement")
    a, b = twin.evaluate(plan, order, 1), twin.evaluate(plan, order, 2)
    assert a.receipt.result_hash != b.receipt.result_hash and a.cost != b.cost
    c = twin.evaluate(twin.solve(order, "corrective"), order, 1)
    assert c.receipt.plan_hash != a.receipt.plan_hash


def test_receipt_fields(twin: WindfarmTwin, orders: list[Order]) -> None:
    """The receipt names the twin, tier L1, hz 0, the seed, the engine version and the CU."""
    ev = twin.baseline(orders[0], SEED)
    r = ev.receipt
    assert (r.twin_id, r.tier, r.hz, r.seed, r.engine_version, r.cu) == (
        twin.twin_id, "L1", 0, SEED, "windfarm-l1/1", ev.cu)
    assert len(r.plan_hash) == len(r.result_hash) == 64


def test_evaluation_figures_are_consistent(twin: WindfarmTwin, orders: list[Order]) -> None:
    """time_ms is the downtime; energy lost and cost follow from the spec's units."""
    farm = twin.farm
    for order in orders[:5]:
        ev = twin.evaluate(twin.solve(order, "age_replacement"), order, SEED)
        assert ev.time_ms == ev.downtime_ms > 0
        kwh = ev.downtime_ms * 3000 * 3500 / 10_000 / 3_600_000
        assert ev.energy_lost_kwh == pytest.approx(kwh, abs=1)
        assert ev.cost >= ev.energy_lost_kwh * farm.price_eur_per_mwh // 1000
        max_down = len(order.lines) * farm.run_days * DAY_MS
        assert ev.downtime_ms <= max_down


def test_golden_receipt(twin: WindfarmTwin) -> None:
    """A fixed request's receipt is pinned: a change to the engine shows up here."""
    order = twin.make_order([3, 7], age_h=[40_000, 30_000, 20_000, 50_000, 1_000, 2_000, 3_000,
                                           4_000], wear=[0, 500, 300, 0, 0, 20, 30, 0],
                            start_doy=100, order_id="golden")
    r = twin.evaluate(twin.solve(order, "age_replacement"), order, 7).receipt
    assert (r.cu, r.plan_hash[:16], r.result_hash[:16]) == (4772, "56e44e85e616bb68",
                                                            "1c107e208296307f")


@pytest.mark.parametrize(
    ("schedule", "reason"),
    [
        (((99, 0, 0),), "turbine 99 is not in the request"),
        (((-1, 0, 0),), "is not in the request"),
        (((None, 0, 0),), "triple of ints"),
        (((0, 4, 0),), "unknown component 4; expected 0=rotor"),
        (((0, 0, 365),), "outside the horizon 0..364"),
        (((0, 0, -1),), "outside the horizon"),
        (((0, 0, 5), (0, 1, 6)), "crew 0 is double-booked"),  # rotor replacement takes 2 days
        (((0, 0, 5, 1),), "triple of ints"),
        (((0, 0, 5.0),), "triple of ints"),
        (((0, 0, True),), "triple of ints"),
    ],
)
def test_invalid_schedules_are_reported_not_raised(twin: WindfarmTwin, schedule: tuple,
                                                   reason: str) -> None:
    """A broken schedule gives valid=False, a reason, zero figures and still the metered CU."""
    order = twin.make_order([0, 1], age_h=[1000] * 8, order_id="bad")
    plan = Plan(solver="x", schedule=(schedule, ()))
    ev = twin.evaluate(plan, order, SEED)
    assert not ev.valid and reason in ev.reason
    assert ev.cost == ev.time_ms == ev.downtime_ms == ev.energy_lost_kwh == 0
    assert ev.cu == twin.cu_for(plan, order) > 0


def test_schedule_level_errors(twin: WindfarmTwin) -> None:
    """Too many crews, one component booked by two crews at once, a non-tuple schedule."""
    order = twin.make_order([0, 1], age_h=[1000] * 8, order_id="bad")
    cases = [
        (((), (), ()), "schedule has 3 crews; the farm has 2"),
        ((((0, 2, 10),), ((0, 2, 11),)), "turbine 0 component 2 is booked twice at once"),
        ("x", "expected a tuple"),
        ((5,), "crew 0's jobs are a int"),
    ]
    for schedule, reason in cases:
        ev = twin.evaluate(Plan(solver="x", schedule=schedule), order, SEED)
        assert not ev.valid and reason in ev.reason, ev.reason
    fine = Plan(solver="x", schedule=(((0, 2, 10),), ((0, 2, 13),)))  # gearbox: 3 days
    assert twin.evaluate(fine, order, SEED).valid


def test_not_a_plan_or_order_raises(twin: WindfarmTwin, orders: list[Order]) -> None:
    """Passing something that is not a Plan, an Order or an int seed raises InvalidPlan."""
    plan = twin.solve(orders[0], "corrective")
    with pytest.raises(InvalidPlan, match="expected a Plan"):
        twin.evaluate(plan.schedule, orders[0], SEED)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlan, match="expected an Order"):
        twin.evaluate(plan, orders[0].lines, SEED)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlan, match="seed"):
        twin.evaluate(plan, orders[0], -1)
    bad = orders[0]._replace(age_h=orders[0].age_h[:-1])
    with pytest.raises(InvalidPlan, match="ages and wears"):
        twin.evaluate(plan, bad, SEED)


def test_cu_is_known_up_front_and_follows_the_formula(twin: WindfarmTwin,
                                                      orders: list[Order]) -> None:
    """cu_for equals evaluate().cu and the spec formula; the scheduler's plans cost more."""
    for order in orders[:6]:
        unit = 1460 * (30 + len(order.lines) * 10)
        for method in SOLVERS:
            plan = twin.solve(order, method)
            cu = twin.cu_for(plan, order)
            assert cu == twin.evaluate(plan, order, SEED).cu
            if method != "sim_scheduler":
                assert cu == 100 + 64 * unit // 1000
        search = twin.cu_for(twin.solve(order, "sim_scheduler"), order) - (100 + 64 * unit
                                                                           // 1000)
        run = 600 + 64 * 1460 * len(order.lines) * 6 // 1000
        runs = (3 + 4 * (5 + len(order.lines))) * 2
        assert search == 2 * 64 * unit // 1000 + runs * run


# --- textbook behaviour -----------------------------------------------------------------------
def test_age_replacement_beats_corrective_with_wear_out() -> None:
    """Weibull shape 3 (wear-out): the age rule costs less than repairing on failure, and a
    far too early threshold gives that back (the threshold has to be well chosen)."""
    twin = WindfarmTwin(windfarm_spec(components=_components(3000), mc_samples=96))
    orders = _orders(twin, 24, 5)
    corrective = _costs(twin, orders, "corrective")
    age = _costs(twin, orders, "age_replacement")
    assert age.mean() < 0.85 * corrective.mean()
    assert (age < corrective).mean() >= 0.8
    early = np.array([twin.evaluate(Plan(solver="x", schedule=twin._rule(o, (2000,) * 4, False)),
                                    o, SEED).cost for o in orders])
    assert early.mean() > age.mean()


def test_age_replacement_loses_with_infant_mortality() -> None:
    """Weibull shape 0.6 (infant mortality): replacing old components by new ones costs more
    than repairing on failure, on average and for most requests."""
    twin = WindfarmTwin(windfarm_spec(components=_components(600), mc_samples=96))
    orders = _orders(twin, 24, 5)
    corrective = _costs(twin, orders, "corrective")
    age = _costs(twin, orders, "age_replacement")
    assert age.mean() > 1.2 * corrective.mean()
    assert (age > corrective).mean() >= 0.8


def test_condition_rule_beats_age_rule_when_wear_is_observed() -> None:
    """With gamma-process components whose wear is observed, the condition rule costs less
    than the age rule (each at the spec's threshold), and both less than corrective."""
    twin = WindfarmTwin(windfarm_spec(mc_samples=96))
    orders = _orders(twin, 30, 6)
    corrective = _costs(twin, orders, "corrective")
    age = _costs(twin, orders, "age_replacement")
    condition = _costs(twin, orders, "condition_threshold")
    assert condition.mean() < 0.97 * age.mean() < 0.97 * corrective.mean()


def test_sim_scheduler_is_at_least_as_good_as_the_rules(twin: WindfarmTwin,
                                                        orders: list[Order]) -> None:
    """Searching with the twin's own Monte Carlo (on other futures than the evaluation's)
    finds schedules no worse on average than the best rule, here the condition rule."""
    sample = orders[:12]
    condition = _costs(twin, sample, "condition_threshold")
    searched = _costs(twin, sample, "sim_scheduler")
    assert searched.mean() <= condition.mean()
    assert searched.mean() <= _costs(twin, sample, "age_replacement").mean()


def test_sim_scheduler_recovers_from_badly_chosen_thresholds() -> None:
    """With thresholds far too late (condition wear 950, ages x 2.5), both rules barely beat
    corrective; the scheduler's search over threshold scales finds much cheaper plans."""
    comps = []
    for c in DEFAULT_COMPONENTS:
        failure = dict(c["failure"])
        if failure["model"] == "gamma":
            failure["condition_wear"] = 950
        comps.append({**c, "failure": failure, "age_threshold_h": c["age_threshold_h"] * 5 // 2})
    twin = WindfarmTwin(windfarm_spec(components=comps))
    orders = _orders(twin, 8, 7)
    best_rule = np.minimum(_costs(twin, orders, "age_replacement"),
                           _costs(twin, orders, "condition_threshold"))
    assert _costs(twin, orders, "sim_scheduler").mean() < 0.85 * best_rule.mean()


def test_preventive_work_saves_downtime(twin: WindfarmTwin, orders: list[Order]) -> None:
    """The economy values time: planned replacements cut mean downtime against the baseline."""
    base = np.array([twin.baseline(o, SEED).time_ms for o in orders[:12]])
    age = np.array([twin.evaluate(twin.solve(o, "age_replacement"), o, SEED).time_ms
                    for o in orders[:12]])
    assert age.mean() < 0.7 * base.mean()


# --- the Monte Carlo parts ----------------------------------------------------------------------
def test_weibull_lifetimes_match_the_spec_mean() -> None:
    """Fresh Weibull lives drawn for the futures average scale * Gamma(1 + 1/k) (within 2%),
    and residual lives at age a average the integral of R from a, over R(a)."""
    comps = [{**DEFAULT_COMPONENTS[0], "failure": {"model": "weibull", "shape_milli": k,
                                                   "scale_h": 6_000}, "name": f"c{k}"}
             for k in (800, 1500, 3000)]
    farm = farm_from_body(windfarm_spec(components=comps, horizon_days=3000,
                                        tail_days=3000).body)
    req = Request(n_turbines=10, age_h=np.zeros(30, dtype=np.int64),
                  wear=np.zeros(30, dtype=np.int64), start_doy=0)
    fut = draw_futures(farm, req, np.random.SeedSequence(1), 1000)
    for j, k in enumerate((0.8, 1.5, 3.0)):
        lives = fut.lives[:, j::3, 1:]                 # fresh lives of component j
        assert lives.max() < NEVER                     # window 6000 days: nothing censored
        assert (lives / 3_600_000).mean() == pytest.approx(6_000 * math.gamma(1 + 1 / k),
                                                           rel=0.02)
    # Residual life at age a: E[T - a | T > a] = int_a^inf R / R(a).
    u = np.random.default_rng(2).random(200_000)
    t = np.linspace(4_000, 60_000, 200_001)
    reliability = np.exp(-((t / 6_000) ** 2.0))
    expected = np.trapezoid(reliability, t) / reliability[0]
    assert weibull_lives_h(u, 4_000.0, 2.0, 6_000.0).mean() == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("exp", [1.0, 1.5])
def test_gamma_bridge_matches_a_walked_path(exp: float) -> None:
    """First passages from the gamma bridge match walking the process in two-day steps: the
    same share failing in the window and the same mean and quartiles of the failure time."""
    n, window_h = 20_000, 3 * 8760.0
    rate, scale, limit, wear0, age0 = 2.0, 100.0, 1000.0, 300.0, 8760.0
    full = np.full(n, 1.0)
    bridge = gamma_lives_h(np.random.default_rng(3), full * wear0, full * age0, full * rate,
                           full * exp, full * scale, full * limit, window_h)
    # Reference: two-day increments Gamma(rate * ((t+2d)^b - t^b)) summed until the limit.
    rng = np.random.default_rng(4)
    steps = int(window_h / 48)
    t = (age0 + 48.0 * np.arange(steps + 1)) / 8760.0
    shape = rate * np.diff(t ** exp)
    wear = wear0 + scale * np.cumsum(rng.standard_gamma(shape, size=(n, steps)), axis=1)
    crossed = wear >= limit
    walked = np.where(crossed.any(axis=1), 48.0 * (crossed.argmax(axis=1) + 0.5), np.inf)
    fail_b, fail_w = np.isfinite(bridge), np.isfinite(walked)
    assert fail_b.mean() == pytest.approx(fail_w.mean(), abs=0.015)
    assert bridge[fail_b].mean() == pytest.approx(walked[fail_w].mean(), rel=0.02)
    qb, qw = np.percentile(bridge[fail_b], [25, 75]), np.percentile(walked[fail_w], [25, 75])
    assert qb == pytest.approx(qw, rel=0.03)


def test_weather_vectorised_equals_the_day_loop() -> None:
    """The scan-based Markov chain equals stepping day by day, exactly, and its long-run
    accessible share per month matches the chain's stationary law."""
    farm = farm_from_body(windfarm_spec().body)
    rng = np.random.default_rng(5)
    u = rng.random((16, 800))
    months = day_months(200, 800)
    fast = access_days(u, months, farm.stay_good, farm.stay_bad)
    assert np.array_equal(fast, access_days_loop(u, months, farm.stay_good, farm.stay_bad))
    big = access_days(rng.random((400, 365)), day_months(0, 365), farm.stay_good,
                      farm.stay_bad)
    july = big[:, 185:210].mean()
    january = big[:, 5:30].mean()
    assert july == pytest.approx(0.58 / 0.65, abs=0.03)
    assert january == pytest.approx(0.25 / 0.55, abs=0.04)
    nxt = next_access(fast)
    for s in range(3):
        for d in (0, 17, 799):
            good = np.flatnonzero(fast[s, d:])
            assert nxt[s, d] == (d + good[0] if len(good) else 800)


def test_union_of_down_intervals() -> None:
    """Overlapping down intervals of one turbine count once; turbines and futures apart."""
    s = np.array([0, 0, 0, 1, 0])
    t = np.array([0, 0, 0, 0, 1])
    a = np.array([10, 15, 40, 10, 12])
    b = np.array([20, 30, 45, 20, 14])
    out = _union_ms([(s, t, a, b)], n_samples=2, n_turbines=2, run_end=100)
    assert out.tolist() == [20 + 5 + 2, 10]


# --- the event semantics, on hand-made futures ----------------------------------------------------
def _hand_farm(n_crews: int = 1):
    comp = {"name": "x", "failure": {"model": "weibull", "shape_milli": 2000, "scale_h": 1000},
            "repair_cost_eur": 100, "replace_cost_eur": 10, "repair_duration_ms": 2 * DAY_MS,
            "replace_duration_ms": DAY_MS, "lead_time_ms": 5 * DAY_MS, "age_threshold_h": 10,
            "initial_age_max_h": 10}
    return farm_from_body(windfarm_spec(components=[comp, {**comp, "name": "y"}],
                                        n_crews=n_crews, horizon_days=30, tail_days=30).body)


def _hand_run(farm, lives_days: list[list[float]], jobs=(), bad_days=(),
              crew_off: dict[int, range] | None = None) -> tuple:
    """One future; lives per lane (days; inf = never), jobs (day, crew, lane), storm days,
    and days each crew is not available."""
    n_lanes = len(lives_days)
    lives = np.full((1, n_lanes, 6), NEVER, dtype=np.int64)
    for j, ls in enumerate(lives_days):
        for r, d in enumerate(ls):
            lives[0, j, r] = NEVER if math.isinf(d) else int(d * DAY_MS)
    workable = np.ones((farm.n_crews, 60), dtype=bool)
    workable[:, list(bad_days)] = False
    for k, days in (crew_off or {}).items():
        workable[k, list(days)] = False
    fut = Futures(next_ok=next_access(workable)[None], lives=lives)
    req = Request(n_turbines=n_lanes // 2, age_h=np.zeros(n_lanes, dtype=np.int64),
                  wear=np.zeros(n_lanes, dtype=np.int64), start_doy=0)
    arr = np.array(jobs, dtype=np.int64).reshape(-1, 3)
    out = run_schedule(farm, req, fut, arr[:, 0], arr[:, 1], arr[:, 2])
    return (int(out.maintenance_cost[0]), int(out.down_ms[0]) / DAY_MS, int(out.failures[0]),
            int(out.replacements[0]))


def test_failure_waits_for_parts_crew_and_weather() -> None:
    """A failure on day 10 with 5 days lead and a 2-day repair is down 7 days; storms on
    days 15-19 push the repair to start on day 20 (down 12 days)."""
    farm = _hand_farm()
    assert _hand_run(farm, [[10, math.inf], [math.inf]]) == (100, 7.0, 1, 0)
    assert _hand_run(farm, [[10, math.inf], [math.inf]], bad_days=range(15, 20)) == (
        100, 12.0, 1, 0)


def test_planned_replacement_renews_or_is_dropped() -> None:
    """A replacement before the failure renews the component (1 day down, failure avoided);
    one after the failure is dropped and the repair happens as without it."""
    farm = _hand_farm()
    assert _hand_run(farm, [[10, math.inf], [math.inf]], jobs=[(5, 0, 0)]) == (10, 1.0, 0, 1)
    assert _hand_run(farm, [[10, math.inf], [math.inf]], jobs=[(12, 0, 0)]) == (100, 7.0, 1, 0)
    # The fresh component's life counts from the end of the replacement: fails on day 6 + 3.
    assert _hand_run(farm, [[10, 3, math.inf], [math.inf]], jobs=[(5, 0, 0)]) == (
        110, 1.0 + 7.0, 1, 1)


def test_one_crew_serves_failures_in_turn_and_downtime_is_a_union() -> None:
    """Two turbines failing together with one crew: the second repair waits for the first.
    Two components of one turbine down together count once."""
    one = _hand_farm(n_crews=1)
    lanes = [[10, math.inf], [math.inf], [10, math.inf], [math.inf]]
    assert _hand_run(one, lanes) == (200, 7.0 + 9.0, 2, 0)
    two = _hand_farm(n_crews=2)
    assert _hand_run(two, lanes) == (200, 14.0, 2, 0)
    same_turbine = [[10, math.inf], [11, math.inf]]
    assert _hand_run(two, same_turbine) == (200, 8.0, 2, 0)  # down days 10..18


def test_repairs_go_to_the_crew_that_can_start_first() -> None:
    """Crew 0 is free first but off on days 15-19: crew 1 repairs on day 15; with both off
    until day 17 and 18, crew 0 takes it on day 17. A planned job waits for its own crew."""
    two = _hand_farm(n_crews=2)
    lanes = [[10, math.inf], [math.inf]]
    assert _hand_run(two, lanes, crew_off={0: range(15, 20)}) == (100, 7.0, 1, 0)
    assert _hand_run(two, lanes, crew_off={0: range(15, 17), 1: range(15, 18)}) == (
        100, 9.0, 1, 0)
    assert _hand_run(two, lanes, jobs=[(5, 0, 0)], crew_off={0: range(5, 8)}) == (
        10, 1.0, 0, 1)  # replaced on day 8, before the failure on day 10


# --- properties -----------------------------------------------------------------------------------
_TWIN = WindfarmTwin(windfarm_spec(mc_samples=16))
_WEAR_MAX = (0, 999, 999, 0)


@st.composite
def _requests(draw) -> Order:
    turbines = draw(st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True))
    ages = [draw(st.integers(0, 120_000)) for _ in range(4 * len(turbines))]
    wear = [draw(st.integers(0, _WEAR_MAX[i % 4])) for i in range(4 * len(turbines))]
    return _TWIN.make_order(turbines, age_h=ages, wear=wear,
                            start_doy=draw(st.integers(0, 364)), order_id="h")


@settings(max_examples=25, deadline=None)
@given(order=_requests(), seed=st.integers(0, 2**32 - 1))
def test_property_rule_plans_are_valid_and_evaluations_deterministic(order: Order,
                                                                    seed: int) -> None:
    """For any request, the rules' plans are valid, evaluating twice is identical, figures
    are non-negative and bounded, and the corrective plan replaces nothing."""
    max_down = len(order.lines) * _TWIN.farm.run_days * DAY_MS
    for method in ("corrective", "age_replacement", "condition_threshold"):
        plan = _TWIN.solve(order, method)
        a = _TWIN.evaluate(plan, order, seed)
        assert a.valid, a.reason
        assert a == _TWIN.evaluate(plan, order, seed)
        assert 0 <= a.downtime_ms <= max_down and a.cost >= 0
        if method == "corrective":
            assert a.replacements_milli == 0 and a.cost == _TWIN.baseline(order, seed).cost


_jobs = st.tuples(st.integers(-2, 12), st.integers(-1, 5), st.integers(-5, 400))


@settings(max_examples=60, deadline=None)
@given(schedule=st.lists(st.lists(_jobs | st.just((0, 0)) | st.none(), max_size=4),
                         max_size=3))
def test_property_any_schedule_is_judged_not_raised(schedule: list) -> None:
    """Whatever a seller sends as a schedule, evaluate answers valid or a reason, charges the
    metered CU, and accepts exactly the schedules whose jobs name the request's turbines and
    components inside the horizon with no crew or component booked twice at once."""
    order = _TWIN.make_order([0, 3], age_h=[20_000] * 8, order_id="p")
    plan = Plan(solver="fuzz", schedule=tuple(tuple(jobs) for jobs in schedule))
    ev = _TWIN.evaluate(plan, order, 1)
    assert ev.cu == _TWIN.cu_for(plan, order)
    assert ev.valid == (ev.reason == "")
    jobs = [j for crew in schedule for j in crew]
    well_formed = len(schedule) <= 2 and all(
        isinstance(j, tuple) and len(j) == 3 and j[0] in (0, 3) and 0 <= j[1] < 4
        and 0 <= j[2] < 365 for j in jobs)
    if not well_formed:
        assert not ev.valid
