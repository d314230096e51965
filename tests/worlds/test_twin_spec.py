"""Tests of TwinSpec, canonical_layout and Receipt."""

from __future__ import annotations

import networkx as nx
import pytest

from twinecon.errors import TwineconError
from worlds import InvalidSpec, Receipt, TwinSpec, WorldError, canonical_layout
from worlds.spec import graph_from_layout
from worlds.warehouse import warehouse_spec


def _spec(**body: object) -> TwinSpec:
    return TwinSpec(kind="toy", name="t", version="1.0.0", body=dict(body))


def test_hash_is_stable_across_builds() -> None:
    """Two builds of the same warehouse spec have the same bytes, hash and id."""
    a, b = warehouse_spec(), warehouse_spec()
    assert a.canonical_json() == b.canonical_json()
    assert a.sha256 == b.sha256
    assert a.id == b.id == f"warehouse/wh-default@1.0.0+{a.sha256[:12]}"


def test_hash_ignores_body_key_order() -> None:
    """Dict insertion order in the body does not change the hash."""
    assert _spec(a=1, b={"x": 1, "y": 2}).sha256 == _spec(b={"y": 2, "x": 1}, a=1).sha256


def test_hash_moves_with_content() -> None:
    """Any change of parameter or storage seed changes the hash."""
    base = warehouse_spec().sha256
    assert warehouse_spec(storage_seed=1).sha256 != base
    assert warehouse_spec(pick_time_ms=6001).sha256 != base
    assert warehouse_spec(version="1.0.1").sha256 != base


def test_canonical_json_format() -> None:
    """Canonical JSON is sorted, compact, ASCII and carries the schema tag."""
    spec = _spec(z=1, a="é")
    assert spec.canonical_json() == (
        b'{"body":{"a":"\\u00e9","z":1},"kind":"toy","name":"t",'
        b'"schema":"twin-spec/1","version":"1.0.0"}'
    )


def test_json_round_trip() -> None:
    """from_json(to_json()) gives an equal spec with the same hash."""
    spec = warehouse_spec(storage="random")
    again = TwinSpec.from_json(spec.to_json())
    assert again == spec
    assert again.sha256 == spec.sha256


def test_float_rejected_naming_the_key_path() -> None:
    """A float anywhere in the body is rejected and the message names its key path."""
    with pytest.raises(InvalidSpec, match=r"body\.picker\.speeds\[1\]"):
        _spec(picker={"speeds": [1, 2.5]})


def test_float_parameter_rejected_by_builder() -> None:
    """warehouse_spec refuses float parameters rather than rounding them."""
    with pytest.raises(InvalidSpec, match="slot_pitch_mm"):
        warehouse_spec(slot_pitch_mm=1000.0)  # type: ignore[arg-type]


def test_errors_share_the_root() -> None:
    """InvalidSpec is a WorldError, a TwineconError and a ValueError."""
    with pytest.raises(TwineconError):
        _spec(x=None)
    assert issubclass(InvalidSpec, WorldError) and issubclass(InvalidSpec, ValueError)


def test_bad_labels_and_json_rejected() -> None:
    """Kind/name/version must be plain labels; foreign JSON is refused with a fix."""
    with pytest.raises(InvalidSpec, match="version"):
        TwinSpec(kind="toy", name="t", version="1@2", body={})
    with pytest.raises(InvalidSpec, match="twin-spec/1"):
        TwinSpec.from_json('{"schema": "other"}')


def test_body_is_copied() -> None:
    """Mutating the dict passed in does not change the built spec or its hash."""
    body = {"xs": [1, 2]}
    spec = TwinSpec(kind="toy", name="t", version="1", body=body)
    before = spec.sha256
    body["xs"].append(3)
    assert spec.sha256 == before and spec.body == {"xs": [1, 2]}


def _grid(order: list[tuple[int, int]]) -> nx.Graph:
    G = nx.Graph()
    for n in sorted({n for e in order for n in e}, reverse=order[0][0] > 0):
        G.add_node(n, x_mm=n * 10, role="aisle")
    for u, v in order:
        G.add_edge(u, v, length_mm=abs(u - v) * 100)
    return G


def test_canonical_layout_ignores_insertion_order() -> None:
    """The same graph inserted in another node/edge order and orientation gives the same dict."""
    edges = [(0, 1), (1, 2), (2, 3), (0, 3), (1, 3)]
    a = canonical_layout(_grid(edges))
    b = canonical_layout(_grid([(v, u) for u, v in reversed(edges)]))
    assert a == b
    assert [n["id"] for n in a["nodes"]] == [0, 1, 2, 3]
    assert all(e["source"] < e["target"] for e in a["edges"])
    assert a["edges"] == sorted(a["edges"], key=lambda e: (e["source"], e["target"]))


def test_canonical_layout_round_trips() -> None:
    """graph_from_layout inverts canonical_layout up to insertion order."""
    G = _grid([(0, 1), (1, 2), (0, 2)])
    again = graph_from_layout(canonical_layout(G))
    assert nx.utils.graphs_equal(G, again) or canonical_layout(again) == canonical_layout(G)


def test_canonical_layout_rejects_floats_and_non_int_ids() -> None:
    """Float attributes and non-int node ids are refused with the offender named."""
    G = nx.Graph()
    G.add_edge(0, 1, length_mm=1.5)
    with pytest.raises(InvalidSpec, match="length_mm"):
        canonical_layout(G)
    H = nx.Graph()
    H.add_edge("a", "b")
    with pytest.raises(InvalidSpec, match="'a'"):
        canonical_layout(H)


def test_receipt_to_dict() -> None:
    """Receipt.to_dict has exactly the receipt fields with their values."""
    r = Receipt(twin_id="w", tier="L1", hz=0, seed=3, plan_hash="p", cu=9,
                engine_version="e", result_hash="h")
    assert r.to_dict() == {"twin_id": "w", "tier": "L1", "hz": 0, "seed": 3,
                           "plan_hash": "p", "cu": 9, "engine_version": "e",
                           "result_hash": "h"}
