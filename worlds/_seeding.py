"""Derive per-twin random streams from a scenario seed and the twin's hash."""

from __future__ import annotations

import numpy as np

from worlds.errors import InvalidPlan

__all__ = ["arrivals", "request_id", "twin_rng"]


def twin_rng(seed: int, spec_sha256: str) -> np.random.Generator:
    """Return ``Generator(PCG64(SeedSequence([seed, int(sha256[:16], 16)])))``.

    Mixing in the twin hash keeps two twins evaluated with one scenario seed independent.
    """
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, int(spec_sha256[:16], 16)]))
    )


def arrivals(rng: np.random.Generator, rate_per_h: int, tick_ms: object) -> int:
    """How many requests arrive in one tick: Poisson with mean ``rate_per_h * tick_ms / 1 h``.

    Raises:
        InvalidPlan: `tick_ms` is not an int >= 0.
    """
    if isinstance(tick_ms, bool) or not isinstance(tick_ms, int | np.integer) or tick_ms < 0:
        raise InvalidPlan(f"tick_ms is {tick_ms!r}; expected an int >= 0")
    return int(rng.poisson(rate_per_h * int(tick_ms) / 3_600_000))


def request_id(rng: np.random.Generator, prefix: str) -> str:
    """A request id ``prefix-`` + 16 hex digits from one 64-bit draw of `rng` (deterministic
    given the rng state; collides with chance ~n^2 / 2^65)."""
    return f"{prefix}-{int(rng.integers(0, 2**63, dtype=np.int64)):016x}"
