"""LLM: a policy that asks a language model for its actions, through any OpenAI-compatible chat
endpoint (`POST {base_url}/chat/completions`), with the standard library only.

Each tick it sends the rules and the agent's observation in the wire form (compacted: empty
lists and nulls left out, long lists cut) and asks for `{"actions": [...]}` in the wire form
(docs/policy-wire.md); the answer is decoded strictly, and an answer that is not valid is a
recorded fault, like any policy's. Every consultation is a line of `llm.jsonl` in the run's
folder: the prompt, the answer, the actions, token counts and latency (docs/llm-policies.md).

Answers are cached by the hash of the request (model, messages and sampling params; never
the key), so a rerun of the same scenario reproduces the run byte for byte without calling
the endpoint. A budget of calls and tokens, per agent and per run, bounds the cost; past it
the agent acts as its `fallback` policy (default: no action), which the log records.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents._http import HttpTimeout, HttpUnreachable, check_url, post
from agents.errors import PolicyFault, PolicyLoadError, WireError
from agents.limits import SelfTimed
from agents.params import Count, NonNegative, PositiveCount
from agents.wire import Wire, loads, wire_of
from economy import Action, Observation

__all__ = ["LOG_NAME", "LLMPolicy", "LLMRun", "bind_run", "cache_root"]

#: The log of every consultation, one JSON object per line, in the run's folder.
LOG_NAME = "llm.jsonl"
#: The longest answer the endpoint may send.
MAX_ANSWER_BYTES = 16 * 2**20
_RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

#: The actions each role is told about (the answer may hold any: the economy's rules decide).
ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "customer": ("PostJob", "Simulate", "Complete", "Reject", "ClaimRefund"),
    "provider": ("Bid", "Simulate", "Submit", "BuyCompute"),
    "evaluator": ("Simulate", "Complete", "Reject", "OfferEvaluation", "BuyCompute"),
    "compute": ("Offer", "Stake", "Unstake"),
    "data": ("Contribute", "UseData"),
    "world": ("Pay",),
}

#: What each role does, in a sentence or two for the model.
ROLE_GUIDANCE: dict[str, str] = {
    "customer": "You run a warehouse operation (or the twin's kind of operation) and buy "
                "plans for your `orders`: post a job (PostJob) for an order with a budget "
                "(escrowed from your balance) and an evaluator chosen from `evaluators`. A "
                "job you evaluate yourself (evaluator null) is yours to Simulate once "
                "submitted, then Complete or Reject.",
    "provider": "You sell plans: Bid on `open_jobs` (a price at most the job's budget); for "
                "a job you won (in `jobs`, state funded, provider you) Submit a plan for its "
                "order, after testing candidates with Simulate if it pays.",
    "evaluator": "You judge delivered plans: for each job in `jobs` you evaluate whose state "
                 "is submitted, Simulate its plan (plans: [the job's plan]); when its result "
                 "is in `results`, Complete the job if the evaluation is valid and its time_ms "
                 "is at most the job's max_time_ms, else Reject it.",
    "compute": "You sell sim time: Offer compute units (CU) at a price per CU; Stake if the "
               "rules ask for a min_stake.",
    "data": "You hold data: Contribute records to a pool, or UseData.",
    "world": "You own the twin and earn its licence; usually you take no action.",
}


def cache_root() -> Path:
    """The default response cache: `$TWINECON_CACHE/llm` (default `~/.cache/twinecon/llm`)."""
    root = os.environ.get("TWINECON_CACHE") or Path.home() / ".cache" / "twinecon"
    return Path(root) / "llm"


@dataclass
class LLMRun:
    """What the `llm` agents of one run share: the log file and the run's budget counters.

    Args:
        log: the JSONL file every consultation is appended to (None: not written).
    """

    log: Path | None = None
    calls: int = 0
    tokens: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def write(self, row: dict[str, Any]) -> None:
        if self.log is None:
            return
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self.lock, self.log.open("a", encoding="utf-8") as f:
            f.write(line)


def bind_run(agents: Iterable[Any], folder: str | Path | None) -> int:
    """Give every `llm` agent among `agents` the run's shared state: its log,
    `folder/llm.jsonl` (None: no log; created empty if there is an `llm` agent), and the run's
    budget counters; and its label for the log. `scenarios.run_scenario` calls it after
    building the run. Returns how many agents it bound."""
    run = LLMRun(log=None if folder is None else Path(folder) / LOG_NAME)
    bound = 0
    for agent in agents:
        if isinstance(agent.policy, LLMPolicy):
            agent.policy.bind(run, label=agent.label)
            bound += 1
    if bound and run.log is not None:
        run.log.touch()
    return bound


def _type_text(prop: dict[str, Any]) -> str:
    """A JSON Schema property of the wire form as the prompt writes its type."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return {"IntString": "int-string", "Int": "int", "Address": "address",
                "HexBytes": "hex-bytes"}.get(name, name)
    if "anyOf" in prop:
        inner = [p for p in prop["anyOf"] if p != {"type": "null"}]
        return f"{_type_text(inner[0])}?" if len(inner) == 1 else "any"
    if prop.get("type") == "array":
        if "prefixItems" in prop:
            return "[" + ", ".join(_type_text(p) for p in prop["prefixItems"]) + "]"
        return f"[{_type_text(prop.get('items', {}))}]"
    if "enum" in prop:
        return "|".join(json.dumps(v) for v in prop["enum"])
    if "oneOf" in prop:
        return " | ".join(_type_text(p) for p in prop["oneOf"])
    return str(prop.get("type", "any"))


def _record_text(name: str, schema: dict[str, Any]) -> str:
    """`Name: field type, field type = default, ...` of a record in the wire's schema."""
    fields = []
    for key, prop in schema.get("properties", {}).items():
        if key == "type" and "const" in prop:
            continue
        text = f"{key} {_type_text(prop)}"
        if "default" in prop:
            text += f" = {json.dumps(prop['default'])}"
        fields.append(text)
    doc = schema.get("description", "")
    return f"- {name}: {', '.join(fields)}" + (f". {doc}" if doc else "")


def _compact(value: Any) -> Any:
    """A wire value without its empty lists, empty objects and nulls."""
    if isinstance(value, dict):
        out = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "[redacted]") if secret else text


def _parse_answer(content: str) -> Any:
    """The JSON of a model's answer (one object; a ```json fence around it is taken off).

    Raises:
        WireError: not one JSON document (strict: no NaN, no repeated keys, bounded nesting).
    """
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rstrip()
        if text.endswith("```"):
            text = text[:-3]
    return loads(text.encode("utf-8", "surrogatepass"))


class LLMPolicy(SelfTimed):
    """Asks a language model for its actions each tick (see the module docstring and
    docs/llm-policies.md).

    Args:
        base_url: the endpoint's base URL, such as "http://127.0.0.1:11434/v1" (a local
            server) or "https://api.openai.com/v1"; it POSTs to `{base_url}/chat/completions`.
        model: the model's name at that endpoint.
        api_key_env: the environment variable holding the API key, sent as a bearer token;
            read at each call, never written anywhere. Unset or empty: no key is sent.
        instructions: more text for the system prompt (a strategy, a persona).
        temperature: sampling temperature (0: the most repeatable).
        max_tokens: the most tokens one answer may take.
        json_mode: ask for a JSON object (`response_format`), where the endpoint supports it.
        extra_body: more fields of the request (such as a `seed`); part of the cache key.
        timeout_s: the time one attempt may take (connect, send, answer).
        retries: further attempts after a timeout, a broken connection, HTTP 5xx or 429.
        cache: reuse a cached answer of the same request (and cache new ones).
        cache_dir: the response cache (default `$TWINECON_CACHE/llm`, or
            `~/.cache/twinecon/llm`); one JSON file per request hash.
        max_calls_per_agent, max_tokens_per_agent: the most answers and tokens (the
            endpoint's `usage.total_tokens`) this agent uses (None: no limit).
        max_calls_per_run, max_tokens_per_run: the same for all `llm` agents of the run.
            Cached answers count too, so a rerun stops where the first run stopped.
        fallback: the built-in policy it acts as once over budget ("idle": no action).
        fallback_params: that policy's params (in base units).
        actions: the action types the prompt describes (default: its role's usual ones).
        max_items: the longest any list of the observation is shown (the first ones).
        history_ticks: the market's last ticks shown.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        instructions: str = "",
        temperature: NonNegative = 0.0,
        max_tokens: PositiveCount = 1_024,
        json_mode: bool = False,
        extra_body: dict[str, Any] | None = None,
        timeout_s: NonNegative = 60.0,
        retries: Count = 1,
        cache: bool = True,
        cache_dir: str | None = None,
        max_calls_per_agent: Count | None = None,
        max_tokens_per_agent: Count | None = None,
        max_calls_per_run: Count | None = 1_000,
        max_tokens_per_run: Count | None = 2_000_000,
        fallback: str = "idle",
        fallback_params: dict[str, Any] | None = None,
        actions: list[str] | None = None,
        max_items: PositiveCount = 20,
        history_ticks: Count = 3,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        try:
            check_url(self.url)
        except ValueError as e:
            raise PolicyLoadError(f"policy 'llm': base_url {base_url!r} is not an endpoint "
                                  f"URL: {e}; write e.g. \"http://127.0.0.1:11434/v1\"") from None
        if not model:
            raise PolicyLoadError("policy 'llm': model is empty; name the endpoint's model")
        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.instructions = instructions
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.json_mode = json_mode
        self.extra_body = dict(extra_body or {})
        reserved = {"model", "messages"} & set(self.extra_body)
        if reserved:
            raise PolicyLoadError(f"policy 'llm': extra_body may not set {sorted(reserved)}")
        self.timeout_s = float(timeout_s)
        self.retries = retries
        self.cache = cache
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else cache_root()
        self.max_calls_per_agent = max_calls_per_agent
        self.max_tokens_per_agent = max_tokens_per_agent
        self.max_calls_per_run = max_calls_per_run
        self.max_tokens_per_run = max_tokens_per_run
        if fallback == "llm":
            raise PolicyLoadError("policy 'llm': its fallback must be another policy (a "
                                  "built-in such as \"idle\" or \"customer\")")
        from agents.builtin import BUILTIN
        from agents.loading import load_policy

        if fallback not in BUILTIN:
            raise PolicyLoadError(f"policy 'llm': fallback {fallback!r} is not a built-in "
                                  f"policy ({', '.join(sorted(BUILTIN))})")
        self.fallback = fallback
        self._fallback = load_policy(fallback, fallback_params or {})
        self.actions = tuple(actions) if actions is not None else None
        self.max_items = max_items
        self.history_ticks = history_ticks
        self._run = LLMRun()  # its own, until a run binds it (bind_run)
        self.label = ""
        #: answers used (from the endpoint or the cache), tokens they took, requests sent
        self.calls = 0
        self.tokens = 0
        self.requests = 0
        self._system: str | None = None
        self._wire: Wire | None = None

    def bind(self, run: LLMRun, *, label: str = "") -> None:
        """Share `run`'s log and budget counters; `label` names the agent in the log."""
        self._run = run
        self.label = label

    def reset(self, seed: int) -> None:
        reset = getattr(self._fallback, "reset", None)
        if reset is not None:
            reset(seed)

    # -- the prompt ------------------------------------------------------------------------
    def _system_prompt(self, obs: Observation, wire: Wire) -> str:
        role = obs.role.value
        defs = wire.json_schema()["$defs"]
        names = self.actions if self.actions is not None else ROLE_ACTIONS.get(role, ())
        lines = [_record_text(n, defs[n]) for n in names if n in defs]
        types = [_record_text(n, defs[n]) for n in ("Order", "Plan") if n in defs]
        rules = None
        if obs.rules is not None:
            rules = _compact(wire.encode_observation(obs)["rules"])
        parts = [
            "You decide the actions of one agent in twinecon, a simulated market in which "
            "customers buy plans for their orders from service providers, plans are tested in "
            "a digital twin, and money moves on a ledger. You are a "
            f"{role}, address {obs.address}.",
            ROLE_GUIDANCE.get(role, ""),
            "Each tick you receive your observation as one JSON object (empty lists and nulls "
            "are left out; long lists are cut to their first items). Answer with one JSON "
            "object and nothing else: {\"actions\": [...]}, each action an object with a "
            "\"type\" and its fields; {\"actions\": []} takes no action. You may add a short "
            "\"reason\" string beside \"actions\".",
            "Types: int-string is an integer written as a JSON string of decimal digits "
            "(\"1500\"); int is a JSON integer; address is \"0x\" + 40 hex digits, copied "
            "from the observation; X? may be null; a field shown with = has that default and "
            "may be left out. Amounts are in base units.",
            "Actions:\n" + "\n".join(lines) if lines else "",
            "The twin's types:\n" + "\n".join(types) if types else "",
            "The rules in force: " + json.dumps(rules, separators=(",", ":")) if rules else "",
            self.instructions,
        ]
        return "\n\n".join(p for p in parts if p)

    def _user_prompt(self, obs: Observation, wire: Wire) -> str:
        data = wire.encode_observation(obs)
        data.pop("rules", None)  # in the system prompt
        market = data.get("market")
        if isinstance(market, dict):
            ticks = market.get("ticks") or []
            market["ticks"] = ticks[-self.history_ticks:] if self.history_ticks else []
        if isinstance(data.get("outcomes"), list):
            data["outcomes"] = data["outcomes"][-self.max_items:]
        for key, value in list(data.items()):
            if isinstance(value, list) and len(value) > self.max_items:
                data[key] = value[: self.max_items]
                data[f"{key}_total"] = len(value)
        return json.dumps(_compact(data), separators=(",", ":"))

    def request_body(self, obs: Observation) -> dict[str, Any]:
        """The chat-completions request for `obs` (its hash is the cache key)."""
        wire = self._wire = self._wire or wire_of(obs.planner)
        if self._system is None:
            self._system = self._system_prompt(obs, wire)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": self._system},
                         {"role": "user", "content": self._user_prompt(obs, wire)}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        body.update(self.extra_body)
        return body

    # -- the budget ------------------------------------------------------------------------
    def _over_budget(self) -> str | None:
        run = self._run
        for used, limit, name in (
            (self.calls, self.max_calls_per_agent, "max_calls_per_agent"),
            (self.tokens, self.max_tokens_per_agent, "max_tokens_per_agent"),
            (run.calls, self.max_calls_per_run, "max_calls_per_run"),
            (run.tokens, self.max_tokens_per_run, "max_tokens_per_run"),
        ):
            if limit is not None and used >= limit:
                return f"{name} ({limit}) reached"
        return None

    # -- the cache -------------------------------------------------------------------------
    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _cached(self, key: str) -> dict[str, Any] | None:
        if not self.cache:
            return None
        try:
            entry = json.loads(self._cache_path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        answer = entry.get("answer") if isinstance(entry, dict) else None
        if not isinstance(answer, dict) or not isinstance(answer.get("content"), str):
            return None
        return answer

    def _store(self, key: str, body: dict[str, Any], answer: dict[str, Any]) -> None:
        if not self.cache:
            return
        path = self._cache_path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps({"request": body, "answer": answer}, sort_keys=True),
                           encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a cache that cannot be written costs calls, not the run

    # -- the call --------------------------------------------------------------------------
    def _complete(self, body: dict[str, Any]) -> tuple[dict[str, Any], float, int]:
        """The endpoint's answer (content, usage, model, finish_reason), its latency in ms
        and the attempts it took.

        Raises:
            PolicyFault: no answer, or one that is not a chat completion (the key redacted).
        """
        secret = os.environ.get(self.api_key_env) if self.api_key_env else None
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        attempts = 1 + max(0, self.retries)
        problem = ""
        for attempt in range(1, attempts + 1):
            self.requests += 1
            try:
                answer = post(self.url, payload, headers=headers,
                              timeout_s=self.timeout_s or None, max_bytes=MAX_ANSWER_BYTES)
            except HttpTimeout:
                problem = f"{self.url} did not answer within {self.timeout_s:g} s (timeout_s)"
                continue
            except HttpUnreachable as e:
                problem = f"{self.url} could not be reached: {e}"
                continue
            text = _redact(answer.body[:300].decode("utf-8", "replace"), secret)
            if answer.status in _RETRY_STATUSES:
                problem = f"{self.url} answered HTTP {answer.status} {answer.reason}: {text!r}"
                continue
            if answer.status != 200:
                hint = ""
                if answer.status in (401, 403):
                    hint = (f" (the key is read from ${self.api_key_env}, which is "
                            f"{'set' if secret else 'not set'})" if self.api_key_env
                            else " (no key is sent: api_key_env is empty)")
                raise PolicyFault(f"{self.url} answered HTTP {answer.status} {answer.reason}"
                                  f"{hint}: {text!r}")
            if answer.too_long:
                raise PolicyFault(f"{self.url} answered more than "
                                  f"{MAX_ANSWER_BYTES // 2**20} MiB")
            try:
                data = json.loads(answer.body)
                message = data["choices"][0]["message"]
                content = message.get("content")
                if not isinstance(content, str):
                    raise TypeError("its message has no content")
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
                raise PolicyFault(f"{self.url} answered something that is not a chat "
                                  f"completion ({type(e).__name__}: {e}): {text!r}") from None
            usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            counts = {k: v for k in ("prompt_tokens", "completion_tokens", "total_tokens")
                      if type(v := usage.get(k)) is int and v >= 0}
            result = {"content": content, "usage": counts,
                      "model": data.get("model") if isinstance(data.get("model"), str) else None,
                      "finish_reason": data["choices"][0].get("finish_reason")}
            return result, answer.latency_ms, attempt
        tried = f" (tried {attempts} times)" if attempts > 1 else ""
        raise PolicyFault(_redact(problem, secret) + tried)

    def act(self, obs: Observation) -> list[Action]:
        """This tick's actions, from the model (or the cache, or the fallback over budget).

        Raises:
            PolicyFault: the endpoint failed, or the model's answer is not valid actions.
        """
        row: dict[str, Any] = {"tick": obs.tick, "agent": self.label, "address": obs.address,
                               "role": obs.role.value, "model": self.model}
        over = self._over_budget()
        if over is not None:
            actions = self._fallback.act(obs)
            self._run.write({**row, "source": "fallback", "reason": over,
                             "fallback": self.fallback})
            return actions
        body = self.request_body(obs)
        key = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"))
                             .encode("utf-8")).hexdigest()
        row.update(prompt_sha256=key, messages=body["messages"])
        answer = self._cached(key)
        latency: float | None = None
        attempts = 0
        if answer is not None:
            row["source"] = "cache"
        else:
            row["source"] = "endpoint"
            try:
                answer, latency, attempts = self._complete(body)
            except PolicyFault as e:
                self._run.write({**row, "fault": str(e)})
                raise
            self._store(key, body, answer)
        usage = answer.get("usage") or {}
        total = usage.get("total_tokens")
        if total is None:
            total = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
        self.calls += 1
        self.tokens += total
        with self._run.lock:
            self._run.calls += 1
            self._run.tokens += total
        row.update(answer=answer["content"], finish_reason=answer.get("finish_reason"),
                   prompt_tokens=usage.get("prompt_tokens"),
                   completion_tokens=usage.get("completion_tokens"),
                   total_tokens=usage.get("total_tokens"),
                   latency_ms=None if latency is None else round(latency, 3),
                   attempts=attempts)
        try:
            actions = self._decode(answer["content"])
        except PolicyFault as e:
            self._run.write({**row, "actions": None, "fault": str(e)})
            raise
        self._run.write({**row, "actions": self._wire_or_fault().encode_actions(actions),
                         "fault": None})
        return actions

    def _wire_or_fault(self) -> Wire:
        """The wire form of this run's twin (set by the first observation)."""
        if self._wire is None:
            raise PolicyFault("an answer to decode before the first observation")
        return self._wire

    def _decode(self, content: str) -> list[Action]:
        """The actions of the model's answer, decoded strictly.

        Raises:
            PolicyFault: not `{"actions": [...]}` of valid wire-form actions.
        """
        wire = self._wire_or_fault()
        try:
            data = _parse_answer(content)
            if type(data) is list:
                raw = data
            elif type(data) is dict and "actions" in data:
                raw = data["actions"]
            else:
                raise WireError("answer", "an object {\"actions\": [...]}",
                                "an object without \"actions\"" if type(data) is dict
                                else f"a JSON {type(data).__name__}")
            return wire.decode_actions(raw)
        except WireError as e:
            shown = content if len(content) <= 200 else content[:200] + "..."
            raise PolicyFault(f"the model's answer is not valid actions ({e}): "
                              f"{json.dumps(shown)}") from None

    def __repr__(self) -> str:
        return f"<LLMPolicy {self.model!r} at {self.base_url!r}>"

