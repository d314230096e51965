"""The content-addressed evaluation cache: same request, same result, computed once."""

from __future__ import annotations

import numpy as np
import pytest

from worlds.cache import EvaluationCache
from worlds.warehouse import WarehouseTwin, warehouse_spec


class Counting:
    """A twin wrapper counting real evaluations."""

    def __init__(self, twin: WarehouseTwin) -> None:
        self.twin, self.calls = twin, 0

    def evaluate(self, plan, order, seed):
        self.calls += 1
        return self.twin.evaluate(plan, order, seed)


@pytest.fixture(scope="module")
def twin() -> WarehouseTwin:
    return WarehouseTwin(warehouse_spec(n_aisles=6, slots_per_aisle=10, n_skus=100,
                                        order_rate_per_h=600))


def test_equal_requests_are_evaluated_once_with_identical_receipts(twin) -> None:
    orders = twin.orders(np.random.default_rng(3), 3_600_000)[:4]
    counting = Counting(twin)
    cache = EvaluationCache(counting)
    first = [cache.evaluate(twin.solve(o, "largest_gap"), o, 7) for o in orders]
    again = [cache.evaluate(twin.solve(o, "largest_gap"), o, 7) for o in orders]  # new objects
    assert counting.calls == len(orders) and cache.hits == len(orders)
    assert again == first
    assert [e.receipt for e in first] == [twin.evaluate(twin.solve(o, "largest_gap"), o, 7).receipt
                                         for o in orders]
    other_seed = cache.evaluate(twin.solve(orders[0], "largest_gap"), orders[0], 8)
    assert counting.calls == len(orders) + 1 and other_seed.receipt.seed == 8


def test_cache_is_bounded_least_recently_used_first(twin) -> None:
    order = twin.orders(np.random.default_rng(4), 3_600_000)[0]
    plan = twin.solve(order, "s_shape")
    counting = Counting(twin)
    cache = EvaluationCache(counting, max_entries=2)
    for seed in (1, 2, 1, 3):  # 1 is used again before 3 arrives, so 2 is evicted
        cache.evaluate(plan, order, seed)
    assert len(cache) == 2 and counting.calls == 3
    cache.evaluate(plan, order, 1)
    assert counting.calls == 3
    cache.evaluate(plan, order, 2)
    assert counting.calls == 4
    with pytest.raises(ValueError, match="max_entries"):
        EvaluationCache(twin, max_entries=0)


def test_a_cached_tier_is_an_evaluator_of_that_tier() -> None:
    """Wrapping twin.evaluator(tier) keeps its tier, hz and CU, and its answers."""
    from worlds import Evaluator
    from worlds.toy import ToyTwin, toy_spec

    toy = ToyTwin(toy_spec())
    l0 = toy.evaluator("L0")
    cache = EvaluationCache(l0)
    order = toy.orders(np.random.default_rng(1), 3_600_000)[0]
    plan = toy.solve(order, "two_opt")
    assert isinstance(cache, Evaluator) and (cache.tier, cache.hz) == ("L0", 0)
    assert cache.cu_for(plan, order) == l0.cu_for(plan, order)
    assert cache.evaluate(plan, order, 2) == l0.evaluate(plan, order, 2)
