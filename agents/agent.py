"""EconAgent: an agent with an identity, a wallet on the ledger and a role, that delegates
every decision to its policy and isolates the policy's faults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents.protocols import Policy
from chain import Identity
from economy import Action, Decision, Observation, Role

__all__ = ["EconAgent"]


class EconAgent:
    """One economic agent.

    Its wallet is its account on the ledger (balance and nonce live there, read through the
    observation); its key signs every action it takes. A policy that raises, or returns
    anything but a list of actions, has that tick's actions dropped and the fault recorded,
    and the run goes on; with `strict=True` the exception propagates instead.

    Args:
        index: position in the scenario's population (0-based); also the key index.
        identity: the agent's keypair.
        role: what it does in the economy.
        policy: what decides its actions.
        label: a name for people ("provider-3").
        group: the scenario group it belongs to ("provider"; plan quality is reported by
            group). Default: the label without its trailing "-<index>".
        policy_name: how the policy was referred to ("provider", "my_pkg.mod:Cls").
        params: the policy's parameters, as given.
        strict: re-raise policy exceptions.
    """

    def __init__(
        self,
        *,
        index: int,
        identity: Identity,
        role: Role,
        policy: Policy,
        label: str = "",
        group: str = "",
        policy_name: str = "",
        params: Mapping[str, Any] | None = None,
        strict: bool = False,
    ) -> None:
        self.index = index
        self.identity = identity
        self.address = identity.address
        self.role = role
        self.policy = policy
        self.label = label or f"{role.value}-{index}"
        self.group = group or self.label.rsplit("-", 1)[0]
        self.policy_name = policy_name or type(policy).__name__
        self.params = dict(params or {})
        self.strict = strict
        self.n_faults = 0
        self.last_fault: str | None = None

    def reset(self, seed: int) -> None:
        """Give the policy its seed, if it takes one (a fault here is isolated too)."""
        reset = getattr(self.policy, "reset", None)
        if reset is None:
            return
        try:
            reset(seed)
        except Exception as e:
            if self.strict:
                raise
            self._fault(f"reset raised {type(e).__name__}: {e}")

    def decide(self, observation: Observation) -> Decision:
        """Ask the policy for this tick's actions, isolating any fault."""
        try:
            out = self.policy.act(observation)
        except Exception as e:
            if self.strict:
                raise
            return self._fault(f"act raised {type(e).__name__}: {e}")
        if isinstance(out, list | tuple) and all(isinstance(a, Action) for a in out):
            return Decision(tuple(out))
        if isinstance(out, list | tuple):
            bad = next(a for a in out if not isinstance(a, Action))
            why = f"act returned a {type(bad).__name__} among its actions"
        else:
            why = f"act returned {type(out).__name__}, not a list of actions ([] for none)"
        if self.strict:
            raise TypeError(why)
        return self._fault(why)

    def _fault(self, message: str) -> Decision:
        self.n_faults += 1
        self.last_fault = message
        return Decision((), fault=f"{self.label} ({self.policy_name}): {message}")

    def __repr__(self) -> str:
        return f"<EconAgent {self.label} {self.role.value} {self.address}>"
