"""The whole studio: the pages and API of :mod:`.app` with the planner's editor of :mod:`.editor`.

The editor's routes use the app's dependencies (sign-in, scoping, CSRF), so the
editor imports the app and this module puts the two together.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from territory_engine.studio import editor
from territory_engine.studio.app import base_app
from territory_engine.studio.auth import Policy

__all__ = ["create_app"]


def create_app(
    db_url: str, store: Path, *, policy: Policy | None = None, preview_processes: int = 0
) -> FastAPI:
    """The studio on the database ``db_url`` (migrated first) and the plan store ``store``.

    Parameters
    ----------
    db_url
        SQLAlchemy URL of the studio's database.
    store
        The plan store whose plans are served.
    policy
        Session lifetimes and sign-in throttling (default :class:`~.auth.Policy`).
    preview_processes
        Processes that re-score edit previews (:class:`~.previews.Previews`); 0, the
        default, re-scores in the request's thread (what ``serve`` does not do).

    Returns
    -------
    FastAPI
        The app, with the editor's routes installed.
    """
    app = base_app(db_url, store, policy=policy, preview_processes=preview_processes)
    editor.install(app)
    return app
