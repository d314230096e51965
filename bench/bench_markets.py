"""What the full economy's mechanisms cost: one scaled economy under each rule, side by side.

The built-in `warehouse-market` scaled to a population (every group in proportion), run for
the same ticks under:

- posted prices (the baseline: leases opened and claimed at once),
- a sealed-bid reverse auction per request and a uniform-price call market (requests wait
  for the end-of-tick clearing, then the evaluations run),
- posted prices plus the IP and data layers: every deliverable names a policy asset that
  pays royalties up a twin -> dataset -> policy graph, every job pays for data from a pool
  that contributors fill, and a halving emission pays compute sellers each epoch,
- posted prices plus stakes and spot checks on every claim.

Variants take turns (round-robin, fastest of `--repeat` kept) and the ratios to the posted
baseline are printed: the machine is shared and noisy, so the ratios are the signal.
Not a test: run `python bench/bench_markets.py`.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _scale import scaled

from economy import Recorder
from scenarios import build
from scenarios.loading import validate_scenario
from scenarios.overrides import apply_point

IP: dict[str, Any] = {
    "rules.royalty.mode": "lap",
    "rules.emission.schedule": "halving",
    "rules.emission.amount": 1,
    "rules.emission.epoch_ticks": 5,
}


def _variant(n_agents: int, ticks: int, ledger: str, name: str):
    loaded = scaled(n_agents, ticks=ticks, ledger=ledger)
    data = loaded.scenario.model_dump()
    if name in ("sealed", "call"):
        data = apply_point(data, {"rules.compute.clearing": name}, "bench")
    if name == "stake":
        data = apply_point(data, {"rules.compute.min_stake": 1,
                                  "rules.compute.spot_check_bps": 10_000}, "bench")
    if name == "ip+data":
        data = apply_point(data, IP, "bench")
        n_data = max(1, n_agents // 50)
        data["agents"].append({"role": "data", "count": n_data, "policy": "contributor",
                               "params": {"pool": "ops", "universe": 100_000}, "balance": 0,
                               "label": None})
        data["assets"] = [
            {"key": "twin", "kind": "twin", "royalty_bps": 1_000},
            {"key": "data/ops", "kind": "data", "owner": "data-0", "royalty_bps": 1_500,
             "parents": ["twin"]},
            {"key": "policy/p", "kind": "policy", "owner": "thorough-0",
             "parents": ["data/ops"]},
        ]
        data["pools"] = [{"key": "ops", "owner": "data-0", "price_per_unit": "0.0001"}]
        for group in data["agents"]:
            if group["role"] == "provider":
                group["params"] = {**group["params"], "policy": "policy/p", "data_pool": "ops"}
    return replace(loaded, scenario=validate_scenario(data, loaded.source))


def measure(n_agents: int, ticks: int, ledger: str, name: str) -> tuple[float, dict]:
    """(agent-ticks/s, summary) of one run of a variant."""
    built = build(_variant(n_agents, ticks, ledger, name), recorder=Recorder(None))
    model = built.model
    model.step()  # warm-up: offers posted, caches filled
    t0 = time.perf_counter()
    for _ in range(ticks):
        model.step()
    elapsed = time.perf_counter() - t0
    return len(built.agents) * ticks / elapsed, model.finish()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--ticks", type=int, default=40)
    ap.add_argument("--ledger", default="memory,evm")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    variants = ("posted", "sealed", "call", "ip+data", "stake")
    for ledger in args.ledger.split(","):
        best: dict[str, float] = {}
        summaries: dict[str, dict] = {}
        for _ in range(args.repeat):
            for name in variants:
                rate, summaries[name] = measure(args.agents, args.ticks, ledger, name)
                best[name] = max(best.get(name, 0.0), rate)
        for name in variants:
            s = summaries[name]
            m = s["markets"]
            print(f"{ledger:<6} {name:<8} {best[name]:>9,.0f} agent-ticks/s  "
                  f"x{best['posted'] / best[name]:.2f} the time of posted  "
                  f"jobs {s['jobs_completed']:>4}  CU leased {m['compute']['cu_leased']:>9,}  "
                  f"royalties {m['royalties']['volume'] / 1e18:.3f}  "
                  f"data uses {m['data']['units']}  emitted {m['emissions']['emitted'] / 1e18:.2f}"
                  f"  slashed {m['compute']['slashed']}", flush=True)


if __name__ == "__main__":
    main()
