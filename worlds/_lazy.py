"""Module attributes loaded on first use, so importing a twin package loads no env library.

A twin package binds its PettingZoo factories (``env``, ``parallel_env``, the env class) from
its private ``_env`` module only when one is first asked for: ``import worlds.warehouse``
loads neither pettingzoo nor gymnasium, while ``from worlds.warehouse import env`` and
``pettingzoo.test.max_cycles_test(worlds.warehouse)`` see the functions as before.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, module: str, names: Iterable[str]
                    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for `package` that import ``package.module``
    at the first access to one of `names` and bind all of them on the package.

    Args:
        package: the package's ``__name__``.
        module: the submodule holding the names, e.g. "_env".
        names: the attributes to load from it.

    Returns:
        ``(__getattr__, __dir__)``, to assign at the package's top level.
    """
    lazy = frozenset(names)

    def __getattr__(name: str) -> Any:
        if name not in lazy:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source = importlib.import_module(f"{package}.{module}")
        namespace = sys.modules[package].__dict__
        for attr in lazy:
            namespace[attr] = getattr(source, attr)
        return namespace[name]

    def __dir__() -> list[str]:
        return sorted({*sys.modules[package].__dict__, *lazy})

    return __getattr__, __dir__
