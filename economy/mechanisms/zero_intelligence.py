"""Zero-intelligence traders (Gode & Sunder 1993): random unit-order prices from a Generator.

Constrained (ZI-C) traders never trade at a loss: a buyer bids uniform on [0, value], a seller
asks uniform on [cost, max_price]. Unconstrained (ZI-U) traders ignore their value or cost and
draw uniform on [0, max_price]. Traders are visited in sorted id order, so the same Generator
state gives the same orders.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from economy.mechanisms.errors import InvalidOrder
from economy.mechanisms.orders import Ask, BidOrder

__all__ = ["zi_asks", "zi_bids"]


def zi_bids(
    values: Mapping[str, int], rng: np.random.Generator, *, max_price: int,
    constrained: bool = True,
) -> list[BidOrder]:
    """One unit bid per buyer: uniform on [0, value] (ZI-C) or on [0, max_price] (ZI-U).

    Args:
        values: buyer id -> value of its one unit, base units.
        rng: the market's Generator.
        max_price: the top of the price range, base units.
        constrained: ZI-C when True, ZI-U when False.
    """
    out = []
    for buyer in sorted(values):
        top = min(values[buyer], max_price) if constrained else max_price
        if top < 0:
            raise InvalidOrder("zi_bids", "values", "ints >= 0", values[buyer])
        out.append(BidOrder(buyer=buyer, qty=1, price=int(rng.integers(0, top, endpoint=True))))
    return out


def zi_asks(
    costs: Mapping[str, int], rng: np.random.Generator, *, max_price: int,
    constrained: bool = True,
) -> list[Ask]:
    """One unit ask per seller: uniform on [cost, max_price] (ZI-C) or on [0, max_price] (ZI-U).

    Args:
        costs: seller id -> cost of its one unit, base units, at most `max_price` for ZI-C.
        rng: the market's Generator.
        max_price: the top of the price range, base units.
        constrained: ZI-C when True, ZI-U when False.
    """
    out = []
    for seller in sorted(costs):
        low = costs[seller] if constrained else 0
        if not 0 <= low <= max_price:
            raise InvalidOrder("zi_asks", "costs", f"ints in [0, {max_price}]", costs[seller])
        out.append(Ask(seller=seller, qty=1, price=int(rng.integers(low, max_price,
                                                                     endpoint=True))))
    return out
