"""Use cases of the KPI service: report KPIs and rankings from the aggregates.

(Events reach the aggregates through projection.py.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.errors import Invalid

from . import domain, policy_kpis, reports, store


def today_of(session: Session, tenant: str, now: datetime | None = None) -> date:
    zone = domain.zone(tenant_settings.load(session, tenant).timezone)
    return (now or datetime.now(UTC)).astimezone(zone).date()


def period_of(session: Session, tenant: str, args: dict) -> tuple[date, date]:
    """The period of a query (raises domain.PeriodError)."""
    return domain.resolve_period(args.get("start"), args.get("end"), today_of(session, tenant))


def _body(counts: dict[str, int]) -> dict[str, Any]:
    return {
        **domain.figures(counts),
        "counts": {name: counts.get(name, 0) for name in domain.API_COUNTS},
    }


def kpis(
    session: Session, tenant: str, start: date, end: date, group_by: str | None = None
) -> dict[str, Any]:
    """The KPIs of ``tenant`` for days ``start``..``end``, optionally per group.

    ``customers`` are those registered up to ``end``. Purchases and customers belong to no
    department or staff member: groups by department or assignee carry the tenant's figures
    for them, so the incidence rates of a department compare its complaints with all sales.
    """
    total = store.period_counts(session, tenant, start, end).get(None) or domain.zero_counts()
    total["customers"] = store.customers_up_to(session, tenant, end).get(None, 0)
    body = {"period": {"from": start, "to": end}, **_body(total)}
    policy = _policy_counts(session, tenant, start, end, total)
    body.update(policy_kpis.policy_figures(policy))
    body["counts"].update({name: policy[name] for name in policy_kpis.INT_COUNTS})
    body["sales"] = {key: policy[name] for key, name in policy_kpis.SALES.items()}
    visit_settings = tenant_settings.load(session, tenant).section("visits")
    body["rollout"] = policy_kpis.rollout(policy, policy_kpis.rollout_targets(visit_settings))
    body["groups"] = _groups(session, tenant, start, end, group_by, total) if group_by else []
    return body


def _policy_counts(session, tenant, start, end, total) -> dict[str, Any]:
    """The policies' counts of the period (policy_kpis.py) with those of ``total`` they use
    and the previous period's satisfaction."""
    previous = domain.previous_period(start, end)
    since = previous[0] if previous else start  # purchases: the previous period's sales too
    policy = policy_kpis.counts_from(
        store.visit_customers(session, tenant, start, end, tuple(policy_kpis.ROLLOUT_REASONS)),
        store.complaints_by_limit(session, tenant, start, end),
        store.purchase_sums(session, tenant, start, end, since),
    )
    counts = {**total, **policy}
    rated = ("visits_rated", "visits_satisfied")  # all of the previous period's it needs
    before = store.period_counts(session, tenant, *previous, names=rated) if previous else {}
    before = before.get(None)
    counts["previous_visits_rated"] = (before or {}).get("visits_rated", 0)
    counts["previous_visits_satisfied"] = (before or {}).get("visits_satisfied", 0)
    return counts


def _groups(session, tenant, start, end, group_by, total) -> list[dict[str, Any]]:
    groups = {
        key: counts
        for key, counts in store.period_counts(session, tenant, start, end, group_by).items()
        if any(counts.values())
    }
    if group_by == "region":
        customers = store.customers_up_to(session, tenant, end, by_region=True)
        for key, count in customers.items():
            if count:
                groups.setdefault(key, domain.zero_counts())
        for key, counts in groups.items():
            counts["customers"] = customers.get(key, 0)
    else:
        for counts in groups.values():
            counts["purchases"] = total["purchases"]
            counts["customers"] = total["customers"]
    out = []
    for key in sorted(groups, key=lambda k: (k != "", k)):
        value = key or None
        out.append({"key": value, group_by: value, **_body(groups[key])})
    return out


def ranking(
    session: Session,
    tenant: str,
    start: date,
    end: date,
    metric: str,
    weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Staff (assignees) of ``tenant`` ranked for the period (see domain.rank_staff). The
    composite score (``metric`` domain.SCORE) weighs by the tenant's ``kpis`` settings,
    each weight overridden by the one in ``weights`` (rate -> weight) when there is one;
    all of them 0 is :class:`Invalid`."""
    staff = [
        (name, counts)
        for name, counts in store.period_counts(session, tenant, start, end, "assignee").items()
        if name and any(counts.values())
    ]
    if metric == domain.SCORE:
        weights = score_weights(session, tenant, weights or {})
    items = domain.rank_staff(staff, metric, weights)
    for item in items:
        item["counts"] = {name: item["counts"].get(name, 0) for name in domain.API_COUNTS}
    body = {"period": {"from": start, "to": end}, "metric": metric, "items": items}
    if metric == domain.SCORE:
        body["weights"] = dict(weights)
    return body


def score_weights(session: Session, tenant: str, given: Mapping[str, float]) -> dict[str, float]:
    """The tenant's weights of the composite score, each overridden by ``given``'s."""
    policy = domain.KpiPolicy.from_dict(tenant_settings.load(session, tenant).section("kpis"))
    weights = {**policy.score_weights(), **given}
    if not any(weights.values()):
        raise Invalid({"completion_weight": ["the weights must not all be 0"]})
    return weights


def root_causes(session: Session, tenant: str, start: date, end: date) -> dict[str, Any]:
    """Complaints and issues per category × department, with the previous period's
    (reports.root_causes)."""
    timezone = tenant_settings.load(session, tenant).timezone
    previous = domain.previous_period(start, end)
    since = previous[0] if previous else start
    facts = store.facts_of(session, tenant, reports.ROOT_CAUSE_KINDS, since, end)
    body = reports.root_causes(facts, timezone, (start, end), previous)
    return {"period": {"from": start, "to": end}, "previous_period": _span(previous), **body}


def visit_summary(session: Session, tenant: str, start: date, end: date) -> dict[str, Any]:
    """Satisfaction, repurchase, NPS and issues of the period, also per region
    (reports.visit_summary)."""
    timezone = tenant_settings.load(session, tenant).timezone
    facts = store.facts_of(session, tenant, reports.SUMMARY_KINDS, start, end)
    body = reports.visit_summary(facts, timezone, (start, end))
    return {"period": {"from": start, "to": end}, **body}


def _span(period: tuple[date, date] | None) -> dict[str, date] | None:
    return None if period is None else {"from": period[0], "to": period[1]}
