"""The `llm` policy against a deterministic stub of an OpenAI-compatible endpoint on 127.0.0.1:
its actions are taken; every prompt and answer is logged (llm.jsonl) with tokens and latency;
a rerun answers from the cache with zero calls and the same outputs; the budget stops calls
and the fallback acts; an invalid answer is a recorded fault and the run goes on; the key is
sent but never written anywhere; the README's block runs as written.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import scenarios
from agents import PolicyLoadError, make_policy
from agents.builtin.llm import LOG_NAME, LLMPolicy
from agents.limits import Isolation, PolicyLimits
from scenarios.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "llm-customer.toml"
KEY_ENV = "TWINECON_TEST_LLM_KEY"
KEY = "sk-test-6f1d0c53a1b2e4f7-do-not-write"
TABLES = ("events", "ticks", "agents", "flows", "jobs")


def customer_actions(obs: dict[str, Any]) -> list[dict[str, Any]]:
    """What the stub's model answers a customer: a job per order (at most two open), a
    budget of 0.06 tokens per line, the evaluators in turn."""
    me = obs["address"]
    open_jobs = sum(1 for j in obs.get("jobs", [])
                    if j["client"] == me and j["state"] != "submitted")
    evaluators = obs.get("evaluators", [])
    actions = []
    for i, order in enumerate(obs.get("orders", [])[: max(0, 2 - open_jobs)]):
        action = {"type": "PostJob", "order_id": order["order_id"],
                  "budget": str(6 * 10**16 * len(order["lines"]))}
        if evaluators:
            action["evaluator"] = evaluators[(obs["tick"] + i) % len(evaluators)]
        actions.append(action)
    return actions


class Stub:
    """`POST /v1/chat/completions`: the answer derived from the prompt's observation (the last
    message), `usage` counted from the text; `content` may be replaced per (address, tick)."""

    def __init__(self, content: Callable[[dict[str, Any]], str | None] | None = None,
                 status: Callable[[dict[str, Any], int], int] | None = None) -> None:
        self.content = content or (lambda obs: None)
        self.status = status or (lambda obs, n: 200)
        self.calls: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def answer(self, path: str, body: dict[str, Any], auth: str | None) -> tuple[int, bytes]:
        obs = json.loads(body["messages"][-1]["content"])
        with self.lock:
            self.calls.append(body)
            self.auth.append(auth)
            self.paths.append(path)
            n = sum(1 for c in self.calls if c["messages"][-1] == body["messages"][-1])
        status = self.status(obs, n)
        if status != 200:
            return status, json.dumps({"error": {"message": f"refused ({auth})"}}).encode()
        content = self.content(obs)
        if content is None:
            actions = customer_actions(obs) if obs["role"] == "customer" else []
            content = json.dumps({"actions": actions, "reason": "one job per order"})
        prompt = sum(len(m["content"]) for m in body["messages"]) // 4
        completion = len(content) // 4
        return 200, json.dumps({
            "id": "stub", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion}}).encode()


@contextmanager
def serving(stub: Stub) -> Iterator[str]:
    """The stub on 127.0.0.1 (a free port): its base URL."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, data = stub.answer(self.path, body, self.headers.get("Authorization"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, KEY)
    return KEY


def _loaded(url: str, cache_dir: Path, ticks: int = 8, **params: Any
            ) -> scenarios.LoadedScenario:
    sets = {"agents.1.params.base_url": url, "agents.1.params.cache_dir": str(cache_dir),
            "agents.1.params.api_key_env": KEY_ENV,
            **{f"agents.1.params.{k}": v for k, v in params.items()}}
    return scenarios.apply_overrides(scenarios.load_scenario(EXAMPLE), ticks=ticks, sets=sets)


def _log(result: scenarios.RunResult) -> list[dict[str, Any]]:
    return [json.loads(line) for line in
            (result.out_dir / LOG_NAME).read_text().splitlines()]


def test_the_model_acts_and_every_consultation_is_logged(tmp_path: Path, keyed: str) -> None:
    """Both llm customers ask the endpoint every tick and post the jobs it answers; each
    consultation is a line of llm.jsonl: the prompt (the rules and the wire form of the
    observation), the answer, the actions, the endpoint's token counts and the latency."""
    stub = Stub()
    with serving(stub) as url:
        result = scenarios.run_scenario(_loaded(url, tmp_path / "cache"), tmp_path / "run")
    s = result.summary
    assert s["jobs_posted"] > 0 and s["policy_faults"] == 0
    assert len(stub.calls) == 2 * 8
    assert set(stub.paths) == {"/v1/chat/completions"}
    assert stub.auth == [f"Bearer {keyed}"] * len(stub.calls)
    assert LOG_NAME in result.manifest["outputs"]
    rows = _log(result)
    assert len(rows) == 16 and {r["agent"] for r in rows} == {"customer-0", "customer-1"}
    posted = 0
    for row, call in zip(rows, stub.calls, strict=True):
        assert row["source"] == "endpoint" and row["fault"] is None
        assert row["messages"] == call["messages"] and row["model"] == "llama3.2"
        system, user = (m["content"] for m in row["messages"])
        assert "You are a customer" in system and "- PostJob: order_id string" in system
        assert "The rules in force" in system
        obs = json.loads(user)
        assert obs["tick"] == row["tick"] and obs["address"] == row["address"]
        answered = json.loads(row["answer"])["actions"]  # logged as taken: defaults filled in
        assert len(answered) == len(row["actions"])
        assert all(a.items() <= b.items() for a, b in zip(answered, row["actions"], strict=True))
        assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"] > 0
        assert row["latency_ms"] >= 0 and row["attempts"] == 1
        assert len(row["prompt_sha256"]) == 64
        posted += len(row["actions"])
    assert posted == s["jobs_posted"]
    assert any("orders" in json.loads(r["messages"][1]["content"]) for r in rows)


def _digests(out: Path) -> dict[str, Any]:
    tables = {t: pd.read_parquet(out / f"{t}.parquet") for t in TABLES}
    return {"summary": (out / "summary.json").read_bytes(), **tables}


def test_a_rerun_answers_from_the_cache_with_no_call(tmp_path: Path, keyed: str) -> None:
    """The same scenario again: zero calls, the same summary.json bytes and tables; its log
    says every answer came from the cache (with the same tokens, no latency)."""
    stub = Stub()
    with serving(stub) as url:
        first = scenarios.run_scenario(_loaded(url, tmp_path / "cache"), tmp_path / "one")
        calls = len(stub.calls)
        again = scenarios.run_scenario(_loaded(url, tmp_path / "cache"), tmp_path / "two")
    assert calls == 16 and len(stub.calls) == calls
    one, two = _digests(first.out_dir), _digests(again.out_dir)
    assert one["summary"] == two["summary"]
    for t in TABLES:
        pd.testing.assert_frame_equal(one[t], two[t])
    rows = _log(again)
    assert {r["source"] for r in rows} == {"cache"}
    assert [r["total_tokens"] for r in rows] == [r["total_tokens"] for r in _log(first)]
    assert all(r["latency_ms"] is None for r in rows)
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 16


def test_without_the_cache_every_run_calls(tmp_path: Path, keyed: str) -> None:
    stub = Stub()
    with serving(stub) as url:
        for name in ("one", "two"):
            scenarios.run_scenario(_loaded(url, tmp_path / "cache", ticks=3, cache=False),
                                   tmp_path / name)
    assert len(stub.calls) == 2 * 2 * 3
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(("params", "calls", "reason"), [
    ({"max_calls_per_agent": 3}, 6, "max_calls_per_agent (3) reached"),
    ({"max_calls_per_run": 5}, 5, "max_calls_per_run (5) reached"),
    ({"max_tokens_per_agent": 1}, 2, "max_tokens_per_agent (1) reached"),
])
def test_the_budget_stops_calls_and_the_fallback_acts(tmp_path: Path, keyed: str,
                                                      params: dict[str, Any], calls: int,
                                                      reason: str) -> None:
    """Past its budget an agent makes no call and acts as its fallback (the example's: the
    built-in customer), each such tick logged with the reason; the run's budget is shared by
    its llm agents; a rerun from the cache stops at the same point without calling."""
    stub = Stub()
    with serving(stub) as url:
        result = scenarios.run_scenario(_loaded(url, tmp_path / "cache", **params),
                                        tmp_path / "run")
        assert len(stub.calls) == calls
        rows = _log(result)
        fallback = [r for r in rows if r["source"] == "fallback"]
        assert len(fallback) == 16 - calls
        assert all(r["reason"] == reason and r["fallback"] == "customer" for r in fallback)
        again = scenarios.run_scenario(_loaded(url, tmp_path / "cache", **params),
                                       tmp_path / "again")
    assert len(stub.calls) == calls
    assert (result.out_dir / "summary.json").read_bytes() == \
        (again.out_dir / "summary.json").read_bytes()


def test_the_idle_fallback_takes_no_action(tmp_path: Path, keyed: str) -> None:
    stub = Stub()
    with serving(stub) as url:
        result = scenarios.run_scenario(
            _loaded(url, tmp_path / "cache", max_calls_per_agent=0, fallback="idle",
                    fallback_params={}), tmp_path / "run")
    assert stub.calls == [] and result.summary["jobs_posted"] == 0
    assert {r["source"] for r in _log(result)} == {"fallback"}


@pytest.mark.parametrize(("content", "says"), [
    ('{"actions": [{"type": "PostJob", "order_id": "x", "budget": 5}]}',
     "actions[0].budget: expected an integer as a string of decimal digits"),
    ("I would post a job.", "message: expected one JSON document"),
    ('{"actions": [{"type": "Bidd", "job_id": "1", "price": "2"}]}', "did you mean 'Bid'"),
    ('{"steps": []}', 'expected an object {"actions": [...]}'),
    ('```json\n{"actions": [{"type": "Pay"}]}\n```', "actions[0].to: expected the field"),
])
def test_an_invalid_answer_is_a_recorded_fault_and_the_run_goes_on(
        tmp_path: Path, keyed: str, read_table: Any, content: str, says: str) -> None:
    """At tick 3 the model answers something that is not valid actions: a policy_fault of
    each llm agent saying why (logged too, with the answer); the other ticks act."""
    stub = Stub(content=lambda obs: content if obs["tick"] == 3 else None)
    with serving(stub) as url:
        result = scenarios.run_scenario(_loaded(url, tmp_path / "cache"), tmp_path / "run")
    events = read_table(result, "events")
    faults = events[events.kind == "policy_fault"]
    assert list(faults.tick) == [3, 3]
    for detail in faults.detail:  # (the event keeps the message's first 200 characters)
        assert detail.startswith("customer-") and "(llm): act raised PolicyFault: the " \
            "model's answer is not valid actions (" in detail
    rows = [r for r in _log(result) if r["tick"] == 3]
    assert len(rows) == 2 and all(says in r["fault"] and r["answer"] == content for r in rows)
    assert result.summary["jobs_posted"] > 0 and result.summary["policy_faults"] == 2


def test_a_fenced_json_answer_is_taken(tmp_path: Path, keyed: str) -> None:
    """A model that wraps its JSON in a ``` fence: its actions are taken."""
    def fenced(obs: dict[str, Any]) -> str:
        return "```json\n" + json.dumps({"actions": customer_actions(obs)}) + "\n```"

    stub = Stub(content=fenced)
    with serving(stub) as url:
        result = scenarios.run_scenario(_loaded(url, tmp_path / "cache"), tmp_path / "run")
    assert result.summary["policy_faults"] == 0 and result.summary["jobs_posted"] > 0


def test_the_key_is_never_written(tmp_path: Path, keyed: str, read_table: Any) -> None:
    """The key goes in the Authorization header only: not in any file of the run folder or
    the cache, nor in a fault's text when the endpoint echoes it back (HTTP 401)."""
    stub = Stub(status=lambda obs, n: 401 if obs["tick"] == 2 else 200)
    with serving(stub) as url:
        result = scenarios.run_scenario(_loaded(url, tmp_path / "cache"), tmp_path / "run")
    assert stub.auth[0] == f"Bearer {keyed}"
    files = [p for p in [*result.out_dir.rglob("*"), *(tmp_path / "cache").rglob("*")]
             if p.is_file()]
    assert len(files) > 8
    for path in files:
        assert keyed.encode() not in path.read_bytes(), path
    faults = read_table(result, "events").query("kind == 'policy_fault'")
    assert list(faults.tick) == [2, 2]
    assert all("answered HTTP 401 Unauthorized" in d for d in faults.detail)
    rows = [r for r in _log(result) if r["tick"] == 2]
    assert all("[redacted]" in r["fault"] and f"${KEY_ENV}, which is set" in r["fault"]
               for r in rows)


def test_endpoint_failures_are_retried_then_faults(tmp_path: Path, keyed: str,
                                                  read_table: Any) -> None:
    """HTTP 503 at the first attempt: the retry answers (no fault); at every attempt of tick
    4: a fault after 1 + retries attempts, logged; not cached, so a rerun asks again."""
    def status(obs: dict[str, Any], n: int) -> int:
        return 503 if obs["tick"] == 4 or (obs["tick"] == 2 and n == 1) else 200

    stub = Stub(status=status)
    with serving(stub) as url:
        result = scenarios.run_scenario(_loaded(url, tmp_path / "cache", retries=2),
                                        tmp_path / "run")
    faults = read_table(result, "events").query("kind == 'policy_fault'")
    assert list(faults.tick) == [4, 4]
    assert all("answered HTTP 503" in d and "(tried 3 times)" in d for d in faults.detail)
    assert len(stub.calls) == 16 + 2 + 2 * 2  # tick 2: one retry each; tick 4: two each
    rows = [r for r in _log(result) if r["tick"] in (2, 4)]
    assert [r.get("attempts") for r in rows if r["tick"] == 2] == [2, 2]
    assert all("HTTP 503" in r["fault"] for r in rows if r["tick"] == 4)


def test_an_unreachable_endpoint_is_a_fault(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = scenarios.run_scenario(
        _loaded(f"http://127.0.0.1:{port}/v1", tmp_path / "cache", ticks=2, retries=0),
        tmp_path / "run")
    assert result.summary["policy_faults"] == 4
    assert all("connection refused" in r["fault"] for r in _log(result))


@pytest.mark.parametrize(("params", "says"), [
    ({"base_url": "localhost:11434", "model": "m"}, "is not an endpoint URL"),
    ({"base_url": "http://127.0.0.1:1/v1", "model": ""}, "model is empty"),
    ({"base_url": "http://127.0.0.1:1/v1", "model": "m", "fallback": "llm"},
     "its fallback must be another policy"),
    ({"base_url": "http://127.0.0.1:1/v1", "model": "m", "fallback": "nope"},
     "fallback 'nope' is not a built-in"),
    ({"base_url": "http://127.0.0.1:1/v1", "model": "m", "extra_body": {"model": "x"}},
     "extra_body may not set ['model']"),
    ({"model": "m"}, "base_url"),
])
def test_bad_params_are_refused(params: dict[str, Any], says: str) -> None:
    with pytest.raises(PolicyLoadError, match=re.escape(says)):
        make_policy("llm", params)


def test_the_llm_policy_runs_in_process_only(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match="runs in the simulator's process"):
        make_policy("llm", {"base_url": "http://127.0.0.1:1/v1", "model": "m"},
                    limits=PolicyLimits(isolation=Isolation.PROCESS))
    loaded = scenarios.apply_overrides(scenarios.load_scenario(EXAMPLE),
                                       sets={"agents.1.isolation": "process"})
    with pytest.raises(ScenarioError, match=r"agents\[1\]\.policy: policy 'llm' runs in"):
        scenarios.build(loaded)


def test_validate_accepts_the_example_without_calling(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    from twinecon.cli import main

    assert main(["validate", str(EXAMPLE)]) == 0
    assert "ok (llm-customer" in capsys.readouterr().out


def test_a_policy_built_outside_a_run_keeps_its_own_budget(tmp_path: Path) -> None:
    """Built without run_scenario (no run folder): no log file, the run's budget its own."""
    stub = Stub()
    with serving(stub) as url:
        built = scenarios.build(_loaded(url, tmp_path / "cache", max_calls_per_run=2))
        for _ in range(4):
            built.model.step()
        built.close()
    policies = [a.policy for a in built.agents if isinstance(a.policy, LLMPolicy)]
    assert [p.calls for p in policies] == [2, 2] and len(stub.calls) == 4
    assert not list(tmp_path.rglob(LOG_NAME))


# -- the README's block ----------------------------------------------------------------------
README = ROOT / "README.md"
DOC = ROOT / "docs" / "llm-policies.md"
README_HEADING = "## Policies in any language, and LLM policies"


def _sh_block(path: Path, after: str, index: int = 0) -> str:
    text = path.read_text()
    return re.findall(r"```sh\n(.*?)```", text[text.index(after):], re.S)[index]


def test_readme_llm_block_runs_as_written(tmp_path: Path) -> None:
    """The README's LLM block, as written, against the stub (the example's local port moved
    to the stub's): the run, a rerun from the cache with no call, the same summary."""
    block = _sh_block(DOC, "## Quick start")
    if README_HEADING in README.read_text():
        assert _sh_block(README, README_HEADING, 1) == block
    stub = Stub()
    with serving(stub) as url:
        port = url.rsplit(":", 1)[1].split("/")[0]
        examples = tmp_path / "examples"
        examples.mkdir()
        (examples / EXAMPLE.name).write_text(EXAMPLE.read_text().replace("11434", port))
        script = block.replace(".venv/bin/twinecon", f"{sys.executable} -m twinecon")
        script = script.replace("examples/", f"{examples}/")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
               "TWINECON_CACHE": str(tmp_path / "cache")}
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "same run" in done.stdout
    assert len(stub.calls) == 2 * 20
    log = (tmp_path / "runs" / "llm" / LOG_NAME).read_text().splitlines()
    assert len(log) == 40
    again = (tmp_path / "runs" / "llm-again" / LOG_NAME).read_text().splitlines()
    assert {json.loads(line)["source"] for line in again} == {"cache"}
