"""Turn a scenario and its loaded tables into :class:`ProblemData`.

Units of the problem are geo units × eligibility groups: with
``eligibility: segment`` every segment is an overlay layer of its own (an
enterprise rep and an SMB rep may both cover Fulton County, each for their own
accounts). Every geo unit appears in every layer, even where it holds no
account of that segment, so that each layer's adjacency graph stays whole and
contiguity means what a planner sees on the map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd
import scipy.sparse as sp

from territory_engine.config.scenario import SOCIAL_TIE_BREAK, Scenario
from territory_engine.config.segments import teams
from territory_engine.errors import InfeasibleError, ScenarioError, did_you_mean
from territory_engine.geo.adjacency import join_islands, polygon_adjacency
from territory_engine.io.load import Tables
from territory_engine.plan.files import territory_ids_for_reps
from territory_engine.problem.bands import band_bounds, fair_shares
from territory_engine.problem.data import ProblemData
from territory_engine.social import Proximity, proximity, tie_matrices

ACCOUNT_COUNT = "accounts"
"""Name of the built-in measure that counts accounts."""

EMPTY_UNIT_TRAVEL_SHARE = 0.02
"""Travel weight of an empty unit, as a share of the mean potential per unit of
its layer: enough that empty counties prefer near territories, too little to
matter for balance or travel of real accounts."""


@dataclass(frozen=True)
class ProblemIndex:
    """How the problem's arrays map back to accounts, units and reps.

    Attributes
    ----------
    account_unit
        (N,) problem-unit index of each account, in the accounts table's row order.
    unit_geo_id
        (n,) geo unit id of each problem unit.
    unit_group_name
        (n,) group (segment) name of each problem unit.
    territory_rep
        (k,) rep id of each territory ("" when no rep is matched yet).
    rep_territory
        rep id -> territory index.
    exception_unit
        (n,) true for units that leave the geography (a locked account, a
        family spread over several units, an account following a relationship).
    exception_kind
        (n,) ``""`` for geo units, else ``"account"``, ``"family"`` or ``"relationship"``.
    proximity
        Rep–account proximity scores when the scenario has a relationship graph.
    """

    account_unit: np.ndarray
    unit_geo_id: np.ndarray
    unit_group_name: np.ndarray
    territory_rep: tuple[str, ...]
    rep_territory: dict[str, int]
    exception_unit: np.ndarray
    exception_kind: np.ndarray | None = None
    proximity: Proximity | None = None


def _groups(scenario: Scenario, tables: Tables) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Group names, group of each account, group of each rep (the rule: ``config.segments``)."""
    accounts, reps = tables.accounts, tables.reps
    groups = teams(scenario.territories.eligibility, accounts["segment"], reps["segment"])
    code = {g: i for i, g in enumerate(groups.names)}
    acc_g = accounts["segment"].map(groups.of_account_segment).map(code).to_numpy(dtype=int)
    rep_g = reps["segment"].map(groups.of_rep_segment).map(code).to_numpy(dtype=int)
    return groups.names, acc_g, rep_g


def _measure_matrix(scenario: Scenario, accounts: pd.DataFrame) -> np.ndarray:
    """(N, m) per-account values of the balance measures."""
    numeric = [c for c in accounts.columns if pd.api.types.is_numeric_dtype(accounts[c])]
    cols = []
    for name in scenario.balance:
        if name == ACCOUNT_COUNT:
            cols.append(np.ones(len(accounts)))
        elif name in accounts.columns and name in numeric:
            cols.append(accounts[name].to_numpy(dtype=float))
        else:
            options = [*numeric, ACCOUNT_COUNT]
            hint = did_you_mean(name, options)
            raise ScenarioError(
                f"balance measure '{name}' is not a numeric column of the accounts{hint}; "
                f"numeric columns: {', '.join(options)}"
            )
    return np.column_stack(cols)


@dataclass(frozen=True)
class _Layers:
    """Eligibility groups and geo units: the layers problem units are made of."""

    group_names: list[str]
    acc_group: np.ndarray
    rep_group: np.ndarray
    geo_ids: np.ndarray
    geo_pos: dict[str, int]
    acc_geo: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of eligibility groups (segment layers)."""
        return len(self.group_names)

    @property
    def n_geo(self) -> int:
        """Number of geo units in each layer."""
        return len(self.geo_ids)


@dataclass(frozen=True)
class _Units:
    """Problem units: every (geo unit, group) of the layers, then the exception units."""

    account_unit: np.ndarray
    unit_group: np.ndarray
    unit_geo: np.ndarray
    exceptions: list[tuple[int, np.ndarray, str]]
    n_layered: int

    @property
    def n(self) -> int:
        """Number of problem units ``n``."""
        return self.n_layered + len(self.exceptions)


@dataclass(frozen=True)
class _Territories:
    """Territories of the scenario, before any solving."""

    ids: tuple[str, ...]
    rep: tuple[str, ...]
    group: np.ndarray
    centres: np.ndarray | None
    capacity: np.ndarray

    @property
    def rep_territory(self) -> dict[str, int]:
        """Rep id -> territory index (territories without a rep left out)."""
        return {r: t for t, r in enumerate(self.rep) if r}


def build_problem(scenario: Scenario, tables: Tables) -> tuple[ProblemData, ProblemIndex]:
    """Build the arrays the solver works on.

    Parameters
    ----------
    scenario
        The validated scenario.
    tables
        Loaded, cross-checked tables; ``accounts.unit_id`` set.

    Returns
    -------
    (ProblemData, ProblemIndex)

    Raises
    ------
    InfeasibleError
        A group with accounts but no rep, a lock to a rep of another segment,
        two locks on one unit.
    ScenarioError
        A balance measure that is not a numeric account column, a lock naming
        an unknown account, unit or rep.
    """
    accounts, units = tables.accounts, tables.units
    layers = _layers(scenario, tables)
    prox = scenario_proximity(scenario, tables, layers.acc_group, layers.rep_group)
    pu = _problem_units(scenario, accounts, layers, prox)
    n = pu.n
    weights = _unit_weights(_measure_matrix(scenario, accounts), pu)
    potential = accounts["potential"].to_numpy(dtype=float)
    unit_potential = np.bincount(pu.account_unit, weights=potential, minlength=n)
    # A point inside each geo unit's polygon: the centre of a unit without accounts.
    rep_points = units.geometry.representative_point()
    poly_xy = np.column_stack([rep_points.x.to_numpy(), rep_points.y.to_numpy()])
    xy = _unit_centres(accounts, pu, potential, poly_xy)
    travel_weight = _travel_weight(unit_potential, pu.unit_group, layers.n_groups)
    adjacency = _adjacency(units, poly_xy, layers.n_groups, len(pu.exceptions))
    terr = _territories(scenario, tables.reps, layers)
    k = len(terr.ids)
    rep_territory = terr.rep_territory
    _check_groups_have_territories(layers, terr.group)
    fair = fair_shares(weights, pu.unit_group, terr.group, terr.capacity)
    lower, upper = band_bounds(fair, scenario.balance.values(), terr.capacity, open_low=0.0)
    locked = _locks(scenario, accounts, layers, pu, rep_territory, terr.group)
    owned_potential, owned_count, current = _current_owners(
        accounts, pu.account_unit, potential, rep_territory, n, k
    )
    affinity = None
    if prox is not None and scenario.territories.mode == "per_rep":
        affinity = _affinity(prox, rep_territory, pu.account_unit, potential, n, k)
    problem = ProblemData(
        unit_ids=_unit_ids(accounts, layers, pu),
        xy=xy,
        weights=weights,
        measure_names=tuple(scenario.balance),
        travel_weight=travel_weight,
        territory_ids=terr.ids,
        centres=terr.centres,
        lower=lower,
        upper=upper,
        unit_group=pu.unit_group,
        territory_group=terr.group,
        adjacency=adjacency,
        locked=locked,
        current=current,
        unit_potential=unit_potential,
        unit_accounts=np.bincount(pu.account_unit, minlength=n).astype(float),
        owned_potential=owned_potential,
        owned_count=owned_count,
        group_names=tuple(layers.group_names),
        affinity=affinity,
        **_travel_times(tables, terr, layers, pu),
        **_rules(scenario, float(potential.sum()), len(accounts), affinity is not None),
    )
    return problem, _index(layers, pu, terr, prox)


def _layers(scenario: Scenario, tables: Tables) -> _Layers:
    """Groups of accounts and reps, and the geo unit of each account."""
    group_names, acc_group, rep_group = _groups(scenario, tables)
    geo_ids = tables.units["unit_id"].astype(str).to_numpy()
    geo_pos = {u: i for i, u in enumerate(geo_ids)}
    acc_geo = tables.accounts["unit_id"].map(geo_pos).to_numpy(dtype=int)
    return _Layers(group_names, acc_group, rep_group, geo_ids, geo_pos, acc_geo)


def _problem_units(
    scenario: Scenario, accounts: pd.DataFrame, layers: _Layers, prox: Proximity | None
) -> _Units:
    """The problem unit of each account, and the group and geo unit of each problem unit.

    Problem unit of (geo unit g, group s) is ``s * n_geo + g``. An account with an
    account lock (a spread family, an account following a relationship) becomes an
    exception unit of its own after those: a lock keeps that account with its rep
    without pulling its county (or a corridor to it) into the rep's territory.
    """
    n_groups, n_geo = layers.n_groups, layers.n_geo
    n_layered = n_groups * n_geo
    account_unit = layers.acc_group * n_geo + layers.acc_geo
    follow = None
    threshold = scenario.follow_min_proximity()
    if prox is not None and threshold is not None:
        best, _ = prox.best()
        follow = np.flatnonzero(best >= threshold)
    exceptions = exception_groups(scenario, accounts, account_unit, follow)
    leads = np.array([lead for lead, _, _ in exceptions], dtype=int)
    for e, (_, rows, _) in enumerate(exceptions):
        account_unit[rows] = n_layered + e
    unit_group = np.concatenate([np.repeat(np.arange(n_groups), n_geo), layers.acc_group[leads]])
    unit_geo = np.concatenate([np.tile(np.arange(n_geo), n_groups), layers.acc_geo[leads]])
    return _Units(account_unit, unit_group, unit_geo, exceptions, n_layered)


def _unit_weights(values: np.ndarray, pu: _Units) -> np.ndarray:
    """(n, m) sums of the accounts' measure values per problem unit."""
    weights = np.zeros((pu.n, values.shape[1]))
    np.add.at(weights, pu.account_unit, values)
    return weights


def _unit_centres(
    accounts: pd.DataFrame, pu: _Units, potential: np.ndarray, poly_xy: np.ndarray
) -> np.ndarray:
    """(n, 2) unit centre: potential-weighted mean of its accounts, else a point of its polygon."""
    n = pu.n
    account_unit = pu.account_unit
    xy = poly_xy[pu.unit_geo].copy()
    lon = accounts.geometry.x.to_numpy()
    lat = accounts.geometry.y.to_numpy()
    w = potential + 1e-9  # zero-potential accounts still locate their unit
    wsum = np.bincount(account_unit, weights=w, minlength=n)
    has = wsum > 0
    cx = np.bincount(account_unit, weights=w * lon, minlength=n)
    cy = np.bincount(account_unit, weights=w * lat, minlength=n)
    xy[has, 0] = cx[has] / wsum[has]
    xy[has, 1] = cy[has] / wsum[has]
    return xy


def _travel_weight(unit_potential: np.ndarray, unit_group: np.ndarray, n_groups: int) -> np.ndarray:
    """(n,) potential plus a floor of :data:`EMPTY_UNIT_TRAVEL_SHARE` of its layer's mean."""
    travel_weight = unit_potential.copy()
    for g in range(n_groups):
        in_g = unit_group == g
        floor = EMPTY_UNIT_TRAVEL_SHARE * unit_potential[in_g].sum() / max(in_g.sum(), 1)
        travel_weight[in_g] += floor
    return travel_weight


def _adjacency(
    units: pd.DataFrame, poly_xy: np.ndarray, n_groups: int, n_exceptions: int
) -> sp.csr_matrix:
    """The geo graph (islands joined to their nearest unit), once per layer.

    Exception units have no neighbours (exempt from contiguity).
    """
    geo_adj, _ = join_islands(polygon_adjacency(units), poly_xy)
    blocks = [geo_adj] * n_groups
    if n_exceptions:
        blocks.append(sp.csr_matrix((n_exceptions, n_exceptions), dtype=bool))
    return sp.block_diag(blocks, format="csr").astype(bool)


def _travel_times(tables: Tables, terr: _Territories, layers: _Layers, pu: _Units) -> dict:
    """``travel_cost`` (n, k) minutes from each territory's rep home to each problem unit.

    A problem unit travels as its geo unit does (an exception unit as the unit
    its account lies in). Empty without ``data.travel_times``: km then.
    """
    if tables.travel is None:
        return {}
    if terr.centres is None:
        raise ScenarioError(
            "data.travel_times needs one territory per rep (territories.mode 'per_rep')"
        )
    by_rep = tables.travel.matrix(list(terr.rep), layers.geo_ids.tolist())
    return {
        "travel_cost": np.ascontiguousarray(by_rep[:, pu.unit_geo].T),
        "travel_unit": tables.travel.unit,
    }


def _territories(scenario: Scenario, reps: pd.DataFrame, layers: _Layers) -> _Territories:
    """One territory per rep (``per_rep``), or ``territories.count`` with free centres."""
    if scenario.territories.mode == "per_rep":
        rep_ids = reps["rep_id"].astype(str).tolist()
        capacity = (
            reps["capacity_fte"].to_numpy(dtype=float)
            if scenario.scale_by_capacity
            else np.ones(len(reps))
        )
        return _Territories(
            ids=territory_ids_for_reps(rep_ids),
            rep=tuple(rep_ids),
            group=layers.rep_group.copy(),
            centres=np.column_stack([reps.geometry.x.to_numpy(), reps.geometry.y.to_numpy()]),
            capacity=capacity,
        )
    if layers.n_groups != 1:
        raise ScenarioError(
            "territories.mode 'count' (free centres) needs territories.eligibility: none"
        )
    count = scenario.territories.count
    if count is None:  # the config already requires it; kept for a model built by hand
        raise ScenarioError("territories.mode 'count' needs territories.count")
    k = int(count)
    return _Territories(
        ids=tuple(f"T{t + 1:03d}" for t in range(k)),
        rep=tuple("" for _ in range(k)),
        group=np.zeros(k, int),
        centres=None,
        capacity=np.ones(k),
    )


def _check_groups_have_territories(layers: _Layers, territory_group: np.ndarray) -> None:
    """Raise when a group holds accounts but no territory may take them."""
    for g, name in enumerate(layers.group_names):
        n_acc = int((layers.acc_group == g).sum())
        if n_acc and not (territory_group == g).any():
            raise InfeasibleError(
                f"segment '{name}' has {n_acc} accounts but no rep of that segment; "
                "add a rep of that segment or set territories.eligibility: none"
            )


def _current_owners(
    accounts: pd.DataFrame,
    account_unit: np.ndarray,
    potential: np.ndarray,
    rep_territory: dict[str, int],
    n: int,
    k: int,
) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """Last year's owners: (unit, territory) sums of potential and accounts, and each unit's owner.

    A unit's owner is the territory holding most of its potential (ties broken by
    the number of accounts), -1 when none of its accounts had an owner.
    """
    current_rep = accounts["current_rep_id"].astype(str).to_numpy()
    cur_t = np.array([rep_territory.get(r, -1) for r in current_rep], dtype=int)
    owned = cur_t >= 0
    owned_potential = sp.csr_matrix(
        (potential[owned], (account_unit[owned], cur_t[owned])), shape=(n, k)
    )
    owned_count = sp.csr_matrix(
        (np.ones(int(owned.sum())), (account_unit[owned], cur_t[owned])), shape=(n, k)
    )
    owned_potential.sum_duplicates()
    owned_count.sum_duplicates()
    current = np.full(n, -1, dtype=int)
    rows_with = np.flatnonzero(np.diff(owned_potential.indptr) > 0)
    if len(rows_with):
        dense_best = owned_potential[rows_with].toarray() + 1e-9 * owned_count[rows_with].toarray()
        current[rows_with] = np.argmax(dense_best, axis=1)
    return owned_potential, owned_count, current


class _Rules(TypedDict):
    """The :class:`ProblemData` fields set by the scenario's constraints and objective."""

    contiguity: bool
    max_moved_potential: float | None
    max_moved_accounts: float | None
    objective_weights: dict[str, float]


def _rules(
    scenario: Scenario, total_potential: float, n_accounts: int, has_affinity: bool
) -> _Rules:
    """The :class:`ProblemData` fields set by the scenario's constraints and objective."""
    cons = scenario.constraints
    obj = scenario.objective
    # Social mode: proximity dominates, geography only breaks ties.
    geo_factor = SOCIAL_TIE_BREAK if obj.mode == "social" else 1.0
    w_rel = max(obj.relationships, 1.0) if obj.mode == "social" else obj.relationships
    return {
        "contiguity": cons.contiguity,
        "max_moved_potential": None
        if cons.max_moved_potential is None
        else cons.max_moved_potential * total_potential,
        "max_moved_accounts": None
        if cons.max_moved_accounts is None
        else cons.max_moved_accounts * n_accounts,
        "objective_weights": {
            "travel": obj.travel * geo_factor,
            "compactness": obj.compactness * geo_factor,
            "disruption": obj.disruption,
            "relationships": w_rel if has_affinity else 0.0,
        },
    }


def _unit_ids(accounts: pd.DataFrame, layers: _Layers, pu: _Units) -> np.ndarray:
    """``<geo unit>|<group>`` for layered units, ``<kind> <lead account>`` for exceptions."""
    geo_ids, group_names = layers.geo_ids, layers.group_names
    return np.array(
        [f"{geo_ids[pu.unit_geo[i]]}|{group_names[pu.unit_group[i]]}" for i in range(pu.n_layered)]
        + [f"{kind} {accounts['account_id'].iloc[lead]}" for lead, _, kind in pu.exceptions]
    )


def _index(layers: _Layers, pu: _Units, terr: _Territories, prox: Proximity | None) -> ProblemIndex:
    """How the problem's arrays map back to accounts, geo units and reps."""
    n_layered = pu.n_layered
    return ProblemIndex(
        account_unit=pu.account_unit,
        unit_geo_id=layers.geo_ids[pu.unit_geo],
        unit_group_name=np.array(layers.group_names)[pu.unit_group],
        territory_rep=terr.rep,
        rep_territory=terr.rep_territory,
        exception_unit=np.arange(pu.n) >= n_layered,
        exception_kind=np.array(
            [""] * n_layered + [kind for _, _, kind in pu.exceptions], dtype=object
        ),
        proximity=prox,
    )


def relationship_followers(scenario: Scenario, tables: Tables) -> set[str]:
    """Ids of the accounts exempt from geography to follow a relationship.

    Those whose closest eligible rep scores at least the scenario's effective
    ``relationships.follow_min_proximity`` (none when it is off). The
    validator calls this on the scenario and tables alone.
    """
    threshold = scenario.follow_min_proximity()
    if threshold is None or tables.edges is None:
        return set()
    _, acc_group, rep_group = _groups(scenario, tables)
    prox = scenario_proximity(scenario, tables, acc_group, rep_group)
    if prox is None:  # not reached: there are edges
        return set()
    best, _ = prox.best()
    ids = tables.accounts["account_id"].astype(str).to_numpy()
    return set(ids[best >= threshold].tolist())


def scenario_proximity(
    scenario: Scenario, tables: Tables, acc_group: np.ndarray, rep_group: np.ndarray
) -> Proximity | None:
    """Rep–account proximity of the scenario's relationship graph, eligible pairs only.

    Scores of a rep for an account of another eligibility group are dropped
    before the strongest ``relationships.top`` are kept, so "the closest rep"
    is always one that may own the account. ``None`` without ``data.edges``.
    """
    if tables.edges is None:
        return None
    ties = tie_matrices(
        tables.edges,
        tables.reps["rep_id"].astype(str).to_numpy(),
        tables.accounts["account_id"].astype(str).to_numpy(),
    )
    cfg = scenario.relationships
    return proximity(
        ties, decay=cfg.decay, top=cfg.top, rep_group=rep_group, account_group=acc_group
    )


def _affinity(
    prox: Proximity,
    rep_territory: dict[str, int],
    account_unit: np.ndarray,
    potential: np.ndarray,
    n: int,
    k: int,
) -> sp.csr_matrix:
    """(n, k) ``Σ_{a in unit} potential_a · proximity(rep of t, a)``."""
    m = prox.matrix.tocoo()
    terr = np.array([rep_territory.get(r, -1) for r in prox.rep_ids], dtype=int)[m.row]
    ok = terr >= 0
    out = sp.csr_matrix(
        (potential[m.col[ok]] * m.data[ok], (account_unit[m.col[ok]], terr[ok])), shape=(n, k)
    )
    out.sum_duplicates()
    return out


def top_parent(accounts: pd.DataFrame) -> pd.Series:
    """The top-level parent of each account (itself when it has no parent).

    Families are one level deep in the data contract; deeper chains are
    followed to the top, and a cycle stops where it closes.
    """
    own = accounts["account_id"].astype(str).to_numpy(dtype=object)
    raw = accounts["parent_account_id"].astype(str).to_numpy(dtype=object)
    codes, distinct = pd.factorize(own)
    last = np.zeros(len(distinct), dtype=np.int64)
    last[codes] = np.arange(len(own))  # an id listed twice has the parent of its last row
    parents = raw[last][codes]
    known = pd.Index(distinct).get_indexer(parents)
    parent_row = np.where((known >= 0) & (parents != ""), last[np.maximum(known, 0)], -1)
    # Follow known parents all at once; a chain still moving after as many steps as
    # the deepest sane family is a cycle (or absurdly deep) and is walked one by one.
    top_row = np.arange(len(own))
    for _ in range(32):
        up = parent_row[top_row]
        moving = up >= 0
        if not moving.any():
            break
        top_row[moving] = up[moving]
    beyond = parents[top_row]  # the top's parent: not an account, or ""
    tops = np.where(beyond != "", beyond, own[top_row])
    walk = np.flatnonzero(parent_row[top_row] >= 0)
    parent = dict(zip(own, raw, strict=True)) if len(walk) else {}
    for row in walk:
        a = own[row]
        seen = {a}
        while parent.get(a, "") and parent[a] not in seen:
            a = parent[a]
            seen.add(a)
        tops[row] = a
    return pd.Series(tops, index=accounts.index)


def exception_groups(
    scenario: Scenario,
    accounts: pd.DataFrame,
    account_unit: np.ndarray,
    follow: np.ndarray | None = None,
) -> list[tuple[int, np.ndarray, str]]:
    """Accounts that leave the geography as units of their own: ``(lead row, rows, kind)``.

    * With ``constraints.keep_families``, a family (accounts sharing a
      top-level parent) spread over several units becomes one unit, led by the
      parent: the whole family goes to one rep, of the parent's segment.
    * An account named by an account lock becomes a unit of its own (unless
      its family already is one).
    * An account in ``follow`` (rows whose closest eligible rep is at least
      ``relationships.follow_min_proximity`` close) becomes a unit of its own
      (unless it already is in one), free to stay with that rep.

    Such units have no neighbours, so contiguity does not apply to them.
    """
    out: list[tuple[int, np.ndarray, str]] = []
    taken: set[int] = set()
    ids = accounts["account_id"].astype(str).to_numpy()
    if scenario.constraints.keep_families:
        tops = top_parent(accounts).to_numpy()
        pos = {a: i for i, a in enumerate(ids)}
        for top, rows in pd.Series(np.arange(len(ids))).groupby(tops, sort=True):
            rows = rows.to_numpy()
            if len(rows) > 1 and len(np.unique(account_unit[rows])) > 1:
                out.append((pos.get(top, int(rows[0])), rows, "family"))
                taken.update(rows.tolist())
    pos = {a: i for i, a in enumerate(ids)}
    locked = sorted(
        {pos[lk.account] for lk in scenario.constraints.locks if lk.account in pos} - taken
    )
    out += [(r, np.array([r]), "account") for r in locked]
    if follow is not None:
        taken.update(locked)
        out += [(int(r), np.array([int(r)]), "relationship") for r in follow if r not in taken]
    return out


def _locks(
    scenario: Scenario,
    accounts: pd.DataFrame,
    layers: _Layers,
    pu: _Units,
    rep_territory: dict[str, int],
    territory_group: np.ndarray,
) -> np.ndarray:
    """(n,) territory each unit is locked to, or -1.

    An account lock pins the account's own exception unit; a unit lock pins
    the geo unit in the rep's segment layer.
    """
    account_unit, unit_group = pu.account_unit, pu.unit_group
    geo_pos, n_geo, group_names = layers.geo_pos, layers.n_geo, layers.group_names
    n = len(unit_group)
    locked = np.full(n, -1, dtype=int)
    reason: dict[int, str] = {}
    acc_pos = {a: i for i, a in enumerate(accounts["account_id"].astype(str))}
    for lock in scenario.constraints.locks:
        if lock.rep not in rep_territory:
            hint = did_you_mean(lock.rep, list(rep_territory))
            raise ScenarioError(
                f"constraints.locks: rep '{lock.rep}' is not in the reps table{hint}"
            )
        t = rep_territory[lock.rep]
        if lock.account is not None:
            if lock.account not in acc_pos:
                hint = did_you_mean(lock.account, list(acc_pos))
                raise ScenarioError(
                    f"constraints.locks: account '{lock.account}' is not in the accounts "
                    f"table{hint}"
                )
            units_of = [int(account_unit[acc_pos[lock.account]])]
            what = f"account {lock.account}"
        else:
            unit = lock.unit  # a lock names an account or a unit (the config checks)
            if unit is None or unit not in geo_pos:
                hint = did_you_mean(unit or "", list(geo_pos))
                raise ScenarioError(f"constraints.locks: unit '{unit}' is not a unit{hint}")
            g = geo_pos[unit]
            # A unit lock applies in the rep's own layer.
            units_of = [int(territory_group[t]) * n_geo + g]
            what = f"unit {lock.unit}"
        for i in units_of:
            if unit_group[i] != territory_group[t]:
                raise InfeasibleError(
                    f"constraints.locks: {what} is in segment '{group_names[unit_group[i]]}' "
                    f"but rep {lock.rep} sells to '{group_names[territory_group[t]]}'"
                )
            if locked[i] >= 0 and locked[i] != t:
                raise InfeasibleError(
                    f"constraints.locks: {what} and {reason[i]} share a unit but are locked "
                    "to different reps; a unit goes to one rep"
                )
            locked[i] = t
            reason[i] = f"{what} (rep {lock.rep})"
    return locked
