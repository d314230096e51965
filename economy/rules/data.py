"""Data: the protocol's share of each metered data use (pool owners set their own fee)."""

from __future__ import annotations

from dataclasses import dataclass

from economy.rules._params import check, ledger_param, ledger_values

__all__ = ["DataRule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DataRule:
    """Of each data use's price: `fee_bps` to the treasury, the pool owner's fee next, and the
    rest to the pool's contributors pro rata to their units (the ledger splits it)."""

    fee_bps: int = ledger_param("data_fee_bps", doc="the protocol's share of each data use")

    def __post_init__(self) -> None:
        check(self)

    def ledger_params(self) -> dict[str, object]:
        return ledger_values(self)
