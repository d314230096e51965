"""Uniform-price call market (a sealed double auction cleared at one price), `call-market-v1`.

All bids and asks are collected, then cleared at once:

1. Bids are sorted highest first, asks cheapest first (ties by id, then by input order).
2. Units are matched down the two schedules while the marginal bid is at least the marginal
   ask; the quantity traded `Q` is the largest at which demand meets supply.
3. Every fill is priced at one uniform price `p` from the interval of market-clearing prices
   `[lo, hi]`, with `lo = max(a_Q, b_next)` and `hi = min(b_Q, a_next)`: `b_Q`/`a_Q` are
   the last matched bid and ask, `b_next`/`a_next` the first unmatched ones (omitted when a
   side is exhausted). The interval is never empty, every matched order accepts `p`, and no
   unmatched bid and unmatched ask could both accept `p`.
4. `rule` picks `p` in the interval: "mid" the integer midpoint `(lo + hi) // 2`, "bid" the
   buyers' end `hi`, "ask" the sellers' end `lo` (the k = 1 and k = 0 ends of the
   k-double auction, Satterthwaite & Williams 1989).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from economy.mechanisms._book import sorted_asks, sorted_bids
from economy.mechanisms.errors import UnknownRule
from economy.mechanisms.orders import Ask, BidOrder, Fill

__all__ = ["CALL_RULES", "CallPricing", "clear_call", "clearing_interval"]


class CallPricing(StrEnum):
    """Where in the interval of market-clearing prices the uniform price lies."""

    MID = "mid"  # the integer midpoint
    BID = "bid"  # the buyers' end (k = 1)
    ASK = "ask"  # the sellers' end (k = 0)


CALL_RULES = tuple(CallPricing)


def _match(bids: list[BidOrder], asks: list[Ask]) -> tuple[list[tuple[int, int, int]], int, int]:
    """Walk the sorted schedules; returns matches (bid index, ask index, qty), next i, next j."""
    bid_left = [b.qty for b in bids]
    ask_left = [a.qty for a in asks]
    matches: list[tuple[int, int, int]] = []
    i = j = 0
    while i < len(bids) and j < len(asks) and bids[i].price >= asks[j].price:
        q = min(bid_left[i], ask_left[j])
        matches.append((i, j, q))
        bid_left[i] -= q
        ask_left[j] -= q
        if bid_left[i] == 0:
            i += 1
        if ask_left[j] == 0:
            j += 1
    return matches, i, j


def _clear(
    b: list[BidOrder], a: list[Ask]
) -> tuple[list[tuple[int, int, int]], int, int]:
    """Matches of sorted bids `b` to sorted asks `a`, and the clearing interval (lo, hi)."""
    matches, i, j = _match(b, a)
    if not matches:
        return matches, 0, 0
    last_i, last_j, _ = matches[-1]
    lo, hi = a[last_j].price, b[last_i].price
    # a partly filled order is also the first unmatched one: its own price bounds the interval
    if i < len(b):
        lo = max(lo, b[i].price)
    if j < len(a):
        hi = min(hi, a[j].price)
    return matches, lo, hi


def clearing_interval(
    asks: Iterable[Ask], bids: Iterable[BidOrder]
) -> tuple[int, int, int] | None:
    """The traded quantity and the interval of uniform prices that clear the book.

    Returns:
        `(Q, lo, hi)` with `Q >= 1` units and prices `lo <= hi` in base units, or None when
        no bid meets any ask.
    """
    matches, lo, hi = _clear(sorted_bids(bids), sorted_asks(asks))
    if not matches:
        return None
    return sum(q for _, _, q in matches), lo, hi


def clear_call(
    asks: Iterable[Ask], bids: Iterable[BidOrder], rule: str = "mid"
) -> tuple[Fill, ...]:
    """Clear a call market at one uniform price.

    Args:
        asks: sellers' orders; `price` is the least a seller accepts per unit.
        bids: buyers' orders; `price` is the most a buyer pays per unit.
        rule: "mid", "bid" or "ask"; where in the clearing interval the price lies.

    Returns:
        Fills, highest bids matched to cheapest asks first, all at the same price; empty when
        nothing trades.

    Raises:
        UnknownRule: `rule` is not one of `CALL_RULES`.
    """
    if rule not in CALL_RULES:
        raise UnknownRule("clear_call", rule, CALL_RULES)
    b, a = sorted_bids(bids), sorted_asks(asks)
    matches, lo, hi = _clear(b, a)
    if not matches:
        return ()
    price = {"mid": (lo + hi) // 2, "bid": hi, "ask": lo}[rule]
    return tuple(Fill(buyer=b[bi].buyer, seller=a[aj].seller, qty=q, price=price)
                 for bi, aj, q in matches)
