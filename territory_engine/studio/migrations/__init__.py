"""Alembic migrations of the studio's tables (run by :func:`territory_engine.studio.db.migrate`)."""
