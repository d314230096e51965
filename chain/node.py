"""A local hardhat JSON-RPC node for the `rpc` ledger tests and for users: start, stop, status.

Hardhat 2 lives in `tools/hardhat` (installed by `make node-deps`; nothing is downloaded at run
time). `LocalNode.start()` runs `hardhat node` bound to 127.0.0.1 in its own process group and
waits until `eth_chainId` answers; `stop()` ends the group. The CLI (`twinecon node ...`) uses
`start_background` / `status` / `stop_background`, which keep `<state_dir>/node.json` so a later
command can find and stop the node an earlier one started.

Only the standard library is imported here (no web3): `rpc_request` speaks JSON-RPC over urllib.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chain.errors import ChainError

__all__ = [
    "DEFAULT_CHAIN_ID",
    "DEFAULT_STATE_DIR",
    "HARDHAT_DIR",
    "LocalNode",
    "NodeError",
    "NodeState",
    "find_hardhat",
    "rpc_request",
    "start_background",
    "status",
    "stop_background",
]

#: The hardhat package folder (package.json, package-lock.json, hardhat.config.js).
HARDHAT_DIR = Path(__file__).resolve().parent.parent / "tools" / "hardhat"
DEFAULT_CHAIN_ID = 31337
#: Where the CLI keeps node.json and node.log, relative to the current working directory.
DEFAULT_STATE_DIR = Path(".twinecon") / "node"
HOST = "127.0.0.1"

_INSTALL_HINT = "run `make node-deps` (needs Node.js 20 and npm)"
_READY_LINE = re.compile(r"JSON-RPC server at http://127\.0\.0\.1:(\d+)/")
_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


class NodeError(ChainError):
    """The local hardhat node is missing, did not start, or does not answer."""

    code = "node"


# --------------------------------------------------------------------------- locating hardhat


def find_hardhat() -> Path:
    """The hardhat binary: `$TWINECON_HARDHAT` if set, else tools/hardhat's installed one.

    Raises NodeError with a one-line fix when it (or Node.js, which runs it) is missing.
    """
    override = os.environ.get("TWINECON_HARDHAT")
    if override:
        path = Path(override).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise NodeError(f"hardhat is not installed at {path} (TWINECON_HARDHAT); "
                            f"{_INSTALL_HINT}, or point TWINECON_HARDHAT at a hardhat binary")
    else:
        path = HARDHAT_DIR / "node_modules" / ".bin" / "hardhat"
        if not path.is_file():
            raise NodeError(f"hardhat is not installed; {_INSTALL_HINT}")
    if shutil.which("node") is None:
        raise NodeError(f"Node.js (`node`) is not on PATH, so hardhat cannot run; install "
                        f"Node.js 20, then {_INSTALL_HINT.removeprefix('run ')}")
    return path


# --------------------------------------------------------------------------------- JSON-RPC


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host == "localhost" or host == "::1" or host.startswith("127.")


def rpc_request(url: str, method: str, params: Sequence[Any] | Mapping[str, Any] = (), *,
                timeout: float = 10.0) -> Any:
    """Send one JSON-RPC 2.0 request and return its `result`.

    Raises NodeError (naming the url) when the node cannot be reached or answers with an error.
    Loopback urls bypass any http(s)_proxy from the environment.
    """
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                       "params": params if isinstance(params, Mapping) else list(params)}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    handlers = [urllib.request.ProxyHandler({})] if _is_loopback(url) else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as e:
        raise NodeError(f"{method} at {url} failed: HTTP {e.code} {e.reason}") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise NodeError(f"cannot reach the node at {url} ({reason}); is it running? "
                        "(`twinecon node status`)") from e
    except ValueError as e:
        raise NodeError(f"{method} at {url} did not answer JSON: {e}") from e
    if not isinstance(payload, dict):
        raise NodeError(f"{method} at {url} answered {payload!r}, not a JSON-RPC response")
    if payload.get("error") is not None:
        err = payload["error"]
        message = err.get("message", err) if isinstance(err, dict) else err
        raise NodeError(f"{method} at {url} failed: {message}")
    return payload.get("result")


def _answers(url: str, chain_id: int, timeout: float = 2.0) -> bool:
    try:
        return int(rpc_request(url, "eth_chainId", timeout=timeout), 16) == chain_id
    except (NodeError, TypeError, ValueError):
        return False


# -------------------------------------------------------------------------------- processes


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie child of ours is reaped and counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    if stat.rpartition(")")[2].split()[:1] == ["Z"]:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True


def _is_hardhat(pid: int) -> bool:
    """Whether `pid` looks like a hardhat node (guards against a recycled pid in node.json)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc: trust the state file
    return b"hardhat" in cmdline


def _kill_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _terminate(pid: int, process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM the process group led by `pid`, then SIGKILL it if still alive after a grace."""
    def gone(wait: float) -> bool:
        if process is not None:
            try:
                process.wait(timeout=wait)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + wait
        while _alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    if process is not None and process.poll() is not None:
        return  # already ended and reaped
    _kill_group(pid, signal.SIGTERM)
    if not gone(_STOP_GRACE):
        _kill_group(pid, signal.SIGKILL)
        gone(_STOP_GRACE)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


# ------------------------------------------------------------------------------- LocalNode


@dataclass(eq=False)
class LocalNode:
    """A running `hardhat node` on 127.0.0.1. Use `LocalNode.start()`, then `stop()` or `with`."""

    port: int
    pid: int
    chain_id: int
    log_path: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _owns_log: bool = field(default=False, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @classmethod
    def start(cls, port: int = 0, chain_id: int = DEFAULT_CHAIN_ID, timeout: float = 60, *,
              log_path: Path | None = None, log_requests: bool = False) -> LocalNode:
        """Start `hardhat node` on 127.0.0.1:`port` (0: a free port) with `chain_id` and wait
        until `eth_chainId` answers, at most `timeout` seconds.

        stdout and stderr go to `log_path` (default: a temporary file, removed by `stop()`);
        `log_requests` makes hardhat log every JSON-RPC request there. On failure the process is
        killed and NodeError carries the end of the log.
        """
        if not (isinstance(chain_id, int) and chain_id > 0):
            raise NodeError(f"chain id must be a positive integer, got {chain_id!r}")
        if not (isinstance(port, int) and 0 <= port <= 65535):
            raise NodeError(f"port must be 0 (any free port) or 1..65535, got {port!r}")
        hardhat = find_hardhat()
        if port and not _port_free(port):
            raise NodeError(f"port {port} on {HOST} is in use; pick another with --port, "
                            "or 0 for any free port")
        owns_log = log_path is None
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="twinecon-hardhat-", suffix=".log")
            os.close(fd)
            log_path = Path(name)
        log_path = Path(log_path)
        log_path.parent.mkdir(parents=True, exist_ok=True)

        env = dict(os.environ)
        env.pop("FORCE_COLOR", None)
        env.update(
            HARDHAT_DISABLE_TELEMETRY_PROMPT="true",  # never ask; without consent nothing is sent
            NO_COLOR="1",
            TWINECON_CHAIN_ID=str(chain_id),
            TWINECON_HARDHAT_LOGGING="true" if log_requests else "false",
        )
        if "TWINECON_HARDHAT" in os.environ:
            # a hardhat installed elsewhere runs with tools/hardhat's config
            env["HARDHAT_EXPERIMENTAL_ALLOW_NON_LOCAL_INSTALLATION"] = "true"
        command = [str(hardhat), "node", "--hostname", HOST, "--port", str(port)]
        with open(log_path, "wb") as log:
            try:
                process = subprocess.Popen(
                    command, cwd=HARDHAT_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as e:
                raise NodeError(f"cannot run {hardhat}: {e}; {_INSTALL_HINT}") from e

        node = cls(port=port, pid=process.pid, chain_id=chain_id, log_path=log_path,
                   _process=process, _owns_log=owns_log)
        atexit.register(node.stop)
        try:
            node._wait_ready(timeout)
        except BaseException:
            node.stop(remove_log=False)
            raise
        return node

    def _wait_ready(self, timeout: float) -> None:
        if self._process is None:
            raise NodeError("this node was not started here; nothing to wait for")
        deadline = time.monotonic() + timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise NodeError(f"hardhat node exited with code {code} before answering; "
                                f"log {self.log_path}:\n{_tail(self.log_path)}")
            if not self.port:
                with contextlib.suppress(OSError):
                    found = _READY_LINE.search(self.log_path.read_text(errors="replace"))
                    if found:
                        self.port = int(found.group(1))
            if self.port:
                try:
                    got = int(rpc_request(self.url, "eth_chainId", timeout=2), 16)
                except NodeError:
                    got = None
                if got == self.chain_id:
                    return
                if got is not None:
                    raise NodeError(f"the node at {self.url} answered chain id {got}, "
                                    f"not {self.chain_id}")
            if time.monotonic() >= deadline:
                raise NodeError(f"hardhat node did not answer eth_chainId within {timeout:g}s; "
                                f"log {self.log_path}:\n{_tail(self.log_path)}")
            time.sleep(0.1)

    @property
    def running(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return _alive(self.pid)

    def stop(self, *, remove_log: bool = True) -> None:
        """End the node's process group (SIGTERM, then SIGKILL after a few seconds)."""
        atexit.unregister(self.stop)
        if self._stopped:
            return
        self._stopped = True
        _terminate(self.pid, self._process)
        if remove_log and self._owns_log:
            self.log_path.unlink(missing_ok=True)

    def detach(self) -> None:
        """Leave the node running after this Python process ends (the CLI's `node start`)."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            del process  # Popen warns when collected while its child still runs

    def __enter__(self) -> LocalNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------- background + state file


@dataclass(frozen=True)
class NodeState:
    """What `<state_dir>/node.json` records about a node started in the background."""

    pid: int
    url: str
    port: int
    chain_id: int
    log: str

    @property
    def answering(self) -> bool:
        return _answers(self.url, self.chain_id)


def _state_file(state_dir: Path | str | None) -> Path:
    return Path(DEFAULT_STATE_DIR if state_dir is None else state_dir) / "node.json"


def _read_state(path: Path) -> NodeState | None:
    try:
        data = json.loads(path.read_text())
        return NodeState(pid=int(data["pid"]), url=str(data["url"]), port=int(data["port"]),
                         chain_id=int(data["chain_id"]), log=str(data["log"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)  # unreadable: treat as stale
        return None


def status(state_dir: Path | str | None = None) -> NodeState | None:
    """The background node recorded in `<state_dir>/node.json` if its process still runs (it
    may not answer: see `NodeState.answering`); stale state (a dead pid) is removed."""
    path = _state_file(state_dir)
    state = _read_state(path)
    if state is None:
        return None
    if not (_alive(state.pid) and _is_hardhat(state.pid)):
        path.unlink(missing_ok=True)
        return None
    return state


def start_background(state_dir: Path | str | None = None, port: int = 0,
                     chain_id: int = DEFAULT_CHAIN_ID, timeout: float = 60,
                     ) -> tuple[NodeState, bool]:
    """Start a node that outlives this process and record it in `<state_dir>/node.json`.

    Returns (state, started): when the recorded node already runs and answers, no second node
    is started and `started` is False. Its log is `<state_dir>/node.log`.
    """
    path = _state_file(state_dir)
    current = status(state_dir)
    if current is not None:
        if current.answering:
            return current, False
        raise NodeError(f"a node (pid {current.pid}) is recorded in {path} but does not answer "
                        f"at {current.url}; stop it with `twinecon node stop`")
    node = LocalNode.start(port=port, chain_id=chain_id, timeout=timeout,
                           log_path=path.parent / "node.log")
    state = NodeState(pid=node.pid, url=node.url, port=node.port, chain_id=chain_id,
                      log=str(node.log_path.resolve()))
    try:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
        tmp.replace(path)
    except OSError as e:
        node.stop(remove_log=False)
        raise NodeError(f"cannot write {path}: {e}") from e
    node.detach()
    return state, True


def stop_background(state_dir: Path | str | None = None) -> NodeState | None:
    """Stop the node recorded in `<state_dir>/node.json`; None when none was running."""
    state = status(state_dir)
    if state is not None:
        _terminate(state.pid, None)
    _state_file(state_dir).unlink(missing_ok=True)
    return state
