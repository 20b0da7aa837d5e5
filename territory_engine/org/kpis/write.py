"""Write a :class:`~territory_engine.org.kpis.compute.KpiResult` as a folder, atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

from territory_engine.errors import InputError
from territory_engine.io.safe_cells import write_csv
from territory_engine.org.kpis.compute import KpiResult
from territory_engine.plan.atomic import write_folder_atomically

__all__ = ["KPI_FILES", "write_kpis"]

#: The files of a KPI folder.
KPI_FILES = ("kpis.json", "kpis.csv", "kpis.html")


def write_kpis(result: KpiResult, folder: str | os.PathLike[str] | None = None) -> Path:
    """Write ``kpis.json``, ``kpis.csv`` and ``kpis.html`` into ``folder``.

    The folder is written under a temporary name and swapped in when complete
    (:func:`~territory_engine.plan.atomic.write_folder_atomically`), so a failed
    write leaves the previous KPI folder, or none, never half of one.

    Parameters
    ----------
    result
        From :func:`~territory_engine.org.kpis.compute.compute_kpis`.
    folder
        Target folder; default ``PLAN_DIR/kpis``.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    InputError
        ``folder`` is a file, or a folder holding anything but the KPI files: it is
        replaced whole, so it must be new, empty or an earlier KPI folder.
    """
    from territory_engine.render.kpis_page import render_kpis_page

    target = Path(folder) if folder is not None else result.plan_dir / "kpis"
    _check_target(target)
    # Rendered before the folder exists: a rendering error writes nothing.
    page = render_kpis_page(result)
    payload = json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n"

    def write(tmp: Path) -> None:
        (tmp / "kpis.json").write_text(payload, encoding="utf-8")
        write_csv(result.table, tmp / "kpis.csv")
        (tmp / "kpis.html").write_text(page, encoding="utf-8")

    return write_folder_atomically(target, write)


def _check_target(target: Path) -> None:
    """Refuse to replace a folder that is neither empty nor an earlier KPI folder."""
    if target.exists() and not target.is_dir():
        raise InputError("exists and is not a folder; give --output a folder", file=str(target))
    if target.is_dir():
        others = sorted(p.name for p in target.iterdir() if p.name not in KPI_FILES)
        if others:
            raise InputError(
                f"exists and is not a KPI folder (it holds {others[0]!r}); the KPIs replace "
                "their folder whole, so give --output a new folder",
                file=str(target),
            )
