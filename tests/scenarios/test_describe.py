"""`twinecon describe`: the ODD description of a scenario, generated from the scenario, the code
it runs and its twin's spec.

Every built-in scenario is described, naming each group with its count and policy, every rule
in force with its value and the twin; the digest it states is the one a run records in
manifest.json; --set changes the model described; a custom policy's docstrings are its design
concepts (read without importing it when the group is process-isolated); --out never replaces
a file without --force; --format json is the same content as data.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from economy.model import EconomyModel
from scenarios.describe import PARTS, describe
from scenarios.loading import builtin_names, load_scenario
from scenarios.run import apply_overrides
from scenarios.schema import RULE_SECTIONS
from twinecon.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
#: The README's describe block, run as written (from a scratch folder).
README_SNIPPET = re.search(r"```sh\n(.*?)```", README.read_text()[
    README.read_text().index("### Describe the model"):], re.S).group(1).strip()

#: A custom policy whose docstrings carry markers; importing it leaves a file behind.
POLICY = '''"""Marker policy MODULE-DOC-7f3a: bids nothing; exists to be described."""

import pathlib

pathlib.Path(__file__).with_name("imported.flag").write_text("imported")


class Marker:
    """Marker strategy CLASS-DOC-91c2: learns nothing and expects nothing.

    Args:
        patience: ticks it waits before doing nothing again (PARAM-DOC-55d0).
        fee_bps: what it would charge, basis points.
    """

    def __init__(self, patience: int = 3, fee_bps: int = 100) -> None:
        self.patience = patience
        self.fee_bps = fee_bps

    def act(self, obs):
        return []
'''


def _cell(value: Any) -> str:
    """A value as the description's Markdown tables show it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return f"`{json.dumps(value)}`"
    return str(value)


def _digest(scenario: Any) -> str:
    """The canonical digest, computed as scenarios/run.py computes it for manifest.json."""
    config = scenario.model_dump(mode="json")
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _describe_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["describe", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("twinecon: error: ")
    return lines[0]


def _row(markdown: str, first_cell: str) -> str:
    """The table row whose first cell is `first_cell` (exactly one such row)."""
    rows = [line for line in markdown.splitlines() if line.startswith(f"| {first_cell} |")]
    assert len(rows) == 1, (first_cell, rows)
    return rows[0]


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_scenario_is_described_from_its_own_values(name: str) -> None:
    loaded = load_scenario(name)
    sc = loaded.scenario
    d = describe(loaded)
    md = d.to_markdown()
    assert md.startswith(f"# ODD model description: {sc.name}\n")
    for _, keys in PARTS:  # all seven elements, in order
        for key in keys:
            assert f" {d.section(key).title}\n" in md
    # the model's identity, in the header
    head = md[:md.index("## Overview")]
    assert d.sha256 == _digest(sc)
    assert d.sha256 in _row(head, "`scenario_sha256`")
    assert loaded.source in _row(head, "source")
    twin_id = d.twin_id
    assert re.fullmatch(rf"{sc.twin.kind}/[\w.-]+@{re.escape(sc.twin.version)}\+[0-9a-f]{{12}}",
                        twin_id)
    assert twin_id in _row(head, "`twin_id`")
    assert "| overrides | none |" in head
    # every group: its label, role, count and policy, in the groups table
    for group in sc.agents:
        label = group.label or group.role
        row = [line for line in md.splitlines()
               if line.startswith(f"| {label} | {group.role} | {group.count} | {group.policy} |")]
        assert len(row) == sum(1 for g in sc.agents if (g.label or g.role, g.role, g.count,
                                                        g.policy) == (label, group.role,
                                                                      group.count,
                                                                      group.policy)), label
        assert f"Group `{label}`: {group.count} x {group.role}, policy `{group.policy}`" in md
        for key, value in group.params.items():  # its params as the scenario sets them
            assert f"| {key} | {_cell(value)} |" in md
    # every rule table in force, each parameter with its value
    for section, table in RULE_SECTIONS.items():
        assert f"[rules.{section}]" in md
        for param in table.model_fields:
            value = getattr(getattr(sc.rules, section), param)
            assert _row(md, f"rules.{section}.{param}").startswith(
                f"| rules.{section}.{param} | {_cell(value)} |")
    # the JSON form says the same
    data = json.loads(d.to_json())
    assert data["scenario_sha256"] == d.sha256 and data["twin_id"] == twin_id
    assert list(data["sections"]) == [k for _, keys in PARTS for k in keys]


def test_the_digest_is_the_one_a_run_records_in_its_manifest(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "warehouse-market", "--ticks", "1", "--ledger", "memory", "--quiet",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text())
    code, text, _ = _describe_cli(capsys, "warehouse-market", "--ticks", "1", "--ledger",
                                  "memory", "--format", "json")
    assert code == 0
    described = json.loads(text)
    assert described["scenario_sha256"] == manifest["scenario_sha256"]
    assert described["twin_id"] == manifest["twin_id"]
    identity = {f["name"]: f["value"] for f in described["identity"]["fields"]}
    assert identity["source"] == manifest["scenario_source"]
    assert identity["seed"] == manifest["seed"] and identity["ticks"] == manifest["ticks"]
    # the overrides are stated, and without them the model (and its digest) differs
    assert "ticks: 120 -> 1" in identity["overrides"]
    assert '"evm" -> "memory"' in identity["overrides"]
    code, plain, _ = _describe_cli(capsys, "warehouse-market", "--format", "json")
    assert json.loads(plain)["scenario_sha256"] != manifest["scenario_sha256"]


def test_set_changes_the_digest_and_the_stated_value(capsys) -> None:
    code, before, _ = _describe_cli(capsys, "warehouse-market")
    assert code == 0
    code, after, _ = _describe_cli(capsys, "warehouse-market", "--set",
                                   "rules.fees.transfer_fee_bps=100")
    assert code == 0
    file_value = load_scenario("warehouse-market").scenario.rules.fees.transfer_fee_bps
    assert file_value != 100
    assert _row(before, "rules.fees.transfer_fee_bps").startswith(
        f"| rules.fees.transfer_fee_bps | {file_value} |")
    assert _row(after, "rules.fees.transfer_fee_bps").startswith(
        "| rules.fees.transfer_fee_bps | 100 |")
    digest = {md: re.search(r"^\| `scenario_sha256` \| ([0-9a-f]{64})", md, re.M).group(1)
              for md in (before, after)}
    assert digest[before] != digest[after]
    expected = _digest(apply_overrides(load_scenario("warehouse-market"),
                                       sets={"rules.fees.transfer_fee_bps": 100}).scenario)
    assert digest[after] == expected
    assert f"| overrides | rules.fees.transfer_fee_bps: {file_value} -> 100 |" in after
    # the file's comment on the value is quoted only while the value is the file's
    comment = "(file: 0.5 % of every transfer"
    assert comment in _row(before, "rules.fees.transfer_fee_bps")
    assert comment not in after


def test_a_set_that_names_nothing_or_breaks_a_rule_is_one_line_exit_2(capsys) -> None:
    code, out, err = _describe_cli(capsys, "warehouse-market", "--set",
                                   "rules.fees.transfer_fe=3")
    assert code == 2 and out == ""
    assert "'transfer_fee_bps'" in _one_error_line(err)
    code, out, err = _describe_cli(capsys, "warehouse-market", "--set",
                                   "rules.fees.platform_fee_bps=9000")
    assert code == 2 and out == ""
    assert "rules.fees" in _one_error_line(err)
    code, out, err = _describe_cli(capsys, "no-such-scenario")
    assert code == 2 and "built-ins:" in _one_error_line(err)


def _with_marker(small_market: dict, **group: Any) -> dict:
    data = dict(small_market)
    data["agents"] = [*small_market["agents"], {
        "role": "provider", "label": "marked", "policy": "marker_policy.py:Marker",
        "count": 3, "balance": 5, "params": {"patience": 7}, **group}]
    return data


def test_a_custom_policys_docstrings_are_its_design_concepts(small_market, write_toml,
                                                              tmp_path: Path) -> None:
    (tmp_path / "marker_policy.py").write_text(POLICY)
    path = write_toml(_with_marker(small_market), "custom")
    d = describe(load_scenario(path))
    design = json.dumps(d.section("design").as_dict())
    assert "MODULE-DOC-7f3a" in design and "CLASS-DOC-91c2" in design
    md = d.to_markdown()
    concepts = md[md.index("## Design concepts"):md.index("## Details")]
    assert "Strategy `marker_policy.py:Marker`" in concepts
    assert "MODULE-DOC-7f3a" in concepts and "CLASS-DOC-91c2" in concepts
    # the group: its count, policy, class, and its params with their documented meanings
    assert "| marked | provider | 3 | marker_policy.py:Marker |" in md
    assert f"{(tmp_path / 'marker_policy.py').resolve()}:Marker" in md
    assert re.search(r"\| patience \| 7 \|[^|]*\| scenario \| .*PARAM-DOC-55d0", md)
    assert re.search(r"\| fee_bps \| 100 \| basis points \| default \|", md)
    # its source is an input of the model, hashed
    digest = hashlib.sha256((tmp_path / "marker_policy.py").read_bytes()).hexdigest()
    assert digest in d.section("input").as_dict()["tables"][0]["rows"][0]["sha256"]


def test_a_process_isolated_policy_is_described_without_importing_it(
        small_market, write_toml, tmp_path: Path) -> None:
    (tmp_path / "marker_policy.py").write_text(POLICY)
    path = write_toml(_with_marker(small_market, isolation="process"), "isolated")
    d = describe(load_scenario(path))
    assert not (tmp_path / "imported.flag").exists()  # its code never ran here
    md = d.to_markdown()
    assert "MODULE-DOC-7f3a" in md and "CLASS-DOC-91c2" in md
    assert re.search(r"\| patience \| 7 \|[^|]*\| scenario \| .*PARAM-DOC-55d0", md)
    assert "Read from its source without importing it" in md


def test_an_unknown_policy_or_param_is_refused_naming_its_key(small_market, write_toml,
                                                             tmp_path: Path, capsys) -> None:
    (tmp_path / "marker_policy.py").write_text(POLICY)
    bad = _with_marker(small_market, policy="marker_policy.py:Markr")
    code, _, err = _describe_cli(capsys, str(write_toml(bad, "bad-class")))
    assert code == 2 and "agents[5].policy" in _one_error_line(err)
    bad = _with_marker(small_market, params={"patiense": 7})
    code, _, err = _describe_cli(capsys, str(write_toml(bad, "bad-param")))
    assert code == 2 and "agents[5].params" in _one_error_line(err)


def test_out_refuses_to_overwrite_unless_forced(tmp_path: Path, capsys) -> None:
    out = tmp_path / "odd" / "wm.md"
    code, stdout, _ = _describe_cli(capsys, "warehouse-market", "--out", str(out))
    assert code == 0 and stdout.strip() == str(out)
    first = out.read_text()
    assert first.startswith("# ODD model description: warehouse-market\n")
    code, stdout, err = _describe_cli(capsys, "warehouse-market", "--format", "json", "--out",
                                      str(out))
    assert code == 2 and stdout == ""
    assert "--force" in _one_error_line(err)
    assert out.read_text() == first
    code, _, _ = _describe_cli(capsys, "warehouse-market", "--format", "json", "--out",
                               str(out), "--force")
    assert code == 0
    assert json.loads(out.read_text())["scenario"] == "warehouse-market"
    code, _, err = _describe_cli(capsys, "warehouse-market", "--out", str(tmp_path))
    assert code == 2 and "folder" in _one_error_line(err)
    assert sorted(p.name for p in out.parent.iterdir()) == ["wm.md"]  # no temporary left


def test_format_json_parses_into_the_same_sections(capsys) -> None:
    code, text, _ = _describe_cli(capsys, "logistics-market", "--format", "json")
    assert code == 0
    data = json.loads(text)
    assert data["protocol"] == "ODD" and "Grimm" in data["reference"]
    assert data["parts"] == {part: list(keys) for part, keys in PARTS}
    d = describe(load_scenario("logistics-market"))
    assert data == json.loads(d.to_json())
    for key, section in data["sections"].items():
        assert section["key"] == key
        assert section["title"] and isinstance(section["fields"], list)
        assert section["text"] or section["fields"] or section["tables"] or \
            section["subsections"]
    entities = {s["key"]: s for s in data["sections"]["entities"]["subsections"]}
    assert {"agents", "ledger", "twin", "markets", "scales"} <= set(entities)
    groups = entities["agents"]["tables"][0]["rows"]
    sc = load_scenario("logistics-market").scenario
    assert [(r["role"], r["count"], r["policy"]) for r in groups] == \
        [(g.role, g.count, g.policy) for g in sc.agents]


def test_the_phases_are_the_ones_the_model_runs_in_order() -> None:
    """The process overview lists the tick's phases as economy.model states them, in the
    order `EconomyModel.step` names them."""
    d = describe(load_scenario("warehouse-market"))
    process = d.section("process").as_dict()
    rows = process["tables"][0]["rows"]
    step = EconomyModel.step.__doc__.split(":", 1)[1].strip().rstrip(".")
    assert [r["name"] for r in rows] == [p.strip() for p in step.split(",")]
    assert [r["phase"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["what happens"] and r["run by"] for r in rows)
    assert "`EconomyModel.begin_tick`" in rows[0]["run by"]
    actions = {r["action"] for r in process["tables"][1]["rows"]}
    assert {"PostJob", "Bid", "Simulate", "Pay"} <= actions


def test_describe_opens_no_ledger(monkeypatch) -> None:
    """Describing builds no economy: the ledger backends are never opened."""
    import chain.backends

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("describe opened a ledger")

    monkeypatch.setattr(chain.backends, "open_ledger", refuse)
    assert describe(load_scenario("compute-sealed-auction")).sha256


def test_readme_snippet_runs_as_written(tmp_path: Path) -> None:
    """The README's describe command, as written, from a scratch folder."""
    script = README_SNIPPET.replace(".venv/bin/twinecon", f"{sys.executable} -m twinecon")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    text = (tmp_path / "warehouse-market-odd.md").read_text()
    assert text.startswith("# ODD model description: warehouse-market\n")
    assert _digest(load_scenario("warehouse-market").scenario) in text
    docs = Path(__file__).resolve().parents[2] / "docs" / "odd.md"
    assert README_SNIPPET in docs.read_text()
