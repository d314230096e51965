"""Bounded scenarios: every count, size, horizon and nesting depth a scenario file (or a twin's
spec builder) accepts has an upper bound one machine can honour; a value beyond it is one
error line naming the file, the key and the bound; `validate` does work that grows with the
groups, not the agents, and nothing a file holds ends in a recursion or memory error."""

from __future__ import annotations

import importlib

import pytest

import scenarios
from chain import Identity
from scenarios.cli import main
from scenarios.loading import validate_scenario
from worlds import InvalidSpec
from worlds.logistics import logistics_spec
from worlds.toy import toy_spec
from worlds.warehouse import warehouse_spec
from worlds.windfarm import windfarm_spec


def _one_error_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert err.count("twinecon: error: ") == 1 and err.startswith("twinecon: error: "), err
    return err.splitlines()[0]


def _deep(depth: int) -> list:
    """A list nested `depth` levels deep (built without recursion)."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


# (case id, edit of the small market, key the message names, text it holds)
OVER_BOUNDS = [
    ("count", lambda d: d["agents"][1].update(count=10_001), "agents[1].count", "10000"),
    ("agents-in-all", lambda d: [g.update(count=6_000) for g in d["agents"][1:3]], "agents",
     "at most 10000 in all"),
    ("ticks", lambda d: d.update(ticks=100_001), "ticks", "100000"),
    ("agent-ticks", lambda d: (d.update(ticks=60_000), d["agents"][1].update(count=2_000)),
     "agents", "agent-ticks"),
    ("tick-ms", lambda d: d["economy"].update(tick_ms=86_400_001), "economy.tick_ms",
     "86400000"),
    ("max-candidates", lambda d: d["economy"].update(max_candidates=1_025),
     "economy.max_candidates", "1024"),
    ("groups", lambda d: d.update(agents=d["agents"][:1] * 257), "agents", "at most 256"),
    ("assets", lambda d: d.update(assets=[{"key": f"a{i}", "kind": "data", "owner": "world-0"}
                                          for i in range(1_025)]), "assets", "1024"),
    ("description", lambda d: d.update(description="x" * 65_537), "description", "65536"),
    ("label", lambda d: d["agents"][1].update(label="x" * 65), "agents[1].label", "64"),
    ("name-path", lambda d: d.update(name="../../elsewhere"), "name", "output folder"),
    ("params-depth", lambda d: d["agents"][1]["params"].update(deep=_deep(9)),
     "agents[1].params", "8 levels"),
    ("params-size", lambda d: d["agents"][1]["params"].update(many=list(range(10_001))),
     "agents[1].params", "10000 values"),
    ("params-string", lambda d: d["agents"][1]["params"].update(s="x" * 4_097),
     "agents[1].params", "4096"),
    ("tokens", lambda d: d["agents"][1].update(balance="1" + "0" * 31), "agents[1].balance",
     "10^30"),
    ("rule-horizon", lambda d: d.update(rules={"compute": {"lease_ticks": 100_001}}),
     "rules.compute.lease_ticks", "100000"),
    ("supply-cap-over-all-agents", lambda d: (d["agents"][1].update(count=5_000, balance=200),
                                              d["ledger"].update(supply_cap=100_000)),
     "agents", "supply_cap"),
]


@pytest.mark.parametrize(("edit", "key", "hint"), [c[1:] for c in OVER_BOUNDS],
                         ids=[c[0] for c in OVER_BOUNDS])
def test_a_value_over_its_bound_is_one_error_line(small_market, write_toml, capsys, edit, key,
                                                  hint) -> None:
    """Each bound, exceeded: `validate` exits 2 with one line naming the file, the key and the
    bound (a file that stays within it is fine)."""
    edit(small_market)
    path = write_toml(small_market, "over")
    assert main(["validate", str(path)]) == 2
    line = _one_error_line(capsys)
    assert f"{path}: {key}: " in line
    assert hint in line


def test_values_at_their_bounds_are_valid(small_market, write_toml, tmp_path, capsys) -> None:
    """At the bounds (params nested 8 levels with 10000 values in all, 10000 agents, tables 16
    levels below the top one): valid as far as the bounds go."""
    (tmp_path / "anyparams.py").write_text(
        "class AnyParams:\n"
        "    def __init__(self, **params):\n"
        "        self.params = params\n"
        "    def act(self, observation):\n"
        "        return []\n")
    small_market["agents"].append({"role": "data", "policy": "anyparams.py:AnyParams",
                                   "params": {"deep": _deep(8), "many": list(range(9_990))}})
    small_market["agents"][1]["count"] = 10_000 - 8
    small_market["ledger"]["supply_cap"] = 10**7
    path = write_toml(small_market, "at")
    assert main(["validate", str(path)]) == 0
    assert "ok (small-market, 10000 agents)" in capsys.readouterr().out
    path.write_text(path.read_text() + "\n[deep.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p]\n")
    assert main(["validate", str(path)]) == 2  # the schema refuses the key, not its depth
    assert f"{path}: deep: unknown key" in _one_error_line(capsys)


def test_brackets_inside_strings_and_comments_do_not_nest(write_toml, capsys) -> None:
    """Brackets in strings and comments are text, not nesting: 16 levels beside them pass
    the nesting check (and the schema then says what the file lacks)."""
    text = ('name = "[[[[[[[[[[[[[[[[[["\n'
            "description = '''{{{{{{{{{{{{{{{{{{'''\n"
            "# [[[[[[[[[[[[[[[[[[[[\n"
            "x = " + "[" * 16 + "]" * 16 + "\n")
    path = write_toml(text, "strings")
    assert main(["validate", str(path)]) == 2
    line = _one_error_line(capsys)
    assert "nest" not in line
    assert "agents: required key is missing" in line


@pytest.mark.parametrize(("text", "where", "hint"), [
    ("x = " + "[" * 50_000 + "]" * 50_000, "line 2", "nest more than 16 levels"),
    ("x = " + "{ a = " * 20_000 + "1" + " }" * 20_000, "line 2", "nest more than 16 levels"),
    (".".join(["a"] * 100_000) + " = 1", "line 2", "dotted key of 100000 parts"),
    ("[" + ".".join(["t"] * 5_000) + "]", "line 2", "dotted key of 5000 parts"),
    ("x = " + "[" * 17 + "]" * 17, "line 2", "nest more than 16 levels"),
], ids=["arrays", "inline-tables", "dotted-key", "table-header", "one-past"])
def test_nesting_is_refused_before_parsing(write_toml, capsys, text, where, hint) -> None:
    """Arrays, inline tables and dotted keys nested past MAX_DEPTH are one error line naming
    the line, found on the text before the TOML parser could recurse (or take quadratic time
    over a key's parts); brackets inside strings do not count."""
    path = write_toml('name = "deep"\n' + text + "\n", "deep")
    assert main(["validate", str(path)]) == 2
    line = _one_error_line(capsys)
    assert f"{path}: {where}" in line
    assert hint in line


def test_data_nested_past_the_bound_is_refused_without_recursion() -> None:
    """Data handed to validation directly (sweeps, --set) nested 100000 deep: a ScenarioError
    naming the key, not a RecursionError."""
    deep: dict = {}
    node = deep
    for _ in range(100_000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(scenarios.ScenarioError, match=r"x: twin\.params\.a: nests more than 16"):
        validate_scenario({"name": "x", "agents": [], "twin": {"params": deep}}, "x")


def test_a_file_over_a_megabyte_is_refused_unread(write_toml, capsys) -> None:
    path = write_toml('name = "big"\n# ' + "x" * (1 << 20) + "\n", "big")
    assert main(["validate", str(path)]) == 2
    assert "larger than 1048576 bytes" in _one_error_line(capsys)


def test_params_the_manifest_cannot_record_are_refused_at_load() -> None:
    """A value the run's manifest could not write as JSON is refused by validation, not found
    after the last tick."""
    data = {"name": "x", "agents": [{"role": "world", "policy": "idle",
                                     "params": {"x": object()}}]}
    with pytest.raises(scenarios.ScenarioError, match="cannot be written as JSON"):
        validate_scenario(data, "x")


SPECS = [
    (warehouse_spec, {"slots_per_aisle": 123_456_789_012}, "slots_per_aisle is 123456789012"),
    (warehouse_spec, {"n_aisles": 10, "slots_per_aisle": 40}, "421 nodes"),
    (warehouse_spec, {"order_rate_per_h": 3_601}, "order_rate_per_h"),
    (warehouse_spec, {"name": "x" * 65}, "at most 64"),
    (logistics_spec, {"grid_cols": 1_000_000}, "grid_cols is 1000000"),
    (logistics_spec, {"grid_cols": 17, "grid_rows": 16}, "272 junctions"),
    (logistics_spec, {"slot_ms": 30_000}, "2880 congestion slots"),
    (windfarm_spec, {"mc_samples": 100_000}, "future-days"),
    (windfarm_spec, {"n_turbines": 1000, "request_turbines_max": 1000, "mc_samples": 10_000,
                     "horizon_days": 100, "tail_days": 0}, "component lanes"),
    (windfarm_spec, {"scheduler_seeds": list(range(17))}, "at most 16"),
    (toy_spec, {"extent": 1_000}, "extent is 1000"),
]


@pytest.mark.parametrize(("builder", "kwargs", "hint"), [s for s in SPECS],
                         ids=[f"{s[0].__name__}-{next(iter(s[1]))}" for s in SPECS])
def test_spec_builders_refuse_sizes_beyond_their_bounds(builder, kwargs, hint) -> None:
    """Each spec builder refuses a parameter beyond its bound at once, naming it and the
    bound, before building anything of that size."""
    with pytest.raises(InvalidSpec, match=hint):
        builder(**kwargs)


def test_twins_at_their_largest_build() -> None:
    """The largest layouts the builders allow build (a hang guard, not a speed limit)."""
    from worlds import registry

    assert registry.make("warehouse", n_aisles=10, slots_per_aisle=37).spec.body[
        "geometry"]["slots_per_aisle"] == 37
    assert registry.make("logistics", grid_cols=16, grid_rows=16).net.n == 256


def test_validate_derives_keys_per_group_not_per_agent(small_market, write_toml, monkeypatch,
                                                       capsys) -> None:
    """`validate` of 10000 agents in five groups derives a handful of keys (the system's and
    one per group) on the memory ledger: no key per agent, no contract deployed."""
    derived, backends = [], []
    derive = Identity.derive.__func__

    def counting(cls, *args, **kwargs):
        derived.append(args)
        return derive(cls, *args, **kwargs)

    build_module = importlib.import_module("scenarios.build")
    open_ledger = build_module.open_ledger

    def recording(backend, *args, **kwargs):
        backends.append(backend)
        return open_ledger(backend, *args, **kwargs)

    monkeypatch.setattr(Identity, "derive", classmethod(counting))
    monkeypatch.setattr(build_module, "open_ledger", recording)
    small_market["agents"][1]["count"] = 10_000 - 7
    small_market["ledger"].update(backend="evm", supply_cap=10**7)
    assert main(["validate", str(write_toml(small_market, "many"))]) == 0
    assert "10000 agents" in capsys.readouterr().out
    assert len(derived) <= 3 + len(small_market["agents"])
    assert backends == ["memory"]


def test_owners_beyond_the_first_agent_of_a_group_are_checked(small_market, write_toml,
                                                              capsys) -> None:
    """An asset owned by the last agent of a group validates; one past it is refused with a
    near match, as building every agent would."""
    small_market["assets"] = [{"key": "data/x", "kind": "data", "owner": "compute-1"}]
    assert main(["validate", str(write_toml(small_market, "owner"))]) == 0
    capsys.readouterr()
    small_market["assets"][0]["owner"] = "compute-2"
    path = write_toml(small_market, "owner")
    assert main(["validate", str(path)]) == 2
    line = _one_error_line(capsys)
    assert f"{path}: assets[0].owner: no agent is labelled 'compute-2'" in line
