"""``territory-engine serve`` as a real process, and the ``users`` commands."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from territory_engine.cli.main import app
from tests.studio.conftest import PASSWORD
from tests.studio.live import serve, stop_studio


def test_users_commands_add_list_set_password_remove(studio_plan, tmp_path):
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'users.sqlite'}"
    store = str(studio_plan.parent / "plans.sqlite")
    common = ["--db", db, "--store", store]
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "ann",
            "--role",
            "manager",
            "--scope",
            "team:smb",
            "--password-stdin",
            *common,
        ],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["users", "list", *common])
    assert re.search(r"ann\s.*manager\s.*team:smb", listed.output)
    assert PASSWORD not in listed.output
    short = runner.invoke(
        app, ["users", "set-password", "ann", "--password-stdin", *common], input="short\n"
    )
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    bad_role = runner.invoke(
        app, ["users", "add", "bob", "--role", "boss", "--password-stdin", *common], input=PASSWORD
    )
    assert bad_role.exit_code == 2 and "role 'boss'" in bad_role.output
    assert "Traceback" not in bad_role.output
    removed = runner.invoke(app, ["users", "remove", "ann", *common])
    assert removed.exit_code == 0
    again = runner.invoke(app, ["users", "remove", "ann", *common])
    assert again.exit_code == 2 and "no user 'ann'" in again.output


def test_users_demo_seeds_a_planner_a_manager_per_team_and_a_rep_per_rep(studio_plan, tmp_path):
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    common = ["--db", db, "--store", str(studio_plan.parent / "plans.sqlite")]
    result = runner.invoke(app, ["users", "demo", "--plan", str(studio_plan), *common])
    assert result.exit_code == 0, result.output
    out = result.output
    for name in ("planner", "manager-enterprise", "manager-commercial", "manager-smb"):
        assert name in out
    assert len(re.findall(r"rep-r\d\d", out)) == 45
    second = runner.invoke(app, ["users", "demo", "--plan", str(studio_plan), *common])
    assert "nothing was added" in second.output


def test_serve_runs_as_a_process_and_signs_in_over_http(studio_plan, tmp_path):
    from territory_engine.studio.db import open_database
    from territory_engine.studio.users import add_user

    db = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    with open_database(db)() as session:
        add_user(session, "pat", "planner", PASSWORD)
    studio = serve(db, studio_plan.parent / "plans.sqlite")
    try:
        with httpx.Client(base_url=studio.base) as client:
            page = client.get("/login")
            token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
            signed = client.post(
                "/login", data={"username": "pat", "password": PASSWORD, "login_token": token}
            )
            assert signed.status_code == 303
            assert client.get("/api/me").json()["role"] == "planner"
            plans = client.get("/api/plans").json()
            assert [p["state"] for p in plans] == ["draft"]
            assert client.get("/assets/leaflet.js").status_code == 200
    finally:
        stop_studio(studio)
    assert studio.process.returncode is not None


def _children(pid: int) -> list[int]:
    """The child process ids of ``pid`` (Linux ``/proc``)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(t) for t in text]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_serve_with_two_workers_shares_sessions_and_throttling(studio_plan, tmp_path):
    """``serve --workers 2``: two server processes, and a session cookie, a sign-in form
    and the sign-in throttle work whichever worker a new connection reaches."""
    from territory_engine.studio.db import open_database
    from territory_engine.studio.users import add_user

    db = f"sqlite:///{tmp_path / 'workers.sqlite'}"
    with open_database(db)() as session:
        add_user(session, "pat", "planner", PASSWORD)
        add_user(session, "quinn", "planner", PASSWORD)
    studio = serve(db, studio_plan.parent / "plans.sqlite", "--workers", "2", timeout=120)
    process, base = studio.process, studio.base

    def fresh(**kwargs) -> httpx.Client:  # a new connection: either worker may take it
        return httpx.Client(base_url=base, timeout=30, **kwargs)

    def form_token(client: httpx.Client) -> str:
        page = client.get("/login")
        return re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)

    try:
        spawned = [
            c
            for c in _children(process.pid)
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()
        ]
        assert len(spawned) == 2
        with fresh() as first:
            token = form_token(first)
            cookies = dict(first.cookies)
        with fresh(cookies=cookies) as second:  # the form's signed cookie, another connection
            signed = second.post(
                "/login", data={"username": "pat", "password": PASSWORD, "login_token": token}
            )
            assert signed.status_code == 303
            cookies = dict(second.cookies)
        for _ in range(8):
            with fresh(cookies=cookies) as again:
                assert again.get("/api/me").json()["username"] == "pat"
        failures = []
        for _ in range(5):
            with fresh() as client:
                token = form_token(client)
                failures.append(
                    client.post(
                        "/login",
                        data={
                            "username": "quinn",
                            "password": "wrong password!",
                            "login_token": token,
                        },
                    ).status_code
                )
        assert failures == [401] * 5
        with fresh() as client:
            token = form_token(client)
            locked = client.post(
                "/login", data={"username": "quinn", "password": PASSWORD, "login_token": token}
            )
        assert locked.status_code == 429
    finally:
        stop_studio(studio)
    assert process.returncode is not None
