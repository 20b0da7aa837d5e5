"""The plan versions' workflow: draft → submitted → approved | rejected → published.

:data:`TRANSITIONS` is the whole state machine (action → from, to, who may); a
transition is applied by :func:`apply_transition` as one conditional ``UPDATE ...
WHERE id = :id AND version = :seen AND state = :from``, so of two concurrent
changes of the same version exactly one applies and the other gets
:class:`StaleVersion` ("reload"). Publishing sets ``published_year``, which the
database keeps unique: a second published plan of a year is refused by the database
itself (:class:`AlreadyPublished`), whatever process tries.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from territory_engine.studio import audit
from territory_engine.studio.models import PlanVersion, User, utcnow

__all__ = [
    "TRANSITIONS",
    "AlreadyPublished",
    "IllegalTransition",
    "StaleVersion",
    "Transition",
    "WorkflowError",
    "allowed_actions",
    "apply_transition",
]


@dataclass(frozen=True)
class Transition:
    """One edge of the state machine."""

    source: str
    target: str
    roles: tuple[str, ...]
    needs_comment: bool = False


#: action → transition. ``withdraw`` takes a published plan back to approved (to publish
#: another of its year); ``reopen`` takes a rejected plan back to draft.
TRANSITIONS: dict[str, Transition] = {
    "submit": Transition("draft", "submitted", ("planner",)),
    "approve": Transition("submitted", "approved", ("planner", "manager")),
    "reject": Transition("submitted", "rejected", ("planner", "manager"), needs_comment=True),
    "publish": Transition("approved", "published", ("planner",)),
    "withdraw": Transition("published", "approved", ("planner",)),
    "reopen": Transition("rejected", "draft", ("planner",)),
}


class WorkflowError(Exception):
    """A transition that cannot be applied; ``status`` is the HTTP status it maps to."""

    status = 409


class IllegalTransition(WorkflowError):
    """Not allowed from this state or for this role."""

    status = 403


class StaleVersion(WorkflowError):
    """The version changed since the client read it."""

    status = 409


class AlreadyPublished(WorkflowError):
    """Another plan of the same plan year is published."""

    status = 409


def allowed_actions(plan: PlanVersion, role: str) -> list[str]:
    """The actions ``role`` may take on ``plan`` now (for the buttons)."""
    return [a for a, t in TRANSITIONS.items() if t.source == plan.state and role in t.roles]


def apply_transition(
    db: Session,
    plan: PlanVersion,
    action: str,
    user: User,
    *,
    seen_version: int,
    comment: str = "",
    client: str | None = None,
) -> PlanVersion:
    """Apply ``action`` to ``plan`` as ``user``, if ``plan`` is still at ``seen_version``.

    The change, its audit entry and a rejection's comment commit together.

    Raises
    ------
    IllegalTransition
        Unknown action, wrong state, a role that may not, or a rejection without a
        comment.
    StaleVersion
        ``seen_version`` is not the current version (someone else changed it).
    AlreadyPublished
        Publishing while another plan of the year is published.
    """
    from territory_engine.studio.models import Comment

    transition = TRANSITIONS.get(action)
    if transition is None:
        raise IllegalTransition(f"unknown action {action!r}")
    if user.role not in transition.roles:
        raise IllegalTransition(f"a {user.role} may not {action} a plan")
    if plan.version != seen_version:
        raise StaleVersion("this plan changed since you opened it: reload the page")
    if plan.state != transition.source:
        raise IllegalTransition(f"a {plan.state} plan cannot be {transition.target}")
    comment = comment.strip()
    if transition.needs_comment and not comment:
        raise IllegalTransition(f"say why: a plan is {transition.target} with a comment")
    now = utcnow()
    statement = (
        update(PlanVersion)
        .where(
            PlanVersion.id == plan.id,
            PlanVersion.version == seen_version,
            PlanVersion.state == transition.source,
        )
        .values(
            state=transition.target,
            version=PlanVersion.version + 1,
            published_year=plan.plan_year if transition.target == "published" else None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    try:
        result = db.execute(statement)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            db.rollback()
            raise StaleVersion("this plan changed since you opened it: reload the page")
        if comment:
            db.add(
                Comment(
                    plan_version_id=plan.id,
                    user_id=user.id,
                    username=user.username,
                    body=comment,
                    created_at=now,
                )
            )
        audit.record(
            db,
            user.username,
            action,
            target=f"plan {plan.id} ({plan.plan_id})",
            detail=comment or None,
            client=client,
        )
        db.commit()
    except IntegrityError:
        db.rollback()
        raise AlreadyPublished(
            f"another plan of {plan.plan_year} is published: withdraw it first"
        ) from None
    fresh = db.scalar(
        select(PlanVersion)
        .where(PlanVersion.id == plan.id)
        .execution_options(populate_existing=True)
    )
    assert fresh is not None
    return fresh
