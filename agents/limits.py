"""How a policy runs: in the simulator's process (trusted code) or in a worker process of its
own, and the time and memory it may take."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DEFAULT_LIMITS", "Isolation", "PolicyLimits", "SelfTimed"]


class Isolation(StrEnum):
    """Where a policy's code runs."""

    #: in the simulator's process: fast, for trusted code (it shares the interpreter, so
    #: nothing stops hostile code from reading the process's memory)
    INPROCESS = "inprocess"
    #: in a worker process of its own, spoken to in JSON: the policy sees only what it is
    #: sent, a call over its time budget stops the worker, and its memory is capped
    PROCESS = "process"


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyLimits:
    """The budget of one policy.

    Attributes:
        isolation: where it runs.
        time_limit_ms: wall time one call (`act`, `reset`) may take; an overrun is a recorded
            fault and voids that call's actions (in a worker, the worker is stopped and
            restarted). 0: no limit. Timing faults are the one thing in a run that depends on
            the machine: set the budget far above what the policy needs.
        memory_limit_mb: the memory a policy may take in its worker, above what the worker
            maps when it starts (process isolation only).
        retries: further attempts of a remote or subprocess policy's call whose answer did
            not arrive (a timeout, a refused or broken connection, an HTTP 5xx, a process that
            died), each within `time_limit_ms` (`agents.remote`).
    """

    isolation: Isolation = Isolation.INPROCESS
    time_limit_ms: int = 10_000
    memory_limit_mb: int = 2_048
    retries: int = 1


class SelfTimed:
    """A policy whose calls keep to deadlines of their own (a remote or subprocess policy, the
    `llm` policy): `EconAgent` does not lay the in-process time budget over them, whose alarm
    would interrupt a call between its retries."""


DEFAULT_LIMITS = PolicyLimits()
