# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title twinecon Escrow: jobs with an evaluator (ERC-8183 states), royalties up the IP graph
@notice Open -> Funded -> Submitted -> Completed | Rejected | Expired. The client funds the
        budget into escrow; the evaluator completes (escrow pays the platform fee to the
        treasury, the evaluator fee to the evaluator and the rest, the service, to the
        provider, exactly) or rejects (full refund). From `expires_at` on, anyone may claim
        the refund of a job that is not terminal, and nothing can block it. Terminal states
        absorb. A job's expiry must be at least `MIN_EXPIRY` ticks after its creation.
        With `EVALUATOR_PAID_ON_REJECT` the client deposits the evaluator's fee beside the
        budget at funding; the evaluator is paid the deposit on completion and on rejection
        alike, and the provider's service is the budget less the platform fee.
        A provider submits naming the policy asset (Assets module) that made the deliverable;
        on completion the service pays royalties up that asset's graph, as chain/royalty.py
        splits them: `lrp` (each parent takes its share of what reaches its child, summed over
        its children and split once, in topological order)
        or `lap` (each distinct ancestor takes its share of the service), floors to each share,
        what the floors leave (dust) to the treasury.
        A job's id is derived, not counted: the first 8 bytes of
        keccak256(client ++ uint256(nonce)) of the action that created it.
"""

import ops

from snekmate.utils import math

BPS: constant(uint256) = 10_000
MAX_PARENTS: constant(uint256) = 4
MAX_ANCESTORS: constant(uint256) = 16


# Job states (0: no such job).
OPEN: constant(uint8) = 1
FUNDED: constant(uint8) = 2
SUBMITTED: constant(uint8) = 3
COMPLETED: constant(uint8) = 4
REJECTED: constant(uint8) = 5
EXPIRED: constant(uint8) = 6


interface Token:
    def module_move(payer: address, payee: address, amount: uint256, flow: String[ops.MAX_FLOW],
                    ref: uint256): nonpayable


struct Parent:
    id: bytes32
    bps: uint256


struct Share:
    payee: address
    bps: uint256


interface Assets:
    def exists(key: String[ops.MAX_KEY]) -> bool: view
    def parents_of(asset_id: bytes32) -> DynArray[Parent, MAX_PARENTS]: view
    def payee(asset_id: bytes32) -> address: view
    def lap_shares(asset_id: bytes32) -> DynArray[Share, MAX_ANCESTORS]: view


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
    eval_deposit: uint256
    policy: String[ops.MAX_KEY]


HUB: public(immutable(address))
TOKEN: public(immutable(address))
TREASURY: public(immutable(address))
PLATFORM_FEE_BPS: public(immutable(uint256))
EVALUATOR_FEE_BPS: public(immutable(uint256))
EVALUATOR_PAID_ON_REJECT: public(immutable(bool))
MIN_EXPIRY: public(immutable(uint256))
ROYALTY_LAP: public(immutable(bool))

compute: public(address)
assets: public(address)
jobs: public(HashMap[uint64, Job])
locked: public(uint256)  # budgets and evaluator deposits of all funded and submitted jobs


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
             evaluator_fee_bps_: uint256, evaluator_paid_on_reject_: bool, min_expiry_: uint256,
             royalty_lap_: bool):
    assert platform_fee_bps_ + evaluator_fee_bps_ <= BPS, "invalid_state"
    assert min_expiry_ != 0, "invalid_state"
    HUB = hub_
    TOKEN = token_
    TREASURY = treasury_
    PLATFORM_FEE_BPS = platform_fee_bps_
    EVALUATOR_FEE_BPS = evaluator_fee_bps_
    EVALUATOR_PAID_ON_REJECT = evaluator_paid_on_reject_
    MIN_EXPIRY = min_expiry_
    ROYALTY_LAP = royalty_lap_


@external
def set_modules(compute_: address, assets_: address):
    """
    @dev The compute and assets modules, named once by the hub while wiring.
    """
    assert msg.sender == HUB, "unauthorized"
    assert self.assets == empty(address), "invalid_state"
    self.compute = compute_
    self.assets = assets_


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
def run(kind: uint8, sender: address, nonce: uint256, now: uint256, params: Bytes[ops.MAX_PARAMS]):
    """
    @dev Applies an authenticated job action (hub only); reverts with the rule's code.
    """
    assert msg.sender == HUB, "unauthorized"
    if kind == ops.KIND_CREATE_JOB:
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
    if kind == ops.KIND_FUND_JOB:
        expected: uint256 = 0
        job_id, expected = abi_decode(params, (uint64, uint256))
        self._fund(sender, now, job_id, expected)
    elif kind == ops.KIND_SET_PROVIDER:
        provider: address = empty(address)
        budget: uint256 = 0
        job_id, provider, budget = abi_decode(params, (uint64, address, uint256))
        self._set_provider(sender, now, job_id, provider, budget)
    elif kind == ops.KIND_CLAIM_REFUND:
        job_id = abi_decode(params, uint64)
        self._claim_refund(now, job_id)
    elif kind == ops.KIND_SUBMIT_JOB:
        deliverable: bytes32 = empty(bytes32)
        policy: String[ops.MAX_KEY] = ""
        job_id, deliverable, policy = abi_decode(params, (uint64, bytes32, String[ops.MAX_KEY]))
        self._submit(sender, now, job_id, deliverable, policy)
    else:
        word: bytes32 = empty(bytes32)
        job_id, word = abi_decode(params, (uint64, bytes32))
        if kind == ops.KIND_COMPLETE_JOB:
            self._complete(sender, now, job_id, word)
        elif kind == ops.KIND_REJECT_JOB:
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
@view
def _deposit(budget: uint256) -> uint256:
    """The evaluator's fee the client deposits beside the budget (paid-on-reject rule)."""
    if not EVALUATOR_PAID_ON_REJECT:
        return 0
    return math._mul_div(budget, EVALUATOR_FEE_BPS, BPS, False)


@internal
def _create(client: address, nonce: uint256, now: uint256, evaluator: address, assigner: address,
            budget: uint256, expires_at: uint256, spec_hash: bytes32):
    job_id: uint64 = self._job_id(client, nonce)
    assert budget != 0, "invalid_state"
    assert evaluator != empty(address), "invalid_state"
    assert expires_at >= now and expires_at - now >= MIN_EXPIRY, "invalid_state"
    assert self.jobs[job_id].state == 0, "invalid_state"
    self.jobs[job_id] = Job(
        client=client, evaluator=evaluator, assigner=assigner, provider=empty(address),
        budget=budget, expires_at=expires_at, state=OPEN, submitted=False, spec_hash=spec_hash,
        deliverable=empty(bytes32), eval_deposit=0, policy="",
    )
    log JobCreated(job_id=job_id, client=client, evaluator=evaluator, budget=budget)


@internal
def _fund(sender: address, now: uint256, job_id: uint64, expected: uint256):
    job: Job = self._live(job_id, OPEN, OPEN)
    assert sender == job.client, "unauthorized"
    assert expected == job.budget, "invalid_state"
    self._not_expired(job, now)
    deposit: uint256 = self._deposit(job.budget)
    # budget + deposit beyond 2**256 - 1 is beyond any balance
    assert job.budget <= max_value(uint256) - deposit, "insufficient_funds"
    self.jobs[job_id].state = FUNDED
    self.jobs[job_id].eval_deposit = deposit
    # move first: an amount beyond the client's balance is insufficient_funds, and once moved
    # `locked` cannot overflow (it never exceeds the supply)
    extcall Token(TOKEN).module_move(sender, self, job.budget + deposit, "escrow_fund",
                                     convert(job_id, uint256))
    self.locked += job.budget + deposit


@internal
def _set_provider(sender: address, now: uint256, job_id: uint64, provider: address,
                  budget: uint256):
    job: Job = self._live(job_id, OPEN, FUNDED)
    assert sender == job.client or sender == job.assigner, "unauthorized"
    assert job.provider == empty(address), "invalid_state"
    # a module account paid a service would hold tokens no rule of its accounts for
    assert provider != empty(address) and provider != self and provider != job.client, \
        "invalid_state"
    assert provider != self.compute and provider != self.assets, "invalid_state"
    new_budget: uint256 = budget
    if new_budget == 0:
        new_budget = job.budget
    assert new_budget <= job.budget, "invalid_state"
    self._not_expired(job, now)
    deposit: uint256 = 0
    if job.state == FUNDED:
        deposit = self._deposit(new_budget)
    self.jobs[job_id].provider = provider
    self.jobs[job_id].budget = new_budget
    self.jobs[job_id].eval_deposit = deposit
    log ProviderSet(job_id=job_id, by=sender, provider=provider, budget=new_budget)
    if job.state == FUNDED and new_budget < job.budget:
        excess: uint256 = job.budget + job.eval_deposit - new_budget - deposit
        self.locked -= excess
        self._pay(job.client, excess, "refund", convert(job_id, uint256))


@internal
def _submit(sender: address, now: uint256, job_id: uint64, deliverable: bytes32,
            policy: String[ops.MAX_KEY]):
    job: Job = self._live(job_id, FUNDED, FUNDED)
    assert sender == job.provider, "unauthorized"
    self._not_expired(job, now)
    if len(policy) != 0:
        assert staticcall Assets(self.assets).exists(policy), "invalid_state"
    self.jobs[job_id].state = SUBMITTED
    self.jobs[job_id].submitted = True
    self.jobs[job_id].deliverable = deliverable
    self.jobs[job_id].policy = policy
    log JobSubmitted(job_id=job_id, provider=sender, client=job.client, deliverable=deliverable)


@internal
def _complete(sender: address, now: uint256, job_id: uint64, reason: bytes32):
    job: Job = self._live(job_id, FUNDED, SUBMITTED)
    assert sender == job.evaluator, "unauthorized"
    assert job.provider != empty(address), "invalid_state"
    self._not_expired(job, now)
    platform: uint256 = math._mul_div(job.budget, PLATFORM_FEE_BPS, BPS, False)
    evaluator_fee: uint256 = job.eval_deposit
    service: uint256 = job.budget - platform
    if not EVALUATOR_PAID_ON_REJECT:
        evaluator_fee = math._mul_div(job.budget, EVALUATOR_FEE_BPS, BPS, False)
        service -= evaluator_fee
    self.jobs[job_id].state = COMPLETED
    self.locked -= job.budget + job.eval_deposit
    log JobCompleted(job_id=job_id, evaluator=sender, provider=job.provider, reason=reason)
    ref: uint256 = convert(job_id, uint256)
    self._pay(TREASURY, platform, "platform_fee", ref)
    self._pay(job.evaluator, evaluator_fee, "evaluator_fee", ref)
    if len(job.policy) != 0:
        policy: bytes32 = keccak256(job.policy)
        if ROYALTY_LAP:
            service = self._royalties_lap(policy, service, ref)
        else:
            service = self._royalties_lrp(policy, service, ref)
    self._pay(job.provider, service, "service", ref)


@internal
def _royalties_lap(policy: bytes32, amount: uint256, ref: uint256) -> uint256:
    """
    @dev Pays each distinct ancestor of `policy` its share of `amount` (breadth first), the
         dust to the treasury; returns the receiver's part.
    """
    shares: DynArray[Share, MAX_ANCESTORS] = staticcall Assets(self.assets).lap_shares(policy)
    total_bps: uint256 = 0
    paid: uint256 = 0
    for share: Share in shares:
        part: uint256 = math._mul_div(amount, share.bps, BPS, False)
        total_bps += share.bps
        paid += part
        self._pay(share.payee, part, "royalty", ref)
    rest: uint256 = math._mul_div(amount, BPS - total_bps, BPS, False)
    self._pay(TREASURY, amount - paid - rest, "dust", ref)
    return rest


@internal
def _royalties_lrp(policy: bytes32, amount: uint256, ref: uint256) -> uint256:
    """
    @dev Pays up `policy`'s graph by relative shares: what reaches an asset (summed over its
         children) is split once among its parents and its owner, in topological order from
         `policy` up (Kahn's order, as chain/royalty.py), one payment per ancestor. The summed
         dust to the treasury; returns the receiver's part.
    """
    # the subgraph: `policy` and its ancestors, in discovery order, with their parents
    nodes: DynArray[bytes32, MAX_ANCESTORS + 1] = [policy]
    up: DynArray[DynArray[Parent, MAX_PARENTS], MAX_ANCESTORS + 1] = []
    for i: uint256 in range(MAX_ANCESTORS + 1):
        if i >= len(nodes):
            break
        parents: DynArray[Parent, MAX_PARENTS] = staticcall Assets(self.assets).parents_of(
            nodes[i])
        up.append(parents)
        for parent: Parent in parents:
            if parent.id not in nodes:
                nodes.append(parent.id)
    n: uint256 = len(nodes)
    waiting: uint256[MAX_ANCESTORS + 1] = empty(uint256[MAX_ANCESTORS + 1])  # unsplit children
    parent_at: uint256[MAX_PARENTS][MAX_ANCESTORS + 1] = empty(
        uint256[MAX_PARENTS][MAX_ANCESTORS + 1])
    for i: uint256 in range(MAX_ANCESTORS + 1):
        if i >= n:
            break
        for k: uint256 in range(MAX_PARENTS):
            if k >= len(up[i]):
                break
            for j: uint256 in range(MAX_ANCESTORS + 1):
                if nodes[j] == up[i][k].id:
                    parent_at[i][k] = j
                    waiting[j] += 1
                    break
    received: uint256[MAX_ANCESTORS + 1] = empty(uint256[MAX_ANCESTORS + 1])
    received[0] = amount
    ready: DynArray[uint256, MAX_ANCESTORS + 1] = [0]
    receiver: uint256 = 0
    dust: uint256 = 0
    for step: uint256 in range(MAX_ANCESTORS + 1):
        if step >= len(ready):
            break
        i: uint256 = ready[step]
        x: uint256 = received[i]
        total_bps: uint256 = 0
        paid: uint256 = 0
        for k: uint256 in range(MAX_PARENTS):
            if k >= len(up[i]):
                break
            part: uint256 = math._mul_div(x, up[i][k].bps, BPS, False)
            j: uint256 = parent_at[i][k]
            received[j] += part
            total_bps += up[i][k].bps
            paid += part
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(j)
        rest: uint256 = math._mul_div(x, BPS - total_bps, BPS, False)
        dust += x - paid - rest
        if i == 0:
            receiver = rest
        elif rest != 0:
            self._pay(staticcall Assets(self.assets).payee(nodes[i]), rest, "royalty", ref)
    assert len(ready) == n, "invalid_state"
    self._pay(TREASURY, dust, "dust", ref)
    return receiver


@internal
def _reject(sender: address, now: uint256, job_id: uint64, reason: bytes32):
    job: Job = self._live(job_id, FUNDED, SUBMITTED)
    assert sender == job.evaluator, "unauthorized"
    self._not_expired(job, now)
    self.jobs[job_id].state = REJECTED
    log JobRejected(job_id=job_id, evaluator=job.evaluator, client=job.client, reason=reason)
    self._refund(job, job_id, True)


@internal
def _claim_refund(now: uint256, job_id: uint64):
    job: Job = self._live(job_id, OPEN, SUBMITTED)
    assert now >= job.expires_at, "invalid_state"
    self.jobs[job_id].state = EXPIRED
    log JobExpired(job_id=job_id, evaluator=job.evaluator, client=job.client)
    self._refund(job, job_id, False)


@internal
def _refund(job: Job, job_id: uint64, rejected: bool):
    if job.state == FUNDED or job.state == SUBMITTED:
        ref: uint256 = convert(job_id, uint256)
        self.locked -= job.budget + job.eval_deposit
        if rejected:  # the evaluator did its work: its deposit is its fee
            self._pay(job.evaluator, job.eval_deposit, "evaluator_fee", ref)
            self._pay(job.client, job.budget, "refund", ref)
        else:
            self._pay(job.client, job.budget + job.eval_deposit, "refund", ref)


@internal
def _pay(payee: address, amount: uint256, flow: String[ops.MAX_FLOW], ref: uint256):
    if amount != 0:
        extcall Token(TOKEN).module_move(self, payee, amount, flow, ref)
