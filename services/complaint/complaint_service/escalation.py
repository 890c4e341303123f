"""The escalation sweep: every missed time limit of a running complaint escalates once.

Limits met late escalate in the transition that meets them (lifecycle.apply_action); the
sweep finds the limits still unmet past their deadline. On PostgreSQL the rows are locked
with SKIP LOCKED, so several workers never escalate the same complaint twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import clock
from revisit_common.messaging.outbox import Outbox

from . import domain, lifecycle
from .models import Complaint

BATCH = 200


def candidates(at: datetime) -> sa.Select:
    c = Complaint
    return (
        sa.select(c)
        .where(
            c.status.in_(domain.RUNNING),
            sa.or_(
                sa.and_(c.resolve_by < at, c.escalated_resolve_round < c.round),
                sa.and_(
                    c.first_response_by < at,
                    c.first_responded_at.is_(None),
                    sa.not_(c.escalated_first_response),
                ),
                sa.and_(c.plan_by < at, c.planned_at.is_(None), sa.not_(c.escalated_plan)),
            ),
        )
        .order_by(c.id)
        .limit(BATCH)
    )


def escalate_overdue(session: Session, outbox: Outbox, at: datetime | None = None) -> int:
    """Escalate what is due in one batch (every tenant); returns how many escalations."""
    at = at or clock.now()
    query = candidates(at)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    count = 0
    for complaint in session.scalars(query).all():
        count += len(lifecycle.escalate_due(session, outbox, complaint, at))
    return count
