"""A complaint as its routes render it, without marshmallow's machinery per field.

:func:`complaint_body` is ``ComplaintSchema().dump(complaint)`` value by value: the texts as
stored, instants in ISO 8601, the worked-out fields (deadlines, next limit, overdue, the
actions allowed) by the same functions the schema's methods call. The dump cost a POST as
much as two of its statements; the unit tests hold the two equal, field set included, for a
complaint in each state (tests/unit/complaint/test_complaint_view.py)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, current_app

from . import domain, supervision
from .service import clock_of, deadlines_of

# The fields of ComplaintSummarySchema (schemas.py) rendered as stored (String, Integer,
# Boolean fields: stored as such), and those of its DateTime fields.
AS_STORED = (
    "id",
    "number",
    "status",
    "severity",
    "channel",
    "category",
    "department",
    "severity_given",
    "severity_reason",
    "coordinator",
    "assignee",
    "customer_id",
    "region",
    "reported_upward_reason",
    "complainant",
    "contact",
    "product",
    "description",
    "round",
    "paused_from",
    "resolution",
    "satisfied",
    "created_by",
)
INSTANTS = (
    "reported_upward_at",
    "received_at",
    "first_responded_at",
    "planned_at",
    "resolved_at",
    "closed_at",
    "paused_at",
    "created_at",
    "updated_at",
)
WORKED_OUT = (
    "deadlines",
    "next_limit",
    "next_deadline",
    "overdue",
    "escalated",
    "actions",
    "paused_working_hours",
    "assisting_departments",
)
LEDGER_FIELDS = ("at", "action", "by", "department", "note", "from_status", "status")


def complaint_body(complaint, now: datetime) -> dict:
    """``ComplaintSchema().dump(complaint)`` with the runtime's clock reading ``now``."""
    body = {name: getattr(complaint, name) for name in AS_STORED}
    for name in INSTANTS:
        body[name] = _iso(getattr(complaint, name))
    clock = clock_of(complaint)
    body["deadlines"] = deadlines_of(complaint).to_dict()
    upcoming = supervision.next_deadline(clock)
    body["next_limit"] = upcoming[0] if upcoming else None
    body["next_deadline"] = upcoming[1].isoformat() if upcoming else None
    body["overdue"] = clock.overdue(now)
    body["escalated"] = sorted(clock.escalated)
    body["actions"] = list(domain.allowed_actions(complaint.status))
    body["paused_working_hours"] = round((complaint.paused_seconds or 0.0) / 3600, 4)
    assisting = complaint.assisting_departments
    body["assisting_departments"] = None if assisting is None else [str(d) for d in assisting]
    body["ledger"] = [
        {
            "at": _iso(entry.at),
            "action": entry.action,
            "by": entry.by,
            "department": entry.department,
            "note": entry.note,
            "from_status": entry.from_status,
            "status": entry.status,
        }
        for entry in complaint.ledger
    ]
    return body


def complaint_response(complaint, now: datetime, status: int = 200) -> Response:
    """The JSON response of :func:`complaint_body`, as flask-smorest would send the dump."""
    response = current_app.json.response(complaint_body(complaint, now))
    response.status_code = status
    return response


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
