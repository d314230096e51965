"""The reference rules of the Compute contract: stakes, slashes and lock-then-claim leases.

Each rule is a function of the ledger's `State`, named like the operation it applies
(chain.ops.TABLE names the module of each); when the action breaks a rule it raises a
ChainError before changing anything.
"""

from __future__ import annotations

from dataclasses import replace

from chain._memory_state import MODULES, State, b32, checked, positive
from chain.deployment import COMPUTE_ADDRESS
from chain.errors import InsufficientFunds, InvalidState, Unauthorized
from chain.flows import Flow
from chain.identity import Address
from chain.ops import ClaimLease, CloseLease, OpenLease, Slash, Stake, Unstake, job_id_for
from chain.protocols import BURN_ADDRESS, Lease, LeaseState

__all__ = ["claim_lease", "close_lease", "open_lease", "slash", "stake", "unstake"]


def stake(s: State, sender: Address, op: Stake, nonce: int) -> None:
    amount = positive(op.amount)
    s.debit(sender, amount)
    s.credit(COMPUTE_ADDRESS, amount)
    s.stakes[sender] = s.stakes.get(sender, 0) + amount
    s.emit("transfer", sender, COMPUTE_ADDRESS, amount, Flow.STAKE, sender)


def unstake(s: State, sender: Address, op: Unstake, nonce: int) -> None:
    amount = positive(op.amount)
    staked = s.stakes.get(sender, 0)
    if amount > staked:
        raise InsufficientFunds(sender, amount, staked)
    if s.providing.get(sender):
        raise InvalidState(f"{sender} provides {s.providing[sender]} open lease(s); "
                           "unstake after they are claimed or closed")
    s.stakes[sender] = staked - amount
    s.pay(COMPUTE_ADDRESS, sender, amount, Flow.UNSTAKE, sender)


def slash(s: State, sender: Address, op: Slash, nonce: int) -> None:
    if sender != s.protocol:
        raise Unauthorized(sender, "slash", f"the protocol account {s.protocol}")
    amount = positive(op.amount)
    offender = checked(op.offender, "offender")
    beneficiary = checked(op.beneficiary, "beneficiary")
    if beneficiary in MODULES:
        raise InvalidState(f"a slash cannot reward {beneficiary}")
    staked = s.stakes.get(offender, 0)
    if amount > staked:
        raise InsufficientFunds(offender, amount, staked)
    reward = amount * s.params.slash_reward_bps // 10_000
    s.stakes[offender] = staked - amount
    s.emit("slashed", offender, beneficiary, 0, "", str(op.ref) if op.ref else "",
           str(amount))
    s.pay(COMPUTE_ADDRESS, beneficiary, reward, Flow.SLASH, offender)
    if amount - reward:
        s.balances[COMPUTE_ADDRESS] -= amount - reward
        s.burned += amount - reward
        s.emit("burn", COMPUTE_ADDRESS, BURN_ADDRESS, amount - reward, Flow.BURN,
               offender)


def open_lease(s: State, sender: Address, op: OpenLease, nonce: int) -> None:
    provider = checked(op.provider, "provider")
    if provider in MODULES or provider == sender:
        raise InvalidState("the provider must be an account other than the buyer, the "
                           "modules and the zero address")
    twin = s.twins.get(op.twin)
    if twin is None:
        raise InvalidState(f"no twin {op.twin!r} is registered")
    positive(op.cu, "cu")
    if op.expires_at <= s.now:
        raise InvalidState(f"expires_at {op.expires_at} must be after the current tick "
                           f"{s.now}")
    staked = s.stakes.get(provider, 0)
    if staked < s.params.min_stake:
        raise InvalidState(f"provider {provider} has staked {staked}, under the minimum "
                           f"{s.params.min_stake}")
    lease_id = job_id_for(sender, nonce)
    if lease_id in s.leases:
        raise InvalidState(f"lease id {lease_id} already exists")
    lease = Lease(lease_id=lease_id, buyer=sender, provider=provider, twin=op.twin,
                  cu=op.cu, price_per_cu=op.price_per_cu,
                  licence_per_cu=twin.licence_per_cu, expires_at=op.expires_at)
    s.debit(sender, lease.locked)
    s.credit(COMPUTE_ADDRESS, lease.locked)
    s.leases[lease_id] = lease
    s.providing[provider] = s.providing.get(provider, 0) + 1
    ref = str(lease_id)
    s.emit("lease_opened", sender, provider, 0, "", ref, str(op.cu))
    if lease.locked:
        s.emit("transfer", sender, COMPUTE_ADDRESS, lease.locked, Flow.LEASE_LOCK, ref)


def _open(s: State, lease_id: int, action: str) -> Lease:
    lease = s.leases.get(lease_id)
    if lease is None:
        raise InvalidState(f"no lease {lease_id}")
    if lease.state is not LeaseState.OPEN:
        raise InvalidState(f"cannot {action} lease {lease_id} in state {lease.state.value}")
    return lease


def _end_lease(s: State, lease: Lease, state: LeaseState, cu_used: int) -> None:
    s.leases[lease.lease_id] = replace(lease, state=state, cu_used=cu_used)
    left = s.providing[lease.provider] - 1
    if left:
        s.providing[lease.provider] = left
    else:
        del s.providing[lease.provider]


def claim_lease(s: State, sender: Address, op: ClaimLease, nonce: int) -> None:
    lease = _open(s, op.lease_id, "claim")
    if sender != lease.provider:
        raise Unauthorized(sender, f"claim lease {lease.lease_id}",
                           f"its provider {lease.provider}")
    if s.now >= lease.expires_at:
        raise InvalidState(f"lease {lease.lease_id} expired at tick {lease.expires_at}; "
                           "its lock returns to the buyer")
    if type(op.cu) is not int or not 0 <= op.cu <= lease.cu:
        raise InvalidState(f"a claim must be in [0, {lease.cu}] CU (the lock), got {op.cu}")
    _end_lease(s, lease, LeaseState.CLAIMED, op.cu)
    ref = str(lease.lease_id)
    compute, licence = op.cu * lease.price_per_cu, op.cu * lease.licence_per_cu
    s.emit("lease_claimed", sender, lease.buyer, 0, "", ref, b32(op.receipt).hex())
    s.pay_with_fee(COMPUTE_ADDRESS, lease.provider, compute, Flow.COMPUTE, ref)
    s.pay(COMPUTE_ADDRESS, s.twins[lease.twin].owner, licence, Flow.LICENCE, ref)
    s.pay(COMPUTE_ADDRESS, lease.buyer, lease.locked - compute - licence,
          Flow.LEASE_REFUND, ref)


def close_lease(s: State, sender: Address, op: CloseLease, nonce: int) -> None:
    lease = _open(s, op.lease_id, "close")
    if s.now < lease.expires_at:
        raise InvalidState(f"lease {lease.lease_id} runs until tick {lease.expires_at}; "
                           f"it can be closed from then (now {s.now})")
    _end_lease(s, lease, LeaseState.EXPIRED, 0)
    ref = str(lease.lease_id)
    s.emit("lease_expired", sender, lease.buyer, 0, "", ref, "")
    s.pay(COMPUTE_ADDRESS, lease.buyer, lease.locked, Flow.LEASE_REFUND, ref)
