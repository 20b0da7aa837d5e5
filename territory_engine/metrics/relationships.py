"""Relationship retention: do accounts keep a rep they know?

A rep–account edge of the relationship graph is a *tie*. For each account
with new owner ``r``, ``tie_i = [(r, i) is an edge]``. Retention is the share
of accounts (and of potential) with a tie to their new rep; the same share for
last year's owners is reported beside it, and ``ties_broken`` counts accounts
whose previous owner had a tie and whose new owner has none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory_engine.metrics.card import Families, ProximityStats, Retention


def has_tie(
    rep: np.ndarray, account: np.ndarray, tie_rep: np.ndarray, tie_account: np.ndarray
) -> np.ndarray:
    """(N,) true where ``(rep[i], account[i])`` is one of the ties ``(tie_rep, tie_account)``."""
    if len(rep) == 0:
        return np.zeros(0, dtype=bool)
    if len(tie_rep) == 0:
        return np.zeros(len(rep), dtype=bool)
    # Pairs of ids as text, looked up in a set (faster than joined strings and isin).
    ties = set(zip(_text(tie_rep), _text(tie_account), strict=True))
    pairs = zip(_text(rep), _text(account), strict=True)
    return np.fromiter((pair in ties for pair in pairs), dtype=bool, count=len(rep))


def _text(ids: np.ndarray) -> list[str]:
    return np.asarray(ids).astype(str).tolist()


def relationship_retention(
    account_ids: np.ndarray,
    new_rep: np.ndarray,
    previous_rep: np.ndarray,
    potential: np.ndarray,
    tie_rep: np.ndarray,
    tie_account: np.ndarray,
) -> Retention:
    """Shares of accounts and potential whose (new, previous) rep has a direct tie.

    Parameters
    ----------
    account_ids, new_rep, previous_rep, potential
        (N,) per account (``previous_rep`` "" for none).
    tie_rep, tie_account
        (E,) the rep–account edges.

    Returns
    -------
    Retention
        ``edges`` (ties in the graph), ``accounts_with_tie_share``,
        ``potential_with_tie_share`` (new owners), ``previous_accounts_with_tie_share``,
        ``previous_potential_with_tie_share``
        (last year's owners, over accounts that had one), ``ties_kept_share``
        (of accounts tied to their previous owner, the share still with a
        tied rep) and ``ties_broken`` (their count that lost it).
    """
    p = np.asarray(potential, dtype=float)
    new_tie = has_tie(new_rep, account_ids, tie_rep, tie_account)
    prev = np.asarray(previous_rep).astype(str)
    had_owner = prev != ""
    prev_tie = has_tie(prev, account_ids, tie_rep, tie_account) & had_owner
    total_p = p.sum()
    owned_p = p[had_owner].sum()

    def share(mask: np.ndarray, of: np.ndarray) -> float:
        return float(mask.sum() / of.sum()) if of.sum() else 0.0

    return {
        "edges": len(tie_rep),
        "accounts_with_tie_share": share(new_tie, np.ones(len(p), bool)),
        "potential_with_tie_share": float(p[new_tie].sum() / total_p) if total_p > 0 else 0.0,
        "previous_accounts_with_tie_share": share(prev_tie, had_owner),
        "previous_potential_with_tie_share": float(p[prev_tie].sum() / owned_p)
        if owned_p > 0
        else 0.0,
        "ties_kept_share": share(prev_tie & new_tie, prev_tie),
        "ties_broken": int((prev_tie & ~new_tie).sum()),
    }


def proximity_summary(
    proximity: np.ndarray, potential: np.ndarray, kept: np.ndarray | None = None
) -> ProximityStats:
    """Mean proximity of accounts to their new rep (see :mod:`territory_engine.social`).

    Parameters
    ----------
    proximity
        (N,) proximity in [0, 1] of each account to its new rep.
    potential
        (N,) potential of each account.
    kept
        (N,) true for accounts kept with a rep for a relationship, outside the
        territory that covers their county; ``None`` when not tracked.

    Returns
    -------
    ProximityStats
        ``mean_proximity`` (over accounts), ``potential_weighted_proximity``,
        ``accounts_with_proximity_share`` (proximity > 0: a direct or indirect
        tie) and, with ``kept``, ``kept_for_relationship`` (a count).
    """
    x = np.asarray(proximity, dtype=float)
    p = np.asarray(potential, dtype=float)
    out: ProximityStats = {
        "mean_proximity": float(x.mean()) if len(x) else 0.0,
        "potential_weighted_proximity": float(np.average(x, weights=p)) if p.sum() > 0 else 0.0,
        "accounts_with_proximity_share": float((x > 0).mean()) if len(x) else 0.0,
    }
    if kept is not None:
        out["kept_for_relationship"] = int(np.sum(kept))
    return out


def family_split(family: np.ndarray, rep: np.ndarray) -> Families:
    """How many account families (same top-level parent) are split between reps.

    Parameters
    ----------
    family
        (N,) top-level parent id of each account (its own id when it has none).
    rep
        (N,) the account's new rep.

    Returns
    -------
    Families
        ``families`` (families of two or more accounts), ``families_split``
        (of those, with more than one rep) and ``accounts_in_split_families``.
    """
    fam, _ = pd.factorize(np.asarray(family).astype(str))
    reps, rep_ids = pd.factorize(np.asarray(rep).astype(str))
    size = np.bincount(fam)
    # The distinct (family, rep) pairs, counted per family: its number of reps.
    pairs = np.unique(fam.astype(np.int64) * max(len(rep_ids), 1) + reps)
    n_reps = np.bincount(pairs // max(len(rep_ids), 1), minlength=len(size))
    split = n_reps > 1
    return {
        "families": int((size > 1).sum()),
        "families_split": int(split.sum()),
        "accounts_in_split_families": int(size[split].sum()),
    }
