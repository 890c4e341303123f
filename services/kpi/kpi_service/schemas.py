"""Query arguments and response bodies of the KPI API (marshmallow 4; unknown fields → 422)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .domain import API_COUNTS, GROUPS, RANKING_METRICS, RATES


class PeriodArgs(Schema):
    start = fields.Date(data_key="from", metadata={"description": "first day (tenant's zone)"})
    end = fields.Date(data_key="to", metadata={"description": "last day, inclusive"})


class KpiArgs(PeriodArgs):
    group_by = fields.String(validate=validate.OneOf(GROUPS))


class RankingArgs(PeriodArgs):
    metric = fields.String(
        load_default="visit_completion_rate", validate=validate.OneOf(RANKING_METRICS)
    )


PeriodSchema = Schema.from_dict({"from": fields.Date(), "to": fields.Date()}, name="KpiPeriod")


def _rate() -> fields.Float:
    return fields.Float(allow_none=True, metadata={"description": "0..1, null if no denominator"})


CountsSchema = Schema.from_dict({name: fields.Integer() for name in API_COUNTS}, name="KpiCounts")
_FIGURES = {
    **{name: _rate() for name in RATES},
    "nps": fields.Float(allow_none=True, metadata={"description": "-100..100"}),
    "counts": fields.Nested(CountsSchema),
}
KpiGroupSchema = Schema.from_dict(
    {
        "key": fields.String(allow_none=True),
        # only the dimension grouped by is written (a group's key again)
        **{name: fields.String(allow_none=True, metadata={"optional": True}) for name in GROUPS},
        **_FIGURES,
    },
    name="KpiGroup",
)
KpiSchema = Schema.from_dict(
    {
        "period": fields.Nested(PeriodSchema),
        **_FIGURES,
        "groups": fields.List(fields.Nested(KpiGroupSchema)),
    },
    name="Kpis",
)
RankedSchema = Schema.from_dict(
    {"rank": fields.Integer(), "assignee": fields.String(), **_FIGURES}, name="RankedStaff"
)
RankingSchema = Schema.from_dict(
    {
        "period": fields.Nested(PeriodSchema),
        "metric": fields.String(),
        "items": fields.List(fields.Nested(RankedSchema)),
    },
    name="StaffRanking",
)
