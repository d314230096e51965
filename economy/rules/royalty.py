"""Royalties: how a service payment climbs the IP graph (the ledger splits it exactly)."""

from __future__ import annotations

from dataclasses import dataclass

from chain import RoyaltyMode
from economy.rules._params import check, ledger_param, ledger_values

__all__ = ["ROYALTY_MODES", "RoyaltyMode", "RoyaltyRule"]

#: "lrp": a parent's share is of what its child receives, so shares compound up the graph;
#: "lap": every ancestor takes its share of the payment itself, once (Story Protocol).
ROYALTY_MODES = tuple(RoyaltyMode)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoyaltyRule:
    """The royalty mode the ledger pays service payments up the IP graph with."""

    mode: str = ledger_param("royalty_mode", doc=(
        "lrp: shares are relative and compound up the graph; lap: every ancestor takes its "
        "share of the payment itself, once"))

    def __post_init__(self) -> None:
        check(self)

    def ledger_params(self) -> dict[str, object]:
        return ledger_values(self)
