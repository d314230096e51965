"""The worker process a process-isolated policy runs in: one policy, spoken to in the wire form.

`python -m agents.worker FD` starts the fork server (`agents._forkserver`) on the inherited
socket FD; each worker is a fork of it and runs `run_worker`: a session of its own (so the
whole process group can be stopped), its stdout sent to stderr (a policy's prints never reach
the protocol, which has a socket of its own), no core dumps, its address space capped at
`memory_limit_mb`, and a watchdog that ends it when the fork server is gone. Then it answers
requests, one JSON line each (docs/policy-wire.md):

- ``start``: the twin's spec, the L2 rate, the run seed and the agent index, the memory
  limit, the simulator's `sys.path` and working directory; the worker caps its address space
  at what it maps now plus `memory_limit_mb` (the policy's budget, the same on any machine),
  builds its own twin and `Planner`, and its policy generator (the `POLICY` stream of the
  run's seed tree at the agent's index: the one an in-process policy observes);
- ``load``: the policy reference and params (as the scenario gives them) and the ledger's
  decimals, built with `agents.load_policy` (which converts money params from tokens);
- ``reset``: the seed `policy.reset` receives;
- ``act``: an observation; answered with the policy's actions.

Nothing it receives is a key, a ledger or a model. Whatever the policy raises (SystemExit and
BaseException included) is answered as an error and the worker goes on; if it dies, hangs or
answers garbage, the simulator stops it and records the fault (`agents.process`).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

from agents.errors import PolicyLoadError, PolicyParamError, WireError
from agents.faults import describe_exception
from agents.wire import WIRE_VERSION, Wire, dumps, loads

__all__ = ["drop_keys", "main", "run_worker"]

_WATCH_S = 0.25


def _describe(error: BaseException) -> str:
    """`Type: message` of an exception, even one whose `__str__` raises."""
    try:
        message = str(error)
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    except BaseException:
        text = f"{type(error).__name__} (its message could not be read)"
    return text[:1_000]


def _watch(server_pid: int) -> None:
    """End this process when the fork server is gone (its parent, the simulator, died)."""
    def loop() -> None:
        while True:
            if os.getppid() != server_pid:
                os._exit(0)
            time.sleep(_WATCH_S)

    threading.Thread(target=loop, name="twinecon-watchdog", daemon=True).start()


class _Worker:
    """The state of one worker: its twin, planner, generator and policy."""

    def __init__(self) -> None:
        self.wire: Wire | None = None
        self.planner: Any = None
        self.rng: Any = None
        self.policy: Any = None
        self.memory_limit_mb = 0
        self.mapped_mb = 0
        self.spec: Any = None
        self.hz: int | None = None

    def _error(self, text: str) -> dict[str, Any]:
        return {"type": "error", "error": text}

    def _memory_note(self, error: BaseException) -> str:
        if isinstance(error, MemoryError) and self.memory_limit_mb:
            return (f" (its memory limit is {self.memory_limit_mb} MB above the "
                    f"{self.mapped_mb} MB its worker starts with)")
        return ""

    def _build_twin(self) -> None:
        from economy import Planner
        from worlds import registry
        from worlds.spec import TwinSpec

        twin = registry.twin_from_spec(TwinSpec.from_json(dumps(self.spec)))
        self.wire = Wire.for_twin(twin)
        self.planner = Planner(twin, hz=self.hz)

    def start(self, msg: dict[str, Any]) -> dict[str, Any]:
        import resource

        from twinecon.seeds import SeedTree, Stream
        from worlds.errors import UnknownKind

        if msg.get("wire") != WIRE_VERSION:
            return self._error(f"this worker speaks {WIRE_VERSION}, not {msg.get('wire')!r}")
        sys.path[:] = msg["sys_path"]
        os.chdir(msg["cwd"])
        limit = int(msg["memory_limit_mb"])
        mapped = _mapped_mb()
        if limit and hasattr(resource, "RLIMIT_AS"):  # the policy's budget on top of ours
            cap = ((mapped or 0) + limit) * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        self.memory_limit_mb, self.mapped_mb = limit, mapped or 0
        self.rng = SeedTree(int(msg["seed"])).rng(Stream.POLICY, int(msg["index"]))
        self.spec, self.hz = msg["twin_spec"], msg["hz"]
        if self.spec is not None:
            try:
                self._build_twin()
            except UnknownKind:
                pass  # a kind the policy's own package registers: built after the load
        return {"type": "started", "wire": WIRE_VERSION, "pid": os.getpid(), "mapped_mb": mapped}

    def load(self, msg: dict[str, Any]) -> dict[str, Any]:
        from agents.loading import load_policy

        base_dir = msg["base_dir"]
        try:
            self.policy = load_policy(msg["policy"], msg["params"],
                                      base_dir=Path(base_dir) if base_dir else None,
                                      decimals=msg.get("decimals"))
        except PolicyLoadError as e:
            reply = {"type": "error", "error": str(e), "load_error": True}
            if isinstance(e, PolicyParamError):  # the simulator names the scenario key
                reply["param"] = e.param
            return reply
        except BaseException as e:
            return self._error(f"loading raised {_describe(e)}{self._memory_note(e)}")
        if self.spec is not None and self.wire is None:
            try:
                self._build_twin()
            except BaseException as e:
                return self._error(f"the twin could not be built: {_describe(e)}")
        return {"type": "loaded"}

    def reset(self, msg: dict[str, Any]) -> dict[str, Any]:
        reset = getattr(self.policy, "reset", None)
        if reset is not None:
            try:
                reset(int(msg["seed"]))
            except BaseException as e:
                why = describe_exception(e, self.policy, note=self._memory_note(e))
                return self._error(f"reset raised {why}")
        return {"type": "done"}

    def act(self, msg: dict[str, Any]) -> dict[str, Any]:
        wire = self.wire
        if wire is None or self.policy is None:
            return self._error("act before start and load")
        try:
            obs = wire.decode_observation(msg["observation"], planner=self.planner, rng=self.rng)
        except WireError as e:
            return self._error(f"the observation could not be decoded: {e}")
        try:
            out = self.policy.act(obs)
        except BaseException as e:  # SystemExit too: the worker answers and goes on
            why = describe_exception(e, self.policy, note=self._memory_note(e))
            return self._error(f"act raised {why}")
        if type(out) is not list and type(out) is not tuple:  # exact: no code of its runs
            return self._error(f"act returned {type(out).__name__}, not a list of actions "
                               "([] for none)")
        classes = wire.action_classes()
        bad = next((a for a in out if type(a) not in classes), None)
        if bad is not None:
            return self._error(f"act returned a {type(bad).__name__} among its actions; return "
                               "instances of the economy's action classes")
        try:
            return {"type": "actions", "actions": wire.encode_actions(out)}
        except WireError as e:
            return self._error(f"act returned an action the wire form cannot carry: {e}")
        except BaseException as e:
            return self._error(f"its actions raised {_describe(e)}{self._memory_note(e)} while "
                               "being encoded")

    def handle(self, msg: Any) -> dict[str, Any]:
        kind = msg.get("type") if type(msg) is dict else None
        handler = {"start": self.start, "load": self.load, "reset": self.reset,
                   "act": self.act}.get(kind)  # type: ignore[arg-type]
        if handler is None:
            return self._error(f"unknown request {kind!r}")
        return handler(msg)


def _mapped_mb() -> int | None:
    from agents._forkserver import mapped_mb

    return mapped_mb()


def _serve(sock: socket.socket) -> None:
    worker = _Worker()
    reader = sock.makefile("rb")
    while True:
        line = reader.readline()
        if not line:
            return  # the simulator closed its end
        try:
            reply = dumps(worker.handle(loads(line)))
        except BaseException as e:  # MemoryError while answering, say: answer that, briefly
            reply = dumps(worker._error(f"the worker failed to answer: {_describe(e)}"
                                        f"{worker._memory_note(e)}"))
        sock.sendall(reply + b"\n")


def run_worker(sock: socket.socket, *, server_pid: int) -> NoReturn:
    """Serve one policy on `sock` until the simulator closes it (in a fresh fork)."""
    import resource

    code = 0
    try:
        os.setsid()
        os.dup2(2, 1)  # a policy's prints go to stderr; the protocol has its own socket
        if hasattr(resource, "RLIMIT_CORE"):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _watch(server_pid)
        _serve(sock)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def drop_keys() -> int:
    """Drop every key object (`chain.Identity`) the simulator's modules made at import, so
    that none is left for a policy to find in its worker; returns how many were dropped.

    The only one today is the contracts' deployer (`chain.deployment.DEPLOYER`, a fixed,
    public key that no worker uses): its module globals and the function defaults that hold
    it are set to None. Any key still reachable some other way has its secret zeroed.
    """
    import gc

    from chain import Identity

    keys = [o for o in gc.get_objects() if type(o) is Identity]
    for key in keys:
        for holder in gc.get_referrers(key):
            if type(holder) is dict:
                for name in [n for n, v in holder.items() if v is key]:
                    holder[name] = None
            elif type(holder) is tuple:
                for fn in gc.get_referrers(holder):
                    if getattr(fn, "__defaults__", None) is holder:
                        fn.__defaults__ = tuple(None if v is key else v for v in holder)
    n = len(keys)
    del keys, key
    gc.collect()
    for left in (o for o in gc.get_objects() if type(o) is Identity):
        object.__setattr__(left, "_secret", bytes(32))
    return n


def main(argv: list[str] | None = None) -> None:
    """`python -m agents.worker FD`: the fork server on the inherited Unix socket FD."""
    from agents import _forkserver

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        sys.exit("usage: python -m agents.worker FD (started by agents.process, not by hand)")
    # what every worker uses, imported once here so that a fork starts in milliseconds
    import agents  # noqa: F401
    import economy  # noqa: F401
    from worlds import registry

    for kind in registry.kinds():  # the shipped twin kinds' modules
        try:
            __import__(f"worlds.{kind}")
        except ImportError:
            pass
    drop_keys()
    _forkserver.serve(socket.socket(fileno=int(args[0])))


if __name__ == "__main__":
    main()
