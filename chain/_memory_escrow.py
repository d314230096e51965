"""The reference rules of the Escrow contract: jobs from creation to payout or refund.

Each rule is a function of the ledger's `State`, named like the operation it applies
(chain.ops.TABLE names the module of each); when the action breaks a rule it raises a
ChainError before changing anything.
"""

from __future__ import annotations

from dataclasses import replace

from chain._memory_assets import asset_owner
from chain._memory_state import LIVE, MODULES, State, b32, checked, positive
from chain.deployment import ESCROW_ADDRESS
from chain.errors import InvalidState, Unauthorized
from chain.flows import Flow
from chain.identity import Address
from chain.ops import (
    ClaimRefund,
    CompleteJob,
    CreateJob,
    FundJob,
    RejectJob,
    SetProvider,
    SubmitJob,
    job_id_for,
)
from chain.protocols import BURN_ADDRESS, Job, JobState
from chain.royalty import royalty_payouts

__all__ = ["claim_refund", "complete_job", "create_job", "fund_job", "reject_job", "set_provider",
           "submit_job"]


def _live_job(s: State, job_id: int, states: tuple[JobState, ...], action: str) -> Job:
    job = s.jobs.get(job_id)
    if job is None:
        raise InvalidState(f"no job {job_id}; check the id (job_id_for(client, nonce))")
    if job.state not in states:
        wanted = " or ".join(st.value for st in states)
        raise InvalidState(f"cannot {action} job {job_id} in state {job.state.value}; "
                           f"it must be {wanted}")
    return job


def _not_expired(s: State, job: Job, action: str) -> None:
    if s.now >= job.expires_at:
        raise InvalidState(f"cannot {action} job {job.job_id}: it expired at tick "
                           f"{job.expires_at}; anyone may claim the refund")


def create_job(s: State, sender: Address, op: CreateJob, nonce: int) -> None:
    job_id = job_id_for(sender, nonce)
    evaluator = checked(op.evaluator, "evaluator")
    assigner = checked(op.assigner, "assigner")
    positive(op.budget, "budget")
    if evaluator == BURN_ADDRESS:
        raise InvalidState("a job needs an evaluator; the zero address cannot evaluate")
    if op.expires_at < s.now + s.params.min_expiry:
        raise InvalidState(f"expires_at {op.expires_at} must be at least tick "
                           f"{s.now + s.params.min_expiry} (now {s.now} + "
                           f"min_expiry {s.params.min_expiry})")
    if job_id in s.jobs:  # a 64-bit collision: astronomically unlikely, still refused
        raise InvalidState(f"job id {job_id} already exists")
    s.jobs[job_id] = Job(
        job_id=job_id, client=sender, evaluator=evaluator, assigner=assigner, provider=None,
        budget=op.budget, expires_at=op.expires_at, state=JobState.OPEN,
        spec_hash=b32(op.spec_hash),
    )
    s.emit("job_created", sender, evaluator, 0, "", str(job_id), str(op.budget))


def fund_job(s: State, sender: Address, op: FundJob, nonce: int) -> None:
    job = _live_job(s, op.job_id, (JobState.OPEN,), "fund")
    if sender != job.client:
        raise Unauthorized(sender, f"fund job {job.job_id}", f"its client {job.client}")
    if op.expected_budget != job.budget:
        raise InvalidState(f"job {job.job_id} budget is {job.budget}, not the expected "
                           f"{op.expected_budget}")
    _not_expired(s, job, "fund")
    deposit = _eval_deposit(s, job.budget)
    s.debit(sender, job.budget + deposit)
    s.credit(ESCROW_ADDRESS, job.budget + deposit)
    s.jobs[job.job_id] = replace(job, state=JobState.FUNDED, eval_deposit=deposit)
    s.emit("transfer", sender, ESCROW_ADDRESS, job.budget + deposit, Flow.ESCROW_FUND,
           str(job.job_id), "funded")


def _eval_deposit(s: State, budget: int) -> int:
    """The evaluator's fee the client deposits beside the budget (paid-on-reject rule)."""
    if not s.params.evaluator_paid_on_reject:
        return 0
    return budget * s.params.evaluator_fee_bps // 10_000


def set_provider(s: State, sender: Address, op: SetProvider, nonce: int) -> None:
    job = _live_job(s, op.job_id, (JobState.OPEN, JobState.FUNDED), "set the provider of")
    if sender not in (job.client, job.assigner):
        raise Unauthorized(sender, f"set the provider of job {job.job_id}",
                           "its client or assigner")
    if job.provider is not None:
        raise InvalidState(f"job {job.job_id} already has provider {job.provider}")
    provider = checked(op.provider, "provider")
    if provider in MODULES or provider == job.client:
        # a module account paid a service would hold tokens no rule of its accounts for
        raise InvalidState("the provider must be an account other than the client, the "
                           "module accounts (escrow, compute, assets) and the zero address")
    budget = op.budget or job.budget
    if type(budget) is not int or not 0 < budget <= job.budget:
        raise InvalidState(f"the new budget must be in [1, {job.budget}] (the current "
                           f"budget), got {op.budget}")
    _not_expired(s, job, "award")
    ref = str(job.job_id)
    deposit = _eval_deposit(s, budget) if job.state is JobState.FUNDED else 0
    s.jobs[job.job_id] = replace(job, provider=provider, budget=budget,
                                 eval_deposit=deposit)
    s.emit("job_provider_set", sender, provider, 0, "", ref, str(budget))
    if job.state is JobState.FUNDED and budget < job.budget:
        s.pay(ESCROW_ADDRESS, job.client,
              job.budget + job.eval_deposit - budget - deposit, Flow.REFUND, ref)


def submit_job(s: State, sender: Address, op: SubmitJob, nonce: int) -> None:
    job = _live_job(s, op.job_id, (JobState.FUNDED,), "submit to")
    if sender != job.provider:
        raise Unauthorized(sender, f"submit to job {job.job_id}",
                           f"its provider {job.provider}")
    _not_expired(s, job, "submit to")
    if op.policy and op.policy not in s.assets:
        raise InvalidState(f"no asset {op.policy!r} is registered; register the policy "
                           "first or submit without one")
    deliverable = b32(op.deliverable)
    s.jobs[job.job_id] = replace(job, state=JobState.SUBMITTED, deliverable=deliverable,
                                 policy=op.policy)
    s.emit("job_submitted", sender, job.client, 0, "", str(job.job_id), deliverable.hex())


def complete_job(s: State, sender: Address, op: CompleteJob, nonce: int) -> None:
    job = _live_job(s, op.job_id, LIVE, "complete")
    if sender != job.evaluator:
        raise Unauthorized(sender, f"complete job {job.job_id}",
                           f"its evaluator {job.evaluator}")
    if job.provider is None:
        raise InvalidState(f"job {job.job_id} has no provider to pay; set one first")
    _not_expired(s, job, "complete")
    budget, ref = job.budget, str(job.job_id)
    platform = budget * s.params.platform_fee_bps // 10_000
    if s.params.evaluator_paid_on_reject:  # the fee was deposited beside the budget
        evaluator_fee, service = job.eval_deposit, budget - platform
    else:
        evaluator_fee = budget * s.params.evaluator_fee_bps // 10_000
        service = budget - platform - evaluator_fee
    s.jobs[job.job_id] = replace(job, state=JobState.COMPLETED)
    s.emit("job_completed", sender, job.provider, 0, "", ref, b32(op.reason).hex())
    s.pay(ESCROW_ADDRESS, s.treasury, platform, Flow.PLATFORM_FEE, ref)
    s.pay(ESCROW_ADDRESS, job.evaluator, evaluator_fee, Flow.EVALUATOR_FEE, ref)
    if job.policy:
        service, royalties, dust = royalty_payouts(
            service, job.policy, s.params.royalty_mode, s.assets.__getitem__,
            lambda a: asset_owner(s, a))
        for owner, amount in royalties:
            s.pay(ESCROW_ADDRESS, owner, amount, Flow.ROYALTY, ref)
        s.pay(ESCROW_ADDRESS, s.treasury, dust, Flow.DUST, ref)
    s.pay(ESCROW_ADDRESS, job.provider, service, Flow.SERVICE, ref)


def _refund(s: State, job: Job, state: JobState, kind: str, detail: str) -> None:
    ref = str(job.job_id)
    s.jobs[job.job_id] = replace(job, state=state)
    s.emit(kind, job.evaluator, job.client, 0, "", ref, detail)
    if job.state not in LIVE:
        return
    if state is JobState.REJECTED:  # the evaluator did its work: its deposit is its fee
        s.pay(ESCROW_ADDRESS, job.evaluator, job.eval_deposit, Flow.EVALUATOR_FEE, ref)
        s.pay(ESCROW_ADDRESS, job.client, job.budget, Flow.REFUND, ref)
    else:
        s.pay(ESCROW_ADDRESS, job.client, job.budget + job.eval_deposit, Flow.REFUND, ref)


def reject_job(s: State, sender: Address, op: RejectJob, nonce: int) -> None:
    job = _live_job(s, op.job_id, LIVE, "reject")
    if sender != job.evaluator:
        raise Unauthorized(sender, f"reject job {job.job_id}", f"its evaluator {job.evaluator}")
    _not_expired(s, job, "reject")
    _refund(s, job, JobState.REJECTED, "job_rejected", b32(op.reason).hex())


def claim_refund(s: State, sender: Address, op: ClaimRefund, nonce: int) -> None:
    job = _live_job(s, op.job_id, (JobState.OPEN, *LIVE), "claim the refund of")
    if s.now < job.expires_at:
        raise InvalidState(f"job {job.job_id} expires at tick {job.expires_at}; the refund "
                           f"can be claimed from then (now {s.now})")
    _refund(s, job, JobState.EXPIRED, "job_expired", "")
