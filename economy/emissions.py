"""Emissions: at each epoch's end, new tokens minted to the compute providers pro rata to the
useful work (CU claimed and not caught overclaiming) they did in the epoch."""

from __future__ import annotations

from collections import defaultdict

from chain import Address, Flow, Identity, Mint
from chain.royalty import pro_rata
from economy.rules import EmissionRule
from economy.settler import Settler
from economy.stats import TickStats

__all__ = ["Emissions"]


class Emissions:
    """The emission rule at work.

    Args:
        rule: the schedule, epoch length and cap.
        settler: executes the mints.
        protocol: the minting authority.
        stats: the tick's counters (`emitted`).
    """

    def __init__(self, rule: EmissionRule, settler: Settler, protocol: Identity,
                 stats: TickStats) -> None:
        self.rule = rule
        self._settler = settler
        self._protocol = protocol
        self._stats = stats
        self._work: dict[Address, int] = defaultdict(int)  # CU claimed this epoch, by provider
        self._burned_at_epoch = 0
        self.emitted = 0  # base units emitted in the run

    def credit(self, provider: Address, cu: int) -> None:
        """`provider` was paid for `cu` CU of useful work this epoch."""
        self._work[provider] += cu

    def close_tick(self, tick: int) -> None:
        """At an epoch's end: mint the rule's amount to the compute providers, pro rata to the
        CU they were paid for in the epoch; dust to the treasury."""
        rule = self.rule
        if not rule.ends_epoch(tick):
            return
        ledger = self._settler.ledger
        burned = ledger.burned - self._burned_at_epoch
        self._burned_at_epoch = ledger.burned
        work, self._work = self._work, defaultdict(int)
        workers = sorted(a for a, cu in work.items() if cu)
        if not workers:
            return
        amount = rule.amount_for(tick // rule.epoch_ticks - 1, burned, self.emitted,
                                 ledger.params.supply_cap - ledger.minted)
        if not amount:
            return
        parts, dust = pro_rata(amount, [work[a] for a in workers])
        for address, part in [*zip(workers, parts, strict=True), (ledger.treasury, dust)]:
            if part and self._settler.execute(self._protocol, Mint(to=address, amount=part,
                                                                   flow=Flow.REWARD)).ok:
                self.emitted += part
                self._stats.emitted += part
