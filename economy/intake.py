"""Taking a policy's actions in: known action types only, rebuilt from plain values, every
number within the ledger's limits, before any of it reaches a market or the ledger.

A policy is other people's code. What it returns is copied field by field into a fresh action
of the exact type, made only of plain built-in values (bools, ints, strs, bytes, None, tuples
of those, and the twin's own plan type rebuilt from plain fields), so nothing it hands over can
run code later (an overridden `__eq__`, `__hash__`, `__iter__` or `__index__`) or change after
the fact; numpy scalars become Python numbers. An action that cannot be taken in this way is
refused with a reason (`ActionRejected`), as a market rule would refuse it.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

from economy import actions as A
from economy.errors import ActionRejected

__all__ = ["ACTION_TYPES", "FIELD_BOUNDS", "take_in"]

#: Every action a policy may return, by name.
ACTION_TYPES: dict[str, type[A.Action]] = {
    name: getattr(A, name) for name in A.__all__ if name != "Action"}
_KNOWN = frozenset(ACTION_TYPES.values())
#: Each action's fields: (name, its "Action.field" for messages).
_FIELDS = {kind: tuple((f.name, f"{kind.__name__}.{f.name}") for f in fields(kind))
           for kind in _KNOWN}
_UINT256 = 2**256 - 1
_UINT64 = 2**64 - 1
#: The most a string field may hold (UTF-8 bytes); the ledger's own limits are lower for the
#: fields it stores, and refuse there with their reason.
MAX_TEXT = 4_096
#: Inclusive bounds of integer fields, by field name: the ledger's word sizes (a job or lease
#: id is a uint64, an amount a uint256), basis points, and tick counts a run can reach.
FIELD_BOUNDS: dict[str, tuple[int, int]] = {
    "job_id": (0, _UINT64),
    "budget": (0, _UINT256),
    "price": (0, _UINT256),
    "price_per_cu": (0, _UINT256),
    "capacity_cu": (0, _UINT256),
    "overclaim_bps": (0, 10_000),
    "cu": (0, _UINT256),
    "max_price_per_cu": (0, _UINT256),
    "max_cost": (0, _UINT256),
    "min_lease_cu": (0, _UINT256),
    "amount": (0, _UINT256),
    "min_fee": (0, _UINT256),
    "units": (0, _UINT256),
    "expires_in": (0, 2**32),
    "max_time_ms": (0, 2**63 - 1),
    "min_gain_bps": (0, 10_000),
}
#: Fields that hold one of the twin's plans, or a sequence of them.
_PLAN_FIELDS = frozenset({"plan"})
_PLANS_FIELDS = frozenset({"plans"})
_MAX_DEPTH = 16  # plain values nest this deep at most (a plan's routes of stops)
_MAX_ITEMS = 1_000_000  # and hold at most this many leaves, over the whole action


class _Budget:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = _MAX_ITEMS


#: Values that are plain as they are (exact types: a subclass may run code).
_NUMBERS = frozenset({int, bool, float, type(None)})


def _plain(value: Any, where: str, budget: _Budget, depth: int = 0) -> Any:
    """`value` as plain built-in values, or ActionRejected naming `where`."""
    budget.left -= 1
    if budget.left < 0:
        raise ActionRejected("malformed", f"{where}: more than {_MAX_ITEMS} values")
    kind = type(value)
    if kind in _NUMBERS:
        return value
    if (kind is tuple or kind is list) and set(map(type, value)) <= _NUMBERS:
        budget.left -= len(value)  # a flat sequence of numbers (a route): plain already
        if budget.left < 0:
            raise ActionRejected("malformed", f"{where}: more than {_MAX_ITEMS} values")
        return value if kind is tuple else tuple(value)
    if kind is str:
        if len(value) > MAX_TEXT:
            raise ActionRejected("malformed", f"{where}: a string of {len(value)} characters, "
                                 f"over {MAX_TEXT}")
        return value
    if kind is bytes or kind is bytearray:
        if len(value) > MAX_TEXT:
            raise ActionRejected("malformed", f"{where}: {len(value)} bytes, over {MAX_TEXT}")
        return bytes(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if kind is np.ndarray and value.dtype.kind in "biuf":
        if value.size > budget.left:
            raise ActionRejected("malformed", f"{where}: more than {_MAX_ITEMS} values")
        return _plain(value.tolist(), where, budget, depth)
    if kind is tuple or kind is list:
        if depth >= _MAX_DEPTH:
            raise ActionRejected("malformed", f"{where}: nested deeper than {_MAX_DEPTH}")
        return tuple(_plain(v, where, budget, depth + 1) for v in value)
    raise ActionRejected("malformed", f"{where} holds a {kind.__name__}; actions carry plain "
                         "values (ints, strs, bytes, tuples) and the twin's plans")


def _frozen(value: Any, depth: int = 1) -> bool:
    """Whether `value` is made only of exact immutable plain values (numbers, short strings,
    tuples of those), as a twin's plans are."""
    kind = type(value)
    if kind in _NUMBERS or ((kind is str or kind is bytes) and len(value) <= MAX_TEXT):
        return True
    if kind is not tuple or depth >= _MAX_DEPTH:
        return False
    return set(map(type, value)) <= _NUMBERS or all(_frozen(v, depth + 1) for v in value)


def _plan(value: Any, plan_type: type, where: str, budget: _Budget) -> Any:
    """The plan rebuilt as the twin's own type from plain fields (a NamedTuple or a
    dataclass; another kind of plan is taken as it is)."""
    if type(value) is not plan_type:
        raise ActionRejected("bad_plan", f"{where} must be a {plan_type.__qualname__}, got "
                             f"{type(value).__name__}")
    if issubclass(plan_type, tuple):
        if all(_frozen(v) for v in tuple.__iter__(value)):
            return value  # made of exact immutable values: nothing in it can change or run
        return plan_type(*(_plain(v, where, budget, 1) for v in tuple.__iter__(value)))
    if is_dataclass(plan_type):
        return plan_type(**{f.name: _plain(object.__getattribute__(value, f.name), where,
                                           budget, 1) for f in fields(plan_type)})
    return value


def _check_bounds(action: type, name: str, value: Any) -> None:
    bounds = FIELD_BOUNDS.get(name)
    if bounds is None or type(value) is not int:
        return
    lo, hi = bounds
    if not lo <= value <= hi:
        raise ActionRejected("out_of_range", f"{action.__name__}.{name} must be in "
                             f"[{lo}, {hi}], got {value}")


def take_in(action: Any, plan_type: type) -> A.Action:
    """A fresh, plain copy of a policy's action, checked field by field.

    Args:
        action: what the policy returned.
        plan_type: the run's twin's plan class (`twin.plan_type`).

    Raises:
        ActionRejected: unknown_action (not an exact action type), malformed (a value that is
            not plain, too big or too deep), bad_plan (a plan not of the twin's type), or
            out_of_range (a number beyond the ledger's limits).
    """
    kind = type(action)
    if kind not in _KNOWN:
        raise ActionRejected("unknown_action", f"{kind.__name__} is not an economy action; "
                             f"return instances of {', '.join(ACTION_TYPES)}")
    budget = _Budget()
    values: dict[str, Any] = {}
    for name, where in _FIELDS[kind]:
        value = object.__getattribute__(action, name)
        vt = type(value)
        if vt is int:  # the common case first: a number within its field's bounds
            _check_bounds(kind, name, value)
        elif vt is bool or value is None or (vt is str and len(value) <= MAX_TEXT):
            pass
        elif name in _PLAN_FIELDS:
            value = _plan(value, plan_type, where, budget)
        elif name in _PLANS_FIELDS:
            if vt is not tuple and vt is not list:
                raise ActionRejected("malformed", f"{where} must be a tuple of plans, got "
                                     f"{vt.__name__}")
            value = tuple(_plan(p, plan_type, where, budget) for p in value)
        else:
            value = _plain(value, where, budget)
            _check_bounds(kind, name, value)
        values[name] = value
    return kind(**values)
