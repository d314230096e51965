"""A conformance checker a policy author runs on their own policy before putting it in a run.

``check_policy(policy, role=...)`` plays the policy in a seat of its role in a short scenario
(by default the built-in `DEFAULT_SCENARIO`, which has a seat of every role) on the memory
ledger with signatures off, twice with the same seed, and checks what a run would otherwise
find out tick by tick:

- it never raises, from `reset` or `act` (what it raises is named with its file and line);
- `act` returns a list of actions ([] for none), each an instance of one of the economy's
  action classes (`economy.actions`), each taken in as the model takes it in
  (`economy.intake.take_in`: plain values, numbers within the ledger's ranges, the twin's plans);
- it is deterministic under its seed: the second run's actions equal the first's, tick by
  tick (the economy around it is deterministic, so a difference is the policy's);
- every call stays within the time budget (the scenario's `[policies] time_limit_ms`, or
  `budget_ms`), as a run enforces it: a call over it is stopped and fails the check. The
  slowest call is reported against the budget either way.

Every failure is a `PolicyCheckFailed` saying what was checked, what was expected, what was
got and how to fix it; the first one found is raised. A policy that passes gets a
`PolicyReport` (its actions by type, the ones the market refused with their reasons, the
slowest call). Refusals by the market (a bid on a job already awarded, too little money) are
not failures: they are the economy's answer to a valid action, and are reported.

It is the top of the tree, as a test harness is: it builds a scenario, so it imports
`scenarios` when it runs (never when `agents` or this module is imported).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents._budget import call_with_budget
from agents.errors import AgentError, PolicyLoadError
from agents.faults import describe_exception
from agents.limits import SelfTimed

if TYPE_CHECKING:
    from agents.agent import EconAgent
    from scenarios.loading import LoadedScenario

__all__ = ["BUILTIN_ROLES", "DEFAULT_SCENARIO", "DEFAULT_TICKS", "PolicyCheckFailed",
           "PolicyReport", "builtin_role", "check_policy"]

#: The built-in scenario a policy is checked in unless another is given: it has a seat of
#: every role (customers, providers, evaluators, compute sellers, data contributors, world).
DEFAULT_SCENARIO = "warehouse-market"
#: Ticks a check plays (each run): long enough for a seat in the default scenario to see
#: orders arrive and jobs posted, awarded, delivered and judged (about 0.3 s a run there).
DEFAULT_TICKS = 40
#: The label of the checked policy's seat (its agent is "checked-0").
SEAT = "checked"
#: The most characters of a value a failure message shows.
_SHOWN = 300

#: The role each built-in policy class (`agents.builtin.BUILTIN`) plays, by class name; None
#: for one that plays any role it is given (its seat's role must be named).
BUILTIN_ROLES: dict[str, str | None] = {
    "Customer": "customer", "ValueCustomer": "customer", "ServiceProvider": "provider",
    "AdaptiveProvider": "provider", "Evaluator": "evaluator", "PricedEvaluator": "evaluator",
    "ComputeSeller": "compute", "UtilisationSeller": "compute", "Idle": "world",
    "DataContributor": "data", "LLMPolicy": None,
}

PolicyLike = str | type | Callable[[], Any]


class PolicyCheckFailed(AgentError, AssertionError):
    """A policy failed one of `check_policy`'s checks.

    Attributes:
        what: what was checked ("act at tick 3, action [1] (Bid)").
        expected: what it should have been.
        got: what it was.
        fix: what to change.
    """

    def __init__(self, what: str, expected: str, got: str, fix: str) -> None:
        super().__init__(f"check_policy: {what}: expected {expected}, got {got}; {fix}")
        self.what = what
        self.expected = expected
        self.got = got
        self.fix = fix


@dataclass(frozen=True, slots=True)
class PolicyReport:
    """What a policy that passed did in its check.

    Attributes:
        policy: the policy as named ("examples/undercutter.py:Undercutter").
        role: the seat's role.
        scenario: the scenario's name.
        seed: the seed both runs used.
        ticks: ticks played (each run).
        calls: `act` calls (each run).
        actions: actions returned, by type (first run).
        refused: actions the market refused, by "Type:reason code" (a market rule's) or
            "ledger operation:code" (the ledger's), first run.
        slowest_ms: the slowest `act` call's wall time, ms; slowest_tick: its tick.
        budget_ms: the time budget per call (0: none).
        self_timed: the policy keeps its own deadlines (a remote, subprocess or llm policy:
            `agents.limits.SelfTimed`), as in a run: the budget is not laid over its calls.
    """

    policy: str
    role: str
    scenario: str
    seed: int
    ticks: int
    calls: int
    actions: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    slowest_ms: float = 0.0
    slowest_tick: int = 0
    budget_ms: int = 0
    self_timed: bool = False

    def __str__(self) -> str:
        n = sum(self.actions.values())
        by_type = ", ".join(f"{k} {v}" for k, v in sorted(self.actions.items(),
                                                          key=lambda kv: (-kv[1], kv[0])))
        refused = sum(self.refused.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.refused.items(),
                                                          key=lambda kv: (-kv[1], kv[0])))
        budget = f"{self.budget_ms} ms" if self.budget_ms else "none"
        if self.self_timed:
            budget += " (not laid over it: it keeps its own deadlines)"
        note = ["  note: the market refused every action it returned; see the reasons"] \
            if n and refused >= n else []
        return "\n".join([
            f"{self.policy}: passed",
            f"  seat: {self.role} in {self.scenario} (memory ledger, seed {self.seed}, "
            f"{self.ticks} ticks, played twice: same actions)",
            f"  actions: {n}" + (f" ({by_type})" if n else "")
            + f"; refused by the market: {refused}" + (f" ({reasons})" if refused else ""),
            f"  slowest act call: {self.slowest_ms:.1f} ms at tick {self.slowest_tick}; "
            f"budget per call: {budget}",
            *note,
        ])


def builtin_role(cls: type) -> str | None:
    """The role a built-in policy class plays, or None for any other class (or a built-in
    that plays any role)."""
    from agents.builtin import BUILTIN

    if cls in BUILTIN.values():
        return BUILTIN_ROLES.get(cls.__name__)
    return None


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except BaseException:
        text = f"a {type(value).__name__} (its repr raised)"
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


@dataclass(slots=True)
class _Subject:
    """What is checked: how to make a fresh policy, and how it is named."""

    name: str
    ref: str | None  # a reference: the seat is built by the scenario (its params, its units)
    make: Callable[[], Any] | None  # a class or factory: the seat gets what this returns
    cls: type | None


def _subject(policy: PolicyLike, params: Mapping[str, Any] | None,
             base_dir: Path | None) -> _Subject:
    from agents.loading import instantiate, resolve_policy_class

    if isinstance(policy, str):
        from agents.remote import is_remote_ref

        if is_remote_ref(policy):  # a URL or a command: its client is built by the scenario
            return _Subject(policy, policy, None, None)
        ref = policy
        target, sep, name = ref.rpartition(":")
        if sep and target.endswith(".py") and not Path(target).is_absolute():
            for folder in ([base_dir] if base_dir is not None else []) + [Path.cwd()]:
                if (folder / target).is_file():  # the scenario's folder is not the user's
                    ref = f"{(folder / target).resolve()}:{name}"
                    break
        cls = resolve_policy_class(ref, base_dir=base_dir)
        return _Subject(policy, ref, None, cls)
    if inspect.isclass(policy):
        if not callable(getattr(policy, "act", None)):
            raise PolicyLoadError(f"{policy.__qualname__}: a policy class needs an "
                                  "act(observation) method")
        cls, kwargs = policy, dict(params or {})
        name = f"{cls.__module__}:{cls.__qualname__}"

        def make() -> Any:
            return instantiate(cls, kwargs, ref=name)

        return _Subject(name, None, make, cls)
    if callable(policy) and not callable(getattr(policy, "act", None)):
        if params:
            raise PolicyLoadError("params are for a policy class or reference; a factory "
                                  "makes its policy itself: bind them in the factory")
        name = getattr(policy, "__qualname__", None) or _short(policy)

        def made() -> Any:
            try:
                return policy()
            except Exception as e:
                raise PolicyLoadError(f"the policy factory {name} raised "
                                      f"{describe_exception(e, None)}") from None

        return _Subject(name, None, made, None)
    raise PolicyLoadError(f"check_policy takes a policy class, a 'package.module:Class' or "
                          f"'path/to/file.py:Class' reference, or a factory returning a fresh "
                          f"policy; got {_short(policy)}: pass its class, or lambda: "
                          f"{type(policy).__name__}(...), since each run needs a fresh one")


def _role(subject: _Subject, role: str | None) -> str:
    from economy import Role

    roles = ", ".join(r.value for r in Role)
    if role is None:
        declared = getattr(subject.cls, "role", None) if subject.cls is not None else None
        role = builtin_role(subject.cls) if subject.cls is not None else None
        role = role or (str(declared) if isinstance(declared, str) else None)
    if role is None:
        raise PolicyLoadError(f"{subject.name}: which role's seat should it play? pass "
                              f"role= (--role): one of {roles}; or give its class a role "
                              "attribute, such as role = \"provider\"")
    if role not in {r.value for r in Role}:
        raise PolicyLoadError(f"{subject.name}: role {role!r} is not one of {roles}")
    return role


def _scenario(scenario: str | Path | LoadedScenario | None) -> LoadedScenario:
    from scenarios.loading import LoadedScenario, load_scenario

    if isinstance(scenario, LoadedScenario):
        return scenario
    return load_scenario(DEFAULT_SCENARIO if scenario is None else scenario)


def _seated(loaded: LoadedScenario, subject: _Subject, role: str, *, ticks: int,
            seed: int | None, params: Mapping[str, Any] | None,
            budget_ms: int) -> LoadedScenario:
    """`loaded` on the memory ledger, signatures off, `ticks` long, with one more agent: the
    seat (label `SEAT`, the role's first group's balance, in this process)."""
    from scenarios.loading import validate_scenario

    data = loaded.scenario.model_dump()
    data["ledger"]["backend"] = "memory"
    data["ledger"]["signatures"] = "off"
    data["ticks"] = ticks
    if seed is not None:
        data["seed"] = seed
    peers = [g for g in data["agents"] if g["role"] == role]
    seat: dict[str, Any] = {"role": role, "label": SEAT, "count": 1, "policy": "idle",
                            "balance": peers[0]["balance"] if peers else 50,
                            "isolation": "inprocess", "time_limit_ms": budget_ms}
    if subject.ref is not None:
        seat["policy"] = subject.ref
        same = next((g for g in peers if g["policy"] == subject.name), None)
        seat["params"] = dict(params) if params is not None else \
            dict(same["params"]) if same is not None else {}
    data["agents"].append(seat)
    return dataclasses.replace(loaded, scenario=validate_scenario(data, loaded.source))


def _build(loaded: LoadedScenario, subject: _Subject) -> Any:
    """The seated scenario built; a refusal of the seat's policy or params is a
    PolicyLoadError about the policy (not about a scenario key the user never wrote)."""
    from scenarios.build import build
    from scenarios.errors import ScenarioError

    seat = f"agents[{len(loaded.scenario.agents) - 1}]"
    try:
        return build(loaded)
    except ScenarioError as e:
        if not e.key.startswith(seat):
            raise
        problem = str(e).split(f"{e.key}: ", 1)[-1]
        if subject.ref is not None:  # as the user named it, not the path it was found at
            problem = problem.replace(subject.ref, subject.name)
        raise PolicyLoadError(f"{subject.name}: {problem}") from None


class _Run:
    """One play of the seated scenario: the checked policy's actions and times by tick."""

    def __init__(self, loaded: LoadedScenario, subject: _Subject, budget_ms: int,
                 label: str) -> None:
        self.loaded = loaded
        self.subject = subject
        self.budget_ms = budget_ms
        self.label = label  # "" for the first run, " (second run, same seed)"
        self.actions: list[tuple[Any, ...]] = []
        self.times: list[float] = []
        self.refused: Counter[str] = Counter()
        self.self_timed = False

    def _fail(self, what: str, expected: str, got: str, fix: str) -> PolicyCheckFailed:
        return PolicyCheckFailed(what + self.label, expected, got, fix)

    def _reset(self, built: Any, seat: EconAgent) -> None:
        """The policy's reset, as the run calls it: isolated, timed, its faults named."""
        from twinecon.seeds import Stream

        if self.subject.make is not None:  # (a reference is built and reset by the scenario)
            policy = self.subject.make()
            if not callable(getattr(policy, "act", None)):
                raise PolicyLoadError(f"{self.subject.name} made {_short(policy)}, which has "
                                      "no act(observation) method")
            seat.policy, seat.policy_name = policy, self.subject.name
            seat.reset(built.model.seeds.integer(Stream.POLICY_RESET, seat.index))
        if seat.last_fault is not None:
            raise self._fail("reset(seed)", "it to return without raising, within the "
                             "time budget", seat.last_fault, "fix the line named, or do "
                             "less in reset (it is called once, before tick 1)")

    def play(self, *, against: _Run | None = None) -> None:
        from economy import Decision

        built = _build(self.loaded, self.subject)
        try:
            seat = built.agents[-1]
            self._reset(built, seat)
            model = built.model
            plan_type = model.twin.plan_type
            for tick in range(1, self.loaded.scenario.ticks + 1):
                model.begin_tick()
                decisions = []
                for p in model.participants:
                    obs = model.observe(p)
                    if p is seat:
                        mine = self._act(seat.policy, obs, tick, plan_type)
                        decisions.append((p, Decision(mine)))
                    else:
                        decisions.append((p, p.decide(obs)))
                if against is not None:
                    self._compare(against, tick, mine)
                self.actions.append(mine)
                model.resolve(decisions)
                model.end_tick()
            self._count_refused(model, seat.address)
        finally:
            built.close()

    def _act(self, policy: Any, obs: Any, tick: int, plan_type: type) -> tuple[Any, ...]:
        from agents.agent import ACTION_CLASSES, MAX_ACTIONS
        from economy.errors import ActionRejected
        from economy.intake import ACTION_TYPES, take_in

        # a self-timed policy (remote, llm) keeps its own deadlines, as in a run
        self.self_timed = isinstance(policy, SelfTimed)
        budget = 0 if self.self_timed else self.budget_ms
        try:
            out, took, stopped = call_with_budget(policy.act, obs, limit_ms=budget)
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            raise self._fail(f"act at tick {tick}", "a list of actions, nothing raised",
                             describe_exception(e, policy), "fix the line named, or catch "
                             "what you expect to go wrong inside act (a run drops the "
                             "tick's actions and records a policy_fault)") from None
        self.times.append(took)
        if stopped or (budget and took > budget):
            how = "stopped after" if stopped else "took"
            raise self._fail(f"act at tick {tick}", f"a call within its time budget of "
                             f"{budget} ms", f"{how} {took:.0f} ms", "do less per call (a "
                             "run stops the call and records a policy_fault), or raise "
                             "[policies] time_limit_ms (--budget-ms here)")
        if type(out) is not list and type(out) is not tuple:
            raise self._fail(f"act at tick {tick}", "a list of actions ([] for none)",
                             f"{type(out).__name__}: {_short(out)}",
                             "return a list, even an empty one")
        if len(out) > MAX_ACTIONS:
            raise self._fail(f"act at tick {tick}", f"at most {MAX_ACTIONS} actions",
                             f"{len(out)}", "return fewer actions per tick")
        taken = []
        for i, action in enumerate(out):
            kind = type(action)
            if kind not in ACTION_CLASSES:
                raise self._fail(f"act at tick {tick}, action [{i}]", "an instance of one of "
                                 f"the economy's action classes ({', '.join(ACTION_TYPES)})",
                                 f"{kind.__name__}: {_short(action)}", "build actions from "
                                 "economy's own classes (subclasses are refused)")
            try:
                taken.append(take_in(action, plan_type))
            except ActionRejected as e:
                raise self._fail(f"act at tick {tick}, action [{i}] ({kind.__name__})",
                                 "plain field values within the ledger's ranges "
                                 "(economy.intake)", f"{e.code}: {e}", "return ints within "
                                 "the field's range, plain values and the twin's own plans "
                                 "(a run rejects the action)") from None
            except Exception as e:
                raise self._fail(f"act at tick {tick}, action [{i}] ({kind.__name__})",
                                 "fields of the types the action declares",
                                 describe_exception(e), "give each field a value of the "
                                 "type its class declares (a run rejects the action)"
                                 ) from None
        return tuple(taken)

    def _compare(self, first: _Run, tick: int, mine: tuple[Any, ...]) -> None:
        theirs = first.actions[tick - 1]
        if mine == theirs or repr(mine) == repr(theirs):
            return
        raise PolicyCheckFailed(
            f"act at tick {tick}, played twice with seed {self.loaded.scenario.seed}",
            f"the same actions both times: {_short(list(theirs))}",
            _short(list(mine)),
            "draw randomness only from obs.rng (or a generator seeded by reset(seed)); no "
            "global random, time, id(), hash() of str, or set order; keep state on the "
            "instance, not on the class or module")

    def _count_refused(self, model: Any, address: str) -> None:
        events = model.settler.events.to_arrow().select(["kind", "payer", "detail"])
        for kind, payer, detail in zip(*(events.column(c).to_pylist()
                                         for c in ("kind", "payer", "detail")), strict=True):
            if payer != address:
                continue
            if kind == "action_rejected":  # a market rule's "Bid:code: why"
                self.refused[":".join(str(detail).split(":", 2)[:2])] += 1
            elif kind == "rejected":  # the ledger's "operation:code"
                self.refused[f"ledger {detail}"] += 1


def check_policy(policy: PolicyLike, *, scenario: str | Path | LoadedScenario | None = None,
                 role: str | None = None, ticks: int = DEFAULT_TICKS,
                 params: Mapping[str, Any] | None = None, seed: int | None = None,
                 budget_ms: int | None = None, base_dir: Path | None = None) -> PolicyReport:
    """Check a policy in a seat of its role; return its report if every check passes.

    Args:
        policy: a policy class, a reference as a scenario names one ("provider",
            "package.module:Class", "path/to/file.py:Class", a remote policy's
            "http://host:port/path" or a subprocess's "exec:command"), or a factory returning
            a fresh policy (each of the two runs needs its own).
        scenario: a built-in scenario's name, a scenario file, or a `LoadedScenario` (None:
            `DEFAULT_SCENARIO`). It is played on the memory ledger with signatures off.
        role: the seat's role (None: a built-in's own, or the class's `role` attribute).
        ticks: ticks to play, each run.
        params: the policy's params: a reference's as a scenario writes them (None: those of
            the scenario's group of the role running the same reference, if any); a class's
            as its constructor takes them. Not for a factory.
        seed: the seed of both runs (None: the scenario's).
        budget_ms: the time budget per call (None: the scenario's `[policies] time_limit_ms`;
            0: none).
        base_dir: the folder a relative "file.py:Class" is found in first (then the working
            folder).

    Returns:
        The report: actions by type, the market's refusals, the slowest call.

    Raises:
        PolicyCheckFailed: the first check that fails, with what, expected, got and fix.
        PolicyLoadError: a policy that cannot be loaded or built with its params, or no role.
        ScenarioError: a scenario that cannot be loaded.
    """
    if ticks < 1:
        raise PolicyLoadError(f"ticks must be at least 1, got {ticks}")
    subject = _subject(policy, params, base_dir)
    seat_role = _role(subject, role)
    loaded = _scenario(scenario)
    budget = loaded.scenario.policies.time_limit_ms if budget_ms is None else budget_ms
    if not 0 <= budget <= 3_600_000:
        raise PolicyLoadError(f"budget_ms must be from 0 (none) to 3600000 (an hour), got "
                              f"{budget}")
    seated = _seated(loaded, subject, seat_role, ticks=ticks, seed=seed, params=params,
                     budget_ms=budget)
    first = _Run(seated, subject, budget, "")
    first.play()
    second = _Run(seated, subject, budget, " (second run, same seed)")
    second.play(against=first)
    slowest = max(range(len(first.times)), key=first.times.__getitem__)
    kinds = Counter(type(a).__name__ for tick in first.actions for a in tick)
    return PolicyReport(
        policy=subject.name, role=seat_role, scenario=seated.scenario.name,
        seed=seated.scenario.seed, ticks=ticks, calls=len(first.times), actions=dict(kinds),
        refused=dict(first.refused), slowest_ms=first.times[slowest],
        slowest_tick=slowest + 1, budget_ms=budget, self_timed=first.self_timed)
