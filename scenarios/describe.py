"""The ODD description of a scenario: the model a run of it is, in the form papers cite.

ODD (Overview, Design concepts, Details) is the standard protocol for describing agent-based
models, as updated by Grimm et al. (2020), JASSS 23(2) 7. `describe(loaded)` writes the seven
ODD elements of a validated scenario from what the run would actually use, never from prose
kept beside the code:

- the scenario (its values, its file's header and inline comments where the value is still
  the one the file wrote) and its canonical SHA-256, the digest `twinecon run` records in
  `manifest.json` (`scenario_sha256`);
- the twin, built from its spec as `scenarios.build` builds it (cheap: no ledger, no agent):
  its id, tiers, solvers, spec body and its module's docstring;
- every group's policy class, found through the same registry the builder uses
  (`agents.loading.resolve_policy_class`), with its module and class docstrings, its
  constructor's parameters and their documented meanings (a process-isolated group's code is
  not imported here: its source is read without running it);
- the rules (`economy.rules`: each parameter's unit, default, bounds and meaning), the markets
  and mechanisms in force (`economy.markets`, `economy.mechanisms`), the action handlers
  (`economy.handlers`), the phases of a tick (`economy.model`'s docstrings), the seed tree's
  streams (`twinecon.seeds.Stream`), and the output tables' columns (`economy.tables`,
  `economy.accounting`, `economy.summary`);
- `docs/strategies.md`'s table of the built-in strategies, when the docs are beside the code.

Nothing is run: no ledger is opened, no agent built, no tick played.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarios.errors import ScenarioError
from scenarios.loading import LoadedScenario

__all__ = ["ODD_REFERENCE", "PARTS", "Description", "Field", "Section", "Table", "describe",
           "scenario_sha256"]

#: The protocol the description follows.
ODD_REFERENCE = ("Grimm, V., Railsback, S. F., Vincenot, C. E., Berger, U., Gallagher, C., "
                 "DeAngelis, D. L., et al. (2020). The ODD protocol for describing agent-based "
                 "and other simulation models: a second update to improve clarity, replication, "
                 "and structural realism. Journal of Artificial Societies and Social Simulation "
                 "23(2) 7. doi:10.18564/jasss.4259")

#: The three parts of ODD and the keys of their sections, in order.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Overview", ("purpose", "entities", "process")),
    ("Design concepts", ("design",)),
    ("Details", ("initialization", "input", "submodels")),
)

#: The repository's docs folder (beside the packages in a source checkout or editable install).
_DOCS = Path(__file__).resolve().parent.parent / "docs"

#: The largest data file `describe` hashes (a bigger one is listed with its size only).
_MAX_HASHED = 256 << 20

#: Units by the suffix of a name (twin spec keys carry their unit in the name; rule and
#: policy parameters mostly do too). Longest suffix first.
_UNITS: tuple[tuple[str, str], ...] = (
    ("_eur_per_mwh", "EUR/MWh"), ("_cu_milli", "milli-CU"), ("_mm_s", "mm/s"),
    ("_per_cu", "base units per CU"), ("_per_h", "per hour"), ("_bps", "basis points"),
    ("_ticks", "ticks"), ("_days", "days"), ("_ms", "ms"), ("_mm", "mm"), ("_kw", "kW"),
    ("_mb", "MiB"), ("_hz", "Hz"), ("_cu", "CU"),
)

#: Google-style docstring section headers.
_DOC_SECTIONS = ("Args", "Arguments", "Attributes", "Returns", "Raises", "Yields", "Example",
                 "Examples", "Note", "Notes")


# -- the description ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One named value of a section, with its unit and what it means."""

    name: str
    value: Any
    unit: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "note": self.note}


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of values under named columns."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": list(self.columns),
                "rows": [dict(zip(self.columns, r, strict=True)) for r in self.rows]}


@dataclass(frozen=True, slots=True)
class Section:
    """One element of the description: prose, fields, tables and subsections."""

    key: str
    title: str
    text: str = ""
    fields: tuple[Field, ...] = ()
    tables: tuple[Table, ...] = ()
    subsections: tuple[Section, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "text": self.text,
                "fields": [f.as_dict() for f in self.fields],
                "tables": [t.as_dict() for t in self.tables],
                "subsections": [s.as_dict() for s in self.subsections]}


@dataclass(frozen=True, slots=True)
class Description:
    """The ODD description of one scenario: the model's identity and the seven ODD elements.

    Attributes:
        scenario: the scenario's name.
        sha256: the canonical SHA-256 of the scenario (as `manifest.json` records it).
        twin_id: the twin's id, `kind/name@version+sha256[:12]`.
        identity: the header: what exactly the model is.
        sections: the seven elements, keyed as `PARTS` lists them.
    """

    scenario: str
    sha256: str
    twin_id: str
    identity: Section
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        """The section with `key` (a key of `PARTS`)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        """The description as plain JSON values: the identity, then the sections by key."""
        return {
            "protocol": "ODD",
            "reference": ODD_REFERENCE,
            "scenario": self.scenario,
            "scenario_sha256": self.sha256,
            "twin_id": self.twin_id,
            "identity": self.identity.as_dict(),
            "parts": {part: list(keys) for part, keys in PARTS},
            "sections": {s.key: s.as_dict() for s in self.sections},
        }

    def to_json(self) -> str:
        """The description as JSON text (sections -> text, fields, tables, subsections)."""
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_markdown(self) -> str:
        """The description as a Markdown document."""
        out: list[str] = [f"# ODD model description: {self.scenario}", ""]
        _render_body(self.identity, out)
        by_key = {s.key: s for s in self.sections}
        for part, keys in PARTS:
            out += [f"## {part}", ""]
            for key in keys:
                _render(by_key[key], out, level=3)
        return "\n".join(out).rstrip() + "\n"


def _cell(value: Any) -> str:
    """A value as one Markdown table cell."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "None"
    elif isinstance(value, list | tuple | dict):
        text = f"`{json.dumps(value, ensure_ascii=False)}`"
    else:
        text = str(value)
    return " ".join(text.split()).replace("|", "\\|")


def _render_table(columns: Iterable[str], rows: Iterable[Iterable[Any]], out: list[str]) -> None:
    cols = list(columns)
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "---|" * len(cols))
    for row in rows:
        out.append("| " + " | ".join(_cell(v) for v in row) + " |")
    out.append("")


def _render_body(section: Section, out: list[str]) -> None:
    if section.text:
        out += [section.text.rstrip(), ""]
    if section.fields:
        with_unit = any(f.unit for f in section.fields)
        cols = ("", "value", "unit", "meaning") if with_unit else ("", "value", "meaning")
        rows = [((f"`{f.name}`" if _is_key(f.name) else f.name), f.value,
                 *((f.unit,) if with_unit else ()), f.note) for f in section.fields]
        _render_table(cols, rows, out)
    for table in section.tables:
        if table.title:
            out += [f"*{table.title}*", ""]
        _render_table(table.columns, table.rows, out)


def _render(section: Section, out: list[str], level: int) -> None:
    out += [f"{'#' * min(level, 6)} {section.title}", ""]
    _render_body(section, out)
    for sub in section.subsections:
        _render(sub, out, level + 1)


def _is_key(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][\w.\[\]-]*", name)) and ("." in name or "_" in name)


# -- small readers ------------------------------------------------------------------------------


def scenario_sha256(scenario: Any) -> str:
    """The canonical SHA-256 of a validated scenario: of its JSON dump with sorted keys, the
    bytes `twinecon run` hashes into `manifest.json` (`scenario_sha256`)."""
    config = scenario.model_dump(mode="json")
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _doc(obj: Any) -> str:
    """The cleaned docstring of `obj` ('' if none); a module's docstring for a module."""
    return inspect.cleandoc(obj.__doc__) if getattr(obj, "__doc__", None) else ""


def _split_doc(doc: str) -> tuple[str, dict[str, dict[str, str]]]:
    """A Google-style docstring's prose (before its first section) and its sections' entries
    (`Args:` -> {name: meaning}); an entry naming several (`low, high: ...`) is each's."""
    prose: list[str] = []
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    names: list[str] = []
    for line in doc.splitlines():
        header = re.fullmatch(r"(\w+):\s*", line)
        if header and header.group(1) in _DOC_SECTIONS:
            current = sections.setdefault(header.group(1), {})
            names = []
            continue
        if current is None:
            prose.append(line)
            continue
        entry = re.fullmatch(r" {2,8}([\w*]+(?:, *[\w*]+)*)(?: \([^)]*\))?: ?(.*)", line)
        if entry and not line.startswith(" " * 9):
            names = [n.strip().lstrip("*") for n in entry.group(1).split(",")]
            for n in names:
                current[n] = entry.group(2).strip()
        elif line.strip() and names:
            for n in names:
                current[n] = (current[n] + " " + line.strip()).strip()
    return "\n".join(prose).strip(), sections


def _first_paragraph(doc: str) -> str:
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def _sentences(text: str, *stems: str) -> list[str]:
    """The sentences of `text` that contain a word starting with one of `stems`."""
    flat = " ".join(text.split())
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z*`(\"])", flat):
        if any(re.search(rf"\b{stem}", sentence, re.I) for stem in stems):
            out.append(sentence.strip())
    return out


def _unit(name: str) -> str:
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _human_ms(ms: int) -> str:
    """A duration in ms in the largest whole unit that fits (`60000` -> `1 min`)."""
    for size, unit in ((86_400_000, "d"), (3_600_000, "h"), (60_000, "min"), (1_000, "s")):
        if ms >= size and ms % size == 0:
            return f"{ms // size} {unit}"
    return f"{ms} ms"


def _jsonable(value: Any) -> Any:
    """`value` as a JSON value (tuples as lists; anything else JSON cannot hold as its repr)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def _flatten(value: Any, prefix: str, out: list[tuple[str, Any]], max_list: int = 16) -> None:
    """Dotted keys and scalar values of nested data; a long list is summarised by its length."""
    if isinstance(value, dict):
        if not value:
            out.append((prefix, {}))
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out, max_list)
    elif isinstance(value, list):
        if len(value) > max_list:
            out.append((prefix, f"[{len(value)} items]"))
        elif all(not isinstance(v, dict | list) for v in value) or \
                all(isinstance(v, list) and all(not isinstance(x, dict | list) for x in v)
                    for v in value):
            out.append((prefix, value))
        else:
            for i, v in enumerate(value):
                _flatten(v, f"{prefix}[{i}]", out, max_list)
    else:
        out.append((prefix, value))


def _sha256_file(path: Path) -> str | None:
    try:
        if path.stat().st_size > _MAX_HASHED:
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _enum_notes(cls: type) -> dict[str, str]:
    """The comments beside (or `#:` above) each member of an enum, read from its source."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    notes: dict[str, str] = {}
    above: list[str] = []
    for line in source.splitlines():
        s = line.strip()
        if s.startswith("#:"):
            above.append(s[2:].strip())
            continue
        member = re.match(r"([A-Z][A-Z0-9_]*)\s*=\s*[^#]*?(?:#\s*(.*))?$", s)
        if member:
            notes[member.group(1)] = " ".join([*above, member.group(2) or ""]).strip()
        above = []
    return notes


def _get(data: Any, path: str) -> Any:
    """The value at a dotted path (`agents.2.params.x`), or a sentinel when absent."""
    from scenarios.overrides import value_at

    return value_at(data, path, _ABSENT)


_ABSENT = object()


def _diff(old: Any, new: Any, prefix: str, out: list[tuple[str, Any, Any]]) -> None:
    """Dotted paths where `new` differs from `old`, with both values."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in [*old, *(k for k in new if k not in old)]:
            _diff(old.get(k, None), new.get(k, None), f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(a, b, f"{prefix}.{i}", out)
    elif old != new:
        out.append((prefix, old, new))


# -- the scenario file's own words ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FileView:
    """The scenario file as written: its header comment, its comments by place, its values."""

    header: str
    #: (table, index, key) -> the comment on that key's line; key "" is the table's own
    #: (its header line's, and comment lines in or just above the table).
    notes: dict[tuple[str, int | None, str], str]
    data: dict[str, Any]  # the file's scenario, validated, as JSON values


def _file_view(loaded: LoadedScenario) -> _FileView | None:
    """The scenario file `loaded` came from, or None if it cannot be read back."""
    from scenarios.loading import load_scenario
    from scenarios.schema import MOVED_KEYS

    path = Path(loaded.source)
    if not path.is_file():
        return None
    try:
        original = load_scenario(path)
        text = path.read_text(encoding="utf-8")
    except (ScenarioError, OSError, UnicodeDecodeError):
        return None
    header: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        header.append(lines[i].strip()[1:].removeprefix(" ") if lines[i].strip() else "")
        i += 1
    notes: dict[tuple[str, int | None, str], list[str]] = {}
    table, index = "", None
    counts: dict[str, int] = {}
    pending: list[str] = []
    in_string: str | None = None
    for line in lines[i:]:
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        s = line.strip()
        if s.startswith("#"):
            pending.append(s[1:].strip())
            continue
        if not s:
            continue
        code, comment = _split_comment(s)
        for quote in ('"""', "'''"):
            if code.count(quote) % 2 == 1:
                in_string = quote
        head = re.fullmatch(r"\[\[\s*([^\]]+?)\s*\]\]|\[\s*([^\]]+?)\s*\]", code)
        if head:
            if head.group(1):
                table = head.group(1)
                index = counts.get(table, 0)
                counts[table] = index + 1
            else:
                table, index = head.group(2), None
            notes.setdefault((table, index, ""), []).extend([*pending, *filter(None, [comment])])
            pending = []
            continue
        key = code.split("=", 1)[0].strip().strip("\"'")
        if pending:
            notes.setdefault((table, index, ""), []).extend(pending)
            pending = []
        if comment:
            where = f"{table}.{key}" if table else key
            moved = MOVED_KEYS.get(where)
            t, k = moved.rsplit(".", 1) if moved else (table, key)
            notes.setdefault((t, index if t == table else None, k), []).append(comment)
    return _FileView(header="\n".join(header).strip(),
                     notes={k: " ".join(v) for k, v in notes.items() if v},
                     data=original.scenario.model_dump(mode="json"))


def _split_comment(line: str) -> tuple[str, str]:
    """A TOML line's code and its trailing comment (a '#' inside a string is not one)."""
    quote = ""
    escaped = False
    for i, ch in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i].rstrip(), line[i + 1:].strip()
    return line, ""


class _Notes:
    """The file's comments that still hold: those on values the description has unchanged."""

    def __init__(self, view: _FileView | None, data: dict[str, Any]) -> None:
        self._view = view
        self._data = data

    def key(self, table: str, key: str, path: str | None = None) -> str:
        """The file's comment on `table.key`, if the value there is still the file's."""
        if self._view is None:
            return ""
        note = self._view.notes.get((table, None, key), "")
        path = path or (f"{table}.{key}" if table else key)
        return note if note and self._same(path) else ""

    def table(self, table: str, index: int | None = None, path: str | None = None, *,
              keys: bool = True) -> str:
        """The file's comments on a table (for an array of tables, its `index`-th), if the
        table is still as the file wrote it: its header's and its body's, and (`keys`) those
        on its keys' lines."""
        if self._view is None:
            return ""
        path = path or (table if index is None else f"{table}.{index}")
        if not self._same(path):
            return ""
        parts = [self._view.notes.get((table, index, ""), "")]
        if keys:
            parts += [note for (t, i, k), note in self._view.notes.items()
                      if t == table and i == index and k]
        return " ".join(p.rstrip(".") + "." for p in parts if p)

    def _same(self, path: str) -> bool:
        assert self._view is not None
        old = _get(self._view.data, path)
        return old is not _ABSENT and old == _get(self._data, path)


# -- what the code says -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Policy:
    """What a group's policy is, read from its class (or, isolated, from its source)."""

    ref: str
    builtin: bool
    class_path: str  # module:Class, or file.py:Class
    source: str  # the file it is defined in
    source_sha256: str | None
    module_doc: str
    class_doc: str
    #: constructor parameter -> (its default, or _ABSENT if required; its documented meaning)
    params: dict[str, tuple[Any, str]]
    imported: bool  # False: read without running it (a process-isolated group's own code)
    open_params: bool = False  # its constructor takes **kwargs (any param name)
    #: its money params (annotated `agents.params.BaseUnits`: the scenario writes them in tokens)
    money: frozenset[str] = frozenset()


def _policy(ref: str, loaded: LoadedScenario, key: str, isolated: bool) -> _Policy:
    """The policy a group names, through the builder's registry.

    Raises:
        ScenarioError: the policy cannot be found, naming the group's key.
    """
    from agents.builtin import BUILTIN
    from agents.errors import PolicyLoadError
    from agents.loading import resolve_policy_class

    src = loaded.source
    from agents.remote import is_remote_ref

    if is_remote_ref(ref):
        return _remote_policy(ref)
    if isolated and ref not in BUILTIN:
        return _static_policy(ref, loaded, key)
    try:
        cls = resolve_policy_class(ref, base_dir=loaded.base_dir)
    except PolicyLoadError as e:
        raise ScenarioError(src, key, str(e)) from None
    module = sys.modules.get(cls.__module__)
    try:
        source = inspect.getsourcefile(cls) or ""
    except TypeError:
        source = ""
    if ref in BUILTIN or ":" not in ref or not ref.rpartition(":")[0].endswith(".py"):
        class_path = f"{cls.__module__}:{cls.__qualname__}"
    else:
        class_path = f"{source or ref.rpartition(':')[0]}:{cls.__qualname__}"
    class_doc = _doc(cls)
    _, sections = _split_doc(class_doc)
    meanings = {**sections.get("Args", {}), **sections.get("Arguments", {})}
    params: dict[str, tuple[Any, str]] = {}
    open_params = False
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        signature, open_params = None, True
    if signature is not None:
        for p in signature.parameters.values():
            open_params = open_params or p.kind is p.VAR_KEYWORD
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            default = _ABSENT if p.default is p.empty else _jsonable(p.default)
            params[p.name] = (default, meanings.get(p.name, ""))
    from agents.units import money_params

    return _Policy(ref=ref, builtin=ref in BUILTIN, class_path=class_path, source=source,
                   source_sha256=_sha256_file(Path(source)) if source else None,
                   module_doc=_doc(module) if module is not None else "", class_doc=class_doc,
                   params=params, imported=True, open_params=open_params,
                   money=money_params(cls))


def _remote_policy(ref: str) -> _Policy:
    """A remote or subprocess group's policy: its code is not here to read (nothing is called
    or started by describe); what it is told and may answer is the wire form."""
    where = ("a subprocess speaking JSON lines, started per agent from the command "
             f"`{ref[len('exec:'):]}`" if ref.startswith("exec:")
             else f"a server at {ref}, sent one HTTP POST per agent and tick")
    doc = (f"A policy outside the simulator: {where}. Each tick it receives the agent's "
           "observation in the wire form (twinecon-policy-wire/1, docs/policy-wire.md) with "
           "the group's params, and answers the agent's actions, checked as a "
           "process-isolated policy's; its code, and so its strategy, is not known to the "
           "simulator.")
    return _Policy(ref=ref, builtin=False, class_path=ref, source="", source_sha256=None,
                   module_doc="", class_doc=doc, params={}, imported=True, open_params=True)


def _static_policy(ref: str, loaded: LoadedScenario, key: str) -> _Policy:
    """A process-isolated group's policy, read from its source without running it (its code
    runs only in its worker; `twinecon validate` checks it there)."""
    src = loaded.source
    if ":" not in ref:
        raise ScenarioError(src, key, f"unknown policy {ref!r}; use a built-in, "
                            "'package.module:Class' or 'path/to/file.py:Class'")
    target, _, name = ref.rpartition(":")
    candidates: list[Path] = []
    if target.endswith(".py"):
        if not Path(target).is_absolute():
            candidates.append(loaded.base_dir / target)
        candidates.append(Path(target))
    else:
        rel = Path(*target.split("."))
        for root in [Path.cwd(), *(Path(p) for p in sys.path if p)]:
            candidates += [root / rel.with_suffix(".py"), root / rel / "__init__.py"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise ScenarioError(src, key, f"policy source for {ref!r} not found (looked in "
                            f"{', '.join(str(c) for c in candidates[:4])})")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as e:
        raise ScenarioError(src, key, f"cannot read the policy source {path}: {e}") from None
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if node is None:
        raise ScenarioError(src, key, f"{path} defines no class {name!r}")
    class_doc = inspect.cleandoc(ast.get_docstring(node) or "")
    _, sections = _split_doc(class_doc)
    meanings = sections.get("Args", {})
    params: dict[str, tuple[Any, str]] = {}
    init = next((n for n in node.body if isinstance(n, ast.FunctionDef)
                 and n.name == "__init__"), None)
    open_params = init is None or init.args.kwarg is not None
    money: set[str] = set()  # annotated BaseUnits, as the source spells it
    if init is not None:
        args = [a for a in init.args.posonlyargs + init.args.args][1:]
        defaults = [_ABSENT] * (len(args) - len(init.args.defaults)) + list(init.args.defaults)
        pairs = [*zip(args, defaults, strict=True),
                 *zip(init.args.kwonlyargs, init.args.kw_defaults, strict=True)]
        for arg, default in pairs:
            if default is None or default is _ABSENT:
                value: Any = _ABSENT
            else:
                try:
                    value = _jsonable(ast.literal_eval(default))
                except ValueError:
                    value = ast.unparse(default)
            params[arg.arg] = (value, meanings.get(arg.arg, ""))
            if arg.annotation is not None and re.search(r"\bBaseUnits\b",
                                                        ast.unparse(arg.annotation)):
                money.add(arg.arg)
    resolved = path.resolve()
    return _Policy(ref=ref, builtin=False, class_path=f"{target}:{name}", source=str(resolved),
                   source_sha256=_sha256_file(resolved),
                   module_doc=inspect.cleandoc(ast.get_docstring(tree) or ""),
                   class_doc=class_doc, params=params, imported=False,
                   open_params=open_params, money=frozenset(money))


def _strategies_doc() -> dict[str, dict[str, str]]:
    """docs/strategies.md's table of built-in strategies, by policy name (every name in a
    row's first cell): role, what it decides from, and how."""
    try:
        text = (_DOCS / "strategies.md").read_text(encoding="utf-8")
    except OSError:
        return {}
    rows: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([^`]+)`", cells[0]):
            rows[name] = {"role": cells[1], "decides_from": cells[2], "how": cells[3]}
    return rows


def _strategies_measured() -> tuple[str, list[str]]:
    """docs/strategies.md's "What they do, measured": its intro and its bullets."""
    try:
        text = (_DOCS / "strategies.md").read_text(encoding="utf-8")
    except OSError:
        return "", []
    m = re.search(r"^## What they do, measured\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not m:
        return "", []
    intro: list[str] = []
    items: list[str] = []
    for block in re.split(r"\n(?=- )|\n\n", m.group(1).strip()):
        block = " ".join(block.split())
        if block.startswith("- "):
            items.append(block[2:])
        elif block:
            intro.append(block)
    return " ".join(intro), items


def _phases() -> tuple[list[tuple[int, str, str]], dict[int, list[str]], str]:
    """The phases of a tick as `economy.model` states them: (number, name, what happens),
    the `EconomyModel` methods that run each (their docstrings say `Phase N`), and
    `EconomyModel.step`'s own one-line account."""
    import economy.model as model

    phases: list[tuple[int, str, str]] = []
    for m in re.finditer(r"^(\d+)\. (\w+)\s+(.*(?:\n {4,}.*)*)", _doc(model), re.M):
        phases.append((int(m.group(1)), m.group(2), " ".join(m.group(3).split())))
    runs: dict[int, list[str]] = {}
    for name, fn in inspect.getmembers(model.EconomyModel, inspect.isfunction):
        m = re.match(r"Phases? (\d+)(?:-(\d+))?:", _doc(fn))
        if m:
            for n in range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1):
                runs.setdefault(n, []).append(f"EconomyModel.{name}")
    return phases, runs, _first_paragraph(_doc(model.EconomyModel.step))


def _architecture_runners() -> dict[int, str]:
    """docs/architecture.md's tick table: who runs each phase (its last column)."""
    try:
        text = (_DOCS / "architecture.md").read_text(encoding="utf-8")
    except OSError:
        return {}
    out: dict[int, str] = {}
    for m in re.finditer(r"^\| (\d+) \w+ \|.*\| ([^|]+) \|\s*$", text, re.M):
        out[int(m.group(1))] = m.group(2).strip()
    return out


class _MethodNames:
    """Stands in for a handler instance: each attribute is its own name (to read which method
    `handlers()` maps each action type to, without building the handler)."""

    def __getattr__(self, name: str) -> str:
        return name


def _handlers() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Each market handler (`economy.handlers`): its module, class and the action types it
    takes, with each action's meaning."""
    import pkgutil

    import economy.handlers as handlers

    out = []
    for info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{handlers.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or not callable(getattr(cls, "handlers", None)):
                continue
            try:
                table = cls.handlers(_MethodNames())
            except Exception:  # a handlers() that needs more than attribute names
                continue
            actions = [(kind.__name__, _first_paragraph(_doc(kind))) for kind in table]
            out.append((module.__name__, cls.__name__, actions))
    return out


def _token_contract() -> str:
    """The token's name and symbol as the Token contract initialises them, or ''."""
    import chain

    path = Path(chain.__file__).parent / "contracts" / "Token.vy"
    try:
        m = re.search(r'erc20\.__init__\("([^"]*)",\s*"([^"]*)"', path.read_text("utf-8"))
    except OSError:
        return ""
    return f"{m.group(1)} ({m.group(2)})" if m else ""


# -- building the sections ----------------------------------------------------------------------


@dataclass
class _Context:
    """What every section builder reads."""

    loaded: LoadedScenario
    sc: Any
    data: dict[str, Any]
    digest: str
    view: _FileView | None
    notes: _Notes
    twin: Any
    policies: list[_Policy]
    overrides: list[tuple[str, Any, Any]] = field(default_factory=list)

    def tokens(self, amount: Any) -> str:
        from scenarios.schema import to_base_units

        return f"tokens (= {to_base_units(amount, self.sc.ledger.decimals)} base units)"


def describe(loaded: LoadedScenario) -> Description:
    """The ODD description of a validated scenario (with any overrides already applied).

    Raises:
        ScenarioError: a part of the scenario that cannot be described because the run could
            not build it either (an unknown policy, a twin parameter its builder refuses, a
            combination of rule values no rule allows), naming its key.
    """
    import twinecon

    sc = loaded.scenario
    data = sc.model_dump(mode="json")
    view = _file_view(loaded)
    ctx = _Context(loaded=loaded, sc=sc, data=data, digest=scenario_sha256(sc), view=view,
                   notes=_Notes(view, data), twin=_twin(sc, loaded.source),
                   policies=[_policy(g.policy, loaded, f"agents[{i}].policy",
                                     _limits(sc, g).isolation.value == "process")
                             for i, g in enumerate(sc.agents)])
    _check_rules(sc, loaded.source)
    _check_params(ctx)
    if view is not None:
        _diff(view.data, data, "", ctx.overrides)
    identity = _identity(ctx, twinecon.__version__)
    sections = (_purpose(ctx), _entities(ctx), _process(ctx), _design(ctx),
                _initialization(ctx), _input(ctx), _submodels(ctx))
    return Description(scenario=sc.name, sha256=ctx.digest, twin_id=ctx.twin.twin_id,
                       identity=identity, sections=sections)


def _limits(sc: Any, group: Any) -> Any:
    from scenarios.build import policy_limits

    return policy_limits(sc, group)


def _twin(sc: Any, src: str) -> Any:
    """The scenario's twin, built as `scenarios.build` builds it (the same function).

    Raises:
        ScenarioError: a kind that cannot be loaded or parameters its builder refuses.
    """
    from scenarios.build import _build_twin

    return _build_twin(sc, src)


def _check_rules(sc: Any, src: str) -> None:
    """Refuse rule values no rule allows together, as the builder does."""
    from economy.rules import SECTIONS, RuleError, specs
    from scenarios.schema import to_base_units

    for section, rule in SECTIONS.items():
        table = getattr(sc.rules, section)
        values = {s.name: (to_base_units(getattr(table, s.name), sc.ledger.decimals)
                           if s.unit == "base_units" else getattr(table, s.name))
                  for s in specs(rule)}
        try:
            rule(**values)
        except RuleError as e:
            raise ScenarioError(src, f"rules.{section}", f"{e}; lower one of them") from None


def _check_params(ctx: _Context) -> None:
    """Refuse group params a policy's constructor does not take (as loading it would)."""
    for i, (group, policy) in enumerate(zip(ctx.sc.agents, ctx.policies, strict=True)):
        if policy.open_params:
            continue
        unknown = [k for k in group.params if k not in policy.params]
        if unknown:
            raise ScenarioError(ctx.loaded.source, f"agents[{i}].params",
                                f"policy {group.policy!r} does not take {', '.join(unknown)}; "
                                f"it takes {', '.join(policy.params) or 'no parameters'}")


def _group_name(group: Any) -> str:
    return group.label or group.role


def _identity(ctx: _Context, version: str) -> Section:
    from scenarios.loading import BUILTIN_DIR

    sc = ctx.sc
    source = Path(ctx.loaded.source)
    builtin = source.parent.resolve() == BUILTIN_DIR.resolve() and source.suffix == ".toml"
    fields = [
        Field("scenario", sc.name, note="the scenario's name"),
        Field("source", ctx.loaded.source, note=(
            f"the built-in scenario `{source.stem}`" if builtin else "the scenario file")),
        Field("scenario_sha256", ctx.digest, note=(
            "SHA-256 of the validated scenario's canonical JSON (sorted keys): the digest a "
            "run of this model records in manifest.json")),
        Field("twinecon", version, note="the simulator's version"),
        Field("twin_id", ctx.twin.twin_id, note="kind/name@version+sha256[:12] of the twin's "
              "spec"),
        Field("seed", sc.seed, note="the root of every random stream"),
        Field("ticks", sc.ticks, note="market periods run"),
        Field("ledger", f"{sc.ledger.backend} (signatures {sc.ledger.signatures})",
              note="the backend that runs the money; every backend gives the same numbers"),
    ]
    if ctx.view is None:
        fields.append(Field("overrides", "unknown", note="the scenario's file could not be "
                            "read back to compare"))
    else:
        shown = [f"{p}: {json.dumps(a)} -> {json.dumps(b)}" for p, a, b in ctx.overrides]
        fields.append(Field("overrides", "; ".join(shown) or "none", note=(
            "values that differ from the file (command-line --set and options)")))
    text = (f"Generated by `twinecon describe` from the scenario, the code it runs and the "
            f"twin's spec, following the ODD protocol (Overview, Design concepts, Details) "
            f"as updated by Grimm et al. (2020), JASSS 23(2) 7. A run of this scenario whose "
            f"`manifest.json` records `scenario_sha256` = `{ctx.digest}` is this model.")
    return Section("identity", "Model identity", text=text, fields=tuple(fields))


# -- 1. purpose and patterns --------------------------------------------------------------------


def _markets(ctx: _Context) -> list[tuple[str, str]]:
    """The markets and mechanisms in force: (name, how it is set)."""
    r = ctx.sc.rules
    award = r.award.rule + (f", {r.award.pricing} pricing" if r.award.rule == "scoring" else "")
    clearing = r.compute.clearing
    if clearing == "sealed":
        clearing += f", {r.compute.sealed_pricing} price"
    elif clearing == "call":
        clearing += f", {r.compute.call_pricing} pricing"
    out = [("job market", f"jobs for the twin's requests, escrowed, awarded by `{award}`"),
           ("sim-time market", f"compute units of the twin sold as leases, cleared `{clearing}`"),
           ("evaluation", "evaluators post their least fee; a plan is judged in the twin")]
    if ctx.sc.assets:
        out.append(("IP royalties", f"service payments climb the IP graph of "
                    f"{len(ctx.sc.assets)} assets, mode `{r.royalty.mode}`"))
    if ctx.sc.pools:
        n = len(ctx.sc.pools)
        out.append(("data pools", f"{n} pool{'s' if n > 1 else ''} paid per unit of data used"))
    if r.emission.schedule != "none":
        out.append(("emissions", f"`{r.emission.schedule}` emission every "
                    f"{r.emission.epoch_ticks} ticks for CU delivered"))
    return out


def _purpose(ctx: _Context) -> Section:
    sc = ctx.sc
    twin = ctx.twin
    description = (sc.description or "(no description given)").rstrip(".")
    text = [f"**{sc.name}**: {description}."]
    what = _first_paragraph(_doc(type(twin))).rstrip(".")
    text.append(f"The model is an economy of {sum(g.count for g in sc.agents)} agents in "
                f"{len(sc.agents)} groups trading services evaluated in the `{twin.spec.kind}` "
                f"digital twin `{twin.twin_id}` ({what[:1].lower() + what[1:]}), every "
                f"payment settled on the `{sc.ledger.backend}` ledger in exact integer base "
                "units.")
    if ctx.view is not None and ctx.view.header:
        quoted = "\n".join(f"> {line}" if line else ">" for line in
                           ctx.view.header.splitlines())
        note = (" (written for the file's values; this description applies overrides: see the "
                "model identity)") if ctx.overrides else ""
        text.append(f"The scenario file's own account{note}:\n\n{quoted}")
    subsections = []
    in_use = {g.policy for g in sc.agents}
    table = _strategies_doc()
    responding = [n for n in in_use if n in table and table[n]["decides_from"] not in ("—", "-")]
    intro, measured = _strategies_measured()
    if responding and measured:
        subsections.append(Section(
            "patterns", "Patterns", text=(
                "Patterns the built-in responding strategies in this scenario ("
                + ", ".join(f"`{n}`" for n in sorted(responding))
                + ") are tested to reproduce, as docs/strategies.md reports them: "
                + intro + "\n\n" + "\n".join(f"- {m}" for m in measured))))
    fields = (Field("name", sc.name), Field("description", sc.description),
              Field("twin", twin.twin_id, note=f"kind `{twin.spec.kind}`"),
              *(Field(name, how) for name, how in _markets(ctx)))
    return Section("purpose", "1. Purpose and patterns", text="\n\n".join(text),
                   fields=fields, subsections=tuple(subsections))


# -- 2. entities, state variables and scales ----------------------------------------------------


def _groups_table(ctx: _Context) -> Table:
    rows = []
    start = 0
    for group, policy in zip(ctx.sc.agents, ctx.policies, strict=True):
        name = _group_name(group)
        labels = f"{name}-0" if group.count == 1 else f"{name}-0 to {name}-{group.count - 1}"
        rows.append((name, group.role, group.count, group.policy, policy.class_path,
                     f"{group.balance} tokens", labels,
                     f"{start}" if group.count == 1 else f"{start}-{start + group.count - 1}"))
        start += group.count
    return Table("", ("group", "role", "count", "policy", "class", "balance each", "agents",
                      "indices"), tuple(rows))


def _group_section(ctx: _Context, i: int) -> Section:
    from economy.roles import FlowClass, Role

    group = ctx.sc.agents[i]
    policy = ctx.policies[i]
    limits = _limits(ctx.sc, group)
    role_notes = _enum_notes(Role)
    name = _group_name(group)
    fields = [
        Field("label", name),
        Field("role", group.role, note=role_notes.get(group.role.upper(), "")),
        Field("provider class", FlowClass.of(Role(group.role)).value,
              note="the class its income and spending count under in flows.parquet"),
        Field("count", group.count),
        Field("policy", group.policy, note="built-in name" if policy.builtin else
              "the scenario's reference"),
        Field("class", policy.class_path, note=(
            f"source {policy.source}" + (f", sha256 {policy.source_sha256}"
                                         if policy.source_sha256 else ""))),
        Field("balance", group.balance, unit=ctx.tokens(group.balance),
              note="minted to each agent at genesis"),
        Field("isolation", limits.isolation.value, note=(
            "runs in the simulator's process" if limits.isolation.value == "inprocess" else
            "runs in a worker process of its own (its code is not imported by describe)")),
        Field("time_limit_ms", limits.time_limit_ms, unit="ms",
              note="wall time one policy call may take (0: no limit)"),
    ]
    if limits.isolation.value == "process":
        fields.append(Field("memory_limit_mb", limits.memory_limit_mb, unit="MiB"))
    rows = []
    for key, value in group.params.items():
        default, meaning = policy.params.get(key, (_ABSENT, ""))
        unit = (_money_unit(ctx, value) if key in policy.money
                else _param_unit(ctx, key, value, meaning))
        rows.append((key, value, unit, "scenario", meaning))
    for key, (default, meaning) in policy.params.items():
        if key not in group.params:
            shown = "(required)" if default is _ABSENT else default
            rows.append((key, shown, _param_unit(ctx, key, default, meaning), "default",
                         meaning))
    tables = (Table("parameters (set by the scenario, and the constructor's defaults in force)",
                    ("param", "value", "unit", "from", "meaning"), tuple(rows)),) if rows else ()
    note = ctx.notes.table("agents", i)
    text = f"The scenario file says: {note}" if note else ""
    return Section(f"group-{i}", f"Group `{name}`: {group.count} x {group.role}, policy "
                   f"`{group.policy}`", text=text, fields=tuple(fields), tables=tables)


def _money_unit(ctx: _Context, value: Any) -> str:
    """The unit of a money param as the scenario writes it (`agents.units`): tokens (an int,
    "0.05", "0.05 tokens"), with its base units, or base units ("<n> base units")."""
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9][0-9_]*\s*base\s+units?\s*", value):
        return "base units"
    try:
        return ctx.tokens(value)
    except ValueError:
        return "tokens"


def _param_unit(ctx: _Context, key: str, value: Any, meaning: str) -> str:
    if isinstance(value, str) and re.fullmatch(r"\s*[0-9][0-9_]*(?:\.[0-9_]+)?\s*tokens?\s*",
                                               value):
        try:
            return ctx.tokens(value.strip().split()[0])
        except ValueError:
            return "tokens"
    unit = _unit(key)
    if unit:
        return unit
    lowered = meaning.lower()
    for phrase, unit in (("base units", "base units"), ("basis points", "basis points"),
                         ("compute units", "CU"), ("ticks", "ticks")):
        if phrase in lowered:
            return unit
    return ""


def _ledger_section(ctx: _Context) -> Section:
    from scenarios.schema import LedgerSection

    led = ctx.sc.ledger
    desc = {k: (f.description or "") for k, f in LedgerSection.model_fields.items()}
    fields = [
        Field("ledger.backend", led.backend, note=desc["backend"]),
        Field("ledger.signatures", led.signatures, note=desc["signatures"]),
        Field("ledger.chain_id", led.chain_id, note="the EVM chain id actions are signed for"),
        Field("ledger.decimals", led.decimals, note="decimals of the token: one token is "
              f"10^{led.decimals} base units"),
        Field("ledger.supply_cap", led.supply_cap, unit=ctx.tokens(led.supply_cap),
              note=desc["supply_cap"]),
    ]
    token = _token_contract()
    if token:
        fields.insert(4, Field("token", token, note="name and symbol in the Token contract "
                               "(chain/contracts/Token.vy)"))
    if led.rpc_url:
        fields.append(Field("ledger.rpc_url", led.rpc_url, note=desc["rpc_url"]))
    fields = [_with_note(f, ctx.notes.key("ledger", f.name.removeprefix("ledger.")))
              for f in fields]
    return Section("ledger", "The ledger", text=(
        "Every transfer of value is a ledger operation signed by its agent's key (EIP-712, "
        "next nonce); the ledger's invariants (sum of balances = supply = minted - burned, "
        "escrow = live budgets, no negative balance) hold after every tick."), fields=tuple(
            fields))


def _with_note(f: Field, note: str) -> Field:
    """`f` with the file's comment on its value appended to its meaning."""
    return Field(f.name, f.value, f.unit, f"{f.note} (file: {note})".strip()) if note else f


def _spec_rows(spec: Any) -> list[tuple[str, Any, str]]:
    flat: list[tuple[str, Any]] = []
    _flatten(spec.body, "", flat)
    return [(k, v, _unit(k.rsplit(".", 1)[-1].split("[")[0])) for k, v in flat]


def _twin_section(ctx: _Context) -> Section:
    from scenarios.schema import TwinSection

    sc = ctx.sc
    twin = ctx.twin
    spec = twin.spec
    tiers = [str(getattr(t, "value", t)) for t in twin.tiers]
    l2 = sc.economy.l2_hz
    fields = [
        Field("twin_id", twin.twin_id),
        Field("kind", spec.kind), Field("name", spec.name), Field("version", spec.version),
        Field("spec sha256", spec.sha256, note="of the spec's canonical JSON"),
        Field("class", f"{type(twin).__module__}:{type(twin).__qualname__}"),
        Field("engine_version", spec.body.get("engine_version", "")),
        Field("tiers", tiers, note="fidelity tiers it evaluates at"
              + (f"; L2 at {l2} Hz ([economy] l2_hz)" if l2 else "")),
        Field("tiers in use", _tiers_in_use(ctx), note=(
            "the groups' `tier` parameters (None: the job's own tier)")),
        Field("solvers", list(twin.solvers), note=f"reference solvers; the baseline is "
              f"`{twin.baseline_method}`"),
        Field("twin.licence_per_cu", sc.twin.licence_per_cu,
              unit=ctx.tokens(sc.twin.licence_per_cu),
              note=TwinSection.model_fields["licence_per_cu"].description or ""),
    ]
    for key, value in sc.twin.params.items():
        fields.append(Field(f"twin.params.{key}", _jsonable(value), unit=_unit(key),
                            note=ctx.notes.key("twin.params", key)))
    return Section("twin", f"The twin `{twin.twin_id}`", text=(
        "Its spec's parameters follow in Submodels (7.1); units are in the keys' names."),
        fields=tuple(fields))


def _tiers_in_use(ctx: _Context) -> str:
    """Each group's `tier` parameter (set or default), where its policy takes one."""
    out = []
    for group, policy in zip(ctx.sc.agents, ctx.policies, strict=True):
        if "tier" in group.params:
            out.append(f"{_group_name(group)}: {group.params['tier']}")
        elif "tier" in policy.params and policy.params["tier"][0] is not _ABSENT:
            out.append(f"{_group_name(group)}: {policy.params['tier'][0]} (default)")
    return "; ".join(out) or "L1 (no group chooses a tier)"


def _rules_summary(ctx: _Context) -> Table:
    from economy.rules import SECTIONS, specs

    rows = []
    for section, rule in SECTIONS.items():
        table = getattr(ctx.sc.rules, section)
        values = ", ".join(f"{s.name} = {json.dumps(getattr(table, s.name))}"
                           for s in specs(rule))
        rows.append((f"[rules.{section}]", values, _first_paragraph(_doc(rule))))
    return Table("", ("table", "values", "rule"), tuple(rows))


def _scales(ctx: _Context) -> Section:
    sc = ctx.sc
    tick_ms = sc.economy.tick_ms
    note = ctx.notes.key("economy", "tick_ms")
    fields = [
        Field("ticks", sc.ticks, note="market periods; tick 0 is genesis"),
        Field("economy.tick_ms", tick_ms, unit="ms", note=(
            f"one tick is {_human_ms(tick_ms)} of twin time" + (f" (file: {note})" if note
                                                                else ""))),
        Field("horizon", ctx.sc.ticks * tick_ms, unit="ms",
              note=f"{_human_ms(sc.ticks * tick_ms)} of twin time in all"),
    ]
    r = sc.rules
    fields += [
        Field("rules.compute.lease_ticks", r.compute.lease_ticks, unit="ticks",
              note="a lease's life"),
        Field("rules.escrow.min_expiry", r.escrow.min_expiry, unit="ticks",
              note="the shortest job expiry"),
        Field("economy.order_lapse_ticks", sc.economy.order_lapse_ticks, unit="ticks",
              note="an unposted request lapses after this (0: never)"),
    ]
    if r.emission.schedule != "none":
        fields.append(Field("rules.emission.epoch_ticks", r.emission.epoch_ticks,
                            unit="ticks", note="an emission epoch"))
    spatial: list[Field] = []
    layout = ctx.twin.spec.body.get("layout")
    if isinstance(layout, dict) and isinstance(layout.get("nodes"), list):
        spatial.append(Field("layout", f"{len(layout['nodes'])} nodes, "
                             f"{len(layout.get('edges', []))} edges",
                             note=f"the twin's graph ({layout.get('format', '')})"))
    for key, value, unit in _spec_rows(ctx.twin.spec):
        last = key.rsplit(".", 1)[-1]
        if key.startswith("layout") or not isinstance(value, int | str):
            continue
        if unit in ("mm", "mm/s") or last.startswith(("n_", "grid_")) or last == "depot":
            spatial.append(Field(f"spec.{key}", value, unit=unit))
    if not spatial:
        spatial.append(Field("space", "none", note="the twin's spec declares no layout, "
                             "length or count of places"))
    return Section("scales", "Scales", text=(
        f"Time: one tick is one market period, {_human_ms(tick_ms)} of twin time "
        f"(`tick_ms` = {tick_ms}). Space: the twin's, as its spec gives it."),
        fields=tuple(fields), tables=(Table("spatial scale (from the twin's spec)",
                                            ("", "value", "unit", "meaning"),
                                            tuple((f.name, f.value, f.unit, f.note)
                                                  for f in spatial)),))


def _entities(ctx: _Context) -> Section:
    from economy.observation import Observation
    from economy.tables import AGENTS_SCHEMA
    from scenarios.schema import EconomySection, PoliciesSection

    sc = ctx.sc
    _, obs = _split_doc(_doc(Observation))
    state = ", ".join(f"`{n}`" for n in AGENTS_SCHEMA.names if n != "tick")
    agents = Section("agents", "Agents", text=(
        f"{sum(g.count for g in sc.agents)} agents in {len(sc.agents)} groups. Each agent has "
        "a keypair identity derived from the seed and its index, a token wallet on the "
        "ledger, a role, and its own instance of its group's policy. State recorded per "
        f"agent (agents.parquet): {state}; what it observes each tick is listed under "
        "Sensing (4.7)" + (f"; its observation holds {len(obs.get('Attributes', {}))} "
                          "fields" if obs.get("Attributes") else "") + "."),
        tables=(_groups_table(ctx),),
        subsections=tuple(_group_section(ctx, i) for i in range(len(sc.agents))))
    econ_desc = {k: (f.description or "") for k, f in EconomySection.model_fields.items()}
    econ = []
    for key, value in sc.economy.model_dump(mode="json").items():
        unit = ctx.tokens(value) if key in ("time_value_per_h", "compute_cost_per_cu") \
            else _unit(key)
        if key == "time_value_per_h":
            unit = unit.replace("tokens", "tokens per hour")
        note = econ_desc.get(key, "")
        file_note = ctx.notes.key("economy", key)
        econ.append(Field(f"economy.{key}", value, unit=unit,
                          note=f"{note} (file: {file_note})" if file_note else note))
    pol = sc.policies
    pol_desc = {k: (f.description or "") for k, f in PoliciesSection.model_fields.items()}
    econ += [Field(f"policies.{k}", v, unit=_unit(k), note=pol_desc.get(k, ""))
             for k, v in pol.model_dump(mode="json").items()]
    markets = Section("markets", "Markets and rules in force", text=(
        "Every `[rules.*]` table is in force (at its defaults where the scenario sets "
        "nothing); each rule's parameters, units and meanings are in Submodels (7)."),
        fields=tuple(Field(n, h) for n, h in _markets(ctx)), tables=(_rules_summary(ctx),))
    ip: list[Section] = []
    if sc.assets or sc.pools:
        ip.append(Section("ip", "IP assets and data pools", tables=tuple(t for t in (
            Table("assets (the royalty graph)", ("key", "kind", "owner", "royalty_bps",
                                                  "parents", "file note"),
                  tuple((a.key, a.kind, a.owner or "(the twin's owner)", a.royalty_bps,
                         a.parents, ctx.notes.table("assets", i))
                        for i, a in enumerate(sc.assets))) if sc.assets else None,
            Table("pools", ("key", "owner", "price_per_unit", "owner_fee_bps", "file note"),
                  tuple((p.key, p.owner, f"{p.price_per_unit} tokens", p.owner_fee_bps,
                         ctx.notes.table("pools", i)) for i, p in enumerate(sc.pools)))
            if sc.pools else None) if t is not None)))
    return Section("entities", "2. Entities, state variables and scales", text=(
        "Entities: the agents (by group), the ledger that holds every balance, stake, escrow "
        "and asset, the twin the services are evaluated in, and the markets that match them. "
        "Global settings of the economy:"), fields=tuple(econ), subsections=(
            agents, _ledger_section(ctx), _twin_section(ctx), markets, *ip, _scales(ctx)))


# -- 3. process overview and scheduling --------------------------------------------------------


def _process(ctx: _Context) -> Section:
    phases, runs, step = _phases()
    runners = _architecture_runners()
    rows = []
    for n, name, what in phases:
        who = [f"`{m}`" for m in runs.get(n, [])]
        who += [w for w in (x.strip() for x in runners.get(n, "").split(",")) if w and w not in who]
        rows.append((n, name, what, ", ".join(who)))
    r = ctx.sc.rules
    econ = ctx.sc.economy
    fields = [
        Field("order of agents", "a seeded random permutation each tick (stream MARKET)",
              note="the order decisions are resolved in (phase resolve)"),
        Field("sim-time clearing", "at once, when bought" if r.compute.clearing == "posted"
              else "at the end of the tick (phase clear)",
              note=f"[rules.compute] clearing = {r.compute.clearing}"),
        Field("evaluation results", "delivered the next tick",
              note="results bought with Simulate arrive in the next observation"),
        Field("emissions", "none" if r.emission.schedule == "none" else
              f"every {r.emission.epoch_ticks} ticks (phase account)",
              note=f"[rules.emission] schedule = {r.emission.schedule}"),
        Field("spot checks", f"{r.compute.spot_check_bps} bps of usage claims re-metered",
              note="at claims (phase clear)"),
        Field("agents.parquet", "every tick" if econ.agents_every == 1 else
              ("at the end" if econ.agents_every == 0 else
               f"every {econ.agents_every} ticks"), note="economy.agents_every"),
        Field("invariants", "checked every tick" if econ.debug_invariants else "not checked",
              note="economy.debug_invariants"),
    ]
    actions = [(module.rsplit(".", 1)[-1], f"`{cls}`", action, doc)
               for module, cls, acts in _handlers() for action, doc in acts]
    return Section("process", "3. Process overview and scheduling", text=(
        "Time is discrete: one tick is one market period. Each tick runs these phases in "
        f"order, as `economy.model` states them (`EconomyModel.step`: \"{step}\"):"),
        tables=(Table("", ("phase", "name", "what happens", "run by"), tuple(rows)),
                Table("actions a policy may return (phase act), each taken by one market "
                      "handler in phase resolve (economy.handlers)",
                      ("market", "handler", "action", "meaning"), tuple(actions))),
        subsections=(Section("scheduling", "Scheduling in this scenario",
                             fields=tuple(fields)),))


# -- 4. design concepts -------------------------------------------------------------------------


def _distinct_policies(ctx: _Context) -> list[tuple[_Policy, list[str]]]:
    seen: dict[str, tuple[_Policy, list[str]]] = {}
    for group, policy in zip(ctx.sc.agents, ctx.policies, strict=True):
        key = policy.class_path
        if key not in seen:
            seen[key] = (policy, [])
        seen[key][1].append(f"{_group_name(group)} ({group.count})")
    return list(seen.values())


def _design(ctx: _Context) -> Section:
    import dataclasses

    from economy.observation import Observation
    from economy.summary import RunSummary
    from economy.tables import TICKS_SCHEMA
    from scenarios.run import OUTPUTS
    from twinecon.seeds import Stream

    sc = ctx.sc
    table = _strategies_doc()
    policies = _distinct_policies(ctx)

    def name_of(p: _Policy) -> str:
        return f"`{p.ref}`"

    def spec_text(p: _Policy) -> str:
        return "\n\n".join(d for d in (p.module_doc, _split_doc(p.class_doc)[0]) if d)

    r = sc.rules
    principles = [f"- {name_of(p)} ({', '.join(g)}): "
                  + (table[p.ref]["how"] + ". " if p.ref in table else "")
                  + _first_paragraph(p.module_doc or p.class_doc)
                  for p, g in policies]
    principles.append(f"- The job market awards by `{r.award.rule}`: "
                      f"{_first_paragraph(_rule_doc('award'))}")
    principles.append(f"- Sim time is cleared `{r.compute.clearing}`: "
                      f"{_clearing_doc(r.compute.clearing)}")
    emergent = [n for n in TICKS_SCHEMA.names if n != "tick"]
    adaptation = []
    for p, _ in policies:
        row = table.get(p.ref)
        if row:
            adaptive = row["decides_from"] not in ("—", "-")
            adaptation.append(f"- {name_of(p)}: " + (f"decides from {row['decides_from']}; "
                              f"{row['how']}" if adaptive else f"scripted: {row['how']}"))
        else:
            summary = _first_paragraph(p.class_doc) or "see its specification (4.12)"
            adaptation.append(f"- {name_of(p)}: {summary}")
    objectives = [f"- {name_of(p)}: {_first_paragraph(p.module_doc or p.class_doc)}"
                  for p, _ in policies]

    def by_words(*stems: str) -> list[str]:
        out = []
        for p, _ in policies:
            found = _sentences(spec_text(p), *stems)
            out.append(f"- {name_of(p)}: " + (" ".join(found) if found else
                                             "none stated in its specification"))
        return out

    _, obs = _split_doc(_doc(Observation))
    sensing = [f"- `{k}`: {v}" for k, v in obs.get("Attributes", {}).items()]
    streams = _enum_notes(Stream)
    n_customers = sum(g.count for g in sc.agents if g.role == "customer")
    n_agents = sum(g.count for g in sc.agents)
    used = {"DEMAND": f"{n_customers} customer streams", "MARKET": "one stream",
            "POLICY": f"{n_agents} agent streams", "SHIFT": f"one per tick ({sc.ticks})",
            "SPOT_CHECK": ("in use" if r.compute.spot_check_bps else
                           "unused: rules.compute.spot_check_bps = 0"),
            "POLICY_RESET": f"{n_agents} seeds", "IDENTITY": f"{n_agents} agent keys + 3 "
            "system keys"}
    stoch_rows = tuple((m.name, int(m), streams.get(m.name, ""), used.get(m.name, ""))
                       for m in Stream)
    summary_fields = [f.name for f in dataclasses.fields(RunSummary)]
    concepts = [
        ("principles", "4.1 Basic principles", "\n".join(principles)),
        ("emergence", "4.2 Emergence", (
            "Imposed by the scenario: the rules in force, the twin, the groups' policies and "
            "parameters, the genesis balances. Emergent from the agents' interaction, and "
            "recorded every tick (ticks.parquet): " + ", ".join(f"`{n}`" for n in emergent)
            + ".")),
        ("adaptation", "4.3 Adaptation", "\n".join(adaptation)),
        ("objectives", "4.4 Objectives", "\n".join(objectives)),
        ("learning", "4.5 Learning", "\n".join(by_words("learn"))),
        ("prediction", "4.6 Prediction", "\n".join(by_words("expect", "predict",
                                                            "estimat"))),
        ("sensing", "4.7 Sensing", (
            "Every agent observes, each tick, an immutable `Observation` "
            "(economy.observation), the same rules for all and its own wallet, jobs and "
            "generator:\n\n" + "\n".join(sensing)
            + ("\n\nWhat each built-in strategy reads off it (docs/strategies.md):\n\n"
               + "\n".join(f"- `{p.ref}`: {table[p.ref]['decides_from']}"
                           for p, _ in policies if p.ref in table)
               if any(p.ref in table for p, _ in policies) else ""))),
        ("interaction", "4.8 Interaction", (
            "Agents interact only through the markets and the ledger, never directly: "
            + "; ".join(f"{n}: {h}" for n, h in _markets(ctx))
            + ". The actions each market takes are listed in 3.")),
        ("stochasticity", "4.9 Stochasticity", (
            f"Every random draw comes from one seed tree rooted at the seed ({sc.seed}), "
            "`twinecon.seeds.SeedTree`: each stream is keyed by a member of `Stream` and "
            "indices, so adding an agent or a tick shifts no other stream. A twin's own "
            "conditions for an evaluation seed come from `twin_sequence(seed, "
            "spec.sha256)`. Nothing reads numpy's or Python's global random state.")),
        ("collectives", "4.10 Collectives", (
            "No collective acts as a unit: each agent runs its own instance of its group's "
            "policy. Agents are grouped for reporting by scenario group ("
            + ", ".join(f"`{_group_name(g)}`" for g in sc.agents)
            + "; summary.json `pnl_by_group`, `time_ratio_by_provider_group`) and by provider "
            "class (flows.parquet `payer_class`, `payee_class`).")),
        ("observation", "4.11 Observation", (
            f"A run writes {', '.join(f'`{o}`' for o in OUTPUTS)}. Balances are recorded "
            + ("every tick" if sc.economy.agents_every == 1 else
               "at the end" if sc.economy.agents_every == 0 else
               f"every {sc.economy.agents_every} ticks")
            + ". summary.json holds: " + ", ".join(f"`{n}`" for n in summary_fields) + ".")),
    ]
    subsections = []
    for key, title, text in concepts:
        tables: tuple[Table, ...] = ()
        if key == "stochasticity":
            tables = (Table("the seed tree's streams", ("stream", "key", "drives",
                                                         "in this scenario"), stoch_rows),)
        if key == "observation":
            tables = (_columns_table(),)
        subsections.append(Section(key, title, text=text, tables=tables))
    specs = []
    for p, groups in policies:
        fields = (Field("policy", p.ref), Field("class", p.class_path),
                  Field("groups", ", ".join(groups)),
                  Field("source", p.source, note=f"sha256 {p.source_sha256}"
                        if p.source_sha256 else ""))
        text = spec_text(p) or "(its class and module have no docstring)"
        if not p.imported:
            text += "\n\n(Read from its source without importing it: the group runs in a " \
                    "worker process.)"
        specs.append(Section(f"strategy-{p.ref}", f"Strategy `{p.ref}`", text=text,
                             fields=fields))
    subsections.append(Section("strategies", "4.12 Strategies in force", text=(
        "Each policy's specification, its module's and class's docstrings:"),
        subsections=tuple(specs)))
    return Section("design", "4. Design concepts", subsections=tuple(subsections))


def _columns_table() -> Table:
    """The columns of every table a run writes: each `<name>.parquet` of the run's outputs,
    its schema `<NAME>_SCHEMA` as the economy declares it."""
    from scenarios.run import OUTPUTS

    modules = [importlib.import_module(m) for m in ("economy.tables", "economy.accounting",
                                                     "economy.model")]
    rows = []
    for output in OUTPUTS:
        stem, _, ext = output.partition(".")
        if ext != "parquet":
            continue
        schema = next((getattr(m, f"{stem.upper()}_SCHEMA") for m in modules
                       if hasattr(m, f"{stem.upper()}_SCHEMA")), None)
        rows.append((output, ", ".join(schema.names) if schema is not None else
                     "(its schema is not declared in economy.tables)"))
    return Table("columns recorded", ("file", "columns"), tuple(rows))


def _rule_doc(section: str) -> str:
    from economy.rules import SECTIONS

    rule = SECTIONS[section]
    return _doc(sys.modules[rule.__module__])


def _mechanism_module(clearing: str) -> Any:
    """The `economy.mechanisms` module a clearing rule clears with (named after it)."""
    import pkgutil

    import economy.mechanisms as mechanisms

    for info in pkgutil.iter_modules(mechanisms.__path__):
        if not info.name.startswith("_") and info.name.startswith(clearing):
            return importlib.import_module(f"{mechanisms.__name__}.{info.name}")
    return None


def _clearing_doc(clearing: str) -> str:
    from economy.rules import ClearingRule

    notes = _enum_notes(ClearingRule)
    return next((notes[m.name] for m in ClearingRule if m.value == clearing
                 and m.name in notes), clearing)


# -- 5. initialization; 6. input data -----------------------------------------------------------


def _initialization(ctx: _Context) -> Section:
    import economy.genesis as genesis
    from scenarios.schema import to_base_units
    from twinecon.seeds import SYSTEM_INDEX

    sc = ctx.sc
    dec = sc.ledger.decimals
    rows = []
    total = 0
    for group in sc.agents:
        each = to_base_units(group.balance, dec)
        total += each * group.count
        rows.append((_group_name(group), group.count, f"{group.balance} tokens", each,
                     each * group.count))
    stake = sc.rules.compute.min_stake
    n_compute = sum(g.count for g in sc.agents if g.role == "compute")
    world = next(g for g in sc.agents if g.role == "world") if any(
        g.role == "world" for g in sc.agents) else None
    fields = [
        Field("seed", sc.seed, note="the root of every random stream and of every key"),
        Field("minted at genesis", total, unit="base units",
              note=f"of a supply cap of {to_base_units(sc.ledger.supply_cap, dec)}"),
        Field("rules.compute.min_stake", stake, unit=ctx.tokens(stake), note=(
            f"staked from each of the {n_compute} compute agents' balance at genesis")),
        Field("twin owner", f"{_group_name(world)}-0" if world else "(none)",
              note=f"registers `{ctx.twin.twin_id}` at genesis, licence "
                   f"{sc.twin.licence_per_cu} tokens per CU"),
        Field("system accounts", ", ".join(SYSTEM_INDEX), note=(
            "keys derived from the seed at indices " + ", ".join(
                str(v) for v in SYSTEM_INDEX.values()))),
        Field("agent keys", "derived from the seed and each agent's index (stream IDENTITY)"),
        Field("policy reset", "each policy's reset(seed) gets a seed of stream POLICY_RESET"),
        Field("assets", len(sc.assets), note="registered, then linked (the royalty graph)"),
        Field("pools", len(sc.pools), note="opened for their owners"),
    ]
    text = (f"Genesis is tick 0. {_first_paragraph(_doc(genesis.run_genesis))} No market "
            "state exists before tick 1: no orders, jobs, offers or leases.")
    return Section("initialization", "5. Initialization", text=text, fields=tuple(fields),
                   tables=(Table("genesis balances", ("group", "count", "balance each",
                                                      "base units each", "base units in all"),
                                 tuple(rows)),))


def _input(ctx: _Context) -> Section:
    sc = ctx.sc
    files: list[tuple[str, str, Any, str]] = []
    base = ctx.loaded.base_dir

    def scan(value: Any, key: str) -> None:
        if isinstance(value, str) and 0 < len(value) < 1024 and "\x00" not in value:
            for path in ([base / value] if not Path(value).is_absolute() else []) + \
                    [Path(value)]:
                try:
                    if path.is_file():
                        files.append((key, str(path.resolve()), path.stat().st_size,
                                      _sha256_file(path) or "(not hashed: too large)"))
                        return
                except OSError:
                    return
        elif isinstance(value, dict):
            for k, v in value.items():
                scan(v, f"{key}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                scan(v, f"{key}[{i}]")

    for i, group in enumerate(sc.agents):
        scan(group.params, f"agents[{i}].params")
    scan(sc.twin.params, "twin.params")
    code = [(f"agents[{i}].policy", p.source, p.source_sha256 or "")
            for i, p in enumerate(ctx.policies) if not p.builtin]
    request = [(k, v) for k, v in ctx.twin.spec.body.items()
               if isinstance(v, dict) and "rate_per_h" in v]
    process = "; ".join(f"`{k}`: " + ", ".join(f"{a} = {json.dumps(b)}" for a, b in v.items()
                                               if not isinstance(b, dict | list))
                        for k, v in request)
    text = ("Data files: none. " if not files else
            f"Data files referenced by the scenario: {len(files)} (below). ")
    text += ("Exogenous drivers are not read from data: each customer's requests are drawn "
             "from the twin's request process on its own stream (DEMAND), and the twin's "
             "conditions from the evaluation seed of each tick (SHIFT)"
             + (f"; the spec's request process: {process}" if process else "") + ".")
    tables = []
    if files:
        tables.append(Table("data files", ("key", "path", "bytes", "sha256"), tuple(files)))
    if code:
        tables.append(Table("policy code read from outside the simulator",
                            ("key", "path", "sha256"), tuple(code)))
    return Section("input", "6. Input data", text=text, tables=tuple(tables))


# -- 7. submodels -------------------------------------------------------------------------------


def _rule_table(ctx: _Context, section: str) -> Table:
    from economy.rules import SECTIONS, specs

    table = getattr(ctx.sc.rules, section)
    rows = []
    for s in specs(SECTIONS[section]):
        value = getattr(table, s.name)
        unit = {"bps": "basis points", "ticks": "ticks", "": ""}.get(s.unit, "")
        if s.unit == "base_units":
            unit = ctx.tokens(value)
        bounds = (" or ".join(s.choices) if s.choices else
                  "" if s.kind is bool else
                  f"{'' if s.ge is None else s.ge}..{'' if s.le is None else s.le}")
        note = ctx.notes.key(f"rules.{section}", s.name)
        rows.append((f"rules.{section}.{s.name}", value, unit, s.default, bounds,
                     f"ledger ({s.ledger})" if s.ledger else "economy",
                     s.doc + (f" (file: {note})" if note else "")))
    return Table(f"[rules.{section}]", ("key", "value", "unit", "default", "allowed",
                                         "enforced by", "meaning"), tuple(rows))


def _rule_section(ctx: _Context, section: str, title: str, extra: str = "",
                  tables: tuple[Table, ...] = ()) -> Section:
    from economy.rules import SECTIONS

    rule = SECTIONS[section]
    doc = "\n\n".join(d for d in (_rule_doc(section), _split_doc(_doc(rule))[0]) if d)
    note = ctx.notes.table(f"rules.{section}", path=f"rules.{section}", keys=False)
    text = doc + (f"\n\n{extra}" if extra else "") + (f"\n\nThe scenario file says: {note}"
                                                       if note else "")
    return Section(f"rules-{section}", title, text=text,
                   tables=(_rule_table(ctx, section), *tables))


def _submodels(ctx: _Context) -> Section:
    import economy.demand as demand
    import economy.emissions as emissions
    import economy.markets.compute as compute_market
    import economy.markets.jobs as jobs
    import economy.welfare as welfare

    twin = ctx.twin
    sc = ctx.sc
    r = sc.rules
    twin_doc = _doc(sys.modules[type(twin).__module__])
    twin_sec = Section("twin", f"7.1 The twin `{twin.spec.kind}` (L1 model)", text=twin_doc,
                       tables=(Table("its spec (twin_id "
                                     f"{twin.twin_id}; units in the keys' names)",
                                     ("key", "value", "unit"),
                                     tuple(_spec_rows(twin.spec))),))
    demand_sec = Section("demand", "7.2 Demand", text=_doc(demand) + "\n\n"
                         + _split_doc(_doc(demand.Demand))[0])
    job_doc = "\n\n".join(d for d in (_doc(jobs), _split_doc(_doc(jobs.JobMarket))[0]) if d)
    job_sec = Section("jobs", "7.3 The job market", text=job_doc, subsections=(
        _rule_section(ctx, "award", "Award rule"),
        _rule_section(ctx, "escrow", "Escrow rule"),
        _rule_section(ctx, "fees", "Fees"),
    ))
    mech = _mechanism_module(r.compute.clearing)
    mech_text = (f"Clearing `{r.compute.clearing}` uses `{mech.__name__}`:\n\n{_doc(mech)}"
                 if mech is not None else "")
    compute_sec = Section("compute", "7.4 The sim-time market", text=_doc(compute_market),
                          subsections=(_rule_section(ctx, "compute", "Compute rule",
                                                     extra=mech_text),))
    royalty = _rule_section(ctx, "royalty", "7.5 Royalties", extra=(
        f"{len(sc.assets)} assets are registered (see 2, IP assets and data pools)."
        if sc.assets else "No asset is registered: no service payment pays royalties."))
    data = _rule_section(ctx, "data", "7.6 Data pools", extra=(
        f"{len(sc.pools)} pool(s) open (see 2, IP assets and data pools)." if sc.pools else
        "No pool is open: no data is sold."))
    emission = _rule_section(ctx, "emission", "7.7 Emissions", extra=(
        _doc(emissions) if r.emission.schedule != "none" else
        "Inactive: schedule = none (nothing is emitted)."))
    welfare_sec = Section("welfare", "7.8 Customers' value and welfare", text=_doc(welfare))
    return Section("submodels", "7. Submodels", text=(
        "Each mechanism in force, with its documentation and its parameter values."),
        subsections=(twin_sec, demand_sec, job_sec, compute_sec, royalty, data, emission,
                     welfare_sec))
