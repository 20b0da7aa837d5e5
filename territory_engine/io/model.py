"""The loaded inputs of a scenario: :class:`Tables`.

Its own module so that the loader (:mod:`territory_engine.io.load`) and the
what-if step it ends with (:mod:`territory_engine.io.whatif`) both import it
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from territory_engine.geo.travel import TravelTimes


@dataclass(frozen=True)
class Tables:
    """Validated input tables; ``accounts`` carries the ``unit_id`` holding each account.

    ``travel``: the scenario's travel times (rep × unit minutes), or ``None`` for km.
    """

    accounts: gpd.GeoDataFrame
    reps: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    edges: pd.DataFrame | None = None
    travel: TravelTimes | None = None
