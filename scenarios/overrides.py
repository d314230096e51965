"""Setting values anywhere in a scenario by dotted path (`rules.royalty.mode`,
`agents.2.params.candidates`), for `twinecon run --set` and sweeps."""

from __future__ import annotations

import copy
from typing import Any

from scenarios.schema import MOVED_KEYS
from twinecon.errors import TwineconError, suggest

__all__ = ["OverrideError", "apply_point", "parse_assignment", "parse_value"]


class OverrideError(TwineconError):
    """A dotted path that names nothing in the scenario."""


def parse_value(text: str) -> Any:
    """A command-line value: an int, a float, true/false, or else the string itself."""
    s = text.strip()
    if s.lower() in ("true", "false"):
        return s.lower() == "true"
    for kind in (int, float):
        try:
            return kind(s.replace("_", ""))
        except ValueError:
            pass
    return s


def parse_assignment(text: str) -> tuple[str, Any]:
    """`key=value` → (key, value)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise OverrideError(f"--set {text!r}: expected key=value (for example "
                            "--set rules.royalty.mode=lrp)")
    return key.strip(), parse_value(value)


def _walk(data: Any, key: str, source: str) -> tuple[Any, str | int]:
    """The container holding `key`'s last part, and that part (checked to exist)."""
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                where = ".".join(parts[:i])
                raise OverrideError(f"{source}: parameter {key!r}: {where} is a list of "
                                 f"{len(node)}; use an index 0..{len(node) - 1}")
            index: str | int = int(part)
        elif isinstance(node, dict):
            index = part
            if part not in node and not (last and i > 0 and parts[i - 1] == "params"):
                here = ".".join(parts[:i])
                moved = [o.rsplit(".", 1)[1] for o in MOVED_KEYS if o.rsplit(".", 1)[0] == here]
                raise OverrideError(f"{source}: parameter {key!r}: no key {part!r}"
                                    f"{suggest(part, [*map(str, node), *moved])}")
        else:
            raise OverrideError(f"{source}: parameter {key!r}: {'.'.join(parts[:i])} is a value, "
                             "not a table")
        if last:
            return node, index
        node = node[index] if isinstance(node, list) else node.setdefault(index, {})
    raise OverrideError(f"{source}: empty parameter key")  # pragma: no cover


def apply_point(data: dict[str, Any], point: dict[str, Any], source: str) -> dict[str, Any]:
    """A copy of the scenario data with each parameter set; a sampled float lands as an int
    where the scenario holds an int there. A key that moved (`ledger.transfer_fee_bps`, now
    `rules.fees.transfer_fee_bps`) is set at its new place."""
    out = copy.deepcopy(data)
    for key, value in point.items():
        parent, index = _walk(out, MOVED_KEYS.get(key, key), source)
        current = parent[index] if (isinstance(parent, list) or index in parent) else None
        if isinstance(value, float) and isinstance(current, int) and not isinstance(current,
                                                                                  bool):
            value = round(value)
        parent[index] = value
    return out


