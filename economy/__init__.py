"""economy: the action vocabulary, markets, protocol rules, accounting and the tick loop."""

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
