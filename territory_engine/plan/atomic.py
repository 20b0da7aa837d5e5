"""Write a plan folder atomically: completely or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_folder_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary folder beside ``target``, then swap it in.

    The temporary folder lives in the same parent so the final rename is
    atomic on one file system. An existing plan at ``target`` is kept until
    the new one is complete: it is renamed aside, the new folder renamed in,
    and only then is the old one removed. If ``write`` raises (or the process
    is interrupted), ``target`` is untouched and the temporary folder removed.

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
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        write(tmp)
        os.chmod(tmp, 0o755)
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
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

    The parent folder is created when missing; the file gets mode 0644.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
