"""The typed errors the worlds layer raises on purpose."""

from __future__ import annotations

from collections.abc import Iterable

from twinecon.errors import TwineconError, suggest

__all__ = ["InvalidPlan", "InvalidSpec", "UnknownKind", "UnknownTier", "WorldError"]


class WorldError(TwineconError):
    """Root of every error raised on purpose by a twin, its spec or its checks."""


class InvalidSpec(WorldError, ValueError):
    """A twin spec (or a parameter used to build one) is malformed."""


class InvalidPlan(WorldError, ValueError):
    """A request to a twin (a plan, an order, a solver name) is malformed."""


class UnknownTier(WorldError, ValueError):
    """A twin was asked for a fidelity tier it does not offer.

    Attributes:
        kind: the twin's kind, e.g. "logistics".
        tier: the tier asked for.
        offered: the tiers the twin offers.
    """

    code = "bad_tier"

    def __init__(self, kind: str, tier: object, offered: Iterable[str]) -> None:
        self.kind = kind
        self.tier = tier
        self.offered = tuple(str(t) for t in offered)
        super().__init__(
            f"the {kind} twin has no tier {tier!r}; it offers {', '.join(self.offered)}"
            f"{suggest(str(tier).upper(), self.offered)}: ask for one of those"
        )


class UnknownKind(WorldError, ValueError):
    """A twin kind that is not registered (see `worlds.registry`).

    Attributes:
        kind: the kind asked for.
        known: the registered kinds.
    """

    def __init__(self, kind: object, known: Iterable[str]) -> None:
        self.kind = kind
        self.known = tuple(known)
        super().__init__(
            f"no twin kind {kind!r} is registered{suggest(str(kind), self.known)}; "
            f"registered: {', '.join(self.known)} (add one with worlds.registry.register)"
        )
