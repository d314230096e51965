"""ComputeSeller: posts a fixed price per compute unit and a capacity per tick."""

from __future__ import annotations

from agents.params import BaseUnits, Bps, ComputeUnits
from economy import Action, Observation, Offer

__all__ = ["ComputeSeller"]


class ComputeSeller:
    """Sells sim time at a posted price.

    Args:
        price_per_cu: base units per compute unit (its ask in sealed and call markets).
        capacity_cu: compute units it can serve per tick.
        overclaim_bps: how much more than it metered it claims for each lease (a dishonest
            provider, for testing spot checks and slashing); 0 is honest.
    """

    def __init__(self, price_per_cu: BaseUnits = 10**12, capacity_cu: ComputeUnits = 2_000_000,
                 overclaim_bps: Bps = 0) -> None:
        self.price_per_cu = price_per_cu
        self.capacity_cu = capacity_cu
        self.overclaim_bps = overclaim_bps
        self._posted = False

    def reset(self, seed: int) -> None:
        self._posted = False

    def act(self, observation: Observation) -> list[Action]:
        if self._posted:
            return []
        self._posted = True
        return [Offer(price_per_cu=self.price_per_cu, capacity_cu=self.capacity_cu,
                      overclaim_bps=self.overclaim_bps)]
