"""The policy wire form: an observation as plain JSON, and actions back from plain JSON.

This is what a policy outside the simulator's process speaks: the worker process of a
process-isolated policy (`agents.process`), and later remote policies in any language. It is
specified in docs/policy-wire.md (version `WIRE_VERSION`); in short:

- integers that can exceed 2**53 (amounts and prices in base units, compute and data units,
  job and lease ids, nonces, seeds) are JSON strings of decimal digits; other integers
  (ticks, times in ms, basis points, node ids) are JSON numbers within +-(2**53 - 1);
- addresses are "0x" + 40 hex digits, bytes "0x" + hex, enums their string value, optional
  values null, tuples arrays;
- the twin's requests, plans and evaluations are objects with their fields (`Wire.types()`
  lists the run's twin's, which a client gets in the start message); a plan is always of the
  run's twin's `plan_type`, so it carries no type tag;
- an action is an object with a "type" (its class name in `economy.actions`) and its fields;
  fields with a default may be left out.

Decoding is strict: an unknown action type or field, a missing field, a value of the wrong
type, a float where an integer belongs, a non-plain value on encoding: each is a `WireError`
naming the field, what was expected and what was there.
"""

from __future__ import annotations

import collections
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, fields, is_dataclass
from enum import Enum
from typing import Any

import numpy as np

from agents.errors import WireError
from chain import JobState
from economy import Observation, Role
from economy import actions as A
from economy.history import BidOutcome, JobOutcome, MarketTick, PnL, TierTick
from economy.observation import (
    EvaluatorQuote,
    JobView,
    LeaseView,
    MarketView,
    PoolView,
    Quote,
    RulesView,
    SimResult,
)
from twinecon.errors import suggest
from worlds.receipt import Receipt

__all__ = ["MAX_NESTING", "MAX_SAFE_INT", "STRING_INT_FIELDS", "WIRE_VERSION", "Wire", "dumps",
           "loads", "nesting", "wire_of"]

#: The version of the wire form; a change that moves what either side reads bumps it.
WIRE_VERSION = "twinecon-policy-wire/1"
#: The largest integer a JSON number carries exactly in every language (IEEE double).
MAX_SAFE_INT = 2**53 - 1
#: Fields of the twin's requests, plans and evaluations (and their receipts) whose integers
#: travel as strings (the economy's own types list theirs field by field below).
STRING_INT_FIELDS = frozenset({"seed", "cu"})
_MAX_DIGITS = 1_000  # an integer string longer than this is not an integer we can mean
_INT_STRING = re.compile(r"-?(0|[1-9][0-9]*)")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX = re.compile(r"0x([0-9a-fA-F]{2})*")


def _got(data: Any) -> str:
    """A JSON value described for an error message: its JSON type and a short excerpt."""
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, int | float):
        text = repr(data)
        return f"number {text[:40]}{'...' if len(text) > 40 else ''}"
    if isinstance(data, str):
        return f"string {json.dumps(data[:40])}{'...' if len(data) > 40 else ''}"
    if isinstance(data, list):
        return f"an array of {len(data)}"
    if isinstance(data, dict):
        return "an object"
    return f"a Python {type(data).__name__}"


def _kind(value: Any) -> str:
    """A Python value's type for an error message."""
    kind = type(value)
    return "None" if value is None else f"{kind.__module__}.{kind.__qualname__}".removeprefix(
        "builtins.")


def _plain_int(value: Any, path: str, expected: str) -> int:
    """An int from a plain int or a numpy integer (never a bool, float or int subclass)."""
    if type(value) is int:
        return value
    if isinstance(value, np.integer) and not isinstance(value, np.bool_):
        return int(value)
    raise WireError(path, expected, _kind(value))


class _Codec:
    """One field type: Python value <-> JSON value."""

    def encode(self, value: Any, path: str) -> Any:
        raise NotImplementedError

    def decode(self, data: Any, path: str) -> Any:
        raise NotImplementedError

    def describe(self) -> Any:
        """The type as `Wire.types()` and docs/policy-wire.md write it."""
        raise NotImplementedError

    def schema(self, defs: _Defs) -> dict[str, Any]:
        """The type as JSON Schema (draft 2020-12), named types added to `defs`."""
        raise NotImplementedError


class _IntString(_Codec):
    """An integer of any size, as a string of decimal digits ("-" first if negative)."""

    def encode(self, value: Any, path: str) -> Any:
        n = _plain_int(value, path, "an int")
        if n.bit_length() > 3_400 or len(text := str(n).lstrip("-")) > _MAX_DIGITS:
            raise WireError(path, f"an int of at most {_MAX_DIGITS} digits", "a longer one")
        return f"-{text}" if n < 0 else text

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not str or len(data) - data.startswith("-") > _MAX_DIGITS \
                or not _INT_STRING.fullmatch(data) or data == "-0":
            raise WireError(path, "an integer as a string of decimal digits, e.g. \"1500\"",
                            _got(data))
        return int(data)

    def describe(self) -> Any:
        return "int-string"

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return defs.named("IntString", lambda: {
            "description": "an integer of any size as a string of decimal digits ('-' first "
                           "if negative, no leading zeros)",
            "type": "string", "pattern": "^-?(0|[1-9][0-9]*)$",
            "maxLength": _MAX_DIGITS + 1, "not": {"const": "-0"}})


class _IntNumber(_Codec):
    """An integer within +-(2**53 - 1), as a JSON number."""

    def encode(self, value: Any, path: str) -> Any:
        n = _plain_int(value, path, "an int")
        if abs(n) > MAX_SAFE_INT:
            raise WireError(path, "an int within +-(2**53 - 1) (this field is a JSON number)",
                            f"{n}")
        return n

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not int or abs(data) > MAX_SAFE_INT:
            raise WireError(path, "an integer number within +-(2**53 - 1)", _got(data))
        return data

    def describe(self) -> Any:
        return "int"

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return defs.named("Int", lambda: {
            "description": "an integer number within +-(2**53 - 1), written without a "
                           "fraction or exponent (1.0 is refused)",
            "type": "integer", "minimum": -MAX_SAFE_INT, "maximum": MAX_SAFE_INT})


class _Float(_Codec):
    def encode(self, value: Any, path: str) -> Any:
        if type(value) is float or isinstance(value, np.floating):
            x = float(value)
            if x == x and abs(x) != float("inf"):
                return x
        raise WireError(path, "a finite float", _kind(value))

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is float or (type(data) is int and abs(data) <= MAX_SAFE_INT):
            return float(data)
        raise WireError(path, "a number", _got(data))

    def describe(self) -> Any:
        return "float"

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return {"type": "number"}


class _Exact(_Codec):
    """A str or a bool: the same on both sides."""

    def __init__(self, kind: type, name: str) -> None:
        self.kind = kind
        self.name = name

    def encode(self, value: Any, path: str) -> Any:
        if type(value) is self.kind:
            return value
        if self.kind is bool and isinstance(value, np.bool_):
            return bool(value)
        if self.kind is str and isinstance(value, str) and isinstance(value, Enum):
            return str.__str__(value)  # a StrEnum member (a tier, say) is its value
        raise WireError(path, f"a {self.kind.__name__}", _kind(value))

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not self.kind:
            raise WireError(path, f"a {self.name}", _got(data))
        return data

    def describe(self) -> Any:
        return self.name

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return {"type": "boolean" if self.kind is bool else "string"}


class _Address(_Codec):
    """An account: "0x" + 40 hex digits (EIP-55 case as the observation gives it)."""

    def encode(self, value: Any, path: str) -> Any:
        if type(value) is str and _ADDRESS.fullmatch(value):
            return value
        raise WireError(path, "an address, \"0x\" + 40 hex digits",
                        repr(value)[:50] if type(value) is str else _kind(value))

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not str or not _ADDRESS.fullmatch(data):
            raise WireError(path, "an address, \"0x\" + 40 hex digits", _got(data))
        return data

    def describe(self) -> Any:
        return "address"

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return defs.named("Address", lambda: {
            "description": "an account: '0x' + 40 hex digits (EIP-55 case as the observation "
                           "gives it)",
            "type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"})


class _Bytes(_Codec):
    def encode(self, value: Any, path: str) -> Any:
        if type(value) is bytes or type(value) is bytearray:
            return "0x" + bytes(value).hex()
        raise WireError(path, "bytes", _kind(value))

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not str or not _HEX.fullmatch(data):
            raise WireError(path, "bytes as \"0x\" + an even number of hex digits", _got(data))
        return bytes.fromhex(data[2:])

    def describe(self) -> Any:
        return "hex-bytes"

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return defs.named("HexBytes", lambda: {
            "description": "bytes as '0x' + an even number of hex digits",
            "type": "string", "pattern": "^0x([0-9a-fA-F]{2})*$"})


class _EnumCodec(_Codec):
    def __init__(self, cls: type[Enum]) -> None:
        self.cls = cls
        self.values = [m.value for m in cls]

    def encode(self, value: Any, path: str) -> Any:
        if isinstance(value, self.cls):
            return value.value
        raise WireError(path, f"a {self.cls.__name__}", _kind(value))

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not str or data not in self.values:
            raise WireError(path, f"one of {', '.join(map(repr, self.values))}", _got(data))
        return self.cls(data)

    def describe(self) -> Any:
        return {"enum": list(self.values)}

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}


class _Tagged(_Codec):
    """One of several record types, as an object with a "type" naming which."""

    def __init__(self, records: Mapping[str, _Record]) -> None:
        self.records = dict(records)
        self.by_class = {r.cls: (tag, r) for tag, r in self.records.items()}

    def encode(self, value: Any, path: str) -> Any:
        found = self.by_class.get(type(value))
        if found is None:
            raise WireError(path, f"one of {', '.join(r.name for r in self.records.values())}",
                            _kind(value))
        tag, record = found
        return {"type": tag, **record.encode(value, path)}

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not dict:
            raise WireError(path, "an object with a \"type\"", _got(data))
        tag = data.get("type")
        record = self.records.get(tag) if type(tag) is str else None
        if record is None:
            raise WireError(f"{path}.type", f"one of {', '.join(self.records)}",
                            _got(tag) if "type" in data else "nothing")
        return record.decode({k: v for k, v in data.items() if k != "type"}, path)

    def describe(self) -> Any:
        return {tag: r.describe() for tag, r in self.records.items()}

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return {"oneOf": [defs.record(r, tag=tag) for tag, r in self.records.items()]}


class _Optional(_Codec):
    def __init__(self, inner: _Codec) -> None:
        self.inner = inner

    def encode(self, value: Any, path: str) -> Any:
        return None if value is None else self.inner.encode(value, path)

    def decode(self, data: Any, path: str) -> Any:
        return None if data is None else self.inner.decode(data, path)

    def describe(self) -> Any:
        inner = self.inner.describe()
        return f"{inner}?" if isinstance(inner, str) else {"nullable": inner}

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return {"anyOf": [self.inner.schema(defs), {"type": "null"}]}


class _Seq(_Codec):
    """A tuple of any length (a list where the Python type says list), as an array."""

    def __init__(self, inner: _Codec, make: type = tuple) -> None:
        self.inner = inner
        self.make = make

    def encode(self, value: Any, path: str) -> Any:
        if type(value) is not tuple and type(value) is not list:
            raise WireError(path, "a tuple", _kind(value))
        return [self.inner.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not list:
            raise WireError(path, "an array", _got(data))
        return self.make(self.inner.decode(v, f"{path}[{i}]") for i, v in enumerate(data))

    def describe(self) -> Any:
        return [self.inner.describe()]

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return {"type": "array", "items": self.inner.schema(defs)}


class _Fixed(_Codec):
    """A tuple of fixed length and element types (a windfarm intervention, say)."""

    def __init__(self, items: tuple[_Codec, ...]) -> None:
        self.items = items

    def encode(self, value: Any, path: str) -> Any:
        if (type(value) is not tuple and type(value) is not list) \
                or len(value) != len(self.items):
            raise WireError(path, f"a tuple of {len(self.items)}", _kind(value))
        return [c.encode(v, f"{path}[{i}]")
                for i, (c, v) in enumerate(zip(self.items, value, strict=True))]

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not list or len(data) != len(self.items):
            raise WireError(path, f"an array of {len(self.items)}", _got(data))
        return tuple(c.decode(v, f"{path}[{i}]")
                     for i, (c, v) in enumerate(zip(self.items, data, strict=True)))

    def describe(self) -> Any:
        return {"tuple": [c.describe() for c in self.items]}

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return {"type": "array", "prefixItems": [c.schema(defs) for c in self.items],
                "minItems": len(self.items), "maxItems": len(self.items)}


def _defaults(cls: type) -> dict[str, Any]:
    """The fields of a NamedTuple or dataclass that have defaults, with them."""
    if is_dataclass(cls):
        return {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    return dict(getattr(cls, "_field_defaults", {}))


def _field_names(cls: type) -> tuple[str, ...]:
    if is_dataclass(cls):
        return tuple(f.name for f in fields(cls))
    return tuple(cls._fields)  # type: ignore[attr-defined]


class _Record(_Codec):
    """A NamedTuple or frozen dataclass as an object of its fields.

    Args:
        cls: the Python type.
        codecs: field name -> codec, in the type's order (a subset of its fields: the rest
            are supplied by the caller, as an observation's planner and rng are).
        name: the type's name in messages (default: the class name).

    On encoding only the exact type is taken, not a subclass.
    """

    def __init__(self, cls: type, codecs: Mapping[str, _Codec], *, name: str = "") -> None:
        self.cls = cls
        self.name = name or cls.__name__
        self.codecs = dict(codecs)
        self.defaults = {k: v for k, v in _defaults(cls).items() if k in self.codecs}

    def encode(self, value: Any, path: str) -> Any:
        if type(value) is not self.cls:
            raise WireError(path, f"a {self.name}", _kind(value))
        return {name: codec.encode(getattr(value, name), f"{path}.{name}")
                for name, codec in self.codecs.items()}

    def fields_of(self, data: Any, path: str, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """The decoded fields of an object (missing ones with defaults left out)."""
        if type(data) is not dict:
            raise WireError(path, f"a {self.name} object", _got(data))
        for key in data:
            if key not in self.codecs and key not in skip:
                raise WireError(f"{path}.{key}", f"a field of {self.name} ("
                                f"{', '.join(self.codecs)})",
                                f"an unknown field{suggest(str(key), self.codecs)}")
        out: dict[str, Any] = {}
        for name, codec in self.codecs.items():
            if name in data:
                out[name] = codec.decode(data[name], f"{path}.{name}")
            elif name not in self.defaults:
                raise WireError(f"{path}.{name}", f"the field {name!r} of {self.name}",
                                "nothing (the field is missing)")
        return out

    def decode(self, data: Any, path: str) -> Any:
        values = self.fields_of(data, path)
        try:
            return self.cls(**values)
        except Exception as e:  # a twin type's own checks
            raise WireError(path, f"a valid {self.name}", f"{type(e).__name__}: {e}") from None

    def describe(self) -> Any:
        return {"type": self.name, "fields": {k: c.describe() for k, c in self.codecs.items()}}

    def schema(self, defs: _Defs) -> dict[str, Any]:
        return defs.record(self)


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and (is_dataclass(tp) or (
        issubclass(tp, tuple) and hasattr(tp, "_fields")))


def _compile(tp: Any, name: str, cache: dict[Any, _Codec]) -> _Codec:
    """The codec of a twin value's field type, from its annotation."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is int:
        return _IntString() if name in STRING_INT_FIELDS else _IntNumber()
    if tp is bool:
        return _Exact(bool, "bool")
    if tp is str:
        return _Exact(str, "string")
    if tp is float:
        return _Float()
    if tp is bytes:
        return _Bytes()
    if origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
        return _Optional(_compile(next(a for a in args if a is not type(None)), name, cache))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _Seq(_compile(args[0], name, cache))
    if origin is tuple and args:
        return _Fixed(tuple(_compile(a, name, cache) for a in args))
    if origin is list and len(args) == 1:
        return _Seq(_compile(args[0], name, cache), make=list)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return _EnumCodec(tp)
    if _is_record(tp):
        return _record_of(tp, cache)
    raise WireError(name, "a field type the wire form carries (int, float, str, bool, bytes, "
                    "tuples, NamedTuples, dataclasses, enums, optionals)", repr(tp))


def _record_of(cls: type, cache: dict[Any, _Codec] | None = None) -> _Record:
    """The codec of a twin value type (a NamedTuple or dataclass), from its annotations."""
    cache = {} if cache is None else cache
    if cls in cache:
        return cache[cls]  # type: ignore[return-value]
    try:
        hints = typing.get_type_hints(cls)
    except Exception as e:
        raise WireError(cls.__qualname__, "a type whose annotations resolve",
                        f"{type(e).__name__}: {e}") from None
    record = _Record(cls, {})
    cache[cls] = record  # before the fields: a type that nests itself
    record.codecs = {n: _compile(hints.get(n, Any), n, cache) for n in _field_names(cls)}
    record.defaults = _defaults(cls)
    return record


class _AnyRecord(_Codec):
    """A twin value whose type is known only when it arrives (an evaluation: each tier of a
    twin has its own type). Encoded by its own type's annotations; decoded into a known type
    whose fields match, else into a read-only record (a NamedTuple) of the same fields."""

    def __init__(self, name: str, known: tuple[type, ...], cache: dict[Any, _Codec]) -> None:
        self.name = name
        self.cache = cache
        self.by_fields = {frozenset(_field_names(t)): _record_of(t, cache) for t in known}
        self.made: dict[tuple[str, ...], type] = {}

    def encode(self, value: Any, path: str) -> Any:
        if not _is_record(type(value)):
            raise WireError(path, f"an {self.name} (a NamedTuple or dataclass)", _kind(value))
        return _record_of(type(value), self.cache).encode(value, path)

    def decode(self, data: Any, path: str) -> Any:
        if type(data) is not dict:
            raise WireError(path, f"an {self.name} object", _got(data))
        known = self.by_fields.get(frozenset(data))
        if known is not None:
            return known.decode(data, path)
        return self._generic(data, path, self.name)

    def _generic(self, data: dict[str, Any], path: str, name: str) -> Any:
        names = tuple(data)
        for key in names:
            if not key.isidentifier() or key.startswith("_") or key in _RESERVED:
                raise WireError(f"{path}.{key}", "a field name (an identifier)", repr(key))
        cls = self.made.get(names)
        if cls is None:
            cls = collections.namedtuple(name, names)  # type: ignore[misc]
            if len(self.made) < 256:
                self.made[names] = cls
        return cls(*(self._value(data[k], f"{path}.{k}", k) for k in names))

    def _value(self, data: Any, path: str, name: str) -> Any:
        if name == "receipt":
            return _record_of(Receipt, self.cache).decode(data, path)
        if name in STRING_INT_FIELDS:
            return _IntString().decode(data, path)
        if type(data) is int:
            return _IntNumber().decode(data, path)
        if data is None or type(data) in (bool, str, float):
            return data
        if type(data) is list:
            return tuple(self._value(v, f"{path}[{i}]", "") for i, v in enumerate(data))
        return self._generic(data, path, "Record")

    def describe(self) -> Any:
        return {"type": self.name, "fields": "those of the evaluator's result type (see the "
                "twin's documentation); valid, reason, time_ms, cu and receipt always"}

    def schema(self, defs: _Defs) -> dict[str, Any]:
        ints = _IntString().schema(defs)
        generic = {
            "description": f"an {self.name} of another type (another tier's): an object of its "
                           "fields; integers are numbers except those of fields named "
                           f"{', '.join(sorted(STRING_INT_FIELDS))} (strings)",
            "type": "object",
            "properties": {"valid": {"type": "boolean"}, "reason": {"type": "string"},
                           "time_ms": _IntNumber().schema(defs),
                           "receipt": _record_of(Receipt, self.cache).schema(defs),
                           **dict.fromkeys(sorted(STRING_INT_FIELDS), ints)},
            "required": ["valid", "reason", "time_ms", "cu", "receipt"],
            "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"}}
        known = [r.schema(defs) for r in self.by_fields.values()]
        return {"anyOf": [*known, generic]} if known else generic


_RESERVED = frozenset({"count", "index"})  # tuple methods a NamedTuple field cannot shadow


def _first_line(cls: type) -> str:
    """The first paragraph of a class's own docstring, on one line ("" if none)."""
    doc = cls.__dict__.get("__doc__") or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


class _Defs:
    """The named types (`$defs`) of a JSON Schema being built from the codecs."""

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}
        self._names: dict[tuple[int, str | None], str] = {}

    @staticmethod
    def ref(name: str) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{name}"}

    def named(self, name: str, make: Any) -> dict[str, Any]:
        """A reference to the named type `name`, made by `make()` on first use."""
        if name not in self.defs:
            self.defs[name] = make()
        return self.ref(name)

    def record(self, record: _Record, *, tag: str | None = None) -> dict[str, Any]:
        """A reference to a record's object type (with `"type": tag` when tagged), added on
        first use (before its fields, so a type that nests itself refers to itself)."""
        key = (id(record), tag)
        name = self._names.get(key)
        if name is not None:
            return self.ref(name)
        name, n = record.name, 2
        while name in self.defs:
            name, n = f"{record.name}{n}", n + 1
        self._names[key] = name
        self.defs[name] = {}
        properties: dict[str, Any] = {} if tag is None else {"type": {"const": tag}}
        for field, codec in record.codecs.items():
            properties[field] = codec.schema(self)
            if field in record.defaults:
                try:
                    default = codec.encode(record.defaults[field], field)
                except WireError:
                    continue
                properties[field] = {**properties[field], "default": default}
        required = ([] if tag is None else ["type"]) + [
            f for f in record.codecs if f not in record.defaults]
        body: dict[str, Any] = {"type": "object", "properties": properties,
                                "required": required, "additionalProperties": False}
        doc = _first_line(record.cls)
        self.defs[name] = {"description": doc, **body} if doc else body
        return self.ref(name)


def _evaluation_types(twin: Any) -> tuple[type, ...]:
    """The twin's L1 evaluation type, if its `evaluate` declares one."""
    try:
        ret = typing.get_type_hints(type(twin).evaluate).get("return")
    except Exception:
        return ()
    return (ret,) if _is_record(ret) else ()


class Wire:
    """The wire form of one twin's observations and actions.

    Args:
        plan_type: the run's twin's plan class (`twin.plan_type`).
        request_type: its request class (`twin.request_type`; None: decoded requests are
            read-only records of the fields sent).
        evaluation_types: evaluation classes to decode into when an evaluation's fields match
            one (others are read-only records of the fields sent).

    Raises:
        WireError: a twin type with a field the wire form cannot carry.
    """

    def __init__(self, *, plan_type: type, request_type: type | None = None,
                 evaluation_types: tuple[type, ...] = ()) -> None:
        cache: dict[Any, _Codec] = {}
        self.plan_type = plan_type
        self.request_type = request_type
        plan = _record_of(plan_type, cache)
        request: _Codec = (_record_of(request_type, cache) if request_type is not None
                           else _AnyRecord("Order", (), cache))
        evaluation = _AnyRecord("Evaluation", evaluation_types, cache)
        self._plan, self._request = plan, request
        U, N, S, ADDR = _IntString(), _IntNumber(), _Exact(str, "string"), _Address()
        self._job = _Record(JobView, {
            "job_id": U, "client": ADDR, "evaluator": ADDR, "provider": _Optional(ADDR),
            "budget": U, "state": _EnumCodec(JobState), "order": request, "twin_id": S,
            "eval_seed": U, "max_time_ms": N, "posted_tick": N, "expires_at": N,
            "plan": _Optional(plan), "tier": S, "baseline_ms": N})
        quote = _Record(Quote, {"provider": ADDR, "price_per_cu": U, "capacity_left_cu": U})
        lease = _Record(LeaseView, {
            "lease_id": U, "buyer": ADDR, "provider": ADDR, "cu": U, "cu_used": U,
            "price_per_cu": U, "licence_per_cu": U, "expires_at": N})
        result = _Record(SimResult, {"job_id": U, "plans": _Seq(plan),
                                     "evaluations": _Seq(evaluation), "cu": U, "cost": U})
        B, F = _Exact(bool, "boolean"), _Float()
        pool = _Record(PoolView, {"key": S, "owner": ADDR, "price_per_unit": U,
                                  "owner_fee_bps": N})
        rules = _Record(RulesView, {
            "transfer_fee_bps": N, "fee_burn_bps": N, "platform_fee_bps": N,
            "evaluator_fee_bps": N, "evaluator_paid_on_reject": B, "min_expiry": N,
            "max_strikes": N, "award": S, "award_pricing": S, "award_prior_gain_bps": N,
            "award_prior_weight": N, "time_value_per_h": U, "clearing": S,
            "sealed_pricing": S, "call_pricing": S, "lease_ticks": N, "min_stake": U,
            "spot_check_bps": N, "slash_bps": N, "slash_reward_bps": N, "licence_per_cu": U,
            "compute_cost_per_cu": U,
            "royalty_mode": S, "royalty_stacks": _Seq(_Fixed((S, N))), "data_fee_bps": N,
            "pools": _Seq(pool), "emission": S, "emission_amount": U, "epoch_ticks": N,
            "max_candidates": N, "tiers": _Seq(S)})
        tier_tick = _Record(TierTick, {"tier": S, "awards": N, "price_mean": U,
                                       "price_min": U, "price_max": U, "bidders_mean": F})
        market_tick = _Record(MarketTick, {
            "tick": N, "jobs_posted": N, "awards": N, "completed": N, "rejected": N,
            "expired": N, "tiers": _Seq(tier_tick), "cu_offered": U, "cu_leased": U,
            "cu_price_mean": U, "utilisation": F, "rejection_rate": F})
        market = _Record(MarketView, {"ticks": _Seq(market_tick),
                                      "reputations": _Seq(_Fixed((ADDR, N, N)))})
        outcome = _Tagged({
            "bid": _Record(BidOutcome, {"job_id": U, "tick": N, "price": U, "won": B,
                                        "award_price": U, "bidders": N}),
            "job": _Record(JobOutcome, {"job_id": U, "tick": N, "role": S, "result": S,
                                        "price": U, "time_ratio": _Optional(F)})})
        pnl = _Record(PnL, dict.fromkeys(PnL._fields, U))
        quote_e = _Record(EvaluatorQuote, {"evaluator": ADDR, "min_fee": U})
        self._observation = _Record(Observation, {
            "tick": N, "address": ADDR, "role": _EnumCodec(Role), "balance": U, "nonce": U,
            "orders": _Seq(request), "jobs": _Seq(self._job), "open_jobs": _Seq(self._job),
            "quotes": _Seq(quote), "results": _Seq(result), "evaluators": _Seq(ADDR),
            "leases": _Seq(lease), "compute_clearing": S, "stake": U,
            "rules": _Optional(rules), "market": _Optional(market), "outcomes": _Seq(outcome),
            "pnl": _Optional(pnl), "baselines": _Seq(N), "evaluator_quotes": _Seq(quote_e)})
        opt_u, opt_addr = _Optional(U), _Optional(ADDR)
        specs: dict[type, dict[str, _Codec]] = {
            A.PostJob: {"order_id": S, "budget": U, "evaluator": opt_addr, "expires_in": N,
                        "max_time_ms": _Optional(N), "min_gain_bps": N, "tier": S},
            A.Bid: {"job_id": U, "price": U},
            A.Offer: {"price_per_cu": U, "capacity_cu": U, "overclaim_bps": N},
            A.OfferEvaluation: {"min_fee": U},
            A.BuyCompute: {"cu": U, "max_price_per_cu": opt_u, "compute": opt_addr},
            A.Stake: {"amount": U},
            A.Unstake: {"amount": U},
            A.UseData: {"pool": S, "units": U, "job_id": U},
            A.Contribute: {"pool": S, "content": _Bytes(), "units": U},
            A.Simulate: {"job_id": U, "plans": _Seq(plan), "compute": opt_addr,
                         "max_cost": opt_u, "max_price_per_cu": opt_u, "min_lease_cu": U,
                         "tier": _Optional(S)},
            A.Submit: {"job_id": U, "plan": plan, "policy": S},
            A.Complete: {"job_id": U, "reason": S},
            A.Reject: {"job_id": U, "reason": S},
            A.ClaimRefund: {"job_id": U},
            A.Pay: {"to": ADDR, "amount": U},
        }
        self._actions = {cls.__name__: _Record(cls, spec) for cls, spec in specs.items()}
        self._by_class = {r.cls: r for r in self._actions.values()}

    @classmethod
    def for_twin(cls, twin: Any) -> Wire:
        """The wire form of `twin`'s values (its plan, request and L1 evaluation types)."""
        return cls(plan_type=twin.plan_type, request_type=getattr(twin, "request_type", None),
                   evaluation_types=_evaluation_types(twin))

    # -- observations --------------------------------------------------------------------------
    def encode_observation(self, obs: Observation) -> dict[str, Any]:
        """`obs` as a JSON object (its planner and rng stay behind: a worker has its own)."""
        return self._observation.encode(obs, "observation")  # type: ignore[no-any-return]

    def decode_observation(self, data: Any, *, planner: Any, rng: Any) -> Observation:
        """An `Observation` from its JSON object, with the receiver's own planner and rng.

        Raises:
            WireError: the object is not an observation in the wire form.
        """
        values = self._observation.fields_of(data, "observation")
        return Observation(**values, planner=planner, rng=rng)

    # -- actions -------------------------------------------------------------------------------
    def encode_action(self, action: Any, path: str = "action") -> dict[str, Any]:
        """An action of an exact `economy.actions` class as a JSON object with its "type".

        Raises:
            WireError: not an exact action class, or a field value that is not plain.
        """
        record = self._by_class.get(type(action))
        if record is None:
            raise WireError(path, f"an action ({', '.join(self._actions)})", _kind(action))
        return {"type": record.name, **record.encode(action, path)}

    def decode_action(self, data: Any, path: str = "action") -> A.Action:
        """An action from its JSON object.

        Raises:
            WireError: an unknown "type", an unknown or missing field, a wrong value.
        """
        if type(data) is not dict:
            raise WireError(path, "an action object", _got(data))
        name = data.get("type")
        record = self._actions.get(name) if type(name) is str else None
        if record is None:
            hint = suggest(name, self._actions) if type(name) is str else ""
            raise WireError(f"{path}.type", f"an action type ({', '.join(self._actions)})",
                            f"{_got(name) if 'type' in data else 'nothing'}{hint}")
        body = {k: v for k, v in data.items() if k != "type"}
        return record.decode(body, path)  # type: ignore[no-any-return]

    def encode_actions(self, actions: list[Any] | tuple[Any, ...]) -> list[dict[str, Any]]:
        """A list of actions as a JSON array."""
        if type(actions) is not list and type(actions) is not tuple:
            raise WireError("actions", "a list of actions", _kind(actions))
        return [self.encode_action(a, f"actions[{i}]") for i, a in enumerate(actions)]

    def decode_actions(self, data: Any) -> list[A.Action]:
        """Actions from a JSON array."""
        if type(data) is not list:
            raise WireError("actions", "an array of actions", _got(data))
        return [self.decode_action(a, f"actions[{i}]") for i, a in enumerate(data)]

    # -- for clients ---------------------------------------------------------------------------
    def types(self) -> dict[str, Any]:
        """The twin's request and plan types as a client sees them (sent at start)."""
        return {"request": self._request.describe(), "plan": self._plan.describe()}

    def action_types(self) -> dict[str, Any]:
        """Every action type with its fields' wire types (docs/policy-wire.md lists them)."""
        return {name: r.describe()["fields"] for name, r in self._actions.items()}

    def action_classes(self) -> tuple[type, ...]:
        """The action classes the wire form carries."""
        return tuple(self._by_class)

    def json_schema(self, *, title: str = "") -> dict[str, Any]:
        """The wire form as a JSON Schema (draft 2020-12), made from the same codecs that encode
        and decode it (`twinecon schema --policy` prints it).

        Its `$defs` name every type: `Observation`, `Action` (one of every action type, each an
        object with its `"type"`), `Actions` (an array of them), the views, the twin's request
        and plan types, and the three messages of a remote or subprocess policy (`ActRequest`,
        `ActionsAnswer`, `ErrorAnswer`, docs/policy-wire.md), which the schema itself accepts.
        What JSON Schema cannot say, the decoder still checks: a float such as `1.0` where an
        int belongs (a JSON Schema "integer" accepts it), a repeated key, the nesting depth, a
        twin type's own checks.
        """
        from agents.agent import MAX_ACTIONS

        defs = _Defs()
        observation = self._observation.schema(defs)
        actions = [defs.record(r, tag=name) for name, r in self._actions.items()]
        d = defs.defs
        d["Action"] = {"description": "one action: an object with a \"type\" (the action's "
                                      "name) and its fields", "oneOf": actions}
        d["Actions"] = {"type": "array", "items": defs.ref("Action"), "maxItems": MAX_ACTIONS}
        d["ActRequest"] = {
            "description": "what a remote or subprocess policy receives each tick",
            "type": "object",
            "properties": {"type": {"const": "act"}, "wire": {"const": WIRE_VERSION},
                           "index": _IntNumber().schema(defs),
                           "seed": _IntString().schema(defs),
                           "params": {"type": "object"}, "observation": observation},
            "required": ["type", "wire", "index", "seed", "params", "observation"],
            "additionalProperties": False}
        d["ActionsAnswer"] = {
            "description": "the actions a remote or subprocess policy takes ([] for none)",
            "type": "object",
            "properties": {"type": {"const": "actions"}, "actions": defs.ref("Actions")},
            "required": ["type", "actions"], "additionalProperties": False}
        d["ErrorAnswer"] = {
            "description": "a policy that cannot act this tick (a recorded fault)",
            "type": "object",
            "properties": {"type": {"const": "error"}, "error": {"type": "string"}},
            "required": ["type", "error"], "additionalProperties": False}
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": title or WIRE_VERSION,
            "description": "The policy wire form (docs/policy-wire.md): an observation as JSON "
                           "and actions back. Validate an observation against "
                           "#/$defs/Observation, an answer's actions against #/$defs/Actions; "
                           "the schema itself accepts the messages of a remote or subprocess "
                           "policy.",
            "oneOf": [defs.ref("ActRequest"), defs.ref("ActionsAnswer"),
                      defs.ref("ErrorAnswer")],
            "$defs": d,
        }


_PLANNER_WIRES: dict[str, Wire] = {}


def wire_of(planner: Any) -> Wire:
    """The wire form of the twin an observation's planner works on (for in-process code that
    speaks the wire form: the `llm` policy, an adapter of wire-form logic), cached per spec."""
    twin = planner._twin  # the planner's own twin: its types are what the wire form needs
    key = twin.spec.sha256
    wire = _PLANNER_WIRES.get(key)
    if wire is None:
        if len(_PLANNER_WIRES) >= 16:
            _PLANNER_WIRES.clear()
        wire = _PLANNER_WIRES[key] = Wire.for_twin(twin)
    return wire


def dumps(message: Any) -> bytes:
    """One message as compact UTF-8 JSON (ASCII only; no NaN or infinities).

    Raises:
        WireError: a value JSON cannot carry.
    """
    try:
        return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("ascii")
    except (TypeError, ValueError, RecursionError) as e:
        raise WireError("message", "plain JSON values", f"{type(e).__name__}: {e}") from None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise WireError("message", "an object without repeated keys", f"{key!r} twice")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise WireError("message", "plain JSON (no NaN or Infinity)", name)


#: The deepest a message may nest arrays and objects (the wire form's own need well under 20).
MAX_NESTING = 64
_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # a backslash and the character it escapes
_STRING = re.compile(rb'"[^"]*"')  # a string once its escapes are gone
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


def nesting(data: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not
    count; a malformed text counts its brackets as they come)."""
    structure = _ESCAPE.sub(b"", data).translate(None, _NOT_STRUCTURE)
    codes = np.frombuffer(_STRING.sub(b"", structure), dtype=np.uint8).astype(np.int8)
    if not codes.size:
        return 0
    steps = (codes == 0x5B).astype(np.int64) + (codes == 0x7B) - (codes == 0x5D) - (codes == 0x7D)
    return int(np.cumsum(steps).max())


def loads(data: bytes | str) -> Any:
    """One message parsed strictly: UTF-8 JSON, no NaN or infinities, no repeated keys,
    nested at most `MAX_NESTING` deep.

    The depth is checked before parsing: the parser recurses in C, and the simulator runs
    with a recursion limit that libraries raise to 100,000, where a deep enough text would
    overflow the C stack and crash the process instead of raising.

    Raises:
        WireError: anything else (the error says why).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nesting(raw) > MAX_NESTING:
        raise WireError("message", f"JSON nested at most {MAX_NESTING} deep", "deeper")
    try:
        text = raw.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except WireError:
        raise
    except (UnicodeDecodeError, ValueError) as e:
        raise WireError("message", "one JSON document", f"{type(e).__name__}: {e}") from None
