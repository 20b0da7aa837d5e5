"""Great-circle distances (km) between lon/lat points, vectorised."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in km; arguments broadcast like numpy arrays.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Degrees (WGS84). Any broadcastable shapes.

    Returns
    -------
    numpy.ndarray
        Distances in km, the broadcast shape of the inputs.
    """
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(a, dtype=float)) for a in (lon1, lat1, lon2, lat2)
    )
    dlat = lat2 - lat1
    dlon = lon2 - lon1
    a = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_matrix_km(xy_a: np.ndarray, xy_b: np.ndarray) -> np.ndarray:
    """All distances (km) between points ``xy_a`` (n, 2) and ``xy_b`` (k, 2), lon/lat order."""
    return haversine_km(xy_a[:, None, 0], xy_a[:, None, 1], xy_b[None, :, 0], xy_b[None, :, 1])
