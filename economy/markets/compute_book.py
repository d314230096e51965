"""The compute market's book: standing offers, requests waiting for clearing, open leases.

Sim time is sold as leases on the ledger (lock the worst case, claim the usage): this book
holds what the ledger does not need to know. Offers renew their capacity every tick; a lease
meters the CU its buyer's evaluations draw from it and chains their receipts into the hash
its provider's usage claim commits to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chain import Address
from economy.errors import ActionRejected
from economy.mechanisms import Ask
from economy.observation import LeaseView, Quote
from economy.records import PendingSimulation

__all__ = ["ComputeBook", "Request"]


@dataclass(slots=True)
class _Offer:
    price: int
    capacity: int
    overclaim_bps: int


@dataclass(slots=True)
class _Lease:
    lease_id: int
    buyer: Address
    provider: Address
    cu: int
    price: int
    licence: int
    expires_at: int
    used: int = 0
    receipts: Any = field(default_factory=hashlib.sha256)

    def view(self) -> LeaseView:
        return LeaseView(lease_id=self.lease_id, buyer=self.buyer, provider=self.provider,
                         cu=self.cu, cu_used=self.used, price_per_cu=self.price,
                         licence_per_cu=self.licence, expires_at=self.expires_at)


@dataclass(slots=True)
class Request:
    """A buyer's request for CU waiting for the end-of-tick clearing.

    `simulation` is the evaluation waiting for it (run once the request fills), or None.
    """

    buyer: Address
    cu: int
    max_price: int
    simulation: PendingSimulation | None = None


class ComputeBook:
    """Offers, requests and leases of compute units (CU)."""

    def __init__(self) -> None:
        self._offers: dict[Address, _Offer] = {}
        self._order: list[tuple[Address, _Offer]] | None = None
        self._used: dict[Address, int] = {}
        self.requests: list[Request] = []
        self._leases: dict[int, _Lease] = {}
        self._by_party: dict[Address, dict[int, None]] = {}

    # -- offers -----------------------------------------------------------------------------
    def offer(self, provider: Address, price_per_cu: int, capacity_cu: int,
              overclaim_bps: int = 0) -> None:
        for name, v in (("price_per_cu", price_per_cu), ("capacity_cu", capacity_cu),
                        ("overclaim_bps", overclaim_bps)):
            if type(v) is not int or v < 0:
                raise ActionRejected("bad_offer", f"{name} must be an int >= 0, got {v!r}")
        self._offers[provider] = _Offer(price_per_cu, capacity_cu, overclaim_bps)
        self._order = None

    def overclaim_bps(self, provider: Address) -> int:
        offer = self._offers.get(provider)
        return offer.overclaim_bps if offer else 0

    def new_tick(self) -> None:
        self._used.clear()
        self.requests.clear()

    def _sorted(self) -> list[tuple[Address, _Offer]]:
        """Offers cheapest first (ties by address), kept until an offer changes."""
        if self._order is None:
            self._order = sorted(self._offers.items(), key=lambda kv: (kv[1].price, kv[0]))
        return self._order

    def quotes(self) -> tuple[Quote, ...]:
        """Offers with capacity left, cheapest first (ties by address)."""
        used = self._used
        return tuple(Quote(provider=p, price_per_cu=o.price,
                           capacity_left_cu=o.capacity - used.get(p, 0))
                     for p, o in self._sorted() if o.capacity > used.get(p, 0))

    def asks(self, eligible: Callable[[Address], bool], only: Address | None = None,
             need: int | None = None) -> list[Ask]:
        """The eligible offers with capacity left as asks (seller = the provider's address),
        cheapest first; with `need`, only as many as it takes to cover `need` units."""
        used = self._used
        out: list[Ask] = []
        for p, o in self._sorted():
            left = o.capacity - used.get(p, 0)
            if left <= 0 or (only is not None and p != only) or not eligible(p):
                continue
            out.append(Ask(seller=p, qty=left, price=o.price))
            if need is not None:
                need -= left
                if need <= 0:
                    break
        return out

    def capacity(self) -> int:
        """CU offered this tick, over every offer."""
        return sum(o.capacity for o in self._offers.values())

    def has_capacity(self, provider: Address) -> bool:
        offer = self._offers.get(provider)
        return offer is not None and offer.capacity > self._used.get(provider, 0)

    def max_price(self, eligible: Callable[[Address], bool], only: Address | None = None) -> int:
        """The dearest eligible offer with capacity left (0 if none)."""
        used = self._used
        return max((o.price for p, o in self._offers.items()
                    if o.capacity > used.get(p, 0) and (only is None or p == only)
                    and eligible(p)), default=0)

    def take(self, provider: Address, cu: int) -> None:
        """Use `cu` of the provider's capacity this tick."""
        self._used[provider] = self._used.get(provider, 0) + cu

    # -- leases -----------------------------------------------------------------------------
    def add_lease(self, lease_id: int, buyer: Address, provider: Address, cu: int, price: int,
                  licence: int, expires_at: int) -> None:
        self._leases[lease_id] = _Lease(lease_id, buyer, provider, cu, price, licence,
                                        expires_at)
        for party in (buyer, provider):
            self._by_party.setdefault(party, {})[lease_id] = None

    def leases_of(self, address: Address) -> tuple[LeaseView, ...]:
        ids = self._by_party.get(address)
        return tuple(self._leases[i].view() for i in ids) if ids else ()

    def available(self, buyer: Address) -> int:
        """CU left on the buyer's open leases."""
        ids = self._by_party.get(buyer, ())
        return sum(le.cu - le.used for i in ids if (le := self._leases[i]).buyer == buyer)

    def consume(self, buyer: Address, cu: int, receipt: bytes) -> list[tuple[int, int, int]]:
        """Draw `cu` from the buyer's leases, oldest first: [(lease_id, cu, cost)], where the
        cost is cu x (price + licence). The caller checked `available`."""
        drawn = []
        for i in list(self._by_party.get(buyer, ())):
            le = self._leases[i]
            if le.buyer != buyer or le.used == le.cu:
                continue
            take = min(cu, le.cu - le.used)
            le.used += take
            le.receipts.update(receipt)
            drawn.append((i, take, take * (le.price + le.licence)))
            cu -= take
            if cu == 0:
                break
        if cu:
            raise ActionRejected("no_compute", f"{cu} CU short on {buyer}'s leases")
        return drawn

    def due(self, tick: int) -> list[_Lease]:
        """Leases to claim now: fully used, or in their last tick."""
        return [le for le in self._leases.values()
                if le.used == le.cu or tick >= le.expires_at - 1]

    def remove(self, lease_id: int) -> None:
        le = self._leases.pop(lease_id)
        for party in (le.buyer, le.provider):
            ids = self._by_party[party]
            ids.pop(lease_id, None)
            if not ids:
                del self._by_party[party]
