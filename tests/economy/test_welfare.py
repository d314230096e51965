"""Welfare that adds up: every provider's surplus is its realised profit with every cost, the
customers' surplus is their value less everything they paid, emissions stand apart, and value
created = consumer surplus + producer surplus + protocol income + burn, to the base unit."""

from __future__ import annotations

import pytest

import scenarios
from economy.history import PnL

BUILTINS = ["warehouse-market", "logistics-market", "windfarm-market", "compute-call-market",
            "compute-sealed-auction", "ip-royalties"]


@pytest.mark.parametrize("name", BUILTINS)
def test_value_created_is_shared_out_exactly(name: str, run) -> None:
    """value_created (customer value less the sim time's real cost) = consumer_surplus +
    producer_surplus + protocol_income + burned, in exact base units; the producer surplus is
    the sum of the classes' profits."""
    s = run(name, ledger="memory", ticks=24,
            sets={"economy.compute_cost_per_cu": "0.0000000001"}).summary
    assert s["compute_cost"] > 0
    assert s["jobs_completed"] > 0
    assert s["producer_surplus"] == sum(s["profit_by_class"].values())
    assert s["value_created"] == s["customer_value"] - s["compute_cost"]
    assert s["value_created"] == (s["consumer_surplus"] + s["producer_surplus"]
                                  + s["protocol_income"] + s["burned"])


def test_every_agents_profit_and_loss_matches_its_balance(small_market, write_toml) -> None:
    """An agent's balance is its genesis allocation plus its profit and loss (emissions
    included) less what it has parked in escrow, leases or stakes: the P&L misses no flow."""
    small_market["rules"] = {"compute": {"min_stake": 1}}
    built = scenarios.build(scenarios.load_scenario(write_toml(small_market, "pnl")))
    model = built.model
    genesis = {a.address: model.ledger.balance_of(a.address) + model.ledger.stake_of(a.address)
               for a in built.agents}
    for _ in range(16):
        model.step()
    for agent in built.agents:
        address = agent.address
        parked = model.ledger.stake_of(address)
        parked += sum(j.budget + j.eval_deposit for j in map(model.ledger.job, (
            v.job_id for v in model.jobs.book.jobs_of(address) if v.client == address))
            if j is not None and j.state.value in ("funded", "submitted"))
        parked += sum(le.cu * (le.price_per_cu + le.licence_per_cu)
                      for le in model.compute.market.book.leases_of(address)
                      if le.buyer == address)
        pnl = model.observe(agent).pnl
        assert isinstance(pnl, PnL)
        ledger_pnl = sum(pnl) - pnl.compute_cost  # the resource cost is no ledger flow
        assert model.ledger.balance_of(address) + parked == genesis[address] + ledger_pnl, \
            agent.label


def test_emissions_are_not_counted_as_earned_revenue(run) -> None:
    """Revenue and its shares leave emissions out (they are reported by class apart), so a
    class paid mostly in new tokens does not look like the market's main earner."""
    s = run("ip-royalties", ledger="memory", ticks=24).summary
    assert s["markets"]["emissions"]["emitted"] > 0
    assert sum(s["emissions_by_class"].values()) == s["markets"]["emissions"]["emitted"]
    assert sum(s["revenue_share_by_class"].values()) == pytest.approx(1.0)


def test_profit_by_group_adds_up_to_the_classes(run) -> None:
    """Each scenario group's P&L is its agents' summed: the providers' groups add up to the
    producer surplus, and every group's categories to its profit (emissions apart)."""
    s = run("ip-royalties", ledger="memory", ticks=12).summary
    groups = s["pnl_by_group"]
    assert sum(g["agents"] for g in groups.values()) == s["n_agents"]
    providers = [g for name, g in groups.items() if name != "customer"]
    assert sum(g["profit"] for g in providers) == s["producer_surplus"]
    for g in groups.values():
        assert g["profit"] == sum(g[c] for c in PnL._fields) - g["emissions"]


def test_only_a_slash_is_booked_as_slashing(run) -> None:
    """The burned share of the transfer fee on a lease's payout is a fee of the buyer whose
    money it was; only a slashed stake's burn is slashing, and only a dishonest seller pays
    it."""
    s = run("compute-sealed-auction", ledger="memory", ticks=24).summary
    groups = s["pnl_by_group"]
    assert s["markets"]["compute"]["slashed"] > 0
    for name, g in groups.items():
        if name == "cheat":
            assert g["slashing"] < 0
        else:
            assert g["slashing"] >= 0, name  # the slash reward is income
        if name == "evaluator":  # buys sim time: its leases' payouts pay transfer fees
            assert g["fees"] < 0 and g["slashing"] == 0
