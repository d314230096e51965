"""Errors of the economy layer."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = ["ActionRejected", "EconomyError", "GenesisError"]


class EconomyError(TwineconError):
    """Root of the economy's errors."""


class ActionRejected(EconomyError, ValueError):
    """An agent's action broke a market rule before it reached the ledger.

    `code` is a short stable token recorded in the event log.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class GenesisError(EconomyError):
    """A genesis action the ledger refused: the scenario is inconsistent.

    `op_kind` names the ledger operation (mint, stake, register_asset, ...).
    """

    def __init__(self, op_kind: str, message: str) -> None:
        super().__init__(message)
        self.op_kind = op_kind
