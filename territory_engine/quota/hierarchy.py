"""Regional targets rolled up a hierarchy: company > region > district > territory.

A territory belongs to the region (and district) whose ``members`` hold its
region-key value (by default the state of its rep's home). Targets may be set
on regions and on districts; every quota then sums exactly to its *pool*:

* a district with a target is a pool of its territories, with that target;
* a region with a target is a pool of its territories outside targeted
  districts, with the region's target minus its districts' targets;
* the company is a pool of every other territory, with the company target
  minus the targets of the regions and districts it does not contain.

So quotas sum to each given target, and to the company target overall. With
no regions there is one pool, the company.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from territory_engine.config.scenario import QuotaConfig, RegionConfig
from territory_engine.display.numbers import money
from territory_engine.errors import InfeasibleError, ScenarioError, did_you_mean

COMPANY = "company"


@dataclass(frozen=True)
class Pool:
    """Territories whose quotas sum exactly to ``target``.

    Attributes
    ----------
    name
        ``company``, ``region <r>`` or ``district <d>``.
    members
        Indices of its territories.
    target
        Its total in dollars.
    """

    name: str
    members: np.ndarray
    target: float


def territory_regions(
    cfg: QuotaConfig, key_values: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Region and district name of each territory (``""`` without regions or districts).

    Parameters
    ----------
    cfg
        The quota section (``regions``, ``region_key``).
    key_values
        (k,) region-key value of each territory (e.g. its rep's home state).
    labels
        (k,) how to name each territory in errors (e.g. ``"rep R04 (T-R04)"``).

    Raises
    ------
    ScenarioError
        A territory whose key value is in no region.
    """
    k = len(key_values)
    region = np.full(k, "", dtype=object)
    district = np.full(k, "", dtype=object)
    if not cfg.regions:
        return region, district
    where: dict[str, tuple[str, str]] = {}
    for name, reg in cfg.regions.items():
        for member in reg.members:
            where[member] = (name, "")
        for dname, dist in reg.districts.items():
            for member in dist.members:
                where[member] = (name, dname)
    missing = []
    for i, value in enumerate(key_values):
        found = where.get(str(value))
        if found is None:
            missing.append(i)
            continue
        region[i], district[i] = found
    if missing:
        i = missing[0]
        more = f" ({len(missing) - 1} more territories likewise)" if len(missing) > 1 else ""
        hint = did_you_mean(str(key_values[i]), list(where))
        raise ScenarioError(
            f"quota.regions: {labels[i]} has {cfg.region_key} {key_values[i]!r}, which is in no "
            f"region{hint}{more}; add it to a region's members"
        )
    return region, district


def pools(cfg: QuotaConfig, target: float, region: np.ndarray, district: np.ndarray) -> list[Pool]:
    """Split the territories into pools with exact targets (see the module docstring).

    Raises
    ------
    InfeasibleError
        When targets contradict each other: districts above their region,
        regions above the company target, or a target with no territory to carry it.
    """
    k = len(region)
    if not cfg.regions:
        return [Pool(COMPANY, np.arange(k), float(target))]
    company_rest = float(target)
    node_of = np.full(k, COMPANY, dtype=object)
    targets: dict[str, float] = {}
    problems: list[str] = []
    for rname, reg in cfg.regions.items():
        in_region = region == rname
        dist_total = 0.0
        for dname, dist in reg.districts.items():
            if dist.target is None:
                continue
            key = f"district {dname}"
            targets[key] = float(dist.target)
            node_of[in_region & (district == dname)] = key
            dist_total += float(dist.target)
        if reg.target is not None:
            key = f"region {rname}"
            rest = float(reg.target) - dist_total
            if rest < -0.005:
                problems.append(
                    f"the district targets of region {rname} sum to {money(dist_total)}, "
                    f"above the region's target {money(reg.target)}"
                )
            targets[key] = rest
            node_of[in_region & (node_of == COMPANY)] = key
            company_rest -= float(reg.target)
        else:
            company_rest -= dist_total
    if company_rest < -0.005:
        given = float(target) - company_rest
        problems.append(
            f"the region and district targets sum to {money(given)}, above the company "
            f"target {money(target)}"
        )
    targets[COMPANY] = company_rest
    out = []
    for key, pool_target in targets.items():
        members = np.flatnonzero(node_of == key)
        if len(members) == 0 and abs(pool_target) > 0.005:
            if key == COMPANY:
                problems.append(
                    f"every territory is in a region or district with its own target, and "
                    f"those targets leave {money(pool_target)} of the company target "
                    f"{money(target)} to nobody; make quota.target agree or drop it"
                )
            else:
                problems.append(
                    f"{key} has a target of {money(pool_target)} but no territory; no rep's "
                    f"{cfg.region_key} is among its members"
                )
        if len(members):
            out.append(Pool(key, members, max(pool_target, 0.0)))
    if problems:
        raise InfeasibleError("quota targets conflict:\n  - " + "\n  - ".join(problems))
    return out


def covered_total(cfg: QuotaConfig) -> float | None:
    """Sum of the targets when they cover every region (so they define the company target).

    A region is covered by its own target, or by targets on all its districts.
    Returns ``None`` when some region is not covered (or there are no regions).
    """
    if not cfg.regions:
        return None
    total = 0.0
    for reg in cfg.regions.values():
        if reg.target is not None:
            total += float(reg.target)
        elif reg.districts and len(given := _district_targets(reg)) == len(reg.districts):
            total += sum(given)
        else:
            return None
    return total


def _district_targets(reg: RegionConfig) -> list[float]:
    """The targets that ``reg``'s districts set, in order (those without one left out)."""
    return [float(d.target) for d in reg.districts.values() if d.target is not None]


def drawn_columns(levels: list[str]) -> dict[str, str]:
    """Which drawn level fills ``quotas.csv``'s ``district`` and ``region`` columns.

    A level named ``district`` or ``region`` fills its namesake; otherwise level
    1 is the district and the top level (of two or more) the region.
    """
    out: dict[str, str] = {}
    for column in ("district", "region"):
        if column in levels:
            out[column] = column
    if "district" not in out and levels and levels[0] not in out.values():
        out["district"] = levels[0]
    if "region" not in out and len(levels) > 1 and levels[-1] not in out.values():
        out["region"] = levels[-1]
    return out


def roll_up_drawn(
    quotas: pd.DataFrame, hierarchy: pd.DataFrame, levels: list[str], *, fill: bool
) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """Quotas rolled up by a drawn hierarchy: each group's total, per level.

    Parameters
    ----------
    quotas
        ``quotas.csv`` (``territory_id``, ``quota``, ``region``, ``district``).
    hierarchy
        ``hierarchy.csv`` (``territory_id`` and a column per level).
    levels
        The level columns, bottom up.
    fill
        Fill ``region``/``district`` from the drawn levels (:func:`drawn_columns`);
        ``False`` when ``quota.regions`` defines the pools, which then stay as they are.

    Returns
    -------
    tuple
        The quotas (a copy) and ``{level: {group: total quota}}``; the totals of
        a level sum to the company's total quota.
    """
    out = quotas.copy()
    group_of = (
        hierarchy.assign(territory_id=hierarchy["territory_id"].astype(str))
        .drop_duplicates("territory_id")
        .set_index("territory_id")
    )
    tid = out["territory_id"].astype(str)
    if fill:
        for column, level in drawn_columns(levels).items():
            if column in out.columns:
                out[column] = tid.map(group_of[level].astype(str)).fillna("").to_numpy()
    totals: dict[str, dict[str, float]] = {}
    amount = pd.to_numeric(out["quota"], errors="coerce").fillna(0.0)
    for level in levels:
        groups = tid.map(group_of[level].astype(str)).fillna("")
        sums = amount.groupby(groups.to_numpy()).sum()
        totals[level] = {str(g): round(float(v), 2) for g, v in sums.items() if g}
    return out, totals
