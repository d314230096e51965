"""Wind-farm twin throughput: L1 evaluations per second per planner, and env steps per second.

For each reference planner on the same requests (default spec: 64 futures of 1460 days,
1 to 5 turbines per request):
- solve/s: plans made per second (the simulation scheduler runs its own Monte Carlo);
- eval/s (new futures): evaluations per second when every evaluation draws its futures
  (a new seed each time: the weather and component lives of 64 futures);
- eval/s (shared futures): evaluations per second for further plans on a request and seed
  already seen (the futures are cached, only the schedule is run), as when a provider tests
  several candidates;
- CU/eval: the mean compute units charged; us/CU eval: measured microseconds of an
  evaluation with new futures per CU it is charged (1.0: the metering matches this machine);
  us/CU search: the same for the simulation scheduler's search (charged as an upper bound:
  schedules it tries twice are run once).
Then the PettingZoo env (10 turbines, 2 crews): steps per second with idle crews and with
crews acting at random among allowed actions (the policy's own time excluded).
Not a test: run `python bench/bench_windfarm.py`.
"""

from __future__ import annotations

import time

import numpy as np

from worlds.windfarm import SOLVERS, WindfarmTwin, parallel_env, windfarm_spec


def _orders(twin: WindfarmTwin, n: int) -> list:
    rng = np.random.default_rng(2024)
    out: list = []
    while len(out) < n:
        out += twin.orders(rng, 3_600_000)
    return out[:n]


def bench_twin(n_orders: int = 30, repeats: int = 3) -> list[tuple]:
    twin = WindfarmTwin(windfarm_spec())
    orders = _orders(twin, n_orders)
    rows = []
    for method in SOLVERS:
        t0 = time.perf_counter()
        plans = [twin.solve(o, method) for o in orders]
        solve_rate = len(orders) / (time.perf_counter() - t0)
        new = shared = 0.0
        for r in range(repeats):  # best of `repeats`: the machine is shared
            twin._futures_cache.clear()
            t0 = time.perf_counter()
            for i, (o, p) in enumerate(zip(orders, plans, strict=True)):
                twin.evaluate(p, o, 1000 * (r + 1) + i)
            new = max(new, len(orders) / (time.perf_counter() - t0))
            for o, p in zip(orders, plans, strict=True):
                twin.evaluate(twin.solve(o, "corrective"), o, 7)   # warm the futures
                t0 = time.perf_counter()
                twin.evaluate(p, o, 7)
                shared += time.perf_counter() - t0
        shared = len(orders) * repeats / shared
        cu = np.mean([twin.cu_for(p, o) for o, p in zip(orders, plans, strict=True)])
        eval_cu = np.mean([twin.cu_for(twin.solve(o, "corrective"), o) for o in orders])
        search_cu = cu - eval_cu
        rows.append((method, solve_rate, new, shared, cu, 1e6 / new / eval_cu,
                     1e6 / solve_rate / search_cu if search_cu else float("nan")))
    return rows


def bench_env(steps: int = 3000) -> tuple[float, float]:
    e = parallel_env(max_cycles=steps)
    e.reset(seed=1)
    idle = dict.fromkeys(e.possible_agents, 0)
    t0 = time.perf_counter()
    while e.agents:
        e.step(idle)
    idle_rate = steps / (time.perf_counter() - t0)
    obs, _ = e.reset(seed=1)
    rng = np.random.default_rng(0)
    spent = 0.0
    while e.agents:
        actions = {a: int(rng.choice(np.flatnonzero(obs[a]["action_mask"])))
                   for a in e.agents}
        t0 = time.perf_counter()
        obs, _, _, _, _ = e.step(actions)
        spent += time.perf_counter() - t0
    return idle_rate, steps / spent


def main() -> None:
    rows = bench_twin()
    print(f"{'planner':22s} {'solve/s':>9s} {'eval/s new':>11s} {'eval/s shared':>14s} "
          f"{'CU/eval':>9s} {'us/CU eval':>11s} {'us/CU search':>13s}")
    for method, solve, new, shared, cu, us_cu, us_search in rows:
        print(f"{method:22s} {solve:9.1f} {new:11.1f} {shared:14.1f} {cu:9.0f} {us_cu:11.2f} "
              f"{us_search:13.2f}")
    idle, random = bench_env()
    print(f"\nenv steps/s (2 crews, 10 turbines): idle {idle:,.0f}, random valid {random:,.0f}")


if __name__ == "__main__":
    main()
