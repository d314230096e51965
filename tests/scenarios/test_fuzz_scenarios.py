"""Hostile scenario files: a seeded mutation fuzzer over the built-in scenarios. Whatever a file
holds (huge or negative numbers, wrong types, deep nesting, removed or duplicated keys, unicode,
truncation, huge strings and lists), `twinecon validate` answers with exit 0, or exit 2 and one
`twinecon: error:` line, never a traceback or a hang."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scenarios.loading import BUILTIN_DIR
from twinecon.cli import main

SEED = 12
N_CASES = 400  # in-process; about 10 s
N_SUBPROCESS = 4
_HANG = 60  # seconds: a hang guard per case, not a speed limit

_BASES = {p.stem: p.read_text(encoding="utf-8") for p in sorted(BUILTIN_DIR.glob("*.toml"))}
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


# --- writing TOML (every table inline: nothing deep is written this way) ----------------------
def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v))  # dates and times: as strings


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _toml(data: dict[str, Any]) -> str:
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in data.items())


# --- the mutations ----------------------------------------------------------------------------
def _paths(data: Any, prefix: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) in the data, containers included."""
    yield prefix, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*prefix, i))


def _pick(rng: np.random.Generator, data: dict, want: Callable[[Any], bool]) -> tuple | None:
    found = [p for p, v in _paths(data) if p and want(v)]
    return found[int(rng.integers(len(found)))] if found else None


def _set(data: dict, path: tuple, value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


HUGE = [10**8, 123_456_789_012, 2**63 - 1, 1_000_000, 10**5 + 1, 50_000]
NEGATIVE = [-1, -(10**9), -(2**63)]
WRONG = ["x", "", 1.5, float("inf"), float("nan"), True, [], {}, [1, "a"], {"a": 1}, "1e9",
         "9" * 200, "1000 tokens", "0.0000000000000000001"]
UNICODE = ["\u202e", "\u0000", "\U0001f600", "é" * 50, "\ufeff", "\u2028", "\x7f", "../../x",
           "a/b", ".hidden", "名前"]
TWIN_PARAMS = ["n_aisles", "slots_per_aisle", "n_skus", "grid_cols", "grid_rows", "n_turbines",
               "mc_samples", "horizon_days", "slot_ms", "day_ms", "order_rate_per_h",
               "n_depots", "max_lines", "extent", "n_stops", "scheduler_samples"]


def _data_mutation(kind: str, rng: np.random.Generator, data: dict) -> None:
    """Mutate parsed scenario data in place."""
    choice = lambda xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
    if kind == "huge":
        path = _pick(rng, data, _is_int)
        if path:
            _set(data, path, choice(HUGE))
    elif kind == "negative":
        path = _pick(rng, data, _is_int)
        if path:
            _set(data, path, choice(NEGATIVE))
    elif kind == "wrong-type":
        path = _pick(rng, data, lambda v: not isinstance(v, dict | list))
        if path:
            _set(data, path, choice(WRONG))
    elif kind == "remove":
        path = _pick(rng, data, lambda v: True)
        if path:
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            del parent[path[-1]]
    elif kind == "unicode":
        path = _pick(rng, data, lambda v: isinstance(v, str))
        if path:
            _set(data, path, choice(UNICODE))
    elif kind == "unknown-key":
        path = _pick(rng, data, lambda v: isinstance(v, dict))
        if path:
            _set(data, (*path, choice(["tickz", "count", "x" * 300, "é", "params"])), 1)
    elif kind == "huge-string":
        path = _pick(rng, data, lambda v: isinstance(v, str))
        if path:
            _set(data, path, "x" * choice([5_000, 70_000, 600_000]))
    elif kind == "huge-list":
        path = _pick(rng, data, lambda v: isinstance(v, list | dict))
        if path:
            _set(data, path, list(range(choice([300, 20_000, 150_000]))))
    elif kind == "many-groups":
        data["agents"] = data.get("agents", [])[:1] * choice([257, 2_000])
    elif kind == "count":
        groups = data.get("agents", [])
        if groups:
            choice(groups)["count"] = choice([10_001, 100_000_000, 5_000, 0])
    elif kind == "twin-param":
        data.setdefault("twin", {}).setdefault("params", {})[choice(TWIN_PARAMS)] = \
            choice([*HUGE, 0, 40, 301, 151])


def _text_mutation(kind: str, rng: np.random.Generator, text: str) -> str | bytes:
    """Mutate the file's text."""
    choice = lambda xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
    lines = text.splitlines(keepends=True)
    if kind == "truncate":
        return text[:int(rng.integers(len(text)))]
    if kind == "duplicate-line":
        at = int(rng.integers(len(lines)))
        return "".join([*lines[:at + 1], lines[at], *lines[at + 1:]])
    if kind == "duplicate-group":
        start = text.find("[[agents]]")
        return text + "\n" + text[start:] * choice([2, 300])
    if kind == "deep":
        depth = choice([17, 100, 1_000, 50_000])
        opener, closer = choice([("[", "]"), ("{ a = ", " }")])
        return text.replace("\n[[agents]]", "\nx = " + opener * depth + "1" + closer * depth
                            + "\n[[agents]]", 1)
    if kind == "deep-params":
        depth = choice([9, 16, 1_000, 5_000])
        return re.sub(r"params = \{", "params = { deep = " + "[" * depth + "]" * depth + ",",
                      text, count=1)
    if kind == "dotted":
        return text + "\n" + ".".join(["a"] * choice([17, 5_000, 100_000])) + " = 1\n"
    if kind == "bytes":
        at = int(rng.integers(len(text)))
        junk = bytes(rng.integers(0, 256, size=int(rng.integers(1, 16)), dtype=np.uint8))
        return text[:at].encode() + junk + text[at:].encode()
    if kind == "insert-unicode":
        at = int(rng.integers(len(text)))
        return text[:at] + choice(UNICODE) + text[at:]
    if kind == "huge-file":
        return text + "\n# " + "x" * (1 << 20) + "\n"
    raise AssertionError(kind)


DATA_KINDS = ["huge", "negative", "wrong-type", "remove", "unicode", "unknown-key",
              "huge-string", "huge-list", "many-groups", "count", "twin-param"]
TEXT_KINDS = ["truncate", "duplicate-line", "duplicate-group", "deep", "deep-params",
              "dotted", "bytes", "insert-unicode", "huge-file"]


def _cases(n: int, seed: int) -> list[tuple[str, str | bytes]]:
    """`n` mutated built-in scenarios: (case id, file contents)."""
    rng = np.random.default_rng(seed)
    names = sorted(_BASES)
    out = []
    for i in range(n):
        name = names[i % len(names)]
        text = _BASES[name]
        kinds = DATA_KINDS + TEXT_KINDS
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind in DATA_KINDS:
            data = tomllib.loads(text)
            for _ in range(int(rng.integers(1, 3))):  # one or two mutations
                _data_mutation(kind, rng, data)
            contents: str | bytes = _toml(data)
        else:
            contents = _text_mutation(kind, rng, text)
        out.append((f"{i}-{name}-{kind}", contents))
    return out


@contextmanager
def _hang_guard(seconds: int) -> Iterator[None]:
    """Fail the case (instead of the suite hanging) if it runs longer than `seconds`."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _write(path: Path, contents: str | bytes) -> Path:
    if isinstance(contents, bytes):
        path.write_bytes(contents)
    else:
        path.write_text(contents, encoding="utf-8")
    return path


def _problem(code: int, out: str, err: str) -> str:
    """What is wrong with validate's answer, or ''."""
    if "Traceback" in out + err:
        return "a traceback"
    if code == 0:
        return "" if out.rstrip().endswith("agents)") and not err else f"exit 0 but {err!r}"
    if code != 2:
        return f"exit {code}"
    first, *rest = err.splitlines() or [""]
    if not first.startswith("twinecon: error: ") or any(
            line.startswith("twinecon: error:") for line in rest):
        return f"not one error line: {err[:300]!r}"
    return ""


def test_mutated_builtin_scenarios_validate_to_exit_0_or_one_error_line(tmp_path, capsys) -> None:
    """Each of a few hundred seeded mutations of the built-in scenarios, validated through the
    CLI entry point: exit 0, or exit 2 with one 'twinecon: error:' line; no traceback, no
    hang (a generous guard per case, not a speed limit)."""
    problems, times = [], []
    outcomes = {0: 0, 2: 0}
    for case, contents in _cases(N_CASES, SEED):
        path = _write(tmp_path / "scenario.toml", contents)
        started = time.perf_counter()
        with _hang_guard(_HANG):
            code = main(["validate", str(path)])
        times.append((time.perf_counter() - started, case))
        out, err = capsys.readouterr()
        problem = _problem(code, out, err)
        if problem:
            problems.append(f"{case}: {problem}")
        outcomes[code] = outcomes.get(code, 0) + 1
    slowest = max(times)
    with capsys.disabled():
        print(f"\n{N_CASES} mutations: {outcomes[0]} valid, {outcomes[2]} refused; slowest "
              f"{slowest[1]} in {slowest[0]:.2f} s")
    assert not problems, "\n".join(problems)
    assert outcomes[0] > 10 and outcomes[2] > N_CASES // 2  # both answers were exercised


@pytest.mark.parametrize("case", range(N_SUBPROCESS))
def test_mutated_scenarios_in_a_real_process(tmp_path, case: int) -> None:
    """A few mutations (the deepest nesting, a huge count and grid, a huge file) through the
    real `twinecon validate` process: exit 0 or 2, one error line, no traceback."""
    base = _BASES["warehouse-market"]
    contents = [
        base.replace("\n[[agents]]", "\nx = " + "[" * 50_000 + "]" * 50_000 + "\n[[agents]]",
                     1),
        base.replace("count = 8", "count = 100000000"),
        _BASES["logistics-market"].replace("grid_cols = 12", "grid_cols = 100000")
                                  .replace("grid_rows = 12", "grid_rows = 100000"),
        base.replace("max_open_jobs = 2", "max_open_jobs = 2, deep = " + "[" * 3_000
                     + "]" * 3_000),
    ][case]
    path = _write(tmp_path / "scenario.toml", contents)
    done = subprocess.run([sys.executable, "-m", "twinecon", "validate", str(path)],
                          capture_output=True, text=True, timeout=_HANG, check=False)
    assert done.returncode == 2
    assert _problem(done.returncode, done.stdout, done.stderr) == ""
