"""Where a policy's exception came from: its type, message, and the file and line of the
innermost frame in the policy's own code, as one line a `policy_fault` event records.

"The policy's own code" is the folder of every module that defines a class of the policy's
type (its class and the classes it inherits from, `object` apart): a frame in such a folder is
the policy's, a frame in numpy or in the economy it called is not. A file is shown relative to
its module's root (``agents/builtin/customer.py`` for `agents.builtin.customer`, the file's own
name for a policy loaded from ``path/to/file.py:Class``), so the text is the same on every
machine and in every working folder, in this process and in a policy's worker process.

Example::

    describe_exception(error, policy)
    # 'ValueError: no quote (at mine.py:12 in Mine.act)'
"""

from __future__ import annotations

import functools
import sys
import traceback
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["MAX_MESSAGE", "FaultOrigin", "describe_exception", "fault_origin"]

#: The most characters of an exception's message a fault keeps (so the location after it
#: survives the event detail's 500-character cut).
MAX_MESSAGE = 200
#: Modules loaded from a policy file (`agents.loading._load_file`) are named with this prefix.
_FILE_MODULE = "twinecon_user_"


class FaultOrigin(NamedTuple):
    """The innermost frame of a policy's own code in an exception's traceback.

    Attributes:
        file: the file relative to its module's root ("mine.py", "pkg/policy.py").
        line: the line number.
        function: the function's qualified name ("Mine.act").
    """

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"


@functools.lru_cache(maxsize=256)
def _folders(kind: type) -> tuple[tuple[Path, Path], ...]:
    """(folder, root) of each module defining a class of `kind`'s MRO (`object` apart): the
    folders of the policy's own code and what their files are shown relative to."""
    found: dict[Path, Path] = {}
    for cls in kind.__mro__:
        if cls is object:
            continue
        module = sys.modules.get(cls.__module__)
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        name = cls.__module__
        depth = 0 if name.startswith(_FILE_MODULE) or name == "__main__" else name.count(".")
        if path.name == "__init__.py":
            depth += 1
        folder = path.parent
        parents = folder.parents
        found.setdefault(folder, parents[min(depth, len(parents)) - 1] if depth else folder)
    return tuple(found.items())


def _shown(path: Path, roots: tuple[tuple[Path, Path], ...]) -> str | None:
    for folder, root in roots:
        if path.parent == folder:
            return path.relative_to(root).as_posix()
    return None


def fault_origin(error: BaseException, policy: Any) -> FaultOrigin | None:
    """The innermost frame of `error`'s traceback in `policy`'s own code, or None if none is
    (an exception raised for it by the simulator, such as a worker's `PolicyFault`).

    Args:
        error: what a call of the policy raised.
        policy: the policy object (its type says which folders are its code).
    """
    roots = _folders(type(policy))  # type: ignore[arg-type]
    found: FaultOrigin | None = None
    paths: dict[str, Path] = {}
    for frame, line in traceback.walk_tb(error.__traceback__):
        code = frame.f_code
        path = paths.get(code.co_filename)
        if path is None:
            try:
                path = paths[code.co_filename] = Path(code.co_filename).resolve()
            except (OSError, ValueError, RuntimeError):
                continue
        shown = _shown(path, roots)
        if shown is not None:
            found = FaultOrigin(shown, line or 0, getattr(code, "co_qualname", code.co_name))
    return found


def describe_exception(error: BaseException, policy: Any = None, *, note: str = "") -> str:
    """``Type: message (at file:line in function)`` of an exception a policy raised: its
    message cut to `MAX_MESSAGE` characters, its origin in the policy's own code when there
    is one (`fault_origin`); even for an exception whose `__str__` raises.

    Args:
        error: the exception.
        policy: the policy that raised it (None: no location).
        note: text put right after the message (a worker's memory limit), before the place.
    """
    try:
        message = str(error)
    except BaseException:
        message = "(its message could not be read)"
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE - 3] + "..."
    text = (f"{type(error).__name__}: {message}" if message else type(error).__name__) + note
    from agents.errors import PolicyFault

    if policy is None or isinstance(error, PolicyFault):  # a worker's: located in its text
        return text
    try:
        origin = fault_origin(error, policy)
    except Exception:  # a traceback we cannot read: the fault without its place
        origin = None
    return text if origin is None else f"{text} (at {origin})"
