"""Emission: new tokens per epoch for useful work (CU delivered), under a cap."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EMISSION_SCHEDULES", "EmissionRule"]

#: "none"; "constant": `amount` every epoch; "halving": `amount` halved every `half_life`
#: epochs; "bme" (burn-and-mint equilibrium, Render): what was burned during the epoch.
EMISSION_SCHEDULES = ("none", "constant", "halving", "bme")


@dataclass(frozen=True, slots=True, kw_only=True)
class EmissionRule:
    """Attributes:
        schedule: "none", "constant", "halving" or "bme".
        amount: base units per epoch ("constant"; the first epoch's for "halving").
        half_life: epochs per halving.
        epoch_ticks: ticks per epoch; emissions are minted at each epoch's last tick.
        cap: the most base units ever emitted (0: only the ledger's supply cap limits it).

    An epoch's emission is shared by the compute providers pro rata to the CU their claims
    were paid for in that epoch (useful work, not activity); the dust goes to the treasury.
    An epoch with no work emits nothing.
    """

    schedule: str = "none"
    amount: int = 0
    half_life: int = 10
    epoch_ticks: int = 10
    cap: int = 0

    def __post_init__(self) -> None:
        if self.schedule not in EMISSION_SCHEDULES:
            raise ValueError(f"emission schedule must be one of {', '.join(EMISSION_SCHEDULES)}"
                             f", got {self.schedule!r}")
        if self.epoch_ticks < 1 or self.half_life < 1 or self.amount < 0 or self.cap < 0:
            raise ValueError("epoch_ticks and half_life must be >= 1; amount and cap >= 0")

    def ends_epoch(self, tick: int) -> bool:
        return self.schedule != "none" and tick > 0 and tick % self.epoch_ticks == 0

    def amount_for(self, epoch: int, burned_in_epoch: int, emitted: int, room: int) -> int:
        """Base units to emit for `epoch` (0-based).

        Args:
            burned_in_epoch: base units burned during the epoch (the "bme" schedule's amount).
            emitted: base units emitted so far (against `cap`).
            room: base units the ledger's supply cap still allows.
        """
        if self.schedule == "constant":
            amount = self.amount
        elif self.schedule == "halving":
            amount = self.amount >> (epoch // self.half_life)
        elif self.schedule == "bme":
            amount = burned_in_epoch
        else:
            return 0
        if self.cap:
            amount = min(amount, self.cap - emitted)
        return max(0, min(amount, room))
