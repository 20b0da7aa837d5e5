"""Read a plan folder back: the tables the views (compare, rep pages) draw.

A plan folder is what ``territory-engine run`` wrote (see the README's output
contract). The views work from the folder alone, so a plan can be compared or
published on a machine that has neither the scenario nor the input data: besides the
plan's own tables, the folder holds ``accounts.csv`` and ``reps.csv``, the account
and rep attributes the views show (names, coordinates, measures).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from territory_engine.errors import InputError
from territory_engine.io.safe_cells import restore_frame
from territory_engine.plan.files import MANIFEST, REQUIRED_FILES

__all__ = ["PlanFolder", "read_json", "read_plan_csv", "read_plan_folder", "read_plan_table"]

_ID_COLUMNS = (
    "account_id",
    "territory_id",
    "rep_id",
    "unit_id",
    "previous_rep_id",
    "segment",
    "name",
    "rep_name",
    "period",
)


@dataclass(frozen=True)
class PlanFolder:
    """The tables of one plan folder.

    Attributes
    ----------
    path
        The folder.
    name
        The scenario's name (from ``plan.json``), else the folder's name.
    assignments, territories, quotas
        ``assignments.csv``, ``territories.csv``, ``quotas.csv`` (ids as strings).
    scorecard
        ``scorecard.json``.
    manifest
        ``plan.json``; empty when the folder has none.
    geometry
        ``territories.geojson`` (EPSG:4326).
    accounts
        ``accounts.csv``: ``account_id, name, segment, lat, lon`` and the measures.
    reps
        ``reps.csv``: ``rep_id, name, segment, home_lat, home_lon, territory_id``.
    quota_splits
        ``quota_splits.csv`` (``territory_id, rep_id, period, quota``), or ``None``
        when the plan has no seasonal split.
    measures
        The balance measures of the plan, in scenario order.
    hierarchy
        ``hierarchy.csv`` (text cells), or ``None`` when the plan draws no hierarchy.
    hierarchy_geometry
        ``hierarchy.geojson``, or ``None``.
    units
        ``units.csv`` (``unit_id, segment, territory_id``: who holds every geo
        unit, empty ones too), or ``None`` when the folder has none.
    """

    path: Path
    name: str
    assignments: pd.DataFrame
    territories: pd.DataFrame
    quotas: pd.DataFrame
    scorecard: dict
    manifest: dict
    geometry: gpd.GeoDataFrame
    accounts: pd.DataFrame
    reps: pd.DataFrame
    quota_splits: pd.DataFrame | None
    measures: list[str]
    hierarchy: pd.DataFrame | None = None
    hierarchy_geometry: gpd.GeoDataFrame | None = None
    units: pd.DataFrame | None = None

    def account_view(self) -> pd.DataFrame:
        """Accounts with their assignment: ``accounts.csv`` joined to ``assignments.csv``.

        Returns
        -------
        pandas.DataFrame
            One row per account of ``assignments.csv``, in its order, with the
            attribute columns of ``accounts.csv`` and ``territory_id, rep_id,
            previous_rep_id, moved``.
        """
        keep = ["account_id", "territory_id", "rep_id", "previous_rep_id", "moved"]
        return self.assignments[keep].merge(self.accounts, on="account_id", how="left")


def read_plan_folder(path: Path | str) -> PlanFolder:
    """Read the plan folder at ``path``.

    Parameters
    ----------
    path
        A folder written by ``territory-engine run``.

    Returns
    -------
    PlanFolder

    Raises
    ------
    InputError
        If the folder or one of :data:`REQUIRED_FILES` is missing or unreadable.
    """
    from territory_engine.org.hierarchy.tables import read_hierarchy, read_hierarchy_geometry

    folder = Path(path)
    if not folder.is_dir():
        raise InputError("no plan folder here", file=str(folder))
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise InputError(
            f"not a complete plan folder: {', '.join(missing)} missing "
            "(re-run the scenario with this version to write them)",
            file=str(folder),
        )
    manifest = read_json(folder / MANIFEST) if (folder / MANIFEST).is_file() else {}
    territories = read_plan_csv(folder / "territories.csv")
    splits_file = folder / "quota_splits.csv"
    try:
        geometry = gpd.read_file(folder / "territories.geojson")
    except Exception as exc:  # pyogrio raises several types; all mean "unreadable"
        raise InputError(f"cannot read: {exc}", file=str(folder / "territories.geojson")) from None
    for column in ("territory_id", "rep_id"):
        if column in geometry.columns:
            geometry[column] = geometry[column].fillna("").astype(str)
    assignments = read_plan_csv(folder / "assignments.csv")
    if "moved" in assignments.columns:
        assignments["moved"] = assignments["moved"].astype(str).str.lower() == "true"
    return PlanFolder(
        path=folder,
        name=str(manifest.get("scenario_name") or folder.name),
        assignments=assignments,
        territories=territories,
        quotas=read_plan_csv(folder / "quotas.csv"),
        scorecard=read_json(folder / "scorecard.json"),
        manifest=manifest,
        geometry=geometry,
        accounts=read_plan_csv(folder / "accounts.csv"),
        reps=read_plan_csv(folder / "reps.csv"),
        quota_splits=read_plan_csv(splits_file) if splits_file.is_file() else None,
        measures=_measures(manifest, territories),
        hierarchy=read_hierarchy(folder),
        hierarchy_geometry=read_hierarchy_geometry(folder),
        units=read_plan_csv(folder / "units.csv") if (folder / "units.csv").is_file() else None,
    )


def read_plan_table(folder: Path, name: str, required: list[str]) -> pd.DataFrame:
    """One table of a plan folder, every cell as the text the file holds.

    The validator reads a plan this way: nothing is converted, so a hand-edited
    cell is judged as written.

    Raises
    ------
    InputError
        The file is missing or unreadable, or lacks one of ``required``.
    """
    path = Path(folder) / name
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=str(path))
    return restore_frame(frame)


def read_plan_csv(file: Path) -> pd.DataFrame:
    """One CSV table of a plan folder: ids as text, numeric columns as numbers.

    Text cells come back as they were before the writer neutralised them
    (:func:`~territory_engine.io.safe_cells.restore_frame`).

    Raises
    ------
    InputError
        The file cannot be read or parsed.
    """
    try:
        frame = pd.read_csv(file, dtype=dict.fromkeys(_ID_COLUMNS, str), keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(file)) from None
    # Empty cells of numeric columns must stay missing, not become "" strings.
    for column in frame.columns:
        if column not in _ID_COLUMNS and frame[column].dtype == object:
            converted = pd.to_numeric(frame[column].replace("", None), errors="coerce")
            if converted.notna().sum() == (frame[column] != "").sum():
                frame[column] = converted
    return restore_frame(frame)


def read_json(file: Path) -> dict:
    """``scorecard.json`` or ``plan.json`` of a plan folder.

    Raises
    ------
    InputError
        The file cannot be read or is not valid JSON.
    """
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(file)) from None


def _measures(manifest: dict, territories: pd.DataFrame) -> list[str]:
    balance = (manifest.get("scenario") or {}).get("balance")
    if isinstance(balance, dict) and balance:
        return [m for m in balance if f"{m}_in_band" in territories.columns]
    return [c[: -len("_in_band")] for c in territories.columns if c.endswith("_in_band")]
