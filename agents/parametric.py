"""Parametric policies: three built-in strategies whose levers a learner sets every tick.

A learning agent (`scenarios.env`, or a trained policy, `agents.rl_policy`) does not write
actions itself: it picks one of a role's lever settings (a `Discrete` action index), and the
role's parametric policy turns it into real `economy.actions` with the built-in strategy's
logic, so every action it takes is one the built-in could have taken. Each class is at once:

- a policy (`act(observation)`, `reset(seed)`), usable in a scenario like any other with its
  levers fixed by its params;
- the role's interface to a learner: `n_actions` and `ACTIONS` (what each index sets),
  `apply(action)`, `action_mask(obs)` (int8, 1 where the action is carried out this tick;
  action 0, the role's no-op, always is; a masked-out action is action 0), and `features(obs)`
  (a float32 vector of `N_FEATURES` values in [-1, 1], named by `FEATURES`).

Roles and levers:

- `ParametricProvider` (provider, built on `adaptive`): action 0 bids on nothing new (it
  still delivers); action i > 0 sets its margin over the reservation price and how many
  candidate plans it tests per job (`PROVIDER_MARGINS` x `PROVIDER_CANDIDATES`).
- `ParametricCompute` (compute, built on `utilisation-compute`): action 0 keeps its posted
  offer; action i > 0 prices a CU at a multiple of its floor (`COMPUTE_MULTIPLES`).
- `ParametricCustomer` (customer, built on `value-customer`): action 0 posts no job this tick
  (it still judges); action i > 0 posts its orders with a reserve price of this share of their
  expected value (`CUSTOMER_SHARES`).

Money in the features is in units of the value of one second of the twin's time
(`rules.time_value_per_h / 3600`): what the customers' values, and so the prices, scale with in
every twin. Nothing here imports gymnasium or torch.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

import numpy as np

from agents.builtin.adaptive import AdaptiveProvider
from agents.builtin.utilisation_compute import UtilisationSeller
from agents.builtin.value_customer import ValueCustomer
from agents.params import Bps, ComputeUnits, Count, NonNegative, Share, Ticks, Tier
from economy import Action, JobState, Observation, Offer
from economy.history import BidOutcome, JobOutcome

__all__ = ["COMPUTE_MULTIPLES", "CUSTOMER_SHARES", "MARKET_FEATURES", "PARAMETRIC",
           "PROVIDER_CANDIDATES", "PROVIDER_MARGINS", "ParametricCompute",
           "ParametricCustomer", "ParametricProvider", "money_unit"]

#: A provider's margins over its reservation price (0.5 = bids 1.5 x the reservation; a bid
#: never exceeds the job's budget, so the largest margins bid the budget on most jobs).
PROVIDER_MARGINS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: Candidate plans a provider tests per job; 0 is the adaptive provider's own choice (the
#: count whose expected value less its sim time is highest, from what it has seen).
PROVIDER_CANDIDATES = (0, 1, 2, 4, 8, 16)
#: A compute seller's price per CU as a multiple of its floor (its cost per CU grossed up for
#: the transfer fee: 1.0 sells at cost).
COMPUTE_MULTIPLES = (1.0, 1.05, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0)
#: A customer's reserve price (its budget) as a share of an order's expected value.
CUSTOMER_SHARES = (0.2, 0.4, 0.6, 0.8, 1.0)

#: The features every role's vector starts with: the market's last ticks and the rules.
MARKET_FEATURES = (
    "jobs_posted",        # jobs posted per tick, last 8 ticks: tanh(x / 4)
    "awards",             # jobs awarded per tick: tanh(x / 4)
    "completed",          # jobs completed per tick: tanh(x / 4)
    "expired",            # jobs expired per tick: tanh(x / 4)
    "rejection_rate",     # rejected / (completed + rejected), last 8 ticks
    "bidders",            # qualified bids per award: tanh(x / 4)
    "award_price",        # mean award price, last 8 ticks: tanh(x / 4 units)
    "award_vs_budget",    # mean award price / mean open budget - 1: tanh
    "open_jobs",          # jobs taking bids: tanh(n / 8)
    "open_budget",        # their mean budget: tanh(x / 4 units)
    "utilisation",        # CU leased / offered, last tick
    "utilisation_8",      # the same, mean of 8 ticks
    "cu_price",           # cheapest CU offer / compute cost per CU: tanh(log(x) / 2)
    "sellers",            # compute offers: tanh(n / 4)
    "platform_fee",       # platform_fee_bps / 10^4
    "evaluator_fee",      # evaluator_fee_bps / 10^4
    "transfer_fee",       # transfer_fee_bps / 10^4
    "licence_share",      # licence per CU / (cheapest CU price + licence)
    "scoring_award",      # 1 under the scoring award rule, 0 under lowest price
)
_OWN_FEATURES = (
    "balance",            # its balance: log10(1 + balance / unit) / 6, capped at 1
    "profit",             # its profit so far: tanh(x / 20 units)
    "profit_tick",        # its profit in the last tick: tanh(x / units)
)
_WINDOW = 8


def money_unit(obs: Observation) -> float:
    """Base units of one money unit of the features: the value of one second of the twin's
    time (`rules.time_value_per_h / 3600`; 10^16, 0.01 token at 18 decimals, without rules)."""
    rules = obs.rules
    value = rules.time_value_per_h / 3_600 if rules is not None else 0.0
    return value if value > 0 else 1e16


def _mean_budget(jobs: tuple) -> float:
    return sum(j.budget for j in jobs) / len(jobs) if jobs else 0.0


class _MarketCache:
    """The market block of the features, computed once per tick: every observer of a tick
    shares its `MarketView`, quotes, open jobs and rules (the same objects)."""

    __slots__ = ("key", "value")

    def __init__(self) -> None:
        self.key: tuple = ()
        self.value: list[float] = []

    def get(self, obs: Observation) -> list[float]:
        # the objects themselves are kept (not their ids, which a later tick could reuse)
        key = (obs.market, obs.open_jobs, obs.quotes, obs.rules)
        if len(self.key) != 4 or any(a is not b for a, b in zip(key, self.key, strict=True)):
            self.value, self.key = _market_features(obs), key
        return self.value


def _market_features(obs: Observation) -> list[float]:
    unit = money_unit(obs)
    ticks = obs.market.ticks[-_WINDOW:] if obs.market is not None else ()
    n = max(len(ticks), 1)
    posted = awards = completed = rejected = expired = util = 0.0
    bids = price_sum = 0.0
    for t in ticks:
        posted += t.jobs_posted
        awards += t.awards
        completed += t.completed
        rejected += t.rejected
        expired += t.expired
        util += t.utilisation
        for tier in t.tiers:
            bids += tier.bidders_mean * tier.awards
            price_sum += tier.price_mean * tier.awards
    judged = completed + rejected
    award_price = price_sum / awards if awards else 0.0
    budget = _mean_budget(obs.open_jobs)
    rules = obs.rules
    cheapest = obs.quotes[0].price_per_cu if obs.quotes else 0
    licence = rules.licence_per_cu if rules is not None else 0
    cost = max(rules.compute_cost_per_cu, 1) if rules is not None else 1
    return [
        math.tanh(posted / n / 4), math.tanh(awards / n / 4), math.tanh(completed / n / 4),
        math.tanh(expired / n / 4), rejected / judged if judged else 0.0,
        math.tanh(bids / awards / 4) if awards else 0.0,
        math.tanh(award_price / unit / 4),
        math.tanh(award_price / budget - 1) if award_price and budget else 0.0,
        math.tanh(len(obs.open_jobs) / 8), math.tanh(budget / unit / 4),
        ticks[-1].utilisation if ticks else 0.0, util / n,
        math.tanh(math.log(cheapest / cost) / 2) if cheapest else 0.0,
        math.tanh(len(obs.quotes) / 4),
        rules.platform_fee_bps / 10_000 if rules is not None else 0.0,
        rules.evaluator_fee_bps / 10_000 if rules is not None else 0.0,
        rules.transfer_fee_bps / 10_000 if rules is not None else 0.0,
        licence / (cheapest + licence) if cheapest + licence else 0.0,
        1.0 if rules is not None and rules.award == "scoring" else 0.0,
    ]


class _Levers:
    """What the three parametric policies share: the action table, the features' market and
    own blocks, and the profit the last features saw."""

    ROLE: ClassVar[str] = ""
    ACTIONS: ClassVar[tuple] = ()  # index -> its levers (index 0: the no-op, None)
    #: the actions as independent choices (for factored policies): each factor's size, and
    #: per action its index in each factor (-1: any, the no-op's other factors)
    FACTORS: ClassVar[tuple[int, ...]] = ()
    FACTOR_TABLE: ClassVar[np.ndarray] = np.zeros((0, 0), dtype=np.int64)
    FEATURES: ClassVar[tuple[str, ...]] = ()
    N_FEATURES: ClassVar[int] = 0
    _cache: ClassVar[_MarketCache] = _MarketCache()

    @property
    def n_actions(self) -> int:
        return len(self.ACTIONS)

    def _reset_levers(self) -> None:
        self._last_profit = 0
        self.action = 0

    def _own(self, obs: Observation) -> list[float]:
        unit = money_unit(obs)
        profit = obs.pnl.profit if obs.pnl is not None else 0
        delta, self._last_profit = profit - self._last_profit, profit
        return [min(1.0, math.log10(1 + max(obs.balance, 0) / unit) / 6),
                math.tanh(profit / unit / 20), math.tanh(delta / unit)]

    def features(self, obs: Observation) -> np.ndarray:
        """The observation as `N_FEATURES` float32 values in [-1, 1] (names: `FEATURES`).
        Call it once per tick: its profit-per-tick feature is the change since the last call."""
        values = [*self._cache.get(obs), *self._own(obs), *self._role_features(obs)]
        return np.clip(np.asarray(values, dtype=np.float32), -1.0, 1.0)

    def _role_features(self, obs: Observation) -> list[float]:
        raise NotImplementedError

    def action_mask(self, obs: Observation) -> np.ndarray:
        """(n_actions,) int8: 1 where the action is carried out this tick (0 always is)."""
        raise NotImplementedError

    def apply(self, action: int, obs: Observation | None = None) -> int:
        """Set the levers of action `action` for this tick; an index out of range, or one the
        mask of `obs` (when given) rules out, is action 0. Returns the action taken."""
        a = int(action)
        if not 0 <= a < len(self.ACTIONS) or (obs is not None and a
                                              and not self.action_mask(obs)[a]):
            a = 0
        self.action = a
        self._set(self.ACTIONS[a])
        return a

    def _set(self, levers: Any) -> None:
        raise NotImplementedError

    @classmethod
    def compose(cls, indices: Any) -> int:
        """The action of one index per factor (`FACTORS`): the first factor's 0 is the no-op
        whatever the others; out-of-range indices are the no-op too."""
        ix = [int(i) for i in np.atleast_1d(indices)]
        if len(ix) != len(cls.FACTORS) or not ix[0] or any(
                not 0 <= i < n for i, n in zip(ix, cls.FACTORS, strict=True)):
            return 0
        rows = cls.FACTOR_TABLE
        return int(np.flatnonzero((rows == np.asarray(ix)).all(axis=1))[0])

    @classmethod
    def joint_scores(cls, logits: np.ndarray) -> np.ndarray:
        """Log-probabilities of every action under independent factors whose logits are
        concatenated in `logits` (the no-op: its first factor's 0, whatever the others)."""
        out = np.zeros(len(cls.ACTIONS))
        start = 0
        for f, n in enumerate(cls.FACTORS):
            z = np.asarray(logits[start:start + n], dtype=np.float64)
            logp = z - z.max() - np.log(np.exp(z - z.max()).sum())
            col = cls.FACTOR_TABLE[:, f]
            out += np.where(col >= 0, logp[np.maximum(col, 0)], 0.0)
            start += n
        return out


def _factors(*axes: tuple) -> tuple[tuple[int, ...], np.ndarray]:
    """The factors of `_grid(*axes)`: (1 + the first axis's size, the others'), the no-op
    being the first factor's 0."""
    sizes = (1 + len(axes[0]), *(len(a) for a in axes[1:]))
    rows = [[0] + [-1] * (len(axes) - 1)]
    rows.extend([1 + ix[0], *ix[1:]] for ix in itertools.product(*(range(len(a))
                                                                     for a in axes)))
    return sizes, np.asarray(rows, dtype=np.int64)


def _grid(*axes: tuple) -> tuple:
    """The actions: None (the no-op), then every combination of the axes' values, the last
    axis varying fastest (one axis: its values)."""
    if len(axes) == 1:
        return (None, *axes[0])
    return (None, *itertools.product(*axes))


class ParametricProvider(_Levers, AdaptiveProvider):
    """The adaptive provider with its margin and candidate count set by a learner.

    It prices as `adaptive` does (a reservation price counting sim time, licence, data, fees,
    royalties and the chance of failing; never above a job's budget), tests candidates and
    delivers only passing plans, retrying as `adaptive` does; but its margin over the
    reservation and the candidates per job are the levers of the action applied, not learned
    by ZIP and expected value. Action 0 bids on nothing new; action `1 + i * 6 + j` bids with
    margin `PROVIDER_MARGINS[i]` and tests `PROVIDER_CANDIDATES[j]` candidates (0: adaptive's
    own choice). The mask rules out bidding when there is no job it may bid on or it holds
    `max_jobs` jobs, and candidate counts above `max_candidates` or the protocol's
    `rules.max_candidates`.

    Args:
        action: the action applied until a learner applies another (0: no bids).
        The rest as `AdaptiveProvider` (`explore_bps` defaults to 0: the learner explores).
    """

    ROLE = "provider"
    ACTIONS = _grid(PROVIDER_MARGINS, PROVIDER_CANDIDATES)
    FACTORS, FACTOR_TABLE = _factors(PROVIDER_MARGINS, PROVIDER_CANDIDATES)
    FEATURES = (*MARKET_FEATURES, *_OWN_FEATURES,
                "busy",           # jobs in progress / max_jobs
                "results",        # evaluations received this tick: tanh(n / 2)
                "bids",           # its bids decided in the last 8 ticks: tanh(n / 4)
                "win_rate",       # share of its last 16 decided bids it won
                "lost_by",        # its losing bids over the award price - 1, mean: tanh
                "delivered",      # share of its last 16 jobs ended that it completed
                "reputation",     # its expected improvement as the market records it (bps/10^4)
                "biddable",       # open jobs it may bid on / open jobs
                "test_cost",      # one candidate's sim time for the mean open job: tanh(/units)
                "pass_rate",      # P(pass) at 4 candidates from what it has seen
                "gain",           # the improvement it has seen at 4 candidates
                "margin",         # the margin of its last action: tanh(x / 2) (-1: no bids)
                "candidates")     # candidates of its last action / 16 (0: its own choice)
    N_FEATURES = len(FEATURES)

    def __init__(self, action: Count = 0, max_jobs: Count = 3, max_candidates: Count = 16,
                 start_candidates: Count = 4, explore_bps: Bps = 0,
                 solvers: tuple[str, ...] | list[str] | None = None, policy: str = "",
                 data_pool: str = "", data_units: Count = 1, tier: Tier | None = None,
                 min_pass: Share = 0.5) -> None:
        self.action0 = action
        AdaptiveProvider.__init__(self, margin=0.0, max_jobs=max_jobs,
                                  max_candidates=max_candidates,
                                  start_candidates=start_candidates, explore_bps=explore_bps,
                                  solvers=solvers, policy=policy, data_pool=data_pool,
                                  data_units=data_units, tier=tier, min_pass=min_pass)

    def reset(self, seed: int) -> None:
        AdaptiveProvider.reset(self, seed)
        self._reset_levers()
        self.candidates = 0
        self.bidding = False
        self.apply(self.action0 if 0 <= self.action0 < len(self.ACTIONS) else 0)

    def _set(self, levers: Any) -> None:
        if levers is None:
            self.bidding = False
            return
        self.bidding = True
        self.margin, self.candidates = float(levers[0]), int(levers[1])

    # -- the adaptive provider with the learner's levers -----------------------------------
    def _learn_price(self, obs: Observation) -> None:
        margin = self.margin
        AdaptiveProvider._learn_price(self, obs)  # its bookkeeping, not its ZIP margin
        self.margin = margin


    def _plan_k(self, obs: Observation, job: Any, per_plan: float, price: float) -> int:
        if self.candidates:
            return min(self.candidates, self.max_candidates)
        return AdaptiveProvider._plan_k(self, obs, job, per_plan, price)

    def _bid(self, obs: Observation, job: Any) -> Any:
        return AdaptiveProvider._bid(self, obs, job) if self.bidding else None

    # -- the learner's view ----------------------------------------------------------------
    def _biddable(self, obs: Observation) -> int:
        return sum(1 for j in obs.open_jobs
                   if obs.address not in (j.client, j.evaluator) and j.baseline_ms)

    def action_mask(self, obs: Observation) -> np.ndarray:
        mask = np.zeros(len(self.ACTIONS), dtype=np.int8)
        mask[0] = 1
        busy = sum(1 for j in obs.jobs
                   if j.provider == obs.address and j.state is not JobState.SUBMITTED)
        if busy >= self.max_jobs or not self._biddable(obs):
            return mask
        cap = min(self.max_candidates, obs.rules.max_candidates if obs.rules is not None
                  else self.max_candidates)
        for i, levers in enumerate(self.ACTIONS[1:], start=1):
            mask[i] = levers[1] <= cap
        return mask

    def _role_features(self, obs: Observation) -> list[float]:
        unit = money_unit(obs)
        mine = [j for j in obs.jobs if j.provider == obs.address]
        busy = sum(1 for j in mine if j.state is not JobState.SUBMITTED)
        tick0 = obs.tick - _WINDOW
        bids = [o for o in obs.outcomes if type(o) is BidOutcome]
        recent = bids[-16:]
        n_bids = sum(1 for o in bids if o.tick > tick0)
        won = sum(1 for o in recent if o.won)
        lost = [o.price / o.award_price - 1 for o in recent if not o.won and o.award_price]
        ended = [o for o in obs.outcomes if type(o) is JobOutcome and o.role == "provider"][-16:]
        done = sum(1 for o in ended if o.result == "completed")
        rep = obs.market.reputation(obs.address) if obs.market is not None else 0
        biddable = self._biddable(obs)
        per_plan = 0.0
        if obs.open_jobs:  # the first few open jobs' (estimates are memoised per order)
            first = obs.open_jobs[:4]
            per_plan = sum(_plan_cost(obs, j, self.tier or j.tier) for j in first) / len(first)
        p_pass, gain = self._pooled_outlook(4)
        levers = self.ACTIONS[self.action]
        return [
            busy / max(self.max_jobs, 1), math.tanh(len(obs.results) / 2), math.tanh(n_bids / 4),
            won / len(recent) if recent else 0.0,
            math.tanh(sum(lost) / len(lost)) if lost else 0.0,
            done / len(ended) if ended else 0.0, rep / 10_000,
            biddable / len(obs.open_jobs) if obs.open_jobs else 0.0,
            math.tanh(per_plan / unit), p_pass, gain,
            -1.0 if levers is None else math.tanh(levers[0] / 2),
            0.0 if levers is None else levers[1] / 16,
        ]

    def _pooled_outlook(self, k: int) -> tuple[float, float]:
        """(share passed, mean improvement) of the first `k` candidates over the last 16 jobs
        it tested of every size."""
        passed = gain = 0.0
        n = 0
        for curve in self._curves:
            for ratios, threshold in list(curve)[-16:]:
                best = min(ratios[:k])
                n += 1
                if best <= threshold:
                    passed += 1
                    gain += max(0.0, 1.0 - best)
        return (passed / n, gain / n) if n else (0.5, 0.0)


def _plan_cost(obs: Observation, job: Any, tier: str) -> float:
    cu_price = obs.quotes[0].price_per_cu if obs.quotes else 0
    licence = obs.rules.licence_per_cu if obs.rules is not None else 0
    return obs.planner.estimate_cu(job.order, tier) * (cu_price + licence)


class ParametricCompute(_Levers, UtilisationSeller):
    """The utilisation seller with its price set by a learner: action `i > 0` posts its
    capacity at `COMPUTE_MULTIPLES[i - 1]` x its floor (its cost per CU grossed up for the
    transfer fee, so no sale loses money); action 0 keeps the offer it has posted. Every
    action is always carried out.

    Args:
        action: the action applied until a learner applies another.
        capacity_cu, min_price_per_cu: as `UtilisationSeller`.
    """

    ROLE = "compute"
    ACTIONS = _grid(COMPUTE_MULTIPLES)
    FACTORS, FACTOR_TABLE = _factors(COMPUTE_MULTIPLES)
    FEATURES = (*MARKET_FEATURES, *_OWN_FEATURES,
                "sold",           # its sim-time income last tick: tanh(x / units)
                "price",          # its posted price / its floor - 1: tanh
                "cheapest",       # 1 if its offer is the cheapest posted
                "rank")           # its offer's place among the offers / their number
    N_FEATURES = len(FEATURES)

    def __init__(self, action: Count = 0, capacity_cu: ComputeUnits = 2_000_000,
                 min_price_per_cu: ComputeUnits = 1) -> None:
        self.action0 = action
        UtilisationSeller.__init__(self, capacity_cu=capacity_cu,
                                   min_price_per_cu=min_price_per_cu)

    def reset(self, seed: int) -> None:
        UtilisationSeller.reset(self, seed)
        self._reset_levers()
        self._sold = 0
        self.multiple: float | None = None
        self.apply(self.action0 if 0 <= self.action0 < len(self.ACTIONS) else 0)

    def _set(self, levers: Any) -> None:
        if levers is not None:
            self.multiple = float(levers)

    def act(self, obs: Observation) -> list[Action]:
        if self.multiple is None:
            return []
        price = int(self.floor(obs) * self.multiple) + 1
        if price == self._posted:
            return []
        self._posted = price
        return [Offer(price_per_cu=price, capacity_cu=self.capacity_cu)]

    def action_mask(self, obs: Observation) -> np.ndarray:
        return np.ones(len(self.ACTIONS), dtype=np.int8)

    def _role_features(self, obs: Observation) -> list[float]:
        unit = money_unit(obs)
        income = obs.pnl.sim_time if obs.pnl is not None else 0
        sold, self._sold = income - self._sold, income
        floor = self.floor(obs)
        mine = [i for i, q in enumerate(obs.quotes) if q.provider == obs.address]
        return [math.tanh(sold / unit),
                math.tanh(self._posted / floor - 1) if self._posted and floor else 0.0,
                1.0 if mine and mine[0] == 0 else 0.0,
                mine[0] / len(obs.quotes) if mine else 1.0]


class ParametricCustomer(_Levers, ValueCustomer):
    """The value customer with its reserve price set by a learner: action `i > 0` posts its
    orders worth posting (as `value-customer` decides) with a budget of `CUSTOMER_SHARES[i -
    1]` of their expected value; action 0 posts nothing this tick. It judges its jobs
    whatever the action. The mask rules out posting when it has no order waiting or already
    holds `max_open_jobs` open jobs.

    Its reward in `scenarios.env` counts the value of the plans it received (time saved x
    `time_value_per_h`) as income: a customer's realised profit alone is only its spending.

    Args:
        action: the action applied until a learner applies another.
        The rest as `ValueCustomer`.
    """

    ROLE = "customer"
    ACTIONS = _grid(CUSTOMER_SHARES)
    FACTORS, FACTOR_TABLE = _factors(CUSTOMER_SHARES)
    FEATURES = (*MARKET_FEATURES, *_OWN_FEATURES,
                "orders",         # its orders waiting: tanh(n / 4)
                "open",           # its open jobs / max_open_jobs
                "completed",      # share of its last 16 jobs ended that completed
                "expired",        # ... that expired
                "gain",           # mean improvement of its completed ones
                "price_paid",     # mean price of its completed ones: tanh(x / 4 units)
                "share")          # the reserve share of its last action (0: none)
    N_FEATURES = len(FEATURES)

    def __init__(self, action: Count = 0, prior_gain_bps: Bps = 1_000,
                 min_gain_bps: Bps = 100, max_open_jobs: Count = 2, expires_in: Ticks = 12,
                 third_party_evaluator: bool = True, explore_bps: Bps = 500,
                 memory: Count = 16, tier: Tier = "L1", fee_cover: NonNegative = 1.0) -> None:
        self.action0 = action
        self.open_limit = max_open_jobs
        ValueCustomer.__init__(self, prior_gain_bps=prior_gain_bps, min_gain_bps=min_gain_bps,
                               max_open_jobs=max_open_jobs, expires_in=expires_in,
                               third_party_evaluator=third_party_evaluator,
                               explore_bps=explore_bps, memory=memory, tier=tier,
                               fee_cover=fee_cover)

    def reset(self, seed: int) -> None:
        ValueCustomer.reset(self, seed)
        self._reset_levers()
        self.apply(self.action0 if 0 <= self.action0 < len(self.ACTIONS) else 0)

    def _set(self, levers: Any) -> None:
        if levers is None:
            self.max_open_jobs = 0  # its posting loop stops at once; it still judges
        else:
            self.max_open_jobs = self.open_limit
            self.value_share_bps = round(float(levers) * 10_000)

    def _open(self, obs: Observation) -> int:
        return sum(1 for j in obs.jobs
                   if j.client == obs.address and j.state is not JobState.SUBMITTED)

    def action_mask(self, obs: Observation) -> np.ndarray:
        mask = np.zeros(len(self.ACTIONS), dtype=np.int8)
        mask[0] = 1
        if obs.orders and self._open(obs) < self.open_limit:
            mask[1:] = 1
        return mask

    def _role_features(self, obs: Observation) -> list[float]:
        unit = money_unit(obs)
        ended = [o for o in obs.outcomes if type(o) is JobOutcome and o.role == "client"][-16:]
        done = [o for o in ended if o.result == "completed"]
        gains = [1 - o.time_ratio for o in done if o.time_ratio is not None]
        levers = self.ACTIONS[self.action]
        return [
            math.tanh(len(obs.orders) / 4), self._open(obs) / max(self.open_limit, 1),
            len(done) / len(ended) if ended else 0.0,
            sum(1 for o in ended if o.result == "expired") / len(ended) if ended else 0.0,
            sum(gains) / len(gains) if gains else 0.0,
            math.tanh(sum(o.price for o in done) / len(done) / unit / 4) if done else 0.0,
            0.0 if levers is None else float(levers),
        ]


#: The parametric policy of each role a learner may take.
PARAMETRIC: dict[str, Any] = {
    "provider": ParametricProvider,
    "compute": ParametricCompute,
    "customer": ParametricCustomer,
}
