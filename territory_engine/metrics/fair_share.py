"""Fair shares: what each territory would carry in a perfectly balanced plan."""

from __future__ import annotations

import numpy as np


def fair_shares(
    values: np.ndarray,
    account_group: np.ndarray,
    territory_group: np.ndarray,
    capacity: np.ndarray,
) -> np.ndarray:
    """(k, m) fair share ``τ_tj = W_gj · c_t / Σ_{s∈g} c_s`` of each territory t in group g.

    Parameters
    ----------
    values
        (N, m) account values.
    account_group, territory_group
        Eligibility group of each account and each territory.
    capacity
        (k,) capacity (FTE) of each territory's rep.
    """
    values = np.asarray(values, dtype=float)
    k, m = len(territory_group), values.shape[1]
    out = np.zeros((k, m))
    for g in np.unique(territory_group):
        in_t = territory_group == g
        totals = values[account_group == g].sum(axis=0)
        share = capacity[in_t] / capacity[in_t].sum()
        out[in_t] = share[:, None] * totals[None, :]
    return out
