"""Policy params are checked with the same unit and range rules as the scenario: each value
against its constructor annotation (`agents.params` kinds), strictly, when the policy loads,
so `twinecon validate` and `twinecon run` refuse a bad value with one fixable line (exit 2)."""

from __future__ import annotations

import inspect
import typing

import pytest

from agents.builtin import BUILTIN
from agents.errors import PolicyLoadError, PolicyParamError
from agents.loading import _checker, load_policy
from agents.params import Tier
from scenarios.loading import builtin_names
from twinecon.cli import main
from worlds.tier import Tier as TierEnum

MONEY_HINT = ('tokens, as an integer up to 10^9 or a decimal string ("0.06" or "0.06 tokens"), '
              'or "<n> base units"')

#: A user policy: annotated with `agents.params` kinds, plain types, an annotation pydantic
#: cannot handle, one that does not evaluate, and one not annotated at all.
USER_POLICY = '''
from __future__ import annotations

from typing import TYPE_CHECKING

from agents.params import BaseUnits, Bps

if TYPE_CHECKING:
    from somewhere_not_installed import Thing


class Opaque:
    pass


class Mine:
    def __init__(self, discount_bps: Bps = 9_000, fee: BaseUnits = 0, level: int = 1,
                 weight: float = 1.0, pair: tuple[int, int] = (1, 2), opaque: Opaque = None,
                 thing: Thing = None, note=None) -> None:
        self.given = dict(discount_bps=discount_bps, fee=fee, level=level, weight=weight,
                          pair=pair, opaque=opaque, thing=thing, note=note)

    def act(self, obs):
        return []
'''


@pytest.fixture
def user_policy(tmp_path):
    (tmp_path / "mine.py").write_text(USER_POLICY, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("value", ["0.06 ETH", -1, 0.05, True, "-1 tokens"])
def test_validate_refuses_a_bad_money_param(one_error_line,
                                            small_market, write_toml, capsys, value) -> None:
    small_market["agents"][1]["params"]["budget_per_line"] = value
    path = write_toml(small_market)
    assert main(["validate", str(path)]) == 2
    line = one_error_line()
    assert str(path) in line
    assert "agents[1].params.budget_per_line" in line
    assert MONEY_HINT in line  # what to write
    assert 'budget_per_line = "0.06 tokens"' in line


def test_run_refuses_a_bad_money_param(one_error_line,
                                       small_market, write_toml, tmp_path, capsys) -> None:
    small_market["agents"][1]["params"]["budget_per_line"] = "0.06 ETH"
    path = write_toml(small_market)
    argv = ["run", str(path), "--ticks", "2", "--out", str(tmp_path / "out"), "--quiet"]
    assert main(argv) == 2
    line = one_error_line()
    assert str(path) in line and "agents[1].params.budget_per_line" in line
    assert '"0.06 ETH"' in line and MONEY_HINT in line


def test_tokens_are_accepted_and_arrive_in_base_units(small_market, write_toml, capsys,
                                                      build_model) -> None:
    small_market["agents"][1]["params"]["budget_per_line"] = "0.06 tokens"
    assert main(["validate", str(write_toml(small_market))]) == 0
    assert "ok" in capsys.readouterr().out
    built, _ = build_model(small_market)
    customer = next(a for a in built.agents if a.policy_name == "customer")
    assert customer.policy.budget_per_line == 6 * 10**16
    assert type(customer.policy.budget_per_line) is int


@pytest.mark.parametrize(("group", "param", "value", "hint"), [
    (1, "min_gain_bps", 20_000, "an integer from 0 to 10000"),
    (1, "tier", "L3", '"L0", "L1" or "L2"'),
    (1, "max_open_jobs", "2", "a whole number >= 0"),
    (2, "candidates", -1, "a whole number >= 0"),
    (4, "overclaim_bps", 20_000, "an integer from 0 to 10000"),
])
def test_validate_refuses_out_of_range_params(one_error_line,
                                              small_market, write_toml, capsys, group, param,
                                              value, hint) -> None:
    small_market["agents"][group].setdefault("params", {})[param] = value
    path = write_toml(small_market)
    assert main(["validate", str(path)]) == 2
    line = one_error_line()
    assert f"agents[{group}].params.{param}" in line and hint in line


def test_bps_param_of_20000_is_refused() -> None:
    with pytest.raises(PolicyParamError) as caught:
        load_policy("value-customer", {"explore_bps": 20_000})
    assert caught.value.param == "explore_bps"
    assert "explore_bps = 20000" in str(caught.value)
    assert isinstance(caught.value, PolicyLoadError)  # what callers already catch


def test_values_are_passed_on_as_given() -> None:
    """Validation does not coerce: an int for a float param stays an int."""
    policy = load_policy("utilisation-compute", {"margin": 1, "step": 0})
    assert policy.margin0 == 1 and type(policy.margin0) is int
    policy = load_policy("adaptive", {"margin": 0.25, "solvers": ["a", "b"]})
    assert policy.margin0 == 0.25 and policy.solvers == ("a", "b")


def test_user_policy_annotated_params_are_checked(user_policy) -> None:
    for params, param in [({"discount_bps": 20_000}, "discount_bps"),
                          ({"fee": "0.06 ETH"}, "fee"),
                          ({"level": "3"}, "level"),  # a plain int: no string for it
                          ({"level": 3.0}, "level"),
                          ({"weight": "1.5"}, "weight"),
                          ({"pair": [1, "x"]}, "pair")]:
        with pytest.raises(PolicyParamError) as caught:
            load_policy("mine.py:Mine", params, base_dir=user_policy)
        assert caught.value.param == param
        assert f"param {param} = " in str(caught.value)


def test_user_policy_params_pass_as_before_where_not_checkable(user_policy) -> None:
    """Unannotated params, annotations pydantic cannot handle or that do not evaluate, pass
    unchecked; JSON-shaped values (a list for a tuple) pass; values arrive as given."""
    marker = object()
    policy = load_policy("mine.py:Mine", {
        "note": "0.06 ETH", "opaque": marker, "thing": [1, "x"], "pair": [3, 4],
        "weight": 2, "fee": 10**18, "discount_bps": 0}, base_dir=user_policy)
    assert policy.given["note"] == "0.06 ETH"
    assert policy.given["opaque"] is marker
    assert policy.given["thing"] == [1, "x"]
    assert policy.given["pair"] == [3, 4]  # not coerced to a tuple
    assert type(policy.given["weight"]) is int


def test_user_policy_in_a_scenario_names_the_param(one_error_line,
                                                   small_market, write_toml, user_policy,
                                                   capsys) -> None:
    group = {"role": "provider", "label": "mine", "policy": "mine.py:Mine", "count": 1,
             "params": {"discount_bps": 20_000}}
    small_market["agents"].append(group)
    path = write_toml(small_market)  # in tmp_path, beside mine.py
    assert main(["validate", str(path)]) == 2
    line = one_error_line()
    assert "agents[5].params.discount_bps" in line and "20000" in line
    group["params"] = {"discount_bps": 1_000, "note": {"anything": [1, 2]}}
    assert main(["validate", str(write_toml(small_market))]) == 0


def test_process_isolated_user_policy_names_the_param(one_error_line,
                                                      small_market, write_toml, user_policy,
                                                      capsys) -> None:
    """Checked in its worker (its code never runs in the simulator), reported alike."""
    small_market["agents"].append({"role": "provider", "label": "mine", "policy": "mine.py:Mine",
                                   "count": 1, "isolation": "process",
                                   "params": {"fee": "0.06 ETH"}})
    path = write_toml(small_market)
    assert main(["validate", str(path)]) == 2
    line = one_error_line()
    assert "agents[5].params.fee" in line and MONEY_HINT in line


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_param_is_annotated_and_its_default_passes(name) -> None:
    cls = BUILTIN[name]
    for param in inspect.signature(cls).parameters.values():
        adapter, _ = _checker(cls, param.name)
        assert adapter is not None, f"{name}.{param.name} is not checked"
        if param.default is not inspect.Parameter.empty:
            adapter.validate_python(param.default, strict=True)


def test_tier_kind_is_the_worlds_tiers() -> None:
    literal = typing.get_args(Tier)[0]
    assert set(typing.get_args(literal)) == {t.value for t in TierEnum}


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_scenario_still_validates(name, capsys) -> None:
    assert main(["validate", name]) == 0, capsys.readouterr().err
