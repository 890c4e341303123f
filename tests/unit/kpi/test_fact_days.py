"""A period's figures read the facts of that period only (kpi_facts ``day`` and
``limit_day``, #15: ``GET /kpis`` and the reports flat with history): each fact is stored with
the days it counts on, which move with the tenant's time zone, and a read of a period skips
the others (facts from before those columns, with none, are read by every period)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import sqlalchemy as sa

from kpi_service import domain, store
from kpi_service.models import facts
from tests.support.kpi.scenario import Complaint, Purchase, Truth, at

TENANT = "tenant-days"


def stored_days(runtime) -> dict[str, tuple]:
    with runtime.db.read() as session:
        rows = session.execute(sa.select(facts.c.entity_id, facts.c.day, facts.c.limit_day))
        return {r.entity_id: (r.day, r.limit_day) for r in rows}


def read(runtime, kinds, since, until, by="day") -> list[str]:
    with runtime.db.read() as session:
        found = store.facts_of(session, TENANT, kinds, since, until, by=by)
        return sorted(state["fields"].get("purchased_at", "?") for _, state in found)


def complaint_with_limit(ident: str, received: str, resolve_by: str):
    complaint = Complaint(ident, "phone", "general", "product", "east", at(received))
    events = complaint.events(TENANT)
    raised = events[0]
    data = {**raised.data, "deadlines": {"resolve_by": resolve_by}}
    return [replace(raised, data=data), *events[1:]]


def test_facts_are_stored_with_their_days_in_the_tenant_zone(runtime, feed):
    truth = Truth(timezone="Asia/Shanghai")  # UTC+8
    truth.purchases.append(Purchase("p1", "east", at("2026-01-31T17:00:00+00:00")))
    feed(*truth.events(TENANT))
    feed(*complaint_with_limit("k1", "2026-01-10T02:00:00+00:00", "2026-02-28T20:00:00+00:00"))
    days = stored_days(runtime)
    assert days["p1"] == (date(2026, 2, 1), None)  # 01:00 on 1 February in Shanghai
    assert days["k1"] == (date(2026, 1, 10), date(2026, 3, 1))


def test_a_period_read_takes_the_facts_of_its_days_and_those_without_any(runtime, feed):
    truth = Truth(timezone="UTC")
    for n, moment in enumerate(("2025-03-05", "2026-01-10", "2026-01-20", "2026-06-01")):
        truth.purchases.append(Purchase(f"p{n}", "east", at(f"{moment}T10:00:00+00:00")))
    feed(*truth.events(TENANT))
    january = (date(2026, 1, 1), date(2026, 1, 31))
    assert read(runtime, ("purchase",), *january) == [
        "2026-01-10T10:00:00+00:00",
        "2026-01-20T10:00:00+00:00",
    ]
    with runtime.db.transaction() as session:  # as stored before revision 0007
        session.execute(facts.update().where(facts.c.entity_id == "p0").values(day=None))
    assert read(runtime, ("purchase",), *january)[0] == "2025-03-05T10:00:00+00:00"
    assert len(read(runtime, ("purchase",), *january)) == 3


def test_complaints_are_read_by_their_resolve_limit_day(runtime, feed):
    feed(*Truth(timezone="UTC").events(TENANT))
    feed(*complaint_with_limit("k1", "2026-01-10T02:00:00+00:00", "2026-02-02T02:00:00+00:00"))
    feed(*complaint_with_limit("k2", "2026-01-12T02:00:00+00:00", "2026-03-02T02:00:00+00:00"))
    with runtime.db.read() as session:
        february = store.facts_of(
            session, TENANT, ("complaint",), date(2026, 2, 1), date(2026, 2, 28), by="limit_day"
        )
        limits = [state["fields"]["deadlines"]["resolve_by"] for _, state in february]
    assert limits == ["2026-02-02T02:00:00+00:00"]


def test_a_new_time_zone_moves_the_stored_days(runtime, feed):
    truth = Truth(timezone="UTC")
    truth.purchases.append(Purchase("p1", "east", at("2026-01-31T17:00:00+00:00")))
    events = truth.events(TENANT)
    feed(*events)
    feed(*complaint_with_limit("k1", "2026-01-10T02:00:00+00:00", "2026-02-28T20:00:00+00:00"))
    assert stored_days(runtime)["p1"] == (date(2026, 1, 31), None)
    assert stored_days(runtime)["k1"][1] == date(2026, 2, 28)
    moved = {**events[0].data, "timezone": "Asia/Shanghai", "settings_version": 2}
    changed = replace(events[0], id="tz-2", type="TenantSettingsChanged", data=moved)
    feed(changed)
    assert stored_days(runtime)["p1"] == (date(2026, 2, 1), None)
    assert stored_days(runtime)["k1"][1] == date(2026, 3, 1)  # the limit day moved too


def test_fact_days_rule():
    state = {"fields": {"deadlines": {"resolve_by": "2026-02-28T20:00:00Z"}}}
    made = domain.Contribution("complaint", date(2026, 1, 10))
    assert domain.fact_days("complaint", state, "Asia/Shanghai", made) == {
        "day": date(2026, 1, 10),
        "limit_day": date(2026, 3, 1),
    }
    assert domain.fact_days("purchase", state, "UTC", None) == {"day": None, "limit_day": None}
    assert domain.fact_days("complaint", {"fields": {}}, "UTC", made)["limit_day"] is None
