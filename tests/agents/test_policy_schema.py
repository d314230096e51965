"""`twinecon schema --policy`: the JSON Schema (draft 2020-12) of the policy wire form, made
from the codecs that encode and decode it. Encoded observations and actions of real runs (every
shipped twin kind, L2 evaluations too) validate against it, with the `jsonschema` package and
with the small validator below (which runs where jsonschema is not installed); what the decoder
refuses, the schema refuses too where JSON Schema can say it."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

import scenarios
from agents.wire import MAX_SAFE_INT, WIRE_VERSION, Wire, dumps, loads
from twinecon.cli import main
from worlds import registry

try:
    import jsonschema
except ImportError:  # the small validator below stands in
    jsonschema = None


# -- a small JSON Schema validator: the keywords the wire's schema uses ---------------------------
def _errors(schema: Any, value: Any, root: dict[str, Any], path: str = "$") -> list[str]:
    """What is wrong with `value` under `schema` (draft 2020-12, the keywords used here)."""
    if schema is True or schema == {}:
        return []
    if schema is False:
        return [f"{path}: nothing is allowed here"]
    out: list[str] = []
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        out += _errors(target, value, root, path)
    kind = schema.get("type")
    if kind is not None and not _is(kind, value):
        return [*out, f"{path}: expected {kind}, got {json.dumps(value)[:40]}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: not one of {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{path}: does not match {schema['pattern']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{path}: longer than {schema['maxLength']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: above {schema['maximum']}")
    if isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items", True)
            out += _errors(sub, item, root, f"{path}[{i}]")
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems",
                                                                             len(value)):
            out.append(f"{path}: {len(value)} items")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        out += [f"{path}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if key in props:
                out += _errors(props[key], item, root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}.{key}: not allowed")
            if "propertyNames" in schema:
                out += _errors(schema["propertyNames"], key, root, f"{path}.{key}(name)")
    if "not" in schema and not _errors(schema["not"], value, root, path):
        out.append(f"{path}: matches what is excluded")
    if "anyOf" in schema and all(_errors(s, value, root, path) for s in schema["anyOf"]):
        out.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema:
        matched = sum(not _errors(s, value, root, path) for s in schema["oneOf"])
        if matched != 1:
            out.append(f"{path}: matches {matched} of oneOf")
    return out


def _is(kind: str, value: Any) -> bool:
    return {"object": isinstance(value, dict), "array": isinstance(value, list),
            "string": isinstance(value, str), "boolean": isinstance(value, bool),
            "null": value is None,
            "integer": (isinstance(value, int) and not isinstance(value, bool))
            or (isinstance(value, float) and value.is_integer()),
            "number": isinstance(value, int | float) and not isinstance(value, bool)}[kind]


class Checker:
    """Validates values against one of the schema's named types, with both validators."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._validators: dict[str, Any] = {}

    def errors(self, name: str, value: Any) -> list[str]:
        sub = {"$ref": f"#/$defs/{name}"}
        found = _errors(sub, value, self.schema)
        if jsonschema is not None:
            validator = self._validators.get(name)
            if validator is None:
                validator = self._validators[name] = jsonschema.Draft202012Validator(
                    {"$schema": self.schema["$schema"], "$defs": self.schema["$defs"], **sub})
            theirs = [e.message for e in validator.iter_errors(value)]
            assert bool(theirs) == bool(found), (name, theirs, found)
        return found


def _schema_for(kind: str) -> dict[str, Any]:
    return Wire.for_twin(registry.make(kind)).json_schema(
        title=f"{WIRE_VERSION}: observations and actions, {kind} twin")


def test_the_command_prints_the_schema_made_from_the_codecs(capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    """`twinecon schema --policy` prints Wire.json_schema() of the warehouse (or --twin) twin:
    a valid draft 2020-12 schema naming the observation, every action and the messages."""
    assert main(["schema", "--policy"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(_schema_for("warehouse")))
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    defs = printed["$defs"]
    wire = Wire.for_twin(registry.make("warehouse"))
    assert {"Observation", "Action", "Actions", "ActRequest", "ActionsAnswer", "ErrorAnswer",
            "Order", "Plan", *wire.action_types()} <= set(defs)
    assert [r["$ref"].rsplit("/", 1)[1] for r in defs["Action"]["oneOf"]] == \
        list(wire.action_types())
    assert main(["schema", "--policy", "--twin", "windfarm"]) == 0
    assert "windfarm" in json.loads(capsys.readouterr().out)["title"]
    if jsonschema is not None:
        jsonschema.Draft202012Validator.check_schema(printed)


@pytest.mark.parametrize("kind", registry.kinds())
def test_every_twin_kind_has_a_valid_schema(kind: str) -> None:
    schema = _schema_for(kind)
    json.dumps(schema)
    if jsonschema is not None:
        jsonschema.Draft202012Validator.check_schema(schema)


def _play(loaded: scenarios.LoadedScenario, ticks: int) -> tuple[list[Any], list[Any], Wire]:
    """Every observation and every decision's actions of `ticks` ticks, encoded."""
    built = scenarios.build(loaded)
    model = built.model
    wire = Wire.for_twin(model.twin)
    observations, actions = [], []
    try:
        for _ in range(ticks):
            model.begin_tick()
            decisions = []
            for p in model.participants:
                obs = model.observe(p)
                observations.append(loads(dumps(wire.encode_observation(obs))))
                decision = p.decide(obs)
                actions.append(loads(dumps(wire.encode_actions(decision.actions))))
                decisions.append((p, decision))
            model.resolve(decisions)
            model.end_tick()
    finally:
        built.close()
    return observations, actions, wire


@pytest.mark.parametrize(("name", "ticks"), [
    ("warehouse-market", 14), ("warehouse-physics", 11), ("logistics-market", 10),
    ("windfarm-market", 10)])
def test_observations_and_actions_of_real_runs_validate(name: str, ticks: int) -> None:
    """The encoded observation of every agent, every tick, and every decision's actions, of
    short runs of the built-in scenarios, validate against the schema (and the observations
    hold what the schema describes: jobs, results with evaluations, outcomes)."""
    loaded = scenarios.apply_overrides(scenarios.load_scenario(name), ledger="memory",
                                       signatures="off")
    observations, actions, _ = _play(loaded, ticks)
    kind = loaded.scenario.twin.kind
    check = Checker(_schema_for(kind))
    for obs in observations:
        assert check.errors("Observation", obs) == []
        request = {"type": "act", "wire": WIRE_VERSION, "index": 3, "seed": "12",
                   "params": {"x": 1}, "observation": obs}
        assert check.errors("ActRequest", request) == []
    for acts in actions:
        assert check.errors("Actions", acts) == []
        assert check.errors("ActionsAnswer", {"type": "actions", "actions": acts}) == []
    assert any(o.get("results") for o in observations), "no evaluations were seen"
    assert any(o.get("open_jobs") for o in observations)
    assert sum(len(a) for a in actions) > 0


def test_what_the_decoder_refuses_the_schema_refuses() -> None:
    """Wrong types, unknown fields and types, missing fields, big numbers, malformed
    addresses: refused by both the decoder and the schema."""
    check = Checker(_schema_for("warehouse"))
    wire = Wire.for_twin(registry.make("warehouse"))
    good = [{"type": "Bid", "job_id": "7", "price": "1500"},
            {"type": "PostJob", "order_id": "o", "budget": "10", "evaluator": None},
            {"type": "Submit", "job_id": "1", "plan": {"solver": "tsp", "route": [0, 3, 0]}},
            {"type": "Contribute", "pool": "p", "content": "0x00ff", "units": "2"}]
    assert check.errors("Actions", good) == []
    wire.decode_actions(good)
    bad = [
        {"type": "Bid", "job_id": "7", "price": 1500},
        {"type": "Bid", "job_id": "7", "price": "-0"},
        {"type": "Bid", "job_id": "7", "price": "0015"},
        {"type": "Bidd", "job_id": "7", "price": "1"},
        {"type": "Bid", "job_id": "7", "prise": "1"},
        {"type": "Bid", "job_id": "7"},
        {"job_id": "7", "price": "1"},
        {"type": "PostJob", "order_id": "o", "budget": "1", "expires_in": 2**53},
        {"type": "Pay", "to": "0x1234", "amount": "1"},
        {"type": "Contribute", "pool": "p", "content": "0xabc", "units": "1"},
        {"type": "Submit", "job_id": "1", "plan": {"solver": "s"}},
        {"type": "Submit", "job_id": "1", "plan": {"solver": "s", "route": ["1"]}},
    ]
    for action in bad:
        assert check.errors("Action", action), action
        with pytest.raises(Exception, match="expected"):
            wire.decode_action(action)
    assert check.errors("Actions", {"type": "Bid"})
    assert check.errors("ActionsAnswer", {"type": "actions"})
    assert check.errors("ErrorAnswer", {"type": "error", "error": 3})
    assert check.errors("Int", MAX_SAFE_INT + 1) and not check.errors("Int", -MAX_SAFE_INT)


def test_the_small_validator_agrees_with_itself_on_a_mutated_observation() -> None:
    """An observation with one int-string turned into a number, or a field added, is refused
    (guards the stand-in validator where jsonschema is absent)."""
    loaded = scenarios.apply_overrides(scenarios.load_scenario("warehouse-market"),
                                       ledger="memory", signatures="off", ticks=3)
    observations, _, _ = _play(loaded, 3)
    check = Checker(_schema_for("warehouse"))
    obs = copy.deepcopy(observations[-1])
    assert check.errors("Observation", obs) == []
    obs["balance"] = int(obs["balance"])
    assert check.errors("Observation", obs)
    obs = copy.deepcopy(observations[-1])
    obs["secret"] = "x"
    assert check.errors("Observation", obs)
    obs = copy.deepcopy(observations[-1])
    del obs["tick"]
    assert check.errors("Observation", obs)
