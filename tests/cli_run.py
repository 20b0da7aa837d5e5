"""Run the ``territory-engine`` command in a subprocess, as a user would (shared by tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, cwd: Path, repo_root: Path = REPO_ROOT, timeout: float = 240
) -> subprocess.CompletedProcess:
    """``python -m territory_engine.cli.main ARGS`` in ``cwd``, output captured.

    The package is importable from ``repo_root``; the debug switch is cleared so
    errors print as users see them (one line, no traceback).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root), env.get("PYTHONPATH")]))
    env.pop("TERRITORY_ENGINE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "territory_engine.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
