"""A compliance checker a twin author runs on their own twin before registering it.

``check_twin(twin)`` checks: the spec's JSON round trip and hash stability, that a twin
rebuilt from the round-tripped spec has the same id, determinism of `orders`, `solve` and
`evaluate` for fixed seeds, that `cu_for` matches the CU `evaluate` charges, and that every
reference solver returns a valid plan. It uses only the twin's public surface (``spec``,
``twin_id``, ``solvers``, ``orders``, ``solve``, ``cu_for``, ``evaluate``), so any twin
with that surface can be checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from worlds.errors import WorldError
from worlds.spec import TwinSpec

__all__ = ["check_twin"]


def _fail(what: str, expected: Any, got: Any, fix: str) -> WorldError:
    return WorldError(f"check_twin: {what}: expected {expected!r}, got {got!r}; {fix}")


def check_twin(twin: Any, *, seed: int = 12345, tick_ms: int = 3_600_000,
               n_orders: int = 5) -> None:
    """Run the twin compliance checks; return None if all pass.

    Args:
        twin: the twin to check.
        seed: seed for the order draw and the evaluations.
        tick_ms: tick length used to draw orders (long enough to get some).
        n_orders: how many drawn orders to solve and evaluate at most.

    Raises:
        WorldError: the first check that fails, saying what was expected and what was got.
    """
    spec = twin.spec
    if not isinstance(spec, TwinSpec):
        raise _fail("twin.spec type", "TwinSpec", type(spec).__name__,
                    "expose the TwinSpec the twin was built from")
    again = TwinSpec.from_json(spec.to_json())
    if again != spec or again.sha256 != spec.sha256:
        raise _fail("spec JSON round trip", spec.sha256, again.sha256,
                    "keep the spec body to ints, strs, bools, lists and dicts")
    if spec.canonical_json() != again.canonical_json():
        raise _fail("canonical JSON stability", "identical bytes", "different bytes",
                    "do not mutate spec.body after building the spec")
    if twin.twin_id != spec.id:
        raise _fail("twin_id", spec.id, twin.twin_id, "derive twin_id from spec.id")
    rebuilt = type(twin)(again)
    if rebuilt.twin_id != twin.twin_id:
        raise _fail("twin rebuilt from round-tripped spec", twin.twin_id, rebuilt.twin_id,
                    "build every twin attribute from the spec alone")

    orders = twin.orders(np.random.default_rng(seed), tick_ms)
    orders_again = rebuilt.orders(np.random.default_rng(seed), tick_ms)
    if orders != orders_again:
        raise _fail("orders() determinism for a fixed rng", orders[:1], orders_again[:1],
                    "draw only from the rng passed in")
    if not orders:
        raise _fail(f"orders drawn in tick_ms={tick_ms}", ">= 1", 0,
                    "raise the order rate or pass a longer tick_ms")

    for order in orders[:n_orders]:
        for method in twin.solvers:
            plan = twin.solve(order, method)
            if rebuilt.solve(order, method) != plan:
                raise _fail(f"solve({order.order_id}, {method!r}) determinism", plan,
                            rebuilt.solve(order, method), "make solvers deterministic")
            ev = twin.evaluate(plan, order, seed)
            if not ev.valid:
                raise _fail(f"solver {method!r} on {order.order_id}", "a valid plan",
                            ev.reason, "fix the solver so its route is a valid walk")
            ev_again = rebuilt.evaluate(plan, order, seed)
            if ev_again != ev:
                raise _fail(f"evaluate determinism ({method!r}, seed {seed})", ev.receipt,
                            ev_again.receipt, "draw randomness only from the seed")
            cu = twin.cu_for(plan, order)
            if cu != ev.cu or cu != ev.receipt.cu or cu != rebuilt.cu_for(plan, order):
                raise _fail(f"CU for {method!r}", cu, ev.cu,
                            "compute CU from the request and the spec's metering only")
