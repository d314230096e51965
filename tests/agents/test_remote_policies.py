"""Policies in any language (agents.remote): a policy served over HTTP (`http://...`) or run
as a subprocess speaking JSON lines (`exec:...`) makes the same run as the same logic in the
simulator's process; what they receive is the wire form with the agent's index, seed and the
group's params; every way a call fails is a recorded policy fault while the run goes on, an
answer that did not arrive is tried again; `validate` checks their syntax only and says so;
the README's block runs as written.

Every server here binds 127.0.0.1 only. Time limits are far from what the honest calls take
(milliseconds) and from what the hostile ones would (they wait for seconds or for ever).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import scenarios
from agents import PolicyFault, PolicyLoadError
from agents.limits import PolicyLimits
from agents.remote import ExecPolicy, HttpPolicy, exec_argv, make_remote_policy
from agents.wire import WIRE_VERSION
from scenarios.errors import ScenarioError
from twinecon.cli import main
from twinecon.seeds import Stream

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCENARIO = EXAMPLES / "remote-policy.toml"
SERVER = EXAMPLES / "remote_policy_server.py"

sys.path.insert(0, str(EXAMPLES))
import remote_policy_server as example  # noqa: E402

sys.path.remove(str(EXAMPLES))

#: (status, body) a scripted server answers to one message (and its attempt, from 1)
Respond = Callable[[dict[str, Any], int], tuple[int, bytes]]


@contextmanager
def serve(respond: Respond) -> Iterator[tuple[str, list[dict[str, Any]], threading.Event]]:
    """A server on 127.0.0.1 (a free port) answering with `respond`: (its act URL, the
    messages it received, an event that releases handlers told to wait)."""
    received: list[dict[str, Any]] = []
    attempts: dict[tuple[str, int], int] = {}
    release = threading.Event()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = (message["observation"]["address"], message["observation"]["tick"])
            with lock:
                received.append(message)
                attempts[key] = attempts.get(key, 0) + 1
                attempt = attempts[key]
            status, body = respond(message, attempt)
            if status == 0:  # hold the answer until released (the client gives up first)
                release.wait(30)
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/act", received, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def example_answer(message: dict[str, Any], attempt: int) -> tuple[int, bytes]:
    return 200, json.dumps(example.answer(message)).encode()


def _loaded(ticks: int, **sets: Any) -> scenarios.LoadedScenario:
    return scenarios.apply_overrides(scenarios.load_scenario(SCENARIO), ticks=ticks,
                                     sets=sets)


def _run(loaded: scenarios.LoadedScenario, out: Path) -> scenarios.RunResult:
    return scenarios.run_scenario(loaded, out)


def test_http_subprocess_and_in_process_make_the_same_run(tmp_path: Path) -> None:
    """The example's customer logic served over HTTP, as a subprocess speaking JSON lines, and
    in the simulator's process: the same summary.json, byte for byte, with jobs posted and
    completed and no fault."""
    with serve(example_answer) as (url, received, _):
        http = _run(_loaded(15, **{"agents.1.policy": url}), tmp_path / "http")
    exec_ref = f"exec:{{python}} {SERVER} --stdio"
    sub = _run(_loaded(15, **{"agents.1.policy": exec_ref}), tmp_path / "exec")
    inproc = _run(_loaded(15, **{"agents.1.policy": f"{SERVER}:Customer"}), tmp_path / "in")
    summary = (tmp_path / "http" / "summary.json").read_bytes()
    assert (tmp_path / "exec" / "summary.json").read_bytes() == summary
    assert (tmp_path / "in" / "summary.json").read_bytes() == summary
    s = http.summary
    assert s["jobs_posted"] > 0 and s["jobs_completed"] > 0 and s["policy_faults"] == 0
    assert len(received) == 15 * 4  # every customer, every tick
    assert sub.manifest["config"]["agents"][1]["policy"] == exec_ref
    assert inproc.summary["policy_faults"] == 0


def test_each_message_carries_the_agent_and_its_params(tmp_path: Path) -> None:
    """The act message: the wire version, the agent's index and reset seed (its
    `POLICY_RESET` stream), the group's params in base units (an amount past 2**53 as a
    string), and the agent's observation in the wire form."""
    with serve(example_answer) as (url, received, _):
        loaded = _loaded(2, **{"agents.1.policy": url, "agents.1.count": 1})
        built = scenarios.build(loaded)
        built.model.step()
        built.close()
    message = received[0]
    assert set(message) == {"type", "wire", "index", "seed", "params", "observation"}
    assert message["type"] == "act" and message["wire"] == WIRE_VERSION
    agent = next(a for a in built.agents if a.label == "customer-0")
    assert message["index"] == agent.index
    assert message["seed"] == str(built.model.seeds.integer(Stream.POLICY_RESET, agent.index))
    assert message["params"] == {"budget_per_line": str(6 * 10**16), "max_open_jobs": 2,
                                 "expires_in": 12, "min_gain_bps": 300}
    obs = message["observation"]
    assert obs["address"] == agent.address and obs["role"] == "customer" and obs["tick"] == 1
    assert isinstance(obs["balance"], str)


def _faulty(message: dict[str, Any], attempt: int) -> tuple[int, bytes]:
    """A different failure at each tick; the example's answer otherwise."""
    tick = message["observation"]["tick"]
    if tick == 2:
        return 200, b'{"type": "error", "error": "no idea what to do"}'
    if tick == 3:
        return 200, b'{"type": "actions", "actions": [{"type": "Bid", "job_id": "1", ' \
                    b'"price": 1500}]}'
    if tick == 4:
        return 200, b"}{ not json"
    if tick == 5:
        return 404, b"no such policy"
    if tick == 6:
        return 0, b""  # never answers in time
    if tick == 7 and attempt == 1:
        return 503, b"busy"  # the retry succeeds
    return example_answer(message, attempt)


def test_a_faulty_remote_policy_is_recorded_and_the_run_goes_on(tmp_path: Path,
                                                                read_table: Any) -> None:
    """An error answer, invalid actions, garbage, an HTTP 404 and a server that never answers
    are each a policy_fault event saying what happened (the deadline one after its retry);
    an HTTP 503 followed by an answer is no fault; the run completes and the agent acts on
    the other ticks."""
    with serve(_faulty) as (url, received, _):
        loaded = _loaded(9, **{"agents.1.policy": url, "agents.1.count": 1,
                               "policies.time_limit_ms": 400})
        result = _run(loaded, tmp_path / "faulty")
    events = read_table(result, "events")
    faults = events[events.kind == "policy_fault"].sort_values("tick")
    assert list(faults.tick) == [2, 3, 4, 5, 6]
    expected = [
        "remote policy answered an error: no idea what to do",
        "actions[0].price: expected an integer as a string of decimal digits",
        "answered something that is not twinecon-policy-wire/1 (message: expected one JSON",
        "answered HTTP 404 Not Found: 'no such policy'",
        "did not answer within 400 ms (time_limit_ms) (tried 2 times)",
    ]
    for detail, says in zip(faults.detail, expected, strict=True):
        assert detail.startswith("customer-0 (http://127.0.0.1:") and says in detail, detail
    assert result.summary["policy_faults"] == 5
    ticks = [m["observation"]["tick"] for m in received]
    assert ticks.count(6) == 2 and ticks.count(7) == 2  # each tried once more
    assert ticks.count(5) == 1 and ticks.count(2) == 1  # an answer that arrived: no retry
    assert result.summary["jobs_posted"] > 0


def test_an_unreachable_server_is_a_fault_after_its_retries(tmp_path: Path) -> None:
    """Nothing listening: each call is a fault saying the connection was refused, tried
    1 + retries times."""
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    built = scenarios.build(_loaded(2, **{"agents.1.policy": f"http://127.0.0.1:{port}/act",
                                          "agents.1.count": 1, "policies.retries": 2}))
    agent = next(a for a in built.agents if a.label == "customer-0")
    assert agent.limits.retries == 2
    built.model.begin_tick()
    with pytest.raises(PolicyFault, match=r"connection refused .* \(tried 3 times\)"):
        agent.policy.act(built.model.observe(agent))
    assert agent.policy.n_retries == 2


SCRIPT = r'''
import json, os, sys, time
for line in sys.stdin:
    message = json.loads(line)
    tick = message["observation"]["tick"]
    if tick == 2:
        os._exit(3)                          # dies (and again at the retry)
    if tick == 3:
        print("debug: thinking", flush=True)  # stray output on the protocol
    if tick == 4:
        time.sleep(60)                       # stopped at the deadline
    if tick == 5:
        print(json.dumps({"type": "error", "error": "cannot act"}), flush=True)
        continue
    print(json.dumps({"type": "actions", "actions": []}), flush=True)
'''


def test_a_faulty_subprocess_is_recorded_restarted_and_the_run_goes_on(
        tmp_path: Path, read_table: Any) -> None:
    """A subprocess that exits, writes stray output, hangs, or answers an error: each a
    policy_fault saying so; it is started afresh after each stop, and acts on the other
    ticks; its process is gone when the run ends."""
    (tmp_path / "policy.py").write_text(SCRIPT)
    ref = f"exec:{{python}} {tmp_path / 'policy.py'}"
    loaded = _loaded(6, **{"agents.1.policy": ref, "agents.1.count": 1,
                           "policies.time_limit_ms": 1000})
    built = scenarios.build(loaded)
    policy = next(a for a in built.agents if a.label == "customer-0").policy
    assert isinstance(policy, ExecPolicy)
    pids = []
    for _ in range(6):
        built.model.step()
        pids.append(policy.pid)
    result = built.model.finish()
    built.close()
    assert result["policy_faults"] == 4
    assert policy.pid is None
    for pid in {p for p in pids if p is not None}:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    # tick 1 starts it; tick 2: it dies at the call and at the retry; tick 3 its stray line
    # stops it; tick 4 it is stopped at the deadline twice; ticks 5 and 6 one process serves
    assert policy.n_starts == 6
    assert pids[4] == pids[5] is not None


def test_subprocess_fault_texts(tmp_path: Path) -> None:
    """What each subprocess failure says."""
    (tmp_path / "policy.py").write_text(SCRIPT)
    built = scenarios.build(_loaded(6, **{"agents.1.count": 1,
                                          "agents.1.policy": f"{SERVER}:Customer"}))
    model = built.model
    policy = ExecPolicy(f"exec:{{python}} {tmp_path / 'policy.py'}", {},
                        limits=PolicyLimits(time_limit_ms=1000, retries=0),
                        twin_spec=model.twin.spec)
    agent = next(a for a in built.agents if a.label == "customer-0")
    says = {2: r"its subprocess exited with code 3 before answering",
            3: r"answered something that is not twinecon-policy-wire/1 \(1[0-9] bytes after "
               r"its answer\)|answered something that is not twinecon-policy-wire/1",
            4: r"did not answer within 1000 ms \(time_limit_ms\); it was stopped",
            5: r"subprocess policy answered an error: cannot act"}
    with policy:
        for tick in range(1, 6):
            model.begin_tick()
            obs = model.observe(agent)
            if tick in says:
                with pytest.raises(PolicyFault, match=says[tick]):
                    policy.act(obs)
            else:
                assert policy.act(obs) == []
            model.resolve([])
            model.end_tick()
    built.close()


ONE_ANSWER = r'''
import json, sys
json.loads(sys.stdin.readline())
print(json.dumps({"type": "actions", "actions": []}), flush=True)
'''


def test_a_one_answer_program_is_started_at_every_call(tmp_path: Path) -> None:
    """A program that reads one message, answers and exits: no fault with a retry allowed, a
    fresh process each call (found gone before the call, or at it: then the retry starts it).
    One that writes more than its answer is a fault, whenever its extra bytes arrive."""
    (tmp_path / "once.py").write_text(ONE_ANSWER)
    built = scenarios.build(_loaded(4, **{"agents.1.count": 1,
                                          "agents.1.policy": f"{SERVER}:Customer"}))
    model = built.model
    agent = next(a for a in built.agents if a.label == "customer-0")
    with ExecPolicy(f"exec:{{python}} {tmp_path / 'once.py'}", {},
                    twin_spec=model.twin.spec) as policy:
        for _ in range(4):
            model.begin_tick()
            assert policy.act(model.observe(agent)) == []
            model.resolve([])
            model.end_tick()
        assert policy.n_starts == 4 and policy.n_retries <= 3
    (tmp_path / "chatty.py").write_text(ONE_ANSWER + "print('bye', flush=True)\n"
                                        "sys.stdin.readline()\n")
    with ExecPolicy(f"exec:{{python}} {tmp_path / 'chatty.py'}", {},
                    twin_spec=model.twin.spec) as policy:
        model.begin_tick()
        obs = model.observe(agent)
        # its "bye" arrives with the answer (bytes after it), between calls, or as the answer
        # to the next message
        with pytest.raises(PolicyFault, match="answered something that is not"):
            policy.act(obs)
            policy.act(obs)
    built.close()


def test_exec_commands_split_without_a_shell(tmp_path: Path) -> None:
    """`{python}` is this interpreter and `{scenario_dir}` the scenario's folder; quoting is
    a POSIX shell's; no shell runs it."""
    assert exec_argv("exec:{python} '{scenario_dir}/my policy.py' --x 'a b'", tmp_path) == \
        [sys.executable, f"{tmp_path.resolve()}/my policy.py", "--x", "a b"]
    assert exec_argv("exec:echo '{{literal}}'", None) == ["echo", "{literal}"]


@pytest.mark.parametrize(("ref", "says"), [
    ("http://", "not a policy URL: it names no host"),
    ("http://127.0.0.1:99999/act", "not a policy URL: bad port"),
    ("https://host/act#frag", "not a policy URL: a URL for a POST has no #fragment"),
    ("http://exa mple/act", "whitespace"),
    ("exec:", "no command after 'exec:'"),
    ("exec:python3 'unbalanced", "does not split into words"),
    ("exec:{pyhton} policy.py", "unknown placeholder"),
    ("exec:no-such-program-twinecon policy.py", "the program 'no-such-program-twinecon' is "
                                                "not found on PATH"),
    ("exec:./missing/policy", "not found or not executable"),
])
def test_a_bad_reference_is_refused_naming_the_group(ref: str, says: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """A malformed URL or command is a scenario error naming agents[1].policy, from validate
    (exit 2) and from the build; no server is called."""
    with pytest.raises(PolicyLoadError, match=re.escape(says)):
        make_remote_policy(ref, {})
    data = SCENARIO.read_text().replace('"http://127.0.0.1:8765/act"', json.dumps(ref))
    path = tmp_path / "bad.toml"
    path.write_text(data)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "agents[1].policy" in err and says in err
    with pytest.raises(ScenarioError, match=re.escape(says)):
        scenarios.build(scenarios.load_scenario(path))


def test_validate_checks_the_syntax_only_and_says_so(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """Nothing listens at the scenario's URL: validate passes, saying the server is not
    called; for an exec policy, that its command is not started."""
    assert main(["validate", str(SCENARIO)]) == 0
    out = capsys.readouterr().out
    assert "ok (remote-policy, 11 agents)" in out
    assert ("note: agents[1].policy 'http://127.0.0.1:8765/act': its syntax is checked, the "
            "server is not called") in out
    marker = tmp_path / "started"
    data = SCENARIO.read_text().replace(
        '"http://127.0.0.1:8765/act"',
        json.dumps(f"exec:{{python}} -c \"open('{marker}', 'w')\""))
    (tmp_path / "exec.toml").write_text(data)
    assert main(["validate", str(tmp_path / "exec.toml")]) == 0
    assert "its syntax is checked, its command is not started" in capsys.readouterr().out
    assert not marker.exists()


def test_the_in_process_time_budget_is_not_laid_over_a_remote_call(tmp_path: Path) -> None:
    """A remote policy keeps its own deadline per attempt: the agent's in-process alarm does
    not cut a call between its retries (the fault says both attempts timed out)."""
    def slow(message: dict[str, Any], attempt: int) -> tuple[int, bytes]:
        return 0, b""

    with serve(slow) as (url, received, _):
        built = scenarios.build(_loaded(2, **{"agents.1.policy": url, "agents.1.count": 1,
                                              "policies.time_limit_ms": 300}))
        agent = next(a for a in built.agents if a.label == "customer-0")
        built.model.begin_tick()
        decision = agent.decide(built.model.observe(agent))
        built.close()
    assert decision.fault is not None
    assert "did not answer within 300 ms (time_limit_ms) (tried 2 times)" in decision.fault
    assert len(received) == 2


def test_an_answer_too_long_is_a_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    import agents.remote

    monkeypatch.setattr(agents.remote, "MAX_REPLY_BYTES", 1_000)

    def long(message: dict[str, Any], attempt: int) -> tuple[int, bytes]:
        return 200, b'{"type": "actions", "actions": []' + b" " * 5_000 + b"}"

    with serve(long) as (url, _, _):
        built = scenarios.build(_loaded(2, **{"agents.1.policy": url, "agents.1.count": 1}))
        agent = next(a for a in built.agents if a.label == "customer-0")
        assert isinstance(agent.policy, HttpPolicy)
        built.model.begin_tick()
        with pytest.raises(PolicyFault, match="answered more than 1,000 bytes"):
            agent.policy.act(built.model.observe(agent))
        built.close()


# -- the README's block ----------------------------------------------------------------------
README = ROOT / "README.md"
DOC = ROOT / "docs" / "policy-wire.md"
README_HEADING = "## Policies in any language, and LLM policies"


def sh_block(path: Path, after: str, index: int = 0) -> str:
    """The `index`-th ```sh block after the heading `after` in `path`."""
    text = path.read_text()
    section = text[text.index(after):]
    return re.findall(r"```sh\n(.*?)```", section, re.S)[index]


def readme_block(doc: Path, doc_heading: str, index: int) -> str:
    """The block as the docs hold it; the README's subsection, once pasted, holds the same."""
    block = sh_block(doc, doc_heading)
    if README_HEADING in README.read_text():
        assert sh_block(README, README_HEADING, index) == block
    return block


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readme_remote_block_runs_as_written(tmp_path: Path) -> None:
    """The README's block, as written (the server's port moved to a free one): the HTTP, the
    subprocess and the in-process runs give the same summary.json; the server is stopped."""
    port = free_port()
    examples = tmp_path / "examples"
    examples.mkdir()
    for name in ("remote-policy.toml", "remote_policy_server.py"):
        (examples / name).write_text((EXAMPLES / name).read_text().replace("8765", str(port)))
    script = readme_block(DOC, "### Quick start: a policy in another language", 0)
    assert "8765" in script
    script = script.replace(".venv/bin/twinecon", f"{sys.executable} -m twinecon")
    script = script.replace("8765", str(port)).replace("examples/", f"{examples}/")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("same run")
    summary = json.loads((tmp_path / "runs" / "remote" / "summary.json").read_text())
    assert summary["jobs_posted"] > 0 and summary["policy_faults"] == 0
    with socket.socket() as s:  # the server went with the script
        assert s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3 on PATH")
def test_the_example_server_speaks_json_lines() -> None:
    """`--stdio`: one answer line per message line, an error for anything but an act."""
    message = {"type": "act", "wire": WIRE_VERSION, "index": 0, "seed": "1", "params": {},
               "observation": {"tick": 1, "address": "0x" + "ab" * 20, "balance": "100",
                               "jobs": [], "evaluators": [], "orders": []}}
    lines = json.dumps(message) + "\n" + json.dumps({"type": "start"}) + "\n"
    done = subprocess.run(["python3", str(SERVER), "--stdio"], input=lines,
                          capture_output=True, text=True, timeout=60)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert answers[0] == {"type": "actions", "actions": []}
    assert answers[1]["type"] == "error"
