"""The relationship graph as sparse matrices (for scoring) and as a networkx graph.

The edge table is read and checked by :mod:`territory_engine.io.edges` (every
endpoint exists and fits the edge's kind, weights finite and >= 0, no
self-loops). Here it becomes three matrices, one per kind of edge:

* ``D`` (reps × accounts): direct rep–account ties (a past deal, a contact);
* ``R`` (reps × reps): rep–rep ties (colleagues, former teammates), symmetric;
* ``K`` (accounts × accounts): account–account ties (parent/child, partners),
  symmetric.

Weights are divided by the largest weight of their kind, so every entry is in
``[0, 1]`` and a kind's strongest tie is 1 whatever unit the data uses.
Parallel edges (the same pair listed twice) keep their strongest weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class RelationshipMatrices:
    """The relationship graph as normalised sparse matrices.

    Attributes
    ----------
    rep_ids, account_ids
        (r,), (N,) the row/column labels.
    direct
        (r, N) CSR ``D``: rep–account tie strength in [0, 1].
    colleagues
        (r, r) CSR ``R``: rep–rep tie strength in [0, 1], symmetric, zero diagonal.
    linked
        (N, N) CSR ``K``: account–account tie strength in [0, 1], symmetric, zero diagonal.
    """

    rep_ids: np.ndarray
    account_ids: np.ndarray
    direct: sp.csr_matrix
    colleagues: sp.csr_matrix
    linked: sp.csr_matrix


def _matrix(
    rows: np.ndarray, cols: np.ndarray, weight: np.ndarray, shape: tuple[int, int], symmetric: bool
) -> sp.csr_matrix:
    """Sparse matrix of the strongest weight per pair, normalised to a maximum of 1."""
    if symmetric:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
        weight = np.concatenate([weight, weight])
    if len(weight) == 0:
        return sp.csr_matrix(shape, dtype=float)
    # Strongest weight per pair: sort by weight and let later (larger) entries win.
    order = np.argsort(weight, kind="stable")
    frame = pd.DataFrame({"r": rows[order], "c": cols[order], "w": weight[order]})
    frame = frame.drop_duplicates(["r", "c"], keep="last")
    top = float(frame["w"].max())
    w = frame["w"].to_numpy(float) / top if top > 0 else frame["w"].to_numpy(float)
    m = sp.csr_matrix((w, (frame["r"].to_numpy(), frame["c"].to_numpy())), shape=shape)
    m.eliminate_zeros()
    return m


def tie_matrices(
    edges: pd.DataFrame | None, rep_ids: np.ndarray, account_ids: np.ndarray
) -> RelationshipMatrices:
    """Build ``D``, ``R`` and ``K`` from the checked edge table.

    Parameters
    ----------
    edges
        The table :func:`territory_engine.io.edges.check_edges` returns (rep
        first in ``rep-account`` edges), or ``None`` (no relationships: empty
        matrices).
    rep_ids, account_ids
        Labels of the rows and columns; edges naming other ids are ignored
        (the loader has already rejected unknown ids, so these are ids a
        what-if removed).

    Returns
    -------
    RelationshipMatrices
    """
    rep_ids = np.asarray(rep_ids).astype(str)
    account_ids = np.asarray(account_ids).astype(str)
    r, n = len(rep_ids), len(account_ids)
    rep_pos = pd.Index(rep_ids)
    acc_pos = pd.Index(account_ids)
    empty = np.zeros(0, dtype=int)

    def part(kind: str, src_index: pd.Index, dst_index: pd.Index):
        if edges is None:
            return empty, empty, np.zeros(0)
        sub = edges[edges["kind"] == kind]
        s = src_index.get_indexer(sub["source"].astype(str))
        t = dst_index.get_indexer(sub["target"].astype(str))
        ok = (s >= 0) & (t >= 0)
        return s[ok], t[ok], sub["weight"].to_numpy(float)[ok]

    d = _matrix(*part("rep-account", rep_pos, acc_pos), (r, n), symmetric=False)
    rr = _matrix(*part("rep-rep", rep_pos, rep_pos), (r, r), symmetric=True)
    kk = _matrix(*part("account-account", acc_pos, acc_pos), (n, n), symmetric=True)
    return RelationshipMatrices(rep_ids, account_ids, d, rr, kk)


def relationship_graph(edges: pd.DataFrame | None, accounts: pd.DataFrame, reps: pd.DataFrame):
    """The relationship graph as a :class:`networkx.Graph`, for exploration and notebooks.

    Nodes are ``"rep:<id>"`` and ``"account:<id>"`` with a ``kind`` attribute
    (``rep``/``account``) and the record's ``name`` and ``segment``; edges carry
    ``kind`` and ``weight`` (the strongest when a pair is listed twice).

    Returns
    -------
    networkx.Graph
    """
    g = nx.Graph()
    for kind, frame, id_col in (("rep", reps, "rep_id"), ("account", accounts, "account_id")):
        ids = frame[id_col].astype(str).to_numpy()
        names = frame["name"].astype(str).to_numpy() if "name" in frame else ids
        segs = frame["segment"].astype(str).to_numpy() if "segment" in frame else [""] * len(ids)
        g.add_nodes_from(
            (f"{kind}:{i}", {"kind": kind, "name": nm, "segment": sg})
            for i, nm, sg in zip(ids, names, segs, strict=True)
        )
    if edges is None:
        return g
    for src, dst, kind, w in edges[["source", "target", "kind", "weight"]].itertuples(index=False):
        a = f"{'rep' if kind in ('rep-account', 'rep-rep') else 'account'}:{src}"
        b = f"{'rep' if kind == 'rep-rep' else 'account'}:{dst}"
        if g.has_edge(a, b) and g.edges[a, b]["weight"] >= w:
            continue
        g.add_edge(a, b, kind=kind, weight=float(w))
    return g
