"""Tests of the warehouse twin at tier L2 (MuJoCo): scene, completion, determinism, fidelity, CU."""

from __future__ import annotations

import hashlib
import inspect

import mujoco
import numpy as np
import pytest

from worlds import Evaluator, InvalidPlan
from worlds.warehouse import Order, Plan, WarehouseTwin, _scene, physics, warehouse_spec
from worlds.warehouse.physics import (
    DEFAULT_HZ,
    HZ_CHOICES,
    MIN_HZ,
    PHYSICS_ROBOT_STEP_CU,
    L2Evaluator,
    l1_l2_gap,
    scene_mjcf,
)

SEED = 5
# Small and uncongested: short routes, and L1 time = travel + picks exactly.
SPEC = warehouse_spec(name="wh-l2-test", n_aisles=3, slots_per_aisle=4, n_skus=24,
                      pick_time_ms=500, congested_aisle_bps=0)


@pytest.fixture(scope="module")
def twin() -> WarehouseTwin:
    return WarehouseTwin(SPEC)


@pytest.fixture(scope="module")
def l2(twin: WarehouseTwin) -> L2Evaluator:
    return L2Evaluator(twin, hz=500)


@pytest.fixture(scope="module")
def order(twin: WarehouseTwin) -> Order:
    """Picks in two aisles, so the S-shape route has corners, a traverse and a return."""
    nodes = twin.spec.body["storage"]["sku_node"]
    first = 1 + 2 * 3  # slot 0 of aisle 0
    want = [first + 1, first + 4 + 2]  # aisle 0 slot 1, aisle 1 slot 2
    return twin.make_order([nodes.index(v) for v in want], order_id="l2")


def test_scene_builds_and_its_hash_is_stable(twin: WarehouseTwin) -> None:
    """The MJCF text is byte-identical for the same spec and hz (also from a rebuilt twin),
    compiles, holds one box per rack run and N robots; hz changes the text."""
    text = scene_mjcf(twin, hz=500)
    assert text == scene_mjcf(WarehouseTwin(SPEC), hz=500)
    assert L2Evaluator(twin).mjcf_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert scene_mjcf(twin, hz=1000) != text
    model = mujoco.MjModel.from_xml_string(text)
    assert model.opt.timestep == pytest.approx(0.002)
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    shelves = [model.geom(i).name for i in range(model.ngeom)
               if model.geom(i).name.startswith("shelf_")]
    assert len(shelves) == 3 + 1
    fleet = mujoco.MjModel.from_xml_string(scene_mjcf(twin, n_robots=3))
    assert fleet.nu == 6 and (fleet.jnt_type == mujoco.mjtJoint.mjJNT_FREE).sum() == 3


def test_s_shape_plan_completes(twin: WarehouseTwin, l2: L2Evaluator, order: Order) -> None:
    """An S-shape plan drives back to the depot: finite time, energy > 0, no shelf contact,
    final pose within 2 cm, odometry close to the route length."""
    plan = twin.solve(order, "s_shape")
    ev = l2.evaluate(plan, order, SEED)
    assert ev.valid, ev.reason
    assert 0 < ev.time_ms < 10 * twin.evaluate(plan, order, SEED).time_ms
    assert ev.energy_mj > 0
    assert ev.collisions == 0
    assert ev.final_pose_error_mm <= 20
    l1 = twin.evaluate(plan, order, SEED)
    assert ev.distance_mm == pytest.approx(l1.distance_mm, rel=0.02)
    assert 0 < ev.steps <= ev.budget_steps


def test_receipt_and_cu(twin: WarehouseTwin, l2: L2Evaluator, order: Order) -> None:
    """The receipt names tier L2, the hz and the pinned engine; CU = budget steps x the frozen
    per-step calibration, known up front from cu_for."""
    plan = twin.solve(order, "tsp")
    ev = l2.evaluate(plan, order, SEED)
    r = ev.receipt
    assert (r.twin_id, r.tier, r.hz, r.seed) == (twin.twin_id, "L2", 500, SEED)
    assert r.engine_version == f"warehouse-l2/1+mujoco-{mujoco.__version__}"
    assert ev.cu == r.cu == l2.cu_for(plan, order) == ev.budget_steps * PHYSICS_ROBOT_STEP_CU
    assert l2.step_budget(plan, order) == ev.budget_steps


@pytest.mark.parametrize("hz", [0, 50, 99, MIN_HZ - 1])
def test_low_hz_is_refused(twin: WarehouseTwin, hz: int) -> None:
    """Below 100 Hz the wheeled model is refused with the minimum in the message."""
    with pytest.raises(InvalidPlan, match=f"at least {MIN_HZ} Hz"):
        L2Evaluator(twin, hz=hz)


def test_allowed_hz(twin: WarehouseTwin) -> None:
    """Any int >= 100 builds; the control period stays about 40 ms."""
    for hz, k in ((100, 4), (200, 8), (500, 20), (1000, 40), (137, 5)):
        assert L2Evaluator(twin, hz=hz).control_steps == k
    with pytest.raises(InvalidPlan, match="expected an int"):
        L2Evaluator(twin, hz=500.0)  # type: ignore[arg-type]


def test_determinism(twin: WarehouseTwin, l2: L2Evaluator, order: Order) -> None:
    """Same request: identical evaluation and receipt, also from a fresh evaluator."""
    plan = twin.solve(order, "largest_gap")
    a = l2.evaluate(plan, order, SEED)
    assert a == l2.evaluate(plan, order, SEED)
    assert a == L2Evaluator(WarehouseTwin(SPEC), hz=500).evaluate(plan, order, SEED)


def test_batched_rollout_matches_plain_loop(twin: WarehouseTwin, l2: L2Evaluator,
                                            order: Order) -> None:
    """evaluate_many through mujoco.rollout equals one-by-one evaluation and a plain mj_step
    loop, bitwise (the fast path against the reference)."""
    rng = np.random.default_rng(0)
    plans = [twin.solve(order, m) for m in ("s_shape", "tsp")]
    plans.append(twin.solve(order, "tsp", rng))
    plans.append(plans[0]._replace(route=plans[0].route[1:]))  # invalid
    batch = l2.evaluate_many(plans, order, SEED)
    assert batch == [l2.evaluate(p, order, SEED) for p in plans]
    assert batch == l2.evaluate_many(plans, order, SEED, engine="loop")
    assert not batch[-1].valid and batch[-1].cu == 0 and "starts at node" in batch[-1].reason


def test_l2_time_bounds_and_gap(twin: WarehouseTwin, l2: L2Evaluator, order: Order) -> None:
    """L2 time >= the L1 travel-plus-picks lower bound for every plan; the gap report gives a
    positive mean relative gap and a per-plan table."""
    plans = [twin.solve(order, m) for m in ("s_shape", "largest_gap", "tsp")]
    report = l1_l2_gap(twin, plans, [order] * 3, SEED, evaluator=l2)
    assert len(report.rows) == 3
    for row, plan in zip(report.rows, plans, strict=True):
        l1 = twin.evaluate(plan, order, SEED)
        assert row.l1_time_ms == l1.time_ms
        assert row.l2_time_ms >= l1.time_ms  # L1 = ceil-per-edge travel + picks here
    assert 0 < report.mean_rel_gap < 3
    assert "mean gap" in report.table()


def test_higher_hz_changes_little_and_costs_more(twin: WarehouseTwin, l2: L2Evaluator,
                                                 order: Order) -> None:
    """1000 Hz answers within 3% (time) and 10% (energy) of 500 Hz but costs about 2x CU."""
    plan = twin.solve(order, "tsp")
    lo = l2.evaluate(plan, order, SEED)
    hi = L2Evaluator(twin, hz=1000).evaluate(plan, order, SEED)
    assert hi.valid and hi.receipt.hz == 1000
    assert hi.time_ms == pytest.approx(lo.time_ms, rel=0.03)
    assert hi.energy_mj == pytest.approx(lo.energy_mj, rel=0.10)
    assert 1.9 * lo.cu < hi.cu < 2.1 * lo.cu


def test_invalid_route_is_reported(twin: WarehouseTwin, l2: L2Evaluator, order: Order) -> None:
    """A broken route gives valid=False with the L1 reason and 0 CU; a non-Plan raises."""
    plan = twin.solve(order, "s_shape")
    ev = l2.evaluate(Plan(solver="x", route=plan.route[:-1]), order, SEED)
    assert not ev.valid and "not at the depot" in ev.reason and ev.cu == 0 and ev.steps == 0
    with pytest.raises(InvalidPlan, match="expected a Plan"):
        l2.evaluate(list(plan.route), order, SEED)  # type: ignore[arg-type]
    with pytest.raises(InvalidPlan, match="seed"):
        l2.evaluate(plan, order, -1)


def test_budget_exhausted_is_invalid(twin: WarehouseTwin, order: Order,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With a budget too small for the route the run stops there: valid=False, CU = budget."""
    monkeypatch.setattr(physics, "BUDGET_SLACK_PCT", 10)
    monkeypatch.setattr(physics, "BUDGET_LEG_MS", 20)
    l2 = L2Evaluator(twin, hz=200)
    ev = l2.evaluate(twin.solve(order, "tsp"), order, SEED)
    assert not ev.valid and "step budget exhausted" in ev.reason
    assert ev.steps <= ev.budget_steps and ev.cu == ev.budget_steps * PHYSICS_ROBOT_STEP_CU


def test_shelf_contacts_are_counted(twin: WarehouseTwin, order: Order,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """In a scene whose racks leave an aisle narrower than the robot, contacts are counted."""
    monkeypatch.setattr(_scene, "AISLE_CLEAR_MM", 500)
    l2 = L2Evaluator(twin, hz=200)
    ev = l2.evaluate(twin.solve(order, "tsp"), order, SEED)
    assert ev.collisions >= 1


def test_the_twin_builds_its_l2_tier(twin: WarehouseTwin, l2: L2Evaluator,
                                     order: Order) -> None:
    """twin.evaluator("L2") is an L2Evaluator at DEFAULT_HZ (or the hz asked for) whose
    answers are those of one built by hand; it is an Evaluator of tier L2."""
    built = twin.evaluator("L2")
    assert isinstance(built, L2Evaluator) and isinstance(built, Evaluator)
    assert built.tier == "L2" and built.hz == DEFAULT_HZ == l2.hz
    plan = twin.solve(order, "s_shape")
    assert built.evaluate(plan, order, SEED) == l2.evaluate(plan, order, SEED)
    assert twin.evaluator("L2", hz=200).hz == 200
    with pytest.raises(InvalidPlan, match="at least 100 Hz"):
        twin.evaluator("L2", hz=50)


def test_the_physics_rate_is_declared_once() -> None:
    """The offered rates and the default live in one place, without mujoco: the evaluator's,
    scene's and gap report's defaults are DEFAULT_HZ, one of HZ_CHOICES."""
    assert DEFAULT_HZ in HZ_CHOICES and min(HZ_CHOICES) >= MIN_HZ
    for fn in (L2Evaluator.__init__, scene_mjcf, l1_l2_gap):
        assert inspect.signature(fn).parameters["hz"].default == DEFAULT_HZ
