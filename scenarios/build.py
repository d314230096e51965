"""Building a runnable economy from a validated scenario: ledger, twin, agents, genesis."""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any

from agents import EconAgent, PolicyLoadError, load_policy
from chain import Identity, LedgerParams
from chain.backends import open_ledger
from chain.errors import ChainError
from economy import EconomyConfig, EconomyModel, Recorder, Role
from scenarios.errors import ScenarioError
from scenarios.loading import LoadedScenario
from scenarios.schema import Scenario, to_base_units
from twinecon.errors import suggest
from worlds import InvalidSpec

__all__ = ["Built", "build", "system_identities"]

# Key indices of the system accounts, far above any agent index.
_PROTOCOL, _TREASURY, _MARKET = 2**40, 2**40 + 1, 2**40 + 2
_TOKENS_PARAM = re.compile(r"^\s*[0-9][0-9_]*(?:\.[0-9_]+)?\s*tokens?\s*$")


@dataclass(slots=True)
class Built:
    """A scenario ready to run."""

    scenario: Scenario
    model: EconomyModel
    agents: list[EconAgent]


def system_identities(seed: int) -> tuple[Identity, Identity, Identity]:
    """The protocol (minter), treasury and market-operator keys of a run."""
    return (Identity.derive(seed, _PROTOCOL, label="protocol"),
            Identity.derive(seed, _TREASURY, label="treasury"),
            Identity.derive(seed, _MARKET, label="market"))


def _policy_params(params: dict[str, Any], decimals: int) -> dict[str, Any]:
    """Policy params as given, with "<n> tokens" strings turned into exact base units."""
    return {k: to_base_units(v, decimals) if isinstance(v, str) and _TOKENS_PARAM.match(v) else v
            for k, v in params.items()}


def build(loaded: LoadedScenario, *, recorder: Recorder | None = None,
          strict: bool = False) -> Built:
    """Make the ledger, the twin, the model and every agent, and run genesis (tick 0).

    Raises:
        ScenarioError: a twin parameter or a policy that cannot be built, naming its key.
    """
    sc, src = loaded.scenario, loaded.source
    dec = sc.ledger.decimals
    protocol, treasury, market = system_identities(sc.seed)
    try:
        params = LedgerParams(
            chain_id=sc.ledger.chain_id, decimals=dec,
            supply_cap=to_base_units(sc.ledger.supply_cap, dec),
            transfer_fee_bps=sc.ledger.transfer_fee_bps, fee_burn_bps=sc.ledger.fee_burn_bps,
            platform_fee_bps=sc.ledger.platform_fee_bps,
            evaluator_fee_bps=sc.ledger.evaluator_fee_bps, signatures=sc.ledger.signatures)
    except ChainError as e:
        raise ScenarioError(src, "ledger", str(e)) from None
    try:
        ledger = open_ledger(sc.ledger.backend, params, protocol=protocol.address,
                             treasury=treasury.address, rpc_url=sc.ledger.rpc_url)
    except ChainError as e:
        raise ScenarioError(src, "ledger.backend", str(e)) from None
    twin = _build_twin(sc, src)
    config = EconomyConfig(
        tick_ms=sc.economy.tick_ms, max_candidates=sc.economy.max_candidates,
        max_strikes=sc.economy.max_strikes,
        time_value_per_h=to_base_units(sc.economy.time_value_per_h, dec),
        debug_invariants=sc.economy.debug_invariants, strict=strict,
        agents_every=sc.economy.agents_every)
    model = EconomyModel(config=config, ledger=ledger, twin=twin, seed=sc.seed,
                         protocol=protocol, market=market, recorder=recorder)
    agents: list[EconAgent] = []
    allocations = []
    for g, group in enumerate(sc.agents):
        key = f"agents[{g}]"
        try:
            group_params = _policy_params(group.params, dec)
        except ValueError as e:
            raise ScenarioError(src, f"{key}.params", str(e)) from None
        for k in range(group.count):
            index = len(agents)
            try:
                policy = load_policy(group.policy, group_params, base_dir=loaded.base_dir)
            except PolicyLoadError as e:
                raise ScenarioError(src, f"{key}.policy", str(e)) from None
            label = f"{group.label or group.role}-{k}"
            agent = EconAgent(
                model, index=index, identity=Identity.derive(sc.seed, index, label=label),
                role=Role(group.role), policy=policy, label=label, policy_name=group.policy,
                params=group_params, strict=strict)
            model.add(agent)
            agents.append(agent)
            allocations.append((agent.address, to_base_units(group.balance, dec)))
    owners = [a for a in agents if a.role is Role.WORLD]
    if not owners:
        raise ScenarioError(src, "agents", "no agent has role = \"world\" to own the twin; add "
                            "an [[agents]] group with role = \"world\" and policy = \"idle\"")
    if sum(a for _, a in allocations) > params.supply_cap:
        raise ScenarioError(src, "agents", "the genesis balances exceed ledger.supply_cap; "
                            "lower the balances or raise the cap")
    for agent in agents:
        agent.reset(int(model.agent_seed(agent.index).generate_state(1)[0]))
    # the rpc backend signs each agent's raw transactions with its key and funds its gas
    ledger.enroll([protocol, treasury, market, *(a.identity for a in agents)])
    model.genesis(allocations, twin_owner=owners[0].address)
    return Built(scenario=sc, model=model, agents=agents)


#: Twin kinds: the module that defines them, its spec builder and its twin class.
TWIN_KINDS = {
    "warehouse": ("worlds.warehouse", "warehouse_spec", "WarehouseTwin"),
    "logistics": ("worlds.logistics", "logistics_spec", "LogisticsTwin"),
    "windfarm": ("worlds.windfarm", "windfarm_spec", "WindfarmTwin"),
}


def _build_twin(sc: Scenario, src: str) -> Any:
    module_name, spec_name, class_name = TWIN_KINDS[sc.twin.kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ScenarioError(src, "twin.kind", f"twin kind {sc.twin.kind!r} is not available "
                            f"in this installation ({e})") from None
    spec_fn, twin_cls = getattr(module, spec_name), getattr(module, class_name)
    accepted = [p for p in inspect.signature(spec_fn).parameters
                if p not in ("name", "version")]
    for k in sc.twin.params:
        if k not in accepted:
            raise ScenarioError(src, f"twin.params.{k}", f"unknown {sc.twin.kind} parameter"
                                f"{suggest(k, accepted)}; allowed: {', '.join(accepted)}")
    names = {"name": sc.twin.name} if sc.twin.name else {}
    try:
        spec = spec_fn(**names, version=sc.twin.version, **sc.twin.params)
        return twin_cls(spec)
    except (InvalidSpec, TypeError, ValueError) as e:
        raise ScenarioError(src, "twin.params", str(e)) from None