"""The receipt of one twin evaluation: what was asked, what it cost, and a hash of the answer."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Receipt"]


class Receipt(NamedTuple):
    """A checkable, cacheable record of one evaluation.

    Attributes:
        twin_id: ``kind/name@version+sha256[:12]`` of the twin evaluated.
        tier: fidelity tier, "L0", "L1" or "L2".
        hz: physics rate in Hz (0 for tiers without a fixed step).
        seed: the scenario seed the evaluation used.
        plan_hash: sha256 hex of the canonical JSON of the request (plan and order).
        cu: compute units charged; known before evaluation.
        engine_version: pinned evaluator version, e.g. "warehouse-l1/1".
        result_hash: sha256 hex of the canonical JSON of the result.
    """

    twin_id: str
    tier: str
    hz: int
    seed: int
    plan_hash: str
    cu: int
    engine_version: str
    result_hash: str

    def to_dict(self) -> dict[str, Any]:
        """Return the receipt as a plain dict of strs and ints."""
        return dict(self._asdict())
