"""The economy's own settings: the rules of the run that are not protocol rules."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EconomyConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EconomyConfig:
    """Rules of the economy that are not ledger or protocol rules.

    Attributes:
        tick_ms: the length of one market period in twin time.
        max_candidates: most plans one `Simulate` may evaluate.
        time_value_per_h: what an hour of the twin's time saved (picking, driving, turbine
            downtime) is worth to a customer, base units; it turns plan quality into customer
            value (welfare).
        max_strikes: a provider whose failed jobs (rejected, or awarded and never delivered)
            exceed its completed jobs by more than this no longer qualifies to win bids.
        debug_invariants: check every ledger invariant at the end of every tick.
        strict: re-raise a policy's exception instead of isolating it.
        agents_every: record every agent's balance every N ticks (and at the last tick).
        l2_hz: the physics rate of the L2 tier (None: the twin's default).
        history_ticks: ticks of market history every observation carries.
        compute_cost_per_cu: what running one CU of sim time really costs whoever runs it
            (compute sellers), base units: welfare counts it as a resource used.
        order_lapse_ticks: a customer's request not posted as a job within this many ticks of
            its arrival lapses (its operation goes ahead without a service); 0: never.
    """

    tick_ms: int = 60_000
    max_candidates: int = 64
    time_value_per_h: int = 30 * 10**18
    max_strikes: int = 2
    debug_invariants: bool = True
    strict: bool = False
    agents_every: int = 1
    l2_hz: int | None = None
    history_ticks: int = 32
    compute_cost_per_cu: int = 0
    order_lapse_ticks: int = 60
