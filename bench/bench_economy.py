"""Agent-ticks per second of the built-in scenario at 100, 1,000 and 10,000 agents.

The built-in `warehouse-market` with every group scaled to the population (so the economic
activity per agent stays the same: about 0.1 orders per customer per tick, each a job with
bids, awards, sim-time purchases and evaluations). Signatures off unless --signatures verify.
Prints absolute rates and, since the machine is shared and noisy, the ratios between the
sizes measured in the same run. Not a test: run `python bench/bench_economy.py`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _scale import scaled

from economy import Recorder
from scenarios import build


class _Timed:
    """Wraps a twin method and adds its wall time to a shared counter."""

    def __init__(self, fn, counter: list[float]) -> None:
        self.fn, self.counter = fn, counter

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.counter[0] += time.perf_counter() - t0


def measure(n_agents: int, ticks: int, signatures: str,
            ledger: str = "memory") -> tuple[int, float, float, float]:
    """(agents, agent-ticks/s, share of time in the twin, build seconds) for one scaled run.

    The twin's solve/evaluate calls are timed separately: they are the sim time the agents
    buy, the part of a tick that is world, not economy.
    """
    t0 = time.perf_counter()
    built = build(scaled(n_agents, ticks=ticks, signatures=signatures, ledger=ledger),
                  recorder=Recorder(None))
    built_s = time.perf_counter() - t0
    model = built.model
    model.step()  # warm-up: first offers, caches
    in_twin = [0.0]
    twin = model.twin
    twin.evaluate = _Timed(twin.evaluate, in_twin)
    twin.solve = _Timed(twin.solve, in_twin)
    t0 = time.perf_counter()
    for _ in range(ticks):
        model.step()
    elapsed = time.perf_counter() - t0
    model.finish()
    n = len(built.agents)
    return n, n * ticks / elapsed, in_twin[0] / elapsed, built_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--ticks", type=int, default=30)
    ap.add_argument("--signatures", choices=("off", "verify"), default="off")
    ap.add_argument("--ledger", default="memory,evm",
                    help="backends to measure side by side (comma-separated)")
    args = ap.parse_args()
    rows: dict[str, list[tuple[int, float]]] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        ticks = max(3, args.ticks * 1000 // max(size, 1000))  # keep 10k agents affordable
        for ledger in args.ledger.split(","):
            n, rate, twin_share, built_s = measure(size, ticks, args.signatures, ledger)
            rows.setdefault(ledger, []).append((n, rate))
            print(f"{n:>6} agents  {ticks:>3} ticks  {ledger:<6} {rate:>10,.0f} agent-ticks/s  "
                  f"{twin_share:>4.0%} of it in the twin (solve/evaluate)  "
                  f"without the twin {rate / max(1e-9, 1 - twin_share):>9,.0f}/s  "
                  f"(build + genesis {built_s:.1f} s)  signatures={args.signatures}", flush=True)
    for ledger, measured in rows.items():
        base_n, base = measured[0]
        for n, rate in measured[1:]:
            print(f"{ledger}: ratio {n} / {base_n} agents: {rate / base:.2f}x the per-agent rate")
    if "memory" in rows and "evm" in rows:
        for (n, memory), (_, evm) in zip(rows["memory"], rows["evm"], strict=True):
            print(f"{n} agents: evm takes {memory / evm:.2f}x the time of memory")


if __name__ == "__main__":
    main()
