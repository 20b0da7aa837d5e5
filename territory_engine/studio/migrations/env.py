"""Alembic environment: runs on the connection that :func:`.db.migrate` hands over.

There is no ``alembic.ini`` to edit: the studio runs its migrations itself on start,
on the engine of ``--db``; ``config.attributes["connection"]`` is that connection.
"""

from __future__ import annotations

from alembic import context

from territory_engine.studio.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
