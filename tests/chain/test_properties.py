"""Property tests of the MemoryLedger: random action sequences from a small cast.

A `RuleBasedStateMachine` drives every op kind from random actors (valid and invalid: wrong
actor, wrong job or lease state, amounts beyond balances, stakes and the supply cap, overflowing
products, bad nonces, expired deadlines, wrong chain ids, wrong signers, replays) while the
clock advances, under protocol rules drawn per example (fees, both royalty modes, the evaluator
paid on reject or not, min expiry, min stake, slash reward, data fee), and after every step
checks the ledger's invariants from the outside: conservation; events reconstruct balances;
jobs, leases and stakes move only along their rules and their money exactly (paid + refunded =
locked, claims within locks, no double payout); the compute module holds exactly open locks
plus stakes; royalty splits sum to the service paid and follow chain.royalty; data uses split
exactly and consume each usage record once; the asset graph stays acyclic and within its
bounds. At teardown it replays the action log on a fresh ledger: same state hash, same events.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chain import (
    ASSETS_ADDRESS,
    BURN_ADDRESS,
    COMPUTE_ADDRESS,
    ESCROW_ADDRESS,
    TERMINAL,
    ClaimLease,
    ClaimRefund,
    CloseLease,
    CompleteJob,
    Contribute,
    CreateJob,
    CreatePool,
    Flow,
    FundJob,
    Identity,
    Intent,
    JobState,
    LeaseState,
    LedgerParams,
    LinkAsset,
    MemoryLedger,
    Mint,
    OpenLease,
    Post,
    PublishVersion,
    RegisterAsset,
    RegisterTwin,
    RejectJob,
    SetLicence,
    SetProvider,
    SignedIntent,
    Slash,
    Stake,
    SubmitJob,
    Transfer,
    TransferTwin,
    Unstake,
    UseData,
    job_id_for,
    sign,
)
from chain.royalty import MAX_ANCESTORS, MAX_PARENTS, ancestors, royalty_payouts

CAST = [Identity.derive(77, i, label=name)
        for i, name in enumerate(("protocol", "treasury", "ann", "ben", "cat"))]
PROTOCOL, TREASURY = CAST[0], CAST[1]
ADDRESSES = [i.address for i in CAST]
MODULES = [BURN_ADDRESS, ESCROW_ADDRESS, COMPUTE_ADDRESS, ASSETS_ADDRESS]
TARGETS = [*ADDRESSES, *MODULES]
TWIN_KEYS = ("warehouse/a", "fleet/b", "turbine/c")
VERSIONS = ("1", "2", "3", "4")
#: Asset keys: the twins' keys (for twin assets) and keys of data and policy assets.
ASSET_KEYS = ("warehouse/a", "fleet/b", "data/x", "data/y", "policy/p", "policy/q", "policy/r")
ASSET_KINDS = ("data", "policy", "twin", "model")
#: The fixed graph the royalty_job rule builds: a diamond over a root, and a policy below it.
DIAMOND = ("royalty/root", "royalty/left", "royalty/right", "royalty/policy")
POOL_KEYS = ("pool/x", "pool/y")
RECORDS = tuple(bytes([i]) * 32 for i in range(1, 7))
AUTH_CODES = {"wrong_domain", "bad_signature", "bad_nonce", "deadline_passed"}
ESCROW_PAYOUTS = {Flow.SERVICE, Flow.PLATFORM_FEE, Flow.EVALUATOR_FEE, Flow.ROYALTY, Flow.DUST}
LEASE_PAYOUTS = {Flow.COMPUTE, Flow.LICENCE, Flow.TRANSFER_FEE, Flow.BURN}  # from the lock
DATA_FLOWS = {Flow.DATA_FEE, Flow.POOL_FEE, Flow.DATA, Flow.DUST}
BOGUS_JOB = 424242
BPS = 10_000

#: Listed escrow transitions (a step may also leave the state as it was).
ALLOWED = {
    None: {JobState.OPEN},
    JobState.OPEN: {JobState.OPEN, JobState.FUNDED, JobState.EXPIRED},
    JobState.FUNDED: {JobState.FUNDED, JobState.SUBMITTED, JobState.COMPLETED,
                      JobState.REJECTED, JobState.EXPIRED},
    JobState.SUBMITTED: {JobState.SUBMITTED, JobState.COMPLETED, JobState.REJECTED,
                         JobState.EXPIRED},
    JobState.COMPLETED: {JobState.COMPLETED},
    JobState.REJECTED: {JobState.REJECTED},
    JobState.EXPIRED: {JobState.EXPIRED},
}
LEASE_ALLOWED = {
    LeaseState.OPEN: {LeaseState.OPEN, LeaseState.CLAIMED, LeaseState.EXPIRED},
    LeaseState.CLAIMED: {LeaseState.CLAIMED},
    LeaseState.EXPIRED: {LeaseState.EXPIRED},
}

actors = st.sampled_from(CAST)
targets = st.sampled_from(TARGETS)
small = st.integers(1, 1_500)
amounts = st.one_of(small, small, small, st.integers(0, 10**8), st.just(0))
#: how an action is authenticated: mostly correctly, sometimes each way of getting it wrong
auths = st.sampled_from(["ok"] * 10 + ["nonce_low", "nonce_high", "expired", "wrong_chain",
                                       "wrong_signer"])
picks = st.integers(0, 64)  # which known job or lease (64: an id that does not exist)
bps = st.one_of(st.just(0), st.integers(0, 10_000))
royalty_bps = st.one_of(st.sampled_from([0, 500, 2_500, 10_000, 10_001]), st.integers(0, 4_000))
huge = st.sampled_from([2**128, 2**255, 2**256 - 1])


class LedgerMachine(RuleBasedStateMachine):
    SIGNATURES = "off"

    # -- set-up ----------------------------------------------------------------------------
    @initialize(
        fee=bps, burn=bps, platform=st.integers(0, 5_000), evaluator=st.integers(0, 5_000),
        cap=st.integers(10**4, 10**6),
        genesis=st.lists(st.integers(1_000, 5_000), min_size=len(CAST), max_size=len(CAST)),
        royalty_mode=st.sampled_from(["lrp", "lap"]), paid_on_reject=st.booleans(),
        min_expiry=st.sampled_from([1, 1, 3]), min_stake=st.sampled_from([0, 0, 100]),
        slash_reward=bps, data_fee=st.sampled_from([0, 0, 250, 10_000]),
    )
    def genesis(self, fee, burn, platform, evaluator, cap, genesis, royalty_mode,
                paid_on_reject, min_expiry, min_stake, slash_reward, data_fee):
        self.params = LedgerParams(
            transfer_fee_bps=fee, fee_burn_bps=burn, platform_fee_bps=platform,
            evaluator_fee_bps=evaluator, supply_cap=cap, signatures=self.SIGNATURES,
            royalty_mode=royalty_mode, evaluator_paid_on_reject=paid_on_reject,
            min_expiry=min_expiry, min_stake=min_stake, slash_reward_bps=slash_reward,
            data_fee_bps=data_fee,
        )
        self.ledger = self._new_ledger()
        self.mirrors = self._new_mirrors()
        self.log: list[tuple[str, object]] = []
        self.events: list[tuple] = []
        self.net: dict[str, int] = defaultdict(int)  # Σ incoming - Σ outgoing event amounts
        # money per job / lease ref, by direction
        self.paid_out: dict[str, int] = defaultdict(int)
        self.refunded: dict[str, int] = defaultdict(int)
        self.escrowed: dict[str, int] = defaultdict(int)
        self.lease_in: dict[str, int] = defaultdict(int)
        self.lease_paid: dict[str, int] = defaultdict(int)
        self.lease_back: dict[str, int] = defaultdict(int)
        self.staked: dict[str, int] = defaultdict(int)  # by stake, unstake and slash events
        self.records: set[str] = set()  # usage records consumed, from data_used events
        self.units: dict[str, dict[str, int]] = defaultdict(dict)  # pool -> contributor units
        self.jobs: list[int] = []
        self.first_seen: dict[int, object] = {}
        self.prev_state: dict[int, JobState | None] = {}
        self.leases: list[int] = []
        self.lease_seen: dict[int, object] = {}
        self.accepted: list[SignedIntent] = []
        self._advance(1)
        for who, amount in zip(CAST, genesis, strict=True):
            if amount:
                self._act(PROTOCOL, Mint(to=who.address, amount=amount, flow="genesis"), "ok")

    def _new_ledger(self) -> MemoryLedger:
        return MemoryLedger(self.params, protocol=PROTOCOL.address, treasury=TREASURY.address)

    def _new_mirrors(self) -> list:
        """Other backends that execute every action alongside the reference (test_parity)."""
        return []

    # -- executing and checking one action --------------------------------------------------
    def _advance(self, tick: int) -> None:
        self.ledger.set_time(tick)
        self.log.append(("time", tick))
        for mirror in self.mirrors:
            mirror.set_time(tick)

    def _act(self, who: Identity, op, auth: str = "ok"):
        ledger = self.ledger
        nonce, deadline, chain_id, signer = (ledger.nonce_of(who.address), ledger.now + 3,
                                             ledger.params.chain_id, who)
        expected = None
        if auth == "nonce_low" and nonce == 0:
            auth = "nonce_high"
        if auth == "nonce_low":
            nonce, expected = nonce - 1, "bad_nonce"
        elif auth == "nonce_high":
            nonce, expected = nonce + 1, "bad_nonce"
        elif auth == "expired":
            deadline, expected = ledger.now - 1, "deadline_passed"
        elif auth == "wrong_chain":
            chain_id, expected = chain_id + 1, "wrong_domain"
        elif auth == "wrong_signer" and self.SIGNATURES == "verify":
            signer = CAST[(CAST.index(who) + 1) % len(CAST)]
            expected = "bad_signature"
        intent = Intent(sender=who.address, nonce=nonce, deadline=deadline, op=op)
        if self.SIGNATURES == "verify":
            signature = sign(intent, signer, ledger.domain).signature
        else:
            signature = None
        return self._run(SignedIntent(intent=intent, signature=signature, chain_id=chain_id),
                         expected)

    def _view(self):
        ledger = self.ledger
        return (ledger.balances(), ledger.minted, ledger.burned,
                {j: ledger.job(j) for j in self.jobs}, {k: ledger.twin(k) for k in TWIN_KEYS},
                {i: ledger.lease(i) for i in self.leases},
                {a: ledger.stake_of(a) for a in ADDRESSES},
                {k: ledger.asset(k) for k in (*ASSET_KEYS, *DIAMOND)},
                {k: ledger.pool(k) for k in POOL_KEYS})

    def _run(self, signed: SignedIntent, expected_auth_failure: str | None):
        ledger, sender, op = self.ledger, signed.intent.sender, signed.intent.op
        nonces = {a: ledger.nonce_of(a) for a in ADDRESSES}
        view, state_hash = self._view(), ledger.state_hash()

        result = ledger.execute(signed)
        self.log.append(("exec", signed))
        events = ledger.drain_events()
        self._absorb(events)
        for mirror in self.mirrors:  # same decision, same event rows
            got = mirror.execute(signed)
            assert (got.ok, got.code) == (result.ok, result.code), (mirror.backend, got, result)
            assert mirror.drain_events() == events, mirror.backend

        after = {a: ledger.nonce_of(a) for a in ADDRESSES}
        if expected_auth_failure is not None:
            # authentication failures change nothing at all, not even the nonce
            assert (result.ok, result.code) == (False, expected_auth_failure), result
            assert after == nonces
            assert ledger.state_hash() == state_hash
        else:
            assert result.code not in AUTH_CODES, result
            nonces[sender] += 1  # exactly one per authenticated action
            assert after == nonces
            self.accepted.append(signed)
        if result.ok:
            assert all(e[2] != "rejected" for e in events), events
            self._check_applied(sender, op, events)
        else:
            # one `rejected` event naming op kind and code; nothing else changes
            assert [(e[2], e[3], e[5], e[8]) for e in events] == [
                ("rejected", sender, 0, f"{op.KIND}:{result.code}")]
            assert self._view() == view
        return result

    def _absorb(self, events) -> None:
        for event in events:
            self.events.append(event)
            (_tick, _tx, kind, payer, payee, amount, flow, ref, detail) = event
            if kind == "slashed":
                self.staked[payer] -= int(detail)
            elif kind == "data_used":
                assert detail not in self.records, f"usage record {detail} consumed twice"
                self.records.add(detail)
            if not amount:
                continue
            self.net[payer] -= amount
            self.net[payee] += amount
            if payer == ESCROW_ADDRESS and flow in ESCROW_PAYOUTS:
                self.paid_out[ref] += amount
            elif payer == ESCROW_ADDRESS and flow == Flow.REFUND:
                self.refunded[ref] += amount
            elif payee == ESCROW_ADDRESS and flow == Flow.ESCROW_FUND:
                self.escrowed[ref] += amount
            elif payee == COMPUTE_ADDRESS and flow == Flow.LEASE_LOCK:
                self.lease_in[ref] += amount
            elif payer == COMPUTE_ADDRESS and flow in LEASE_PAYOUTS:
                self.lease_paid[ref] += amount
            elif payer == COMPUTE_ADDRESS and flow == Flow.LEASE_REFUND:
                self.lease_back[ref] += amount
            elif payee == COMPUTE_ADDRESS and flow == Flow.STAKE:
                self.staked[payer] += amount
            elif payer == COMPUTE_ADDRESS and flow == Flow.UNSTAKE:
                self.staked[payee] -= amount

    def _owner_of_asset(self, asset):
        if asset.kind == "twin":
            return self.ledger.twin(asset.key).owner
        return asset.owner

    def _check_applied(self, sender, op, events) -> None:
        """What an applied action's money rows must be, computed from the outside."""
        money = [(e[3], e[4], e[5], e[6]) for e in events if e[5]]
        if isinstance(op, CompleteJob):
            job, params = self.ledger.job(op.job_id), self.params
            platform = job.budget * params.platform_fee_bps // BPS
            if params.evaluator_paid_on_reject:
                fee, service = job.eval_deposit, job.budget - platform
            else:
                fee = job.budget * params.evaluator_fee_bps // BPS
                service = job.budget - platform - fee
            rows = [(ESCROW_ADDRESS, self.ledger.treasury, platform, Flow.PLATFORM_FEE),
                    (ESCROW_ADDRESS, job.evaluator, fee, Flow.EVALUATOR_FEE)]
            split = [r for r in money if r[3] in (Flow.ROYALTY, Flow.DUST, Flow.SERVICE)]
            # royalties, dust and the provider's part sum to the service, to the base unit
            assert sum(r[2] for r in split) == service
            if job.policy:
                up = ancestors(job.policy, self.ledger.asset)
                payees = {self._owner_of_asset(self.ledger.asset(k)) for k in up}
                assert {r[1] for r in split if r[3] == Flow.ROYALTY} <= payees
                receiver, royalties, dust = royalty_payouts(
                    service, job.policy, params.royalty_mode, self.ledger.asset,
                    self._owner_of_asset)
                rows += [(ESCROW_ADDRESS, owner, amount, Flow.ROYALTY)
                         for owner, amount in royalties]
                rows += [(ESCROW_ADDRESS, self.ledger.treasury, dust, Flow.DUST),
                         (ESCROW_ADDRESS, job.provider, receiver, Flow.SERVICE)]
            else:
                rows.append((ESCROW_ADDRESS, job.provider, service, Flow.SERVICE))
            assert money == [r for r in rows if r[2]]
        elif isinstance(op, UseData):
            pool = self.ledger.pool(op.pool)
            price = op.units * pool.price_per_unit
            fee = price * self.params.data_fee_bps // BPS
            owner_fee = price * pool.owner_fee_bps // BPS
            rest = price - fee - owner_fee
            parts = [(sender, a, rest * u // pool.total_units, Flow.DATA)
                     for a, u in pool.contributors]
            rows = [(sender, self.ledger.treasury, fee, Flow.DATA_FEE),
                    (sender, pool.owner, owner_fee, Flow.POOL_FEE), *parts,
                    (sender, self.ledger.treasury, rest - sum(p[2] for p in parts), Flow.DUST)]
            assert money == [r for r in rows if r[2]]
            assert sum(r[2] for r in money) == price
        elif isinstance(op, Contribute):
            units = self.units[op.pool]
            units[sender] = units.get(sender, 0) + op.units

    # -- picking known jobs and leases, and who plays a role --------------------------------
    def _job(self, pick: int) -> int:
        if pick == 64 or not self.jobs:
            return BOGUS_JOB
        return self.jobs[pick % len(self.jobs)]

    def _lease(self, pick: int) -> int:
        if pick == 64 or not self.leases:
            return BOGUS_JOB
        return self.leases[pick % len(self.leases)]

    @staticmethod
    def _cast(address, fallback: Identity) -> Identity:
        return CAST[ADDRESSES.index(address)] if address in ADDRESSES else fallback

    def _role(self, job_id: int, role: str, actor: Identity, right: bool) -> Identity:
        """The job's client/provider/evaluator when `right` and it is one of the cast."""
        job = self.ledger.job(job_id)
        address = getattr(job, role, None) if job is not None else None
        return self._cast(address, actor) if right else actor

    def _created(self, ids: list[int], new_id: int, exists) -> None:
        """Keep the picks on real jobs or leases: forget an id that was not created."""
        if exists(new_id) is None:
            ids.remove(new_id)

    # -- rules: token ------------------------------------------------------------------------
    @rule(who=actors, to=targets, amount=amounts, flow=st.sampled_from(["payment", "compute"]),
          pick=picks, auth=auths)
    def transfer(self, who, to, amount, flow, pick, auth):
        self._act(who, Transfer(to=to, amount=amount, flow=flow, ref=self._job(pick) % 7), auth)

    @rule(who=st.one_of(st.just(PROTOCOL), actors), to=targets, amount=amounts, auth=auths)
    def mint(self, who, to, amount, auth):
        self._act(who, Mint(to=to, amount=amount), auth)

    # -- rules: job escrow -------------------------------------------------------------------
    @rule(who=actors, evaluator=st.sampled_from([*ADDRESSES, BURN_ADDRESS]),
          assigner=st.sampled_from([BURN_ADDRESS, *ADDRESSES]),
          budget=st.one_of(st.integers(1, 800), amounts),
          expires_in=st.one_of(st.integers(-1, 6), st.integers(7, 40)), auth=auths)
    def create_job(self, who, evaluator, assigner, budget, expires_in, auth):
        job_id = job_id_for(who.address, self.ledger.nonce_of(who.address))
        if job_id not in self.jobs:
            self.jobs.append(job_id)
            self.prev_state[job_id] = None
        self._act(who, CreateJob(evaluator=evaluator, assigner=assigner, budget=budget,
                                 expires_at=max(0, self.ledger.now + expires_in)), auth)
        if self.ledger.job(job_id) is None:  # not created: keep the picks on real jobs
            self.jobs.remove(job_id)
            del self.prev_state[job_id]

    @precondition(lambda self: self.jobs)
    @rule(who=actors, right=st.booleans(), pick=picks, delta=st.sampled_from([0, 0, 0, 1, -1]),
          auth=auths)
    def fund_job(self, who, right, pick, delta, auth):
        job_id = self._job(pick)
        job = self.ledger.job(job_id)
        budget = max(0, (job.budget if job else 1) + delta)
        self._act(self._role(job_id, "client", who, right),
                  FundJob(job_id=job_id, expected_budget=budget), auth)

    @precondition(lambda self: self.jobs)
    @rule(who=actors, right=st.booleans(), pick=picks, provider=targets,
          budget=st.sampled_from(["keep", "keep", "lower", "one", "higher"]), auth=auths)
    def set_provider(self, who, right, pick, provider, budget, auth):
        job_id = self._job(pick)
        job = self.ledger.job(job_id)
        current = job.budget if job else 1
        new_budget = {"keep": 0, "lower": max(1, current * 2 // 3), "one": 1,
                      "higher": current + 1}[budget]
        role = "assigner" if right and who.address != PROTOCOL.address else "client"
        self._act(self._role(job_id, role, who, right),
                  SetProvider(job_id=job_id, provider=provider, budget=new_budget), auth)

    @precondition(lambda self: self.jobs)
    @rule(who=actors, right=st.booleans(), pick=picks,
          policy=st.sampled_from(["", "", *ASSET_KEYS, DIAMOND[3], "policy/none"]), auth=auths)
    def submit_job(self, who, right, pick, policy, auth):
        job_id = self._job(pick)
        self._act(self._role(job_id, "provider", who, right),
                  SubmitJob(job_id=job_id, deliverable=bytes([pick]) * 32, policy=policy), auth)

    @precondition(lambda self: self.jobs)
    @rule(who=actors, right=st.booleans(), pick=picks, auth=auths)
    def complete_job(self, who, right, pick, auth):
        job_id = self._job(pick)
        self._act(self._role(job_id, "evaluator", who, right), CompleteJob(job_id=job_id), auth)

    @precondition(lambda self: self.jobs)
    @rule(who=actors, right=st.booleans(), pick=picks, auth=auths)
    def reject_job(self, who, right, pick, auth):
        job_id = self._job(pick)
        self._act(self._role(job_id, "evaluator", who, right), RejectJob(job_id=job_id), auth)

    @precondition(lambda self: self.jobs)
    @rule(who=actors, pick=picks, auth=auths)
    def claim_refund(self, who, pick, auth):
        self._act(who, ClaimRefund(job_id=self._job(pick)), auth)

    @precondition(lambda self: self.jobs)
    @rule(pick=picks, end=st.sampled_from(["complete", "reject"]), other=actors,
          policy=st.sampled_from(["", *ASSET_KEYS, DIAMOND[3]]), auth=auths)
    def progress_job(self, pick, end, other, policy, auth):
        """The next step a well-behaved party would take on a job (keeps jobs moving)."""
        job_id = self._job(pick)
        job = self.ledger.job(job_id)
        if job is None or job.client not in ADDRESSES:
            return
        client = CAST[ADDRESSES.index(job.client)]
        if job.state not in TERMINAL and self.ledger.now >= job.expires_at:
            self._act(other, ClaimRefund(job_id=job_id), auth)
        elif job.state == JobState.OPEN:
            self._act(client, FundJob(job_id=job_id, expected_budget=job.budget), auth)
        elif job.state in (JobState.FUNDED, JobState.SUBMITTED) and job.provider is None:
            provider = other if other is not client else CAST[(CAST.index(other) + 1) % 5]
            self._act(client, SetProvider(job_id=job_id, provider=provider.address), auth)
        elif job.state == JobState.FUNDED:
            provider = CAST[ADDRESSES.index(job.provider)]
            self._act(provider, SubmitJob(job_id=job_id, deliverable=b"\x02" * 32,
                                          policy=policy), auth)
        else:
            evaluator = CAST[ADDRESSES.index(job.evaluator)]
            op = CompleteJob if end == "complete" else RejectJob
            self._act(evaluator, op(job_id=job_id), auth)

    # -- rules: twin registry, posts, time, replays ----------------------------------------------
    @rule(who=actors, key=st.sampled_from([*TWIN_KEYS, "noslash"]),
          version=st.sampled_from(VERSIONS), auth=auths)
    def register_twin(self, who, key, version, auth):
        self._act(who, RegisterTwin(key=key, version=version, spec_hash=bytes(32)), auth)

    def _owner_or(self, key: str, who: Identity, right: bool) -> Identity:
        twin = self.ledger.twin(key)
        return self._cast(twin.owner, who) if right and twin is not None else who

    @rule(who=actors, right=st.booleans(), key=st.sampled_from(TWIN_KEYS),
          version=st.sampled_from(VERSIONS), auth=auths)
    def publish_version(self, who, right, key, version, auth):
        before = self.ledger.twin(key)
        self._act(self._owner_or(key, who, right),
                  PublishVersion(key=key, version=version, spec_hash=b"\x01" * 32), auth)
        after = self.ledger.twin(key)
        if before is not None:  # history only grows at its end; old entries never change
            assert after.versions[: len(before.versions)] == before.versions
            assert len(after.versions) - len(before.versions) in (0, 1)
            assert len({v for v, _ in after.versions}) == len(after.versions)

    @rule(who=actors, right=st.booleans(), key=st.sampled_from(TWIN_KEYS),
          to=st.sampled_from([*ADDRESSES, *ADDRESSES, *MODULES]), auth=auths)
    def transfer_twin(self, who, right, key, to, auth):
        self._act(self._owner_or(key, who, right), TransferTwin(key=key, to=to), auth)

    @rule(who=actors, right=st.booleans(), key=st.sampled_from([*TWIN_KEYS, "nope/z"]),
          fee=st.one_of(st.integers(0, 6), huge), auth=auths)
    def set_licence(self, who, right, key, fee, auth):
        self._act(self._owner_or(key, who, right), SetLicence(key=key, fee_per_cu=fee), auth)

    @rule(who=actors, topic=st.sampled_from(["bid", "offer"]), ref=st.integers(0, 9), auth=auths)
    def post(self, who, topic, ref, auth):
        self._act(who, Post(topic=topic, ref=ref), auth)

    @rule(dt=st.integers(0, 10))
    def advance_time(self, dt):
        self._advance(self.ledger.now + dt)

    @rule(i=st.integers(0, 10**6))
    def replay_an_accepted_action(self, i):
        """An action whose nonce was consumed never executes again."""
        if self.accepted:
            self._run(self.accepted[i % len(self.accepted)], "bad_nonce")

    # -- rules: compute stakes and leases -----------------------------------------------------
    @rule(who=actors, amount=amounts, auth=auths)
    def stake(self, who, amount, auth):
        self._act(who, Stake(amount=amount), auth)

    @rule(who=actors, how=st.sampled_from(["all", "part", "over", "zero"]), auth=auths)
    def unstake(self, who, how, auth):
        staked = self.ledger.stake_of(who.address)
        amount = {"all": staked, "part": max(1, staked // 2), "over": staked + 1, "zero": 0}[how]
        self._act(who, Unstake(amount=amount), auth)

    @rule(who=st.one_of(st.just(PROTOCOL), actors), offender=actors,
          how=st.sampled_from(["all", "part", "over", "zero"]), beneficiary=targets,
          ref=st.integers(0, 3), auth=auths)
    def slash(self, who, offender, how, beneficiary, ref, auth):
        staked = self.ledger.stake_of(offender.address)
        amount = {"all": staked, "part": max(1, staked // 3), "over": staked + 1, "zero": 0}[how]
        self._act(who, Slash(offender=offender.address, amount=amount, beneficiary=beneficiary,
                             ref=ref), auth)

    @rule(who=actors, amount=st.integers(1, 400), slashed=st.integers(0, 500),
          beneficiary=actors, back=st.integers(0, 500))
    def stake_cycle(self, who, amount, slashed, beneficiary, back):
        """A stake, a slash of part of it (or more than it) by the protocol, an unstake."""
        self._act(who, Stake(amount=amount))
        if slashed:
            self._act(PROTOCOL, Slash(offender=who.address, amount=slashed,
                                      beneficiary=beneficiary.address, ref=slashed))
        if back:
            self._act(who, Unstake(amount=back))

    @rule(who=actors, provider=targets, twin=st.sampled_from([*TWIN_KEYS, "nope/z"]),
          cu=st.one_of(st.integers(0, 12), huge), price=st.one_of(st.integers(0, 20), huge),
          expires_in=st.integers(-1, 8), auth=auths)
    def open_lease(self, who, provider, twin, cu, price, expires_in, auth):
        lease_id = job_id_for(who.address, self.ledger.nonce_of(who.address))
        known = lease_id in self.leases
        if not known:
            self.leases.append(lease_id)
        self._act(who, OpenLease(provider=provider, twin=twin, cu=cu, price_per_cu=price,
                                 expires_at=max(0, self.ledger.now + expires_in)), auth)
        if not known:
            self._created(self.leases, lease_id, self.ledger.lease)

    @precondition(lambda self: self.leases)
    @rule(who=actors, right=st.booleans(), pick=picks,
          how=st.sampled_from(["all", "part", "none", "over"]), auth=auths)
    def claim_lease(self, who, right, pick, how, auth):
        lease_id = self._lease(pick)
        lease = self.ledger.lease(lease_id)
        locked = lease.cu if lease else 1
        cu = {"all": locked, "part": locked // 2, "none": 0, "over": locked + 1}[how]
        claimer = self._cast(lease.provider, who) if right and lease else who
        self._act(claimer, ClaimLease(lease_id=lease_id, cu=cu, receipt=bytes([pick]) * 32),
                  auth)

    @precondition(lambda self: self.leases)
    @rule(who=actors, pick=picks, auth=auths)
    def close_lease(self, who, pick, auth):
        self._act(who, CloseLease(lease_id=self._lease(pick)), auth)

    @rule(buyer=actors, provider=actors, twin=st.sampled_from(TWIN_KEYS), licence=st.integers(0, 3),
          cu=st.integers(1, 12), price=st.integers(0, 9), used=st.integers(0, 12),
          end=st.sampled_from(["claim", "close"]))
    def lease_cycle(self, buyer, provider, twin, licence, cu, price, used, end):
        """A whole lease, each step by the right party: a twin with a licence, a stake above
        the minimum, a lease, then a claim of `used` (within the lock) or a close after expiry."""
        if self.ledger.twin(twin) is None:
            self._act(provider, RegisterTwin(key=twin, version="1", spec_hash=bytes(32)))
        owner = self._cast(self.ledger.twin(twin).owner, provider)
        self._act(owner, SetLicence(key=twin, fee_per_cu=licence))
        if self.ledger.stake_of(provider.address) < self.params.min_stake:
            self._act(provider, Stake(amount=self.params.min_stake))
        lease_id = job_id_for(buyer.address, self.ledger.nonce_of(buyer.address))
        self.leases.append(lease_id)
        self._act(buyer, OpenLease(provider=provider.address, twin=twin, cu=cu,
                                   price_per_cu=price, expires_at=self.ledger.now + 2))
        self._created(self.leases, lease_id, self.ledger.lease)
        if self.ledger.lease(lease_id) is None:
            return
        if end == "claim":
            self._act(provider, ClaimLease(lease_id=lease_id, cu=min(used, cu),
                                           receipt=b"\x07" * 32))
        else:
            self._advance(self.ledger.now + 2)
            self._act(buyer, CloseLease(lease_id=lease_id))

    # -- rules: the royalty graph --------------------------------------------------------------
    @rule(who=actors, right=st.booleans(), key=st.sampled_from(ASSET_KEYS),
          kind=st.sampled_from(ASSET_KINDS), share=royalty_bps, auth=auths)
    def register_asset(self, who, right, key, kind, share, auth):
        if kind == "twin":
            who = self._owner_or(key, who, right)
        self._act(who, RegisterAsset(key=key, kind=kind, content_hash=key.encode(),
                                     royalty_bps=share), auth)

    @rule(who=actors, right=st.booleans(), child=st.sampled_from(ASSET_KEYS),
          parent=st.sampled_from([*ASSET_KEYS, "policy/none"]), auth=auths)
    def link_asset(self, who, right, child, parent, auth):
        asset = self.ledger.asset(child)
        if right and asset is not None:
            who = self._cast(asset.owner, who)
        self._act(who, LinkAsset(child=child, parent=parent), auth)

    @rule(owners=st.lists(actors, min_size=4, max_size=4),
          shares=st.lists(st.integers(0, 3_000), min_size=4, max_size=4),
          client=actors, evaluator=actors, provider=actors, budget=st.integers(1, 2_000),
          policy=st.sampled_from(DIAMOND), end=st.sampled_from(["complete", "reject"]))
    def royalty_job(self, owners, shares, client, evaluator, provider, budget, policy, end):
        """A diamond graph (root <- left, right <- policy), then a job through submission with
        one of its assets as the policy, completed or rejected by its evaluator: lrp pays the
        root along both paths, lap once."""
        for key, owner, share in zip(DIAMOND, owners, shares, strict=True):
            if self.ledger.asset(key) is None:
                self._act(owner, RegisterAsset(key=key, kind="data" if key != DIAMOND[3] else
                                               "policy", content_hash=b"", royalty_bps=share))
        for child, parent in ((1, 0), (2, 0), (3, 1), (3, 2)):
            asset = self.ledger.asset(DIAMOND[child])
            self._act(self._cast(asset.owner, owners[child]),
                      LinkAsset(child=DIAMOND[child], parent=DIAMOND[parent]))
        job_id = job_id_for(client.address, self.ledger.nonce_of(client.address))
        self.jobs.append(job_id)
        self.prev_state[job_id] = None
        self._act(client, CreateJob(evaluator=evaluator.address, assigner=BURN_ADDRESS,
                                    budget=budget, expires_at=self.ledger.now + 5))
        if self.ledger.job(job_id) is None:
            self.jobs.remove(job_id)
            del self.prev_state[job_id]
            return
        for who, op in ((client, FundJob(job_id=job_id, expected_budget=budget)),
                        (client, SetProvider(job_id=job_id, provider=provider.address)),
                        (provider, SubmitJob(job_id=job_id, deliverable=b"\x03" * 32,
                                             policy=policy)),
                        (evaluator, (CompleteJob if end == "complete" else RejectJob)(
                            job_id=job_id))):
            self.jobs_follow_listed_transitions()  # one transition at a time
            self._act(who, op)

    # -- rules: data pools ----------------------------------------------------------------------
    @rule(who=actors, key=st.sampled_from([*POOL_KEYS, ""]),
          price=st.one_of(st.integers(0, 9), huge),
          owner_fee=st.sampled_from([0, 500, 9_750, 10_000, 10_001]), auth=auths)
    def create_pool(self, who, key, price, owner_fee, auth):
        self._act(who, CreatePool(key=key, price_per_unit=price, owner_fee_bps=owner_fee), auth)

    @rule(who=actors, pool=st.sampled_from([*POOL_KEYS, "pool/none"]),
          content=st.sampled_from([b"", b"a", b"b", b"c", b"d"]),
          units=st.one_of(st.integers(0, 40), huge), auth=auths)
    def contribute(self, who, pool, content, units, auth):
        self._act(who, Contribute(pool=pool, content_hash=content, units=units), auth)

    @rule(who=actors, pool=st.sampled_from([*POOL_KEYS, "pool/none"]),
          units=st.one_of(st.integers(0, 30), huge),
          record=st.sampled_from([*RECORDS, b""]), ref=st.integers(0, 3), auth=auths)
    def use_data(self, who, pool, units, record, ref, auth):
        self._act(who, UseData(pool=pool, units=units, record=record, ref=ref), auth)

    @rule(owner=actors, users=st.lists(actors, min_size=1, max_size=3),
          contributors=st.lists(st.tuples(actors, st.integers(1, 30)), min_size=1, max_size=4),
          price=st.integers(0, 9), owner_fee=st.sampled_from([0, 700]),
          units=st.integers(1, 25), record=st.integers(7, 200))
    def data_cycle(self, owner, users, contributors, price, owner_fee, units, record):
        """A pool with a few contributions, then uses of it under fresh records."""
        key = POOL_KEYS[record % 2]
        self._act(owner, CreatePool(key=key, price_per_unit=price,
                                    owner_fee_bps=min(owner_fee, BPS - self.params.data_fee_bps)))
        for i, (who, n) in enumerate(contributors):
            self._act(who, Contribute(pool=key, content_hash=bytes([record, i]), units=n))
        for i, who in enumerate(users):
            self._act(who, UseData(pool=key, units=units,
                                   record=record.to_bytes(2, "big") + bytes([i]), ref=i))

    # -- invariants, after every step ---------------------------------------------------------
    @invariant()
    def supply_is_conserved(self):
        """check_invariants passes; Σ balances == total supply == minted - burned; none < 0."""
        ledger = self.ledger
        ledger.check_invariants()
        balances = ledger.balances()
        assert sum(balances.values()) == ledger.total_supply == ledger.minted - ledger.burned
        assert all(b > 0 for b in balances.values())
        assert ledger.minted <= ledger.params.supply_cap
        assert ledger.balance_of(ASSETS_ADDRESS) == 0

    @invariant()
    def events_reconstruct_balances(self):
        """Σ incoming - Σ outgoing event amounts of every address equals its balance."""
        balances = self.ledger.balances()
        for address in set(self.net) | set(balances):
            if address != BURN_ADDRESS:
                assert self.net[address] == self.ledger.balance_of(address), address
        assert -self.net[BURN_ADDRESS] == self.ledger.minted - self.ledger.burned

    @invariant()
    def jobs_follow_listed_transitions(self):
        """Each job moves only along listed transitions, terminal states absorb, its terms
        never change (its budget only lowered when its provider is named), and its money moved
        exactly as its state says: paid + refunded = escrowed, no double payout."""
        paid_on_reject = self.params.evaluator_paid_on_reject
        for job_id in self.jobs:
            job, prev = self.ledger.job(job_id), self.prev_state[job_id]
            if job is None:
                assert prev is None, f"job {job_id} disappeared"
                continue
            assert job.state in ALLOWED[prev], (prev, job.state)
            self.prev_state[job_id] = job.state
            first = self.first_seen.setdefault(job_id, job)
            assert (job.client, job.evaluator, job.assigner, job.expires_at) == (
                first.client, first.evaluator, first.assigner, first.expires_at)
            if first.provider is not None:
                assert (job.provider, job.budget) == (first.provider, first.budget)
            else:
                assert job.budget <= first.budget
                self.first_seen[job_id] = job
            ref = str(job_id)
            paid, refunded, escrowed = self.paid_out[ref], self.refunded[ref], self.escrowed[ref]
            deposit = job.budget * self.params.evaluator_fee_bps // BPS
            assert job.eval_deposit == (deposit if paid_on_reject and escrowed else 0)
            held = job.budget + job.eval_deposit
            if job.state == JobState.COMPLETED:
                assert paid == held and paid + refunded == escrowed
            elif job.state == JobState.REJECTED:
                assert paid == job.eval_deposit and paid + refunded == escrowed
            elif job.state == JobState.EXPIRED:
                assert paid == 0 and refunded == escrowed
            elif job.state in (JobState.FUNDED, JobState.SUBMITTED):
                assert paid == 0 and escrowed - refunded == held
            else:
                assert (paid, refunded, escrowed) == (0, 0, 0)
            if job.state in (JobState.SUBMITTED, JobState.COMPLETED) and job.policy:
                assert self.ledger.asset(job.policy) is not None

    @invariant()
    def leases_claim_within_their_locks(self):
        """A lease moves open -> claimed | expired and stays; its terms never change; its lock
        is paid out exactly once: a claim pays cu_used x (price + licence) <= the lock and
        returns the rest, a close returns it all."""
        for lease_id in self.leases:
            lease = self.ledger.lease(lease_id)
            first = self.lease_seen.setdefault(lease_id, lease)
            assert lease.state in LEASE_ALLOWED[first.state]
            assert (lease.buyer, lease.provider, lease.twin, lease.cu, lease.price_per_cu,
                    lease.licence_per_cu, lease.expires_at) == (
                first.buyer, first.provider, first.twin, first.cu, first.price_per_cu,
                first.licence_per_cu, first.expires_at)
            self.lease_seen[lease_id] = lease
            ref = str(lease_id)
            locked, paid, back = self.lease_in[ref], self.lease_paid[ref], self.lease_back[ref]
            assert locked == lease.locked
            assert lease.cu_used <= lease.cu
            if lease.state is LeaseState.OPEN:
                assert (paid, back, lease.cu_used) == (0, 0, 0)
            elif lease.state is LeaseState.CLAIMED:
                assert paid == lease.cu_used * (lease.price_per_cu + lease.licence_per_cu)
                assert paid + back == locked
            else:
                assert (paid, back, lease.cu_used) == (0, locked, 0)

    @invariant()
    def compute_holds_open_locks_and_stakes(self):
        """The compute module's balance is the open leases' locks plus the stakes, and each
        stake is what its stake, unstake and slash events say."""
        ledger = self.ledger
        locks = sum(le.locked for le in map(ledger.lease, self.leases)
                    if le.state is LeaseState.OPEN)
        stakes = sum(ledger.stake_of(a) for a in ADDRESSES)
        assert ledger.balance_of(COMPUTE_ADDRESS) == locks + stakes
        for address in ADDRESSES:
            assert ledger.stake_of(address) == self.staked[address] >= 0

    @invariant()
    def pools_count_their_contributions(self):
        """A pool's contributors hold exactly the units they contributed, first come first,
        at most MAX_CONTRIBUTORS of them."""
        for key in POOL_KEYS:
            pool = self.ledger.pool(key)
            if pool is not None:
                assert dict(pool.contributors) == self.units[key]
                assert len(pool.contributors) <= 64

    @invariant()
    def the_asset_graph_is_bounded(self):
        """No asset is its own ancestor; each has at most MAX_PARENTS parents and
        MAX_ANCESTORS ancestors whose shares stack to at most 10000 bps; children counts
        match the links."""
        ledger = self.ledger
        keys = [k for k in (*ASSET_KEYS, *DIAMOND) if ledger.asset(k) is not None]
        children = defaultdict(int)
        for key in keys:
            asset = ledger.asset(key)
            up = ancestors(key, ledger.asset)
            assert key not in up
            assert len(asset.parents) <= MAX_PARENTS and len(up) <= MAX_ANCESTORS
            assert sum(ledger.asset(k).royalty_bps for k in up) <= BPS
            for parent in asset.parents:
                children[parent] += 1
        assert {k: ledger.asset(k).children for k in keys} == {k: children[k] for k in keys}

    COMPARE_EVERY_STEP = True

    @invariant()
    def mirrors_agree(self):
        """Every backend holds the reference's balances, supply, nonces, jobs, twins, leases,
        stakes, assets, pools and state hash, and passes its own invariant checks."""
        if self.COMPARE_EVERY_STEP:
            self._compare_mirrors()

    def _full_view(self, ledger) -> tuple:
        return (ledger.balances(), ledger.total_supply, ledger.minted, ledger.burned,
                {a: ledger.nonce_of(a) for a in ADDRESSES},
                {j: ledger.job(j) for j in self.jobs}, {k: ledger.twin(k) for k in TWIN_KEYS},
                {i: ledger.lease(i) for i in self.leases},
                {a: ledger.stake_of(a) for a in ADDRESSES},
                {k: ledger.asset(k) for k in (*ASSET_KEYS, *DIAMOND)},
                {k: ledger.pool(k) for k in POOL_KEYS})

    def _compare_mirrors(self) -> None:
        if not self.mirrors:
            return
        reference, state_hash = self._full_view(self.ledger), self.ledger.state_hash()
        for mirror in self.mirrors:
            assert self._full_view(mirror) == reference, mirror.backend
            assert mirror.state_hash() == state_hash, mirror.backend
            mirror.check_invariants()

    # -- determinism ------------------------------------------------------------------------------
    def teardown(self):
        """Replaying the action log on a fresh ledger reproduces the state hash and events."""
        if not hasattr(self, "mirrors"):
            return
        self._compare_mirrors()
        fresh = self._new_ledger()
        for what, arg in self.log:
            if what == "time":
                fresh.set_time(arg)
            else:
                fresh.execute(arg)
        assert fresh.drain_events() == self.events
        assert fresh.state_hash() == self.ledger.state_hash()
        assert fresh.balances() == self.ledger.balances()


class VerifiedLedgerMachine(LedgerMachine):
    """The same machine with every action signed and verified (wrong signers included)."""

    SIGNATURES = "verify"


TestLedgerProperties = LedgerMachine.TestCase
TestLedgerProperties.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestVerifiedLedgerProperties = VerifiedLedgerMachine.TestCase
TestVerifiedLedgerProperties.settings = settings(
    max_examples=6, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
