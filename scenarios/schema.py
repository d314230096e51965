"""The scenario schema: what a scenario file may say, with types, ranges and defaults."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

__all__ = ["AgentGroup", "AssetSpec", "EconomySection", "LedgerSection", "PoolSpec",
           "RulesSection", "Scenario", "TwinSection", "to_base_units"]

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
    """Which ledger runs the money, and the token's protocol rules."""

    backend: Literal["memory", "evm", "rpc"] = Field(
        "evm", description="memory: the Python reference; evm: the Vyper contracts on an "
        "in-process EVM (pyrevm); rpc: the same contracts on a JSON-RPC node (rpc_url)")
    rpc_url: str | None = Field(
        None, description="the node for backend rpc (default: the node `twinecon node start` "
        "started)")
    signatures: Literal["verify", "off"] = Field(
        "verify", description="check every action's EIP-712 signature, or skip (faster)")
    chain_id: PosInt = 31337
    decimals: Annotated[int, Field(ge=0, le=36, strict=True)] = 18
    supply_cap: TokenAmount = Field(1_000_000_000, description="tokens that may ever be minted")
    transfer_fee_bps: Bps = 0
    fee_burn_bps: Bps = 5_000
    platform_fee_bps: Bps = 200
    evaluator_fee_bps: Bps = 300


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
    l2_hz: Literal[200, 500, 1000] = Field(
        200, description="physics rate of the L2 tier (jobs and evaluations with tier = L2)")
    debug_invariants: bool = Field(True, description="check ledger invariants every tick")
    agents_every: NonNegInt = Field(1, description="record balances every N ticks (0: end)")


class TwinSection(_Section):
    """The world services are sold in."""

    kind: Literal["warehouse", "logistics", "windfarm"] = "warehouse"
    name: str | None = Field(None, description="the twin's name (default: the kind's default)")
    version: str = "1.0.0"
    params: dict[str, Any] = Field(
        default_factory=dict, description="arguments of the kind's spec builder: "
        "worlds.warehouse.warehouse_spec, worlds.logistics.logistics_spec or "
        "worlds.windfarm.windfarm_spec")
    licence_per_cu: TokenAmount = Field(
        0, description="tokens per compute unit of sim time in the twin, paid to its owner "
        "(the world provider) when a lease is claimed")


class EscrowRules(_Section):
    """Job escrow: the evaluator's pay and the shortest expiry (economy.rules.escrow)."""

    evaluator_paid_on_reject: bool = Field(
        False, description="the client deposits the evaluator's fee beside the budget and the "
        "evaluator earns it on reject as on complete")
    min_expiry: PosInt = Field(2, description="fewest ticks from posting a job to its expiry")


class ComputeRules(_Section):
    """The sim-time market (economy.rules.compute)."""

    clearing: Literal["posted", "sealed", "call"] = Field(
        "posted", description="posted prices (fill at once), a sealed-bid reverse auction "
        "per request, or a uniform-price call market, both cleared at the end of the tick")
    sealed_pricing: Literal["first", "second"] = "first"
    call_pricing: Literal["mid", "bid", "ask"] = "mid"
    lease_ticks: PosInt = Field(1, description="ticks a lease runs before unused CU return")
    min_stake: TokenAmount = Field(0, description="stake a compute provider needs to sell "
                                   "(staked from its balance at genesis)")
    spot_check_bps: Bps = Field(0, description="share of usage claims re-metered")
    slash_bps: Bps = Field(5_000, description="share of stake lost to a failed spot check")
    slash_reward_bps: Bps = Field(5_000, description="share of a slash paid to the cheated "
                                  "buyer; the rest is burned")


class RoyaltyRules(_Section):
    """How service payments climb the IP graph (economy.rules.royalty)."""

    mode: Literal["lrp", "lap"] = Field(
        "lrp", description="lrp: shares are relative and compound up the graph; lap: every "
        "ancestor takes its share of the payment itself, once")


class DataRules(_Section):
    """The data market (economy.rules.data)."""

    fee_bps: Bps = Field(0, description="the protocol's share of each data use")


class EmissionRules(_Section):
    """New tokens for useful work (economy.rules.emission)."""

    schedule: Literal["none", "constant", "halving", "bme"] = "none"
    amount: TokenAmount = Field(0, description="tokens per epoch (constant; the first "
                                "epoch's for halving)")
    half_life: PosInt = Field(10, description="epochs per halving")
    epoch_ticks: PosInt = 10
    cap: TokenAmount = Field(0, description="the most tokens ever emitted (0: the supply cap)")


class RulesSection(_Section):
    """Protocol rules; each is one module of economy.rules (the fees are in [ledger])."""

    escrow: EscrowRules = EscrowRules()
    compute: ComputeRules = ComputeRules()
    royalty: RoyaltyRules = RoyaltyRules()
    data: DataRules = DataRules()
    emission: EmissionRules = EmissionRules()


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


class AgentGroup(_Section):
    """`count` agents of one role running one policy."""

    role: Literal["customer", "provider", "evaluator", "compute", "world", "data"]
    count: PosInt = 1
    policy: str = Field(..., description="built-in name, 'pkg.module:Class' or 'file.py:Class'")
    balance: TokenAmount = Field(0, description="tokens minted to each at genesis")
    label: str | None = Field(None, description="name prefix (default: the role)")
    params: dict[str, Any] = Field(default_factory=dict,
                                   description="keyword arguments of the policy")


class Scenario(_Section):
    """A complete scenario: population, world, ledger rules and run length."""

    name: str
    description: str = ""
    seed: NonNegInt = 0
    ticks: PosInt = 100
    ledger: LedgerSection = LedgerSection()
    economy: EconomySection = EconomySection()
    twin: TwinSection = TwinSection()
    rules: RulesSection = RulesSection()
    agents: list[AgentGroup] = Field(..., min_length=1)
    assets: list[AssetSpec] = Field(default_factory=list)
    pools: list[PoolSpec] = Field(default_factory=list)
