"""Setting values anywhere in a scenario by dotted path (`rules.royalty.mode`,
`agents.2.params.candidates`), for `twinecon run --set` and sweeps."""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from scenarios.schema import MOVED_KEYS, is_token_amount
from twinecon.errors import TwineconError, suggest

__all__ = ["OverrideError", "apply_point", "parse_assignment", "parse_value", "shown_value",
           "token_text", "value_at"]


class OverrideError(TwineconError):
    """A dotted path that names nothing in the scenario."""


def parse_value(text: str) -> Any:
    """A command-line value: an int, a float, true/false, or else the string itself (quotes
    around it, as a shell passes `'"0.05"'`, are taken off and keep it a string)."""
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
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


def token_text(value: float | int | str, decimals: int = 18) -> str:
    """A number of tokens as the scenario writes it: a plain decimal string (no exponent),
    rounded half-even to whole base units (10^-decimals). A float is read as the shortest
    decimal that prints as it (`0.0000005`, not its binary expansion); a string is returned as
    it is."""
    if isinstance(value, str):
        return value
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        amount = amount.quantize(Decimal(1).scaleb(-decimals))
    except InvalidOperation:
        return repr(value)  # nan or inf: the schema refuses it with its own message
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


#: A decimal string of tokens, "0.05" or "0.05 tokens" (a policy's money param, as a sweep
#: sets it).
_TOKEN_TEXT = re.compile(r"^\s*[0-9][0-9_]*(?:\.[0-9_]+)?\s*(?:tokens?)?\s*$")


def _policy_param(path: str) -> bool:
    """Whether a dotted path is a policy param, `agents.N.params.NAME`."""
    parts = path.split(".")
    return len(parts) == 4 and parts[0] == "agents" and parts[2] == "params"


def shown_value(key: str, value: Any) -> Any:
    """A parameter's value as a results column holds it: a token amount (of the schema, or a
    policy's money param as a decimal string of tokens) as float tokens (the exact amount is
    in the run's scenario), anything else as it is."""
    path = MOVED_KEYS.get(key, key)
    if isinstance(value, str) and (is_token_amount(path) or (
            _policy_param(path) and len(value) <= 100 and _TOKEN_TEXT.match(value))):
        number = value.strip().removesuffix("tokens").removesuffix("token").replace("_", "")
        try:
            return float(Decimal(number))
        except InvalidOperation:
            return value
    return value


def apply_point(data: dict[str, Any], point: dict[str, Any], source: str) -> dict[str, Any]:
    """A copy of the scenario data with each parameter set. A float lands as an int where the
    scenario holds an int there (a sampled point), and as a decimal string of tokens where the
    schema takes a token amount (`twin.licence_per_cu=0.0000005`: tokens, rounded to base
    units; never rounded to whole tokens) or where a policy param is money
    (`agents.4.params.price_per_cu=0.0000012`, a param annotated `agents.params.BaseUnits`,
    which a scenario writes in tokens: `_money_param`). An int is set as it is (for a money
    param: tokens). A key that moved (`ledger.transfer_fee_bps`, now
    `rules.fees.transfer_fee_bps`) is set at its new place."""
    out = copy.deepcopy(data)
    ledger = out.get("ledger")
    decimals = ledger.get("decimals", 18) if isinstance(ledger, dict) else 18
    decimals = decimals if isinstance(decimals, int) and 0 <= decimals <= 36 else 18
    for key, value in point.items():
        path = MOVED_KEYS.get(key, key)
        parent, index = _walk(out, path, source)
        current = parent[index] if (isinstance(parent, list) or index in parent) else None
        if current is None and isinstance(value, float):
            current = _policy_default(out, path)  # a param the scenario leaves at its default
        if isinstance(value, float) and (is_token_amount(path)
                                         or _money_param(out, path, source, current)):
            value = token_text(value, decimals)
        elif isinstance(value, float) and isinstance(current, int) \
                and not isinstance(current, bool):
            value = round(value)
        parent[index] = value
    return out


def _money_param(data: dict[str, Any], path: str, source: str, current: Any) -> bool:
    """Whether `agents.N.params.NAME` is a money param of its policy (annotated
    `agents.params.BaseUnits`), read from the class where it may be imported here: a built-in,
    or a policy that runs in this process. A process-isolated policy's own code runs only in
    its worker, so for it (and where the class cannot be resolved) the scenario's value says:
    money if it is a decimal string of tokens ("0.05", "0.05 tokens")."""
    if not _policy_param(path):
        return False
    parts = path.split(".")
    try:
        from agents.builtin import BUILTIN

        group = data["agents"][int(parts[1])]
        ref = group["policy"]
        policies = data.get("policies")
        isolation = group.get("isolation") or (
            policies.get("isolation") if isinstance(policies, dict) else None) or "inprocess"
        if ref in BUILTIN or isolation != "process":
            from agents.loading import resolve_policy_class
            from agents.units import money_params

            where = Path(source).parent if Path(source).is_file() else None
            return parts[3] in money_params(resolve_policy_class(ref, base_dir=where))
    except Exception:  # an unknown policy or group: the build says so with its own message
        pass
    return isinstance(current, str) and len(current) <= 100 \
        and _TOKEN_TEXT.match(current) is not None


def _policy_default(data: dict[str, Any], path: str) -> Any:
    """The default of policy param `agents.N.params.NAME` in its policy's constructor (None
    where the policy cannot be resolved here, or has no such default)."""
    parts = path.split(".")
    if len(parts) != 4 or parts[0] != "agents" or parts[2] != "params":
        return None
    try:
        import inspect

        from agents.loading import resolve_policy_class

        group = data["agents"][int(parts[1])]
        cls = resolve_policy_class(group["policy"])
        default = inspect.signature(cls).parameters[parts[3]].default
    except Exception:  # an unknown policy or param: the build says so with its own message
        return None
    return None if default is inspect.Parameter.empty else default


def value_at(data: Any, key: str, default: Any = None) -> Any:
    """The value at dotted path `key` (`agents.2.params.x`; a moved key at its new place) of
    scenario data, or `default` where it is not set."""
    node: Any = data
    for part in MOVED_KEYS.get(key, key).split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return default
    return node


