"""Protocol rules a designer swaps by changing the scenario: one small module per rule.

Each rule is a frozen value with the scenario's parameters and the logic the economy runs
for it. Rules the ledger enforces (escrow, royalty mode, stakes, data fees) also say which
`LedgerParams` they set, so the memory reference and the contracts enforce the same rule.

- `fees`: the transfer fee and its burn share, the platform and evaluator fees.
- `escrow`: evaluator paid on reject or not, the shortest job expiry.
- `compute`: the clearing rule of sim time, lease length, stake, spot checks, slashing.
- `royalty`: how a service payment climbs the IP graph (lrp or lap).
- `data`: the protocol's share of each data use.
- `emission`: new tokens per epoch for useful work (none, constant, halving,
  burn-and-mint), under a cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from economy.rules.compute import ComputeRule
from economy.rules.data import DataRule
from economy.rules.emission import EMISSION_SCHEDULES, EmissionRule
from economy.rules.escrow import EscrowRule
from economy.rules.fees import FeeRule
from economy.rules.royalty import RoyaltyRule

__all__ = [
    "EMISSION_SCHEDULES",
    "ComputeRule",
    "DataRule",
    "EmissionRule",
    "EscrowRule",
    "FeeRule",
    "RoyaltyRule",
    "Rules",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """Every protocol rule of a run."""

    fees: FeeRule = field(default_factory=FeeRule)
    escrow: EscrowRule = field(default_factory=EscrowRule)
    compute: ComputeRule = field(default_factory=ComputeRule)
    royalty: RoyaltyRule = field(default_factory=RoyaltyRule)
    data: DataRule = field(default_factory=DataRule)
    emission: EmissionRule = field(default_factory=EmissionRule)

    def ledger_params(self) -> dict[str, object]:
        """The `LedgerParams` fields these rules set (the ledger enforces them)."""
        out: dict[str, object] = {}
        for rule in (self.fees, self.escrow, self.compute, self.royalty, self.data):
            out.update(rule.ledger_params())
        return out
