"""What an agent sees at the start of a tick: its wallet, its jobs, the markets, its results.

Every value here is a `NamedTuple`: immutable, so one observer cannot change what another
sees, nor what the economy acts on (a frozen dataclass can still be rewritten with
`object.__setattr__`; a tuple cannot).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from chain import Address, JobState
from economy.history import BidOutcome, JobOutcome, MarketTick, PnL
from economy.roles import Role
from worlds.protocols import Plan, ServiceTwin
from worlds.protocols import Request as Order
from worlds.protocols import TwinEvaluation as Evaluation

__all__ = ["EvaluatorQuote", "JobView", "LeaseView", "MarketView", "Observation", "Planner",
           "PoolView", "Quote", "RulesView", "SimResult"]


class JobView(NamedTuple):
    """A job as the market shows it.

    Attributes:
        job_id: the ledger's job id.
        client, evaluator: addresses.
        provider: the awarded provider, or None while bids are open.
        budget: base units in escrow (the winning price once awarded).
        state: the escrow state.
        order: the request the service is for (a pick order, a delivery batch, a
            maintenance-planning request).
        twin_id: the twin the plan is evaluated in.
        eval_seed: the seed the evaluator evaluates with (public, so sellers can test plans).
        max_time_ms: the acceptance rule: the plan's time in the twin must not exceed this.
        posted_tick, expires_at: ticks.
        plan: the submitted plan, once there is one.
        tier: the fidelity tier the job is judged at ("L1", or "L2" physics where the twin
            offers it): its acceptance rule, its evaluation and the customer's value use it.
        baseline_ms: the time the twin's baseline plan takes on this job at its tier (the
            customer's value of a plan is the time it saves against this).
    """

    job_id: int
    client: Address
    evaluator: Address
    provider: Address | None
    budget: int
    state: JobState
    order: Order
    twin_id: str
    eval_seed: int
    max_time_ms: int
    posted_tick: int
    expires_at: int
    plan: Plan | None = None
    tier: str = "L1"
    baseline_ms: int = 0


class Quote(NamedTuple):
    """A compute provider's posted offer."""

    provider: Address
    price_per_cu: int
    capacity_left_cu: int


class LeaseView(NamedTuple):
    """An open compute lease the observer bought or provides.

    Attributes:
        lease_id: the ledger's lease id.
        buyer, provider: addresses.
        cu: compute units locked; `cu_used` of them metered so far.
        price_per_cu, licence_per_cu: what each CU used costs the buyer (provider, twin owner).
        expires_at: the tick from which unused CU can no longer be drawn.
    """

    lease_id: int
    buyer: Address
    provider: Address
    cu: int
    cu_used: int
    price_per_cu: int
    licence_per_cu: int
    expires_at: int

    @property
    def cu_left(self) -> int:
        return self.cu - self.cu_used


class SimResult(NamedTuple):
    """Evaluations bought with a `Simulate` action, delivered the tick after."""

    job_id: int
    plans: tuple[Plan, ...]
    evaluations: tuple[Evaluation, ...]
    cu: int
    cost: int

    @property
    def best(self) -> tuple[Plan, Evaluation] | None:
        """The valid plan with the shortest time (ties: the earlier one), or None."""
        best = None
        for plan, ev in zip(self.plans, self.evaluations, strict=True):
            if ev.valid and (best is None or ev.time_ms < best[1].time_ms):
                best = (plan, ev)
        return best


class Planner:
    """Planning tools an agent may use for free: the twin's reference solvers and exact CU
    quotes at each tier.

    A planner works on a twin of its own, built from the same spec as the run's: a policy
    that changes it changes nothing the economy evaluates, and nothing reachable from it leads
    to a key, the ledger or the model. Evaluating a plan is what sim time buys (`Simulate`);
    it is not offered here.

    Args:
        twin: the planner's own twin (`Planner.copy_of(run_twin)` makes one).
        hz: the physics rate of the L2 tier (None: the twin's default).
    """

    __slots__ = ("_estimates", "_evaluators", "_hz", "_twin")

    def __init__(self, twin: ServiceTwin, *, hz: int | None = None) -> None:
        self._twin = twin
        self._hz = hz
        self._evaluators: dict[str, Any] = {"L1": twin}
        self._estimates: dict[tuple[str, str], int] = {}

    @classmethod
    def copy_of(cls, twin: ServiceTwin, *, hz: int | None = None) -> Planner:
        """A planner over a fresh twin built from `twin`'s spec."""
        return cls(type(twin)(twin.spec), hz=hz)

    @property
    def twin_id(self) -> str:
        return self._twin.twin_id

    @property
    def solvers(self) -> tuple[str, ...]:
        """The twin's reference solvers; the last one takes a random stream (restarts)."""
        return tuple(self._twin.solvers)

    @property
    def baseline_method(self) -> str:
        """The solver whose plan a customer has without buying a service."""
        return self._twin.baseline_method

    @property
    def tiers(self) -> tuple[str, ...]:
        """The fidelity tiers the twin offers (jobs and evaluations may ask for these)."""
        return tuple(str(t) for t in self._twin.tiers)

    def solve(self, order: Order, method: str, rng: np.random.Generator | None = None) -> Plan:
        """A plan by one of the twin's reference solvers (`solvers`)."""
        return self._twin.solve(order, method, rng)

    def cu_for(self, plan: Plan, order: Order, tier: str = "L1") -> int:
        """The exact compute units evaluating `plan` at `tier` costs.

        Raises:
            worlds.UnknownTier: a tier the twin does not offer.
        """
        evaluator = self._evaluators.get(tier)
        if evaluator is None:
            evaluator = self._evaluators[tier] = self._twin.evaluator(
                tier, hz=self._hz if tier == "L2" else None)
        return evaluator.cu_for(plan, order)

    def estimate_cu(self, order: Order, tier: str = "L1") -> int:
        """The compute units of evaluating the order's baseline plan at `tier`: a cost
        yardstick for bidding, memoised per order (every bidder asks about the same jobs)."""
        key = (order.order_id, tier)
        cu = self._estimates.get(key)
        if cu is None:
            if len(self._estimates) >= 65_536:
                self._estimates.clear()
            cu = self._estimates[key] = self.cu_for(
                self._twin.solve(order, self._twin.baseline_method), order, tier)
        return cu


class PoolView(NamedTuple):
    """A data pool a policy may pay to use (`UseData`)."""

    key: str
    owner: Address
    price_per_unit: int
    owner_fee_bps: int


class EvaluatorQuote(NamedTuple):
    """An evaluator's least fee per evaluation, base units (`OfferEvaluation`)."""

    evaluator: Address
    min_fee: int


class RulesView(NamedTuple):
    """The rules in force, as every agent sees them (base units for money, bps for shares).

    Attributes:
        transfer_fee_bps, fee_burn_bps, platform_fee_bps, evaluator_fee_bps: the fees
            (`[rules.fees]`); a completed job's price pays the platform and evaluator fees.
        evaluator_paid_on_reject, min_expiry: the escrow rule.
        max_strikes: failures (jobs rejected, or awarded and never delivered) beyond
            completions that disqualify a provider from awards.
        award, award_pricing, award_prior_gain_bps, award_prior_weight: the award rule
            (`[rules.award]`: "lowest-price" or "scoring", "first" or "second").
        time_value_per_h: what an hour of the twin's time saved is worth (customers' value;
            the scoring rule prices quality with it).
        clearing, sealed_pricing, call_pricing, lease_ticks, min_stake, spot_check_bps,
            slash_bps, slash_reward_bps: the compute rule.
        licence_per_cu: the twin's licence per CU of sim time, paid to its owner.
        compute_cost_per_cu: what one CU of sim time really costs to run (compute sellers'
            marginal cost).
        royalty_mode: "lrp" or "lap"; royalty_stacks: (asset key, bps of a service payment
            that names it paid up its graph) for every registered policy and data asset.
        data_fee_bps: the protocol's share of each data use; pools: the data pools.
        emission, emission_amount, epoch_ticks: the emission schedule.
        max_candidates: most plans one `Simulate` may evaluate.
        tiers: the fidelity tiers the twin offers.
    """

    transfer_fee_bps: int
    fee_burn_bps: int
    platform_fee_bps: int
    evaluator_fee_bps: int
    evaluator_paid_on_reject: bool
    min_expiry: int
    max_strikes: int
    award: str
    award_pricing: str
    award_prior_gain_bps: int
    award_prior_weight: int
    time_value_per_h: int
    clearing: str
    sealed_pricing: str
    call_pricing: str
    lease_ticks: int
    min_stake: int
    spot_check_bps: int
    slash_bps: int
    slash_reward_bps: int
    licence_per_cu: int
    compute_cost_per_cu: int
    royalty_mode: str
    royalty_stacks: tuple[tuple[str, int], ...]
    data_fee_bps: int
    pools: tuple[PoolView, ...]
    emission: str
    emission_amount: int
    epoch_ticks: int
    max_candidates: int
    tiers: tuple[str, ...]

    def royalty_bps(self, asset: str) -> int:
        """The share of a service payment naming `asset` that goes up its graph (0 for none
        or an unknown asset)."""
        return dict(self.royalty_stacks).get(asset, 0)


class MarketView(NamedTuple):
    """The market's recent past, the same for every observer.

    Attributes:
        ticks: the last ticks, oldest first (`economy.history.MarketTick`).
        reputations: (provider, jobs judged, expected improvement bps) of every provider
            judged so far: what the scoring award rule prices.
    """

    ticks: tuple[MarketTick, ...]
    reputations: tuple[tuple[Address, int, int], ...]

    def reputation(self, provider: Address, default: int = 0) -> int:
        """A provider's expected improvement (bps), or `default` if never judged."""
        for address, _, gain in self.reputations:
            if address == provider:
                return gain
        return default


class Observation(NamedTuple):
    """Everything one agent may base one tick's decisions on.

    Attributes:
        tick: the current tick.
        address, role: who is observing.
        balance: its token balance, base units.
        nonce: its next ledger nonce.
        orders: (customers) its orders not yet posted as jobs.
        jobs: jobs it is client, provider or evaluator of, not yet terminal.
        open_jobs: funded jobs taking bids (shared by every observer).
        quotes: compute offers, cheapest first.
        results: evaluations it bought last tick.
        evaluators: addresses of evaluator agents, for customers to choose from.
        planner: free planning tools (solvers, cost quotes).
        rng: the agent's own generator (its stream of the run's seed tree).
        leases: open compute leases it bought or provides.
        compute_clearing: the compute market's rule: "posted" (a purchase fills at once),
            "sealed" or "call" (purchases fill at the end of the tick).
        stake: its compute stake, base units.
        rules: every rule in force (fees, award, compute, royalty, data, emission rules), the
            same for every observer (always set by the economy).
        market: the market's recent ticks (awards and prices by tier, bidders, CU prices and
            utilisation, rejection rates) and the providers' reputations (always set).
        outcomes: its own recent outcomes, oldest first: each bid won or lost and at what
            price, each job's result.
        pnl: its profit and loss so far, by category (always set).
        baselines: (customers) the time the twin's baseline plan takes on each of `orders`,
            aligned with them: what the customer's operation takes without a service.
        evaluator_quotes: each evaluator's least fee per evaluation (customers choose an
            evaluator whose fee a job's price covers).
    """

    tick: int
    address: Address
    role: Role
    balance: int
    nonce: int
    orders: tuple[Order, ...]
    jobs: tuple[JobView, ...]
    open_jobs: tuple[JobView, ...]
    quotes: tuple[Quote, ...]
    results: tuple[SimResult, ...]
    evaluators: tuple[Address, ...]
    planner: Planner
    rng: np.random.Generator
    leases: tuple[LeaseView, ...] = ()
    compute_clearing: str = "posted"
    stake: int = 0
    rules: RulesView | None = None
    market: MarketView | None = None
    outcomes: tuple[BidOutcome | JobOutcome, ...] = ()
    pnl: PnL | None = None
    baselines: tuple[int, ...] = ()
    evaluator_quotes: tuple[EvaluatorQuote, ...] = ()
