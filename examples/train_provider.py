"""Train one provider with PPO against the built-in adaptive providers on warehouse-market.

The learner takes the seat of ``hasty-0`` (a cost-plus provider in the scenario); everyone
else keeps the scenario's policy: two adaptive providers, the other cost-plus one, value
customers, priced evaluators, utilisation-priced compute. Each tick it picks a margin over its
reservation price (or no new bids) and how many candidate plans to test, two independent
choices (``EconomyGymEnv(factored=True)``, `agents.parametric.ParametricProvider`);
its reward is its profit in the tick, in hundredths of a token (``reward_scale=100``). The
ledger is the memory one with signatures off (the same economics, faster).

    pip install -e ".[rl]"
    python examples/train_provider.py --out runs/rl   # 100,000 ticks: 5 to 10 minutes, 2 cores

It writes ``<out>/provider.npz`` (the policy's weights, loaded by
``agents.rl_policy:TrainedPolicy``) and ``<out>/provider_sb3.zip`` (the whole PPO model, to
train on). Plug the policy into a scenario as any other:

    [[agents]]
    role = "provider"
    policy = "agents.rl_policy:TrainedPolicy"
    params = { weights = "runs/rl/provider.npz" }

Training episodes use seeds from 1000 up; `bench/bench_rl.py` evaluates on others.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

SCENARIO = "warehouse-market"
LEARNER = "hasty-0"
TICKS = 120
REWARD_SCALE = 100.0  # rewards in hundredths of a token
TRAIN_SEED = 1000  # training episodes: seeds TRAIN_SEED + 100_000 * env + episode


def make_env(rank: int, ticks: int = TICKS, scenario: str = SCENARIO,
             learner: str = LEARNER) -> Any:
    """The training env of worker `rank` (its episodes take seeds of their own), with
    stable-baselines3's episode monitor (its logs show the mean episode reward)."""
    from stable_baselines3.common.monitor import Monitor

    from scenarios.env import EconomyGymEnv

    return Monitor(EconomyGymEnv(scenario, learner, ticks=ticks, reward_scale=REWARD_SCALE,
                                 seed=TRAIN_SEED + 100_000 * rank, factored=True))


def train(out: str | Path, *, steps: int = 100_000, n_envs: int = 4, seed: int = 0,
          ticks: int = TICKS, scenario: str = SCENARIO, learner: str = LEARNER,
          processes: bool = True, verbose: int = 0) -> dict[str, Any]:
    """Train PPO for `steps` env steps and write the weights; returns paths and timings.
    With `processes` the episodes run in worker processes (one per env: both cores work)."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from agents.rl_policy import export_sb3

    torch.set_num_threads(1)  # a small network: threads cost more than they give
    started = time.perf_counter()
    makers = [lambda r=r: make_env(r, ticks, scenario, learner) for r in range(n_envs)]
    envs = SubprocVecEnv(makers) if processes and n_envs > 1 else DummyVecEnv(makers)
    n_steps = 4 * ticks  # four episodes per env per update
    model = PPO("MlpPolicy", envs, n_steps=n_steps, batch_size=n_steps * n_envs // 8,
                n_epochs=10, gamma=0.95, gae_lambda=0.9, ent_coef=0.01, learning_rate=3e-4,
                policy_kwargs={"net_arch": [64, 64]}, seed=seed, device="cpu",
                verbose=verbose)
    model.learn(total_timesteps=steps)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    role = envs.get_attr("role")[0]
    weights = export_sb3(model, out / f"{role}.npz", role=role)
    model.save(out / f"{role}_sb3.zip")
    envs.close()
    return {"weights": weights, "model": out / f"{role}_sb3.zip", "steps": steps,
            "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/rl", help="folder for the weights")
    parser.add_argument("--steps", type=int, default=100_000, help="env steps (ticks)")
    parser.add_argument("--envs", type=int, default=4, help="episodes played side by side")
    parser.add_argument("--ticks", type=int, default=TICKS, help="ticks per episode")
    parser.add_argument("--seed", type=int, default=0, help="PPO's seed")
    parser.add_argument("--in-process", action="store_true",
                        help="play the episodes in this process (default: one worker each)")
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args()
    done = train(args.out, steps=args.steps, n_envs=args.envs, seed=args.seed,
                 ticks=args.ticks, processes=not args.in_process, verbose=args.verbose)
    print(f"trained {done['steps']:,} steps in {done['seconds']:.0f} s; weights "
          f"{done['weights']}, model {done['model']}")


if __name__ == "__main__":
    main()
