"""Zero-intelligence traders (Gode & Sunder 1993): random unit orders drawn from a Generator.

Constrained (ZI-C) traders never trade at a loss: a buyer bids uniform on [0, value], a seller
asks uniform on [cost, max_price]. Unconstrained (ZI-U) traders ignore their value or cost and
draw uniform on [0, max_price]. Traders are visited in sorted id order, so the same Generator
state gives the same orders.

`zi_period` runs one trading period as repeated calls: every trader without a trade redraws
its order each round, the book clears with `clear_call`, and traders who traded leave. This
stands in for the continuous double auction of the paper, where traders keep re-quoting until
the period ends; a single call with one draw each realises far less of the surplus (about a
third with the schedule in the tests).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from economy.mechanisms.call_market import clear_call
from economy.mechanisms.errors import InvalidOrder
from economy.mechanisms.orders import Ask, BidOrder, Fill

__all__ = ["zi_asks", "zi_bids", "zi_period"]


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


def zi_period(
    values: Mapping[str, int],
    costs: Mapping[str, int],
    rng: np.random.Generator,
    *,
    max_price: int,
    n_rounds: int,
    constrained: bool = True,
    rule: str = "mid",
) -> tuple[Fill, ...]:
    """One trading period of unit ZI traders as up to `n_rounds` uniform-price calls.

    Args:
        values: buyer id -> value of its one unit, base units.
        costs: seller id -> cost of its one unit, base units.
        rng: the market's Generator; orders are drawn buyers first, in sorted id order.
        max_price: the top of the price range, base units.
        n_rounds: calls in the period, int >= 1; the period ends early when a side is empty.
        constrained: ZI-C when True, ZI-U when False.
        rule: the call market's pricing rule.

    Returns:
        Every fill of the period, round by round.
    """
    if type(n_rounds) is not int or n_rounds < 1:
        raise InvalidOrder("zi_period", "n_rounds", "an int >= 1", n_rounds)
    buyers, sellers = dict(values), dict(costs)
    fills: list[Fill] = []
    for _ in range(n_rounds):
        if not buyers or not sellers:
            break
        bids = zi_bids(buyers, rng, max_price=max_price, constrained=constrained)
        asks = zi_asks(sellers, rng, max_price=max_price, constrained=constrained)
        traded = clear_call(asks, bids, rule)
        for f in traded:  # unit traders: each trades at most once
            del buyers[f.buyer], sellers[f.seller]
        fills.extend(traded)
    return tuple(fills)
