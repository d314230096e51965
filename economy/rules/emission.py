"""Emission: new tokens per epoch for useful work (CU delivered), under a cap."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from economy.rules._params import check, param

__all__ = ["EMISSION_SCHEDULES", "EmissionRule", "EmissionSchedule"]


class EmissionSchedule(StrEnum):
    """How much an epoch emits."""

    NONE = "none"  # nothing
    CONSTANT = "constant"  # `amount` every epoch
    HALVING = "halving"  # `amount` halved every `half_life` epochs
    BME = "bme"  # burn-and-mint equilibrium (Render): what was burned during the epoch


EMISSION_SCHEDULES = tuple(EmissionSchedule)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmissionRule:
    """New tokens for useful work.

    An epoch's emission is shared by the compute providers pro rata to the CU their claims
    were paid for in that epoch (useful work, not activity); the dust goes to the treasury.
    An epoch with no work emits nothing.
    """

    schedule: str = param(EmissionSchedule.NONE.value, choices=EmissionSchedule,
                          doc="none, constant, halving or bme (burn-and-mint equilibrium)")
    amount: int = param(0, unit="base_units", ge=0,
                        doc="tokens per epoch (constant; the first epoch's for halving)")
    half_life: int = param(10, ge=1, doc="epochs per halving")
    epoch_ticks: int = param(10, unit="ticks", ge=1, doc=(
        "ticks per epoch; emissions are minted at each epoch's last tick"))
    cap: int = param(0, unit="base_units", ge=0,
                     doc="the most tokens ever emitted (0: only the ledger's supply cap)")

    def __post_init__(self) -> None:
        check(self)

    def ends_epoch(self, tick: int) -> bool:
        return self.schedule != EmissionSchedule.NONE and tick > 0 and tick % self.epoch_ticks == 0

    def amount_for(self, epoch: int, burned_in_epoch: int, emitted: int, room: int) -> int:
        """Base units to emit for `epoch` (0-based).

        Args:
            burned_in_epoch: base units burned during the epoch (the "bme" schedule's amount).
            emitted: base units emitted so far (against `cap`).
            room: base units the ledger's supply cap still allows.
        """
        if self.schedule == EmissionSchedule.CONSTANT:
            amount = self.amount
        elif self.schedule == EmissionSchedule.HALVING:
            amount = self.amount >> (epoch // self.half_life)
        elif self.schedule == EmissionSchedule.BME:
            amount = burned_in_epoch
        else:
            return 0
        if self.cap:
            amount = min(amount, self.cap - emitted)
        return max(0, min(amount, room))
