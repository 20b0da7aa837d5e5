"""Place accounts in units: by the unit they name, else by their point.

An account whose ``unit_id`` cell is filled belongs to that unit (no geometry
needed; an account without coordinates then stands at a point inside its unit,
for distances and the map). Every other account is placed by its point
(coordinates or ZIP centroid) with :func:`territory_engine.io.units.scenario_units`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.config.scenario import DataConfig, H3UnitsConfig
from territory_engine.errors import InputError
from territory_engine.io.accounts import PLACED_BY
from territory_engine.io.tables import SOURCE_FILE_ATTR, check_known, keep_source, raise_for_rows
from territory_engine.io.units import read_units, scenario_units


def place_accounts(
    data: DataConfig,
    accounts: gpd.GeoDataFrame,
    *,
    carry: Sequence[str] = (),
    territories: int | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The scenario's units, and the accounts with their ``unit_id`` and a point each.

    Parameters
    ----------
    data
        The scenario's ``data`` section.
    accounts
        As returned by :func:`~territory_engine.io.accounts.read_accounts`.
    carry
        Account columns H3 units carry (see ``scenario_units``).
    territories
        How many territories share the accounts (for ``data.units.split_share``).

    Returns
    -------
    tuple
        ``(units, accounts)``; ``accounts`` gains ``unit_id`` (replacing the
        file's) and, where it had none, a point inside its unit.

    Raises
    ------
    InputError
        A ``unit_id`` that is not a unit of the layer (did-you-mean), a
        ``unit_id`` given with H3 units, or an account outside every unit.
    """
    accounts_file = str(accounts.attrs.get(SOURCE_FILE_ATTR, data.accounts))
    named = _named(accounts)
    if not named.any():
        with _zip_named(accounts):
            units, unit_of = scenario_units(data, accounts, carry=carry, territories=territories)
        return units, keep_source(accounts.assign(unit_id=unit_of.astype(str).to_numpy()), accounts)
    if isinstance(data.units, H3UnitsConfig):
        raise_for_rows(
            accounts,
            named,
            file=accounts_file,
            column="unit_id",
            id_column="account_id",
            describe=lambda _: (
                "names a unit, but data.units builds H3 cells from coordinates; give lat/lon "
                "or a zip and drop unit_id, or give a polygon layer as data.units"
            ),
        )
    if named.all():
        assert not isinstance(data.units, H3UnitsConfig)  # refused above
        units = read_units(
            data.units, id_column=data.unit_id_column, layer=data.units_layer, crs=data.units_crs
        )
        found = pd.Series(dtype=str)
    else:
        with _zip_named(accounts):
            units, found = scenario_units(
                data, accounts[~named], carry=carry, territories=territories
            )
    units_file = units.attrs.get(SOURCE_FILE_ATTR, str(data.units))
    check_known(
        accounts,
        "unit_id",
        units["unit_id"].astype(str),
        file=accounts_file,
        id_column="account_id",
        what=f"a unit_id of {units_file}",
        allow_empty=True,
    )
    unit_of = accounts["unit_id"].astype(str).to_numpy(dtype=object).copy()
    if len(found):
        unit_of[~named] = found.astype(str).to_numpy()
    out = accounts.assign(unit_id=unit_of.astype(str))
    return units, keep_source(_fill_points(out, units), accounts)


@contextmanager
def _zip_named(accounts: pd.DataFrame) -> Iterator[None]:
    """An account placed by ZIP that falls outside every unit is reported on its zip column."""
    try:
        yield
    except InputError as exc:
        if exc.column != "lat/lon" or exc.id is None or "placed_by" not in accounts.columns:
            raise
        by_zip = accounts["placed_by"][accounts["account_id"] == exc.id]
        if not (by_zip == PLACED_BY[1]).any():
            raise
        raise InputError(
            exc.detail.replace("fix its coordinates", "check its ZIP code, give lat/lon")
            + " (placed at the centroid of its ZIP code)",
            file=exc.file,
            row=exc.row,
            id=exc.id,
            column="zip",
        ) from None


def _named(accounts: pd.DataFrame) -> np.ndarray:
    """Accounts whose ``unit_id`` cell names their unit."""
    if "unit_id" not in accounts.columns:
        return np.zeros(len(accounts), dtype=bool)
    return (accounts["unit_id"].astype(str) != "").to_numpy()


def _fill_points(accounts: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A point inside its unit for each account that has none."""
    missing = ~np.isfinite(accounts["lat"].to_numpy(float))
    if not missing.any():
        return accounts
    inner = units.to_crs("EPSG:4326").geometry.representative_point()
    inner.index = units["unit_id"].astype(str).to_numpy()
    points = inner.loc[accounts["unit_id"].to_numpy()[missing]]
    lat = accounts["lat"].to_numpy(float).copy()
    lon = accounts["lon"].to_numpy(float).copy()
    lat[missing], lon[missing] = points.y.to_numpy(), points.x.to_numpy()
    geometry = accounts.geometry.array.copy()
    geometry[missing] = points.array
    out = accounts.assign(lat=lat, lon=lon)
    return out.set_geometry(gpd.GeoSeries(geometry, index=accounts.index, crs="EPSG:4326"))


def placement_counts(accounts: pd.DataFrame) -> dict[str, int]:
    """How many accounts were placed by coordinates, by ZIP code and by the unit they name."""
    if "placed_by" not in accounts.columns:
        return {name: 0 for name in PLACED_BY} | {PLACED_BY[0]: len(accounts)}
    counts = accounts["placed_by"].value_counts()
    return {name: int(counts.get(name, 0)) for name in PLACED_BY}


__all__ = ["place_accounts", "placement_counts"]
