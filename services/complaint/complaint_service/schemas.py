"""Request and response bodies of the complaint API (marshmallow 4; unknown fields → 422)."""

from __future__ import annotations

from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from revisit_common.paging import PageArgs, page_schema
from revisit_common.runtime import runtime
from revisit_common.schema_parts import department_field, optional_text_field, several, text_field

from . import assignment, domain, supervision
from .service import clock_of, deadlines_of

MAX_BACKDATE = timedelta(days=90)
CLOCK_SKEW = timedelta(minutes=5)


# --------------------------------------------------------------------------- complaints


def staff_id_field(**options) -> fields.String:
    """A staff id (assignment.py): lower-case letters, digits, '.', '_' or '-', 1..64."""
    return fields.String(
        validate=[
            validate.Regexp(
                assignment.STAFF_ID_PATTERN,
                error="a staff id: lower-case letters, digits, '.', '_' or '-', up to 64",
            ),
            validate.Length(min=1, max=64),
        ],
        **options,
    )


class ComplaintInSchema(Schema):
    customer_id = text_field(64, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(domain.CHANNELS))
    severity = fields.String(required=True, validate=validate.OneOf(domain.SEVERITIES))
    category = text_field(100, required=True)
    department = department_field(
        domain.DEPARTMENT_PATTERN,
        metadata={
            "description": "the handling department; may be left out when the tenant's"
            " departments_by_category names one for the category"
        },
    )
    assisting_departments = fields.List(
        department_field(domain.DEPARTMENT_PATTERN),
        validate=validate.Length(max=domain.MAX_ASSISTING),
        metadata={"description": "other departments helping; several: reported upward"},
    )
    description = text_field(5000, required=True)
    complainant = optional_text_field(200)
    contact = optional_text_field(200)
    product = optional_text_field(200)
    received_at = fields.AwareDateTime(
        metadata={"description": "when the complaint came in (default: now); up to 90 days ago"}
    )
    note = optional_text_field(2000)
    assignee = staff_id_field(
        allow_none=True,
        metadata={"description": "the staff id of the person handling it (any well-formed id)"},
    )

    @validates_schema
    def _received_in_range(self, data, **_kw):
        received = data.get("received_at")
        if received is None:
            return
        now = runtime().clock()  # the runtime's clock (a fake in tests)
        if received > now + CLOCK_SKEW:
            raise ValidationError("must not be in the future", "received_at")
        if received < now - MAX_BACKDATE:
            raise ValidationError("must be within the last 90 days", "received_at")


class TransitionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(domain.ACTIONS))
    note = optional_text_field(2000)
    resolution = fields.String(
        validate=validate.Length(max=5000),
        allow_none=True,
        metadata={"description": "what was done, its impact and follow-ups; resolve only"},
    )
    department = department_field(
        domain.DEPARTMENT_PATTERN,
        allow_none=True,
        metadata={"description": "the department doing the step (default: the handling one)"},
    )

    @validates_schema
    def _resolution_with_resolve(self, data, **_kw):
        resolution = (data.get("resolution") or "").strip()
        if data.get("action") == "resolve" and not resolution:
            raise ValidationError("required to resolve a complaint", "resolution")
        if data.get("action") != "resolve" and resolution:
            raise ValidationError("only with the resolve action", "resolution")


class AssignSchema(Schema):
    assignee = staff_id_field(
        required=True,
        allow_none=True,
        metadata={"description": "the staff id of the person to handle it; null: nobody"},
    )


class ComplaintListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(domain.STATUSES))
    severity = fields.String(validate=validate.OneOf(domain.SEVERITIES))
    department = department_field(domain.DEPARTMENT_PATTERN)
    customer_id = text_field(64)
    channel = fields.String(validate=validate.OneOf(domain.CHANNELS))
    category = text_field(100)
    overdue = fields.Boolean(metadata={"description": "a running limit is past its deadline"})
    assignee = staff_id_field(
        metadata={"description": "a staff id, or 'me': the person the calling key acts as"}
    )
    due_within_hours = fields.Integer(
        validate=validate.Range(min=1, max=assignment.MAX_DUE_WITHIN_HOURS),
        metadata={
            "description": "running, with a limit not yet met due within this many hours"
            " (or already past)"
        },
    )


class LedgerEntrySchema(Schema):
    at = fields.DateTime()
    action, by = several(fields.String, 2)
    department, note, from_status = several(fields.String, 3, allow_none=True)
    status = fields.String()


_MOMENT = {"type": "string", "format": "date-time"}
# The limits that apply to a complaint; those that do not (a general one's first response
# and plan) are left out.
DEADLINES = {
    "type": "object",
    "properties": {f"{limit}_by": _MOMENT for limit in domain.LIMITS},
    "additionalProperties": False,
    "description": "first_response_by?, plan_by?, resolve_by",
}


def _some_of(choices, method: str, description: str) -> fields.Method:
    """A list of some of ``choices``, worked out by the schema's ``method``."""
    return fields.Method(
        method,
        metadata={
            "type": "array",
            "items": {"type": "string", "enum": list(choices)},
            "description": description,
        },
    )


class ComplaintSummarySchema(Schema):
    id, number, status, severity, channel, category, department = several(fields.String, 7)
    severity_given = fields.String(metadata={"description": "the severity the intake gave"})
    severity_reason = fields.String(
        metadata={
            "description": "what decided the severity: given | category | customer |"
            " several_departments | escalated (raised when a limit was missed)"
        }
    )
    coordinator = fields.String(
        allow_none=True,
        metadata={"description": "the coordinating department; null: the handling one itself"},
    )
    assignee = fields.String(
        allow_none=True, metadata={"description": "the staff id of the person handling it"}
    )
    next_limit = fields.Method(
        "_next_limit",
        metadata={
            "type": ["string", "null"],
            "description": "first_response | plan | resolve: the unmet limit due first",
        },
    )
    next_deadline = fields.Method(
        "_next_deadline",
        metadata={
            "type": ["string", "null"],
            "format": "date-time",
            "description": "the deadline of next_limit (null: every limit met)",
        },
    )
    assisting_departments = fields.List(fields.String())
    customer_id, region = several(fields.String, 2)
    reported_upward_reason = fields.String(
        allow_none=True, metadata={"description": "major | several_departments; null: not"}
    )
    reported_upward_at = fields.DateTime(allow_none=True)
    complainant, contact, product = several(fields.String, 3, allow_none=True)
    description = fields.String()
    received_at = fields.DateTime()
    deadlines = fields.Method("_deadlines", metadata=DEADLINES)
    overdue = fields.Method("_overdue", metadata={"type": "boolean"})
    escalated = _some_of(domain.LIMITS, "_escalated", "limits escalated this round")
    actions = _some_of(domain.ACTIONS, "_actions", "actions allowed now")
    round = fields.Integer(metadata={"description": "1, plus one for each reopening"})
    first_responded_at, planned_at = several(fields.DateTime, 2, allow_none=True)
    resolved_at, closed_at = several(fields.DateTime, 2, allow_none=True)
    paused_from = fields.String(allow_none=True)
    paused_at = fields.DateTime(allow_none=True)
    paused_working_hours = fields.Method("_paused_hours", metadata={"type": "number"})
    resolution = fields.String(allow_none=True)
    satisfied = fields.Boolean(allow_none=True)
    created_by = fields.String()
    created_at, updated_at = several(fields.DateTime, 2)

    def _deadlines(self, obj):
        return deadlines_of(obj).to_dict()

    def _next_limit(self, obj):
        upcoming = supervision.next_deadline(clock_of(obj))
        return upcoming[0] if upcoming else None

    def _next_deadline(self, obj):
        upcoming = supervision.next_deadline(clock_of(obj))
        return upcoming[1].isoformat() if upcoming else None

    def _overdue(self, obj):
        return clock_of(obj).overdue(runtime().clock())

    def _escalated(self, obj):
        return sorted(clock_of(obj).escalated)

    def _actions(self, obj):
        return list(domain.allowed_actions(obj.status))

    def _paused_hours(self, obj):
        return round((obj.paused_seconds or 0.0) / 3600, 4)


class ComplaintSchema(ComplaintSummarySchema):
    ledger = fields.List(fields.Nested(LedgerEntrySchema))


ComplaintPageSchema = page_schema("ComplaintPageSchema", ComplaintSummarySchema)


# --------------------------------------------------------------------------- watch list


class WatchItemSchema(Schema):
    id, number, customer_id, severity, status, category = several(fields.String, 6)
    department = fields.String(metadata={"description": "the handling department"})
    departments = fields.List(fields.String(), metadata={"description": "every one it touches"})
    reason = fields.String(metadata={"description": "major | several_departments"})
    reported_at = fields.DateTime()
    next_limit = fields.String(
        allow_none=True, metadata={"description": "first_response | plan | resolve; null: all met"}
    )
    next_deadline = fields.DateTime(
        allow_none=True, metadata={"description": "of the limit not yet met that falls due first"}
    )
    overdue = fields.Boolean()


WatchPageSchema = page_schema("WatchPageSchema", WatchItemSchema)
