"""The action vocabulary: what a policy may ask for in one tick.

Actions are intents, not effects. The economy checks each against the market's rules, turns it
into ledger operations with exact amounts, has the agent's wallet sign them (EIP-712, with the
next nonces), and the ledger executes them. A rejected action is recorded with its reason and
the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from chain import Address
from worlds.warehouse import Plan

__all__ = [
    "Action",
    "Bid",
    "ClaimRefund",
    "Complete",
    "Offer",
    "Pay",
    "PostJob",
    "Reject",
    "Simulate",
    "Submit",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """Base of every action."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PostJob(Action):
    """A customer asks for a pick plan for one of its orders, with `budget` put in escrow.

    Args:
        order_id: an order from `Observation.orders`.
        budget: base units escrowed; the provider's pay is the winning bid, the rest returns.
        evaluator: who judges the deliverable (None: the customer itself).
        expires_in: ticks until anyone may claim the refund.
        max_time_ms: the acceptance rule the evaluator applies: the plan's time in the twin
            must not exceed this (None: the twin's baseline plan's time, less `min_gain_bps`).
        min_gain_bps: with `max_time_ms` None, how much faster than the twin's baseline plan
            the plan must be, in basis points of the baseline's time.
    """

    order_id: str
    budget: int
    evaluator: Address | None = None
    expires_in: int = 12
    max_time_ms: int | None = None
    min_gain_bps: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Bid(Action):
    """A provider offers to do job `job_id` for `price` base units."""

    job_id: int
    price: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer(Action):
    """A compute provider posts its price per compute unit and its capacity per tick."""

    price_per_cu: int
    capacity_cu: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Simulate(Action):
    """Buy exactly the sim time needed to evaluate `plans` for a job, and evaluate them.

    The cost is Σ cu_for(plan) x the compute provider's posted price, paid to it; the
    results arrive in the next observation's `results`.

    Args:
        job_id: the job the plans are for (its order and twin are used).
        plans: candidate routes.
        compute: the compute provider (None: the cheapest with capacity left).
        max_cost: refuse if the purchase would cost more (None: no limit).
    """

    job_id: int
    plans: tuple[Plan, ...]
    compute: Address | None = None
    max_cost: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit(Action):
    """The awarded provider delivers `plan` for `job_id` (its hash is committed on the ledger)."""

    job_id: int
    plan: Plan


@dataclass(frozen=True, slots=True, kw_only=True)
class Complete(Action):
    """The evaluator accepts the deliverable: escrow pays provider, evaluator and platform."""

    job_id: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(Action):
    """The evaluator rejects the deliverable: the customer is refunded in full."""

    job_id: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimRefund(Action):
    """Anyone: refund the client of a job past its expiry."""

    job_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pay(Action):
    """A plain transfer of `amount` base units to `to`."""

    to: Address
    amount: int
