"""The twins a process's environments share: one per (class, spec hash), built on first use.

Building a twin precomputes its shortest paths (Floyd-Warshall), so an environment built
many times on one spec (vectorised training, tests) reuses the twin instead of rebuilding it.
Twins are deterministic and read-only after construction, so sharing one is safe.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from worlds.spec import TwinSpec

__all__ = ["shared_twin"]

T = TypeVar("T")
_SIZE = 8
_TWINS: OrderedDict[tuple[type, str], Any] = OrderedDict()
_DEFAULT_SPECS: dict[Callable[[], TwinSpec], TwinSpec] = {}


def shared_twin(cls: Callable[[TwinSpec], T], spec: TwinSpec | None,
                default: Callable[[], TwinSpec]) -> T:
    """The twin ``cls(spec)``, built once per spec hash (the least recently used of more than
    eight is dropped).

    Args:
        cls: the twin class.
        spec: the spec, or None for ``default()`` (built once).
        default: the kind's spec builder with its defaults.

    Raises:
        InvalidSpec: as ``cls(spec)``.
    """
    if spec is None:
        spec = _DEFAULT_SPECS.get(default) or _DEFAULT_SPECS.setdefault(default, default())
    if not isinstance(spec, TwinSpec):
        return cls(spec)  # the twin says what it needs
    key = (cls, spec.sha256)
    twin = _TWINS.get(key)
    if twin is None:
        twin = _TWINS[key] = cls(spec)
        if len(_TWINS) > _SIZE:
            _TWINS.popitem(last=False)
    else:
        _TWINS.move_to_end(key)
    return twin  # type: ignore[no-any-return]
