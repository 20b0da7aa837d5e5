"""The studio's database: the engine of ``--db``, its migrations and the secrets kept in it.

``--db`` is any SQLAlchemy URL. The default is an SQLite file beside the plan store
(:func:`default_db_url`); ``postgresql://...`` runs the same models and migrations
on PostgreSQL (the SQL is portable: no SQLite-only statements, constraints the
database checks itself). Migrations run on every start (:func:`migrate`), so a new
version of the package upgrades the schema before it serves anything.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from territory_engine.errors import InputError
from territory_engine.studio.models import Secret

__all__ = [
    "DB_FILE_NAME",
    "default_db_url",
    "make_engine",
    "migrate",
    "open_database",
    "server_secret",
]

#: File name of the default studio database, beside the plan store.
DB_FILE_NAME = "studio.sqlite"

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_db_url(store: Path) -> str:
    """``sqlite:///<folder of the plan store>/studio.sqlite`` (absolute)."""
    return f"sqlite:///{Path(store).resolve().parent / DB_FILE_NAME}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, a busy timeout and WAL on every connection.

    Raises
    ------
    InputError
        ``url`` is not a database URL SQLAlchemy knows (the message names it, without
        its password).
    """
    try:
        if url.startswith("postgresql://"):
            # psycopg 3 is the maintained driver; plain postgresql:// would mean psycopg2.
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        # More connections than the server's worker threads (anyio's 40), so a
        # request never waits for a connection that a waiting request holds.
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=50)
    except (ArgumentError, ImportError) as exc:
        raise InputError(f"--db: cannot use this database URL: {exc}") from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA busy_timeout = 30000")
            if database and database != ":memory:":
                # Readers never wait for a writer, as in the plan store: in the default
                # rollback journal a sign-in's write stalled every page for seconds
                # under 55 concurrent users (benchmarks/studio_load.py).
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema of ``engine`` to the newest migration (Alembic ``upgrade head``).

    Raises
    ------
    InputError
        The database cannot be reached or upgraded (one line naming it).
    """
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = " ".join(str(exc.orig).split())  # drivers' messages span lines
        raise InputError(f"cannot open the studio database {where}: {reason}") from None


def server_secret(factory: sessionmaker[Session], name: str = "cookie_key") -> str:
    """The secret ``name``, made (random, 256 bits) and stored on first use.

    Two processes starting at once both try to insert it; the loser reads the
    winner's, so every process of one database signs cookies with the same key.
    """
    with factory() as db:
        found = db.scalar(select(Secret.value).where(Secret.name == name))
        if found is not None:
            return found
        db.add(Secret(name=name, value=secrets.token_urlsafe(32)))
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
        value = db.scalar(select(Secret.value).where(Secret.name == name))
        assert value is not None
        return value


def open_database(url: str) -> sessionmaker[Session]:
    """Engine for ``url``, migrated; a session factory on it."""
    engine = make_engine(url)
    migrate(engine)
    return sessionmaker(engine, expire_on_commit=False)
