"""Policy params in the scenario's units: a money param is written in tokens, like every other
amount of a scenario, and its constructor receives exact base units (10^-decimals of a token).

A money param is one annotated `agents.params.BaseUnits` (or `BaseUnits | None`). Its value, as
a scenario (or `--set`, or a sweep) gives it:

- an int is tokens: `base_fee = 1` is one token. An int above `MAX_BARE_TOKENS` (10^9) is
  refused: until now a plain int was base units, and such an int is that old form (see
  `MAX_BARE_TOKENS`); the message says what it would be in tokens and what to write;
- a decimal string, with or without the word, is tokens: `"0.05"`, `"0.05 tokens"`,
  `"1_000 tokens"` (at most 10^30 tokens, and no finer than one base unit), as the scenario's
  own amounts (`scenarios.schema.to_base_units`);
- `"<n> base units"` (an integer, `_` allowed; "1 base unit") is base units, as written;
- a float is refused, as the scenario's amounts refuse it: it is not exact (TOML's `0.05`
  is a float); the message says which string to write instead. (`--set` and sweeps turn a
  float into a token string first, `scenarios.overrides.apply_point`);
- a bool, a negative number or any other string is refused; None (for `BaseUnits | None`) and
  values of other types pass to the annotation's check, which refuses them.

Any other param passes as given, except a string with an explicit unit, `"<x> tokens"` or
`"<n> base units"`, which is converted to base units whatever the annotation (an unannotated
user policy's money param, as before).

`load_policy(..., decimals=...)` converts a scenario's params with `to_base_units_params`
where the class is known: in the simulator's process for built-ins and in-process policies,
in its worker for a process-isolated one (whose code never runs in the simulator), so every
policy gets the same numbers and every refusal names `agents[i].params.<name>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, Union, get_args, get_origin

from agents.errors import PolicyParamError
from agents.loading import _class_annotations, _shown
from agents.params import BaseUnits, Expected

__all__ = ["MAX_BARE_TOKENS", "MAX_TOKENS", "is_money", "money_params", "to_base_units_params",
           "tokens_text"]

#: What a money param takes, as `BaseUnits` states it (for refusals' messages).
_MONEY: Expected = next(m for m in BaseUnits.__metadata__ if isinstance(m, Expected))

#: The largest bare int a money param may be (tokens). A larger one is refused as the old
#: form (base units). Why 10^9: it is the default `ledger.supply_cap` (every token that may
#: ever be minted), so a larger fee, budget or price is no sensible amount of tokens; while
#: every base-unit amount the built-in scenarios wrote is above it (prices per CU from 10^12,
#: fees and budgets from 10^16, at 18 decimals), as is any price of 10^-9 tokens or more. A
#: bare int at most 10^9 cannot be told from the old form and is tokens: an old file with a
#: base-unit int that small (at 18 decimals, under 10^-9 tokens) must be rewritten by hand
#: as "<n> base units". A larger amount of tokens is written "<n> tokens".
MAX_BARE_TOKENS = 10**9
#: The most tokens an amount may be (`scenarios.schema.MAX_TOKENS`: fits uint256 at any of the
#: ledger's decimals).
MAX_TOKENS = 10**30

_TOKENS = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9_]+)?)\s*(tokens?)?\s*$")
_BASE_UNITS = re.compile(r"^\s*([0-9][0-9_]*)\s*base\s+units?\s*$")
_LONGEST = 100  # characters of an amount string (longer: refused before parsing)


def is_money(annotation: Any) -> bool:
    """Whether a constructor annotation is money: `BaseUnits`, or a union holding it."""
    if annotation == BaseUnits:
        return True
    if get_origin(annotation) in (Union, type(int | None)):
        return any(a == BaseUnits for a in get_args(annotation))
    return False


def money_params(cls: type) -> frozenset[str]:
    """The constructor params of `cls` annotated as money (`agents.params.BaseUnits`)."""
    return frozenset(n for n, a in _class_annotations(cls).items() if is_money(a))


def tokens_text(base_units: int, decimals: int) -> str:
    """An amount of base units as a plain decimal of tokens: `1200000000000` -> `0.0000012`."""
    text = format(Decimal(base_units).scaleb(-decimals).normalize(), "f")
    return "0" if text in ("0", "-0") else text


def _explicit(value: Any, decimals: int) -> int | None:
    """Base units of a string with an explicit unit, "<x> tokens" or "<n> base units" (None:
    not such a string).

    Raises:
        ValueError: more than 10^30 tokens, or finer than one base unit.
    """
    if not isinstance(value, str) or len(value) > _LONGEST:
        return None
    m = _BASE_UNITS.match(value)
    if m:
        return int(m.group(1).replace("_", ""))
    m = _TOKENS.match(value)
    if m and m.group(2):
        return _tokens(m.group(1), decimals)
    return None


def _tokens(number: str, decimals: int) -> int:
    """Exact base units of a decimal number of tokens.

    Raises:
        ValueError: more than 10^30 tokens, or finer than one base unit.
    """
    try:
        with localcontext() as ctx:
            ctx.prec = 100  # exact: 30 digits of tokens and up to 36 decimals and more
            tokens = Decimal(number.replace("_", ""))
            if tokens > MAX_TOKENS:
                raise ValueError("more than 10^30 tokens")
            exact = tokens * Decimal(10) ** decimals
    except InvalidOperation:
        raise ValueError("not a number of tokens") from None
    if exact != exact.to_integral_value():
        raise ValueError(f"finer than one base unit, 10^-{decimals} tokens")
    return int(exact)


def _float_text(value: float) -> str | None:
    """A float as the shortest plain decimal that prints as it (None: not finite, < 0)."""
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        return None
    return format(Decimal(repr(value)).normalize(), "f")


def _money(ref: str, name: str, value: Any, decimals: int) -> Any:
    """A money param's value in base units (see the module docstring).

    Raises:
        PolicyParamError: a value the rule refuses, naming the param, what it would mean and
            what to write.
    """
    def refuse(reason: str) -> PolicyParamError:
        expected = _MONEY
        return PolicyParamError(
            f"policy {ref!r}: param {name} = {_shown(value)} is refused ({reason}): expected "
            f"{expected.text}; write e.g. {name} = {expected.example}", name)

    if value is None or isinstance(value, list | dict | tuple):
        return value  # the annotation's check says whether None or a list will do
    if isinstance(value, bool):
        raise refuse("a boolean is not an amount")
    if isinstance(value, int):
        if value < 0:
            raise refuse("amounts must be >= 0")
        if value > MAX_BARE_TOKENS:
            old = tokens_text(value, decimals)
            raise PolicyParamError(
                f"policy {ref!r}: param {name} = {value} is refused: a bare integer is "
                f"tokens, and {value} tokens is more than 10^9, so it is surely the old form, "
                f"base units (which is {old} tokens); write {name} = \"{old} tokens\" (or "
                f"\"{value} base units\"; a larger amount of tokens as \"{value} tokens\")",
                name)
        return value * 10**decimals
    if isinstance(value, float):
        text = _float_text(value)
        if text is None:
            raise refuse("a float is not an exact amount, and amounts must be >= 0")
        hint = f'"{text} tokens"'
        if value > MAX_BARE_TOKENS and value.is_integer():
            hint += f', or "{int(value)} base units" if it is base units'
        raise refuse(f"a float is not an exact amount; write it as a string: {hint}")
    if isinstance(value, str):
        if len(value) > _LONGEST:
            raise refuse(f"longer than {_LONGEST} characters")
        try:
            explicit = _explicit(value, decimals)
            if explicit is not None:
                return explicit
            m = _TOKENS.match(value)
            if m:  # a bare decimal string is tokens, as the scenario's own amounts
                return _tokens(m.group(1), decimals)
        except ValueError as e:
            raise refuse(str(e)) from None
        raise refuse("not an amount of tokens or base units")
    return value


def to_base_units_params(ref: str, cls: type, params: Mapping[str, Any],
                         decimals: int) -> dict[str, Any]:
    """A scenario's params of policy `cls` as its constructor takes them: money params (see
    `money_params`) from tokens (or "<n> base units") to exact base units, any other param's
    "<x> tokens" or "<n> base units" string to base units, everything else as given.

    Args:
        ref: the policy reference (for messages).
        cls: the policy class (its constructor's annotations say which params are money).
        params: the params as the scenario gives them.
        decimals: the ledger's decimals (base units per token: 10^decimals).

    Raises:
        PolicyParamError: a money param's value the rule refuses, or an amount string out of
            range, naming the param, what it would mean and what to write.
    """
    money = money_params(cls)
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name in money:
            out[name] = _money(ref, name, value, decimals)
            continue
        try:
            explicit = _explicit(value, decimals)
        except ValueError as e:
            raise PolicyParamError(f"policy {ref!r}: param {name} = {_shown(value)} is "
                                   f"refused ({e})", name) from None
        out[name] = value if explicit is None else explicit
    return out
