"""The random streams of a twin: its conditions under a seed, its episodes, its request draws.

Every stream a twin draws for itself starts from `twinecon.seeds.twin_sequence(seed,
spec.sha256)` (``SeedSequence([seed, int(sha256[:16], 16)])``): mixing in the twin's hash
keeps two twins used with one seed independent. Requests are drawn from the caller's
generator (`arrivals`, `request_id`): the economy owns the demand stream.
"""

from __future__ import annotations

import numpy as np

from twinecon.seeds import twin_sequence
from worlds.errors import InvalidPlan

__all__ = ["arrivals", "episode_sequence", "request_id", "twin_rng"]


def twin_rng(seed: int, spec_sha256: str) -> np.random.Generator:
    """The generator of a twin's conditions under evaluation seed `seed`:
    ``Generator(PCG64(twin_sequence(seed, spec_sha256)))``."""
    return np.random.Generator(np.random.PCG64(twin_sequence(seed, spec_sha256)))


def episode_sequence(seed: int | None, spec_sha256: str) -> np.random.SeedSequence:
    """The seed sequence of an environment episode reset with `seed`.

    Args:
        seed: the reset seed; None for fresh OS entropy (an episode no one can replay).
        spec_sha256: the twin's spec hash.

    Returns:
        ``twin_sequence(seed, spec_sha256)``, or ``SeedSequence()`` for None. An env that
        needs several streams takes children of it (``.spawn(k)``), always in the same order.

    Raises:
        InvalidPlan: `seed` is not an int >= 0 (or None).
    """
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidPlan(f"reset seed is {seed!r}; expected an int >= 0 or None")
    return twin_sequence(int(seed), spec_sha256)


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
