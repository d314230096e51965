"""Errors of the clearing mechanisms."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from economy.errors import EconomyError

__all__ = ["InvalidOrder", "MechanismError", "UnknownRule"]


class MechanismError(EconomyError):
    """Root of the clearing mechanisms' errors."""


class InvalidOrder(MechanismError, ValueError):
    """An order, fill or mechanism argument is not a well-formed integer quantity or price."""

    def __init__(self, what: str, field: str, expected: str, got: object) -> None:
        super().__init__(f"{what}.{field} must be {expected}, got {got!r}; "
                         "money and quantities are ints in base units")
        self.field = field


class UnknownRule(MechanismError, ValueError):
    """A pricing rule name the mechanism does not know."""

    def __init__(self, mechanism: str, rule: object, known: Sequence[str]) -> None:
        near = difflib.get_close_matches(str(rule), [str(k) for k in known], n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        super().__init__(f"{mechanism} has no rule {rule!r}; choose one of "
                         f"{', '.join(repr(str(k)) for k in known)}{hint}")
