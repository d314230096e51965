"""The reference rules of the Registry contract: twins, their versions, owners and licences.

Each rule is a function of the ledger's `State`, named like the operation it applies
(chain.ops.TABLE names the module of each); when the action breaks a rule it raises a
ChainError before changing anything.
"""

from __future__ import annotations

from dataclasses import replace

from chain._memory_state import MODULES, State, b32, checked
from chain.errors import InvalidState, Unauthorized
from chain.identity import Address
from chain.ops import PublishVersion, RegisterTwin, SetLicence, TransferTwin
from chain.protocols import Twin

__all__ = ["owned_twin", "publish_version", "register_twin", "set_licence", "transfer_twin"]

#: The most versions one twin may have (the Registry contract's bound).
MAX_VERSIONS = 256


def register_twin(s: State, sender: Address, op: RegisterTwin, nonce: int) -> None:
    if not op.key or "/" not in op.key or not op.version:
        raise InvalidState("a twin key is 'kind/name' and needs a version")
    if op.key in s.twins:
        raise InvalidState(f"twin {op.key} is already registered (owner "
                           f"{s.twins[op.key].owner}); publish a new version instead")
    s.twins[op.key] = Twin(key=op.key, owner=sender,
                           versions=((op.version, b32(op.spec_hash)),))
    s.emit("twin_registered", sender, sender, 0, "", op.key, op.version)


def owned_twin(s: State, sender: Address, key: str, action: str) -> Twin:
    twin = s.twins.get(key)
    if twin is None:
        raise InvalidState(f"no twin {key!r} is registered")
    if sender != twin.owner:
        raise Unauthorized(sender, f"{action} twin {key}", f"its owner {twin.owner}")
    return twin


def publish_version(s: State, sender: Address, op: PublishVersion, nonce: int) -> None:
    twin = owned_twin(s, sender, op.key, "publish a version of")
    if not op.version:
        raise InvalidState("a version needs a name")
    if any(v == op.version for v, _ in twin.versions):
        raise InvalidState(f"twin {op.key} already has version {op.version}; versions are "
                           "immutable, publish a new version number")
    if len(twin.versions) >= MAX_VERSIONS:
        raise InvalidState(f"twin {op.key} has the most versions a twin may have "
                           f"({MAX_VERSIONS}); register a new twin")
    s.twins[op.key] = replace(
        twin, versions=(*twin.versions, (op.version, b32(op.spec_hash))))
    s.emit("twin_version", sender, sender, 0, "", op.key, op.version)


def transfer_twin(s: State, sender: Address, op: TransferTwin, nonce: int) -> None:
    twin = owned_twin(s, sender, op.key, "transfer")
    to = checked(op.to, "to")
    if to in MODULES:
        # its licences and royalties would be paid into a module account
        raise InvalidState(f"a twin cannot be given to {to}: the zero address and the "
                           "module accounts (escrow, compute, assets) own no twins")
    s.twins[op.key] = replace(twin, owner=to)
    s.emit("twin_transferred", sender, to, 0, "", op.key)


def set_licence(s: State, sender: Address, op: SetLicence, nonce: int) -> None:
    twin = owned_twin(s, sender, op.key, "set the licence of")
    s.twins[op.key] = replace(twin, licence_per_cu=op.fee_per_cu)
    s.emit("licence_set", sender, sender, 0, "", op.key, str(op.fee_per_cu))
