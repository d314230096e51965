"""Plain transfers between accounts (`Pay`)."""

from __future__ import annotations

from collections.abc import Mapping

from chain import Flow, Transfer
from economy import actions as A
from economy.protocols import ActionHandler, Participant
from economy.settler import Settler

__all__ = ["TransferHandler"]


class TransferHandler:
    """Payments: a transfer of the sender's own tokens, tagged `payment`."""

    def __init__(self, *, settler: Settler) -> None:
        self._settler = settler

    def handlers(self) -> Mapping[type[A.Action], ActionHandler]:
        return {A.Pay: self.pay}

    def pay(self, p: Participant, a: A.Pay) -> bool:
        return self._settler.execute(p.identity, Transfer(to=a.to, amount=a.amount,
                                                          flow=Flow.PAYMENT)).ok
