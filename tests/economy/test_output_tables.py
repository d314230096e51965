"""The per-run tables of a short warehouse-market run: jobs.parquet (one row per job posted,
agreeing with the summary), the payer and payee labels of events.parquet (agreeing with
agents.parquet), the same bytes on memory and evm, and readers (pandas, DuckDB) that keep
money exact."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

import scenarios
from chain import BURN_ADDRESS, COMPUTE_ADDRESS, ESCROW_ADDRESS
from economy.tables import EVENT_LABELS, JOBS_SCHEMA

TICKS = 30


def _run(tmp: Path, ledger: str) -> scenarios.RunResult:
    loaded = scenarios.apply_overrides(scenarios.load_scenario("warehouse-market"),
                                       ticks=TICKS, ledger=ledger)
    return scenarios.run_scenario(loaded, tmp / ledger)


@pytest.fixture(scope="module")
def memory_run(tmp_path_factory) -> scenarios.RunResult:
    return _run(tmp_path_factory.mktemp("tables"), "memory")


@pytest.fixture(scope="module")
def jobs(memory_run) -> list[dict]:
    return pq.read_table(memory_run.out_dir / "jobs.parquet").to_pylist()


def test_jobs_table_is_written_and_listed(memory_run) -> None:
    """jobs.parquet is one of the run's outputs, with the schema of `JobRow`."""
    assert "jobs.parquet" in scenarios.OUTPUTS
    assert "jobs.parquet" in memory_run.manifest["outputs"]
    assert pq.read_schema(memory_run.out_dir / "jobs.parquet").equals(JOBS_SCHEMA)


def test_one_row_per_job_and_the_counts_match_the_summary(memory_run, jobs) -> None:
    """Every job posted has exactly one row; completed, rejected and expired rows count what
    the summary counts, and the rest are the jobs still open at the end."""
    s = memory_run.summary
    assert len(jobs) == s["jobs_posted"] > 0
    assert len({j["job_id"] for j in jobs}) == len(jobs)
    by = pd.Series([j["outcome"] for j in jobs]).value_counts().to_dict()
    assert by.get("completed", 0) == s["jobs_completed"] > 0
    assert by.get("rejected", 0) == s["jobs_rejected"] > 0
    assert by.get("expired", 0) == s["jobs_expired"]
    assert set(by) <= {"completed", "rejected", "expired", "open"}
    for j in jobs:
        if j["outcome"] == "open":
            assert j["ended_tick"] is None and j["state"] in {"open", "funded", "submitted"}
        else:
            assert j["state"] == j["outcome"]
            assert j["posted_tick"] <= j["ended_tick"] <= TICKS


def test_completed_prices_sum_to_the_volume_exactly(memory_run, jobs) -> None:
    """The award prices of completed jobs add up to the summary's volume, in exact base units
    (money columns are decimal128(38, 0), read back as Decimal)."""
    prices = [j["price"] for j in jobs if j["outcome"] == "completed"]
    assert all(isinstance(p, Decimal) for p in prices)
    assert sum(prices) == Decimal(int(memory_run.summary["volume"]))


def test_rows_are_consistent(jobs) -> None:
    """Awarded jobs have a provider, a price and an award tick, and others none; bids are
    listed cheapest first with their count and range; every rejection and expiry says why;
    completed jobs have a plan quality."""
    for j in jobs:
        awarded = j["awarded_tick"] is not None
        assert (j["provider"] is not None) == awarded == (j["price"] is not None)
        assert (j["provider_label"] is not None) == awarded == (j["provider_group"] is not None)
        if awarded:
            assert j["posted_tick"] <= j["awarded_tick"]
            assert 0 < j["price"] <= j["budget"]
            assert j["provider_label"].startswith(j["provider_group"] + "-")
        prices = [b["price"] for b in j["bids"]]
        assert len(prices) == j["n_bids"] and prices == sorted(prices)
        assert (j["bid_min"], j["bid_max"]) == ((prices[0], prices[-1]) if prices
                                                else (None, None))
        assert j["customer_label"].startswith("customer-") and j["customer_group"] == "customer"
        assert j["evaluator_label"]
        if j["evaluator"] == j["customer"]:
            assert j["evaluator_label"] == j["customer_label"]
        if j["outcome"] == "rejected":
            assert j["reason"].strip()
        if j["outcome"] == "expired":
            assert j["reason"].startswith("expired: ")
        if j["outcome"] == "completed":
            assert 0 < j["time_ratio"] <= 1
            assert j["cu_used"] > 0
        else:
            assert j["time_ratio"] is None
    assert any(j["cu_used"] and j["compute_cost"] for j in jobs)


def test_event_labels_match_the_agents_table(memory_run) -> None:
    """Every payer and payee of events.parquet is named: an agent by its label and role in
    agents.parquet, the zero address by empty strings, the system and module accounts by
    what they are."""
    events = pd.read_parquet(memory_run.out_dir / "events.parquet")
    agents = pd.read_parquet(memory_run.out_dir / "agents.parquet")
    assert list(events.columns[-4:]) == list(EVENT_LABELS)
    known = {a: (label, role) for a, label, role in
             zip(agents.address, agents.label, agents.role, strict=True)}
    known[BURN_ADDRESS] = ("", "")
    known[ESCROW_ADDRESS] = ("escrow", "module")
    known[COMPUTE_ADDRESS] = ("compute", "module")
    for side in ("payer", "payee"):
        named = zip(events[side], events[f"{side}_label"], events[f"{side}_role"], strict=True)
        seen = {(a, label, role) for a, label, role in named}
        for address, label, role in seen:
            if role == "system":
                assert label in {"protocol", "treasury", "market"}
            else:
                assert known[address] == (label, role), (side, address)
    assert {"escrow", "market"} <= set(events.payer_label) | set(events.payee_label)


def test_agents_table_has_the_group(memory_run) -> None:
    """agents.parquet names each agent's scenario group beside its label."""
    agents = pd.read_parquet(memory_run.out_dir / "agents.parquet")
    assert {"thorough", "hasty", "customer", "evaluator"} <= set(agents.group)
    assert all(label.rsplit("-", 1)[0] == group
               for label, group in zip(agents.label, agents.group, strict=True))


def test_memory_and_evm_give_the_same_jobs_bytes(memory_run, tmp_path) -> None:
    """Same scenario and seed on the reference ledger and on the contracts: the same
    jobs.parquet, byte for byte, and the same labelled events."""
    evm = _run(tmp_path, "evm")
    assert (evm.out_dir / "jobs.parquet").read_bytes() == (
        memory_run.out_dir / "jobs.parquet").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(memory_run.out_dir / "events.parquet"),
                                  pd.read_parquet(evm.out_dir / "events.parquet"))


def test_pandas_and_duckdb_read_the_tables_with_exact_money(memory_run) -> None:
    """pandas reads money as Decimal; DuckDB reads it as DECIMAL(38, 0), sums it exactly, and
    reads the bids list and the label columns."""
    out = memory_run.out_dir
    volume = Decimal(int(memory_run.summary["volume"]))
    frame = pd.read_parquet(out / "jobs.parquet")
    assert isinstance(frame.price.dropna().iloc[0], Decimal)
    assert frame[frame.outcome == "completed"].price.sum() == volume
    jobs, events = str(out / "jobs.parquet"), str(out / "events.parquet")
    con = duckdb.connect()
    kind, total = con.execute(
        f"SELECT typeof(price), sum(price) FROM read_parquet('{jobs}') "
        "WHERE outcome = 'completed' GROUP BY 1").fetchone()
    assert kind == "DECIMAL(38,0)" and total == volume
    n_bids = con.execute(f"SELECT sum(len(bids)), sum(n_bids) FROM read_parquet('{jobs}')"
                         ).fetchone()
    assert n_bids[0] == n_bids[1] > 0
    cheapest = con.execute(
        f"SELECT bids[1].price, bid_min FROM read_parquet('{jobs}') WHERE n_bids > 0 LIMIT 1"
        ).fetchone()
    assert cheapest[0] == cheapest[1]
    escrowed = con.execute(
        f"SELECT count(*) FROM read_parquet('{events}') WHERE payee_label = 'escrow'"
        ).fetchone()[0]
    assert escrowed > 0
