"""Where the ledger contracts live: deterministic addresses shared by every backend.

The contracts are deployed by a fixed deployer account in a fixed order, so on a fresh chain
their addresses are known in advance. The reference ledger uses the same addresses: the escrow
module account is the Escrow contract's address and signatures name the Hub as their verifying
contract, so one signed action means the same thing on every backend.
"""

from __future__ import annotations

from chain.hashing import keccak, to_checksum_address
from chain.identity import Address, Identity

__all__ = [
    "ASSETS_ADDRESS",
    "COMPUTE_ADDRESS",
    "CONTRACTS",
    "DEPLOYER",
    "ESCROW_ADDRESS",
    "HUB_ADDRESS",
    "REGISTRY_ADDRESS",
    "TOKEN_ADDRESS",
    "create_address",
]

#: The contracts in deployment order (the deployer's nonce is the index).
CONTRACTS = ("Hub", "Token", "Registry", "Escrow", "Compute", "Assets")

#: The deployer of the ledger contracts. Its key is public: a simulation key, never for value.
DEPLOYER = Identity(keccak(b"twinecon/deployer/v1"), label="deployer")


def _rlp_int(n: int) -> bytes:
    if n == 0:
        return b"\x80"
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return raw if n < 0x80 else bytes([0x80 + len(raw)]) + raw


def create_address(deployer: Address, nonce: int) -> Address:
    """The address of the contract `deployer` creates with account nonce `nonce` (CREATE)."""
    payload = b"\x94" + bytes.fromhex(deployer[2:]) + _rlp_int(nonce)
    return to_checksum_address(keccak(bytes([0xC0 + len(payload)]) + payload)[12:])


HUB_ADDRESS: Address = create_address(DEPLOYER.address, 0)
TOKEN_ADDRESS: Address = create_address(DEPLOYER.address, 1)
REGISTRY_ADDRESS: Address = create_address(DEPLOYER.address, 2)
ESCROW_ADDRESS: Address = create_address(DEPLOYER.address, 3)
#: The compute module: holds lease locks and stakes.
COMPUTE_ADDRESS: Address = create_address(DEPLOYER.address, 4)
#: The asset registry (royalty graph) and data pools; it never holds tokens.
ASSETS_ADDRESS: Address = create_address(DEPLOYER.address, 5)
