"""Every territory's total of every balance measure lies in its band.

Bands follow the scenario: a relative tolerance around the territory's fair
share (segment total × the rep's FTE share), or absolute bounds scaled by FTE
when capacity scaling is on; both from :mod:`territory_engine.problem.bands`.
"""

from __future__ import annotations

import numpy as np

from territory_engine.constraints.view import PlanView, segment_groups
from territory_engine.problem.bands import band_bounds, fair_shares


def check(view: PlanView) -> list[str]:
    """One line per (territory, measure) out of its band."""
    sc = view.scenario
    acc = view.accounts
    territories = sorted(set(acc.loc[acc["territory_id"] != "", "territory_id"]))
    if not territories:
        return []
    pos = {t: i for i, t in enumerate(territories)}
    reps = view.tables.reps
    rep_row = {r: i for i, r in enumerate(reps["rep_id"].astype(str))}
    acc_group, rep_group, _ = segment_groups(view)
    k = len(territories)
    terr_group = np.zeros(k, int)
    capacity = np.ones(k)
    for t in territories:
        rep = view.territory_rep.get(t, "")
        if rep in rep_row:
            terr_group[pos[t]] = rep_group[rep_row[rep]]
            if sc.scale_by_capacity and sc.territories.mode == "per_rep":
                capacity[pos[t]] = float(reps["capacity_fte"].iloc[rep_row[rep]])
    assigned = (acc["territory_id"] != "").to_numpy()
    t_idx = acc.loc[assigned, "territory_id"].map(pos).to_numpy(int)
    out = []
    for name, band in sc.balance.items():
        vals = np.ones(len(acc)) if name == "accounts" else acc[name].to_numpy(float)
        total = np.bincount(t_idx, weights=vals[assigned], minlength=k)
        # capacity is all ones unless bands scale by capacity.
        fair = fair_shares(vals[:, None], acc_group, terr_group, capacity)
        lower, upper = band_bounds(fair, [band], capacity)
        low, high = lower[:, 0], upper[:, 0]
        tol = 1e-9 * np.maximum(np.abs(total), 1.0)
        for t in np.flatnonzero(total < low - tol):
            out.append(
                f"{territories[t]}: {name} {total[t]:,.1f} below its band's low {low[t]:,.1f}"
            )
        for t in np.flatnonzero(total > high + tol):
            out.append(
                f"{territories[t]}: {name} {total[t]:,.1f} above its band's high {high[t]:,.1f}"
            )
    return out
