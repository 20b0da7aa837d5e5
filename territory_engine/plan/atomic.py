"""Write a plan folder atomically: completely or not at all, even when the process is killed.

Every temporary entry a writer makes lives beside its target and is named
``.<target name>.<kind>-<host>-<pid>-<random>`` (:func:`temp_name`): ``partial`` for
a folder or file being written, ``old`` for a replaced folder awaiting removal
(only where the atomic exchange below is unavailable), ``running`` for a sweep's
staging folder. A process killed with SIGKILL cannot remove its own, so the next
write of the same target does (:func:`clean_stale_temps`): it removes the entries
of processes of this host that no longer run, and puts back a replaced folder that
a killed writer had moved aside but not yet replaced. Entries of a running process,
or of another host (a shared file system), are left alone; another host's are
removed once older than :data:`FOREIGN_TEMP_MAX_AGE_SECONDS`.

Replacing a folder is one ``renameat2(RENAME_EXCHANGE)`` on Linux: the new folder
and the old one swap names in one step, so at every instant ``target`` is the old
complete folder or the new one. Elsewhere (or on a file system without it) the old
folder is renamed aside first; a kill between the two renames leaves ``target``
missing for an instant, and :func:`clean_stale_temps` (called by the next write and
by :func:`recover_folder`) renames the old folder back.

A kill protects against a dying process, not a dying machine: files are not
``fsync``-ed, so after a power cut the page cache's unwritten files may be lost.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "FOREIGN_TEMP_MAX_AGE_SECONDS",
    "TEMP_KINDS",
    "clean_stale_temps",
    "is_temp_name",
    "make_temp_dir",
    "recover_folder",
    "temp_name",
    "write_folder_atomically",
    "write_text_atomically",
]

#: Kinds of temporary entries (see the module docstring).
TEMP_KINDS = ("partial", "old", "running")
#: Age after which another host's temporary entry is taken as abandoned.
FOREIGN_TEMP_MAX_AGE_SECONDS = 24 * 3600.0

_TEMP_RE = re.compile(
    r"^\.(?P<name>.+)\.(?P<kind>partial|old|running)-(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-"
)


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def temp_name(target_name: str, kind: str) -> str:
    """The prefix of a temporary entry of ``kind`` for the target named ``target_name``."""
    if kind not in TEMP_KINDS:
        raise ValueError(f"unknown temporary kind {kind!r}")
    return f".{target_name}.{kind}-{_host_tag()}-{os.getpid()}-"


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary entry of a writer (of any target)."""
    return _TEMP_RE.match(name) is not None


def make_temp_dir(target: Path, kind: str = "partial") -> Path:
    """A new empty temporary folder beside ``target``, named by :func:`temp_name`."""
    target = Path(target)
    return Path(tempfile.mkdtemp(prefix=temp_name(target.name, kind), dir=target.parent))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _abandoned(entry: Path, host: str, pid: int) -> bool:
    if host == _host_tag():
        return not _alive(pid)
    try:
        age = time.time() - entry.lstat().st_mtime
    except FileNotFoundError:
        return False
    return age > FOREIGN_TEMP_MAX_AGE_SECONDS


def clean_stale_temps(target: Path) -> list[Path]:
    """Remove the temporary entries that killed writers of ``target`` left behind.

    A replaced folder a killed writer had moved aside (``old``) goes back to
    ``target`` when ``target`` is missing; every other abandoned entry is removed.
    Entries of live processes are kept (see the module docstring).

    Returns
    -------
    list of pathlib.Path
        The entries removed or put back.
    """
    target = Path(target)
    parent = target.parent
    try:
        # A moved-aside folder (``old``) is put back before any partial is removed.
        entries = sorted(parent.iterdir(), key=lambda e: (".old-" not in e.name, e.name))
    except (FileNotFoundError, NotADirectoryError):
        return []
    done: list[Path] = []
    for entry in entries:
        match = _TEMP_RE.match(entry.name)
        if match is None or match["name"] != target.name:
            continue
        if not _abandoned(entry, match["host"], int(match["pid"])):
            continue
        try:
            if match["kind"] == "old" and not target.exists() and entry.is_dir():
                os.rename(entry, target)
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue  # another process cleaned it meanwhile
        except OSError:
            continue  # cannot remove it now; a later write tries again
        done.append(entry)
    return done


def recover_folder(target: Path) -> bool:
    """Make sure ``target`` is whole after a writer was killed; ``True`` if it is there.

    Only needed where folders are not swapped by the atomic exchange (see the module
    docstring); cleaning up costs one listing of the parent folder.
    """
    clean_stale_temps(target)
    return Path(target).exists()


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _load_renameat2() -> Callable[..., int] | None:
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    # renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap the names of ``a`` and ``b`` in one atomic step; ``False`` if unsupported here.

    Raises
    ------
    OSError
        The exchange is supported but failed (a missing entry, another file system).
    """
    if _renameat2 is None:
        return False
    result = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def write_folder_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary folder beside ``target``, then swap it in.

    The temporary folder lives in the same parent so the final swap is atomic on
    one file system (see the module docstring for how). An existing plan at
    ``target`` is kept until the new one is complete. If ``write`` raises (or the
    process is interrupted), ``target`` is untouched and the temporary folder
    removed; if the process is killed, the next write of ``target`` removes it.

    Parameters
    ----------
    target
        The plan folder to create or replace.
    write
        Callback that writes every file into the folder it is given.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(target)
    tmp = make_temp_dir(target)
    try:
        write(tmp)
        os.chmod(tmp, 0o755)
        if target.exists():
            if exchange(tmp, target):
                # ``tmp`` now holds the old folder; a kill during its removal leaves a
                # stale partial that the next write removes.
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                old = make_temp_dir(target, "old")
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` completely or not at all (temporary file, then rename).

    The parent folder is created when missing; the file gets mode 0644. A temporary
    file a killed writer left is removed by the next write of ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_name(path.name, "partial"), dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
