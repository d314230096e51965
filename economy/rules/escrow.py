"""Escrow: whether the evaluator is paid when it rejects, and the shortest job expiry."""

from __future__ import annotations

from dataclasses import dataclass

from economy.rules._params import check, ledger_param, ledger_values

__all__ = ["EscrowRule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EscrowRule:
    """Job escrow rules (ERC-8183 with ACP's fees), enforced by the ledger.

    With `evaluator_paid_on_reject` the client deposits the evaluator's fee beside the budget
    when it funds a job, and the evaluator earns it whether it completes or rejects (so
    rejecting is not unpaid work); an expired job returns the deposit too. Off, the
    evaluator's fee comes out of the budget, on completion only.
    """

    evaluator_paid_on_reject: bool = ledger_param(
        "evaluator_paid_on_reject", doc="the client deposits the evaluator's fee beside the "
        "budget and the evaluator earns it on reject as on complete")
    min_expiry: int = ledger_param("min_expiry",
                                   doc="fewest ticks from posting a job to its expiry")

    def __post_init__(self) -> None:
        check(self)

    def ledger_params(self) -> dict[str, object]:
        return ledger_values(self)
