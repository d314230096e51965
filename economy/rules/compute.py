"""Compute: how sim time is cleared and paid for, and how dishonest claims are punished."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from economy.mechanisms import (
    CALL_RULES,
    SEALED_RULES,
    Ask,
    BidOrder,
    Fill,
    clear_call,
    clear_posted,
    clear_sealed_reverse,
)

__all__ = ["CLEARING_RULES", "ComputeRule"]

#: "posted": a buyer takes the cheapest posted offers at their prices, at once;
#: "sealed": each request is a sealed-bid reverse auction among the offers (first or second
#: price), cleared at the end of the tick; "call": a uniform-price call market (double
#: auction) over every request and offer, cleared at the end of the tick.
CLEARING_RULES = ("posted", "sealed", "call")


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputeRule:
    """Attributes:
        clearing: "posted", "sealed" or "call".
        sealed_pricing: the reverse auction's price: "first" (each winner its ask) or
            "second" (every winner the first losing ask).
        call_pricing: where in the clearing interval the call market's price lies: "mid",
            "bid" (the buyers' end) or "ask" (the sellers' end).
        lease_ticks: how long a lease runs; CU not used by then returns to the buyer.
        min_stake: stake a compute provider must hold for a lease to be opened with it.
        spot_check_bps: share of usage claims the protocol re-meters.
        slash_bps: share of its stake a provider loses when a spot check finds it claimed
            more CU than it metered.
        slash_reward_bps: share of a slash paid to the cheated buyer; the rest is burned.
    """

    clearing: str = "posted"
    sealed_pricing: str = "first"
    call_pricing: str = "mid"
    lease_ticks: int = 1
    min_stake: int = 0
    spot_check_bps: int = 0
    slash_bps: int = 5_000
    slash_reward_bps: int = 5_000

    def __post_init__(self) -> None:
        for name, value, allowed in (("clearing", self.clearing, CLEARING_RULES),
                                     ("sealed_pricing", self.sealed_pricing, SEALED_RULES),
                                     ("call_pricing", self.call_pricing, CALL_RULES)):
            if value not in allowed:
                raise ValueError(f"compute {name} must be one of {', '.join(allowed)}, got "
                                 f"{value!r}")

    @property
    def immediate(self) -> bool:
        """Whether a request is filled when it is made (posted prices) or at the tick's end."""
        return self.clearing == "posted"

    def clear(self, asks: Sequence[Ask], bids: Sequence[BidOrder]) -> tuple[Fill, ...]:
        """Fills of `bids` (in arrival order) against `asks` under this rule."""
        if self.clearing == "posted":
            return clear_posted(asks, bids)
        if self.clearing == "call":
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
        return {"min_stake": self.min_stake, "slash_reward_bps": self.slash_reward_bps}
