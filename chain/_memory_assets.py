"""The reference rules of the Assets contract: the royalty graph and data pools.

Each rule is a function of the ledger's `State`, named like the operation it applies
(chain.ops.TABLE names the module of each); when the action breaks a rule it raises a
ChainError before changing anything.
"""

from __future__ import annotations

from dataclasses import replace

from chain._memory_registry import owned_twin
from chain._memory_state import State, b32, positive
from chain.errors import InsufficientFunds, InvalidState, Unauthorized
from chain.flows import Flow
from chain.identity import Address
from chain.ops import Contribute, CreatePool, LinkAsset, RegisterAsset, UseData
from chain.protocols import Asset, Pool
from chain.royalty import MAX_PARENTS, graph_problem, pro_rata

__all__ = ["asset_owner", "contribute", "create_pool", "link_asset", "register_asset", "use_data"]

#: The most contributors one data pool may have (the Assets contract's bound).
MAX_CONTRIBUTORS = 64
#: The kinds of asset the royalty graph holds.
ASSET_KINDS = ("data", "policy", "twin")
_MAX_UINT = 2**256 - 1


def asset_owner(s: State, asset: Asset) -> Address:
    """Who an asset's royalties go to: a twin asset's follow the twin's current owner."""
    if asset.kind == "twin":
        return s.twins[asset.key].owner
    return asset.owner


def register_asset(s: State, sender: Address, op: RegisterAsset, nonce: int) -> None:
    if not op.key:
        raise InvalidState("an asset needs a key")
    if op.kind not in ASSET_KINDS:
        raise InvalidState(f"asset kind must be one of {', '.join(ASSET_KINDS)}, got "
                           f"{op.kind!r}")
    if op.key in s.assets:
        raise InvalidState(f"asset {op.key} is already registered")
    if not 0 <= op.royalty_bps <= 10_000:
        raise InvalidState(f"royalty_bps must be in [0, 10000], got {op.royalty_bps}")
    if op.kind == "twin":
        owned_twin(s, sender, op.key, "register as an asset")
    s.assets[op.key] = Asset(key=op.key, kind=op.kind, owner=sender,
                             content_hash=b32(op.content_hash),
                             royalty_bps=op.royalty_bps)
    s.emit("asset_registered", sender, sender, 0, "", op.key,
           f"{op.kind}:{op.royalty_bps}")


def link_asset(s: State, sender: Address, op: LinkAsset, nonce: int) -> None:
    child = s.assets.get(op.child)
    parent = s.assets.get(op.parent)
    if child is None or parent is None:
        raise InvalidState(f"both assets must be registered: {op.child!r}, {op.parent!r}")
    owner = asset_owner(s, child)  # a twin asset's follows the twin
    if sender != owner:
        raise Unauthorized(sender, f"link asset {op.child}", f"its owner {owner}")
    if op.parent == op.child or op.parent in child.parents:
        raise InvalidState(f"{op.child} cannot link {op.parent} (itself, or linked already)")
    if child.children:
        raise InvalidState(f"{op.child} has children; its parents are fixed")
    if len(child.parents) >= MAX_PARENTS:
        raise InvalidState(f"an asset may have at most {MAX_PARENTS} parents")
    linked = replace(child, parents=(*child.parents, op.parent))
    problem = graph_problem(op.child, {**s.assets, op.child: linked}.__getitem__)
    if problem:
        raise InvalidState(problem)
    s.assets[op.child] = linked
    s.assets[op.parent] = replace(parent, children=parent.children + 1)
    s.emit("asset_linked", sender, sender, 0, "", op.child, op.parent)


def create_pool(s: State, sender: Address, op: CreatePool, nonce: int) -> None:
    if not op.key:
        raise InvalidState("a pool needs a key")
    if op.key in s.pools:
        raise InvalidState(f"pool {op.key} already exists")
    if not 0 <= op.owner_fee_bps <= 10_000 - s.params.data_fee_bps:
        raise InvalidState(f"owner_fee_bps must be in [0, {10_000 - s.params.data_fee_bps}]"
                           f" (10000 less the protocol's data_fee_bps), got "
                           f"{op.owner_fee_bps}")
    s.pools[op.key] = Pool(key=op.key, owner=sender, price_per_unit=op.price_per_unit,
                           owner_fee_bps=op.owner_fee_bps)
    s.emit("pool_created", sender, sender, 0, "", op.key, str(op.price_per_unit))


def contribute(s: State, sender: Address, op: Contribute, nonce: int) -> None:
    pool = s.pools.get(op.pool)
    if pool is None:
        raise InvalidState(f"no pool {op.pool!r}")
    positive(op.units, "units")
    if pool.total_units + op.units > _MAX_UINT:
        raise InvalidState(f"pool {op.pool} would hold more than 2**256 - 1 units, which "
                           "no contract can count; contribute fewer units")
    content = b32(op.content_hash)
    if (op.pool, content) in s.content:
        raise InvalidState(f"content {content.hex()} is already in pool {op.pool}; "
                           "duplicates earn no units")
    contributors = dict(pool.contributors)
    if sender not in contributors and len(contributors) >= MAX_CONTRIBUTORS:
        raise InvalidState(f"pool {op.pool} has {MAX_CONTRIBUTORS} contributors, the most "
                           "a pool may have")
    contributors[sender] = contributors.get(sender, 0) + op.units
    s.content.add((op.pool, content))
    s.pools[op.pool] = replace(pool, contributors=tuple(contributors.items()),
                               episodes=pool.episodes + 1)
    s.emit("contributed", sender, pool.owner, 0, "", op.pool, str(op.units))


def use_data(s: State, sender: Address, op: UseData, nonce: int) -> None:
    pool = s.pools.get(op.pool)
    if pool is None:
        raise InvalidState(f"no pool {op.pool!r}")
    positive(op.units, "units")
    record = b32(op.record)
    if record == b"\x00" * 32:
        raise InvalidState("a usage record id must not be zero")
    if record in s.records:
        raise InvalidState(f"usage record {record.hex()} was consumed already")
    if not pool.contributors:
        raise InvalidState(f"pool {op.pool} has no contributions to use")
    price = op.units * pool.price_per_unit
    held = s.balances.get(sender, 0)
    if held < price:
        raise InsufficientFunds(sender, price, held)
    s.records.add(record)
    fee = price * s.params.data_fee_bps // 10_000
    owner_fee = price * pool.owner_fee_bps // 10_000
    parts, dust = pro_rata(price - fee - owner_fee, [u for _, u in pool.contributors])
    ref = op.pool
    s.emit("data_used", sender, pool.owner, 0, "", ref, record.hex())
    s.pay(sender, s.treasury, fee, Flow.DATA_FEE, ref)
    s.pay(sender, pool.owner, owner_fee, Flow.POOL_FEE, ref)
    for (contributor, _), part in zip(pool.contributors, parts, strict=True):
        s.pay(sender, contributor, part, Flow.DATA, ref)
    s.pay(sender, s.treasury, dust, Flow.DUST, ref)
