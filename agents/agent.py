"""EconAgent: an agent with an identity, a wallet on the ledger and a role, that delegates
every decision to its policy and isolates the policy's faults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agents._budget import call_with_budget
from agents.faults import describe_exception
from agents.limits import DEFAULT_LIMITS, Isolation, PolicyLimits, SelfTimed
from agents.protocols import Policy
from chain import Identity
from economy import Decision, Observation, Role
from economy.intake import ACTION_TYPES

__all__ = ["ACTION_CLASSES", "MAX_ACTIONS", "EconAgent"]

#: The exact action classes a policy may return (subclasses are refused).
ACTION_CLASSES = frozenset(ACTION_TYPES.values())
#: The most actions one decision may hold (each is checked, signed and executed).
MAX_ACTIONS = 10_000


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
        limits: where the policy runs and its time budget per call (an overrun in this
            process is a recorded fault; see `agents.limits`).
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
        limits: PolicyLimits = DEFAULT_LIMITS,
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
        self.limits = limits
        self.n_faults = 0
        self.last_fault: str | None = None

    def reset(self, seed: int) -> str | None:
        """Give the policy its seed, if it takes one; returns the fault if it failed (isolated
        like a fault of `act`, for the economy to record)."""
        reset = getattr(self.policy, "reset", None)
        if reset is None:
            return None
        _, fault = self._call("reset", reset, seed)
        if fault is not None:
            self._fault(fault)
        return fault

    def decide(self, observation: Observation) -> Decision:
        """Ask the policy for this tick's actions, isolating any fault.

        Whatever the policy raises (short of the user's Ctrl-C) or returns other than a list
        or tuple of actions voids its tick and is recorded; its actions are taken as a plain
        copy (the economy rebuilds each one from plain values before it is used).
        """
        out, fault = self._call("act", self.policy.act, observation)
        if fault is not None:
            return self._fault(fault)
        if type(out) is not list and type(out) is not tuple:  # an exact list: no code of its runs
            return self._refuse(f"act returned {type(out).__name__}, not a list of actions "
                                "([] for none)")
        actions = tuple(out)
        if len(actions) > MAX_ACTIONS:
            return self._refuse(f"act returned {len(actions)} actions, over the {MAX_ACTIONS} "
                                "one tick takes")
        bad = next((a for a in actions if type(a) not in ACTION_CLASSES), None)
        if bad is not None:
            return self._refuse(f"act returned a {type(bad).__name__} among its actions; return "
                                "instances of the economy's action classes")
        return Decision(actions)

    def _call(self, what: str, fn: Any, *args: Any) -> tuple[Any, str | None]:
        """Run one policy call within its time budget: (its value, None) or (None, the fault)."""
        # a worker's calls are timed by its ProcessPolicy, a remote or LLM policy's by itself
        timed_here = self.limits.isolation is Isolation.INPROCESS \
            and not isinstance(self.policy, SelfTimed)
        limit = self.limits.time_limit_ms if timed_here else 0
        try:
            out, took_ms, interrupted = call_with_budget(fn, *args, limit_ms=limit)
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # SystemExit too: a policy does not end the run
            if self.strict:
                raise
            return None, f"{what} raised {describe_exception(e, self.policy)}"
        if interrupted:
            return None, f"{what} was stopped after {took_ms:.0f} ms, over its {limit} ms budget"
        if limit and took_ms > limit:
            return None, f"{what} took {took_ms:.0f} ms, over its {limit} ms budget"
        return out, None

    def _refuse(self, why: str) -> Decision:
        if self.strict:
            raise TypeError(why)
        return self._fault(why)

    def _fault(self, message: str) -> Decision:
        self.n_faults += 1
        self.last_fault = message
        return Decision((), fault=f"{self.label} ({self.policy_name}): {message}")

    def __repr__(self) -> str:
        return f"<EconAgent {self.label} {self.role.value} {self.address}>"

