"""Thin adapters from tables (pandas, geopandas) to the array inputs of the metrics."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.metrics.compactness import compactness_stats, local_equal_area_crs


def rep_account_ties(edges: pd.DataFrame | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(tie_rep, tie_account)`` arrays of the rep–account edges, or ``(None, None)``.

    ``edges`` is the checked edge table (rep first in ``rep-account`` edges,
    see :func:`territory_engine.io.edges.check_edges`).
    """
    if edges is None:
        return None, None
    ties = edges[edges["kind"] == "rep-account"]
    return (
        ties["source"].astype(str).to_numpy(),
        ties["target"].astype(str).to_numpy(),
    )


def territory_compactness(
    geometry: gpd.GeoDataFrame, territory_ids: Sequence[str], id_column: str = "territory_id"
) -> dict:
    """Polsby–Popper of each territory polygon, computed in a local equal-area projection.

    Parameters
    ----------
    geometry
        One (multi)polygon per territory (any CRS), with ``id_column``.
    territory_ids
        (k,) the order of the result; a territory without a polygon scores ``None``.
    """
    frame = geometry[geometry.geometry.notna() & ~geometry.geometry.is_empty]
    if len(frame) == 0:
        return compactness_stats(list(territory_ids), [None] * len(territory_ids))
    lonlat = frame.to_crs("EPSG:4326")
    projected = lonlat.to_crs(local_equal_area_crs(lonlat.total_bounds))
    by_id = dict(zip(projected[id_column].astype(str), projected.geometry, strict=True))
    polygons = [by_id.get(str(t)) for t in territory_ids]
    return compactness_stats([str(t) for t in territory_ids], polygons)
