"""A custom data contributor: records new episodes into the best-paying data pool while they
earn, and slows down when they stop earning.

The pools and their prices are in `obs.rules.pools`; what its episodes have earned is
`obs.pnl.data`. Each episode's content is new (its address and a counter), so the pool never
refuses it as a duplicate. Check it: `twinecon check-policy
examples/pool_contributor.py:PoolContributor`.
"""

from __future__ import annotations

from agents.params import PositiveCount
from economy import Action, Contribute, Observation


class PoolContributor:
    """Contributes `episodes_per_tick` episodes of `units` units a tick; after `patience`
    ticks without new income, one episode every `patience` ticks."""

    role = "data"  # the seat `twinecon check-policy` puts it in

    def __init__(self, episodes_per_tick: PositiveCount = 2, units: PositiveCount = 1,
                 patience: PositiveCount = 10) -> None:
        self.episodes_per_tick = episodes_per_tick
        self.units = units
        self.patience = patience
        self.reset(0)

    def reset(self, seed: int) -> None:
        self.income = 0  # data income seen so far
        self.idle = 0  # ticks since it last grew
        self.sent = 0  # episodes recorded

    def act(self, obs: Observation) -> list[Action]:
        pools = obs.rules.pools if obs.rules is not None else ()
        if not pools:
            return []
        income = obs.pnl.data if obs.pnl is not None else 0
        self.idle = 0 if income > self.income else self.idle + 1
        self.income = income
        if self.idle < self.patience:
            n = self.episodes_per_tick
        else:
            n = 1 if obs.tick % self.patience == 0 else 0
        pool = max(pools, key=lambda p: (p.price_per_unit, p.key))
        actions: list[Action] = []
        for _ in range(n):
            self.sent += 1
            actions.append(Contribute(pool=pool.key, units=self.units,
                                      content=f"{obs.address}/episode/{self.sent}".encode()))
        return actions
