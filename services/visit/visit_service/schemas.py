"""Request and response bodies of the visit API (marshmallow 4; unknown fields → 422).

Every string, list and object is size-bounded; validators raise (marshmallow 4 ignores a
validator that merely returns False).
"""

from __future__ import annotations

from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from revisit_common.paging import PageArgs, page_schema
from revisit_common.schema_parts import (
    department_checks,
    nullable,
    optional_text_field,
    several,
    text_field,
)

from .contact_rules import booked
from .domain import (
    ISSUE_CATEGORIES,
    METHODS,
    RATING_KEYS,
    REASONS,
    REVIEWS,
    SATISFACTION_LEVELS,
    VISIT_STATUSES,
)
from .issue_rules import ISSUE_STATUSES, MAX_STAGES, STAGE_STATUSES

# Departments travel in routing keys (issue.raised.<department>): lower-case words, no dots.
DEPARTMENT = department_checks(r"^[a-z][a-z0-9_-]{0,63}$")
ID = validate.Length(min=1, max=64)
EARLIEST, LATEST = "2000-01-01", "2100-12-31"


def _day(**kw) -> fields.Date:
    from datetime import date

    return fields.Date(
        validate=validate.Range(min=date.fromisoformat(EARLIEST), max=date.fromisoformat(LATEST)),
        **kw,
    )


def _instant(**kw) -> fields.AwareDateTime:
    # within the years of due dates (a far-off year cannot even be converted to UTC)
    return fields.AwareDateTime(
        validate=validate.Range(
            min=datetime.fromisoformat(f"{EARLIEST}T00:00:00+00:00"),
            max=datetime.fromisoformat(f"{LATEST}T23:59:59+00:00"),
        ),
        **kw,
    )


# --------------------------------------------------------------------------- visits


class VisitInSchema(Schema):
    customer_id = fields.String(required=True, validate=ID)
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    method = fields.String(validate=validate.OneOf(METHODS))
    due_date = _day()
    event_date = _day(
        metadata={"description": "when the trigger happened (default today): base of due_date"}
    )
    assignee = fields.String(validate=validate.Length(min=1, max=100))
    trigger = fields.String(validate=validate.Length(min=1, max=200))
    complaint_id = fields.String(validate=ID)
    focus = optional_text_field(2000)
    notes = optional_text_field(2000)


RATING = validate.Range(min=1, max=5)
# Service-quality ratings, each 1..5 (sales attitude, expertise, response; after-sales
# timeliness, problem solving, attitude).
RatingsSchema = Schema.from_dict(
    {
        key: fields.Integer(strict=True, validate=validate.Range(min=1, max=5))
        for key in RATING_KEYS
    },
    name="Ratings",
)


class ProductFeedbackSchema(Schema):
    familiarity = optional_text_field(2000)
    performance = optional_text_field(2000)
    suggestions = optional_text_field(2000)


class CompetitorInfoSchema(Schema):
    products = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=50)
    )
    strengths = optional_text_field(2000)
    weaknesses = optional_text_field(2000)
    promotions = optional_text_field(2000)
    effect = optional_text_field(2000)


class StageSchema(Schema):
    name = text_field(200, required=True)
    owner = fields.String(validate=validate.Length(min=1, max=100), allow_none=True)
    due_date = _day(required=True)


class IssueInSchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(ISSUE_CATEGORIES))
    description = text_field(2000, required=True)
    department = fields.String(required=True, validate=DEPARTMENT)
    assisting_departments = fields.List(
        fields.String(validate=DEPARTMENT), validate=validate.Length(max=10), load_default=list
    )
    due_date = _day(metadata={"description": "deadline of the resolution"})
    stages = fields.List(
        fields.Nested(StageSchema),
        validate=validate.Length(min=1, max=MAX_STAGES),
        metadata={"description": "a timetable of stages, each with owner and due date"},
    )


class CompleteSchema(Schema):
    satisfaction = fields.String(required=True, validate=validate.OneOf(SATISFACTION_LEVELS))
    repurchase_intent = fields.Boolean(allow_none=True)
    recommend_score = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=10)
    )
    ratings = fields.Nested(RatingsSchema, allow_none=True)
    product_feedback = fields.Nested(ProductFeedbackSchema, allow_none=True)
    service_feedback = optional_text_field(2000)
    needs = optional_text_field(2000)
    competitor_info = fields.Nested(CompetitorInfoSchema, allow_none=True)
    notes = optional_text_field(2000)
    completed_at = _instant(metadata={"description": "when the visit took place (default now)"})
    issues = fields.List(fields.Nested(IssueInSchema), validate=validate.Length(max=50))


class CancelSchema(Schema):
    reason = optional_text_field(500)


class ReplySchema(Schema):
    replied_at = _instant(metadata={"description": "when the customer replied (default now)"})


class BookSchema(Schema):
    appointment_at = _instant(
        required=True, metadata={"description": "the time agreed with the customer"}
    )


class AuditInSchema(Schema):
    accurate = fields.Boolean(required=True)
    note = optional_text_field(2000)


class StageOutSchema(Schema):
    n = fields.Integer(metadata={"description": "the stage's number, from 1"})
    name = fields.String()
    owner = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    status = fields.String(
        metadata={"description": "pending, done, or overdue (as of today, tenant-local)"},
        validate=validate.OneOf(STAGE_STATUSES),
    )
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)


class IssueOutSchema(Schema):
    id = fields.String()
    visit_id, complaint_id = several(fields.String, 2, allow_none=True)
    customer_id, region = several(fields.String, 2)
    assignee = fields.String(allow_none=True)
    category, description, department = several(fields.String, 3)
    assisting_departments = fields.List(fields.String())
    status = fields.String(metadata={"description": "open, resolved or confirmed"})
    due_date = fields.Date(allow_none=True)
    # the stages with each one's status (set by service.annotate_issues)
    stages = fields.List(fields.Nested(StageOutSchema), attribute="stage_view")
    resolution, resolved_by = several(fields.String, 2, allow_none=True)
    raised_at = fields.DateTime()
    resolved_at = fields.DateTime(allow_none=True)
    satisfied = fields.Boolean(allow_none=True)
    confirmation_note = fields.String(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    confirmed_by = fields.String(allow_none=True)
    reopen_count = fields.Integer()


class AuditOutSchema(Schema):
    id, visit_id = several(fields.String, 2)
    accurate = fields.Boolean()
    note = fields.String(allow_none=True)
    auditor = fields.String()
    audited_at = fields.DateTime()


class VisitOutSchema(Schema):
    id, customer_id, region, reason, method = several(fields.String, 5)
    due_date = fields.Date()
    assignee = fields.String(allow_none=True)
    status = fields.String()
    overdue = fields.Boolean()
    trigger = fields.String()
    complaint_id, focus, notes, created_by = several(fields.String, 4, allow_none=True)
    created_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    completed_by = fields.String(allow_none=True)
    on_time, satisfaction = nullable(fields.Boolean, fields.String)
    repurchase_intent, recommend_score = nullable(fields.Boolean, fields.Integer)
    ratings, product_feedback = several(fields.Dict, 2, allow_none=True)
    service_feedback, needs = several(fields.String, 2, allow_none=True)
    competitor_info = fields.Dict(allow_none=True)
    overdue_notified_at, cancelled_at = several(fields.DateTime, 2, allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    replied_at = fields.DateTime(
        allow_none=True, metadata={"description": "when the customer replied (email visits)"}
    )
    appointment_at = fields.DateTime(
        allow_none=True, metadata={"description": "the booked appointment (on-site visits)"}
    )
    booked = fields.Function(
        lambda visit: booked(visit.appointment_at),
        metadata={"description": "whether an appointment was booked"},
    )
    issues = fields.List(fields.Nested(IssueOutSchema))
    audit = fields.Nested(AuditOutSchema, allow_none=True)


class VisitListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(VISIT_STATUSES))
    overdue = fields.Boolean()
    assignee = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "a staff id, or me: the person the API key acts as"},
    )
    customer_id = fields.String(validate=ID)
    reason = fields.String(validate=validate.OneOf(REASONS))
    region = fields.String(validate=validate.Length(min=1, max=100))
    due_from = _day()
    due_to = _day()
    replied = fields.Boolean(
        metadata={"description": "email visits whose customer replied (true) or not (false)"}
    )
    sort = fields.String(
        validate=validate.OneOf(("due_date", "-due_date")),
        metadata={"description": "due_date: earliest due first; -due_date: latest first"},
    )

    @validates_schema
    def _range(self, data, **_kw):
        if "due_from" in data and "due_to" in data and data["due_from"] > data["due_to"]:
            raise ValidationError("must not be before due_from", "due_to")


VisitPageSchema = page_schema("VisitPageSchema", VisitOutSchema)


class AuditSampleArgs(Schema):
    assignee = fields.String(validate=validate.Length(min=1, max=100))
    from_ = _day(data_key="from", attribute="from")
    to = _day()
    share = fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False))
    seed = fields.Integer(strict=False, validate=validate.Range(min=0, max=2**63 - 1))

    @validates_schema
    def _range(self, data, **_kw):
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            raise ValidationError("must not be before from", "to")


class SampleGroupSchema(Schema):
    assignee = fields.String(allow_none=True)
    population = fields.Integer()
    sampled = fields.Integer()


class ReviewedVisitSchema(VisitOutSchema):
    review = fields.String(
        validate=validate.OneOf(REVIEWS),
        metadata={"description": "key_account (every such visit) or sample (the random share)"},
    )


class AuditSampleSchema(Schema):
    share = fields.Float()
    from_ = fields.Date(data_key="from", attribute="from", allow_none=True)
    to = fields.Date(allow_none=True)
    population = fields.Integer()
    key_accounts = fields.Integer(
        metadata={"description": "the key-account visits, all included, outside the groups"}
    )
    groups = fields.List(fields.Nested(SampleGroupSchema))
    items = fields.List(fields.Nested(ReviewedVisitSchema))


# --------------------------------------------------------------------------- issues


class IssueListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(ISSUE_STATUSES))
    department = fields.String(validate=DEPARTMENT)
    customer_id = fields.String(validate=ID)
    visit_id = fields.String(validate=ID)
    category = fields.String(validate=validate.OneOf(ISSUE_CATEGORIES))


IssuePageSchema = page_schema("IssuePageSchema", IssueOutSchema)


class ResolveSchema(Schema):
    resolution = text_field(2000, required=True)


class ConfirmSchema(Schema):
    satisfied = fields.Boolean(required=True)
    note = optional_text_field(2000)


# --------------------------------------------------------------------------- cases

CASE_SOURCES = ("issue", "complaint")


class CaseInSchema(Schema):
    source = fields.String(required=True, validate=validate.OneOf(CASE_SOURCES))
    source_id = fields.String(required=True, validate=ID)
    title = text_field(200, required=True)
    summary = text_field(4000, required=True)
    lessons = optional_text_field(4000)


class CaseOutSchema(Schema):
    id, source, source_id, title, summary = several(fields.String, 5)
    lessons = fields.String(allow_none=True)
    category, department = several(fields.String, 2)
    customer_id, created_by = several(fields.String, 2, allow_none=True)
    created_at = fields.DateTime()


class CaseListArgs(PageArgs):
    q = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "words in the title, summary or lessons (any case)"},
    )
    category = fields.String(validate=validate.Length(min=1, max=100))
    department = fields.String(validate=DEPARTMENT)


CasePageSchema = page_schema("CasePageSchema", CaseOutSchema)
