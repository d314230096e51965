"""Digital twins: content-addressed specs, deterministic evaluations, receipts and checks."""

from worlds.checks import check_twin
from worlds.errors import InvalidPlan, InvalidSpec, WorldError
from worlds.receipt import Receipt
from worlds.spec import TwinSpec, canonical_layout, graph_from_layout

__all__ = [
    "InvalidPlan",
    "InvalidSpec",
    "Receipt",
    "TwinSpec",
    "WorldError",
    "canonical_layout",
    "check_twin",
    "graph_from_layout",
]
