"""What process isolation costs a policy call: the built-in provider policy in this process and
in a worker process, side by side on the same observations.

The built-in `warehouse-market` runs as usual (in-process); at every tick, each provider's
observation is also handed to two shadow copies of its policy (the same params, reset with
the same seed): one in this process, one a `ProcessPolicy` in a worker. Both get the same
generator stream, so their answers must agree, and they are checked to; their call times are
compared. The difference is the wire: encoding the observation, the round trip over the
socket, decoding it in the worker, encoding and decoding the actions.

Also measured: the fork server's start (once per simulator process) and a worker's start (a
fork, its twin built, the policy loaded and reset).
Not a test: run `python bench/bench_isolation.py`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _scale import scaled

from agents import Isolation, PolicyLimits, ProcessPolicy, load_policy
from agents._forkserver import fork_server
from agents.wire import Wire, dumps
from economy import Recorder
from scenarios import build, load_scenario
from twinecon.seeds import SeedTree, Stream


def _ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1e3:7.3f} ms  "
            f"mean {statistics.fmean(values) * 1e3:7.3f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="warehouse-market")
    ap.add_argument("--ticks", type=int, default=40)
    ap.add_argument("--agents", type=int, default=0,
                    help="scale warehouse-market to about this many agents (0: as it is)")
    args = ap.parse_args()

    loaded = (scaled(args.agents, ticks=args.ticks) if args.agents
              else load_scenario(args.scenario))
    built = build(loaded, recorder=Recorder(None))
    model, sc = built.model, loaded.scenario
    providers = [a for a in built.agents if a.policy_name == "provider"]
    seeds = SeedTree(sc.seed)

    t0 = time.perf_counter()
    fork_server().ensure()
    server_s = time.perf_counter() - t0

    limits = PolicyLimits(isolation=Isolation.PROCESS, time_limit_ms=60_000)
    shadows = []
    starts: list[float] = []
    for agent in providers:
        inproc = load_policy("provider", agent.params)
        proc = ProcessPolicy("provider", agent.params, limits=limits,
                             twin_spec=model.twin.spec, hz=sc.economy.l2_hz, seed=sc.seed,
                             index=agent.index)
        reset_seed = seeds.integer(Stream.POLICY_RESET, agent.index)
        inproc.reset(reset_seed)
        proc.reset(reset_seed)
        shadows.append((agent, inproc, proc, seeds.rng(Stream.POLICY, agent.index)))
    wire = Wire.for_twin(model.twin)

    t_in: list[float] = []
    t_proc: list[float] = []
    sizes: list[int] = []
    for tick in range(args.ticks):
        model.begin_tick()
        decisions = [(p, p.decide(model.observe(p))) for p in model.participants]
        for agent, inproc, proc, rng in shadows:
            obs = model.observe(agent)
            mine = obs._replace(rng=rng)  # the shadow's own stream, as the worker's
            starting = proc.pid is None
            t = time.perf_counter()
            out_proc = proc.act(obs)
            took_proc = time.perf_counter() - t
            t = time.perf_counter()
            out_in = inproc.act(mine)
            took_in = time.perf_counter() - t
            if starting:  # its worker started in this call
                starts.append(took_proc - took_in)
            else:
                t_proc.append(took_proc)
                t_in.append(took_in)
                sizes.append(len(dumps(wire.encode_observation(obs))))
            if out_in != out_proc:
                raise SystemExit(f"tick {tick}: {agent.label}'s answers differ:\n"
                                 f"{out_in}\n{out_proc}")
        model.resolve(decisions)
        model.end_tick()
    for _, _, proc, _ in shadows:
        proc.close()

    name = f"warehouse-market x{args.agents} agents" if args.agents else args.scenario
    print(f"{name}, {len(providers)} providers, {args.ticks} ticks, {len(t_proc)} calls each "
          "way (answers identical)")
    print(f"  in-process   {_ms(t_in)}")
    print(f"  process      {_ms(t_proc)}")
    print(f"  overhead     {_ms([p - i for p, i in zip(t_proc, t_in, strict=True)])} per call")
    ratio_median = statistics.median(t_proc) / statistics.median(t_in)
    print(f"  ratio        x{ratio_median:.1f} (medians), x{sum(t_proc) / sum(t_in):.1f} "
          "(totals)")
    print(f"  observation  median {statistics.median(sizes):,.0f} bytes of JSON, "
          f"max {max(sizes):,}")
    print(f"  fork server start {server_s:.2f} s (once per process); worker start "
          f"{_ms(starts)}")
    print(json.dumps({"calls": len(t_proc), "ratio_median": round(ratio_median, 2),
                      "overhead_ms_median": round(statistics.median(
                          [p - i for p, i in zip(t_proc, t_in, strict=True)]) * 1e3, 3)}))


if __name__ == "__main__":
    main()
