"""Finding, reading and validating scenario files, with errors that say how to fix them."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scenarios.errors import ScenarioError
from scenarios.schema import MOVED_KEYS, Scenario
from twinecon.errors import suggest

__all__ = ["BUILTIN_DIR", "LoadedScenario", "builtin_names", "find_scenario", "load_scenario",
           "validate_scenario"]

#: Built-in scenarios ship beside this module as commented TOML files users can copy.
BUILTIN_DIR = Path(__file__).parent


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
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def _fix(error: dict[str, Any], allowed: list[str]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        return f"unknown key{suggest(name, allowed)}; allowed keys: {', '.join(allowed)}"
    if kind == "missing":
        return "required key is missing; add it"
    got = error.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    return f"{error['msg']} (got {shown})"


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


def validate_scenario(data: Mapping[str, Any], source: str) -> Scenario:
    """Validate parsed TOML data against the schema.

    Raises:
        ScenarioError: naming the file, every offending key, what was expected and the fix.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        lines = [f"{_as_written(_key(err['loc'], data), data)}: "
                 f"{_fix(err, _allowed_keys(err['loc']))}" for err in errors]
        first, rest = lines[0], lines[1:]
        key, _, problem = first.partition(": ")
        more = "".join(f"\n  also {line}" for line in rest)
        raise ScenarioError(source, key, problem + more) from None


def load_scenario(ref: str | Path) -> LoadedScenario:
    """Read and validate a scenario by path or built-in name.

    Raises:
        ScenarioError: the file is missing, not TOML, or fails validation.
    """
    path = find_scenario(ref)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(str(path), "", f"not valid TOML: {e}; check quotes, brackets and "
                            "'key = value' lines") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "not a UTF-8 text file") from None
    return LoadedScenario(validate_scenario(data, str(path)), str(path), path.parent.resolve())
