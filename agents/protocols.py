"""The Policy protocol: the one plug-in point for agent developers."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from economy import Action, Observation

__all__ = ["Policy"]


@runtime_checkable
class Policy(Protocol):
    """Decides an agent's actions each tick.

    Implement `act`; `reset(seed)` is optional and called once before the first tick with the
    agent's own seed. A policy is built from the scenario as `Class(**params)`.

    Example:
        class AlwaysUnderbid:
            def __init__(self, discount_bps: int = 500) -> None:
                self.discount_bps = discount_bps

            def act(self, obs: Observation) -> list[Action]:
                return [Bid(job_id=j.job_id, price=j.budget * (10_000 - self.discount_bps)
                            // 10_000) for j in obs.open_jobs]
    """

    def act(self, observation: Observation) -> list[Action]: ...
