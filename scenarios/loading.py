"""Finding, reading and validating scenario files, with errors that say how to fix them.

A scenario file may come from anyone, so reading one is bounded: at most `MAX_FILE_BYTES`,
nested at most `MAX_DEPTH` levels (checked on the text, before the TOML parser could recurse
that deep), every count and size within the schema's bounds, and its values serialisable as
the run's manifest records them. Whatever the file holds, loading it ends in a `Scenario` or
one `ScenarioError`, never in a recursion or memory error.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scenarios.errors import ScenarioError
from scenarios.schema import MAX_DEPTH, MOVED_KEYS, Scenario
from twinecon.errors import suggest

__all__ = ["BUILTIN_DIR", "MAX_FILE_BYTES", "LoadedScenario", "builtin_names", "check_nesting",
           "find_scenario", "load_scenario", "validate_scenario"]

#: Built-in scenarios ship beside this module as commented TOML files users can copy.
BUILTIN_DIR = Path(__file__).parent

#: The largest scenario file read: a scenario is hand-written configuration (the built-ins
#: are 2-5 KB); a megabyte parses in a fraction of a second.
MAX_FILE_BYTES = 1 << 20

#: Errors listed in one message: the first few say what to fix; the count says the rest.
_MAX_LISTED = 8

#: Pieces of a key: bare, "basic" or 'literal' (the nesting check counts a dotted key's).
_KEY_PART = r'(?:[A-Za-z0-9_-]++|"(?:[^"\\\n]|\\.)*+"|\'[^\'\n]*+\')'
_PART = re.compile(_KEY_PART)

#: What the nesting check skips over (strings and comments, whose brackets do not nest), and
#: what it counts: brackets and braces, and the parts of dotted keys (`a.b.c = 1` nests as
#: deep as `a = {b = {c = 1}}`, and the parser takes time quadratic in a key's parts). An
#: unterminated string runs to the end of its line (or of the file): the parser rejects it.
_TOKEN = re.compile("|".join((
    r'"""(?:[^\\]|\\.)*?"{3,5}',  # a multi-line basic string
    r'"""(?:[^\\]|\\.)*',  # ... unterminated
    r"'''.*?'{3,5}",  # a multi-line literal string
    r"'''.*",  # ... unterminated
    rf"(?P<dotted>{_KEY_PART}(?:[ \t]*+\.[ \t]*+{_KEY_PART})++)",  # a dotted key (or a float)
    r'"(?:[^"\\\n]|\\.)*"?',  # a basic string (to the end of its line if unterminated)
    r"'[^'\n]*'?",  # a literal string
    r"#[^\n]*",  # a comment
    r"[A-Za-z0-9_+-]++",  # a bare key or a number, skipped whole
    r"(?P<open>[\[{])",
    r"(?P<close>[\]}])",
)), re.DOTALL)


@dataclass(frozen=True, slots=True)
class LoadedScenario:
    """A validated scenario and where it came from."""

    scenario: Scenario
    source: str  # the file path, for messages
    base_dir: Path  # relative policy files resolve from here


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def find_scenario(ref: str | Path) -> Path:
    """A scenario file from a path or a built-in name.

    Raises:
        ScenarioError: neither a file nor a built-in name.
    """
    path = Path(ref)
    if path.is_file():
        return path
    builtin = BUILTIN_DIR / f"{ref}.toml"
    if builtin.is_file():
        return builtin
    names = builtin_names()
    raise ScenarioError(str(ref), "", f"no such scenario file or built-in name"
                        f"{suggest(str(ref), names)}; built-ins: {', '.join(names)} "
                        "(`twinecon list`)")


def _key(loc: tuple[Any, ...], data: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]" if parts else f"[{item}]"]
        elif item in ("int", "str", "function-before[_tokens(), union[int,str]]"):
            continue  # pydantic's union branch names are not keys
        else:
            parts.append(_short(str(item), 64))
    return ".".join(parts) or "(top level)"


def _short(text: str, limit: int = 80) -> str:
    """`text`, cut to `limit` characters (a hostile value may be a megabyte long)."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


#: Pydantic's errors for a value above a bound, and what to do about it.
_TOO_BIG = {"less_than_equal": "lower it", "less_than": "lower it",
            "too_long": "give fewer", "string_too_long": "shorten it"}


def _fix(error: dict[str, Any], allowed: list[str]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        return f"unknown key{suggest(name[:200], allowed)}; allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return "required key is missing; add it"
    got = error.get("input")
    shown = _short(repr(got)) if not isinstance(got, dict | list) else type(got).__name__
    fix = ""
    if kind in _TOO_BIG:
        why = _description(error["loc"])
        fix = f"; {_TOO_BIG[kind]}" + (f" ({why})" if why else "")
    return f"{error['msg']} (got {shown}){fix}"


def _description(loc: tuple[Any, ...]) -> str:
    """The schema's description of the key at `loc` (it says why a bound is what it is)."""
    model: Any = Scenario
    field = None
    for item in loc:
        if isinstance(item, int):
            continue
        field = getattr(model, "model_fields", {}).get(item)
        if field is None:
            return ""
        ann = field.annotation
        inner = getattr(ann, "__args__", None)
        model = inner[0] if inner and hasattr(inner[0], "model_fields") else ann
    return (field.description or "") if field is not None else ""


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Scenario
    for item in loc[:-1]:
        if isinstance(item, int):
            continue
        field = getattr(model, "model_fields", {}).get(item)
        if field is None:
            return []
        ann = field.annotation
        inner = getattr(ann, "__args__", None)
        model = inner[0] if inner and hasattr(inner[0], "model_fields") else ann
    return sorted(getattr(model, "model_fields", {}))


def _as_written(key: str, data: Mapping[str, Any]) -> str:
    """A key as the file wrote it: its old name if it used one (`MOVED_KEYS`)."""
    for old, new in MOVED_KEYS.items():
        table, name = old.split(".")
        if key == new and isinstance(data.get(table), Mapping) and name in data[table]:
            return old
    return key


def check_nesting(text: str, source: str) -> None:
    """Refuse TOML text whose arrays, inline tables and dotted keys nest deeper than
    `MAX_DEPTH`, before a parser recurses into them (or takes quadratic time over a dotted key's
    parts); brackets and dots inside strings and comments do not count.

    Raises:
        ScenarioError: naming the file, the line and the bound.
    """
    depth = 0
    for m in _TOKEN.finditer(text):
        if m.group("dotted") and depth + len(_PART.findall(m.group())) > MAX_DEPTH + 1:
            line = text.count("\n", 0, m.start()) + 1
            raise ScenarioError(source, f"line {line}", f"a dotted key of "
                                f"{len(_PART.findall(m.group()))} parts nests more than "
                                f"{MAX_DEPTH} levels deep; expected at most {MAX_DEPTH}: "
                                "use fewer parts")
        if m.group("open"):
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, m.start()) + 1
                raise ScenarioError(source, f"line {line}", f"arrays and inline tables nest "
                                    f"more than {MAX_DEPTH} levels deep; expected at most "
                                    f"{MAX_DEPTH}: flatten the data")
        elif m.group("close"):
            depth = max(depth - 1, 0)


def _check_shape(data: Any, source: str) -> None:
    """Refuse data nested deeper than `MAX_DEPTH` (tables included: dotted keys nest without
    brackets), walking it without recursion so that validation never recurses that deep.

    Raises:
        ScenarioError: naming the file and the key where the data is too deep.
    """
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, key = stack.pop()
        if isinstance(value, dict | list | tuple):
            if depth > MAX_DEPTH:
                raise ScenarioError(source, key or "(top level)", f"nests more than "
                                    f"{MAX_DEPTH} levels of tables and arrays deep; expected "
                                    f"at most {MAX_DEPTH}: flatten the data")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for name, child in items:
                if depth <= 2:  # keys as deep as agents[1].params name the place well enough
                    part = f"[{name}]" if isinstance(name, int) else _short(str(name), 64)
                    where = key + part if isinstance(name, int) or not key else f"{key}.{part}"
                else:
                    where = key
                stack.append((child, depth + 1, where))


def _check_serialisable(scenario: Scenario, source: str) -> None:
    """Refuse a scenario the run's manifest could not record (`config`, its sha256)."""
    try:
        json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
    except (ValueError, TypeError, RecursionError) as e:
        raise ScenarioError(source, "", f"its values cannot be written as JSON in the run's "
                            f"manifest ({_short(str(e), 200)}); use strings, numbers, "
                            "booleans, arrays and tables") from None


def validate_scenario(data: Mapping[str, Any], source: str) -> Scenario:
    """Validate parsed TOML data against the schema, and that the run's manifest can record it.

    Raises:
        ScenarioError: naming the file, the offending keys (the first few of them), what was
            expected and the fix.
    """
    _check_shape(data, source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        lines = [f"{_as_written(_key(err['loc'], data), data)}: "
                 f"{_fix(err, _allowed_keys(err['loc']))}" for err in errors[:_MAX_LISTED]]
        first, rest = lines[0], lines[1:]
        key, _, problem = first.partition(": ")
        more = "".join(f"\n  also {line}" for line in rest)
        if len(errors) > _MAX_LISTED:
            more += f"\n  and {len(errors) - _MAX_LISTED} more errors"
        raise ScenarioError(source, key, problem + more) from None
    _check_serialisable(scenario, source)
    return scenario


def _read(path: Path) -> str:
    """The text of a scenario file, refused if larger than `MAX_FILE_BYTES` or not UTF-8."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ScenarioError(str(path), "", f"cannot be read ({e.strerror or e}); check the "
                            "path and its permissions") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(str(path), "", f"is larger than {MAX_FILE_BYTES} bytes, the most "
                            "a scenario file may hold (scenarios are hand-written "
                            "configuration); is this the right file?")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "not a UTF-8 text file") from None


def load_scenario(ref: str | Path) -> LoadedScenario:
    """Read and validate a scenario by path or built-in name.

    Raises:
        ScenarioError: the file is missing, too large, not TOML, nested too deep, or fails
            validation.
    """
    path = find_scenario(ref)
    text = _read(path)
    check_nesting(text, str(path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), "", f"not valid TOML: {e}; check quotes, brackets and "
                            "'key = value' lines") from None
    except (RecursionError, MemoryError) as e:  # check_nesting should have caught it first
        raise ScenarioError(str(path), "", f"too deeply nested or too large to parse "
                            f"({type(e).__name__}); flatten the data") from None
    return LoadedScenario(validate_scenario(data, str(path)), str(path), path.parent.resolve())
