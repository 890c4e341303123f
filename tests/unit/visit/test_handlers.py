"""Visits planned from events: purchases, repairs, grades, resolved complaints."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from revisit_common.calendar import WorkCalendar
from tests.support.client import Client
from tests.support.events import envelope
from tests.support.outbox import events_of
from tests.support.visits import FRIDAY_10AM, configure, register
from visit_service.bootstrap import SPEC
from visit_service.domain import VisitPolicy, periodic_due
from visit_service.handlers import HANDLERS


def visits(client, query=""):
    response = client.get(f"/api/v1/visits?{query}")
    assert response.status_code == 200
    return response.json["items"]


def purchase(customer_id, *, first=True, grade="B", owner="li.wei", region="east", pid=None):
    return {
        "purchase_id": pid or str(uuid.uuid4()),
        "customer_id": customer_id,
        "region": region,
        "owner": owner,
        "grade": grade,
        "amount": "1200.00",
        "product": "Pump X",
        "purchased_at": FRIDAY_10AM,
        "first_purchase": first,
        "extra": "consumers ignore unknown fields",
    }


def graded(customer_id, grade, previous=None, at=None):
    return {
        "customer_id": customer_id,
        "region": "east",
        "owner": "li.wei",
        "grade": grade,
        "previous_grade": previous,
        "score": 70.0,
        "size_tier": "large",
        "cooperation_tier": "long",
        "graded_at": (at or datetime.now(UTC)).isoformat(),
    }


def complaint_resolved(customer_id, complaint_id, resolved_at=FRIDAY_10AM):
    return {
        "issue_id": str(uuid.uuid4()),
        "source": "complaint",
        "visit_id": None,
        "complaint_id": complaint_id,
        "customer_id": customer_id,
        "department": "product",
        "category": "product_quality",
        "region": "east",
        "assignee": None,
        "raised_at": "2026-11-10T02:00:00+00:00",
        "resolved_at": resolved_at,
        "within_deadline": True,
    }


def test_registry_is_explicit():
    assert set(HANDLERS) == {
        "TenantRegistered",
        "TenantSettingsChanged",
        "CustomerRegistered",
        "CustomerGraded",
        "CustomerRiskChanged",
        "PurchaseRecorded",
        "RepairClosed",
        "IssueResolved",
        "SurveyResponded",
        "ProjectCompleted",
        "MarketingEventHeld",
        "ContactDatesChanged",
    }
    # the queue's bindings come from the same registry
    keys = SPEC.routing_keys
    assert "survey.responded" in keys
    assert "issue.resolved.*" in keys and "customer.purchase_recorded" in keys


# --------------------------------------------------------------------------- purchases


def test_first_purchase_plans_new_customer_visit(client, runtime, feed, customer):
    assert feed("PurchaseRecorded", purchase(customer)) == "applied"
    [visit] = visits(client)
    assert visit["reason"] == "new_customer"
    assert visit["due_date"] == "2026-12-21"  # +30 days is a Sunday
    assert visit["assignee"] == "li.wei" and visit["method"] == "on_site"  # a large customer
    [event] = events_of(runtime, "VisitScheduled")
    assert event["correlationid"] == "corr-1"  # carried from the purchase event
    assert event["data"]["trigger"] == visit["trigger"]


def test_later_purchases_of_b_customers_plan_nothing(client, feed, customer):
    feed("PurchaseRecorded", purchase(customer, first=False))
    assert visits(client) == []


def test_a_customer_purchase_plans_key_account_cadence(client, feed, customer):
    data = purchase(customer, grade="A", pid="p-1")
    feed("PurchaseRecorded", data)
    planned = visits(client)
    assert [v["reason"] for v in planned] == ["new_customer"] + ["key_account"] * 5
    key = planned[1:]
    assert [v["trigger"] for v in key] == ["p-1:2", "p-1:7", "p-1:1m", "p-1:3m", "p-1:6m"]
    assert [v["due_date"] for v in key] == [
        "2026-11-23",
        "2026-11-27",
        "2026-12-21",
        "2027-02-22",
        "2027-05-20",
    ]
    assert {v["method"] for v in key} == {"on_site"}


def test_same_purchase_twice_plans_once(client, runtime, feed, customer):
    data = purchase(customer, grade="A")
    feed("PurchaseRecorded", data)
    assert feed("PurchaseRecorded", data) == "applied"  # a new envelope: the inbox cannot tell
    assert len(visits(client)) == 6
    # even after the visits were done or cancelled
    for visit in visits(client):
        client.post(f"/api/v1/visits/{visit['id']}/cancel", {})
    feed("PurchaseRecorded", data)
    assert len(visits(client, "status=planned")) == 0
    assert len(events_of(runtime, "VisitScheduled")) == 6


def test_redelivered_envelope_is_a_duplicate(runtime, client, customer):
    env = envelope("PurchaseRecorded", purchase(customer))
    assert runtime.consumer.apply(env) == "applied"
    assert runtime.consumer.apply(env) == "duplicate"
    assert len(visits(client)) == 1


def test_purchase_before_customer_registered(client, feed):
    customer = str(uuid.uuid4())
    feed("PurchaseRecorded", purchase(customer, owner="li.wei", region="west"))
    [visit] = visits(client)
    assert (visit["assignee"], visit["region"]) == ("li.wei", "west")
    # the registration arrives late, with older facts: they do not overwrite newer ones
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    feed(
        "CustomerRegistered",
        {"customer_id": customer, "region": "north", "owner": "old.owner", "grade": "C"},
        time=old,
    )
    manual = client.post("/api/v1/visits", {"customer_id": customer, "reason": "care"}).json
    assert (manual["assignee"], manual["region"]) == ("li.wei", "west")


def test_settings_change_due_dates_of_new_plans(client, feed, customer):
    configure(feed, visits={"new_customer_days": 10, "key_account_offsets_days": [1]})
    feed("PurchaseRecorded", purchase(customer, grade="A", pid="p"))
    planned = visits(client)
    assert [(v["reason"], v["due_date"]) for v in planned] == [
        ("new_customer", "2026-11-30"),
        ("key_account", "2026-11-23"),  # Saturday → Monday
    ]


def test_events_of_another_tenant_stay_there(client, app, feed):
    theirs = register(feed, tenant="tenant-b")
    feed("PurchaseRecorded", purchase(theirs), tenant="tenant-b")
    assert visits(client) == []
    assert len(visits(Client(app, "tenant-b"))) == 1


# --------------------------------------------------------------------------- repairs


def test_closed_repair_plans_a_repair_visit_once(client, feed, customer):
    data = {
        "repair_id": "r-1",
        "customer_id": customer,
        "region": "east",
        "owner": "li.wei",
        "product": "Pump X",
        "closed_at": FRIDAY_10AM,
    }
    assert feed("RepairClosed", data) == "applied"
    feed("RepairClosed", data)
    [visit] = visits(client)
    assert (visit["reason"], visit["trigger"], visit["due_date"]) == ("repair", "r-1", "2026-12-04")


def test_round_robin_for_customers_without_owner(client, feed):
    configure(feed, visits={"agents_by_region": {"east": ["ann", "bob"]}})
    for i in range(3):
        customer = register(feed, owner=None)
        feed(
            "RepairClosed",
            {"repair_id": f"r{i}", "customer_id": customer, "region": "east", "owner": None,
             "product": "p", "closed_at": FRIDAY_10AM},
        )  # fmt: skip
    assert [v["assignee"] for v in visits(client)] == ["ann", "bob", "ann"]


# --------------------------------------------------------------------------- grades


def expected_periodic(grade, day=None):
    cal = WorkCalendar()
    today = cal.local_date(datetime.now(UTC))
    return periodic_due(day or today, grade, VisitPolicy(), cal, today).isoformat()


def test_grading_puts_the_customer_on_a_periodic_cadence(client, runtime, feed, customer):
    assert feed("CustomerGraded", graded(customer, "A", "B")) == "applied"
    [visit] = visits(client)
    assert (visit["reason"], visit["trigger"]) == ("periodic", "periodic")
    assert visit["due_date"] == expected_periodic("A")
    # the same grade again: nothing changes
    feed("CustomerGraded", graded(customer, "A", "A"))
    assert len(visits(client)) == 1
    # a new grade: the old cadence's visit is cancelled and replaced
    feed("CustomerGraded", graded(customer, "C", "A"))
    old, new = visits(client)
    assert old["status"] == "cancelled" and old["cancel_reason"] == "customer regraded to C"
    assert new["status"] == "planned" and new["due_date"] == expected_periodic("C")
    [cancelled] = events_of(runtime, "VisitCancelled")
    assert cancelled["data"]["visit_id"] == old["id"]


def test_stale_grading_changes_nothing(client, feed, customer):
    feed("CustomerGraded", graded(customer, "C"))
    stale = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    feed("CustomerGraded", graded(customer, "A"), time=stale)
    [visit] = visits(client)
    assert visit["due_date"] == expected_periodic("C")


def test_grading_overtaken_by_a_purchase_still_plans_the_cadence(client, feed, customer):
    graded_at = datetime.now(UTC) - timedelta(seconds=1)
    feed("PurchaseRecorded", purchase(customer, first=False, grade="A"))  # newer, arrives first
    feed("CustomerGraded", graded(customer, "A", "B", graded_at), time=graded_at.isoformat())
    periodic = visits(client, "reason=periodic")
    assert [v["due_date"] for v in periodic] == [expected_periodic("A")]


def test_grading_before_registration(client, feed):
    customer = str(uuid.uuid4())
    feed("CustomerGraded", graded(customer, "B"))
    [visit] = visits(client)
    assert (visit["assignee"], visit["region"]) == ("li.wei", "east")


def test_completed_periodic_visit_plans_the_next(client, runtime, feed, customer):
    feed("CustomerGraded", graded(customer, "A"))
    [visit] = visits(client)
    done = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    assert done.status_code == 200
    first, nxt = visits(client)
    assert first["status"] == "completed"
    assert (nxt["reason"], nxt["status"]) == ("periodic", "planned")
    assert nxt["due_date"] == expected_periodic("A")
    assert len(events_of(runtime, "VisitScheduled")) == 2
    # a regrade later counts the new cadence from that last visit
    feed("CustomerGraded", graded(customer, "B"))
    assert visits(client, "status=planned")[0]["due_date"] == expected_periodic("B")


# --------------------------------------------------------------------------- complaints


def test_resolved_complaint_plans_post_complaint_visit(client, runtime, feed, customer):
    assert feed("IssueResolved", complaint_resolved(customer, "cmp-1")) == "applied"
    feed("IssueResolved", complaint_resolved(customer, "cmp-1"))  # same resolution again
    [visit] = visits(client)
    assert (visit["reason"], visit["trigger"]) == ("post_complaint", "cmp-1")
    assert visit["complaint_id"] == "cmp-1"
    assert visit["due_date"] == "2026-11-25"  # 3 working days after Friday
    client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    [completed] = events_of(runtime, "VisitCompleted")
    assert completed["data"]["complaint_id"] == "cmp-1"
    # redelivered after the visit was done: still one visit
    feed("IssueResolved", complaint_resolved(customer, "cmp-1"))
    assert len(visits(client)) == 1
    # reopened and resolved again: a new follow-up visit
    feed("IssueResolved", complaint_resolved(customer, "cmp-1", "2026-11-27T02:00:00+00:00"))
    assert [v["due_date"] for v in visits(client, "status=planned")] == ["2026-12-02"]


def test_issues_found_on_post_complaint_visit_carry_the_complaint(client, runtime, feed, customer):
    feed("IssueResolved", complaint_resolved(customer, "cmp-9"))
    [visit] = visits(client)
    body = {
        "satisfaction": "dissatisfied",
        "issues": [{"category": "service_quality", "description": "slow", "department": "sales"}],
    }
    issue = client.post(f"/api/v1/visits/{visit['id']}/complete", body).json["issues"][0]
    assert issue["complaint_id"] == "cmp-9"
    assert events_of(runtime, "IssueRaised")[0]["data"]["complaint_id"] == "cmp-9"


def test_complaint_of_unknown_customer_uses_event_data(client, feed):
    feed("IssueResolved", complaint_resolved("cust-unknown", "cmp-2"))
    [visit] = visits(client)
    assert (visit["region"], visit["assignee"]) == ("east", None)


def test_own_issue_resolutions_are_ignored(client, feed, customer):
    data = {**complaint_resolved(customer, None), "source": "visit", "visit_id": "v"}
    assert feed("IssueResolved", data) == "applied"
    assert visits(client) == []


def test_settings_calendar_moves_post_complaint_due_date(client, feed, customer):
    configure(feed, calendar={"holidays": ["2026-11-23", "2026-11-24"]})
    feed("IssueResolved", complaint_resolved(customer, "cmp-3"))
    assert visits(client)[0]["due_date"] == "2026-11-27"


def test_settings_are_kept_per_version(client, feed, customer):
    configure(feed, version=2, visits={"repair_days": 3})
    configure(feed, version=1, visits={"repair_days": 30})  # older, arrives late: ignored
    response = client.post(
        "/api/v1/visits", {"customer_id": customer, "reason": "repair", "event_date": "2026-11-16"}
    )
    assert response.json["due_date"] == "2026-11-19"


def test_a_broken_event_fails_and_changes_nothing(runtime, client, feed):
    runtime.consumer.retries = 0
    assert feed("PurchaseRecorded", {"purchase_id": "p", "first_purchase": True}) == "failed"
    assert feed("RepairClosed", {"repair_id": "r", "customer_id": "c", "closed_at": "soon"}) == (
        "failed"
    )
    assert visits(client) == []


def survey_answer(customer_id, visit_id=None, satisfaction="satisfied", score=9):
    return {
        "response_id": str(uuid.uuid4()),
        "survey_id": "s1",
        "invitation_id": str(uuid.uuid4()),
        "customer_id": customer_id,
        "visit_id": visit_id,
        "satisfaction": satisfaction,
        "recommend_score": score,
        "average_rating": 4.0,
        "responded_at": datetime.now(UTC).isoformat(),
    }


def online_survey_visit(client, customer, trigger):
    body = {
        "customer_id": customer,
        "reason": "post_event",
        "method": "online_survey",
        "trigger": trigger,
    }
    response = client.post("/api/v1/visits", body)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_survey_answer_completes_the_online_survey_visit(client, runtime, customer, feed):
    first = online_survey_visit(client, customer, "event-1")
    second = online_survey_visit(client, customer, "event-2")
    phone = client.post("/api/v1/visits", {"customer_id": customer, "reason": "care"}).json["id"]
    assert feed("SurveyResponded", survey_answer(customer, visit_id=second)) == "applied"
    done = client.get(f"/api/v1/visits/{second}").json
    assert done["status"] == "completed"
    assert done["satisfaction"] == "satisfied"
    assert done["recommend_score"] == 9
    assert client.get(f"/api/v1/visits/{first}").json["status"] == "planned"
    assert client.get(f"/api/v1/visits/{phone}").json["status"] == "planned"
    [completed] = events_of(runtime, "VisitCompleted")
    assert completed["data"]["visit_id"] == second
    # without a visit id: the customer's earliest planned online_survey visit
    feed("SurveyResponded", survey_answer(customer, satisfaction="dissatisfied", score=3))
    assert client.get(f"/api/v1/visits/{first}").json["satisfaction"] == "dissatisfied"
    # nothing left to complete: the answer changes nothing
    before = len(events_of(runtime))
    assert feed("SurveyResponded", survey_answer(customer)) == "applied"
    assert len(events_of(runtime)) == before
    assert client.get(f"/api/v1/visits/{phone}").json["status"] == "planned"
