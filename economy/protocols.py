"""The plug-in points of the economy: a participant that decides, given an observation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from chain import Address, Identity
from economy.actions import Action
from economy.observation import Observation
from economy.roles import Role

__all__ = ["Decision", "Participant"]


@dataclass(frozen=True, slots=True)
class Decision:
    """One tick's actions of one participant, or the fault that voided them."""

    actions: tuple[Action, ...] = ()
    fault: str | None = None  # why the policy's output was dropped this tick


@runtime_checkable
class Participant(Protocol):
    """An agent as the economy sees it (`agents.EconAgent` is the implementation)."""

    index: int
    address: Address
    identity: Identity
    role: Role
    label: str

    def decide(self, observation: Observation) -> Decision: ...
