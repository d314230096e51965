"""A policy call's time budget in this process: measured always, interrupted where it can be.

On the main thread of a POSIX process an alarm (`SIGALRM`) raises `PolicyTimeout` inside a call
that overruns, so a policy stuck in a loop or a sleep is stopped; elsewhere (another thread,
Windows) the call is only measured and its overrun recorded when it returns. `PolicyTimeout` is
a `BaseException`, so a policy's `except Exception` does not swallow it; code that catches
`BaseException` can still ignore it, which is why untrusted policies run in a worker process.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["PolicyTimeout", "call_with_budget"]


class PolicyTimeout(BaseException):
    """Raised inside a policy call that overran its time budget."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise PolicyTimeout


@contextmanager
def _alarm(limit_ms: int) -> Iterator[None]:
    if (not limit_ms or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, limit_ms / 1000)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:  # an alarm someone else had set keeps its time
            left = outer_delay - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), outer_interval)


def call_with_budget(fn: Callable[..., Any], *args: Any,
                     limit_ms: int) -> tuple[Any, float, bool]:
    """Call `fn(*args)` within `limit_ms` (0: no limit).

    Returns:
        (its value, the wall time in ms, whether it was interrupted); an exception of `fn`
        propagates (`PolicyTimeout` only as the interrupted flag).
    """
    start = time.perf_counter()
    try:
        with _alarm(limit_ms):
            out = fn(*args)
    except PolicyTimeout:
        return None, (time.perf_counter() - start) * 1000, True
    return out, (time.perf_counter() - start) * 1000, False
