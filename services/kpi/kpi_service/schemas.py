"""Query arguments and response bodies of the KPI API (marshmallow 4; unknown fields → 422)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from . import policy_kpis
from .domain import API_COUNTS, GROUPS, RANKING_METRICS, RATES, SCORE


class PeriodArgs(Schema):
    start = fields.Date(data_key="from", metadata={"description": "first day (tenant's zone)"})
    end = fields.Date(data_key="to", metadata={"description": "last day, inclusive"})


class KpiArgs(PeriodArgs):
    group_by = fields.String(validate=validate.OneOf(GROUPS))


def _weight(part: str) -> fields.Float:
    return fields.Float(
        validate=validate.Range(min=0, max=1),
        metadata={
            "description": f"weight of the {part} in by=score "
            "(default: the tenant's setting kpis.ranking_weights)"
        },
    )


class RankingArgs(PeriodArgs):
    metric = fields.String(validate=validate.OneOf(RANKING_METRICS))
    by = fields.String(
        validate=validate.OneOf((*RANKING_METRICS, SCORE)),
        metadata={"description": "what to rank on: a metric, or the composite score"},
    )
    # Each weight given here overrides the tenant's (settings section kpis, domain.KpiPolicy).
    completion_weight = _weight("visit completion rate")
    satisfaction_weight = _weight("satisfaction rate")
    resolution_weight = _weight("issue resolution rate")

    @validates_schema
    def _one_choice(self, data: dict, **kwargs) -> None:
        metric, by = data.get("metric"), data.get("by")
        if metric and by and metric != by:
            raise ValidationError("metric and by disagree; give one", "by")


WEIGHT_ARGS = {  # rate of the score -> its query parameter
    "visit_completion_rate": "completion_weight",
    "satisfaction_rate": "satisfaction_weight",
    "issue_resolution_rate": "resolution_weight",
}


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
# Written as a decimal string ("1200.00"), which keeps it exact; the document says so.
_MONEY = {
    "type": "string",
    "format": "decimal",
    "description": "a sum of purchase amounts",
    "examples": ["1200.00"],
}
PolicyCountsSchema = Schema.from_dict(
    {name: fields.Integer() for name in (*API_COUNTS, *policy_kpis.INT_COUNTS)},
    name="KpiPolicyCounts",
)
SalesSchema = Schema.from_dict(
    {name: fields.Decimal(as_string=True, metadata=_MONEY) for name in policy_kpis.SALES},
    name="KpiSales",
)
RolloutSchema = Schema.from_dict(
    {
        "customers_due": fields.Integer(),
        "customers_visited": fields.Integer(),
        "rate": fields.Float(allow_none=True),
        "target": fields.Float(metadata={"description": "the tenant's visit rollout target"}),
        "met": fields.Boolean(allow_none=True, metadata={"description": "null: none due"}),
    },
    name="KpiRollout",
)
KpiSchema = Schema.from_dict(
    {
        "period": fields.Nested(PeriodSchema),
        **_FIGURES,
        # the policies' own definitions (DOMAIN.md §6), for the whole tenant only
        **{name: _rate() for name in policy_kpis.RATES},
        "sales_growth_rate": fields.Float(
            allow_none=True, metadata={"description": "vs the previous period, may exceed 1"}
        ),
        "satisfaction_change": fields.Float(
            allow_none=True, metadata={"description": "-1..1, vs the previous period"}
        ),
        "counts": fields.Nested(PolicyCountsSchema),
        "sales": fields.Nested(SalesSchema),
        "rollout": fields.Dict(
            keys=fields.String(),
            values=fields.Nested(RolloutSchema),
            metadata={"description": "share of repair / new customers visited vs the targets"},
        ),
        "groups": fields.List(fields.Nested(KpiGroupSchema)),
    },
    name="Kpis",
)
RankedSchema = Schema.from_dict(
    {
        "rank": fields.Integer(),
        "assignee": fields.String(),
        **_FIGURES,
        "resolution_rate": fields.Float(
            allow_none=True,
            metadata={
                "description": "issues and complaints the person handles, resolved: 0..1,"
                " null if none (the score's resolution part)"
            },
        ),
        "score": fields.Float(
            allow_none=True,
            metadata={"optional": True, "description": "0..1, with by=score only"},
        ),
    },
    name="RankedStaff",
)
RankingSchema = Schema.from_dict(
    {
        "period": fields.Nested(PeriodSchema),
        "metric": fields.String(),
        "weights": fields.Dict(
            keys=fields.String(),
            values=fields.Float(),
            metadata={"optional": True, "description": "with by=score only"},
        ),
        "items": fields.List(fields.Nested(RankedSchema)),
    },
    name="StaffRanking",
)
