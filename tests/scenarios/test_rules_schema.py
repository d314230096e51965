"""One source for rules and defaults: the scenario's `[rules.*]` tables are derived from the
economy's rule dataclasses, the ledger-enforced ones take the ledger's defaults, and the fees'
old place under `[ledger]` is still read."""

from __future__ import annotations

import pytest

import scenarios
from chain import LedgerParams
from economy.rules import SECTIONS, FeeRule, RuleError, Rules, specs
from scenarios.schema import RULE_SECTIONS, Scenario


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_rule_parameter_is_a_scenario_key_with_its_default(section: str) -> None:
    """Each `[rules.<section>]` table has exactly the rule's parameters, with the rule's
    default (0 tokens for token amounts) and its bounds in the JSON Schema."""
    table = RULE_SECTIONS[section]
    rule = SECTIONS[section]
    assert list(table.model_fields) == [s.name for s in specs(rule)]
    schema = Scenario.model_json_schema()["$defs"][table.__name__]["properties"]
    for spec in specs(rule):
        assert table.model_fields[spec.name].default == spec.default
        assert schema[spec.name].get("description") == spec.doc
        if spec.unit == "bps":
            assert (schema[spec.name]["minimum"], schema[spec.name]["maximum"]) == (0, 10_000)
        if spec.choices is not None:
            assert schema[spec.name]["enum"] == list(spec.choices)


def test_ledger_enforced_rules_default_to_the_ledgers_own_values() -> None:
    """A default rule set asks of the ledger exactly what a default LedgerParams holds (the
    shortest job expiry had drifted: 1 in the ledger, 2 in the economy)."""
    ledger = LedgerParams()
    for name, value in Rules().ledger_params().items():
        assert getattr(ledger, name) == value, name
    assert ledger.min_expiry == 2


def test_rules_refuse_values_out_of_their_bounds() -> None:
    with pytest.raises(RuleError, match=r"FeeRule.transfer_fee_bps must be an int >= 0 and "
                                        r"<= 10000, got 10001"):
        FeeRule(transfer_fee_bps=10_001)
    with pytest.raises(RuleError, match="platform_fee_bps \\+ evaluator_fee_bps"):
        FeeRule(platform_fee_bps=6_000, evaluator_fee_bps=4_001)
    with pytest.raises(RuleError, match="one of posted, sealed, call"):
        SECTIONS["compute"](clearing="auction")


def test_fees_under_their_old_ledger_keys_are_still_read(small_market, write_toml) -> None:
    """A scenario with the fees in [ledger] (their old place) runs with those fees."""
    assert "transfer_fee_bps" in small_market["ledger"]  # the fixture uses the old place
    loaded = scenarios.load_scenario(write_toml(small_market, "old"))
    assert loaded.scenario.rules.fees.transfer_fee_bps == 50
    built = scenarios.build(loaded)
    assert built.model.ledger.params.transfer_fee_bps == 50


def test_fees_in_both_places_must_agree(small_market, write_toml) -> None:
    small_market["rules"] = {"fees": {"transfer_fee_bps": 70}}
    with pytest.raises(scenarios.ScenarioError,
                       match=r"ledger.transfer_fee_bps and rules.fees.transfer_fee_bps are "
                             r"both set.*keep rules.fees.transfer_fee_bps"):
        scenarios.load_scenario(write_toml(small_market, "both"))


def test_set_with_the_old_fee_key_lands_in_rules_fees(small_market, write_toml) -> None:
    """`--set ledger.transfer_fee_bps=100` (sweeps and runs) sets rules.fees.transfer_fee_bps."""
    loaded = scenarios.load_scenario(write_toml(small_market, "s"))
    for key in ("ledger.transfer_fee_bps", "rules.fees.transfer_fee_bps"):
        changed = scenarios.apply_overrides(loaded, sets={key: 100})
        assert changed.scenario.rules.fees.transfer_fee_bps == 100


def test_token_amounts_in_rules_are_converted_with_the_scenarios_decimals(
        small_market, write_toml) -> None:
    """A rule's token amount (a stake, an emission) is written in tokens and reaches the rule
    in base units."""
    small_market["rules"] = {"compute": {"min_stake": "1.5"},
                             "emission": {"schedule": "constant", "amount": 2}}
    built = scenarios.build(scenarios.load_scenario(write_toml(small_market, "tok")))
    assert built.model.rules.compute.min_stake == 15 * 10**17
    assert built.model.rules.emission.amount == 2 * 10**18
    assert built.model.ledger.params.min_stake == 15 * 10**17
