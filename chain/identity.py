"""Agent identities: eth-account keypairs derived from the run seed or loaded from a keystore.

Keys, addresses and signatures need only coincurve and keccak; eth-account (half a second to
import) is imported by the methods that use it: keystores and the `account` signer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from coincurve import PrivateKey

from chain.errors import KeystoreError
from chain.hashing import keccak, to_checksum_address
from twinecon.seeds import SeedTree

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = ["Address", "Identity", "address_of_key"]

Address = str  # EIP-55 checksummed hex, "0x" + 40 hex digits

# secp256k1 group order: a private key must be in [1, n).
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def address_of_key(secret: bytes) -> Address:
    """The Ethereum address of a 32-byte private key (last 20 bytes of keccak(pubkey))."""
    public = PrivateKey(secret).public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak(public)[-20:])


class Identity:
    """An agent's keypair: a real secp256k1 key whose address is its account on the ledger.

    Keys derived from a seed are keys of a simulation: deterministic, public to anyone who
    knows the seed, and never meant to hold real value. The private key is never printed.
    """

    __slots__ = ("_account", "_key", "_secret", "address", "label")

    def __init__(self, secret: bytes, *, label: str = "") -> None:
        if len(secret) != 32 or not 0 < int.from_bytes(secret, "big") < _SECP256K1_N:
            raise KeystoreError("a private key must be 32 bytes in [1, n) of secp256k1")
        self._secret = secret
        self._account: LocalAccount | None = None
        self._key: PrivateKey | None = None
        self.address: Address = address_of_key(secret)
        self.label = label

    @classmethod
    def derive(cls, seed: int, index: int, *, label: str = "") -> Identity:
        """Derive the key of agent `index` in a run with `seed`: the `IDENTITY` stream of the
        run's seed tree (`twinecon.seeds`), keccak256 of its material and a counter.

        Args:
            seed: the run seed (any non-negative int).
            index: the agent's position in the scenario (0-based); the system accounts use
                `twinecon.seeds.SYSTEM_INDEX`.
            label: a name for people; not part of the derivation.
        """
        base = SeedTree(seed).identity_material(index)
        counter = 0
        while True:
            secret = keccak(base + counter.to_bytes(4, "big"))
            if 0 < int.from_bytes(secret, "big") < _SECP256K1_N:
                return cls(secret, label=label)
            counter += 1  # astronomically rare; keeps derivation total

    @classmethod
    def from_keystore(cls, path: str | Path, password: str, *, label: str = "") -> Identity:
        """Load a key from an encrypted Web3 Secret Storage (v3) keystore file."""
        from eth_account import Account

        path = Path(path)
        try:
            blob = json.loads(path.read_text())
            secret = bytes(Account.decrypt(blob, password))
        except FileNotFoundError:
            raise KeystoreError(f"{path}: no such keystore file") from None
        except OSError as e:
            raise KeystoreError(f"{path}: cannot read keystore ({e.strerror})") from None
        except (ValueError, KeyError, TypeError) as e:
            raise KeystoreError(
                f"{path}: cannot decrypt keystore ({e}); check the file and the password"
            ) from None
        return cls(secret, label=label or path.stem)

    def to_keystore(self, path: str | Path, password: str, *, iterations: int = 262_144) -> Path:
        """Write this key to an encrypted keystore file (scrypt) and return its path."""
        from eth_account import Account

        path = Path(path)
        blob = Account.encrypt(self._secret, password, kdf="scrypt", iterations=iterations)
        path.write_text(json.dumps(blob))
        return path

    @property
    def account(self) -> LocalAccount:
        """The eth-account signer, built on first use (it costs ~0.2 ms per key)."""
        if self._account is None:
            from eth_account import Account

            self._account = Account.from_key(self._secret)
        return self._account

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a 32-byte digest (an EIP-712 hash); returns the 65-byte r‖s‖v signature.

        libsecp256k1 through coincurve, directly: RFC 6979 deterministic and low-s, the same
        bytes eth-account's `unsafe_sign_hash` gives (tested), about 8 times faster.
        """
        key = self._key
        if key is None:
            key = self._key = PrivateKey(self._secret)
        raw = key.sign_recoverable(digest, hasher=None)
        return raw[:64] + bytes((raw[64] + 27,))

    def __repr__(self) -> str:
        name = f" {self.label!r}" if self.label else ""
        return f"<Identity{name} {self.address}>"
