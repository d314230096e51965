"""Property tests of the MemoryLedger: random action sequences from a small cast.

A `RuleBasedStateMachine` drives every op kind from random actors (valid and invalid: wrong
actor, wrong job state, amounts beyond balances and the supply cap, bad nonces, expired
deadlines, wrong chain ids, wrong signers, replays) while the clock advances, and after every
step checks the ledger's invariants from the outside. At teardown it replays the action log on
a fresh ledger: same state hash, same events.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chain import (
    BURN_ADDRESS,
    ESCROW_ADDRESS,
    TERMINAL,
    ClaimRefund,
    CompleteJob,
    CreateJob,
    Flow,
    FundJob,
    Identity,
    Intent,
    JobState,
    LedgerParams,
    MemoryLedger,
    Mint,
    Post,
    PublishVersion,
    RegisterTwin,
    RejectJob,
    SetProvider,
    SignedIntent,
    SubmitJob,
    Transfer,
    TransferTwin,
    job_id_for,
    sign,
)

CAST = [Identity.derive(77, i, label=name)
        for i, name in enumerate(("protocol", "treasury", "ann", "ben", "cat"))]
PROTOCOL, TREASURY = CAST[0], CAST[1]
ADDRESSES = [i.address for i in CAST]
TARGETS = [*ADDRESSES, BURN_ADDRESS, ESCROW_ADDRESS]
TWIN_KEYS = ("warehouse/a", "fleet/b", "turbine/c")
VERSIONS = ("1", "2", "3", "4")
AUTH_CODES = {"wrong_domain", "bad_signature", "bad_nonce", "deadline_passed"}
PAYOUT_FLOWS = {Flow.SERVICE, Flow.PLATFORM_FEE, Flow.EVALUATOR_FEE}
BOGUS_JOB = 424242

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

actors = st.sampled_from(CAST)
targets = st.sampled_from(TARGETS)
small = st.integers(1, 1_500)
amounts = st.one_of(small, small, small, st.integers(0, 10**8), st.just(0))
#: how an action is authenticated: mostly correctly, sometimes each way of getting it wrong
auths = st.sampled_from(["ok"] * 10 + ["nonce_low", "nonce_high", "expired", "wrong_chain",
                                       "wrong_signer"])
picks = st.integers(0, 64)  # which known job (64: a job id that does not exist)
bps = st.one_of(st.just(0), st.integers(0, 10_000))


class LedgerMachine(RuleBasedStateMachine):
    SIGNATURES = "off"

    # -- set-up ----------------------------------------------------------------------------
    @initialize(
        fee=bps, burn=bps, platform=st.integers(0, 5_000), evaluator=st.integers(0, 5_000),
        cap=st.integers(10**4, 10**6),
        genesis=st.lists(st.integers(1_000, 5_000), min_size=len(CAST), max_size=len(CAST)),
    )
    def genesis(self, fee, burn, platform, evaluator, cap, genesis):
        self.params = LedgerParams(
            transfer_fee_bps=fee, fee_burn_bps=burn, platform_fee_bps=platform,
            evaluator_fee_bps=evaluator, supply_cap=cap, signatures=self.SIGNATURES,
        )
        self.ledger = self._new_ledger()
        self.mirrors = self._new_mirrors()
        self.log: list[tuple[str, object]] = []
        self.events: list[tuple] = []
        self.net: dict[str, int] = defaultdict(int)  # Σ incoming - Σ outgoing event amounts
        self.paid_out: dict[str, int] = defaultdict(int)
        self.refunded: dict[str, int] = defaultdict(int)
        self.escrowed: dict[str, int] = defaultdict(int)
        self.jobs: list[int] = []
        self.first_seen: dict[int, object] = {}
        self.prev_state: dict[int, JobState | None] = {}
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

    def _act(self, who: Identity, op, auth: str) -> None:
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
        self._run(SignedIntent(intent=intent, signature=signature, chain_id=chain_id), expected)

    def _view(self):
        ledger = self.ledger
        return (ledger.balances(), ledger.minted, ledger.burned,
                {j: ledger.job(j) for j in self.jobs}, {k: ledger.twin(k) for k in TWIN_KEYS})

    def _run(self, signed: SignedIntent, expected_auth_failure: str | None) -> None:
        ledger, sender, kind = self.ledger, signed.intent.sender, signed.intent.op.KIND
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
        else:
            # one `rejected` event naming op kind and code; nothing else changes
            assert [(e[2], e[3], e[5], e[8]) for e in events] == [
                ("rejected", sender, 0, f"{kind}:{result.code}")]
            assert self._view() == view

    def _absorb(self, events) -> None:
        for event in events:
            self.events.append(event)
            (_tick, _tx, _kind, payer, payee, amount, flow, ref, _detail) = event
            if not amount:
                continue
            self.net[payer] -= amount
            self.net[payee] += amount
            if payer == ESCROW_ADDRESS and flow in PAYOUT_FLOWS:
                self.paid_out[ref] += amount
            elif payer == ESCROW_ADDRESS and flow == Flow.REFUND:
                self.refunded[ref] += amount
            elif payee == ESCROW_ADDRESS and flow == Flow.ESCROW_FUND:
                self.escrowed[ref] += amount

    def _job(self, pick: int) -> int:
        if pick == 64 or not self.jobs:
            return BOGUS_JOB
        return self.jobs[pick % len(self.jobs)]

    def _role(self, job_id: int, role: str, actor: Identity, right: bool) -> Identity:
        """The job's client/provider/evaluator when `right` and it is one of the cast."""
        job = self.ledger.job(job_id)
        address = getattr(job, role, None) if job is not None else None
        if right and address in ADDRESSES:
            return CAST[ADDRESSES.index(address)]
        return actor

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
    @rule(who=actors, right=st.booleans(), pick=picks,
          provider=st.sampled_from([*ADDRESSES, BURN_ADDRESS]), auth=auths)
    def set_provider(self, who, right, pick, provider, auth):
        job_id = self._job(pick)
        role = "assigner" if right and who.address != PROTOCOL.address else "client"
        self._act(self._role(job_id, role, who, right),
                  SetProvider(job_id=job_id, provider=provider), auth)

    @precondition(lambda self: self.jobs)
    @rule(who=actors, right=st.booleans(), pick=picks, auth=auths)
    def submit_job(self, who, right, pick, auth):
        job_id = self._job(pick)
        self._act(self._role(job_id, "provider", who, right),
                  SubmitJob(job_id=job_id, deliverable=bytes([pick]) * 32), auth)

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
    @rule(pick=picks, end=st.sampled_from(["complete", "reject"]), other=actors, auth=auths)
    def progress_job(self, pick, end, other, auth):
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
            self._act(provider, SubmitJob(job_id=job_id, deliverable=b"\x02" * 32), auth)
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
        if right and twin is not None and twin.owner in ADDRESSES:
            return CAST[ADDRESSES.index(twin.owner)]
        return who

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
          to=st.sampled_from([*ADDRESSES, BURN_ADDRESS]), auth=auths)
    def transfer_twin(self, who, right, key, to, auth):
        self._act(self._owner_or(key, who, right), TransferTwin(key=key, to=to), auth)

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
        never change, and its money moved exactly as its state says (no double payout)."""
        for job_id in self.jobs:
            job, prev = self.ledger.job(job_id), self.prev_state[job_id]
            if job is None:
                assert prev is None, f"job {job_id} disappeared"
                continue
            assert job.state in ALLOWED[prev], (prev, job.state)
            self.prev_state[job_id] = job.state
            first = self.first_seen.setdefault(job_id, job)
            assert (job.client, job.evaluator, job.assigner, job.budget, job.expires_at) == (
                first.client, first.evaluator, first.assigner, first.budget, first.expires_at)
            if first.provider is not None:
                assert job.provider == first.provider
            else:
                self.first_seen[job_id] = job
            ref = str(job_id)
            paid, refunded, escrowed = self.paid_out[ref], self.refunded[ref], self.escrowed[ref]
            if job.state == JobState.COMPLETED:
                assert (paid, refunded, escrowed) == (job.budget, 0, job.budget)
            elif job.state == JobState.REJECTED:
                assert (paid, refunded, escrowed) == (0, job.budget, job.budget)
            elif job.state == JobState.EXPIRED:
                assert paid == 0 and refunded == escrowed and escrowed in (0, job.budget)
            elif job.state in (JobState.FUNDED, JobState.SUBMITTED):
                assert (paid, refunded, escrowed) == (0, 0, job.budget)
            else:
                assert (paid, refunded, escrowed) == (0, 0, 0)

    COMPARE_EVERY_STEP = True

    @invariant()
    def mirrors_agree(self):
        """Every backend holds the reference's balances, supply, nonces, jobs, twins and state
        hash, and passes its own invariant checks."""
        if self.COMPARE_EVERY_STEP:
            self._compare_mirrors()

    def _full_view(self, ledger) -> tuple:
        return (ledger.balances(), ledger.total_supply, ledger.minted, ledger.burned,
                {a: ledger.nonce_of(a) for a in ADDRESSES},
                {j: ledger.job(j) for j in self.jobs}, {k: ledger.twin(k) for k in TWIN_KEYS})

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
        if not hasattr(self, "ledger"):
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
