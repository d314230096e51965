"""keccak-256 and EIP-55 checksummed addresses, without eth_utils.

eth_utils imports pydantic and eth_typing on the way (about 0.2 s, a fifth of `twinecon
validate`); these two functions are all the ledger's reference path needs of it. `keccak`
takes what eth_utils' does (bytes, or `text=` / `hexstr=`) and gives the same digest;
`to_checksum_address` the same string, refusing what is not 20 bytes with ValueError as it
does (tests/chain/test_hashing.py compares both with eth_utils).
"""

from __future__ import annotations

from eth_hash.auto import keccak as _keccak

__all__ = ["keccak", "to_checksum_address"]

_HEX = frozenset("0123456789abcdef")


def keccak(primitive: bytes | bytearray | memoryview | None = None, *, text: str | None = None,
           hexstr: str | None = None) -> bytes:
    """The 32-byte keccak-256 digest of bytes, of `text` (UTF-8) or of `hexstr` ("0x..." or
    bare hex); exactly one of them."""
    if (primitive is not None) + (text is not None) + (hexstr is not None) != 1:
        raise TypeError("keccak takes exactly one of bytes, text= or hexstr=")
    if text is not None:
        return _keccak(text.encode("utf-8"))
    if hexstr is not None:
        body = hexstr[2:] if hexstr[:2] in ("0x", "0X") else hexstr
        return _keccak(bytes.fromhex(body if len(body) % 2 == 0 else "0" + body))
    if not isinstance(primitive, bytes | bytearray | memoryview):
        raise TypeError(f"keccak of {type(primitive).__name__}: pass bytes, text= or hexstr=")
    return _keccak(bytes(primitive))


def to_checksum_address(value: str | bytes | bytearray) -> str:
    """The EIP-55 mixed-case form of a 20-byte address given as bytes or hex (any case).

    Raises:
        ValueError: not 20 bytes / 40 hex digits.
    """
    if isinstance(value, bytes | bytearray):
        if len(value) != 20:
            raise ValueError(f"an address is 20 bytes, got {len(value)}")
        body = bytes(value).hex()
    elif isinstance(value, str):
        body = (value[2:] if value[:2] in ("0x", "0X") else value).lower()
        if len(body) != 40 or not _HEX.issuperset(body):
            raise ValueError(f"{value!r} is not an address (0x and 40 hex digits)")
    else:
        raise TypeError(f"an address is bytes or a hex string, not {type(value).__name__}")
    digest = _keccak(body.encode("ascii")).hex()[:40]
    return "0x" + "".join(c.upper() if d in "89abcdef" else c
                          for c, d in zip(body, digest, strict=True))
