"""Sim time at posted prices: compute providers' offers and per-tick capacity."""

from __future__ import annotations

from chain import Address
from economy.errors import ActionRejected
from economy.observation import Quote

__all__ = ["ComputeBook"]


class ComputeBook:
    """Posted offers of compute units (CU), each with a capacity that renews every tick.

    The full compute market (auctions, lock-then-claim leases) is a later issue; here a buyer
    pays exactly the CU its evaluations use, at the provider's posted price.
    """

    def __init__(self) -> None:
        self._offers: dict[Address, tuple[int, int]] = {}  # provider -> (price, capacity)
        self._used: dict[Address, int] = {}

    def offer(self, provider: Address, price_per_cu: int, capacity_cu: int) -> None:
        for name, v in (("price_per_cu", price_per_cu), ("capacity_cu", capacity_cu)):
            if type(v) is not int or v < 0:
                raise ActionRejected("bad_offer", f"{name} must be an int >= 0, got {v!r}")
        self._offers[provider] = (price_per_cu, capacity_cu)

    def new_tick(self) -> None:
        self._used.clear()

    def quotes(self) -> tuple[Quote, ...]:
        """Offers with capacity left, cheapest first (ties by address)."""
        out = [
            Quote(provider=p, price_per_cu=price, capacity_left_cu=cap - self._used.get(p, 0))
            for p, (price, cap) in self._offers.items()
            if cap > self._used.get(p, 0)
        ]
        out.sort(key=lambda q: (q.price_per_cu, q.provider))
        return tuple(out)

    def reserve(self, cu: int, provider: Address | None) -> tuple[Address, int]:
        """Pick the provider for `cu` units and reserve them; returns (provider, price)."""
        if provider is None:
            for q in self.quotes():
                if q.capacity_left_cu >= cu:
                    provider = q.provider
                    break
            else:
                raise ActionRejected("no_capacity", f"no compute provider has {cu} CU left "
                                     "this tick; buy fewer candidates or wait a tick")
        if provider not in self._offers:
            raise ActionRejected("unknown_compute", f"{provider} offers no compute")
        price, cap = self._offers[provider]
        used = self._used.get(provider, 0)
        if used + cu > cap:
            raise ActionRejected("no_capacity", f"{provider} has {cap - used} CU left this "
                                 f"tick, {cu} asked")
        self._used[provider] = used + cu
        return provider, price

    def release(self, provider: Address, cu: int) -> None:
        """Undo a reservation whose payment failed."""
        self._used[provider] -= cu
