"""Compute: how sim time is cleared and paid for, and how dishonest claims are punished."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from economy.mechanisms import (
    Ask,
    BidOrder,
    CallPricing,
    Fill,
    SealedPricing,
    clear_call,
    clear_posted,
    clear_sealed_reverse,
)
from economy.rules._params import check, ledger_param, ledger_values, param

__all__ = ["CLEARING_RULES", "ClearingRule", "ComputeRule"]


class ClearingRule(StrEnum):
    """How the sim-time market matches requests with offers."""

    #: a buyer takes the cheapest posted offers at their prices, at once
    POSTED = "posted"
    #: each request is a sealed-bid reverse auction among the offers (first or second price),
    #: cleared at the end of the tick
    SEALED = "sealed"
    #: a uniform-price call market (double auction) over every request and offer, cleared at
    #: the end of the tick
    CALL = "call"


CLEARING_RULES = tuple(ClearingRule)


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputeRule:
    """The sim-time market's rules: clearing, leases, stakes, spot checks and slashing."""

    clearing: str = param(ClearingRule.POSTED.value, choices=ClearingRule, doc=(
        "posted prices (fill at once), a sealed-bid reverse auction per request, or a "
        "uniform-price call market, both cleared at the end of the tick"))
    sealed_pricing: str = param(SealedPricing.FIRST.value, choices=SealedPricing, doc=(
        "the reverse auction's price: first (each winner its ask) or second (every winner "
        "the first losing ask)"))
    call_pricing: str = param(CallPricing.MID.value, choices=CallPricing, doc=(
        "where in the clearing interval the call market's price lies: mid, bid (the buyers' "
        "end) or ask (the sellers' end)"))
    lease_ticks: int = param(1, unit="ticks", ge=1,
                             doc="ticks a lease runs before its unused CU return")
    min_stake: int = ledger_param("min_stake", doc=(
        "stake a compute provider must hold for a lease to be opened with it (staked from "
        "its balance at genesis)"))
    spot_check_bps: int = param(0, unit="bps", doc="share of usage claims re-metered")
    slash_bps: int = param(5_000, unit="bps", doc=(
        "share of its stake a provider loses when a spot check finds it claimed more CU than "
        "it metered"))
    slash_reward_bps: int = ledger_param("slash_reward_bps", doc=(
        "share of a slash paid to the cheated buyer; the rest is burned"))

    def __post_init__(self) -> None:
        check(self)

    @property
    def immediate(self) -> bool:
        """Whether a request is filled when it is made (posted prices) or at the tick's end."""
        return self.clearing == ClearingRule.POSTED

    def clear(self, asks: Sequence[Ask], bids: Sequence[BidOrder]) -> tuple[Fill, ...]:
        """Fills of `bids` (in arrival order) against `asks` under this rule."""
        if self.clearing == ClearingRule.POSTED:
            return clear_posted(asks, bids)
        if self.clearing == ClearingRule.CALL:
            return clear_call(asks, bids, self.call_pricing)
        fills: list[Fill] = []
        left = {a.seller: a.qty for a in asks}
        cheapest = sorted(asks, key=lambda a: (a.price, a.seller))
        for bid in bids:  # one reverse auction per request, capacity shrinking as it sells
            # the asks that can matter: enough to cover the request, and the first losing one
            book: list[Ask] = []
            covered = 0
            for a in cheapest:
                if left[a.seller] > 0:
                    book.append(Ask(seller=a.seller, qty=left[a.seller], price=a.price))
                    covered += left[a.seller]
                    if covered > bid.qty:
                        break
            if not book:
                break
            won = clear_sealed_reverse(book, bid.qty, self.sealed_pricing, reserve=bid.price,
                                       buyer=bid.buyer)
            for f in won:
                left[f.seller] -= f.qty
            fills.extend(won)
        return tuple(fills)

    def ledger_params(self) -> dict[str, object]:
        return ledger_values(self)
