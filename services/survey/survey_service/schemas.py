"""Request and response bodies of the survey API (marshmallow 4; unknown fields → 422).

The schemas check shapes and sizes; the questionnaire and answer rules (unique ids, options
of choice questions, answers per question kind) are in ``domain``.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from revisit_common.paging import PageArgs, page_schema
from revisit_common.schema_parts import several, text_field

from .domain import (
    KINDS,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION_TEXT,
    MAX_QUESTIONS,
    MAX_TEXT_ANSWER,
)
from .service import MAX_INVITATIONS

CUSTOMER_TYPES = ("dealer", "agent", "end_user")
GRADES = ("A", "B", "C")
ID = validate.Length(min=1, max=64)


class QuestionSchema(Schema):
    id = fields.String(required=True, validate=ID)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    text = text_field(MAX_QUESTION_TEXT, required=True)
    options = fields.List(
        text_field(MAX_OPTION), validate=validate.Length(max=MAX_OPTIONS), allow_none=True
    )
    multiple = fields.Boolean(metadata={"description": "choice only: several options allowed"})
    required = fields.Boolean(load_default=False)


class SurveyInSchema(Schema):
    title = text_field(200, required=True)
    description = fields.String(validate=validate.Length(max=2000), allow_none=True)
    questions = fields.List(
        fields.Nested(QuestionSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_QUESTIONS),
    )
    satisfaction_question = fields.String(
        validate=ID,
        allow_none=True,
        metadata={"description": "id of the question giving the overall satisfaction level"},
    )
    recommend_question = fields.String(
        validate=ID, allow_none=True, metadata={"description": "id of the nps question"}
    )


class QuestionOutSchema(Schema):
    """A question as stored: ``options`` and ``multiple`` only for choice questions."""

    id = fields.String()
    kind = fields.String()
    text = fields.String()
    options = fields.List(fields.String(), metadata={"optional": True})
    multiple = fields.Boolean(metadata={"optional": True})
    required = fields.Boolean()


class SurveyOutSchema(Schema):
    id = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    questions = fields.List(fields.Nested(QuestionOutSchema))
    satisfaction_question = fields.String(allow_none=True)
    recommend_question = fields.String(allow_none=True)
    status = fields.String()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)


class SurveyListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("open", "closed")))


SurveyPageSchema = page_schema("SurveyPageSchema", SurveyOutSchema)


class SegmentSchema(Schema):
    grade = fields.String(validate=validate.OneOf(GRADES))
    type = fields.String(validate=validate.OneOf(CUSTOMER_TYPES))
    region = text_field(100)

    @validates_schema
    def _some_criterion(self, data, **_kw):
        if not data:
            raise ValidationError("give at least one of grade, type, region")


class InvitationInSchema(Schema):
    customer_ids = fields.List(
        fields.String(validate=ID), validate=validate.Length(min=1, max=MAX_INVITATIONS)
    )
    segment = fields.Nested(SegmentSchema)
    visit_ids = fields.Dict(
        keys=fields.String(validate=ID),
        values=fields.String(validate=ID),
        validate=validate.Length(max=MAX_INVITATIONS),
        metadata={
            "description": "customer id → the online_survey visit its answer completes",
            "maxProperties": MAX_INVITATIONS,
        },
    )
    reinvite = fields.Boolean(
        load_default=False,
        metadata={"description": "give customers already invited a new token (the old dies)"},
    )

    @validates_schema
    def _one_target(self, data, **_kw):
        if ("customer_ids" in data) == ("segment" in data):
            raise ValidationError("give either customer_ids or segment", "_schema")
        if "segment" in data:
            for key in ("visit_ids", "reinvite"):
                if data.get(key):
                    raise ValidationError("only with customer_ids", key)
            return
        strays = set(data.get("visit_ids") or {}) - set(data["customer_ids"])
        if strays:
            raise ValidationError(f"not in customer_ids: {', '.join(sorted(strays))}", "visit_ids")


class InvitationTokenSchema(Schema):
    invitation_id = fields.String()
    customer_id = fields.String()
    visit_id = fields.String(allow_none=True)
    token = fields.String(metadata={"description": "shown only here; the link's credential"})


class InvitationsCreatedSchema(Schema):
    items = fields.List(fields.Nested(InvitationTokenSchema))
    skipped = fields.List(fields.String(), metadata={"description": "already invited"})
    more = fields.Boolean(metadata={"description": "segment only: call again for the rest"})


class InvitationOutSchema(Schema):
    id, customer_id = several(fields.String, 2)
    visit_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    used_at = fields.DateTime(allow_none=True)


class InvitationListArgs(PageArgs):
    used = fields.Boolean()
    customer_id = fields.String(validate=ID)


InvitationPageSchema = page_schema("InvitationPageSchema", InvitationOutSchema)


# What a valid answer looks like, for the OpenAPI document; ``domain.validate_answers``
# checks each answer against its question (and reports per question id).
ANSWER_SCHEMA = {
    "anyOf": [
        {"type": ["number", "null"]},
        {"type": "string", "maxLength": MAX_TEXT_ANSWER},
        {
            "type": "array",
            "maxItems": MAX_OPTIONS,
            "items": {"type": "string", "maxLength": MAX_OPTION},
        },
    ]
}


class AnswersInSchema(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=ID),
        values=fields.Raw(allow_none=True, metadata=ANSWER_SCHEMA),
        required=True,
        validate=validate.Length(max=MAX_QUESTIONS),
        metadata={
            "description": "question id → answer (int, option, [options] or text)",
            "maxProperties": MAX_QUESTIONS,
        },
    )


class ResponseReceiptSchema(Schema):
    id = fields.String()
    survey_id = fields.String()
    responded_at = fields.DateTime()


class ResponseOutSchema(ResponseReceiptSchema):
    invitation_id = fields.String()
    customer_id = fields.String()
    visit_id = fields.String(allow_none=True)
    answers = fields.Dict()
    satisfaction = fields.String(allow_none=True)
    recommend_score = fields.Integer(allow_none=True)
    average_rating = fields.Float(allow_none=True)


ResponsePageSchema = page_schema("ResponsePageSchema", ResponseOutSchema)


class PublicSurveySchema(Schema):
    """What a respondent sees through the link: the questionnaire, nothing about others."""

    survey_id = fields.String(attribute="id")
    title = fields.String()
    description = fields.String(allow_none=True)
    questions = fields.List(fields.Nested(QuestionOutSchema))


class QuestionResultSchema(Schema):
    kind = fields.String()
    answered = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    # rating and nps questions only, and nps only for an nps question
    average = fields.Float(allow_none=True, metadata={"optional": True})
    nps = fields.Float(allow_none=True, metadata={"optional": True})


class ResultsSchema(Schema):
    responses = fields.Integer()
    average_rating = fields.Float(allow_none=True)
    nps = fields.Float(allow_none=True)
    satisfaction = fields.Dict(keys=fields.String(), values=fields.Integer())
    satisfaction_rate = fields.Float(allow_none=True)
    questions = fields.Dict(keys=fields.String(), values=fields.Nested(QuestionResultSchema))
