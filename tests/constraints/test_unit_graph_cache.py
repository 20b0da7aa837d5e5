"""The contiguity check's unit graph is computed once per units table, and only for it."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import box

from territory_engine.constraints.contiguity import unit_graph


def _strip(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"unit_id": [f"u{i}" for i in range(n)]},
        geometry=[box(i, 0, i + 1, 1) for i in range(n)],
        crs="EPSG:4326",
    )


def test_the_same_table_reuses_its_graph_and_another_table_gets_its_own():
    units = _strip(4)
    first = unit_graph(units)
    assert unit_graph(units) is first  # cached for this table
    assert first.nnz == 6  # a strip of 4: three shared edges, both ways
    other = _strip(5)
    assert unit_graph(other) is not first and unit_graph(other).nnz == 8
    assert unit_graph(_strip(4)) is not first  # an equal but new table is computed afresh
