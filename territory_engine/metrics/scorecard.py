"""The plan scorecard: fairness and quality numbers from account-level inputs.

Everything is recomputable by hand from ``assignments.csv`` and the input
data: loads are sums of account values per territory, fair shares come from
the scenario's bands, travel is the great-circle distance from each account to
its territory's centre (the rep's home), or the scenario's travel times in
minutes from the rep's home to the account's unit (``travel.unit: min``).

:func:`scorecard` returns a frozen :class:`~territory_engine.metrics.card.Scorecard`;
``Scorecard.to_dict()`` is ``scorecard.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from territory_engine.geo.distance import haversine_km
from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.metrics.attainment import AttainmentModel, attainment_summary
from territory_engine.metrics.card import (
    Contiguity,
    Disruption,
    MeasureBalance,
    QuotaEquity,
    QuotaSection,
    Relationships,
    RepDisruption,
    Scorecard,
    Travel,
)
from territory_engine.metrics.kernels import (
    coefficient_of_variation,
    gini,
    measure_balance,
    per_group_mean_max,
)
from territory_engine.metrics.relationships import (
    family_split,
    proximity_summary,
    relationship_retention,
)
from territory_engine.problem.data import count_cut_edges


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
    account_ids
        (N,) account ids, or ``None``; needed for relationship retention.
    tie_rep, tie_account
        (E,) rep–account edges of the relationship graph, or ``None``.
    account_proximity
        (N,) proximity of each account to its new rep, or ``None``.
    account_kept
        (N,) accounts kept with a rep for a relationship, or ``None``.
    account_family
        (N,) top-level parent of each account, or ``None``.
    account_travel
        (N,) travel of each account to its territory's centre in ``travel_unit``
        (given travel times), or ``None``: great-circle km from ``account_xy``.
    travel_unit
        ``"km"``, or ``"min"`` with ``account_travel``.
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
    account_ids: np.ndarray | None = None
    tie_rep: np.ndarray | None = None
    tie_account: np.ndarray | None = None
    account_proximity: np.ndarray | None = None
    account_kept: np.ndarray | None = None
    account_family: np.ndarray | None = None
    account_travel: np.ndarray | None = None
    travel_unit: str = "km"


def account_travel_km(inputs: ScoringInputs) -> np.ndarray:
    """(N,) travel from each account to its territory's centre: km, or the given minutes."""
    if inputs.account_travel is not None:
        return np.asarray(inputs.account_travel, dtype=float)
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


def scorecard(
    inputs: ScoringInputs,
    quotas: pd.DataFrame | None = None,
    *,
    attainment: AttainmentModel | None = None,
    allocation: dict[str, Any] | None = None,
) -> Scorecard:
    """Plan-level and per-territory fairness numbers.

    Parameters
    ----------
    inputs
        The plan at account level.
    quotas
        ``territory_id, quota`` (``quotas.csv``), or ``None``.
    attainment
        The expected-attainment model (its ``expected_sales`` aligned with
        ``inputs.territory_ids``), or ``None`` to skip the simulation.
    allocation
        How the quotas were allocated (``QuotaResult.summary``), recorded as
        ``quota.allocation`` when there are quotas.

    Returns
    -------
    Scorecard
        ``balance`` (per measure: see
        :func:`territory_engine.metrics.kernels.measure_balance`, plus
        ``territories_out_of_band``), ``travel`` (account-weighted mean km,
        max km, potential-weighted mean km), ``disruption`` (accounts and
        potential whose owner changes, and their shares; reps affected, with
        what each lost and gained), ``contiguity`` (territories in more than
        one piece, cut edges) when a unit graph is given, ``quota``
        (:func:`quota_section`) when quotas are given, ``relationships``
        (:func:`~territory_engine.metrics.relationships.relationship_retention`)
        when ties are given (with ``proximity_summary`` when proximity is given),
        ``families`` (:func:`~territory_engine.metrics.relationships.family_split`)
        when families are given, and ``territories`` (the per-territory table as
        records). ``compactness`` and ``scored`` are left for the caller to add
        with :func:`dataclasses.replace`.
    """
    table = territory_table(inputs)
    new_rep = np.asarray(inputs.rep_ids)[inputs.account_territory]
    contiguity = None
    if inputs.unit_adjacency is not None and inputs.unit_territory is not None:
        contiguity = contiguity_stats(
            inputs.unit_adjacency, inputs.unit_territory, len(inputs.territory_ids)
        )
    quota = None
    if quotas is not None and len(quotas) and "potential" in table:
        q = table[["territory_id", "potential"]].merge(
            quotas[["territory_id", "quota"]], how="left"
        )
        quota = quota_section(
            q["quota"].to_numpy(float),
            q["potential"].to_numpy(float),
            inputs.territory_ids,
            attainment,
            allocation=allocation,
        )
    families = None
    if inputs.account_family is not None:
        families = family_split(inputs.account_family, new_rep)
    return Scorecard(
        n_territories=len(inputs.territory_ids),
        n_accounts=len(inputs.account_territory),
        balance=balance_section(inputs, table),
        travel=travel_section(inputs, table),
        disruption=disruption(inputs.account_previous, new_rep, inputs.account_potential),
        contiguity=contiguity,
        quota=quota,
        relationships=relationships_section(inputs),
        families=families,
        territories=table.replace({np.inf: None}).to_dict(orient="records"),
    )


def balance_section(inputs: ScoringInputs, table: pd.DataFrame) -> dict[str, MeasureBalance]:
    """``balance``: :func:`measure_balance` of each measure and its territories out of band.

    Parameters
    ----------
    inputs
        The plan at account level.
    table
        Its :func:`territory_table`.
    """
    out: dict[str, MeasureBalance] = {}
    for j, name in enumerate(inputs.measure_names):
        stats = measure_balance(table[name].to_numpy(), inputs.fair_share[:, j])
        out[name] = {
            **stats,
            "territories_out_of_band": int((~table[f"{name}_in_band"]).sum()),
        }
    return out


def travel_section(inputs: ScoringInputs, table: pd.DataFrame) -> Travel:
    """``travel``: mean and max of accounts, potential-weighted mean, worst territory mean.

    In km, or in the minutes of given travel times (then ``unit: "min"``).

    Parameters
    ----------
    inputs
        The plan at account level.
    table
        Its :func:`territory_table`.
    """
    travel = account_travel_km(inputs)
    pot = inputs.account_potential
    section: Travel = {
        "mean_km": float(travel.mean()) if len(travel) else 0.0,
        "max_km": float(travel.max()) if len(travel) else 0.0,
        "potential_weighted_mean_km": float(np.average(travel, weights=pot))
        if pot.sum() > 0
        else 0.0,
        "max_territory_mean_km": float(table["travel_mean_km"].max()) if len(table) else 0.0,
    }
    if inputs.travel_unit != "km":
        # Only given travel times say so: a km scorecard keeps its keys (and bytes).
        section["unit"] = inputs.travel_unit
    return section


def relationships_section(inputs: ScoringInputs) -> Relationships | None:
    """``relationships``: retention of ties, then proximity when given; ``None`` without ties."""
    if inputs.tie_rep is None or inputs.tie_account is None or inputs.account_ids is None:
        return None
    pot = inputs.account_potential
    retention = relationship_retention(
        inputs.account_ids,
        np.asarray(inputs.rep_ids)[inputs.account_territory],
        inputs.account_previous,
        pot,
        inputs.tie_rep,
        inputs.tie_account,
    )
    if inputs.account_proximity is None:
        return {**retention}
    return {**retention, **proximity_summary(inputs.account_proximity, pot, inputs.account_kept)}


def disruption(previous: np.ndarray, new: np.ndarray, potential: np.ndarray) -> Disruption:
    """Accounts and potential whose owner changes (accounts with no previous owner never count).

    An account *moves* when it had an owner ``prev_i ≠ ""`` and ``new_i ≠ prev_i``.
    ``moved_accounts_share`` is over accounts that had an owner,
    ``moved_potential_share`` over all potential. ``reps_affected`` counts reps
    who lose or gain at least one account; ``reps_affected_detail`` lists, per
    such rep (sorted by id), the accounts and potential lost and gained.
    """
    prev = np.asarray(previous).astype(str)
    new = np.asarray(new).astype(str)
    potential = np.asarray(potential, dtype=float)
    had = prev != ""
    moved = had & (prev != new)
    total_p = float(np.sum(potential))
    affected = sorted((set(prev[moved].tolist()) | set(new[moved].tolist())) - {""})
    lost = pd.DataFrame({"rep": prev[moved], "p": potential[moved]}).groupby("rep")["p"]
    gained = pd.DataFrame({"rep": new[moved], "p": potential[moved]}).groupby("rep")["p"]
    lost_n, lost_p = lost.size(), lost.sum()
    gained_n, gained_p = gained.size(), gained.sum()
    detail: list[RepDisruption] = [
        {
            "rep_id": r,
            "accounts_lost": int(lost_n.get(r, 0)),
            "accounts_gained": int(gained_n.get(r, 0)),
            "potential_lost": float(lost_p.get(r, 0.0)),
            "potential_gained": float(gained_p.get(r, 0.0)),
        }
        for r in affected
    ]
    return {
        "moved_accounts": int(moved.sum()),
        "moved_accounts_share": float(moved.sum() / max(had.sum(), 1)),
        "moved_potential": float(np.sum(potential[moved])),
        "moved_potential_share": float(np.sum(potential[moved]) / total_p) if total_p > 0 else 0.0,
        "reps_affected": len(affected),
        "reps_affected_detail": detail,
    }


def quota_section(
    quota: np.ndarray,
    potential: np.ndarray,
    territory_ids: list[str],
    attainment: AttainmentModel | None = None,
    *,
    allocation: dict[str, Any] | None = None,
    source: str | None = None,
) -> QuotaSection:
    """The ``quota`` part of the scorecard.

    ``total`` (``Σ q``), :func:`quota_equity`, ``attainment``
    (:func:`~territory_engine.metrics.attainment.attainment_summary`) when a
    model is given, then ``allocation`` and ``source`` when given. Inputs are
    aligned with ``territory_ids``.
    """
    q = np.asarray(quota, dtype=float)
    out: QuotaSection = {"total": float(np.nansum(q)), **quota_equity(q, potential, territory_ids)}
    if attainment is not None:
        out["attainment"] = attainment_summary(np.nan_to_num(q), attainment, territory_ids)
    if allocation is not None:
        out["allocation"] = allocation
    if source is not None:
        out["source"] = source
    return out


def quota_equity(
    quota: np.ndarray, potential: np.ndarray, territory_ids: list[str] | None = None
) -> QuotaEquity:
    """Equity of quota: the quota-to-potential ratio ``ρ_t = q_t / P_t`` across territories.

    Territories without potential (``P_t = 0``) are left out of the statistics.

    Returns
    -------
    QuotaEquity
        ``quota_to_potential_mean`` (``μ = mean ρ``), ``quota_to_potential_cv``
        (``σ(ρ)/μ``, population σ), ``quota_to_potential_min``/``max``,
        ``quota_to_potential_gini`` (see :func:`~territory_engine.metrics.kernels.gini`)
        and ``quota_to_potential`` (territory id -> ``ρ_t``) when ids are given.
    """
    q = np.asarray(quota, dtype=float)
    p = np.asarray(potential, dtype=float)
    ok = (p > 0) & np.isfinite(q)
    ratio = np.full(len(q), np.nan)
    ratio[ok] = q[ok] / p[ok]
    r = ratio[ok]
    out: QuotaEquity = {
        "quota_to_potential_mean": float(r.mean()) if len(r) else 0.0,
        "quota_to_potential_cv": coefficient_of_variation(r),
        "quota_to_potential_min": float(r.min()) if len(r) else 0.0,
        "quota_to_potential_max": float(r.max()) if len(r) else 0.0,
        "quota_to_potential_gini": gini(r),
    }
    if territory_ids is not None:
        out["quota_to_potential"] = {
            str(t): (float(v) if np.isfinite(v) else None)
            for t, v in zip(territory_ids, ratio, strict=True)
        }
    return out


def contiguity_stats(adjacency: sp.csr_matrix, unit_territory: np.ndarray, k: int) -> Contiguity:
    """Pieces per territory and cut edges over units that hold accounts or are assigned.

    Units with ``unit_territory == -1`` are ignored (they belong to nobody).
    """
    assigned = unit_territory >= 0
    idx = np.flatnonzero(assigned)
    sub = adjacency[idx][:, idx].tocsr()
    ut = unit_territory[idx]
    pieces = pieces_per_territory(sub, ut, k)
    cut = count_cut_edges(sub, ut)
    return {
        "territories_in_pieces": int(np.sum(pieces > 1)),
        "max_pieces": int(pieces.max()) if len(pieces) else 0,
        "cut_edges": cut,
    }


def pieces_through_empty_units(adjacency: sp.csr_matrix, owner: np.ndarray, k: int) -> np.ndarray:
    """(k,) pieces of each territory when units without accounts may join any territory.

    A plan given only as account assignments does not say who holds the units
    without accounts. A territory is then one piece when its units are
    connected through its own units *or* units without accounts (``owner ==
    -1``): the plan can be drawn contiguous. Each connected region of empty
    units is contracted to one node per territory touching it, so one
    connected-components pass over ``O(edges)`` nodes answers for every
    territory at once. Units with no neighbour at all (exception units) are
    not counted, as in :func:`contiguity_stats`.

    Parameters
    ----------
    adjacency
        (n, n) symmetric unit adjacency.
    owner
        (n,) territory of each unit holding accounts, -1 for empty units.
    k
        Number of territories.
    """
    owner = np.asarray(owner)
    n = len(owner)
    coo = adjacency.tocoo()
    empty = owner < 0
    # Components of the empty units among themselves.
    ee = empty[coo.row] & empty[coo.col]
    empty_graph = sp.csr_matrix(
        (np.ones(int(ee.sum()), dtype=bool), (coo.row[ee], coo.col[ee])), shape=(n, n)
    )
    _, empty_comp = connected_components(empty_graph, directed=False)
    # Owned–owned edges inside one territory.
    same = ~empty[coo.row] & ~empty[coo.col] & (owner[coo.row] == owner[coo.col])
    rows, cols = [coo.row[same]], [coo.col[same]]
    # Owned unit u touching empty component c: an edge to the node (owner[u], c).
    touch = ~empty[coo.row] & empty[coo.col]
    u = coo.row[touch]
    pair = (
        owner[u].astype(np.int64) * (int(empty_comp.max()) + 1 if n else 1)
        + empty_comp[coo.col[touch]]
    )
    uniq, pair_node = np.unique(pair, return_inverse=True)
    rows.append(u)
    cols.append(n + pair_node)
    m = n + len(uniq)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = sp.csr_matrix((np.ones(len(r), dtype=bool), (r, c)), shape=(m, m))
    _, labels = connected_components(graph, directed=False)
    has_neighbour = np.diff(adjacency.indptr) > 0
    counted = ~empty & has_neighbour
    count = np.zeros(k, dtype=int)
    first = np.unique(labels[:n][counted], return_index=True)[1]
    np.add.at(count, owner[counted][first], 1)
    return count
