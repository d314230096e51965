"""Sealed-bid auctions: a procurement (reverse) auction for units and a forward single-item one.

`sealed-reverse-v1`: a buyer procures `qty` units from the cheapest asks at or below its
reserve. Rule "first" (pay-as-bid) pays each winner its own ask; rule "second" (uniform,
Vickrey for unit supply) pays every winner the price of the first losing unit, i.e. the
cheapest unit not bought, capped by the reserve; with no losing unit the price is the reserve,
or, with no reserve either, the dearest winning ask.

`sealed-forward-v1`: one item, the highest bid wins (ties by buyer id, then input order);
"first" pays its own bid, "second" the higher of the runner-up bid and the reserve.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from economy.mechanisms._book import sorted_asks, sorted_bids
from economy.mechanisms.errors import InvalidOrder, UnknownRule
from economy.mechanisms.orders import Ask, BidOrder, Fill

__all__ = ["SEALED_RULES", "SealedPricing", "clear_sealed", "clear_sealed_reverse"]


class SealedPricing(StrEnum):
    """What a sealed-bid auction's winners pay."""

    FIRST = "first"  # their own bids (asks, in a reverse auction)
    SECOND = "second"  # the first losing bid (ask), for every winner


SEALED_RULES = tuple(SealedPricing)


def _check_args(mechanism: str, rule: str, reserve: int | None) -> None:
    if rule not in SEALED_RULES:
        raise UnknownRule(mechanism, rule, SEALED_RULES)
    if reserve is not None and (type(reserve) is not int or reserve < 0):
        raise InvalidOrder(mechanism, "reserve", "None or an int >= 0", reserve)


def clear_sealed_reverse(
    asks: Iterable[Ask],
    qty: int,
    rule: str = "first",
    reserve: int | None = None,
    *,
    buyer: str = "buyer",
) -> tuple[Fill, ...]:
    """Procure up to `qty` units from the lowest sealed asks.

    Args:
        asks: sellers' sealed asks; `price` is per unit, base units.
        qty: units wanted, int >= 1. Fewer are bought when too few asks meet the reserve.
        rule: "first" (each winner paid its ask) or "second" (uniform first-losing price).
        reserve: the most the buyer pays per unit; None for no limit.
        buyer: the buyer's id on the fills.

    Returns:
        Fills, cheapest asks first; the marginal ask may fill partly.
    """
    _check_args("clear_sealed_reverse", rule, reserve)
    if type(qty) is not int or qty < 1:
        raise InvalidOrder("clear_sealed_reverse", "qty", "an int >= 1", qty)
    book = sorted_asks(asks)
    won: list[tuple[Ask, int]] = []
    want = qty
    losing: int | None = None  # price of the cheapest unit not bought
    for ask in book:
        if want == 0 or (reserve is not None and ask.price > reserve):
            losing = ask.price
            break
        take = min(want, ask.qty)
        won.append((ask, take))
        want -= take
        if take < ask.qty and want == 0:
            losing = ask.price  # the rest of this ask is the first losing unit
            break
    if rule == "first":
        return tuple(Fill(buyer=buyer, seller=a.seller, qty=q, price=a.price) for a, q in won)
    if losing is None:
        losing = reserve if reserve is not None else max((a.price for a, _ in won), default=0)
    price = losing if reserve is None else min(losing, reserve)
    return tuple(Fill(buyer=buyer, seller=a.seller, qty=q, price=price) for a, q in won)


def clear_sealed(
    bids: Iterable[BidOrder],
    rule: str = "second",
    reserve: int | None = None,
    *,
    seller: str = "seller",
) -> tuple[Fill, ...]:
    """Sell one item to the highest sealed bid.

    Args:
        bids: buyers' sealed bids; `qty` is ignored (one item), `price` is the bid.
        rule: "first" (winner pays its bid) or "second" (winner pays the runner-up's bid).
        reserve: the least the seller accepts; None for no reserve.
        seller: the seller's id on the fill.

    Returns:
        One fill of one unit, or no fill when no bid meets the reserve.
    """
    _check_args("clear_sealed", rule, reserve)
    floor = 0 if reserve is None else reserve
    ranked = [b for b in sorted_bids(bids) if b.price >= floor]
    if not ranked:
        return ()
    top = ranked[0]
    if rule == "first":
        price = top.price
    else:
        price = max(ranked[1].price, floor) if len(ranked) > 1 else floor
    return (Fill(buyer=top.buyer, seller=seller, qty=1, price=price),)
