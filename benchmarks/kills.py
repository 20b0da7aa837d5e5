"""Kill ``territory-engine`` commands with SIGKILL at many points; count what survived.

Usage::

    python benchmarks/kills.py                      # 8 kill points per command
    python benchmarks/kills.py --points 20 --commands run,quota

For each command (``run``, ``quota``, ``score``, ``rep --all-reps``, ``compare``,
``sweep``, and a plan-store write) it prepares an *old* complete folder (or store),
measures how long one uninterrupted run of the command takes (R), then starts the
command again and again and sends it SIGKILL after N ms, for N spread over [0, R]
(half the points) and N = "its first temporary entry appeared" + a delay spread over
the write phase (the other half). After each kill it checks:

- every target folder is the old complete one (same files, same SHA-256) or a new
  complete one (the files that command writes, each whole: CSV rows as wide as the
  header, JSON that parses, HTML that ends in ``</html>``, a workbook that unzips);
- the plan store opens and passes ``PRAGMA integrity_check``, and every plan in it
  reads back whole (as many assignment rows as its scorecard's accounts);
- which temporary entries (``is_temp_name``) the kill left, and that
  ``clean_stale_temps`` (what the next write of the target runs first) removes them;
- no process of the command's session is still running.

After the last kill a complete run of the command must leave the new complete folder
and no temporary entry at all. Prints a Markdown table: command, kills, old-complete,
new-complete, broken (must be 0), temp left, temp cleaned, store integrity ok,
processes left. Exit 1 when anything broke.

The functions are shared with ``tests/hardening/test_kills.py`` (a few kill points in
the default suite, many under ``-m slow``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "fy_baseline.yaml"
#: How long a killed command's children may take to exit on their own.
ORPHAN_GRACE_SECONDS = 15.0
COMMANDS = ("run", "quota", "score", "rep", "compare", "sweep", "store")

sys.path.insert(0, str(ROOT))

from territory_engine.plan.atomic import clean_stale_temps, is_temp_name  # noqa: E402
from territory_engine.plan.files import PLAN_FILES  # noqa: E402

# ---------------------------------------------------------------------- folder states


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` ({} when missing)."""
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole file of its kind, or ``None``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"{path.name}: {exc}"
    suffix = path.suffix.lower()
    if not data:
        return f"{path.name}: empty"
    if suffix == ".csv":
        rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
        if not rows or any(len(r) != len(rows[0]) for r in rows[1:] if r):
            return f"{path.name}: ragged or empty CSV"
    elif suffix in (".json", ".geojson"):
        try:
            json.loads(data)
        except ValueError:
            return f"{path.name}: not JSON"
    elif suffix == ".html":
        if not data.rstrip().lower().endswith(b"</html>"):
            return f"{path.name}: HTML cut short"
    elif suffix == ".xlsx":
        try:
            with zipfile.ZipFile(path) as z:
                if z.testzip() is not None:
                    return f"{path.name}: bad member"
        except zipfile.BadZipFile:
            return f"{path.name}: not a workbook"
    return None


def folder_problem(folder: Path, expected: Callable[[Path], set[str] | None]) -> str | None:
    """Why ``folder`` is not a new complete folder, or ``None``.

    ``expected(folder)`` gives the file names (relative paths) it must hold exactly,
    ignoring temporary entries (those are counted apart), or ``None`` for "any".
    """
    if not folder.is_dir():
        return "missing"
    files = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and not any(is_temp_name(part) for part in p.relative_to(folder).parts)
    }
    want = expected(folder)
    if want is not None and files != want:
        extra, missing = sorted(files - want)[:3], sorted(want - files)[:3]
        return f"files differ: extra {extra}, missing {missing}"
    for name in sorted(files):
        problem = file_problem(folder / name)
        if problem:
            return problem
    return None


def plan_files(prefix: str = "") -> set[str]:
    return {f"{prefix}{name}" for name in PLAN_FILES}


def temp_entries(*parents: Path) -> list[Path]:
    """Temporary entries of writers directly in ``parents`` (and one level down)."""
    found: list[Path] = []
    for parent in parents:
        if not parent.is_dir():
            continue
        for entry in parent.iterdir():
            if is_temp_name(entry.name):
                found.append(entry)
    return found


def store_problem(store: Path) -> str | None:
    """Why the plan store is not whole (``None`` when absent or fine)."""
    if not store.exists():
        return None
    try:
        con = sqlite3.connect(store, timeout=30)
        try:
            result = con.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                return f"integrity_check: {result[:3]}"
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if "plans" not in tables:
                return None  # created, schema not yet committed: an empty store
            rows = con.execute(
                "SELECT id, n_accounts, n_territories, "
                "(SELECT count(*) FROM assignments a WHERE a.plan_id = p.id), "
                "(SELECT count(*) FROM quotas q WHERE q.plan_id = p.id) FROM plans p"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"cannot open: {exc}"
    for plan_id, n_accounts, n_territories, n_assign, n_quota in rows:
        if n_accounts is not None and n_assign != n_accounts:
            return f"plan {plan_id}: {n_assign} assignment rows, {n_accounts} accounts"
        if n_territories is not None and n_quota != n_territories:
            return f"plan {plan_id}: {n_quota} quota rows, {n_territories} territories"
    return None


# ---------------------------------------------------------------------- cases


@dataclass
class Case:
    """One command to kill: how to run it and what it may touch."""

    name: str
    argv: list[str]
    #: Folders that must each be old-complete or new-complete after a kill.
    targets: list[Path]
    #: For each target: the files a new complete one holds (None: any).
    expected: list[Callable[[Path], set[str] | None]]
    store: Path | None
    #: Where temporary entries of the command appear.
    temp_parents: list[Path]
    #: Restores the old complete state before each kill.
    reset: Callable[[], None]
    #: The kind of temporary entry whose appearance starts the write phase.
    trigger: str = "partial"
    old: list[dict[str, str]] = field(default_factory=list)

    def new_temp(self, before: set[str]) -> bool:
        """Whether a temporary entry of :attr:`trigger` kind appeared since ``before``."""
        return any(
            p.name not in before and f".{self.trigger}-" in p.name
            for p in temp_entries(*self.temp_parents)
        )


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "territory_engine.cli.main", *args]


def _copy(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def build_cases(base: Path, work: Path, names: list[str], time_limit: float = 1.0) -> list[Case]:
    """The cases of ``names``, each with its own folders under ``work``.

    ``base`` is a complete plan folder of the baseline scenario (read-only).
    """
    cases: list[Case] = []
    work.mkdir(parents=True, exist_ok=True)
    pristine = work / "pristine"
    if not pristine.exists():
        shutil.copytree(base, pristine)
    for name in names:
        root = work / name
        root.mkdir(exist_ok=True)
        store = root / "plans.sqlite"
        plan = root / "plan"

        if name == "run":

            def reset(plan: Path = plan) -> None:
                _copy(pristine, plan)

            argv = cli_argv(
                "run",
                str(BASELINE),
                "--output",
                str(plan),
                "--store",
                str(store),
                "--seed",
                "7",
                "--time-limit",
                str(time_limit),
                "--quiet",
            )
            cases.append(Case(name, argv, [plan], [lambda f: plan_files()], store, [root], reset))
        elif name in ("quota", "score"):
            scenario = root / "target_up.yaml"
            scenario.write_text(
                f"extends: {BASELINE}\nwhatif: {{target_change: 0.05}}\n", encoding="utf-8"
            )

            def reset(plan: Path = plan, name: str = name) -> None:
                _copy(pristine, plan)
                if name == "score":  # a stale card, so the new one differs
                    card = json.loads((plan / "scorecard.json").read_text(encoding="utf-8"))
                    card["stale"] = True
                    (plan / "scorecard.json").write_text(json.dumps(card), encoding="utf-8")

            args = (
                ["quota", str(plan), "--scenario", str(scenario)]
                if name == "quota"
                else ["score", str(plan), "--scenario", str(BASELINE)]
            )
            names_of = _names_of(pristine)
            cases.append(
                Case(name, cli_argv(*args), [plan], [lambda f, n=names_of: n], None, [root], reset)
            )
        elif name == "rep":
            reps = plan / "reps"

            def reset(plan: Path = plan, reps: Path = reps) -> None:
                _copy(pristine, plan)
                reps.mkdir()
                (reps / "rep_OLD.html").write_text("<html>old</html>", encoding="utf-8")

            cases.append(
                Case(
                    name,
                    cli_argv("rep", str(plan), "--all-reps"),
                    [reps],
                    [_rep_pages],
                    None,
                    [plan],
                    reset,
                )
            )
        elif name == "compare":
            out = root / "compare"

            def reset(out: Path = out) -> None:
                if out.exists():
                    shutil.rmtree(out)
                out.mkdir()
                (out / "old.txt").write_text("old", encoding="utf-8")

            want = {"compare.html", "moves.csv", "rep_deltas.csv"}
            cases.append(
                Case(
                    name,
                    cli_argv("compare", str(pristine), str(base), "--output", str(out)),
                    [out],
                    [lambda f, w=want: w],
                    None,
                    [root],
                    reset,
                )
            )
        elif name == "sweep":
            out = root / "sweep_seed"

            def reset(out: Path = out) -> None:
                if out.exists():
                    shutil.rmtree(out)
                shutil.copytree(pristine, out / "seed=0")
                (out / "sweep.csv").write_text("variant\nseed=0\n", encoding="utf-8")

            cases.append(
                Case(
                    name,
                    cli_argv(
                        "sweep",
                        str(BASELINE),
                        "--grid",
                        "solver.seed=1,2",
                        "--output",
                        str(out),
                        "--store",
                        str(store),
                        "--time-limit",
                        str(time_limit),
                        "--workers",
                        "2",
                        "--quiet",
                    ),
                    [out],
                    [_sweep_files],
                    store,
                    [root],
                    reset,
                )
            )
        elif name == "store":
            folders = root / "folders"
            if not folders.exists():
                for i in range(6):
                    slim = folders / f"p{i}"
                    slim.mkdir(parents=True)
                    for f in ("plan.json", "scorecard.json", "assignments.csv", "quotas.csv"):
                        shutil.copy2(pristine / f, slim / f)
                    shutil.copy2(pristine / "territories.csv", slim / "territories.csv")
            code = (
                "import sys; from pathlib import Path\n"
                "from territory_engine.store import PlanStore\n"
                "s = PlanStore(Path(sys.argv[1]))\n"
                "for r in range(10):\n"
                "    for i, f in enumerate(sorted(Path(sys.argv[2]).iterdir())):\n"
                "        s.record_folder(f, label=f'round {r} copy {i}')\n"
            )

            def reset(store: Path = store) -> None:
                pass  # the store only grows: the kill strikes a later write each time

            cases.append(
                Case(
                    name,
                    [sys.executable, "-c", code, str(store), str(folders)],
                    [],
                    [],
                    store,
                    [root],
                    reset,
                )
            )
        else:
            raise ValueError(f"unknown command {name!r}")
    return cases


def _names_of(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _rep_pages(folder: Path) -> set[str] | None:
    """The pages of a complete ``rep --all-reps`` folder: one per rep with a territory."""
    with open(folder.parent / "territories.csv", encoding="utf-8") as handle:
        reps = [r["rep_id"] for r in csv.DictReader(handle) if r.get("rep_id")]
    return {f"rep_{r}.html" for r in reps}


def _sweep_files(folder: Path) -> set[str] | None:
    """The files of a complete sweep folder: sweep.csv, sweep.html, a plan per variant."""
    try:
        with open(folder / "sweep.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError:
        return {"sweep.csv", "sweep.html"}
    want = {"sweep.csv", "sweep.html"}
    for row in rows:
        if row.get("plan_dir"):
            want |= plan_files(f"{row['variant']}/")
    return want


# ---------------------------------------------------------------------- killing


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), out.get("PYTHONPATH")]))
    out.pop("TERRITORY_ENGINE_DEBUG", None)
    return out


def _session_alive(pgid: int) -> int:
    """Processes of session/group ``pgid`` that still run (zombies excluded)."""
    alive = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            alive += 1
    return alive


def launch(case: Case, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        case.argv,
        cwd=cwd,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def stop_group(proc: subprocess.Popen) -> None:
    """SIGKILL the whole process group of ``proc`` (the cleanup of a test)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def complete_run(case: Case, cwd: Path, timeout: float = 600) -> tuple[float, float]:
    """Run the command to its end: its seconds, and the seconds from its first temporary
    entry to its end (its write phase; 0 when it makes none). Exit 0 or 3 pass."""
    before = {p.name for p in temp_entries(*case.temp_parents)}
    start = time.perf_counter()
    first_temp = None
    proc = launch(case, cwd)
    try:
        while proc.poll() is None and time.perf_counter() - start < timeout:
            if first_temp is None and case.new_temp(before):
                first_temp = time.perf_counter()
            time.sleep(0.005)
        _, err = proc.communicate(timeout=10)
    finally:
        stop_group(proc)
    end = time.perf_counter()
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"{case.name} exited {proc.returncode}: {err.decode()[-2000:]}")
    return end - start, (end - first_temp) if first_temp is not None else 0.0


@dataclass
class Outcome:
    """What one kill left."""

    command: str
    point: str
    exited_first: bool
    states: list[str]  # per target: "old", "new" or "broken: why"
    temp_left: int
    temp_cleaned: bool
    store_ok: bool
    store_problem: str | None
    processes_left: int

    @property
    def broken(self) -> bool:
        return (
            any(s.startswith("broken") for s in self.states)
            or not self.store_ok
            or not self.temp_cleaned
            or self.processes_left > 0
        )


def kill_at(
    case: Case,
    cwd: Path,
    *,
    after_ms: float | None = None,
    after_temp_ms: float | None = None,
    timeout: float = 600,
    clean: bool = True,
) -> Outcome:
    """Start ``case``, SIGKILL its main process at the point given, and judge the result.

    ``after_ms``: that long after the start. ``after_temp_ms``: that long after its
    first temporary entry appears (or at its end, if none appears). With ``clean``,
    the leftovers are then removed as the next write of each target removes them;
    without, they stay for the next run to find.
    """
    case.reset()
    case.old = [snapshot(t) for t in case.targets]
    before = {p.name for p in temp_entries(*case.temp_parents)}
    proc = launch(case, cwd)
    start = time.perf_counter()
    exited = False
    try:
        if after_ms is not None:
            try:
                proc.wait(after_ms / 1000)
                exited = True
            except subprocess.TimeoutExpired:
                pass
        else:
            assert after_temp_ms is not None
            while proc.poll() is None and time.perf_counter() - start < timeout:
                if case.new_temp(before):
                    break
                time.sleep(0.005)
            time.sleep(after_temp_ms / 1000)
            exited = proc.poll() is not None
        if not exited:
            proc.send_signal(signal.SIGKILL)  # the main process only, as the OOM killer does
        proc.wait(30)
        # Children (a sweep's Dask workers) notice their parent is gone within seconds;
        # one still running after ORPHAN_GRACE_SECONDS counts as left behind.
        deadline = time.perf_counter() + ORPHAN_GRACE_SECONDS
        left = _session_alive(proc.pid)
        while left and time.perf_counter() < deadline:
            time.sleep(0.1)
            left = _session_alive(proc.pid)
    finally:
        stop_group(proc)
    states = []
    for target, old, expected in zip(case.targets, case.old, case.expected, strict=True):
        now = snapshot(target)
        if now == old:
            states.append("old")
            continue
        problem = folder_problem(target, expected)
        states.append("new" if problem is None else f"broken: {problem}")
    temps = temp_entries(*case.temp_parents)
    if clean:
        for target in case.targets:  # what the next write of the target runs first
            clean_stale_temps(target)
    remaining = temp_entries(*case.temp_parents)
    problem = store_problem(case.store) if case.store is not None else None
    point = f"{after_ms:.0f} ms" if after_ms is not None else f"temp+{after_temp_ms:.0f} ms"
    return Outcome(
        command=case.name,
        point=point,
        exited_first=exited,
        states=states,
        temp_left=len(temps),
        temp_cleaned=not remaining,
        store_ok=problem is None,
        store_problem=problem,
        processes_left=left,
    )


def final_run_is_clean(case: Case, cwd: Path) -> str | None:
    """After the kills: one complete run must leave new complete folders and no temp."""
    complete_run(case, cwd)
    for target, expected in zip(case.targets, case.expected, strict=True):
        problem = folder_problem(target, expected)
        if problem:
            return f"{target.name}: {problem}"
    temps = temp_entries(*case.temp_parents)
    if temps:
        return f"temporary entries left: {[t.name for t in temps]}"
    if case.store is not None:
        return store_problem(case.store)
    return None


# ---------------------------------------------------------------------- the table


def table(outcomes: list[Outcome], final: dict[str, str | None]) -> str:
    lines = [
        "| command | kills | old-complete | new-complete | broken | temp left | "
        "temp cleaned by next write | store integrity ok | processes left | next run clean |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in dict.fromkeys(o.command for o in outcomes):
        mine = [o for o in outcomes if o.command == name]
        states = [s for o in mine for s in o.states[:1]] if name != "store" else []
        old = sum(s == "old" for s in states)
        new = sum(s == "new" for s in states)
        broken = sum(o.broken for o in mine)
        with_store = [o for o in mine if o.command in ("run", "sweep", "store")]
        label = "rep --all-reps" if name == "rep" else ("store write" if name == "store" else name)
        ok = f"{sum(o.store_ok for o in with_store)}/{len(with_store)}" if with_store else "n/a"
        fin = final.get(name)
        lines.append(
            f"| {label} | {len(mine)} | {old if states else 'n/a'} | {new if states else 'n/a'} | "
            f"{broken} | {sum(o.temp_left for o in mine)} | "
            f"{sum(o.temp_cleaned for o in mine)}/{len(mine)} | {ok} | "
            f"{sum(o.processes_left for o in mine)} | {'yes' if fin is None else fin} |"
        )
    return "\n".join(lines)


def kill_points(runtime: float, write: float, n: int) -> list[dict[str, float]]:
    """``n`` kill points: half spread over the run, half over its write phase.

    A command without a temporary entry (``write`` 0: the store) gets all spread.
    """
    writes = n // 2 if write > 0 else 0
    spread = n - writes
    timed = [{"after_ms": 1000 * runtime * (i + 0.5) / spread} for i in range(spread)]
    in_write = [{"after_temp_ms": 1000 * write * (i + 0.5) / writes} for i in range(writes)]
    return timed + in_write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=8, help="kill points per command")
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--work", type=Path, default=None, help="work folder (default: temp)")
    args = parser.parse_args(argv)
    names = [c.strip() for c in args.commands.split(",") if c.strip()]
    work = args.work or Path(tempfile.mkdtemp(prefix="kills-"))
    base = work / "base"
    started = time.perf_counter()
    if not base.exists():
        subprocess.run(
            cli_argv("run", str(BASELINE), "--output", str(base), "--no-store", "--quiet"),
            env=env(),
            check=False,
            capture_output=True,
        )
    outcomes: list[Outcome] = []
    final: dict[str, str | None] = {}
    for case in build_cases(base, work / "cases", names):
        case.reset()
        runtime, write = complete_run(case, work)
        print(f"{case.name}: one run {runtime:.1f} s, writing {write:.1f} s", file=sys.stderr)
        for point in kill_points(runtime, write, args.points):
            outcome = kill_at(case, work, **point)
            outcomes.append(outcome)
            print(
                f"  kill {outcome.point}: {outcome.states} temp {outcome.temp_left} "
                f"store {outcome.store_problem or 'ok'} left {outcome.processes_left}",
                file=sys.stderr,
            )
        case.reset()
        final[case.name] = final_run_is_clean(case, work)
    print(table(outcomes, final))
    print(f"\n{len(outcomes)} kills in {time.perf_counter() - started:.0f} s; work folder {work}")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any(o.broken for o in outcomes) or any(final.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
