"""The typed scorecard: its sections, and the one serialiser of ``scorecard.json``.

:func:`territory_engine.metrics.scorecard` returns a frozen :class:`Scorecard`.
Parts computed elsewhere (the quota allocation, polygon compactness, the provenance
of a re-scored folder) are passed to it as arguments or added with
:func:`dataclasses.replace`; nobody mutates a scorecard. :meth:`Scorecard.to_dict`
is the only way to ``scorecard.json``: it fixes the key order and hands out a copy
that shares nothing with the scorecard.

Sections are :class:`~typing.TypedDict` s, so a section is the very JSON object
``scorecard.json`` holds and each key is typed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, NotRequired, TypedDict

__all__ = [
    "BalanceStats",
    "Compactness",
    "Contiguity",
    "Disruption",
    "Families",
    "MeasureBalance",
    "ProximityStats",
    "QuotaEquity",
    "QuotaSection",
    "Relationships",
    "RepDisruption",
    "Retention",
    "Scorecard",
    "Scored",
    "Travel",
    "travel_unit",
]


class BalanceStats(TypedDict):
    """Balance of one measure (:func:`~territory_engine.metrics.kernels.measure_balance`)."""

    mean: float
    min: float
    max: float
    max_rel_dev: float
    cv: float
    gini: float
    max_min_ratio: float
    balance_index: float


class MeasureBalance(BalanceStats):
    """A ``balance`` entry of the scorecard: the statistics and the territories out of band."""

    territories_out_of_band: int


class Travel(TypedDict):
    """``travel``: from accounts to their territory's centre, in km or given minutes.

    ``unit`` is ``"min"`` when the scenario gives travel times
    (``data.travel_times``); the values are then minutes, under the same keys.
    Absent, travel is great-circle km (:func:`travel_unit` reads it).
    """

    mean_km: float
    max_km: float
    potential_weighted_mean_km: float
    max_territory_mean_km: float
    unit: NotRequired[str]


def travel_unit(card: Mapping[str, Any]) -> str:
    """What a scorecard's travel numbers are in: ``"km"`` or ``"min"`` (given travel times).

    The one reading of ``travel.unit``; renderers show it after every travel number.
    """
    travel = card.get("travel") or {}
    return str(travel.get("unit", "km")) if isinstance(travel, Mapping) else "km"


class RepDisruption(TypedDict):
    """One rep of ``disruption.reps_affected_detail``."""

    rep_id: str
    accounts_lost: int
    accounts_gained: int
    potential_lost: float
    potential_gained: float


class Disruption(TypedDict):
    """``disruption`` (:func:`~territory_engine.metrics.scorecard.disruption`)."""

    moved_accounts: int
    moved_accounts_share: float
    moved_potential: float
    moved_potential_share: float
    reps_affected: int
    reps_affected_detail: list[RepDisruption]


class Contiguity(TypedDict):
    """``contiguity``; a scored folder adds ``split_units`` and ``empty_units_from``."""

    territories_in_pieces: int
    max_pieces: int
    cut_edges: int
    split_units: NotRequired[int]
    empty_units_from: NotRequired[str]


class QuotaEquity(TypedDict):
    """Quota-to-potential ratios (:func:`~territory_engine.metrics.scorecard.quota_equity`)."""

    quota_to_potential_mean: float
    quota_to_potential_cv: float
    quota_to_potential_min: float
    quota_to_potential_max: float
    quota_to_potential_gini: float
    quota_to_potential: NotRequired[dict[str, float | None]]


class QuotaSection(QuotaEquity):
    """``quota``: ``total`` first, the equity ratios, then the optional parts.

    ``attainment`` (expected attainment), ``allocation`` (how the scenario allocated
    the quotas) and ``source`` (``"scenario"`` or ``"quotas.csv"``, on a scored folder).
    """

    total: float
    attainment: NotRequired[dict[str, Any]]
    allocation: NotRequired[dict[str, Any]]
    source: NotRequired[str]


class Retention(TypedDict):
    """Ties kept (:func:`~territory_engine.metrics.relationships.relationship_retention`)."""

    edges: int
    accounts_with_tie_share: float
    potential_with_tie_share: float
    previous_accounts_with_tie_share: float
    previous_potential_with_tie_share: float
    ties_kept_share: float
    ties_broken: int


class ProximityStats(TypedDict):
    """Proximity to the new rep (:func:`~territory_engine.metrics.relationships.proximity_summary`).

    Accounts kept for a relationship are counted only when tracked.
    """

    mean_proximity: float
    potential_weighted_proximity: float
    accounts_with_proximity_share: float
    kept_for_relationship: NotRequired[int]


class Relationships(Retention):
    """``relationships``: retention, then proximity when the scenario has a proximity graph."""

    mean_proximity: NotRequired[float]
    potential_weighted_proximity: NotRequired[float]
    accounts_with_proximity_share: NotRequired[float]
    kept_for_relationship: NotRequired[int]


class Families(TypedDict):
    """``families`` (:func:`~territory_engine.metrics.relationships.family_split`)."""

    families: int
    families_split: int
    accounts_in_split_families: int


class Compactness(TypedDict):
    """``compactness`` (:func:`~territory_engine.metrics.compactness.compactness_stats`)."""

    polsby_popper_mean: float | None
    polsby_popper_min: float | None
    polsby_popper_median: float | None
    polsby_popper: dict[str, float | None]


class Scored(TypedDict):
    """``scored``: which folder and scenario a re-scored card belongs to."""

    plan_folder: str
    scenario_name: str
    scenario_hash: str


@dataclass(frozen=True)
class Scorecard:
    """Plan-level and per-territory fairness numbers (``scorecard.json``).

    Attributes
    ----------
    n_territories, n_accounts
        Counts.
    balance
        Measure name -> its balance (:class:`MeasureBalance`).
    travel, disruption
        Always present.
    territories
        The per-territory table as records (one dict per territory, columns of
        :func:`~territory_engine.metrics.scorecard.territory_table`).
    contiguity
        With a unit graph.
    quota
        With quotas.
    relationships
        With a relationship graph.
    families
        With parent accounts.
    compactness
        With territory polygons.
    scored
        On a plan folder scored by ``territory-engine score``.
    """

    n_territories: int
    n_accounts: int
    balance: dict[str, MeasureBalance]
    travel: Travel
    disruption: Disruption
    territories: list[dict[str, Any]]
    contiguity: Contiguity | None = None
    quota: QuotaSection | None = None
    relationships: Relationships | None = None
    families: Families | None = None
    compactness: Compactness | None = None
    scored: Scored | None = None

    #: Top-level keys of ``scorecard.json``, in file order; absent sections are left out.
    KEYS: ClassVar[tuple[str, ...]] = (
        "n_territories",
        "n_accounts",
        "balance",
        "travel",
        "disruption",
        "contiguity",
        "quota",
        "relationships",
        "families",
        "territories",
        "compactness",
        "scored",
    )

    def to_dict(self) -> dict[str, Any]:
        """``scorecard.json`` as a dict: keys in :attr:`KEYS` order, ``None`` sections left out.

        Returns
        -------
        dict
            A deep copy: changing it never changes the scorecard or another
            ``to_dict()``.
        """
        out = {key: getattr(self, key) for key in self.KEYS}
        return copy.deepcopy({key: value for key, value in out.items() if value is not None})

    @classmethod
    def from_dict(cls, card: Mapping[str, Any]) -> Scorecard:
        """The scorecard of a ``scorecard.json`` (as :meth:`to_dict` writes it).

        Parameters
        ----------
        card
            The parsed JSON; it is copied, never kept.

        Raises
        ------
        ValueError
            A key that is not a scorecard section, or a missing required one.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(card) - known)
        if unknown:
            raise ValueError(f"not a scorecard section: {', '.join(unknown)}")
        required = {f.name for f in fields(cls) if f.default is not None}
        missing = [key for key in cls.KEYS if key in required and key not in card]
        if missing:
            raise ValueError(f"scorecard lacks {', '.join(missing)}")
        return cls(**copy.deepcopy(dict(card)))
