"""Sweep throughput (runs per minute): 1 and 2 local workers and Ray, side by side in one run.

The same sweep (the built-in warehouse-market, shortened, signatures off, memory ledger:
12 runs of a few seconds each) into fresh folders: local processes with 1 and 2 workers, then
Ray with 2 CPUs. Ray's start-up (ray.init of a local instance, and its workers importing the
simulator once, which forked local workers inherit) is timed on its own and left out of its
throughput, as the issue asks. Not a test: run `python bench/bench_sweep.py`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from scenarios.loading import load_scenario
from scenarios.run import apply_overrides
from sweeps import plan, run_sweep


def _sweep(ticks: int, points: int):
    loaded = apply_overrides(load_scenario("warehouse-market"), ticks=ticks, ledger="memory",
                             signatures="off")
    fees = ",".join(str(10 * i) for i in range(points))
    return plan(loaded.scenario.model_dump(mode="json"), scenario="warehouse-market",
                source=loaded.source, sets=[f"ledger.transfer_fee_bps={fees}"], seeds=2)


def _time(sweep, out: Path, **kw) -> float:
    t0 = time.perf_counter()
    outcomes = run_sweep(sweep, out, **kw)
    seconds = time.perf_counter() - t0
    assert all(o.status == "ok" for o in outcomes), [o.error for o in outcomes]
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=600)
    ap.add_argument("--points", type=int, default=6, help="parameter points (x 2 seeds)")
    args = ap.parse_args()
    sweep = _sweep(args.ticks, args.points)
    n = len(sweep.runs)
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, kw in (("local, 1 worker", {"workers": 1}),
                          ("local, 2 workers", {"workers": 2})):
            seconds = _time(sweep, Path(tmp) / label.replace(" ", "_"), **kw)
            rates[label] = 60 * n / seconds
            print(f"{label:<22} {n} runs in {seconds:6.1f} s  {rates[label]:6.1f} runs/min",
                  flush=True)
        import ray

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR")

        @ray.remote(num_cpus=1)
        def warm() -> int:  # each worker imports the simulator once, as a pool's fork has
            import scenarios.run  # noqa: F401

            return os.getpid()

        ray.get([warm.remote() for _ in range(4)])
        startup = time.perf_counter() - t0
        try:
            seconds = _time(sweep, Path(tmp) / "ray", executor="ray", workers=2)
        finally:
            ray.shutdown()
        rates["ray, 2 CPUs"] = 60 * n / seconds
        print(f"{'ray, 2 CPUs':<22} {n} runs in {seconds:6.1f} s  {rates['ray, 2 CPUs']:6.1f} "
              f"runs/min  (start-up with worker imports {startup:.1f} s, not counted)", flush=True)
    speedup = rates["local, 2 workers"] / rates["local, 1 worker"]
    ray_vs = rates["ray, 2 CPUs"] / rates["local, 2 workers"]
    print(f"1 -> 2 local workers: {speedup:.2f}x (aim >= 1.8x)")
    print(f"ray / local at 2: {ray_vs:.2f} (aim: within 10 %, i.e. >= 0.90)")


if __name__ == "__main__":
    main()
