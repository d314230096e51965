"""Replacing a run's output folder atomically, and clearing what dead runs left beside it.

A run writes into ``.NAME.tmp-PID.HOST`` beside its final folder ``NAME`` and puts it in place
only when every output is written (`replace`): on Linux by swapping the two names in one step
(``renameat2`` with ``RENAME_EXCHANGE``), so ``NAME`` always holds either the old complete run
or the new one; elsewhere (or on a file system that cannot swap) by renaming the old run aside
to ``.NAME.old-PID.HOST``, the new one in, and then deleting the old: for an instant ``NAME``
is missing, with both complete runs beside it under names that say which is which. Only then
is the old run deleted.

A run killed on the way (SIGKILL, SIGTERM, a power cut) leaves such folders behind; the next
run into the same parent folder removes those of runs whose process is gone (`clean_dead`),
and if a run died between its two renames, first puts its complete new run in place. ``HOST``
(a hash of the host name) keeps a run on one machine from judging the processes of another
that shares the folder.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

__all__ = ["clean_dead", "is_run_folder", "remove", "replace", "temp_path"]

#: Swap names atomically with renameat2(2) where the C library and the file system can.
USE_EXCHANGE = True

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_LEFTOVER = re.compile(
    r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>[0-9]+)(?:\.(?P<host>[0-9a-f]{8}))?$")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def temp_path(out: Path, kind: str = "tmp") -> Path:
    """The folder beside `out` this process writes a new run into ("tmp") or sets the old
    one aside as ("old")."""
    return out.with_name(f".{out.name}.{kind}-{os.getpid()}.{_HOST}")


def is_run_folder(path: Path, outputs: tuple[str, ...]) -> bool:
    """Whether `path` is a folder a run may replace: empty, or holding a run's outputs (a
    folder of anything else is not deleted to make room for a run)."""
    names = {p.name for p in path.iterdir()}
    return not names or bool(names & set(outputs))


def remove(path: Path) -> None:
    """Delete a folder (or a file or link in its place); what is already gone is fine."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def replace(tmp: Path, out: Path, step: Callable[[str], None]) -> None:
    """Put the complete run in `tmp` at `out`, then delete what `out` held.

    Calls ``step("set-aside")`` (when the old run has been renamed aside, if names cannot be
    swapped) and ``step("replaced")`` (when the new run is at `out`, the old one not yet
    deleted).

    Raises:
        OSError: a rename the file system refused (`tmp` still holds the complete run).
    """
    if not os.path.lexists(out):
        os.rename(tmp, out)
        step("replaced")
        return
    if USE_EXCHANGE and _exchange(tmp, out):
        try:
            step("replaced")
        finally:
            remove(tmp)  # now the old run
        return
    aside = temp_path(out, "old")
    os.rename(out, aside)
    try:
        step("set-aside")
        os.rename(tmp, out)
    except BaseException:
        if not os.path.lexists(out):
            os.rename(aside, out)  # interrupted: the old run goes back
        raise
    try:
        step("replaced")
    finally:
        remove(aside)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two names in one step; False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False  # not Linux, or a C library older than glibc 2.28
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # the kernel or the file system cannot swap: rename instead
    raise OSError(code, os.strerror(code), str(b))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process's own folders are its own business
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user (or we cannot tell: keep its folders)
    return True


def clean_dead(parent: Path) -> list[Path]:
    """Remove the temporary and set-aside folders that runs whose process is gone left in
    `parent`; where such a run died between its two renames (its final folder missing), put
    its complete new run in place first (or, failing that, its old one back).

    Returns:
        The folders removed or moved into place.
    """
    try:
        entries = sorted(parent.iterdir(), key=lambda p: p.name)
    except OSError:
        return []
    dead = []
    for path in entries:
        m = _LEFTOVER.match(path.name)
        if m and m["host"] in (None, _HOST) and not _alive(int(m["pid"])):
            dead.append((m, path))
    done: list[Path] = []
    for m, path in dead:  # the set-aside ones first: their final folder may be missing
        if m["kind"] != "old":
            continue
        final = parent / m["name"]
        if not os.path.lexists(final):
            tag = f"{m['pid']}.{m['host']}" if m["host"] else m["pid"]
            tmp = parent / f".{m['name']}.tmp-{tag}"
            for candidate in (tmp, path):
                if (candidate / "summary.json").exists():
                    try:
                        os.rename(candidate, final)
                        done.append(candidate)
                        break
                    except OSError:
                        pass
    for _, path in dead:
        if os.path.lexists(path):
            remove(path)
            done.append(path)
    return done
