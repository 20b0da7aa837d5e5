"""Run the variants of a sweep in parallel on Dask, and write the sweep folder.

One task per variant. A task gets plain data (the variant's scenario as a JSON-able
dict and the folder to write), validates it again, calls
:func:`territory_engine.pipeline.run.run_scenario` and returns a small record: whether it
ran, its one-line error, and the plan's headline numbers. It catches every exception,
so a variant with an impossible setting is reported with its error and never costs
the other variants; a worker that dies is reported the same way.

Where things are written, and when:

1. Each variant writes its plan folder, as soon as it finishes, into a hidden
   staging folder beside the sweep folder (``.<sweep>.running-XXXX/<variant>``), each
   plan folder atomically (by ``run_scenario``).
2. When every variant is done, the sweep folder is written with
   :func:`~territory_engine.plan.atomic.write_folder_atomically`: the finished plan
   folders are moved in (a rename, no copy) next to ``sweep.csv`` and ``sweep.html``.
   A sweep that fails or is interrupted therefore never leaves half a sweep behind,
   and never replaces a previous complete sweep of the same folder. Because the folder
   is replaced whole, it must be new or an earlier sweep's (it holds ``sweep.csv``);
   any other folder is refused before a variant runs.
3. The plans are then recorded in the plan store, in this (the main) process, with
   their final paths, and ``sweep.csv`` and ``sweep.html`` are rewritten (each
   atomically) with the plan ids the store gave.

With ``--scheduler`` the workers write into the staging folder too, so the sweep
folder must be on a file system every worker sees at the same path (and the workers
need ``territory_engine`` installed, at the same version).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import shlex
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from territory_engine.config.load import deep_merge, load_scenario, resolve_raw
from territory_engine.errors import (
    InfeasibleError,
    InputError,
    ScenarioError,
    TerritoryEngineError,
)
from territory_engine.io.safe_cells import csv_text
from territory_engine.plan.atomic import (
    clean_stale_temps,
    make_temp_dir,
    write_folder_atomically,
    write_text_atomically,
)
from territory_engine.sweep.grid import GridAxis, Variant, build_variants, parse_grid
from territory_engine.sweep.pareto import CRITERIA, compromise_scores, non_dominated

__all__ = [
    "EXIT_CODES",
    "SweepPlan",
    "SweepResult",
    "VariantTask",
    "exit_code",
    "plan_sweep",
    "record_plans",
    "run_sweep",
    "run_tasks",
    "run_variant",
    "summary_table",
]

#: What a variant's ``status`` means and the exit code it leads to (the worst wins).
EXIT_CODES = {"ok": 0, "infeasible": 3, "input_error": 2, "error": 4}
_SEVERITY = ("ok", "infeasible", "input_error", "error")

#: Called with ``(event, info)``: ``"start"`` {total, mode}, ``"done"`` {done, total,
#: record}, ``"write"`` {folder}.
SweepProgress = Callable[[str, dict], None]

# Numbers the sweep table and page show per variant, beside the grid values.
HEADLINE = (
    "feasible",
    "balance_max_dev",
    "potential_max_dev",
    "potential_balance_index",
    "travel_mean_km",
    "moved_potential_share",
    "moved_accounts_share",
    "retention_share",
    "solve_seconds",
    "stop_reason",
)


@dataclass(frozen=True)
class VariantTask:
    """What one worker needs to run one variant: plain, picklable data only.

    Attributes
    ----------
    index, name
        The variant's position and name.
    scenario
        ``Scenario.model_dump(mode="json")`` of the variant; validated again on the
        worker, so a worker never trusts a pickled model of another version.
    output
        The plan folder to write (inside the staging folder).
    source
        The scenario file, recorded in the plan's manifest.
    """

    index: int
    name: str
    scenario: dict
    output: str
    source: str | None = None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def headline(card: dict, measures: Sequence[str]) -> dict[str, Any]:
    """The numbers of a scorecard a sweep compares plans on.

    Parameters
    ----------
    card
        The plan's scorecard.
    measures
        The scenario's balance measures (the balance criterion is the worst of them).

    Returns
    -------
    dict
        ``balance_max_dev`` (largest ``max_rel_dev`` over ``measures``),
        ``potential_max_dev``, ``potential_balance_index``, ``travel_mean_km``,
        ``moved_potential_share``, ``moved_accounts_share`` and ``retention_share``
        (``relationships.ties_kept_share``, NaN without a relationship graph).
        The deviations are shares (0.05 = 5 %), as
        :func:`territory_engine.metrics.headline` gives them; a number the card
        lacks is NaN.
    """
    # Imported on use, like the pipeline in run_variant: the metrics load scipy and shapely.
    from territory_engine.metrics.headline import headline as metrics_headline

    head = metrics_headline(card, measures)

    def num(value: float | None) -> float:
        return math.nan if value is None else value

    return {
        "balance_max_dev": num(head.balance_max_dev_share),
        "potential_max_dev": num(head.potential_max_dev_share),
        "potential_balance_index": num(head.potential_balance_index),
        "travel_mean_km": num(head.travel_mean_km),
        "moved_potential_share": num(head.moved_potential_share),
        "moved_accounts_share": num(head.moved_accounts_share),
        "retention_share": num(head.ties_kept_share),
    }


def run_variant(task: VariantTask) -> dict[str, Any]:
    """Run one variant and return its record; never raises.

    This is the Dask task (it runs on a worker process); ``--serial`` calls it in
    the main process.

    Returns
    -------
    dict
        ``index, variant, status`` (``ok``, ``infeasible``, ``input_error`` or
        ``error``), ``error`` (one line, "" when none), ``plan_dir`` (the folder
        written, or ""), ``seconds`` (wall time of the task), ``violations`` (count)
        and the :data:`HEADLINE` numbers.
    """
    start = time.perf_counter()
    record: dict[str, Any] = {
        "index": task.index,
        "variant": task.name,
        "status": "error",
        "error": "",
        "plan_dir": "",
        "violations": 0,
        **dict.fromkeys(HEADLINE, math.nan),
    }
    record["feasible"] = False
    record["stop_reason"] = ""
    try:
        # Imported here: the task must work on a fresh worker process.
        from territory_engine.config.scenario import Scenario
        from territory_engine.pipeline.run import run_scenario

        scenario = Scenario.model_validate(task.scenario)
        result = run_scenario(
            scenario,
            output=Path(task.output),
            source=Path(task.source) if task.source else None,
        )
        stats = result.alignment.stats
        violations = list(result.alignment.violations)
        record.update(headline(result.scorecard, list(scenario.balance)))
        record.update(
            plan_dir=str(result.plan_dir),
            feasible=bool(result.alignment.feasible),
            status="ok" if result.alignment.feasible else "infeasible",
            violations=len(violations),
            solve_seconds=float(stats.seconds),
            stop_reason=str(stats.stop_reason),
        )
        if violations:
            more = f" (+{len(violations) - 3} more)" if len(violations) > 3 else ""
            record["error"] = _one_line("; ".join(map(str, violations[:3]))) + more
    except InfeasibleError as exc:
        record.update(status="infeasible", error=_one_line(f"infeasible: {exc}"))
    except TerritoryEngineError as exc:
        record.update(status="input_error", error=_one_line(str(exc)))
    except Exception as exc:  # isolate every failure: one variant never loses the others
        record.update(status="error", error=_one_line(f"{type(exc).__name__}: {exc}"))
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def _failed(task: VariantTask, exc: BaseException, seconds: float = math.nan) -> dict[str, Any]:
    """Record of a task whose worker failed (it died, or the result never came back)."""
    return {
        "index": task.index,
        "variant": task.name,
        "status": "error",
        "error": _one_line(f"the worker failed: {type(exc).__name__}: {exc}"),
        "plan_dir": "",
        "violations": 0,
        **dict.fromkeys(HEADLINE, math.nan),
        "feasible": False,
        "stop_reason": "",
        "seconds": seconds,
    }


def _execute_serial(tasks: Sequence[VariantTask]) -> Iterator[dict[str, Any]]:
    for task in tasks:
        yield run_variant(task)


def _execute_dask(
    tasks: Sequence[VariantTask],
    *,
    scheduler: str | None,
    workers: int,
    on_cluster: Callable[[str], None],
) -> Iterator[dict[str, Any]]:
    """Submit one task per variant and yield the records as they complete."""
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
        cluster = None
        try:
            client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            client.close()
            raise InputError(f"--scheduler {scheduler}: no worker joined within 60 s") from None
        n = len(client.scheduler_info().get("workers", {}))
        on_cluster(f"scheduler {scheduler} ({n} workers)")
    else:
        # One single-threaded process per core: the solver is pure Python and holds
        # the GIL, so threads would not run variants in parallel. No dashboard (it
        # would need a free port and bokeh); worker logs only on errors, so the
        # long GIL-bound tasks do not flood stderr with "event loop unresponsive".
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        on_cluster(f"local cluster of {workers} worker processes")
    # Keys are unique per sweep: a shared scheduler may run two sweeps of one grid.
    key_prefix = f"sweep-{uuid.uuid4().hex[:8]}"
    try:
        futures = {}
        for task in tasks:
            # pure=False: two identical variants are still two runs; the key names
            # the variant in the scheduler's logs.
            future = client.submit(run_variant, task, pure=False, key=f"{key_prefix}-{task.name}")
            futures[future] = task
        try:
            yield from _gather(client, futures)
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


#: Seconds a cluster may have no worker at all before the variants still waiting are
#: reported failed (a dead worker's variants are retried by the scheduler on the
#: others; with none left they would wait for ever).
NO_WORKER_TIMEOUT = 120.0
_POLL_SECONDS = 2.0


def _gather(client: Any, futures: dict[Any, VariantTask]) -> Iterator[dict[str, Any]]:
    """Yield each task's record as it finishes; fail the rest when no worker is left.

    A worker that dies is the scheduler's to handle: it re-runs the worker's tasks on
    the others (up to ``distributed.scheduler.allowed-failures`` deaths per task, then
    the task fails with ``KilledWorker``, reported as the variant's error). When every
    worker is gone for :data:`NO_WORKER_TIMEOUT` seconds, the waiting variants are
    reported failed and cancelled, so the sweep ends (with the plans it has) instead
    of waiting for a worker that may never come.
    """
    from distributed import wait

    pending = set(futures)
    idle_since: float | None = None
    while pending:
        try:
            done, pending = wait(pending, timeout=_POLL_SECONDS, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        for future in sorted(done, key=lambda f: futures[f].index):
            try:
                yield future.result()
            except Exception as exc:  # a killed worker, a lost result
                yield _failed(futures[future], exc)
        if done:
            idle_since = None
            continue
        if client.scheduler_info().get("workers"):
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= NO_WORKER_TIMEOUT:
            lost = RuntimeError(f"no worker left on the cluster for {NO_WORKER_TIMEOUT:g} s")
            client.cancel(list(pending))
            for future in sorted(pending, key=lambda f: futures[f].index):
                yield _failed(futures[future], lost)
            return


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep, before anything runs.

    Attributes
    ----------
    source
        The base scenario file.
    axes
        The grid.
    variants
        Every variant, validated, in product order.
    sweep_dir
        The sweep folder.
    store
        The base scenario's ``output.store`` (``None``: the default store).
    """

    source: Path
    axes: tuple[GridAxis, ...]
    variants: tuple[Variant, ...]
    sweep_dir: Path
    store: Path | None = None

    @property
    def grid_keys(self) -> list[str]:
        """The dotted grid keys, in grid order."""
        return [axis.dotted for axis in self.axes]


def default_sweep_dir(scenario_file: Path, plan_folder: Path) -> Path:
    """``sweep_<scenario stem>`` beside the scenario's own plan folder.

    For ``scenarios/fy_baseline.yaml`` (plan folder ``out/fy_baseline``) that is
    ``out/sweep_fy_baseline``: deterministic, so re-running a sweep replaces it.
    """
    return Path(plan_folder).resolve().parent / f"sweep_{Path(scenario_file).stem}"


def plan_sweep(
    scenario_file: str | Path,
    grid: Sequence[str | GridAxis],
    *,
    output: str | Path | None = None,
    time_limit: float | None = None,
) -> SweepPlan:
    """Parse the grid and validate every variant (nothing runs, nothing is written).

    Parameters
    ----------
    scenario_file
        The base scenario (YAML; ``extends`` is resolved).
    grid
        ``KEY=V1,V2`` strings (or parsed axes).
    output
        The sweep folder; default :func:`default_sweep_dir`.
    time_limit
        Every variant's ``solver.time_limit`` (a grid on ``solver.time_limit`` wins).

    Raises
    ------
    ScenarioError
        The base scenario or any variant is invalid.
    """
    source = Path(scenario_file).resolve()
    base = load_scenario(source)
    raw = resolve_raw(source)
    if time_limit is not None:
        raw = deep_merge(raw, {"solver": {"time_limit": time_limit}})
    axes = tuple(a if isinstance(a, GridAxis) else parse_grid(a) for a in grid)
    if not axes:
        raise ScenarioError("a sweep needs at least one --grid KEY=V1,V2,...")
    sweep_dir = (
        Path(output) if output is not None else default_sweep_dir(source, base.output.folder)
    )
    sweep_dir = sweep_dir.resolve()
    # The sweep folder is replaced as a whole at the end: never let that be a folder
    # that holds anything but an earlier sweep (``--output out`` would take the store
    # and every plan under out/ with it).
    if sweep_dir.exists() and (
        not sweep_dir.is_dir()
        or (any(sweep_dir.iterdir()) and not (sweep_dir / "sweep.csv").is_file())
    ):
        raise InputError(
            f"--output {sweep_dir}: exists and is not a sweep folder (no sweep.csv); a sweep "
            "replaces its folder as a whole, so give a new or an earlier sweep's folder"
        )
    variants = build_variants(raw, axes, sweep_dir, source=source)
    store = getattr(base.output, "store", None)
    return SweepPlan(
        source=source,
        axes=axes,
        variants=tuple(variants),
        sweep_dir=sweep_dir,
        store=Path(store) if store is not None else None,
    )


def exit_code(statuses: Sequence[str]) -> int:
    """The command's exit code: the worst status among the variants.

    0 every variant gave a feasible plan; 3 some are infeasible; 2 some failed on bad
    input; 4 some failed with an internal error.
    """
    worst = max((_SEVERITY.index(s) for s in statuses), default=0)
    return EXIT_CODES[_SEVERITY[worst]]


def summary_table(records: Sequence[dict[str, Any]], plan: SweepPlan) -> pd.DataFrame:
    """One row per variant, best first, with the Pareto marks and compromise rank.

    Columns: ``rank`` (1 = best compromise among feasible plans, empty otherwise),
    ``variant``, the grid keys (values as typed), ``status``, ``pareto`` (True for
    the non-dominated feasible plans), ``compromise`` (see
    :func:`~territory_engine.sweep.pareto.compromise_scores`), the headline numbers,
    ``seconds``, ``violations``, ``plan_id``, ``plan_dir``, ``error``. Order: the
    non-dominated plans by compromise, then other feasible plans by compromise, then
    infeasible plans, then failed variants, each by variant index.
    """
    by_index = {r["index"]: r for r in records}
    rows = []
    for variant in plan.variants:
        record = by_index[variant.index]
        row = {"index": variant.index, "variant": variant.name}
        row.update(variant.texts)
        row.update({k: v for k, v in record.items() if k not in ("index", "variant")})
        row.setdefault("plan_id", "")
        rows.append(row)
    frame = pd.DataFrame(rows)
    points = frame[list(CRITERIA)].to_numpy(float)
    feasible = (frame["status"] == "ok").to_numpy()
    frame["pareto"] = non_dominated(points, feasible)
    frame["compromise"] = compromise_scores(points, feasible)
    order = frame.assign(
        _group=[
            0 if p else (1 if s == "ok" else (2 if s == "infeasible" else 3))
            for p, s in zip(frame["pareto"], frame["status"], strict=True)
        ],
        _score=frame["compromise"].fillna(math.inf),
    ).sort_values(["_group", "_score", "index"], kind="stable")
    frame = frame.loc[order.index].reset_index(drop=True)
    ranked = frame["status"] == "ok"
    frame.insert(0, "rank", pd.array([pd.NA] * len(frame), dtype="Int64"))
    frame.loc[ranked, "rank"] = range(1, int(ranked.sum()) + 1)
    front = [
        "rank",
        "index",
        "variant",
        *plan.grid_keys,
        "status",
        "pareto",
        "compromise",
        *HEADLINE,
        "seconds",
        "violations",
        "plan_id",
        "plan_dir",
        "error",
    ]
    return frame[front + [c for c in frame.columns if c not in front]]


@dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` produced.

    Attributes
    ----------
    plan
        The validated sweep.
    sweep_id
        The id under which the plans are recorded in the store.
    sweep_dir
        The sweep folder (``sweep.csv``, ``sweep.html``, one plan folder per variant
        that wrote one).
    store_path
        The plan store.
    table
        :func:`summary_table` (also ``sweep.csv``).
    mode
        How the variants ran (``serial``, ``local cluster of 2 worker processes``, ...).
    seconds
        Wall-clock seconds of the whole sweep, writing included.
    exit_code
        See :func:`exit_code`.
    """

    plan: SweepPlan
    sweep_id: str
    sweep_dir: Path
    store_path: Path | None
    table: pd.DataFrame
    mode: str
    seconds: float
    exit_code: int
    best: list[dict[str, Any]] = field(default_factory=list)

    def _store_option(self) -> str:
        """`` --store PATH`` unless the store is the one the CLI reads by default.

        ``plans`` and ``compare`` read ``out/plans.sqlite`` of the current directory
        without ``--store``; the printed commands must find this sweep's store.
        """
        if self.store_path is None:
            return ""
        path = Path(self.store_path).resolve()
        if path == (Path.cwd() / "out" / "plans.sqlite").resolve():
            return ""
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        return f" --store {shlex.quote(str(shown))}"

    @property
    def compare_command(self) -> str | None:
        """``territory-engine compare ID1 ID2`` for the two best plans, if there are two.

        Without a store (``record=False``) the plan folders stand in for the ids.
        """
        if len(self.best) < 2:
            return None
        a, b = (shlex.quote(str(r["plan_id"] or r["plan_dir"])) for r in self.best[:2])
        return f"territory-engine compare {a} {b}{self._store_option()}"

    @property
    def list_command(self) -> str:
        """``territory-engine plans list --sweep ID``: the plans of this sweep in the store."""
        return f"territory-engine plans list --sweep {self.sweep_id}{self._store_option()}"


def _best(table: pd.DataFrame, n: int = 2) -> list[dict[str, Any]]:
    """The ``n`` best feasible plans: the table's first rows with a rank."""
    ranked = table[table["rank"].notna()]
    return ranked.head(n).to_dict("records")


def _write_summary(folder: Path, table: pd.DataFrame, plan: SweepPlan, info: dict) -> None:
    from territory_engine.render.sweep_page import render_sweep_page

    write_text_atomically(folder / "sweep.csv", csv_text(table))
    page = render_sweep_page(
        table,
        title=f"Sweep of {plan.source.name}",
        grid_keys=plan.grid_keys,
        info=info,
    )
    write_text_atomically(folder / "sweep.html", page)


def run_sweep(
    scenario_file: str | Path,
    grid: Sequence[str | GridAxis],
    *,
    output: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    store: str | Path | None = None,
    record: bool = True,
    time_limit: float | None = None,
    progress: SweepProgress | None = None,
) -> SweepResult:
    """Run every variant of a grid over a scenario and write the sweep folder.

    Parameters
    ----------
    scenario_file
        The base scenario.
    grid
        ``KEY=V1,V2`` strings (``--grid`` options) or parsed axes.
    output
        The sweep folder (replaced as a whole at the end); default
        ``sweep_<scenario stem>`` beside the scenario's plan folder.
    scheduler
        Address of a running Dask scheduler (``tcp://HOST:PORT``); default: a local
        cluster started for this sweep and closed after it.
    workers
        Worker processes of the local cluster; default one per core (never more
        than there are variants).
    serial
        Run the variants one after another in this process (no Dask).
    store
        The plan store; default
        :func:`~territory_engine.store.plan_store.default_store_path` of the sweep
        folder (``plans.sqlite`` beside it).
    record
        Record the plans in the store (the benchmark turns it off).
    time_limit
        Every variant's ``solver.time_limit``.
    progress
        Called with ``(event, info)``; see :data:`SweepProgress`.

    Returns
    -------
    SweepResult

    Raises
    ------
    ScenarioError
        A bad key or value in the grid (before anything runs).
    """
    started = time.perf_counter()
    plan = plan_sweep(scenario_file, grid, output=output, time_limit=time_limit)

    def report(event: str, **info: Any) -> None:
        if progress is not None:
            progress(event, info)

    sweep_dir = plan.sweep_dir
    store_path = _store_path(plan, store) if record else None
    sweep_dir.parent.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    sweep_id = f"{sweep_dir.name}-{stamp}"
    # A killed sweep's staging folder is removed by the next sweep of the folder.
    clean_stale_temps(sweep_dir)
    stage = make_temp_dir(sweep_dir, "running")
    tasks = _variant_tasks(plan, stage)
    try:
        records, mode = run_tasks(
            tasks, serial=serial, scheduler=scheduler, workers=workers, report=report
        )
        staged = _move_records_to(sweep_dir, records)
        table = summary_table(records, plan)
        info = {
            "scenario": str(plan.source),
            "sweep_id": sweep_id,
            "mode": mode,
            "variants": len(tasks),
        }
        report("write", folder=str(sweep_dir))
        _write_sweep_folder(sweep_dir, staged, table, plan, info)
    finally:
        shutil.rmtree(stage, ignore_errors=True)

    if record:
        ids = record_plans(store_path, sweep_dir, staged, sweep_id)
        table["plan_id"] = [ids.get(v, "") for v in table["variant"]]
    result = SweepResult(
        plan=plan,
        sweep_id=sweep_id,
        sweep_dir=sweep_dir,
        store_path=store_path,
        table=table,
        mode=mode,
        seconds=math.nan,
        exit_code=exit_code(list(table["status"])),
        best=_best(table),
    )
    if record:
        info.update(
            store=str(store_path),
            list_command=result.list_command,
            compare_command=result.compare_command,
        )
        _write_summary(sweep_dir, table, plan, info)
    return dataclasses.replace(result, seconds=time.perf_counter() - started)


def _store_path(plan: SweepPlan, store: str | Path | None) -> Path:
    """The plan store the sweep records its plans in, as ``run`` picks it.

    ``store``, else the scenario's ``output.store``, else ``plans.sqlite`` beside the
    sweep folder (``out/plans.sqlite`` for the default ``out/sweep_<scenario>``).

    Raises
    ------
    InputError
        The store is inside the sweep folder (the next sweep would replace it).
    """
    from territory_engine.store.plan_store import default_store_path

    store_path = Path(store or plan.store or default_store_path(plan.sweep_dir)).resolve()
    if store_path.is_relative_to(plan.sweep_dir):
        # The next sweep of this folder would replace the store with the folder.
        raise InputError(f"--store {store_path}: must not be inside the sweep folder")
    return store_path


def _variant_tasks(plan: SweepPlan, stage: Path) -> list[VariantTask]:
    """One task per variant, each writing its plan folder into ``stage``."""
    return [
        VariantTask(
            index=v.index,
            name=v.name,
            scenario=v.scenario.model_dump(mode="json"),
            output=str(stage / v.name),
            source=str(plan.source),
        )
        for v in plan.variants
    ]


def run_tasks(
    tasks: Sequence[VariantTask],
    *,
    serial: bool,
    scheduler: str | None,
    workers: int | None,
    report: Callable[..., None],
) -> tuple[list[dict[str, Any]], str]:
    """Run every task (in this process, or on Dask) and report each as it finishes.

    Returns
    -------
    (list of dict, str)
        The records in the order they finished, and how the tasks ran.
    """
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    mode = ["serial"]

    def on_cluster(text: str) -> None:
        mode[0] = text
        report("start", total=len(tasks), mode=text)

    if serial:
        report("start", total=len(tasks), mode="serial")
        stream = _execute_serial(tasks)
    else:
        stream = _execute_dask(tasks, scheduler=scheduler, workers=n_workers, on_cluster=on_cluster)
    records: list[dict[str, Any]] = []
    for rec in stream:
        records.append(rec)
        report("done", done=len(records), total=len(tasks), record=rec)
    return records, mode[0]


def _move_records_to(sweep_dir: Path, records: list[dict[str, Any]]) -> dict[str, Path]:
    """Point each record's ``plan_dir`` into ``sweep_dir``; return the staged folders.

    Returns
    -------
    dict
        Variant name -> where its plan folder is staged now (variants that wrote one).
    """
    staged = {r["variant"]: Path(r["plan_dir"]) for r in records if r["plan_dir"]}
    for r in records:
        if r["plan_dir"]:
            r["plan_dir"] = str(sweep_dir / r["variant"])
    return staged


def _write_sweep_folder(
    sweep_dir: Path, staged: dict[str, Path], table: pd.DataFrame, plan: SweepPlan, info: dict
) -> None:
    """Write the sweep folder atomically: the staged plan folders moved in, and the summary."""

    def write(folder: Path) -> None:
        for name, staged_dir in staged.items():
            os.replace(staged_dir, folder / name)
        _write_summary(folder, table, plan, info)

    write_folder_atomically(sweep_dir, write)


def record_plans(
    store_path: Path | None, sweep_dir: Path, staged: dict[str, Path], sweep_id: str
) -> dict[str, str]:
    """Record the sweep's plan folders in the store; variant name -> plan id."""
    from territory_engine.store.plan_store import PlanStore

    try:
        plan_store = PlanStore(store_path)
        return {
            name: plan_store.record_folder(sweep_dir / name, label=name, sweep_id=sweep_id)
            for name in staged
        }
    except TerritoryEngineError as exc:
        raise type(exc)(
            f"the sweep was written to {sweep_dir} but its plans were not recorded: {exc}"
        ) from None
