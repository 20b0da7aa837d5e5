"""The plan scorecard: fairness and quality numbers from account-level inputs.

Everything is recomputable by hand from ``assignments.csv`` and the input
data: loads are sums of account values per territory, fair shares come from
the scenario's bands, travel is the great-circle distance from each account to
its territory's centre (the rep's home).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.geo.distance import haversine_km
from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.metrics.kernels import measure_balance, per_group_mean_max


@dataclass(frozen=True)
class ScoringInputs:
    """Account-level view of a plan, all arrays aligned.

    Attributes
    ----------
    territory_ids, rep_ids
        (k,) labels.
    centres
        (k, 2) lon/lat of territory centres.
    fair_share, lower, upper
        (k, m) fair share and band of each measure.
    measure_names
        (m,) names.
    account_territory
        (N,) territory index per account.
    account_values
        (N, m) account values of the measures.
    account_xy
        (N, 2) lon/lat.
    account_potential
        (N,) potential.
    account_previous
        (N,) previous rep id ("" for none).
    unit_adjacency
        (n, n) adjacency of problem units, or ``None``.
    account_unit
        (N,) problem unit per account, or ``None``.
    unit_territory
        (n,) territory per unit (-1 where a unit holds no account), or ``None``.
    """

    territory_ids: list[str]
    rep_ids: list[str]
    centres: np.ndarray
    fair_share: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    measure_names: list[str]
    account_territory: np.ndarray
    account_values: np.ndarray
    account_xy: np.ndarray
    account_potential: np.ndarray
    account_previous: np.ndarray
    unit_adjacency: sp.csr_matrix | None = None
    unit_territory: np.ndarray | None = None


def account_travel_km(inputs: ScoringInputs) -> np.ndarray:
    """(N,) km from each account to its territory's centre."""
    c = inputs.centres[inputs.account_territory]
    xy = inputs.account_xy
    return haversine_km(xy[:, 0], xy[:, 1], c[:, 0], c[:, 1])


def territory_table(inputs: ScoringInputs) -> pd.DataFrame:
    """One row per territory: totals, fair share, band, deviation, in-band, travel."""
    k = len(inputs.territory_ids)
    t = inputs.account_territory
    out = pd.DataFrame({"territory_id": inputs.territory_ids, "rep_id": inputs.rep_ids})
    out["n_accounts"] = np.bincount(t, minlength=k)
    for j, name in enumerate(inputs.measure_names):
        total = np.bincount(t, weights=inputs.account_values[:, j], minlength=k)
        tau = inputs.fair_share[:, j]
        out[name] = total
        out[f"{name}_fair_share"] = tau
        out[f"{name}_low"] = inputs.lower[:, j]
        out[f"{name}_high"] = inputs.upper[:, j]
        out[f"{name}_dev_pct"] = np.where(tau > 0, 100 * (total / np.where(tau > 0, tau, 1) - 1), 0)
        tol = 1e-9 * np.maximum(np.abs(tau), 1.0)
        out[f"{name}_in_band"] = (total >= inputs.lower[:, j] - tol) & (
            total <= inputs.upper[:, j] + tol
        )
    travel = account_travel_km(inputs)
    mean, mx = per_group_mean_max(travel, t, k)
    out["travel_mean_km"] = mean
    out["travel_max_km"] = mx
    return out


def scorecard(inputs: ScoringInputs, quotas: pd.DataFrame | None = None) -> dict:
    """Plan-level and per-territory fairness numbers.

    Returns
    -------
    dict
        ``balance`` (per measure: see
        :func:`territory_engine.metrics.kernels.measure_balance`, plus
        ``territories_out_of_band``), ``travel`` (account-weighted mean km,
        max km, potential-weighted mean km), ``disruption`` (accounts and
        potential whose owner changes, and their shares; reps affected),
        ``contiguity`` (territories in more than one piece, cut edges) when a
        unit graph is given, ``quota`` (quota-to-potential ratio CV) when
        quotas are given, and ``territories`` (the per-territory table as records).
    """
    table = territory_table(inputs)
    card: dict = {
        "n_territories": len(inputs.territory_ids),
        "n_accounts": len(inputs.account_territory),
    }
    card["balance"] = {}
    for j, name in enumerate(inputs.measure_names):
        stats = measure_balance(table[name].to_numpy(), inputs.fair_share[:, j])
        stats["territories_out_of_band"] = int((~table[f"{name}_in_band"]).sum())
        card["balance"][name] = stats
    travel = account_travel_km(inputs)
    pot = inputs.account_potential
    card["travel"] = {
        "mean_km": float(travel.mean()) if len(travel) else 0.0,
        "max_km": float(travel.max()) if len(travel) else 0.0,
        "potential_weighted_mean_km": float(np.average(travel, weights=pot))
        if pot.sum() > 0
        else 0.0,
        "max_territory_mean_km": float(table["travel_mean_km"].max()) if len(table) else 0.0,
    }
    card["disruption"] = disruption(
        inputs.account_previous, np.asarray(inputs.rep_ids)[inputs.account_territory], pot
    )
    if inputs.unit_adjacency is not None and inputs.unit_territory is not None:
        card["contiguity"] = contiguity_stats(
            inputs.unit_adjacency, inputs.unit_territory, len(inputs.territory_ids)
        )
    if quotas is not None and len(quotas) and "potential" in table:
        q = table[["territory_id", "potential"]].merge(
            quotas[["territory_id", "quota"]], how="left"
        )
        q2p = q["quota"].to_numpy(float) / np.maximum(q["potential"].to_numpy(float), 1e-9)
        card["quota"] = {
            "total": float(quotas["quota"].sum()),
            "quota_to_potential_mean": float(np.nanmean(q2p)),
            "quota_to_potential_cv": float(np.nanstd(q2p) / np.nanmean(q2p)),
        }
    card["territories"] = table.replace({np.inf: None}).to_dict(orient="records")
    return card


def disruption(previous: np.ndarray, new: np.ndarray, potential: np.ndarray) -> dict:
    """Accounts and potential whose owner changes (accounts with no previous owner never count).

    ``reps_affected`` counts reps who lose or gain at least one account.
    """
    prev = np.asarray(previous).astype(str)
    new = np.asarray(new).astype(str)
    had = prev != ""
    moved = had & (prev != new)
    total_p = float(np.sum(potential))
    affected = set(prev[moved].tolist()) | set(new[moved].tolist())
    return {
        "moved_accounts": int(moved.sum()),
        "moved_accounts_share": float(moved.sum() / max(had.sum(), 1)),
        "moved_potential": float(np.sum(potential[moved])),
        "moved_potential_share": float(np.sum(potential[moved]) / total_p) if total_p > 0 else 0.0,
        "reps_affected": len(affected - {""}),
    }


def contiguity_stats(adjacency: sp.csr_matrix, unit_territory: np.ndarray, k: int) -> dict:
    """Pieces per territory and cut edges over units that hold accounts or are assigned.

    Units with ``unit_territory == -1`` are ignored (they belong to nobody).
    """
    assigned = unit_territory >= 0
    idx = np.flatnonzero(assigned)
    sub = adjacency[idx][:, idx].tocsr()
    ut = unit_territory[idx]
    pieces = pieces_per_territory(sub, ut, k)
    coo = sub.tocoo()
    cut = int(np.sum(ut[coo.row] != ut[coo.col]) // 2)
    return {
        "territories_in_pieces": int(np.sum(pieces > 1)),
        "max_pieces": int(pieces.max()) if len(pieces) else 0,
        "cut_edges": cut,
    }
