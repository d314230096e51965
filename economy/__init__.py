"""economy: the action vocabulary, markets, accounting and the tick loop (a mesa.Model)."""

from chain import Address, JobState
from economy.actions import (
    Action,
    Bid,
    BuyCompute,
    ClaimRefund,
    Complete,
    Contribute,
    Offer,
    Pay,
    PostJob,
    Reject,
    Simulate,
    Stake,
    Submit,
    Unstake,
    UseData,
)
from economy.errors import ActionRejected, EconomyError, GenesisError
from economy.metrics import gini, hhi
from economy.model import EconomyConfig, EconomyModel
from economy.observation import JobView, LeaseView, Observation, Planner, Quote, SimResult
from economy.protocols import Decision, Participant
from economy.recorder import Recorder
from economy.roles import FlowClass, Role
from economy.rules import Rules

__all__ = [
    "Action",
    "ActionRejected",
    "Address",
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
    "JobState",
    "JobView",
    "LeaseView",
    "Observation",
    "Offer",
    "Participant",
    "Pay",
    "Planner",
    "PostJob",
    "Quote",
    "Recorder",
    "Reject",
    "Role",
    "Rules",
    "SimResult",
    "Simulate",
    "Stake",
    "Submit",
    "Unstake",
    "UseData",
    "gini",
    "hhi",
]
