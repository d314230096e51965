"""Inequality and concentration measures over integer amounts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["gini", "hhi"]


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
