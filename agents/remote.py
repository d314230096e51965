"""Policies in any language: a policy served over HTTP, or a subprocess speaking JSON lines.

A scenario group names one by its `policy`:

- `"http://HOST:PORT/PATH"` (or https): each call POSTs one JSON message to the URL and reads
  one JSON message back (`HttpPolicy`);
- `"exec:COMMAND ARGS..."`: each agent of the group starts the command once (at its first
  call, in the working directory, without a shell; `{python}` in it is this interpreter,
  `{scenario_dir}` the scenario file's folder) and writes one message per line to its stdin,
  reading one line back from its stdout (`ExecPolicy`).

Both send the same message, the observation in the wire form (`agents.wire`,
docs/policy-wire.md) with the agent's index, seed and the group's params:

    {"type": "act", "wire": "twinecon-policy-wire/1", "index": 5, "seed": "2301975122",
     "params": {...}, "observation": {...}}

and take the same answers: `{"type": "actions", "actions": [...]}`, or `{"type": "error",
"error": "..."}` for a policy that cannot act (a fault). The answer is checked as a
process-isolated policy's is: strict JSON (no NaN, no repeated keys, nested at most
`MAX_NESTING` deep, at most `MAX_REPLY_BYTES`), each action decoded strictly; anything else
is a `PolicyFault`, which the agent records as a `policy_fault` and the run goes on.

Each attempt has `time_limit_ms`; an answer that did not arrive (a timeout, a refused or
broken connection, an HTTP 5xx, 408 or 429, a process that died or was stopped at its
deadline) is tried again up to `retries` more times; an answer that arrived and is wrong
(an error, invalid actions, another HTTP status) is a fault at once. Nothing here reaches a
server or starts a process before the first call: `twinecon validate` checks the syntax of
the reference only.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agents._http import HttpTimeout, HttpUnreachable, check_url, post
from agents.errors import PolicyFault, PolicyLoadError, WireError
from agents.limits import DEFAULT_LIMITS, PolicyLimits, SelfTimed
from agents.wire import MAX_NESTING, MAX_SAFE_INT, WIRE_VERSION, Wire, dumps, loads
from economy import Action, Observation
from worlds.spec import TwinSpec

__all__ = ["EXEC_PREFIX", "MAX_FAILED_STARTS", "MAX_REPLY_BYTES", "PLACEHOLDERS", "ExecPolicy",
           "HttpPolicy", "RemotePolicy", "check_remote_ref", "exec_argv", "is_remote_ref",
           "make_remote_policy"]

#: A subprocess policy's reference starts with this.
EXEC_PREFIX = "exec:"
#: What `{name}` in an exec command stands for.
PLACEHOLDERS = ("python", "scenario_dir")
#: The longest answer (a longer one is refused).
MAX_REPLY_BYTES = 64 * 2**20
#: Starts of a subprocess in a row that may fail before it is not started again.
MAX_FAILED_STARTS = 3
_EXIT_GRACE_S = 0.5  # a subprocess whose stdin closed has this long to exit before it is killed
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def is_remote_ref(ref: str) -> bool:
    """Whether a policy reference names a remote (http, https) or subprocess (exec:) policy."""
    return ref.startswith(("http://", "https://", EXEC_PREFIX))


def exec_argv(ref: str, base_dir: Path | str | None) -> list[str]:
    """The argument vector of an `exec:` reference, its placeholders filled in.

    Raises:
        PolicyLoadError: an empty or unbalanced command, or an unknown placeholder.
    """
    command = ref[len(EXEC_PREFIX):]
    try:
        words = shlex.split(command)
    except ValueError as e:
        raise PolicyLoadError(f"policy {ref!r}: the command does not split into words ({e}); "
                              "quote as a POSIX shell does") from None
    if not words:
        raise PolicyLoadError(f"policy {ref!r}: no command after {EXEC_PREFIX!r}; write e.g. "
                              "\"exec:python3 my_policy.py\"")
    values = {"python": sys.executable,
              "scenario_dir": str(Path(base_dir).resolve()) if base_dir is not None else "."}
    out = []
    for word in words:
        try:
            out.append(word.format_map(values))
        except (KeyError, ValueError, IndexError, AttributeError) as e:
            raise PolicyLoadError(
                f"policy {ref!r}: {word!r} holds an unknown placeholder ({type(e).__name__}: "
                f"{e}); the command may use {', '.join('{' + p + '}' for p in PLACEHOLDERS)} "
                "(write {{ and }} for a literal brace)") from None
    return out


def check_remote_ref(ref: str, base_dir: Path | str | None = None) -> None:
    """Check a remote or subprocess reference's syntax, without calling the server or starting
    the command (an exec command's program must be found, on PATH or as a path).

    Raises:
        PolicyLoadError: what is wrong with it, and what to write.
    """
    if ref.startswith(EXEC_PREFIX):
        program = exec_argv(ref, base_dir)[0]
        found = (Path(program).is_file() and os.access(program, os.X_OK)) if "/" in program \
            else shutil.which(program) is not None
        if not found:
            raise PolicyLoadError(f"policy {ref!r}: the program {program!r} is not found "
                                  f"{'or not executable' if '/' in program else 'on PATH'} "
                                  "(the command runs in the working directory, without a "
                                  "shell)")
        return
    try:
        check_url(ref)
    except ValueError as e:
        raise PolicyLoadError(f"policy {ref!r}: not a policy URL: {e}; write e.g. "
                              "\"http://127.0.0.1:8000/act\"") from None


def _json_params(ref: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The params as JSON values, an integer beyond +-(2**53 - 1) (a token amount in base
    units) as a string of its digits, as the wire form writes amounts.

    Raises:
        PolicyLoadError: a value JSON cannot carry, or nesting too deep.
    """
    def plain(value: Any, depth: int) -> Any:
        if depth > MAX_NESTING - 4:
            raise PolicyLoadError(f"policy {ref!r}: its params nest deeper than "
                                  f"{MAX_NESTING - 4} levels; flatten them")
        if isinstance(value, bool) or value is None or isinstance(value, str | float):
            return value
        if isinstance(value, int):
            return value if abs(value) <= MAX_SAFE_INT else str(value)
        if isinstance(value, list | tuple):
            return [plain(v, depth + 1) for v in value]
        if isinstance(value, Mapping):
            return {str(k): plain(v, depth + 1) for k, v in value.items()}
        raise PolicyLoadError(f"policy {ref!r}: its params must be JSON values to reach it, "
                              f"got a {type(value).__name__}")

    out = plain(dict(params or {}), 0)
    try:
        dumps(out)
    except WireError as e:
        raise PolicyLoadError(f"policy {ref!r}: its params must be JSON values to reach it "
                              f"({e})") from None
    return out  # type: ignore[no-any-return]


class _Transient(Exception):
    """An answer that did not arrive: worth another attempt."""


class RemotePolicy(SelfTimed):
    """What a remote and a subprocess policy share: the message, the retries, the checks of
    the answer. Subclasses send one message and return the raw answer (`_exchange`).

    Args:
        ref: the policy reference, as the scenario gives it.
        params: the group's params (sent with every call; see `_json_params`).
        limits: `time_limit_ms` per attempt (0: none) and `retries`.
        twin_spec: the run's twin's spec (its types make the wire form).
        seed, index: the run seed and the agent's index; `reset(seed)` gives the agent's own
            seed, which every message carries.
    """

    kind = "remote"

    def __init__(self, ref: str, params: Mapping[str, Any] | None = None, *,
                 limits: PolicyLimits = DEFAULT_LIMITS, twin_spec: TwinSpec | None = None,
                 seed: int = 0, index: int = 0) -> None:
        self.ref = ref
        self.params = _json_params(ref, params)
        self.limits = limits
        self.index = index
        self.seed = seed
        self._agent_seed = 0
        if twin_spec is None:
            self._wire: Wire | None = None
        else:
            from agents.process import _wire_for

            try:
                self._wire = _wire_for(twin_spec)
            except WireError as e:
                raise PolicyLoadError(f"the twin's values cannot cross the wire: {e}") from None
        self._lock = threading.Lock()
        #: calls made and attempts that were tried again (for tests and benchmarks)
        self.n_calls = 0
        self.n_retries = 0

    def reset(self, seed: int) -> None:
        """Keep the agent's seed: every message carries it (nothing is sent now)."""
        self._agent_seed = int(seed)

    def act(self, observation: Observation) -> list[Action]:
        """The actions the remote policy answers for `observation`.

        Raises:
            PolicyFault: no answer after every attempt, or an answer that is not valid.
        """
        if self._wire is None:
            raise PolicyFault(f"a {type(self).__name__} built without a twin_spec cannot act")
        payload = dumps({"type": "act", "wire": WIRE_VERSION, "index": self.index,
                         "seed": str(self._agent_seed), "params": self.params,
                         "observation": self._wire.encode_observation(observation)})
        attempts = 1 + max(0, self.limits.retries)
        with self._lock:
            self.n_calls += 1
            failures: list[str] = []
            for attempt in range(attempts):
                if attempt:
                    self.n_retries += 1
                try:
                    raw = self._exchange(payload, self.limits.time_limit_ms)
                    break
                except _Transient as e:
                    failures.append(str(e))
            else:
                tried = f" (tried {attempts} times)" if attempts > 1 else ""
                raise PolicyFault(f"{failures[-1]}{tried}")
        return self._actions(raw)

    def _actions(self, raw: bytes) -> list[Action]:
        """The actions of a raw answer, checked as a process-isolated policy's."""
        if self._wire is None:
            raise PolicyFault("an answer to decode before the first observation")
        try:
            reply = loads(raw)
            if type(reply) is not dict or reply.get("type") not in ("actions", "error"):
                raise WireError("answer", "an object with \"type\": \"actions\" or \"error\"",
                                "something else")
            if reply["type"] == "error":
                text = reply.get("error")
                if type(text) is not str:
                    raise WireError("answer.error", "a string", "something else")
                raise PolicyFault(f"{self.kind} policy answered an error: {text[:1_000]}")
            return self._wire.decode_actions(reply.get("actions"))
        except WireError as e:
            raise PolicyFault(f"{self.kind} policy answered something that is not "
                              f"{WIRE_VERSION} ({e})") from None

    def _exchange(self, payload: bytes, limit_ms: int) -> bytes:
        """Send one message and return its raw answer.

        Raises:
            _Transient: the answer did not arrive (worth another attempt).
            PolicyFault: it arrived and is wrong, or cannot arrive (not worth one).
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release what the policy holds (a subprocess)."""

    def __enter__(self) -> RemotePolicy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.ref!r} agent {self.index}>"


class HttpPolicy(RemotePolicy):
    """A policy served over HTTP: each call POSTs the act message to the URL (see the module
    docstring). The server may be written in any language and serve many agents: each message
    names its agent (`index`, and the observation's `address`)."""

    kind = "remote"

    def __init__(self, ref: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        check_remote_ref(ref)
        super().__init__(ref, params, **kwargs)
        self.url = ref

    def _exchange(self, payload: bytes, limit_ms: int) -> bytes:
        try:
            answer = post(self.url, payload, timeout_s=limit_ms / 1000 if limit_ms else None,
                          max_bytes=MAX_REPLY_BYTES)
        except HttpTimeout:
            raise _Transient(f"{self.url} did not answer within {limit_ms} ms "
                             "(time_limit_ms)") from None
        except HttpUnreachable as e:
            raise _Transient(f"{self.url} could not be reached: {e}") from None
        if answer.status in _RETRY_STATUSES:
            raise _Transient(f"{self.url} answered HTTP {answer.status} {answer.reason}")
        if not 200 <= answer.status < 300:
            body = answer.body[:200].decode("utf-8", "replace")
            raise PolicyFault(f"{self.url} answered HTTP {answer.status} {answer.reason}: "
                              f"{body!r}")
        if answer.too_long:
            raise PolicyFault(f"{self.url} answered more than {MAX_REPLY_BYTES:,} bytes")
        return answer.body


class _Process:
    """The running subprocess of one `ExecPolicy` (held apart from the policy, so a finalizer
    can stop it without keeping the policy alive)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.owner = 0
        self.buffer = bytearray()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.owner == os.getpid()

    def start(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0, start_new_session=True, close_fds=True)
        self.owner = os.getpid()
        self.buffer.clear()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is None:  # Popen with PIPE always gives both
                raise PolicyFault(f"{argv[0]}: started without its pipes")
            flags = fcntl.fcntl(stream.fileno(), fcntl.F_GETFL)
            fcntl.fcntl(stream.fileno(), fcntl.F_SETFL, flags | os.O_NONBLOCK)

    def stop(self, *, grace_s: float = 0.0) -> int | None:
        """Close its stdin, give it `grace_s` to exit, then kill its process group; its exit
        code (negative: the signal), or None if it had to be killed."""
        proc, self.proc = self.proc, None
        if proc is None or self.owner != os.getpid():
            return None  # none, or a copy inherited through fork(): the process is the parent's
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        code = None
        if grace_s:
            try:
                code = proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                code = None
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # what it started goes with it
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        return code


_PROCESSES: weakref.WeakSet[_Process] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for process in list(_PROCESSES):
        process.stop()


class _Garbage(Exception):
    pass


class ExecPolicy(RemotePolicy):
    """A policy run as a subprocess speaking JSON lines: one act message per line on its
    stdin, one answer per line on its stdout (see the module docstring). Each agent has a
    process of its own, started at its first call and kept for the run; one that dies, or is
    stopped at a deadline or for answering garbage, is started afresh at the next attempt (its
    state is lost). Its stderr is the simulator's."""

    kind = "subprocess"

    def __init__(self, ref: str, params: Mapping[str, Any] | None = None, *,
                 base_dir: Path | str | None = None, **kwargs: Any) -> None:
        check_remote_ref(ref, base_dir)
        super().__init__(ref, params, **kwargs)
        self.argv = exec_argv(ref, base_dir)
        self._process = _Process()
        _PROCESSES.add(self._process)
        self._finalizer = weakref.finalize(self, self._process.stop)
        self._failed_starts = 0
        self._last_start_fault = ""
        #: processes started so far (restarts after a fault included)
        self.n_starts = 0

    @property
    def pid(self) -> int | None:
        """The running process's id, or None."""
        p = self._process
        return p.proc.pid if p.running and p.proc is not None else None

    def close(self) -> None:
        """Stop the process (a later call starts a fresh one)."""
        with self._lock:
            self._process.stop(grace_s=_EXIT_GRACE_S)

    def _start(self) -> None:
        if self._failed_starts >= MAX_FAILED_STARTS:
            raise PolicyFault(f"its command failed to start {self._failed_starts} times in a "
                              f"row and is not started again (last: {self._last_start_fault})")
        try:
            self._process.start(self.argv)
        except OSError as e:
            self._failed_starts += 1
            self._last_start_fault = f"{type(e).__name__}: {e}"
            raise PolicyFault(f"its command {self.argv[0]!r} could not start: "
                              f"{self._last_start_fault}") from None
        self._failed_starts = 0
        self.n_starts += 1

    def _exchange(self, payload: bytes, limit_ms: int) -> bytes:
        p = self._process
        if p.running and self._ended_since():
            p.stop(grace_s=_EXIT_GRACE_S)  # a one-answer program: started afresh
        if not p.running:
            self._start()
        deadline = time.monotonic() + limit_ms / 1000 if limit_ms else None
        try:
            self._send(payload + b"\n", deadline)
            line = self._receive(deadline)
            try:
                loads(line)  # a line that is not JSON leaves the protocol out of step
            except WireError as e:
                raise _Garbage(str(e).removesuffix("; see docs/policy-wire.md")) from None
            return line
        except _Garbage as e:
            p.stop()
            raise PolicyFault(f"its subprocess answered something that is not {WIRE_VERSION} "
                              f"({e}); it was stopped and starts afresh at the next call"
                              ) from None
        except TimeoutError:
            p.stop()
            raise _Transient(f"its subprocess did not answer within {limit_ms} ms "
                             "(time_limit_ms); it was stopped") from None
        except BrokenPipeError:
            code = p.stop(grace_s=_EXIT_GRACE_S)
            raise _Transient(f"its subprocess {_ended(code)} before answering") from None

    def _ended_since(self) -> bool:
        """Whether the process closed its stdout (it is exiting) since its last answer.

        Raises:
            PolicyFault: it wrote something since (the process is stopped).
        """
        p = self._process
        assert p.proc is not None and p.proc.stdout is not None
        if p.proc.poll() is not None:
            return True
        poller = select.poll()
        poller.register(p.proc.stdout.fileno(), select.POLLIN)
        if not poller.poll(0):
            return False
        try:
            data = os.read(p.proc.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return False
        if not data:
            return True
        p.stop()
        raise PolicyFault(f"its subprocess answered something that is not {WIRE_VERSION} "
                          f"({len(data)} bytes of output between calls); it was stopped and "
                          "starts afresh at the next call")

    def _wait(self, fd: int, event: int, deadline: float | None) -> None:
        poller = select.poll()
        poller.register(fd, event)
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError
            if poller.poll(None if left is None else max(1, int(left * 1000) + 1)):
                return

    def _send(self, data: bytes, deadline: float | None) -> None:
        proc = self._process.proc
        assert proc is not None and proc.stdin is not None
        fd = proc.stdin.fileno()
        view = memoryview(data)
        while view:
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                self._wait(fd, select.POLLOUT, deadline)
                continue
            view = view[n:]

    def _receive(self, deadline: float | None) -> bytes:
        p = self._process
        assert p.proc is not None and p.proc.stdout is not None
        fd = p.proc.stdout.fileno()
        while b"\n" not in p.buffer:
            if len(p.buffer) > MAX_REPLY_BYTES:
                raise _Garbage(f"an answer longer than {MAX_REPLY_BYTES:,} bytes")
            try:
                data = os.read(fd, 1 << 20)
            except BlockingIOError:
                self._wait(fd, select.POLLIN, deadline)
                continue
            if not data:
                raise BrokenPipeError
            p.buffer += data
        line, _, rest = bytes(p.buffer).partition(b"\n")
        if rest:  # one answer per message: anything more is not the protocol
            raise _Garbage(f"{len(rest)} bytes after its answer")
        p.buffer.clear()
        return line


def _ended(code: int | None) -> str:
    if code is None:
        return "closed its stdout (it was stopped)"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def make_remote_policy(ref: str, params: Mapping[str, Any] | None = None, *,
                       base_dir: Path | str | None = None,
                       limits: PolicyLimits = DEFAULT_LIMITS,
                       twin_spec: TwinSpec | None = None, seed: int = 0, index: int = 0,
                       decimals: int | None = None) -> RemotePolicy:
    """The remote (`http://`, `https://`) or subprocess (`exec:`) policy `ref` names; nothing
    is called or started until its first `act`.

    Args:
        decimals: the ledger's decimals when `params` are in the scenario's units: a string
            with an explicit unit ("0.06 tokens", "5 base units") is sent in base units (no
            other param is known to be money: the policy's code is not here to say).

    Raises:
        PolicyLoadError: a reference that is not a URL or a command (see `check_remote_ref`),
            or params that are not JSON values.
    """
    if decimals is not None and params:
        from agents.units import to_base_units_params

        params = to_base_units_params(ref, _Unannotated, params, decimals)
    if ref.startswith(EXEC_PREFIX):
        return ExecPolicy(ref, params, base_dir=base_dir, limits=limits, twin_spec=twin_spec,
                          seed=seed, index=index)
    return HttpPolicy(ref, params, limits=limits, twin_spec=twin_spec, seed=seed, index=index)


class _Unannotated:
    """A stand-in class with no annotated params: a remote policy's money is not known here."""
