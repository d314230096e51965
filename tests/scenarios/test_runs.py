"""Whole-run properties of the built-in warehouse-market: determinism, conservation of money,
signature-independence of outcomes, and the economics the scenario exists to show."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from chain import BURN_ADDRESS, ESCROW_ADDRESS
from economy.summary import from_json


def _summary(result) -> dict:
    """summary.json with its amounts as ints (the file holds them as exact decimal strings)."""
    return from_json(json.loads((result.out_dir / "summary.json").read_text()))


def test_same_seed_gives_identical_bytes_and_other_seed_differs(run) -> None:
    """Same scenario and seed, run twice: events.parquet and summary.json are byte-identical
    (signatures on, so key derivation and signing are covered); another seed's events differ."""
    a = run("warehouse-market", ticks=25)
    b = run("warehouse-market", ticks=25)
    c = run("warehouse-market", ticks=25, seed=8)
    for name in ("events.parquet", "summary.json", "agents.parquet", "flows.parquet",
                 "ticks.parquet"):
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert a.summary["jobs_posted"] > 0
    events = "events.parquet"
    assert (a.out_dir / events).read_bytes() != (c.out_dir / events).read_bytes()
    assert a.summary["events_sha256"] != c.summary["events_sha256"]


@pytest.fixture(scope="module")
def market_run(tmp_path_factory):
    """One 30-tick warehouse-market run with debug invariants on (the scenario's default)."""
    import scenarios

    loaded = scenarios.apply_overrides(scenarios.load_scenario("warehouse-market"), ticks=30,
                                       signatures="off")
    assert loaded.scenario.economy.debug_invariants
    return scenarios.run_scenario(loaded, tmp_path_factory.mktemp("market") / "out")


def _replay(events) -> dict[str, int]:
    """Every address's balance from the money rows of the event log alone."""
    balances: dict[str, int] = defaultdict(int)
    for payer, payee, amount in zip(events.payer, events.payee, events.amount, strict=True):
        if amount > 0:
            if payee != BURN_ADDRESS:
                balances[payee] += amount
            if payer != BURN_ADDRESS:
                balances[payer] -= amount
    return balances


def test_money_is_conserved_in_the_outputs(market_run, read_table) -> None:
    """At the last tick, agents' balances + treasury + escrow (replayed from events) equal the
    summary's supply, which equals minted - burned."""
    s = _summary(market_run)
    agents = read_table(market_run, "agents")
    last = agents[agents.tick == agents.tick.max()]
    assert len(last) == s["n_agents"]
    escrow = _replay(read_table(market_run, "events"))[ESCROW_ADDRESS]
    assert escrow >= 0
    assert sum(last.balance) + s["treasury"] + escrow == s["supply"]
    assert s["supply"] == s["minted"] - s["burned"]
    assert s["burned"] > 0  # transfer fees burned something, so the check is not trivial


def test_event_log_replays_to_every_final_balance(market_run, read_table) -> None:
    """Summing the money rows of events.parquet (payee +, payer -, zero address ignored) gives
    every participant's final balance in agents.parquet, and the treasury's in the summary."""
    agents = read_table(market_run, "agents")
    last = agents[agents.tick == agents.tick.max()]
    replayed = _replay(read_table(market_run, "events"))
    for label, address, balance in zip(last.label, last.address, last.balance, strict=True):
        assert replayed.get(address, 0) == balance, label
    treasury = _summary(market_run)["treasury"]
    assert treasury > 0
    assert treasury in replayed.values()


def test_ticks_table_agrees_with_summary(market_run, read_table) -> None:
    """The per-tick table sums to the summary's totals, and its last row holds final supply."""
    ticks = read_table(market_run, "ticks")
    s = _summary(market_run)
    assert ticks.completed.sum() == s["jobs_completed"]
    assert ticks.jobs_posted.sum() == s["jobs_posted"]
    assert sum(ticks.volume) == s["volume"]
    assert ticks.supply.iloc[-1] == s["supply"]
    assert list(ticks.tick) == list(range(s["ticks"] + 1))


def test_signatures_do_not_change_economic_outcomes(run) -> None:
    """Signing and verifying every action (signatures = "verify") leaves the economy exactly as
    with signatures off: same jobs, volume and ledger state."""
    on = run("warehouse-market", ticks=25, signatures="verify")
    off = run("warehouse-market", ticks=25, signatures="off")
    assert on.summary["jobs_completed"] > 0
    for key in ("jobs_posted", "jobs_completed", "volume", "cu_sold", "supply", "treasury",
                "ledger_state_hash", "events_sha256"):
        assert on.summary[key] == off.summary[key], key


def test_buying_sim_time_buys_faster_plans(run) -> None:
    """In warehouse-market, thorough providers (adaptive: they test as many candidates as pay)
    deliver plans faster than the S-shape baseline, and hasty ones (cost-plus, untested
    S-shape) complete fewer jobs."""
    s = run("warehouse-market", ticks=60, signatures="off").summary
    assert s["time_ratio_by_provider_group"]["thorough"] < 1
    done = s["jobs_completed_by_provider_group"]
    assert done.get("hasty", 0) < done["thorough"]
