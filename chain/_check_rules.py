"""The actions `check_ledger` drives through a ledger: random valid and invalid sequences.

`LedgerMachine` draws the protocol rules per example (fees, both royalty modes, the evaluator
paid on reject or not, min expiry, min stake, slash reward, data fee, and the signature mode
when the checker does not fix it), mints a genesis, then drives every op kind from a small
cast (valid and invalid: wrong actor, wrong job or lease state, amounts beyond balances,
stakes and the supply cap, overflowing products, bad nonces, expired deadlines, wrong chain
ids, wrong signers, replays) while the clock advances; `chain._check_driver.Driver` checks
every action and step. hypothesis is imported here: only `chain.checks` imports this module,
when `check_ledger` is called.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from chain._check_driver import (
    ADDRESSES,
    ASSET_KEYS,
    CAST,
    DIAMOND,
    MODULES,
    POOL_KEYS,
    PROTOCOL,
    TWIN_KEYS,
    Driver,
)
from chain.identity import Identity
from chain.ops import (
    ClaimLease,
    ClaimRefund,
    CloseLease,
    CompleteJob,
    Contribute,
    CreateJob,
    CreatePool,
    FundJob,
    LinkAsset,
    Mint,
    OpenLease,
    Post,
    PublishVersion,
    RegisterAsset,
    RegisterTwin,
    RejectJob,
    SetLicence,
    SetProvider,
    Slash,
    Stake,
    SubmitJob,
    Transfer,
    TransferTwin,
    Unstake,
    UseData,
    job_id_for,
)
from chain.protocols import BURN_ADDRESS, TERMINAL, JobState, LedgerParams

__all__ = ["LedgerMachine"]

TARGETS = [*ADDRESSES, *MODULES]
VERSIONS = ("1", "2", "3", "4")
ASSET_KINDS = ("data", "policy", "twin", "model")
RECORDS = tuple(bytes([i]) * 32 for i in range(1, 7))
BOGUS_JOB = 424242
BPS = 10_000

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


class LedgerMachine(Driver):
    """Every op kind, valid and invalid, from a cast of five, as the clock advances."""

    @initialize(
        fee=bps, burn=bps, platform=st.integers(0, 5_000), evaluator=st.integers(0, 5_000),
        cap=st.integers(10**4, 10**6),
        genesis=st.lists(st.integers(1_000, 5_000), min_size=len(CAST), max_size=len(CAST)),
        royalty_mode=st.sampled_from(["lrp", "lap"]), paid_on_reject=st.booleans(),
        min_expiry=st.sampled_from([1, 1, 3]), min_stake=st.sampled_from([0, 0, 100]),
        slash_reward=bps, data_fee=st.sampled_from([0, 0, 250, 10_000]),
        signatures=st.sampled_from(["off", "verify"]),
    )
    def genesis(self, fee, burn, platform, evaluator, cap, genesis, royalty_mode,
                paid_on_reject, min_expiry, min_stake, slash_reward, data_fee, signatures):
        self._start(LedgerParams(
            transfer_fee_bps=fee, fee_burn_bps=burn, platform_fee_bps=platform,
            evaluator_fee_bps=evaluator, supply_cap=cap,
            signatures=self.SIGNATURES or signatures, royalty_mode=royalty_mode,
            evaluator_paid_on_reject=paid_on_reject, min_expiry=min_expiry,
            min_stake=min_stake, slash_reward_bps=slash_reward, data_fee_bps=data_fee,
        ))
        self._advance(1)
        for who, amount in zip(CAST, genesis, strict=True):
            if amount:
                self._act(PROTOCOL, Mint(to=who.address, amount=amount, flow="genesis"), "ok")

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
            rule = "a twin's version history only grows, by one unique version at a time"
            self._equal(rule, f"twin {key}'s earlier versions", before.versions,
                        after.versions[: len(before.versions)])
            self._true(rule, f"twin {key} gained at most one version",
                       len(after.versions) - len(before.versions) in (0, 1), after.versions)
            self._true(rule, f"twin {key}'s version names are unique",
                       len({v for v, _ in after.versions}) == len(after.versions),
                       after.versions)

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
            signed, signer = self.accepted[i % len(self.accepted)]
            self.steps.append(f"replay of {signed.intent.op!r} (nonce {signed.intent.nonce})")
            self._run(signed, "bad_nonce", signer)

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
