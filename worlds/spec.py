"""The content-addressed twin spec: integer-only canonical JSON whose sha256 is the twin's identity.

A `TwinSpec` is what a twin owner registers. Its body holds only ints, strs, bools, lists
and dicts (no floats, so the canonical bytes never depend on float formatting); its id is
``f"{kind}/{name}@{version}+{sha256[:12]}"``: the hash is the identity, the version is for
people. `canonical_layout` turns a networkx graph into a node-link dict that is identical
for the same graph whatever order its nodes and edges were inserted in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from worlds._canon import canonical_bytes
from worlds.errors import InvalidSpec

__all__ = ["SCHEMA", "TwinSpec", "canonical_layout", "graph_from_layout", "require_spec",
           "spec_int"]

SCHEMA = "twin-spec/1"
LAYOUT_FORMAT = "networkx-node-link/1"


def _check_value(value: Any, path: str) -> None:
    """Raise InvalidSpec if `value` holds anything but ints, strs, bools, lists and dicts."""
    if isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        raise InvalidSpec(
            f"spec value at {path} is the float {value!r}; spec bodies hold integers only: "
            "store it as an int with the unit in the key (e.g. '_mm', '_ms', '_bps')"
        )
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidSpec(
                    f"spec key {key!r} under {path} is a {type(key).__name__}; expected a str key"
                )
            _check_value(item, f"{path}.{key}")
        return
    raise InvalidSpec(
        f"spec value at {path} is a {type(value).__name__} ({value!r}); expected an int, str, "
        "bool, list or dict: convert it before building the spec"
    )


#: The longest kind, name or version: a twin is registered on the ledger under its
#: ``kind/name`` and version, strings of at most 64 and 32 bytes there.
MAX_LABEL = 64


def _check_label(label: str, what: str) -> None:
    if not isinstance(label, str) or not label or any(c in label for c in "/@+ "):
        raise InvalidSpec(
            f"spec {what} is {label!r}; expected a non-empty str without '/', '@', '+' or spaces"
        )
    if len(label) > MAX_LABEL:
        raise InvalidSpec(f"spec {what} is {len(label)} characters long; expected at most "
                          f"{MAX_LABEL}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TwinSpec:
    """A versioned, content-addressed description of one twin.

    The body is deep-copied (tuples become lists) when the spec is built, and its canonical
    bytes are computed once; treat `body` as read-only.

    Attributes:
        kind: twin family, e.g. "warehouse".
        name: owner-chosen name, e.g. "wh-default".
        version: semver for people, e.g. "1.0.0".
        body: ints, strs, bools, lists and dicts only.
    """

    kind: str
    name: str
    version: str
    body: dict[str, Any]
    _canonical: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_label(self.kind, "kind")
        _check_label(self.name, "name")
        _check_label(self.version, "version")
        if not isinstance(self.body, dict):
            raise InvalidSpec(
                f"spec body is a {type(self.body).__name__}; expected a dict of ints, strs, "
                "bools, lists and dicts"
            )
        _check_value(self.body, "body")
        # json round trip = deep copy with tuples normalised to lists.
        object.__setattr__(self, "body", json.loads(canonical_bytes(self.body)))
        object.__setattr__(self, "_canonical", canonical_bytes(self._document()))

    def _document(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "body": self.body,
        }

    def canonical_json(self) -> bytes:
        """Return the canonical JSON bytes that the hash is taken over."""
        return self._canonical

    @property
    def sha256(self) -> str:
        """Hex sha256 of `canonical_json()`."""
        return hashlib.sha256(self._canonical).hexdigest()

    @property
    def id(self) -> str:
        """The twin id, ``kind/name@version+sha256[:12]``."""
        return f"{self.kind}/{self.name}@{self.version}+{self.sha256[:12]}"

    def to_json(self) -> str:
        """Return the canonical JSON as a str (round-trips through `from_json`)."""
        return self._canonical.decode("ascii")

    @classmethod
    def from_json(cls, text: str | bytes) -> TwinSpec:
        """Parse a spec from its JSON form.

        Args:
            text: JSON as produced by `to_json` (key order and spacing do not matter).

        Returns:
            The spec; its sha256 equals the original's.

        Raises:
            InvalidSpec: the JSON is malformed, has the wrong schema or lacks a field.
        """
        try:
            doc = json.loads(text)
        except (ValueError, TypeError) as exc:
            raise InvalidSpec(
                f"spec JSON does not parse ({exc}); pass the output of to_json()"
            ) from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            got = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
            raise InvalidSpec(
                f"spec JSON has schema {got!r}; expected {SCHEMA!r}: pass the output of to_json()"
            )
        missing = [k for k in ("kind", "name", "version", "body") if k not in doc]
        if missing:
            raise InvalidSpec(f"spec JSON lacks {missing}; pass the output of to_json()")
        return cls(kind=doc["kind"], name=doc["name"], version=doc["version"], body=doc["body"])


def _check_attrs(attrs: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(attrs):
        value = attrs[key]
        if not isinstance(value, bool | int | str):
            raise InvalidSpec(
                f"layout attribute {key!r} of {where} is {value!r} ({type(value).__name__}); "
                "expected an int (unit in the name, e.g. 'length_mm'), str or bool"
            )
        out[key] = value
    return out


def canonical_layout(G: nx.Graph) -> dict[str, Any]:
    """Turn a graph into canonical node-link form.

    Nodes are sorted by id; undirected edges are oriented (min, max) and sorted. Node ids
    must be ints and attributes ints, strs or bools, so the result hashes the same for the
    same graph built in any insertion order.

    Args:
        G: an `nx.Graph` or `nx.DiGraph` (not a multigraph) with int node ids.

    Returns:
        ``{"format", "directed", "nodes": [{"id", ...attrs}], "edges": [{"source", "target",
        ...attrs}]}``.

    Raises:
        InvalidSpec: multigraph, non-int node id, or a float/other attribute value.
    """
    if G.is_multigraph():
        raise InvalidSpec("layout is a multigraph; expected nx.Graph or nx.DiGraph")
    directed = G.is_directed()
    for n in G.nodes:
        if isinstance(n, bool) or not isinstance(n, int):
            raise InvalidSpec(
                f"layout node id {n!r} is a {type(n).__name__}; expected int node ids: "
                "relabel with nx.convert_node_labels_to_integers"
            )
    nodes = [{**_check_attrs(G.nodes[n], f"node {n}"), "id": n} for n in sorted(G.nodes)]
    edges = []
    for u, v, attrs in G.edges(data=True):
        if not directed and v < u:
            u, v = v, u
        edges.append({**_check_attrs(attrs, f"edge ({u}, {v})"), "source": u, "target": v})
    edges.sort(key=lambda e: (e["source"], e["target"]))
    return {"format": LAYOUT_FORMAT, "directed": directed, "nodes": nodes, "edges": edges}


def graph_from_layout(layout: dict[str, Any]) -> nx.Graph:
    """Rebuild the graph from `canonical_layout` output (inverse up to insertion order).

    Raises:
        InvalidSpec: the dict is not a canonical layout.
    """
    try:
        if layout["format"] != LAYOUT_FORMAT:
            raise InvalidSpec(
                f"layout format is {layout['format']!r}; expected {LAYOUT_FORMAT!r}"
            )
        G: nx.Graph = nx.DiGraph() if layout["directed"] else nx.Graph()
        for node in layout["nodes"]:
            G.add_node(node["id"], **{k: v for k, v in node.items() if k != "id"})
        for edge in layout["edges"]:
            attrs = {k: v for k, v in edge.items() if k not in ("source", "target")}
            G.add_edge(edge["source"], edge["target"], **attrs)
    except (KeyError, TypeError) as exc:
        raise InvalidSpec(
            f"layout lacks or mistypes {exc}; expected the output of canonical_layout()"
        ) from None
    return G


def require_spec(spec: Any, *, kind: str, engine_version: str, twin: str) -> dict[str, Any]:
    """The body of `spec` if it is a TwinSpec of `kind` for `engine_version`.

    Raises:
        InvalidSpec: naming what was given and the spec builder to use (`{kind}_spec()`).
    """
    if not isinstance(spec, TwinSpec) or spec.kind != kind:
        got = spec.kind if isinstance(spec, TwinSpec) else type(spec).__name__
        raise InvalidSpec(f"{twin} needs a TwinSpec of kind {kind!r}, got {got!r}; "
                          f"build one with {kind}_spec()")
    if spec.body.get("engine_version") != engine_version:
        raise InvalidSpec(
            f"spec engine_version is {spec.body.get('engine_version')!r}; this twin runs "
            f"{engine_version!r}: rebuild the spec with this version of {kind}_spec()")
    return spec.body


def spec_int(name: str, value: Any, *, low: int = 1, high: int | None = None) -> int:
    """A spec builder's integer parameter, checked: an int (numpy ints too, not a bool) in
    ``low..high`` (no upper bound if `high` is None).

    Raises:
        InvalidSpec: a float or other type (units are in the name: scale instead), or a
            value out of range, naming the parameter and the range.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidSpec(
            f"{name} is {value!r} ({type(value).__name__}); expected an int "
            "(the unit is in the name, so scale instead of using a float)"
        )
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        raise InvalidSpec(f"{name} is {value}; expected an int {bound}")
    return int(value)
