"""Errors of the scenarios layer: a scenario that cannot be read, validated or built."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = ["ScenarioError"]


class ScenarioError(TwineconError, ValueError):
    """A scenario is malformed; the message names the file, the key, and the fix."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + problem)
        self.source = source
        self.key = key
