"""The fork server policy workers are forked from, and the simulator's handle on it.

A worker process started from scratch spends a second or more importing numpy and the
simulator before it can run a policy; a fork of a process that already imported them starts in
milliseconds. So the first process-isolated policy of a simulator process starts one fork
server (``python -m agents.worker``, the same interpreter, in a session of its own), which
imports the simulator's modules, never runs policy code and never receives a key, a ledger or
a model; each worker is a fork of it.

The server speaks one line of JSON per request over a Unix socket (trusted, both ends ours):

- ``{"op": "fork"}`` with one file descriptor attached (`socket.send_fds`): the new worker's
  end of its socket; answered ``{"pid": N}`` once the worker is forked;
- ``{"op": "reap", "pid": N, "grace_ms": G}``: wait up to G ms for the worker to exit, then
  kill its process group if it still runs, and answer ``{"status": S, "killed": K}`` (its
  wait status, or null if it is not one of ours; whether it had to be killed).

When the simulator's end of the socket closes (it exits, or is killed), the server kills every
worker it forked and exits; each worker also exits when it finds the server gone.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from agents.errors import PolicyFault

__all__ = ["START_TIMEOUT_S", "ForkServer", "fork_server", "mapped_mb", "serve"]

#: How long the fork server may take to start (an interpreter importing numpy and the
#: simulator on a busy machine): not a policy's time, and not counted in its budget.
START_TIMEOUT_S = 60.0
_REQUEST_TIMEOUT_S = 30.0  # the server answers a fork or a reap in milliseconds


def mapped_mb() -> int | None:
    """The memory this process maps (VmSize), in MB, where the system says (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return None


# -- the server ----------------------------------------------------------------------------------
def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _exited(pid: int) -> bool:
    """Whether child `pid` has exited, without reaping it (its pid stays ours meanwhile)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _finish(pid: int) -> int | None:
    """Kill what is left of child `pid`'s process group, reap it: its wait status. Called
    while the child is running or a zombie, so `pid` cannot have been reused."""
    _kill_group(pid)
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None


def _read_line(sock: socket.socket, buffer: bytearray) -> tuple[bytes, list[int]]:
    """One request line and the descriptors that came with it (b"" at EOF)."""
    fds: list[int] = []
    while b"\n" not in buffer:
        data, got, _, _ = socket.recv_fds(sock, 65_536, 4)
        fds += got
        if not data:
            return b"", fds
        buffer += data
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line, fds


def serve(ctl: socket.socket) -> None:
    """Run the fork server on `ctl` until the simulator's end closes; then kill every worker.

    The caller has imported what workers share; the server never runs policy code.
    """
    children: dict[int, int | None] = {}  # pid -> wait status once it exited
    me = os.getpid()
    buffer = bytearray()

    def collect() -> None:
        for pid, status in list(children.items()):
            if status is None and _exited(pid):
                children[pid] = _finish(pid)

    def answer(message: dict[str, Any]) -> None:
        ctl.sendall(json.dumps(message).encode() + b"\n")

    ctl.sendall(json.dumps({"ready": True, "pid": me, "mapped_mb": mapped_mb()}).encode() + b"\n")
    while True:
        try:
            line, fds = _read_line(ctl, buffer)
        except OSError:
            break
        if not line:
            break
        request = json.loads(line)
        collect()
        if request["op"] == "fork":
            (fd,) = fds
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                ctl.close()
                from agents.worker import run_worker

                run_worker(socket.socket(fileno=fd), server_pid=me)
            os.close(fd)
            children[pid] = None
            answer({"pid": pid})
        elif request["op"] == "reap":
            pid = request["pid"]
            if pid not in children:
                answer({"status": None, "killed": False})
                continue
            status = children.pop(pid)
            killed = False
            end = time.monotonic() + request.get("grace_ms", 0) / 1000
            if status is None:
                while not _exited(pid) and time.monotonic() < end:
                    time.sleep(0.005)
                killed = not _exited(pid)
                status = _finish(pid)
            answer({"status": status, "killed": killed})
    for pid, status in children.items():
        if status is None:
            _finish(pid)


# -- the simulator's handle ----------------------------------------------------------------------
class ForkServer:
    """The simulator's handle on its fork server: started on first use, one per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._ctl: socket.socket | None = None
        self._owner = 0
        self._buffer = bytearray()
        #: the memory the server maps before any policy runs (a worker starts with as much)
        self.mapped_mb: int | None = None

    @property
    def running(self) -> bool:
        return self._ctl is not None and self._owner == os.getpid()

    def _start(self) -> None:
        if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
            raise PolicyFault("process isolation needs a POSIX system (fork and Unix sockets);"
                              " run the policy with isolation = \"inprocess\" here")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # the same code as this process: the folder that holds this `agents` package first
        root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "agents.worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env,
                start_new_session=True)
        finally:
            theirs.close()
        ours.settimeout(START_TIMEOUT_S)
        self._proc, self._ctl, self._owner, self._buffer = proc, ours, os.getpid(), bytearray()
        try:
            hello = self._receive()
        except (OSError, ValueError) as e:
            self._stop()
            raise PolicyFault(f"the policy fork server did not start within {START_TIMEOUT_S:.0f}"
                              f" s ({type(e).__name__}: {e})") from None
        ours.settimeout(_REQUEST_TIMEOUT_S)
        self.mapped_mb = hello.get("mapped_mb")

    def _receive(self) -> dict[str, Any]:
        ctl = self._ctl
        if ctl is None:
            raise ValueError("the fork server is not running")
        while b"\n" not in self._buffer:
            data = ctl.recv(65_536)
            if not data:
                raise ValueError("the fork server closed its socket")
            self._buffer += data
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer[:] = rest
        return json.loads(line)  # type: ignore[no-any-return]

    def _request(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> dict[str, Any]:
        if not self.running:
            self._forget()
            self._start()
        ctl = self._ctl
        try:
            if ctl is None:
                raise ValueError("the fork server is not running")
            data = json.dumps(message).encode() + b"\n"
            if fds:
                socket.send_fds(ctl, [data], list(fds))
            else:
                ctl.sendall(data)
            return self._receive()
        except (OSError, ValueError) as e:
            self._stop()
            raise PolicyFault(f"the policy fork server stopped answering ({type(e).__name__}: "
                              f"{e}); it restarts at the next call") from None

    def ensure(self) -> None:
        """Start the server if it is not running (in this process)."""
        with self._lock:
            if not self.running:
                self._forget()
                self._start()

    def fork(self, sock: socket.socket) -> int:
        """Fork a worker that serves on `sock` (the caller closes its copy); its pid."""
        with self._lock:
            return int(self._request({"op": "fork"}, (sock.fileno(),))["pid"])

    def reap(self, pid: int, *, grace_ms: int = 0) -> tuple[int | None, bool]:
        """Stop worker `pid`: wait up to `grace_ms` for it to exit, else kill its process
        group; (its wait status or None if not known, whether it had to be killed)."""
        with self._lock:
            if not self.running:
                return None, False
            try:
                reply = self._request({"op": "reap", "pid": pid, "grace_ms": grace_ms})
            except PolicyFault:
                return None, False
            status = reply["status"]
            return (None if status is None else int(status)), bool(reply.get("killed"))

    def _forget(self) -> None:
        """Drop a handle inherited through fork() (the server is the parent's)."""
        if self._ctl is not None and self._owner != os.getpid():
            try:
                self._ctl.close()
            except OSError:
                pass
            self._ctl, self._proc = None, None

    def after_fork_in_child(self) -> None:
        """In a child forked from this process: let go of the parent's server, so that it
        still sees the parent's end close when the parent exits."""
        self._lock = threading.Lock()
        self._forget()

    def _stop(self) -> None:
        if self._ctl is not None:
            self._ctl.close()  # the server kills its workers and exits at EOF
        proc = self._proc
        self._ctl, self._proc = None, None
        if proc is not None and self._owner == os.getpid():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """Stop the server and every worker forked from it."""
        with self._lock:
            if self._owner == os.getpid():
                self._stop()
            else:
                self._forget()


_SERVER = ForkServer()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_SERVER.after_fork_in_child)


def fork_server() -> ForkServer:
    """This process's fork server handle (the server itself starts on first use)."""
    return _SERVER
