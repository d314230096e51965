"""The local hardhat node: it answers with the chain id asked for, listens on 127.0.0.1 only,
stops for good, runs in the background through `twinecon node start|status|stop`, and a missing
hardhat is one fixable line. At most three node starts in this file (each takes seconds)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chain.node import LocalNode, NodeError, rpc_request, status, stop_background

CLI = [sys.executable, "-m", "scenarios.cli"]


def _twinecon(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180,
                          env=env, check=False)


def _listening(port: int) -> list[tuple[str, str]]:
    """(table, hex local address) of every socket listening on `port`, from /proc/net."""
    found = []
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].rpartition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.append((table, address))
    return found


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] == "Z"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.rpc
def test_node_answers_its_chain_id_on_loopback_only(hardhat_node: LocalNode) -> None:
    """The session node answers eth_chainId 31337 at http://127.0.0.1:PORT and the only socket
    listening on PORT is bound to 127.0.0.1 (0100007F), not to all addresses."""
    assert hardhat_node.url == f"http://127.0.0.1:{hardhat_node.port}"
    assert int(rpc_request(hardhat_node.url, "eth_chainId"), 16) == 31337
    assert hardhat_node.running
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to read the bound address from")
    assert _listening(hardhat_node.port) == [("tcp", "0100007F")]


@pytest.mark.rpc
def test_start_with_another_chain_id_and_stop_ends_the_process(hardhat_installed: None) -> None:
    """A node started with chain id 1337 answers 1337; after stop() its pid is gone, the port
    no longer answers, and a request names the url it could not reach."""
    node = LocalNode.start(chain_id=1337, timeout=60)
    try:
        assert int(rpc_request(node.url, "eth_chainId"), 16) == 1337
        assert rpc_request(node.url, "eth_blockNumber") == "0x0"
    finally:
        node.stop()
    assert not node.running
    assert _gone(node.pid)
    with pytest.raises(NodeError, match=f"cannot reach the node at {node.url}"):
        rpc_request(node.url, "eth_chainId", timeout=2)
    node.stop()  # a second stop is a no-op


@pytest.mark.rpc
def test_cli_background_node_start_status_stop(hardhat_installed: None, tmp_path: Path) -> None:
    """`twinecon node start` prints the url and returns with the node still running; a second
    start reports it instead of starting another; status shows it; stop ends it."""
    state_dir = tmp_path / "node"
    try:
        started = _twinecon("node", "start", "--port", "0", "--state-dir", str(state_dir))
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        assert url.startswith("http://127.0.0.1:")
        recorded = json.loads((state_dir / "node.json").read_text())
        assert recorded["url"] == url and recorded["chain_id"] == 31337
        assert Path(recorded["log"]).is_file()
        assert int(rpc_request(url, "eth_chainId"), 16) == 31337  # outlived the command

        again = _twinecon("node", "start", "--state-dir", str(state_dir))
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip() == url
        assert f"already running (pid {recorded['pid']}" in again.stderr

        shown = _twinecon("node", "status", "--state-dir", str(state_dir))
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith(f"{url} answering (chain id 31337, pid {recorded['pid']}")

        stopped = _twinecon("node", "stop", "--state-dir", str(state_dir))
        assert stopped.returncode == 0, stopped.stderr
        assert f"stopped the node at {url}" in stopped.stdout
    finally:
        stop_background(state_dir)  # never leave a node behind when an assertion fails
    assert _gone(recorded["pid"])
    assert not (state_dir / "node.json").exists()
    with pytest.raises(NodeError, match="cannot reach"):
        rpc_request(url, "eth_chainId", timeout=2)
    assert status(state_dir) is None


def test_missing_hardhat_is_one_line_naming_make_node_deps(tmp_path: Path) -> None:
    """With TWINECON_HARDHAT pointing nowhere, `node start` exits 2 with one stderr line that
    names `make node-deps`, and no traceback."""
    env = {**os.environ, "TWINECON_HARDHAT": str(tmp_path / "no-such-hardhat")}
    result = _twinecon("node", "start", "--state-dir", str(tmp_path / "node"), env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("twinecon: error: hardhat is not installed")
    assert "make node-deps" in lines[0]
    assert not (tmp_path / "node" / "node.json").exists()


def test_stale_state_is_cleaned_up(tmp_path: Path) -> None:
    """node.json naming a dead pid reads as no node, and the file is removed; stop is a no-op."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "node.json").write_text(json.dumps(
        {"pid": dead.pid, "url": "http://127.0.0.1:9", "port": 9, "chain_id": 31337,
         "log": str(tmp_path / "node.log")}))
    assert status(tmp_path) is None
    assert not (tmp_path / "node.json").exists()
    assert stop_background(tmp_path) is None


def test_rpc_request_names_the_url_it_cannot_reach() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(NodeError, match=f"cannot reach the node at {url}"):
        rpc_request(url, "eth_chainId", timeout=2)
