"""How a report writes numbers: metric labels, money in tokens, four significant digits."""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np

__all__ = ["fmt", "is_money", "label", "tokens"]



_LABELS = {
    "jobs_completed": "jobs completed", "jobs_posted": "jobs posted",
    "jobs_rejected": "jobs rejected", "jobs_expired": "jobs expired",
    "completion_rate": "completion rate", "price_mean": "mean price (tokens)",
    "customer_value": "customer value (tokens)", "gini_final": "Gini of balances (final)",
    "time_ratio_mean": "plan time vs baseline", "volume": "volume (tokens)",
    "cu_sold": "sim time sold (CU)", "compute_spend": "compute spend (tokens)",
    "consumer_surplus": "consumer surplus (tokens)",
    "producer_surplus": "producer surplus (tokens)",
}


def label(metric: str) -> str:
    """A metric's name for people, with its unit (tokens for an amount)."""
    if metric in _LABELS:
        return _LABELS[metric]
    name = metric.replace("_", " ")
    return f"{name} (tokens)" if is_money(metric) else name


def is_money(column: str) -> bool:
    """Whether a summary or results column holds an amount (shown in tokens)."""
    from sweeps.engine import is_money_column

    return is_money_column(column) and not column.endswith("_tokens")


def tokens(values: Iterable[Any], decimals: int) -> np.ndarray:
    """Base-unit amounts (int, Decimal, float, None) as float tokens, exact up to rounding."""
    scale = 10**decimals
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(math.nan)
        elif isinstance(v, int | Decimal | np.integer):
            out.append(int(v) / scale)  # int / int: correctly rounded, no precision lost early
        else:
            out.append(float(v) / scale)
    return np.asarray(out, dtype=np.float64)


def fmt(x: Any) -> str:
    """A number for people: ints with separators, floats to four significant digits."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    x = float(x)
    if math.isnan(x):
        return "—"
    if x == 0:
        return "0"
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.4g}"
