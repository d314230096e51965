"""ProcessPolicy: a policy whose code runs in a worker process of its own, under a time budget
per call and a memory budget, spoken to in the wire form.

The worker (`agents.worker`, forked from the fork server of `agents._forkserver`) starts at
the policy's first `act`: it gets the twin's spec, the L2 rate, the run seed and the agent's
index, builds the policy from its reference and params, and resets it with the seed the agent
gave `reset`; a deterministic policy then makes the same run, byte for byte, as in-process.
Each call sends the observation (`agents.wire`) and reads back actions. No key, ledger or model
is ever sent.

Every way a call can fail is a `PolicyFault` whose message says what happened, which the agent
records as a `policy_fault` while the run goes on:

- the policy raised (anything, SystemExit included) or returned something that is not a list
  of actions: the worker answers so and stays;
- the call overran `time_limit_ms`: the worker's process group is killed;
- the worker died (an exit, a signal), or answered something that is not the
  wire form (garbage, stray bytes, a message too long): it is killed, if still running.

After a kill, the next call starts a fresh worker, rebuilds the policy and resets it with the
same seed (its generator starts its stream over). A worker that fails to start
`MAX_FAILED_STARTS` times in a row is not started again (each call is then a fault at once).
Workers end with the simulator: `close()`, garbage collection of the policy, interpreter exit
(`atexit`), or, if the simulator is killed, the fork server sees its socket close and kills
them.

This is isolation of memory, time and faults, not a sandbox: the worker runs as the same user,
with the same file system and network access.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agents._forkserver import START_TIMEOUT_S, fork_server
from agents.builtin import BUILTIN
from agents.errors import PolicyFault, PolicyLoadError, PolicyParamError, WireError
from agents.limits import DEFAULT_LIMITS, PolicyLimits
from agents.wire import MAX_NESTING, WIRE_VERSION, Wire, dumps, loads
from economy import Action, Observation
from worlds.spec import TwinSpec

__all__ = ["MAX_FAILED_STARTS", "MAX_REPLY_BYTES", "ProcessPolicy"]

#: The longest answer a worker may send (a longer one is garbage).
MAX_REPLY_BYTES = 64 * 2**20
#: Starts in a row that may fail before a worker is no longer restarted.
MAX_FAILED_STARTS = 3
_EXIT_GRACE_MS = 500  # a worker whose socket closed has this long to finish exiting
_REPLIES = {"start": "started", "load": "loaded", "reset": "done", "act": "actions"}


class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


class _Garbage(Exception):
    pass


class _LoadFault(PolicyFault):
    """The worker could not build the policy from its reference and params (`param`: the
    param whose value its annotation refused, if that is why)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class _Channel:
    """The simulator's end of one worker's socket: every read and write under a deadline."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.buffer = bytearray()

    def _wait(self, event: int, deadline: float | None) -> None:
        poller = select.poll()
        poller.register(self.sock.fileno(), event)
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise _Timeout
            if poller.poll(None if left is None else max(1, int(left * 1000) + 1)):
                return

    def send(self, data: bytes, deadline: float | None) -> None:
        view = memoryview(data)
        while view:
            try:
                n = self.sock.send(view)
            except BlockingIOError:
                self._wait(select.POLLOUT, deadline)
                continue
            except OSError as e:  # the worker's end is gone
                raise _Closed from e
            view = view[n:]

    def receive(self, deadline: float | None) -> bytes:
        """One line (without its newline)."""
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_REPLY_BYTES:
                raise _Garbage(f"an answer longer than {MAX_REPLY_BYTES // 2**20} MiB")
            try:
                data = self.sock.recv(1 << 20)
            except BlockingIOError:
                self._wait(select.POLLIN, deadline)
                continue
            except OSError as e:
                raise _Closed from e
            if not data:
                raise _Closed
            self.buffer += data
        line, _, rest = bytes(self.buffer).partition(b"\n")
        if rest:  # one answer per request: anything more was not written by the worker
            raise _Garbage(f"{len(rest)} bytes after its answer")
        self.buffer.clear()
        return line

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class _Slot:
    """The running worker of one policy, if any (held apart from the policy, so a finalizer
    can stop the worker without keeping the policy alive)."""

    def __init__(self) -> None:
        self.pid = 0
        self.owner = 0
        self.channel: _Channel | None = None

    @property
    def running(self) -> bool:
        return self.channel is not None and self.owner == os.getpid()

    def stop(self, *, grace_ms: int = 0) -> tuple[int | None, bool]:
        """Stop the worker: give it `grace_ms` to exit, then kill its process group; (its wait
        status or None, whether it had to be killed)."""
        channel, pid = self.channel, self.pid
        self.channel, self.pid = None, 0
        if channel is None:
            return None, False
        channel.close()
        if self.owner != os.getpid():
            return None, False  # a copy inherited through fork(): the worker is the parent's
        return fork_server().reap(pid, grace_ms=grace_ms)


_SLOTS: weakref.WeakSet[_Slot] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for slot in list(_SLOTS):  # the parent's workers: let go of our copies of their sockets
        if slot.channel is not None:
            slot.channel.close()
            slot.channel = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _stop_all() -> None:
    """At exit, stop every worker and the fork server."""
    for slot in list(_SLOTS):
        slot.stop()
    fork_server().close()


def _status_text(status: int | None, memory_limit_mb: int) -> str:
    if status is None:
        return "died"
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    note = ""
    if -code == signal.SIGKILL:
        note = " (by the system's out-of-memory killer, or another process)"
    elif -code in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT) and memory_limit_mb:
        note = f" (its memory limit is {memory_limit_mb} MB above what its worker starts with)"
    return f"was killed by {name}{note}"


_WIRES: dict[str, Wire] = {}


def _wire_for(spec: TwinSpec) -> Wire:
    """The wire form of a spec's twin types (a twin is built once per spec to learn them)."""
    wire = _WIRES.get(spec.sha256)
    if wire is None:
        from worlds import registry

        wire = Wire.for_twin(registry.twin_from_spec(spec))
        if len(_WIRES) >= 16:
            _WIRES.clear()
        _WIRES[spec.sha256] = wire
    return wire


_CHECKED: dict[tuple[Any, ...], None] = {}


def _depth(value: Any) -> int:
    """How deep lists, tuples and dicts nest in `value` (without recursing)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list | tuple | dict):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_NESTING:
                return deepest
            stack += [(v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


class ProcessPolicy:
    """A policy run in a worker process of its own (see the module docstring).

    Args:
        ref: the policy reference, as the scenario gives it (a built-in name,
            "package.module:Class" or "path/to/file.py:Class").
        params: its constructor's keyword arguments (JSON values).
        base_dir: the folder relative file references are taken from first.
        limits: its time budget per call and its memory budget (above what its worker maps
            when it starts).
        twin_spec: the run's twin's spec (the worker builds its own twin from it).
        hz: the physics rate of the L2 tier (None: the twin's default).
        seed: the run seed; index: the agent's index (the worker's generator is the
            `POLICY` stream of the run's seed tree at that index).
        decimals: the ledger's decimals when `params` are in the scenario's units (money in
            tokens): converted where the class is loaded (`load_policy`); None: as given.

    Raises:
        PolicyLoadError: params that are not JSON values, or a twin whose values the wire
            form cannot carry.
    """

    def __init__(self, ref: str, params: Mapping[str, Any] | None = None, *,
                 base_dir: Path | str | None = None, limits: PolicyLimits = DEFAULT_LIMITS,
                 twin_spec: TwinSpec | None, hz: int | None = None, seed: int = 0,
                 index: int = 0, decimals: int | None = None) -> None:
        self.ref = ref
        if _depth(params) > MAX_NESTING - 4:  # before the C encoder recurses into them
            raise PolicyLoadError(f"policy {ref!r}: its params nest deeper than "
                                  f"{MAX_NESTING - 4} levels; flatten them")
        try:
            text = dumps(dict(params or {}))
        except WireError as e:
            raise PolicyLoadError(f"policy {ref!r}: its params must be JSON values to reach its"
                                  f" worker ({e})") from None
        self.params: dict[str, Any] = json.loads(text)
        self.base_dir = None if base_dir is None else str(Path(base_dir).resolve())
        self.limits = limits
        self.twin_spec = twin_spec
        self.hz = hz
        self.seed = seed
        self.index = index
        self.decimals = decimals
        try:
            self._wire = None if twin_spec is None else _wire_for(twin_spec)
        except WireError as e:
            raise PolicyLoadError(f"the twin's values cannot cross to a worker: {e}") from None
        self._slot = _Slot()
        _SLOTS.add(self._slot)
        self._finalizer = weakref.finalize(self, self._slot.stop)
        self._lock = threading.Lock()
        self._reset_seed: int | None = None
        self._failed_starts = 0
        self._last_start_fault = ""
        self._cwd = os.getcwd()
        #: workers started for calls so far (restarts after a fault included)
        self.n_starts = 0

    # -- the Policy surface -------------------------------------------------------------------
    def act(self, observation: Observation) -> list[Action]:
        """The policy's actions for `observation`, computed in its worker.

        Raises:
            PolicyFault: the call failed (see the module docstring); the message says how.
        """
        if self._wire is None:
            raise PolicyFault("a ProcessPolicy built without a twin_spec can only be checked")
        payload = dumps({"type": "act", "observation": self._wire.encode_observation(
            observation)})
        with self._lock:
            if not self._slot.running:
                self._start()
            reply = self._call(payload, "act", self.limits.time_limit_ms)
            try:
                actions = self._wire.decode_actions(reply.get("actions"))
            except WireError as e:
                self._slot.stop()
                raise PolicyFault(f"its worker answered something that is not {WIRE_VERSION} "
                                  f"({e}); it was stopped and starts afresh at the next call"
                                  ) from None
            self._failed_starts = 0
            return actions

    def reset(self, seed: int) -> None:
        """Reset the policy with `seed`: now if its worker runs, else when it starts (and again
        whenever a fresh worker starts after a fault)."""
        with self._lock:
            self._reset_seed = int(seed)
            if self._slot.running:
                self._call(dumps({"type": "reset", "seed": str(seed)}), "reset",
                           self.limits.time_limit_ms)

    def close(self) -> None:
        """Stop the worker (a later call starts a fresh one)."""
        with self._lock:
            self._slot.stop()

    def __enter__(self) -> ProcessPolicy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The running worker's process id, or None."""
        return self._slot.pid if self._slot.running else None

    def __repr__(self) -> str:
        state = f"worker {self._slot.pid}" if self._slot.running else "no worker"
        return f"<ProcessPolicy {self.ref!r} agent {self.index}, {state}>"

    # -- checking at build time ----------------------------------------------------------------
    def check(self) -> None:
        """Check that the policy loads with its params, before the run: a built-in in this
        process (trusted code), anything else in a worker of its own (closed afterwards), so a
        bad param is an error at build time rather than a fault at tick 1.

        Raises:
            PolicyLoadError: it does not load (or its worker cannot start).
        """
        if self.ref in BUILTIN:
            from agents.loading import load_policy

            load_policy(self.ref, self.params, decimals=self.decimals)
            return
        key = self._check_key()
        if key in _CHECKED:
            return
        with self._lock:
            try:
                self._start(load_only=True)
            except _LoadFault as e:
                if e.param is not None:
                    raise PolicyParamError(str(e), e.param) from None
                raise PolicyLoadError(str(e)) from None
            except PolicyFault as e:
                raise PolicyLoadError(f"policy {self.ref!r}: {e}") from None
            finally:
                self._failed_starts = 0
                self._slot.stop()
        if len(_CHECKED) >= 256:
            _CHECKED.clear()
        _CHECKED[key] = None

    def _check_key(self) -> tuple[Any, ...]:
        """What a check depends on: the reference, params, limits and the file's version."""
        target = self.ref.rpartition(":")[0]
        stamp: tuple[Any, ...] = ()
        if target.endswith(".py"):
            for base in ([Path(self.base_dir)] if self.base_dir else []) + [Path(self._cwd)]:
                path = base / target
                if path.is_file():
                    st = path.stat()
                    stamp = (str(path.resolve()), st.st_mtime_ns, st.st_size)
                    break
        params = hashlib.sha256(dumps(self.params)).hexdigest()
        return (self.ref, self.base_dir, params, self.decimals, self.limits, tuple(sys.path),
                stamp)

    # -- the worker ----------------------------------------------------------------------------
    def _start(self, *, load_only: bool = False) -> None:
        """Start a worker, load the policy and reset it (PolicyFault if it fails)."""
        if self._failed_starts >= MAX_FAILED_STARTS:
            raise PolicyFault(f"its worker failed to start {self._failed_starts} times in a "
                              f"row and is not started again (last: {self._last_start_fault})")
        try:
            self._spawn()
            self.n_starts += 0 if load_only else 1
            started = self._call(dumps({
                "type": "start", "wire": WIRE_VERSION,
                "twin_spec": None if load_only or self.twin_spec is None
                else json.loads(self.twin_spec.to_json()),
                "hz": self.hz, "seed": str(self.seed), "index": self.index,
                "memory_limit_mb": self.limits.memory_limit_mb,
                "sys_path": list(sys.path), "cwd": self._cwd,
            }), "start", int(START_TIMEOUT_S * 1000), phase="its worker could not start")
            if started.get("wire") != WIRE_VERSION:
                raise PolicyFault(f"its worker speaks {started.get('wire')!r}, not "
                                  f"{WIRE_VERSION}")
            self._call(dumps({"type": "load", "policy": self.ref, "params": self.params,
                              "base_dir": self.base_dir, "decimals": self.decimals}),
                       "load", self.limits.time_limit_ms, phase="its policy could not be loaded")
        except PolicyFault as e:
            self._slot.stop()
            self._failed_starts += 1
            self._last_start_fault = str(e)
            raise
        if self._reset_seed is not None and not load_only:
            self._call(dumps({"type": "reset", "seed": str(self._reset_seed)}), "reset",
                       self.limits.time_limit_ms)

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            pid = fork_server().fork(theirs)
        finally:
            theirs.close()
        self._slot.pid, self._slot.owner = pid, os.getpid()
        self._slot.channel = _Channel(ours)

    def _call(self, payload: bytes, what: str, limit_ms: int, *,
              phase: str = "") -> dict[str, Any]:
        """Send one request and read its answer within `limit_ms` (0: no limit).

        Raises:
            PolicyFault: an error answer (the worker stays), or a timeout, death or garbage
                (the worker is stopped).
        """
        channel = self._slot.channel
        if channel is None:
            raise PolicyFault(f"its worker is not running for {what}")
        deadline = time.monotonic() + limit_ms / 1000 if limit_ms else None
        try:
            channel.send(payload + b"\n", deadline)
            line = channel.receive(deadline)
            reply = loads(line)
            if type(reply) is not dict or type(reply.get("type")) is not str:
                raise _Garbage("a message without a type")
            expected = _REPLIES[what]
            if reply["type"] not in (expected, "error"):
                raise _Garbage(f"a {reply['type']!r} message where {expected!r} or 'error' "
                               "belongs")
            if reply["type"] == "error" and type(reply.get("error")) is not str:
                raise _Garbage("an error without its text")
        except _Timeout:
            self._slot.stop()
            budget = "the start allowance" if what == "start" else "time_limit_ms"
            raise PolicyFault(f"{what} timed out after {limit_ms} ms ({budget}); its worker was "
                              "stopped and starts afresh at the next call") from None
        except _Closed:
            status, killed = self._slot.stop(grace_ms=_EXIT_GRACE_MS)
            how = ("closed its end of the protocol but kept running (it was stopped)" if killed
                   else _status_text(status, self.limits.memory_limit_mb))
            raise PolicyFault(f"its worker {how} during {what}; a fresh one starts at the next "
                              "call") from None
        except (_Garbage, WireError) as e:
            self._slot.stop()
            raise PolicyFault(f"its worker answered something that is not {WIRE_VERSION} "
                              f"during {what} ({e}); it was stopped and starts afresh at the "
                              "next call") from None
        if reply["type"] == "error":
            if what == "load" and reply.get("load_error") is True:
                param = reply.get("param")
                raise _LoadFault(reply["error"], param if type(param) is str
                                 and param.isidentifier() and len(param) <= 256 else None)
            text = reply["error"][:1_000]
            raise PolicyFault(f"{phase}: {text}" if phase else f"in its worker: {text}")
        return reply
