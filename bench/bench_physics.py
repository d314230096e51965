"""What the warehouse twin's tiers cost: L2 physics against a bare MuJoCo loop, L1, and the env.

Side by side in one run, on the same machine state:
- an L2 evaluation of one plan (`L2Evaluator.evaluate`, 500 Hz) against a bare `mj_step`
  loop over the same model for the same number of steps, replaying the wheel commands the
  controller issued (so the physics work is the same): one Python call per step, and one
  `mj_step(m, d, nstep=k)` call per control period (C inner loop). The aim is L2 <= 1.3x the
  bare loop; both ratios are printed;
- batched candidates: `evaluate_many` (one `mujoco.rollout` call per control period for all
  candidates) against evaluating them one by one, and with 2 rollout threads;
- the CU calibration: measured microseconds per robot physics step next to the frozen
  `PHYSICS_ROBOT_STEP_CU`;
- L1 evaluations per second (`WarehouseTwin.evaluate`);
- PettingZoo env steps per second (`worlds.warehouse.parallel_env`, 4 robots, random valid
  actions).
Each figure is the best of a few interleaved runs (the machine is shared). Not a test: run
`python bench/bench_physics.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import mujoco
import numpy as np

from worlds.warehouse import Order, Plan, WarehouseTwin, parallel_env, warehouse_spec
from worlds.warehouse.physics import PHYSICS_ROBOT_STEP_CU, L2Evaluator, l1_l2_gap

REPEATS = 3


def best(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    """Smallest wall time of `repeats` calls, in seconds."""
    out = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out


def controls(l2: L2Evaluator, plan: Plan, order: Order) -> list[tuple[float, float]]:
    """The wheel commands the L2 controller issued, one per control period."""
    log: list[tuple[float, float]] = []
    advance = l2._advance

    def spy(run: Any) -> None:
        advance(run)
        log.append(run.wheels)

    l2._advance = spy  # type: ignore[method-assign]
    try:
        l2.evaluate(plan, order, seed=1)
    finally:
        del l2._advance
    return log


def bare_python(l2: L2Evaluator, ctrl: list[tuple[float, float]], steps: int
                ) -> Callable[[], None]:
    """The same model, steps and wheel commands: one `mj_step` call per step, nothing else."""
    model, k = l2.model, l2.control_steps
    data = mujoco.MjData(model)

    def run() -> None:
        mujoco.mj_resetData(model, data)
        for c in ctrl[:steps // k]:
            data.ctrl[:] = c
            for _ in range(k):
                mujoco.mj_step(model, data)

    return run


def bare_c(l2: L2Evaluator, ctrl: list[tuple[float, float]], steps: int) -> Callable[[], None]:
    """As `bare_python` with one `mj_step(m, d, nstep=k)` call per control period."""
    model, k = l2.model, l2.control_steps
    data = mujoco.MjData(model)

    def run() -> None:
        mujoco.mj_resetData(model, data)
        for c in ctrl[:steps // k]:
            data.ctrl[:] = c
            mujoco.mj_step(model, data, nstep=k)

    return run


def env_steps_per_s(n_steps: int = 20_000) -> float:
    env = parallel_env(n_robots=4, max_cycles=n_steps + 1)
    obs, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    agents = env.possible_agents
    # Pre-drawn uniform numbers: the action choice, not the rng, is what a policy costs.
    draws = rng.random((n_steps, len(agents)))
    t0 = time.perf_counter()
    for i in range(n_steps):
        actions = {}
        for j, a in enumerate(agents):
            legal = np.flatnonzero(obs[a]["action_mask"])
            actions[a] = int(legal[int(draws[i, j] * len(legal))])
        obs, *_ = env.step(actions)
    return n_steps / (time.perf_counter() - t0)


def main() -> None:
    twin = WarehouseTwin(warehouse_spec())
    rng = np.random.default_rng(7)
    orders = [o for o in twin.orders(rng, 3_600_000) if len(o.picks) >= 4]
    order = orders[0]
    plan = twin.solve(order, "s_shape")
    l2 = L2Evaluator(twin, hz=500)
    ev = l2.evaluate(plan, order, seed=1)
    steps = ev.steps
    print(f"plan: {len(plan.route)} nodes, {len(order.picks)} picks; L2 at 500 Hz: "
          f"{steps} physics steps, {ev.time_ms} ms simulated, {ev.energy_mj} mJ, "
          f"{ev.collisions} shelf contacts, final pose error {ev.final_pose_error_mm} mm")

    ctrl = controls(l2, plan, order)
    py_loop, c_loop = bare_python(l2, ctrl, steps), bare_c(l2, ctrl, steps)
    t_l2 = t_py = t_c = float("inf")
    for _ in range(7):  # interleaved so drift and neighbours' load hit all three alike
        t_l2 = min(t_l2, best(lambda: l2.evaluate(plan, order, seed=1), 1))
        t_py = min(t_py, best(py_loop, 1))
        t_c = min(t_c, best(c_loop, 1))
    print(f"L2 evaluate        {t_l2 * 1e3:8.1f} ms  {t_l2 / steps * 1e6:6.2f} us/step")
    print(f"bare mj_step loop  {t_py * 1e3:8.1f} ms  {t_py / steps * 1e6:6.2f} us/step  "
          f"(one Python call per step)")
    print(f"bare mj_step(n=k)  {t_c * 1e3:8.1f} ms  {t_c / steps * 1e6:6.2f} us/step  "
          "(one call per control period)")
    print(f"ratio L2 / bare Python loop = {t_l2 / t_py:.2f}  (aim <= 1.30); "
          f"L2 / mj_step(n=k) = {t_l2 / t_c:.2f}")
    print(f"CU calibration: {t_c / steps * 1e6:.2f} us per robot step measured (mj_step(n=k)), "
          f"PHYSICS_ROBOT_STEP_CU = {PHYSICS_ROBOT_STEP_CU}; this plan: {ev.cu} CU for a "
          f"budget of {ev.budget_steps} steps ({steps / ev.budget_steps:.0%} used)")

    cand = [twin.solve(order, m) for m in ("s_shape", "largest_gap", "tsp")]
    cand += [twin.solve(order, "tsp", rng) for _ in range(5)]
    n_steps = sum(e.steps for e in l2.evaluate_many(cand, order, seed=1))
    l2_2 = L2Evaluator(twin, hz=500, nthread=2)
    t_one = t_batch = t_thr = float("inf")
    for _ in range(REPEATS):
        t_one = min(t_one, best(lambda: [l2.evaluate(p, order, seed=1) for p in cand], 1))
        t_batch = min(t_batch, best(lambda: l2.evaluate_many(cand, order, seed=1), 1))
        t_thr = min(t_thr, best(lambda: l2_2.evaluate_many(cand, order, seed=1), 1))
    print(f"{len(cand)} candidates ({n_steps} steps): one by one {t_one * 1e3:.0f} ms, "
          f"evaluate_many (rollout, 1 thread) {t_batch * 1e3:.0f} ms, "
          f"2 threads {t_thr * 1e3:.0f} ms")

    gap = l1_l2_gap(twin, cand[:3], [order] * 3, seed=1, evaluator=l2)
    print(gap.table())

    evals = [(twin.solve(o, m), o) for o in orders[:50] for m in ("s_shape", "tsp")]
    t_l1 = best(lambda: [twin.evaluate(p, o, 1) for p, o in evals])
    print(f"L1 evaluations/s: {len(evals) / t_l1:,.0f}")
    rate = max(env_steps_per_s() for _ in range(REPEATS))
    print(f"env steps/s (4 robots, parallel_env): {rate:,.0f}  ({4 * rate:,.0f} robot-steps/s)")


if __name__ == "__main__":
    main()
