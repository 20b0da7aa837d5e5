"""The geography of a plan read from a folder: who holds each unit, and its polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.problem.build import ProblemIndex


def unit_owners(
    account_unit: np.ndarray, account_territory: np.ndarray, n_units: int
) -> tuple[np.ndarray, int]:
    """(n,) territory holding most accounts of each unit (-1 for none), and the split units.

    Ties go to the lower territory index.
    """
    if len(account_unit) == 0:
        return np.full(n_units, -1), 0
    k = int(account_territory.max()) + 1
    pairs, counts = np.unique(account_unit * k + account_territory, return_counts=True)
    unit, terr = pairs // k, pairs % k
    # Sort by unit, then count descending, then territory ascending: first row per unit wins.
    order = np.lexsort((terr, -counts, unit))
    unit, terr = unit[order], terr[order]
    first = np.r_[True, unit[1:] != unit[:-1]]
    owner = np.full(n_units, -1)
    owner[unit[first]] = terr[first]
    split = int(np.sum(np.bincount(unit, minlength=n_units) > 1))
    return owner, split


def fill_empty_units(adjacency: sp.csr_matrix, owner: np.ndarray) -> np.ndarray:
    """Give each unit without accounts the territory of its nearest owned unit (breadth first).

    At each step, every unowned unit touching owned units takes the lowest
    territory index among them. Units no owned unit can reach stay -1.
    """
    label = np.asarray(owner).copy()
    coo = adjacency.tocoo()
    while True:
        edge = (label[coo.row] < 0) & (label[coo.col] >= 0)
        if not edge.any():
            return label
        rows, cand = coo.row[edge], label[coo.col[edge]]
        best = pd.Series(cand).groupby(rows).min()
        label[best.index.to_numpy()] = best.to_numpy()


def plan_polygons(
    units: gpd.GeoDataFrame,
    index: ProblemIndex,
    unit_territory: np.ndarray,
    territory_ids: list[str],
) -> gpd.GeoDataFrame:
    """Dissolve the geo units of each territory (exception units add no polygon)."""
    keep = ~index.exception_unit & (unit_territory >= 0)
    geoms = units.set_index(units["unit_id"].astype(str)).geometry
    frame = gpd.GeoDataFrame(
        {"territory_id": np.asarray(territory_ids, dtype=object)[unit_territory[keep]]},
        geometry=geoms.loc[index.unit_geo_id[keep]].values,
        crs=units.crs,
    )
    return frame.dissolve(by="territory_id", as_index=False)[["territory_id", "geometry"]]
