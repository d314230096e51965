"""Digital twins: content-addressed specs, deterministic evaluations, receipts and checks.

The twin kinds (warehouse, logistics, windfarm, toy) are registered in `worlds.registry` by
entry point and imported only when used: ``import worlds`` loads none of them.
``worlds.make(kind, **params)`` builds one (``worlds.register`` adds a kind), as Gymnasium's
``make`` and ``register`` do for environments.
"""

from worlds import registry
from worlds.checks import check_env, check_twin
from worlds.errors import InvalidPlan, InvalidSpec, UnknownKind, UnknownTier, WorldError
from worlds.protocols import Evaluator, ServiceTwin, TwinEvaluation
from worlds.receipt import Receipt
from worlds.registry import make, register
from worlds.spec import TwinSpec, canonical_layout, graph_from_layout
from worlds.tier import Tier

__all__ = [
    "Evaluator",
    "InvalidPlan",
    "InvalidSpec",
    "Receipt",
    "ServiceTwin",
    "Tier",
    "TwinEvaluation",
    "TwinSpec",
    "UnknownKind",
    "UnknownTier",
    "WorldError",
    "canonical_layout",
    "check_env",
    "check_twin",
    "graph_from_layout",
    "make",
    "register",
    "registry",
]
