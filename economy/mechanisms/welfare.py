"""Welfare of a set of fills: surplus, allocative efficiency, concentration and inequality.

Traders' private values are given per unit: `values[buyer]` lists the buyer's value of each
unit it could buy and `costs[seller]` the seller's cost of each unit it could sell (base units,
any order). A buyer's purchases are credited with its highest values first and a seller's
sales debited with its lowest costs first (units go to their best use).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from economy.mechanisms.errors import InvalidOrder
from economy.mechanisms.orders import Fill
from economy.metrics import gini

__all__ = ["allocative_efficiency", "gini", "hhi_points", "max_surplus", "surplus"]


def _credited(units: Mapping[str, Sequence[int]], traded: dict[str, int], side: str,
              best_first: bool) -> int:
    total = 0
    for who, n in sorted(traded.items()):
        schedule = sorted(units.get(who, ()), reverse=best_first)
        if n > len(schedule):
            raise InvalidOrder("surplus", side, f"at least {n} units for {who!r}", schedule)
        total += sum(schedule[:n])
    return total


def surplus(
    fills: Iterable[Fill],
    values: Mapping[str, Sequence[int]],
    costs: Mapping[str, Sequence[int]],
) -> tuple[int, int]:
    """Consumer and producer surplus realised by `fills`, exact ints in base units.

    Returns:
        `(cs, ps)`: buyers' credited values minus payments, and sellers' receipts minus
        debited costs.

    Raises:
        InvalidOrder: a trader traded more units than its schedule lists.
    """
    bought: dict[str, int] = {}
    sold: dict[str, int] = {}
    paid = 0
    for f in fills:
        bought[f.buyer] = bought.get(f.buyer, 0) + f.qty
        sold[f.seller] = sold.get(f.seller, 0) + f.qty
        paid += f.amount
    cs = _credited(values, bought, "values", best_first=True) - paid
    ps = paid - _credited(costs, sold, "costs", best_first=False)
    return cs, ps


def max_surplus(values: Mapping[str, Sequence[int]], costs: Mapping[str, Sequence[int]]) -> int:
    """The most total surplus any allocation can realise: pair the highest unit values with the
    lowest unit costs while value exceeds cost (the competitive-equilibrium surplus)."""
    v = sorted((x for xs in values.values() for x in xs), reverse=True)
    c = sorted(x for xs in costs.values() for x in xs)
    return sum(max(0, vi - ci) for vi, ci in zip(v, c, strict=False))


def allocative_efficiency(
    fills: Iterable[Fill],
    values: Mapping[str, Sequence[int]],
    costs: Mapping[str, Sequence[int]],
) -> float:
    """Realised total surplus over the maximum possible, in (-inf, 1].

    1.0 when there are no gains from trade and none was lost; below 0 when trades destroyed
    more value than they made.
    """
    cs, ps = surplus(fills, values, costs)
    best = max_surplus(values, costs)
    if best == 0:
        return 1.0 if cs + ps == 0 else float("-inf")
    return (cs + ps) / best


def hhi_points(quantities: Iterable[int]) -> float:
    """Herfindahl-Hirschman index in points, 0 to 10,000, from each seller's quantity sold.

    10,000 for a monopoly and 10,000 / n for n equal sellers (exact: one correctly rounded
    int division). `economy.hhi` is the same index on the 0-1 scale.
    """
    qs = [int(q) for q in quantities]
    if any(q < 0 for q in qs):
        raise InvalidOrder("hhi_points", "quantities", "ints >= 0", qs)
    total = sum(qs)
    if total == 0:
        return 0.0
    return 10_000 * sum(q * q for q in qs) / (total * total)
