"""The run's headline metrics (`summary.json`): jobs, prices, quality, welfare, revenue by
provider class, inequality, supply, and each market's prices, volumes and concentration.

In memory (`RunSummary.as_dict`) money is exact base-unit ints. In `summary.json`
(`to_json`) every amount is a decimal string of base units, exact at any size, with a
`<name>_tokens` float in tokens beside it, so any JSON reader (pandas' `read_json` too, whose
integers stop at 64 bits) reads the file and a person reads tokens; `from_json` gives the ints
back. Which leaves are money is declared once, in `MONEY_PATHS`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from chain import Flow, Ledger
from economy.accounting import FlowBook
from economy.history import PnL
from economy.metrics import gini, hhi
from economy.protocols import Participant
from economy.roles import FlowClass
from economy.rules import Rules
from economy.stats import Totals

__all__ = ["MONEY_PATHS", "TOKENS_SUFFIX", "RunSummary", "from_json", "is_money", "problems",
           "to_json"]

#: The provider classes whose profits make up the producer surplus.
_PROVIDERS = (FlowClass.WORLD, FlowClass.DATA, FlowClass.COMPUTE, FlowClass.BEHAVIOUR,
              FlowClass.EVALUATOR)
#: Flows of the data market (paid to contributors, the protocol and the pool's owner).
_DATA_FLOWS = (Flow.DATA, Flow.DATA_FEE, Flow.POOL_FEE)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    """Headline metrics of a run so far. Money in exact base units (ints); rates as floats.

    Attributes:
        ticks: ticks run (genesis is tick 0).
        orders_lapsed: customers' requests never posted as jobs, lapsed unserved
            (`order_lapse_ticks`): demand the market priced out.
        completion_rate: completed / posted jobs.
        price_mean: volume / completed jobs (integer division).
        time_ratio_mean: the delivered plans' time over their baselines', mean over
            completed jobs (None before any).
        time_ratio_by_provider_group, jobs_completed_by_provider_group: the same by the
            providers' scenario group.
        jobs_awarded_by_provider_group: jobs awarded, by the winner's scenario group.
        value_created: the customers' value (`customer_value`) less the real cost of the sim
            time run to create it (`compute_cost`).
        consumer_surplus: the customers' value created less everything they paid, net of
            what they were paid (their profit and loss, every category).
        producer_surplus: every provider's realised profit with every cost (services, sim
            time, licences, fees, royalties, data, slashing; emissions apart), summed; by
            class in `profit_by_class` (world, data, compute, behaviour, evaluator).
        pnl_by_group: each scenario group's profit and loss, summed over its agents, by
            category (as `obs.pnl`: + income, - cost) with its `profit` (emissions apart)
            and `agents`: what a strategy earned and what it spent it on.
        protocol_income: what the treasury earned (fees, dust), emissions apart.
        burned: tokens burned (fee burns, slashed stakes' burned shares).
        emissions_by_class: new tokens minted for useful work, by the class paid.
            Value adds up exactly: value_created = consumer_surplus + producer_surplus +
            protocol_income + burned.
        revenue_by_class: income by provider class (customer, world, data, compute,
            behaviour, evaluator, treasury, burn), emissions apart; revenue_share_by_class:
            each earning class's share of all earnings.
        markets: per market (jobs, compute, data, royalties, emissions) its volume, prices
            and concentration (HHI of its sellers' receipts).
        actions_by_role, rejected_actions_by_role: the actions each role's agents took, and
            how many of them the market or the ledger refused (a role whose every action is
            refused did nothing all run: a misconfigured policy, not a market outcome).
        rules: the protocol rules in force.
        ledger_state_hash: the ledger's state hash (equal on every backend).
        events_sha256: digest of every event row recorded so far.
    """

    ticks: int
    n_agents: int
    agents_by_role: dict[str, int]
    decimals: int
    orders: int
    orders_lapsed: int
    jobs_posted: int
    bids: int
    awards: int
    jobs_completed: int
    jobs_rejected: int
    jobs_expired: int
    completion_rate: float
    price_mean: int
    volume: int
    cu_sold: int
    compute_spend: int
    time_ratio_mean: float | None
    time_ratio_by_provider_group: dict[str, float]
    jobs_completed_by_provider_group: dict[str, int]
    jobs_awarded_by_provider_group: dict[str, int]
    customer_value: int
    compute_cost: int
    value_created: int
    consumer_surplus: int
    producer_surplus: int
    profit_by_class: dict[str, int]
    pnl_by_group: dict[str, dict[str, int]]
    protocol_income: int
    emissions_by_class: dict[str, int]
    revenue_by_class: dict[str, int]
    revenue_share_by_class: dict[str, float]
    gini_final: float
    balance_mean_by_role: dict[str, int]
    supply: int
    minted: int
    burned: int
    treasury: int
    policy_faults: int
    rejected_actions: int
    actions_by_role: dict[str, int]
    rejected_actions_by_role: dict[str, int]
    markets: dict[str, dict[str, Any]]
    rules: dict[str, Any]
    ledger_state_hash: str
    events_sha256: str

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data (what `summary.json` holds)."""
        return asdict(self)

    @classmethod
    def collect(cls, *, tick: int, participants: Sequence[Participant], ledger: Ledger,
                totals: Totals, flows: FlowBook, quality: dict[str, list], rules: Rules,
                events_sha256: str, orders_lapsed: int = 0,
                awards_by_group: dict[str, int] | None = None,
                actions_by_role: dict[str, list[int]] | None = None) -> RunSummary:
        """The summary of a run from its totals, flow book and ledger."""
        t = totals
        completed = t["completed"]
        revenue = {c.value: flows.revenue.get(c.value, 0) for c in FlowClass
                   if c is not FlowClass.PROTOCOL}
        earned = sum(v for k, v in revenue.items() if k not in ("burn", "customer"))
        profit: dict[str, int] = {c.value: 0 for c in _PROVIDERS}
        emissions: dict[str, int] = defaultdict(int)
        customers = 0
        by_group: dict[str, dict[str, int]] = {}
        for p in participants:
            pnl = PnL.of(flows.pnl.get(p.address))
            group = by_group.setdefault(p.group, dict.fromkeys((*PnL._fields, "profit",
                                                                "agents"), 0))
            for category, amount in zip(PnL._fields, pnl, strict=True):
                group[category] += amount
            group["profit"] += pnl.profit
            group["agents"] += 1
            flow_class = FlowClass.of(p.role)
            emissions[flow_class.value] += pnl.emissions
            if flow_class is FlowClass.CUSTOMER:
                customers += pnl.profit
            else:
                profit[flow_class.value] += pnl.profit
        treasury = PnL.of(flows.pnl.get(ledger.treasury))
        emissions["treasury"] += treasury.emissions
        by_role: dict[str, list[int]] = defaultdict(list)
        for p in participants:
            by_role[p.role.value].append(ledger.balance_of(p.address))
        return cls(
            ticks=tick,
            n_agents=len(participants),
            agents_by_role={r: len(v) for r, v in sorted(by_role.items())},
            decimals=ledger.params.decimals,
            orders=t["orders"],
            orders_lapsed=orders_lapsed,
            jobs_posted=t["jobs_posted"],
            bids=t["bids"],
            awards=t["awards"],
            jobs_completed=completed,
            jobs_rejected=t["rejected"],
            jobs_expired=t["expired"],
            completion_rate=completed / t["jobs_posted"] if t["jobs_posted"] else 0.0,
            price_mean=t["volume"] // completed if completed else 0,
            volume=t["volume"],
            cu_sold=t["cu_sold"],
            compute_spend=t["compute_spend"],
            time_ratio_mean=t.ratio_sum / completed if completed else None,
            time_ratio_by_provider_group={g: c[0] / c[1] for g, c in sorted(quality.items())},
            jobs_completed_by_provider_group={g: c[1] for g, c in sorted(quality.items())},
            jobs_awarded_by_provider_group=dict(sorted((awards_by_group or {}).items())),
            customer_value=t["customer_value"],
            compute_cost=t["compute_cost"],
            value_created=t["customer_value"] - t["compute_cost"],
            consumer_surplus=t["customer_value"] + customers,
            producer_surplus=sum(profit.values()),
            profit_by_class=profit,
            pnl_by_group=dict(sorted(by_group.items())),
            protocol_income=treasury.profit,
            emissions_by_class={k: v for k, v in sorted(emissions.items()) if v},
            revenue_by_class=revenue,
            revenue_share_by_class={k: (v / earned if earned else 0.0)
                                    for k, v in revenue.items()
                                    if k not in ("burn", "customer")},
            gini_final=gini([ledger.balance_of(p.address) for p in participants]),
            balance_mean_by_role={r: sum(v) // len(v) for r, v in sorted(by_role.items())},
            supply=ledger.total_supply,
            minted=ledger.minted,
            burned=ledger.burned,
            treasury=ledger.balance_of(ledger.treasury),
            policy_faults=t["faults"],
            rejected_actions=t["rejected_actions"],
            actions_by_role={r: c[0] for r, c in sorted((actions_by_role or {}).items())},
            rejected_actions_by_role={r: c[1] for r, c in
                                      sorted((actions_by_role or {}).items())},
            markets=_markets(t, flows, rules),
            rules={"compute_clearing": rules.compute.clearing,
                   "royalty_mode": ledger.params.royalty_mode,
                   "evaluator_paid_on_reject": ledger.params.evaluator_paid_on_reject,
                   "emission": rules.emission.schedule},
            ledger_state_hash=ledger.state_hash(),
            events_sha256=events_sha256,
        )


#: The money leaves of a summary, as paths of keys ("*": any key). Every other int is a count.
MONEY_PATHS: tuple[tuple[str, ...], ...] = (
    ("price_mean",), ("volume",), ("compute_spend",), ("customer_value",), ("compute_cost",),
    ("value_created",), ("consumer_surplus",), ("producer_surplus",), ("protocol_income",),
    ("supply",), ("minted",), ("burned",), ("treasury",),
    ("profit_by_class", "*"), ("emissions_by_class", "*"), ("revenue_by_class", "*"),
    ("balance_mean_by_role", "*"),
    *(("pnl_by_group", "*", c) for c in (*PnL._fields, "profit")),
    ("markets", "jobs", "volume"), ("markets", "jobs", "price_mean"),
    ("markets", "compute", "price_per_cu_mean"), ("markets", "compute", "volume"),
    ("markets", "compute", "licence"), ("markets", "compute", "slashed"),
    ("markets", "data", "volume"), ("markets", "data", "to_contributors"),
    ("markets", "royalties", "volume"), ("markets", "emissions", "emitted"),
)
#: The suffix of an amount's twin in tokens in summary.json (`volume` -> `volume_tokens`).
TOKENS_SUFFIX = "_tokens"


def is_money(path: Sequence[str]) -> bool:
    """Whether the summary leaf at `path` (its keys from the top) is an amount of base
    units."""
    return any(len(p) == len(path) and all(a in ("*", b) for a, b in zip(p, path, strict=True))
               for p in MONEY_PATHS)


def to_json(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The summary as `summary.json` holds it: each amount a decimal string of base units,
    with its float in tokens beside it as `<name>_tokens` (the `decimals` key gives the
    scale)."""
    scale = 10 ** int(summary.get("decimals", 18))

    def encode(node: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = (*path, key)
            if isinstance(value, Mapping):
                out[key] = encode(value, here)
            elif isinstance(value, int) and not isinstance(value, bool) and is_money(here):
                out[key] = str(value)
                out[key + TOKENS_SUFFIX] = value / scale  # int / int: correctly rounded
            else:
                out[key] = value
        return out

    return encode(summary, ())


def from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """A summary read from `summary.json` (`to_json`'s output) with its amounts as exact ints
    again and their `_tokens` twins left out. An older file whose amounts are ints reads the
    same."""

    def decode(node: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = (*path, key)
            if isinstance(value, Mapping):
                out[key] = decode(value, here)
            elif key.endswith(TOKENS_SUFFIX) and is_money((*path, key[:-len(TOKENS_SUFFIX)])):
                continue
            elif isinstance(value, str) and is_money(here):
                out[key] = int(value)
            else:
                out[key] = value
        return out

    return decode(data, ())


def problems(summary: Mapping[str, Any]) -> list[str]:
    """What a finished run's summary says went wrong, one sentence each with what to check:
    no job completed, a role whose every action was refused, policy faults. Empty for a run
    that traded."""
    out: list[str] = []
    if summary.get("jobs_posted", 0) and not summary.get("jobs_completed", 0):
        out.append(f"no job completed ({summary['jobs_posted']} posted): the run may be too "
                   "short for providers to deliver (raise ticks), or every plan failed its "
                   "rule")
    elif not summary.get("jobs_posted", 0) and summary.get("orders", 0):
        out.append(f"no job was posted ({summary['orders']} requests arrived): customers "
                   "found no order worth a service, or their budgets are too small")
    taken = summary.get("actions_by_role") or {}
    refused = summary.get("rejected_actions_by_role") or {}
    for role, n in sorted(taken.items()):
        if n and refused.get(role, 0) == n:
            out.append(f"every action of the {role} agents was rejected ({n} of {n}): check "
                       f"their policy params (units: tokens as \"0.05 tokens\", base units as "
                       "integers) and events.parquet's action_rejected rows for the reason")
    faults = summary.get("policy_faults", 0)
    if faults:
        out.append(f"{faults} policy fault(s): a policy raised or timed out and was isolated; "
                   "events.parquet's policy_fault rows say which agent and why")
    return out


def _markets(t: Totals, flows: FlowBook, rules: Rules) -> dict[str, Any]:
    """Prices, volumes and concentration per market (jobs, compute, data, royalties)."""
    by_flow = flows.by_flow
    leased = t["cu_leased"]

    def concentration(market: str) -> float:
        return hhi(list(flows.by_payee[market].values()))

    return {
        "jobs": {"volume": t["volume"],
                 "price_mean": t["volume"] // t["completed"] if t["completed"] else 0,
                 "hhi": concentration("jobs")},
        "compute": {
            "clearing": rules.compute.clearing,
            "cu_leased": leased, "cu_used": t["cu_sold"], "cu_claimed": t["cu_claimed"],
            "price_per_cu_mean": t["compute_leased_value"] // leased if leased else 0,
            "volume": by_flow.get(Flow.COMPUTE, 0),
            "licence": by_flow.get(Flow.LICENCE, 0),
            "hhi": concentration("compute"),
            "efficiency": (t["compute_surplus"] / t["compute_surplus_max"]
                           if t["compute_surplus_max"] else None),
            "slashed": t["slashed"],
        },
        "data": {"units": t["data_units"],
                 "volume": sum(by_flow.get(f, 0) for f in _DATA_FLOWS),
                 "to_contributors": by_flow.get(Flow.DATA, 0),
                 "hhi": concentration("data")},
        "royalties": {"volume": by_flow.get(Flow.ROYALTY, 0),
                      "hhi": concentration("royalties")},
        "emissions": {"schedule": rules.emission.schedule, "emitted": t["emitted"]},
    }
