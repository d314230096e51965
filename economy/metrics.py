"""Inequality and concentration measures over integer amounts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["block_surplus", "gini", "hhi"]


def gini(amounts: Sequence[int]) -> float:
    """Gini coefficient of non-negative amounts: 0 equal, → 1 one holder has everything.

    Computed exactly in integers (sorted-rank formula) before the final division, so huge
    base-unit balances lose no precision.
    """
    xs = sorted(int(a) for a in amounts)
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((2 * (i + 1) - n - 1) * x for i, x in enumerate(xs))
    return weighted / (n * total)


def hhi(amounts: Sequence[int]) -> float:
    """Herfindahl-Hirschman index of market shares, in [1/n, 1] (0 when nothing is sold)."""
    total = sum(int(a) for a in amounts)
    if total == 0:
        return 0.0
    shares = np.array([int(a) / total for a in amounts], dtype=np.float64)
    return float(np.sum(shares * shares))


def block_surplus(bids: Sequence[tuple[int, int]], asks: Sequence[tuple[int, int]]) -> int:
    """The most gains from trade a book allows: bids (qty, value per unit) met by asks (qty,
    cost per unit), highest values with cheapest costs, while value >= cost. Exact integers,
    in blocks (quantities of millions of compute units cost nothing extra)."""
    b = sorted(([q, v] for q, v in bids if q > 0), key=lambda x: -x[1])
    a = sorted(([q, c] for q, c in asks if q > 0), key=lambda x: x[1])
    i = j = 0
    total = 0
    while i < len(b) and j < len(a) and b[i][1] >= a[j][1]:
        q = min(b[i][0], a[j][0])
        total += q * (b[i][1] - a[j][1])
        b[i][0] -= q
        a[j][0] -= q
        i += b[i][0] == 0
        j += a[j][0] == 0
    return total
