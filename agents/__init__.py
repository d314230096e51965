"""agents: agent state (identity, wallet, role), the Policy protocol, built-in policies,
policy loading, fault isolation, and process isolation for untrusted policies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twinecon.lazy import lazy_exports

if TYPE_CHECKING:
    from agents.agent import EconAgent
    from agents.builtin import BUILTIN, ComputeSeller, Customer, Evaluator, Idle, ServiceProvider
    from agents.checks import PolicyCheckFailed, PolicyReport, check_policy
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
    "PolicyCheckFailed",
    "PolicyFault",
    "PolicyLimits",
    "PolicyLoadError",
    "PolicyReport",
    "ProcessPolicy",
    "ServiceProvider",
    "WireError",
    "check_policy",
    "load_policy",
    "make_policy",
    "resolve_policy_class",
]

# Imported at first use (twinecon.lazy), so `import agents` loads none of its modules.
__getattr__, __dir__ = lazy_exports(__name__, {
    "agents.agent": ("EconAgent",),
    "agents.builtin": (
        "BUILTIN", "ComputeSeller", "Customer", "Evaluator", "Idle", "ServiceProvider",
    ),
    "agents.checks": ("PolicyCheckFailed", "PolicyReport", "check_policy"),
    "agents.errors": ("AgentError", "PolicyFault", "PolicyLoadError", "WireError"),
    "agents.limits": ("DEFAULT_LIMITS", "Isolation", "PolicyLimits"),
    "agents.loading": ("load_policy", "make_policy", "resolve_policy_class"),
    "agents.process": ("ProcessPolicy",),
    "agents.protocols": ("Policy",),
})
