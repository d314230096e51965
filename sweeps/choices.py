"""The names a command line offers for the sweep engine's choices, as plain strings.

`sweeps.engine` imports numpy and pyarrow; parsing `twinecon sweep --executor` should not.
`EXECUTORS` equals `sweeps.engine.EXECUTORS` (tests/twinecon/test_fast_start.py checks it).
"""

from __future__ import annotations

__all__ = ["EXECUTORS"]

#: Where the runs of a sweep execute: local processes, or a Ray cluster.
EXECUTORS: tuple[str, ...] = ("local", "ray")
