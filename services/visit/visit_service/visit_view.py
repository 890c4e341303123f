"""A visit as its routes render it, without marshmallow's machinery per field.

:func:`visit_body` is ``VisitOutSchema().dump(visit)`` value by value: the texts, numbers
and flags as stored, dates and instants in ISO 8601, the free-form answers (ratings,
product feedback, competitor info) copied, ``booked`` by the rule the schema calls; a
visit's issues and audit (none on most visits) by their own schemas. The dump cost a
completion about as much as one of its statements; the unit tests hold the two equal, field
set included, for a visit in each state (tests/unit/visit/test_visit_view.py)."""

from __future__ import annotations

from flask import Response, current_app

from .contact_rules import booked
from .schemas import AuditOutSchema, IssueOutSchema

# The fields of VisitOutSchema (schemas.py) rendered as stored (String, Boolean, Integer
# fields: stored as such), its Date and DateTime fields, and its Dict fields.
AS_STORED = (
    "id",
    "customer_id",
    "region",
    "reason",
    "method",
    "assignee",
    "status",
    "overdue",
    "trigger",
    "complaint_id",
    "focus",
    "notes",
    "created_by",
    "completed_by",
    "on_time",
    "satisfaction",
    "repurchase_intent",
    "recommend_score",
    "service_feedback",
    "needs",
    "cancel_reason",
)
MOMENTS = (
    "due_date",
    "created_at",
    "completed_at",
    "overdue_notified_at",
    "cancelled_at",
    "replied_at",
    "appointment_at",
)
MAPPINGS = ("ratings", "product_feedback", "competitor_info")
ISSUES = IssueOutSchema(many=True)
AUDIT = AuditOutSchema()


def visit_body(visit) -> dict:
    """``VisitOutSchema().dump(visit)`` for a visit :func:`.service.annotate` has annotated."""
    body = {name: getattr(visit, name) for name in AS_STORED}
    for name in MOMENTS:
        value = getattr(visit, name)
        body[name] = None if value is None else value.isoformat()
    for name in MAPPINGS:
        value = getattr(visit, name)
        body[name] = None if value is None else dict(value)
    body["booked"] = booked(visit.appointment_at)
    issues = visit.issues
    body["issues"] = None if issues is None else (ISSUES.dump(issues) if issues else [])
    audit = visit.audit
    body["audit"] = None if audit is None else AUDIT.dump(audit)
    return body


def visit_response(visit) -> Response:
    """The JSON response of :func:`visit_body`, as flask-smorest would send the dump."""
    return current_app.json.response(visit_body(visit))
