"""A policy fault says what was raised and where: the exception's type and message and the
file and line of the innermost frame in the policy's own code, in this process and in a
policy's worker process alike (agents.faults)."""

from __future__ import annotations

import pytest

from agents.errors import PolicyFault
from agents.faults import MAX_MESSAGE, FaultOrigin, describe_exception, fault_origin

BROKEN = '''\
import numpy as np


def pick(obs):
    return np.zeros(2)[obs.tick + 5]  # IndexError from inside numpy's indexing


class Broken:
    def act(self, obs):
        return pick(obs)


class BadReset:
    def reset(self, seed):
        raise ValueError(f"no seed like {seed % 7}")

    def act(self, obs):
        return []
'''
PICK_LINE = BROKEN.splitlines().index("    return np.zeros(2)[obs.tick + 5]  # IndexError from "
                                      "inside numpy's indexing") + 1
RESET_LINE = next(i for i, line in enumerate(BROKEN.splitlines(), 1) if "no seed like" in line)


def _market(isolation: str) -> dict:
    """The twin's owner and the two broken providers, on the memory ledger."""
    return {
        "name": f"origin-{isolation}", "seed": 5, "ticks": 2,
        "ledger": {"backend": "memory", "signatures": "off"},
        "twin": {"kind": "warehouse"},
        "agents": [
            {"role": "world", "policy": "idle"},
            {"role": "provider", "label": "broken", "policy": "broken.py:Broken",
             "isolation": isolation},
            {"role": "provider", "label": "badreset", "policy": "broken.py:BadReset",
             "isolation": isolation},
        ],
    }


@pytest.mark.parametrize("isolation", ["inprocess", "process"])
def test_a_fault_records_type_message_file_and_line(write_toml, tmp_path, run, read_table,
                                                    isolation) -> None:
    """Raised two calls deep in the policy's file: the event names the exception, its message
    and broken.py at the line that raised, the same text in a worker process; a reset that
    raises is a fault of tick 0 with its own line."""
    (tmp_path / "broken.py").write_text(BROKEN)
    result = run(write_toml(_market(isolation), f"origin-{isolation}"))
    events = read_table(result, "events")
    faults = events[events.kind == "policy_fault"]
    agents = read_table(result, "agents")
    address = dict(zip(agents.label, agents.address, strict=False))
    acts = faults[faults.payer == address["broken-0"]]
    assert list(acts.tick) == [1, 2]
    for tick, detail in zip(acts.tick, acts.detail, strict=True):
        assert detail.startswith("broken-0 (broken.py:Broken): act raised ")
        assert detail.endswith(f"IndexError: index {tick + 5} is out of bounds for axis 0 "
                               f"with size 2 (at broken.py:{PICK_LINE} in pick)")
    resets = faults[faults.payer == address["badreset-0"]]
    # in this process reset runs at build (tick 0); a worker resets its policy at its start,
    # at the first call
    assert list(resets.tick)[:1] == ([0] if isolation == "inprocess" else [1])
    for detail in resets.detail:
        assert detail.startswith("badreset-0 (broken.py:BadReset): ")
        assert "reset raised ValueError: no seed like " in detail
        assert detail.endswith(f"(at broken.py:{RESET_LINE} in BadReset.reset)")


class _Mine:
    def act(self, obs):
        return helper(obs)


def helper(obs):
    return {}[obs]


def test_origin_is_the_innermost_frame_of_the_policy_s_own_code() -> None:
    """A frame in the policy's module's folder is its own (shown relative to its module's
    root, the same on every machine); the dict lookup that raised inside Python is not."""
    policy = _Mine()
    with pytest.raises(KeyError) as info:
        policy.act("tick")
    origin = fault_origin(info.value, policy)
    assert isinstance(origin, FaultOrigin)
    assert origin.file.endswith("agents/test_fault_origin.py")
    assert origin.function == "helper"
    assert origin.line == helper.__code__.co_firstlineno + 1
    assert describe_exception(info.value, policy) == f"KeyError: 'tick' (at {origin})"


def test_a_builtin_policy_s_fault_is_located_in_agents_builtin() -> None:
    """A built-in policy given a broken observation: its file under agents/builtin."""
    from agents.builtin import Customer

    policy = Customer()
    with pytest.raises(AttributeError) as info:
        policy.act(None)
    origin = fault_origin(info.value, policy)
    assert origin is not None and origin.file.startswith("agents/builtin/")


def test_describe_cuts_long_messages_and_leaves_workers_faults_unlocated() -> None:
    """A long message is cut so the place survives the event's 500 characters; a worker's
    PolicyFault already carries its place in its text; no policy, no place; an exception
    whose __str__ raises is still described."""
    policy = _Mine()
    try:
        raise ValueError("x" * 1_000)
    except ValueError as e:
        text = describe_exception(e, policy)
    assert text.startswith("ValueError: xxx") and "... (at " in text
    assert len(text.split(" (at ")[0]) == len("ValueError: ") + MAX_MESSAGE
    try:
        raise PolicyFault("act: act raised ValueError: v (at mine.py:3 in Mine.act)")
    except PolicyFault as e:
        assert describe_exception(e, policy) == \
            "PolicyFault: act: act raised ValueError: v (at mine.py:3 in Mine.act)"
    assert describe_exception(ValueError("v")) == "ValueError: v"

    class Unreadable(Exception):
        def __str__(self) -> str:
            raise RuntimeError

    assert describe_exception(Unreadable()) == \
        "Unreadable: (its message could not be read)"
