"""The job market's actions: post a job, bid, submit, complete, reject, claim a refund; and
its clearing (awards to the lowest qualified bids, refunds of expired jobs)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from chain import (
    ClaimRefund,
    CompleteJob,
    CreateJob,
    FundJob,
    Identity,
    JobState,
    Post,
    RejectJob,
    SetProvider,
    SubmitJob,
    job_id_for,
)
from chain.hashing import keccak
from economy import actions as A
from economy.demand import Demand
from economy.errors import ActionRejected
from economy.history import MarketHistory
from economy.joblog import JobLog
from economy.markets.jobs import JobMarket
from economy.observation import JobView
from economy.population import Population
from economy.protocols import ActionHandler, Participant
from economy.settler import Settler
from economy.stats import TickStats
from economy.tiers import TierEvaluators
from economy.welfare import JobWelfare
from worlds.protocols import ServiceTwin

__all__ = ["JobHandler", "plan_hash", "type_name"]


class JobHandler:
    """Jobs from posting to a terminal state, on the ledger's escrow.

    Args:
        book: the job market's book.
        welfare: completed jobs' value and quality.
        demand: the customers' open requests (a job is posted for one).
        tiers: the twin's evaluators (a job's acceptance rule comes from its baseline plan).
        twin: the world.
        settler, population, stats: the run's services.
        market: the market operator (awards jobs, claims expired refunds).
        rng: the market's stream (tie breaks between equal bids).
        history: where bids' and jobs' outcomes are recorded.
        log: the jobs table's log (each job's bids, award, sim time and ruling).
    """

    def __init__(self, *, book: JobMarket, welfare: JobWelfare, demand: Demand,
                 tiers: TierEvaluators, twin: ServiceTwin, settler: Settler,
                 population: Population, stats: TickStats, market: Identity,
                 rng: np.random.Generator, history: MarketHistory, log: JobLog) -> None:
        self.book = book
        self._welfare = welfare
        self._demand = demand
        self._tiers = tiers
        self._twin = twin
        self._settler = settler
        self._ledger = settler.ledger
        self._population = population
        self._stats = stats
        self._market = market
        self._rng = rng
        self._history = history
        self.log = log
        self.shift_seed = 0  # the evaluation seed of jobs posted this tick

    def handlers(self) -> Mapping[type[A.Action], ActionHandler]:
        return {A.PostJob: self.post_job, A.Bid: self.bid, A.Submit: self.submit,
                A.Complete: self.complete, A.Reject: self.reject,
                A.ClaimRefund: self.claim_refund}

    def party_job(self, p: Participant, job_id: int) -> JobView:
        """The job, if `p` is its client, evaluator or provider."""
        view = self.book.get(job_id)
        if p.address not in (view.client, view.evaluator, view.provider):
            raise ActionRejected("not_a_party", f"{p.address} is not a party of job {job_id}")
        return view

    # -- actions -----------------------------------------------------------------------------
    def post_job(self, p: Participant, a: A.PostJob) -> bool:
        order = self._demand.get(p.address, a.order_id)
        if order is None:
            raise ActionRejected("unknown_order", f"{p.address} has no open order {a.order_id!r}")
        if type(a.expires_in) is not int or a.expires_in < 2:
            raise ActionRejected("bad_expiry", "expires_in must be an int >= 2 ticks")
        if type(a.min_gain_bps) is not int or not 0 <= a.min_gain_bps < 10_000:
            raise ActionRejected("bad_gain", "min_gain_bps must be an int in [0, 10000)")
        evaluator = a.evaluator or p.address
        tick = self._settler.clock.tick
        nonce = self._ledger.nonce_of(p.address)
        job_id = job_id_for(p.address, nonce)
        eval_seed = self.shift_seed
        self._tiers.get(a.tier)
        twin = self._twin
        baseline = self._tiers.evaluate(twin.solve(order, twin.baseline_method), order,
                                        eval_seed, a.tier)
        spec_hash = keccak(f"{twin.twin_id}|{order!r}".encode())  # the job's terms
        result = self._settler.execute(p.identity, CreateJob(
            evaluator=evaluator, assigner=self._market.address, budget=a.budget,
            expires_at=tick + a.expires_in, spec_hash=spec_hash))
        if not result.ok:
            return False
        self._demand.posted(p.address, a.order_id)
        funded = self._settler.execute(p.identity, FundJob(job_id=job_id,
                                                           expected_budget=a.budget))
        view = JobView(
            job_id=job_id, client=p.address, evaluator=self._ledger.job(job_id).evaluator,
            provider=None, budget=a.budget,
            state=JobState.FUNDED if funded.ok else JobState.OPEN, order=order,
            twin_id=twin.twin_id, eval_seed=eval_seed,
            max_time_ms=(baseline.time_ms * (10_000 - a.min_gain_bps) // 10_000
                         if a.max_time_ms is None else a.max_time_ms),
            posted_tick=tick, expires_at=tick + a.expires_in, tier=a.tier,
            baseline_ms=baseline.time_ms,
        )
        self.book.add(view)
        self.log.posted(view)
        self._population.hold(str(job_id), p.address)
        self._stats.jobs_posted += 1
        return funded.ok

    def bid(self, p: Participant, a: A.Bid) -> bool:
        self.book.check_bid(a.job_id, p.address, a.price)
        result = self._settler.execute(p.identity, Post(topic="bid", ref=a.job_id,
                                                        data=_word(a.price)))
        if result.ok:
            self.book.bid(a.job_id, p.address, a.price)
            self.log.bid(a.job_id, p.address, a.price)
            self._stats.bids += 1
        return result.ok

    def submit(self, p: Participant, a: A.Submit) -> bool:
        view = self.party_job(p, a.job_id)
        plan_type = self._twin.plan_type
        if not isinstance(a.plan, plan_type):
            raise ActionRejected("bad_plan", f"the deliverable must be a {type_name(plan_type)}")
        result = self._settler.execute(p.identity, SubmitJob(
            job_id=a.job_id, deliverable=plan_hash(a.plan), policy=a.policy))
        if result.ok:
            self.book.update(view.job_id, state=JobState.SUBMITTED, plan=a.plan)
            self._stats.submitted += 1
        return result.ok

    def complete(self, p: Participant, a: A.Complete) -> bool:
        view = self.party_job(p, a.job_id)
        result = self._settler.execute(p.identity, CompleteJob(job_id=a.job_id,
                                                               reason=_reason(a.reason)))
        if result.ok:
            ratio, gain_bps = self._welfare.completed(view)
            self.book.record_outcome(view.provider, completed=True, gain_bps=gain_bps)
            self._end(view, JobState.COMPLETED, a.reason, None if ratio != ratio else ratio)
            self._stats.completed += 1
        return result.ok

    def reject(self, p: Participant, a: A.Reject) -> bool:
        view = self.party_job(p, a.job_id)
        result = self._settler.execute(p.identity, RejectJob(job_id=a.job_id,
                                                             reason=_reason(a.reason)))
        if result.ok:
            if view.provider is not None:
                self.book.record_outcome(view.provider, completed=False)
            self._end(view, JobState.REJECTED, a.reason)
            self._stats.rejected += 1
        return result.ok

    def claim_refund(self, p: Participant, a: A.ClaimRefund) -> bool:
        return self._refund(p.identity, a.job_id)

    def _refund(self, identity: Identity, job_id: int) -> bool:
        result = self._settler.execute(identity, ClaimRefund(job_id=job_id))
        view = self.book.views.get(job_id)
        if result.ok and view is not None:
            if view.provider is not None and view.state is JobState.FUNDED:
                # awarded and never delivered: a failure on the provider's record, as a
                # rejection is (else winning and walking away would cost a provider nothing)
                self.book.record_outcome(view.provider, completed=False)
            self._end(view, JobState.EXPIRED, _expiry(view))
            self._stats.expired += 1
        return result.ok

    def _end(self, view: JobView, state: JobState, reason: str,
             time_ratio: float | None = None) -> None:
        """A job reached a terminal state: its parties' outcome and its row in the jobs table
        (`reason` in text; the ledger has its keccak); its book entries and its escrow holder
        go."""
        self._history.ended(self._settler.clock.tick, view.job_id,
                            {"client": view.client, "provider": view.provider,
                             "evaluator": view.evaluator}, state.value, view.budget,
                            time_ratio)
        self.log.ended(view, state, self._settler.clock.tick, reason, time_ratio)
        self.book.update(view.job_id, state=state)
        self._population.release(str(view.job_id))  # its flows are booked

    # -- clearing ----------------------------------------------------------------------------
    def clear(self, tick: int) -> None:
        """Award each job with qualified bids to the lowest (the market signs, lowering the
        escrowed budget to the price); then refund every job that has expired."""
        for award in self.book.clear(self._rng):
            result = self._settler.execute(self._market, SetProvider(
                job_id=award.job_id, provider=award.provider, budget=award.price))
            if result.ok:
                view = self.book.update(award.job_id, provider=award.provider,
                                        budget=award.price)
                self._history.awarded(tick, award.job_id, view.tier, dict(award.bids),
                                      award.provider, award.price)
                self.log.awarded(award.job_id, tick, award.price)
                self._stats.awards += 1
                self._welfare.awarded(award.provider)
        for job_id in self.book.expired(tick):
            self._refund(self._market, job_id)


def _expiry(view: JobView) -> str:
    """Why a job expired, from the state it expired in."""
    if view.provider is None:
        return "expired: not awarded" if view.state is JobState.FUNDED else "expired: not funded"
    if view.state is JobState.SUBMITTED:
        return "expired: delivered, not judged"
    return "expired: awarded, not delivered"


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def plan_hash(plan: Any) -> bytes:
    """The deliverable's commitment: sha256 of the plan's canonical repr (a frozen value)."""
    return hashlib.sha256(repr(plan).encode()).digest()


def type_name(cls: type) -> str:
    """A class's public dotted name (`worlds.warehouse.Plan`, not its private module)."""
    return f"{cls.__module__.rsplit('._', 1)[0]}.{cls.__qualname__}"


def _reason(text: str) -> bytes:
    return keccak(text=text) if text else b"\x00" * 32
