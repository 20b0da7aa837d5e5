"""How close each rep is to each account through the relationship graph.

The score is a truncated Katz index (Katz 1953; Liben-Nowell & Kleinberg 2007)
restricted to the walks a sales team means by "knowing" an account::

    P = min(1, D + δ·(R·D + D·K) + δ²·R·D·K)

with ``D`` the direct rep–account ties, ``R`` rep–rep ties, ``K``
account–account ties (all normalised to [0, 1], see
:mod:`territory_engine.social.graph`) and ``δ`` in [0, 1) the decay per extra
hop. Read term by term, rep ``r`` is close to account ``a`` when

* ``D``: ``r`` knows ``a``'s buyer directly (a tie of full strength scores 1);
* ``R·D``: a colleague of ``r`` knows ``a`` (an introduction away);
* ``D·K``: ``r`` knows ``a``'s parent, subsidiary or partner;
* ``R·D·K``: a colleague of ``r`` knows ``a``'s parent or partner.

Each walk contributes the product of its tie strengths, discounted by ``δ``
per hop beyond the direct one; several walks add up, capped at 1. So the score
is in [0, 1], is 0 for a rep with no walk of these shapes to the account, and
never exceeds 1 however many colleagues know the buyer.

The product is computed with sparse matrices: with ``r`` reps, ``N`` accounts
and ``E`` edges it costs about ``O(E · mean degree)``; only the ``top``
strongest reps of each account are kept, so memory is ``O(N · top)``.
100,000 accounts × 250 reps score in a few seconds (``benchmarks/proximity.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.social.graph import RelationshipMatrices

DEFAULT_DECAY = 0.5
"""Discount per hop beyond a direct tie: an introduction is worth half a direct tie."""

DEFAULT_TOP = 5
"""Reps kept per account (the solver only needs the strongest few)."""


@dataclass(frozen=True)
class Proximity:
    """Rep–account proximity scores (sparse).

    Attributes
    ----------
    rep_ids, account_ids
        Row and column labels of ``matrix``.
    matrix
        (r, N) CSR, the score of each kept (rep, account) pair in (0, 1].
    decay, top
        The parameters that produced it.
    """

    rep_ids: np.ndarray
    account_ids: np.ndarray
    matrix: sp.csr_matrix
    decay: float
    top: int

    def pairs(self, rep_ids: np.ndarray, account_ids: np.ndarray) -> np.ndarray:
        """(N,) score of each ``(rep_ids[i], account_ids[i])`` pair; 0 for unknown or absent ids."""
        rows = pd.Index(self.rep_ids).get_indexer(np.asarray(rep_ids).astype(str))
        cols = pd.Index(self.account_ids).get_indexer(np.asarray(account_ids).astype(str))
        out = np.zeros(len(rows))
        ok = (rows >= 0) & (cols >= 0)
        if ok.any():
            out[ok] = np.asarray(self.matrix[rows[ok], cols[ok]]).ravel()
        return out

    def best(self) -> tuple[np.ndarray, np.ndarray]:
        """``(score, rep index)`` of each account's closest rep (score 0, index -1 when none)."""
        csc = self.matrix.tocsc()
        n = csc.shape[1]
        score = np.zeros(n)
        rep = np.full(n, -1, dtype=int)
        counts = np.diff(csc.indptr)
        has = np.flatnonzero(counts)
        if len(has):
            # Per column, the largest entry (lowest row on equal scores: deterministic).
            col = np.repeat(np.arange(n), counts)
            order = np.lexsort((csc.indices, -csc.data, col))
            first = np.r_[0, np.cumsum(counts)[:-1]][has]
            score[has] = csc.data[order][first]
            rep[has] = csc.indices[order][first]
        return score, rep


def _keep_top(m: sp.csr_matrix, top: int) -> sp.csr_matrix:
    """Keep the ``top`` largest entries of each column (ties: lower row first)."""
    coo = m.tocoo()
    if coo.nnz == 0:
        return m.tocsr()
    order = np.lexsort((coo.row, -coo.data, coo.col))
    col = coo.col[order]
    start = np.r_[0, np.flatnonzero(np.diff(col)) + 1]
    run = np.arange(len(col)) - np.repeat(start, np.diff(np.r_[start, len(col)]))
    keep = order[run < top]
    return sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=m.shape)


def proximity(
    ties: RelationshipMatrices,
    *,
    decay: float = DEFAULT_DECAY,
    top: int = DEFAULT_TOP,
    rep_group: np.ndarray | None = None,
    account_group: np.ndarray | None = None,
) -> Proximity:
    """Score every rep against every account they can reach (see the module docstring).

    Parameters
    ----------
    ties
        The normalised tie matrices.
    decay
        ``δ``, the discount per hop beyond a direct tie, in [0, 1).
    top
        How many reps to keep per account (the strongest).
    rep_group, account_group
        (r,), (N,) eligibility groups: when given, only pairs of the same group
        are scored, so an account's strongest reps are reps that may own it.

    Returns
    -------
    Proximity

    Raises
    ------
    ValueError
        On a decay outside [0, 1) or ``top`` < 1.
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    d, r, k = ties.direct, ties.colleagues, ties.linked
    score = d.copy().astype(float)
    if decay > 0:
        rd = r @ d
        score = score + decay * (rd + d @ k) + decay**2 * (rd @ k)
    score = score.tocsr()
    score.sum_duplicates()
    np.minimum(score.data, 1.0, out=score.data)
    if rep_group is not None and account_group is not None:
        coo = score.tocoo()
        ok = np.asarray(rep_group)[coo.row] == np.asarray(account_group)[coo.col]
        score = sp.csr_matrix((coo.data[ok], (coo.row[ok], coo.col[ok])), shape=score.shape)
    score.eliminate_zeros()
    kept = _keep_top(score, top)
    kept.sort_indices()
    return Proximity(ties.rep_ids, ties.account_ids, kept, float(decay), int(top))
