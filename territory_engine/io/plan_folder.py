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
