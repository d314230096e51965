"""The fidelity tiers a twin can evaluate a plan at.

| tier | engine | reproducible |
|---|---|---|
| ``L0`` | closed form | bitwise anywhere |
| ``L1`` | graph / discrete event (networkx + numpy) | bitwise anywhere |
| ``L2`` | physics (MuJoCo at a declared Hz) | bitwise on one machine and build |

Every twin evaluates at L1 itself (`ServiceTwin.evaluate`); `ServiceTwin.tiers` lists the
tiers it offers and `ServiceTwin.evaluator(tier)` returns the evaluator of one of them.
A `Tier` is a `str`, so ``Tier.L1 == "L1"`` and receipts carry the plain string.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Tier"]


class Tier(StrEnum):
    """A fidelity tier: L0 analytic, L1 graph / discrete event, L2 physics."""

    L0 = "L0"
    L1 = "L1"
    L2 = "L2"
