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
    ROYALTY = "royalty"  # a share of a service payment to an ancestor asset's owner
    DUST = "dust"  # what exact integer splits leave over, to the treasury
    LEASE_LOCK = "lease_lock"  # a compute buyer's worst case locked in the Compute module
    LICENCE = "licence"  # the licence fee per CU of sim time, to the twin's owner
    LEASE_REFUND = "lease_refund"  # the unused part of a lease lock, back to the buyer
    STAKE = "stake"  # tokens moved into a compute stake
    UNSTAKE = "unstake"  # stake returned to its owner
    SLASH = "slash"  # the beneficiary's share of a slashed stake
    DATA = "data"  # a data use paid to a pool's contributors, pro rata to their units
    DATA_FEE = "data_fee"  # the protocol's share of a data use, to the treasury
    POOL_FEE = "pool_fee"  # the pool owner's share of a data use
    REWARD = "reward"  # emissions minted for useful work
