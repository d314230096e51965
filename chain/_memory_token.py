"""The reference rules of the Token contract: transfers (with their fee) and mints.

Each rule is a function of the ledger's `State`, named like the operation it applies
(chain.ops.TABLE names the module of each); when the action breaks a rule it raises a
ChainError before changing anything.
"""

from __future__ import annotations

from chain._memory_state import MODULES, State, checked, positive
from chain.errors import CapExceeded, InsufficientFunds, InvalidState, Unauthorized
from chain.flows import Flow
from chain.identity import Address
from chain.ops import Mint, Transfer
from chain.protocols import BURN_ADDRESS

__all__ = ["mint", "transfer"]

#: Flows only the ledger's own rules may record; a Transfer may not claim them.
_RESERVED_FLOWS = frozenset({
    Flow.GENESIS, Flow.MINT, Flow.TRANSFER_FEE, Flow.BURN, Flow.ESCROW_FUND, Flow.SERVICE,
    Flow.PLATFORM_FEE, Flow.EVALUATOR_FEE, Flow.REFUND, Flow.ROYALTY, Flow.DUST,
    Flow.LEASE_LOCK, Flow.LICENCE, Flow.LEASE_REFUND, Flow.STAKE, Flow.UNSTAKE, Flow.SLASH,
    Flow.DATA, Flow.DATA_FEE, Flow.POOL_FEE,
})


def transfer(s: State, sender: Address, op: Transfer, nonce: int) -> None:
    amount = positive(op.amount)
    to = checked(op.to, "to")
    if to in MODULES:
        raise InvalidState(f"transfer to {to} is not allowed; module accounts move tokens "
                           "only through their rules (jobs, leases, stakes)")
    if op.flow in _RESERVED_FLOWS:
        raise InvalidState(f"flow {op.flow!r} is recorded by the ledger's own rules; tag a "
                           "transfer 'payment', 'compute' or a flow of your own")
    held = s.balances.get(sender, 0)
    if held < amount:
        raise InsufficientFunds(sender, amount, held)
    s.pay_with_fee(sender, to, amount, op.flow, str(op.ref) if op.ref else "")


def mint(s: State, sender: Address, op: Mint, nonce: int) -> None:
    if sender != s.protocol:
        raise Unauthorized(sender, "mint", f"the protocol account {s.protocol}")
    amount = positive(op.amount)
    to = checked(op.to, "to")
    if to in MODULES:
        raise InvalidState(f"cannot mint to {to}")
    if s.minted + amount > s.params.supply_cap:
        raise CapExceeded(amount, s.minted, s.params.supply_cap)
    s.minted += amount
    s.credit(to, amount)
    s.emit("mint", BURN_ADDRESS, to, amount, op.flow, "")
