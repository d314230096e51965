"""The typed errors the worlds layer raises on purpose."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = ["InvalidPlan", "InvalidSpec", "WorldError"]


class WorldError(TwineconError):
    """Root of every error raised on purpose by a twin, its spec or its checks."""


class InvalidSpec(WorldError, ValueError):
    """A twin spec (or a parameter used to build one) is malformed."""


class InvalidPlan(WorldError, ValueError):
    """A request to a twin (a plan, an order, a solver name) is malformed."""
