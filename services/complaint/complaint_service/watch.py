"""The supervision group's watch list: the complaints reported upward and not closed.

:func:`watch_list` is one page of them, newest first (ids are time-ordered and given at
intake, when the complaint is reported), each with its departments, why it was reported and
its next deadline. Closing takes a complaint off the list, reopening puts it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.caller import Caller
from revisit_common.paging import decode_cursor, encode_cursor
from revisit_common.rows import copied

from . import supervision
from .models import Complaint
from .reporting import departments_of
from .service import clock_of


def watch_query(caller: Caller) -> sa.Select:
    """The caller's tenant's complaints reported upward and not closed yet (the SQL of
    :func:`.supervision.watched`)."""
    return sa.select(Complaint).where(
        Complaint.tenant_id == caller.tenant_id,
        Complaint.reported_upward_reason.is_not(None),
        Complaint.status != supervision.WATCHED_UNTIL,
    )


def entry(complaint: Complaint, now: datetime) -> dict[str, Any]:
    """What the watchers see of one complaint."""
    clock = clock_of(complaint)
    upcoming = supervision.next_deadline(clock)
    return {
        **copied(complaint, "id", "number", "customer_id", "severity", "status", "category"),
        "department": complaint.department,
        "departments": list(departments_of(complaint)),
        "reason": complaint.reported_upward_reason,
        "reported_at": complaint.reported_upward_at,
        "next_limit": upcoming[0] if upcoming else None,
        "next_deadline": upcoming[1] if upcoming else None,
        "overdue": clock.overdue(now),
    }


def watch_list(session: Session, caller: Caller, args: dict) -> dict:
    """One page (``limit``, ``cursor``) of the watch list, newest first."""
    query = watch_query(caller)
    if args.get("cursor"):
        query = query.where(Complaint.id < decode_cursor(args["cursor"]))
    limit = args["limit"]
    rows = session.scalars(query.order_by(Complaint.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    now = caller.now()
    return {
        "items": [entry(row, now) for row in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }
