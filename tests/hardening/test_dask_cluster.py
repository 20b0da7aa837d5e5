"""A sweep on a real Dask cluster whose worker dies.

Starts ``dask scheduler`` (no dashboard) and two ``dask worker`` processes, all on
127.0.0.1 and each in its own process group, runs ``territory-engine sweep
--scheduler tcp://127.0.0.1:PORT`` in a subprocess, and kills one worker with SIGKILL
(its whole process group) while it runs a variant. Then:

- by default the scheduler retries the dead worker's variants on the other worker:
  every variant completes, exit 0;
- with ``distributed.scheduler.allowed-failures`` 0 (``slow``) the dead worker's
  variants are reported failed (``status`` ``error``, the worker named), the others
  complete;
- with both workers killed, the waiting variants are reported failed once the
  cluster has had no worker for ``NO_WORKER_TIMEOUT`` (monkeypatched to 3 s; the
  sweep runs in a thread of the test), instead of the sweep waiting for ever;
- either way the sweep folder holds exactly one complete plan folder per variant
  ``sweep.csv`` lists as written, no staging or partial folder is left, and the store
  passes ``PRAGMA integrity_check`` and holds exactly the written plans.

Every process the test starts is killed in ``finally``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from territory_engine.plan.files import PLAN_FILES

pytest.importorskip("distributed")
from distributed import Client

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"
# Keeping families solves the sample in about 1 s: a variant takes about 5 s in all.
# The grid varies only the scenario's name, so every variant converges to one plan.
FAST = ROOT / "scenarios" / "whatif_keep_families.yaml"
# A ceiling on every wait, so a broken cluster fails the test instead of hanging it.
DEADLINE = 240.0

if not DASK.exists():
    pytest.skip(f"no {DASK} (distributed's command line)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("TERRITORY_ENGINE_DEBUG", None)
    env.update(extra or {})
    return env


@dataclass
class Cluster:
    """A scheduler and named workers, each the leader of its own process group."""

    address: str
    logs: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        log.close()

    def kill(self, name: str) -> None:
        """SIGKILL the process group of ``name`` (the worker and anything it forked)."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")


@contextlib.contextmanager
def cluster(tmp: Path, workers: int = 2, scheduler_env: dict[str, str] | None = None):
    """``dask scheduler`` and ``workers`` single-threaded ``dask worker`` processes."""
    port = _free_port()
    logs = tmp / "logs"
    logs.mkdir()
    c = Cluster(address=f"tcp://127.0.0.1:{port}", logs=logs)
    try:
        c.start(
            "scheduler",
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            _env(scheduler_env),
        )
        _wait_for_port(port, c)
        for i in range(workers):
            c.start(
                f"w{i}",
                [
                    str(DASK),
                    "worker",
                    c.address,
                    "--host",
                    "127.0.0.1",
                    "--name",
                    f"w{i}",
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                ],
                _env(),
            )
        yield c
    finally:
        c.stop()


def _wait_for_port(port: int, c: Cluster) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if c.procs["scheduler"].poll() is not None:
            pytest.fail(f"dask scheduler exited: {c.log('scheduler')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail("dask scheduler did not listen")


def _sweep(cwd: Path, c: Cluster, grid: str, time_limit: str) -> subprocess.Popen:
    err = (cwd / "sweep.err").open("wb")
    out = (cwd / "sweep.out").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "territory_engine.cli.main",
            "sweep",
            str(FAST),
            "--grid",
            grid,
            "--scheduler",
            c.address,
            "--time-limit",
            time_limit,
            "--output",
            "runs/s",
        ],
        cwd=cwd,
        env=_env(),
        stdout=out,
        stderr=err,
        start_new_session=True,
    )
    err.close()
    out.close()
    return proc


def _running_on(client: Client) -> Iterator[tuple[str, str]]:
    """(worker name, task key) of every sweep task a worker is processing now."""
    names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
    for address, keys in client.processing().items():
        for key in keys:
            if str(key).startswith("sweep-") and address in names:
                yield str(names[address]), str(key)


def _kill_worker_mid_sweep(
    client: Client, c: Cluster, proc: subprocess.Popen, cwd: Path
) -> tuple[str, set[str]]:
    """Once a variant has finished, SIGKILL a worker that is running another one.

    Returns the killed worker's name and the variants it was running.
    """
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        assert proc.poll() is None, "the sweep ended before a worker could be killed"
        if "[1/" in (cwd / "sweep.err").read_text(errors="replace"):
            running = list(_running_on(client))
            if running:
                victim = running[0][0]
                keys = {k for w, k in running if w == victim}
                c.kill(victim)
                # The variant name is the key's tail: sweep-XXXXXXXX-<variant>.
                return victim, {k.split("-", 2)[2] for k in keys}
        time.sleep(0.1)
    pytest.fail("no variant was running on a worker")


def _finish(proc: subprocess.Popen, cwd: Path) -> tuple[int, str, str]:
    try:
        rc = proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return rc, (cwd / "sweep.out").read_text(), (cwd / "sweep.err").read_text()


def _check_consistent(cwd: Path, table: pd.DataFrame, sweep_id: str) -> None:
    """Every variant complete or listed failed; no half folder; the store sound."""
    from territory_engine.store.plan_store import PlanStore

    runs = cwd / "runs"
    sweep = runs / "s"
    # No staging folder, no partial or old sweep folder beside it.
    assert sorted(p.name for p in runs.iterdir()) == ["plans.sqlite", "s"]
    written = table.loc[table["plan_dir"] != "", "variant"].tolist()
    assert sorted(p.name for p in sweep.iterdir()) == sorted([*written, "sweep.csv", "sweep.html"])
    for name in written:
        assert sorted(p.name for p in (sweep / name).iterdir()) == sorted(PLAN_FILES)
    failed = table[table["plan_dir"] == ""]
    assert (failed["status"] == "error").all() and (failed["error"] != "").all()
    assert table.loc[table["plan_dir"] != "", "status"].isin(["ok", "infeasible"]).all()

    db = runs / "plans.sqlite"
    with contextlib.closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    listed = PlanStore(db, create=False).list(sweep_id=sweep_id)
    assert sorted(listed["label"]) == sorted(written)
    assert set(listed["id"]) == set(table.loc[table["plan_dir"] != "", "plan_id"])


def _sweep_id(stdout: str) -> str:
    line = next(ln for ln in stdout.splitlines() if "plans list --sweep" in ln)
    return line.split("--sweep ")[1].split()[0]


def _run_with_a_death(tmp_path: Path, grid: str, n: int, scheduler_env=None):
    with cluster(tmp_path, scheduler_env=scheduler_env) as c:
        with Client(c.address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=DEADLINE)
            proc = _sweep(tmp_path, c, grid, time_limit="10")
            try:
                victim, lost = _kill_worker_mid_sweep(client, c, proc, tmp_path)
                rc, out, err = _finish(proc, tmp_path)
                # The scheduler saw the death: one worker is left.
                assert [w["name"] for w in client.scheduler_info()["workers"].values()] == [
                    "w1" if victim == "w0" else "w0"
                ]
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    assert "Traceback" not in err and "Traceback" not in out, err
    assert f"scheduler {c.address} (2 workers)" in err
    assert f"[{n}/{n}]" in err
    table = pd.read_csv(tmp_path / "runs" / "s" / "sweep.csv", keep_default_na=False)
    assert len(table) == n
    _check_consistent(tmp_path, table, _sweep_id(out))
    return rc, err, table.set_index("variant"), lost


def test_a_worker_killed_mid_sweep_has_its_variants_retried(tmp_path):
    rc, err, rows, lost = _run_with_a_death(tmp_path, "name=a,b,c,d", 4)
    assert lost, "the killed worker was running a variant"
    # The scheduler re-ran the dead worker's variants on the other worker.
    assert rc == 0, err
    assert (rows["status"] == "ok").all()
    assert set(rows.loc[sorted(lost), "plan_id"]) != {""}


@pytest.mark.slow
def test_a_worker_death_is_reported_when_no_retry_is_allowed(tmp_path):
    rc, err, rows, lost = _run_with_a_death(
        tmp_path,
        "name=a,b,c,d,e,f,g,h",
        8,
        scheduler_env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"},
    )
    assert lost
    assert rc == 4, err
    for name in lost:
        assert rows.loc[name, "status"] == "error"
        assert "the worker failed" in rows.loc[name, "error"]
        assert f"{name} (error)" in err or name in err
    others = rows.drop(index=sorted(lost))
    assert (others["status"] == "ok").all() and len(others) >= 8 - len(lost)


def test_a_sweep_whose_workers_all_die_ends_with_its_variants_reported(tmp_path, monkeypatch):
    """With no worker left the waiting variants fail (after a grace period); no hang."""
    import threading

    from territory_engine.sweep import run as sweep_run

    monkeypatch.setattr(sweep_run, "NO_WORKER_TIMEOUT", 3.0)
    monkeypatch.setattr(sweep_run, "_POLL_SECONDS", 0.5)
    outcome: dict = {}
    with cluster(tmp_path) as c, Client(c.address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=DEADLINE)

        def sweep() -> None:
            try:
                outcome["result"] = sweep_run.run_sweep(
                    FAST,
                    ["name=a,b"],
                    output=tmp_path / "runs" / "s",
                    store=tmp_path / "runs" / "plans.sqlite",
                    scheduler=c.address,
                    time_limit=10,
                )
            except BaseException as exc:  # reported to the test below
                outcome["error"] = exc

        thread = threading.Thread(target=sweep, daemon=True)
        thread.start()
        end = time.monotonic() + DEADLINE
        while not list(_running_on(client)):
            assert time.monotonic() < end and thread.is_alive(), "no variant started"
            time.sleep(0.1)
        c.kill("w0")
        c.kill("w1")
        thread.join(DEADLINE)
        assert not thread.is_alive(), "the sweep hung with no worker left"
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.exit_code == 4
    assert list(result.table["status"]) == ["error", "error"]
    assert result.table["error"].str.contains("no worker left on the cluster for 3 s").all()
    saved = pd.read_csv(tmp_path / "runs" / "s" / "sweep.csv", keep_default_na=False)
    assert list(saved["status"]) == ["error", "error"]
    _check_consistent(tmp_path, saved, result.sweep_id)
