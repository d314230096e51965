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
    COMPUTE_ADDRESS,
    EVENT_COLUMNS,
    Address,
    ChainError,
    ClaimLease,
    CloseLease,
    CompleteJob,
    CreateJob,
    CreatePool,
    Flow,
    FundJob,
    Identity,
    Intent,
    JobState,
    Ledger,
    LinkAsset,
    Mint,
    Op,
    OpenLease,
    Post,
    RegisterAsset,
    RegisterTwin,
    RejectJob,
    SetLicence,
    SetProvider,
    SignedIntent,
    Slash,
    SubmitJob,
    Transfer,
    TxResult,
    job_id_for,
    sign,
)
from chain import ClaimRefund as ClaimRefundOp
from chain import Contribute as ContributeOp
from chain import Stake as StakeOp
from chain import Unstake as UnstakeOp
from chain import UseData as UseDataOp
from chain.royalty import pro_rata
from economy import actions as A
from economy.accounting import FLOWS_SCHEMA, FlowBook
from economy.compute import ComputeBook, Request
from economy.errors import ActionRejected, EconomyError, GenesisError
from economy.market import JobMarket
from economy.mechanisms import BidOrder, Fill
from economy.metrics import block_surplus, gini, hhi
from economy.observation import JobView, Observation, Planner, SimResult
from economy.protocols import Decision, Participant
from economy.recorder import AMOUNT, Recorder
from economy.roles import FlowClass, Role
from economy.rules import Rules
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
    ("cu_leased", pa.int64()), ("cu_claimed", pa.int64()), ("compute_price_mean", pa.float64()),
    ("compute_volume", AMOUNT), ("licence", AMOUNT), ("royalties", AMOUNT),
    ("data_units", pa.int64()), ("data_volume", AMOUNT), ("emitted", AMOUNT),
    ("slashed", AMOUNT), ("compute_efficiency", pa.float64()),
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
        l2_hz: the physics rate of the L2 tier (warehouse twins).
    """

    tick_ms: int = 60_000
    max_candidates: int = 64
    time_value_per_h: int = 30 * 10**18
    max_strikes: int = 2
    debug_invariants: bool = True
    strict: bool = False
    agents_every: int = 1
    l2_hz: int = 200


#: Fidelity tiers a job may be judged at and evaluations bought for.
TIERS = ("L1", "L2")


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
    cu_leased: int = 0
    cu_claimed: int = 0
    compute_fills: list[tuple[int, int]] = field(default_factory=list)  # (cu, price per CU)
    data_units: int = 0
    emitted: int = 0
    slashed: int = 0
    surplus: list[int] = field(default_factory=lambda: [0, 0])  # compute: realised, max


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
        rules: the protocol rules the economy runs (the ledger's own are in its params).
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
        rules: Rules | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.config = config
        self.rules = rules or Rules()
        self.ledger = ledger
        self.twin = twin
        self._tiers: dict[str, EvaluationCache] = {"L1": EvaluationCache(twin)}
        self.planner = Planner(twin, lambda tier, plan, order:
                               self._tier(tier).twin.cu_for(plan, order))
        self.seed = seed
        self.protocol = protocol
        self.market_identity = market
        self.recorder = recorder or Recorder(None)
        self._verify = ledger.params.signatures == "verify"
        self._domain = ledger.domain
        # One seed tree: (0, i) customer i's demand, (1,) the market, (2, i) agent i's policy,
        # (3, t) the twin's conditions in tick t's shift, (4,) the protocol's spot checks.
        self._market_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
        self._spot_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(4,)))
        self.participants: list[Participant] = []
        self._rngs: list[np.random.Generator] = []
        self._by_address: dict[Address, Participant] = {}
        self._class: dict[Address, FlowClass] = {
            ledger.treasury: FlowClass.TREASURY,
            protocol.address: FlowClass.PROTOCOL,
            market.address: FlowClass.PROTOCOL,
        }
        self._twin_key = f"{twin.spec.kind}/{twin.spec.name}"
        self._demand: dict[Address, np.random.Generator] = {}
        self._orders: dict[Address, dict[str, Order]] = {}
        self._evaluators: tuple[Address, ...] = ()
        self.market = JobMarket(max_strikes=config.max_strikes)
        self.compute = ComputeBook()
        self._books: dict[int, _JobBook] = {}
        self._results: dict[Address, list[SimResult]] = {}
        self._clients: dict[str, Address] = {}  # job or lease id -> whose money a module holds
        self.flows = FlowBook(self._class_of, (ledger.escrow, COMPUTE_ADDRESS), self._holder_of)
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
        self._work: dict[Address, int] = defaultdict(int)  # CU claimed this epoch, by provider
        self._burned_at_epoch = 0
        self._emitted = 0
        self._usage = 0  # data usage records issued
        self._last_events: list = []
        self._staked: dict[Address, bool] = {}
        self._licence_per_cu: int | None = None

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

    def _holder_of(self, ref: str) -> Address | None:
        """Whose money a module account moves under `ref`: a job's client, a lease's buyer, a
        staker (stake rows name the staker)."""
        holder = self._clients.get(ref)
        if holder is None and ref in self._by_address:
            return ref
        return holder

    def genesis(
        self,
        allocations: Sequence[tuple[Address, int]],
        twin_owner: Address,
        *,
        licence_per_cu: int = 0,
        assets: Sequence[tuple[Address, str, str, bytes, int, Sequence[str]]] = (),
        pools: Sequence[tuple[Address, str, int, int]] = (),
    ) -> None:
        """Tick 0: mint the initial allocations, register the twin for its owner (with its
        licence per CU), stake the compute providers' minimum, register the IP assets
        (owner, key, kind, content hash, royalty bps, parents) and open the data pools
        (owner, key, price per unit, owner fee bps).

        Raises:
            GenesisError: a genesis action the ledger refused (the scenario is inconsistent).
        """
        for address, amount in allocations:
            if amount:
                self._genesis_op(self.protocol, Mint(to=address, amount=amount,
                                                     flow=Flow.GENESIS))
        spec = self.twin.spec
        owner = self._by_address[twin_owner].identity
        self._genesis_op(owner, RegisterTwin(key=self._twin_key, version=spec.version,
                                             spec_hash=bytes.fromhex(spec.sha256)))
        if licence_per_cu:
            self._genesis_op(owner, SetLicence(key=self._twin_key, fee_per_cu=licence_per_cu))
        stake = self.rules.compute.min_stake
        for p in self.participants:
            if stake and p.role is Role.COMPUTE:
                self._genesis_op(p.identity, StakeOp(amount=stake))
        for address, key, kind, content, bps, _ in assets:
            self._genesis_op(self._by_address[address].identity, RegisterAsset(
                key=key, kind=kind, content_hash=content, royalty_bps=bps))
        for address, key, _, _, _, parents in assets:
            for parent in parents:
                self._genesis_op(self._by_address[address].identity,
                                 LinkAsset(child=key, parent=parent))
        for address, key, price, fee_bps in pools:
            self._genesis_op(self._by_address[address].identity, CreatePool(
                key=key, price_per_unit=price, owner_fee_bps=fee_bps))
        self._close_tick(0)

    def _genesis_op(self, identity: Identity, op: Op) -> None:
        result = self._execute(identity, op)
        if not result.ok:
            raise GenesisError(op.KIND, f"genesis: {op.KIND} by "
                               f"{identity.label or identity.address} was refused: "
                               f"{result.code}: {result.reason}")

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
        events = self._last_events = self.ledger.drain_events()
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
        self._staked = {}
        self._licence_per_cu = None
        self._close_expired_leases()
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
            leases=self.compute.leases_of(address),
            compute_clearing=self.rules.compute.clearing,
            stake=self.ledger.stake_of(address) if p.role is Role.COMPUTE else 0,
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
        self._tier(a.tier)
        baseline = self._evaluate(self.twin.solve(order, self.twin.baseline_method), order,
                                  eval_seed, a.tier)
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
            posted_tick=self._tick, expires_at=self._tick + a.expires_in, tier=a.tier,
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
        self.compute.offer(p.address, a.price_per_cu, a.capacity_cu, a.overclaim_bps)
        return self._execute(p.identity, Post(topic="offer", ref=a.price_per_cu,
                                              data=_word(a.capacity_cu))).ok

    # -- compute: buying leases and drawing on them -----------------------------------------
    def _eligible(self, provider: Address) -> bool:
        """Whether the provider holds the stake to sell (read once a tick, and again after a
        stake changes)."""
        ok = self._staked.get(provider)
        if ok is None:
            ok = self._staked[provider] = (self.ledger.stake_of(provider)
                                           >= self.rules.compute.min_stake)
        return ok

    def _licence(self) -> int:
        """The twin's licence per CU (read once a tick)."""
        if self._licence_per_cu is None:
            twin = self.ledger.twin(self._twin_key)
            self._licence_per_cu = twin.licence_per_cu if twin is not None else 0
        return self._licence_per_cu

    def _limit(self, max_price: int | None, only: Address | None) -> int:
        """A request's price limit: as given, or the dearest eligible offer."""
        if max_price is not None:
            if type(max_price) is not int or max_price < 0:
                raise ActionRejected("bad_price", f"max_price_per_cu must be an int >= 0, got "
                                     f"{max_price!r}")
            return max_price
        return self.compute.max_price(self._eligible, only)

    def _open_leases(self, buyer: Participant, fills: Sequence[Fill]) -> int:
        """Open one lease per fill (the buyer signs and locks); return the CU leased."""
        rule = self.rules.compute
        licence = self._licence()
        leased = 0
        for fill in fills:
            nonce = self.ledger.nonce_of(buyer.address)
            expires_at = self._tick + rule.lease_ticks
            result = self._execute(buyer.identity, OpenLease(
                provider=fill.seller, twin=self._twin_key, cu=fill.qty, price_per_cu=fill.price,
                expires_at=expires_at))
            if not result.ok:
                continue
            lease_id = job_id_for(buyer.address, nonce)
            self.compute.take(fill.seller, fill.qty)
            self.compute.add_lease(lease_id, buyer.address, fill.seller, fill.qty, fill.price,
                                   licence, expires_at)
            self._clients[str(lease_id)] = buyer.address
            self._stats.cu_leased += fill.qty
            self._stats.compute_fills.append((fill.qty, fill.price))
            leased += fill.qty
        return leased

    def _buy_now(self, p: Participant, cu: int, max_price: int | None, only: Address | None,
                 max_cost: int | None = None) -> int:
        """Posted prices: fill `cu` from the cheapest eligible offers at once."""
        if only is not None and not self.compute.has_capacity(only):
            raise ActionRejected("unknown_compute", f"{only} offers no compute with capacity "
                                 "left this tick")
        limit = self._limit(max_price, only)
        asks = self.compute.asks(self._eligible, only, need=cu)
        fills = self.rules.compute.clear(asks, [BidOrder(buyer=p.address, qty=cu, price=limit)])
        if sum(f.qty for f in fills) < cu:
            raise ActionRejected("no_capacity", f"the compute offers cannot fill {cu} CU at "
                                 f"<= {limit} per CU this tick; buy fewer or wait a tick")
        if max_cost is not None:
            cost = sum(f.qty * (f.price + self._licence()) for f in fills)
            if cost > max_cost:
                raise ActionRejected("over_budget", f"{cu} CU cost {cost}, over max_cost "
                                     f"{max_cost}")
        return self._open_leases(p, fills)

    def _buy_compute(self, p: Participant, a: A.BuyCompute) -> bool:
        if type(a.cu) is not int or a.cu < 1:
            raise ActionRejected("bad_cu", f"cu must be an int >= 1, got {a.cu!r}")
        if self.rules.compute.immediate:
            return self._buy_now(p, a.cu, a.max_price_per_cu, a.compute) == a.cu
        self.compute.requests.append(Request(
            buyer=p.address, cu=a.cu, max_price=self._limit(a.max_price_per_cu, a.compute)))
        return True

    def _stake(self, p: Participant, a: A.Stake) -> bool:
        self._staked.pop(p.address, None)
        return self._execute(p.identity, StakeOp(amount=a.amount)).ok

    def _unstake(self, p: Participant, a: A.Unstake) -> bool:
        self._staked.pop(p.address, None)
        return self._execute(p.identity, UnstakeOp(amount=a.amount)).ok

    def _simulate(self, p: Participant, a: A.Simulate) -> bool:
        view = self._party_job(p, a.job_id)
        plans = tuple(a.plans)
        if not plans or len(plans) > self.config.max_candidates:
            raise ActionRejected("bad_candidates", f"simulate 1 to {self.config.max_candidates} "
                                 f"plans, got {len(plans)}")
        plan_type = self.twin.plan_type
        if not all(isinstance(plan, plan_type) for plan in plans):
            raise ActionRejected("bad_plan", f"every candidate must be a {_name(plan_type)}")
        tier = view.tier if a.tier is None else a.tier
        evaluator = self._tier(tier).twin
        cu = sum(evaluator.cu_for(plan, view.order) for plan in plans)
        short = cu - self.compute.available(p.address)
        if short > 0:
            if type(a.min_lease_cu) is not int or a.min_lease_cu < 0:
                raise ActionRejected("bad_cu", "min_lease_cu must be an int >= 0")
            short = max(short, a.min_lease_cu)
            if self.rules.compute.immediate:
                self._buy_now(p, short, a.max_price_per_cu, a.compute, a.max_cost)
            else:  # evaluate once the request clears at the end of the tick
                self.compute.requests.append(Request(
                    buyer=p.address, cu=short,
                    max_price=self._limit(a.max_price_per_cu, a.compute),
                    simulation=(p, a, view, plans, cu, tier)))
                return True
        self._run_simulation(p, a, view, plans, cu, tier)
        return True

    def _run_simulation(self, p: Participant, a: A.Simulate, view: JobView, plans: tuple,
                        cu: int, tier: str) -> None:
        """Evaluate `plans` on CU drawn from the buyer's leases; results arrive next tick."""
        evaluations = tuple(self._evaluate(plan, view.order, view.eval_seed, tier)
                            for plan in plans)
        receipt = hashlib.sha256(repr((a.job_id, cu, [repr(e) for e in evaluations]))
                                 .encode()).digest()
        drawn = self.compute.consume(p.address, cu, receipt)
        cost = sum(c for _, _, c in drawn)
        self._results.setdefault(p.address, []).append(SimResult(
            job_id=a.job_id, plans=plans, evaluations=evaluations, cu=cu, cost=cost))
        leases = ",".join(str(i) for i, _, _ in drawn)
        self._event("simulated", p.address, COMPUTE_ADDRESS, 0, str(a.job_id),
                    f"cu={cu};plans={len(plans)};cost={cost};tier={tier};leases={leases}")
        self._stats.cu_sold += cu
        self._stats.compute_spend += cost
        book = self._books.get(a.job_id)
        if book is not None and p.address == view.provider:
            book.compute_spend += cost

    def _clear_compute(self) -> None:
        """Sealed and call rules: clear the tick's requests, open the leases, run the
        evaluations that waited for them; then every lease that is used up or ends is claimed
        by its provider (and spot-checked)."""
        requests = self.compute.requests
        if requests:
            asks = self.compute.asks(self._eligible)
            bids = [BidOrder(buyer=str(i), qty=r.cu, price=r.max_price)
                    for i, r in enumerate(requests)]
            fills = self.rules.compute.clear(asks, bids)
            by_request: dict[int, list[Fill]] = defaultdict(list)
            for f in fills:
                by_request[int(f.buyer)].append(f)
            self._account_clearing(requests, asks, fills)
            for i, r in enumerate(requests):
                buyer = self._by_address[r.buyer]
                leased = self._open_leases(buyer, by_request.get(i, ()))
                if r.simulation is None:
                    continue
                p, a, view, plans, cu, tier = r.simulation
                if (leased == r.cu and view.job_id in self.market.views
                        and self.compute.available(p.address) >= cu):
                    self._run_simulation(p, a, view, plans, cu, tier)
                else:
                    self._stats.rejected_actions += 1
                    self._event("action_rejected", p.address, ref=str(a.job_id),
                                detail=f"Simulate:no_compute: {leased} of {r.cu} CU filled at "
                                f"<= {r.max_price} per CU under the {self.rules.compute.clearing}"
                                " rule")
            requests.clear()
        self._claim_leases()

    def _account_clearing(self, requests: Sequence[Request], asks: Sequence,
                          fills: Sequence[Fill]) -> None:
        """Allocative efficiency of one clearing: realised / the most the book allowed, with
        the requests' limits as values and the offers' prices as costs."""
        price_of = {a.seller: a.price for a in asks}
        realised = sum(f.qty * (requests[int(f.buyer)].max_price - price_of[f.seller])
                       for f in fills)
        best = block_surplus([(r.cu, r.max_price) for r in requests],
                             [(a.qty, a.price) for a in asks])
        self._stats.surplus[0] += realised
        self._stats.surplus[1] += best

    def _claim_leases(self) -> None:
        rule = self.rules.compute
        for lease in self.compute.due(self._tick):
            provider = self._by_address.get(lease.provider)
            if provider is None:
                continue
            over = lease.used * self.compute.overclaim_bps(lease.provider) // 10_000
            claim = min(lease.cu, lease.used + over)
            result = self._execute(provider.identity, ClaimLease(
                lease_id=lease.lease_id, cu=claim, receipt=lease.receipts.digest()))
            if not result.ok:
                continue  # the buyer gets the lock back when the lease expires
            self.compute.remove(lease.lease_id)
            self._clients.pop(str(lease.lease_id), None)
            self._stats.cu_claimed += claim
            checked = rule.spot_check_bps and self._spot_rng.integers(10_000) < rule.spot_check_bps
            if not (checked and claim > lease.used):
                self._work[lease.provider] += claim  # useful work, for emissions
            if checked:
                self._event("spot_check", self.protocol.address, lease.provider, 0,
                            str(lease.lease_id), f"claimed={claim};metered={lease.used}")
                if claim > lease.used:  # caught: no emission for this lease, and a slash
                    stake = self.ledger.stake_of(lease.provider)
                    amount = min(stake, max(1, stake * rule.slash_bps // 10_000))
                    if amount and self._execute(self.protocol, Slash(
                            offender=lease.provider, amount=amount, beneficiary=lease.buyer,
                            ref=lease.lease_id)).ok:
                        self._stats.slashed += amount
                        self._staked.pop(lease.provider, None)

    def _close_expired_leases(self) -> None:
        """Leases whose provider never claimed: the market returns the lock to the buyer."""
        for lease in [le for le in self.compute.due(self._tick)
                      if self._tick >= le.expires_at]:
            self._execute(self.market_identity, CloseLease(lease_id=lease.lease_id))
            self.compute.remove(lease.lease_id)
            self._clients.pop(str(lease.lease_id), None)

    # -- data -------------------------------------------------------------------------------
    def _use_data(self, p: Participant, a: A.UseData) -> bool:
        self._usage += 1
        record = keccak(f"{p.address}|{a.pool}|{a.job_id}|{self._usage}".encode())
        result = self._execute(p.identity, UseDataOp(pool=a.pool, units=a.units, record=record,
                                                     ref=a.job_id))
        if result.ok:
            self._stats.data_units += a.units
        return result.ok

    def _contribute(self, p: Participant, a: A.Contribute) -> bool:
        if not isinstance(a.content, bytes | bytearray):
            raise ActionRejected("bad_content", "content must be bytes (an episode or its hash)")
        content = bytes(a.content)
        digest = content if len(content) == 32 else hashlib.sha256(content).digest()
        return self._execute(p.identity, ContributeOp(pool=a.pool, content_hash=digest,
                                                      units=a.units)).ok

    def _submit(self, p: Participant, a: A.Submit) -> bool:
        view = self._party_job(p, a.job_id)
        if not isinstance(a.plan, self.twin.plan_type):
            raise ActionRejected("bad_plan",
                                 f"the deliverable must be a {_name(self.twin.plan_type)}")
        result = self._execute(p.identity, SubmitJob(job_id=a.job_id,
                                                     deliverable=_plan_hash(a.plan),
                                                     policy=a.policy))
        if result.ok:
            self.market.update(view.job_id, state=JobState.SUBMITTED, plan=a.plan)
            self._stats.submitted += 1
        return result.ok

    def _complete(self, p: Participant, a: A.Complete) -> bool:
        view = self._party_job(p, a.job_id)
        result = self._execute(p.identity, CompleteJob(job_id=a.job_id, reason=_reason(a.reason)))
        if result.ok:
            self._account_completion(view, self._last_events)
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
        A.ClaimRefund: _claim_refund, A.Pay: _pay, A.BuyCompute: _buy_compute,
        A.Stake: _stake, A.Unstake: _unstake, A.UseData: _use_data, A.Contribute: _contribute,
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
        self._clear_compute()

    def _tier(self, tier: str) -> EvaluationCache:
        """The (memoised) evaluator of a fidelity tier; L2 is built at first use."""
        cache = self._tiers.get(tier)
        if cache is not None:
            return cache
        if tier not in TIERS:
            raise ActionRejected("bad_tier", f"tier must be one of {', '.join(TIERS)}, got "
                                 f"{tier!r}")
        from worlds.warehouse import WarehouseTwin

        if not isinstance(self.twin, WarehouseTwin):
            raise ActionRejected("bad_tier", f"the {self.twin.spec.kind} twin has no {tier} "
                                 "tier; only warehouse twins have L2 physics")
        from worlds.warehouse.physics import L2Evaluator  # mujoco: loaded only when used

        cache = self._tiers[tier] = EvaluationCache(L2Evaluator(self.twin,
                                                                hz=self.config.l2_hz))
        return cache

    def _evaluate(self, plan: Plan, order: Order, seed: int, tier: str = "L1") -> Evaluation:
        """Evaluate in the twin at `tier`, memoised: the twin is deterministic, so equal
        requests give equal results (the receipts say so) and need not be recomputed."""
        return self._tier(tier).evaluate(plan, order, seed)

    def _account_completion(self, view: JobView, events: Sequence[tuple]) -> None:
        book = self._books[view.job_id]
        ev = (self._evaluate(view.plan, view.order, view.eval_seed, view.tier)
              if view.plan else None)
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
        # what the customer paid (the price, and an evaluator deposit under that rule) and what
        # reached the provider (after fees and royalties), from the ledger's own rows
        paid = sum(e[5] for e in events if e[3] == self.ledger.escrow)
        service = sum(e[5] for e in events if e[6] == Flow.SERVICE)
        self.totals["consumer_surplus"] += value - paid
        self.totals["producer_surplus"] += service - book.compute_spend

    def _emit_rewards(self, tick: int) -> None:
        """At an epoch's end: mint the emission rule's amount to the compute providers, pro
        rata to the CU they were paid for in the epoch; dust to the treasury."""
        rule = self.rules.emission
        if not rule.ends_epoch(tick):
            return
        ledger = self.ledger
        burned = ledger.burned - self._burned_at_epoch
        self._burned_at_epoch = ledger.burned
        work, self._work = self._work, defaultdict(int)
        workers = sorted(a for a, cu in work.items() if cu)
        if not workers:
            return
        amount = rule.amount_for(tick // rule.epoch_ticks - 1, burned, self._emitted,
                                 ledger.params.supply_cap - ledger.minted)
        if not amount:
            return
        parts, dust = pro_rata(amount, [work[a] for a in workers])
        for address, part in [*zip(workers, parts, strict=True), (ledger.treasury, dust)]:
            if part and self._execute(self.protocol, Mint(to=address, amount=part,
                                                          flow=Flow.REWARD)).ok:
                self._emitted += part
                self._stats.emitted += part

    def _close_tick(self, tick: int) -> None:
        self._emit_rewards(tick)
        s = self._stats
        ledger = self.ledger
        balances = [ledger.balance_of(p.address) for p in self.participants]
        self._flows_t.extend(self.flows.close_tick(tick))
        volume = sum(s.prices)
        leased_cu = sum(q for q, _ in s.compute_fills)
        tick_flows = self.flows.last_tick
        self._ticks.append((
            tick, s.orders, s.jobs_posted, s.bids, s.awards, s.submitted, s.completed,
            s.rejected, s.expired, len(self.market),
            float(np.mean(s.prices)) / 10**ledger.params.decimals if s.prices else float("nan"),
            volume, s.cu_sold, s.compute_spend,
            float(np.mean(s.time_ratios)) if s.time_ratios else float("nan"),
            s.customer_value, gini(balances), ledger.total_supply, ledger.burned,
            ledger.balance_of(ledger.treasury), s.faults, s.rejected_actions,
            s.cu_leased, s.cu_claimed,
            (sum(q * p for q, p in s.compute_fills) / leased_cu / 10**ledger.params.decimals
             if leased_cu else float("nan")),
            tick_flows.get(Flow.COMPUTE, 0), tick_flows.get(Flow.LICENCE, 0),
            tick_flows.get(Flow.ROYALTY, 0), s.data_units,
            sum(tick_flows.get(f, 0) for f in (Flow.DATA, Flow.DATA_FEE, Flow.POOL_FEE)),
            s.emitted, s.slashed, s.surplus[0] / s.surplus[1] if s.surplus[1] else float("nan"),
        ))
        every = self.config.agents_every
        if every and tick % every == 0:
            self._record_agents(tick, balances)
        t = self.totals
        for name in ("orders", "jobs_posted", "bids", "awards", "submitted", "completed",
                     "rejected", "expired", "cu_sold", "compute_spend", "customer_value",
                     "faults", "rejected_actions", "cu_leased", "cu_claimed", "data_units",
                     "emitted", "slashed"):
            t[name] += getattr(s, name)
        t["volume"] += volume
        t["compute_leased_value"] += sum(q * p for q, p in s.compute_fills)
        t["compute_surplus"] += s.surplus[0]
        t["compute_surplus_max"] += s.surplus[1]
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

    def _market_summary(self) -> dict:
        """Prices, volumes and concentration per market (jobs, compute, data, royalties)."""
        t = self.totals
        flows = self.flows
        by_flow = flows.by_flow
        leased = t["cu_leased"]
        return {
            "jobs": {"volume": t["volume"],
                     "price_mean": t["volume"] // t["completed"] if t["completed"] else 0,
                     "hhi": _shares_hhi(flows.by_payee["jobs"])},
            "compute": {
                "clearing": self.rules.compute.clearing,
                "cu_leased": leased, "cu_used": t["cu_sold"], "cu_claimed": t["cu_claimed"],
                "price_per_cu_mean": t["compute_leased_value"] // leased if leased else 0,
                "volume": by_flow.get(Flow.COMPUTE, 0),
                "licence": by_flow.get(Flow.LICENCE, 0),
                "hhi": _shares_hhi(flows.by_payee["compute"]),
                "efficiency": (t["compute_surplus"] / t["compute_surplus_max"]
                               if t["compute_surplus_max"] else None),
                "slashed": t["slashed"],
            },
            "data": {"units": t["data_units"],
                     "volume": sum(by_flow.get(f, 0)
                                   for f in (Flow.DATA, Flow.DATA_FEE, Flow.POOL_FEE)),
                     "to_contributors": by_flow.get(Flow.DATA, 0),
                     "hhi": _shares_hhi(flows.by_payee["data"])},
            "royalties": {"volume": by_flow.get(Flow.ROYALTY, 0),
                          "hhi": _shares_hhi(flows.by_payee["royalties"])},
            "emissions": {"schedule": self.rules.emission.schedule, "emitted": t["emitted"]},
        }

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
            "markets": self._market_summary(),
            "rules": {"compute_clearing": self.rules.compute.clearing,
                      "royalty_mode": ledger.params.royalty_mode,
                      "evaluator_paid_on_reject": ledger.params.evaluator_paid_on_reject,
                      "emission": self.rules.emission.schedule},
            "ledger_state_hash": ledger.state_hash(),
            "events_sha256": self._events.sha256,
        }


def _shares_hhi(amounts: dict[str, int]) -> float:
    return hhi(list(amounts.values()))


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _plan_hash(plan: Any) -> bytes:
    """The deliverable's commitment: sha256 of the plan's canonical repr (a frozen value)."""
    return hashlib.sha256(repr(plan).encode()).digest()


def _name(cls: type) -> str:
    return f"{cls.__module__.rsplit('._', 1)[0]}.{cls.__qualname__}"


def _reason(text: str) -> bytes:
    return keccak(text=text) if text else b"\x00" * 32
