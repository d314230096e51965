"""A small, fast ABI encoder for the types ledger operations use, and the malformed check.

eth_abi is general and careful, and costs tens of microseconds per call; the ledger encodes
every operation it executes, so this module encodes the five types operations are made of
(`address`, `uint64`, `uint256`, `bytes32`, `string`) directly. It is differential-tested
against eth_abi. `malformed` says why a value cannot be encoded, before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

__all__ = [
    "Unencodable", "encode", "encode_bytes", "is_address", "malformed", "malformed_op",
    "validator", "word",
]

_LIMITS = {"uint256": 1 << 256, "uint64": 1 << 64, "uint8": 1 << 8}
_ZERO = b"\x00" * 32


def word(n: int) -> bytes:
    """One 32-byte big-endian word."""
    return n.to_bytes(32, "big")


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 32)


@lru_cache(maxsize=65_536)
def is_address(v: str) -> bool:
    if len(v) != 42 or v[:2] not in ("0x", "0X"):
        return False
    try:
        int(v[2:], 16)
    except ValueError:
        return False
    return "_" not in v and " " not in v  # int() accepts both; an address does not


class Unencodable(ValueError):
    """A value its ABI type cannot hold."""


_PAD12 = b"\x00" * 12


def _field(i: int, t: str) -> tuple[bool, Callable[[object], bytes]]:
    """(dynamic?, check-and-encode) for field `i` of type `t`."""
    if t == "address":
        def address(v: object) -> bytes:
            if type(v) is str and is_address(v):
                return _PAD12 + bytes.fromhex(v[2:])
            raise Unencodable(f"field {i} must be a 0x-prefixed 20-byte hex address, got {v!r}")
        return False, address
    if t == "bytes32":
        def bytes32(v: object) -> bytes:
            if isinstance(v, bytes | bytearray) and len(v) <= 32:
                return bytes(v).ljust(32, b"\x00")
            raise Unencodable(f"field {i} must be at most 32 bytes, got {v!r}")
        return False, bytes32
    if t == "string":
        def string(v: object) -> bytes:
            if isinstance(v, str):
                return v.encode()
            raise Unencodable(f"field {i} must be a string, got {v!r}")
        return True, string
    limit = _LIMITS[t]

    def uint(v: object) -> bytes:
        if type(v) is int and 0 <= v < limit:
            return v.to_bytes(32, "big")
        raise Unencodable(f"field {i} must be an int in [0, 2**{limit.bit_length() - 1}), "
                          f"got {v!r}")
    return False, uint


_PLANS: dict[tuple[str, ...], list[tuple[bool, Callable[[object], bytes]]]] = {}


def encode(types: Sequence[str], values: Sequence[object]) -> bytes:
    """The ABI encoding of the tuple `values` of `types`, as eth_abi.encode gives it.

    Raises:
        Unencodable: a value its type cannot hold (the message names the field).
    """
    key = tuple(types)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = [_field(i, t) for i, t in enumerate(key)]
    if len(values) != len(plan):
        raise Unencodable(f"expected {len(plan)} values, got {len(values)}")
    head: list[bytes] = []
    tail: list[bytes] = []
    offset = 32 * len(plan)
    for (dynamic, field), value in zip(plan, values, strict=True):
        if dynamic:
            data = field(value)
            head.append(offset.to_bytes(32, "big"))
            chunk = len(data).to_bytes(32, "big") + data + b"\x00" * (-len(data) % 32)
            tail.append(chunk)
            offset += len(chunk)
        else:
            head.append(field(value))
    return b"".join(head) + b"".join(tail)


_VALIDATORS: dict[tuple[str, ...], Callable[[Sequence[object]], bool]] = {}
_TEST = {
    "address": "type(v[{i}]) is str and is_address(v[{i}])",
    "bytes32": "isinstance(v[{i}], (bytes, bytearray)) and len(v[{i}]) <= 32",
    "string": "isinstance(v[{i}], str)",
    "uint256": "type(v[{i}]) is int and 0 <= v[{i}] < {limit}",
    "uint64": "type(v[{i}]) is int and 0 <= v[{i}] < {limit}",
    "uint8": "type(v[{i}]) is int and 0 <= v[{i}] < {limit}",
}


def validator(types: Sequence[str]) -> Callable[[Sequence[object]], bool]:
    """A fast predicate: can these values be encoded as `types`? (One generated expression per
    type list; `malformed` says why not.)"""
    key = tuple(types)
    check = _VALIDATORS.get(key)
    if check is None:
        terms = [_TEST[t].format(i=i, limit=_LIMITS.get(t)) for i, t in enumerate(key)]
        body = " and ".join([f"len(v) == {len(key)}", *terms])
        check = eval(f"lambda v: {body}", {"is_address": is_address})  # our own fixed terms
        _VALIDATORS[key] = check
    return check


def malformed(types: Sequence[str], values: Sequence[object]) -> str | None:
    """Why `values` cannot be ABI-encoded as `types`, or None if they can."""
    try:
        encode(types, values)
    except Unencodable as e:
        return str(e)
    return None


def malformed_op(op: object) -> str | None:
    """Why operation `op`'s fields cannot be encoded under its ABI, or None if they can."""
    from chain.ops import values_of

    return malformed(op.ABI, values_of(op))  # type: ignore[arg-type, attr-defined]


def encode_bytes(data: bytes) -> bytes:
    """The tail of a dynamic `bytes` value: its length word and its padded data."""
    return word(len(data)) + _padded(data)
