"""A small, fast ABI encoder for the types ledger operations use, and the malformed check.

eth_abi is general and careful, and costs tens of microseconds per call; the ledger encodes
every operation it executes, so this module encodes the five types operations are made of
(`address`, `uint64`, `uint256`, `bytes32`, `string`) directly. It is differential-tested
against eth_abi. `malformed` says why a value cannot be encoded, before anything runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

__all__ = ["encode", "malformed", "malformed_op", "word"]

_LIMITS = {"uint256": 1 << 256, "uint64": 1 << 64, "uint8": 1 << 8}
_ZERO = b"\x00" * 32


def word(n: int) -> bytes:
    """One 32-byte big-endian word."""
    return n.to_bytes(32, "big")


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 32)


@lru_cache(maxsize=65_536)
def _is_address(v: str) -> bool:
    if len(v) != 42 or v[:2] not in ("0x", "0X"):
        return False
    try:
        int(v[2:], 16)
    except ValueError:
        return False
    return "_" not in v and " " not in v  # int() accepts both; an address does not


def malformed(types: Sequence[str], values: Sequence[object]) -> str | None:
    """Why `values` cannot be ABI-encoded as `types`, or None if they can."""
    for i, (t, v) in enumerate(zip(types, values, strict=True)):
        if t == "address":
            if not (isinstance(v, str) and _is_address(v)):
                return f"field {i} must be a 0x-prefixed 20-byte hex address, got {v!r}"
        elif t == "bytes32":
            if not isinstance(v, bytes | bytearray) or len(v) > 32:
                return f"field {i} must be at most 32 bytes, got {v!r}"
        elif t == "string":
            if not isinstance(v, str):
                return f"field {i} must be a string, got {v!r}"
        else:
            limit = _LIMITS[t]
            if type(v) is not int or not 0 <= v < limit:
                return f"field {i} must be an int in [0, 2**{limit.bit_length() - 1}), got {v!r}"
    return None


def malformed_op(op: object) -> str | None:
    """Why operation `op`'s fields cannot be encoded under its ABI, or None if they can."""
    from chain.ops import values_of

    return malformed(op.ABI, values_of(op))  # type: ignore[arg-type, attr-defined]


def encode(types: Sequence[str], values: Sequence[object]) -> bytes:
    """The ABI encoding of the tuple `values` of `types` (as eth_abi.encode); values must be
    well-formed (see `malformed`)."""
    head: list[bytes] = []
    tail: list[bytes] = []
    offset = 32 * len(types)
    for t, v in zip(types, values, strict=True):
        if t == "address":
            head.append(b"\x00" * 12 + bytes.fromhex(v[2:]))  # type: ignore[index]
        elif t == "bytes32":
            head.append(bytes(v).ljust(32, b"\x00"))  # type: ignore[arg-type]
        elif t == "string":
            data = v.encode()  # type: ignore[attr-defined]
            head.append(word(offset))
            chunk = word(len(data)) + _padded(data)
            tail.append(chunk)
            offset += len(chunk)
        else:
            head.append(word(v))  # type: ignore[arg-type]
    return b"".join(head) + b"".join(tail)


def encode_bytes(data: bytes) -> bytes:
    """The tail of a dynamic `bytes` value: its length word and its padded data."""
    return word(len(data)) + _padded(data)
