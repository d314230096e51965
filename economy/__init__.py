"""economy: the action vocabulary, markets, accounting and the tick loop (a mesa.Model)."""

from chain import Address, JobState
from economy.actions import (
    Action,
    Bid,
    ClaimRefund,
    Complete,
    Offer,
    Pay,
    PostJob,
    Reject,
    Simulate,
    Submit,
)
from economy.errors import ActionRejected, EconomyError
from economy.metrics import gini, hhi
from economy.model import EconomyConfig, EconomyModel
from economy.observation import JobView, Observation, Planner, Quote, SimResult
from economy.protocols import Decision, Participant
from economy.recorder import Recorder
from economy.roles import FlowClass, Role

__all__ = [
    "Action",
    "ActionRejected",
    "Address",
    "Bid",
    "ClaimRefund",
    "Complete",
    "Decision",
    "EconomyConfig",
    "EconomyError",
    "EconomyModel",
    "FlowClass",
    "JobState",
    "JobView",
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
    "SimResult",
    "Simulate",
    "Submit",
    "gini",
    "hhi",
]
