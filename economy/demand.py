"""Exogenous demand: each customer's requests from the twin, drawn from its own stream, and
the requests it has not posted as jobs yet."""

from __future__ import annotations

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
    """

    def __init__(self, twin: ServiceTwin, seeds: SeedTree, tick_ms: int) -> None:
        self._twin = twin
        self._seeds = seeds
        self._tick_ms = tick_ms
        self._streams: dict[Address, np.random.Generator] = {}
        self._open: dict[Address, dict[str, Order]] = {}

    def add_customer(self, address: Address, index: int) -> None:
        self._streams[address] = self._seeds.rng(Stream.DEMAND, index)
        self._open[address] = {}

    def draw(self) -> int:
        """Every customer's new requests for one tick, in customer order; returns how many."""
        n = 0
        tick_ms = self._tick_ms
        for address, rng in self._streams.items():
            opened = self._open[address]
            for order in self._twin.orders(rng, tick_ms):
                opened[order.order_id] = order
                n += 1
        return n

    def open_orders(self, address: Address) -> tuple[Order, ...]:
        """The customer's requests not yet posted, oldest first (none for a non-customer)."""
        opened = self._open.get(address)
        return tuple(opened.values()) if opened else ()

    def get(self, address: Address, order_id: str) -> Order | None:
        opened = self._open.get(address)
        return opened.get(order_id) if opened else None

    def posted(self, address: Address, order_id: str) -> None:
        """The request is a job now: it leaves the customer's open requests."""
        del self._open[address][order_id]
