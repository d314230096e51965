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
from collections.abc import Callable
from typing import Any

__all__ = ["PolicyTimeout", "call_with_budget"]


class PolicyTimeout(BaseException):
    """Raised inside a policy call that overran its time budget."""


class _Alarm:
    """The process's SIGALRM handler, installed once (installing a handler per call costs
    more than most policy calls): it raises `PolicyTimeout` while a budgeted call runs and
    hands any other alarm to the handler it replaced."""

    active = False
    installed = False
    previous: Any = None

    @classmethod
    def handle(cls, signum: int, frame: Any) -> None:
        if cls.active:
            cls.active = False
            raise PolicyTimeout
        if callable(cls.previous):
            cls.previous(signum, frame)

    @classmethod
    def install(cls) -> None:
        if not cls.installed:
            cls.previous = signal.signal(signal.SIGALRM, cls.handle)
            cls.installed = True


def _can_interrupt() -> bool:
    """Whether an alarm can interrupt a call here: a POSIX process's main thread."""
    return (hasattr(signal, "setitimer")
            and threading.get_ident() == threading.main_thread().ident)


def call_with_budget(fn: Callable[..., Any], *args: Any,
                     limit_ms: int) -> tuple[Any, float, bool]:
    """Call `fn(*args)` within `limit_ms` (0: no limit).

    Returns:
        (its value, the wall time in ms, whether it was interrupted); an exception of `fn`
        propagates (`PolicyTimeout` only as the interrupted flag).
    """
    start = time.perf_counter()
    if not limit_ms or not _can_interrupt():
        out = fn(*args)
        return out, (time.perf_counter() - start) * 1000, False
    _Alarm.install()
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, limit_ms / 1000)
    try:
        _Alarm.active = True
        try:
            out = fn(*args)
        finally:
            _Alarm.active = False
            signal.setitimer(signal.ITIMER_REAL, 0)
    except PolicyTimeout:
        out, interrupted = None, True
    else:
        interrupted = False
    took_ms = (time.perf_counter() - start) * 1000
    if outer_delay:  # an alarm someone else had set keeps its time
        signal.setitimer(signal.ITIMER_REAL, max(outer_delay - took_ms / 1000, 1e-6),
                         outer_interval)
    return out, took_ms, interrupted
