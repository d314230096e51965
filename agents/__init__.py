"""agents: agent state (identity, wallet, role), the Policy protocol, built-in policies,
policy loading and fault isolation."""

from agents.agent import EconAgent
from agents.builtin import BUILTIN, ComputeSeller, Customer, Evaluator, Idle, ServiceProvider
from agents.errors import AgentError, PolicyLoadError
from agents.loading import load_policy, resolve_policy_class
from agents.protocols import Policy

__all__ = [
    "BUILTIN",
    "AgentError",
    "ComputeSeller",
    "Customer",
    "EconAgent",
    "Evaluator",
    "Idle",
    "Policy",
    "PolicyLoadError",
    "ServiceProvider",
    "load_policy",
    "resolve_policy_class",
]
