"""The canonical state hash every backend reports: one format, so equal states hash equal.

`MemoryLedger` and `ContractLedger` both hash their state through `state_hash`, each reading
it its own way (dictionaries; contract calls), in the order and format fixed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["state_hash"]


def state_hash(*, now: int, minted: int, burned: int, balances: Iterable[tuple[str, int]],
               nonces: Iterable[tuple[str, int]], jobs: Iterable[object],
               twins: Iterable[object], leases: Iterable[object],
               stakes: Iterable[tuple[str, int]], assets: Iterable[object],
               pools: Iterable[object], records: Iterable[bytes]) -> str:
    """sha256 over the state: each iterable in ascending key order (accounts, ids, keys);
    zero balances and stakes are skipped, values are hashed by their repr.

    Returns:
        the hex digest.
    """
    h = hashlib.sha256()
    h.update(f"{now}|{minted}|{burned}".encode())
    for account, balance in balances:
        if balance:
            h.update(f"b{account}{balance}".encode())
    for account, nonce in nonces:
        h.update(f"n{account}{nonce}".encode())
    for values in (jobs, twins, leases):
        for value in values:
            h.update(repr(value).encode())
    for account, stake in stakes:
        if stake:
            h.update(f"s{account}{stake}".encode())
    for values in (assets, pools):
        for value in values:
            h.update(repr(value).encode())
    for record in records:
        h.update(record)
    return h.hexdigest()
