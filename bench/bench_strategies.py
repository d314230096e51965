"""What the responding strategies cost: time per tick of warehouse-market with its responding
agents against the same market with today's scripted ones, side by side.

- "responding": the built-in warehouse-market (value customers, adaptive providers, priced
  evaluators, utilisation-priced compute),
- "cost-plus": the same market, agents and seeds, with every strategy swapped for its
  scripted baseline (customer, cost-plus provider testing 8 candidates, evaluator, compute at a
  posted price).

Both on the memory ledger with signatures off (so the ledger does not hide the policies'
cost), scaled to `--customers`. The variants take turns (round-robin, fastest of `--repeat`
kept), and the ratio of their time per tick is printed, with the time per job completed (the
responding agents decline jobs not worth doing, so per job is the fairer unit too). Aim: at
most 1.5x the time per tick. Not a test: run `python bench/bench_strategies.py`.
"""

from __future__ import annotations

import argparse
import copy
import time
import tomllib
from pathlib import Path

import scenarios
from scenarios.loading import LoadedScenario, find_scenario, validate_scenario

SCRIPTED = {
    "value-customer": ("customer", {"budget_per_line": "0.06 tokens", "max_open_jobs": 2,
                                    "expires_in": 12, "min_gain_bps": 300}),
    "adaptive": ("cost-plus", {"candidates": 8, "markup_bps": 2000, "base_fee": "0.01 tokens",
                               "policy": "policy/picker", "data_pool": "picks"}),
    "priced-evaluator": ("evaluator", {}),
    "utilisation-compute": ("compute", {"price_per_cu": "0.000002 tokens",
                                        "capacity_cu": 2_000_000}),
}


def market(variant: str, customers: int, ticks: int) -> dict:
    data = tomllib.loads(find_scenario("warehouse-market").read_text())
    data["ledger"] = {"backend": "memory", "signatures": "off"}
    data["ticks"] = ticks
    data["economy"]["debug_invariants"] = False
    scale = customers / 8
    for group in data["agents"]:
        if group["role"] != "world":
            group["count"] = max(1, round(group["count"] * scale))
        if variant == "cost-plus" and group["policy"] in SCRIPTED:
            group["policy"], group["params"] = copy.deepcopy(SCRIPTED[group["policy"]])
    return data


def timed(data: dict) -> tuple[float, int]:
    scenario = validate_scenario(data, "bench")
    model = scenarios.build(LoadedScenario(scenario=scenario, source="bench",
                                           base_dir=Path("."))).model
    start = time.perf_counter()
    for _ in range(scenario.ticks):
        model.step()
    return time.perf_counter() - start, model.summary()["jobs_completed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--ticks", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    variants = ("cost-plus", "responding")
    best = {v: (float("inf"), 0) for v in variants}
    for _ in range(args.repeat):
        for v in variants:
            seconds, jobs = timed(market(v, args.customers, args.ticks))
            best[v] = min(best[v], (seconds, jobs))
    base_s, base_jobs = best["cost-plus"]
    print(f"warehouse-market, {args.customers} customers, {args.ticks} ticks, memory ledger")
    for v in variants:
        s, jobs = best[v]
        print(f"  {v:11s} {1000 * s / args.ticks:7.2f} ms/tick  {jobs:5d} jobs  "
              f"{s / base_s:5.2f}x per tick  "
              f"{(s / max(jobs, 1)) / (base_s / max(base_jobs, 1)):5.2f}x per job")


if __name__ == "__main__":
    main()
