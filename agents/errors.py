"""Errors of the agents layer."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = ["AgentError", "PolicyLoadError"]


class AgentError(TwineconError):
    """Root of the agents layer's errors."""


class PolicyLoadError(AgentError, ValueError):
    """A policy reference cannot be loaded or instantiated."""
