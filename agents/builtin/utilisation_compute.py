"""UtilisationSeller: a compute seller that prices sim time to how much of it sells.

Its floor is what a CU costs it: the real cost of running it (`compute_cost_per_cu` in
`obs.rules`) grossed up for the transfer fee on what it is paid, so a sale at the floor never
loses money. It asks the floor x `1 + margin` and moves the margin each tick by what it saw
(`obs.market`, `obs.pnl`):

- nothing of its own sold while the market leased CU: it is priced out, and cuts the margin;
- the market's utilisation above `high`: capacity is scarce, and it raises the margin;
- the market's utilisation below `low`: capacity is idle, and it cuts the margin.

With rivals and spare capacity the price falls toward cost (Bertrand); with capacity short it
rises until demand fits.
"""

from __future__ import annotations

from agents.params import BaseUnits, ComputeUnits, NonNegative, Share
from economy import Action, Observation, Offer

__all__ = ["UtilisationSeller"]


class UtilisationSeller:
    """Sells sim time at a price that follows utilisation.

    Args:
        capacity_cu: compute units it can serve per tick.
        margin: its starting margin over cost (1.0 = twice its cost).
        step: the relative change of the margin per tick (0.1 = 10 %).
        low, high: the market utilisation below which it cuts and above which it raises.
        min_price_per_cu: its floor when running a CU costs it nothing, base units.
    """

    def __init__(self, capacity_cu: ComputeUnits = 2_000_000, margin: NonNegative = 1.0,
                 step: Share = 0.1, low: Share = 0.5, high: Share = 0.85,
                 min_price_per_cu: BaseUnits = 1) -> None:
        self.capacity_cu = capacity_cu
        self.margin0 = margin
        self.step = step
        self.low = low
        self.high = high
        self.min_price_per_cu = min_price_per_cu
        self.reset(0)

    def reset(self, seed: int) -> None:
        self.margin = self.margin0
        self._income = 0
        self._posted: int | None = None

    def floor(self, obs: Observation) -> float:
        """Its cost per CU, grossed up for the transfer fee on its pay, base units."""
        rules = obs.rules
        if rules is None:
            return float(self.min_price_per_cu)
        cost = max(rules.compute_cost_per_cu, self.min_price_per_cu)
        return cost * 10_000 / max(1, 10_000 - rules.transfer_fee_bps)

    def act(self, obs: Observation) -> list[Action]:
        income = obs.pnl.sim_time if obs.pnl is not None else 0
        sold, self._income = income > self._income, income
        last = obs.market.ticks[-1] if obs.market is not None and obs.market.ticks else None
        if last is not None and self._posted is not None:
            if not sold and last.cu_leased:
                self.margin *= 1 - self.step
            elif last.utilisation > self.high:
                self.margin = self.margin * (1 + self.step) + self.step / 10
            elif last.utilisation < self.low:
                self.margin *= 1 - self.step
        price = int(self.floor(obs) * (1 + self.margin)) + 1
        if price == self._posted:
            return []
        self._posted = price
        return [Offer(price_per_cu=price, capacity_cu=self.capacity_cu)]
