"""Exogenous demand: each customer's requests from the twin, drawn from its own stream, the
requests it has not posted as jobs yet, and what each takes without a service (its baseline)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from chain import Address
from economy.observation import Order
from twinecon.seeds import SeedTree, Stream
from worlds.protocols import ServiceTwin

__all__ = ["Demand"]


class Demand:
    """The customers' open requests.

    Args:
        twin: the world whose request process (`orders`) the customers face.
        seeds: the run's seed tree (customer i's requests come from stream (DEMAND, i)).
        tick_ms: the twin time of one tick.
        lapse_ticks: a request not posted within this many ticks of its arrival lapses (the
            operation goes ahead without a service); 0: requests never lapse.
    """

    def __init__(self, twin: ServiceTwin, seeds: SeedTree, tick_ms: int,
                 lapse_ticks: int = 0) -> None:
        self._twin = twin
        self._seeds = seeds
        self._tick_ms = tick_ms
        self._lapse_ticks = lapse_ticks
        self._arrived: dict[str, int] = {}  # order id -> the tick it arrived in
        self.lapsed = 0  # requests that lapsed unposted, whole run
        self._streams: dict[Address, np.random.Generator] = {}
        self._open: dict[Address, dict[str, Order]] = {}
        self._baselines: dict[str, int] = {}  # order id -> its baseline plan's time, ms

    def add_customer(self, address: Address, index: int) -> None:
        self._streams[address] = self._seeds.rng(Stream.DEMAND, index)
        self._open[address] = {}

    def draw(self, baseline: Callable[[Order], int] | None = None, tick: int = 0) -> int:
        """Every customer's new requests for one tick, in customer order; returns how many.
        Requests older than the lapse go first.

        Args:
            baseline: the time the twin's baseline plan takes on a request (the customer's
                knowledge of its own operation), recorded with each new request.
            tick: the tick the requests arrive in.
        """
        n = 0
        tick_ms = self._tick_ms
        lapse = self._lapse_ticks
        arrived = self._arrived
        for address, rng in self._streams.items():
            opened = self._open[address]
            if lapse:
                for order_id in [o for o in opened if arrived[o] <= tick - lapse]:
                    self._forget(address, order_id)
                    self.lapsed += 1
            for order in self._twin.orders(rng, tick_ms):
                opened[order.order_id] = order
                arrived[order.order_id] = tick
                if baseline is not None:
                    self._baselines[order.order_id] = baseline(order)
                n += 1
        return n

    def baselines(self, address: Address) -> tuple[int, ...]:
        """The baseline time of each of the customer's open requests, aligned with
        `open_orders` (0 where none was recorded)."""
        opened = self._open.get(address)
        if not opened:
            return ()
        return tuple(self._baselines.get(order_id, 0) for order_id in opened)

    def open_orders(self, address: Address) -> tuple[Order, ...]:
        """The customer's requests not yet posted, oldest first (none for a non-customer)."""
        opened = self._open.get(address)
        return tuple(opened.values()) if opened else ()

    def get(self, address: Address, order_id: str) -> Order | None:
        opened = self._open.get(address)
        return opened.get(order_id) if opened else None

    def posted(self, address: Address, order_id: str) -> None:
        """The request is a job now: it leaves the customer's open requests."""
        self._forget(address, order_id)

    def _forget(self, address: Address, order_id: str) -> None:
        del self._open[address][order_id]
        self._baselines.pop(order_id, None)
        self._arrived.pop(order_id, None)
