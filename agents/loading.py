"""Loading policies by name (a built-in, `package.module:Class` or `path/to/file.py:Class`),
in this process or in a worker process of their own."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agents.builtin import BUILTIN
from agents.errors import PolicyLoadError
from agents.limits import DEFAULT_LIMITS, Isolation, PolicyLimits
from agents.protocols import Policy
from twinecon.errors import suggest
from worlds.spec import TwinSpec

__all__ = ["load_policy", "make_policy", "resolve_policy_class"]


def resolve_policy_class(ref: str, *, base_dir: Path | None = None) -> type:
    """The class a policy reference names.

    Args:
        ref: "provider" (built-in), "package.module:Class", or "path/to/file.py:Class"
            (relative paths are taken from `base_dir`, the scenario file's folder, then the
            working directory).
        base_dir: folder relative file paths are resolved against first.

    Raises:
        PolicyLoadError: the module, file or class cannot be found.
    """
    if ref in BUILTIN:
        return BUILTIN[ref]
    if ":" not in ref:
        raise PolicyLoadError(
            f"unknown policy {ref!r}{suggest(ref, BUILTIN)}; use a built-in "
            f"({', '.join(sorted(BUILTIN))}), 'package.module:Class' or 'path/to/file.py:Class'"
        )
    target, _, name = ref.rpartition(":")
    if target.endswith(".py"):
        module = _load_file(target, base_dir)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as e:
            raise PolicyLoadError(f"cannot import module {target!r} for policy {ref!r}: {e}; "
                                  "check it is installed or on PYTHONPATH") from None
    cls = getattr(module, name, None)
    if cls is None or not inspect.isclass(cls):
        names = [n for n, v in vars(module).items() if inspect.isclass(v)]
        raise PolicyLoadError(f"{target} has no class {name!r}{suggest(name, names)}")
    if not callable(getattr(cls, "act", None)):
        raise PolicyLoadError(f"{ref}: a policy class needs an act(observation) method")
    return cls


def _load_file(target: str, base_dir: Path | None) -> Any:
    candidates = [Path(target)]
    if base_dir is not None and not Path(target).is_absolute():
        candidates.insert(0, base_dir / target)
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise PolicyLoadError(f"policy file {target!r} not found (looked in "
                              f"{', '.join(str(c) for c in candidates)})")
    path = path.resolve()
    # A stable, unique module name per file, so two files named policy.py do not collide.
    name = "twinecon_user_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PolicyLoadError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise PolicyLoadError(f"{path} raised {type(e).__name__} on import: {e}") from None
    return module


def load_policy(ref: str, params: Mapping[str, Any] | None = None, *,
                base_dir: Path | None = None) -> Policy:
    """Build the policy `ref` names with `params` as keyword arguments.

    Raises:
        PolicyLoadError: unknown policy, or parameters its constructor does not take.
    """
    cls = resolve_policy_class(ref, base_dir=base_dir)
    params = dict(params or {})
    try:
        signature = inspect.signature(cls)
        signature.bind(**params)
    except TypeError as e:
        accepted = [p for p in signature.parameters if p != "self"]
        unknown = [k for k in params if k not in signature.parameters]
        hint = "".join(suggest(k, accepted) for k in unknown)
        raise PolicyLoadError(f"policy {ref!r} does not accept these params: {e}{hint}; it "
                              f"takes {', '.join(accepted) or 'no parameters'}") from None
    try:
        return cls(**params)
    except Exception as e:
        raise PolicyLoadError(f"policy {ref!r} failed to start with params {params}: "
                              f"{type(e).__name__}: {e}") from None


def make_policy(ref: str, params: Mapping[str, Any] | None = None, *,
                base_dir: Path | None = None, limits: PolicyLimits = DEFAULT_LIMITS,
                twin_spec: TwinSpec | None = None, hz: int | None = None, seed: int = 0,
                index: int = 0) -> Policy:
    """The policy `ref` names, where `limits.isolation` says it runs.

    In this process (`Isolation.INPROCESS`, trusted code) it is `load_policy(ref, params)`.
    In a worker process (`Isolation.PROCESS`) it is an `agents.process.ProcessPolicy`, whose
    worker starts at its first call; its params are checked now all the same: a built-in's
    here, anything else's in a short-lived worker (its code never runs in this process).

    Args:
        ref: the policy reference (see `resolve_policy_class`).
        params: its constructor's keyword arguments.
        base_dir: the folder relative file references are taken from first.
        limits: where it runs, its time budget per call and its worker's memory cap.
        twin_spec: the run's twin's spec (process isolation: the worker builds its own twin).
        hz: the physics rate of the twin's L2 tier (None: its default).
        seed: the run seed; index: the agent's index (process isolation: the worker's
            `obs.rng` is the run's `POLICY` stream at that index, as in this process).

    Raises:
        PolicyLoadError: an unknown policy, params it does not take or that fail its
            constructor, or params that are not JSON values (process isolation).
    """
    if limits.isolation is Isolation.INPROCESS:
        return load_policy(ref, params, base_dir=base_dir)
    if twin_spec is None:
        raise PolicyLoadError(f"policy {ref!r}: isolation = \"process\" needs the run's twin "
                              "spec (make_policy(..., twin_spec=twin.spec))")
    from agents.process import ProcessPolicy

    policy = ProcessPolicy(ref, params, base_dir=base_dir, limits=limits, twin_spec=twin_spec,
                           hz=hz, seed=seed, index=index)
    policy.check()
    return policy
