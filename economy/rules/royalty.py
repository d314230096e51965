"""Royalties: how a service payment climbs the IP graph (the ledger splits it exactly)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROYALTY_MODES", "RoyaltyRule"]

#: "lrp": a parent's share is of what its child receives, so shares compound up the graph;
#: "lap": every ancestor takes its share of the payment itself, once (Story Protocol).
ROYALTY_MODES = ("lrp", "lap")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoyaltyRule:
    """Attributes:
        mode: "lrp" (relative, compounding) or "lap" (absolute, each ancestor once).
    """

    mode: str = "lrp"

    def ledger_params(self) -> dict[str, object]:
        return {"royalty_mode": self.mode}
