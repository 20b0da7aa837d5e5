"""Differences between two plans, and where one rep stands in their team.

Pure functions of plan tables (see :mod:`territory_engine.plan.reader`); the pages
in :mod:`territory_engine.render` only draw what these return. Nothing here scores a
plan: the fairness numbers come from each plan's scorecard, and these functions
line them up, subtract, and summarise a team by its median and range.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "LOWER_IS_BETTER",
    "MOVE_COLUMNS",
    "ScorecardDelta",
    "moved_accounts",
    "rep_deltas",
    "scorecard_deltas",
    "team_standing",
]

#: Columns of ``moves.csv``.
MOVE_COLUMNS = (
    "account_id",
    "name",
    "segment",
    "potential",
    "from_territory_id",
    "from_rep_id",
    "from_rep_name",
    "to_territory_id",
    "to_rep_id",
    "to_rep_name",
)

#: Scorecard keys where a smaller number means a fairer or cheaper plan.
LOWER_IS_BETTER = frozenset(
    {
        "max_rel_dev",
        "cv",
        "gini",
        "max_min_ratio",
        "territories_out_of_band",
        "mean_km",
        "max_km",
        "potential_weighted_mean_km",
        "max_territory_mean_km",
        "moved_accounts",
        "moved_accounts_share",
        "moved_potential",
        "moved_potential_share",
        "reps_affected",
        "territories_in_pieces",
        "max_pieces",
        "cut_edges",
        "quota_to_potential_cv",
    }
)
#: Scorecard keys where a larger number is better.
HIGHER_IS_BETTER = frozenset({"balance_index"})


def moved_accounts(
    a: pd.DataFrame, b: pd.DataFrame, accounts: pd.DataFrame, reps: pd.DataFrame
) -> pd.DataFrame:
    """Accounts whose rep differs between plan A and plan B.

    Parameters
    ----------
    a, b
        ``assignments.csv`` of each plan (``account_id, territory_id, rep_id``).
    accounts
        Account attributes (``account_id``, and ``name``, ``segment``, ``potential``
        when known); plan B's, since that is where the accounts go.
    reps
        ``rep_id, name`` of the reps of both plans (names shown beside the ids).

    Returns
    -------
    pandas.DataFrame
        :data:`MOVE_COLUMNS`, one row per account present in both plans whose rep
        changes, by decreasing potential then account id. An account whose territory
        is renamed but which keeps its rep is not a move.
    """
    left = a[["account_id", "territory_id", "rep_id"]].rename(
        columns={"territory_id": "from_territory_id", "rep_id": "from_rep_id"}
    )
    right = b[["account_id", "territory_id", "rep_id"]].rename(
        columns={"territory_id": "to_territory_id", "rep_id": "to_rep_id"}
    )
    both = left.merge(right, on="account_id", how="inner")
    moved = both[both["from_rep_id"].astype(str) != both["to_rep_id"].astype(str)]
    info = accounts.drop_duplicates("account_id").set_index("account_id")
    out = moved.assign(
        name=moved["account_id"].map(info["name"]) if "name" in info else "",
        segment=moved["account_id"].map(info["segment"]) if "segment" in info else "",
        potential=(
            moved["account_id"].map(info["potential"]).astype(float)
            if "potential" in info
            else math.nan
        ),
    )
    names = reps.drop_duplicates("rep_id").set_index("rep_id")["name"]
    out = out.assign(
        from_rep_name=out["from_rep_id"].map(names).fillna(""),
        to_rep_name=out["to_rep_id"].map(names).fillna(""),
    )
    out = out.sort_values(["potential", "account_id"], ascending=[False, True], kind="stable")
    return out[list(MOVE_COLUMNS)].reset_index(drop=True)


def rep_deltas(
    territories_a: pd.DataFrame,
    territories_b: pd.DataFrame,
    quotas_a: pd.DataFrame,
    quotas_b: pd.DataFrame,
    measures: Sequence[str],
) -> pd.DataFrame:
    """Per-rep totals in both plans and their change (B − A).

    Parameters
    ----------
    territories_a, territories_b
        ``territories.csv`` of each plan.
    quotas_a, quotas_b
        ``quotas.csv`` of each plan.
    measures
        Balance measures to compare (``potential`` is always included).

    Returns
    -------
    pandas.DataFrame
        One row per rep present in either plan (vacant territories left out):
        ``rep_id, rep_name, segment``, then for each of ``n_accounts``, the measures,
        ``quota`` and ``travel_mean_km``: ``<col>_a``, ``<col>_b``, ``<col>_delta``
        (NaN where a plan has no such rep). Sorted by segment, then rep id.
    """
    columns = list(dict.fromkeys(["n_accounts", "potential", *measures]))

    def side(territories: pd.DataFrame, quotas: pd.DataFrame) -> pd.DataFrame:
        wanted = ("rep_id", "rep_name", "segment", *columns, "travel_mean_km")
        frame = territories[[c for c in wanted if c in territories]].copy()
        frame = frame[frame["rep_id"].astype(str) != ""]
        if "quota" in quotas:
            quota = quotas.groupby("rep_id")["quota"].sum()
            frame["quota"] = frame["rep_id"].map(quota)
        # One rep may hold several territories (count mode with fewer reps).
        numeric = [c for c in (*columns, "quota", "travel_mean_km") if c in frame]
        agg: dict[str, Any] = {c: "first" for c in ("rep_name", "segment") if c in frame}
        agg.update(dict.fromkeys(numeric, "sum"))
        if "travel_mean_km" in frame:
            agg["travel_mean_km"] = "mean"
        return frame.groupby("rep_id", sort=False).agg(agg)

    a = side(territories_a, quotas_a)
    b = side(territories_b, quotas_b)
    reps = list(dict.fromkeys([*a.index, *b.index]))
    out = pd.DataFrame({"rep_id": reps})
    for text in ("rep_name", "segment"):
        out[text] = [
            b[text].get(r) if r in b.index and text in b else a[text].get(r, "") for r in reps
        ]
    for column in [*columns, "quota", "travel_mean_km"]:
        va = a[column].reindex(reps).to_numpy(float) if column in a else np.full(len(reps), np.nan)
        vb = b[column].reindex(reps).to_numpy(float) if column in b else np.full(len(reps), np.nan)
        out[f"{column}_a"] = va
        out[f"{column}_b"] = vb
        out[f"{column}_delta"] = vb - va
    return out.sort_values(["segment", "rep_id"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class ScorecardDelta:
    """One plan-level number of two scorecards.

    Attributes
    ----------
    section
        Where it sits in the scorecard (``balance · potential``, ``travel`` …).
    key
        The scorecard key (``cv``, ``mean_km`` …).
    a, b
        The value in plan A and plan B (``None`` when a plan lacks it).
    delta
        ``b − a`` when both exist.
    better
        ``"b"`` when B is better, ``"a"`` when A is, ``""`` when equal or the key has
        no preferred direction.
    """

    section: str
    key: str
    a: float | None
    b: float | None
    delta: float | None
    better: str


def _leaves(
    card: dict, skip: frozenset[str], prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for key, value in card.items():
        if key == "territories" and not prefix:
            continue
        if isinstance(value, dict) and value and set(map(str, value)) <= skip:
            continue  # a per-territory breakdown, not a plan-level number
        if isinstance(value, dict):
            out.update(_leaves(value, skip, (*prefix, key)))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[(*prefix, key)] = float(value)
    return out


def scorecard_deltas(card_a: dict, card_b: dict) -> list[ScorecardDelta]:
    """Line up the plan-level numbers of two scorecards.

    Parameters
    ----------
    card_a, card_b
        ``scorecard.json`` of each plan; the per-territory table, and any mapping
        keyed by territory id (a per-territory breakdown), are left out.

    Returns
    -------
    list of ScorecardDelta
        Every numeric leaf of either scorecard, in plan A's order then B's extras.
    """
    territory_ids = frozenset(
        str(t.get("territory_id"))
        for card in (card_a, card_b)
        for t in card.get("territories") or []
        if isinstance(t, dict)
    )
    a, b = _leaves(card_a, territory_ids), _leaves(card_b, territory_ids)
    rows = []
    for path in dict.fromkeys([*a, *b]):
        va, vb = a.get(path), b.get(path)
        delta = None if va is None or vb is None else vb - va
        key = path[-1]
        better = ""
        if delta is not None and not math.isclose(delta, 0.0, abs_tol=1e-12):
            if key in LOWER_IS_BETTER:
                better = "b" if delta < 0 else "a"
            elif key in HIGHER_IS_BETTER:
                better = "b" if delta > 0 else "a"
        section = " · ".join(p.replace("_", " ") for p in path[:-1]) or "plan"
        rows.append(ScorecardDelta(section, key, va, vb, delta, better))
    return rows


def team_standing(
    territories: pd.DataFrame,
    quotas: pd.DataFrame,
    rep_id: str,
    measures: Sequence[str],
    *,
    team_column: str = "segment",
) -> pd.DataFrame:
    """Where one rep stands in their team: their value, the team median and range.

    The team is every rep with a territory in the same ``team_column`` value (the
    same segment, by default), the rep included. Only the median, minimum and
    maximum of the team are returned, never another rep's row.

    Parameters
    ----------
    territories
        ``territories.csv``.
    quotas
        ``quotas.csv``.
    rep_id
        The rep.
    measures
        Balance measures to include (``potential`` is always included).
    team_column
        Column of ``territories`` that defines the team.

    Returns
    -------
    pandas.DataFrame
        One row per figure (``n_accounts``, the measures, ``quota``,
        ``quota_to_potential``, ``travel_mean_km``) with ``figure, rep, median, min,
        max, team_size``.

    Raises
    ------
    KeyError
        If ``rep_id`` holds no territory.
    """
    terr = territories[territories["rep_id"].astype(str) != ""].copy()
    quota_cols = [c for c in ("quota", "quota_to_potential") if c in quotas]
    if quota_cols:
        terr = terr.merge(quotas[["territory_id", *quota_cols]], on="territory_id", how="left")
    mine = terr[terr["rep_id"].astype(str) == str(rep_id)]
    if mine.empty:
        raise KeyError(rep_id)
    team_value = mine[team_column].iloc[0] if team_column in terr else None
    team = terr if team_value is None else terr[terr[team_column] == team_value]
    figures = list(dict.fromkeys(["n_accounts", "potential", *measures]))
    figures += [*quota_cols, "travel_mean_km"]
    per_rep = team.groupby("rep_id")[[f for f in figures if f in team]].sum(min_count=1)
    if "travel_mean_km" in per_rep:
        per_rep["travel_mean_km"] = team.groupby("rep_id")["travel_mean_km"].mean()
    if "quota_to_potential" in per_rep:
        per_rep["quota_to_potential"] = team.groupby("rep_id")["quota_to_potential"].mean()
    rows = []
    for figure in figures:
        if figure not in per_rep:
            continue
        values = per_rep[figure].astype(float)
        rows.append(
            {
                "figure": figure,
                "rep": float(values.get(str(rep_id), math.nan)),
                "median": float(values.median()),
                "min": float(values.min()),
                "max": float(values.max()),
                "team_size": len(values),
            }
        )
    return pd.DataFrame(rows, columns=["figure", "rep", "median", "min", "max", "team_size"])
