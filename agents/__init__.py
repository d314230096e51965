"""agents: agent state (identity, wallet, role), the Policy protocol, built-in policies,
policy loading, fault isolation, and process isolation for untrusted policies."""

from agents.agent import EconAgent
from agents.builtin import BUILTIN, ComputeSeller, Customer, Evaluator, Idle, ServiceProvider
from agents.errors import AgentError, PolicyFault, PolicyLoadError, WireError
from agents.limits import DEFAULT_LIMITS, Isolation, PolicyLimits
from agents.loading import load_policy, make_policy, resolve_policy_class
from agents.process import ProcessPolicy
from agents.protocols import Policy

__all__ = [
    "BUILTIN",
    "DEFAULT_LIMITS",
    "AgentError",
    "ComputeSeller",
    "Customer",
    "EconAgent",
    "Evaluator",
    "Idle",
    "Isolation",
    "Policy",
    "PolicyFault",
    "PolicyLimits",
    "PolicyLoadError",
    "ProcessPolicy",
    "ServiceProvider",
    "WireError",
    "load_policy",
    "make_policy",
    "resolve_policy_class",
]
