"""The twin's evaluators by fidelity tier, each memoised (equal requests, equal results)."""

from __future__ import annotations

from typing import Any

from economy.errors import ActionRejected
from worlds.cache import EvaluationCache
from worlds.protocols import ServiceTwin

__all__ = ["TIERS", "TierEvaluators"]

#: Fidelity tiers a job may be judged at and evaluations bought for.
TIERS = ("L1", "L2")


class TierEvaluators:
    """Evaluations in the twin at each tier it offers; a tier is built at first use.

    The twin is deterministic, so equal requests give equal results (the receipts say so)
    and are computed once.

    Args:
        twin: the world.
        hz: the physics rate of the L2 tier (None: the twin's default).
    """

    def __init__(self, twin: ServiceTwin, hz: int | None = None) -> None:
        self._twin = twin
        self._hz = hz
        self._tiers: dict[str, EvaluationCache] = {"L1": EvaluationCache(twin)}

    def get(self, tier: str) -> EvaluationCache:
        """The (memoised) evaluator of `tier`.

        Raises:
            ActionRejected: bad_tier, a tier the twin does not offer.
        """
        cache = self._tiers.get(tier)
        if cache is not None:
            return cache
        if tier not in TIERS:
            raise ActionRejected("bad_tier", f"tier must be one of {', '.join(TIERS)}, got "
                                 f"{tier!r}")
        from worlds.warehouse import WarehouseTwin

        if not isinstance(self._twin, WarehouseTwin):
            raise ActionRejected("bad_tier", f"the {self._twin.spec.kind} twin has no {tier} "
                                 "tier; only warehouse twins have L2 physics")
        from worlds.warehouse.physics import L2Evaluator  # mujoco: loaded only when used

        cache = self._tiers[tier] = EvaluationCache(L2Evaluator(self._twin, hz=self._hz))
        return cache

    def evaluate(self, plan: Any, order: Any, seed: int, tier: str = "L1") -> Any:
        """The evaluation of `plan` for `order` under evaluation seed `seed` at `tier`."""
        return self.get(tier).evaluate(plan, order, seed)

    def cu_for(self, tier: str, plan: Any, order: Any) -> int:
        """The CU evaluating `plan` for `order` at `tier` costs."""
        return self.get(tier).twin.cu_for(plan, order)
