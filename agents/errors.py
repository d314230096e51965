"""Errors of the agents layer."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = ["AgentError", "PolicyFault", "PolicyLoadError", "PolicyParamError", "WireError"]


class AgentError(TwineconError):
    """Root of the agents layer's errors."""


class PolicyLoadError(AgentError, ValueError):
    """A policy reference cannot be loaded or instantiated."""


class PolicyParamError(PolicyLoadError):
    """A policy param's value its constructor's annotation refuses (`agents.params`).

    Args:
        message: the whole message: the param, the value, what was expected and the fix.
        param: the param's name (a scenario reports it as `agents[i].params.<param>`).
    """

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


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
