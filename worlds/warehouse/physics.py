"""The warehouse twin at tier L2: pick routes driven by a differential-drive robot in MuJoCo.

Build an evaluator on an L1 twin and evaluate the same `Plan` objects::

    twin = WarehouseTwin(warehouse_spec())
    l2 = L2Evaluator(twin, hz=500)           # l2.mjcf (text), l2.mjcf_sha256
    ev = l2.evaluate(plan, order, seed=7)    # ev.time_ms, ev.energy_mj, ev.collisions, ...
    evs = l2.evaluate_many(plans, order, seed=7)   # one batched mujoco.rollout per control period

`WarehouseTwin.evaluator("L2", hz=...)` builds the same evaluator (``hz`` defaults to
``DEFAULT_HZ``; ``HZ_CHOICES`` are the rates a market offers). The robot drives the scene of
`scene_mjcf` (see `worlds.warehouse._scene` for its description); `l1_l2_gap` compares the two
tiers' answers for the same plans.

**Controller** (closed loop, zero-order hold): the route's node sequence is mapped to floor
coordinates and cut into straight legs at every corner or reversal, every pick node (first
visit), every aisle entry and the final depot. Per leg the robot turns on the spot to face the
leg's end (P on heading, rate and acceleration limited), then drives it with a trapezoidal
speed profile (cruise at the spec's ``speed_mm_s``, ``ACCEL_MM_S2``, a P term near the end)
and Stanley-style heading correction against cross-track error; a leg ends when the robot
is within ``ARRIVE_MM`` of its end and nearly stopped. Commands are recomputed every
``control_steps = max(1, round(hz / CONTROL_HZ))`` physics steps (about 25 Hz): physics runs at
the declared Hz, control at about 25 Hz, as on a real robot (ROS 2 Nav2's default controller
rate is 20 Hz). The Python controller then costs well under a tenth of the physics (measured
in `bench/bench_physics.py`); at 50 Hz it cost about twice that for the same answers within
2%.

**Dwells**: at a pick node the robot dwells ``pick_time_ms`` per order line; at an aisle entry
it waits out the aisle's busy window, using the L1 twin's congestion schedule for the seed
(`WarehouseTwin.congestion`), checked against the L2 clock. While dwelling the robot is
braked: its velocities are zeroed and the clock advances without physics steps, since
nothing moves. So dwells cost no CU and the step budget covers motion only.

**Answers**: ``time_ms`` from the simulated clock (steps * 1000 // hz plus dwells, integer);
``energy_mj`` the integral of the wheel motors' absolute mechanical power |torque * speed| per
physics step (no regeneration; braking costs energy like driving), in integer millijoules;
``collisions`` the number of contact onsets between the robot and the shelves;
``final_pose_error_mm`` the distance from the robot's axle midpoint to the depot when it
stops there; ``distance_mm`` the path length driven, by wheel odometry.

**Compute units**: charged up front, like a gas limit: ``cu = budget_steps *
l2_robot_step_cu`` (the spec's metering) where ``budget_steps`` is derived from the route
alone (per leg: turn and drive time of the speed profile, times ``BUDGET_SLACK_PCT`` percent, plus
``BUDGET_LEG_MS``), so `cu_for(plan, order)` is known before evaluation and equals
``evaluate(...).cu``. A robot that has not reached the depot when the budget is spent
gives ``valid=False`` ("step budget exhausted"). ``steps`` reports the steps actually
simulated. ``PHYSICS_ROBOT_STEP_CU`` is the frozen calibration (1 CU ~ 1 us of reference CPU;
`bench/bench_physics.py` measures the per-step cost on the current machine).

**Batching**: `evaluate_many` steps all unfinished candidates one control period at a time
with a single `mujoco.rollout` call (the controller is closed loop, so it cannot roll a whole
route out open loop); each rollout starts from its own full physics state with a zero solver
warm start, so a plan's answer is bitwise the same alone or in any batch, and the same as a
plain `mj_step` loop doing the same (`engine="loop"`, the tested reference).

**Determinism**: same machine and MuJoCo build: bitwise (the receipt pins the engine, MuJoCo
version and MJCF hash). Across CPUs or builds MuJoCo's floating point may differ slightly.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import NamedTuple

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from worlds._base import check_seed
from worlds._canon import sha256_hex
from worlds.errors import InvalidPlan, InvalidSpec
from worlds.receipt import Receipt
from worlds.tier import Tier
from worlds.warehouse._gap import GapReport, GapRow, l1_l2_gap
from worlds.warehouse._scene import (
    DEFAULT_HZ,
    HALF_TRACK_MM,
    HZ_CHOICES,
    MIN_HZ,
    WHEEL_RADIUS_MM,
    check_hz,
    scene_mjcf,
)
from worlds.warehouse._types import AisleCongestion, Order, Plan
from worlds.warehouse.twin import WarehouseTwin

__all__ = [
    "DEFAULT_HZ",
    "ENGINE_VERSION",
    "HZ_CHOICES",
    "MIN_HZ",
    "PHYSICS_ROBOT_STEP_CU",
    "GapReport",
    "GapRow",
    "L2Evaluation",
    "L2Evaluator",
    "l1_l2_gap",
    "scene_mjcf",
]

ENGINE_VERSION = "warehouse-l2/1"
CONTROL_HZ = 25
PHYSICS_ROBOT_STEP_CU = 12  # the default of warehouse_spec(l2_robot_step_cu=...)

# Controller constants.
ACCEL_MM_S2 = 1000
TURN_RATE_MRAD_S = 1500
TURN_ACCEL_MRAD_S2 = 3000
ARRIVE_MM = 10
ALIGN_MRAD = 20
_K_HEADING = 4.0  # 1/s, heading P gain while driving
_K_CROSS = 2.0  # Stanley cross-track gain
_K_TURN = 4.0  # 1/s, heading P gain while turning on the spot
_K_END = 3.0  # 1/s, speed P gain on the remaining distance near a stop
_STOPPED_MM_S = 60
_MIN_SPEED = 0.04  # m/s, creep speed near a stop
_MIN_TURN_RATE = 0.15  # rad/s, creep rate near the end of a turn
_STILL_MRAD_S = 100

# Step budget: per leg, (turn + drive time of the profile) * slack + a fixed allowance.
BUDGET_SLACK_PCT = 130
BUDGET_LEG_MS = 1500

# The same in SI units, for the controller's inner arithmetic.
_ACCEL = ACCEL_MM_S2 / 1000
_W_MAX = TURN_RATE_MRAD_S / 1000
_ALPHA = TURN_ACCEL_MRAD_S2 / 1000
_ARRIVE = ARRIVE_MM / 1000
_ALIGN = ALIGN_MRAD / 1000
_STOPPED = _STOPPED_MM_S / 1000
_STILL = _STILL_MRAD_S / 1000

_FULL = mujoco.mjtState.mjSTATE_FULLPHYSICS
_TURN, _DRIVE, _DONE = 0, 1, 2


class L2Evaluation(NamedTuple):
    """The result of driving one plan through the physics twin for one seed.

    Attributes:
        valid: the route is a valid walk and the robot got back to the depot within budget.
        reason: "" if valid, else what went wrong.
        time_ms: simulated completion time, dwells included (0 if the route is invalid).
        energy_mj: wheel motor energy, integer millijoules.
        collisions: contact onsets between the robot and the shelves.
        final_pose_error_mm: robot-to-depot distance at the end.
        distance_mm: path length driven (wheel odometry).
        steps: physics steps simulated.
        budget_steps: the step budget the CU pays for.
        cu: compute units charged, equal to `L2Evaluator.cu_for(plan, order)`.
        receipt: checkable record of the request and result.
    """

    valid: bool
    reason: str
    time_ms: int
    energy_mj: int
    collisions: int
    final_pose_error_mm: int
    distance_mm: int
    steps: int
    budget_steps: int
    cu: int
    receipt: Receipt


class _Leg:
    """One straight leg: drive from (x0, y0) to (x1, y1) [m], then dwell or check an aisle."""

    __slots__ = ("dwell_ms", "enter_aisle", "heading", "length", "ux", "uy", "x0", "y0")

    def __init__(self, a_mm: tuple[int, int], b_mm: tuple[int, int], dwell_ms: int,
                 enter_aisle: int) -> None:
        self.x0, self.y0 = a_mm[0] / 1000, a_mm[1] / 1000
        dx, dy = (b_mm[0] - a_mm[0]) / 1000, (b_mm[1] - a_mm[1]) / 1000
        self.length = math.hypot(dx, dy)
        self.heading = math.atan2(dy, dx)
        self.ux, self.uy = (dx / self.length, dy / self.length) if self.length else (0.0, 0.0)
        self.dwell_ms = dwell_ms  # pick time at the end of the leg
        self.enter_aisle = enter_aisle  # aisle entered right after this leg (-1 if none)


class _Run:
    """Controller and bookkeeping of one plan being driven (one rollout in a batch)."""

    __slots__ = ("buf_sd", "busy", "clock_dwell_ms", "i_leg", "legs", "mode", "n", "period",
                 "phase", "reason", "state", "v_cmd", "w_cmd", "wheels")

    def __init__(self, legs: list[_Leg], state0: np.ndarray, budget: int, nsens: int,
                 cong: AisleCongestion) -> None:
        self.legs = legs
        self.state = state0.copy()
        self.i_leg = 0
        self.mode = _TURN if legs else _DONE
        self.v_cmd = 0.0
        self.w_cmd = 0.0
        self.wheels = (0.0, 0.0)  # left, right wheel speed commands [rad/s]
        self.clock_dwell_ms = 0
        self.n = 0  # physics steps simulated
        self.buf_sd = np.empty((budget, nsens))  # per-step sensor trace
        self.period = cong.period_ms.tolist()
        self.busy = cong.busy_ms.tolist()
        self.phase = cong.phase_ms.tolist()
        self.reason = ""


class L2Evaluator:
    """Evaluates warehouse plans by driving a robot through a MuJoCo scene of the layout.

    The warehouse twin's L2 tier (an `Evaluator`: `tier`, `hz`, `cu_for`, `evaluate`).

    Args:
        twin: the L1 twin (layout, storage, picker speed and pick time, congestion).
        hz: physics rate, an int >= `MIN_HZ`; `HZ_CHOICES` are the rates a market offers
            (200 economy, 500 default, 1000 premium), `DEFAULT_HZ` the default.
        nthread: `mujoco.rollout` worker threads for `evaluate_many` (0: the calling
            thread). Answers do not depend on it.

    Raises:
        InvalidPlan: hz is not an int or is below `MIN_HZ`.
        InvalidSpec: the layout is too tight for the robot.
    """

    #: The fidelity tier this evaluator runs.
    tier: Tier = Tier.L2

    def __init__(self, twin: WarehouseTwin, hz: int = DEFAULT_HZ, *, nthread: int = 0) -> None:
        if not isinstance(twin, WarehouseTwin):
            raise InvalidSpec(f"L2Evaluator needs a WarehouseTwin, got {type(twin).__name__}; "
                              "build one with WarehouseTwin(warehouse_spec())")
        self.twin = twin
        self.hz = check_hz(hz)
        self.mjcf = scene_mjcf(twin, hz=self.hz)
        self.mjcf_sha256 = hashlib.sha256(self.mjcf.encode("ascii")).hexdigest()
        self.engine_version = f"{ENGINE_VERSION}+mujoco-{mujoco.__version__}"
        self.model = mujoco.MjModel.from_xml_string(self.mjcf)
        self._data = mujoco.MjData(self.model)
        # the spec's frozen calibration (specs from before it was stored: the default)
        self._step_cu = int(twin.spec.body["metering"].get("l2_robot_step_cu",
                                                          PHYSICS_ROBOT_STEP_CU))
        self._nstate = mujoco.mj_stateSize(self.model, _FULL)
        self._state0 = np.empty(self._nstate)
        mujoco.mj_getState(self.model, self._data, self._state0, _FULL)
        self.control_steps = max(1, round(self.hz / CONTROL_HZ))
        self._iqvel = 1 + self.model.nq  # FULLPHYSICS state: time, qpos, qvel, ...
        self._dt_control = self.control_steps / self.hz
        body = twin.spec.body
        self._speed = body["picker"]["speed_mm_s"] / 1000.0
        self._pick_ms = int(body["picker"]["pick_time_ms"])
        self._xy = {v: (d["x_mm"], d["y_mm"]) for v, d in twin.graph.nodes(data=True)}
        self._roles = dict(twin.graph.nodes(data="role"))
        self._aisle = dict(twin.graph.nodes(data="aisle"))
        self._sku_node = body["storage"]["sku_node"]
        self._rollout = mj_rollout.Rollout(nthread=nthread)
        self._datas = [mujoco.MjData(self.model) for _ in range(max(nthread, 1))]

    # --- request -> legs and budget ---------------------------------------------------------
    def _legs(self, route: tuple[int, ...], order: Order) -> list[_Leg]:
        lines_at: dict[int, int] = {}
        for s in order.lines:
            lines_at[self._sku_node[s]] = lines_at.get(self._sku_node[s], 0) + 1
        seen: set[int] = set()
        legs: list[_Leg] = []
        start = route[0]
        for i in range(1, len(route)):
            u, v = route[i - 1], route[i]
            dwell = 0
            if v not in seen:
                seen.add(v)
                dwell = lines_at.get(v, 0) * self._pick_ms
            nxt = route[i + 1] if i + 1 < len(route) else None
            enter = -1
            if nxt is not None and self._roles[v] != "aisle" and self._roles[nxt] == "aisle":
                enter = int(self._aisle[nxt])
            turn = nxt is not None and not _collinear(self._xy[u], self._xy[v], self._xy[nxt])
            if nxt is None or dwell or enter >= 0 or turn:
                legs.append(_Leg(self._xy[start], self._xy[v], dwell, enter))
                start = v
        return legs

    def _budget(self, legs: list[_Leg]) -> int:
        """Physics steps paid for: the profile time of each leg with slack (motion only)."""
        a, v, w = ACCEL_MM_S2 / 1000, self._speed, TURN_RATE_MRAD_S / 1000
        alpha = TURN_ACCEL_MRAD_S2 / 1000
        heading = math.pi / 2
        total_ms = 0
        for leg in legs:
            length = leg.length
            turn = abs(_wrap(leg.heading - heading)) if length > 0 else 0.0
            if length > 0:
                heading = leg.heading
            drive = length / v + v / a if length >= v * v / a else 2 * math.sqrt(length / a)
            spin = turn / w + w / alpha if turn >= w * w / alpha else 2 * math.sqrt(turn / alpha)
            total_ms += math.ceil((drive + spin) * BUDGET_SLACK_PCT * 10) + BUDGET_LEG_MS
        return -(-total_ms * self.hz // 1000)

    def _prepare(self, plan: Plan, order: Order) -> tuple[str, list[_Leg], int]:
        """Validate the request; return (reason, legs, budget_steps)."""
        reason = self.twin.invalid_reason(plan, order)
        if reason:
            return reason, [], 0
        legs = self._legs(tuple(int(x) for x in plan.route), order)
        return "", legs, self._budget(legs)

    def step_budget(self, plan: Plan, order: Order) -> int:
        """Physics steps `evaluate` pays for (0 for an invalid route), known up front."""
        self.twin.check_request(plan, order)
        return self._prepare(plan, order)[2]

    def cu_for(self, plan: Plan, order: Order) -> int:
        """Compute units `evaluate` charges: ``step_budget * metering.l2_robot_step_cu``."""
        return self.step_budget(plan, order) * self._step_cu

    # --- evaluation ------------------------------------------------------------------------
    def evaluate(self, plan: Plan, order: Order, seed: int) -> L2Evaluation:
        """Drive one plan through the physics twin for one seed.

        Args:
            plan: the route (same object as at L1).
            order: the order it serves.
            seed: scenario seed (the aisle congestion schedule, as at L1).

        Returns:
            The evaluation; an invalid route gives ``valid=False`` with the L1 reason and 0
            CU. Same inputs give an identical evaluation and receipt.

        Raises:
            InvalidPlan: `plan` is not a Plan, `order` not an Order, or `seed` not an int >= 0.
        """
        return self.evaluate_many([plan], order, seed)[0]

    def evaluate_many(self, plans: Sequence[Plan], order: Order, seed: int, *,
                      engine: str = "rollout") -> list[L2Evaluation]:
        """Drive several candidate plans for one order, batched per control period.

        Args:
            plans: candidate routes for `order`.
            order: the order they serve.
            seed: scenario seed.
            engine: "rollout" (one `mujoco.rollout` call per control period for all
                unfinished candidates) or "loop" (a plain `mj_step` loop per candidate; the
                reference the rollout path is tested against, bitwise).

        Returns:
            One evaluation per plan, each identical to `evaluate(plan, order, seed)`.

        Raises:
            InvalidPlan: a malformed request or an unknown engine.
        """
        if engine not in ("rollout", "loop"):
            raise InvalidPlan(f"engine is {engine!r}; expected 'rollout' or 'loop'")
        for plan in plans:
            self.twin.check_request(plan, order)
        seed = check_seed(seed)
        cong = self.twin.congestion(seed)
        nsens = self.model.nsensordata
        prepared = [self._prepare(p, order) for p in plans]
        runs: list[_Run | None] = []
        for reason, legs, budget in prepared:
            runs.append(None if reason else _Run(legs, self._state0, budget, nsens, cong))
        live = [run for run in runs if run is not None]
        for run in live:
            self._advance(run)
        budget = {id(run): prep[2] for run, prep in zip(runs, prepared, strict=True)
                  if run is not None}
        if engine == "rollout":
            self._drive_rollout(live, budget)
        else:
            self._drive_loop(live, budget)
        return [self._result(plan, order, seed, prep, run)
                for plan, prep, run in zip(plans, prepared, runs, strict=True)]

    # --- stepping ---------------------------------------------------------------------------
    def _drive_rollout(self, live: list[_Run], budget: dict[int, int]) -> None:
        m, k, ns = self.model, self.control_steps, self._nstate
        bufs: dict[int, tuple[np.ndarray, ...]] = {}
        active = [r for r in live if r.mode != _DONE]
        while len(active) > 1:
            kb = len(active)
            if kb not in bufs:
                bufs[kb] = (np.empty((kb, ns)), np.empty((kb, k, m.nu)), np.zeros((kb, m.nv)),
                            np.empty((kb, k, ns)), np.empty((kb, k, m.nsensordata)))
            init, ctrl, warm, state, sens = bufs[kb]
            for j, run in enumerate(active):
                init[j] = run.state
                ctrl[j] = run.wheels
            self._rollout.rollout([m] * kb, self._datas, init, ctrl, skip_checks=True,
                                  nstep=k, initial_warmstart=warm, state=state,
                                  sensordata=sens)
            for j, run in enumerate(active):
                run.buf_sd[run.n:run.n + k] = sens[j]
                run.n += k
                run.state[:] = state[j, -1]
                self._tick(run, budget[id(run)])
            active = [r for r in active if r.mode != _DONE]
        if active:
            self._drive_one(active[0], budget[id(active[0])])

    def _drive_one(self, run: _Run, budget: int) -> None:
        """`_drive_rollout` for a batch of one, with less bookkeeping per control period:
        the rollout reads the run's state in place and writes its sensor trace in place."""
        m, k, ns = self.model, self.control_steps, self._nstate
        init = run.state[None]  # (1, ns) view: the next period starts from the run's state
        ctrl = np.empty((1, k, m.nu))
        warm = np.zeros((1, m.nv))
        state = np.empty((1, k, ns))
        last = state[0, -1]
        models, datas, spec = [m], self._datas, int(mujoco.mjtState.mjSTATE_CTRL)
        call = self._rollout.rollout_.rollout  # the binding behind Rollout.rollout(skip_checks)
        buf = run.buf_sd
        while run.mode != _DONE:
            ctrl[0] = run.wheels
            n = run.n
            call(models, datas, k, spec, init, warm, ctrl, state, buf[None, n:n + k], None)
            run.n = n + k
            run.state[:] = last
            self._tick(run, budget)

    def _drive_loop(self, live: list[_Run], budget: dict[int, int]) -> None:
        m, d, k = self.model, self._datas[0], self.control_steps
        for run in live:
            while run.mode != _DONE:
                mujoco.mj_setState(m, d, run.state, _FULL)
                d.qacc_warmstart[:] = 0.0
                d.ctrl[:] = run.wheels
                for _ in range(k):
                    mujoco.mj_step(m, d)
                    run.buf_sd[run.n] = d.sensordata
                    run.n += 1
                mujoco.mj_getState(m, d, run.state, _FULL)
                self._tick(run, budget[id(run)])

    def _tick(self, run: _Run, budget: int) -> None:
        """Controller tick after a control period; stop the run if the budget is spent."""
        self._advance(run)
        if run.mode != _DONE and run.n + self.control_steps > budget:
            run.reason = (f"step budget exhausted: the robot was still on leg "
                          f"{run.i_leg + 1} of {len(run.legs)} after {run.n} steps")
            run.mode = _DONE

    def _advance(self, run: _Run) -> None:
        """Controller tick: update the mode and the wheel commands from the current state."""
        self._control(run)
        r, b = WHEEL_RADIUS_MM / 1000, HALF_TRACK_MM / 1000
        v, w = run.v_cmd, run.w_cmd
        run.wheels = ((v - w * b) / r, (v + w * b) / r)

    def _control(self, run: _Run) -> None:
        """Update the run's mode and (v [m/s], w [rad/s]) command from its current state."""
        _, x, y, _, qw, qx, qy, qz = run.state[:8].tolist()
        iv = self._iqvel
        vx, vy, _, _, _, wz = run.state[iv:iv + 6].tolist()
        theta = math.atan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz))
        v_meas = vx * math.cos(theta) + vy * math.sin(theta)
        dt = self._dt_control
        while run.mode != _DONE:
            leg = run.legs[run.i_leg]
            if run.mode == _TURN:
                err = _wrap(leg.heading - theta)
                if leg.length == 0 or (abs(err) < _ALIGN and abs(wz) < _STILL):
                    run.mode = _DRIVE
                    continue
                w_t = min(_W_MAX, 0.9 * math.sqrt(2 * _ALPHA * abs(err)), _K_TURN * abs(err))
                w_t = math.copysign(max(w_t, _MIN_TURN_RATE), err)
                run.w_cmd += _clip(w_t - run.w_cmd, _ALPHA * dt)
                run.v_cmd = 0.0
                return
            # _DRIVE: trapezoidal speed along the leg, Stanley steering onto it.
            ux, uy = leg.ux, leg.uy
            ex, ey = x - leg.x0, y - leg.y0
            rem = leg.length - (ex * ux + ey * uy)
            cross = ux * ey - uy * ex  # > 0: robot is left of the path
            if abs(rem) < _ARRIVE:
                if abs(v_meas) < _STOPPED:
                    run.v_cmd = run.w_cmd = 0.0
                    self._arrive(run, leg)
                    continue
                v_t = 0.0
            else:
                v_t = min(self._speed, 0.9 * math.sqrt(2 * _ACCEL * abs(rem)), _K_END * abs(rem))
                v_t = math.copysign(max(v_t, _MIN_SPEED), rem)
            run.v_cmd += _clip(v_t - run.v_cmd, _ACCEL * dt)
            want = leg.heading - math.atan2(_K_CROSS * cross, abs(v_meas) + 0.2)
            run.w_cmd = _clip(_K_HEADING * _wrap(want - theta), _W_MAX)
            return

    def _arrive(self, run: _Run, leg: _Leg) -> None:
        """End of a leg: brake, dwell (picks, aisle congestion), then the next leg or done."""
        wait = leg.dwell_ms
        if leg.enter_aisle >= 0:
            a = leg.enter_aisle
            p = run.period[a]
            if p > 0:
                now = run.n * 1000 // self.hz + run.clock_dwell_ms + wait
                pos = (now + run.phase[a]) % p
                if pos < run.busy[a]:
                    wait += run.busy[a] - pos
        if wait:
            run.clock_dwell_ms += wait
            # Braked: nothing moves during the dwell.
            run.state[self._iqvel:self._iqvel + self.model.nv] = 0.0
        run.i_leg += 1
        run.mode = _TURN if run.i_leg < len(run.legs) else _DONE

    # --- results ---------------------------------------------------------------------------
    def _result(self, plan: Plan, order: Order, seed: int,
                prep: tuple[str, list[_Leg], int], run: _Run | None) -> L2Evaluation:
        reason, _, budget = prep
        cu = budget * self._step_cu
        time_ms = energy_mj = collisions = err_mm = dist_mm = steps = 0
        if run is not None:
            reason = run.reason
            steps = run.n
            sd = run.buf_sd[:steps]
            power = np.abs(sd[:, 0] * sd[:, 2]) + np.abs(sd[:, 1] * sd[:, 3])
            energy_mj = round(float(power.sum()) * 1000 / self.hz)
            hits = sd[:, 4] > 0
            collisions = int(hits[0]) + int(np.count_nonzero(hits[1:] & ~hits[:-1])) \
                if steps else 0
            speed = np.abs(sd[:, 2] + sd[:, 3]) * (WHEEL_RADIUS_MM / 2)  # mm/s, odometry
            dist_mm = round(float(speed.sum()) / self.hz)
            dx, dy = self._xy[self.twin.depot]
            err_mm = round(math.hypot(float(run.state[1]) - dx / 1000,
                                      float(run.state[2]) - dy / 1000) * 1000)
            time_ms = steps * 1000 // self.hz + run.clock_dwell_ms
        valid = not reason
        result = {"valid": valid, "reason": reason, "time_ms": time_ms, "energy_mj": energy_mj,
                  "collisions": collisions, "final_pose_error_mm": err_mm,
                  "distance_mm": dist_mm, "steps": steps, "budget_steps": budget, "cu": cu,
                  "mjcf_sha256": self.mjcf_sha256}
        route = plan.route
        route_ints = [v if isinstance(v, int | np.integer) and not isinstance(v, bool)
                      else repr(v) for v in route]
        request = {"solver": plan.solver, "route": [int(v) if not isinstance(v, str) else v
                                                   for v in route_ints],
                   "order_id": order.order_id, "lines": list(order.lines),
                   "picks": list(order.picks), "hz": self.hz, "mjcf_sha256": self.mjcf_sha256}
        receipt = Receipt(twin_id=self.twin.twin_id, tier=self.tier.value, hz=self.hz, seed=seed,
                          plan_hash=sha256_hex(request), cu=cu,
                          engine_version=self.engine_version, result_hash=sha256_hex(result))
        return L2Evaluation(valid=valid, reason=reason, time_ms=time_ms, energy_mj=energy_mj,
                            collisions=collisions, final_pose_error_mm=err_mm,
                            distance_mm=dist_mm, steps=steps, budget_steps=budget, cu=cu,
                            receipt=receipt)


# --- helpers ----------------------------------------------------------------------------------
def _collinear(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> bool:
    """Whether a -> b -> c keeps going the same way (no corner, no reversal)."""
    ux, uy = b[0] - a[0], b[1] - a[1]
    vx, vy = c[0] - b[0], c[1] - b[1]
    return ux * vy - uy * vx == 0 and ux * vx + uy * vy > 0


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


def _clip(value: float, bound: float) -> float:
    return max(-bound, min(bound, value))
