# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title twinecon Registry: twins as NFTs with an immutable, linear version history
@notice A twin `kind/name` is the ERC-721 token with id uint256(keccak256(key)); its owner is
        the NFT's owner. Versions are appended by the owner only, never changed or removed, and
        a version name is used once per twin. Ownership moves by `transfer_twin` through the
        hub (signed, nonce-checked); the standard ERC-721 transfer entry points are not
        exported, so the registry's history is the hub's history. A twin is never given to
        the zero address or a module account (its licences and royalties would be paid
        there). The owner sets the twin's licence fee per compute unit (`set_licence`), which
        the Compute module charges on every lease of sim time in the twin.
"""

import ops

from snekmate.auth import ownable
from snekmate.tokens import erc721

initializes: ownable
initializes: erc721[ownable := ownable]

exports: (
    erc721.ownerOf,
    erc721.balanceOf,
    erc721.supportsInterface,
    erc721.name,
    erc721.symbol,
    ownable.owner,
)

MAX_VERSIONS: constant(uint256) = 256


interface Hub:
    def escrow() -> address: view
    def compute() -> address: view
    def assets() -> address: view


struct Version:
    name: String[ops.MAX_VERSION]
    spec_hash: bytes32


HUB: public(immutable(address))

versions: HashMap[uint256, DynArray[Version, MAX_VERSIONS]]
has_version: HashMap[uint256, HashMap[bytes32, bool]]
licence_per_cu: public(HashMap[uint256, uint256])


event TwinRegistered:
    twin_id: indexed(uint256)
    owner: indexed(address)
    key: String[ops.MAX_KEY]
    version: String[ops.MAX_VERSION]
    spec_hash: bytes32


event TwinVersion:
    twin_id: indexed(uint256)
    owner: indexed(address)
    key: String[ops.MAX_KEY]
    version: String[ops.MAX_VERSION]
    spec_hash: bytes32


event LicenceSet:
    twin_id: indexed(uint256)
    owner: indexed(address)
    key: String[ops.MAX_KEY]
    fee_per_cu: uint256


event TwinTransferred:
    twin_id: indexed(uint256)
    owner: indexed(address)
    to: indexed(address)
    key: String[ops.MAX_KEY]


@deploy
def __init__(hub_: address):
    ownable.__init__()
    erc721.__init__("twinecon twins", "TWIN", "", "twinecon twins", "1")
    HUB = hub_


@external
@view
def twin(key: String[ops.MAX_KEY]) -> (address, uint256, DynArray[Version, MAX_VERSIONS]):
    """
    @dev The owner, the licence per CU and the version history (oldest first) of `key`; the
         zero address if none.
    """
    twin_id: uint256 = convert(keccak256(key), uint256)
    if not erc721._exists(twin_id):
        return empty(address), 0, empty(DynArray[Version, MAX_VERSIONS])
    return erc721._owner_of(twin_id), self.licence_per_cu[twin_id], self.versions[twin_id]


@external
@view
def licence_of(key: String[ops.MAX_KEY]) -> (address, uint256):
    """
    @dev The owner of twin `key` (the zero address if none) and its licence fee per CU.
    """
    twin_id: uint256 = convert(keccak256(key), uint256)
    if not erc721._exists(twin_id):
        return empty(address), 0
    return erc721._owner_of(twin_id), self.licence_per_cu[twin_id]


@external
def run(kind: uint8, sender: address, nonce: uint256, now: uint256, params: Bytes[ops.MAX_PARAMS]):
    """
    @dev Applies an authenticated registry action (hub only); reverts with the rule's code.
    """
    assert msg.sender == HUB, "unauthorized"
    key: String[ops.MAX_KEY] = ""
    if kind == ops.KIND_SET_LICENCE:
        fee_per_cu: uint256 = 0
        key, fee_per_cu = abi_decode(params, (String[ops.MAX_KEY], uint256))
        twin_id: uint256 = self._owned(sender, key)
        self.licence_per_cu[twin_id] = fee_per_cu
        log LicenceSet(twin_id=twin_id, owner=sender, key=key, fee_per_cu=fee_per_cu)
        return
    if kind == ops.KIND_TRANSFER_TWIN:
        to: address = empty(address)
        key, to = abi_decode(params, (String[ops.MAX_KEY], address))
        self._transfer_twin(sender, key, to)
        return
    version: String[ops.MAX_VERSION] = ""
    spec_hash: bytes32 = empty(bytes32)
    key, version, spec_hash = abi_decode(
        params, (String[ops.MAX_KEY], String[ops.MAX_VERSION], bytes32))
    if kind == ops.KIND_REGISTER_TWIN:
        self._register(sender, key, version, spec_hash)
    elif kind == ops.KIND_PUBLISH_VERSION:
        self._publish(sender, key, version, spec_hash)
    else:
        raise "unknown_op"


@internal
@pure
def _has_slash(key: String[ops.MAX_KEY]) -> bool:
    raw: Bytes[64] = convert(key, Bytes[64])
    for i: uint256 in range(64):
        if i >= len(raw):
            break
        if slice(raw, i, 1) == b"/":
            return True
    return False


@internal
def _register(sender: address, key: String[ops.MAX_KEY], version: String[ops.MAX_VERSION],
              spec_hash: bytes32):
    assert self._has_slash(key) and len(version) != 0, "invalid_state"
    twin_id: uint256 = convert(keccak256(key), uint256)
    assert not erc721._exists(twin_id), "invalid_state"
    erc721._mint(sender, twin_id)
    self._append(twin_id, version, spec_hash)
    log TwinRegistered(twin_id=twin_id, owner=sender, key=key, version=version,
                       spec_hash=spec_hash)


@internal
def _owned(sender: address, key: String[ops.MAX_KEY]) -> uint256:
    twin_id: uint256 = convert(keccak256(key), uint256)
    assert erc721._exists(twin_id), "invalid_state"
    assert erc721._owner_of(twin_id) == sender, "unauthorized"
    return twin_id


@internal
def _publish(sender: address, key: String[ops.MAX_KEY], version: String[ops.MAX_VERSION],
             spec_hash: bytes32):
    twin_id: uint256 = self._owned(sender, key)
    assert len(version) != 0, "invalid_state"
    assert not self.has_version[twin_id][keccak256(version)], "invalid_state"
    self._append(twin_id, version, spec_hash)
    log TwinVersion(twin_id=twin_id, owner=sender, key=key, version=version, spec_hash=spec_hash)


@internal
def _append(twin_id: uint256, version: String[ops.MAX_VERSION], spec_hash: bytes32):
    assert len(self.versions[twin_id]) < MAX_VERSIONS, "invalid_state"
    self.versions[twin_id].append(Version(name=version, spec_hash=spec_hash))
    self.has_version[twin_id][keccak256(version)] = True


@internal
def _transfer_twin(sender: address, key: String[ops.MAX_KEY], to: address):
    twin_id: uint256 = self._owned(sender, key)
    assert to != empty(address) and to != staticcall Hub(HUB).escrow(), "invalid_state"
    assert to != staticcall Hub(HUB).compute() and to != staticcall Hub(HUB).assets(), \
        "invalid_state"
    erc721._transfer(sender, to, twin_id)
    log TwinTransferred(twin_id=twin_id, owner=sender, to=to, key=key)
