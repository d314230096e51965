"""One HTTP POST of a JSON body under a deadline, with the standard library only (no new
dependency): what a remote policy (`agents.remote`) and the `llm` policy send.

`urllib.request` bounds each socket operation, not the whole exchange: a server that sends
its answer a byte at a time would hold a call for ever. Here the whole call (connect, send,
headers, body) has one deadline: a timer shuts the socket down when it passes, which wakes
the read blocked on it. No proxy is used (the environment's `http_proxy` is not read): a
policy endpoint is named by its own address.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass

__all__ = ["HttpAnswer", "HttpTimeout", "HttpUnreachable", "check_url", "post"]


class HttpTimeout(Exception):
    """The call passed its deadline."""


class HttpUnreachable(Exception):
    """The connection failed or broke before a whole answer arrived (the message says how)."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """An answer: its status, its body (at most `max_bytes`, else `too_long`) and time."""

    status: int
    reason: str
    body: bytes
    too_long: bool
    latency_ms: float


def check_url(url: str) -> urllib.parse.SplitResult:
    """`url` split, if it is an http(s) URL with a host (and a valid port, if any).

    Raises:
        ValueError: what is wrong with it.
    """
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("it holds whitespace or control characters")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("expected an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("it names no host")
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as e:
        raise ValueError(f"bad port ({e})") from None
    if parts.fragment:
        raise ValueError("a URL for a POST has no #fragment")
    return parts


def post(url: str, body: bytes, *, headers: dict[str, str] | None = None,
         timeout_s: float | None, max_bytes: int) -> HttpAnswer:
    """POST `body` (JSON) to `url` and read the whole answer within `timeout_s` (None: none).

    Raises:
        HttpTimeout: the deadline passed.
        HttpUnreachable: no connection, or it broke before the answer was whole.
        ValueError: not an http(s) URL.
    """
    parts = check_url(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    start = time.monotonic()
    conn = cls(parts.hostname, parts.port, timeout=timeout_s)
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(timeout_s, expire) if timeout_s else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/json", "Accept": "application/json",
            "Content-Length": str(len(body)), "Connection": "close", **(headers or {})})
        response = conn.getresponse()
        data = response.read(max_bytes + 1)
        too_long = len(data) > max_bytes
        if not too_long and not response.isclosed() and response.length not in (None, 0):
            raise HttpUnreachable("the answer ended before its Content-Length")
        latency = (time.monotonic() - start) * 1000
        if expired.is_set():
            raise HttpTimeout
        return HttpAnswer(status=response.status, reason=response.reason or "",
                          body=data[:max_bytes], too_long=too_long, latency_ms=latency)
    except TimeoutError:
        raise HttpTimeout from None
    except (OSError, http.client.HTTPException) as e:
        if expired.is_set():
            raise HttpTimeout from None
        raise HttpUnreachable(_describe(e)) from None
    finally:
        if timer is not None:
            timer.cancel()
        conn.close()


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(error, socket.gaierror):
        return f"the host name does not resolve ({error.strerror or error})"
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:300]
