"""The tick loop: one market period per tick, in explicit phases over the economy's services.

One tick (docs/architecture.md, "The tick"):

1. world    the clock advances; each customer's new requests arrive (its own random stream);
            expired unclaimed leases return to their buyers
2. observe  every participant gets an `Observation`
3. act      every participant's policy returns actions (a faulty policy is isolated)
4. resolve  in a seeded random order of participants, each action goes to its market's
            handler, which checks it against the market's rules, turns it into ledger
            operations signed by the agent's key, and executes them; evaluations bought with
            `Simulate` run in the twin
5. clear    the job market awards jobs to the lowest qualified bids and refunds expired
            ones; the sim-time market clears its waiting requests and claims due leases
6. account  emissions; flows, metrics and balances recorded; invariants checked (debug)

An external controller (an RL trainer) runs the phases itself: `begin_tick()`, `observe(p)`
for each participant, `resolve(decisions)`, `end_tick()`; `step()` is exactly that sequence,
so both give the same bytes.

The model owns its clock (`tick`), its participants and its seed tree; everything else is a
service it composes: the `Settler` (sign, execute, record), one handler per market
(`economy.handlers`), the sim-time market (`economy.markets.compute`), `Emissions`, the job
`JobWelfare` books, and the typed `TickRow` and `RunSummary` outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from chain import COMPUTE_ADDRESS, Address, ChainError, Identity, Ledger
from economy import actions as A
from economy.accounting import FLOWS_SCHEMA, FlowBook
from economy.config import EconomyConfig
from economy.demand import Demand
from economy.emissions import Emissions
from economy.errors import ActionRejected, EconomyError
from economy.genesis import run_genesis, twin_key
from economy.handlers import ComputeHandler, DataHandler, JobHandler, TransferHandler
from economy.handlers.evaluation import EvaluationHandler
from economy.history import MarketHistory, PnL
from economy.intake import take_in
from economy.joblog import JobLog
from economy.markets.compute import ComputeMarket
from economy.markets.jobs import JobMarket
from economy.observation import MarketView, Observation, Planner, RulesView, SimResult
from economy.population import Population
from economy.protocols import ActionHandler, Decision, Handler, Participant
from economy.recorder import Recorder
from economy.records import Allocation, AssetGrant, PoolGrant
from economy.roles import Role
from economy.rules import Rules
from economy.settler import Clock, Settler
from economy.stats import TickStats, Totals, tick_row
from economy.summary import RunSummary
from economy.tables import AGENTS_SCHEMA, EVENTS_SCHEMA, JOBS_SCHEMA, TICKS_SCHEMA, AgentRow
from economy.tiers import TierEvaluators
from economy.views import royalty_stacks, rules_view
from economy.welfare import JobWelfare
from twinecon.seeds import SeedTree, Stream
from worlds.protocols import ServiceTwin

__all__ = ["AGENTS_SCHEMA", "EVENTS_SCHEMA", "JOBS_SCHEMA", "TICKS_SCHEMA", "EconomyConfig",
           "EconomyModel"]


class EconomyModel:
    """The economy of one run.

    Args:
        config: economy settings.
        ledger: the ledger backend (its params carry the protocol's ledger rules).
        twin: the world the services are evaluated in.
        seed: the run seed; the root of every random stream (`seeds`).
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
        self.config = config
        self.rules = rules = rules or Rules()
        self.ledger = ledger
        self.twin = twin
        self.seed = seed
        self.seeds = SeedTree(seed)
        self.protocol = protocol
        self.market_identity = market
        self.recorder = recorder = recorder or Recorder(None)
        self.clock = Clock()
        self._open = False  # a tick has begun and not ended
        self.population = population = Population(ledger, protocol, market)
        self.flows = FlowBook(population.class_of, (ledger.escrow, COMPUTE_ADDRESS),
                              population.holder_of)
        self.settler = settler = Settler(ledger, self.clock,
                                         recorder.table("events", EVENTS_SCHEMA), self.flows,
                                         population.names)
        self._ticks = recorder.table("ticks", TICKS_SCHEMA)
        self._agents = recorder.table("agents", AGENTS_SCHEMA)
        self._flows = recorder.table("flows", FLOWS_SCHEMA)
        self.stats = stats = TickStats()
        self.totals = Totals()
        #: the last policy fault recorded ("label (policy): what happened"), None before one
        self.last_fault: str | None = None
        #: role -> [actions taken, actions rejected], whole run
        self.actions_by_role: dict[str, list[int]] = {}
        self.tiers = tiers = TierEvaluators(twin, config.l2_hz)
        self.planner = Planner.copy_of(twin, hz=config.l2_hz)  # never the economy's twin
        self.demand = Demand(twin, self.seeds, config.tick_ms, config.order_lapse_ticks)
        self.welfare = welfare = JobWelfare(tiers, config.time_value_per_h, self._group_of,
                                            stats)
        self.emissions = Emissions(rules.emission, settler, protocol, stats)
        self._market_rng = self.seeds.rng(Stream.MARKET)
        self.history = MarketHistory(ticks=config.history_ticks)
        self.job_log = JobLog(recorder.table("jobs", JOBS_SCHEMA), population)
        self.jobs = JobHandler(
            book=JobMarket(max_strikes=config.max_strikes, rule=rules.award,
                           time_value_per_h=config.time_value_per_h),
            welfare=welfare, demand=self.demand, tiers=tiers, twin=twin, settler=settler,
            population=population, stats=stats, market=market, rng=self._market_rng,
            history=self.history, log=self.job_log)
        self.compute = ComputeHandler(
            market=ComputeMarket(rule=rules.compute, settler=settler, population=population,
                                 twin_key=twin_key(twin), protocol=protocol, market=market,
                                 spot_rng=self.seeds.rng(Stream.SPOT_CHECK),
                                 emissions=self.emissions, stats=stats, flows=self.flows,
                                 cost_per_cu=config.compute_cost_per_cu),
            jobs=self.jobs, tiers=tiers, twin=twin, config=config, settler=settler,
            stats=stats)
        self._plan_type = twin.plan_type
        self.evaluation = EvaluationHandler(settler=settler)
        self._dispatch = _dispatch_table(self.jobs, self.compute, self.evaluation, DataHandler(
            settler=settler, stats=stats), TransferHandler(settler=settler))
        self._policy_rngs: list = []
        self._inbox: dict[Address, list[SimResult]] = {}
        self._open_jobs: tuple = ()
        self._quotes: tuple = ()
        self._stacks: tuple[tuple[str, int], ...] = ()  # the IP graph's royalty stacks
        self._pool_keys: tuple[str, ...] = ()
        self._rules_view: RulesView | None = None
        self._market_view = MarketView(ticks=(), reputations=())

    # -- population --------------------------------------------------------------------------
    @property
    def tick(self) -> int:
        """The current tick (0 until the first `begin_tick`; genesis runs at 0)."""
        return self.clock.tick

    @property
    def participants(self) -> list[Participant]:
        return self.population.participants

    def add(self, participant: Participant) -> None:
        """Admit a participant (in index order: 0, 1, 2, ...).

        Raises:
            EconomyError: out of index order, or an address already taken.
        """
        self.population.add(participant)
        self._policy_rngs.append(self.seeds.rng(Stream.POLICY, participant.index))
        if participant.role is Role.CUSTOMER:
            self.demand.add_customer(participant.address, participant.index)

    def fault(self, participant: Participant, message: str) -> None:
        """Record a fault of `participant`'s policy outside a decision (its `reset`, say): a
        `policy_fault` event now, counted in the current tick."""
        self.stats.faults += 1
        self.last_fault = message
        self.settler.event("policy_fault", participant.address, detail=message[:500])

    def _group_of(self, address: Address) -> str:
        return self.population.by_address[address].group

    def genesis(
        self,
        allocations: Sequence[Allocation],
        twin_owner: Address,
        *,
        licence_per_cu: int = 0,
        assets: Sequence[AssetGrant] = (),
        pools: Sequence[PoolGrant] = (),
    ) -> None:
        """Tick 0: mint the initial allocations, register the twin for its owner (with its
        licence per CU), stake the compute providers' minimum, register the IP assets and
        their links, and open the data pools; then record tick 0.

        Raises:
            GenesisError: a genesis action the ledger refused (the scenario is inconsistent).
        """
        run_genesis(self.settler, self.population, self.protocol, self.twin,
                    self.population.by_address[twin_owner].identity, allocations=allocations,
                    licence_per_cu=licence_per_cu, min_stake=self.rules.compute.min_stake,
                    assets=assets, pools=pools)
        self._stacks = royalty_stacks(self.ledger, [a.key for a in assets])
        self._pool_keys = tuple(p.key for p in pools)
        self._close_tick(0)

    # -- the tick ----------------------------------------------------------------------------
    def step(self) -> None:
        """One market period: world, observe, act, resolve, clear, account."""
        self.begin_tick()
        self.resolve([(p, p.decide(self.observe(p))) for p in self.participants])
        self.end_tick()

    def begin_tick(self) -> None:
        """Phase 1: advance the clock; expired leases return; each customer's new requests.

        Raises:
            EconomyError: the previous tick has not ended (`end_tick`).
        """
        if self._open:
            raise EconomyError(f"tick {self.tick} has begun and not ended; call end_tick() "
                               "before begin_tick()")
        self._open = True
        tick = self.clock.tick = self.clock.tick + 1
        self.ledger.set_time(tick)
        self.compute.market.begin_tick(tick)
        # every job posted in one tick is judged under the same conditions in the twin (and
        # the twin's per-seed precomputation is shared)
        self.jobs.shift_seed = self.seeds.integer(Stream.SHIFT, tick)
        self.stats.orders = self.demand.draw(self._baseline_ms, tick)
        self._inbox = self.compute.take_results()
        self._open_jobs = self.jobs.book.open_jobs()
        self._quotes = self.compute.market.book.quotes()
        self._rules_view = self._build_rules_view()
        self._market_view = MarketView(ticks=self.history.view,
                                       reputations=self.jobs.book.reputations())

    def _baseline_ms(self, order: object) -> int:
        """What a customer's operation takes on a request without a service: the twin's
        baseline plan's time at L1, in this tick's conditions."""
        twin = self.twin
        return self.tiers.evaluate(twin.solve(order, twin.baseline_method), order,
                                   self.jobs.shift_seed).time_ms

    def _build_rules_view(self) -> RulesView:
        return rules_view(self.rules, self.config, self.ledger,
                          licence_per_cu=self.compute.market.licence(),
                          tiers=[str(t) for t in self.twin.tiers], stacks=self._stacks,
                          pools=self._pool_keys)

    def observe(self, p: Participant) -> Observation:
        """Phase 2: what `p` sees now (the same until the next `begin_tick`)."""
        address = p.address
        results = self._inbox.get(address)
        ledger = self.ledger
        return Observation(
            tick=self.clock.tick, address=address, role=p.role,
            balance=ledger.balance_of(address), nonce=ledger.nonce_of(address),
            orders=self.demand.open_orders(address), jobs=self.jobs.book.jobs_of(address),
            open_jobs=self._open_jobs, quotes=self._quotes,
            results=tuple(results) if results else (),
            evaluators=self.population.evaluators, planner=self.planner,
            rng=self._policy_rngs[p.index],
            leases=self.compute.market.book.leases_of(address),
            compute_clearing=self.rules.compute.clearing,
            stake=ledger.stake_of(address) if p.role is Role.COMPUTE else 0,
            rules=self._rules_view or self._build_rules_view(), market=self._market_view,
            outcomes=self.history.outcomes_of(address),
            pnl=PnL.of(self.flows.pnl.get(address)), baselines=self.demand.baselines(address),
            evaluator_quotes=self.evaluation.quotes,
        )

    def resolve(self, decisions: Sequence[tuple[Participant, Decision]]) -> None:
        """Phases 4-5: apply every decision in a seeded random order, then clear the markets.

        Raises:
            EconomyError: no tick has begun (`begin_tick`).
        """
        self._require_open("resolve")
        for i in self._market_rng.permutation(len(decisions)).tolist():
            participant, decision = decisions[i]
            if decision.fault is not None:
                self.fault(participant, decision.fault)
                continue
            for action in decision.actions:
                self._apply(participant, action)
        tick = self.clock.tick
        self.jobs.clear(tick)
        self.compute.market.clear(tick, self.compute.run)

    def end_tick(self) -> None:
        """Phase 6: emissions, accounts, records and (debug) the ledger's invariants.

        Raises:
            EconomyError: no tick has begun (`begin_tick`).
        """
        self._require_open("end_tick")
        try:
            self._close_tick(self.clock.tick)
        finally:
            self._open = False

    def _require_open(self, phase: str) -> None:
        if not self._open:
            raise EconomyError(f"{phase}() needs an open tick; call begin_tick() first")

    # -- actions -----------------------------------------------------------------------------
    def _apply(self, p: Participant, action: A.Action) -> None:
        name, ref = type(action).__name__, ""
        try:
            action = take_in(action, self._plan_type)  # a plain copy, or refused
            ref = str(getattr(action, "job_id", ""))
            ok = self._dispatch[type(action)](p, action)
        except (ActionRejected, ChainError) as e:  # a market rule; a malformed address
            self.settler.event("action_rejected", p.address, ref=ref,
                               detail=f"{name}:{e.code}: {e}"[:500])
            ok = False
        except Exception as e:  # a value no rule foresaw (wrong field types): the policy's fault
            if self.config.strict:
                raise
            self.settler.event("action_rejected", p.address, ref=ref, detail=(
                f"{name}:malformed: {type(e).__name__}: {e}"[:500]))
            ok = False
        counts = self.actions_by_role.get(p.role.value)
        if counts is None:
            counts = self.actions_by_role[p.role.value] = [0, 0]
        counts[0] += 1
        if not ok:
            self.stats.rejected_actions += 1
            counts[1] += 1

    # -- accounting --------------------------------------------------------------------------
    def _close_tick(self, tick: int) -> None:
        self.emissions.close_tick(tick)
        ledger = self.ledger
        balances = [ledger.balance_of(p.address) for p in self.participants]
        self._flows.extend(self.flows.close_tick(tick))
        s = self.stats
        self._ticks.append(tick_row(s, tick=tick, open_jobs=len(self.jobs.book),
                                    balances=balances, ledger=ledger,
                                    flows=self.flows.last_tick).values())
        self.history.close_tick(
            tick, jobs_posted=s.jobs_posted, completed=s.completed, rejected=s.rejected,
            expired=s.expired, cu_offered=self.compute.market.book.capacity(),
            cu_leased=s.cu_leased, cu_value=s.leased_value)
        every = self.config.agents_every
        if every and tick % every == 0:
            self._record_agents(tick, balances)
        self.stats.fold_into(self.totals)
        self.stats.reset()
        if self.config.debug_invariants:
            ledger.check_invariants()

    def _record_agents(self, tick: int, balances: list[int]) -> None:
        nonce_of = self.ledger.nonce_of
        self._agents.extend(
            AgentRow(tick, p.index, p.role.value, p.label, p.group, p.address, b,
                     nonce_of(p.address)).values()
            for p, b in zip(self.participants, balances, strict=True))

    def finish(self) -> dict:
        """Close the run: record final balances and the jobs still open, flush every table,
        return the summary."""
        every = self.config.agents_every
        tick = self.clock.tick
        if not every or tick % every:
            self._record_agents(tick, [self.ledger.balance_of(p.address)
                                       for p in self.participants])
        self.job_log.close(self.jobs.book.views)
        self.recorder.close()
        return self.summary()

    def run_summary(self) -> RunSummary:
        """Headline metrics of the run so far, typed."""
        return RunSummary.collect(
            tick=self.clock.tick, participants=self.participants, ledger=self.ledger,
            totals=self.totals, flows=self.flows, quality=self.welfare.quality,
            awards_by_group=self.welfare.awards, actions_by_role=self.actions_by_role,
            rules=self.rules, events_sha256=self.settler.events.sha256,
            orders_lapsed=self.demand.lapsed)

    def summary(self) -> dict:
        """Headline metrics of the run so far (exact integers for money, base units)."""
        return self.run_summary().as_dict()


def _dispatch_table(*handlers: Handler) -> dict[type, ActionHandler]:
    """Action type -> the one handler function that takes it."""
    table: dict[type, ActionHandler] = {}
    for handler in handlers:
        for kind, fn in handler.handlers().items():
            if kind in table:
                raise EconomyError(f"two handlers take {kind.__name__}")
            table[kind] = fn
    return table
