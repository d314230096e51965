# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title twinecon Escrow: jobs with an evaluator (ERC-8183 states)
@notice Open -> Funded -> Submitted -> Completed | Rejected | Expired. The client funds the
        budget into escrow; the evaluator completes (escrow pays the platform fee to the
        treasury, the evaluator fee to the evaluator and the rest to the provider, exactly) or
        rejects (full refund). From `expires_at` on, anyone may claim the refund of a job that
        is not terminal, and nothing can block it. Terminal states absorb.
        A job's id is derived, not counted: the first 8 bytes of
        keccak256(client ++ uint256(nonce)) of the action that created it.
"""

from snekmate.utils import math

MAX_PARAMS: constant(uint256) = 320
BPS: constant(uint256) = 10_000

KIND_CREATE: constant(uint8) = 2
KIND_FUND: constant(uint8) = 3
KIND_SET_PROVIDER: constant(uint8) = 4
KIND_SUBMIT: constant(uint8) = 5
KIND_COMPLETE: constant(uint8) = 6
KIND_REJECT: constant(uint8) = 7
KIND_CLAIM: constant(uint8) = 8

# Job states (0: no such job).
OPEN: constant(uint8) = 1
FUNDED: constant(uint8) = 2
SUBMITTED: constant(uint8) = 3
COMPLETED: constant(uint8) = 4
REJECTED: constant(uint8) = 5
EXPIRED: constant(uint8) = 6


interface Token:
    def escrow_move(payer: address, payee: address, amount: uint256, flow: String[32],
                    ref: uint256): nonpayable


struct Job:
    client: address
    evaluator: address
    assigner: address
    provider: address
    budget: uint256
    expires_at: uint256
    state: uint8
    submitted: bool
    spec_hash: bytes32
    deliverable: bytes32


HUB: public(immutable(address))
TOKEN: public(immutable(address))
TREASURY: public(immutable(address))
PLATFORM_FEE_BPS: public(immutable(uint256))
EVALUATOR_FEE_BPS: public(immutable(uint256))

jobs: public(HashMap[uint64, Job])
locked: public(uint256)  # the budgets of all funded and submitted jobs


event JobCreated:
    job_id: indexed(uint64)
    client: indexed(address)
    evaluator: address
    budget: uint256


event ProviderSet:
    job_id: indexed(uint64)
    by: indexed(address)
    provider: address
    budget: uint256


event JobSubmitted:
    job_id: indexed(uint64)
    provider: indexed(address)
    client: address
    deliverable: bytes32


event JobCompleted:
    job_id: indexed(uint64)
    evaluator: indexed(address)
    provider: address
    reason: bytes32


event JobRejected:
    job_id: indexed(uint64)
    evaluator: indexed(address)
    client: address
    reason: bytes32


event JobExpired:
    job_id: indexed(uint64)
    evaluator: indexed(address)
    client: address


@deploy
def __init__(hub_: address, token_: address, treasury_: address, platform_fee_bps_: uint256,
             evaluator_fee_bps_: uint256):
    assert platform_fee_bps_ + evaluator_fee_bps_ <= BPS, "invalid_state"
    HUB = hub_
    TOKEN = token_
    TREASURY = treasury_
    PLATFORM_FEE_BPS = platform_fee_bps_
    EVALUATOR_FEE_BPS = evaluator_fee_bps_


@external
@view
def job_id_for(client: address, nonce: uint256) -> uint64:
    return self._job_id(client, nonce)


@internal
@pure
def _job_id(client: address, nonce: uint256) -> uint64:
    digest: bytes32 = keccak256(concat(convert(client, bytes20), convert(nonce, bytes32)))
    return convert(convert(digest, uint256) >> 192, uint64)


@external
def run(kind: uint8, sender: address, nonce: uint256, now: uint256, params: Bytes[MAX_PARAMS]):
    """
    @dev Applies an authenticated job action (hub only); reverts with the rule's code.
    """
    assert msg.sender == HUB, "unauthorized"
    if kind == KIND_CREATE:
        evaluator: address = empty(address)
        assigner: address = empty(address)
        budget: uint256 = 0
        expires_at: uint256 = 0
        spec_hash: bytes32 = empty(bytes32)
        evaluator, assigner, budget, expires_at, spec_hash = abi_decode(
            params, (address, address, uint256, uint256, bytes32)
        )
        self._create(sender, nonce, now, evaluator, assigner, budget, expires_at, spec_hash)
        return
    job_id: uint64 = 0
    if kind == KIND_FUND:
        expected: uint256 = 0
        job_id, expected = abi_decode(params, (uint64, uint256))
        self._fund(sender, now, job_id, expected)
    elif kind == KIND_SET_PROVIDER:
        provider: address = empty(address)
        budget: uint256 = 0
        job_id, provider, budget = abi_decode(params, (uint64, address, uint256))
        self._set_provider(sender, now, job_id, provider, budget)
    elif kind == KIND_CLAIM:
        job_id = abi_decode(params, uint64)
        self._claim_refund(now, job_id)
    else:
        word: bytes32 = empty(bytes32)
        job_id, word = abi_decode(params, (uint64, bytes32))
        if kind == KIND_SUBMIT:
            self._submit(sender, now, job_id, word)
        elif kind == KIND_COMPLETE:
            self._complete(sender, now, job_id, word)
        elif kind == KIND_REJECT:
            self._reject(sender, now, job_id, word)
        else:
            raise "unknown_op"


@internal
@view
def _live(job_id: uint64, lo: uint8, hi: uint8) -> Job:
    job: Job = self.jobs[job_id]
    assert job.state >= lo and job.state <= hi, "invalid_state"
    return job


@internal
@pure
def _not_expired(job: Job, now: uint256):
    assert now < job.expires_at, "invalid_state"


@internal
def _create(client: address, nonce: uint256, now: uint256, evaluator: address, assigner: address,
            budget: uint256, expires_at: uint256, spec_hash: bytes32):
    job_id: uint64 = self._job_id(client, nonce)
    assert budget != 0, "invalid_state"
    assert evaluator != empty(address), "invalid_state"
    assert expires_at > now, "invalid_state"
    assert self.jobs[job_id].state == 0, "invalid_state"
    self.jobs[job_id] = Job(
        client=client, evaluator=evaluator, assigner=assigner, provider=empty(address),
        budget=budget, expires_at=expires_at, state=OPEN, submitted=False, spec_hash=spec_hash,
        deliverable=empty(bytes32),
    )
    log JobCreated(job_id=job_id, client=client, evaluator=evaluator, budget=budget)


@internal
def _fund(sender: address, now: uint256, job_id: uint64, expected: uint256):
    job: Job = self._live(job_id, OPEN, OPEN)
    assert sender == job.client, "unauthorized"
    assert expected == job.budget, "invalid_state"
    self._not_expired(job, now)
    self.jobs[job_id].state = FUNDED
    # move first: a budget beyond the client's balance is insufficient_funds, and once moved
    # `locked` cannot overflow (it never exceeds the supply)
    extcall Token(TOKEN).escrow_move(sender, self, job.budget, "escrow_fund",
                                     convert(job_id, uint256))
    self.locked += job.budget


@internal
def _set_provider(sender: address, now: uint256, job_id: uint64, provider: address,
                  budget: uint256):
    job: Job = self._live(job_id, OPEN, FUNDED)
    assert sender == job.client or sender == job.assigner, "unauthorized"
    assert job.provider == empty(address), "invalid_state"
    assert provider != empty(address) and provider != self and provider != job.client, \
        "invalid_state"
    new_budget: uint256 = budget
    if new_budget == 0:
        new_budget = job.budget
    assert new_budget <= job.budget, "invalid_state"
    self._not_expired(job, now)
    self.jobs[job_id].provider = provider
    self.jobs[job_id].budget = new_budget
    log ProviderSet(job_id=job_id, by=sender, provider=provider, budget=new_budget)
    if job.state == FUNDED and new_budget < job.budget:
        self.locked -= job.budget - new_budget
        extcall Token(TOKEN).escrow_move(self, job.client, job.budget - new_budget, "refund",
                                         convert(job_id, uint256))


@internal
def _submit(sender: address, now: uint256, job_id: uint64, deliverable: bytes32):
    job: Job = self._live(job_id, FUNDED, FUNDED)
    assert sender == job.provider, "unauthorized"
    self._not_expired(job, now)
    self.jobs[job_id].state = SUBMITTED
    self.jobs[job_id].submitted = True
    self.jobs[job_id].deliverable = deliverable
    log JobSubmitted(job_id=job_id, provider=sender, client=job.client, deliverable=deliverable)


@internal
def _complete(sender: address, now: uint256, job_id: uint64, reason: bytes32):
    job: Job = self._live(job_id, FUNDED, SUBMITTED)
    assert sender == job.evaluator, "unauthorized"
    assert job.provider != empty(address), "invalid_state"
    self._not_expired(job, now)
    platform: uint256 = math._mul_div(job.budget, PLATFORM_FEE_BPS, BPS, False)
    evaluator_fee: uint256 = math._mul_div(job.budget, EVALUATOR_FEE_BPS, BPS, False)
    self.jobs[job_id].state = COMPLETED
    self.locked -= job.budget
    log JobCompleted(job_id=job_id, evaluator=sender, provider=job.provider, reason=reason)
    ref: uint256 = convert(job_id, uint256)
    self._pay(TREASURY, platform, "platform_fee", ref)
    self._pay(job.evaluator, evaluator_fee, "evaluator_fee", ref)
    self._pay(job.provider, job.budget - platform - evaluator_fee, "service", ref)


@internal
def _reject(sender: address, now: uint256, job_id: uint64, reason: bytes32):
    job: Job = self._live(job_id, FUNDED, SUBMITTED)
    assert sender == job.evaluator, "unauthorized"
    self._not_expired(job, now)
    self.jobs[job_id].state = REJECTED
    log JobRejected(job_id=job_id, evaluator=job.evaluator, client=job.client, reason=reason)
    self._refund(job, job_id)


@internal
def _claim_refund(now: uint256, job_id: uint64):
    job: Job = self._live(job_id, OPEN, SUBMITTED)
    assert now >= job.expires_at, "invalid_state"
    self.jobs[job_id].state = EXPIRED
    log JobExpired(job_id=job_id, evaluator=job.evaluator, client=job.client)
    self._refund(job, job_id)


@internal
def _refund(job: Job, job_id: uint64):
    if job.state == FUNDED or job.state == SUBMITTED:
        self.locked -= job.budget
        self._pay(job.client, job.budget, "refund", convert(job_id, uint256))


@internal
def _pay(payee: address, amount: uint256, flow: String[32], ref: uint256):
    if amount != 0:
        extcall Token(TOKEN).escrow_move(self, payee, amount, flow, ref)
