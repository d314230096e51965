"""How far the warehouse's L1 answers are from its L2 (physics) answers for the same plans."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from worlds.errors import InvalidPlan
from worlds.warehouse._scene import DEFAULT_HZ
from worlds.warehouse._types import Order, Plan

if TYPE_CHECKING:
    from worlds.warehouse.physics import L2Evaluator
    from worlds.warehouse.twin import WarehouseTwin

__all__ = ["GapReport", "GapRow", "l1_l2_gap"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GapRow:
    """One plan's answers at both tiers.

    Attributes:
        order_id: the order.
        solver: the plan's solver label.
        l1_time_ms: L1 completion time.
        l2_time_ms: L2 completion time.
        rel_gap_bps: (L2 - L1) / L1 in basis points.
        l2_energy_mj: L2 motor energy.
        l2_collisions: L2 shelf contacts.
    """

    order_id: str
    solver: str
    l1_time_ms: int
    l2_time_ms: int
    rel_gap_bps: int
    l2_energy_mj: int
    l2_collisions: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GapReport:
    """How far the L1 answers are from the L2 answers for the same plans.

    Attributes:
        rows: one per plan.
        mean_rel_gap: mean of (L2 - L1) / L1 over valid plans (a rate, so a float).
        max_rel_gap: largest of them.
        rank_agreement: share of plan pairs of one order that L1 and L2 rank the same way.
    """

    rows: tuple[GapRow, ...]
    mean_rel_gap: float
    max_rel_gap: float
    rank_agreement: float

    def table(self) -> str:
        """The per-plan table as aligned text."""
        head = (f"{'order':<20} {'solver':<12} {'L1 ms':>9} {'L2 ms':>9} {'gap %':>7} "
                f"{'L2 mJ':>9} {'hits':>4}")
        lines = [head]
        for r in self.rows:
            lines.append(f"{r.order_id:<20} {r.solver:<12} {r.l1_time_ms:>9} {r.l2_time_ms:>9} "
                         f"{r.rel_gap_bps / 100:>7.2f} {r.l2_energy_mj:>9} {r.l2_collisions:>4}")
        lines.append(f"mean gap {self.mean_rel_gap:+.2%}, max {self.max_rel_gap:+.2%}, "
                     f"rank agreement {self.rank_agreement:.0%}")
        return "\n".join(lines)


def l1_l2_gap(twin: WarehouseTwin, plans: Sequence[Plan], orders: Sequence[Order], seed: int,
              *, hz: int = DEFAULT_HZ, evaluator: L2Evaluator | None = None) -> GapReport:
    """Evaluate the same plans at L1 and L2 and report how far apart the answers are.

    The L1 model walks edges at constant speed with instant turns and stops; L2 accelerates,
    turns on the spot and stops at every corner and pick, so L2 is slower by an amount that
    depends on the route's shape (corners, picks), not only its length: the reason
    physics-grade time has a price.

    Args:
        twin: the L1 twin.
        plans: plans, `plans[i]` for `orders[i]`.
        orders: their orders.
        seed: scenario seed for both tiers.
        hz: L2 physics rate (ignored if `evaluator` is given).
        evaluator: an existing L2 evaluator to reuse.

    Returns:
        The report, with a row for each plan valid at both tiers; `report.table()` prints it.

    Raises:
        InvalidPlan: `plans` and `orders` differ in length, or a malformed request.
    """
    if len(plans) != len(orders):
        raise InvalidPlan(f"{len(plans)} plans for {len(orders)} orders; pass one order per plan")
    l2 = evaluator if evaluator is not None else twin.evaluator("L2", hz=hz)
    rows = []
    for plan, order in zip(plans, orders, strict=True):
        e1 = twin.evaluate(plan, order, seed)
        e2 = l2.evaluate(plan, order, seed)
        if not (e1.valid and e2.valid):
            continue
        rows.append(GapRow(order_id=order.order_id, solver=plan.solver,
                           l1_time_ms=e1.time_ms, l2_time_ms=e2.time_ms,
                           rel_gap_bps=(e2.time_ms - e1.time_ms) * 10_000 // max(e1.time_ms, 1),
                           l2_energy_mj=e2.energy_mj, l2_collisions=e2.collisions))
    gaps = [(r.l2_time_ms - r.l1_time_ms) / max(r.l1_time_ms, 1) for r in rows]
    agree = total = 0
    for a, b in itertools.combinations(rows, 2):
        if a.order_id != b.order_id or a.l1_time_ms == b.l1_time_ms:
            continue
        total += 1
        agree += (a.l1_time_ms < b.l1_time_ms) == (a.l2_time_ms < b.l2_time_ms)
    return GapReport(rows=tuple(rows), mean_rel_gap=float(np.mean(gaps)) if gaps else 0.0,
                     max_rel_gap=max(gaps) if gaps else 0.0,
                     rank_agreement=agree / total if total else 1.0)
