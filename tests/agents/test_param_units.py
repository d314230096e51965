"""A policy's money params (annotated `agents.params.BaseUnits`) are written in tokens, with the
scenario's rules for amounts, and reach the constructor in exact base units (`agents.units`):
a bare int is tokens (up to 10^9; a larger one is the old base-unit form, refused with a
message saying what it meant and what to write), "0.05" and "0.05 tokens" are tokens,
"<n> base units" is base units; floats are refused. `--set` and sweeps set them in tokens."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

import scenarios
from agents.builtin import BUILTIN
from agents.errors import PolicyParamError
from agents.loading import load_policy
from agents.units import MAX_BARE_TOKENS, MAX_TOKENS, money_params, to_base_units_params
from scenarios import schema
from scenarios.loading import BUILTIN_DIR, LoadedScenario, builtin_names, validate_scenario
from scenarios.overrides import apply_point, shown_value
from sweeps.plan import plan
from twinecon.cli import main

ROOT = Path(__file__).resolve().parents[2]
TOKEN = 10**18

#: A user policy with a money param, a plain int param and an unannotated one; its
#: constructor refuses a fee other than `expect` (so a load that passes proves what arrived).
USER_POLICY = '''
from agents.params import BaseUnits, Count


class Paid:
    def __init__(self, fee: BaseUnits = 0, expect: int = 0, jobs: Count = 1, note=None):
        if fee != expect:
            raise ValueError(f"fee arrived as {fee!r}, not {expect!r}")
        self.fee, self.jobs, self.note = fee, jobs, note

    def act(self, obs):
        return []
'''


@pytest.fixture
def market(small_market):
    small_market["ledger"]["backend"] = "memory"
    return small_market


def _customer_budget(build_model, data) -> int:
    built, _ = build_model(data)
    customer = next(a for a in built.agents if a.policy_name == "customer")
    return customer.policy.budget_per_line


@pytest.mark.parametrize(("value", "base_units"), [
    (1, TOKEN),
    (0, 0),
    (MAX_BARE_TOKENS, MAX_BARE_TOKENS * TOKEN),
    ("0.05", 5 * 10**16),
    ("0.05 tokens", 5 * 10**16),
    ("1 token", TOKEN),
    ("1_000.5 tokens", 1_000_500_000_000_000_000_000),
    (" 0.000000000000000001 tokens ", 1),
    ("60000000000000000 base units", 6 * 10**16),
    ("1 base unit", 1),
    ("1_200_000_000_000 base units", 1_200_000_000_000),
    ("5000000000 tokens", 5 * 10**9 * TOKEN),  # above 10^9 tokens: written with its unit
])
def test_money_param_in_tokens_reaches_the_constructor_in_base_units(
        market, build_model, value, base_units) -> None:
    market["agents"][1]["params"]["budget_per_line"] = value
    got = _customer_budget(build_model, market)
    assert got == base_units and type(got) is int


def test_tokens_follow_the_ledgers_decimals(market, build_model) -> None:
    market["ledger"]["decimals"] = 6
    market["agents"][1]["params"]["budget_per_line"] = 2
    assert _customer_budget(build_model, market) == 2 * 10**6
    market["agents"][1]["params"]["budget_per_line"] = "0.000001"
    assert _customer_budget(build_model, market) == 1


@pytest.mark.parametrize(("value", "meant"), [
    (60_000_000_000_000_000, "0.06"),
    (MAX_BARE_TOKENS + 1, "0.000000001000000001"),
])
def test_the_old_base_unit_form_is_refused_saying_what_to_write(one_error_line, 
        market, write_toml, capsys, value, meant) -> None:
    market["agents"][1]["params"]["budget_per_line"] = value
    path = write_toml(market)
    for argv in (["validate", str(path)],
                 ["run", str(path), "--ticks", "1", "--out", str(path.parent / "out"),
                  "--quiet"]):
        assert main(argv) == 2
        line = one_error_line()
        assert str(path) in line
        assert f"agents[1].params.budget_per_line: policy 'customer': param budget_per_line = "\
               f"{value} is refused: a bare integer is tokens" in line
        assert "more than 10^9" in line
        assert f"(which is {meant} tokens)" in line  # what it would mean as the old form
        assert f'write budget_per_line = "{meant} tokens" (or "{value} base units"' in line
    assert not (path.parent / "out").exists()


@pytest.mark.parametrize(("value", "reason"), [
    (0.05, 'a float is not an exact amount; write it as a string: "0.05 tokens"'),
    (1.2e12, 'write it as a string: "1200000000000 tokens", or "1200000000000 base units" '
             "if it is base units"),
    (-1, "amounts must be >= 0"),
    (True, "a boolean is not an amount"),
    ("0.06 ETH", "not an amount of tokens or base units"),
    ("-1 tokens", "not an amount of tokens or base units"),
    ("1.5 base units", "not an amount of tokens or base units"),
    ("0.0000000000000000001 tokens", "finer than one base unit, 10^-18 tokens"),
    (f"{10 * MAX_TOKENS} tokens", "more than 10^30 tokens"),
])
def test_other_bad_money_values_are_refused(one_error_line, market, write_toml, capsys, value,
                                            reason) -> None:
    market["agents"][1]["params"]["budget_per_line"] = value
    path = write_toml(market)
    assert main(["validate", str(path)]) == 2
    line = one_error_line()
    assert str(path) in line and "agents[1].params.budget_per_line" in line
    assert reason in line
    assert 'write e.g. budget_per_line = "0.06 tokens"' in line


def test_params_that_are_not_money_are_unchanged(market, build_model) -> None:
    """Counts, basis points and compute units pass as written, however large."""
    market["agents"][2]["params"].update(candidates=3, markup_bps=20_000, max_jobs=5)
    market["agents"][4]["params"].update(capacity_cu=2_000_000_000_000, overclaim_bps=300)
    built, _ = build_model(market)
    provider = next(a.policy for a in built.agents if a.policy_name == "provider")
    compute = next(a.policy for a in built.agents if a.policy_name == "compute")
    assert (provider.candidates, provider.markup_bps, provider.max_jobs) == (3, 20_000, 5)
    assert provider.base_fee == 10**16  # "0.01 tokens"
    assert compute.capacity_cu == 2_000_000_000_000 and compute.overclaim_bps == 300
    assert compute.price_per_cu == 2 * 10**12  # "0.000002 tokens"


def test_the_rule_without_a_scenario() -> None:
    """`load_policy(..., decimals=)` converts; without decimals params are base units, as the
    Python API always took them."""
    assert load_policy("compute", {"price_per_cu": 3}, decimals=18).price_per_cu == 3 * TOKEN
    assert load_policy("compute", {"price_per_cu": 3}).price_per_cu == 3
    cls = BUILTIN["provider"]
    assert money_params(cls) == {"base_fee", "max_price_per_cu"}
    assert money_params(BUILTIN["customer"]) == {"budget_per_line"}
    assert money_params(BUILTIN["adaptive"]) == frozenset()
    out = to_base_units_params("provider", cls, {"max_price_per_cu": None, "candidates": 2,
                                                 "base_fee": "0.5", "policy": "p"}, 18)
    assert out == {"max_price_per_cu": None, "candidates": 2, "base_fee": 5 * 10**17,
                   "policy": "p"}
    with pytest.raises(PolicyParamError) as caught:
        to_base_units_params("provider", cls, {"base_fee": 10**16}, 18)
    assert caught.value.param == "base_fee"
    assert MAX_TOKENS == schema.MAX_TOKENS


def test_user_policies_in_process_and_isolated(one_error_line,
                                               market, write_toml, capsys, tmp_path) -> None:
    """A user policy's `BaseUnits` param follows the rule in this process and in its worker
    (converted there: its code never runs in the simulator); an unannotated param takes
    "<x> tokens" as base units, as before, and a bare int as it is."""
    (tmp_path / "paid.py").write_text(USER_POLICY, encoding="utf-8")
    for isolation in ("inprocess", "process"):
        group = {"role": "provider", "label": "paid", "policy": "paid.py:Paid", "count": 1,
                 "isolation": isolation,
                 "params": {"fee": 2, "expect": 2 * TOKEN, "note": "0.5 tokens"}}
        market["agents"].append(group)
        assert main(["validate", str(write_toml(market))]) == 0, capsys.readouterr().err
        group["params"] = {"fee": "7 base units", "expect": 7, "jobs": 4}
        assert main(["validate", str(write_toml(market))]) == 0, capsys.readouterr().err
        group["params"] = {"fee": 10**16}
        path = write_toml(market)
        assert main(["validate", str(path)]) == 2
        line = one_error_line()
        assert str(path) in line and "agents[5].params.fee" in line
        assert 'write fee = "0.01 tokens" (or "10000000000000000 base units"' in line
        market["agents"].pop()
    loaded = load_policy("paid.py:Paid", {"fee": 1, "expect": TOKEN, "note": "0.5 tokens"},
                         base_dir=tmp_path, decimals=18)
    assert loaded.note == 5 * 10**17


def test_set_on_a_money_param_is_in_tokens(market, write_toml, build_model) -> None:
    """`--set agents.N.params.x=0.05` is 0.05 tokens (a float becomes a token string rounded
    to base units, like a schema amount); an int is whole tokens; a quoted string as written."""
    path = write_toml(market)
    loaded = scenarios.load_scenario(path)
    for value, want in ((0.05, 5 * 10**16), (0.1234567890123456, 123456789012345600),
                        (2.5e-18, 2), (3.5e-18, 4),  # rounded half-even to base units
                        (2, 2 * TOKEN), ("40 base units", 40)):
        applied = scenarios.apply_overrides(
            loaded, sets={"agents.1.params.budget_per_line": value,
                          "agents.4.params.price_per_cu": value})
        built = scenarios.build(applied)
        by_name = {a.policy_name: a.policy for a in built.agents}
        assert by_name["customer"].budget_per_line == want
        assert by_name["compute"].price_per_cu == want
    data = tomllib.loads(path.read_text())
    assert apply_point(data, {"agents.1.params.budget_per_line": 0.05}, str(path))[
        "agents"][1]["params"]["budget_per_line"] == "0.05"
    # not money: a float where the scenario holds an int is still rounded
    assert apply_point(data, {"agents.1.params.max_open_jobs": 3.0}, str(path))[
        "agents"][1]["params"]["max_open_jobs"] == 3


def test_a_money_param_left_at_its_default_is_set_in_tokens(market, write_toml) -> None:
    path = write_toml(market)
    data = tomllib.loads(path.read_text())
    assert "max_price_per_cu" not in data["agents"][2]["params"]
    out = apply_point(data, {"agents.2.params.max_price_per_cu": 0.000003}, str(path))
    assert out["agents"][2]["params"]["max_price_per_cu"] == "0.000003"


def test_a_process_isolated_user_policy_is_not_imported_to_set_it(tmp_path) -> None:
    """Its money params are known from the scenario's value (a token string) alone."""
    data = {"agents": [{"policy": "nowhere.py:Gone", "isolation": "process",
                        "params": {"fee": "0.5 tokens", "count": 2}}]}
    out = apply_point(data, {"agents.0.params.fee": 0.25, "agents.0.params.count": 3.0},
                      str(tmp_path / "s.toml"))
    assert out["agents"][0]["params"] == {"fee": "0.25", "count": 3}


def test_a_sweep_range_on_a_money_param_is_in_tokens(market, write_toml) -> None:
    path = write_toml(market)
    loaded = scenarios.load_scenario(path)
    sweep = plan(loaded.scenario.model_dump(mode="json"), scenario="m", source=str(path),
                 sets=[], sample="random:3",
                 ranges=["agents.4.params.price_per_cu=0.000001:0.000003"])
    assert len(sweep.runs) == 3
    for run in sweep.runs:
        text = run.data["agents"][4]["params"]["price_per_cu"]
        shown = run.point["agents.4.params.price_per_cu"]
        assert isinstance(text, str) and 0.000001 <= shown <= 0.000003
        assert shown == float(text)  # the results column: float tokens
        built = scenarios.build(LoadedScenario(validate_scenario(run.data, str(path)),
                                               str(path), path.parent))
        compute = next(a.policy for a in built.agents if a.policy_name == "compute")
        assert compute.price_per_cu == int(Decimal(text) * TOKEN)  # rounded to base units
    grid = plan(loaded.scenario.model_dump(mode="json"), scenario="m", source=str(path),
                sets=["agents.1.params.budget_per_line=0.05,1"])
    assert [r.data["agents"][1]["params"]["budget_per_line"] for r in grid.runs] == ["0.05", 1]
    assert [r.point["agents.1.params.budget_per_line"] for r in grid.runs] == [0.05, 1]
    assert shown_value("agents.1.params.tier", "L1") == "L1"


#: Money params of the built-in scenarios and the example, in base units: those that wrote
#: base-unit ints before money params were in tokens (the same values, so every run is the
#: same), and one that wrote tokens already.
BUILTIN_MONEY = {
    ("compute-call-market", "frugal", "max_price_per_cu"): 2_000_000_000_000,
    ("compute-call-market", "frugal", "base_fee"): 10**16,
    ("compute-call-market", "edge", "price_per_cu"): 1_200_000_000_000,
    ("compute-call-market", "cloud", "price_per_cu"): 2_500_000_000_000,
    ("compute-sealed-auction", "cheat", "price_per_cu"): 1_000_000_000_000,
    ("custom-policy", "compute", "price_per_cu"): 2_000_000_000_000,
}


@pytest.mark.parametrize("path", [*(BUILTIN_DIR / f"{n}.toml" for n in builtin_names()),
                                  ROOT / "examples" / "custom-policy.toml"],
                         ids=lambda p: p.stem)
def test_builtin_scenarios_write_money_in_tokens(path, capsys) -> None:
    """Every built-in scenario and example validates, every money param it gives says its
    unit ("<x> tokens"), and each reaches its policy with the base units it had before."""
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    loaded = scenarios.load_scenario(path)
    for g, group in enumerate(loaded.scenario.agents):
        if group.policy in BUILTIN:
            for name in money_params(BUILTIN[group.policy]) & set(group.params):
                value = group.params[name]
                assert isinstance(value, str) and value.endswith("tokens"), (g, name, value)
    wanted = {k[1:]: v for k, v in BUILTIN_MONEY.items() if k[0] == path.stem}
    if not wanted:
        return
    data = loaded.scenario.model_dump()
    data["ledger"]["backend"] = "memory"
    built = scenarios.build(replace(loaded, scenario=validate_scenario(data, loaded.source)))
    for (group, param), want in wanted.items():
        got = {getattr(a.policy, param) for a in built.agents if a.group == group}
        assert got == {want}, (group, param, got)


def test_describe_gives_a_money_param_in_tokens(market, write_toml, tmp_path) -> None:
    """`twinecon describe` shows a money param the scenario sets in tokens with its base
    units, a process-isolated policy's too (read from its source, not imported)."""
    from scenarios.describe import describe

    (tmp_path / "paid.py").write_text(USER_POLICY, encoding="utf-8")
    market["agents"][1]["params"]["budget_per_line"] = 2
    market["agents"][4]["params"]["price_per_cu"] = "3 base units"
    market["agents"].append({"role": "provider", "label": "paid", "policy": "paid.py:Paid",
                             "count": 1, "isolation": "process",
                             "params": {"fee": "0.5", "expect": 5 * 10**17}})
    md = describe(scenarios.load_scenario(write_toml(market))).to_markdown()
    assert f"| budget_per_line | 2 | tokens (= {2 * TOKEN} base units) | scenario |" in md
    assert "| price_per_cu | 3 base units | base units | scenario |" in md
    assert f"| fee | 0.5 | tokens (= {5 * 10**17} base units) | scenario |" in md
