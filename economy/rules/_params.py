"""A rule's parameters as data: each field's default, bounds, choices, unit and meaning.

The rule dataclasses declare their fields with `param(...)` (or `ledger_param(...)` for a
parameter the ledger enforces, whose default and bounds are the ledger's own, in
`chain.LedgerParams.spec()`); `check(rule)` validates an instance from that data, and `specs(Rule)`
hands it to whoever derives from it (the scenario schema, the CLI, the docs). One place says
what a parameter is.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from typing import Any

from chain import LedgerParams
from economy.errors import EconomyError

__all__ = ["ParamSpec", "RuleError", "check", "ledger_param", "ledger_values", "param",
           "specs"]

#: Units a parameter may be in: basis points, base units of the token (tokens in a
#: scenario file), ticks, or a plain count or number.
UNITS = ("bps", "base_units", "ticks", "")
#: The ledger's names of those units.
_LEDGER_UNITS = {"basis points": "bps", "base units": "base_units", "ticks": "ticks", "": ""}


class RuleError(EconomyError, ValueError):
    """A rule parameter out of its bounds or not one of its choices."""

    def __init__(self, rule: str, name: str, expected: str, got: object) -> None:
        super().__init__(f"{rule}.{name} must be {expected}, got {got!r}")
        self.name = name


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSpec:
    """What one rule parameter is.

    Attributes:
        name: the field's name (its key under the rule's scenario section).
        default: its default (base units for money).
        doc: what it means, for people.
        unit: "bps", "base_units", "ticks" or "".
        ge, le: its inclusive bounds (None: unbounded on that side).
        choices: its allowed values, for a choice.
        ledger: the `LedgerParams` field it sets, for a parameter the ledger enforces.
    """

    name: str
    default: Any
    doc: str
    unit: str = ""
    ge: int | None = None
    le: int | None = None
    choices: tuple[str, ...] | None = None
    ledger: str | None = None

    @property
    def kind(self) -> type:
        """The Python type of its values (bool, int or str)."""
        if self.choices is not None:
            return str
        return bool if isinstance(self.default, bool) else int


def param(default: Any, *, doc: str, unit: str = "", ge: int | None = None,
          le: int | None = None, choices: type[StrEnum] | None = None,
          ledger: str | None = None) -> Any:
    """A rule field with its metadata (`unit` "bps" implies the bounds [0, 10000])."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    if unit == "bps":
        ge, le = 0 if ge is None else ge, 10_000 if le is None else le
    values = tuple(c.value for c in choices) if choices is not None else None
    return field(default=default, metadata={"spec": dict(
        doc=doc, unit=unit, ge=ge, le=le, choices=values, ledger=ledger)})


def ledger_param(name: str, *, doc: str | None = None) -> Any:
    """A rule field the ledger enforces, as the ledger declares it (`LedgerParams.spec()`):
    its default, bounds, choices and unit are the ledger's, so the reference ledger, the
    contracts and the economy never disagree on it."""
    ledger = LedgerParams.spec()[name]
    default = ledger.default.value if isinstance(ledger.default, StrEnum) else ledger.default
    return field(default=default, metadata={"spec": dict(
        doc=doc or ledger.doc, unit=_LEDGER_UNITS[ledger.unit], ge=ledger.min, le=ledger.max,
        choices=ledger.choices, ledger=name)})


def specs(rule: type) -> tuple[ParamSpec, ...]:
    """Every parameter of a rule class, in declaration order."""
    out = []
    for f in fields(rule):
        meta = f.metadata.get("spec")
        if meta is None:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        out.append(ParamSpec(name=f.name, default=default, **meta))
    return tuple(out)


def check(rule: Any) -> None:
    """Validate every parameter of a rule instance against its spec.

    Raises:
        RuleError: the first parameter of the wrong type, out of bounds or not a choice.
    """
    name = type(rule).__name__
    for spec in specs(type(rule)):
        value = getattr(rule, spec.name)
        if spec.choices is not None:
            if value not in spec.choices:
                raise RuleError(name, spec.name, f"one of {', '.join(spec.choices)}", value)
            continue
        if type(value) is not spec.kind:
            raise RuleError(name, spec.name, f"a {spec.kind.__name__}", value)
        if spec.kind is int and ((spec.ge is not None and value < spec.ge)
                                 or (spec.le is not None and value > spec.le)):
            lo = "" if spec.ge is None else f">= {spec.ge}"
            hi = "" if spec.le is None else f"<= {spec.le}"
            raise RuleError(name, spec.name, f"an int {' and '.join(b for b in (lo, hi) if b)}",
                            value)


def ledger_values(rule: Any) -> dict[str, object]:
    """The `LedgerParams` fields a rule instance sets."""
    return {s.ledger: getattr(rule, s.name) for s in specs(type(rule)) if s.ledger}
