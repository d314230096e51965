"""Building a runnable economy from a validated scenario: ledger, twin, agents, genesis."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from agents import EconAgent, PolicyLoadError, make_policy
from agents.errors import PolicyParamError
from agents.limits import Isolation, PolicyLimits
from agents.process import ProcessPolicy
from agents.remote import RemotePolicy
from chain import Asset, Identity, LedgerParams
from chain.backends import open_ledger
from chain.errors import ChainError
from chain.royalty import MAX_PARENTS, graph_problem
from economy import (
    Allocation,
    AssetGrant,
    EconomyConfig,
    EconomyModel,
    GenesisError,
    PoolGrant,
    Recorder,
    Role,
)
from economy.genesis import twin_key
from economy.rules import SECTIONS, RuleError, Rules, specs
from scenarios.errors import ScenarioError
from scenarios.loading import LoadedScenario
from scenarios.schema import AgentGroup, Scenario, to_base_units
from twinecon.errors import suggest
from twinecon.seeds import SYSTEM_INDEX, Stream
from worlds import InvalidSpec, WorldError, registry
from worlds.protocols import ServiceTwin

__all__ = ["Built", "build", "check", "policy_limits", "system_identities"]

@dataclass(slots=True)
class Built:
    """A scenario ready to run."""

    scenario: Scenario
    model: EconomyModel
    agents: list[EconAgent]

    def close(self) -> None:
        """Stop the worker processes of the run's process-isolated policies and the processes
        of its subprocess policies (they would stop with this process anyway; a run closes
        them when it ends)."""
        for agent in self.agents:
            if isinstance(agent.policy, ProcessPolicy | RemotePolicy):
                agent.policy.close()


def system_identities(seed: int) -> tuple[Identity, Identity, Identity]:
    """The protocol (minter), treasury and market-operator keys of a run."""
    return tuple(Identity.derive(seed, SYSTEM_INDEX[name], label=name)  # type: ignore[return-value]
                  for name in ("protocol", "treasury", "market"))


def build(loaded: LoadedScenario, *, recorder: Recorder | None = None,
          strict: bool = False) -> Built:
    """Make the ledger, the twin, the model and every agent, and run genesis (tick 0).

    Raises:
        ScenarioError: a twin parameter or a policy that cannot be built, naming its key.
    """
    sc, src = loaded.scenario, loaded.source
    dec = sc.ledger.decimals
    protocol, treasury, market = system_identities(sc.seed)
    rules = _rules(sc, src)
    try:
        params = LedgerParams(
            chain_id=sc.ledger.chain_id, decimals=dec,
            supply_cap=to_base_units(sc.ledger.supply_cap, dec), signatures=sc.ledger.signatures,
            **rules.ledger_params())  # type: ignore[arg-type]
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
        compute_cost_per_cu=to_base_units(sc.economy.compute_cost_per_cu, dec),
        order_lapse_ticks=sc.economy.order_lapse_ticks,
        debug_invariants=sc.economy.debug_invariants, strict=strict, l2_hz=sc.economy.l2_hz,
        agents_every=sc.economy.agents_every)
    model = EconomyModel(config=config, ledger=ledger, twin=twin, seed=sc.seed,
                         protocol=protocol, market=market, recorder=recorder, rules=rules)
    agents: list[EconAgent] = []
    allocations: list[Allocation] = []
    for g, group in enumerate(sc.agents):
        key = f"agents[{g}]"
        # in the scenario's units: make_policy converts them (money params from tokens to base
        # units, agents.units) where the class is loaded, here or in a policy's worker
        group_params = group.params
        limits = policy_limits(sc, group)
        for k in range(group.count):
            index = len(agents)
            try:
                policy = make_policy(group.policy, group_params, base_dir=loaded.base_dir,
                                     limits=limits, twin_spec=twin.spec, hz=sc.economy.l2_hz,
                                     seed=sc.seed, index=index, decimals=dec)
            except PolicyParamError as e:  # a value its annotation refuses: name the param
                raise ScenarioError(src, f"{key}.params.{e.param}", str(e)) from None
            except PolicyLoadError as e:
                raise ScenarioError(src, f"{key}.policy", str(e)) from None
            name = group.label or group.role
            label = f"{name}-{k}"
            agent = EconAgent(
                index=index, identity=Identity.derive(sc.seed, index, label=label),
                role=Role(group.role), policy=policy, label=label, group=name,
                policy_name=group.policy, params=group_params, strict=strict,
                limits=limits)
            model.add(agent)
            agents.append(agent)
            allocations.append(Allocation(address=agent.address,
                                          amount=to_base_units(group.balance, dec)))
    owners = [a for a in agents if a.role is Role.WORLD]
    if not owners:
        raise ScenarioError(src, "agents", "no agent has role = \"world\" to own the twin; add "
                            "an [[agents]] group with role = \"world\" and policy = \"idle\"")
    if sum(a.amount for a in allocations) > params.supply_cap:
        raise ScenarioError(src, "agents", "the genesis balances exceed ledger.supply_cap; "
                            "lower the balances or raise the cap")
    for agent in agents:  # a reset that fails is a fault of tick 0, and the run goes on
        if agent.reset(model.seeds.integer(Stream.POLICY_RESET, agent.index)) is not None:
            model.fault(agent, f"{agent.label} ({agent.policy_name}): {agent.last_fault}")
    # the rpc backend signs each agent's raw transactions with its key and funds its gas
    ledger.enroll([protocol, treasury, market, *(a.identity for a in agents)])
    assets, pools = _ip(sc, src, agents, owners[0].address, twin_key(twin))
    try:
        model.genesis(allocations, twin_owner=owners[0].address,
                      licence_per_cu=to_base_units(sc.twin.licence_per_cu, dec),
                      assets=assets, pools=pools)
    except GenesisError as e:
        raise ScenarioError(src, _GENESIS_KEYS.get(e.op_kind, "agents"), str(e)) from None
    return Built(scenario=sc, model=model, agents=agents)


def policy_limits(sc: Scenario, group: AgentGroup) -> PolicyLimits:
    """Where a group's policy runs and its budget: the group's own keys, else `[policies]`."""
    p = sc.policies
    return PolicyLimits(
        isolation=Isolation(group.isolation or p.isolation),
        time_limit_ms=p.time_limit_ms if group.time_limit_ms is None else group.time_limit_ms,
        memory_limit_mb=(p.memory_limit_mb if group.memory_limit_mb is None
                         else group.memory_limit_mb),
        retries=p.retries if group.retries is None else group.retries)


def check(loaded: LoadedScenario) -> None:
    """Everything `build` would refuse, found without building every agent (`twinecon validate`).

    Builds a stand-in of the scenario: one agent per group (its policy and params loaded
    once), the rules and ledger parameters, the twin, and genesis on the memory ledger
    (signatures off: they do not change what genesis allows), each asset's and pool's owner
    label that names an agent standing for agent 0 of its group (genesis asks nothing of an
    owner but that it exists). What grows with the number of agents is checked by
    arithmetic: the genesis balances against ledger.supply_cap. So its cost grows with the
    groups, assets and pools, not the agents; no contract is deployed and no node is asked.

    Raises:
        ScenarioError: what `build` would raise for the same scenario, naming its key.
    """
    sc, src = loaded.scenario, loaded.source
    build(LoadedScenario(_stand_in(sc), src, loaded.base_dir))
    dec = sc.ledger.decimals
    minted = sum(to_base_units(g.balance, dec) * g.count for g in sc.agents)
    if minted > to_base_units(sc.ledger.supply_cap, dec):
        raise ScenarioError(src, "agents", "the genesis balances exceed ledger.supply_cap; "
                            "lower the balances or raise the cap")


def _stand_in(sc: Scenario) -> Scenario:
    """`sc` with one agent per group on the memory ledger, signatures off, owner labels moved
    to agent 0 of a group they name (for `check`)."""
    counts: dict[str, int] = {}  # labels "<name>-<k>" exist for k below the largest count
    for g in sc.agents:
        name = g.label or g.role
        counts[name] = max(counts.get(name, 0), g.count)

    def owner(label: str | None) -> str | None:
        name, _, index = (label or "").rpartition("-")
        if index.isascii() and index.isdigit() and str(int(index)) == index \
                and int(index) < counts.get(name, 0):
            return f"{name}-0"
        return label  # names no agent: build says so, suggesting near matches

    return sc.model_copy(update={
        "ledger": sc.ledger.model_copy(update={"backend": "memory", "signatures": "off"}),
        "agents": [g.model_copy(update={"count": 1}) for g in sc.agents],
        "assets": [a.model_copy(update={"owner": owner(a.owner)}) for a in sc.assets],
        "pools": [p.model_copy(update={"owner": owner(p.owner)}) for p in sc.pools],
    })


#: The scenario key a refused genesis action comes from, by ledger operation.
_GENESIS_KEYS = {
    "stake": "rules.compute.min_stake",
    "set_licence": "twin.licence_per_cu",
    "register_asset": "assets",
    "link_asset": "assets",
    "create_pool": "pools",
}


def _check_graph(src: str, i: int, key: str, bps: int, parents: list[str],
                 graph: dict[str, Asset]) -> None:
    """The ledger's limits on the royalty graph, checked with a message naming the asset."""
    if len(parents) > MAX_PARENTS or len(set(parents)) < len(parents):
        raise ScenarioError(src, f"assets[{i}].parents", f"at most {MAX_PARENTS} distinct "
                            f"parents, got {parents}")
    graph[key] = Asset(key=key, kind="", owner="", content_hash=b"", royalty_bps=bps,
                       parents=tuple(parents))
    problem = graph_problem(key, graph.__getitem__)
    if problem:
        raise ScenarioError(src, f"assets[{i}].parents", f"{problem}; lower the ancestors' "
                            "royalty_bps or link fewer parents")


def _rules(sc: Scenario, src: str) -> Rules:
    """The scenario's protocol rules (token amounts in base units), one per `[rules.*]` table.

    Raises:
        ScenarioError: a combination of values no rule allows, naming its table.
    """
    dec = sc.ledger.decimals
    built: dict[str, Any] = {}
    for section, rule in SECTIONS.items():
        table = getattr(sc.rules, section)
        values = {spec.name: (to_base_units(getattr(table, spec.name), dec)
                              if spec.unit == "base_units" else getattr(table, spec.name))
                  for spec in specs(rule)}
        try:
            built[section] = rule(**values)
        except RuleError as e:
            raise ScenarioError(src, f"rules.{section}", f"{e}; lower one of them") from None
    return Rules(**built)


def _ip(sc: Scenario, src: str, agents: list[EconAgent], world: str,
        twin_key: str) -> tuple[list[AssetGrant], list[PoolGrant]]:
    """The assets and pools of genesis, with owners resolved from agent labels.

    Raises:
        ScenarioError: an unknown owner label or parent key, naming the key.
    """
    by_label = {a.label: a.address for a in agents}

    def owner_of(label: str | None, key: str, default: str | None = None) -> str:
        if label is None and default is not None:
            return default
        if label not in by_label:
            raise ScenarioError(src, key, f"no agent is labelled {label!r}"
                                f"{suggest(str(label), list(by_label))}; agent labels are "
                                "the group's label (or role) and an index, such as data-0")
        return by_label[label]

    def resolve(key: str) -> str:
        return twin_key if key == "twin" else key

    dec = sc.ledger.decimals
    assets: list[AssetGrant] = []
    known: set[str] = set()
    graph: dict[str, Asset] = {}
    for i, a in enumerate(sc.assets):
        key = resolve(a.key)
        if a.kind == "twin" and key != twin_key:
            raise ScenarioError(src, f"assets[{i}].key", f"a twin asset's key is the "
                                f"scenario's twin, {twin_key!r} (or \"twin\"); got {a.key!r}")
        for parent in a.parents:
            if resolve(parent) not in known:
                raise ScenarioError(src, f"assets[{i}].parents", f"{parent!r} is not an asset "
                                    "listed before this one; list parents first")
        owner = owner_of(a.owner, f"assets[{i}].owner", world if a.kind == "twin" else None)
        _check_graph(src, i, key, a.royalty_bps, [resolve(p) for p in a.parents], graph)
        content = hashlib.sha256((a.content or key).encode()).digest()
        assets.append(AssetGrant(owner=owner, key=key, kind=a.kind, content_hash=content,
                                 royalty_bps=a.royalty_bps,
                                 parents=tuple(resolve(p) for p in a.parents)))
        known.add(key)
    pools = [PoolGrant(owner=owner_of(p.owner, f"pools[{i}].owner"), key=p.key,
                       price_per_unit=to_base_units(p.price_per_unit, dec),
                       owner_fee_bps=p.owner_fee_bps)
             for i, p in enumerate(sc.pools)]
    return assets, pools


def _build_twin(sc: Scenario, src: str) -> ServiceTwin:
    """The scenario's twin, made by the kind's registered spec builder and class.

    Raises:
        ScenarioError: a kind that cannot be loaded, or spec parameters its builder refuses.
    """
    kind = sc.twin.kind
    try:
        accepted = registry.spec_params(kind)
    except (WorldError, ImportError) as e:
        raise ScenarioError(src, "twin.kind", f"twin kind {kind!r} is not available in this "
                            f"installation ({e})") from None
    for k in sc.twin.params:
        if k not in accepted:
            raise ScenarioError(src, f"twin.params.{k}", f"unknown {kind} parameter"
                                f"{suggest(k, accepted)}; allowed: {', '.join(accepted)}")
    names = {"name": sc.twin.name} if sc.twin.name else {}
    try:
        return registry.make(kind, **names, version=sc.twin.version, **sc.twin.params)
    except (InvalidSpec, TypeError, ValueError) as e:
        raise ScenarioError(src, "twin.params", str(e)) from None