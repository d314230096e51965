"""Named records that cross the economy's module boundaries (no positional tuples)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chain import Address
from economy.observation import JobView

__all__ = ["Allocation", "AssetGrant", "PendingSimulation", "PoolGrant"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    """Tokens minted to an account at genesis (base units)."""

    address: Address
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetGrant:
    """An IP asset registered at genesis: a node of the royalty graph and its edges.

    Attributes:
        owner: who registers it (and is paid its royalties).
        key: the asset's key (a twin asset's is the twin's key).
        kind: "data", "policy" or "twin".
        content_hash: 32 bytes the asset commits to.
        royalty_bps: what its licence asks of its descendants' earnings.
        parents: keys of the assets it derives from, registered before it.
    """

    owner: Address
    key: str
    kind: str
    content_hash: bytes
    royalty_bps: int
    parents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolGrant:
    """A data pool opened at genesis: each unit used costs `price_per_unit` (base units), of
    which the owner keeps `owner_fee_bps`."""

    owner: Address
    key: str
    price_per_unit: int
    owner_fee_bps: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingSimulation:
    """Evaluations waiting for their sim time to clear at the end of the tick.

    Attributes:
        buyer: who asked (and pays for the CU).
        job: the job the plans are for, as it was when they were asked for.
        plans: the candidate plans, in the order asked.
        cu: CU the evaluations cost at `tier`.
        tier: the fidelity tier they run at.
    """

    buyer: Address
    job: JobView
    plans: tuple[Any, ...]
    cu: int
    tier: str
