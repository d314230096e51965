"""Genesis (tick 0): the initial allocations, the twin registered for its owner with its
licence, the compute providers' stakes, the IP graph and the data pools."""

from __future__ import annotations

from collections.abc import Sequence

from chain import (
    CreatePool,
    Flow,
    Identity,
    LinkAsset,
    Mint,
    Op,
    RegisterAsset,
    RegisterTwin,
    SetLicence,
)
from chain import Stake as StakeOp
from economy.errors import GenesisError
from economy.population import Population
from economy.records import Allocation, AssetGrant, PoolGrant
from economy.roles import Role
from economy.settler import Settler
from worlds.protocols import ServiceTwin

__all__ = ["run_genesis", "twin_key"]


def twin_key(twin: ServiceTwin) -> str:
    """The key a twin is registered under on the ledger: "kind/name"."""
    return f"{twin.spec.kind}/{twin.spec.name}"


def run_genesis(
    settler: Settler,
    population: Population,
    protocol: Identity,
    twin: ServiceTwin,
    twin_owner: Identity,
    *,
    allocations: Sequence[Allocation],
    licence_per_cu: int = 0,
    min_stake: int = 0,
    assets: Sequence[AssetGrant] = (),
    pools: Sequence[PoolGrant] = (),
) -> None:
    """Execute every genesis action, in this order: mints; the twin registered by its owner and
    its licence set; each compute provider's minimum stake; the assets, then their links; the
    pools.

    Raises:
        GenesisError: a genesis action the ledger refused (the scenario is inconsistent).
    """

    def do(identity: Identity, op: Op) -> None:
        result = settler.execute(identity, op)
        if not result.ok:
            raise GenesisError(op.KIND, f"genesis: {op.KIND} by "
                               f"{identity.label or identity.address} was refused: "
                               f"{result.code}: {result.reason}")

    for grant in allocations:
        if grant.amount:
            do(protocol, Mint(to=grant.address, amount=grant.amount, flow=Flow.GENESIS))
    key = twin_key(twin)
    do(twin_owner, RegisterTwin(key=key, version=twin.spec.version,
                                spec_hash=bytes.fromhex(twin.spec.sha256)))
    if licence_per_cu:
        do(twin_owner, SetLicence(key=key, fee_per_cu=licence_per_cu))
    for p in population.participants:
        if min_stake and p.role is Role.COMPUTE:
            do(p.identity, StakeOp(amount=min_stake))
    by_address = population.by_address
    for a in assets:
        do(by_address[a.owner].identity, RegisterAsset(
            key=a.key, kind=a.kind, content_hash=a.content_hash, royalty_bps=a.royalty_bps))
    for a in assets:
        for parent in a.parents:
            do(by_address[a.owner].identity, LinkAsset(child=a.key, parent=parent))
    for pool in pools:
        do(by_address[pool.owner].identity, CreatePool(
            key=pool.key, price_per_unit=pool.price_per_unit, owner_fee_bps=pool.owner_fee_bps))
