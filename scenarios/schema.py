"""The scenario schema: what a scenario file may say, with types, ranges and defaults."""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation, localcontext
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from agents.limits import DEFAULT_LIMITS, Isolation
from chain import Backend, LedgerParams, SignatureMode
from chain.royalty import MAX_PARENTS
from economy.rules import SECTIONS, ParamSpec, specs
from twinecon.errors import suggest
from worlds import registry
from worlds.warehouse import DEFAULT_HZ, HZ_CHOICES

__all__ = ["MAX_AGENTS", "MAX_AGENT_TICKS", "MAX_ASSETS", "MAX_DEPTH", "MAX_GROUPS",
           "MAX_PARAMS_DEPTH", "MAX_PARAMS_ITEMS", "MAX_POOLS", "MAX_STR", "MAX_TEXT",
           "MAX_TICKS", "MAX_TICK_MS", "MAX_TOKENS", "MOVED_KEYS", "RULE_SECTIONS", "AgentGroup",
           "AssetSpec", "EconomySection", "LedgerSection", "PoliciesSection", "PoolSpec",
           "RulesSection", "Scenario", "TwinSection", "bounded_value", "is_token_amount",
           "move_old_keys", "to_base_units"]

_TOKENS = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9_]+)?)\s*(?:tokens?)?\s*$")

# The schema's upper bounds. Each is far above what the built-in scenarios use and low enough
# that a run on one machine (2 cores, 24 GiB) honours it, and `twinecon validate` answers any
# file in a second or two. Each bound's reason is in its comment and in the field's
# description (`twinecon schema`).

#: ticks: every tick steps every agent and adds a row to ticks.parquet; 100,000 ticks of the
#: built-in markets take hours (with agents, see MAX_AGENT_TICKS).
MAX_TICKS = 100_000
#: agents, per group and in total: each agent's key is derived at build time (a secp256k1
#: key, about 0.3 ms) and every agent is observed and asked to act every tick.
MAX_AGENTS = 10_000
#: ticks x agents: the work of a run (and the rows of agents.parquet when recorded every
#: tick) grows with it; an agent-tick of the built-in markets takes about 45 us, so 10^8 of
#: them are over an hour of run and gigabytes of output.
MAX_AGENT_TICKS = 100_000_000
#: [[agents]] groups: `validate` builds one agent of each group (its policy, its genesis).
MAX_GROUPS = 256
#: [[assets]] and [[pools]]: each is a ledger operation at genesis, replayed by `validate`.
MAX_ASSETS = 1_024
MAX_POOLS = 1_024
#: tick_ms: one day of twin time per market period; a tick's requests are drawn at once.
MAX_TICK_MS = 86_400_000
#: Token amounts: at most 10^30 tokens, so an amount in base units fits the ledger's uint256
#: at any `decimals` (up to 36).
MAX_TOKENS = 10**30
#: Levels of tables, arrays and inline tables below a scenario's top table (the deepest a
#: valid scenario needs is 11: policy params in [[agents]]): deeper data would exhaust the
#: recursion of the TOML parser, validation and JSON serialisation. Checked on the text
#: before parsing.
MAX_DEPTH = 16
#: Policy (and twin) params: levels of lists and tables below the params table (`{a = [1]}`
#: nests one level), and values in all.
MAX_PARAMS_DEPTH = 8
MAX_PARAMS_ITEMS = 10_000
#: The longest string value: a name, a label, a path, an url, a policy parameter.
MAX_STR = 4_096
#: The longest free text (a description).
MAX_TEXT = 65_536
#: A scenario's name names its default output folder: no path separators or control
#: characters, and not hidden (not starting with '.').
_NAME = re.compile(r"^[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]*$")


def bounded_value(value: Any, *, max_depth: int = MAX_PARAMS_DEPTH,
                  max_items: int = MAX_PARAMS_ITEMS, max_str: int = MAX_STR) -> Any:
    """`value` itself if it nests at most `max_depth` levels of lists and tables below it,
    holds at most `max_items` values in all and no string (or key) longer than `max_str`.
    Iterative, so a value nested deeper than Python's recursion limit is refused, not crashed
    on.

    Raises:
        ValueError: naming the bound, what was found and the fix.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    items = 0
    while stack:
        item, depth = stack.pop()
        items += 1
        if items > max_items:
            raise ValueError(f"holds more than {max_items} values; expected at most "
                             f"{max_items}: pass a file name instead of inline data")
        if isinstance(item, str):
            if len(item) > max_str:
                raise ValueError(f"holds a string of {len(item)} characters; expected at most "
                                 f"{max_str}")
            continue
        if isinstance(item, dict | list | tuple):
            if depth > max_depth:
                raise ValueError(f"nests more than {max_depth} levels deep; expected at most "
                                 f"{max_depth} levels of lists and tables: flatten it")
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str) and len(key) > max_str:
                    raise ValueError(f"holds a key of {len(key)} characters; expected at "
                                     f"most {max_str}")
                stack.append((child, depth + 1))
    return value


def to_base_units(value: Any, decimals: int = 18) -> int:
    """Tokens (an int, or a decimal string such as "0.05") to exact base units.

    Raises:
        ValueError: not a non-negative number of at most `MAX_TOKENS` tokens (80 characters
            at most), or finer than one base unit.
    """
    if isinstance(value, bool):
        raise ValueError("expected an amount of tokens, got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"amounts must be >= 0, got {value}")
        if value > MAX_TOKENS:
            raise ValueError(f"amounts must be at most 10^30 tokens, got {value}")
        return value * 10**decimals
    if isinstance(value, str):
        m = _TOKENS.match(value) if len(value) <= 80 else None
        if m:
            try:
                with localcontext() as ctx:
                    ctx.prec = 100  # exact: 30 digits of tokens and up to 36 decimals and more
                    tokens = Decimal(m.group(1).replace("_", ""))
                    exact = (tokens * (Decimal(10) ** decimals) if tokens <= MAX_TOKENS
                             else None)
            except InvalidOperation:
                exact = None
            if exact is not None:
                if exact != exact.to_integral_value():
                    raise ValueError(f"{value!r} is finer than one base unit (10^-{decimals})")
                return int(exact)
    shown = repr(value) if len(repr(value)) <= 100 else repr(value)[:100] + "..."
    raise ValueError(f"expected an amount of tokens such as 1000 or \"0.05\" (at most 10^30 "
                     f"tokens), got {shown}")


def _tokens(value: Any) -> Any:
    # Kept as written; converted with the scenario's decimals when the scenario is built.
    to_base_units(value)
    return value


TokenAmount = Annotated[int | str, BeforeValidator(_tokens)]
Bps = Annotated[int, Field(ge=0, le=10_000, strict=True)]
#: A name, label, path or url: at most MAX_STR characters.
Str = Annotated[str, Field(max_length=MAX_STR)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerSection(_Section):
    """Which ledger runs the money, and the token (its fees are in [rules.fees])."""

    backend: Literal[tuple(b.value for b in Backend)] = Field(  # type: ignore[valid-type]
        Backend.EVM.value, description="memory: the Python reference; evm: the Vyper contracts "
        "on an in-process EVM (pyrevm); rpc: the same contracts on a JSON-RPC node (rpc_url)")
    rpc_url: Str | None = Field(
        None, description="the node for backend rpc (default: the node `twinecon node start` "
        "started)")
    signatures: Literal[tuple(m.value for m in SignatureMode)] = Field(  # type: ignore[valid-type]
        LedgerParams.spec()["signatures"].default.value,
        description="check every action's EIP-712 signature, or skip (faster)")
    chain_id: Annotated[int, Field(gt=0, le=2**63 - 1, strict=True)] = 31337
    decimals: Annotated[int, Field(ge=0, le=36, strict=True)] = 18
    supply_cap: TokenAmount = Field(1_000_000_000, description="tokens that may ever be minted "
                                    "(every token amount is at most 10^30 tokens, so that it "
                                    "fits the ledger's uint256 at any decimals)")


class EconomySection(_Section):
    """Market rules and recording."""

    tick_ms: Annotated[int, Field(gt=0, le=MAX_TICK_MS, strict=True)] = Field(
        60_000, description="twin time per market period; at most a day (86400000), since a "
        "tick's requests arrive at once")
    max_candidates: Annotated[int, Field(gt=0, le=1_024, strict=True)] = Field(
        64, description="most plans one Simulate action may evaluate; each is an evaluation in "
        "the twin, so at most 1024 bounds the work of one action")
    max_strikes: Annotated[int, Field(ge=0, le=MAX_TICKS, strict=True)] = Field(
        2, description="failures (jobs rejected, or awarded and never delivered) beyond "
        "completions that disqualify a provider from winning bids")
    time_value_per_h: TokenAmount = Field(
        30, validation_alias=AliasChoices("time_value_per_h", "picker_cost_per_h"),
        description="tokens an hour of the twin's time saved is worth to a customer (picking "
        "time in a warehouse, truck time in logistics, turbine downtime in a wind farm); "
        "the old name picker_cost_per_h is still read")
    compute_cost_per_cu: TokenAmount = Field(
        0, description="tokens one compute unit of sim time really costs to run (compute "
        "sellers' marginal cost: welfare counts it as a resource used)")
    order_lapse_ticks: Annotated[int, Field(ge=0, le=MAX_TICKS, strict=True)] = Field(
        60, description="a customer's request not posted as a job within this many ticks of "
        "its arrival lapses: its operation goes ahead without a service (0: never; a customer "
        "that posts only orders worth a service leaves the rest to lapse)")
    l2_hz: Literal[HZ_CHOICES] | None = Field(  # type: ignore[valid-type]
        None, description="physics rate of the L2 tier (jobs and evaluations with tier = L2); "
        f"default: the twin's ({DEFAULT_HZ} Hz for warehouses)")
    debug_invariants: bool = Field(True, description="check ledger invariants every tick")
    agents_every: Annotated[int, Field(ge=0, le=MAX_TICKS, strict=True)] = Field(
        1, description="record balances every N ticks (0: end)")


class TwinSection(_Section):
    """The world services are sold in."""

    kind: Annotated[str, Field(max_length=64)] = Field(
        "warehouse", description="a registered twin kind (worlds.registry): "
                      f"{', '.join(registry.kinds())}",
                      json_schema_extra={"enum": list(registry.kinds())})
    name: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="the twin's name (default: the kind's default)")
    version: Annotated[str, Field(max_length=32)] = "1.0.0"
    params: dict[str, Any] = Field(
        default_factory=dict, description="arguments of the kind's spec builder (for the "
        "shipped kinds: worlds.warehouse.warehouse_spec, worlds.logistics.logistics_spec, "
        "worlds.windfarm.windfarm_spec, worlds.toy.toy_spec; each builder's docstring gives "
        "its parameters' bounds and why); nested at most 8 levels, 10000 values in all")
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

    @field_validator("params")
    @classmethod
    def _bounded(cls, params: dict[str, Any]) -> dict[str, Any]:
        return bounded_value(params)


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
        # A rule's count or horizon with no bound of its own (an expiry, a lease, an epoch)
        # stops at MAX_TICKS: a horizon longer than the longest run never comes.
        typ = Annotated[int, Field(ge=spec.ge, le=MAX_TICKS if spec.le is None else spec.le,
                                   strict=True)]
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
    out = copy.deepcopy(data)  # validate_scenario bounds the depth first (MAX_DEPTH)
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
    owner: Str | None = Field(None, description="the owner's agent label, such as \"data-0\" "
                              "(default for a twin asset: the twin's owner)")
    royalty_bps: Bps = Field(0, description="what its licence asks of its descendants' "
                             "earnings")
    parents: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=MAX_PARENTS, description="keys of the assets it "
        f"derives from (royalty edges), at most {MAX_PARENTS} (the ledger's limit)")
    content: Annotated[str, Field(max_length=MAX_TEXT)] = Field(
        "", description="what the content hash commits to (default: the key)")


class PoolSpec(_Section):
    """A data pool opened at genesis."""

    key: str = Field(..., min_length=1, max_length=64)
    owner: Str = Field(..., description="the owner's agent label")
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
    retries: Annotated[int, Field(ge=0, le=10, strict=True)] = Field(
        DEFAULT_LIMITS.retries, description="remote (http://) and subprocess (exec:) policies: "
        "further attempts of a call whose answer did not arrive (a timeout, a refused or "
        "broken connection, HTTP 5xx, 408 or 429, a process that died), each within "
        "time_limit_ms")


class AgentGroup(_Section):
    """`count` agents of one role running one policy."""

    role: Literal["customer", "provider", "evaluator", "compute", "world", "data"]
    count: Annotated[int, Field(gt=0, le=MAX_AGENTS, strict=True)] = Field(
        1, description=f"agents in the group, at most {MAX_AGENTS} (in all groups together "
        "too): each gets a key derived at build time and acts every tick")
    policy: Str = Field(..., description="built-in name, 'pkg.module:Class', "
                        "'file.py:Class', a remote policy's URL 'http://host:port/path', or a "
                        "subprocess speaking JSON lines, 'exec:command args' "
                        "(docs/policy-wire.md)")
    balance: TokenAmount = Field(0, description="tokens minted to each at genesis")
    label: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="name prefix (default: the role)")
    params: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments of the policy; nested at most "
        f"{MAX_PARAMS_DEPTH} levels, {MAX_PARAMS_ITEMS} values in all, strings of at most "
        f"{MAX_STR} characters (the run's manifest records them as JSON)")
    isolation: Literal[tuple(i.value for i in Isolation)] | None = Field(  # type: ignore[valid-type]
        None, description="where this group's policy runs (default: [policies] isolation)")
    time_limit_ms: Annotated[int, Field(ge=0, le=3_600_000, strict=True)] | None = Field(
        None, description="this group's time budget per call (default: [policies])")
    memory_limit_mb: Annotated[int, Field(ge=64, le=1_048_576, strict=True)] | None = Field(
        None, description="this group's memory budget in its worker (default: [policies])")
    retries: Annotated[int, Field(ge=0, le=10, strict=True)] | None = Field(
        None, description="this group's retries of a remote or subprocess policy's call "
        "(default: [policies])")

    @field_validator("params")
    @classmethod
    def _bounded(cls, params: dict[str, Any]) -> dict[str, Any]:
        return bounded_value(params)


class Scenario(_Section):
    """A complete scenario: population, world, ledger rules and run length."""

    @model_validator(mode="before")
    @classmethod
    def _move_old_keys(cls, data: Any) -> Any:
        return move_old_keys(data)

    name: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        ..., description="the scenario's name, also the default output folder's "
        "(runs/NAME-seedN): no '/', '\\' or control characters, not starting with '.'",
        json_schema_extra={"pattern": _NAME.pattern})
    description: Annotated[str, Field(max_length=MAX_TEXT)] = ""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1, strict=True)] = 0
    ticks: Annotated[int, Field(gt=0, le=MAX_TICKS, strict=True)] = Field(
        100, description=f"market periods to run, at most {MAX_TICKS}; ticks x agents at most "
        f"{MAX_AGENT_TICKS} (the work of a run)")
    ledger: LedgerSection = LedgerSection()
    economy: EconomySection = EconomySection()
    twin: TwinSection = TwinSection()
    rules: RulesSection = RulesSection()
    policies: PoliciesSection = PoliciesSection()
    agents: list[AgentGroup] = Field(..., min_length=1, max_length=MAX_GROUPS,
                                     description=f"groups of agents, at most {MAX_GROUPS}")
    assets: list[AssetSpec] = Field(default_factory=list, max_length=MAX_ASSETS)
    pools: list[PoolSpec] = Field(default_factory=list, max_length=MAX_POOLS)

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        if not _NAME.fullmatch(name):
            raise ValueError("expected a name without '/', '\\' or control characters, not "
                             "starting with '.' (it names the output folder, runs/NAME-seedN)")
        return name

    @field_validator("agents")
    @classmethod
    def _bounded_run(cls, agents: list[AgentGroup], info: ValidationInfo) -> list[AgentGroup]:
        n_agents = sum(g.count for g in agents)
        if n_agents > MAX_AGENTS:
            raise ValueError(f"the groups hold {n_agents} agents; expected at most "
                             f"{MAX_AGENTS} in all (each gets a key derived at build time and "
                             "acts every tick): lower the counts")
        ticks = info.data.get("ticks")
        if isinstance(ticks, int) and n_agents * ticks > MAX_AGENT_TICKS:
            raise ValueError(f"{ticks} ticks x {n_agents} agents is {n_agents * ticks} "
                             f"agent-ticks; expected at most {MAX_AGENT_TICKS} (the work of a "
                             "run): lower ticks or the counts")
        return agents


def is_token_amount(key: str) -> bool:
    """Whether the dotted path `key` (`twin.licence_per_cu`, `rules.compute.min_stake`,
    `agents.2.balance`) names a token amount of the schema (written in tokens, an int or a
    decimal string): `--set` and sampled values there are tokens, not base units. Policy
    params (`agents.N.params.*`) are the policy's own and never count."""
    model: Any = Scenario
    parts = key.split(".")
    i = 0
    while i < len(parts):
        fields = getattr(model, "model_fields", None)
        if fields is None or parts[i] not in fields:
            return False
        annotation = fields[parts[i]].annotation
        i += 1
        if i == len(parts):
            return annotation == TokenAmount or _is_token_annotation(fields[parts[i - 1]])
        origin = getattr(annotation, "__origin__", None)
        if origin is list:
            if not parts[i].isdigit():
                return False
            annotation = annotation.__args__[0]
            i += 1
            if i == len(parts):
                return False
        model = annotation
    return False


def _is_token_annotation(field: Any) -> bool:
    """A pydantic field declared as `TokenAmount` (its metadata holds `_tokens`)."""
    return any(getattr(m, "func", None) is _tokens for m in field.metadata)
