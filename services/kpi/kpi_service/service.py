"""Use cases of the KPI service: report KPIs and rankings from the aggregates.

(Events reach the aggregates through projection.py.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from revisit_common import tenant_settings

from . import domain, store


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
    body["groups"] = _groups(session, tenant, start, end, group_by, total) if group_by else []
    return body


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


def ranking(session: Session, tenant: str, start: date, end: date, metric: str) -> dict[str, Any]:
    """Staff (assignees) of ``tenant`` ranked for the period (see domain.rank_staff)."""
    staff = [
        (name, counts)
        for name, counts in store.period_counts(session, tenant, start, end, "assignee").items()
        if name and any(counts.values())
    ]
    items = domain.rank_staff(staff, metric)
    for item in items:
        item["counts"] = {name: item["counts"].get(name, 0) for name in domain.API_COUNTS}
    return {
        "period": {"from": start, "to": end},
        "metric": metric,
        "items": items,
    }
