"""``territory-engine serve`` and ``territory-engine users ...``: the Territory Studio.

``serve`` runs :func:`territory_engine.studio.create_app` under uvicorn (``--workers N``:
N processes, each with its own app from :func:`app_from_environment`); ``users``
manages who may sign in. Both take ``--db`` (default: ``studio.sqlite`` beside the
plan store) and ``--store`` (default ``out/plans.sqlite``, as ``plans`` reads).
Passwords are read from a hidden prompt, or one line of standard input with
``--password-stdin``, never from the command line (where ``ps`` and the shell history
would show them).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from territory_engine.cli.errors import user_errors
from territory_engine.cli.plans_cmd import DEFAULT_CLI_STORE
from territory_engine.errors import InputError

console = Console(stderr=True)

users_app = typer.Typer(no_args_is_help=True, help="Who may sign in to the Territory Studio.")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Studio database URL: sqlite:///FILE or postgresql://USER@HOST/DB "
        "(default: studio.sqlite beside the plan store).",
    ),
]
StoreOption = Annotated[
    Path,
    typer.Option("--store", help="Plan store whose plans are served (default out/plans.sqlite)."),
]


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``users`` group to ``app``."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")


def _db_url(db: str | None, store: Path) -> str:
    from territory_engine.studio.db import default_db_url

    return db if db else default_db_url(store)


def _factory(db: str | None, store: Path):
    from territory_engine.studio.db import open_database

    return open_database(_db_url(db, store))


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise InputError("--password-stdin: standard input held no password")
        return password
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Repeat it: ")
    if first != second:
        raise InputError("the two passwords differ; nothing was changed")
    return first


#: The environment variables through which ``serve --workers N`` hands the database URL,
#: the plan store and the preview processes to each worker's :func:`app_from_environment`.
DB_ENV, STORE_ENV = "TERRITORY_STUDIO_DB", "TERRITORY_STUDIO_STORE"
PREVIEWS_ENV = "TERRITORY_STUDIO_PREVIEW_PROCESSES"


def app_from_environment():
    """The studio of :data:`DB_ENV` and :data:`STORE_ENV` (uvicorn's app factory).

    Each worker process of ``serve --workers N`` builds its own app: what the studio
    knows lives in the database (users, sessions, sign-in failures, the cookie key,
    plan versions, the audit log), so any worker serves any request; only the caches
    of plan folders and edit sessions are per process.
    """
    from territory_engine.studio import create_app

    return create_app(
        os.environ[DB_ENV],
        Path(os.environ[STORE_ENV]),
        preview_processes=int(os.environ.get(PREVIEWS_ENV, "1")),
    )


@user_errors
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    store: StoreOption = DEFAULT_CLI_STORE,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes (uvicorn workers): more workers serve more planners "
            "and reps at once.",
            min=1,
            max=64,
        ),
    ] = 1,
    preview_processes: Annotated[
        int,
        typer.Option(
            help="Processes per worker that re-score edit previews, so that an edit "
            "and the pages served beside it do not wait on each other (0: in the "
            "worker itself).",
            min=0,
            max=16,
        ),
    ] = 1,
) -> None:
    """Serve the Territory Studio (migrates the database first)."""
    import uvicorn

    from territory_engine.studio import create_app
    from territory_engine.studio.db import open_database

    if not Path(store).is_file():
        raise InputError(f"no plan store at {store}; run a scenario first (make demo)")
    url = _db_url(db, store)
    console.print(f"Territory Studio on http://{host}:{port}/ (Ctrl-C stops it)", soft_wrap=True)
    if workers == 1:
        app = create_app(url, store, preview_processes=preview_processes)
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)
        return
    # Migrate (and reach) the database once here, so that the workers starting
    # together do not race each other's schema upgrade, and a bad --db fails here.
    open_database(url)
    os.environ[DB_ENV], os.environ[STORE_ENV] = url, str(Path(store).resolve())
    os.environ[PREVIEWS_ENV] = str(preview_processes)
    uvicorn.run(
        f"{__name__}:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        # The supervisor says when it replaces a worker (info); requests are not logged.
        log_level="info",
        access_log=False,
        proxy_headers=True,
    )


@users_app.command("add")
@user_errors
def add(
    username: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option("--role", help="planner, manager or rep.")],
    rep_id: Annotated[
        str | None, typer.Option("--rep-id", help="A rep's rep_id in the plans.")
    ] = None,
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope",
            help="A manager's scope: team:SEGMENT, region:NAME, district:NAME, "
            "manager:NAME (hierarchy.csv) or reps:R01,R02.",
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
    store: StoreOption = DEFAULT_CLI_STORE,
) -> None:
    """Add a user (the password is asked for, hidden)."""
    from territory_engine.studio.users import add_user

    factory = _factory(db, store)
    password = _read_password(password_stdin)
    with factory() as session:
        add_user(
            session, username, role, password, rep_id=rep_id, scope=scope, operator=_operator()
        )
    console.print(f"added {role} {username}")


@users_app.command("list")
@user_errors
def list_(db: DbOption = None, store: StoreOption = DEFAULT_CLI_STORE) -> None:
    """List the users: name, role, rep id, scope."""
    from territory_engine.studio.users import list_users

    factory = _factory(db, store)
    table = Table()
    for column in ("user", "role", "rep_id", "scope", "created (UTC)"):
        table.add_column(column)
    with factory() as session:
        for u in list_users(session):
            scope = f"{u.scope_kind}:{u.scope_value}" if u.scope_kind else ""
            table.add_row(
                u.username, u.role, u.rep_id or "", scope, u.created_at.isoformat("T", "seconds")
            )
    Console(width=200).print(table)


@users_app.command("remove")
@user_errors
def remove(
    username: Annotated[str, typer.Argument(help="The user to remove.")],
    db: DbOption = None,
    store: StoreOption = DEFAULT_CLI_STORE,
) -> None:
    """Remove a user and end their sessions (the audit log keeps their name)."""
    from territory_engine.studio.users import remove_user

    factory = _factory(db, store)
    with factory() as session:
        remove_user(session, username, operator=_operator())
    console.print(f"removed {username}")


@users_app.command("set-password")
@user_errors
def set_password_(
    username: Annotated[str, typer.Argument(help="The user.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DbOption = None,
    store: StoreOption = DEFAULT_CLI_STORE,
) -> None:
    """Change a user's password and end their sessions."""
    from territory_engine.studio.users import set_password

    factory = _factory(db, store)
    password = _read_password(password_stdin)
    with factory() as session:
        set_password(session, username, password, operator=_operator())
    console.print(f"password of {username} changed; their sessions are ended")


@users_app.command("demo")
@user_errors
def demo(
    plan: Annotated[Path, typer.Option("--plan", help="Plan folder or plan id of the store.")],
    db: DbOption = None,
    store: StoreOption = DEFAULT_CLI_STORE,
) -> None:
    """Seed demo users for a plan: a planner, a manager per region or team, a rep per rep.

    The passwords are printed once, here, and stored only as hashes.
    """
    from territory_engine.cli.plans_cmd import resolve_plan_argument
    from territory_engine.plan.reader import read_plan_folder
    from territory_engine.studio.users import demo_users

    folder, _name = resolve_plan_argument(plan, store)
    plan_folder = read_plan_folder(folder)
    factory = _factory(db, store)
    with factory() as session:
        made = demo_users(session, plan_folder, operator=_operator())
    table = Table(title="demo users (passwords shown once)")
    for column in ("user", "role", "rep_id / scope", "password"):
        table.add_column(column)
    for u in made:
        table.add_row(u.username, u.role, u.rep_id or u.scope or "", u.password)
    Console(width=200).print(table)
    if not made:
        console.print("every demo user exists already; nothing was added")
