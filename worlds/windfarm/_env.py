"""The wind farm as a PettingZoo environment: crews are the agents, a step is a day.

``parallel_env()`` (a `ParallelEnv`) and ``env()`` (its AEC form through `parallel_to_aec`,
order-enforcing and bounds-checked) both run with no arguments on the default spec::

    from worlds.windfarm import parallel_env
    env = parallel_env(max_cycles=365)
    observations, infos = env.reset(seed=7)
    while env.agents:
        actions = {a: env.action_space(a).sample(observations[a]["action_mask"])
                   for a in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)

Agents ``crew_0 .. crew_{n_crews-1}`` work on all ``n_turbines`` turbines of the spec.

Action (``Discrete(1 + n_turbines * n_components)``): 0 idles; ``1 + t * C + c`` services
component ``c`` of turbine ``t``: a failed component is repaired (``repair_cost_eur``,
``repair_duration_ms``; allowed once ``lead_time_ms`` has passed since it failed), a working
one replaced (``replace_cost_eur``, ``replace_duration_ms``). A job may start only on an
accessible day, by a free crew, on a component no other crew is servicing; an action that
breaks a rule idles (the mask, ``observations[agent]["action_mask"]`` (int8), says which
are allowed; idling always is). A crew is available on a day with ``crew_availability_bps``
(independently per crew and day). Crews act in id order, so of two crews choosing one component the
lower id gets it.

Day dynamics, in order: jobs start; every turbine without a failed or serviced component
produces ``rated_power_kw * capacity_factor_bps / 10000 * 24`` kWh; jobs that end today
renew their component (age 0, wear 0); all components age a day; working Weibull components
fail with their one-day conditional probability, gamma-process components gain a day of wear
and fail at ``failure_wear``; the weather moves to the next day (the spec's monthly Markov
chain) and each crew's availability is drawn. Reward, shared by all crews: the day's energy
value minus the costs of the jobs started, in kEUR.

Observation ``Dict(observation=Box(0, 4, (n_turbines * (3C + 1) + 3 + 4 * n_crews,),
float32), action_mask=Box(0, 1, (1 + n_turbines * C,), int8))``, the mask placed as the
warehouse's and logistics envs place theirs (PettingZoo's convention); ``observation``: per turbine
its down flag and, per component, age / age_threshold_h (capped at 4), wear / failure_wear,
and status (0 working, 0.5 in service, 1 failed); then today's access flag, month / 11 and the
fraction of ``max_cycles`` elapsed; per crew whether it is available today, the share of its
job left and its turbine (``(t + 1) / n_turbines``, 0 when free); last a one-hot of the
observing crew. Episodes
start from component ages and wear drawn as in `WindfarmTwin.orders` and a random day of the
year, all from ``reset(seed=...)``; they never terminate and are truncated after
``max_cycles`` days.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils import parallel_to_aec, wrappers

from worlds._seeding import episode_sequence
from worlds.errors import InvalidSpec
from worlds.spec import TwinSpec
from worlds.windfarm._farm import DAY_MS, HOURS_PER_YEAR, farm_from_body
from worlds.windfarm._state import draw_states
from worlds.windfarm._weather import stationary_good
from worlds.windfarm.spec import ENGINE_VERSION, windfarm_spec

__all__ = ["WindfarmParallelEnv", "env", "parallel_env"]

NAME = "windfarm_v1"
_AGE_CAP = 4.0


class WindfarmParallelEnv(ParallelEnv):
    """Crews maintaining a wind farm, one day per step (see the module docstring).

    Args:
        spec: a "windfarm" spec; default `windfarm_spec()`.
        max_cycles: days per episode.
        render_mode: only None (nothing to render).

    Raises:
        InvalidSpec: not a windfarm spec of this engine version.
        ValueError: max_cycles < 1 or a render mode.
    """

    def __init__(self, spec: TwinSpec | None = None, max_cycles: int = 365,
                 render_mode: str | None = None) -> None:
        spec = windfarm_spec() if spec is None else spec
        if not isinstance(spec, TwinSpec) or spec.kind != "windfarm" or (
                spec.body.get("engine_version") != ENGINE_VERSION):
            raise InvalidSpec("the windfarm env needs a spec built by windfarm_spec() of engine "
                              f"{ENGINE_VERSION!r}")
        if isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or max_cycles < 1:
            raise ValueError(f"max_cycles is {max_cycles!r}; expected an int >= 1")
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported; use None")
        self.spec = spec
        self.max_cycles = max_cycles
        self.render_mode = render_mode
        self.metadata: dict[str, Any] = {"name": NAME, "twin_id": spec.id, "render_modes": [],
                                         "is_parallelizable": True}
        farm = self._farm = farm_from_body(spec.body)
        n_t, n_c, n_k = farm.n_turbines, farm.n_components, farm.n_crews
        self.possible_agents = [f"crew_{k}" for k in range(n_k)]
        self.agents: list[str] = []
        self.n_actions = 1 + n_t * n_c
        self._farm_len = n_t * (3 * n_c + 1) + 3 + 3 * n_k
        size = self._farm_len + n_k
        self.observation_spaces = {
            a: gymnasium.spaces.Dict({
                "observation": gymnasium.spaces.Box(0.0, _AGE_CAP, (size,), np.float32),
                "action_mask": gymnasium.spaces.Box(0, 1, (self.n_actions,), np.int8)})
            for a in self.possible_agents}
        self.action_spaces = {a: gymnasium.spaces.Discrete(self.n_actions)
                              for a in self.possible_agents}
        self._repair_days = np.maximum(-(-farm.repair_ms // DAY_MS), 1)
        self._replace_days = np.maximum(-(-farm.replace_ms // DAY_MS), 1)
        self._lead_days = -(-farm.lead_ms // DAY_MS)
        self._kwh_day = farm.rated_kw * farm.capacity_factor_bps * 24 / 10_000
        self._p0 = stationary_good(farm.stay_good, farm.stay_bad)
        self._avail_p = farm.crew_availability_bps / 10_000
        self._k, self._eta, self._inv_eta = farm.wb_shape, farm.wb_scale_h, 1 / farm.wb_scale_h
        self._weibull = ~farm.is_gamma
        self._fail_wear = np.where(farm.is_gamma, farm.failure_wear, np.inf)
        self._gamma = np.flatnonzero(farm.is_gamma)
        self._n_gamma = len(self._gamma)
        self._linear = bool((farm.g_exp[self._gamma] == 1.0).all())
        self._gamma_steps = [(int(c), max(float(farm.g_rate_per_y[c]) * 24 / HOURS_PER_YEAR,
                                          1e-300), float(farm.g_scale[c]))
                             for c in self._gamma]
        self._age_scale = farm.age_threshold_h.astype(np.float64)
        self._wear_scale = np.where(farm.is_gamma, np.maximum(farm.failure_wear, 1), np.inf)
        self._rng: np.random.Generator | None = None

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        return self.action_spaces[agent]

    # --- episode ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None,
              options: dict | None = None) -> tuple[dict[str, dict], dict[str, dict]]:
        """Start an episode; the same seed gives the same episode for the same actions.

        Args:
            seed: seeds the episode's stream, ``twinecon.seeds.twin_sequence(seed,
                spec.sha256)`` as every twin stream; None draws fresh entropy from the OS.
            options: ignored.
        """
        self._rng = np.random.default_rng(episode_sequence(seed, self.spec.sha256))
        farm, rng = self._farm, self._rng
        age, wear = draw_states(farm, rng, farm.n_turbines)
        self._age_h = age.astype(np.float64)
        self._haz = (self._age_h * self._inv_eta) ** self._k
        self._wear = wear.astype(np.float64)
        shape = age.shape
        self._failed = np.zeros(shape, dtype=bool)
        self._failed_day = np.zeros(shape, dtype=np.int64)
        self._serviced = np.zeros(shape, dtype=bool)
        self._crew_job = [(-1, -1)] * farm.n_crews     # (turbine, component) or (-1, -1)
        self._crew_left = np.zeros(farm.n_crews, dtype=np.int64)
        self._crew_len = np.ones(farm.n_crews, dtype=np.int64)
        self._doy = int(rng.integers(0, 365))
        self._good = bool(rng.random() < self._p0[self._doy * 12 // 365])
        self._avail = rng.random(farm.n_crews) < self._avail_p
        self._day = 0
        self.agents = list(self.possible_agents)
        return self._observe(), self._infos()

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Advance one day with each live crew's action (a missing crew idles)."""
        rng = self._rng
        if not self.agents or rng is None:
            return {}, {}, {}, {}, {}
        farm = self._farm
        n_c = farm.n_components
        cost = 0
        for k, agent in enumerate(self.possible_agents):
            a = actions.get(agent)
            if a is None or int(a) == 0 or not self._allowed(k, int(a)):
                continue  # idle, or an action the mask forbids: also idle
            t, c = divmod(int(a) - 1, n_c)
            if self._failed[t, c]:
                cost += int(farm.repair_cost[c])
                days = int(self._repair_days[c])
            else:
                cost += int(farm.replace_cost[c])
                days = int(self._replace_days[c])
            self._serviced[t, c] = True
            self._crew_job[k] = (t, c)
            self._crew_left[k] = self._crew_len[k] = days

        running = ~(self._failed | self._serviced).any(axis=1)
        value = float(running.sum()) * self._kwh_day * farm.price_eur_per_mwh / 1000

        self._crew_left -= self._crew_left > 0
        for k, (t, c) in enumerate(self._crew_job):
            if t >= 0 and self._crew_left[k] == 0:
                self._serviced[t, c] = self._failed[t, c] = False
                self._age_h[t, c] = self._wear[t, c] = self._haz[t, c] = 0.0
                self._crew_job[k] = (-1, -1)

        self._age_day(rng)
        self._day += 1
        self._doy = (self._doy + 1) % 365
        m = self._doy * 12 // 365
        u = rng.random()
        self._good = bool(u < farm.stay_good[m]) if self._good else bool(u >= farm.stay_bad[m])
        self._avail = rng.random(farm.n_crews) < self._avail_p

        reward = (value - cost) / 1000
        truncated = self._day >= self.max_cycles
        observations, infos = self._observe(), self._infos()
        agents = self.agents
        rewards = dict.fromkeys(agents, reward)
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, truncated)
        if truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _age_day(self, rng: np.random.Generator) -> None:
        """One day of ageing, degradation and failures (the same draws every day)."""
        farm = self._farm
        age1 = self._age_h + 24.0
        u = rng.random(age1.shape)
        working = ~(self._failed | self._serviced)
        if self._linear:  # a scalar shape per component takes numpy's fast path
            for c, shape, scale in self._gamma_steps:
                self._wear[:, c] += (scale * rng.standard_gamma(shape, size=farm.n_turbines)
                                     * working[:, c])
        elif self._n_gamma:
            g = self._gamma
            b, y0 = farm.g_exp[g], self._age_h[:, g] / HOURS_PER_YEAR
            shape = farm.g_rate_per_y[g] * ((y0 + 24 / HOURS_PER_YEAR) ** b - y0 ** b)
            inc = farm.g_scale[g] * rng.standard_gamma(np.maximum(shape, 1e-300))
            self._wear[:, g] += inc * working[:, g]
        # Weibull: P(fail in the day | working) = 1 - exp(H(age) - H(age + 1 day)).
        haz1 = (age1 * self._inv_eta) ** self._k
        new = ((self._wear >= self._fail_wear) | ((u < -np.expm1(self._haz - haz1))
                                                  & self._weibull)) & working
        if new.any():
            self._wear = np.where(new & farm.is_gamma, farm.failure_wear, self._wear)
            self._failed |= new
            self._failed_day[new] = self._day + 1
        self._age_h, self._haz = age1, haz1

    # --- views ------------------------------------------------------------------------------
    def _allowed(self, k: int, a: int) -> bool:
        if a == 0:
            return True
        if not (0 < a < self.n_actions and self._good and self._avail[k]
                and self._crew_left[k] == 0):
            return False
        t, c = divmod(a - 1, self._farm.n_components)
        if self._serviced[t, c]:
            return False
        return not self._failed[t, c] or (
            self._day - self._failed_day[t, c] >= self._lead_days[c])

    def action_mask(self, agent: str) -> np.ndarray:
        """(n_actions,) int8: 1 where the action would be carried out today."""
        return self._masks()[self.possible_agents.index(agent)]

    def _masks(self) -> list[np.ndarray]:
        idle = np.zeros(self.n_actions, dtype=np.int8)
        idle[0] = 1
        busy = np.zeros(self.n_actions, dtype=np.int8)
        busy[0] = 1
        if self._good:
            ok = ~self._serviced & (~self._failed | (
                self._day - self._failed_day >= self._lead_days))
            busy[1:] = ok.ravel()
        return [busy if left == 0 and ok else idle
                for left, ok in zip(self._crew_left.tolist(), self._avail.tolist(), strict=True)]

    def _farm_vector(self) -> np.ndarray:
        farm = self._farm
        n_t, n_c = farm.n_turbines, farm.n_components
        buf = np.zeros(self._farm_len, dtype=np.float32)
        turbines = buf[:n_t * (3 * n_c + 1)].reshape(n_t, 3 * n_c + 1)
        down = self._failed | self._serviced
        turbines[:, 0] = down.any(axis=1)
        turbines[:, 1::3] = np.minimum(self._age_h / self._age_scale, _AGE_CAP)
        turbines[:, 2::3] = np.minimum(self._wear / self._wear_scale, 1.0)
        turbines[:, 3::3] = down
        turbines[:, 3::3] -= 0.5 * self._serviced
        head = n_t * (3 * n_c + 1)
        buf[head:head + 3] = (self._good, (self._doy * 12 // 365) / 11,
                              self._day / self.max_cycles)
        buf[head + 3:head + 3 + 3 * farm.n_crews:3] = self._avail
        for k, (t, _) in enumerate(self._crew_job):
            if t >= 0:
                buf[head + 4 + 3 * k] = self._crew_left[k] / self._crew_len[k]
                buf[head + 5 + 3 * k] = (t + 1) / n_t
        return buf

    def _observe(self) -> dict[str, dict]:
        base = self._farm_vector()
        masks = self._masks()
        out = {}
        for k, agent in enumerate(self.agents):
            obs = np.zeros(self._farm_len + len(self.possible_agents), dtype=np.float32)
            obs[:self._farm_len] = base
            obs[self._farm_len + k] = 1.0
            out[agent] = {"observation": obs, "action_mask": masks[k].copy()}
        return out

    def _infos(self) -> dict[str, dict]:
        return {a: {"day": self._day} for a in self.agents}

    def render(self) -> None:
        """Nothing to render (``render_modes`` is empty)."""
        return None

    def close(self) -> None:
        """Nothing to release."""


def parallel_env(spec: TwinSpec | None = None, max_cycles: int = 365,
                 render_mode: str | None = None) -> WindfarmParallelEnv:
    """The parallel environment (see the module docstring)."""
    return WindfarmParallelEnv(spec, max_cycles=max_cycles, render_mode=render_mode)


def env(spec: TwinSpec | None = None, max_cycles: int = 365,
        render_mode: str | None = None) -> Any:
    """The AEC environment: `parallel_env` through `parallel_to_aec`, bounds-checked."""
    return wrappers.AssertOutOfBoundsWrapper(
        parallel_to_aec(parallel_env(spec, max_cycles=max_cycles, render_mode=render_mode)))
