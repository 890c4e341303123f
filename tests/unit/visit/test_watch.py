"""The watch plan of a customer at risk (DOMAIN.md §6, rule 6.19): medium or high risk has
the owner follow the customer up every month until the risk is low again."""

from __future__ import annotations

from datetime import date

from revisit_common.calendar import WorkCalendar
from tests.support.outbox import events_of
from tests.support.visits import configure
from visit_service.domain import VisitPolicy, due_date, watched

SHANGHAI = WorkCalendar.from_dict({"timezone": "Asia/Shanghai"})


def risk(customer_id, level, previous, at="2026-03-06T02:00:00+00:00", owner="li.wei"):
    return {
        "customer_id": customer_id,
        "region": "east",
        "risk_level": level,
        "previous_level": previous,
        "warning": level != "low",
        "reasons": [],
        "measures": [],
        "changed_at": at,
        "owner": owner,
    }


def watch_visits(client, status=""):
    response = client.get(f"/api/v1/visits?reason=risk_watch{status}")
    assert response.status_code == 200
    return response.json["items"]


def test_medium_and_high_risk_are_watched_low_is_not():
    assert [watched(level) for level in ("low", "medium", "high", None)] == [
        False,
        True,
        True,
        False,
    ]


def test_the_watch_visit_is_due_a_calendar_month_on_a_working_day():
    policy = VisitPolicy()
    # 31 January + 1 month = 28 February, a Saturday: the next working day
    assert due_date("risk_watch", date(2026, 1, 31), policy, SHANGHAI) == date(2026, 3, 2)
    assert due_date("risk_watch", date(2026, 3, 6), policy, SHANGHAI) == date(2026, 4, 6)
    two = VisitPolicy.from_dict({"risk_watch_months": 2})
    assert due_date("risk_watch", date(2026, 3, 6), two, SHANGHAI) == date(2026, 5, 6)


def test_medium_risk_plans_one_watch_visit_for_the_owner(client, runtime, feed, customer):
    assert feed("CustomerRiskChanged", risk(customer, "medium", "low")) == "applied"
    assert feed("CustomerRiskChanged", risk(customer, "high", "medium")) == "applied"
    [visit] = watch_visits(client)
    assert (visit["status"], visit["assignee"], visit["due_date"]) == (
        "planned",
        "li.wei",
        "2026-04-06",  # a month after the warning (Friday 6 March), a Monday
    )


def test_completing_a_watch_visit_plans_the_next_and_low_risk_ends_the_plan(
    client, runtime, feed, customer
):
    feed("CustomerRiskChanged", risk(customer, "medium", "low"))
    [first] = watch_visits(client)
    done = client.post(
        f"/api/v1/visits/{first['id']}/complete",
        {"satisfaction": "satisfied", "completed_at": "2026-04-03T02:00:00+00:00"},
    )
    assert done.status_code == 200
    [following] = watch_visits(client, "&status=planned")
    assert following["due_date"] == "2026-05-04"
    feed("CustomerRiskChanged", risk(customer, "low", "medium"))
    assert watch_visits(client, "&status=planned") == []
    [cancelled] = watch_visits(client, "&status=cancelled")
    assert cancelled["id"] == following["id"]
    kinds = [e["type"] for e in events_of(runtime) if e["data"].get("reason") == "risk_watch"]
    assert kinds == ["VisitScheduled", "VisitCompleted", "VisitScheduled", "VisitCancelled"]


def test_a_low_risk_customer_is_not_watched(client, feed, customer):
    configure(feed, visits={"risk_watch_months": 3})
    assert feed("CustomerRiskChanged", risk(customer, "low", None)) == "applied"
    assert watch_visits(client) == []
