"""Attacks on the simulator by its own policies, as an attacker would write them: none reaches
another agent's key, changes what another agent sees, ends the run, or gets a hostile action
past the rules; on the reference ledger and on the contracts.

Policies here run in this process (`isolation = "inprocess"`, the default, for trusted code):
the guarantees tested are the ones the observation and the policy boundary give. Process
isolation, for untrusted code, is tested in test_process_isolation.
"""

from __future__ import annotations

import copy
import gc
import types
from pathlib import Path

import pytest

import scenarios
from chain import Identity, MemoryLedger
from chain.contract_ledger import ContractLedger
from economy import EconomyModel

BACKENDS = ["memory", "evm"]

ATTACKS = '''
import gc, os, time
from economy import Bid, BuyCompute, Pay, PostJob, Simulate, Submit
from agents import ServiceProvider, Customer


class Rewriter(ServiceProvider):
    """A hasty provider that first tries to rewrite every job it can see so that its untested
    plans pass: it swallows its own failures and then bids as usual."""

    def act(self, obs):
        for job in (*obs.open_jobs, *obs.jobs):
            for target, field, value in ((job, "max_time_ms", 10**12), (job, "budget", 10**30),
                                         (job.order, "lines", ()), (obs, "balance", 10**30)):
                try:
                    object.__setattr__(target, field, value)
                except (AttributeError, TypeError):
                    pass
        return super().act(obs)


class Exiter:
    def act(self, obs):
        raise SystemExit(0)


class Based:
    def act(self, obs):
        raise BaseException("not an Exception")


class Generator:
    def act(self, obs):
        return (a for a in [])


class EvilList(list):
    def __iter__(self):
        raise SystemExit("iterated")

    def __len__(self):
        raise SystemExit("measured")


class Lister:
    def act(self, obs):
        return EvilList([Bid(job_id=1, price=1)])


class SubBid(Bid):
    pass


class Subclasser:
    def act(self, obs):
        return [SubBid(job_id=1, price=1)]


class Flooder:
    def act(self, obs):
        return [Bid(job_id=1, price=1)] * 1_000_000


class BadReset:
    def reset(self, seed):
        raise SystemExit("reset")

    def act(self, obs):
        return []


class Unprintable(Exception):
    def __str__(self):
        raise SystemExit("str")


class RaisesUnprintable:
    def act(self, obs):
        raise Unprintable()


class Sleeper:
    def act(self, obs):
        time.sleep(120)
        return []


class Spinner:
    def act(self, obs):
        while True:
            pass


class EvilInt(int):
    def __eq__(self, other):
        raise SystemExit("compared")

    __hash__ = int.__hash__

    def __index__(self):
        raise SystemExit("indexed")


class HostileActions:
    """Every action out of the ledger's range or of a shape no rule foresaw."""

    def __init__(self):
        self.n = 0

    def act(self, obs):
        self.n += 1
        job = obs.open_jobs[0].job_id if obs.open_jobs else 1
        plan = obs.planner.solve(obs.open_jobs[0].order, obs.planner.baseline_method) \\
            if obs.open_jobs else None
        out = [BuyCompute(cu=10**9, max_price_per_cu=2**256),
               BuyCompute(cu=2**300),
               Bid(job_id=job, price=2**300),
               Bid(job_id=2**70, price=1),
               Bid(job_id=job, price=EvilInt(5)),
               PostJob(order_id="x" * 100_000, budget=1),
               PostJob(order_id="o", budget=-1),
               Pay(to="0x" + "ff" * 20, amount=-5),
               Pay(to=EvilInt(3), amount=1)]
        if plan is not None:
            out += [Submit(job_id=job, plan=type(plan)(plan.solver, (EvilInt(0),))),
                    Simulate(job_id=job, plans=[plan] * 3 + ["not a plan"]),
                    Simulate(job_id=job, plans=EvilList([plan]))]
        return out
'''


def _scenario(small_market, write_toml, tmp_path, groups, *, backend, ticks=6,
              name="attacks", **extra):
    (tmp_path / "attacks.py").write_text(ATTACKS)
    data = copy.deepcopy(small_market)
    data["ledger"] = {**data["ledger"], "backend": backend, "signatures": "verify"}
    data["ticks"] = ticks
    data["agents"][2:2] = groups
    data.update(extra)
    return write_toml(data, name)


def _walk(root: object) -> list[object]:
    """Every object reachable from `root` through attributes, slots, containers, closures,
    bound methods' `__self__` and the garbage collector's referents, but not through classes,
    modules or a function's globals (which reach the whole interpreter from any object)."""
    seen: dict[int, object] = {}
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType):
            continue
        seen[id(obj)] = obj
        if isinstance(obj, types.FunctionType):
            stack.extend(c.cell_contents for c in obj.__closure__ or ())
            stack.extend(obj.__defaults__ or ())
            continue
        if isinstance(obj, types.MethodType | types.BuiltinMethodType):
            stack.append(getattr(obj, "__self__", None))
            stack.append(getattr(obj, "__func__", None))
            continue
        stack.extend(r for r in gc.get_referents(obj) if r is not None)
        for name in getattr(type(obj), "__slots__", ()):
            stack.append(getattr(obj, name, None))
    return list(seen.values())


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_key_ledger_or_model_is_reachable_from_an_observation(small_market, write_toml,
                                                                   tmp_path, backend) -> None:
    """From any agent's observation (its planner included) no Identity, ledger, model or
    other agent is reachable: a policy has nothing to sign another agent's transfer with."""
    built = scenarios.build(scenarios.load_scenario(
        _scenario(small_market, write_toml, tmp_path, [], backend=backend)))
    for _ in range(6):
        built.model.step()
    forbidden = (Identity, MemoryLedger, ContractLedger, EconomyModel, type(built.agents[0]))
    for agent in built.agents:
        obs = built.model.observe(agent)
        found = [type(o).__name__ for o in _walk(obs) if isinstance(o, forbidden)]
        assert found == [], f"{agent.label}'s observation reaches {sorted(set(found))}"
        assert obs.planner is built.model.planner and obs.planner._twin is not built.model.twin


@pytest.mark.parametrize("backend", BACKENDS)
def test_rewriting_what_a_policy_sees_changes_nothing(small_market, write_toml, tmp_path,
                                                      backend) -> None:
    """A provider that tries to rewrite the jobs, orders and balance it observes (with
    object.__setattr__, the way round a frozen dataclass) changes nothing: every value is a
    tuple, and the run is the one a plain hasty provider makes, byte for byte."""
    hasty = {"role": "provider", "label": "hasty", "balance": 50,
             "params": {"candidates": 0, "solvers": ["s_shape"], "base_fee": "0.01 tokens"}}
    plain = scenarios.build(scenarios.load_scenario(_scenario(
        small_market, write_toml, tmp_path, [{**hasty, "policy": "provider"}], backend=backend,
        ticks=20, name="plain")))
    rewriting = scenarios.build(scenarios.load_scenario(_scenario(
        small_market, write_toml, tmp_path, [{**hasty, "policy": "attacks.py:Rewriter"}],
        backend=backend, ticks=20, name="rewriting")))
    for _ in range(20):
        plain.model.step()
        rewriting.model.step()
    a, b = plain.model.summary(), rewriting.model.summary()
    assert a["jobs_completed"] > 0 and a["bids"] > 0
    assert a == b


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_policies_never_end_the_run(small_market, write_toml, tmp_path, run,
                                            read_table, backend) -> None:
    """Policies that raise SystemExit or a bare BaseException, return a generator, a list
    subclass whose __iter__ and __len__ raise SystemExit, an action subclass, an exception
    whose __str__ raises, a million actions, or whose reset raises SystemExit: each is a
    recorded policy_fault naming the agent, and the run finishes with every output."""
    names = ["Exiter", "Based", "Generator", "Lister", "Subclasser", "RaisesUnprintable",
             "Flooder", "BadReset"]
    groups = [{"role": "provider", "label": n.lower(), "policy": f"attacks.py:{n}"}
              for n in names]
    result = run(_scenario(small_market, write_toml, tmp_path, groups, backend=backend,
                           ticks=16))
    assert all((result.out_dir / name).is_file() for name in scenarios.OUTPUTS)
    faults = read_table(result, "events").query("kind == 'policy_fault'")
    by_label = {label: faults[faults.detail.str.startswith(f"{label}-0 ")]
                for label in (n.lower() for n in names)}
    ticks = result.summary["ticks"]
    for label in ("exiter", "based", "generator", "lister", "subclasser", "raisesunprintable",
                  "flooder"):
        assert len(by_label[label]) == ticks, label
    assert len(by_label["badreset"]) == 1  # its reset, at tick 0
    assert by_label["exiter"].detail.str.contains("SystemExit").all()
    assert by_label["lister"].detail.str.contains("EvilList, not a list").all()
    assert by_label["subclasser"].detail.str.contains("SubBid among its actions").all()
    assert by_label["raisesunprintable"].detail.str.contains("could not be read").all()
    assert by_label["flooder"].detail.str.contains("1000000 actions, over the 10000").all()
    assert result.summary["jobs_completed"] > 0  # the honest agents traded on


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_actions_are_rejected_with_a_reason(small_market, write_toml, tmp_path, run,
                                                    read_table, backend) -> None:
    """Amounts beyond the ledger's words, negative amounts, ids over 64 bits, ints whose
    __eq__/__index__ raise SystemExit, plans that are not the twin's, huge strings: each is a
    rejected action with its reason (out_of_range, malformed, bad_plan), under the call market
    with signatures verified; the run goes on and the ledger's invariants hold every tick."""
    groups = [{"role": "provider", "label": "hostile", "policy": "attacks.py:HostileActions"}]
    path = _scenario(small_market, write_toml, tmp_path, groups, backend=backend, ticks=16,
                     rules={"compute": {"clearing": "call", "call_pricing": "bid"}})
    result = run(path)
    events = read_table(result, "events")
    rejected = events[events.kind == "action_rejected"]
    hostile = read_table(result, "agents").query("label == 'hostile-0'").address.iloc[0]
    mine = rejected[rejected.payer == hostile].detail
    for reason in ("BuyCompute:out_of_range", "Bid:out_of_range", "Bid:malformed",
                   "PostJob:malformed", "PostJob:out_of_range", "Pay:out_of_range",
                   "Pay:malformed",
                   "Submit:malformed", "Simulate:bad_plan", "Simulate:malformed"):
        assert mine.str.startswith(reason).any(), reason
    assert result.summary["policy_faults"] == 0
    assert result.summary["jobs_completed"] > 0


@pytest.mark.parametrize("policy", ["Sleeper", "Spinner"])
def test_a_policy_over_its_time_budget_is_stopped_and_recorded(small_market, write_toml,
                                                               tmp_path, run, read_table,
                                                               policy) -> None:
    """In this process a call over its budget is interrupted (a sleep of two minutes, a loop
    that never ends) and recorded as a fault; the run goes on (the test would hang if not)."""
    groups = [{"role": "provider", "label": "slow", "policy": f"attacks.py:{policy}",
               "time_limit_ms": 50}]
    result = run(_scenario(small_market, write_toml, tmp_path, groups, backend="memory",
                           ticks=3))
    faults = read_table(result, "events").query("kind == 'policy_fault'")
    assert len(faults) == 3 and faults.detail.str.contains("over its 50 ms budget").all()


def test_the_default_budget_is_far_above_what_built_in_policies_take() -> None:
    """The default time budget leaves room: built-in policies take milliseconds, the budget is
    seconds (an overrun is the one machine-dependent outcome of a run)."""
    from agents.limits import DEFAULT_LIMITS

    assert DEFAULT_LIMITS.time_limit_ms >= 5_000


def test_strict_still_raises_for_debugging(small_market, write_toml, tmp_path) -> None:
    """With --strict a policy's exception propagates (debugging), a SystemExit included."""
    groups = [{"role": "provider", "label": "exiter", "policy": "attacks.py:Exiter"}]
    path = _scenario(small_market, write_toml, tmp_path, groups, backend="memory", ticks=2)
    built = scenarios.build(scenarios.load_scenario(path), strict=True)
    with pytest.raises(SystemExit):
        built.model.step()


def test_scenario_keys_set_the_time_budget(small_market, write_toml, tmp_path) -> None:
    """[policies] time_limit_ms is every policy's budget unless its group sets its own."""
    groups = [{"role": "provider", "label": "own", "policy": "provider", "time_limit_ms": 7}]
    path = _scenario(small_market, write_toml, tmp_path, groups, backend="memory",
                     policies={"time_limit_ms": 1234})
    built = scenarios.build(scenarios.load_scenario(Path(path)))
    budgets = {a.label: a.limits.time_limit_ms for a in built.agents}
    assert budgets["own-0"] == 7 and budgets["customer-0"] == 1234
