"""The economy as a PettingZoo environment: learners take seats in any scenario.

``economy_v1``. Some participants of a scenario (the *learners*) are controlled from outside;
every other keeps its scenario policy::

    from scenarios.env import parallel_env
    env = parallel_env("warehouse-market", learners=["hasty-0"], ticks=120)
    obs, infos = env.reset(seed=7)
    while env.agents:
        actions = {a: policy(obs[a]) for a in env.agents}  # respect obs[a]["action_mask"]
        obs, rewards, terminations, truncations, infos = env.step(actions)

``env(...)`` is the same game as an AEC environment (`parallel_to_aec`, order-enforcing and
bounds-checked). ``EconomyGymEnv`` is a single-agent `gymnasium.Env` of one learner, for
single-agent trainers (stable-baselines3). docs/environment.md is the full description.

**Agents** are the learners' labels with "-" written "_" (``hasty_0`` for ``hasty-0``), in
the scenario's index order (``env.labels`` maps them back).

**Actions** ``Discrete(n)`` per role: an index into the role's lever settings, carried out by
the role's parametric policy (`agents.parametric`: the built-in strategy's logic with the
learner's levers), so every action reaching the economy is a valid `economy.actions` one.
Action 0 is the role's no-op and always legal; an action the mask rules out is action 0.

- provider (`ParametricProvider`, ``Discrete(43)``): 0 no new bids; else a margin over its
  reservation price x candidate plans tested per job;
- compute (`ParametricCompute`, ``Discrete(9)``): 0 keep its offer; else its price per CU as
  a multiple of its floor;
- customer (`ParametricCustomer`, ``Discrete(6)``): 0 post nothing; else post with a reserve
  price of a share of the order's expected value.

**Observations** ``Dict(observation=Box(-1, 1, (N_FEATURES,), float32), action_mask=Box(0, 1,
(n,), int8))``, as the twins' envs (`worlds.warehouse`, `worlds.logistics`, `worlds.windfarm`)
place their masks; ``observation`` is the role's features (the market's last ticks and the
rules in force, its balance and profit, its own outcomes).

**Rewards** per step (one tick): the change of the learner's realised profit (`obs.pnl.profit`:
income less every cost, emissions apart; money parked in escrow, a lease or a stake is
neither) in tokens, times ``reward_scale`` (default 1.0: tokens). A customer's reward also
counts the value of the plans it received (time saved x ``time_value_per_h``), its income that
is no token flow.

**Episodes** build the scenario anew at every reset, with the reset's seed as the scenario's
seed (same seed, same actions: the same trajectory, bit for bit); they never terminate and
are truncated after ``ticks`` ticks. ``reset()`` without a seed takes the constructor's seed
first (default: the scenario's), then the next integer at every later reset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import parallel_to_aec, wrappers

from agents.parametric import PARAMETRIC
from economy.history import JobOutcome, PnL
from scenarios.build import Built, build
from scenarios.loading import LoadedScenario, load_scenario
from scenarios.run import apply_overrides
from twinecon.errors import suggest
from twinecon.seeds import Stream

__all__ = ["NAME", "EconomyGymEnv", "EconomyParallelEnv", "env", "parallel_env"]

NAME = "economy_v1"
_MS_PER_H = 3_600_000


def _agent_name(label: str) -> str:
    """A learner's agent name: its label with "-" written "_" (PettingZoo's `name_<n>`)."""
    return label.replace("-", "_")


def _loaded(scenario: str | Path | LoadedScenario) -> LoadedScenario:
    return scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)


class EconomyParallelEnv(ParallelEnv):
    """A scenario's economy with some participants controlled by learners (see the module
    docstring).

    Args:
        scenario: a built-in scenario's name, a scenario file, or a `LoadedScenario`.
        learners: labels ("hasty-0") or group names ("hasty": every agent of the group) of
            the participants the learners control; each a provider, compute seller or
            customer. Default: the first agent of the scenario's first provider group.
        ticks: ticks per episode (default: the scenario's `ticks`).
        ledger: the ledger backend ("memory", the default; "evm" runs the contracts).
        signatures: "off" (the default: faster, same economics) or "verify".
        seed: the first episode's seed (default: the scenario's).
        reward_scale: rewards are profit in tokens times this.
        learner_params: the parametric policies' params, by role or by label (a label's
            entry updates its role's), e.g. ``{"provider": {"max_jobs": 3}}``.
        render_mode: only None.

    Raises:
        ScenarioError: the scenario cannot be loaded or built.
        ValueError: a learner that names no agent, or an agent of a role no learner may take.
    """


    def __init__(self, scenario: str | Path | LoadedScenario = "warehouse-market",
                 learners: Sequence[str] | str | None = None, *, ticks: int | None = None,
                 ledger: str = "memory", signatures: str = "off", seed: int | None = None,
                 reward_scale: float = 1.0,
                 learner_params: Mapping[str, Mapping[str, Any]] | None = None,
                 render_mode: str | None = None) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported; use None")
        base = _loaded(scenario)
        self._loaded = apply_overrides(base, ledger=ledger, signatures=signatures)
        sc = self._loaded.scenario
        self.ticks = sc.ticks if ticks is None else ticks
        if isinstance(self.ticks, bool) or not isinstance(self.ticks, int) or self.ticks < 1:
            raise ValueError(f"ticks is {ticks!r}; expected an int >= 1")
        self.reward_scale = float(reward_scale)
        self.render_mode = render_mode
        self.metadata: dict[str, Any] = {"name": NAME, "render_modes": [],
                                         "is_parallelizable": True, "scenario": sc.name}
        self._decimals = sc.ledger.decimals
        # the seats: (label, group, role), in index order, as build() makes them
        seats = [(f"{g.label or g.role}-{k}", g.label or g.role, g.role)
                 for g in sc.agents for k in range(g.count)]
        chosen = self._learners(seats, learners)
        #: the learners' agent names: their labels with "-" written "_" ("hasty_0")
        self.possible_agents = [_agent_name(seats[i][0]) for i in chosen]
        self.labels = {_agent_name(seats[i][0]): seats[i][0] for i in chosen}
        self._index = {_agent_name(seats[i][0]): i for i in chosen}
        self.agents: list[str] = []
        self._roles = {_agent_name(seats[i][0]): seats[i][2] for i in chosen}
        params = {k: dict(v) for k, v in (learner_params or {}).items()}
        self._params = {a: {**params.get(role, {}), **params.get(self.labels[a], {}),
                            **params.get(a, {})} for a, role in self._roles.items()}
        for a, role in self._roles.items():  # bad params fail here, not at the first reset
            PARAMETRIC[role](**self._params[a])
        self.observation_spaces: dict[str, spaces.Space] = {}
        self.action_spaces: dict[str, spaces.Space] = {}
        for a, role in self._roles.items():
            cls = PARAMETRIC[role]
            n = len(cls.ACTIONS)
            self.observation_spaces[a] = spaces.Dict({
                "observation": spaces.Box(-1.0, 1.0, (cls.N_FEATURES,), np.float32),
                "action_mask": spaces.Box(0, 1, (n,), np.int8)})
            self.action_spaces[a] = spaces.Discrete(n)
        self._next_seed = sc.seed if seed is None else int(seed)
        self.built: Built | None = None
        self._policies: dict[str, Any] = {}
        self._observations: list = []
        self._profit: dict[str, int] = {}
        self._baselines: dict[str, dict[int, int]] = {}
        self._masks: dict[str, np.ndarray] = {}
        self._tick = 0
        self.seed_used: int | None = None

    @staticmethod
    def _learners(seats: Sequence[tuple[str, str, str]],
                  learners: Sequence[str] | str | None) -> list[int]:
        if learners is None:
            first = next((i for i, s in enumerate(seats) if s[2] == "provider"), None)
            if first is None:
                raise ValueError("the scenario has no provider; name the learners "
                                 "(learners=[...], labels or group names)")
            return [first]
        names = [learners] if isinstance(learners, str) else list(learners)
        if not names:
            raise ValueError("learners is empty; name at least one label or group")
        chosen: list[int] = []
        known = sorted({s[0] for s in seats} | {s[1] for s in seats})
        for name in names:
            hits = [i for i, (label, group, _) in enumerate(seats)
                    if name in (label, group, _agent_name(label))]
            if not hits:
                raise ValueError(f"learner {name!r} names no agent{suggest(name, known)}; "
                                 f"labels and groups: {', '.join(known)}")
            for i in hits:
                role = seats[i][2]
                if role not in PARAMETRIC:
                    raise ValueError(f"learner {seats[i][0]!r} is a {role}; a learner may "
                                     f"take a {', '.join(sorted(PARAMETRIC))} seat")
                if i not in chosen:
                    chosen.append(i)
        return sorted(chosen)

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    # --- episode ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None,
              options: dict | None = None) -> tuple[dict[str, dict], dict[str, dict]]:
        """Build the scenario with this episode's seed and play to the first decision.

        Args:
            seed: the scenario seed of this episode; None takes the next of the constructor's
                (the constructor's seed first, then +1 per reset).
            options: ignored.
        """
        if seed is not None:
            self._next_seed = int(seed)
        self.seed_used = episode_seed = self._next_seed
        self._next_seed += 1
        self.close()
        self.built = built = build(apply_overrides(self._loaded, seed=episode_seed))
        model = built.model
        self._policies = {}
        for label in self.possible_agents:
            agent = built.agents[self._index[label]]
            policy = PARAMETRIC[self._roles[label]](**self._params[label])
            policy.reset(model.seeds.integer(Stream.POLICY_RESET, agent.index))
            agent.policy = policy
            agent.policy_name = f"parametric-{self._roles[label]}"
            self._policies[label] = policy
        self._profit = dict.fromkeys(self.possible_agents, 0)
        self._baselines = {a: {} for a in self.possible_agents}
        self._tick = 0
        self.agents = list(self.possible_agents)
        model.begin_tick()
        return self._observe(), self._infos({})

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """One tick: the learners' actions applied to their levers, every participant decides,
        the markets resolve and clear, the tick is accounted. A missing action is action 0."""
        built = self.built
        if not self.agents or built is None:
            return {}, {}, {}, {}, {}
        model = built.model
        observations = self._observations
        for label in self.agents:
            policy = self._policies[label]
            action = actions.get(label, 0)
            a = int(action) if action is not None else 0
            if not 0 <= a < policy.n_actions or not self._masks[label][a]:
                a = 0  # an action the mask rules out: the no-op
            policy.apply(a)
        model.resolve([(p, p.decide(o)) for p, o in zip(model.participants, observations,
                                                         strict=True)])
        model.end_tick()
        self._tick += 1
        rewards, values = self._rewards()
        truncated = self._tick >= self.ticks
        if not truncated:
            model.begin_tick()
        obs = self._observe()
        infos = self._infos(values)
        agents = self.agents
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, truncated)
        if truncated:
            self.agents = []
        return obs, rewards, terminations, truncations, infos

    def _rewards(self) -> tuple[dict[str, float], dict[str, int]]:
        model = self.built.model  # type: ignore[union-attr]
        scale = self.reward_scale / 10 ** self._decimals
        rewards: dict[str, float] = {}
        values: dict[str, int] = {}
        for label in self.agents:
            address = self.built.agents[self._index[label]].address  # type: ignore[union-attr]
            profit = PnL.of(model.flows.pnl.get(address)).profit
            gained = profit - self._profit[label]
            self._profit[label] = profit
            value = 0
            if self._roles[label] == "customer":
                value = self._customer_value(label, model, address)
            values[label] = value
            rewards[label] = float((gained + value) * scale)
        return rewards, values

    def _customer_value(self, label: str, model: Any, address: str) -> int:
        """Base units of time saved by the customer's jobs completed in this tick, at its
        value of time (as `economy.welfare` counts the customer's value)."""
        baselines = self._baselines[label]
        value_per_h = model.config.time_value_per_h
        value = 0
        for o in model.history.outcomes_of(address):
            if (type(o) is JobOutcome and o.tick == model.tick and o.role == "client"
                    and o.result == "completed" and o.time_ratio is not None):
                baseline = baselines.pop(o.job_id, 0)
                saved = baseline - round(o.time_ratio * baseline)
                value += max(0, saved) * value_per_h // _MS_PER_H
        return value

    # --- views ------------------------------------------------------------------------------
    def _observe(self) -> dict[str, dict]:
        model = self.built.model  # type: ignore[union-attr]
        self._observations = observations = [model.observe(p) for p in model.participants]
        out = {}
        for label in self.agents:
            obs = observations[self._index[label]]
            policy = self._policies[label]
            mask = self._masks[label] = policy.action_mask(obs)
            out[label] = {"observation": policy.features(obs), "action_mask": mask}
            if self._roles[label] == "customer":
                baselines = self._baselines[label]
                for job in obs.jobs:
                    if job.client == obs.address:
                        baselines.setdefault(job.job_id, job.baseline_ms)
        return out

    def _infos(self, values: Mapping[str, int]) -> dict[str, dict]:
        built = self.built
        out = {}
        scale = 10 ** self._decimals
        for label in self.agents:
            agent = built.agents[self._index[label]]  # type: ignore[union-attr]
            obs = self._observations[self._index[label]]
            out[label] = {"tick": self._tick, "action": self._policies[label].action,
                          "profit": self._profit[label] / scale,
                          "balance": obs.balance / scale, "value": values.get(label, 0) / scale,
                          "faults": agent.n_faults}
        return out

    def observations(self) -> dict[str, Any]:
        """The learners' `economy.Observation` of the current tick (for scripted controllers
        and tests)."""
        return {a: self._observations[self._index[a]] for a in self.agents}

    def render(self) -> None:
        """Nothing to render (``render_modes`` is empty)."""
        return None

    def close(self) -> None:
        """Stop the episode's worker processes, if any policy runs in one."""
        if self.built is not None:
            self.built.close()


def parallel_env(scenario: str | Path | LoadedScenario = "warehouse-market",
                 learners: Sequence[str] | str | None = None, **kwargs: Any) -> EconomyParallelEnv:
    """The parallel environment (see `EconomyParallelEnv`)."""
    return EconomyParallelEnv(scenario, learners, **kwargs)


def env(scenario: str | Path | LoadedScenario = "warehouse-market",
        learners: Sequence[str] | str | None = None, **kwargs: Any) -> Any:
    """The AEC environment: `parallel_env` through `parallel_to_aec`, bounds-checked."""
    return wrappers.AssertOutOfBoundsWrapper(
        parallel_to_aec(parallel_env(scenario, learners, **kwargs)))


class EconomyGymEnv(gymnasium.Env):
    """One learner's seat as a single-agent `gymnasium.Env` (the others keep their scenario
    policies), for single-agent trainers such as stable-baselines3's PPO.

    The observation is ``Box(-1, 1, (N_FEATURES + n,), float32)``: the role's features
    followed by the action mask (as 0.0 / 1.0), so a policy sees which actions are carried
    out; an action the mask rules out is the no-op, as in the parallel env. Reward, episode and
    seeding are the parallel env's. The action space is the parallel env's ``Discrete(n)``, or
    with ``factored=True`` the role's levers as independent choices, ``MultiDiscrete(FACTORS)``
    (a provider's: 8 margins, the first "no new bids", x 6 candidate counts), which a
    policy learns faster; `ParametricProvider.compose` maps them to the ``Discrete`` action.

    Args:
        scenario, ticks, ledger, signatures, seed, reward_scale: as `EconomyParallelEnv`.
        learner: the one learner's label (default: the first agent of the first provider
            group).
        learner_params: its parametric policy's params.
        factored: the levers as a ``MultiDiscrete`` of independent choices.
    """

    metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium.Env declares it so)

    def __init__(self, scenario: str | Path | LoadedScenario = "warehouse-market",
                 learner: str | None = None, *, ticks: int | None = None,
                 ledger: str = "memory", signatures: str = "off", seed: int | None = None,
                 reward_scale: float = 1.0,
                 learner_params: Mapping[str, Any] | None = None,
                 factored: bool = False) -> None:
        self.parallel = EconomyParallelEnv(
            scenario, None if learner is None else [learner], ticks=ticks, ledger=ledger,
            signatures=signatures, seed=seed, reward_scale=reward_scale,
            learner_params=None if learner_params is None else {
                "provider": learner_params, "compute": learner_params,
                "customer": learner_params})
        if len(self.parallel.possible_agents) != 1:
            raise ValueError(f"EconomyGymEnv takes one learner; {learner!r} names "
                             f"{len(self.parallel.possible_agents)}")
        self.learner = self.parallel.possible_agents[0]
        self.role = self.parallel._roles[self.learner]
        inner = cast(spaces.Dict, self.parallel.observation_space(self.learner))
        size = (int(np.prod(inner["observation"].shape or (0,)))
                + int(np.prod(inner["action_mask"].shape or (0,))))
        self.observation_space = spaces.Box(-1.0, 1.0, (size,), np.float32)
        self.policy_class = PARAMETRIC[self.role]
        factors = self.policy_class.FACTORS
        self.factored = factored and len(factors) > 1
        self.action_space = (spaces.MultiDiscrete(list(factors)) if self.factored
                             else self.parallel.action_space(self.learner))

    @staticmethod
    def _flat(obs: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([obs["observation"], obs["action_mask"].astype(np.float32)])

    def reset(self, *, seed: int | None = None,
              options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        obs, infos = self.parallel.reset(seed=seed, options=options)
        return self._flat(obs[self.learner]), infos[self.learner]

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        a = self.policy_class.compose(action) if self.factored else int(action)
        obs, rewards, terms, truncs, infos = self.parallel.step({self.learner: a})
        a = self.learner
        return self._flat(obs[a]), rewards[a], terms[a], truncs[a], infos[a]

    def close(self) -> None:
        self.parallel.close()
