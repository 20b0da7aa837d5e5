"""Build :class:`~territory_engine.quota.allocate.QuotaInputs` from the loaded tables.

The one adapter between tables (pandas, geopandas) and the array-only quota
code, shared by the pipeline, ``territory-engine quota`` and
``territory-engine score``.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from territory_engine.config.scenario import QuotaConfig, Scenario
from territory_engine.errors import ScenarioError, did_you_mean
from territory_engine.io.load import Tables
from territory_engine.io.tables import to_numbers
from territory_engine.metrics.attainment import AttainmentModel, expected_sales
from territory_engine.metrics.compactness import local_equal_area_crs
from territory_engine.quota.allocate import (
    QuotaInputs,
    QuotaResult,
    allocate,
    company_target,
    ramp_weights,
)
from territory_engine.quota.seasonality import HISTORY_COLUMNS


def quota_inputs(
    cfg: QuotaConfig,
    accounts: pd.DataFrame,
    reps: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    account_territory: np.ndarray,
    territory_ids: Sequence[str],
    territory_rep: Sequence[str],
    centres: np.ndarray | None = None,
    accounts_file: str = "accounts",
) -> QuotaInputs:
    """Per-territory quota inputs of a plan.

    Parameters
    ----------
    cfg
        The scenario's quota section.
    accounts
        Validated accounts (``potential``, ``last_year_revenue``; the monthly
        ``revenue_mNN`` columns when seasonality comes from history).
    reps
        Validated reps (``capacity_fte``, ``start_date``, ``last_year_quota``,
        ``segment``, home points).
    units
        Geo units, to find the region key (e.g. ``state``) at a rep's home
        when the reps table has no such column; may be ``None`` without regions.
    account_territory
        (N,) territory index of each account, in the accounts' row order.
    territory_ids, territory_rep
        (k,) territory labels and their rep ids ("" for none).
    centres
        (k, 2) lon/lat of territory centres, to place territories without a rep.
    accounts_file
        The accounts file, for error messages.

    Raises
    ------
    ScenarioError
        ``quota.region_key`` names a column of neither the reps nor the units.
    InputError
        A monthly revenue cell that is not a number.
    """
    k = len(territory_ids)
    t = np.asarray(account_territory, dtype=int)
    history = np.bincount(t, weights=accounts["last_year_revenue"].to_numpy(float), minlength=k)
    potential = np.bincount(t, weights=accounts["potential"].to_numpy(float), minlength=k)
    info = reps.set_index(reps["rep_id"].astype(str))
    present = [r for r in territory_rep if r and r in info.index]

    def per_territory(column: str, default: object) -> np.ndarray:
        values = info[column] if column in info.columns else pd.Series(dtype=object)
        return np.array(
            [values.get(r, default) if r else default for r in territory_rep], dtype=object
        )

    capacity = per_territory("capacity_fte", 1.0).astype(float)
    last_quota = per_territory("last_year_quota", 0.0).astype(float)
    start = per_territory("start_date", None)
    segment = per_territory("segment", "").astype(str)
    region_key = None
    if cfg.regions:
        region_key = _region_key(cfg.region_key, reps, units, territory_rep, centres, present)
    monthly = None
    if cfg.seasonality.source == "history":
        missing = [c for c in HISTORY_COLUMNS if c not in accounts.columns]
        if missing:
            raise ScenarioError(
                "quota.seasonality.source 'history' needs the monthly revenue columns "
                f"{HISTORY_COLUMNS[0]} ... {HISTORY_COLUMNS[-1]} in the accounts; missing: "
                f"{', '.join(missing)}"
            )
        monthly = np.zeros((k, len(HISTORY_COLUMNS)))
        for j, column in enumerate(HISTORY_COLUMNS):
            values = to_numbers(accounts, column, file=accounts_file, id_column="account_id")
            monthly[:, j] = np.bincount(t, weights=values.to_numpy(float), minlength=k)
    return QuotaInputs(
        territory_id=[str(x) for x in territory_ids],
        rep_id=[str(x) for x in territory_rep],
        history=history,
        potential=potential,
        capacity=capacity,
        last_year_revenue_total=float(accounts["last_year_revenue"].sum()),
        last_year_quota=last_quota,
        start_date=start,
        segment=segment,
        region_key=region_key,
        monthly_history=monthly,
    )


def _region_key(
    key: str,
    reps: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    territory_rep: Sequence[str],
    centres: np.ndarray | None,
    present: list[str],
) -> np.ndarray:
    """Region-key value per territory: a reps column, else the units column at the rep's home."""
    if key in reps.columns:
        by_rep = dict(zip(reps["rep_id"].astype(str), reps[key].astype(str), strict=True))
        if all(r in by_rep for r in territory_rep if r) and all(territory_rep):
            return np.array([by_rep[r] for r in territory_rep], dtype=object)
    if units is None or key not in units.columns:
        options = [str(c) for c in reps.columns if c != "geometry"]
        if units is not None:
            options += [str(c) for c in units.columns if c != "geometry"]
        raise ScenarioError(
            f"quota.region_key '{key}' is neither a reps column nor a units column"
            f"{did_you_mean(key, options)}; columns: {', '.join(dict.fromkeys(options))}"
        )
    homes = reps.set_index(reps["rep_id"].astype(str)).geometry
    xy = np.zeros((len(territory_rep), 2))
    for i, r in enumerate(territory_rep):
        if r and r in homes.index:
            xy[i] = (homes[r].x, homes[r].y)
        elif centres is not None:
            xy[i] = centres[i]
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:4326")
    polys = units[[key, "geometry"]].to_crs("EPSG:4326")
    inside = gpd.sjoin(points, polys, how="left", predicate="within").groupby(level=0).first()
    values = inside[key].reindex(points.index)
    missing = values.isna().to_numpy()
    if missing.any():
        # A home just off the coast (or in a gap of the layer) takes the nearest unit,
        # measured in a local equal-area projection rather than in degrees.
        crs = local_equal_area_crs(polys.total_bounds)
        near = gpd.sjoin_nearest(points[missing].to_crs(crs), polys.to_crs(crs), how="left")
        values[missing] = near.groupby(level=0).first()[key].reindex(points.index[missing])
    return values.astype(str).to_numpy(dtype=object)


def _plan_inputs(
    scenario: Scenario,
    tables: Tables,
    account_territory: np.ndarray,
    territory_ids: Sequence[str],
    territory_rep: Sequence[str],
    centres: np.ndarray | None,
) -> QuotaInputs:
    """:func:`quota_inputs` of a plan of ``scenario`` (parameters as :func:`plan_quotas`)."""
    return quota_inputs(
        scenario.quota,
        tables.accounts,
        tables.reps,
        tables.units,
        account_territory,
        territory_ids,
        territory_rep,
        centres,
        accounts_file=str(scenario.data.accounts),
    )


def plan_quotas(
    scenario: Scenario,
    tables: Tables,
    account_territory: np.ndarray,
    territory_ids: Sequence[str],
    territory_rep: Sequence[str],
    centres: np.ndarray | None = None,
) -> QuotaResult:
    """Quotas, splits and their summary for a plan (the quota step of the pipeline).

    Parameters
    ----------
    scenario
        The scenario (its ``quota`` section, and ``whatif.target_change``).
    tables
        The loaded input tables.
    account_territory
        (N,) territory index of each account, in the accounts' row order.
    territory_ids, territory_rep
        (k,) territory labels and rep ids.
    centres
        (k, 2) territory centres (to place territories without a rep in a region).
    """
    inputs = _plan_inputs(
        scenario, tables, account_territory, territory_ids, territory_rep, centres
    )
    result = allocate(scenario.quota, inputs, target_change=scenario.whatif.target_change)
    model = attainment_model(scenario, inputs, result.summary["target"], result.ramp_factor)
    return QuotaResult(
        quotas=result.quotas,
        splits=result.splits,
        summary=result.summary,
        ramp_factor=result.ramp_factor,
        attainment=model,
    )


def plan_attainment(
    scenario: Scenario,
    tables: Tables,
    account_territory: np.ndarray,
    territory_ids: Sequence[str],
    territory_rep: Sequence[str],
    centres: np.ndarray | None = None,
) -> AttainmentModel:
    """The expected-attainment model of :func:`plan_quotas`, without allocating quotas.

    What a plan scored against its own ``quotas.csv`` needs: the model depends on
    the scenario's target and each territory's ramp, not on the quotas the scenario
    would allocate (the capped LP and the rounding of :func:`allocate` are skipped).
    Parameters as :func:`plan_quotas`.
    """
    cfg = scenario.quota
    inputs = _plan_inputs(
        scenario, tables, account_territory, territory_ids, territory_rep, centres
    )
    target = round(company_target(cfg, inputs, scenario.whatif.target_change), 2)
    ramp = ramp_weights(cfg, inputs)[1].sum(axis=1)
    return attainment_model(scenario, inputs, target, ramp)


def attainment_model(
    scenario: Scenario, inputs: QuotaInputs, target: float, ramp: np.ndarray
) -> AttainmentModel:
    """The expected-attainment model of ``scenario.quota.attainment`` for these quotas.

    Expected sales ``E_i = r_i · P_i · c`` with ``c = expected_capture`` when
    given, else ``E_i = r_i · S_i · (1 + g)`` with ``g = expected_growth`` or,
    by default, the growth the target implies (``T / ΣS − 1``, so the company
    as a whole is expected to meet its target). Seeded by ``solver.seed``.

    ``target`` is the company target ``T`` (as the allocation's summary states it)
    and ``ramp`` the (n,) annual ramp factors ``r`` of the territories.
    """
    cfg = scenario.quota.attainment
    target = float(target)
    if cfg.expected_capture is not None:
        words = f"potential × {cfg.expected_capture:g} (quota.attainment.expected_capture) × ramp"
        growth = 0.0
    else:
        total = float(np.sum(inputs.history))
        growth = (
            cfg.expected_growth
            if cfg.expected_growth is not None
            else (target / total - 1 if total > 0 else 0.0)
        )
        words = f"last year's revenue of the territory's accounts × (1 {growth:+.4f}) × ramp " + (
            "(quota.attainment.expected_growth)"
            if cfg.expected_growth is not None
            else "(growth implied by the target)"
        )
    expected = expected_sales(
        inputs.potential,
        inputs.history,
        ramp,
        capture=cfg.expected_capture,
        growth=growth,
    )
    return AttainmentModel(
        expected_sales=expected,
        cv=cfg.cv,
        correlation=cfg.correlation,
        draws=cfg.draws,
        seed=scenario.solver.seed,
        healthy_low=cfg.healthy_low,
        healthy_high=cfg.healthy_high,
        description=words,
    )
