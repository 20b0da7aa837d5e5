"""The studio's migrations, constraints, workflow and throttling on a real PostgreSQL server.

The server is started by the test (``initdb`` + ``pg_ctl`` in a temporary folder, on a
free port of 127.0.0.1, as the unprivileged ``nobody`` when run as root) and stopped
after it; without the PostgreSQL binaries the test is skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from territory_engine.studio.auth import LockedOut, Policy, sign_in
from territory_engine.studio.db import open_database
from territory_engine.studio.models import PlanVersion, utcnow
from territory_engine.studio.users import add_user
from territory_engine.studio.workflow import AlreadyPublished, StaleVersion, apply_transition

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed here (no initdb/pg_ctl on PATH)")
    # Not under pytest's temporary folder: that one is private to root, and the server
    # runs as nobody.
    folder = Path(tempfile.mkdtemp(prefix="te-studio-pg-"))
    data = folder / "data"
    as_root = os.geteuid() == 0
    prefix = ["su", "nobody", "-s", "/bin/sh", "-c"] if as_root else None
    if as_root:
        os.chmod(folder, 0o777)

    def run(args: list[str]) -> None:
        command = [*prefix, " ".join(args)] if prefix else args
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    port = _free_port()
    run([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"])
    options = f"'-p {port} -k {folder} -c listen_addresses=127.0.0.1'"
    run([pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"])
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def _plan(db, plan_id: str) -> PlanVersion:
    now = utcnow()
    plan = PlanVersion(
        plan_id=plan_id,
        name=plan_id,
        plan_year=2027,
        state="draft",
        version=1,
        created_at=now,
        updated_at=now,
    )
    db.add(plan)
    db.commit()
    return plan


def test_the_same_code_runs_on_postgresql(postgres_url):
    factory = open_database(postgres_url)
    open_database(postgres_url)  # migrating twice is a no-op
    with factory() as db:
        pat = add_user(db, "pat", "planner", PASSWORD)
        plans = [_plan(db, f"p{i}") for i in range(2)]
        for p in plans:
            p = apply_transition(db, p, "submit", pat, seen_version=1)
            apply_transition(db, p, "approve", pat, seen_version=2)
        apply_transition(db, db.get(PlanVersion, plans[0].id), "publish", pat, seen_version=3)
        with pytest.raises(AlreadyPublished, match="another plan of 2027"):
            apply_transition(db, db.get(PlanVersion, plans[1].id), "publish", pat, seen_version=3)
        with pytest.raises(StaleVersion, match="reload"):
            apply_transition(db, db.get(PlanVersion, plans[1].id), "publish", pat, seen_version=1)
        policy = Policy(max_user_failures=2)
        assert sign_in(db, "pat", PASSWORD, "c", policy) is not None
        for _ in range(2):
            assert sign_in(db, "pat", "wrong password!", "c", policy) is None
        with pytest.raises(LockedOut, match="locked"):
            sign_in(db, "pat", PASSWORD, "c", policy)
