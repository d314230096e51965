"""Choosing a ledger backend by name: `memory`, `evm` or `rpc`.

The contract backends are imported only when chosen, so the reference ledger needs neither
pyrevm nor web3 at import time.
"""

from __future__ import annotations

from difflib import get_close_matches
from enum import StrEnum

from chain.errors import ChainError
from chain.identity import Address
from chain.protocols import Ledger, LedgerParams

__all__ = ["BACKENDS", "Backend", "open_ledger"]


class Backend(StrEnum):
    """Where the ledger runs."""

    MEMORY = "memory"  # the reference ledger, in plain Python
    EVM = "evm"  # the contracts on an in-process EVM (pyrevm)
    RPC = "rpc"  # the contracts on a JSON-RPC node


#: The backends' names, in order.
BACKENDS: tuple[str, ...] = tuple(Backend)


def open_ledger(backend: Backend | str, params: LedgerParams, *, protocol: Address,
                treasury: Address, rpc_url: str | None = None) -> Ledger:
    """A fresh ledger of kind `backend` (a Backend or its name) with the contracts (if any)
    deployed.

    Raises:
        ChainError: an unknown backend, `rpc` without a url (and no node started by
            `twinecon node start` in this folder), or a node that cannot be reached.
    """
    if backend == Backend.MEMORY:
        from chain.memory import MemoryLedger

        return MemoryLedger(params, protocol=protocol, treasury=treasury)
    if backend == Backend.EVM:
        from chain.evm import EvmLedger

        return EvmLedger(params, protocol=protocol, treasury=treasury)
    if backend == Backend.RPC:
        if not rpc_url:
            from chain.node import status

            running = status()
            rpc_url = running.url if running is not None else None
        if not rpc_url:
            raise ChainError("the rpc backend needs a node url: pass --rpc-url URL or set "
                             "ledger.rpc_url, or start a local node with `twinecon node start`")
        from chain.rpc import RpcLedger

        return RpcLedger(params, protocol=protocol, treasury=treasury, url=rpc_url)
    near = get_close_matches(str(backend), BACKENDS, n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else ""
    raise ChainError(f"unknown ledger backend {backend!r}{hint}; choose one of "
                     f"{', '.join(BACKENDS)}")
