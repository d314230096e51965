"""A custom compute seller: prices sim time just below the cheapest rival, never below its own
cost, and re-posts only when its price moves.

Its floor is what running a CU costs (`obs.rules.compute_cost_per_cu`) plus `margin_bps`,
grossed up for the transfer fee on its pay; the rivals' prices are the posted quotes
(`obs.quotes`). Check it: `twinecon check-policy examples/rival_seller.py:RivalSeller`.
"""

from __future__ import annotations

from agents.params import Bps, ComputeUnits, MarginBps
from economy import Action, Observation, Offer


class RivalSeller:
    """Asks `step_bps` below the cheapest rival's price per CU, or twice its floor alone."""

    role = "compute"  # the seat `twinecon check-policy` puts it in

    def __init__(self, capacity_cu: ComputeUnits = 2_000_000, step_bps: Bps = 500,
                 margin_bps: MarginBps = 2_000) -> None:
        self.capacity_cu = capacity_cu
        self.step_bps = step_bps
        self.margin_bps = margin_bps
        self.posted: int | None = None

    def reset(self, seed: int) -> None:
        self.posted = None

    def act(self, obs: Observation) -> list[Action]:
        rules = obs.rules
        if rules is None:
            return []
        floor = (rules.compute_cost_per_cu * (10_000 + self.margin_bps)
                 // max(1, 10_000 - rules.transfer_fee_bps)) + 1
        rivals = [q.price_per_cu for q in obs.quotes
                  if q.provider != obs.address and q.capacity_left_cu > 0]
        price = max(floor, min(rivals) * (10_000 - self.step_bps) // 10_000) if rivals \
            else 2 * floor
        if price == self.posted:
            return []
        self.posted = price
        return [Offer(price_per_cu=price, capacity_cu=self.capacity_cu)]
