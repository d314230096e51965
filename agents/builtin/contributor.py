"""DataContributor: contributes recorded episodes to a data pool, and earns when they are used."""

from __future__ import annotations

from agents.params import Count, PositiveCount, Ticks
from economy import Action, Contribute, Observation

__all__ = ["DataContributor"]


class DataContributor:
    """Contributes `episodes_per_tick` episodes a tick to `pool`, each worth `units` units.

    Episodes are drawn from a finite universe of `universe` distinct recordings (the same
    site recorded by several contributors), so some contributions duplicate content already
    in the pool: the pool refuses them, and they earn nothing.

    Args:
        pool: the data pool's key.
        episodes_per_tick: contributions per tick.
        units: units each episode adds to the contributor's share of the pool.
        universe: distinct episodes that exist.
        ticks: stop contributing after this many ticks (0: never stop).
    """

    def __init__(self, pool: str, episodes_per_tick: Count = 1, units: Count = 1,
                 universe: PositiveCount = 1_000, ticks: Ticks = 0) -> None:
        self.pool = pool
        self.episodes_per_tick = episodes_per_tick
        self.units = units
        self.universe = universe
        self.ticks = ticks

    def reset(self, seed: int) -> None:
        pass

    def act(self, obs: Observation) -> list[Action]:
        if self.ticks and obs.tick > self.ticks:
            return []
        return [Contribute(pool=self.pool, units=self.units,
                           content=f"{self.pool}/episode/{int(obs.rng.integers(self.universe))}"
                           .encode())
                for _ in range(self.episodes_per_tick)]
