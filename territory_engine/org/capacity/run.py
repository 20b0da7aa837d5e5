"""Solve the plan at every headcount of a range, on the sweep machinery, and write the folder.

Each headcount is a what-if of the scenario (``whatif.remove_reps`` and
``whatif.add_reps``, chosen by :mod:`territory_engine.org.capacity.headcount`), run
as one :class:`~territory_engine.sweep.run.VariantTask` by
:func:`~territory_engine.sweep.run.run_variant`, on a local Dask cluster, a given
scheduler, or serially, exactly as ``sweep`` runs its variants. The capacity numbers
of each plan (:mod:`territory_engine.org.capacity.measures`) are read from its plan
folder in this process, so the workers run nothing but the ordinary pipeline.

The capacity folder is written like a sweep folder: plan folders are staged beside
it, then ``capacity.csv``, ``hiring.csv``, ``capacity.html`` and the plan folders
are swapped in as a whole (:func:`~territory_engine.plan.atomic.write_folder_atomically`);
the plans are then recorded in the plan store under the capacity plan's id and the
summary rewritten with the plan ids.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from territory_engine.config.load import deep_merge, explain_validation, load_scenario, resolve_raw
from territory_engine.config.scenario import Scenario
from territory_engine.errors import InputError, ScenarioError
from territory_engine.io.load import load_tables
from territory_engine.io.safe_cells import csv_text
from territory_engine.org.capacity.headcount import (
    Hire,
    OrgChanges,
    changes_at,
    check_scenario,
    hire_order,
    parse_headcounts,
    removal_order,
    team_of_segment,
    teams_today,
)
from territory_engine.org.capacity.measures import (
    DEFAULT_BAND,
    CapacitySettings,
    Recommendation,
    headcount_measures,
    recommend,
)
from territory_engine.plan.atomic import (
    clean_stale_temps,
    make_temp_dir,
    write_folder_atomically,
    write_text_atomically,
)
from territory_engine.plan.reader import read_json, read_plan_csv

# The sweep's executor, progress events and store recording are reused as they are
# (no second job queue).
from territory_engine.sweep.run import (
    SweepProgress,
    VariantTask,
    exit_code,
    record_plans,
    run_tasks,
)

__all__ = ["CAPACITY_COLUMNS", "HIRING_COLUMNS", "CapacityResult", "Hire", "plan_capacity"]


@dataclass(frozen=True)
class CapacityResult:
    """What :func:`plan_capacity` produced.

    Attributes
    ----------
    capacity_dir
        The folder (``capacity.csv``, ``hiring.csv``, ``capacity.html``, a plan folder
        per headcount).
    capacity_id
        The id the plans are recorded under in the store (``plans list --sweep ID``).
    table
        One row per headcount (``capacity.csv``).
    hiring
        One row per hire per headcount (``hiring.csv``).
    recommendation
        The recommended headcount, or why none.
    scope
        ``"all reps"`` or ``"the <segment> team"``.
    today
        The scope's headcount today.
    settings
        The assumptions used.
    mode, seconds, store_path, exit_code
        How the plans ran, wall time, the plan store (``None`` when not recorded), and
        the exit code (the worst headcount's, as for ``sweep``).
    """

    capacity_dir: Path
    capacity_id: str
    table: pd.DataFrame
    hiring: pd.DataFrame
    recommendation: Recommendation
    scope: str
    today: int
    settings: CapacitySettings
    mode: str
    seconds: float
    store_path: Path | None
    exit_code: int
    info: dict[str, Any] = field(default_factory=dict)


def _default_dir(source: Path, plan_folder: Path) -> Path:
    return Path(plan_folder).parent / f"capacity_{source.stem}"


def _check_folder(folder: Path) -> None:
    if folder.exists() and (
        not folder.is_dir() or (any(folder.iterdir()) and not (folder / "capacity.csv").is_file())
    ):
        raise InputError(
            f"--output {folder}: exists and is not a capacity folder (no capacity.csv); the "
            "folder is replaced as a whole, so give a new or an earlier capacity plan's folder"
        )


def _variant(
    raw: dict[str, Any], change: OrgChanges, folder: Path, source: Path
) -> tuple[str, Scenario]:
    """The scenario at one headcount: the base what-ifs plus this headcount's changes."""
    name = f"h{change.headcount:03d}"
    whatif = raw.get("whatif") or {}
    override = {
        "name": f"{raw.get('name', source.stem)} [{change.headcount} reps]",
        "whatif": {
            "remove_reps": [*whatif.get("remove_reps", []), *change.removed],
            "add_reps": [*whatif.get("add_reps", []), *(h.as_whatif() for h in change.hires)],
        },
        "output": {"folder": str(folder / name)},
    }
    try:
        return name, Scenario.model_validate(deep_merge(raw, override))
    except ValidationError as exc:
        detail = explain_validation(exc, source).removeprefix(f"{source}: ")
        raise ScenarioError(f"{source}: headcount {change.headcount}: {detail}") from None


def plan_capacity(
    scenario: str | Path,
    headcounts: Sequence[int] | str,
    *,
    segment: str | None = None,
    hire_in: Sequence[str] = (),
    start_dates: Sequence[date] = (),
    settings: CapacitySettings | None = None,
    output: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    store: str | Path | None = None,
    record: bool = True,
    time_limit: float | None = None,
    progress: SweepProgress | None = None,
) -> CapacityResult:
    """Solve the alignment at each headcount and recommend one.

    Parameters
    ----------
    scenario
        The scenario file (``territories.mode: per_rep``).
    headcounts
        The headcounts (of the team with ``segment``, else of all reps), or a
        ``"40:60[:step]"`` string.
    segment
        Vary only this rep segment's team; the other teams keep their reps.
    hire_in
        Cities (``"City, ST"``) of the first hires, in order; later hires are placed
        freely (see :mod:`territory_engine.org.capacity.headcount`).
    start_dates
        First day in seat of the hires in order (the last repeats); none: the plan
        start. The quota ramp (``quota.ramp``) follows these dates.
    settings
        Hours per FTE, the share-at-quota band, the free-placement threshold.
    output
        The capacity folder (replaced as a whole); default ``capacity_<scenario>``
        beside the scenario's plan folder.
    scheduler, workers, serial
        Where the plans run, as for ``sweep``.
    store, record
        The plan store (default ``plans.sqlite`` beside the folder) and whether to
        record the plans in it.
    time_limit
        Every plan's ``solver.time_limit``.
    progress
        Called with ``(event, info)`` as for ``sweep``.

    Returns
    -------
    CapacityResult

    Raises
    ------
    InputError, ScenarioError
        A bad range, segment, city, date or folder (before anything runs).
    """
    started = time.perf_counter()
    settings = settings or CapacitySettings()
    prep = _prepare(
        scenario,
        headcounts,
        segment=segment,
        hire_in=hire_in,
        start_dates=start_dates,
        settings=settings,
        output=output,
        time_limit=time_limit,
    )
    if settings.band is None:  # the scenario's own healthy band
        att = prep.base.quota.attainment
        settings = dataclasses.replace(settings, band=(att.healthy_low, att.healthy_high))
    folder = prep.folder

    def report(event: str, **info: Any) -> None:
        if progress is not None:
            progress(event, info)

    store_path = _store_path(folder, store, prep.base) if record else None
    folder.parent.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    capacity_id = f"{folder.name}-{stamp}"
    clean_stale_temps(folder)
    stage = make_temp_dir(folder, "running")
    try:
        tasks = [
            VariantTask(
                index=i,
                name=name,
                scenario=s.model_dump(mode="json"),
                output=str(stage / name),
                source=str(prep.source),
            )
            for i, (name, s) in enumerate(prep.variants, start=1)
        ]
        records, mode = run_tasks(
            tasks, serial=serial, scheduler=scheduler, workers=workers, report=report
        )
        table, hiring, rec = _summarise(records, prep, settings)
        staged = {r["variant"]: Path(r["plan_dir"]) for r in records if r["plan_dir"]}
        table["plan_dir"] = [str(folder / n) if n in staged else "" for n in table["variant"]]
        table["plan_id"] = ""
        info = _info(prep, settings, rec, capacity_id=capacity_id, mode=mode, hire_in=hire_in)
        report("write", folder=str(folder))

        def write(target: Path) -> None:
            for name, staged_dir in staged.items():
                staged_dir.replace(target / name)
            _write_summary(target, table, hiring, info)

        write_folder_atomically(folder, write)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if record:
        ids = record_plans(store_path, folder, staged, capacity_id)
        table["plan_id"] = [ids.get(v, "") for v in table["variant"]]
        info["store"] = str(store_path)
        _write_summary(folder, table, hiring, info)
    return CapacityResult(
        capacity_dir=folder,
        capacity_id=capacity_id,
        table=table,
        hiring=hiring,
        recommendation=rec,
        scope=prep.scope_text,
        today=prep.today,
        settings=settings,
        mode=mode,
        seconds=time.perf_counter() - started,
        store_path=store_path,
        exit_code=exit_code(list(table["status"])),
        info=info,
    )


@dataclass(frozen=True)
class _Prepared:
    """A validated capacity plan before anything runs."""

    source: Path
    base: Scenario
    folder: Path
    today: int
    scope_text: str
    changes: list[OrgChanges]
    variants: list[tuple[str, Scenario]]
    scope_of: dict[int, list[str] | None]


def _band(settings: CapacitySettings) -> tuple[float, float]:
    """The settings' band (set from the scenario by :func:`plan_capacity` when not given)."""
    return settings.band if settings.band is not None else DEFAULT_BAND


def _prepare(
    scenario: str | Path,
    headcounts: Sequence[int] | str,
    *,
    segment: str | None,
    hire_in: Sequence[str],
    start_dates: Sequence[date],
    settings: CapacitySettings,
    output: str | Path | None,
    time_limit: float | None,
) -> _Prepared:
    """Check the inputs, pick the cuts and hires, and validate every headcount's scenario."""
    counts = parse_headcounts(headcounts) if isinstance(headcounts, str) else list(headcounts)
    if not counts or len(set(counts)) != len(counts) or min(counts) < 1:
        raise InputError(f"--reps {counts}: give distinct headcounts of at least 1")
    counts = sorted(counts)
    source = Path(scenario).resolve()
    base = load_scenario(source)
    check_scenario(base)
    raw = resolve_raw(source)
    if time_limit is not None:
        raw = deep_merge(raw, {"solver": {"time_limit": time_limit}})
    folder = Path(output) if output is not None else _default_dir(source, base.output.folder)
    folder = folder.resolve()
    _check_folder(folder)
    tables = load_tables(base)
    team_list, acc_team = teams_today(base, tables)
    only = team_of_segment(segment, base, tables) if segment else None
    today = len(team_list[only].rep_ids) if only else len(tables.reps)
    cuts = removal_order(base, tables, team_list, only=only, n=max(0, today - counts[0]))
    hires = hire_order(
        base,
        tables,
        team_list,
        acc_team,
        only=only,
        n=max(0, counts[-1] - today),
        hire_in=hire_in,
        starts=start_dates,
        min_population=settings.min_population,
    )
    changes = [changes_at(h, today, cuts, hires) for h in counts]
    scope_of = {
        c.headcount: (
            None
            if only is None
            else [r for r in team_list[only].rep_ids if r not in c.removed]
            + [h.rep_id for h in c.hires]
        )
        for c in changes
    }
    return _Prepared(
        source=source,
        base=base,
        folder=folder,
        today=today,
        scope_text=f"the {only} team" if only else "all reps",
        changes=changes,
        variants=[_variant(raw, c, folder, source) for c in changes],
        scope_of=scope_of,
    )


def _info(
    prep: _Prepared,
    settings: CapacitySettings,
    rec: Recommendation,
    *,
    capacity_id: str,
    mode: str,
    hire_in: Sequence[str],
) -> dict[str, Any]:
    """What the page and the result say about the run besides the tables."""
    return {
        "scenario": str(prep.source),
        "capacity_id": capacity_id,
        "mode": mode,
        "scope": prep.scope_text,
        "today": prep.today,
        "hours_per_fte": settings.hours_per_fte,
        "band": list(_band(settings)),
        "recommendation": rec.reason,
        "recommended": rec.headcount,
        "hire_in": list(hire_in),
    }


def _summarise(
    records: Sequence[dict[str, Any]], prep: _Prepared, settings: CapacitySettings
) -> tuple[pd.DataFrame, pd.DataFrame, Recommendation]:
    """The capacity table (with its marks), the hiring table and the recommendation."""
    by_name = {r["variant"]: r for r in records}
    rows, hiring_rows = [], []
    for (name, _), change in zip(prep.variants, prep.changes, strict=True):
        row, hired = _headcount_row(
            by_name[name], change, prep.scope_of[change.headcount], settings, prep.today
        )
        rows.append(row)
        hiring_rows += hired
    table = pd.DataFrame(rows)
    rec = recommend(table, _band(settings))
    low, high = _band(settings)
    table["in_band"] = [
        r["status"] == "ok" and low - 1e-12 <= r.get("share_at_quota", math.nan) <= high + 1e-12
        for r in rows
    ]
    table["recommended"] = table["headcount"] == rec.headcount
    return table, pd.DataFrame(hiring_rows, columns=HIRING_COLUMNS), rec


def _store_path(folder: Path, store: str | Path | None, base: Scenario) -> Path:
    from territory_engine.store.plan_store import default_store_path

    given = store or getattr(base.output, "store", None)
    path = Path(given or default_store_path(folder)).resolve()
    if path.is_relative_to(folder):
        raise InputError(f"--store {path}: must not be inside the capacity folder")
    return path


HIRING_COLUMNS = [
    "headcount",
    "rep_id",
    "name",
    "segment",
    "city",
    "lat",
    "lon",
    "placed_by",
    "start_date",
    "ramp_factor",
    "quota_full_year",
    "quota_ramped",
]

#: Columns of ``capacity.csv``, in order.
CAPACITY_COLUMNS = [
    "headcount",
    "change",
    "variant",
    "status",
    "feasible",
    "recommended",
    "in_band",
    "reps",
    "fte",
    "potential_per_fte",
    "workload_per_fte",
    "capacity_hours",
    "utilisation",
    "over_capacity",
    "coverage_min",
    "share_at_quota",
    "share_at_quota_uncapped",
    "quota_per_head",
    "quota_per_fte",
    "expected_sales_to_target",
    "new_reps_quota_ramped",
    "new_reps_quota_full_year",
    "travel_mean_km",
    "travel_max_km",
    "balance_max_dev",
    "removed",
    "added",
    "seconds",
    "plan_id",
    "plan_dir",
    "error",
]


def _headcount_row(
    record: dict[str, Any],
    change: OrgChanges,
    scope: list[str] | None,
    settings: CapacitySettings,
    today: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``capacity.csv`` row of one headcount and its ``hiring.csv`` rows."""
    delta = change.headcount - today
    row: dict[str, Any] = {
        "headcount": change.headcount,
        "change": f"{delta:+d}" if delta else "today",
        "variant": record["variant"],
        "status": record["status"],
        "feasible": bool(record["feasible"]),
        "travel_mean_km": record.get("travel_mean_km", math.nan),
        "balance_max_dev": record.get("balance_max_dev", math.nan),
        "removed": " ".join(change.removed),
        "added": "; ".join(
            f"{h.rep_id} {h.city or f'{h.lat:.3f},{h.lon:.3f}'}" for h in change.hires
        ),
        "seconds": record.get("seconds", math.nan),
        "error": record.get("error", ""),
    }
    hired: list[dict[str, Any]] = []
    plan_dir = Path(record["plan_dir"]) if record.get("plan_dir") else None
    if plan_dir is None:
        return row, hired
    territories = read_plan_csv(plan_dir / "territories.csv")
    quotas = read_plan_csv(plan_dir / "quotas.csv")
    card = read_json(plan_dir / "scorecard.json")
    quota = card.get("quota") or {}
    target = float((quota.get("allocation") or {}).get("target") or quotas["quota"].sum())
    row.update(
        headcount_measures(
            territories,
            quotas,
            quota.get("attainment") or {},
            scope=scope,
            hours_per_fte=settings.hours_per_fte,
            target=target,
        )
    )
    row["travel_max_km"] = (card.get("travel") or {}).get("max_km", math.nan)
    q = quotas.set_index(quotas["rep_id"].astype(str))
    ramped = full = 0.0
    for h in change.hires:
        if h.rep_id not in q.index:
            continue
        got = q.loc[h.rep_id]
        ramp = float(got.get("ramp_factor", 1.0) or 1.0)
        whole = float(got["quota"]) / ramp if ramp > 0 else math.nan
        ramped += float(got["quota"])
        full += whole
        hired.append(
            {
                "headcount": change.headcount,
                "rep_id": h.rep_id,
                "name": h.name,
                "segment": h.segment,
                "city": h.city or "",
                "lat": round(h.lat, 5),
                "lon": round(h.lon, 5),
                "placed_by": h.placed_by,
                "start_date": h.start_date.isoformat() if h.start_date else "plan start",
                "ramp_factor": ramp,
                "quota_full_year": whole,
                "quota_ramped": float(got["quota"]),
            }
        )
    row["new_reps_quota_ramped"] = ramped if change.hires else math.nan
    row["new_reps_quota_full_year"] = full if change.hires else math.nan
    return row, hired


def _write_summary(
    folder: Path, table: pd.DataFrame, hiring: pd.DataFrame, info: dict[str, Any]
) -> None:
    from territory_engine.render.capacity_page import render_capacity_page

    ordered = table.reindex(columns=CAPACITY_COLUMNS)
    write_text_atomically(folder / "capacity.csv", csv_text(ordered))
    write_text_atomically(folder / "hiring.csv", csv_text(hiring))
    name = Path(str(info.get("scenario", ""))).name
    page = render_capacity_page(ordered, hiring, title=f"Capacity plan of {name}", info=info)
    write_text_atomically(folder / "capacity.html", page)
