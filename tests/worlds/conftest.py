"""Shared fixtures for the worlds tests: one default warehouse twin per session."""

from __future__ import annotations

import numpy as np
import pytest

from worlds.warehouse import Order, WarehouseTwin, warehouse_spec


@pytest.fixture(scope="session")
def twin() -> WarehouseTwin:
    return WarehouseTwin(warehouse_spec())


@pytest.fixture(scope="session")
def orders(twin: WarehouseTwin) -> list[Order]:
    """About 200 orders from a fixed seed (one simulated hour is ~60 orders)."""
    rng = np.random.default_rng(2024)
    out: list[Order] = []
    while len(out) < 200:
        out += twin.orders(rng, 3_600_000)
    return out[:200]
