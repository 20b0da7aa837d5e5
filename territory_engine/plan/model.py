"""``Plan``: a solved alignment turned into account-level tables, plus provenance."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

ASSIGNMENT_COLUMNS = [
    "account_id",
    "territory_id",
    "rep_id",
    "unit_id",
    "previous_rep_id",
    "moved",
    "kept_for_relationship",
]


@dataclass(frozen=True)
class Plan:
    """A territory plan.

    Attributes
    ----------
    assignments
        One row per account: :data:`ASSIGNMENT_COLUMNS`.
    territories
        One row per territory (see :func:`territory_engine.metrics.territory_table`),
        with ``rep_name`` and ``segment``.
    quotas
        One row per territory: ``territory_id, rep_id, quota`` and method columns.
    geometry
        Territory polygons (EPSG:4326), one row per territory.
    provenance
        Manifest: scenario, hash, seed, solver statistics, versions, timings.
    quota_splits
        One row per territory and period: ``territory_id, rep_id, period,
        period_start, quota, ramp_factor`` (``quota_splits.csv``); each
        territory's periods sum exactly to its quota.
    units
        The plan's geography: one row per (geo unit, segment layer) with the
        territory holding it, empty units included (``units.csv``), so that
        contiguity can be audited independently.
    hierarchy
        The drawn hierarchy (``hierarchy.csv``: ``territory_id, rep_id``, a column
        per level, ``manager``), or ``None`` when the scenario draws none.
    hierarchy_geometry
        The hierarchy's group polygons (``hierarchy.geojson``), or ``None``.
    """

    assignments: pd.DataFrame
    territories: pd.DataFrame
    quotas: pd.DataFrame
    geometry: gpd.GeoDataFrame
    provenance: dict = field(default_factory=dict)
    quota_splits: pd.DataFrame = field(default_factory=pd.DataFrame)
    units: pd.DataFrame = field(default_factory=pd.DataFrame)
    hierarchy: pd.DataFrame | None = None
    hierarchy_geometry: gpd.GeoDataFrame | None = None


def assignments_frame(
    account_ids: np.ndarray,
    account_territory: np.ndarray,
    territory_ids: tuple[str, ...],
    territory_rep: tuple[str, ...],
    account_geo_unit: np.ndarray,
    previous_rep: np.ndarray,
    kept: np.ndarray | None = None,
) -> pd.DataFrame:
    """The ``assignments.csv`` table.

    ``moved`` is true when the account had an owner last year and the new
    owner differs (a new account never counts as moved).
    ``kept_for_relationship`` is true when the account stays with a rep who
    knows it, outside the territory covering its county (see
    :func:`territory_engine.metrics.adapters.relationship_inputs`).
    """
    rep = np.asarray(territory_rep, dtype=object)[account_territory].astype(str)
    prev = np.asarray(previous_rep).astype(str)
    return pd.DataFrame(
        {
            "account_id": np.asarray(account_ids).astype(str),
            "territory_id": np.asarray(territory_ids, dtype=object)[account_territory].astype(str),
            "rep_id": rep,
            "unit_id": np.asarray(account_geo_unit).astype(str),
            "previous_rep_id": prev,
            "moved": (prev != "") & (prev != rep),
            "kept_for_relationship": np.zeros(len(rep), dtype=bool)
            if kept is None
            else np.asarray(kept, dtype=bool),
        }
    )[ASSIGNMENT_COLUMNS]
