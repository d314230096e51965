"""One seed tree per run: every random stream of a run, named by a key from one enum.

A run has one seed. Each stream is a child of it, addressed by a `Stream` and the indices that
tell its instances apart (an agent's index, a tick), so adding a stream, an agent or a tick
never shifts what any other stream draws::

    tree = SeedTree(7)
    demand = tree.rng(Stream.DEMAND, 3)        # customer 3's requests
    shift = tree.integer(Stream.SHIFT, 12)     # the twin's conditions in tick 12

Streams drawn with numpy are `SeedSequence(seed, spawn_key=(stream, *indices))`. Two streams
are not numpy generators and say how they are derived instead: identities (eth keys,
`IDENTITY_DOMAIN`, derived by `chain.Identity.derive`) and a twin's own conditions for a
given evaluation seed (`twin_sequence`, mixing in the twin's spec hash so two twins evaluated
with one seed stay independent).

This module is the bottom of the tree of packages: it imports numpy only.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = ["IDENTITY_DOMAIN", "SYSTEM_INDEX", "SeedTree", "Stream", "twin_sequence"]


class Stream(IntEnum):
    """The random streams of a run; the value is the first element of the stream's key.

    Never renumber a member: results recorded with one numbering are reproduced only by it.
    """

    #: (DEMAND, i): customer i's requests (orders, trips, maintenance requests).
    DEMAND = 0
    #: (MARKET,): the market's order of resolving decisions and its tie breaks.
    MARKET = 1
    #: (POLICY, i): agent i's generator, handed to its policy as `Observation.rng`.
    POLICY = 2
    #: (SHIFT, t): the evaluation seed of tick t (the twin's conditions every job posted in
    #: that tick is judged under).
    SHIFT = 3
    #: (SPOT_CHECK,): which compute usage claims the protocol re-meters.
    SPOT_CHECK = 4
    #: (POLICY_RESET, i): the seed passed to agent i's `policy.reset(seed)`.
    POLICY_RESET = 5
    #: (IDENTITY, i): agent i's key (not a numpy stream: see `IDENTITY_DOMAIN`).
    IDENTITY = 6


#: Key indices of the system accounts, far above any agent index.
SYSTEM_INDEX = {"protocol": 2**40, "treasury": 2**40 + 1, "market": 2**40 + 2}

#: Identities (secp256k1 keys) are keccak256(IDENTITY_DOMAIN ‖ seed ‖ index ‖ counter), each a
#: 32-byte big-endian word but the counter (4 bytes), as `chain.Identity.derive` computes.
IDENTITY_DOMAIN = b"twinecon/identity/v1"


def twin_sequence(seed: int, spec_sha256: str) -> np.random.SeedSequence:
    """The seed sequence of a twin's own conditions under evaluation seed `seed`:
    ``SeedSequence([seed, int(spec_sha256[:16], 16)])``."""
    return np.random.SeedSequence([int(seed), int(spec_sha256[:16], 16)])


class SeedTree:
    """The streams of one run, all derived from its seed.

    Args:
        seed: the run seed (a non-negative int).

    Raises:
        ValueError: a negative or non-integer seed.
    """

    __slots__ = ("seed",)

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"a run seed must be an int >= 0, got {seed!r}")
        self.seed = int(seed)

    def sequence(self, stream: Stream, *indices: int) -> np.random.SeedSequence:
        """The seed sequence of stream `stream` at `indices`."""
        if stream is Stream.IDENTITY:
            raise ValueError("identities are keys, not numpy streams: use "
                             "chain.Identity.derive(seed, index)")
        return np.random.SeedSequence(self.seed, spawn_key=(int(stream), *map(int, indices)))

    def rng(self, stream: Stream, *indices: int) -> np.random.Generator:
        """A fresh generator of stream `stream` at `indices` (the same draws every time)."""
        return np.random.default_rng(self.sequence(stream, *indices))

    def integer(self, stream: Stream, *indices: int) -> int:
        """One 32-bit seed drawn from stream `stream` at `indices` (for APIs that take an int)."""
        return int(self.sequence(stream, *indices).generate_state(1)[0])

    def identity_material(self, index: int) -> bytes:
        """The bytes an identity's key is hashed from (before its 4-byte counter)."""
        return IDENTITY_DOMAIN + self.seed.to_bytes(32, "big") + int(index).to_bytes(32, "big")

    def __repr__(self) -> str:
        return f"SeedTree({self.seed})"
