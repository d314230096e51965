"""agents.check_policy: every built-in and example policy passes; a policy that raises, returns
something other than a list of actions, returns an action out of range, is not deterministic
under its seed or overruns its time budget fails with what was checked, what was expected,
what was got and the fix; bad input is a PolicyLoadError. And `twinecon check-policy`."""

from __future__ import annotations

import ast
import sys
import time
from pathlib import Path

import pytest

from agents import BUILTIN, PolicyCheckFailed, PolicyLoadError, PolicyReport, check_policy
from agents.builtin import DataContributor
from agents.checks import BUILTIN_ROLES, DEFAULT_TICKS, builtin_role
from economy import Bid, Observation, Role

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _example_policies() -> list[tuple[str, str]]:
    """(file name, class) of every class with an `act` method in examples/*.py, found in the
    source (an example that trains a model is not imported)."""
    found = []
    for path in sorted(EXAMPLES.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(f, ast.FunctionDef) and f.name == "act" for f in node.body):
                found.append((path.name, node.name))
    return found


#: The example of each role (its class names its role: check_policy finds its seat).
EXAMPLE_ROLES = {
    ("thrifty_customer.py", "ThriftyCustomer"): "customer",
    ("undercutter.py", "Undercutter"): "provider",
    ("rival_seller.py", "RivalSeller"): "compute",
    ("cost_evaluator.py", "CostEvaluator"): "evaluator",
    ("pool_contributor.py", "PoolContributor"): "data",
}
#: Other examples' roles, given to check_policy (their classes do not name one).
OTHER_ROLES = {("remote_policy_server.py", "Customer"): "customer"}


#: What a built-in that plays any role is checked with: the llm policy as a provider, with no
#: call to its endpoint allowed, so that it acts as its fallback (no network, no cache).
ANY_ROLE = {"llm": {"role": "provider", "params": {
    "base_url": "http://127.0.0.1:9", "model": "none", "max_calls_per_agent": 0,
    "cache": False, "fallback": "cost-plus"}}}


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_policy_passes(name: str) -> None:
    """Each built-in, in a seat of its own role in the default scenario (a data contributor
    with the scenario's own contributors' params: its pool)."""
    report = check_policy(name, **ANY_ROLE.get(name, {}))
    assert isinstance(report, PolicyReport)
    assert report.role == (builtin_role(BUILTIN[name]) or ANY_ROLE[name]["role"])
    assert (report.scenario, report.ticks, report.calls) == ("warehouse-market",
                                                             DEFAULT_TICKS, DEFAULT_TICKS)
    assert report.budget_ms == 10_000 and 0 <= report.slowest_ms
    assert 1 <= report.slowest_tick <= DEFAULT_TICKS
    assert str(report).startswith(f"{name}: passed\n  seat: {report.role} in warehouse-market")


def test_every_builtin_class_has_a_role() -> None:
    """A new built-in gets its role in BUILTIN_ROLES (None: it plays any role, and the test
    above says which it is checked in)."""
    for name, cls in BUILTIN.items():
        assert cls.__name__ in BUILTIN_ROLES, name
        if builtin_role(cls) is None:
            assert name in ANY_ROLE, name
        else:
            assert builtin_role(cls) in {r.value for r in Role}, name
    assert builtin_role(PolicyReport) is None


def test_the_examples_are_the_ones_documented() -> None:
    """One example policy per role (examples/every-role.toml seats them all)."""
    assert set(EXAMPLE_ROLES) <= set(_example_policies())
    assert sorted(EXAMPLE_ROLES.values()) == sorted(r.value for r in Role if r != Role.WORLD)


@pytest.mark.parametrize(("file", "cls"), _example_policies())
def test_every_example_policy_passes_in_the_seat_its_class_names(file: str, cls: str) -> None:
    """Each example passes, in the seat its `role` attribute names (or the one it is given),
    and acts."""
    report = check_policy(f"{EXAMPLES / file}:{cls}", role=OTHER_ROLES.get((file, cls)))
    assert report.role == {**EXAMPLE_ROLES, **OTHER_ROLES}[file, cls]
    assert sum(report.actions.values()) > 0
    assert sum(report.refused.values()) < sum(report.actions.values())


def test_every_example_acts_in_the_every_role_scenario(run, read_table) -> None:
    """examples/every-role.toml runs every example beside the built-ins without a fault, and
    each does its role's work: the customers post jobs, the provider delivers plans, the
    evaluator completes jobs, the seller's leases are claimed, the recorder contributes."""
    result = run(EXAMPLES / "every-role.toml")
    assert result.summary["policy_faults"] == 0
    events = read_table(result, "events")
    done = events.groupby(["payer_label", "kind"]).size()
    for label, kind in (("thrifty-0", "job_created"), ("thrifty-1", "job_created"),
                        ("undercutter-0", "job_submitted"), ("cost-0", "job_completed"),
                        ("rival-0", "lease_claimed"), ("recorder-0", "contributed")):
        assert done.get((label, kind), 0) > 0, (label, kind)


# -- policies that fail ------------------------------------------------------------------------

class _Quiet:
    role = "provider"

    def act(self, obs: Observation) -> list:
        return []


class _Raises(_Quiet):
    def act(self, obs: Observation) -> list:
        return [Bid(job_id=1, price=100 + 100 // (3 - obs.tick))]  # ZeroDivisionError at 3


RAISE_LINE = _Raises.act.__code__.co_firstlineno + 1


class _ReturnsDict(_Quiet):
    def act(self, obs: Observation) -> dict:  # type: ignore[override]
        return {"bid": 1}


class _ReturnsTuples(_Quiet):
    def act(self, obs: Observation) -> list:
        return [("Bid", 1, 5)]


class _MyBid(Bid):
    pass


class _ReturnsSubclass(_Quiet):
    def act(self, obs: Observation) -> list:
        return [Bid(job_id=1, price=1), _MyBid(job_id=1, price=1)]


class _OutOfRange(_Quiet):
    def act(self, obs: Observation) -> list:
        return [Bid(job_id=1, price=2**256)] if obs.tick == 2 else []


_CALLS = [0]  # module state: what one run leaves, the next sees


class _Nondeterministic(_Quiet):
    def act(self, obs: Observation) -> list:
        _CALLS[0] += 1
        return [Bid(job_id=1, price=_CALLS[0])]


class _SecondRunRaises(_Quiet):
    made = 0

    def __init__(self) -> None:
        type(self).made += 1
        self.mine = type(self).made

    def act(self, obs: Observation) -> list:
        if self.mine > 1 and obs.tick == 2:
            raise RuntimeError("only the second time")
        return []


class _Slow(_Quiet):
    def act(self, obs: Observation) -> list:
        time.sleep(30)  # far over a 50 ms budget: stopped at 50 ms
        return []


class _SlowReset(_Quiet):
    def reset(self, seed: int) -> None:
        time.sleep(30)


class _BadReset(_Quiet):
    def reset(self, seed: int) -> None:
        raise ValueError(f"cannot start from {seed % 3}")


def _failure(policy, **kw) -> PolicyCheckFailed:
    with pytest.raises(PolicyCheckFailed) as info:
        check_policy(policy, ticks=5, **kw)
    e = info.value
    assert str(e) == f"check_policy: {e.what}: expected {e.expected}, got {e.got}; {e.fix}"
    return e


def test_a_policy_that_raises_fails_naming_the_exception_file_and_line() -> None:
    e = _failure(_Raises)
    assert e.what == "act at tick 3"
    assert e.expected == "a list of actions, nothing raised"
    assert e.got.startswith("ZeroDivisionError: integer division or modulo by zero (at ")
    assert e.got.endswith(f"test_check_policy.py:{RAISE_LINE} in _Raises.act)")
    assert "fix the line named" in e.fix


@pytest.mark.parametrize(("cls", "what", "expected", "got"), [
    (_ReturnsDict, "act at tick 1", "a list of actions ([] for none)", "dict: {'bid': 1}"),
    (_ReturnsTuples, "act at tick 1, action [0]", "an instance of one of the economy's "
     "action classes (Bid, BuyCompute,", "tuple: ('Bid', 1, 5)"),
    (_ReturnsSubclass, "act at tick 1, action [1]", "an instance of one of the economy's",
     "_MyBid: _MyBid(job_id=1, price=1)"),
    (_OutOfRange, "act at tick 2, action [0] (Bid)", "plain field values within the ledger's "
     "ranges", "out_of_range: Bid.price must be in [0, "),
], ids=["non-list", "non-action", "action-subclass", "out-of-range"])
def test_what_a_run_would_refuse_fails(cls, what, expected, got) -> None:
    """A non-list, a non-action in the list, a subclass of an action, a number beyond the
    ledger's word: each named at its tick and index."""
    e = _failure(cls)
    assert e.what == what
    assert e.expected.startswith(expected)
    assert e.got.startswith(got)


def test_a_policy_not_deterministic_under_its_seed_fails() -> None:
    """State kept outside the instance: the second run's first tick differs."""
    e = _failure(_Nondeterministic)
    assert e.what.startswith("act at tick 1, played twice with seed 7")
    assert e.expected == "the same actions both times: [Bid(job_id=1, price=1)]"
    assert e.got == "[Bid(job_id=1, price=6)]"  # five calls in the first run
    assert "obs.rng" in e.fix


def test_a_failure_in_the_second_run_only_says_so() -> None:
    e = _failure(_SecondRunRaises)
    assert e.what == "act at tick 2 (second run, same seed)"
    assert "RuntimeError: only the second time" in e.got


def test_a_call_far_over_its_budget_is_stopped_and_fails() -> None:
    """A 30 s sleep under a 50 ms budget: stopped (so the test takes no time) and failed."""
    e = _failure(_Slow, budget_ms=50)
    assert e.what == "act at tick 1"
    assert e.expected == "a call within its time budget of 50 ms"
    assert e.got.startswith("stopped after ")
    assert "--budget-ms" in e.fix
    e = _failure(_SlowReset, budget_ms=50)
    assert e.what == "reset(seed)"
    assert e.got.startswith("reset was stopped after ")


def test_a_reset_that_raises_fails() -> None:
    e = _failure(_BadReset)
    assert e.what == "reset(seed)"
    assert "reset raised ValueError: cannot start from " in e.got
    assert "test_check_policy.py:" in e.got and "in _BadReset.reset)" in e.got


# -- what it takes -----------------------------------------------------------------------------

def test_a_class_with_params_a_factory_and_another_scenario() -> None:
    """A class with its constructor's params, a factory, a reference's params as a scenario
    writes them, another built-in scenario and seed, no time budget."""
    report = check_policy(DataContributor, role="data", params={"pool": "picks"}, ticks=3)
    assert report.actions == {"Contribute": 3} and report.refused == {}
    report = check_policy(lambda: DataContributor(pool="nopool"), role="data", ticks=3)
    assert report.refused == {"ledger contribute:invalid_state": 3}
    assert "refused every action" in str(report)
    report = check_policy("cost-plus", scenario="logistics-market", seed=3, ticks=4,
                          params={"candidates": 0}, budget_ms=0)
    assert (report.scenario, report.seed, report.budget_ms) == ("logistics-market", 3, 0)
    assert "budget per call: none" in str(report)


def test_a_subprocess_policy_is_checked_through_its_client() -> None:
    """An `exec:` reference (the example customer in another process, speaking the wire
    form): its client keeps its own deadlines, which the report says."""
    ref = f"exec:{sys.executable} {EXAMPLES / 'remote_policy_server.py'} --stdio"
    report = check_policy(ref, role="customer", ticks=4)
    assert report.self_timed and report.calls == 4
    assert "not laid over it: it keeps its own deadlines" in str(report)
    assert not check_policy("idle", ticks=2).self_timed


@pytest.mark.parametrize(("policy", "kw", "says"), [
    (_Quiet(), {}, "got <"),
    (type("NoRole", (), {"act": lambda self, obs: []}), {}, "which role's seat"),
    (_Quiet, {"role": "banker"}, "role 'banker' is not one of customer"),
    ("no_such_file.py:X", {}, "policy file 'no_such_file.py' not found"),
    ("provder", {}, "unknown policy 'provder'"),
    (lambda: _Quiet(), {"params": {"x": 1}}, "a factory makes its policy itself"),
    (DataContributor, {"role": "data", "params": {"pool": "p", "units": -1}},
     "param units = -1 is refused"),
    ("contributor", {"params": {"pool": "p", "unit": 1}}, "does not accept these params"),
    (_Quiet, {"ticks": 0}, "ticks must be at least 1"),
    (_Quiet, {"budget_ms": -1}, "budget_ms must be from 0 (none) to 3600000"),
    (lambda: 1 // 0, {"role": "data"}, "raised ZeroDivisionError"),
    (lambda: object(), {"role": "data"}, "which has no act(observation) method"),
], ids=["instance", "no-role", "bad-role", "missing-file", "unknown-builtin",
        "factory-params", "class-param-refused", "ref-param-unknown", "no-ticks",
        "bad-budget", "factory-raises", "factory-makes-no-policy"])
def test_bad_input_is_a_policy_load_error(policy, kw, says) -> None:
    with pytest.raises(PolicyLoadError) as info:
        check_policy(policy, **{"ticks": 2, **kw})
    assert says in str(info.value)
    assert not isinstance(info.value, PolicyCheckFailed)


# -- twinecon check-policy ---------------------------------------------------------------------

BROKEN_FILE = """\
from economy import Bid


class Raiser:
    def act(self, obs):
        raise KeyError("no job\\nat all")
"""


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from twinecon.cli import main

    code = main(["check-policy", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_cli_passes_with_the_report(capsys) -> None:
    code, out, err = _cli(capsys, str(EXAMPLES / "rival_seller.py") + ":RivalSeller",
                          "--ticks", "5", "--seed", "3")
    assert code == 0 and err == ""
    assert out.splitlines()[0].endswith("rival_seller.py:RivalSeller: passed")
    assert "seat: compute in warehouse-market (memory ledger, seed 3, 5 ticks" in out


def test_cli_fails_with_exit_1_and_one_line(capsys, tmp_path, monkeypatch) -> None:
    """A failed check: exit 1, the check's message on one line (the policy's own line break
    folded), naming the file and line relative to the working folder's file."""
    (tmp_path / "broken.py").write_text(BROKEN_FILE)
    monkeypatch.chdir(tmp_path)
    code, out, err = _cli(capsys, "broken.py:Raiser", "--role", "provider", "--ticks", "2")
    assert code == 1 and out == ""
    assert err == ("twinecon: broken.py:Raiser: failed: check_policy: act at tick 1: expected "
                   "a list of actions, nothing raised, got KeyError: 'no job\\nat all' (at "
                   "broken.py:6 in Raiser.act); fix the line named, or catch what you expect "
                   "to go wrong inside act (a run drops the tick's actions and records a "
                   "policy_fault)\n")


def test_cli_slow_policy_and_params(capsys, tmp_path, monkeypatch) -> None:
    """--budget-ms and --param reach the check."""
    code, _, err = _cli(capsys, "contributor", "--ticks", "2", "--param", "pool=nopool",
                        "--param", "units=2")
    assert code == 0 and err == ""
    (tmp_path / "slow.py").write_text("import time\n\nclass Slow:\n    role = 'data'\n\n"
                                      "    def act(self, obs):\n        time.sleep(30)\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = _cli(capsys, "slow.py:Slow", "--budget-ms", "50", "--ticks", "2")
    assert code == 1 and "expected a call within its time budget of 50 ms" in err


@pytest.mark.parametrize(("argv", "says"), [
    (["nope.py:X"], "policy file 'nope.py' not found"),
    (["idle", "--role", "world", "--scenario", "no-such-scenario"], "no-such-scenario"),
    (["contributor", "--param", "pool"], "--param 'pool': expected name=value"),
    (["examples/undercutter.py:Undercutter", "--ticks", "0"], "ticks must be at least 1"),
])
def test_cli_bad_input_is_exit_2(capsys, argv, says) -> None:
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("twinecon: error: ") and says in err and err.count("\n") == 1


def test_cli_roles_and_ticks_are_the_library_s() -> None:
    from scenarios import check_policy_cli

    assert check_policy_cli.ROLES == tuple(r.value for r in Role)
    assert check_policy_cli.DEFAULT_TICKS == DEFAULT_TICKS
    with pytest.raises(SystemExit) as info:
        from twinecon.cli import main

        main(["check-policy", "idle", "--role", "banker"])
    assert info.value.code == 2


def test_importing_the_checker_loads_no_scenario_or_economy() -> None:
    """agents.checks builds a scenario when it runs, not when it is imported (agents sits
    below scenarios)."""
    import subprocess

    code = ("import sys, agents.checks\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scenarios', 'economy', "
            "'sweeps', 'pandas'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=True).stdout
    assert out.strip() == "[]"
