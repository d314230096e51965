"""The command line: list, schema, validate, run, and fixable one-line errors for bad files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import scenarios
from scenarios.cli import main

# (case id, edit of the small market, key the message must name, more text it must contain)
BAD_SCENARIOS = [
    ("unknown-key", lambda d: d.update(tickz=5), "tickz", "'ticks'"),
    ("wrong-type", lambda d: d.update(ticks="ten"), "ticks", "'ten'"),
    ("negative-amount", lambda d: d["agents"][1].update(balance=-5), "agents[1].balance",
     "-5"),
    ("bad-bps", lambda d: d["ledger"].update(platform_fee_bps=20000),
     "ledger.platform_fee_bps", "20000"),
    ("unknown-policy", lambda d: d["agents"][2].update(policy="provder"), "agents[2].policy",
     "'provider'"),
    ("unknown-twin-param", lambda d: d["twin"]["params"].update(n_aisle=3),
     "twin.params.n_aisle", "'n_aisles'"),
    ("no-world-agent", lambda d: d["agents"].pop(0), "agents", "role = \"world\""),
    ("unknown-clearing-rule", lambda d: d.update(rules={"compute": {"clearing": "dutch"}}),
     "rules.compute.clearing", "'call'"),
    ("stake-above-balance", lambda d: d.update(rules={"compute": {"min_stake": 100}}),
     "rules.compute.min_stake", "insufficient_funds"),
    ("asset-owner-unknown", lambda d: d.update(assets=[
        {"key": "data/x", "kind": "data", "owner": "compte-0"}]),
     "assets[0].owner", "'compute-0'"),
    ("asset-parent-listed-later", lambda d: d.update(assets=[
        {"key": "policy/p", "kind": "policy", "owner": "thorough-0", "parents": ["data/x"]},
        {"key": "data/x", "kind": "data", "owner": "world-0"}]),
     "assets[0].parents", "list parents first"),
    ("royalty-stack-over-100", lambda d: d.update(assets=[
        {"key": "data/x", "kind": "data", "owner": "world-0", "royalty_bps": 6000},
        {"key": "data/y", "kind": "data", "owner": "world-0", "royalty_bps": 6000},
        {"key": "policy/p", "kind": "policy", "owner": "thorough-0",
         "parents": ["data/x", "data/y"]}]),
     "assets[2].parents", "royalty stack"),
    ("pool-owner-unknown", lambda d: d.update(pools=[{"key": "p", "owner": "nobody"}]),
     "pools[0].owner", "no agent is labelled"),
]

@pytest.mark.parametrize(("edit", "key", "hint"), [c[1:] for c in BAD_SCENARIOS],
                         ids=[c[0] for c in BAD_SCENARIOS])
def test_bad_scenario_is_one_fixable_line_with_exit_2(one_error_line,
                                                      small_market, write_toml, capsys,
                                                      edit, key, hint) -> None:
    """A scenario that cannot be validated or built: `validate` exits 2 with exactly one
    'twinecon: error:' line naming the file, the offending key and a hint, no traceback."""
    edit(small_market)
    path = write_toml(small_market, "bad")
    assert main(["validate", str(path)]) == 2
    line = one_error_line()
    assert f"{path}: {key}: " in line
    assert hint in line

@pytest.mark.parametrize(("edit", "key", "hint"), [c[1:] for c in BAD_SCENARIOS[:4]],
                         ids=[c[0] for c in BAD_SCENARIOS[:4]])
def test_load_scenario_raises_scenario_error_with_file_and_key(small_market, write_toml,
                                                               edit, key, hint) -> None:
    """Schema violations raise ScenarioError at load time, carrying the file and the key."""
    edit(small_market)
    path = write_toml(small_market, "bad")
    with pytest.raises(scenarios.ScenarioError, match=r"did you mean|got|must|amount") as e:
        scenarios.load_scenario(path)
    assert e.value.source == str(path)
    assert e.value.key == key
    assert hint in str(e.value)

def test_invalid_toml_is_one_line_naming_file_and_line(one_error_line, write_toml, capsys) -> None:
    """A file that is not TOML: exit 2, one line naming the file and where parsing stopped."""
    path = write_toml('name = "x"\nticks = = 3\n', "broken")
    assert main(["validate", str(path)]) == 2
    line = one_error_line()
    assert str(path) in line
    assert "not valid TOML" in line
    assert "line 2" in line

def test_unknown_scenario_name_suggests_builtin(one_error_line, capsys) -> None:
    """A misspelt built-in name: exit 2 and a suggestion of the near match."""
    assert main(["validate", "warehouse-markt"]) == 2
    assert "'warehouse-market'" in one_error_line()

def test_list_names_the_builtin(capsys) -> None:
    """`list` prints every built-in scenario, warehouse-market among them."""
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert any(line.split()[0] == "warehouse-market" for line in out.splitlines())

def test_schema_is_json_schema_with_agents(capsys) -> None:
    """`schema` prints a JSON Schema whose properties include agents (an array)."""
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["type"] == "object"
    assert schema["properties"]["agents"]["type"] == "array"
    assert "agents" in schema["required"]

def test_validate_builtin_ok(capsys) -> None:
    """`validate warehouse-market` builds it (policies, twin, genesis) and exits 0."""
    assert main(["validate", "warehouse-market"]) == 0
    assert "ok" in capsys.readouterr().out

def test_run_writes_every_output_and_replaces_folder(tmp_path, capsys) -> None:
    """`run` exits 0 and writes every file in OUTPUTS, Parquet readable by pandas; running
    again into the same folder is refused without --force (the run there is untouched) and
    with --force replaces it, leaving no temporary sibling."""
    out = tmp_path / "out"
    argv = ["run", "warehouse-market", "--ticks", "5", "--out", str(out), "--quiet",
            "--signatures", "off"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(scenarios.OUTPUTS)
    for name in scenarios.OUTPUTS:
        if name.endswith(".parquet"):
            pd.read_parquet(out / name)
        else:
            json.loads((out / name).read_text())
    ticks = pd.read_parquet(out / "ticks.parquet")
    assert ticks.tick.max() == 5
    (out / "stale.txt").write_text("from an earlier run")
    capsys.readouterr()
    assert main([*argv[:3], "7", *argv[4:]]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err and "Traceback" not in err
    assert (out / "stale.txt").exists() and pd.read_parquet(out / "ticks.parquet").tick.max() == 5
    assert main([*argv[:3], "7", *argv[4:], "--force"]) == 0
    assert not (out / "stale.txt").exists()
    assert pd.read_parquet(out / "ticks.parquet").tick.max() == 7
    assert json.loads((out / "manifest.json").read_text())["ticks"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
