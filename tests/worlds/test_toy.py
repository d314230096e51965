"""Tests of the toy twin, the small reference twin and test double for code above worlds."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from worlds import (
    Evaluator,
    InvalidPlan,
    InvalidSpec,
    ServiceTwin,
    UnknownTier,
    WorldError,
    check_twin,
)
from worlds.toy import Order, Plan, ToyL0Evaluator, ToyTwin, toy_spec

SEED = 3


@pytest.fixture(scope="module")
def twin() -> ToyTwin:
    return ToyTwin(toy_spec())


@pytest.fixture(scope="module")
def order(twin: ToyTwin) -> Order:
    return twin.make_order([4, 0, 7, 2], order_id="toy-test")


def test_toy_passes_check_twin_and_the_protocols(twin: ToyTwin) -> None:
    """The toy twin passes the shipped checker, its L0 tier included, and is a ServiceTwin
    whose evaluators are Evaluators."""
    check_twin(twin)
    assert isinstance(twin, ServiceTwin)
    assert isinstance(twin.evaluator("L0"), Evaluator) and isinstance(twin, Evaluator)


def test_time_is_travel_service_and_the_seeded_waits(twin: ToyTwin, order: Order) -> None:
    """time_ms = Manhattan travel at the courier speed + service per stop + each visited
    stop's seeded wait, worked out by hand from the spec."""
    body = twin.spec.body
    xy = {-1: (0, 0), **{s: tuple(p) for s, p in enumerate(body["stops_mm"])}}
    speed, service = body["courier"]["speed_mm_s"], body["courier"]["service_ms"]
    route = (0, 7, 2, 4)
    legs = [abs(xy[a][0] - xy[b][0]) + abs(xy[a][1] - xy[b][1])
            for a, b in itertools.pairwise([-1, *route, -1])]
    dist, travel = sum(legs), sum(-(-mm * 1000 // speed) for mm in legs)
    waits = twin.waits(SEED)
    ev = twin.evaluate(Plan(solver="hand", route=route), order, SEED)
    assert ev.valid and ev.distance_mm == dist
    assert ev.time_ms == travel + 4 * service + sum(waits[s] for s in route)
    l0 = twin.evaluator("L0").evaluate(Plan(solver="hand", route=route), order, SEED)
    assert l0.time_ms == travel + 4 * service and l0.cu == body["metering"]["l0_cu"]
    assert l0.receipt.tier == "L0" and ev.receipt.tier == "L1"


def test_solvers_improve_on_the_baseline(twin: ToyTwin) -> None:
    """Over many requests two_opt <= nearest in distance, and both beat the given order on
    average; with an rng two_opt gives varied but valid plans."""
    rng = np.random.default_rng(0)
    orders = [o for _ in range(20) for o in twin.orders(rng, 600_000)]
    dist = {m: [twin.evaluate(twin.solve(o, m), o, SEED).distance_mm for o in orders]
            for m in twin.solvers}
    assert all(a <= b for a, b in zip(dist["two_opt"], dist["nearest"], strict=True))
    assert np.mean(dist["nearest"]) < np.mean(dist["given"])
    big = max(orders, key=lambda o: len(o.lines))
    plans = {twin.solve(big, "two_opt", np.random.default_rng(i)).route for i in range(10)}
    assert all(twin.evaluate(Plan(solver="x", route=r), big, SEED).valid for r in plans)


def test_invalid_routes_are_charged_and_explained(twin: ToyTwin, order: Order) -> None:
    """A route that misses or repeats a stop is invalid with a reason, still charged its CU;
    a non-Plan, non-Order or bad seed raises InvalidPlan."""
    plan = twin.solve(order, "nearest")
    bad = plan._replace(route=plan.route[:-1] + plan.route[:1])
    ev = twin.evaluate(bad, order, SEED)
    assert not ev.valid and "exactly once" in ev.reason and ev.cu == twin.cu_for(bad, order)
    with pytest.raises(InvalidPlan, match="expected a Plan"):
        twin.evaluate(plan.route, order, SEED)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlan, match="expected an Order"):
        twin.cu_for(plan, "o-1")  # type: ignore[arg-type]
    with pytest.raises(InvalidPlan, match="seed"):
        twin.evaluate(plan, order, -1)
    with pytest.raises(InvalidPlan, match="did you mean 'nearest'"):
        twin.solve(order, "neares")


def test_tiers_and_unknown_tiers(twin: ToyTwin) -> None:
    """The toy offers L0 and L1; L1 is the twin itself; L2 raises UnknownTier naming both."""
    assert twin.tiers == ("L0", "L1") and twin.evaluator() is twin
    assert isinstance(twin.evaluator("L0"), ToyL0Evaluator)
    with pytest.raises(UnknownTier, match="toy twin has no tier 'L2'; it offers L0, L1"):
        twin.evaluator("L2")


def test_spec_builder_rejects_bad_parameters() -> None:
    """Out-of-range builder parameters raise InvalidSpec saying what was expected."""
    with pytest.raises(InvalidSpec, match="n_stops is 200"):
        toy_spec(n_stops=200, extent=2)
    with pytest.raises(InvalidSpec, match="lines_max"):
        toy_spec(n_stops=3, lines_max=4)
    with pytest.raises(InvalidSpec, match="speed_mm_s"):
        toy_spec(speed_mm_s=0)


class _NoUnknownTier(ToyTwin):
    def evaluator(self, tier: str = "L1", *, hz: int | None = None) -> Any:
        return super().evaluator(tier, hz=hz) if tier in self.tiers else self


class _WrongL1(ToyTwin):
    def evaluator(self, tier: str = "L1", *, hz: int | None = None) -> Any:
        return ToyL0Evaluator(self) if tier == "L1" else super().evaluator(tier, hz=hz)


class _OverchargingL0(ToyL0Evaluator):
    def evaluate(self, plan: Plan, order: Order, seed: int) -> Any:
        ev = super().evaluate(plan, order, seed)
        return ev._replace(cu=ev.cu + 1)


class _L0Overcharges(ToyTwin):
    def _evaluator_at(self, tier: Any, hz: int | None) -> Any:
        return _OverchargingL0(self)


@pytest.mark.parametrize(("cls", "match"), [
    (_NoUnknownTier, r"evaluator\('L2'\) for a tier not offered"),
    (_WrongL1, r"evaluator\('L1'\)"),
    (_L0Overcharges, "L0 CU"),
])
def test_check_twin_catches_a_broken_tier_surface(cls: type, match: str) -> None:
    """check_twin fails (a WorldError saying what was expected) on a twin that does not
    refuse an unknown tier, whose L1 evaluator answers otherwise than evaluate, or whose
    other tier charges other than it quotes."""
    with pytest.raises(WorldError, match=match):
        check_twin(cls(toy_spec()))


def test_check_twin_names_missing_surface() -> None:
    """An object without the ServiceTwin surface fails check_twin naming what it lacks."""
    class Bare:
        spec = toy_spec()

    with pytest.raises(WorldError, match="lacks twin_id, solvers"):
        check_twin(Bare())
