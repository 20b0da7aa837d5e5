"""Thin adapters from tables (pandas, geopandas) to the array inputs of the metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.metrics.card import Compactness
from territory_engine.metrics.compactness import compactness_stats, local_equal_area_crs

if TYPE_CHECKING:
    from territory_engine.problem.build import ProblemIndex


class AccountFields(TypedDict):
    """The account-level fields of :class:`~territory_engine.metrics.ScoringInputs`."""

    account_xy: np.ndarray
    account_potential: np.ndarray
    account_previous: np.ndarray
    account_ids: np.ndarray
    tie_rep: np.ndarray | None
    tie_account: np.ndarray | None


class RelationshipArrays(TypedDict):
    """Per-account relationship arrays of a plan (:func:`relationship_inputs`)."""

    account_proximity: np.ndarray | None
    account_kept: np.ndarray | None
    account_family: np.ndarray | None


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


def account_fields(accounts: pd.DataFrame, edges: pd.DataFrame | None) -> AccountFields:
    """The account-level fields of :class:`~territory_engine.metrics.ScoringInputs`.

    ``account_xy``, ``account_potential``, ``account_previous``, ``account_ids``,
    ``tie_rep`` and ``tie_account``, from the accounts (point geometry) and the
    checked relationship edges (or ``None``).
    """
    tie_rep, tie_account = rep_account_ties(edges)
    return {
        "account_xy": np.column_stack([accounts.geometry.x, accounts.geometry.y]),
        "account_potential": accounts["potential"].to_numpy(float),
        "account_previous": accounts["current_rep_id"].astype(str).to_numpy(),
        "account_ids": accounts["account_id"].astype(str).to_numpy(),
        "tie_rep": tie_rep,
        "tie_account": tie_account,
    }


def territory_compactness(
    geometry: gpd.GeoDataFrame, territory_ids: Sequence[str], id_column: str = "territory_id"
) -> Compactness:
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


def relationship_inputs(
    accounts: pd.DataFrame,
    index: ProblemIndex,
    account_territory: np.ndarray,
    territory_rep: Sequence[str],
    unit_territory: np.ndarray,
) -> RelationshipArrays:
    """Per-account relationship arrays of a plan, for the scorecard's inputs.

    Parameters
    ----------
    accounts
        The accounts table (``account_id``, ``parent_account_id``).
    index
        The :class:`~territory_engine.problem.build.ProblemIndex` of the plan's problem.
    account_territory
        (N,) territory index of each account.
    territory_rep
        (k,) rep id of each territory.
    unit_territory
        (n,) territory of each problem unit.

    Returns
    -------
    RelationshipArrays
        ``account_proximity`` (proximity of each account to its new rep, ``None``
        without a relationship graph), ``account_kept`` (the account follows a
        relationship: it is a ``relationship`` exception unit whose rep is not
        the one covering its county in its segment layer, ``None`` when there
        are no such units) and ``account_family`` (top-level parent).
    """
    from territory_engine.problem.build import top_parent

    ids = accounts["account_id"].astype(str).to_numpy()
    new_rep = np.asarray(territory_rep, dtype=object)[account_territory].astype(str)
    out: RelationshipArrays = {
        "account_proximity": None,
        "account_kept": None,
        "account_family": top_parent(accounts).astype(str).to_numpy()
        if "parent_account_id" in accounts.columns
        else None,
    }
    if index.proximity is not None:
        out["account_proximity"] = index.proximity.pairs(new_rep, ids)
    kind = index.exception_kind
    if kind is not None and (kind == "relationship").any():
        unit = index.account_unit
        follows = kind[unit] == "relationship"
        # The geo unit of the account's own segment layer (the county it would follow).
        layer = pd.Series(
            np.flatnonzero(~index.exception_unit),
            index=pd.MultiIndex.from_arrays(
                [
                    index.unit_geo_id[~index.exception_unit],
                    index.unit_group_name[~index.exception_unit],
                ]
            ),
        )
        home = layer.reindex(
            pd.MultiIndex.from_arrays([index.unit_geo_id[unit], index.unit_group_name[unit]])
        ).to_numpy()
        home = np.where(follows & ~np.isnan(home), home, -1).astype(int)
        county_territory = np.where(home >= 0, unit_territory[np.maximum(home, 0)], -1)
        out["account_kept"] = follows & (county_territory != account_territory)
    return out
