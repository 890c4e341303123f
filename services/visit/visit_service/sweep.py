"""The overdue sweep: a planned visit whose due date has passed is announced once.

Runs in the worker every ``REVISIT_OVERDUE_SWEEP_SECONDS`` (see bootstrap) and may be called
directly. Each visit is claimed with a conditional UPDATE (``overdue_notified_at IS NULL``)
in the transaction that adds its VisitOverdue to the outbox, so two sweeps running at once
(two worker replicas) still announce a visit exactly once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import events
from revisit_common.messaging.outbox import Outbox

from . import domain
from .models import Visit
from .service import tenant_context, visit_fields

BATCH = 500


def run(runtime) -> int:
    """The periodic job: sweep until no overdue visit is left unannounced."""
    return sweep_overdue(runtime.db, runtime.outbox)


def sweep_overdue(db, outbox: Outbox, at: datetime | None = None) -> int:
    """Publish VisitOverdue for every planned visit overdue at ``at`` (default now) that was
    not announced yet; returns how many were announced."""
    at = at or datetime.now(UTC)
    # No tenant's local date is more than a day ahead of UTC's: a cheap first filter.
    latest_due = at.date() + timedelta(days=1)
    announced, after = 0, ""
    while True:
        with db.transaction() as session:
            batch = session.execute(
                sa.select(Visit.id, Visit.tenant_id, Visit.due_date)
                .where(
                    Visit.status == "planned",
                    Visit.overdue_notified_at.is_(None),
                    Visit.due_date < latest_due,
                    Visit.id > after,
                )
                .order_by(Visit.id)
                .limit(BATCH)
            ).all()
            if not batch:
                return announced
            after = batch[-1].id
            announced += _announce(session, outbox, batch, at)


def _announce(session: Session, outbox: Outbox, batch, at: datetime) -> int:
    today_of: dict[str, date] = {}
    count = 0
    for row in batch:
        if row.tenant_id not in today_of:
            today_of[row.tenant_id] = tenant_context(session, row.tenant_id).local_date(at)
        if not domain.is_overdue("planned", row.due_date, today_of[row.tenant_id]):
            continue
        claimed = session.execute(
            sa.update(Visit)
            .where(
                Visit.id == row.id,
                Visit.status == "planned",
                Visit.overdue_notified_at.is_(None),
            )
            .values(overdue_notified_at=at)
            .execution_options(synchronize_session=False),
            execution_options={"preserve_rowcount": True},
        )
        if claimed.rowcount != 1:
            continue  # announced meanwhile by another sweep, or completed
        visit = session.get(Visit, row.id)
        outbox.add(
            session,
            events.VisitOverdue(
                **visit_fields(visit),
                detected_at=at.isoformat(),
            ),
            tenant_id=visit.tenant_id,
        )
        count += 1
    return count
