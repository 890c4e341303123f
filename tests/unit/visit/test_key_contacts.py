"""Care of key contacts (DOMAIN.md §6): ContactDatesChanged's ``decision_maker`` decides
whose birthday and anniversary get care; None (producers before the flag) as before."""

from __future__ import annotations

from datetime import datetime

from tests.support.clock import FakeClock
from tests.support.outbox import events_of
from tests.support.visits import register
from visit_service import care

DEC_5 = "2026-12-05T02:00:00+00:00"  # Saturday 5 December 2026, 10:00 in Shanghai
DEC_6 = "2026-12-06T02:00:00+00:00"


def visits(client, query=""):
    response = client.get(f"/api/v1/visits?reason=care&{query}")
    assert response.status_code == 200
    return response.json["items"]


def contact(customer_id, decision_maker, *, birthday="1980-12-10", at=DEC_5, **more):
    data = {
        "contact_id": "ct-1",
        "customer_id": customer_id,
        "region": "east",
        "owner": "li.wei",
        "grade": "A",
        "name": "Zhang San",
        "birthday": birthday,
        "anniversary": None,
        "changed_at": at,
        **more,
    }
    if decision_maker != "absent":
        data["decision_maker"] = decision_maker
    return data


def job(runtime, at: str) -> int:
    return care.plan_care(runtime.db, runtime.outbox, FakeClock(datetime.fromisoformat(at)))


def test_a_decision_maker_gets_birthday_care(client, feed):
    customer = register(feed, grade="A")
    assert feed("ContactDatesChanged", contact(customer, True)) == "applied"
    [visit] = visits(client)
    assert (visit["status"], visit["due_date"]) == ("planned", "2026-12-10")


def test_without_the_flag_care_is_planned_as_before(client, runtime, feed):
    customer = register(feed, grade="A")
    assert feed("ContactDatesChanged", contact(customer, "absent")) == "applied"
    assert len(visits(client)) == 1
    other = register(feed, grade="A")
    assert feed("ContactDatesChanged", contact(other, None, contact_id="ct-2")) == "applied"
    assert len(visits(client)) == 2


def test_a_contact_who_is_not_a_decision_maker_gets_no_care(client, runtime, feed):
    customer = register(feed, grade="A")
    assert feed("ContactDatesChanged", contact(customer, False)) == "applied"
    assert visits(client) == []
    assert job(runtime, DEC_5) == 0  # nor from the job
    assert job(runtime, "2027-12-05T02:00:00+00:00") == 0
    assert events_of(runtime, "VisitScheduled") == []


def test_no_longer_a_decision_maker_cancels_the_open_care_visit(client, runtime, feed):
    customer = register(feed, grade="A")
    feed("ContactDatesChanged", contact(customer, True, anniversary="2010-12-09"))
    assert len(visits(client, "status=planned")) == 2
    same_dates = contact(customer, False, anniversary="2010-12-09", at=DEC_6)
    assert feed("ContactDatesChanged", same_dates) == "applied"
    assert visits(client, "status=planned") == []
    cancelled = visits(client, "status=cancelled")
    assert len(cancelled) == 2
    assert {v["cancel_reason"] for v in cancelled} == {"no longer a decision maker"}
    assert len(events_of(runtime, "VisitCancelled")) == 2
    assert job(runtime, DEC_6) == 0


def test_an_older_change_arriving_late_cancels_nothing(client, feed):
    customer = register(feed, grade="A")
    feed("ContactDatesChanged", contact(customer, True, at=DEC_6))
    feed("ContactDatesChanged", contact(customer, False, at=DEC_5))
    [visit] = visits(client)
    assert visit["status"] == "planned"


def test_becoming_a_decision_maker_plans_the_care(client, runtime, feed):
    customer = register(feed, grade="A")
    feed("ContactDatesChanged", contact(customer, False))
    assert visits(client) == []
    feed("ContactDatesChanged", contact(customer, True, at=DEC_6))
    [visit] = visits(client)
    assert (visit["status"], visit["due_date"]) == ("planned", "2026-12-10")


def test_a_flag_that_is_not_a_boolean_reads_as_unknown(client, feed):
    customer = register(feed, grade="A")
    assert feed("ContactDatesChanged", contact(customer, "no")) == "applied"
    assert len(visits(client)) == 1
