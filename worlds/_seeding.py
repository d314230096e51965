"""Derive per-twin random streams from a scenario seed and the twin's hash."""

from __future__ import annotations

import numpy as np

__all__ = ["twin_rng"]


def twin_rng(seed: int, spec_sha256: str) -> np.random.Generator:
    """Return ``Generator(PCG64(SeedSequence([seed, int(sha256[:16], 16)])))``.

    Mixing in the twin hash keeps two twins evaluated with one scenario seed independent.
    """
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, int(spec_sha256[:16], 16)]))
    )
