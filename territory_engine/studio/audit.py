"""The append-only audit log: who did what, when, from where.

:func:`record` is the one way in. The log is append-only by construction: a
``before_flush`` hook on every ORM session refuses to update or delete an
:class:`~territory_engine.studio.models.AuditEntry`, and the studio has no route that
would try. :func:`audit_csv` is the planners' download; every text cell goes through
:func:`territory_engine.io.safe_cells.safe_text`, so a user name or a comment such as
``=HYPERLINK(...)`` stays text in a spreadsheet.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from territory_engine.io.safe_cells import csv_text
from territory_engine.studio.models import AuditEntry, utcnow

__all__ = ["ACTIONS", "AUDIT_COLUMNS", "AuditLogError", "audit_csv", "entries", "record"]

#: Every action the log records.
ACTIONS = (
    "sign_in",
    "sign_out",
    "sign_in_failed",
    "lock_out",
    "submit",
    "approve",
    "reject",
    "publish",
    "withdraw",
    "reopen",
    "comment",
    "save_version",
    "reoptimise",
    "export",
    "user_add",
    "user_remove",
    "user_set_password",
)

#: Columns of the CSV download, in order.
AUDIT_COLUMNS = ("id", "at", "username", "action", "target", "detail", "client")


class AuditLogError(RuntimeError):
    """Code tried to change or remove an audit entry (a bug, never a user error)."""


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context, _instances) -> None:
    changed = [o for o in session.dirty if isinstance(o, AuditEntry) and session.is_modified(o)]
    removed = [o for o in session.deleted if isinstance(o, AuditEntry)]
    if changed or removed:
        raise AuditLogError("the audit log is append-only: entries are never changed or removed")


def record(
    db: Session,
    username: str,
    action: str,
    *,
    target: str | None = None,
    detail: str | None = None,
    client: str | None = None,
) -> AuditEntry:
    """Add one entry to ``db``'s transaction (committed with the change it records).

    Parameters
    ----------
    db
        The session of the change, so the entry and the change commit together.
    username
        Who (the typed name for a failed sign-in).
    action
        One of :data:`ACTIONS`.
    target
        What it was done to: ``plan 3``, ``user alice``...
    detail
        Free text: the comment of a rejection, the number of rows exported...
    client
        The client's address.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        at=utcnow(),
        username=username[:64],
        action=action,
        target=None if target is None else target[:256],
        detail=detail,
        client=None if client is None else client[:64],
    )
    db.add(entry)
    return entry


def entries(db: Session, *, limit: int | None = None) -> list[AuditEntry]:
    """The log, newest first (``limit`` entries at most)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(db.scalars(query))


def audit_csv(rows: list[AuditEntry]) -> str:
    """The entries as CSV text (:data:`AUDIT_COLUMNS`), formula-injection safe."""
    cells = [
        (
            e.id,
            e.at.isoformat(timespec="seconds") + "Z",
            e.username,
            e.action,
            e.target or "",
            e.detail or "",
            e.client or "",
        )
        for e in rows
    ]
    return csv_text(pd.DataFrame(cells, columns=list(AUDIT_COLUMNS)))
