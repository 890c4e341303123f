"""Request and response bodies of the complaint API (marshmallow 4; unknown fields → 422)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from revisit_common.paging import PageArgs, page_schema

from . import domain
from .service import clock_of, deadlines_of

MAX_BACKDATE = timedelta(days=90)
CLOCK_SKEW = timedelta(minutes=5)


def _text(max_len: int, **kw) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_len), **kw)


def _optional(max_len: int) -> fields.String:
    return fields.String(validate=validate.Length(max=max_len), allow_none=True)


def _department(**kw) -> fields.String:
    return fields.String(
        validate=[
            validate.Regexp(
                domain.DEPARTMENT_PATTERN, error="lower-case letters, digits, '_' or '-', up to 64"
            ),
            validate.Length(max=64),  # what the pattern allows, stated for the OpenAPI document
        ],
        **kw,
    )


# --------------------------------------------------------------------------- complaints


class ComplaintInSchema(Schema):
    customer_id = _text(64, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(domain.CHANNELS))
    severity = fields.String(required=True, validate=validate.OneOf(domain.SEVERITIES))
    category = _text(100, required=True)
    department = _department(required=True)
    description = _text(5000, required=True)
    complainant = _optional(200)
    contact = _optional(200)
    product = _optional(200)
    received_at = fields.AwareDateTime(
        metadata={"description": "when the complaint came in (default: now); up to 90 days ago"}
    )
    note = _optional(2000)

    @validates_schema
    def _received_in_range(self, data, **_kw):
        received = data.get("received_at")
        if received is None:
            return
        now = datetime.now(UTC)
        if received > now + CLOCK_SKEW:
            raise ValidationError("must not be in the future", "received_at")
        if received < now - MAX_BACKDATE:
            raise ValidationError("must be within the last 90 days", "received_at")


class TransitionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(domain.ACTIONS))
    note = _optional(2000)
    resolution = fields.String(
        validate=validate.Length(max=5000),
        allow_none=True,
        metadata={"description": "what was done, its impact and follow-ups; resolve only"},
    )
    department = _department(
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


class ComplaintListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(domain.STATUSES))
    severity = fields.String(validate=validate.OneOf(domain.SEVERITIES))
    department = _department()
    customer_id = _text(64)
    channel = fields.String(validate=validate.OneOf(domain.CHANNELS))
    category = _text(100)
    overdue = fields.Boolean(metadata={"description": "a running limit is past its deadline"})


class LedgerEntrySchema(Schema):
    at = fields.DateTime()
    action = fields.String()
    by = fields.String()
    department = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    from_status = fields.String(allow_none=True)
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


class ComplaintSummarySchema(Schema):
    id = fields.String()
    number = fields.String()
    status = fields.String()
    severity = fields.String()
    channel = fields.String()
    category = fields.String()
    department = fields.String()
    customer_id = fields.String()
    region = fields.String()
    complainant = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    product = fields.String(allow_none=True)
    description = fields.String()
    received_at = fields.DateTime()
    deadlines = fields.Method("_deadlines", metadata=DEADLINES)
    overdue = fields.Method("_overdue", metadata={"type": "boolean"})
    escalated = fields.Method(
        "_escalated",
        metadata={
            "type": "array",
            "items": {"type": "string", "enum": list(domain.LIMITS)},
            "description": "limits escalated this round",
        },
    )
    actions = fields.Method(
        "_actions",
        metadata={
            "type": "array",
            "items": {"type": "string", "enum": list(domain.ACTIONS)},
            "description": "actions allowed now",
        },
    )
    round = fields.Integer(metadata={"description": "1, plus one for each reopening"})
    first_responded_at = fields.DateTime(allow_none=True)
    planned_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    paused_from = fields.String(allow_none=True)
    paused_at = fields.DateTime(allow_none=True)
    paused_working_hours = fields.Method("_paused_hours", metadata={"type": "number"})
    resolution = fields.String(allow_none=True)
    satisfied = fields.Boolean(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _deadlines(self, obj):
        return deadlines_of(obj).to_dict()

    def _overdue(self, obj):
        return clock_of(obj).overdue(datetime.now(UTC))

    def _escalated(self, obj):
        return sorted(clock_of(obj).escalated)

    def _actions(self, obj):
        return list(domain.allowed_actions(obj.status))

    def _paused_hours(self, obj):
        return round((obj.paused_seconds or 0.0) / 3600, 4)


class ComplaintSchema(ComplaintSummarySchema):
    ledger = fields.List(fields.Nested(LedgerEntrySchema))


ComplaintPageSchema = page_schema("ComplaintPageSchema", ComplaintSummarySchema)
