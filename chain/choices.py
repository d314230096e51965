"""The names a command line offers for chain's choices, as plain strings.

`chain.Backend` and `chain.SignatureMode` live beside the ledger and its keys (eth-account,
coincurve), which a command line that only parses its arguments should not have to import.
These tuples are their values, in order (tests/twinecon/test_fast_start.py keeps them equal).
"""

from __future__ import annotations

__all__ = ["BACKENDS", "SIGNATURE_MODES"]

#: `ledger.backend`: the values of `chain.Backend`, in order.
BACKENDS: tuple[str, ...] = ("memory", "evm", "rpc")
#: `ledger.signatures`: the values of `chain.SignatureMode`, in order.
SIGNATURE_MODES: tuple[str, ...] = ("verify", "off")
