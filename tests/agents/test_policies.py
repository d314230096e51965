"""Policy loading (built-ins, files, params) and fault isolation of user policies in a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents import PolicyLoadError, ServiceProvider, load_policy

ROOT = Path(__file__).resolve().parents[2]

FAULTY = '''
from economy import Bid


class Raiser:
    def act(self, obs):
        raise RuntimeError("boom at tick %d" % obs.tick)


class Garbage:
    def __init__(self):
        self.n = 0

    def act(self, obs):
        self.n += 1
        return [None, "actions please", [Bid(job_id=1, price=1), 42]][self.n % 3]
'''


@pytest.fixture
def faulty_market(small_market, write_toml, tmp_path):
    """The small market plus one provider whose policy raises and one returning garbage,
    both loaded from a policy file beside the scenario."""
    (tmp_path / "faulty.py").write_text(FAULTY)
    small_market["agents"][2:2] = [
        {"role": "provider", "label": "raiser", "policy": "faulty.py:Raiser", "balance": 5},
        {"role": "provider", "label": "garbage", "policy": "faulty.py:Garbage", "balance": 5},
    ]
    small_market["ticks"] = 25
    return write_toml(small_market, "faulty")


def test_faulty_policies_are_isolated(faulty_market, run, read_table) -> None:
    """A policy that raises every tick and one that returns None, a string or a list with a
    non-Action: the run completes, every fault is counted and logged naming the agent, and the
    other agents' jobs still complete."""
    result = run(faulty_market)
    s = result.summary
    ticks = s["ticks"]
    assert s["policy_faults"] == 2 * ticks
    assert s["jobs_completed"] > 0
    faults = read_table(result, "events").query("kind == 'policy_fault'")
    assert len(faults) == 2 * ticks
    agents = read_table(result, "agents")
    address = dict(zip(agents.label, agents.address, strict=False))
    for label, why in (("raiser-0", "RuntimeError: boom"), ("garbage-0", "act returned")):
        mine = faults[faults.payer == address[label]]
        assert len(mine) == ticks
        assert all(d.startswith(f"{label} (faulty.py:") and why in d for d in mine.detail)
    garbage = faults[faults.payer == address["garbage-0"]].detail
    assert any("NoneType" in d for d in garbage)
    assert any("returned str" in d for d in garbage)
    assert any("a int among its actions" in d for d in garbage)


@pytest.mark.parametrize(("cls", "error"), [("Raiser", RuntimeError), ("Garbage", TypeError)])
def test_strict_run_reraises_policy_faults(small_market, write_toml, tmp_path, run,
                                           cls, error) -> None:
    """With strict=True a faulty policy's error propagates and no output folder is left."""
    (tmp_path / "faulty.py").write_text(FAULTY)
    small_market["agents"].append({"role": "provider", "policy": f"faulty.py:{cls}"})
    with pytest.raises(error):
        run(write_toml(small_market, "strict"), strict=True)
    assert not any(p.name.startswith(("run-", ".run-")) for p in tmp_path.iterdir())


def test_custom_policy_example_trades(run, read_table) -> None:
    """examples/custom-policy.toml runs, and its own provider (mine-0) ends the run with a
    different balance than it started with (it won, or paid for, something)."""
    result = run(ROOT / "examples" / "custom-policy.toml", ticks=60, signatures="off")
    agents = read_table(result, "agents")
    mine = agents[agents.label == "mine-0"].sort_values("tick")
    assert len(mine) == result.summary["ticks"] + 1
    assert mine.balance.iloc[0] != mine.balance.iloc[-1]


def test_load_policy_from_file_with_params() -> None:
    """A 'file.py:Class' reference loads the class and passes params as keyword arguments."""
    policy = load_policy("examples/undercutter.py:Undercutter",
                         {"discount_bps": 5000, "candidates": 2}, base_dir=ROOT)
    assert type(policy).__name__ == "Undercutter"
    assert (policy.discount_bps, policy.candidates) == (5000, 2)


def test_bad_param_names_accepted_params() -> None:
    """An unknown param raises PolicyLoadError listing the params the policy does take, with
    a near-match suggestion."""
    with pytest.raises(PolicyLoadError, match="discount_bps, candidates") as e:
        load_policy("examples/undercutter.py:Undercutter", {"discount": 5}, base_dir=ROOT)
    assert "'discount_bps'" in str(e.value)
    with pytest.raises(PolicyLoadError, match="candidates"):
        load_policy("provider", {"candidate": 3})


def test_unknown_builtin_suggests_near_match() -> None:
    """A misspelt built-in name raises PolicyLoadError suggesting the built-in."""
    with pytest.raises(PolicyLoadError, match="did you mean 'provider'"):
        load_policy("provder")


def test_missing_class_and_file_are_policy_load_errors(tmp_path) -> None:
    """A missing file or class in a file raises PolicyLoadError naming what was looked for."""
    with pytest.raises(PolicyLoadError, match=r"nope\.py"):
        load_policy("nope.py:X", base_dir=tmp_path)
    with pytest.raises(PolicyLoadError, match="did you mean 'Undercutter'"):
        load_policy("examples/undercutter.py:Undercuter", base_dir=ROOT)


def test_builtin_provider_loads_with_params() -> None:
    """A built-in name builds that class with the given params."""
    policy = load_policy("provider", {"candidates": 0, "solvers": ["s_shape"]})
    assert isinstance(policy, ServiceProvider)
    assert policy.solvers == ("s_shape",)


def test_provider_that_cannot_buy_sim_time_delivers_untested_instead_of_expiring(
        small_market, run, write_toml, read_table) -> None:
    """A provider whose limit price is under every offer gets no evaluations; two ticks
    after asking it delivers its last solver's plan untested, so its jobs are judged rather
    than left to expire."""
    small_market["ledger"]["backend"] = "memory"
    small_market["agents"][2]["params"]["max_price_per_cu"] = 0
    result = run(write_toml(small_market, "no-sim-time"))
    events = read_table(result, "events")
    assert events.detail.str.contains("Simulate:no_capacity").any()
    providers = set(read_table(result, "agents").query("role == 'provider'").address)
    assert not providers & set(events[events.kind == "simulated"].payer)
    s = result.summary
    assert s["jobs_expired"] == 0
    assert s["jobs_completed"] + s["jobs_rejected"] > 0
