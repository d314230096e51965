"""Posted-price clearing: buyers, in arrival order, take the cheapest asks at the ask price."""

from __future__ import annotations

from collections.abc import Iterable

from economy.mechanisms._book import sorted_asks
from economy.mechanisms.orders import Ask, BidOrder, Fill

__all__ = ["clear_posted"]


def clear_posted(asks: Iterable[Ask], bids: Iterable[BidOrder]) -> tuple[Fill, ...]:
    """Fill each bid, in the order given, from the cheapest asks it accepts.

    A bid takes asks priced at or below its own price, cheapest first (ties by seller id,
    then by the asks' input order), and pays each seller that seller's posted price. Bids
    and asks fill partially; capacity a buyer takes is gone for the buyers after it.

    Args:
        asks: posted offers; each ask's `price` is the posted price per unit.
        bids: buyers' orders, in arrival order.

    Returns:
        Fills in the order they happened.
    """
    book = sorted_asks(asks)
    left = [a.qty for a in book]
    fills: list[Fill] = []
    for bid in bids:
        if not isinstance(bid, BidOrder):
            raise TypeError(f"expected BidOrder orders, got {type(bid).__name__}: {bid!r}")
        want = bid.qty
        for i, ask in enumerate(book):
            if want == 0 or ask.price > bid.price:
                break  # the book is sorted: every later ask is dearer still
            take = min(want, left[i])
            if take:
                left[i] -= take
                want -= take
                fills.append(Fill(buyer=bid.buyer, seller=ask.seller, qty=take, price=ask.price))
    return tuple(fills)
