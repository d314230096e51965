"""Data: the protocol's share of each metered data use (pool owners set their own fee)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DataRule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DataRule:
    """Attributes:
        fee_bps: of each data use's price, to the treasury; the pool owner's fee next, and
            the rest to the pool's contributors pro rata to their units.
    """

    fee_bps: int = 0

    def ledger_params(self) -> dict[str, object]:
        return {"data_fee_bps": self.fee_bps}
