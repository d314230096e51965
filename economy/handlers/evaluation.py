"""The evaluation market's action: evaluators post the least fee they evaluate a job for."""

from __future__ import annotations

from collections.abc import Mapping

from chain import Address, Post
from economy import actions as A
from economy.errors import ActionRejected
from economy.observation import EvaluatorQuote
from economy.protocols import ActionHandler, Participant
from economy.roles import Role
from economy.settler import Settler

__all__ = ["EvaluationHandler"]


class EvaluationHandler:
    """Evaluators' fee quotes (`OfferEvaluation`), published on the ledger as posts."""

    def __init__(self, *, settler: Settler) -> None:
        self._settler = settler
        self._quotes: dict[Address, int] = {}
        self._view: tuple[EvaluatorQuote, ...] = ()

    def handlers(self) -> Mapping[type[A.Action], ActionHandler]:
        return {A.OfferEvaluation: self.offer}

    def offer(self, p: Participant, a: A.OfferEvaluation) -> bool:
        if p.role is not Role.EVALUATOR:
            raise ActionRejected("not_evaluator", "only evaluators may offer evaluations")
        result = self._settler.execute(p.identity, Post(topic="eval_offer", ref=a.min_fee))
        if result.ok:
            self._quotes[p.address] = a.min_fee
            self._view = tuple(EvaluatorQuote(evaluator=e, min_fee=f)
                               for e, f in sorted(self._quotes.items(), key=lambda q: q[::-1]))
        return result.ok

    @property
    def quotes(self) -> tuple[EvaluatorQuote, ...]:
        """The evaluators' quotes, cheapest first (ties by address)."""
        return self._view
