"""The rules in force as agents see them (`RulesView`), built from the run's rules, the
economy's settings and what the ledger holds (the twin's licence, the IP graph, the pools)."""

from __future__ import annotations

from collections.abc import Sequence

from chain import Ledger
from chain.royalty import royalty_payouts
from economy.config import EconomyConfig
from economy.observation import PoolView, RulesView
from economy.rules import Rules

__all__ = ["royalty_stacks", "rules_view"]

_UNIT = 10**22  # a payment large enough that the stacks' bps are exact to the unit


def royalty_stacks(ledger: Ledger, keys: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """(asset key, bps of a service payment naming it that goes up its graph), by key."""
    out = []
    for key in sorted(keys):
        asset = ledger.asset(key)
        if asset is None or asset.kind not in ("policy", "data"):
            continue
        rest, _, _ = royalty_payouts(_UNIT, key, str(ledger.params.royalty_mode),
                                     ledger.asset, lambda a: a.owner)
        out.append((key, (_UNIT - rest) * 10_000 // _UNIT))
    return tuple(out)


def rules_view(rules: Rules, config: EconomyConfig, ledger: Ledger, *, licence_per_cu: int,
               tiers: Sequence[str], stacks: tuple[tuple[str, int], ...],
               pools: Sequence[str]) -> RulesView:
    """Every rule in force, for the observations of one tick."""
    f, a, c, e = rules.fees, rules.award, rules.compute, rules.emission
    params = ledger.params
    pool_views = []
    for key in pools:
        pool = ledger.pool(key)
        if pool is not None:
            pool_views.append(PoolView(key=key, owner=pool.owner,
                                       price_per_unit=pool.price_per_unit,
                                       owner_fee_bps=pool.owner_fee_bps))
    return RulesView(
        transfer_fee_bps=f.transfer_fee_bps, fee_burn_bps=f.fee_burn_bps,
        platform_fee_bps=f.platform_fee_bps, evaluator_fee_bps=f.evaluator_fee_bps,
        evaluator_paid_on_reject=rules.escrow.evaluator_paid_on_reject,
        min_expiry=rules.escrow.min_expiry, max_strikes=config.max_strikes,
        award=a.rule, award_pricing=a.pricing, award_prior_gain_bps=a.prior_gain_bps,
        award_prior_weight=a.prior_weight, time_value_per_h=config.time_value_per_h,
        clearing=c.clearing, sealed_pricing=c.sealed_pricing, call_pricing=c.call_pricing,
        lease_ticks=c.lease_ticks, min_stake=c.min_stake, spot_check_bps=c.spot_check_bps,
        slash_bps=c.slash_bps, slash_reward_bps=c.slash_reward_bps,
        licence_per_cu=licence_per_cu, compute_cost_per_cu=config.compute_cost_per_cu,
        royalty_mode=str(params.royalty_mode),
        royalty_stacks=stacks, data_fee_bps=rules.data.fee_bps, pools=tuple(pool_views),
        emission=e.schedule, emission_amount=e.amount, epoch_ticks=e.epoch_ticks,
        max_candidates=config.max_candidates, tiers=tuple(tiers))
