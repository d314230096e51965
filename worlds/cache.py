"""A content-addressed cache of twin evaluations.

A twin is deterministic: the same (plan, request, seed) on the same twin version gives the
same result and the same receipt. So a result can be looked up by its request instead of
recomputed; the receipt of a cached result is the receipt the evaluation would give. Plans
and requests are frozen values, so the request itself is the key (equal content, equal key).
The cache wraps one tier's `Evaluator` (a twin is its own L1 evaluator) and is one itself.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from worlds.protocols import Evaluator

__all__ = ["EvaluationCache"]


class EvaluationCache:
    """Evaluations of one tier of one twin, keyed by (plan, request, seed), least recently
    used evicted; an `Evaluator` of the same tier, hz and CU as the one it wraps.

    Args:
        twin: the evaluator whose `evaluate(plan, order, seed)` is cached: a twin (its L1
            tier) or `twin.evaluator(tier)`.
        max_entries: how many results to keep (memory stays bounded).
    """

    def __init__(self, twin: Evaluator[Any, Any, Any], max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.twin = twin
        self.max_entries = max_entries
        self._results: OrderedDict[tuple, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property
    def tier(self) -> str:
        """The wrapped evaluator's tier."""
        return self.twin.tier

    @property
    def hz(self) -> int:
        """The wrapped evaluator's physics rate (0 for tiers without one)."""
        return self.twin.hz

    def cu_for(self, plan: Any, order: Any) -> int:
        """The wrapped evaluator's CU for the request (not cached: it is cheap)."""
        return self.twin.cu_for(plan, order)

    def evaluate(self, plan: Any, order: Any, seed: int) -> Any:
        """The twin's evaluation of the request, computed once per distinct request."""
        key = (plan, order, seed)
        try:
            result = self._results.get(key)
        except TypeError:  # an unhashable plan: nothing to address it by
            self.misses += 1
            return self.twin.evaluate(plan, order, seed)
        if result is not None:
            self.hits += 1
            self._results.move_to_end(key)
            return result
        self.misses += 1
        result = self.twin.evaluate(plan, order, seed)
        self._results[key] = result
        if len(self._results) > self.max_entries:
            self._results.popitem(last=False)
        return result

    def __len__(self) -> int:
        return len(self._results)
