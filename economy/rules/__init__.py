"""Protocol rules a designer swaps by changing the scenario: one small module per rule.

Each rule is a frozen value with the scenario's parameters and the logic the economy runs
for it. Its fields carry their defaults, bounds, choices and meaning (`specs(Rule)`): the
scenario schema's `[rules.<section>]` tables are derived from them. Rules the ledger enforces
(fees, escrow, royalty mode, stakes, data fees) take their defaults from `chain.LedgerParams`
and say which `LedgerParams` they set, so the memory reference and the contracts enforce the
same rule.

- `fees`: the transfer fee and its burn share, the platform and evaluator fees.
- `award`: which bid wins a job and what it is paid (lowest price, or a scoring auction
  that prices expected quality, first- or second-score).
- `escrow`: evaluator paid on reject or not, the shortest job expiry.
- `compute`: the clearing rule of sim time, lease length, stake, spot checks, slashing.
- `royalty`: how a service payment climbs the IP graph (lrp or lap).
- `data`: the protocol's share of each data use.
- `emission`: new tokens per epoch for useful work (none, constant, halving,
  burn-and-mint), under a cap.

To add a rule: a module here with a frozen dataclass whose fields are `param(...)` (or
`ledger_param(...)`), a field of `Rules` and an entry in `SECTIONS`; the scenario schema picks
it up as `[rules.<section>]`; the economy's service that runs it reads `model.rules.<section>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from economy.rules._params import ParamSpec, RuleError, specs
from economy.rules.award import AWARD_RULES, AwardRule, AwardRuleName, ScorePricing
from economy.rules.compute import CLEARING_RULES, ClearingRule, ComputeRule
from economy.rules.data import DataRule
from economy.rules.emission import EMISSION_SCHEDULES, EmissionRule, EmissionSchedule
from economy.rules.escrow import EscrowRule
from economy.rules.fees import FeeRule
from economy.rules.royalty import ROYALTY_MODES, RoyaltyMode, RoyaltyRule

__all__ = [
    "AWARD_RULES",
    "CLEARING_RULES",
    "EMISSION_SCHEDULES",
    "ROYALTY_MODES",
    "SECTIONS",
    "AwardRule",
    "AwardRuleName",
    "ClearingRule",
    "ComputeRule",
    "DataRule",
    "EmissionRule",
    "EmissionSchedule",
    "EscrowRule",
    "FeeRule",
    "ParamSpec",
    "RoyaltyMode",
    "RoyaltyRule",
    "RuleError",
    "Rules",
    "ScorePricing",
    "specs",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """Every protocol rule of a run."""

    fees: FeeRule = field(default_factory=FeeRule)
    award: AwardRule = field(default_factory=AwardRule)
    escrow: EscrowRule = field(default_factory=EscrowRule)
    compute: ComputeRule = field(default_factory=ComputeRule)
    royalty: RoyaltyRule = field(default_factory=RoyaltyRule)
    data: DataRule = field(default_factory=DataRule)
    emission: EmissionRule = field(default_factory=EmissionRule)

    def ledger_params(self) -> dict[str, object]:
        """The `LedgerParams` fields these rules set (the ledger enforces them)."""
        out: dict[str, object] = {}
        for f in fields(self):
            rule = getattr(self, f.name)
            if hasattr(rule, "ledger_params"):
                out.update(rule.ledger_params())
        return out


#: The scenario section of each rule (`[rules.<name>]`) and its class.
SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(Rules)}  # type: ignore[misc]
