# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title twinecon Assets: the IP royalty graph and contributor data pools
@notice Assets (kind data, policy or twin) are registered by their owners with the royalty
        share (bps) their licence asks of what descendants earn; a twin asset's key is a twin's
        key, registered by the twin's owner, and its royalties are paid to the twin's current
        owner. The owner of a child (of a twin asset: the twin's current owner) links it to a
        parent: never to itself or a parent twice,
        at most MAX_PARENTS parents, fixed once the child has children (so no link can close a
        cycle), at most MAX_ANCESTORS distinct ancestors whose shares stack to at most 10000
        bps. The Escrow reads the graph to pay royalties when a job completes.
        A data pool's contributors add episodes (each content hash once per pool, at most
        MAX_CONTRIBUTORS contributors); a user pays for units of data under a usage record
        consumed once: `DATA_FEE_BPS` to the treasury, the owner's fee, the rest to the
        contributors pro rata to their units, what the floors leave (dust) to the treasury.
        Payments go straight from the user: this contract never holds tokens.
"""

import ops

from snekmate.utils import math

BPS: constant(uint256) = 10_000
MAX_PARENTS: constant(uint256) = 4
MAX_ANCESTORS: constant(uint256) = 16
# every distinct ancestor visited pushes at most MAX_PARENTS parents
MAX_QUEUE: constant(uint256) = MAX_PARENTS * (MAX_ANCESTORS + 1)
MAX_CONTRIBUTORS: constant(uint256) = 64


# Asset kinds (0: no such asset).
DATA: constant(uint8) = 1
POLICY: constant(uint8) = 2
TWIN: constant(uint8) = 3


interface Token:
    def module_move(payer: address, payee: address, amount: uint256, flow: String[ops.MAX_FLOW],
                    ref: uint256): nonpayable
    def balanceOf(owner: address) -> uint256: view


interface Registry:
    def licence_of(key: String[ops.MAX_KEY]) -> (address, uint256): view


struct Asset:
    key: String[ops.MAX_KEY]
    kind: uint8
    owner: address
    content_hash: bytes32
    royalty_bps: uint256
    parents: DynArray[bytes32, MAX_PARENTS]
    children: uint256


struct Parent:
    id: bytes32
    bps: uint256


struct Share:
    payee: address
    bps: uint256


struct Contribution:
    contributor: address
    units: uint256


struct Pool:
    key: String[ops.MAX_KEY]
    owner: address
    price_per_unit: uint256
    owner_fee_bps: uint256
    contributors: DynArray[Contribution, MAX_CONTRIBUTORS]
    episodes: uint256
    total_units: uint256


HUB: public(immutable(address))
TOKEN: public(immutable(address))
REGISTRY: public(immutable(address))
TREASURY: public(immutable(address))
DATA_FEE_BPS: public(immutable(uint256))

assets: HashMap[bytes32, Asset]  # keccak256(key) -> asset
pools: HashMap[bytes32, Pool]  # keccak256(key) -> pool
position: HashMap[bytes32, HashMap[address, uint256]]  # pool -> contributor -> index + 1
contributed: HashMap[bytes32, HashMap[bytes32, bool]]  # pool -> content hash -> seen
consumed: public(HashMap[bytes32, bool])  # usage records


event AssetRegistered:
    asset_id: indexed(bytes32)
    owner: indexed(address)
    key: String[ops.MAX_KEY]
    kind: String[ops.MAX_ASSET_KIND]
    royalty_bps: uint256


event AssetLinked:
    child_id: indexed(bytes32)
    owner: indexed(address)
    child: String[ops.MAX_KEY]
    parent: String[ops.MAX_KEY]


event PoolCreated:
    pool_id: indexed(bytes32)
    owner: indexed(address)
    key: String[ops.MAX_KEY]
    price_per_unit: uint256


event Contributed:
    pool_id: indexed(bytes32)
    contributor: indexed(address)
    owner: address
    key: String[ops.MAX_KEY]
    units: uint256


event DataUsed:
    pool_id: indexed(bytes32)
    user: indexed(address)
    owner: address
    key: String[ops.MAX_KEY]
    record: bytes32


@deploy
def __init__(hub_: address, token_: address, registry_: address, treasury_: address,
             data_fee_bps_: uint256):
    assert data_fee_bps_ <= BPS, "invalid_state"
    HUB = hub_
    TOKEN = token_
    REGISTRY = registry_
    TREASURY = treasury_
    DATA_FEE_BPS = data_fee_bps_


@external
def run(kind: uint8, sender: address, nonce: uint256, now: uint256, params: Bytes[ops.MAX_PARAMS]):
    """
    @dev Applies an authenticated asset or data pool action (hub only); reverts with the
         rule's code.
    """
    assert msg.sender == HUB, "unauthorized"
    key: String[ops.MAX_KEY] = ""
    if kind == ops.KIND_REGISTER_ASSET:
        asset_kind: String[ops.MAX_ASSET_KIND] = ""
        content_hash: bytes32 = empty(bytes32)
        royalty_bps: uint256 = 0
        key, asset_kind, content_hash, royalty_bps = abi_decode(
            params, (String[ops.MAX_KEY], String[ops.MAX_ASSET_KIND], bytes32, uint256))
        self._register(sender, key, asset_kind, content_hash, royalty_bps)
    elif kind == ops.KIND_LINK_ASSET:
        parent: String[ops.MAX_KEY] = ""
        key, parent = abi_decode(params, (String[ops.MAX_KEY], String[ops.MAX_KEY]))
        self._link(sender, key, parent)
    elif kind == ops.KIND_CREATE_POOL:
        price_per_unit: uint256 = 0
        owner_fee_bps: uint256 = 0
        key, price_per_unit, owner_fee_bps = abi_decode(
            params, (String[ops.MAX_KEY], uint256, uint256))
        self._create_pool(sender, key, price_per_unit, owner_fee_bps)
    elif kind == ops.KIND_CONTRIBUTE:
        content_hash: bytes32 = empty(bytes32)
        units: uint256 = 0
        key, content_hash, units = abi_decode(params, (String[ops.MAX_KEY], bytes32, uint256))
        self._contribute(sender, key, content_hash, units)
    elif kind == ops.KIND_USE_DATA:
        units: uint256 = 0
        record: bytes32 = empty(bytes32)
        ref: uint256 = 0
        key, units, record, ref = abi_decode(
            params, (String[ops.MAX_KEY], uint256, bytes32, uint256))
        self._use(sender, key, units, record)
    else:
        raise "unknown_op"


# -- reading ---------------------------------------------------------------------------------
@external
@view
def asset(key: String[ops.MAX_KEY]) -> (String[ops.MAX_ASSET_KIND], address, bytes32, uint256,
                               DynArray[String[ops.MAX_KEY], MAX_PARENTS], uint256):
    """
    @dev Asset `key`: kind ("" if none), owner (its registrant), content hash, royalty share,
         parents' keys in link order, number of children.
    """
    asset: Asset = self.assets[keccak256(key)]
    parents: DynArray[String[ops.MAX_KEY], MAX_PARENTS] = []
    for parent: bytes32 in asset.parents:
        parents.append(self.assets[parent].key)
    return self._kind_name(asset.kind), asset.owner, asset.content_hash, asset.royalty_bps, \
        parents, asset.children


@external
@view
def exists(key: String[ops.MAX_KEY]) -> bool:
    return self.assets[keccak256(key)].kind != 0


@external
@view
def parents_of(asset_id: bytes32) -> DynArray[Parent, MAX_PARENTS]:
    """
    @dev The parents of an asset, in link order, with their royalty shares.
    """
    parents: DynArray[Parent, MAX_PARENTS] = []
    for parent: bytes32 in self.assets[asset_id].parents:
        parents.append(Parent(id=parent, bps=self.assets[parent].royalty_bps))
    return parents


@external
@view
def payee(asset_id: bytes32) -> address:
    return self._payee(asset_id)


@external
@view
def lap_shares(asset_id: bytes32) -> DynArray[Share, MAX_ANCESTORS]:
    """
    @dev Every distinct ancestor of an asset (breadth first, parents in link order): who is
         paid its royalties, and its share.
    """
    found: DynArray[bytes32, MAX_ANCESTORS + 1] = []
    over: bool = False
    found, over = self._ancestors(self.assets[asset_id].parents)
    shares: DynArray[Share, MAX_ANCESTORS] = []
    for ancestor: bytes32 in found:
        shares.append(Share(payee=self._payee(ancestor), bps=self.assets[ancestor].royalty_bps))
    return shares


@external
@view
def pool(key: String[ops.MAX_KEY]) -> (address, uint256, uint256,
                              DynArray[Contribution, MAX_CONTRIBUTORS], uint256):
    """
    @dev Pool `key`: owner (the zero address if none), price per unit, the owner's fee,
         contributors with their units (first come first), episodes contributed.
    """
    pool: Pool = self.pools[keccak256(key)]
    return pool.owner, pool.price_per_unit, pool.owner_fee_bps, pool.contributors, pool.episodes


@internal
@pure
def _kind_name(kind: uint8) -> String[ops.MAX_ASSET_KIND]:
    if kind == DATA:
        return "data"
    if kind == POLICY:
        return "policy"
    if kind == TWIN:
        return "twin"
    return ""


@internal
@view
def _payee(asset_id: bytes32) -> address:
    """Who an asset's royalties go to: a twin asset's follow the twin's current owner."""
    asset: Asset = self.assets[asset_id]
    if asset.kind == TWIN:
        owner: address = empty(address)
        fee: uint256 = 0
        owner, fee = staticcall Registry(REGISTRY).licence_of(asset.key)
        return owner
    return asset.owner


@internal
@view
def _ancestors(parents: DynArray[bytes32, MAX_PARENTS]) -> (
        DynArray[bytes32, MAX_ANCESTORS + 1], bool):
    """
    @dev The distinct ancestors reached from `parents`, breadth first (chain/royalty.py's
         order), and whether there are more than MAX_ANCESTORS (the walk then stops).
    """
    queue: DynArray[bytes32, MAX_QUEUE] = []
    for parent: bytes32 in parents:
        queue.append(parent)
    seen: DynArray[bytes32, MAX_ANCESTORS + 1] = []
    for i: uint256 in range(MAX_QUEUE):
        if i >= len(queue):
            break
        node: bytes32 = queue[i]
        if node in seen:
            continue
        seen.append(node)
        if len(seen) > MAX_ANCESTORS:
            return seen, True
        for parent: bytes32 in self.assets[node].parents:
            queue.append(parent)
    return seen, False


# -- the royalty graph -----------------------------------------------------------------------
@internal
def _register(sender: address, key: String[ops.MAX_KEY], kind_name: String[ops.MAX_ASSET_KIND],
              content_hash: bytes32,
              royalty_bps: uint256):
    assert len(key) != 0, "invalid_state"
    name: bytes32 = keccak256(kind_name)
    kind: uint8 = 0
    if name == keccak256("data"):
        kind = DATA
    elif name == keccak256("policy"):
        kind = POLICY
    elif name == keccak256("twin"):
        kind = TWIN
    assert kind != 0, "invalid_state"
    asset_id: bytes32 = keccak256(key)
    assert self.assets[asset_id].kind == 0, "invalid_state"
    assert royalty_bps <= BPS, "invalid_state"
    if kind == TWIN:
        owner: address = empty(address)
        fee: uint256 = 0
        owner, fee = staticcall Registry(REGISTRY).licence_of(key)
        assert owner != empty(address), "invalid_state"
        assert owner == sender, "unauthorized"
    self.assets[asset_id] = Asset(key=key, kind=kind, owner=sender, content_hash=content_hash,
                                  royalty_bps=royalty_bps, parents=[], children=0)
    log AssetRegistered(asset_id=asset_id, owner=sender, key=key, kind=kind_name,
                        royalty_bps=royalty_bps)


@internal
def _link(sender: address, child: String[ops.MAX_KEY], parent: String[ops.MAX_KEY]):
    child_id: bytes32 = keccak256(child)
    parent_id: bytes32 = keccak256(parent)
    assert self.assets[child_id].kind != 0 and self.assets[parent_id].kind != 0, \
        "invalid_state"
    assert sender == self._payee(child_id), "unauthorized"  # a twin asset's: the twin's owner
    parents: DynArray[bytes32, MAX_PARENTS] = self.assets[child_id].parents
    assert parent_id != child_id and parent_id not in parents, "invalid_state"
    # parents are fixed once an asset has children: nothing below the child can become its
    # parent, so no link closes a cycle
    assert self.assets[child_id].children == 0, "invalid_state"
    assert len(parents) < MAX_PARENTS, "invalid_state"
    parents.append(parent_id)
    found: DynArray[bytes32, MAX_ANCESTORS + 1] = []
    over: bool = False
    found, over = self._ancestors(parents)
    assert not over, "invalid_state"
    stack: uint256 = 0
    for ancestor: bytes32 in found:
        stack += self.assets[ancestor].royalty_bps
    assert stack <= BPS, "invalid_state"
    self.assets[child_id].parents = parents
    self.assets[parent_id].children += 1
    log AssetLinked(child_id=child_id, owner=sender, child=child, parent=parent)


# -- data pools ------------------------------------------------------------------------------
@internal
def _create_pool(sender: address, key: String[ops.MAX_KEY], price_per_unit: uint256,
                 owner_fee_bps: uint256):
    assert len(key) != 0, "invalid_state"
    pool_id: bytes32 = keccak256(key)
    assert self.pools[pool_id].owner == empty(address), "invalid_state"
    assert owner_fee_bps <= BPS - DATA_FEE_BPS, "invalid_state"
    self.pools[pool_id] = Pool(key=key, owner=sender, price_per_unit=price_per_unit,
                               owner_fee_bps=owner_fee_bps, contributors=[], episodes=0,
                               total_units=0)
    log PoolCreated(pool_id=pool_id, owner=sender, key=key, price_per_unit=price_per_unit)


@internal
def _contribute(sender: address, key: String[ops.MAX_KEY], content_hash: bytes32, units: uint256):
    pool_id: bytes32 = keccak256(key)
    owner: address = self.pools[pool_id].owner
    assert owner != empty(address), "invalid_state"
    assert units != 0, "invalid_state"
    total: uint256 = self.pools[pool_id].total_units
    assert units <= max_value(uint256) - total, "invalid_state"
    assert not self.contributed[pool_id][content_hash], "invalid_state"
    index: uint256 = self.position[pool_id][sender]
    if index == 0:
        assert len(self.pools[pool_id].contributors) < MAX_CONTRIBUTORS, "invalid_state"
        self.pools[pool_id].contributors.append(Contribution(contributor=sender, units=units))
        self.position[pool_id][sender] = len(self.pools[pool_id].contributors)
    else:
        self.pools[pool_id].contributors[index - 1].units += units
    self.contributed[pool_id][content_hash] = True
    self.pools[pool_id].episodes += 1
    self.pools[pool_id].total_units = total + units
    log Contributed(pool_id=pool_id, contributor=sender, owner=owner, key=key, units=units)


@internal
def _use(sender: address, key: String[ops.MAX_KEY], units: uint256, record: bytes32):
    pool_id: bytes32 = keccak256(key)
    pool: Pool = self.pools[pool_id]
    assert pool.owner != empty(address), "invalid_state"
    assert units != 0, "invalid_state"
    assert record != empty(bytes32), "invalid_state"
    assert not self.consumed[record], "invalid_state"
    assert len(pool.contributors) != 0, "invalid_state"
    # a price beyond 2**256 - 1 is beyond any balance
    assert pool.price_per_unit == 0 or units <= max_value(uint256) // pool.price_per_unit, \
        "insufficient_funds"
    price: uint256 = units * pool.price_per_unit
    assert staticcall Token(TOKEN).balanceOf(sender) >= price, "insufficient_funds"
    self.consumed[record] = True
    fee: uint256 = math._mul_div(price, DATA_FEE_BPS, BPS, False)
    owner_fee: uint256 = math._mul_div(price, pool.owner_fee_bps, BPS, False)
    rest: uint256 = price - fee - owner_fee
    log DataUsed(pool_id=pool_id, user=sender, owner=pool.owner, key=key, record=record)
    ref: uint256 = convert(pool_id, uint256)
    self._pay(sender, TREASURY, fee, "data_fee", ref)
    self._pay(sender, pool.owner, owner_fee, "pool_fee", ref)
    paid: uint256 = 0
    for c: Contribution in pool.contributors:
        part: uint256 = math._mul_div(rest, c.units, pool.total_units, False)
        paid += part
        self._pay(sender, c.contributor, part, "data", ref)
    self._pay(sender, TREASURY, rest - paid, "dust", ref)


@internal
def _pay(payer: address, payee: address, amount: uint256, flow: String[ops.MAX_FLOW], ref: uint256):
    if amount != 0:
        extcall Token(TOKEN).module_move(payer, payee, amount, flow, ref)
