"""The action vocabulary: what a policy may ask for in one tick.

Actions are intents, not effects. The economy checks each against the market's rules, turns it
into ledger operations with exact amounts, has the agent's wallet sign them (EIP-712, with the
next nonces), and the ledger executes them. A rejected action is recorded with its reason and
the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from chain import Address
from worlds.protocols import Plan  # a frozen value of the twin's `plan_type`

__all__ = [
    "Action",
    "Bid",
    "BuyCompute",
    "ClaimRefund",
    "Complete",
    "Contribute",
    "Offer",
    "OfferEvaluation",
    "Pay",
    "PostJob",
    "Reject",
    "Simulate",
    "Stake",
    "Submit",
    "Unstake",
    "UseData",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """Base of every action."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PostJob(Action):
    """A customer asks for a plan for one of its orders, with `budget` put in escrow.

    Args:
        order_id: an order from `Observation.orders`.
        budget: base units escrowed; the provider's pay is the winning bid, the rest returns.
        evaluator: who judges the deliverable (None: the customer itself).
        expires_in: ticks until anyone may claim the refund.
        max_time_ms: the acceptance rule the evaluator applies: the plan's time in the twin
            must not exceed this (None: the twin's baseline plan's time, less `min_gain_bps`).
        min_gain_bps: with `max_time_ms` None, how much faster than the twin's baseline plan
            the plan must be, in basis points of the baseline's time.
        tier: the fidelity tier the job is judged at: "L1", or "L2" (physics) where the twin
            offers it.
    """

    order_id: str
    budget: int
    evaluator: Address | None = None
    expires_in: int = 12
    max_time_ms: int | None = None
    min_gain_bps: int = 0
    tier: str = "L1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Bid(Action):
    """A provider offers to do job `job_id` for `price` base units."""

    job_id: int
    price: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer(Action):
    """A compute provider posts its price per compute unit and its capacity per tick.

    `overclaim_bps` is a dishonest provider's knob: its usage claims ask that much more than
    the CU it metered (never more than the lease's lock). Spot checks catch it at the rate the
    compute rule sets, and the provider's stake is slashed.
    """

    price_per_cu: int
    capacity_cu: int
    overclaim_bps: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferEvaluation(Action):
    """An evaluator posts the least fee it evaluates a job for, base units: customers choose
    an evaluator whose fee their job's price covers (the escrow pays it `evaluator_fee_bps` of
    the price). A later offer replaces an earlier one; 0 serves any job."""

    min_fee: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BuyCompute(Action):
    """Buy a lease of `cu` compute units in the twin, paying at most `max_price_per_cu`.

    The buyer locks the worst case (cu x (price + the twin's licence)); the provider claims
    the CU actually used when the lease ends (the compute rule's `lease_ticks`) or is used up,
    and the rest returns. Under posted prices it fills at once; under the sealed and call
    rules it fills at the end of the tick. Evaluations (`Simulate`) draw on these leases.

    Args:
        cu: compute units wanted.
        max_price_per_cu: the most paid per CU to the provider (None: any offered price).
        compute: under posted prices, buy from this provider only (None: the cheapest); the
            sealed and call rules choose the sellers themselves.
    """

    cu: int
    max_price_per_cu: int | None = None
    compute: Address | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stake(Action):
    """A compute provider stakes `amount` base units (leases need the rule's minimum)."""

    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Unstake(Action):
    """A compute provider takes back `amount` of its stake (not while providing a lease)."""

    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UseData(Action):
    """Pay for `units` of a data pool's episodes, metered by a usage record used once.

    Args:
        pool: the pool's key.
        units: units of data used.
        job_id: the job the data serves (0: none); part of the usage record.
    """

    pool: str
    units: int
    job_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Contribute(Action):
    """A data provider contributes an episode to a pool; content already there earns nothing.

    Args:
        pool: the pool's key.
        content: the episode's content (its sha256 is the dedup key) or its 32-byte hash.
        units: how much data the episode is (its weight in the pool's payouts).
    """

    pool: str
    content: bytes
    units: int

@dataclass(frozen=True, slots=True, kw_only=True)
class Simulate(Action):
    """Buy exactly the sim time needed to evaluate `plans` for a job, and evaluate them.

    The cost is Σ cu_for(plan) x the compute provider's posted price, paid to it; the
    results arrive in the next observation's `results`.

    Evaluations draw on the buyer's open leases (`BuyCompute`). When they hold too few CU,
    the shortfall is bought: at once under posted prices, or as a request cleared at the end
    of the tick under the sealed and call rules, with the evaluations run once it fills. Either
    way the results arrive in the next observation.

    Args:
        job_id: the job the plans are for (its order and twin are used).
        plans: candidate plans.
        compute: under posted prices, buy the shortfall from this provider (None: the
            cheapest); the sealed and call rules choose the sellers themselves.
        max_cost: refuse if buying the shortfall would cost more (None: no limit).
        max_price_per_cu: the most paid per CU for the shortfall (None: any offered price).
        min_lease_cu: when short, lease at least this many CU (the rest stays on the lease
            for later evaluations, and returns unused when the lease ends).
        tier: the fidelity tier to evaluate at (None: the job's); "L2" physics costs far
            more CU than "L1" and agrees with an L2 judge.
    """

    job_id: int
    plans: tuple[Plan, ...]
    compute: Address | None = None
    max_cost: int | None = None
    max_price_per_cu: int | None = None
    min_lease_cu: int = 0
    tier: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit(Action):
    """The awarded provider delivers `plan` for `job_id` (its hash is committed on the ledger).

    `policy` names the registered asset (a policy) that made the plan: on completion the
    service payment pays royalties up its IP graph. "" names none.
    """

    job_id: int
    plan: Plan
    policy: str = ""


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
