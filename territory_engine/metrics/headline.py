"""The headline numbers of a scorecard: what a sweep compares and the plan store lists.

One extraction for both. Units are in the names: ``_share`` is a fraction
(0.05 = 5 %), ``_pct`` a percentage, ``_km`` kilometres; a balance index is on
its own 0–100 scale. Callers whose stored contract uses another unit convert at
the call site (the plan store keeps ``potential_max_dev_pct = 100 ×
potential_max_dev_share``; a sweep records the shares under its historical
names, with NaN where this gives ``None``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from territory_engine.metrics.card import Scorecard

__all__ = ["Headline", "headline"]


@dataclass(frozen=True)
class Headline:
    """Plan-level numbers of a scorecard; ``None`` where the scorecard lacks one.

    Attributes
    ----------
    n_territories, n_accounts
        Counts.
    balance_max_dev_share
        Largest ``max_rel_dev`` (``max_t |x_t/τ_t − 1|``) over the measures asked
        for, as a fraction of the fair share.
    potential_max_dev_share
        ``max_rel_dev`` of potential, as a fraction.
    potential_balance_index
        Balance index of potential (0–100, 100 = every territory at its fair share).
    travel_mean_km
        Mean km from accounts to their territory's centre.
    moved_potential_share, moved_accounts_share
        Shares of potential (of all potential) and of accounts (of those that had
        an owner) whose owner changes.
    ties_kept_share
        Of accounts tied to their previous owner, the share still with a tied rep.
    potential_with_tie_share
        Share of potential whose new rep has a direct tie.
    quota_total
        Sum of the territories' quotas.
    """

    n_territories: int | None
    n_accounts: int | None
    balance_max_dev_share: float | None
    potential_max_dev_share: float | None
    potential_balance_index: float | None
    travel_mean_km: float | None
    moved_potential_share: float | None
    moved_accounts_share: float | None
    ties_kept_share: float | None
    potential_with_tie_share: float | None
    quota_total: float | None

    @property
    def potential_max_dev_pct(self) -> float | None:
        """``potential_max_dev_share`` as a percentage (100 × the share)."""
        share = self.potential_max_dev_share
        return None if share is None else 100.0 * share


def headline(card: Scorecard | Mapping[str, Any], measures: Sequence[str] = ()) -> Headline:
    """The headline numbers of a scorecard.

    Parameters
    ----------
    card
        A :class:`~territory_engine.metrics.card.Scorecard`, or ``scorecard.json``
        parsed (any mapping of that shape; missing sections give ``None``).
    measures
        The measures whose worst ``max_rel_dev`` is ``balance_max_dev_share``
        (the scenario's balance measures); none gives ``None``.

    Returns
    -------
    Headline
        Numbers that are missing, not numbers, or not finite are ``None``.
    """
    data = card.to_dict() if isinstance(card, Scorecard) else card
    balance = data.get("balance")
    devs = [_at(balance, m, "max_rel_dev") for m in measures]
    known = [d for d in devs if d is not None]
    return Headline(
        n_territories=_count(_at(data, "n_territories")),
        n_accounts=_count(_at(data, "n_accounts")),
        balance_max_dev_share=max(known) if known else None,
        potential_max_dev_share=_at(data, "balance", "potential", "max_rel_dev"),
        potential_balance_index=_at(data, "balance", "potential", "balance_index"),
        travel_mean_km=_at(data, "travel", "mean_km"),
        moved_potential_share=_at(data, "disruption", "moved_potential_share"),
        moved_accounts_share=_at(data, "disruption", "moved_accounts_share"),
        ties_kept_share=_at(data, "relationships", "ties_kept_share"),
        potential_with_tie_share=_at(data, "relationships", "potential_with_tie_share"),
        quota_total=_at(data, "quota", "total"),
    )


def _at(obj: object, *keys: str) -> float | None:
    """The finite number at ``obj[k1][k2]…``, else ``None``."""
    for key in keys:
        if not isinstance(obj, Mapping) or key not in obj:
            return None
        obj = obj[key]
    return _number(obj)


def _count(value: float | None) -> int | None:
    """A count as an int (``None`` stays ``None``)."""
    return None if value is None else int(value)


def _number(value: object) -> float | None:
    """``value`` as a finite float; ``None`` for ``None``, booleans, non-numbers, NaN, ±inf."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
        return None
    try:
        out = float(value)
    except ValueError:  # a string that is not a number
        return None
    return out if math.isfinite(out) else None
