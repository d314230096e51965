"""Canonical JSON bytes and their sha256, the one serialisation every hash in worlds uses."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_bytes", "sha256_hex"]


def canonical_bytes(obj: Any) -> bytes:
    """Serialise `obj` to canonical JSON (sorted keys, no spaces, ASCII only).

    Args:
        obj: JSON-serialisable value made of ints, strs, bools, lists and dicts.

    Returns:
        The UTF-8 (here pure ASCII) bytes of the canonical form.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def sha256_hex(obj: Any) -> str:
    """Return the sha256 hex digest of `canonical_bytes(obj)`."""
    return hashlib.sha256(canonical_bytes(obj)).hexdigest()
