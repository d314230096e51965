"""The data market's actions: pay for units of a pool's data (a metered usage record), and
contribute episodes to a pool."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from chain import Contribute, UseData
from chain.hashing import keccak
from economy import actions as A
from economy.errors import ActionRejected
from economy.protocols import ActionHandler, Participant
from economy.settler import Settler
from economy.stats import TickStats

__all__ = ["DataHandler"]


class DataHandler:
    """Data uses and contributions.

    Args:
        settler: executes the ledger operations.
        stats: the tick's counters (`data_units`).
    """

    def __init__(self, *, settler: Settler, stats: TickStats) -> None:
        self._settler = settler
        self._stats = stats
        self._usage = 0  # data usage records issued

    def handlers(self) -> Mapping[type[A.Action], ActionHandler]:
        return {A.UseData: self.use_data, A.Contribute: self.contribute}

    def use_data(self, p: Participant, a: A.UseData) -> bool:
        self._usage += 1
        record = keccak(f"{p.address}|{a.pool}|{a.job_id}|{self._usage}".encode())
        result = self._settler.execute(p.identity, UseData(pool=a.pool, units=a.units,
                                                           record=record, ref=a.job_id))
        if result.ok:
            self._stats.data_units += a.units
        return result.ok

    def contribute(self, p: Participant, a: A.Contribute) -> bool:
        if not isinstance(a.content, bytes | bytearray):
            raise ActionRejected("bad_content", "content must be bytes (an episode or its hash)")
        content = bytes(a.content)
        digest = content if len(content) == 32 else hashlib.sha256(content).digest()
        return self._settler.execute(p.identity, Contribute(pool=a.pool, content_hash=digest,
                                                            units=a.units)).ok
