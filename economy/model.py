"""The tick loop: a mesa.Model that runs one market period per step in explicit phases.

One tick (DESIGN.md, "The tick"):

1. world    the twin's exogenous demand: each customer's new orders (its own random stream)
2. observe  every participant gets an `Observation`
3. act      every participant's policy returns actions (a faulty policy is isolated)
4. resolve  in a seeded random order of participants, each action is checked against the
            market rules, turned into ledger operations, signed by the agent's key with its
            next nonces, and executed; evaluations bought with `Simulate` run in the twin
5. clear    the job market awards jobs to the lowest qualified bids; expired jobs refunded
6. account  flows, metrics and balances are recorded; invariants checked in debug mode

An external controller (an RL trainer) can run the phases itself: `begin_tick()`,
`observe(p)`, `resolve(decisions)`, `end_tick()`; `step()` is exactly that sequence.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import mesa
import numpy as np
import pyarrow as pa
from eth_utils import keccak

from chain import (
    BURN_ADDRESS,
    EVENT_COLUMNS,
    Address,
    ChainError,
    CompleteJob,
    CreateJob,
    Flow,
    FundJob,
    Identity,
    Intent,
    JobState,
    Ledger,
    Mint,
    Op,
    Post,
    RegisterTwin,
    RejectJob,
    SetProvider,
    SignedIntent,
    SubmitJob,
    Transfer,
    TxResult,
    job_id_for,
    sign,
)
from chain import ClaimRefund as ClaimRefundOp
from economy import actions as A
from economy.accounting import FLOWS_SCHEMA, FlowBook
from economy.compute import ComputeBook
from economy.errors import ActionRejected, EconomyError
from economy.market import JobMarket
from economy.metrics import gini
from economy.observation import JobView, Observation, Planner, SimResult
from economy.protocols import Decision, Participant
from economy.recorder import AMOUNT, Recorder
from economy.roles import FlowClass, Role
from worlds.cache import EvaluationCache
from worlds.protocols import ServiceTwin
from worlds.warehouse import Evaluation, Order, Plan

__all__ = ["AGENTS_SCHEMA", "EVENTS_SCHEMA", "TICKS_SCHEMA", "EconomyConfig", "EconomyModel"]

EVENTS_SCHEMA = pa.schema([
    ("tick", pa.int64()), ("tx", pa.int64()), ("kind", pa.string()), ("payer", pa.string()),
    ("payee", pa.string()), ("amount", AMOUNT), ("flow", pa.string()), ("ref", pa.string()),
    ("detail", pa.string()),
])
if tuple(EVENTS_SCHEMA.names) != EVENT_COLUMNS:  # the ledger's rows must fit this table
    raise RuntimeError("EVENTS_SCHEMA is out of step with chain.EVENT_COLUMNS")

TICKS_SCHEMA = pa.schema([
    ("tick", pa.int64()), ("orders", pa.int64()), ("jobs_posted", pa.int64()),
    ("bids", pa.int64()), ("awards", pa.int64()), ("submitted", pa.int64()),
    ("completed", pa.int64()), ("rejected", pa.int64()), ("expired", pa.int64()),
    ("open_jobs", pa.int64()), ("price_mean", pa.float64()), ("volume", AMOUNT),
    ("cu_sold", pa.int64()), ("compute_spend", AMOUNT), ("time_ratio_mean", pa.float64()),
    ("customer_value", AMOUNT), ("gini", pa.float64()), ("supply", AMOUNT), ("burned", AMOUNT),
    ("treasury", AMOUNT), ("policy_faults", pa.int64()), ("rejected_actions", pa.int64()),
])

AGENTS_SCHEMA = pa.schema([
    ("tick", pa.int64()), ("agent", pa.int64()), ("role", pa.string()), ("label", pa.string()),
    ("address", pa.string()), ("balance", AMOUNT), ("nonce", pa.int64()),
])


@dataclass(frozen=True, slots=True, kw_only=True)
class EconomyConfig:
    """Rules of the economy that are not ledger rules.

    Attributes:
        tick_ms: the length of one market period in twin time.
        max_candidates: most plans one `Simulate` may evaluate.
        time_value_per_h: what an hour of the twin's time saved (picking, driving, turbine
            downtime) is worth to a customer, base units; it turns plan quality into customer
            value (welfare).
        max_strikes: a provider whose rejected jobs exceed its completed jobs by more than
            this no longer qualifies to win bids.
        debug_invariants: check every ledger invariant at the end of every tick.
        strict: re-raise a policy's exception instead of isolating it.
        agents_every: record every agent's balance every N ticks (and at the last tick).
    """

    tick_ms: int = 60_000
    max_candidates: int = 64
    time_value_per_h: int = 30 * 10**18
    max_strikes: int = 2
    debug_invariants: bool = True
    strict: bool = False
    agents_every: int = 1


@dataclass(slots=True)
class _TickStats:
    orders: int = 0
    jobs_posted: int = 0
    bids: int = 0
    awards: int = 0
    submitted: int = 0
    completed: int = 0
    rejected: int = 0
    expired: int = 0
    prices: list[int] = field(default_factory=list)
    cu_sold: int = 0
    compute_spend: int = 0
    time_ratios: list[float] = field(default_factory=list)
    customer_value: int = 0
    faults: int = 0
    rejected_actions: int = 0


@dataclass(slots=True)
class _JobBook:
    """What the economy remembers of a job for its accounts (not visible to agents)."""

    baseline_ms: int
    compute_spend: int = 0  # the provider's sim-time spend for this job


class EconomyModel(mesa.Model):
    """The economy of one run.

    Args:
        config: economy rules.
        ledger: the ledger backend (its params carry the protocol's token rules).
        twin: the world the services are evaluated in.
        seed: the run seed; the root of every random stream.
        protocol: the minting authority's identity.
        market: the market operator's identity (awards jobs, claims expired refunds).
        recorder: where tables go (None: in memory).
    """

    def __init__(
        self,
        *,
        config: EconomyConfig,
        ledger: Ledger,
        twin: ServiceTwin,
        seed: int,
        protocol: Identity,
        market: Identity,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.config = config
        self.ledger = ledger
        self.twin = twin
        self.planner = Planner(twin)
        self.seed = seed
        self.protocol = protocol
        self.market_identity = market
        self.recorder = recorder or Recorder(None)
        self._verify = ledger.params.signatures == "verify"
        self._domain = ledger.domain
        # One seed tree: (0, i) customer i's demand, (1,) the market, (2, i) agent i's policy,
        # (3, t) the twin's conditions in tick t's shift.
        self._market_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
        self.participants: list[Participant] = []
        self._rngs: list[np.random.Generator] = []
        self._by_address: dict[Address, Participant] = {}
        self._class: dict[Address, FlowClass] = {
            ledger.treasury: FlowClass.TREASURY,
            protocol.address: FlowClass.PROTOCOL,
            market.address: FlowClass.PROTOCOL,
        }
        self._demand: dict[Address, np.random.Generator] = {}
        self._orders: dict[Address, dict[str, Order]] = {}
        self._evaluators: tuple[Address, ...] = ()
        self.market = JobMarket(max_strikes=config.max_strikes)
        self.compute = ComputeBook()
        self._books: dict[int, _JobBook] = {}
        self._results: dict[Address, list[SimResult]] = {}
        self._eval_cache = EvaluationCache(twin)
        self._clients: dict[str, Address] = {}
        self.flows = FlowBook(self._class_of, ledger.escrow, self._clients.get)
        self._events = self.recorder.table("events", EVENTS_SCHEMA)
        self._ticks = self.recorder.table("ticks", TICKS_SCHEMA)
        self._agents_t = self.recorder.table("agents", AGENTS_SCHEMA)
        self._flows_t = self.recorder.table("flows", FLOWS_SCHEMA)
        self._stats = _TickStats()
        self.totals: dict[str, int] = defaultdict(int)
        self._ratio_sum = 0.0
        self._quality: dict[str, list] = {}  # provider group -> [sum of time ratios, jobs]
        self._tick = 0
        self._shift_seed = 0
        self._open_jobs: tuple[JobView, ...] = ()
        self._quotes: tuple = ()

    # -- population --------------------------------------------------------------------------
    def agent_seed(self, index: int) -> np.random.SeedSequence:
        """The seed sequence of participant `index`'s own random stream."""
        return np.random.SeedSequence(self.seed, spawn_key=(2, index))

    def add(self, participant: Participant) -> None:
        """Admit a participant (in index order: 0, 1, 2, ...)."""
        if participant.index != len(self.participants):
            raise EconomyError(f"participants must be added in index order; expected "
                               f"{len(self.participants)}, got {participant.index}")
        if participant.address in self._by_address:
            raise EconomyError(f"two participants share the address {participant.address}")
        self.participants.append(participant)
        self._rngs.append(np.random.default_rng(self.agent_seed(participant.index)))
        self._by_address[participant.address] = participant
        self._class[participant.address] = FlowClass.of(participant.role)
        if participant.role is Role.CUSTOMER:
            ss = np.random.SeedSequence(self.seed, spawn_key=(0, participant.index))
            self._demand[participant.address] = np.random.default_rng(ss)
            self._orders[participant.address] = {}
        if participant.role is Role.EVALUATOR:
            self._evaluators = (*self._evaluators, participant.address)

    def _class_of(self, address: Address) -> FlowClass:
        return self._class.get(address, FlowClass.CUSTOMER)

    def genesis(self, allocations: Sequence[tuple[Address, int]], twin_owner: Address) -> None:
        """Tick 0: mint the initial allocations and register the twin for its owner."""
        for address, amount in allocations:
            if amount:
                self._execute(self.protocol, Mint(to=address, amount=amount, flow=Flow.GENESIS))
        spec = self.twin.spec
        owner = self._by_address[twin_owner]
        self._execute(owner.identity, RegisterTwin(
            key=f"{spec.kind}/{spec.name}", version=spec.version,
            spec_hash=bytes.fromhex(spec.sha256)))
        self._close_tick(0)

    # -- signing and executing ----------------------------------------------------------------
    def _execute(self, identity: Identity, op: Op) -> TxResult:
        address = identity.address
        intent = Intent(sender=address, nonce=self.ledger.nonce_of(address),
                        deadline=self._tick, op=op)
        if self._verify:
            signed = sign(intent, identity, self._domain)
        else:
            signed = SignedIntent(intent=intent, signature=None, chain_id=self._domain.chain_id)
        result = self.ledger.execute(signed)
        events = self.ledger.drain_events()
        self._events.extend(events)
        self.flows.add(events)
        return result

    def _event(self, kind: str, payer: Address, payee: str = BURN_ADDRESS, amount: int = 0,
               ref: str = "", detail: str = "") -> None:
        self._events.append((self._tick, 0, kind, payer, payee, amount, "", ref, detail))

    # -- the tick ---------------------------------------------------------------------------
    def step(self) -> None:
        """One market period: world, observe, act, resolve, clear, account."""
        self.begin_tick()
        decisions = [(p, p.decide(self.observe(p))) for p in self.participants]
        self.resolve(decisions)
        self.end_tick()

    def begin_tick(self) -> None:
        """Phase 1: advance the clock, draw each customer's new orders."""
        self._tick = self.steps
        self.ledger.set_time(self._tick)
        self.compute.new_tick()
        # The shift orders are picked in: every job posted in one tick sees the same
        # congestion in the twin (and the twin's per-seed precomputation is shared).
        shift = np.random.SeedSequence(self.seed, spawn_key=(3, self._tick))
        self._shift_seed = int(shift.generate_state(1)[0])
        tick_ms = self.config.tick_ms
        n = 0
        for address, rng in self._demand.items():
            for order in self.twin.orders(rng, tick_ms):
                self._orders[address][order.order_id] = order
                n += 1
        self._stats.orders = n
        self._open_jobs = self.market.open_jobs()
        self._quotes = self.compute.quotes()

    def observe(self, p: Participant) -> Observation:
        """Phase 2: what `p` sees now."""
        address = p.address
        orders = self._orders.get(address)
        results = self._results.pop(address, None)
        return Observation(
            tick=self._tick, address=address, role=p.role,
            balance=self.ledger.balance_of(address), nonce=self.ledger.nonce_of(address),
            orders=tuple(orders.values()) if orders else (),
            jobs=self.market.jobs_of(address), open_jobs=self._open_jobs, quotes=self._quotes,
            results=tuple(results) if results else (), evaluators=self._evaluators,
            planner=self.planner, rng=self._rngs[p.index],
        )

    def resolve(self, decisions: Sequence[tuple[Participant, Decision]]) -> None:
        """Phases 4-5: apply every decision in a seeded random order, then clear markets."""
        order = self._market_rng.permutation(len(decisions))
        for i in order.tolist():
            participant, decision = decisions[i]
            if decision.fault is not None:
                self._stats.faults += 1
                self._event("policy_fault", participant.address, detail=decision.fault[:500])
                continue
            for action in decision.actions:
                self._apply(participant, action)
        self._clear()

    def end_tick(self) -> None:
        """Phase 6: account, record and (debug) check invariants."""
        self._close_tick(self._tick)

    # -- actions ----------------------------------------------------------------------------
    def _apply(self, p: Participant, action: A.Action) -> None:
        handler = self._HANDLERS.get(type(action))
        try:
            if handler is None:
                raise ActionRejected("unknown_action",
                                     f"{type(action).__name__} is not an economy action")
            ok = handler(self, p, action)
        except ActionRejected as e:
            self._event("action_rejected", p.address, ref=str(getattr(action, "job_id", "")),
                        detail=f"{type(action).__name__}:{e.code}: {e}"[:500])
            ok = False
        except ChainError as e:  # a malformed address or amount caught while building an op
            self._event("action_rejected", p.address,
                        detail=f"{type(action).__name__}:{e.code}: {e}"[:500])
            ok = False
        except Exception as e:  # a malformed action (wrong field types): the policy's fault
            if self.config.strict:
                raise
            self._event("action_rejected", p.address,
                        detail=f"{type(action).__name__}:malformed: {type(e).__name__}: {e}"[:500])
            ok = False
        if not ok:
            self._stats.rejected_actions += 1

    def _party_job(self, p: Participant, job_id: int) -> JobView:
        view = self.market.get(job_id)
        if p.address not in (view.client, view.evaluator, view.provider):
            raise ActionRejected("not_a_party", f"{p.address} is not a party of job {job_id}")
        return view

    def _post_job(self, p: Participant, a: A.PostJob) -> bool:
        orders = self._orders.get(p.address)
        order = orders.get(a.order_id) if orders else None
        if order is None:
            raise ActionRejected("unknown_order", f"{p.address} has no open order {a.order_id!r}")
        if type(a.expires_in) is not int or a.expires_in < 2:
            raise ActionRejected("bad_expiry", "expires_in must be an int >= 2 ticks")
        if type(a.min_gain_bps) is not int or not 0 <= a.min_gain_bps < 10_000:
            raise ActionRejected("bad_gain", "min_gain_bps must be an int in [0, 10000)")
        evaluator = a.evaluator or p.address
        nonce = self.ledger.nonce_of(p.address)
        job_id = job_id_for(p.address, nonce)
        eval_seed = self._shift_seed
        baseline = self._evaluate(self.twin.solve(order, self.twin.baseline_method), order,
                                  eval_seed)
        spec_hash = keccak(f"{self.twin.twin_id}|{order!r}".encode())  # the job's terms
        result = self._execute(p.identity, CreateJob(
            evaluator=evaluator, assigner=self.market_identity.address, budget=a.budget,
            expires_at=self._tick + a.expires_in, spec_hash=spec_hash))
        if not result.ok:
            return False
        del orders[a.order_id]
        funded = self._execute(p.identity, FundJob(job_id=job_id, expected_budget=a.budget))
        view = JobView(
            job_id=job_id, client=p.address, evaluator=self.ledger.job(job_id).evaluator,
            provider=None, budget=a.budget,
            state=JobState.FUNDED if funded.ok else JobState.OPEN, order=order,
            twin_id=self.twin.twin_id, eval_seed=eval_seed,
            max_time_ms=(baseline.time_ms * (10_000 - a.min_gain_bps) // 10_000
                         if a.max_time_ms is None else a.max_time_ms),
            posted_tick=self._tick, expires_at=self._tick + a.expires_in,
        )
        self.market.add(view)
        self._books[job_id] = _JobBook(baseline_ms=baseline.time_ms)
        self._clients[str(job_id)] = p.address
        self._stats.jobs_posted += 1
        return funded.ok

    def _bid(self, p: Participant, a: A.Bid) -> bool:
        self.market.check_bid(a.job_id, p.address, a.price)
        result = self._execute(p.identity, Post(topic="bid", ref=a.job_id, data=_word(a.price)))
        if result.ok:
            self.market.bid(a.job_id, p.address, a.price)
            self._stats.bids += 1
        return result.ok

    def _offer(self, p: Participant, a: A.Offer) -> bool:
        if p.role is not Role.COMPUTE:
            raise ActionRejected("not_compute", "only compute providers may offer compute")
        self.compute.offer(p.address, a.price_per_cu, a.capacity_cu)
        return self._execute(p.identity, Post(topic="offer", ref=a.price_per_cu,
                                              data=_word(a.capacity_cu))).ok

    def _simulate(self, p: Participant, a: A.Simulate) -> bool:
        view = self._party_job(p, a.job_id)
        plans = tuple(a.plans)
        if not plans or len(plans) > self.config.max_candidates:
            raise ActionRejected("bad_candidates", f"simulate 1 to {self.config.max_candidates} "
                                 f"plans, got {len(plans)}")
        plan_type = self.twin.plan_type
        if not all(isinstance(plan, plan_type) for plan in plans):
            raise ActionRejected("bad_plan", f"every candidate must be a {_name(plan_type)}")
        order = view.order
        cu = sum(self.twin.cu_for(plan, order) for plan in plans)
        provider, price = self.compute.reserve(cu, a.compute)
        cost = cu * price
        if a.max_cost is not None and cost > a.max_cost:
            self.compute.release(provider, cu)
            raise ActionRejected("over_budget", f"{cu} CU at {price} costs {cost}, over "
                                 f"max_cost {a.max_cost}")
        if cost:
            paid = self._execute(p.identity, Transfer(to=provider, amount=cost,
                                                      flow=Flow.COMPUTE, ref=a.job_id))
            if not paid.ok:
                self.compute.release(provider, cu)
                return False
        evaluations = tuple(self._evaluate(plan, order, view.eval_seed) for plan in plans)
        self._results.setdefault(p.address, []).append(SimResult(
            job_id=a.job_id, plans=plans, evaluations=evaluations, cu=cu, cost=cost))
        self._event("simulated", p.address, provider, 0, str(a.job_id),
                    f"cu={cu};plans={len(plans)};cost={cost}")
        self._stats.cu_sold += cu
        self._stats.compute_spend += cost
        if p.address == view.provider:
            self._books[a.job_id].compute_spend += cost
        return True

    def _submit(self, p: Participant, a: A.Submit) -> bool:
        view = self._party_job(p, a.job_id)
        if not isinstance(a.plan, self.twin.plan_type):
            raise ActionRejected("bad_plan",
                                 f"the deliverable must be a {_name(self.twin.plan_type)}")
        result = self._execute(p.identity, SubmitJob(job_id=a.job_id,
                                                     deliverable=_plan_hash(a.plan)))
        if result.ok:
            self.market.update(view.job_id, state=JobState.SUBMITTED, plan=a.plan)
            self._stats.submitted += 1
        return result.ok

    def _complete(self, p: Participant, a: A.Complete) -> bool:
        view = self._party_job(p, a.job_id)
        result = self._execute(p.identity, CompleteJob(job_id=a.job_id, reason=_reason(a.reason)))
        if result.ok:
            self._account_completion(view)
            self.market.record_outcome(view.provider, completed=True)
            self.market.update(view.job_id, state=JobState.COMPLETED)
            self._books.pop(view.job_id, None)
            self._clients.pop(str(view.job_id), None)  # its flows are booked
            self._stats.completed += 1
        return result.ok

    def _reject(self, p: Participant, a: A.Reject) -> bool:
        view = self._party_job(p, a.job_id)
        result = self._execute(p.identity, RejectJob(job_id=a.job_id, reason=_reason(a.reason)))
        if result.ok:
            if view.provider is not None:
                self.market.record_outcome(view.provider, completed=False)
            self.market.update(view.job_id, state=JobState.REJECTED)
            self._books.pop(view.job_id, None)
            self._clients.pop(str(view.job_id), None)  # its flows are booked
            self._stats.rejected += 1
        return result.ok

    def _claim_refund(self, p: Participant, a: A.ClaimRefund) -> bool:
        return self._refund(p.identity, a.job_id)

    def _refund(self, identity: Identity, job_id: int) -> bool:
        result = self._execute(identity, ClaimRefundOp(job_id=job_id))
        if result.ok and job_id in self.market.views:
            self.market.update(job_id, state=JobState.EXPIRED)
            self._books.pop(job_id, None)
            self._clients.pop(str(job_id), None)  # its flows are booked
            self._stats.expired += 1
        return result.ok

    def _pay(self, p: Participant, a: A.Pay) -> bool:
        return self._execute(p.identity, Transfer(to=a.to, amount=a.amount,
                                                  flow=Flow.PAYMENT)).ok

    _HANDLERS: ClassVar[dict[type, Callable[[EconomyModel, Participant, A.Action], bool]]] = {
        A.PostJob: _post_job, A.Bid: _bid, A.Offer: _offer, A.Simulate: _simulate,
        A.Submit: _submit, A.Complete: _complete, A.Reject: _reject,
        A.ClaimRefund: _claim_refund, A.Pay: _pay,
    }

    # -- clearing and accounting ------------------------------------------------------------
    def _clear(self) -> None:
        market = self.market_identity
        for job_id, provider, price in self.market.clear(self._market_rng):
            result = self._execute(market, SetProvider(job_id=job_id, provider=provider,
                                                       budget=price))
            if result.ok:
                self.market.update(job_id, provider=provider, budget=price)
                self._stats.awards += 1
        for job_id in self.market.expired(self._tick):
            self._refund(market, job_id)

    def _evaluate(self, plan: Plan, order: Order, seed: int) -> Evaluation:
        """Evaluate in the twin, memoised: the twin is deterministic, so equal requests give
        equal results (the receipts say so) and need not be recomputed."""
        return self._eval_cache.evaluate(plan, order, seed)

    def _account_completion(self, view: JobView) -> None:
        book = self._books[view.job_id]
        ev = self._evaluate(view.plan, view.order, view.eval_seed) if view.plan else None
        plan_ms = ev.time_ms if ev is not None and ev.valid else book.baseline_ms
        saved_ms = max(0, book.baseline_ms - plan_ms)
        value = saved_ms * self.config.time_value_per_h // 3_600_000
        s = self._stats
        s.prices.append(view.budget)
        s.customer_value += value
        if book.baseline_ms:
            s.time_ratios.append(plan_ms / book.baseline_ms)
            group = self._by_address[view.provider].label.rsplit("-", 1)[0]
            cell = self._quality.setdefault(group, [0.0, 0])
            cell[0] += plan_ms / book.baseline_ms
            cell[1] += 1
        fees = view.budget * (self.ledger.params.platform_fee_bps
                              + self.ledger.params.evaluator_fee_bps) // 10_000
        self.totals["consumer_surplus"] += value - view.budget
        self.totals["producer_surplus"] += view.budget - fees - book.compute_spend

    def _close_tick(self, tick: int) -> None:
        s = self._stats
        ledger = self.ledger
        balances = [ledger.balance_of(p.address) for p in self.participants]
        self._flows_t.extend(self.flows.close_tick(tick))
        volume = sum(s.prices)
        self._ticks.append((
            tick, s.orders, s.jobs_posted, s.bids, s.awards, s.submitted, s.completed,
            s.rejected, s.expired, len(self.market),
            float(np.mean(s.prices)) / 10**ledger.params.decimals if s.prices else float("nan"),
            volume, s.cu_sold, s.compute_spend,
            float(np.mean(s.time_ratios)) if s.time_ratios else float("nan"),
            s.customer_value, gini(balances), ledger.total_supply, ledger.burned,
            ledger.balance_of(ledger.treasury), s.faults, s.rejected_actions,
        ))
        every = self.config.agents_every
        if every and tick % every == 0:
            self._record_agents(tick, balances)
        t = self.totals
        for name in ("orders", "jobs_posted", "bids", "awards", "submitted", "completed",
                     "rejected", "expired", "cu_sold", "compute_spend", "customer_value",
                     "faults", "rejected_actions"):
            t[name] += getattr(s, name)
        t["volume"] += volume
        self._ratio_sum += sum(s.time_ratios)
        self._stats = _TickStats()
        if self.config.debug_invariants:
            ledger.check_invariants()

    def _record_agents(self, tick: int, balances: list[int]) -> None:
        nonce_of = self.ledger.nonce_of
        self._agents_t.extend(
            (tick, p.index, p.role.value, p.label, p.address, b, nonce_of(p.address))
            for p, b in zip(self.participants, balances, strict=True)
        )

    def finish(self) -> dict:
        """Close the run: record final balances, flush every table, return the summary."""
        every = self.config.agents_every
        if not every or self._tick % every:
            self._record_agents(self._tick, [self.ledger.balance_of(p.address)
                                             for p in self.participants])
        self.recorder.close()
        return self.summary()

    def summary(self) -> dict:
        """Headline metrics of the run so far (exact integers for money, base units)."""
        t = self.totals
        ledger = self.ledger
        decimals = ledger.params.decimals
        completed = t["completed"]
        revenue = {c.value: self.flows.revenue.get(c.value, 0) for c in FlowClass
                   if c not in (FlowClass.PROTOCOL,)}
        earned = sum(v for k, v in revenue.items() if k not in ("burn", "customer"))
        by_role: dict[str, list[int]] = defaultdict(list)
        for p in self.participants:
            by_role[p.role.value].append(ledger.balance_of(p.address))
        return {
            "ticks": self._tick,
            "n_agents": len(self.participants),
            "agents_by_role": {r: len(v) for r, v in sorted(by_role.items())},
            "decimals": decimals,
            "orders": t["orders"],
            "jobs_posted": t["jobs_posted"],
            "bids": t["bids"],
            "awards": t["awards"],
            "jobs_completed": completed,
            "jobs_rejected": t["rejected"],
            "jobs_expired": t["expired"],
            "completion_rate": completed / t["jobs_posted"] if t["jobs_posted"] else 0.0,
            "price_mean": t["volume"] // completed if completed else 0,
            "volume": t["volume"],
            "cu_sold": t["cu_sold"],
            "compute_spend": t["compute_spend"],
            "time_ratio_mean": self._ratio_sum / completed if completed else None,
            "time_ratio_by_provider_group": {g: c[0] / c[1]
                                             for g, c in sorted(self._quality.items())},
            "jobs_completed_by_provider_group": {g: c[1]
                                                 for g, c in sorted(self._quality.items())},
            "customer_value": t["customer_value"],
            "consumer_surplus": t["consumer_surplus"],
            "producer_surplus": t["producer_surplus"],
            "revenue_by_class": revenue,
            "revenue_share_by_class": {k: (v / earned if earned else 0.0)
                                       for k, v in revenue.items()
                                       if k not in ("burn", "customer")},
            "gini_final": gini([ledger.balance_of(p.address) for p in self.participants]),
            "balance_mean_by_role": {r: sum(v) // len(v) for r, v in sorted(by_role.items())},
            "supply": ledger.total_supply,
            "minted": ledger.minted,
            "burned": ledger.burned,
            "treasury": ledger.balance_of(ledger.treasury),
            "policy_faults": t["faults"],
            "rejected_actions": t["rejected_actions"],
            "ledger_state_hash": ledger.state_hash(),
            "events_sha256": self._events.sha256,
        }


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _plan_hash(plan: Any) -> bytes:
    """The deliverable's commitment: sha256 of the plan's canonical repr (a frozen value)."""
    return hashlib.sha256(repr(plan).encode()).digest()


def _name(cls: type) -> str:
    return f"{cls.__module__.rsplit('._', 1)[0]}.{cls.__qualname__}"


def _reason(text: str) -> bytes:
    return keccak(text=text) if text else b"\x00" * 32
