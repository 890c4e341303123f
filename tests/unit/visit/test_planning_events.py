"""Visits planned from projects and marketing events (CONTRACT §4.4), the key-account
cadence from settings, and the new-customer unit, through the consumer and the API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from revisit_common.settings_section_api import section_path
from tests.support.outbox import events_of
from tests.support.visits import FRIDAY_10AM, configure, register
from visit_service import planning
from visit_service.models import Visit
from visit_service.service import tenant_context


def visits(client, query=""):
    response = client.get(f"/api/v1/visits?{query}")
    assert response.status_code == 200
    return response.json["items"]


def project(customer_id, pid="prj-1", completed_at=FRIDAY_10AM, grade="B"):
    return {
        "project_id": pid,
        "customer_id": customer_id,
        "region": "east",
        "owner": "li.wei",
        "grade": grade,
        "name": "Line 3 retrofit",
        "completed_at": completed_at,
    }


def marketing_event(attendees, eid="ev-1", held_on="2026-11-20"):
    return {"marketing_event_id": eid, "name": "Expo", "held_on": held_on, "attendees": attendees}


# --------------------------------------------------------------------------- projects


def test_completed_project_plans_a_post_project_visit_once(client, runtime, feed, customer):
    assert feed("ProjectCompleted", project(customer)) == "applied"
    assert feed("ProjectCompleted", project(customer)) == "applied"  # replayed: a new envelope
    [visit] = visits(client)
    assert (visit["reason"], visit["trigger"]) == ("post_project", "project:prj-1")
    assert visit["due_date"] == "2026-11-27"  # the 5th working day after Friday
    assert (visit["assignee"], visit["method"]) == ("li.wei", "on_site")  # a large customer
    assert visit["focus"] == "project: Line 3 retrofit"
    # done, then replayed again: still one visit
    client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    feed("ProjectCompleted", project(customer))
    assert len(visits(client)) == 1
    assert len(events_of(runtime, "VisitScheduled")) == 1
    # another project of the same customer: its own visit
    feed("ProjectCompleted", project(customer, pid="prj-2"))
    assert [v["trigger"] for v in visits(client, "status=planned")] == ["project:prj-2"]


def test_project_working_days_follow_settings_and_calendar(client, feed, customer):
    configure(
        feed,
        visits={"post_project_working_days": 2},
        calendar={"holidays": ["2026-11-23"]},
    )
    feed("ProjectCompleted", project(customer))
    assert visits(client)[0]["due_date"] == "2026-11-25"


def test_project_of_a_customer_not_yet_registered(client, feed):
    customer = str(uuid.uuid4())
    feed("ProjectCompleted", project(customer))
    [visit] = visits(client)
    assert (visit["region"], visit["assignee"]) == ("east", "li.wei")


# --------------------------------------------------------------------------- marketing events


def test_marketing_event_plans_a_visit_per_attendee_once(client, runtime, feed):
    first, second = register(feed), register(feed, owner="zhao.lei")
    unknown = str(uuid.uuid4())
    data = marketing_event([first, second, first, unknown])
    assert feed("MarketingEventHeld", data) == "applied"
    assert feed("MarketingEventHeld", data) == "applied"
    planned = visits(client)
    assert sorted(v["customer_id"] for v in planned) == sorted([first, second, unknown])
    assert {v["reason"] for v in planned} == {"post_event"}
    assert {v["trigger"] for v in planned} == {"event:ev-1"}
    assert {v["due_date"] for v in planned} == {"2026-11-27"}
    assert {v["focus"] for v in planned} == {"event: Expo"}
    by_customer = {v["customer_id"]: v["assignee"] for v in planned}
    assert (by_customer[first], by_customer[second], by_customer[unknown]) == (
        "li.wei",
        "zhao.lei",
        None,
    )
    assert len(events_of(runtime, "VisitScheduled")) == 3


def test_event_held_on_a_saturday(client, feed, customer):
    feed("MarketingEventHeld", marketing_event([customer], held_on="2026-11-21"))
    assert visits(client)[0]["due_date"] == "2026-11-27"  # Mon..Fri: 5 working days


@pytest.mark.parametrize(
    "data",
    [
        marketing_event("not a list"),
        marketing_event([""]),
        marketing_event([42]),
        marketing_event(["c"], held_on="someday"),
    ],
)
def test_a_broken_marketing_event_fails_and_plans_nothing(runtime, client, feed, data):
    runtime.consumer.retries = 0
    assert feed("MarketingEventHeld", data) == "failed"
    assert visits(client) == []


# --------------------------------------------------------------------------- settings


def purchase(customer_id, grade="A", pid="p-1"):
    return {
        "purchase_id": pid,
        "customer_id": customer_id,
        "region": "east",
        "owner": "li.wei",
        "grade": grade,
        "amount": "1200.00",
        "product": "Pump X",
        "purchased_at": "2026-01-31T02:00:00+00:00",
        "first_purchase": False,
    }


def test_key_account_cadence_in_months_from_settings(client, feed, customer):
    configure(feed, visits={"key_account_offsets": ["1m", "3m"], "due_on_working_day": False})
    feed("PurchaseRecorded", purchase(customer))
    feed("PurchaseRecorded", purchase(customer))
    assert [(v["trigger"], v["due_date"]) for v in visits(client)] == [
        ("p-1:1m", "2026-02-28"),
        ("p-1:3m", "2026-04-30"),
    ]


def test_new_customer_unit_working_days(client, feed, customer):
    configure(feed, visits={"new_customer_unit": "working_days", "new_customer_days": 5})
    feed("PurchaseRecorded", {**purchase(customer, grade="B"), "first_purchase": True})
    [visit] = visits(client)
    assert (visit["reason"], visit["due_date"]) == ("new_customer", "2026-02-06")


def test_the_new_settings_are_checked_by_the_visit_service(client):
    path = section_path("visits")
    changes = {
        "key_account_offsets": ["1m", "2d"],
        "new_customer_unit": "working_days",
        "care_lead_days": 3,
        "care_dates": [{"name": "New Year", "month": 1, "day": 1, "grades": ["B", "A"]}],
    }
    ok = client.post(path, {"overrides": {}, "changes": changes})
    assert ok.status_code == 200, ok.json
    assert ok.json["overrides"]["key_account_offsets"] == ["2d", "1m"]
    assert ok.json["effective"]["care_dates"] == [
        {"name": "New Year", "month": 1, "day": 1, "grades": ["A", "B"]}
    ]
    assert ok.json["effective"]["birthday_care_grades"] == ["A", "B"]
    bad = client.post(path, {"overrides": {}, "changes": {"care_dates": [{"name": "x"}]}})
    assert bad.status_code == 422
    assert "care_dates" in bad.json["errors"]
    # a tenant with the older day offsets moves to the new setting by clearing the old one
    older = {"key_account_offsets_days": [2, 30]}
    clash = client.post(path, {"overrides": older, "changes": {"key_account_offsets": ["1m"]}})
    assert clash.status_code == 422
    moved = client.post(
        path,
        {
            "overrides": older,
            "changes": {"key_account_offsets": ["1m"], "key_account_offsets_days": None},
        },
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["overrides"] == {"key_account_offsets": ["1m"]}


# --------------------------------------------------------------------------- issues


def test_issue_on_a_key_account_visit_is_due_the_next_working_day(client, runtime, feed):
    key_account, other = register(feed, grade="A"), register(feed, grade="B")
    feed("ProjectCompleted", project(key_account, grade="A"))
    feed("ProjectCompleted", project(other, pid="prj-2"))
    friday = datetime(2026, 11, 20, 2, tzinfo=UTC)
    with runtime.db.transaction() as session:
        ctx = tenant_context(session, "tenant-a")
        by_customer = {v.customer_id: v for v in session.scalars(sa.select(Visit))}
        asked = date(2026, 12, 1)
        assert planning.issue_due(session, ctx, by_customer[key_account], None, friday) == date(
            2026, 11, 23
        )
        assert planning.issue_due(session, ctx, by_customer[key_account], asked, friday) == date(
            2026, 11, 23
        )
        assert planning.issue_due(session, ctx, by_customer[other], asked, friday) == asked
        assert planning.issue_due(session, ctx, by_customer[other], None, friday) is None
