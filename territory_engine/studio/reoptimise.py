"""Re-optimise around a planner's edits: the solver in a child process, its state in the database.

A planner who moved some units asks the solver to re-draw the rest of the plan around
them. :func:`start` records a :class:`~territory_engine.studio.models.Job` (queued) and
starts ``python -m territory_engine.studio.reoptimise`` in a child process, so the solve
never holds the server's GIL; a thread of the server waits for the child (and kills it
past the job's time limit plus :data:`GRACE_SECONDS`). The child (:func:`run_job`):

1. copies the plan's folder and applies the moves to the copy
   (:func:`territory_engine.studio.editing.apply_moves`, the edit's own rule);
2. runs the plan's own scenario (``plan.json``) through the public API
   (:func:`territory_engine.pipeline.run.run_scenario`) with that copy as its base plan
   (:func:`territory_engine.config.whatif.with_base_plan`, what ``run --from-plan``
   does: the edited plan is the solver's start, and disruption is counted against it),
   every account of a moved unit locked to the rep of the territory the planner gave it
   (``constraints.locks``) and the solver's time limit capped at :data:`MAX_SECONDS`;
3. records the result in the plan store and as a child plan version of the edited one
   (:func:`record_version`, the same function a saved edit goes through), audited with
   the planner as author and the reason ``re-optimised around N edits``.

Its progress (the run's phases and the solver's steps, and a fraction) and a heartbeat
go to the job's row, so any server process can report it. An active job whose
heartbeat stopped for :data:`STALE_AFTER` (its child died with a server) is failed by
:func:`fail_orphans`, which the studio runs on start-up and before reporting a job.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from territory_engine.cli.progress import SOLVER_STEPS, phase_line
from territory_engine.config.scenario import LockConfig, Scenario
from territory_engine.config.whatif import with_base_plan
from territory_engine.plan.reader import PlanFolder, read_plan_csv, read_plan_folder
from territory_engine.plan.score import resolve_scenario
from territory_engine.store import PlanStore
from territory_engine.studio import audit
from territory_engine.studio.db import make_engine
from territory_engine.studio.editing import Move, apply_moves
from territory_engine.studio.models import Job, PlanVersion, User, utcnow
from territory_engine.studio.security import new_token

__all__ = [
    "DB_ENV",
    "GRACE_SECONDS",
    "MAX_SECONDS",
    "STALE_AFTER",
    "ActiveJob",
    "fail_orphans",
    "job_json",
    "locked_scenario",
    "record_version",
    "run_job",
    "start",
]

#: The longest solver time limit a re-optimisation gets (seconds).
MAX_SECONDS = 120.0
#: Time a child gets beyond its solver's time limit (loading, quotas, writing) before
#: the server kills it.
GRACE_SECONDS = 300.0
#: How often the running child refreshes its heartbeat (seconds).
HEARTBEAT_SECONDS = 2.0
#: An active job whose heartbeat is older than this has lost its process.
STALE_AFTER = timedelta(seconds=60)
#: Environment variable the child reads the database URL from (not argv: ``ps`` shows
#: argv to every user of the machine, and a PostgreSQL URL may hold a password).
DB_ENV = "TERRITORY_STUDIO_JOB_DB"
_log = logging.getLogger(__name__)
#: Fewest seconds between two progress writes of the solver's steps.
_PROGRESS_EVERY = 0.5


class ActiveJob(Exception):
    """The user already has a queued or running job (one at a time)."""


def record_version(
    db: Session,
    store_path: Path,
    parent: PlanVersion,
    folder: Path,
    *,
    author: str,
    reason: str,
    detail: str,
    client: str | None,
) -> PlanVersion:
    """Record the plan ``folder`` in the store and as a draft child version of ``parent``.

    The one way a plan folder made in the studio (a saved edit, a re-optimisation)
    becomes a plan version: recorded in the plan store, added as a ``draft`` whose
    parent is ``parent`` with its author and reason, and audited (``save_version``).
    Nothing is committed: the caller commits it with whatever else the change does.

    Returns
    -------
    PlanVersion
        The new version (flushed, so it has its id).
    """
    now = utcnow()
    new_id = PlanStore(store_path).record_folder(
        folder, label=f"studio version of {parent.plan_id} by {author}"
    )
    child = PlanVersion(
        plan_id=new_id,
        name=parent.name,
        plan_year=parent.plan_year,
        state="draft",
        version=1,
        parent_id=parent.id,
        author=author,
        reason=reason,
        created_at=now,
        updated_at=now,
    )
    db.add(child)
    db.flush()
    audit.record(
        db,
        author,
        "save_version",
        target=f"plan {parent.id} -> {new_id}",
        detail=detail,
        client=client,
    )
    return child


# ---------------------------------------------------------------- the server's side


def fail_orphans(db: Session, stale_after: timedelta = STALE_AFTER) -> int:
    """Fail the active jobs whose process stopped beating for ``stale_after``; how many.

    A queued job that never got a heartbeat counts from its creation.
    """
    cutoff = utcnow() - stale_after
    beat = Job.heartbeat_at
    found = db.execute(
        update(Job)
        .where(
            Job.state.in_(("queued", "running")),
            or_(beat < cutoff, beat.is_(None) & (Job.created_at < cutoff)),
        )
        .values(
            state="failed",
            active_user_id=None,
            error="the server stopped while this job ran: start it again",
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    db.commit()
    return int(found.rowcount or 0)  # type: ignore[attr-defined]


def start(
    db: Session,
    *,
    db_url: str,
    store_path: Path,
    workdir: Path,
    plan: PlanVersion,
    user: User,
    moves: Sequence[Move],
    time_limit: float,
) -> Job:
    """Queue a re-optimisation of ``plan`` around ``moves`` and start its child process.

    Raises
    ------
    ActiveJob
        ``user`` has a job queued or running already.
    """
    now = utcnow()
    job = Job(
        kind="reoptimise",
        plan_version_id=plan.id,
        seen_version=plan.version,
        user_id=user.id,
        active_user_id=user.id,
        username=user.username,
        state="queued",
        moves=json.dumps(
            [{"unit_id": m.unit_id, "to_territory_id": m.to_territory_id} for m in moves]
        ),
        time_limit=float(min(time_limit, MAX_SECONDS)),
        progress="queued",
        fraction=0.0,
        created_at=now,
        heartbeat_at=now,
    )
    db.add(job)
    try:
        db.flush()  # the job's id, for the audit entry committed with it
        audit.record(
            db,
            user.username,
            "reoptimise",
            target=f"plan {plan.id}",
            detail=f"job {job.id}: {len(moves)} unit moves locked, at most {job.time_limit:g} s",
        )
        db.commit()
    except IntegrityError:  # the UNIQUE active_user_id: another job of theirs is active
        db.rollback()
        raise ActiveJob("you have a re-optimisation running already: wait for it") from None
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "territory_engine.studio.reoptimise",
            str(Path(store_path).resolve()),
            str(Path(workdir).resolve()),
            str(job.id),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, DB_ENV: db_url},
    )
    factory = sessionmaker(db.get_bind(), expire_on_commit=False)
    limit = job.time_limit + GRACE_SECONDS
    threading.Thread(
        target=_watch, args=(process, factory, job.id, limit), daemon=True, name=f"job-{job.id}"
    ).start()
    return job


def _watch(
    process: subprocess.Popen, factory: Callable[[], Session], job_id: int, limit: float
) -> None:
    """Wait for the child (killing it past ``limit`` s); fail the job if it did not finish it."""
    try:
        _, err = process.communicate(timeout=limit)
        why = f"the re-optimisation stopped unexpectedly (exit code {process.returncode})"
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        why = f"the re-optimisation took longer than {limit:.0f} s and was stopped"
    try:
        with factory() as db:
            job = db.get(Job, job_id)
            if job is not None and job.state in ("queued", "running"):
                tail = (err or b"").decode(errors="replace").strip().splitlines()[-1:]
                _finish(db, job, "failed", error=": ".join([why, *tail]))
    except SQLAlchemyError as exc:  # the database went away (a server shutting down)
        _log.warning("job %s: could not record how its process ended: %s", job_id, exc)


def _finish(db: Session, job: Job, state: str, **values: Any) -> None:
    job.state = state
    job.active_user_id = None
    job.finished_at = utcnow()
    for key, value in values.items():
        setattr(job, key, value)
    db.commit()


def job_json(job: Job) -> dict[str, Any]:
    """The job as the API reports it."""
    return {
        "id": job.id,
        "plan": job.plan_version_id,
        "state": job.state,
        "progress": job.progress,
        "fraction": round(float(job.fraction), 3),
        "time_limit": job.time_limit,
        "result": job.result_id,
        "error": job.error,
        "created_at": job.created_at.isoformat(timespec="seconds") + "Z",
        "finished_at": job.finished_at.isoformat(timespec="seconds") + "Z"
        if job.finished_at
        else None,
    }


# ---------------------------------------------------------------- the child's side


def locked_scenario(
    scenario: Scenario, edited: Path, moves: Sequence[Move], time_limit: float
) -> Scenario:
    """``scenario`` re-run from the ``edited`` plan folder with the planner's moves locked.

    Each moved unit is locked, as a unit, to the rep of the territory its last move
    gave it to: a unit lock pins the unit itself in that rep's segment layer, so the
    unit stays on the map where the planner put it and contiguity still counts it.
    (Locking its accounts instead would make each an exception unit of its own and
    leave the unit's polygon free to go elsewhere.) The scenario's own locks give way
    where they conflict: a unit lock of a moved unit in the same segment is dropped,
    and an account lock of an account the moves carried is re-pointed to its new rep.
    The solver's time limit is ``time_limit`` (at most :data:`MAX_SECONDS`).
    """
    territories = read_plan_csv(edited / "territories.csv")
    rep_of = dict(
        zip(territories["territory_id"].astype(str), territories["rep_id"].astype(str), strict=True)
    )
    segment_of_rep = dict(
        zip(territories["rep_id"].astype(str), territories["segment"].astype(str), strict=True)
    )
    last = {m.unit_id: m.to_territory_id for m in moves}  # a later move of a unit wins
    unit_rep = {unit: rep_of[t] for unit, t in last.items()}
    moved_layers = {(unit, segment_of_rep[rep]) for unit, rep in unit_rep.items()}
    assignments = read_plan_csv(edited / "assignments.csv")
    carried = assignments[
        assignments["unit_id"].astype(str).map(last).eq(assignments["territory_id"].astype(str))
    ]
    account_rep = dict(
        zip(carried["account_id"].astype(str), carried["rep_id"].astype(str), strict=True)
    )
    locks: list[LockConfig] = []
    for lock in scenario.constraints.locks:
        if lock.account is not None and lock.account in account_rep:
            locks.append(LockConfig(account=lock.account, rep=account_rep[lock.account]))
        elif lock.unit is not None and (lock.unit, segment_of_rep.get(lock.rep)) in moved_layers:
            continue
        else:
            locks.append(lock)
    locks += [LockConfig(unit=unit, rep=rep) for unit, rep in unit_rep.items()]
    solver = scenario.solver.model_copy(update={"time_limit": float(min(time_limit, MAX_SECONDS))})
    constraints = scenario.constraints.model_copy(update={"locks": locks})
    scenario = scenario.model_copy(update={"constraints": constraints, "solver": solver})
    return with_base_plan(scenario, edited)


class _Reporter:
    """The run's ``progress(step, info)`` callback: the job's progress text and fraction."""

    #: Fraction of the job done when each phase starts (the solve fills 0.1 to 0.9).
    PHASE_AT: ClassVar[dict[str, float]] = {"load": 0.02, "solve": 0.1, "plan": 0.9, "write": 0.95}

    def __init__(self, write: Callable[[str, float], None], time_limit: float) -> None:
        self.write = write
        self.time_limit = max(time_limit, 1e-3)
        self.solve_started: float | None = None
        self.last = 0.0

    def __call__(self, step: str, info: dict[str, Any]) -> None:
        now = time.monotonic()
        if step in self.PHASE_AT:
            if step == "solve":
                self.solve_started = now
            text = "4/4 writing the plan" if step == "write" else phase_line(step, info)
            self.write(Text.from_markup(text).plain, self.PHASE_AT[step])
            self.last = now
            return
        if step not in SOLVER_STEPS or now - self.last < _PROGRESS_EVERY:
            return
        elapsed = now - (self.solve_started or now)
        share = min(1.0, elapsed / self.time_limit)
        label = SOLVER_STEPS[step]
        if step == "search" and "pass" in info:
            label += f" pass {info['pass']}"
        self.write(
            f"2/4 solving: {label} ({elapsed:.0f} s of {self.time_limit:.0f} s)", 0.1 + 0.8 * share
        )
        self.last = now


def _heartbeat(factory: Callable[[], Session], job_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        with factory() as db:
            db.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))
            db.commit()


def run_job(factory: Callable[[], Session], store_path: Path, workdir: Path, job_id: int) -> None:
    """Run the queued job ``job_id`` to its end (done or failed), in this process."""
    with factory() as db:
        job = db.get(Job, job_id)
        if job is None or job.state != "queued":
            return
        job.state, job.started_at, job.heartbeat_at = "running", utcnow(), utcnow()
        job.progress = "starting"
        db.commit()
        stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(factory, job_id, stop), daemon=True)
        beat.start()

        def write(text: str, fraction: float) -> None:
            with factory() as progress_db:
                progress_db.execute(
                    update(Job)
                    .where(Job.id == job_id)
                    .values(progress=text, fraction=fraction, heartbeat_at=utcnow())
                )
                progress_db.commit()

        base = Path(workdir) / f"reopt-base-{job_id}-{new_token()[:8]}"
        try:
            plan = db.get(PlanVersion, job.plan_version_id)
            if plan is None:
                raise LookupError("the plan version is gone")
            moves = [Move(m["unit_id"], m["to_territory_id"]) for m in json.loads(job.moves)]
            store = PlanStore(store_path)
            source = read_plan_folder(store.folder_of(plan.plan_id))
            target = _solve(source, moves, base, job.time_limit, _Reporter(write, job.time_limit))
            write("recording the new version", 0.98)
            child = record_version(
                db,
                store_path,
                plan,
                target,
                author=job.username,
                reason=f"re-optimised around {len(moves)} edits",
                detail=f"job {job_id}: {len(moves)} unit moves locked, "
                f"solver time limit {job.time_limit:g} s",
                client="re-optimisation job",
            )
            _finish(db, job, "done", result_id=child.id, progress="done", fraction=1.0)
        except BaseException as exc:  # every failure is the job's, in words, for the planner
            db.rollback()
            job = db.get(Job, job_id)
            if job is not None:
                why = " ".join(str(exc).split())[:2000] or repr(exc)
                if not isinstance(exc, Exception):  # SIGINT, SystemExit: stopped, not broken
                    why = f"the re-optimisation was stopped ({type(exc).__name__})"
                _finish(db, job, "failed", error=why)
            if not isinstance(exc, Exception):
                raise
        finally:
            stop.set()
            shutil.rmtree(base, ignore_errors=True)


def _solve(
    source: PlanFolder,
    moves: Sequence[Move],
    base: Path,
    time_limit: float,
    progress: _Reporter,
) -> Path:
    """The edited copy of ``source`` in ``base``, re-solved around ``moves``; the new folder."""
    from territory_engine.pipeline.run import run_scenario  # the solver stack: the child only

    shutil.copytree(source.path, base)
    apply_moves(source, moves, base)
    scenario = locked_scenario(resolve_scenario(source.path, None), base, moves, time_limit)
    recorded = source.manifest.get("scenario_file")
    origin = Path(recorded) if recorded and Path(recorded).is_file() else None
    target = base.parent / f"{source.path.name}-reopt-{new_token()[:10]}"
    run_scenario(scenario, output=target, source=origin, progress=progress)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """The child process: ``python -m territory_engine.studio.reoptimise STORE WORKDIR JOB_ID``."""
    store, workdir, job_id = argv if argv is not None else sys.argv[1:]
    engine = make_engine(os.environ[DB_ENV])
    try:
        run_job(
            sessionmaker(engine, expire_on_commit=False), Path(store), Path(workdir), int(job_id)
        )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
