"""With contiguity on, every territory is one connected piece of its segment's unit graph.

The plan's ``units.csv`` says which territory holds each (unit, segment) —
including units without accounts, which connect territories on the map. The
unit graph is rebuilt here from the polygons (queen adjacency, islands joined
to their nearest unit, as documented), and every account must lie in a unit
its territory holds (locked accounts, kept families and accounts following a
relationship, ``relationships.follow_min_proximity``, are exceptions to geography).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.config.segments import teams
from territory_engine.constraints import families
from territory_engine.constraints.view import PlanView
from territory_engine.geo.adjacency import join_islands, polygon_adjacency
from territory_engine.geo.pieces import pieces_per_territory
from territory_engine.problem.build import relationship_followers
from territory_engine.problem.memo import per_object

MAX_LISTED = 10


@per_object(kept=8)
def unit_graph(units) -> sp.spmatrix:
    """The queen adjacency of ``units``' polygons with islands joined (cached per table).

    The tables are read-only once loaded, so the graph is kept while the table object
    lives (:func:`~territory_engine.problem.memo.per_object`): it depends on the
    polygons only, and the studio validates every edit preview of one plan against
    the same table (the polygons' adjacency was about 28 ms of each preview).
    """
    points = units.geometry.representative_point()
    adj, _ = join_islands(polygon_adjacency(units), np.column_stack([points.x, points.y]))
    return adj


def check(view: PlanView) -> list[str]:
    """Territories in pieces, and accounts outside their territory's units."""
    if not view.scenario.constraints.contiguity:
        return []
    if view.units is None:
        return ["contiguity is on but the plan has no units.csv to show its geography"]
    units = view.tables.units
    geo_ids = units["unit_id"].astype(str).tolist()
    pos = {u: i for i, u in enumerate(geo_ids)}
    adj = unit_graph(units)
    out = []
    table = view.units
    for segment, rows in table.groupby("segment", sort=True):
        terr = sorted(set(rows["territory_id"]))
        assign = np.full(len(geo_ids), -1)
        at = rows["unit_id"].map(pos).to_numpy(dtype=float)
        known = ~np.isnan(at)
        codes = pd.Categorical(rows["territory_id"], categories=terr).codes
        # A unit listed twice in a layer ends with its last row (numpy assigns in order).
        assign[at[known].astype(int)] = codes[known]
        held = np.flatnonzero(assign >= 0)
        sub = adj[held][:, held]
        pieces = pieces_per_territory(sub.tocsr(), assign[held], len(terr))
        out += [
            f"{terr[t]} ({segment}) is in {pieces[t]} separate pieces"
            for t in np.flatnonzero(pieces > 1)
        ]
    # Accounts must lie in a unit their territory holds (in their segment layer).
    holder = table.drop_duplicates(["unit_id", "segment"], keep="last").set_index(
        ["unit_id", "segment"]
    )["territory_id"]
    # Locked accounts, kept families and accounts following a relationship are
    # exceptions to geography.
    locked = {lk.account for lk in view.scenario.constraints.locks if lk.account}
    locked |= set(families.family_members(view))
    locked |= relationship_followers(view.scenario, view.tables)
    acc = view.accounts
    groups = teams(
        view.scenario.territories.eligibility, acc["segment"], view.tables.reps["segment"]
    )
    layer = acc["segment"].map(groups.of_account_segment)
    held_by = holder.reindex(
        pd.MultiIndex.from_arrays([acc["unit_id"].astype(str), layer])
    ).to_numpy()
    outside = (
        pd.notna(held_by)
        & (held_by != acc["territory_id"].to_numpy())
        & ~acc["account_id"].isin(locked).to_numpy()
    )
    bad = [
        f"account {a} is with {t} but its unit {u} ({s}) belongs to {h}"
        for a, u, s, t, h in zip(
            acc["account_id"][outside],
            acc["unit_id"][outside],
            layer[outside],
            acc["territory_id"][outside],
            held_by[outside],
            strict=True,
        )
    ]
    out += bad[:MAX_LISTED]
    if len(bad) > MAX_LISTED:
        out.append(f"and {len(bad) - MAX_LISTED} more accounts outside their territory's units")
    return out
