"""Use cases of the KPI service: record an event, project it, report KPIs and rankings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from revisit_common import tenant_settings
from revisit_common.messaging.envelope import Envelope

from . import domain, store

SETTINGS_EVENTS = frozenset({"TenantRegistered", "TenantSettingsChanged"})


def record(session: Session, envelope: Envelope) -> None:
    """A consumed event: into the event log, then into the facts and aggregates."""
    store.log_event(session, envelope)
    project(session, envelope)


def record_many(session: Session, envelopes: list[Envelope]) -> None:
    """``record`` for each of ``envelopes`` in order, with a few statements for all of them:
    the log in one insert, the facts and aggregates merged in runs between settings events
    (a settings event may move every fact of its tenant to another day, so it is a barrier).
    The log insert travels with the first run's reads."""
    log, run = list(envelopes), []
    for envelope in envelopes:
        if envelope.type in SETTINGS_EVENTS:
            store.apply_events(session, run, log)
            log, run = [], []
            project(session, envelope)
        else:
            run.append(envelope)
    store.apply_events(session, run, log)


def project(session: Session, envelope: Envelope) -> None:
    """Apply one event to the facts and aggregates (the live consumer and rebuilds)."""
    if envelope.type in SETTINGS_EVENTS:
        before = tenant_settings.load(session, envelope.tenantid).timezone
        if tenant_settings.apply_settings_event(session, envelope):
            after = tenant_settings.load(session, envelope.tenantid).timezone
            if after != before:  # "a day" moved: every timestamped fact may change day
                store.recompute_tenant(session, envelope.tenantid, after)
        return
    store.apply_event(session, envelope)


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
