"""Care visits (CONTRACT §4.4): contacts' dates kept from ContactDatesChanged, planned on
the date ``care_lead_days`` ahead, by grade; moved or cancelled when a date changes; the
tenant's care dates (holidays) planned by the periodic job, each once."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.clock import FakeClock
from tests.support.outbox import events_of
from tests.support.visits import configure, register
from visit_service import care
from visit_service.bootstrap import CARE_INTERVAL, SPEC

# Saturday 5 December 2026, 10:00 in Shanghai
DEC_5 = "2026-12-05T02:00:00+00:00"
DEC_6 = "2026-12-06T02:00:00+00:00"


def visits(client, query=""):
    response = client.get(f"/api/v1/visits?reason=care&{query}")
    assert response.status_code == 200
    return response.json["items"]


def contact(customer_id, *, birthday=None, anniversary=None, cid="ct-1", at=DEC_5, grade="A"):
    return {
        "contact_id": cid,
        "customer_id": customer_id,
        "region": "east",
        "owner": "li.wei",
        "grade": grade,
        "name": "Zhang San",
        "birthday": birthday,
        "anniversary": anniversary,
        "changed_at": at,
    }


def job(runtime, at: str) -> int:
    return care.plan_care(runtime.db, runtime.outbox, FakeClock(datetime.fromisoformat(at)))


# --------------------------------------------------------------------------- contact dates


def test_a_birthday_within_the_lead_days_plans_a_care_visit(client, runtime, feed):
    customer = register(feed, grade="A")
    assert feed("ContactDatesChanged", contact(customer, birthday="1980-12-10")) == "applied"
    [visit] = visits(client)
    assert visit["due_date"] == "2026-12-10"  # on the date itself
    assert visit["trigger"] == "care:birthday:ct-1:2026-12-10"
    assert visit["focus"] == "birthday: Zhang San"
    assert (visit["assignee"], visit["method"]) == ("li.wei", "on_site")  # a large customer
    # the same change again, and the job: nothing more
    feed("ContactDatesChanged", contact(customer, birthday="1980-12-10"))
    assert job(runtime, DEC_5) == 0
    assert len(visits(client)) == 1
    assert len(events_of(runtime, "VisitScheduled")) == 1


def test_a_birthday_further_away_is_planned_by_the_job_when_near(client, runtime, feed):
    customer = register(feed, grade="B")
    feed("ContactDatesChanged", contact(customer, birthday="1980-12-20", grade="B"))
    assert visits(client) == []
    assert job(runtime, "2026-12-12T02:00:00+00:00") == 0  # 8 days ahead
    assert job(runtime, "2026-12-13T02:00:00+00:00") == 1  # 7 days ahead
    assert job(runtime, "2026-12-14T02:00:00+00:00") == 0
    [visit] = visits(client)
    assert visit["due_date"] == "2026-12-20"
    # done or cancelled, it stays done: the job plans each year's date once
    client.post(f"/api/v1/visits/{visit['id']}/cancel", {})
    assert job(runtime, "2026-12-15T02:00:00+00:00") == 0
    # next year's birthday is another visit
    assert job(runtime, "2027-12-15T02:00:00+00:00") == 1
    assert visits(client, "status=planned")[0]["due_date"] == "2027-12-20"


def test_grade_c_gets_no_birthday_care_unless_the_tenant_says_so(client, runtime, feed):
    customer = register(feed, grade="C")
    feed("ContactDatesChanged", contact(customer, birthday="1980-12-10", grade="C"))
    assert visits(client) == []
    configure(feed, visits={"birthday_care_grades": ["A", "B", "C"]})
    assert job(runtime, DEC_5) == 1


def test_a_changed_birthday_moves_the_visit_and_a_cleared_one_cancels_it(client, runtime, feed):
    customer = register(feed, grade="A")
    feed("ContactDatesChanged", contact(customer, birthday="1980-12-10"))
    [planned] = visits(client)
    feed("ContactDatesChanged", contact(customer, birthday="1980-12-08", at=DEC_6))
    [moved] = visits(client)
    assert moved["id"] == planned["id"] and moved["status"] == "planned"
    assert (moved["due_date"], moved["trigger"]) == ("2026-12-08", "care:birthday:ct-1:2026-12-08")
    again = events_of(runtime, "VisitScheduled")
    assert [e["data"]["due_date"] for e in again] == ["2026-12-10", "2026-12-08"]
    # an older change arriving late changes nothing
    feed("ContactDatesChanged", contact(customer, birthday="1980-12-11", at=DEC_5))
    assert visits(client)[0]["due_date"] == "2026-12-08"
    # cleared: cancelled
    feed("ContactDatesChanged", contact(customer, at="2026-12-07T02:00:00+00:00"))
    [cancelled] = visits(client)
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "birthday cleared"
    assert job(runtime, "2026-12-07T02:00:00+00:00") == 0


def test_a_birthday_moved_out_of_the_lead_days_cancels_the_visit(client, feed):
    customer = register(feed, grade="A")
    feed("ContactDatesChanged", contact(customer, birthday="1980-12-10"))
    feed("ContactDatesChanged", contact(customer, birthday="1980-03-10", at=DEC_6))
    [visit] = visits(client)
    assert (visit["status"], visit["cancel_reason"]) == ("cancelled", "birthday changed")


def test_anniversaries_and_29_february(client, runtime, feed):
    customer = register(feed, grade="A")
    feed(
        "ContactDatesChanged",
        contact(customer, anniversary="2000-02-29", at="2027-02-25T02:00:00+00:00"),
    )
    [visit] = visits(client)
    assert visit["due_date"] == "2027-02-28"  # no 29 February in 2027
    assert visit["trigger"] == "care:anniversary:ct-1:2027-02-28"
    assert visit["focus"] == "anniversary: Zhang San"


def test_contacts_of_another_tenant_stay_there(client, runtime, feed):
    theirs = register(feed, tenant="tenant-b", grade="A")
    feed("ContactDatesChanged", contact(theirs, birthday="1980-12-10"), tenant="tenant-b")
    assert visits(client) == []
    assert job(runtime, DEC_5) == 0


# --------------------------------------------------------------------------- holidays


HOLIDAYS = [
    {"name": "New Year", "month": 1, "day": 1},
    {"name": "Founders day", "month": 12, "day": 8, "grades": ["A", "B"]},
]


def test_tenant_care_dates_plan_visits_by_grade_once(client, runtime, feed):
    configure(feed, visits={"care_dates": HOLIDAYS})
    a, b = register(feed, grade="A"), register(feed, grade="B")
    register(feed, grade="C")
    assert job(runtime, DEC_5) == 2  # Founders day: A and B; New Year not yet within 7 days
    assert job(runtime, DEC_5) == 0
    planned = visits(client)
    assert sorted(v["customer_id"] for v in planned) == sorted([a, b])
    assert {(v["due_date"], v["trigger"], v["focus"]) for v in planned} == {
        ("2026-12-08", "care:holiday:Founders day:2026-12-08", "holiday: Founders day")
    }
    assert job(runtime, "2026-12-25T02:00:00+00:00") == 1  # New Year: grade A only
    assert visits(client, f"customer_id={a}")[-1]["due_date"] == "2027-01-01"


def test_the_lead_days_are_a_setting(client, runtime, feed):
    configure(feed, visits={"care_dates": HOLIDAYS, "care_lead_days": 2})
    register(feed, grade="A")
    assert job(runtime, DEC_5) == 0
    assert job(runtime, DEC_6) == 1


def test_the_worker_runs_the_care_job(runtime):
    _, (interval, job_fn) = SPEC.periodic
    assert (interval, job_fn) == (CARE_INTERVAL, care.run)
    runtime.clock = FakeClock(datetime(2026, 12, 5, 2, tzinfo=UTC))
    assert care.run(runtime) == 0
