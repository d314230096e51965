"""economy.mechanisms: pure clearing rules for the compute market, with welfare measures.

Each mechanism is a function from integer orders to integer fills; none holds state or
touches a ledger, so Σ buyer payments equals Σ seller receipts by construction of `Fill`.
"""

from economy.mechanisms.call_market import CALL_RULES, CallPricing, clear_call, clearing_interval
from economy.mechanisms.errors import InvalidOrder, MechanismError, UnknownRule
from economy.mechanisms.orders import Ask, BidOrder, Fill
from economy.mechanisms.posted import clear_posted
from economy.mechanisms.sealed import (
    SEALED_RULES,
    SealedPricing,
    clear_sealed,
    clear_sealed_reverse,
)
from economy.mechanisms.welfare import (
    allocative_efficiency,
    gini,
    hhi_points,
    max_surplus,
    surplus,
)
from economy.mechanisms.zero_intelligence import zi_asks, zi_bids, zi_period

__all__ = [
    "CALL_RULES",
    "SEALED_RULES",
    "Ask",
    "BidOrder",
    "CallPricing",
    "Fill",
    "InvalidOrder",
    "MechanismError",
    "SealedPricing",
    "UnknownRule",
    "allocative_efficiency",
    "clear_call",
    "clear_posted",
    "clear_sealed",
    "clear_sealed_reverse",
    "clearing_interval",
    "gini",
    "hhi_points",
    "max_surplus",
    "surplus",
    "zi_asks",
    "zi_bids",
    "zi_period",
]
