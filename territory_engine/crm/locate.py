"""Where a new account lies in the plan's geography, and which territory that gives it.

The unit of a new account is found as the loader finds an account's
(a point-in-polygon join on the scenario's units layer, the lowest ``unit_id`` on a
shared border; for ``data.units: {h3: RES}`` the H3 cell of the point). The plan's
``units.csv`` then says which territory holds that unit in each segment layer.
An account outside every unit of the plan, or in a unit without an eligible
territory, goes to the nearest unit that has one (distance to the unit's polygon,
in a projection centred on the account).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territory_engine.config import Scenario
from territory_engine.config.scenario import H3UnitsConfig
from territory_engine.errors import InputError
from territory_engine.plan.reader import PlanFolder

__all__ = ["locate_new_accounts", "unit_polygons"]


def unit_polygons(scenario: Scenario, unit_ids: list[str]) -> gpd.GeoDataFrame:
    """The polygons of the plan's units (``unit_id``, geometry in EPSG:4326).

    Parameters
    ----------
    scenario
        The plan's scenario: its ``data.units`` layer, or H3 cells.
    unit_ids
        The units of the plan's ``units.csv`` (H3 cells are built from them).
    """
    units = scenario.data.units
    if isinstance(units, H3UnitsConfig):
        from territory_engine.geo.h3_units import cell_polygons

        cells = list(dict.fromkeys(unit_ids))
        return gpd.GeoDataFrame(
            {"unit_id": cells}, geometry=cell_polygons(cells), crs="EPSG:4326"
        ).assign(h3_resolution=int(units.h3))
    from territory_engine.io.units import read_units

    data = scenario.data
    layer = read_units(
        units, id_column=data.unit_id_column, layer=data.units_layer, crs=data.units_crs
    )
    return gpd.GeoDataFrame(
        {"unit_id": layer["unit_id"].astype(str).to_numpy()},
        geometry=layer.geometry.to_crs("EPSG:4326").array,
        crs="EPSG:4326",
    )


def locate_new_accounts(
    accounts: gpd.GeoDataFrame,
    units: pd.DataFrame,
    segment: pd.Series,
    eligible: dict[str, list[str]],
    layer: dict[str, str],
    folder: PlanFolder,
    scenario: Scenario,
) -> dict[str, np.ndarray]:
    """Unit, territory rep and rule (``unit`` or ``nearest_outside``) of each new account.

    Parameters
    ----------
    accounts
        The new accounts (EPSG:4326 points).
    units
        The plan's ``units.csv``: ``unit_id, segment, territory_id``.
    segment
        Each account's segment, as the plan spells it.
    eligible
        Segment -> the reps (with a territory) who may sell to it.
    layer
        Segment -> the layer (team) of ``units.csv`` that holds its accounts.
    folder
        The plan (its territories name each territory's rep).
    scenario
        The plan's scenario (units layer, ``data.snap_km``).

    Returns
    -------
    dict of str to numpy.ndarray
        ``unit_id``, ``rep_id``, ``rule`` and ``distance_km`` (0 inside a unit),
        one entry per account.
    """
    rep_of = dict(
        zip(folder.territories["territory_id"], folder.territories["rep_id"], strict=True)
    )
    layers = units.assign(rep_id=units["territory_id"].map(rep_of).fillna(""))
    polygons = unit_polygons(scenario, layers["unit_id"].tolist())
    inside = _unit_of(accounts, polygons)
    n = len(accounts)
    out = {
        "unit_id": np.array(inside, dtype=object),
        "rep_id": np.full(n, "", dtype=object),
        "rule": np.full(n, "unit", dtype=object),
        "distance_km": np.zeros(n),
    }
    by_unit = {u: g for u, g in layers.groupby("unit_id", sort=False)}
    snap_km = float(getattr(scenario.data, "snap_km", 0.0) or 0.0)
    for i, (unit, seg) in enumerate(zip(inside, segment, strict=True)):
        ok = eligible[seg]
        rep = _layer_rep(by_unit.get(unit), layer[seg], ok) if unit is not None else None
        if rep is not None:
            out["rep_id"][i] = rep
            continue
        point = accounts.geometry.iloc[i]
        near, km, near_rep = _nearest(point, polygons, by_unit, layer[seg], ok)
        out["unit_id"][i], out["rep_id"][i], out["distance_km"][i] = near, near_rep, km
        # Outside every unit but within data.snap_km: the loader would have snapped it.
        snapped = unit is None and snap_km > 0 and km <= snap_km
        out["rule"][i] = "unit" if snapped else "nearest_outside"
    return out


def _unit_of(accounts: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> list[str | None]:
    """The unit holding each account (lowest ``unit_id`` on a border), or ``None``."""
    resolution = polygons["h3_resolution"].iloc[0] if "h3_resolution" in polygons.columns else None
    if resolution is not None:
        from territory_engine.geo.h3_units import account_cells

        known = set(polygons["unit_id"])
        cells = account_cells(accounts.geometry.x, accounts.geometry.y, int(resolution))
        return [c if c in known else None for c in cells]
    points = gpd.GeoDataFrame(
        {"position": np.arange(len(accounts))}, geometry=accounts.geometry.array, crs="EPSG:4326"
    )
    hits = gpd.sjoin(points, polygons[["unit_id", "geometry"]], predicate="intersects")
    hits = hits.sort_values(["position", "unit_id"]).drop_duplicates("position")
    found: list[str | None] = [None] * len(accounts)
    for position, unit in zip(hits["position"], hits["unit_id"], strict=True):
        found[int(position)] = str(unit)
    return found


def _layer_rep(rows: pd.DataFrame | None, layer: str, eligible: list[str]) -> str | None:
    """The rep holding the unit in the account's layer, else in another with an eligible rep."""
    if rows is None:
        return None
    ok = rows[rows["rep_id"].isin(eligible)]
    if ok.empty:
        return None
    own = ok[ok["segment"] == layer]
    return str((own if not own.empty else ok)["rep_id"].iloc[0])


def _nearest(
    point: shapely.Point,
    polygons: gpd.GeoDataFrame,
    by_unit: dict[str, pd.DataFrame],
    layer: str,
    eligible: list[str],
) -> tuple[str, float, str]:
    """The nearest unit with an eligible territory: its id, the km to it, its rep."""
    reps = {u: _layer_rep(rows, layer, eligible) for u, rows in by_unit.items()}
    candidates = polygons[polygons["unit_id"].map(lambda u: reps.get(u) is not None)]
    if candidates.empty:
        raise InputError(
            f"no unit of the plan has a territory of a rep who sells to team {layer!r}",
            file="units.csv",
            column="territory_id",
        )
    local = f"+proj=aeqd +lat_0={point.y} +lon_0={point.x} +datum=WGS84 +units=m +no_defs"
    metres = candidates.to_crs(local).distance(shapely.Point(0.0, 0.0)).to_numpy()
    order = np.lexsort((candidates["unit_id"].to_numpy(dtype=str), metres))
    best = order[0]
    unit = str(candidates["unit_id"].iloc[best])
    return unit, float(metres[best]) / 1000.0, str(reps[unit])
