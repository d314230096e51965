"""economy: the action vocabulary, markets, protocol rules, accounting and the tick loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twinecon.lazy import lazy_exports

if TYPE_CHECKING:
    from chain import Address, JobState
    from economy.actions import (
        Action,
        Bid,
        BuyCompute,
        ClaimRefund,
        Complete,
        Contribute,
        Offer,
        OfferEvaluation,
        Pay,
        PostJob,
        Reject,
        Simulate,
        Stake,
        Submit,
        Unstake,
        UseData,
    )
    from economy.config import EconomyConfig
    from economy.errors import ActionRejected, EconomyError, GenesisError
    from economy.metrics import gini, hhi
    from economy.model import EconomyModel
    from economy.observation import JobView, LeaseView, Observation, Planner, Quote, SimResult
    from economy.protocols import Decision, Handler, Participant
    from economy.recorder import Recorder
    from economy.records import Allocation, AssetGrant, PendingSimulation, PoolGrant
    from economy.roles import FlowClass, Role
    from economy.rules import Rules
    from economy.summary import RunSummary
    from economy.tables import TickRow

__all__ = [
    "Action",
    "ActionRejected",
    "Address",
    "Allocation",
    "AssetGrant",
    "Bid",
    "BuyCompute",
    "ClaimRefund",
    "Complete",
    "Contribute",
    "Decision",
    "EconomyConfig",
    "EconomyError",
    "EconomyModel",
    "FlowClass",
    "GenesisError",
    "Handler",
    "JobState",
    "JobView",
    "LeaseView",
    "Observation",
    "Offer",
    "OfferEvaluation",
    "Participant",
    "Pay",
    "PendingSimulation",
    "Planner",
    "PoolGrant",
    "PostJob",
    "Quote",
    "Recorder",
    "Reject",
    "Role",
    "Rules",
    "RunSummary",
    "SimResult",
    "Simulate",
    "Stake",
    "Submit",
    "TickRow",
    "Unstake",
    "UseData",
    "gini",
    "hhi",
]

# Imported at first use (twinecon.lazy), so `import economy` loads none of its modules.
__getattr__, __dir__ = lazy_exports(__name__, {
    "chain": ("Address", "JobState"),
    "economy.actions": (
        "Action", "Bid", "BuyCompute", "ClaimRefund", "Complete", "Contribute", "Offer",
        "OfferEvaluation", "Pay", "PostJob", "Reject", "Simulate", "Stake", "Submit", "Unstake",
        "UseData",
    ),
    "economy.config": ("EconomyConfig",),
    "economy.errors": ("ActionRejected", "EconomyError", "GenesisError"),
    "economy.metrics": ("gini", "hhi"),
    "economy.model": ("EconomyModel",),
    "economy.observation": ("JobView", "LeaseView", "Observation", "Planner", "Quote", "SimResult"),
    "economy.protocols": ("Decision", "Handler", "Participant"),
    "economy.recorder": ("Recorder",),
    "economy.records": ("Allocation", "AssetGrant", "PendingSimulation", "PoolGrant"),
    "economy.roles": ("FlowClass", "Role"),
    "economy.rules": ("Rules",),
    "economy.summary": ("RunSummary",),
    "economy.tables": ("TickRow",),
})
