"""Compactness of territory polygons: the Polsby–Popper score.

``PP = 4π · A / p²`` for a polygon of area ``A`` and perimeter ``p`` (all
parts and holes of a multipolygon counted): 1 for a disc, ``π/4 ≈ 0.785``
for a square, near 0 for a long thin or ragged shape. Areas and perimeters
must come from an equal-area projection (:func:`local_equal_area_crs`), never
from degrees.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS

from territory_engine.metrics.card import Compactness


def polsby_popper(polygons: Sequence[object] | np.ndarray) -> np.ndarray:
    """(k,) Polsby–Popper score ``4πA/p²`` of each (multi)polygon; NaN for empty ones.

    Parameters
    ----------
    polygons
        Shapely (multi)polygons in a projected, equal-area CRS (metres).
    """
    items = list(polygons)
    if len(items) == 0:
        return np.zeros(0)
    empty = shapely.Polygon()  # area and perimeter 0: scores NaN
    geoms = np.asarray([empty if g is None else g for g in items], dtype=object)
    area = shapely.area(geoms)
    perimeter = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, np.nan)
    return score


def local_equal_area_crs(bounds: Sequence[float]) -> CRS:
    """A Lambert azimuthal equal-area CRS centred on ``(minx, miny, maxx, maxy)`` in lon/lat.

    Centring on the data keeps shape (hence perimeter) distortion small over a
    region the size of a few states, and works outside the US (EPSG:5070 does not).
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m +no_defs"
    )


def compactness_stats(territory_ids: Sequence[str], polygons: Sequence[object]) -> Compactness:
    """Plan-level compactness: Polsby–Popper per territory, mean, min and median.

    Parameters
    ----------
    territory_ids
        (k,) labels.
    polygons
        (k,) territory polygons in an equal-area CRS (``None`` for a territory
        without one).

    Returns
    -------
    Compactness
        ``polsby_popper_mean``, ``polsby_popper_min``, ``polsby_popper_median``
        (over territories with a polygon) and ``polsby_popper`` (territory id ->
        score, ``None`` without a polygon).
    """
    pp = polsby_popper(polygons)
    ok = np.isfinite(pp)
    return {
        "polsby_popper_mean": float(pp[ok].mean()) if ok.any() else None,
        "polsby_popper_min": float(pp[ok].min()) if ok.any() else None,
        "polsby_popper_median": float(np.median(pp[ok])) if ok.any() else None,
        "polsby_popper": {
            str(t): (float(v) if np.isfinite(v) else None)
            for t, v in zip(territory_ids, pp, strict=True)
        },
    }
