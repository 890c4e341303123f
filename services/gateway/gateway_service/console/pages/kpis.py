"""KPIs: the rates of a period (``GET /kpis``) as charts and as tables with their counts,
optionally per region, department or person, and the staff ranking on the composite score
(``GET /kpis/ranking?by=score``) for the roles the role table lets read it.

The period defaults to the current month in the tenant's time zone, by the runtime's clock.
"""

from __future__ import annotations

import calendar
from datetime import date
from zoneinfo import ZoneInfo

from flask import abort, g, request

from revisit_common.runtime import runtime

from .. import charts, i18n
from ..blueprint import bp
from ..guard import signed_in
from ..words import N_
from .common import call, can, page

# Each rate of the answer: (field, label, numerator count, denominator count).
RATES = (
    ("visit_completion_rate", N_("Visit completion"), "visits_completed", "visits_due"),
    ("visit_on_time_rate", N_("Visits on time"), "visits_completed_on_time", "visits_completed"),
    ("satisfaction_rate", N_("Satisfaction"), "visits_satisfied", "visits_rated"),
    ("issue_resolution_rate", N_("Issue resolution"), "issues_resolved", "issues_raised"),
    ("record_accuracy_rate", N_("Record accuracy"), "audits_accurate", "audits"),
    (
        "complaint_timeliness_rate",
        N_("Complaint timeliness"),
        "complaints_resolved_on_time",
        "complaints_resolved",
    ),
    ("complaint_resolution_rate", N_("Complaint resolution"), "complaints_resolved", "complaints"),
    (
        "complaint_satisfaction_rate",
        N_("Complaint satisfaction"),
        "complaint_follow_ups_satisfied",
        "complaint_follow_ups",
    ),
    ("complaint_incidence_rate", N_("Complaint incidence"), "complaints", "purchases"),
    ("complaint_rate", N_("Complaints per customer"), "complaints", "customers"),
)
# The policies' own definitions (v1.1), for the whole tenant only.
POLICY_RATES = (
    (
        "customer_visit_completion_rate",
        N_("Customers visited"),
        "customers_visited",
        "customers_due",
    ),
    (
        "complaint_on_time_rate",
        N_("Complaints resolved within their limit"),
        "complaints_resolved_within_limit",
        "complaints_resolve_due",
    ),
    (
        "complaint_incidence_per_unit",
        N_("Complaints per unit sold"),
        "complaints",
        "units_sold",
    ),
    ("customer_complaint_rate", N_("Customer complaint rate"), "complaints", "customers"),
    (
        "repair_customer_visit_rate",
        N_("Customers visited after a repair"),
        "repair_customers_visited",
        "repair_customers_due",
    ),
    (
        "new_customer_visit_rate",
        N_("New customers visited"),
        "new_customers_visited",
        "new_customers_due",
    ),
)
# What a group's chart shows: the staff score's parts.
GROUP_CHART = ("visit_completion_rate", "satisfaction_rate", "issue_resolution_rate")
GROUPS = (
    ("region", N_("Region")),
    ("department", N_("Department")),
    ("assignee", N_("Person")),
)
ROLLOUTS = {"repair": N_("After a repair"), "new_customer": N_("New customer")}
CHART_LIMIT = 20  # people in the ranking's chart (the table has them all)


def this_month() -> tuple[date, date]:
    """The first and last day of the current month in the tenant's zone."""
    today = runtime().clock().astimezone(ZoneInfo(g.console.timezone)).date()
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1), today.replace(day=last)


def asked() -> dict[str, str]:
    """The form's values: the period (default this month) and the grouping (may be empty)."""
    first, last = this_month()
    return {
        "from": request.args.get("from", "").strip() or first.isoformat(),
        "to": request.args.get("to", "").strip() or last.isoformat(),
        "group_by": request.args.get("group_by", "").strip(),
    }


def rate_rows(figures: dict, rates) -> list[dict]:
    counts = figures.get("counts") or {}
    return [
        {
            "label": i18n.gettext(label),
            "value": figures.get(name),
            "numerator": counts.get(numerator),
            "denominator": counts.get(denominator),
        }
        for name, label, numerator, denominator in rates
    ]


def chart(rows: list[dict], title: str, chart_id: str):
    return charts.rate_bars(
        [(row["label"], row["value"]) for row in rows],
        title,
        chart_id=chart_id,
        show=i18n.show_rate,
    )


def group_name(group: dict, names: dict[str, str]) -> str:
    """A group's key as shown: a person's name for a staff id, "Not set" for none."""
    key = group.get("key")
    return names.get(key, key) if key else i18n.gettext("Not set")


def groups_chart(groups: list[dict], names: dict[str, str]):
    labels = {name: i18n.gettext(label) for name, label, _n, _d in RATES}
    return charts.group_bars(
        [
            (group_name(group, names), [(labels[name], group.get(name)) for name in GROUP_CHART])
            for group in groups
        ],
        i18n.gettext("Rates by group"),
        chart_id="kpi-groups",
        show=i18n.show_rate,
    )


def staff_names() -> dict[str, str]:
    """Staff id → name, when the person may list staff."""
    if not can("GET", "/staff"):
        return {}
    answer = call("GET", "/staff", query={"limit": "500"})
    items = answer.body.get("items", []) if answer.ok and isinstance(answer.body, dict) else []
    return {item["id"]: item.get("name") or item["id"] for item in items}


def ranking(values: dict[str, str], names: dict[str, str]) -> dict | None:
    """The staff ranking on the composite score, or None when the role may not read it."""
    if not can("GET", "/kpis/ranking"):
        return None
    answer = call(
        "GET", "/kpis/ranking", query={"by": "score", "from": values["from"], "to": values["to"]}
    )
    if not answer.ok:
        return {"problem": answer.problem(), "items": []}
    items = answer.body.get("items", [])
    for item in items:
        item["name"] = names.get(item["assignee"], item["assignee"])
    shown = items[:CHART_LIMIT]
    svg = charts.rate_bars(
        [(item["name"], item.get("score")) for item in shown],
        i18n.gettext("Staff score"),
        chart_id="kpi-ranking",
        show=i18n.show_rate,
    )
    return {"items": items, "weights": answer.body.get("weights") or {}, "chart": svg}


@bp.get("/kpis")
@signed_in
def kpis():
    values = asked()
    query = {key: value for key, value in values.items() if value}
    answer = call("GET", "/kpis", query=query)
    form = {"values": values, "group_choices": [(k, i18n.gettext(v)) for k, v in GROUPS]}
    if answer.status == 422:
        errors = answer.field_errors()
        return page("console/kpis.html", 422, **form, errors=errors, problem=answer.problem())
    if not answer.ok:
        abort(answer.status if answer.status in (400, 403, 404) else 502)
    figures = answer.body
    main = rate_rows(figures, RATES)
    policy = rate_rows(figures, POLICY_RATES)
    groups = figures.get("groups") or []
    names = staff_names()
    return page(
        "console/kpis.html",
        **form,
        errors={},
        kpis=figures,
        rates=main,
        policy=policy,
        rates_chart=chart(main, i18n.gettext("Rates of the period"), "kpi-rates"),
        policy_chart=chart(policy, i18n.gettext("The policies' own rates"), "kpi-policy"),
        groups=[
            {"name": group_name(group, names), "rows": rate_rows(group, RATES)} for group in groups
        ],
        groups_chart=groups_chart(groups, names) if groups else None,
        group_label=i18n.gettext(dict(GROUPS).get(values["group_by"], "")),
        rollouts=ROLLOUTS,
        ranking=ranking(values, names),
    )
