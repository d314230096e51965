"""The scenario schema: what a scenario file may say, with types, ranges and defaults."""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)

from agents.limits import DEFAULT_LIMITS, Isolation
from chain import Backend, LedgerParams, SignatureMode
from economy.rules import SECTIONS, ParamSpec, specs
from twinecon.errors import suggest
from worlds import registry
from worlds.warehouse import DEFAULT_HZ, HZ_CHOICES

__all__ = ["MOVED_KEYS", "RULE_SECTIONS", "AgentGroup", "AssetSpec", "EconomySection",
           "LedgerSection", "PoliciesSection", "PoolSpec", "RulesSection", "Scenario",
           "TwinSection", "move_old_keys", "to_base_units"]

_TOKENS = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9_]+)?)\s*(?:tokens?)?\s*$")


def to_base_units(value: Any, decimals: int = 18) -> int:
    """Tokens (an int, or a decimal string such as "0.05") to exact base units.

    Raises:
        ValueError: not a non-negative number, or finer than one base unit.
    """
    if isinstance(value, bool):
        raise ValueError("expected an amount of tokens, got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"amounts must be >= 0, got {value}")
        return value * 10**decimals
    if isinstance(value, str):
        m = _TOKENS.match(value)
        if m:
            try:
                exact = Decimal(m.group(1).replace("_", "")) * (Decimal(10) ** decimals)
            except InvalidOperation:
                exact = None
            if exact is not None:
                if exact != exact.to_integral_value():
                    raise ValueError(f"{value!r} is finer than one base unit (10^-{decimals})")
                return int(exact)
    raise ValueError(f"expected an amount of tokens such as 1000 or \"0.05\", got {value!r}")


def _tokens(value: Any) -> Any:
    # Kept as written; converted with the scenario's decimals when the scenario is built.
    to_base_units(value)
    return value


TokenAmount = Annotated[int | str, BeforeValidator(_tokens)]
Bps = Annotated[int, Field(ge=0, le=10_000, strict=True)]
PosInt = Annotated[int, Field(gt=0, strict=True)]
NonNegInt = Annotated[int, Field(ge=0, strict=True)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerSection(_Section):
    """Which ledger runs the money, and the token (its fees are in [rules.fees])."""

    backend: Literal[tuple(b.value for b in Backend)] = Field(  # type: ignore[valid-type]
        Backend.EVM.value, description="memory: the Python reference; evm: the Vyper contracts "
        "on an in-process EVM (pyrevm); rpc: the same contracts on a JSON-RPC node (rpc_url)")
    rpc_url: str | None = Field(
        None, description="the node for backend rpc (default: the node `twinecon node start` "
        "started)")
    signatures: Literal[tuple(m.value for m in SignatureMode)] = Field(  # type: ignore[valid-type]
        LedgerParams.spec()["signatures"].default.value,
        description="check every action's EIP-712 signature, or skip (faster)")
    chain_id: PosInt = 31337
    decimals: Annotated[int, Field(ge=0, le=36, strict=True)] = 18
    supply_cap: TokenAmount = Field(1_000_000_000, description="tokens that may ever be minted")


class EconomySection(_Section):
    """Market rules and recording."""

    tick_ms: PosInt = Field(60_000, description="twin time per market period")
    max_candidates: PosInt = 64
    max_strikes: NonNegInt = Field(2, description="rejections beyond completions that "
                                   "disqualify a provider from winning bids")
    time_value_per_h: TokenAmount = Field(
        30, validation_alias=AliasChoices("time_value_per_h", "picker_cost_per_h"),
        description="tokens an hour of the twin's time saved is worth to a customer (picking "
        "time in a warehouse, truck time in logistics, turbine downtime in a wind farm); "
        "the old name picker_cost_per_h is still read")
    l2_hz: Literal[HZ_CHOICES] | None = Field(  # type: ignore[valid-type]
        None, description="physics rate of the L2 tier (jobs and evaluations with tier = L2); "
        f"default: the twin's ({DEFAULT_HZ} Hz for warehouses)")
    debug_invariants: bool = Field(True, description="check ledger invariants every tick")
    agents_every: NonNegInt = Field(1, description="record balances every N ticks (0: end)")


class TwinSection(_Section):
    """The world services are sold in."""

    kind: str = Field("warehouse", description="a registered twin kind (worlds.registry): "
                      f"{', '.join(registry.kinds())}",
                      json_schema_extra={"enum": list(registry.kinds())})
    name: str | None = Field(None, description="the twin's name (default: the kind's default)")
    version: str = "1.0.0"
    params: dict[str, Any] = Field(
        default_factory=dict, description="arguments of the kind's spec builder (for the "
        "shipped kinds: worlds.warehouse.warehouse_spec, worlds.logistics.logistics_spec, "
        "worlds.windfarm.windfarm_spec, worlds.toy.toy_spec)")
    licence_per_cu: TokenAmount = Field(
        0, description="tokens per compute unit of sim time in the twin, paid to its owner "
        "(the world provider) when a lease is claimed")

    @field_validator("kind")
    @classmethod
    def _registered(cls, kind: str) -> str:
        if kind not in registry.kinds():
            raise ValueError(f"no twin kind {kind!r} is registered"
                             f"{suggest(kind, registry.kinds())}; registered kinds: "
                             f"{', '.join(registry.kinds())}")
        return kind


def _rule_field(spec: ParamSpec) -> tuple[Any, Any]:
    """A scenario field for one rule parameter: its type, bounds and default from the rule."""
    typ: Any
    if spec.choices is not None:
        typ = Literal[spec.choices]  # type: ignore[valid-type]
    elif spec.kind is bool:
        typ = bool
    elif spec.unit == "base_units":  # written in tokens; converted with the scenario's decimals
        if spec.default != 0:
            raise TypeError(f"{spec.name}: a token amount's default must be 0 (tokens and base "
                            "units differ by the scenario's decimals)")
        typ = TokenAmount
    else:
        typ = Annotated[int, Field(ge=spec.ge, le=spec.le, strict=True)]
    return typ, Field(spec.default, description=spec.doc)


def _rule_section(section: str, rule: type) -> type[_Section]:
    """The `[rules.<section>]` table of a rule, derived from the rule's parameters."""
    doc = (rule.__doc__ or "").strip().splitlines()[0]
    model = create_model(  # type: ignore[call-overload]
        f"{section.title()}Rules", __base__=_Section, __module__=__name__,
        **{spec.name: _rule_field(spec) for spec in specs(rule)})
    model.__doc__ = f"{doc} (economy.rules.{rule.__module__.rsplit('.', 1)[-1]})"
    return model


#: The rules' scenario tables, by section name.
RULE_SECTIONS: dict[str, type[_Section]] = {name: _rule_section(name, rule)
                                            for name, rule in SECTIONS.items()}

RulesSection = create_model(  # type: ignore[call-overload]
    "RulesSection", __base__=_Section, __module__=__name__,
    **{name: (model, Field(default_factory=model)) for name, model in RULE_SECTIONS.items()})
RulesSection.__doc__ = ("Protocol rules; each table is one module of economy.rules, its keys, "
                        "bounds and defaults derived from the rule")

#: Keys that moved, old dotted path -> new; a file (or --set) using the old one still works.
MOVED_KEYS = {f"ledger.{k}": f"rules.fees.{k}"
              for k in ("transfer_fee_bps", "fee_burn_bps", "platform_fee_bps",
                        "evaluator_fee_bps")}


def move_old_keys(data: Any) -> Any:
    """Scenario data with every old key (`MOVED_KEYS`) moved to its new place.

    Raises:
        ValueError: a key given under both its old and its new name, with different values.
    """
    if not isinstance(data, dict):
        return data
    out = copy.deepcopy(data)
    for old, new in MOVED_KEYS.items():
        old_table, old_key = old.split(".")
        table = out.get(old_table)
        if not isinstance(table, dict) or old_key not in table:
            continue
        value = table.pop(old_key)
        *path, key = new.split(".")
        node = out
        for part in path:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                return out  # a malformed table: validation says so
            node = child
        if key in node and node[key] != value:
            raise ValueError(f"{old} and {new} are both set, to {value!r} and {node[key]!r}; "
                             f"keep {new} ({old} is its old name)")
        node[key] = value
    return out


class AssetSpec(_Section):
    """An IP asset registered at genesis: a node of the royalty graph."""

    key: str = Field(..., min_length=1, max_length=64,
                     description="its key; \"twin\" names the scenario's twin")
    kind: Literal["data", "policy", "twin"]
    owner: str | None = Field(None, description="the owner's agent label, such as \"data-0\" "
                              "(default for a twin asset: the twin's owner)")
    royalty_bps: Bps = Field(0, description="what its licence asks of its descendants' "
                             "earnings")
    parents: list[str] = Field(default_factory=list, description="keys of the assets it "
                               "derives from (royalty edges)")
    content: str = Field("", description="what the content hash commits to (default: the key)")


class PoolSpec(_Section):
    """A data pool opened at genesis."""

    key: str = Field(..., min_length=1, max_length=64)
    owner: str = Field(..., description="the owner's agent label")
    price_per_unit: TokenAmount = Field(0, description="tokens per unit of data used")
    owner_fee_bps: Bps = Field(0, description="the owner's share of each use")


class PoliciesSection(_Section):
    """How policies run (agents.limits): in this process (trusted code) or each in a worker
    process of its own, and the time and memory each call may take. A group may override any
    of these."""

    isolation: Literal[tuple(i.value for i in Isolation)] = Field(  # type: ignore[valid-type]
        DEFAULT_LIMITS.isolation.value, description="inprocess: the policy runs in the "
        "simulator's process (trusted code: fast, but it could read anything in the process); "
        "process: each agent's policy runs in a worker process of its own, spoken to in JSON, "
        "stopped when it overruns its time budget (untrusted code)")
    time_limit_ms: Annotated[int, Field(ge=0, le=3_600_000, strict=True)] = Field(
        DEFAULT_LIMITS.time_limit_ms, description="wall time one policy call may take; an "
        "overrun is a recorded fault (0: no limit). The one machine-dependent thing in a run: "
        "keep it far above what the policy needs")
    memory_limit_mb: Annotated[int, Field(ge=64, le=1_048_576, strict=True)] = Field(
        DEFAULT_LIMITS.memory_limit_mb, description="the memory a policy may take in its "
        "worker, above what the worker maps when it starts (process isolation only)")


class AgentGroup(_Section):
    """`count` agents of one role running one policy."""

    role: Literal["customer", "provider", "evaluator", "compute", "world", "data"]
    count: PosInt = 1
    policy: str = Field(..., description="built-in name, 'pkg.module:Class' or 'file.py:Class'")
    balance: TokenAmount = Field(0, description="tokens minted to each at genesis")
    label: str | None = Field(None, description="name prefix (default: the role)")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="keyword arguments of the policy")
    isolation: Literal[tuple(i.value for i in Isolation)] | None = Field(  # type: ignore[valid-type]
        None, description="where this group's policy runs (default: [policies] isolation)")
    time_limit_ms: Annotated[int, Field(ge=0, le=3_600_000, strict=True)] | None = Field(
        None, description="this group's time budget per call (default: [policies])")
    memory_limit_mb: Annotated[int, Field(ge=64, le=1_048_576, strict=True)] | None = Field(
        None, description="this group's memory budget in its worker (default: [policies])")


class Scenario(_Section):
    """A complete scenario: population, world, ledger rules and run length."""

    @model_validator(mode="before")
    @classmethod
    def _move_old_keys(cls, data: Any) -> Any:
        return move_old_keys(data)

    name: str
    description: str = ""
    seed: NonNegInt = 0
    ticks: PosInt = 100
    ledger: LedgerSection = LedgerSection()
    economy: EconomySection = EconomySection()
    twin: TwinSection = TwinSection()
    rules: RulesSection = RulesSection()
    policies: PoliciesSection = PoliciesSection()
    agents: list[AgentGroup] = Field(..., min_length=1)
    assets: list[AssetSpec] = Field(default_factory=list)
    pools: list[PoolSpec] = Field(default_factory=list)
