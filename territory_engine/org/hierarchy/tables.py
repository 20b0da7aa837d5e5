"""The hierarchy's tables: ``hierarchy.csv``, the polygons of ``hierarchy.geojson``.

``hierarchy.csv`` is ``territory_id, rep_id, <level 1>, <level 2>, ..., manager``
(one column per level name, bottom up; ``manager`` runs the territory's level-1
group). :func:`read_hierarchy` is the one reader other features (forecasts,
KPIs) use.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from territory_engine.errors import InputError
from territory_engine.io.safe_cells import restore_frame
from territory_engine.plan.files import HIERARCHY, HIERARCHY_GEOJSON

__all__ = [
    "carry_hierarchy",
    "hierarchy_geometry",
    "hierarchy_levels",
    "read_hierarchy",
    "read_hierarchy_geometry",
]


def read_hierarchy(plan_dir: Path | str) -> pd.DataFrame | None:
    """``hierarchy.csv`` of a plan folder, every cell as text, or ``None`` when it has none.

    Returns
    -------
    pandas.DataFrame or None
        ``territory_id, rep_id, <level 1>, ..., manager`` in the file's order.

    Raises
    ------
    InputError
        The file is unreadable or lacks ``territory_id`` or ``manager``.
    """
    path = Path(plan_dir) / HIERARCHY
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    missing = [c for c in ("territory_id", "rep_id", "manager") if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=str(path))
    # The writer neutralised formula-like cells; give the names back as they were.
    return restore_frame(frame)


def hierarchy_levels(table: pd.DataFrame) -> list[str]:
    """The level columns of a ``hierarchy.csv`` table, bottom up."""
    return [c for c in table.columns if c not in ("territory_id", "rep_id", "manager")]


def carry_hierarchy(
    table: pd.DataFrame, territories: pd.DataFrame, donors: dict[str, str] | None = None
) -> pd.DataFrame:
    """``hierarchy.csv`` carried over to ``territories`` (a changed plan), groups unchanged.

    A territory of ``table`` keeps its groups and manager (its ``rep_id`` is the
    plan's now); a territory of ``table`` no longer in the plan leaves; a new
    one joins every group of its donor (``donors``: new territory id -> a
    territory of ``table``, e.g. the one it took most units from), so the groups
    still nest.

    Raises
    ------
    InputError
        A territory that is neither in ``table`` nor has a donor in it.
    """
    rows = table.assign(territory_id=table["territory_id"].astype(str)).drop_duplicates(
        "territory_id"
    )
    rows = rows.set_index("territory_id")
    donors = donors or {}
    out = []
    for tid, rep in zip(
        territories["territory_id"].astype(str),
        territories["rep_id"].fillna("").astype(str),
        strict=True,
    ):
        source = tid if tid in rows.index else donors.get(tid)
        if source is None or source not in rows.index:
            raise InputError(
                f"has no row for territory {tid} and no neighbour to take its groups from; "
                "redraw it with territory-engine hierarchy",
                file=HIERARCHY,
            )
        out.append({**rows.loc[source].to_dict(), "territory_id": tid, "rep_id": rep})
    return pd.DataFrame(out, columns=list(table.columns))


def read_hierarchy_geometry(plan_dir: Path | str) -> gpd.GeoDataFrame | None:
    """``hierarchy.geojson`` of a plan folder, or ``None`` when it has none."""
    path = Path(plan_dir) / HIERARCHY_GEOJSON
    if not path.is_file():
        return None
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean "unreadable"
        raise InputError(f"cannot read: {exc}", file=str(path)) from None
    for column in ("level", "id", "name", "parent", "manager_id", "manager_name"):
        if column in frame.columns:
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def hierarchy_geometry(
    groups: pd.DataFrame, table: pd.DataFrame, territories: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The (multi)polygon of every group: the union of its territories' polygons.

    Parameters
    ----------
    groups
        One row per group (``level``, ``id`` and the group's numbers).
    table
        ``hierarchy.csv`` (territory -> group of each level).
    territories
        The plan's territory polygons (``territory_id``, geometry, EPSG:4326).

    Returns
    -------
    geopandas.GeoDataFrame
        ``groups`` with a geometry column, in EPSG:4326.
    """
    polys = territories[["territory_id", "geometry"]].copy()
    polys["territory_id"] = polys["territory_id"].astype(str)
    frames = []
    for level in hierarchy_levels(table):
        members = table[["territory_id", level]].rename(columns={level: "id"})
        joined = gpd.GeoDataFrame(
            members.merge(polys, on="territory_id", how="left"),
            geometry="geometry",
            crs=territories.crs,
        )
        joined = joined[joined.geometry.notna() & ~joined.geometry.is_empty]
        dissolved = joined.dissolve(by="id", as_index=False)[["id", "geometry"]]
        dissolved.insert(0, "level", level)
        frames.append(dissolved)
    shapes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    out = groups.merge(shapes, on=["level", "id"], how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=territories.crs).to_crs(4326)
