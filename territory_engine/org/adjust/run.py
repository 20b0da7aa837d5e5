"""A mid-year change of a plan: re-draw only what must change, pro-rate the quotas.

:func:`adjust_plan` takes a plan folder (read with the one reader,
:func:`~territory_engine.plan.reader.read_plan_folder`), its scenario (from the
folder's manifest) and the changes (:mod:`territory_engine.org.adjust.changes`):

1. The scenario path: the plan becomes ``whatif.base_plan`` (its owners are the
   current owners), a departed rep goes to ``whatif.remove_reps``, a hire to
   ``whatif.add_reps``, a unit handed to a rep to ``constraints.locks``; the
   tables are loaded and the problem built as for any run
   (:func:`~territory_engine.io.load.load_tables`,
   :func:`~territory_engine.problem.build.build_problem`).
2. What is re-drawn: the departed rep's territory and the territories touching
   it; for a hire, the territory its home lies in and those touching it; for
   moved units, the territories giving and taking them. Every other unit is
   locked to its territory in the plan, so those territories do not change.
3. Balance among the re-drawn territories: their bands are the scenario's
   tolerances around their fair share of what they hold together (the others
   hold what they held, and are not judged again).
4. The engine's public :func:`~territory_engine.solve.solve`, started from the
   plan (:func:`~territory_engine.org.adjust.warm.plan_start`), with the
   disruption term counted against the plan.
5. Quotas pro-rated from the effective date
   (:func:`~territory_engine.org.adjust.prorate.prorate_quotas`); unchanged reps
   keep their quota to the cent.
6. The new plan folder through the one writer (with ``quota_changes.csv``), its
   manifest naming the parent plan and the effective date; recorded in the plan
   store as a new version.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from territory_engine.config import Scenario
from territory_engine.config.scenario import LockConfig
from territory_engine.config.whatif_models import AddRepConfig
from territory_engine.errors import InfeasibleError, InputError, ScenarioError, did_you_mean
from territory_engine.io.load import load_tables
from territory_engine.io.model import Tables
from territory_engine.metrics.scorecard import quota_section
from territory_engine.org.adjust.changes import AddRep, Change, MoveUnits, RemoveRep
from territory_engine.org.adjust.prorate import ProRated, month_shares_after, prorate_quotas
from territory_engine.org.adjust.warm import (
    base_unit_owners,
    fill_from_neighbours,
    plan_start,
    territory_neighbours,
)
from territory_engine.pipeline.assemble import make_plan, match_reps
from territory_engine.pipeline.run import manifest
from territory_engine.plan.files import MANIFEST
from territory_engine.plan.model import Plan
from territory_engine.plan.reader import PlanFolder, read_plan_folder
from territory_engine.plan.writer import write_plan_folder
from territory_engine.problem.bands import band_bounds, fair_shares
from territory_engine.problem.build import ProblemIndex, build_problem
from territory_engine.problem.data import ProblemData
from territory_engine.problem.diagnose import diagnose
from territory_engine.solve import Alignment, SolveParams, solve

__all__ = [
    "QUOTA_CHANGES",
    "AdjustResult",
    "adjust_plan",
    "adjusted_scenario",
    "default_output",
    "local_problem",
    "redrawn_reps",
]

#: The file of a mid-year change that explains every changed quota.
QUOTA_CHANGES = "quota_changes.csv"


@dataclass
class AdjustResult:
    """What :func:`adjust_plan` produced.

    Attributes
    ----------
    plan_dir
        The new plan folder.
    plan_id, parent_id
        Ids in the plan store (``None`` without a store).
    alignment
        The solver's result on the re-drawn region.
    changes
        ``quota_changes.csv``: one row per rep whose quota changed.
    redrawn
        Rep ids whose territories were re-drawn (a departed rep included).
    moved_accounts, changed_units
        Accounts whose rep differs from the parent plan; geo units (per
        segment layer) whose territory differs.
    total_before, total_after
        The company quota total in cents, before and after (equal).
    seconds
        Wall time of the whole change.
    """

    plan_dir: Path
    plan_id: str | None
    parent_id: str | None
    alignment: Alignment
    changes: pd.DataFrame
    redrawn: list[str]
    moved_accounts: int
    changed_units: int
    total_before: int
    total_after: int
    seconds: float


def default_output(plan_dir: Path, effective: date) -> Path:
    """``<plan>_adjusted_<YYYY-MM-DD>`` beside the plan folder."""
    plan_dir = Path(plan_dir).resolve()
    return plan_dir.parent / f"{plan_dir.name}_adjusted_{effective.isoformat()}"


def _parent_scenario(parent: PlanFolder) -> Scenario:
    raw = parent.manifest.get("scenario")
    where = parent.path / "plan.json"
    if not isinstance(raw, dict):
        raise InputError(
            "has no 'scenario'; adjust needs a plan folder written by territory-engine run",
            file=str(where),
        )
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        dotted = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"its scenario is not valid: '{dotted}': {first['msg']}", file=str(where)
        ) from None
    if scenario.territories.mode != "per_rep":
        raise ScenarioError(
            f"{where}: adjust needs one territory per rep (territories.mode 'per_rep')"
        )
    if scenario.quota.plan_start is None:
        raise ScenarioError(
            f"{where}: the plan's scenario has no quota.plan_start, so the months before "
            "and after the effective date are unknown; set quota.plan_start and re-run it"
        )
    return scenario


def _check_changes(parent: PlanFolder, changes: Sequence[Change]) -> None:
    """Reps to remove must be reps of the plan, hires must not be; one message each."""
    reps = parent.reps["rep_id"].astype(str).tolist()
    hires = {c.rep_id for c in changes if isinstance(c, AddRep)}
    if not changes:
        raise ScenarioError("say what changes: --remove-rep, --add-rep or --move-units")
    for change in changes:
        if isinstance(change, RemoveRep) and change.rep_id not in reps:
            raise ScenarioError(
                f"--remove-rep: {change.rep_id!r} is not a rep of the plan "
                f"{parent.path}{did_you_mean(change.rep_id, reps)}"
            )
        if isinstance(change, AddRep) and change.rep_id in reps:
            raise ScenarioError(
                f"--add-rep: {change.rep_id!r} is already a rep of the plan {parent.path}; "
                "give the new rep an id of its own"
            )
        if isinstance(change, MoveUnits):
            for unit, rep in change.moves:
                if rep not in reps and rep not in hires:
                    raise ScenarioError(
                        f"--move-units: {unit}={rep}: {rep!r} is not a rep of the plan "
                        f"{parent.path}{did_you_mean(rep, reps)}"
                    )


def _hire_segment(parent: PlanFolder, hire: AddRep) -> str:
    if hire.segment is not None:
        return hire.segment
    segments = sorted(set(parent.reps["segment"].astype(str)))
    if len(segments) == 1:
        return segments[0]
    raise ScenarioError(
        f"--add-rep {hire.rep_id}:{hire.city}: the plan has several segments "
        f"({', '.join(segments)}); write REP:CITY:SEGMENT"
    )


def adjusted_scenario(
    scenario: Scenario,
    parent: PlanFolder,
    changes: Sequence[Change],
    effective: date,
    seed: int | None = None,
    time_limit: float | None = None,
) -> tuple[Scenario, list[str]]:
    """The parent's scenario with the changes as what-ifs and locks, from the parent plan.

    Returns the scenario and the locks dropped because they name a departed rep
    (their accounts are re-drawn with the rest of the territory), in words.
    """
    gone = {c.rep_id for c in changes if isinstance(c, RemoveRep)}
    whatif = scenario.whatif
    hires = [
        AddRepConfig.model_validate(
            {
                "rep_id": c.rep_id,
                "name": f"New hire {c.rep_id}",
                "segment": _hire_segment(parent, c),
                "city": c.city,
                "start_date": effective,
            }
        )
        for c in changes
        if isinstance(c, AddRep)
    ]
    dropped = [
        f"{'account ' + lk.account if lk.account else 'unit ' + str(lk.unit)} (was locked to "
        f"{lk.rep})"
        for lk in scenario.constraints.locks
        if lk.rep in gone
    ]
    locks = [lk for lk in scenario.constraints.locks if lk.rep not in gone]
    moved_units = {u for c in changes if isinstance(c, MoveUnits) for u, _ in c.moves}
    locks = [lk for lk in locks if lk.unit not in moved_units]
    locks += [
        LockConfig(unit=u, rep=r) for c in changes if isinstance(c, MoveUnits) for u, r in c.moves
    ]
    new_whatif = whatif.model_copy(
        update={
            "base_plan": parent.path.resolve(),
            "remove_reps": [*whatif.remove_reps, *sorted(gone)],
            "add_reps": [*whatif.add_reps, *hires],
            "lock_accounts": [e for e in whatif.lock_accounts if e.rep not in gone],
        }
    )
    solver = scenario.solver.model_copy(
        update={k: v for k, v in (("seed", seed), ("time_limit", time_limit)) if v is not None}
    )
    return (
        scenario.model_copy(
            update={
                "whatif": new_whatif,
                "constraints": scenario.constraints.model_copy(update={"locks": locks}),
                "solver": solver,
                "name": f"{scenario.name} (adjusted {effective.isoformat()})",
            }
        ),
        dropped,
    )


def _filled_owners(problem: ProblemData, owners: np.ndarray) -> np.ndarray:
    """Owner labels with empty units given their neighbours' owner."""
    labels = sorted(set(owners.astype(str)) - {""})
    code = {r: i for i, r in enumerate(labels)}
    codes = np.array([code.get(str(r), -1) for r in owners], dtype=int)
    filled = fill_from_neighbours(codes, problem.adjacency)
    return np.array([labels[c] if c >= 0 else "" for c in filled], dtype=object)


def _home_unit(problem: ProblemData, index: ProblemIndex, t: int) -> int:
    """The geo unit of territory ``t``'s segment layer nearest its rep's home."""
    layer = np.flatnonzero(
        ~index.exception_unit & (problem.unit_group == problem.territory_group[t])
    )
    centre = np.asarray(problem.centres, dtype=float)[t]
    return int(layer[np.argmin(((problem.xy[layer] - centre) ** 2).sum(axis=1))])


def _move_unit(
    problem: ProblemData, index: ProblemIndex, unit: str, rep: str, units_file: str
) -> int:
    t = index.rep_territory[rep]
    hit = np.flatnonzero(
        ~index.exception_unit
        & (index.unit_geo_id.astype(str) == unit)
        & (problem.unit_group == problem.territory_group[t])
    )
    if not len(hit):
        known = sorted(set(index.unit_geo_id.astype(str)))
        raise ScenarioError(
            f"--move-units: {unit!r} is not a unit of {units_file}{did_you_mean(unit, known)}"
        )
    return int(hit[0])


def redrawn_reps(
    problem: ProblemData,
    index: ProblemIndex,
    owners: np.ndarray,
    changes: Sequence[Change],
    units_file: str,
) -> set[str]:
    """The reps whose territories are re-drawn (see the module docstring)."""
    free: set[str] = set()
    for change in changes:
        if isinstance(change, RemoveRep):
            free |= {change.rep_id} | territory_neighbours(
                problem.adjacency, owners, {change.rep_id}
            )
        elif isinstance(change, AddRep):
            t = index.rep_territory[change.rep_id]
            host = str(owners[_home_unit(problem, index, t)])
            free |= {change.rep_id, host} | territory_neighbours(problem.adjacency, owners, {host})
        else:
            for unit, rep in change.moves:
                i = _move_unit(problem, index, unit, rep, units_file)
                free |= {rep, str(owners[i])}
    return free - {""}


def local_problem(
    problem: ProblemData,
    index: ProblemIndex,
    owners: np.ndarray,
    free: set[str],
    scenario: Scenario,
    capacity: np.ndarray,
) -> ProblemData:
    """``problem`` with every unit outside the re-drawn region locked, bands local to it.

    Territories outside the region can neither lose (their units are locked)
    nor gain load (their upper bound is their load).
    """
    locked = problem.locked.copy()
    for i in np.flatnonzero(locked < 0):
        rep = str(owners[i])
        if rep not in free and rep in index.rep_territory:
            locked[i] = index.rep_territory[rep]
    region_t = np.array([index.rep_territory[r] for r in sorted(free) if r in index.rep_territory])
    in_region = np.isin(owners.astype(str), sorted(free)) | np.isin(locked, region_t)
    # A territory outside the region keeps its load exactly: its upper bound is what
    # its locked units weigh, so a unit of the region cannot drift into it.
    held = np.zeros_like(problem.upper)
    np.add.at(held, locked[locked >= 0], problem.weights[locked >= 0])
    lower = np.zeros_like(problem.lower)
    upper = held * (1 + 1e-7) + 1e-6
    if len(region_t):
        fair = fair_shares(
            problem.weights[in_region],
            problem.unit_group[in_region],
            problem.territory_group[region_t],
            capacity[region_t],
        )
        lo, hi = band_bounds(fair, scenario.balance.values(), capacity[region_t], open_low=0.0)
        lower[region_t], upper[region_t] = lo, hi
    return dataclasses.replace(problem, locked=locked, lower=lower, upper=upper)


def _prorated_tables(
    parent: PlanFolder, plan: Plan, scenario: Scenario, pro: ProRated
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``quotas.csv`` and ``quota_splits.csv`` of the adjusted plan.

    Unchanged territories keep the parent's rows as they were; changed ones get
    their pro-rated quota and explanation; a hire gets a row of its own.
    """
    rep_territory = dict(
        zip(plan.territories["rep_id"], plan.territories["territory_id"], strict=True)
    )
    old = parent.quotas.copy()
    old = old[old["rep_id"].astype(str).isin(rep_territory)]
    explain = dict(zip(pro.changes["rep_id"], pro.changes["explanation"], strict=True))
    new_rows = [
        {"territory_id": t, "rep_id": r}
        for r, t in rep_territory.items()
        if r not in set(old["rep_id"].astype(str))
    ]
    quotas = pd.concat([old, pd.DataFrame(new_rows)], ignore_index=True)
    order = {t: i for i, t in enumerate(plan.territories["territory_id"])}
    quotas = quotas.sort_values("territory_id", key=lambda s: s.map(order)).reset_index(drop=True)
    for i, r in enumerate(quotas["rep_id"].astype(str)):
        if r in pro.quota_cents:
            quotas.loc[i, "quota"] = pro.quota_cents[r] / 100.0
            if "explanation" in quotas.columns:
                quotas.loc[i, "explanation"] = explain[r]
    if "explanation" not in quotas.columns:
        quotas["explanation"] = [explain.get(r, "") for r in quotas["rep_id"].astype(str)]
    splits = parent.quota_splits
    if splits is None or not len(splits):
        return quotas, plan.quota_splits.iloc[0:0]
    period = "month" if str(splits["period"].iloc[0]).startswith("M") else "quarter"
    kept = splits[
        splits["rep_id"].astype(str).isin(rep_territory)
        & ~splits["rep_id"].astype(str).isin(pro.quota_cents)
    ]
    changed = pro.splits(rep_territory, period, float(scenario.quota.rounding))
    starts = dict(zip(splits["period"], splits["period_start"], strict=False))
    changed["period_start"] = changed["period"].map(starts).fillna("")
    changed["ramp_factor"] = 1.0
    out = pd.concat([kept, changed[[c for c in kept.columns if c in changed.columns]]])
    out = out.sort_values(
        ["territory_id", "period"], key=lambda s: s.map(order) if s.name == "territory_id" else s
    )
    return quotas, out.reset_index(drop=True)


@dataclass
class _Redrawn:
    """The re-drawn plan of a change, before its quotas are pro-rated.

    Attributes
    ----------
    scenario, dropped
        The adjusted scenario and the locks it dropped (:func:`adjusted_scenario`).
    tables, local, index
        The loaded tables, the problem local to the re-drawn region and its index
        (reps matched to the solved territories).
    alignment
        The solver's result on the re-drawn region.
    plan, card
        The plan tables and the scorecard (quotas still the parent's).
    free
        Rep ids whose territories were re-drawn.
    """

    scenario: Scenario
    dropped: list[str]
    tables: Tables
    local: ProblemData
    index: ProblemIndex
    alignment: Alignment
    plan: Plan
    card: dict
    free: set[str]

    def new_rep(self) -> pd.Series:
        """Account id -> rep id in the adjusted plan."""
        assignments = self.plan.assignments
        return pd.Series(assignments["rep_id"].to_numpy(), index=assignments["account_id"])


def _solve_region(
    scenario: Scenario,
    tables: Tables,
    problem: ProblemData,
    index: ProblemIndex,
    owners: np.ndarray,
    free: set[str],
) -> tuple[ProblemData, Alignment]:
    """The problem local to the re-drawn region and its alignment, solved from the plan.

    Raises
    ------
    InfeasibleError
        The re-drawn region cannot be balanced.
    """
    reps = tables.reps
    capacity = (
        reps["capacity_fte"].to_numpy(float) if scenario.scale_by_capacity else np.ones(len(reps))
    )
    local = local_problem(problem, index, owners, free, scenario, capacity)
    reasons = diagnose(local)
    if reasons:
        raise InfeasibleError("the change cannot be made:\n  - " + "\n  - ".join(reasons))
    initial = plan_start(local, index, owners)
    alignment = solve(
        local,
        SolveParams(
            seed=scenario.solver.seed,
            time_limit=scenario.solver.time_limit,
            candidates=scenario.solver.candidates,
            lns_rounds=scenario.solver.lns_rounds,
        ),
        initial=initial,
    )
    return local, alignment


def _redraw(
    scenario: Scenario,
    parent: PlanFolder,
    changes: Sequence[Change],
    effective: date,
    seed: int | None,
    time_limit: float | None,
) -> _Redrawn:
    """Re-draw the region the changes touch, every other territory held as it was."""
    adjusted, dropped = adjusted_scenario(scenario, parent, changes, effective, seed, time_limit)
    tables = load_tables(adjusted)
    problem, index = build_problem(adjusted, tables)
    owners = _filled_owners(problem, base_unit_owners(problem, index, tables.accounts, parent))
    free = redrawn_reps(problem, index, owners, changes, str(adjusted.data.units))
    local, alignment = _solve_region(adjusted, tables, problem, index, owners, free)
    index = match_reps(local, index, tables, alignment)
    plan, card = make_plan(adjusted, tables, local, index, alignment)
    return _Redrawn(adjusted, dropped, tables, local, index, alignment, plan, card, free)


def _parent_accounts(parent: PlanFolder) -> pd.DataFrame:
    """The parent's accounts as :func:`prorate_quotas` reads them, potential 0 if unknown."""
    old = parent.assignments[["account_id", "territory_id", "rep_id"]].merge(
        parent.accounts[["account_id", "potential"]], on="account_id", how="left"
    )
    old["potential"] = old["potential"].fillna(0.0)
    return old


def _quota_card(quotas: pd.DataFrame, drawn: _Redrawn) -> dict:
    """The scorecard's quota section for the pro-rated quotas."""
    local, alignment = drawn.local, drawn.alignment
    k = local.n_territories
    potential = np.bincount(
        alignment.assign[drawn.index.account_unit],
        weights=drawn.tables.accounts["potential"].to_numpy(float),
        minlength=k,
    )
    q_by_t = dict(zip(quotas["territory_id"], quotas["quota"].astype(float), strict=True))
    return dict(
        quota_section(
            np.array([q_by_t.get(t, np.nan) for t in local.territory_ids]),
            potential,
            list(local.territory_ids),
            source="adjust",
        )
    )


def _moved_accounts(parent: PlanFolder, new_rep: pd.Series) -> int:
    """Accounts whose rep differs from the parent's (an account new to the plan counts)."""
    return int(
        (
            parent.assignments.set_index("account_id")["rep_id"].reindex(new_rep.index).fillna("")
            != new_rep
        ).sum()
    )


def _adjustment(
    parent: PlanFolder,
    parent_id: str | None,
    effective: date,
    changes: Sequence[Change],
    drawn: _Redrawn,
    moved_accounts: int,
    changed_units: int,
    pro: ProRated,
) -> dict:
    """The manifest's ``adjustment`` section: the parent, the date and what changed."""
    return {
        "parent_plan_id": parent_id,
        "parent_path": str(parent.path.resolve()),
        "effective_date": effective.isoformat(),
        "changes": [_describe(c) for c in changes],
        "redrawn_reps": sorted(drawn.free),
        "locks_dropped": drawn.dropped,
        "moved_accounts": moved_accounts,
        "changed_units": changed_units,
        "bands": "the re-drawn territories are balanced among themselves within the "
        "scenario's tolerances; the others hold what they held",
        "quota_total_cents": {"before": pro.total_before, "after": pro.total_after},
    }


def _write(
    target: Path, plan: Plan, card: dict, drawn: _Redrawn, extra: dict[str, pd.DataFrame]
) -> Path:
    """Write the adjusted plan folder, ``quota_changes.csv`` (and ``forecasts.csv``) with it."""
    scenario = drawn.scenario
    return write_plan_folder(
        target,
        plan,
        card,
        accounts=drawn.tables.accounts,
        reps=drawn.tables.reps,
        measures=list(scenario.balance),
        title=scenario.name,
        tiles=scenario.output.tiles,
        extra_tables=extra,
    )


def _donors(parent: PlanFolder, plan: Plan) -> dict[str, str]:
    """A new territory -> the parent's territory it took most geo units from."""
    if parent.units is None or not len(plan.units):
        return {}
    known = set(parent.territories["territory_id"].astype(str))
    old = parent.units[["unit_id", "segment", "territory_id"]].astype(str)
    new = plan.units[["unit_id", "segment", "territory_id"]].astype(str)
    new = new[~new["territory_id"].isin(known)]
    taken = new.merge(old, on=["unit_id", "segment"], suffixes=("", "_parent"))
    taken = taken[taken["territory_id_parent"].isin(known)]
    counts = taken.groupby(["territory_id", "territory_id_parent"]).size().reset_index(name="n")
    # Most units first; a tie goes to the parent territory first in id order.
    counts = counts.sort_values(["territory_id", "n", "territory_id_parent"], ascending=[1, 0, 1])
    first = counts.drop_duplicates("territory_id")
    return dict(zip(first["territory_id"], first["territory_id_parent"], strict=True))


def _carry_layers(
    parent: PlanFolder, drawn: _Redrawn, plan: Plan, card: dict
) -> tuple[Plan, dict, dict[str, pd.DataFrame]]:
    """The parent's organisation layers on the adjusted plan.

    ``hierarchy.csv``: same groups; a hire's territory joins the groups of the
    territory it took most units from (:func:`_donors`), a departed rep's leaves;
    the ``hierarchy`` section, ``hierarchy.geojson`` and the quotas' region and
    district are recomputed (:func:`~territory_engine.org.hierarchy.plan.kept_hierarchy`,
    :func:`~territory_engine.org.hierarchy.plan.attach_hierarchy`).
    ``forecasts.csv`` and the ``forecast`` section are the parent's, marked so
    (:func:`~territory_engine.org.forecast.plan.parent_forecast`).

    Returns
    -------
    tuple
        The plan, the scorecard and the extra tables (``forecasts.csv``) to write.
    """
    from territory_engine.org.forecast.plan import FORECASTS_FILE, parent_forecast
    from territory_engine.org.hierarchy.plan import (
        attach_hierarchy,
        kept_hierarchy,
        solved_adjacency,
    )

    extra: dict[str, pd.DataFrame] = {}
    files = list(plan.provenance.get("files", []))
    forecasts = parent.path / FORECASTS_FILE
    if isinstance(parent.scorecard.get("forecast"), dict) and forecasts.is_file():
        from territory_engine.io.safe_cells import restore_frame

        text = {"level": str, "id": str, "month": str}
        extra[FORECASTS_FILE] = restore_frame(
            pd.read_csv(forecasts, dtype=text, keep_default_na=False)
        )
        card = {**card, "forecast": parent_forecast(parent.scorecard["forecast"], parent.path)}
    if parent.hierarchy is not None:
        adjacency = solved_adjacency(drawn.local, drawn.index, drawn.alignment.assign)
        section = parent.scorecard.get("hierarchy")
        kept = kept_hierarchy(
            parent.path,
            drawn.scenario,
            plan.territories,
            adjacency,
            plan.quotas,
            section=section if isinstance(section, dict) else None,
            donors=_donors(parent, plan),
        )
        assert kept is not None  # the parent has hierarchy.csv
        plan, card = attach_hierarchy(
            plan, card, kept[0], fill_pools=not drawn.scenario.quota.regions
        )
        plan.provenance["hierarchy"]["from_parent"] = str(parent.path.resolve())
        attached = list(plan.provenance["files"])
        files = attached + [f for f in files if f not in attached]
    if extra:
        files.insert(files.index(MANIFEST) if MANIFEST in files else len(files), FORECASTS_FILE)
    plan.provenance["files"] = files
    return plan, card, extra


def _record_new(
    store_path: Path | None, plan_dir: Path, effective: date, changes: Sequence[Change]
) -> str | None:
    """Record the new plan folder in the store, labelled by its date and changes."""
    if store_path is None:
        return None
    from territory_engine.store import PlanStore

    label = f"adjust {effective.isoformat()}: " + "; ".join(_describe(c) for c in changes)
    return PlanStore(store_path).record_folder(plan_dir, label=label)


def adjust_plan(
    plan_dir: Path | str,
    effective: date,
    changes: Sequence[Change],
    *,
    output: Path | str | None = None,
    store: Path | str | None = None,
    record: bool = True,
    seed: int | None = None,
    time_limit: float | None = None,
) -> AdjustResult:
    """Apply mid-year ``changes`` to the plan at ``plan_dir`` from ``effective`` on.

    Parameters
    ----------
    plan_dir
        A plan folder written by ``territory-engine run`` (or by an earlier adjust).
    effective
        The first day the change applies; within the plan year.
    changes
        What changes (:mod:`territory_engine.org.adjust.changes`).
    output
        The new plan folder (default :func:`default_output`).
    store
        The plan store (default: ``plans.sqlite`` beside the new folder).
    record
        Record the parent and the new plan in the store.
    seed, time_limit
        Override the scenario's ``solver.seed`` and ``solver.time_limit``.

    Returns
    -------
    AdjustResult

    Raises
    ------
    InputError
        No or an incomplete plan folder.
    ScenarioError
        An effective date outside the plan year, an unknown rep or unit, a hire
        already a rep, a city not found.
    InfeasibleError
        The re-drawn region cannot be balanced (nothing is written).
    """
    started = time.perf_counter()
    parent = read_plan_folder(plan_dir)
    scenario = _parent_scenario(parent)
    _check_changes(parent, changes)
    start = scenario.quota.plan_start
    assert start is not None  # checked by _parent_scenario
    # The date is checked before any solving: a bad one costs nothing.
    month_shares_after(start, effective)
    drawn = _redraw(scenario, parent, changes, effective, seed, time_limit)
    new_rep = drawn.new_rep()
    pro = prorate_quotas(
        parent.quotas,
        parent.quota_splits,
        _parent_accounts(parent),
        new_rep,
        plan_start=start,
        effective=effective,
        unit=float(drawn.scenario.quota.rounding),
    )
    quotas, splits = _prorated_tables(parent, drawn.plan, drawn.scenario, pro)
    drawn.card["quota"] = _quota_card(quotas, drawn)
    moved_accounts = _moved_accounts(parent, new_rep)
    changed_units = _changed_units(parent, drawn.plan)
    target = Path(output) if output is not None else default_output(parent.path, effective)
    # The parent is recorded before the new folder is written, so the manifest can name it.
    store_path, parent_id = _record_parent(parent.path, target, store, record)
    provenance = manifest(drawn.scenario, None, drawn.local, drawn.tables, drawn.alignment)
    provenance["files"] = [*provenance["files"], QUOTA_CHANGES]
    provenance["adjustment"] = _adjustment(
        parent, parent_id, effective, changes, drawn, moved_accounts, changed_units, pro
    )
    plan = dataclasses.replace(
        drawn.plan, quotas=quotas, quota_splits=splits, provenance=provenance
    )
    plan, card, extra = _carry_layers(parent, drawn, plan, drawn.card)
    plan_dir_out = _write(target, plan, card, drawn, {QUOTA_CHANGES: pro.changes, **extra})
    plan_id = _record_new(store_path, plan_dir_out, effective, changes)
    return AdjustResult(
        plan_dir=plan_dir_out,
        plan_id=plan_id,
        parent_id=parent_id,
        alignment=drawn.alignment,
        changes=pro.changes,
        redrawn=sorted(drawn.free),
        moved_accounts=moved_accounts,
        changed_units=changed_units,
        total_before=pro.total_before,
        total_after=pro.total_after,
        seconds=time.perf_counter() - started,
    )


def _record_parent(
    parent_dir: Path, target: Path, store: Path | str | None, record: bool
) -> tuple[Path | None, str | None]:
    """The store and the parent's id in it (recording it refreshes it, same id)."""
    if not record:
        return None, None
    from territory_engine.store import PlanStore, default_store_path

    path = Path(store) if store is not None else default_store_path(target)
    return path, PlanStore(path).record_folder(parent_dir)


def _changed_units(parent: PlanFolder, plan: Plan) -> int:
    """Geo units (per segment layer) whose rep differs from the parent's."""
    if parent.units is None or not len(plan.units):
        return 0
    rep_old = dict(
        zip(parent.territories["territory_id"], parent.territories["rep_id"], strict=True)
    )
    rep_new = dict(zip(plan.territories["territory_id"], plan.territories["rep_id"], strict=True))
    a = parent.units.assign(rep=parent.units["territory_id"].map(rep_old))
    b = plan.units.assign(rep=plan.units["territory_id"].map(rep_new))
    merged = a.merge(b, on=["unit_id", "segment"], how="outer", suffixes=("_a", "_b"))
    return int((merged["rep_a"].fillna("") != merged["rep_b"].fillna("")).sum())


def _describe(change: Change) -> str:
    if isinstance(change, RemoveRep):
        return f"{change.rep_id} leaves"
    if isinstance(change, AddRep):
        return f"{change.rep_id} hired in {change.city}"
    return "units moved: " + ", ".join(f"{u} to {r}" for u, r in change.moves)
