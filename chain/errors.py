"""Errors raised by the ledger layer: authentication, authority, funds, state and invariants."""

from __future__ import annotations

from twinecon.errors import TwineconError

__all__ = [
    "CapExceeded",
    "ChainError",
    "DeadlinePassed",
    "InsufficientFunds",
    "InvalidSignature",
    "InvalidState",
    "InvariantViolation",
    "KeystoreError",
    "LedgerCheckFailed",
    "Malformed",
    "NonceMismatch",
    "Unauthorized",
    "UnknownOp",
    "WrongDomain",
]


class ChainError(TwineconError):
    """Root of the ledger's errors.

    `code` is a short stable token recorded in the event log when an action is rejected.
    """

    code = "chain_error"


class InvalidSignature(ChainError, ValueError):
    code = "bad_signature"

    def __init__(self, sender: str, recovered: str | None) -> None:
        got = "no signature" if recovered is None else f"a signature by {recovered}"
        super().__init__(
            f"action from {sender} carries {got}; sign it with the sender's key "
            "(Identity.sign) or set signatures = 'off' in the scenario"
        )


class WrongDomain(ChainError, ValueError):
    code = "wrong_domain"

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(
            f"action signed for chain id {got} but this ledger is chain id {expected}; "
            "sign with the ledger's domain (ledger.domain)"
        )


class NonceMismatch(ChainError, ValueError):
    code = "bad_nonce"

    def __init__(self, sender: str, expected: int, got: int) -> None:
        super().__init__(
            f"action from {sender} has nonce {got} but the next nonce is {expected}; "
            "read ledger.nonce_of(sender) and sign again (a nonce is used at most once)"
        )


class DeadlinePassed(ChainError, ValueError):
    code = "deadline_passed"

    def __init__(self, deadline: int, now: int) -> None:
        super().__init__(
            f"action deadline was tick {deadline} but the ledger is at tick {now}; "
            "sign a new action with a later deadline"
        )


class Unauthorized(ChainError, PermissionError):
    code = "unauthorized"

    def __init__(self, who: str, what: str, allowed: str) -> None:
        super().__init__(f"{who} may not {what}; only {allowed} may")


class InsufficientFunds(ChainError, ValueError):
    code = "insufficient_funds"

    def __init__(self, account: str, needed: int, available: int) -> None:
        super().__init__(
            f"{account} needs {needed} but holds {available}; fund the account or lower the amount"
        )


class InvalidState(ChainError, ValueError):
    code = "invalid_state"


class Malformed(ChainError, ValueError):
    """An action whose fields cannot be ABI-encoded (a non-address, an int out of its type's
    range, more than 32 bytes for a bytes32): it could never reach a chain, so nothing changes,
    not even the nonce."""

    code = "malformed"


class CapExceeded(ChainError, ValueError):
    code = "cap_exceeded"

    def __init__(self, amount: int, minted: int, cap: int) -> None:
        super().__init__(
            f"minting {amount} would bring the supply minted to {minted + amount}, over the cap "
            f"of {cap}; mint at most {cap - minted} or raise supply_cap in the scenario"
        )


class UnknownOp(ChainError, ValueError):
    code = "unknown_op"


class InvariantViolation(ChainError, AssertionError):
    """A ledger invariant does not hold: a bug in a backend, never a user error."""

    code = "invariant"


class KeystoreError(ChainError, ValueError):
    code = "keystore"


class LedgerCheckFailed(ChainError, AssertionError):
    """`chain.checks.check_ledger` found a ledger breaking a rule of the Ledger protocol.

    `rule` names the rule broken (e.g. "events reconstruct balances"); `steps` is the action
    log that led there, shortest first found, one line a step.
    """

    code = "ledger_check_failed"

    def __init__(self, rule: str, what: str, expected: object, got: object, fix: str,
                 steps: str = "") -> None:
        self.rule, self.expected, self.got = rule, expected, got
        message = (f'check_ledger: rule "{rule}" broken: {what}: expected {expected!r}, got '
                   f"{got!r}; {fix}")
        if steps:
            message += f"\nsteps that led there:\n{steps}"
        super().__init__(message)
