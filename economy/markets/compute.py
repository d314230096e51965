"""The sim-time market at work: offers bought under the compute rule's clearing, leases opened,
drawn on and claimed, claims spot-checked and overclaiming providers slashed.

Sim time is sold as leases on the ledger: the buyer locks the worst case, CU x (price + the
twin's licence); its evaluations draw on its leases; the provider claims what its usage
receipts metered (at most the lock) and the rest returns. Under posted prices a purchase fills
at once; under the sealed and call rules requests wait for the end of the tick, when they clear
together and the evaluations that waited for them run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chain import Address, ClaimLease, CloseLease, Identity, OpenLease, Slash, job_id_for
from economy.accounting import FlowBook
from economy.emissions import Emissions
from economy.errors import ActionRejected
from economy.markets.compute_book import ComputeBook, Request
from economy.mechanisms import Ask, BidOrder, Fill
from economy.metrics import block_surplus
from economy.population import Population
from economy.records import PendingSimulation
from economy.rules import ComputeRule
from economy.settler import Settler
from economy.stats import TickStats

__all__ = ["ComputeMarket"]


class ComputeMarket:
    """Buying and settling sim time under one compute rule.

    Args:
        rule: the compute rule (clearing, lease length, stake, spot checks, slashing).
        settler: executes the lease operations.
        population: the participants (a buyer's key; whose money a lease holds).
        twin_key: the registered twin the sim time is in.
        protocol: the authority that slashes.
        market: the operator that closes expired leases.
        spot_rng: the protocol's spot-check stream.
        emissions: credited with the useful work each claim was paid for.
        stats: the tick's counters.
        flows: the flow book (a seller's resource cost goes into its profit and loss).
        cost_per_cu: what running one CU really costs a seller, base units.
    """

    def __init__(self, *, rule: ComputeRule, settler: Settler, population: Population,
                 twin_key: str, protocol: Identity, market: Identity,
                 spot_rng: np.random.Generator, emissions: Emissions, stats: TickStats,
                 flows: FlowBook, cost_per_cu: int = 0) -> None:
        self.rule = rule
        self.book = ComputeBook()
        self._settler = settler
        self._ledger = settler.ledger
        self._population = population
        self._twin_key = twin_key
        self._protocol = protocol
        self._market = market
        self._spot_rng = spot_rng
        self._emissions = emissions
        self._stats = stats
        self._flows = flows
        self._cost_per_cu = cost_per_cu
        self._staked: dict[Address, bool] = {}
        self._licence_per_cu: int | None = None

    # -- the tick ----------------------------------------------------------------------------
    def begin_tick(self, tick: int) -> None:
        """Renew the offers' capacity, forget what was read last tick, and return the lock of
        every lease whose provider never claimed it."""
        self.book.new_tick()
        self._staked = {}
        self._licence_per_cu = None
        for lease in [le for le in self.book.due(tick) if tick >= le.expires_at]:
            self._settler.execute(self._market, CloseLease(lease_id=lease.lease_id))
            self._ran(lease)
            self.book.remove(lease.lease_id)
            self._population.release(str(lease.lease_id))

    def clear(self, tick: int, run: Callable[[PendingSimulation], bool]) -> None:
        """Sealed and call rules: clear the tick's requests, open the leases and `run` the
        evaluations that waited for them (run returns False when it cannot); then every lease
        that is used up or ends is claimed by its provider (and spot-checked)."""
        requests = self.book.requests
        if requests:
            asks = self.book.asks(self.eligible)
            bids = [BidOrder(buyer=str(i), qty=r.cu, price=r.max_price)
                    for i, r in enumerate(requests)]
            fills = self.rule.clear(asks, bids)
            by_request: dict[int, list[Fill]] = defaultdict(list)
            for f in fills:
                by_request[int(f.buyer)].append(f)
            self._account_clearing(requests, asks, fills)
            for i, r in enumerate(requests):
                buyer = self._population.by_address[r.buyer]
                leased = self._open_leases(buyer.identity, by_request.get(i, ()))
                pending = r.simulation
                if pending is None:
                    continue
                if not (leased == r.cu and self.book.available(pending.buyer) >= pending.cu
                        and run(pending)):
                    self._stats.rejected_actions += 1
                    self._settler.event(
                        "action_rejected", pending.buyer, ref=str(pending.job.job_id),
                        detail=f"Simulate:no_compute: {leased} of {r.cu} CU filled at "
                        f"<= {r.max_price} per CU under the {self.rule.clearing} rule")
            requests.clear()
        self._claim_leases(tick)

    # -- buying ------------------------------------------------------------------------------
    def eligible(self, provider: Address) -> bool:
        """Whether the provider holds the stake to sell (read once a tick, and again after a
        stake changes)."""
        ok = self._staked.get(provider)
        if ok is None:
            ok = self._staked[provider] = (self._ledger.stake_of(provider)
                                           >= self.rule.min_stake)
        return ok

    def stake_changed(self, provider: Address) -> None:
        self._staked.pop(provider, None)

    def licence(self) -> int:
        """The twin's licence per CU (read once a tick)."""
        if self._licence_per_cu is None:
            twin = self._ledger.twin(self._twin_key)
            self._licence_per_cu = twin.licence_per_cu if twin is not None else 0
        return self._licence_per_cu

    def limit(self, max_price: int | None, only: Address | None) -> int:
        """A request's price limit: as given, or the dearest eligible offer."""
        if max_price is not None:
            if type(max_price) is not int or max_price < 0:
                raise ActionRejected("bad_price", f"max_price_per_cu must be an int >= 0, got "
                                     f"{max_price!r}")
            return max_price
        return self.book.max_price(self.eligible, only)

    def buy_now(self, buyer: Identity, cu: int, max_price: int | None, only: Address | None,
                max_cost: int | None = None) -> int:
        """Posted prices: fill `cu` from the cheapest eligible offers at once; return the CU
        leased.

        Raises:
            ActionRejected: the named seller has no capacity, the offers cannot fill `cu` at
                the limit, or the cost is over `max_cost`.
        """
        if only is not None and not self.book.has_capacity(only):
            raise ActionRejected("unknown_compute", f"{only} offers no compute with capacity "
                                 "left this tick")
        limit = self.limit(max_price, only)
        asks = self.book.asks(self.eligible, only, need=cu)
        fills = self.rule.clear(asks, [BidOrder(buyer=buyer.address, qty=cu, price=limit)])
        if sum(f.qty for f in fills) < cu:
            raise ActionRejected("no_capacity", f"the compute offers cannot fill {cu} CU at "
                                 f"<= {limit} per CU this tick; buy fewer or wait a tick")
        if max_cost is not None:
            cost = sum(f.qty * (f.price + self.licence()) for f in fills)
            if cost > max_cost:
                raise ActionRejected("over_budget", f"{cu} CU cost {cost}, over max_cost "
                                     f"{max_cost}")
        return self._open_leases(buyer, fills)

    def request(self, buyer: Address, cu: int, max_price: int | None, only: Address | None,
                simulation: PendingSimulation | None = None) -> None:
        """Sealed and call rules: queue a request for the end-of-tick clearing."""
        self.book.requests.append(Request(buyer=buyer, cu=cu,
                                          max_price=self.limit(max_price, only),
                                          simulation=simulation))

    def _open_leases(self, buyer: Identity, fills: Sequence[Fill]) -> int:
        """Open one lease per fill (the buyer signs and locks); return the CU leased."""
        licence = self.licence()
        leased = 0
        for fill in fills:
            nonce = self._ledger.nonce_of(buyer.address)
            expires_at = self._settler.clock.tick + self.rule.lease_ticks
            result = self._settler.execute(buyer, OpenLease(
                provider=fill.seller, twin=self._twin_key, cu=fill.qty, price_per_cu=fill.price,
                expires_at=expires_at))
            if not result.ok:
                continue
            lease_id = job_id_for(buyer.address, nonce)
            self.book.take(fill.seller, fill.qty)
            self.book.add_lease(lease_id, buyer.address, fill.seller, fill.qty, fill.price,
                                licence, expires_at)
            self._population.hold(str(lease_id), buyer.address)
            self._stats.cu_leased += fill.qty
            self._stats.compute_fills.append((fill.qty, fill.price))
            leased += fill.qty
        return leased

    def _account_clearing(self, requests: Sequence[Request], asks: Sequence[Ask],
                          fills: Sequence[Fill]) -> None:
        """Allocative efficiency of one clearing: realised / the most the book allowed, with
        the requests' limits as values and the offers' prices as costs."""
        price_of = {a.seller: a.price for a in asks}
        self._stats.surplus += sum(
            f.qty * (requests[int(f.buyer)].max_price - price_of[f.seller]) for f in fills)
        self._stats.surplus_max += block_surplus([(r.cu, r.max_price) for r in requests],
                                                 [(a.qty, a.price) for a in asks])

    # -- settling ----------------------------------------------------------------------------
    def _claim_leases(self, tick: int) -> None:
        """Each provider claims its due leases (used up, or in their last tick) at what it
        metered, or more if it overclaims; the protocol spot-checks a share of the claims and
        slashes a provider caught claiming more than it metered."""
        rule = self.rule
        for lease in self.book.due(tick):
            provider = self._population.by_address.get(lease.provider)
            if provider is None:
                continue
            over = lease.used * self.book.overclaim_bps(lease.provider) // 10_000
            claim = min(lease.cu, lease.used + over)
            result = self._settler.execute(provider.identity, ClaimLease(
                lease_id=lease.lease_id, cu=claim, receipt=lease.receipts.digest()))
            if not result.ok:
                continue  # the buyer gets the lock back when the lease expires
            self._ran(lease)
            self.book.remove(lease.lease_id)
            self._population.release(str(lease.lease_id))
            self._stats.cu_claimed += claim
            checked = (rule.spot_check_bps
                       and self._spot_rng.integers(10_000) < rule.spot_check_bps)
            if not (checked and claim > lease.used):
                self._emissions.credit(lease.provider, claim)  # useful work
            if checked:
                self._settler.event("spot_check", self._protocol.address, lease.provider, 0,
                                    str(lease.lease_id), f"claimed={claim};metered={lease.used}")
                if claim > lease.used:  # caught: no emission for this lease, and a slash
                    self._slash(lease.provider, lease.buyer, lease.lease_id)

    def _ran(self, lease: Any) -> None:
        """The seller ran the lease's metered CU: their real cost, in its profit and loss."""
        cost = lease.used * self._cost_per_cu
        if cost:
            self._flows.charge(lease.provider, "compute_cost", cost)
            self._stats.compute_cost += cost

    def _slash(self, offender: Address, victim: Address, lease_id: int) -> None:
        stake = self._ledger.stake_of(offender)
        amount = min(stake, max(1, stake * self.rule.slash_bps // 10_000))
        if amount and self._settler.execute(self._protocol, Slash(
                offender=offender, amount=amount, beneficiary=victim, ref=lease_id)).ok:
            self._stats.slashed += amount
            self.stake_changed(offender)
