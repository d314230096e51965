"""Loading policies by name (a built-in, `package.module:Class` or `path/to/file.py:Class`),
in this process or in a worker process of their own."""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from agents.builtin import BUILTIN
from agents.errors import PolicyLoadError, PolicyParamError
from agents.limits import DEFAULT_LIMITS, Isolation, PolicyLimits
from agents.params import Expected
from agents.protocols import Policy
from twinecon.errors import suggest
from worlds.spec import TwinSpec

__all__ = ["check_params", "instantiate", "load_policy", "make_policy",
           "resolve_policy_class"]


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
    if ref.startswith(("http://", "https://", "exec:")):
        raise PolicyLoadError(f"policy {ref!r} runs outside this process (a remote or "
                              "subprocess policy): it has no class here; make_policy builds "
                              "its client")
    if ":" not in ref:
        raise PolicyLoadError(
            f"unknown policy {ref!r}{suggest(ref, BUILTIN)}; use a built-in "
            f"({', '.join(sorted(BUILTIN))}), 'package.module:Class', 'path/to/file.py:Class', "
            "a remote policy's 'http://host:port/path' or a subprocess's 'exec:command'"
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


_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
#: The longest value a refusal shows (repr), and the longest pydantic reason it quotes.
_SHOWN = 80


def _annotations(cls: type) -> dict[str, Any]:
    """The evaluated annotation of each keyword parameter of `cls`'s constructor; a parameter
    without one, or whose annotation cannot be evaluated (a name imported only for type
    checking), is left out."""
    try:
        parameters = inspect.signature(cls, eval_str=True).parameters
        return {n: p.annotation for n, p in parameters.items()
                if p.kind in _KEYWORD and p.annotation is not inspect.Parameter.empty}
    except Exception:  # one annotation that does not evaluate: each on its own
        pass
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return {}
    module = sys.modules.get(cls.__module__)
    namespace = dict(getattr(getattr(cls, "__init__", None), "__globals__", None)
                     or (vars(module) if module is not None else {}))
    found: dict[str, Any] = {}
    for name, p in parameters.items():
        annotation = p.annotation
        if p.kind not in _KEYWORD or annotation is inspect.Parameter.empty:
            continue
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # what eval_str=True does, one by one
            except Exception:
                continue
        found[name] = annotation
    return found


def _expected(annotation: Any) -> Expected | None:
    """The `agents.params.Expected` of an annotation (through `X | None`), if it has one."""
    if get_origin(annotation) is Annotated:
        return next((m for m in annotation.__metadata__ if isinstance(m, Expected)), None)
    if get_origin(annotation) in (Union, type(int | None)):
        found = [e for e in map(_expected, get_args(annotation)) if e is not None]
        return found[0] if len(found) == 1 else None
    return None


@functools.lru_cache(maxsize=4_096)
def _checker(cls: type, name: str) -> tuple[TypeAdapter | None, Any]:
    """The pydantic validator of parameter `name` of `cls` and its annotation (None: not
    annotated, or annotated with what pydantic cannot handle: not checked). Cached per
    (class, parameter)."""
    annotation = _class_annotations(cls).get(name, inspect.Parameter.empty)
    if annotation is inspect.Parameter.empty or isinstance(annotation, str):
        return None, None
    try:
        return TypeAdapter(annotation), annotation
    except Exception:  # an annotation pydantic has no schema for: not checked
        return None, None


@functools.lru_cache(maxsize=1_024)
def _class_annotations(cls: type) -> dict[str, Any]:
    return _annotations(cls)


def _shown(value: Any) -> str:
    """`value` as a scenario file writes it (a string in double quotes), cut short."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__qualname__
    return str(annotation).replace("typing.", "")


def _reason(error: ValidationError) -> str:
    """Pydantic's first complaint, lower-cased, with where in the value it is (list
    indexes); empty if too long to quote."""
    first = error.errors(include_url=False)[0]
    where = "".join(f"[{i}]" for i in first["loc"] if isinstance(i, int))
    msg = first["msg"][:1].lower() + first["msg"][1:]
    text = f"{where}: {msg}" if where else msg
    return text if len(text) <= _SHOWN else ""


def _validate(adapter: TypeAdapter, value: Any) -> None:
    """Strict validation of `value` as it is, or failing that as the JSON value it stands
    for: what a scenario writes (TOML, or the JSON a worker receives) is a list where the
    annotation says tuple, a table where it says a model, a string where it says a path.
    Either way a string is not taken for a number, a float not for an int, a bool not for
    either.

    Raises:
        ValidationError: both refuse it (the JSON check's complaint when it ran).
    """
    try:
        adapter.validate_python(value, strict=True)
        return
    except ValidationError as e:
        refused = e
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        raise refused from None
    adapter.validate_json(text, strict=True)


def check_params(ref: str, cls: type, params: Mapping[str, Any]) -> None:
    """Check each of `params` against the annotation of its parameter in `cls`'s constructor
    (`agents.params` kinds, or any annotation pydantic handles), strictly. Unannotated
    parameters, and annotations pydantic cannot handle, are not checked.

    Raises:
        PolicyParamError: a value its annotation refuses, naming the parameter, the value,
            what was expected and what to write.
    """
    for name, value in params.items():
        adapter, annotation = _checker(cls, name)
        if adapter is None:
            continue
        try:
            _validate(adapter, value)
        except ValidationError as e:
            reason = _reason(e)
            expected = _expected(annotation)
            head = f"policy {ref!r}: param {name} = {_shown(value)} is refused"
            if expected is not None:
                raise PolicyParamError(
                    f"{head}{f' ({reason})' if reason else ''}: expected {expected.text}; "
                    f"write e.g. {name} = {expected.example}", name) from None
            raise PolicyParamError(
                f"{head}{f': {reason}' if reason else ''}; expected "
                f"{_type_name(annotation)} (its annotation in {cls.__qualname__}): write a "
                "value of that type", name) from None


def load_policy(ref: str, params: Mapping[str, Any] | None = None, *,
                base_dir: Path | None = None, decimals: int | None = None) -> Policy:
    """Build the policy `ref` names with `params` as keyword arguments.

    With `decimals` (the ledger's), `params` are in the scenario's units and are converted
    first (`agents.units.to_base_units_params`): a money param from tokens to base units.
    Each param is then checked against its constructor annotation (`check_params`): the
    `agents.params` kinds of the built-ins and of user policies that use them, and any other
    annotation pydantic handles. The constructor receives the values as given (converted).

    Raises:
        PolicyLoadError: unknown policy, or parameters its constructor does not take.
        PolicyParamError: a value its parameter's annotation refuses (a `PolicyLoadError`).
    """
    cls = resolve_policy_class(ref, base_dir=base_dir)
    return instantiate(cls, params, ref=ref, decimals=decimals)


def instantiate(cls: type, params: Mapping[str, Any] | None, *, ref: str,
                decimals: int | None = None) -> Policy:
    """`cls(**params)` once the params are bound to its signature, money converted from the
    scenario's tokens (with `decimals`; None: passed as given) and every value checked against
    its annotation (`check_params`), each refusal a `PolicyLoadError` naming `ref`.

    Raises:
        PolicyLoadError: parameters its constructor does not take, or it raised starting.
        PolicyParamError: a value its parameter's annotation refuses.
    """
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
    if decimals is not None:
        from agents.units import to_base_units_params

        params = to_base_units_params(ref, cls, params, decimals)
    check_params(ref, cls, params)
    try:
        return cls(**params)
    except Exception as e:
        raise PolicyLoadError(f"policy {ref!r} failed to start with params {params}: "
                              f"{type(e).__name__}: {e}") from None


def make_policy(ref: str, params: Mapping[str, Any] | None = None, *,
                base_dir: Path | None = None, limits: PolicyLimits = DEFAULT_LIMITS,
                twin_spec: TwinSpec | None = None, hz: int | None = None, seed: int = 0,
                index: int = 0, decimals: int | None = None) -> Policy:
    """The policy `ref` names, where `limits.isolation` says it runs.

    In this process (`Isolation.INPROCESS`, trusted code) it is `load_policy(ref, params)`.
    In a worker process (`Isolation.PROCESS`) it is an `agents.process.ProcessPolicy`, whose
    worker starts at its first call; its params are checked now all the same: a built-in's
    here, anything else's in a short-lived worker (its code never runs in this process).

    A remote policy's URL (`http://...`, `https://...`) or a subprocess's command
    (`exec:...`) is an `agents.remote` client, whatever the isolation: its syntax is checked
    now, and nothing is called or started before its first `act`.

    Args:
        ref: the policy reference (see `resolve_policy_class`).
        params: its constructor's keyword arguments.
        base_dir: the folder relative file references are taken from first.
        limits: where it runs, its time budget per call and its worker's memory cap.
        twin_spec: the run's twin's spec (process isolation: the worker builds its own twin).
        hz: the physics rate of the twin's L2 tier (None: its default).
        seed: the run seed; index: the agent's index (process isolation: the worker's
            `obs.rng` is the run's `POLICY` stream at that index, as in this process).
        decimals: the ledger's decimals when `params` are in the scenario's units (money in
            tokens), converted where the class is known: here, or in the worker of a
            process-isolated policy that is not built in (`load_policy`); None: as given.

    Raises:
        PolicyLoadError: an unknown policy, params it does not take or that fail its
            constructor, or params that are not JSON values (process isolation).
    """
    from agents.remote import is_remote_ref

    if is_remote_ref(ref):  # out of this process by nature: `isolation` does not apply
        from agents.remote import make_remote_policy

        return make_remote_policy(ref, params, base_dir=base_dir, limits=limits,
                                  twin_spec=twin_spec, seed=seed, index=index,
                                  decimals=decimals)
    if ref == "llm" and limits.isolation is Isolation.PROCESS:
        raise PolicyLoadError("policy 'llm' runs in the simulator's process (it runs no "
                              "foreign code: the model's answers are data, checked like a "
                              "worker's, and its log goes to the run's folder); set "
                              "isolation = \"inprocess\" for its group")
    if limits.isolation is Isolation.INPROCESS:
        return load_policy(ref, params, base_dir=base_dir, decimals=decimals)
    if twin_spec is None:
        raise PolicyLoadError(f"policy {ref!r}: isolation = \"process\" needs the run's twin "
                              "spec (make_policy(..., twin_spec=twin.spec))")
    from agents.process import ProcessPolicy

    policy = ProcessPolicy(ref, params, base_dir=base_dir, limits=limits, twin_spec=twin_spec,
                           hz=hz, seed=seed, index=index, decimals=decimals)
    policy.check()
    return policy
