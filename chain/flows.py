"""Flow tags: the purpose every movement of tokens is recorded under."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Flow"]


class Flow(StrEnum):
    """What a movement of tokens was for.

    The ledger knows purposes, not who the parties are; the economy joins these tags with
    the provider class of each address to build the value-flow matrix.
    """

    GENESIS = "genesis"  # initial allocation minted by the protocol
    MINT = "mint"  # emissions minted by the protocol
    PAYMENT = "payment"  # a plain transfer between accounts
    COMPUTE = "compute"  # sim time bought from a compute provider
    TRANSFER_FEE = "transfer_fee"  # the treasury's share of a transfer fee
    BURN = "burn"  # the burned share of a transfer fee
    ESCROW_FUND = "escrow_fund"  # client budget moved into job escrow
    SERVICE = "service"  # escrow released to the provider on completion
    PLATFORM_FEE = "platform_fee"  # escrow released to the treasury on completion
    EVALUATOR_FEE = "evaluator_fee"  # escrow released to the evaluator on completion
    REFUND = "refund"  # escrow returned to the client on reject or expiry
