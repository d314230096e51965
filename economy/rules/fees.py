"""Fees: a transfer fee split between treasury and burn, and the job market's fees."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FeeRule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeRule:
    """Fee rates in basis points.

    Attributes:
        transfer_fee_bps: of every plain transfer, taken from the amount sent.
        fee_burn_bps: share of a transfer fee burned; the rest goes to the treasury.
        platform_fee_bps: of a completed job's price, to the treasury.
        evaluator_fee_bps: of a completed job's price, to its evaluator.
    """

    transfer_fee_bps: int = 0
    fee_burn_bps: int = 5_000
    platform_fee_bps: int = 200
    evaluator_fee_bps: int = 300

    def ledger_params(self) -> dict[str, object]:
        return {"transfer_fee_bps": self.transfer_fee_bps, "fee_burn_bps": self.fee_burn_bps,
                "platform_fee_bps": self.platform_fee_bps,
                "evaluator_fee_bps": self.evaluator_fee_bps}
