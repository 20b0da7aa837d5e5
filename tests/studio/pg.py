"""A real PostgreSQL server for the studio's tests, started once per test session.

Import the fixture into a test module with
``from tests.studio.pg import postgres_server  # noqa: F401``. The server is
``initdb`` + ``pg_ctl`` (from PATH, else Debian's newest ``/usr/lib/postgresql/N/bin``)
in a temporary folder, on a free port of 127.0.0.1, as the unprivileged ``nobody`` when
run as root; it is started by the first module that asks and stopped when the last one
is done. Where the binaries are missing or the server cannot start, the tests that need
it skip, saying why. :func:`postgres_database` makes an empty database per use and
:func:`make_studio_on` the studio app on it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.studio.conftest import PASSWORD, USERS

#: Where Debian puts the server binaries (not on PATH).
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def find_postgres() -> tuple[str, str] | None:
    """``initdb`` and ``pg_ctl``: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl

    def version(folder: str) -> int:
        name = Path(folder).parent.name.split(".")[0]
        return int(name) if name.isdigit() else 0

    for folder in sorted(glob.glob(POSTGRES_BIN_GLOB), key=version, reverse=True):
        initdb_path, pg_ctl_path = Path(folder) / "initdb", Path(folder) / "pg_ctl"
        if initdb_path.is_file() and pg_ctl_path.is_file():
            return str(initdb_path), str(pg_ctl_path)
    return None


@dataclass
class _Server:
    url: str
    stop: list[str]
    folder: Path
    users: int = 0


#: The session's server (shared by every module that imports the fixture: each import is
#: a fixture definition of its own, and they must not start one server each).
_RUNNING: dict[str, _Server | str] = {}


def _run(args: list[str], as_root: bool) -> None:
    command = ["su", "nobody", "-s", "/bin/sh", "-c", " ".join(args)] if as_root else args
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def _start() -> _Server | str:
    """A started server, or why none could start."""
    found = find_postgres()
    if found is None:
        return (
            "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in "
            f"{POSTGRES_BIN_GLOB}; Debian: apt-get install postgresql): PostgreSQL tests skipped"
        )
    initdb, pg_ctl = found
    # Not under pytest's temporary folder: that one is private to root, and the server
    # runs as nobody.
    folder = Path(tempfile.mkdtemp(prefix="te-studio-pg-"))
    data = folder / "data"
    as_root = os.geteuid() == 0
    if as_root:
        os.chmod(folder, 0o777)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # fsync off: a test server's data need not survive a power cut, and it is faster.
    options = f"'-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off'"
    try:
        _run([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], as_root)
        _run(
            [pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"],
            as_root,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        log = folder / "log"
        detail = log.read_text()[-500:] if log.is_file() else getattr(exc, "stderr", b"")
        shutil.rmtree(folder, ignore_errors=True)
        return f"PostgreSQL could not start here ({exc}): {detail!r}; PostgreSQL tests skipped"
    stop = [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]
    if as_root:
        stop = ["su", "nobody", "-s", "/bin/sh", "-c", " ".join(stop)]
    return _Server(f"postgresql://postgres@127.0.0.1:{port}/postgres", stop, folder)


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of the session's server's ``postgres`` database (skips where none)."""
    if "server" not in _RUNNING:
        _RUNNING["server"] = _start()
    server = _RUNNING["server"]
    if isinstance(server, str):
        pytest.skip(server)
    server.users += 1
    try:
        yield server.url
    finally:
        server.users -= 1
        if server.users == 0:
            subprocess.run(server.stop, capture_output=True, timeout=120)
            shutil.rmtree(server.folder, ignore_errors=True)
            del _RUNNING["server"]


def postgres_database(server_url: str, name: str) -> str:
    """A new, empty database ``name`` on the server of ``server_url``; its URL."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def make_studio_on(url: str, plan: Path, **policy):
    """conftest's ``make_studio`` on the (empty) database ``url``: :data:`USERS`
    added, the app over ``plan``'s store."""
    from territory_engine.studio import Policy, create_app
    from territory_engine.studio.db import open_database
    from territory_engine.studio.users import add_user

    factory = open_database(url)
    with factory() as db:
        for name, (role, rep_id, scope) in USERS.items():
            add_user(db, name, role, PASSWORD, rep_id=rep_id, scope=scope)
    return create_app(url, plan.parent / "plans.sqlite", policy=Policy(**policy))
