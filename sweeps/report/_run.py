"""The report of a run folder: its headline metrics and its figures on one page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd

from economy.summary import from_json as summary_from_json
from sweeps.report import _html
from sweeps.report._flows import plot_flows
from sweeps.report._look import RC, Plot
from sweeps.report._numbers import fmt
from sweeps.report._run_plots import (
    COMPUTE_COLUMNS,
    plot_balances,
    plot_compute,
    plot_jobs,
    plot_market,
)
from sweeps.report.errors import ReportError

__all__ = ["render_run"]


def _read_json(path: Path, folder: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReportError(f"{folder}: cannot read {path.name} ({e}); re-create the folder") \
            from e
    if not isinstance(data, dict):
        raise ReportError(f"{folder}: {path.name} is not a JSON object")
    return data


def _read_parquet(path: Path, folder: Path, columns: Sequence[str]) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several unrelated types for a bad file
        raise ReportError(f"{folder}: cannot read {path.name} ({e}); re-create the folder") \
            from e
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ReportError(f"{folder}: {path.name} lacks the column(s) {', '.join(missing)}; "
                          "it was written by another version of twinecon, re-create it")
    return df


def _run_plots(ticks: pd.DataFrame, agents: pd.DataFrame, flows: pd.DataFrame,
               decimals: int) -> list[Plot]:
    tick = ticks["tick"].to_numpy()
    plots = [plot_market(ticks, tick, decimals), plot_jobs(ticks, tick),
             plot_balances(ticks, agents, decimals)]
    if set(COMPUTE_COLUMNS) <= set(ticks.columns):  # runs before the full economy lack them
        plots.append(plot_compute(ticks, tick, decimals))
    plots += plot_flows(flows, decimals)
    return plots


def _headline(summary: dict[str, Any],
              decimals: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The market's headline metrics, and the money and health ones (rows missing from the
    summary are left out)."""
    scale = 10**decimals

    def money(key: str) -> str | None:
        v = summary.get(key)
        return None if v is None else fmt(int(v) / scale)

    def num(key: str) -> str | None:
        v = summary.get(key)
        return None if v is None else fmt(v)

    rate = summary.get("completion_rate")
    none_completed = summary.get("jobs_completed") == 0
    market = [
        ("Orders (demand)", num("orders")),
        ("Jobs posted", num("jobs_posted")),
        ("Jobs completed", num("jobs_completed")),
        ("Jobs rejected", num("jobs_rejected")),
        ("Jobs expired", num("jobs_expired")),
        ("Completion rate", None if rate is None else f"{100 * rate:.1f} %"),
        ("Mean price per completed job (tokens)",
         "— (none completed)" if none_completed else money("price_mean")),
        ("Volume (tokens)", money("volume")),
        ("Sim time sold (CU)", num("cu_sold")),
        ("Compute spend (tokens)", money("compute_spend")),
        ("Plan time vs baseline (lower is better)",
         "— (none completed)" if none_completed else num("time_ratio_mean")),
        ("Customer value (tokens)", money("customer_value")),
        ("Consumer surplus (tokens)", money("consumer_surplus")),
        ("Producer surplus (tokens)", money("producer_surplus")),
    ]
    money_rows = [
        ("Gini of balances, final", num("gini_final")),
        ("Supply (tokens)", money("supply")),
        ("Burned (tokens)", money("burned")),
        ("Treasury (tokens)", money("treasury")),
        ("Policy faults", num("policy_faults")),
        ("Rejected actions", num("rejected_actions")),
    ]
    return ([(k, v) for k, v in market if v is not None],
            [(k, v) for k, v in money_rows if v is not None])


def render_run(folder: Path) -> str:
    """The page of a run folder (its files checked present by the caller)."""
    summary = summary_from_json(_read_json(folder / "summary.json", folder))
    manifest = _read_json(folder / "manifest.json", folder)
    ticks = _read_parquet(folder / "ticks.parquet", folder,
                          ("tick", "jobs_posted", "completed", "rejected", "expired",
                           "price_mean", "volume", "gini"))
    agents = _read_parquet(folder / "agents.parquet", folder, ("tick", "role", "balance"))
    flows = _read_parquet(folder / "flows.parquet", folder,
                          ("payer_class", "payee_class", "flow", "amount", "n_transfers"))
    if ticks.empty:
        raise ReportError(f"{folder}: ticks.parquet has no rows; re-run the scenario")
    ticks = ticks.sort_values("tick", ignore_index=True)
    config = manifest.get("config", {})
    decimals = int(summary.get("decimals", config.get("ledger", {}).get("decimals", 18)))
    scenario = str(summary.get("scenario", manifest.get("scenario", folder.name)))

    with matplotlib.rc_context(RC):
        plots = _run_plots(ticks, agents, flows, decimals)
    by_role = summary.get("agents_by_role", {})
    agents_text = f"{summary.get('n_agents', manifest.get('n_agents', '?'))}"
    if by_role:
        agents_text += " (" + ", ".join(f"{n} {r}" for r, n in by_role.items()) + ")"
    ledger = str(summary.get("ledger", manifest.get("ledger", "unknown")))
    if manifest.get("signatures"):
        ledger += f", signatures {manifest['signatures']}"
    meta = [
        ("seed", summary.get("seed", manifest.get("seed", "?"))),
        ("ticks", summary.get("ticks", manifest.get("ticks", "?"))),
        ("ledger", ledger),
        ("twin", manifest.get("twin_id", "unknown")),
        ("agents", agents_text),
    ]
    if manifest.get("scenario_sha256"):
        meta.append(("scenario sha256", str(manifest["scenario_sha256"])[:12]))
    market, money = _headline(summary, decimals)
    table = ('<div class="pair">' + _html.table(("market", "value"), market, (False, True))
             + _html.table(("money and health", "value"), money, (False, True)) + "</div>")
    sections = [("Headline metrics", table), ("Plots", _html.figures(plots))]
    page = _html.page(scenario, "run report", str(config.get("description", "")), meta, sections,
                 len(plots), folder.name)
    return page
