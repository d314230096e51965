"""Idle: takes no action (a twin owner collecting nothing yet, or a control group)."""

from __future__ import annotations

from economy import Action, Observation

__all__ = ["Idle"]


class Idle:
    """Does nothing, every tick."""

    def act(self, observation: Observation) -> list[Action]:
        return []
