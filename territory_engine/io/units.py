"""Load the unit layer (counties, ZIP areas, custom polygons, H3 cells); place accounts in units."""

from __future__ import annotations

import math
import os
from collections.abc import Hashable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.spatial import cKDTree

from territory_engine.config.scenario import DataConfig, H3UnitsConfig
from territory_engine.errors import InputError, ScenarioError
from territory_engine.geo.distance import distance_matrix_km
from territory_engine.geo.h3_units import (
    account_cells,
    cell_polygons,
    connected_cells,
    point_units,
    split_cells,
    unit_sphere_xyz,
)
from territory_engine.io.tables import (
    SOURCE_FILE_ATTR,
    as_text,
    check_geometry_types,
    check_ids,
    check_lonlat_bounds,
    has_geometry,
    keep_source,
    raise_for_rows,
    read_table,
    require_crs,
)

_POLYGONS = ("Polygon", "MultiPolygon")
# Conformal, metric and worldwide: it ranks nearby candidate units correctly
# anywhere but near the poles; the reported distance is then measured on the
# ellipsoid, so the projection's scale error does not reach the planner.
_NEAREST_CRS = "EPSG:3395"


def read_units(
    path: str | os.PathLike[str],
    *,
    id_column: str = "unit_id",
    layer: str | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read and check a polygon layer of units.

    Ids are read as text, so ZIP codes keep their leading zeros (``"02134"``)
    wherever the file stores them as text.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile or GeoParquet with a CRS.
    id_column
        The column holding the unit ids; renamed ``unit_id``.
    layer
        GeoPackage layer, needed only when the file has several.
    crs
        ``data.units_crs``: the CRS of a layer that carries none (e.g.
        ``"EPSG:4269"``); a layer whose own CRS differs is an error.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, column ``unit_id`` (strings, unique, non-empty) first, the
        other attributes next, ``geometry`` (valid Polygon/MultiPolygon) last.
        Invalid polygons are repaired with :func:`shapely.make_valid`, keeping
        their polygonal part. The index and ``attrs`` carry feature numbers.

    Raises
    ------
    InputError
        On a layer without geometry or CRS, a missing, empty or repeated id, or
        a feature whose geometry is missing, not a polygon, or empty.
    """
    frame = read_table(path, kind="units", required=[id_column], id_column=id_column, layer=layer)
    if not has_geometry(frame):
        raise InputError(
            "has no polygons; units must be a polygon layer (GeoPackage, GeoJSON, Shapefile "
            "or GeoParquet)",
            file=str(path),
        )
    if id_column != "unit_id" and "unit_id" in frame.columns:
        raise InputError(
            f"has both the id column {id_column!r} and a column 'unit_id'; rename or drop "
            "'unit_id'",
            file=str(path),
            column="unit_id",
        )
    frame = _apply_crs(frame, crs, file=path)
    require_crs(frame, file=path)
    check_ids(frame, id_column, file=path)
    check_geometry_types(frame, _POLYGONS, noun="a polygon", file=path, id_column=id_column)
    frame = _repair(frame, file=path, id_column=id_column)
    units = frame.to_crs("EPSG:4326")
    check_lonlat_bounds(units, file=path, id_column=id_column)
    # Reprojection can bend a barely valid ring into a self-touching one.
    units = _repair(units, file=path, id_column=id_column)
    units = units.rename(columns={id_column: "unit_id"})
    if units.geometry.name != "geometry":
        units = units.rename_geometry("geometry")
    extra = [name for name in units.columns if name not in ("unit_id", "geometry")]
    return keep_source(units[["unit_id", *extra, "geometry"]], frame)


def _apply_crs(
    frame: gpd.GeoDataFrame, crs: str | None, *, file: str | os.PathLike[str]
) -> gpd.GeoDataFrame:
    """Declare ``data.units_crs`` on a layer without a CRS; say how to when it is missing."""
    if crs is None:
        if frame.crs is None:
            raise InputError(
                "the units layer has no CRS; add a .prj / CRS to the file or set it in the "
                "scenario, e.g. data.units_crs: EPSG:4326 (lon/lat) or EPSG:4269 (NAD83)",
                file=str(file),
                column="geometry",
            )
        return frame
    try:
        wanted = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        raise ScenarioError(
            f"data.units_crs: {crs!r} is not a CRS (use an EPSG code, e.g. EPSG:4326)"
        ) from None
    if frame.crs is not None:
        if frame.crs != wanted:
            raise InputError(
                f"the units layer has the CRS {frame.crs.to_string()} but data.units_crs is "
                f"{crs}; remove data.units_crs (it is for layers without a CRS) or fix the file",
                file=str(file),
                column="geometry",
            )
        return frame
    return keep_source(frame.set_crs(wanted), frame)


def _repair(
    frame: gpd.GeoDataFrame, *, file: str | os.PathLike[str], id_column: str
) -> gpd.GeoDataFrame:
    """Repair invalid polygons, keeping their polygonal part; raise if none is left."""
    invalid = ~frame.geometry.is_valid.to_numpy()
    if not invalid.any():
        return frame
    repaired = [
        _polygonal_part(geometry) for geometry in shapely.make_valid(frame.geometry[invalid])
    ]
    geometry = frame.geometry.copy()
    geometry[invalid] = repaired
    raise_for_rows(
        frame,
        geometry.is_empty,
        file=file,
        column="geometry",
        id_column=id_column,
        describe=lambda _: "polygon has no area once repaired; fix or remove this feature",
    )
    return keep_source(frame.set_geometry(geometry), frame)


def _polygonal_part(geometry: shapely.Geometry) -> shapely.Geometry:
    """Keep the polygons of a repaired geometry (``make_valid`` may add lines or points)."""
    if geometry.geom_type in _POLYGONS:
        return geometry
    parts = [part for part in shapely.get_parts(geometry) if part.geom_type in _POLYGONS]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def locate_accounts(
    accounts: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    accounts_file: str | os.PathLike[str],
    snap_km: float = 0.0,
    units_file: str | os.PathLike[str] | None = None,
) -> pd.Series:
    """Find the unit of each account by a spatial join.

    A point on a border shared by several units goes to the lowest ``unit_id``
    (string order), so the answer never depends on the file order.

    Parameters
    ----------
    accounts
        Points, as returned by :func:`~territory_engine.io.accounts.read_accounts`.
    units
        Polygons with a ``unit_id`` column, as returned by :func:`read_units`.
    accounts_file
        The accounts file, for the messages.
    snap_km
        An account outside every unit is given the nearest unit when that unit
        is at most this many kilometres away (geodesic distance); 0 disables it.
    units_file
        The units file, for the messages; by default the file `units` was read
        from.

    Returns
    -------
    pandas.Series
        ``unit_id`` of each account, named ``unit_id``, with the index of `accounts`.

    Raises
    ------
    InputError
        For an account outside every unit and farther than `snap_km` from the
        nearest one, naming its row, its id, the nearest unit and its distance.
    ScenarioError
        When `snap_km` is negative or not finite.
    """
    if not (math.isfinite(snap_km) and snap_km >= 0):
        raise ScenarioError(f"units.snap_km must be a number >= 0, got {snap_km!r}")
    units_name = str(units_file or units.attrs.get(SOURCE_FILE_ATTR, "the units layer"))
    if len(units) == 0:
        raise InputError("has no units", file=units_name)
    points = gpd.GeoDataFrame(
        {"position": np.arange(len(accounts))}, geometry=accounts.geometry.array, crs=accounts.crs
    )
    polygons = gpd.GeoDataFrame(
        {"unit_id": units["unit_id"].to_numpy()}, geometry=units.geometry.array, crs=units.crs
    ).to_crs(points.crs)
    hits = gpd.sjoin(points, polygons, how="inner", predicate="intersects")
    hits = hits.sort_values(["position", "unit_id"]).drop_duplicates("position")
    found = np.full(len(accounts), None, dtype=object)
    found[hits["position"].to_numpy()] = hits["unit_id"].to_numpy()
    outside = np.flatnonzero(pd.isna(found))
    if len(outside):
        nearest, km = _nearest_units(points.iloc[outside], polygons)
        close = km <= snap_km if snap_km > 0 else np.zeros(len(outside), dtype=bool)
        found[outside[close]] = nearest[close]
        far = np.zeros(len(accounts), dtype=bool)
        far[outside[~close]] = True
        _raise_outside(accounts, far, outside, nearest, km, accounts_file, units_name, snap_km)
    return pd.Series(found, index=accounts.index, name="unit_id").astype(str)


def _nearest_units(
    points: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest unit of each point and the geodesic distance to it in kilometres."""
    projected_points = points.to_crs(_NEAREST_CRS)
    projected_polygons = polygons.to_crs(_NEAREST_CRS)
    pairs = gpd.sjoin_nearest(projected_points, projected_polygons, distance_col="distance")
    # Ties between units at the same distance go to the lowest unit_id.
    pairs = pairs.sort_values(["position", "distance", "unit_id"]).drop_duplicates("position")
    pairs = pairs.set_index("position").loc[points["position"].to_numpy()]
    # Closest point of the unit's boundary, found in the conformal projection and
    # measured on the WGS84 ellipsoid.
    lines = shapely.shortest_line(
        pairs.geometry.array,
        projected_polygons.geometry.array[pairs["index_right"].to_numpy()],
    )
    ends = gpd.GeoSeries(shapely.get_point(lines, 1), crs=_NEAREST_CRS).to_crs("EPSG:4326")
    starts = points.geometry.to_crs("EPSG:4326")
    _, _, metres = pyproj.Geod(ellps="WGS84").inv(
        starts.x.to_numpy(), starts.y.to_numpy(), ends.x.to_numpy(), ends.y.to_numpy()
    )
    return pairs["unit_id"].to_numpy(dtype=object), np.asarray(metres) / 1000.0


def _raise_outside(
    accounts: gpd.GeoDataFrame,
    far: np.ndarray,
    outside: np.ndarray,
    nearest: np.ndarray,
    km: np.ndarray,
    accounts_file: str | os.PathLike[str],
    units_name: str,
    snap_km: float,
) -> None:
    """Raise for the first account that is outside every unit and not snapped."""
    where = {accounts.index[position]: i for i, position in enumerate(outside)}
    fix = "raise units.snap_km" if snap_km > 0 else "set units.snap_km"

    def describe(label: Hashable) -> str:
        i = where[label]
        return (
            f"lies outside every unit of {units_name} (nearest: {nearest[i]}, "
            f"{km[i]:.1f} km away); fix its coordinates or {fix}"
        )

    raise_for_rows(
        accounts,
        far,
        file=accounts_file,
        column="lat/lon",
        id_column="account_id",
        describe=describe,
    )


def h3_units(
    accounts: gpd.GeoDataFrame,
    resolution: int,
    *,
    carry: Sequence[str] = (),
    split_share: float | None = None,
    territories: int | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Units of H3 cells built from the accounts' points (``data.units: {h3: RES}``).

    The cells holding accounts, one ring of empty cells around them and the
    grid paths joining what is left apart, so the unit graph is connected
    (:func:`territory_engine.geo.h3_units.connected_cells`).

    Parameters
    ----------
    accounts
        Points in EPSG:4326, as returned by
        :func:`~territory_engine.io.accounts.read_accounts`.
    resolution
        H3 resolution, 0..15.
    carry
        Account columns a cell takes from its accounts (e.g. ``state``, for
        ``quota.region_key``): the most frequent value of its accounts (ties: the
        lowest), for an empty cell the value of the nearest cell with accounts.
        Columns the accounts lack are skipped.
    split_share, territories
        With both, a cell holding more than ``split_share`` of a fair
        territory's potential, workload or accounts (the accounts' total over
        ``territories``) is split into its seven children
        (:func:`territory_engine.geo.h3_units.split_cells`): city cores get
        finer units, the country stays coarse.

    Returns
    -------
    (geopandas.GeoDataFrame, pandas.Series)
        The units layer as :func:`read_units` returns it: ``unit_id`` (the H3
        cell id), ``name`` (the same), ``h3_resolution``, ``accounts`` (how many
        it holds), the carried columns, ``geometry`` (the cell's polygon,
        EPSG:4326); and the ``unit_id`` of each account, with the accounts' index.

    Raises
    ------
    ScenarioError
        When the region needs more than
        :data:`~territory_engine.geo.h3_units.MAX_H3_CELLS` cells (too fine a
        resolution for the accounts' spread).
    """
    import h3

    points = accounts.geometry.to_crs("EPSG:4326")
    of_account = account_cells(points.x.to_numpy(), points.y.to_numpy(), resolution)
    cells, left, right, _ = connected_cells(of_account)
    if split_share is not None and territories:
        heavy = _heavy_cells(accounts, of_account, cells, split_share, territories)
        if heavy:
            cells, _, _ = split_cells(cells, left, right, heavy)
            of_account = point_units(points.x.to_numpy(), points.y.to_numpy(), cells, resolution)
    counts = pd.Series(of_account).value_counts()
    units = pd.DataFrame(
        {"unit_id": cells, "name": cells, "h3_resolution": [h3.get_resolution(c) for c in cells]}
    )
    units["accounts"] = counts.reindex(cells).fillna(0).astype(int).to_numpy()
    centre = np.array([h3.cell_to_latlng(c) for c in cells])
    occupied = units["accounts"].to_numpy() > 0
    nearest = cKDTree(unit_sphere_xyz(centre[occupied, 0], centre[occupied, 1])).query(
        unit_sphere_xyz(centre[:, 0], centre[:, 1])
    )[1]
    for column in (c for c in dict.fromkeys(carry) if c in accounts.columns and c != "unit_id"):
        values = pd.DataFrame({"cell": of_account, "value": as_text(accounts[column]).to_numpy()})
        modal = (
            values.groupby(["cell", "value"])
            .size()
            .reset_index(name="n")
            .sort_values(["cell", "n", "value"], ascending=[True, False, True])
            .drop_duplicates("cell")
            .set_index("cell")["value"]
        )
        units[column] = modal.reindex(np.asarray(cells)[occupied]).to_numpy()[nearest]
    layer = gpd.GeoDataFrame(units, geometry=cell_polygons(cells), crs="EPSG:4326")
    layer.attrs[SOURCE_FILE_ATTR] = f"H3 cells (resolution {resolution})"
    return layer, pd.Series(of_account, index=accounts.index, name="unit_id")


def _heavy_cells(
    accounts: gpd.GeoDataFrame,
    of_account: Sequence[str],
    cells: Sequence[str],
    split_share: float,
    territories: int,
) -> list[str]:
    """Cells holding more than ``split_share`` of a fair territory's potential, workload
    or accounts."""
    index = {c: i for i, c in enumerate(cells)}
    position = np.array([index[c] for c in of_account])
    share = np.bincount(position, minlength=len(cells)) / (len(of_account) / territories)
    for column in ("potential", "workload_hours"):
        if column in accounts.columns:
            values = pd.to_numeric(accounts[column], errors="coerce").fillna(0.0).to_numpy()
            total = float(values.sum())
            if total > 0:
                held = np.bincount(position, weights=values, minlength=len(cells))
                share = np.maximum(share, held / (total / territories))
    return [c for c, x in zip(cells, share, strict=True) if x > split_share]


def scenario_units(
    data: DataConfig,
    accounts: gpd.GeoDataFrame,
    *,
    carry: Sequence[str] = (),
    territories: int | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The units a scenario names and the unit of each account.

    A polygon layer (:func:`read_units`, accounts placed by :func:`locate_accounts`)
    or, for ``data.units: {h3: RES}``, H3 cells built from the accounts
    (:func:`h3_units`, with ``carry`` columns; ``split_share`` counts a fair share
    over ``territories``).
    """
    if isinstance(data.units, H3UnitsConfig):
        return h3_units(
            accounts,
            data.units.h3,
            carry=carry,
            split_share=data.units.split_share,
            territories=territories,
        )
    units = read_units(
        data.units, id_column=data.unit_id_column, layer=data.units_layer, crs=data.units_crs
    )
    unit_of = locate_accounts(
        accounts, units, accounts_file=str(data.accounts), snap_km=data.snap_km
    )
    return units, unit_of


def home_units(reps: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> np.ndarray:
    """The ``unit_id`` holding each rep's home; a home outside every unit takes the nearest.

    Nearest is by great-circle distance to a point inside each unit's polygon
    (a unit × unit travel matrix is read from the rep's home unit, so a home
    just off the map still needs one). A home on a shared border takes the lowest
    ``unit_id``.
    """
    points = gpd.GeoDataFrame(
        {"position": np.arange(len(reps))}, geometry=reps.geometry.array, crs=reps.crs
    ).to_crs("EPSG:4326")
    polygons = gpd.GeoDataFrame(
        {"unit_id": units["unit_id"].astype(str).to_numpy()},
        geometry=units.geometry.array,
        crs=units.crs,
    ).to_crs("EPSG:4326")
    hits = gpd.sjoin(points, polygons, how="inner", predicate="intersects")
    hits = hits.sort_values(["position", "unit_id"]).drop_duplicates("position")
    found = np.full(len(reps), None, dtype=object)
    found[hits["position"].to_numpy()] = hits["unit_id"].to_numpy()
    outside = np.flatnonzero(pd.isna(found))
    if len(outside):
        inner = polygons.geometry.representative_point()
        km = distance_matrix_km(
            np.column_stack(
                [points.geometry.x.to_numpy()[outside], points.geometry.y.to_numpy()[outside]]
            ),
            np.column_stack([inner.x.to_numpy(), inner.y.to_numpy()]),
        )
        found[outside] = polygons["unit_id"].to_numpy()[np.argmin(km, axis=1)]
    return found.astype(str)
