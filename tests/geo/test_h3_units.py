"""H3 cells as units: built from points, connected by empty cells, polygons for the map."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from territory_engine.errors import ScenarioError
from territory_engine.geo.h3_units import (
    account_cells,
    cell_adjacency,
    cell_polygons,
    connected_cells,
    point_units,
    split_cells,
)
from territory_engine.io.units import h3_units

# Two clusters about 150 km apart (Atlanta and Macon): far enough that the cells
# with accounts and their rings form two components before the joining path.
ATLANTA = (-84.39, 33.75)
MACON = (-83.63, 32.84)


def _points(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([ATLANTA, MACON])[np.arange(n) % 2]
    xy = centres + rng.normal(0.0, 0.05, size=(n, 2))
    return xy[:, 0], xy[:, 1]


def _components(cells: list[str]) -> int:
    left, right = cell_adjacency(cells)
    adj = sp.coo_matrix((np.ones(len(left)), (left, right)), shape=(len(cells),) * 2)
    return int(connected_components(adj, directed=False)[0])


def test_far_clusters_are_joined_by_a_path_of_empty_cells():
    lon, lat = _points()
    occupied = account_cells(lon, lat, 7)
    assert _components(sorted(set(occupied))) > 1  # the raw cells are apart
    cells, left, right, joins = connected_cells(occupied)
    assert _components(cells) == 1
    assert joins >= 1
    assert set(occupied) <= set(cells)
    # One ring around each occupied cell is kept.
    for cell in set(occupied):
        assert set(h3.grid_disk(cell, 1)) <= set(cells)
    assert len(left) == len(right) > 0


def test_polygons_contain_their_cell_centres_and_are_lon_lat():
    cells = sorted(set(account_cells(*_points(4), 6)))
    for cell, polygon in zip(cells, cell_polygons(cells), strict=True):
        lat, lon = h3.cell_to_latlng(cell)
        assert polygon.is_valid and polygon.contains(shapely.Point(lon, lat))
        assert -85 < polygon.centroid.x < -83  # x is longitude


def test_too_many_cells_are_refused_before_they_are_built():
    lon, lat = _points()
    with pytest.raises(ScenarioError, match=r"more than 50 H3 cells at H3 resolution 9.*coarser"):
        connected_cells(account_cells(lon, lat, 9), max_cells=50)


def test_h3_units_layer_has_ids_names_counts_and_carried_columns():
    lon, lat = _points()
    state = np.where(np.arange(len(lon)) % 2 == 0, "GA-north", "GA-south")
    accounts = gpd.GeoDataFrame(
        {"account_id": [f"A{i}" for i in range(len(lon))], "state": state},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    units, unit_of = h3_units(accounts, 7, carry=["state", "missing_column"])
    assert list(units.columns) == [
        "unit_id",
        "name",
        "h3_resolution",
        "accounts",
        "state",
        "geometry",
    ]
    assert units.crs.to_epsg() == 4326
    assert units["unit_id"].is_unique
    assert int(units["accounts"].sum()) == len(accounts)
    assert (units["accounts"] == 0).any()  # the rings and the path are empty cells
    assert set(units["state"]) == {"GA-north", "GA-south"}
    by_id = units.set_index("unit_id")
    for point, cell, st in zip(accounts.geometry, unit_of, state, strict=True):
        assert by_id.loc[cell, "geometry"].buffer(1e-9).contains(point)
        assert by_id.loc[cell, "state"] == st


def test_split_cells_gives_connected_mixed_resolution_units_that_touch():
    centre = h3.latlng_to_cell(ATLANTA[1], ATLANTA[0], 5)
    cells = sorted(h3.grid_disk(centre, 2))  # 19 cells
    left, right = cell_adjacency(cells)
    heavy = [centre, sorted(h3.grid_ring(centre, 1))[0]]
    units, l2, r2 = split_cells(cells, left, right, heavy)
    assert len(units) == 19 - 2 + 14
    assert set(units[:17]) == set(cells) - set(heavy)
    assert all(h3.get_resolution(u) == 6 for u in units[17:])
    adj = sp.coo_matrix((np.ones(len(l2)), (l2, r2)), shape=(len(units), len(units)))
    assert connected_components(adj, directed=False)[0] == 1
    assert (l2 < r2).all()
    # Every pair is a real neighbourhood: the polygons touch (H3 children tile their
    # parent only approximately, so within about a metre).
    polys = cell_polygons(units)
    gaps = [polys[a].distance(polys[b]) for a, b in zip(l2.tolist(), r2.tolist(), strict=True)]
    assert max(gaps) < 1e-5
    # A whole cell that borders the split centre cell touches some of its children.
    ring = [u for u in units[:17] if h3.grid_distance(u, centre) == 1]
    child_index = {u: i for i, u in enumerate(units)}
    touching = {(a, b) for a, b in zip(l2.tolist(), r2.tolist(), strict=True)}
    for u in ring:
        i = child_index[u]
        assert any(
            (min(i, j), max(i, j)) in touching
            for j in range(17, len(units))
            if h3.cell_to_parent(units[j], 5) == centre
        )


def test_points_land_in_the_child_of_a_split_cell_or_in_their_whole_cell():
    centre = h3.latlng_to_cell(ATLANTA[1], ATLANTA[0], 5)
    cells = sorted(h3.grid_disk(centre, 2))
    left, right = cell_adjacency(cells)
    units, _, _ = split_cells(cells, left, right, [centre])
    lat, lon = h3.cell_to_latlng(centre)
    far = h3.cell_to_latlng(sorted(h3.grid_ring(centre, 2))[0])
    got = point_units([lon, far[1]], [lat, far[0]], units, 5)
    assert h3.get_resolution(got[0]) == 6 and h3.cell_to_parent(got[0], 5) == centre
    assert got[1] == sorted(h3.grid_ring(centre, 2))[0]
    assert set(got) <= set(units)
