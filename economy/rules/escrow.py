"""Escrow: whether the evaluator is paid when it rejects, and the shortest job expiry."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EscrowRule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EscrowRule:
    """Job escrow rules (ERC-8183 with ACP's fees).

    Attributes:
        evaluator_paid_on_reject: the client deposits the evaluator's fee beside the budget
            when it funds a job, and the evaluator earns it whether it completes or rejects
            (so rejecting is not unpaid work); an expired job returns the deposit too.
            Off: the evaluator's fee comes out of the budget, on completion only.
        min_expiry: the fewest ticks between posting a job and its expiry.
    """

    evaluator_paid_on_reject: bool = False
    min_expiry: int = 2

    def ledger_params(self) -> dict[str, object]:
        return {"evaluator_paid_on_reject": self.evaluator_paid_on_reject,
                "min_expiry": self.min_expiry}
