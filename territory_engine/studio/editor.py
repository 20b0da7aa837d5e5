"""The planner's map editor: its page, the units' GeoJSON, the plan as it starts, re-optimisation.

Routes (planners only; anyone else gets 404, so a manager or a rep cannot learn an
editor or a job exists; the API's state changes need the session's CSRF token):

- ``GET /plans/{id}/edit``: the editor page (``templates/editor.html`` and
  ``static/editor.js``): the plan's units on a map, coloured by territory, selected
  by click, lasso or list and moved with ``POST /api/plans/{id}/edit`` (the
  studio's edit endpoint re-scores every move in memory with the CLI's scorer);
- ``GET /api/plans/{id}/units.geojson?segment=``: every unit of the plan once, its
  polygon, name, centroid, territory (of ``segment``, when territories have one) and
  its accounts' measures;
- ``GET /api/plans/{id}/edit``: the plan re-scored with no move, in the shape of the
  edit endpoint's answer (what undoing every move goes back to);
- ``POST /api/plans/{id}/reoptimise`` ``{moves, time_limit?}``: the solver re-draws the
  plan around the moves in a child process (:mod:`.reoptimise`); answers the job;
- ``GET /api/jobs/{job_id}``: the job's state and progress (its owner only);
  ``GET /api/jobs``: the signed-in planner's latest jobs.

Nothing is computed here that the engine computes: the units' territories are the
plan folder's ``units.csv`` (its ``assignments.csv`` where it has none), their
measures the sums of their accounts' measures, the polygons the scenario's own units
table as the edit session read it (:data:`territory_engine.studio.editing.SESSIONS`).
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import shapely
from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Engine, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from territory_engine.errors import TerritoryEngineError
from territory_engine.plan.reader import PlanFolder
from territory_engine.studio import reoptimise
from territory_engine.studio.access import NotFound, headline
from territory_engine.studio.app import (
    EDITS_FOLDER,
    Acc,
    Csrf,
    Db,
    Who,
    _base,
    _moves,
    edit_json,
    render,
)
from territory_engine.studio.catalogue import LoadedPlan
from territory_engine.studio.editing import SESSIONS
from territory_engine.studio.models import Job, PlanVersion, User, utcnow

__all__ = ["install", "router", "units_geojson", "units_geojson_bytes"]

router = APIRouter()

#: Simplification of the unit polygons sent to the map (degrees; ~500 m): the editor's
#: map shows a region, and full county outlines would triple the download.
SIMPLIFY_DEGREES = 0.005
#: Precision of the map's coordinates (degrees; ~10 m).
GRID_DEGREES = 0.0001
#: How many (plan, segment) unit maps stay in memory.
_CACHE_SIZE = 8
_cache: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
_cache_lock = threading.Lock()


def install(app: FastAPI) -> None:
    """Add the editor's routes to ``app`` and fail the jobs a dead server left active."""
    app.include_router(router)
    with app.state.factory() as db:
        reoptimise.fail_orphans(db)


def _planner(user: User, what: str) -> None:
    """Only planners edit: anyone else is told nothing exists (404, not 403)."""
    if user.role != "planner":
        raise NotFound(what)


def _plan(acc: Acc, who: Who, plan_id: str) -> tuple[PlanVersion, LoadedPlan]:
    _planner(who[0], plan_id)
    plan = acc.plan_page(plan_id)
    return plan, acc.load(plan)


def _workdir(request: Request) -> Path:
    workdir = request.app.state.catalogue.store_path.resolve().parent / EDITS_FOLDER
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _segments(folder: PlanFolder) -> list[str]:
    """The plan's territory segments, in first-seen order (``[""]`` without segments)."""
    if "segment" not in folder.territories:
        return [""]
    return list(dict.fromkeys(folder.territories["segment"].fillna("").astype(str)))


def units_geojson(folder: PlanFolder, segment: str) -> dict:
    """Every unit of ``folder``'s plan once: polygon, name, centroid, territory, measures.

    Parameters
    ----------
    folder
        The plan folder.
    segment
        Whose territories and accounts (``""`` for a plan without segments).

    Returns
    -------
    dict
        A GeoJSON ``FeatureCollection``; each feature's properties are ``unit_id``,
        ``name``, ``territory_id`` (``""`` for a unit nobody holds), ``rep_id``,
        ``cx``/``cy`` (a point inside the polygon), ``n_accounts`` and the plan's
        measures summed over the unit's accounts of ``segment``.
    """
    return json.loads(units_geojson_bytes(folder, segment))


def units_geojson_bytes(folder: PlanFolder, segment: str) -> bytes:
    """:func:`units_geojson` as the JSON the route sends, cached per plan folder and segment.

    The text is kept, not the dict: re-serialising the ~400 KiB of the sample's map
    cost 70 to 130 ms per request (the map is fetched on every editor load and
    segment switch).
    """
    key = (
        str(Path(folder.path).resolve()),
        os.stat(Path(folder.path) / "assignments.csv").st_mtime_ns,
        segment,
    )
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    built = _build_units(folder, segment)
    with _cache_lock:
        _cache[key] = built
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def _build_units(folder: PlanFolder, segment: str) -> bytes:
    units: gpd.GeoDataFrame = SESSIONS.get(folder).loaded.tables.units
    units = units if units.crs is None or units.crs.to_epsg() == 4326 else units.to_crs(4326)
    frame = pd.DataFrame({"unit_id": units["unit_id"].astype(str)})
    frame["name"] = units["name"].astype(str) if "name" in units else frame["unit_id"]
    view = folder.account_view()
    view["unit_id"] = folder.assignments["unit_id"].astype(str).to_numpy()
    if segment and "segment" in view:
        view = view[view["segment"].astype(str) == segment]
    territory = _unit_territories(folder, view, segment)
    frame["territory_id"] = frame["unit_id"].map(territory).fillna("")
    rep_of = dict(
        zip(
            folder.territories["territory_id"].astype(str),
            folder.territories["rep_id"].astype(str),
            strict=True,
        )
    )
    frame["rep_id"] = frame["territory_id"].map(rep_of).fillna("")
    sums = view.groupby("unit_id")[folder.measures].sum() if folder.measures else None
    frame["n_accounts"] = frame["unit_id"].map(view["unit_id"].value_counts()).fillna(0)
    frame["n_accounts"] = frame["n_accounts"].astype(int)
    for measure in folder.measures:
        assert sums is not None
        frame[measure] = frame["unit_id"].map(sums[measure]).fillna(0.0).astype(float)
    inside = units.geometry.representative_point()
    frame["cx"], frame["cy"] = inside.x.round(5).to_numpy(), inside.y.round(5).to_numpy()
    drawn = shapely.set_precision(
        units.geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True).values, GRID_DEGREES
    )
    shapes = gpd.GeoDataFrame(frame, geometry=drawn, crs=4326)
    return shapes.to_json(drop_id=True, separators=(",", ":")).encode()


def _unit_territories(folder: PlanFolder, view: pd.DataFrame, segment: str) -> pd.Series:
    """Unit id -> territory of ``segment``: ``units.csv``, else the most accounts' territory."""
    if folder.units is not None:
        rows = folder.units.astype(str)
        if segment and "segment" in rows:
            rows = rows[rows["segment"] == segment]
        return rows.drop_duplicates("unit_id").set_index("unit_id")["territory_id"]
    counts = view.groupby(["unit_id", "territory_id"]).size().reset_index(name="n")
    counts = counts.sort_values(["unit_id", "n", "territory_id"], ascending=[True, False, True])
    return counts.drop_duplicates("unit_id").set_index("unit_id")["territory_id"].astype(str)


@router.get("/plans/{plan_id}/edit", response_class=HTMLResponse)
def editor_page(request: Request, plan_id: str, who: Who, acc: Acc):
    plan, loaded = _plan(acc, who, plan_id)
    folder = loaded.folder
    territories = folder.territories.astype(str)
    choices = [
        {
            "territory_id": row["territory_id"],
            "rep_name": row.get("rep_name", ""),
            "segment": row.get("segment", ""),
        }
        for row in territories.to_dict("records")
    ]
    return render(
        request,
        "editor.html",
        {
            **_base(who),
            "plan": plan,
            "segments": _segments(folder),
            "choices": choices,
            "measures": folder.measures,
            "headline": headline(folder.scorecard),
        },
    )


@router.get("/api/plans/{plan_id}/units.geojson")
def api_units(plan_id: str, who: Who, acc: Acc, segment: str = ""):
    _, loaded = _plan(acc, who, plan_id)
    segments = _segments(loaded.folder)
    if segment not in segments:
        if segment:
            raise StarletteHTTPException(400, "unknown segment; one of " + ", ".join(segments))
        segment = segments[0]
    return Response(units_geojson_bytes(loaded.folder, segment), media_type="application/geo+json")


@router.get("/api/plans/{plan_id}/edit")
def api_base(request: Request, plan_id: str, who: Who, acc: Acc):
    """The plan re-scored without a move: what the editor shows before (and after undoing) all."""
    _, loaded = _plan(acc, who, plan_id)
    try:
        edit = request.app.state.previews.rescore(loaded.folder, [], _workdir(request))
    except TerritoryEngineError as exc:
        raise StarletteHTTPException(400, str(exc)) from None
    return edit_json(edit, None)


@router.post("/api/plans/{plan_id}/reoptimise", dependencies=[Csrf])
def api_reoptimise(
    request: Request,
    plan_id: str,
    who: Who,
    acc: Acc,
    db: Db,
    payload: Annotated[dict[str, Any], Body()],
):
    plan, loaded = _plan(acc, who, plan_id)
    moves = _moves(payload.get("moves"))
    asked = payload.get("time_limit")
    if asked is not None and (
        isinstance(asked, bool) or not isinstance(asked, int | float) or not 0 < asked
    ):
        raise StarletteHTTPException(400, "time_limit: a number of seconds above 0")
    workdir = _workdir(request)
    try:  # the moves are checked now (the edit's own rules), not minutes later in the job
        request.app.state.previews.rescore(loaded.folder, moves, workdir)
    except TerritoryEngineError as exc:
        raise StarletteHTTPException(400, str(exc)) from None
    scenario_limit = (loaded.folder.manifest.get("scenario") or {}).get("solver", {})
    limit = float(scenario_limit.get("time_limit") or reoptimise.MAX_SECONDS)
    if asked is not None:
        limit = min(limit, float(asked))
    try:
        job = reoptimise.start(
            db,
            db_url=_db_url(db),
            store_path=request.app.state.catalogue.store_path,
            workdir=workdir,
            plan=plan,
            user=who[0],
            moves=moves,
            time_limit=limit,
        )
    except reoptimise.ActiveJob as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    return JSONResponse(reoptimise.job_json(job), status_code=202)


def _db_url(db: Db) -> str:
    """The database URL the job's child opens (with its password: the child must connect)."""
    bind = db.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine.url.render_as_string(hide_password=False)


@router.get("/api/jobs")
def api_jobs(who: Who, db: Db):
    """The signed-in planner's latest jobs, newest first (the editor resumes an active one)."""
    _planner(who[0], "jobs")
    reoptimise.fail_orphans(db)
    rows = db.scalars(select(Job).where(Job.user_id == who[0].id).order_by(Job.id.desc()).limit(20))
    return [reoptimise.job_json(job) for job in rows]


@router.get("/api/jobs/{job_id}")
def api_job(job_id: str, who: Who, db: Db):
    _planner(who[0], job_id)
    job = db.get(Job, int(job_id)) if job_id.isdigit() and len(job_id) < 12 else None
    if job is None or job.user_id != who[0].id:
        raise NotFound(job_id)
    beat = job.heartbeat_at or job.created_at
    if job.state in ("queued", "running") and beat < utcnow() - reoptimise.STALE_AFTER:
        reoptimise.fail_orphans(db)  # a write only when its process looks gone, not per poll
        db.refresh(job)
    return reoptimise.job_json(job)
