"""Deterministic priority order of asks and bids (price first, then id, then arrival)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from economy.mechanisms.orders import Ask, BidOrder

__all__ = ["sorted_asks", "sorted_bids"]

_T = TypeVar("_T")


def sorted_asks(asks: Iterable[Ask]) -> list[Ask]:
    """Cheapest first; ties by seller id, then by position in the input (a stable sort)."""
    return sorted(_checked(asks, Ask), key=lambda a: (a.price, a.seller))


def sorted_bids(bids: Iterable[BidOrder]) -> list[BidOrder]:
    """Highest first; ties by buyer id, then by position in the input (a stable sort)."""
    return sorted(_checked(bids, BidOrder), key=lambda b: (-b.price, b.buyer))


def _checked(orders: Iterable[_T], kind: type[_T]) -> list[_T]:
    out = list(orders)
    for o in out:
        if not isinstance(o, kind):
            raise TypeError(f"expected {kind.__name__} orders, got {type(o).__name__}: {o!r}")
    return out
