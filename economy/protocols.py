"""The plug-in points of the economy: a participant that decides, given an observation, and a
market handler that turns actions into ledger operations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from chain import Address, Identity
from economy.actions import Action
from economy.observation import Observation
from economy.roles import Role

__all__ = ["ActionHandler", "Decision", "Handler", "Participant"]


@dataclass(frozen=True, slots=True)
class Decision:
    """One tick's actions of one participant, or the fault that voided them."""

    actions: tuple[Action, ...] = ()
    fault: str | None = None  # why the policy's output was dropped this tick


@runtime_checkable
class Participant(Protocol):
    """An agent as the economy sees it (`agents.EconAgent` is the implementation).

    `group` names the scenario group it belongs to (plan quality is reported by group).
    """

    index: int
    address: Address
    identity: Identity
    role: Role
    label: str
    group: str

    def decide(self, observation: Observation) -> Decision: ...


#: Applies one action for one participant; returns whether it took effect. A market rule it
#: breaks raises `ActionRejected`; a refused ledger operation returns False.
ActionHandler = Callable[[Participant, Any], bool]


class Handler(Protocol):
    """One market's actions: the action types it takes and how it applies each."""

    def handlers(self) -> Mapping[type[Action], ActionHandler]: ...
