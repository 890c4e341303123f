"""Query arguments and response bodies of the reports (marshmallow 4; unknown fields → 422)."""

from __future__ import annotations

from marshmallow import Schema, fields

from .domain import LEVELS
from .schemas import PeriodSchema


class ReportArgs(Schema):
    start = fields.Date(
        data_key="from", required=True, metadata={"description": "first day (tenant's zone)"}
    )
    end = fields.Date(data_key="to", required=True, metadata={"description": "last day, inclusive"})


def _share() -> fields.Float:
    return fields.Float(allow_none=True, metadata={"description": "0..1, null if no denominator"})


RootCauseSchema = Schema.from_dict(
    {
        "category": fields.String(allow_none=True),
        "department": fields.String(allow_none=True),
        "count": fields.Integer(),
        "previous": fields.Integer(metadata={"description": "in the previous period"}),
        "change": fields.Integer(metadata={"description": "count - previous"}),
    },
    name="RootCause",
)
RootCausesSchema = Schema.from_dict(
    {
        "period": fields.Nested(PeriodSchema),
        "previous_period": fields.Nested(PeriodSchema, allow_none=True),
        "complaints": fields.List(fields.Nested(RootCauseSchema)),
        "issues": fields.List(fields.Nested(RootCauseSchema)),
    },
    name="RootCauses",
)

SatisfactionSchema = Schema.from_dict(
    {
        "levels": fields.Nested(
            Schema.from_dict({level: fields.Integer() for level in LEVELS}, name="LevelCounts")
        ),
        "rated": fields.Integer(),
        "satisfied": fields.Integer(),
        "rate": _share(),
    },
    name="SummarySatisfaction",
)
RepurchaseSchema = Schema.from_dict(
    {"customers": fields.Integer(), "repeat_customers": fields.Integer(), "share": _share()},
    name="SummaryRepurchase",
)
NpsSchema = Schema.from_dict(
    {
        "score": fields.Float(allow_none=True, metadata={"description": "-100..100"}),
        "responses": fields.Integer(),
        "promoters": fields.Integer(),
        "detractors": fields.Integer(),
    },
    name="SummaryNps",
)
CategoryCountSchema = Schema.from_dict(
    {"category": fields.String(allow_none=True), "count": fields.Integer()},
    name="CategoryCount",
)
NeedCountSchema = Schema.from_dict(
    {
        "text": fields.String(metadata={"description": "whitespace and case folded"}),
        "count": fields.Integer(metadata={"description": "completed visits that said it"}),
    },
    name="NeedCount",
)
CompetitorCountSchema = Schema.from_dict(
    {
        "name": fields.String(metadata={"description": "a competitor product, folded"}),
        "count": fields.Integer(metadata={"description": "completed visits naming it"}),
    },
    name="CompetitorCount",
)
SuggestionCountSchema = Schema.from_dict(
    {
        "text": fields.String(metadata={"description": "whitespace and case folded"}),
        "count": fields.Integer(metadata={"description": "completed visits that said it"}),
    },
    name="SuggestionCount",
)
_PARTS = {
    "satisfaction": fields.Nested(SatisfactionSchema),
    "repurchase": fields.Nested(RepurchaseSchema),
    "nps": fields.Nested(NpsSchema),
    "issues": fields.List(fields.Nested(CategoryCountSchema)),
    "needs": fields.List(
        fields.Nested(NeedCountSchema), metadata={"description": "the 20 most frequent"}
    ),
    "competitors": fields.List(
        fields.Nested(CompetitorCountSchema), metadata={"description": "the 20 most frequent"}
    ),
    "suggestions": fields.List(
        fields.Nested(SuggestionCountSchema),
        metadata={"description": "the 20 most frequent service_feedback texts"},
    ),
}
RegionSummarySchema = Schema.from_dict(
    {"region": fields.String(allow_none=True), **_PARTS}, name="RegionVisitSummary"
)
VisitSummarySchema = Schema.from_dict(
    {
        "period": fields.Nested(PeriodSchema),
        **_PARTS,
        "by_region": fields.List(fields.Nested(RegionSummarySchema)),
    },
    name="VisitSummary",
)
