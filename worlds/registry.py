"""The registry of twin kinds: a kind's spec builder, twin class and env, by string entry point.

Modelled on Gymnasium's ``register`` / ``make``: each kind names its parts as
``"module:attr"`` strings, imported only when used, so ``import worlds`` imports no twin
module (and no networkx solver, pettingzoo or mujoco)::

    import worlds.registry as registry

    registry.kinds()                                   # ('logistics', 'toy', 'warehouse', ...)
    twin = registry.make("warehouse", n_aisles=6)      # warehouse_spec(n_aisles=6) -> twin
    spec = registry.spec("logistics", grid_cols=8)     # only the spec
    twin = registry.twin_from_spec(spec)               # the class registered for spec.kind
    registry.spec_params("windfarm")                   # the builder's keyword parameters
    env = registry.env("warehouse", n_robots=2)        # its PettingZoo parallel env

A twin author registers a kind once, at import of their package::

    registry.register("greenhouse", spec="greenhouse.spec:greenhouse_spec",
                      twin="greenhouse.twin:GreenhouseTwin", env="greenhouse.env:parallel_env")

The shipped kinds (warehouse, logistics, windfarm, toy) are registered below.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twinecon.errors import suggest
from worlds.errors import InvalidSpec, UnknownKind, WorldError
from worlds.spec import TwinSpec

__all__ = ["KindEntry", "env", "kinds", "make", "register", "spec", "spec_params",
           "twin_from_spec"]

_ENTRY_POINT = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
#: Builder parameters that label a spec rather than shape the twin.
_LABELS = ("name", "version")


@dataclass(frozen=True, slots=True, kw_only=True)
class KindEntry:
    """One registered twin kind.

    Attributes:
        kind: the spec kind, e.g. "warehouse".
        spec: ``"module:attr"`` of the spec builder, ``(name=..., version=..., **params)
            -> TwinSpec``.
        twin: ``"module:attr"`` of the twin class, ``(spec) -> twin``.
        env: ``"module:attr"`` of the PettingZoo parallel env factory, ``(spec=None, **kw)
            -> ParallelEnv``, or None if the kind has none.
    """

    kind: str
    spec: str
    twin: str
    env: str | None = None


_KINDS: dict[str, KindEntry] = {}


def register(kind: str, *, spec: str, twin: str, env: str | None = None) -> None:
    """Register a twin kind by the entry points of its parts (imported only when used).

    Registering a kind again with the same entry points does nothing.

    Args:
        kind: the spec kind the builder makes (``TwinSpec.kind``).
        spec: ``"module:attr"`` of its spec builder.
        twin: ``"module:attr"`` of its twin class.
        env: ``"module:attr"`` of its parallel env factory, if it has one.

    Raises:
        WorldError: an entry point is not ``"module:attr"``, or the kind is registered
            with other entry points.
    """
    for what, target in (("spec", spec), ("twin", twin), ("env", env)):
        if target is not None and (not isinstance(target, str)
                                   or not _ENTRY_POINT.match(target)):
            raise WorldError(f"register({kind!r}): {what} is {target!r}; expected an entry "
                             "point 'package.module:attr', e.g. 'worlds.toy:ToyTwin'")
    entry = KindEntry(kind=kind, spec=spec, twin=twin, env=env)
    known = _KINDS.get(kind)
    if known is not None and known != entry:
        raise WorldError(f"twin kind {kind!r} is already registered as {known}; got {entry}: "
                         "pick another kind name")
    _KINDS[kind] = entry


def kinds() -> tuple[str, ...]:
    """The registered kinds, sorted."""
    return tuple(sorted(_KINDS))


def _entry(kind: str) -> KindEntry:
    entry = _KINDS.get(kind)
    if entry is None:
        raise UnknownKind(kind, kinds())
    return entry


def _load(kind: str, what: str, target: str) -> Any:
    module_name, attr = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise WorldError(f"twin kind {kind!r}: its {what} {target!r} cannot be imported "
                         f"({exc}); install what it needs or register the right module"
                         ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise WorldError(f"twin kind {kind!r}: module {module_name!r} has no {attr!r} (its "
                         f"{what} entry point {target!r}); fix the registration") from None


def _builder(kind: str) -> Callable[..., TwinSpec]:
    entry = _entry(kind)
    return _load(kind, "spec builder", entry.spec)  # type: ignore[no-any-return]


def spec_params(kind: str) -> tuple[str, ...]:
    """The keyword parameters of the kind's spec builder other than name and version (what a
    scenario's ``[twin.params]`` may set), in the builder's order.

    Raises:
        UnknownKind: `kind` is not registered.
    """
    params = inspect.signature(_builder(kind)).parameters.values()
    return tuple(p.name for p in params if p.name not in _LABELS
                 and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def spec(kind: str, **params: Any) -> TwinSpec:
    """Build a spec of `kind` with its builder.

    Args:
        kind: a registered kind.
        **params: the builder's parameters (`spec_params(kind)`, plus name and
            version).

    Raises:
        UnknownKind: `kind` is not registered.
        InvalidSpec: a parameter the builder does not take (with a near match), or one it
            rejects.
    """
    builder = _builder(kind)
    allowed = spec_params(kind)
    open_ended = any(p.kind == p.VAR_KEYWORD
                     for p in inspect.signature(builder).parameters.values())
    for key in params:
        if key not in allowed and key not in _LABELS and not open_ended:
            raise InvalidSpec(f"unknown {kind} spec parameter {key!r}"
                              f"{suggest(key, allowed)}; allowed: {', '.join(allowed)}")
    return builder(**params)


def twin_from_spec(spec: TwinSpec) -> Any:
    """Build the twin of a spec with the class registered for ``spec.kind``.

    Raises:
        InvalidSpec: `spec` is not a TwinSpec.
        UnknownKind: its kind is not registered.
    """
    if not isinstance(spec, TwinSpec):
        raise InvalidSpec(f"twin_from_spec needs a TwinSpec, got {type(spec).__name__}; "
                          "build one with worlds.registry.spec(kind, ...)")
    entry = _entry(spec.kind)
    return _load(entry.kind, "twin class", entry.twin)(spec)


def make(kind: str, **params: Any) -> Any:
    """Build a twin of `kind`: its spec from `params` (as `spec`), then the twin.

    Raises:
        UnknownKind: `kind` is not registered.
        InvalidSpec: as `spec`, or the twin rejects the spec.
    """
    return twin_from_spec(spec(kind, **params))


def env(kind: str, spec: TwinSpec | None = None, **params: Any) -> Any:
    """The kind's PettingZoo parallel env on `spec` (None: the builder's defaults).

    Args:
        kind: a registered kind with an env.
        spec: a spec of that kind, or None.
        **params: the env factory's other parameters (e.g. ``max_cycles``).

    Raises:
        UnknownKind: `kind` is not registered.
        WorldError: the kind has no env.
        InvalidSpec: `spec` is of another kind.
    """
    entry = _entry(kind)
    if entry.env is None:
        with_env = [k for k in kinds() if _KINDS[k].env is not None]
        raise WorldError(f"twin kind {kind!r} has no PettingZoo env; kinds with one: "
                         f"{', '.join(with_env)}")
    if spec is not None and (not isinstance(spec, TwinSpec) or spec.kind != kind):
        got = spec.kind if isinstance(spec, TwinSpec) else type(spec).__name__
        raise InvalidSpec(f"env({kind!r}) needs a TwinSpec of kind {kind!r}, got {got!r}")
    return _load(kind, "env", entry.env)(spec=spec, **params)


register("warehouse", spec="worlds.warehouse:warehouse_spec",
         twin="worlds.warehouse:WarehouseTwin", env="worlds.warehouse:parallel_env")
register("logistics", spec="worlds.logistics:logistics_spec",
         twin="worlds.logistics:LogisticsTwin", env="worlds.logistics:parallel_env")
register("windfarm", spec="worlds.windfarm:windfarm_spec",
         twin="worlds.windfarm:WindfarmTwin", env="worlds.windfarm:parallel_env")
register("toy", spec="worlds.toy:toy_spec", twin="worlds.toy:ToyTwin")
