"""Package re-exports imported on first use (PEP 562), so importing a package is cheap.

A package's ``__init__`` names where each public name lives instead of importing it::

    __getattr__, __dir__ = lazy_exports(__name__, {
        "scenarios.build": ("Built", "build"),
        "scenarios.errors": ("ScenarioError",),
    })

``import scenarios`` then loads no submodule; ``scenarios.build``, ``from scenarios import
ScenarioError`` and ``from scenarios import *`` import the submodule that defines the name at
their first use and bind it on the package, so later uses are plain attribute reads. A name
that is also the name of the submodule defining it (``scenarios.build``, the function, in
``scenarios/build.py``) stays the re-exported object after the submodule is imported, as with
eager imports, although the import system binds the submodule on its package.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


class _ShadowedSubmodules(types.ModuleType):
    """A package where a re-exported name is also the name of its defining submodule: when
    the import system binds that submodule on the package, the re-exported object is bound
    instead (what the eager ``from package.name import name`` left there)."""

    shadowed: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if (name in type(self).shadowed and isinstance(value, types.ModuleType)
                and value.__name__ == f"{self.__name__}.{name}"):
            value = getattr(value, name)
        super().__setattr__(name, value)


def lazy_exports(package: str, exports: Mapping[str, Iterable[str]]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for `package` that import each re-exported
    name from its module at the name's first use.

    Args:
        package: the package's ``__name__``.
        exports: the names each module defines that the package re-exports, by the module's
            full name (``"scenarios.build": ("Built", "build")``).

    Returns:
        ``(__getattr__, __dir__)``, to assign at the package's top level.
    """
    source = {name: module for module, names in exports.items() for name in names}
    shadowed = frozenset(n for n, m in source.items() if m == f"{package}.{n}")
    if shadowed:
        sys.modules[package].__class__ = type(
            "Package", (_ShadowedSubmodules,), {"shadowed": shadowed, "__module__": __name__})

    def __getattr__(name: str) -> Any:
        if name not in source:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source[name]), name)
        sys.modules[package].__dict__[name] = value  # later uses are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted({*sys.modules[package].__dict__, *source})

    return __getattr__, __dir__
