"""The sim-time market's actions: offer compute, buy it, stake, unstake, and evaluate plans in
the twin on CU drawn from the buyer's leases (`Simulate`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from chain import COMPUTE_ADDRESS, Address, Post
from chain import Stake as StakeOp
from chain import Unstake as UnstakeOp
from economy import actions as A
from economy.config import EconomyConfig
from economy.errors import ActionRejected
from economy.handlers.jobs import JobHandler, type_name
from economy.markets.compute import ComputeMarket
from economy.observation import SimResult
from economy.protocols import ActionHandler, Participant
from economy.records import PendingSimulation
from economy.roles import Role
from economy.settler import Settler
from economy.stats import TickStats
from economy.tiers import TierEvaluators
from worlds.protocols import ServiceTwin

__all__ = ["ComputeHandler"]


class ComputeHandler:
    """Offers, purchases and stakes of sim time, and the evaluations it buys.

    Results of a `Simulate` are delivered in the buyer's next observation (`results`).

    Args:
        market: the sim-time market.
        jobs: the job market (a simulation is for a job its buyer is a party of).
        tiers: the twin's evaluators.
        twin, config, settler, stats: the run's world, settings and services.
    """

    def __init__(self, *, market: ComputeMarket, jobs: JobHandler, tiers: TierEvaluators,
                 twin: ServiceTwin, config: EconomyConfig, settler: Settler,
                 stats: TickStats) -> None:
        self.market = market
        self._jobs = jobs
        self._tiers = tiers
        self._twin = twin
        self._max_candidates = config.max_candidates
        self._settler = settler
        self._stats = stats
        self._results: dict[Address, list[SimResult]] = {}

    def handlers(self) -> Mapping[type[A.Action], ActionHandler]:
        return {A.Offer: self.offer, A.BuyCompute: self.buy_compute, A.Stake: self.stake,
                A.Unstake: self.unstake, A.Simulate: self.simulate}

    def take_results(self) -> dict[Address, list[SimResult]]:
        """The results produced since the last call, by buyer (delivered next tick)."""
        results, self._results = self._results, {}
        return results

    # -- actions -----------------------------------------------------------------------------
    def offer(self, p: Participant, a: A.Offer) -> bool:
        if p.role is not Role.COMPUTE:
            raise ActionRejected("not_compute", "only compute providers may offer compute")
        self.market.book.offer(p.address, a.price_per_cu, a.capacity_cu, a.overclaim_bps)
        return self._settler.execute(p.identity, Post(topic="offer", ref=a.price_per_cu,
                                                      data=a.capacity_cu.to_bytes(32, "big"))).ok

    def buy_compute(self, p: Participant, a: A.BuyCompute) -> bool:
        if type(a.cu) is not int or a.cu < 1:
            raise ActionRejected("bad_cu", f"cu must be an int >= 1, got {a.cu!r}")
        if self.market.rule.immediate:
            return self.market.buy_now(p.identity, a.cu, a.max_price_per_cu, a.compute) == a.cu
        self.market.request(p.address, a.cu, a.max_price_per_cu, a.compute)
        return True

    def stake(self, p: Participant, a: A.Stake) -> bool:
        self.market.stake_changed(p.address)
        return self._settler.execute(p.identity, StakeOp(amount=a.amount)).ok

    def unstake(self, p: Participant, a: A.Unstake) -> bool:
        self.market.stake_changed(p.address)
        return self._settler.execute(p.identity, UnstakeOp(amount=a.amount)).ok

    def simulate(self, p: Participant, a: A.Simulate) -> bool:
        view = self._jobs.party_job(p, a.job_id)
        plans = tuple(a.plans)
        if not plans or len(plans) > self._max_candidates:
            raise ActionRejected("bad_candidates", f"simulate 1 to {self._max_candidates} "
                                 f"plans, got {len(plans)}")
        plan_type = self._twin.plan_type
        if not all(isinstance(plan, plan_type) for plan in plans):
            raise ActionRejected("bad_plan", f"every candidate must be a {type_name(plan_type)}")
        tier = view.tier if a.tier is None else a.tier
        evaluator = self._tiers.get(tier)
        cu = sum(evaluator.cu_for(plan, view.order) for plan in plans)
        pending = PendingSimulation(buyer=p.address, job=view, plans=plans, cu=cu, tier=tier)
        market = self.market
        short = cu - market.book.available(p.address)
        if short > 0:
            if type(a.min_lease_cu) is not int or a.min_lease_cu < 0:
                raise ActionRejected("bad_cu", "min_lease_cu must be an int >= 0")
            short = max(short, a.min_lease_cu)
            if market.rule.immediate:
                market.buy_now(p.identity, short, a.max_price_per_cu, a.compute, a.max_cost)
            else:  # evaluate once the request clears at the end of the tick
                market.request(p.address, short, a.max_price_per_cu, a.compute, pending)
                return True
        self.run(pending)
        return True

    def run(self, pending: PendingSimulation) -> bool:
        """Evaluate the plans on CU drawn from the buyer's leases; False (and nothing done)
        when the job has left the market. The caller checked the leases hold the CU."""
        view = pending.job
        if view.job_id not in self._jobs.book.views:
            return False
        evaluations = tuple(self._tiers.evaluate(plan, view.order, view.eval_seed, pending.tier)
                            for plan in pending.plans)
        receipt = hashlib.sha256(repr((view.job_id, pending.cu,
                                       [repr(e) for e in evaluations])).encode()).digest()
        drawn = self.market.book.consume(pending.buyer, pending.cu, receipt)
        cost = sum(c for _, _, c in drawn)
        self._jobs.log.simulated(view.job_id, pending.cu, cost)
        self._results.setdefault(pending.buyer, []).append(SimResult(
            job_id=view.job_id, plans=pending.plans, evaluations=evaluations, cu=pending.cu,
            cost=cost))
        leases = ",".join(str(i) for i, _, _ in drawn)
        self._settler.event("simulated", pending.buyer, COMPUTE_ADDRESS, 0, str(view.job_id),
                            f"cu={pending.cu};plans={len(pending.plans)};cost={cost};"
                            f"tier={pending.tier};leases={leases}")
        self._stats.cu_sold += pending.cu
        self._stats.compute_spend += cost
        return True
