"""Fees: a transfer fee split between treasury and burn, and the job market's fees."""

from __future__ import annotations

from dataclasses import dataclass

from economy.rules._params import RuleError, check, ledger_param, ledger_values

__all__ = ["FeeRule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeRule:
    """Fee rates in basis points (the ledger enforces them; scenario section `[rules.fees]`,
    formerly keys of `[ledger]`, which are still read)."""

    transfer_fee_bps: int = ledger_param("transfer_fee_bps", doc=(
        "of every plain transfer and compute payment, taken from the amount sent"))
    fee_burn_bps: int = ledger_param("fee_burn_bps", doc=(
        "share of a transfer fee burned; the rest goes to the treasury"))
    platform_fee_bps: int = ledger_param("platform_fee_bps",
                                         doc="of a completed job's price, to the treasury")
    evaluator_fee_bps: int = ledger_param("evaluator_fee_bps",
                                          doc="of a completed job's price, to its evaluator")

    def __post_init__(self) -> None:
        check(self)
        if self.platform_fee_bps + self.evaluator_fee_bps > 10_000:
            raise RuleError("FeeRule", "platform_fee_bps + evaluator_fee_bps",
                            "at most 10000 (the whole price)",
                            self.platform_fee_bps + self.evaluator_fee_bps)

    def ledger_params(self) -> dict[str, object]:
        return ledger_values(self)
