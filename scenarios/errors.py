"""Errors of the scenarios layer: a scenario that cannot be read, validated or built."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = ["FaultLimitReached", "ScenarioError"]


class ScenarioError(TwineconError, ValueError):
    """A scenario is malformed; the message names the file, the key, and the fix."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + problem)
        self.source = source
        self.key = key


class FaultLimitReached(TwineconError):
    """A run stopped because its policies faulted `max_faults` times (`twinecon run
    --max-faults N`, exit code 3): no run folder is written.

    Args:
        faults: the policy faults recorded so far.
        tick: the tick at whose end the run stopped (0: at build, a `reset` that failed).
        last: the last fault, "label (policy): what happened".
    """

    def __init__(self, faults: int, tick: int, last: str) -> None:
        last = " ".join(last.split())  # one line, whatever the policy's message held
        super().__init__(f"stopped at tick {tick}: {faults} policy fault(s), the most "
                         f"max_faults allows; last: {last}")
        self.faults = faults
        self.tick = tick
        self.last = last
