"""How a path written in a scenario becomes the file it names.

Policy (README, "Scenario format"): a path is relative to the scenario file
that writes it (not to the working directory), and is made absolute with
symlinks resolved before anything reads it; errors show that resolved path. A
path may point outside the scenario's folder (the sample's ``../data/...``
does): it is allowed, and shown resolved, so a planner sees which file was
meant.
"""

from __future__ import annotations

from pathlib import Path


def resolve_path(base_dir: Path, value: str) -> str:
    """``value`` relative to ``base_dir``, absolute with symlinks resolved.

    A path the system cannot resolve (a NUL byte, a name longer than the
    system allows) is joined to ``base_dir`` and left as it is, so the check
    that the file exists reports it as not found, naming it.
    """
    joined = base_dir / value
    try:
        return str(joined.resolve())
    except (OSError, ValueError):
        return str(joined)
