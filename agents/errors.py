"""Errors of the agents layer."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = ["AgentError", "PolicyFault", "PolicyLoadError", "WireError"]


class AgentError(TwineconError):
    """Root of the agents layer's errors."""


class PolicyLoadError(AgentError, ValueError):
    """A policy reference cannot be loaded or instantiated."""


class PolicyFault(AgentError, RuntimeError):
    """A policy running in a worker process failed one call: it raised, timed out, died, or
    answered something that is not the wire form. The message says which; the agent records
    it as a `policy_fault` and the run goes on."""


class WireError(AgentError, ValueError):
    """A value that is not the policy wire form (`agents.wire`), naming where it is.

    Args:
        path: where in the message, e.g. ``actions[2].price``.
        expected: what the wire form wants there.
        got: what was there.
    """

    def __init__(self, path: str, expected: str, got: str) -> None:
        super().__init__(f"{path}: expected {expected}, got {got}; see docs/policy-wire.md")
        self.path = path
        self.expected = expected
        self.got = got
