"""The twin's evaluators by fidelity tier, each memoised (equal requests, equal results)."""

from __future__ import annotations

from typing import Any

from economy.errors import ActionRejected
from worlds import Tier, UnknownTier
from worlds.cache import EvaluationCache
from worlds.protocols import ServiceTwin

__all__ = ["TierEvaluators"]


class TierEvaluators:
    """Evaluations in the twin at each tier it offers (`twin.tiers`), each built at first use.

    The twin is deterministic, so equal requests give equal results (the receipts say so)
    and are computed once.

    Args:
        twin: the world.
        hz: the physics rate of the L2 tier (None: the twin's default).
    """

    def __init__(self, twin: ServiceTwin, hz: int | None = None) -> None:
        self._twin = twin
        self._hz = hz
        self._tiers: dict[str, EvaluationCache] = {Tier.L1.value: EvaluationCache(twin)}

    def get(self, tier: str) -> EvaluationCache:
        """The (memoised) evaluator of `tier`.

        Raises:
            ActionRejected: bad_tier, a tier the twin does not offer.
        """
        cache = self._tiers.get(tier)
        if cache is not None:
            return cache
        try:
            evaluator = self._twin.evaluator(tier, hz=self._hz if tier == Tier.L2 else None)
        except UnknownTier as e:
            raise ActionRejected(e.code, str(e)) from None
        cache = self._tiers[tier] = EvaluationCache(evaluator)
        return cache

    def evaluate(self, plan: Any, order: Any, seed: int, tier: str = "L1") -> Any:
        """The evaluation of `plan` for `order` under evaluation seed `seed` at `tier`."""
        return self.get(tier).evaluate(plan, order, seed)

    def cu_for(self, tier: str, plan: Any, order: Any) -> int:
        """The CU evaluating `plan` for `order` at `tier` costs."""
        return self.get(tier).cu_for(plan, order)
