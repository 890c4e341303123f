"""The visit API, called as the gateway calls it (SQLite, no broker)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from revisit_common.calendar import WorkCalendar
from tests.support.client import Client
from tests.support.outbox import events_of
from tests.support.paging import every_item
from tests.support.visits import PAST, TODAY, configure, plan, register

RECORD = {
    "satisfaction": "very_satisfied",
    "repurchase_intent": True,
    "recommend_score": 9,
    "ratings": {
        "sales_attitude": 5,
        "sales_expertise": 4,
        "sales_response": 4,
        "aftersales_timeliness": 3,
        "aftersales_problem_solving": 4,
        "aftersales_attitude": 5,
    },
    "product_feedback": {
        "familiarity": "uses every feature",
        "performance": "stable",
        "suggestions": "bigger tank",
    },
    "service_feedback": "fast delivery",
    "needs": "wants a service contract",
    "competitor_info": {
        "products": ["Pumpco P3"],
        "strengths": "cheaper",
        "weaknesses": "breaks down",
        "promotions": "10% off in December",
        "effect": "considering a switch",
    },
}


# --------------------------------------------------------------------------- planning


def test_plan_by_hand_with_defaults(client, runtime, customer):
    body = {"customer_id": customer, "reason": "post_project", "method": "phone"}
    response = client.post("/api/v1/visits", body)
    assert response.status_code == 201
    visit = response.json
    assert visit["status"] == "planned"
    assert visit["assignee"] == "li.wei"  # the customer's owner
    assert visit["region"] == "east"
    assert visit["due_date"] == WorkCalendar().add_working_days(TODAY, 5).isoformat()
    assert visit["overdue"] is False
    assert visit["issues"] == [] and visit["audit"] is None
    [scheduled] = events_of(runtime, "VisitScheduled")
    assert scheduled["routing_key"] == "visit.scheduled"
    assert scheduled["subject"] == visit["id"]
    assert scheduled["data"]["reason"] == "post_project"
    assert scheduled["data"]["due_date"] == visit["due_date"]
    assert scheduled["data"]["assignee"] == "li.wei"
    assert scheduled["source"] == "revisit/visit"


def test_plan_with_everything_given(client, customer):
    given = {"reason": "care", "method": "on_site", "due_date": "2027-03-08"}
    given |= {"assignee": "zhao.min", "trigger": "birthday:2027"}
    given |= {"focus": "birthday of the chairman", "notes": "bring flowers"}
    visit = plan(client, customer, **given)
    assert (visit["reason"], visit["method"], visit["due_date"]) == (
        "care",
        "on_site",
        "2027-03-08",
    )
    assert (visit["assignee"], visit["trigger"]) == ("zhao.min", "birthday:2027")
    assert visit["focus"] == "birthday of the chairman"


def test_default_due_date_counts_from_the_event_date(client, customer):
    care = plan(client, customer, reason="care", event_date="2027-05-02")
    assert care["due_date"] == "2027-05-02"
    event = plan(client, customer, reason="post_event", event_date="2026-11-20")
    assert event["due_date"] == "2026-11-27"
    repair = plan(client, customer, reason="repair", event_date="2026-11-20")
    assert repair["due_date"] == "2026-12-04"


def test_method_defaults_from_the_policy(client, customer):
    response = client.post(
        "/api/v1/visits", {"customer_id": customer, "reason": "key_account", "trigger": "k1"}
    )
    assert response.status_code == 201
    assert response.json["method"] == "on_site"
    response = client.post("/api/v1/visits", {"customer_id": customer, "reason": "care"})
    assert response.json["method"] == "phone"


def test_no_duplicate_open_visit_for_reason_and_trigger(client, runtime, customer):
    plan(client, customer, trigger="project-7")
    again = client.post(
        "/api/v1/visits",
        {
            "customer_id": customer,
            "reason": "post_project",
            "method": "phone",
            "trigger": "project-7",
        },
    )
    assert again.status_code == 409
    assert again.content_type == "application/problem+json"
    plan(client, customer, trigger="project-8")
    plan(client, customer, reason="post_event", trigger="project-7")
    # without a trigger, the event date is the trigger: a double submit is refused
    plan(client, customer, reason="care")
    assert (
        client.post("/api/v1/visits", {"customer_id": customer, "reason": "care"}).status_code
        == 409
    )
    assert len(events_of(runtime, "VisitScheduled")) == 4


def test_a_cancelled_visit_does_not_block_a_new_one(client, customer):
    first = plan(client, customer, trigger="p")
    assert client.post(f"/api/v1/visits/{first['id']}/cancel", {}).status_code == 200
    plan(client, customer, trigger="p")


def test_periodic_visits_by_hand(client, customer):
    visit = plan(client, customer, reason="periodic", event_date="2026-01-15")
    assert visit["trigger"] == "periodic"
    assert visit["due_date"] == "2026-07-15"  # grade B: six months
    bad = {"customer_id": customer, "reason": "periodic", "trigger": "x"}
    response = client.post("/api/v1/visits", bad)
    assert response.status_code == 422 and "trigger" in response.json["errors"]
    again = client.post("/api/v1/visits", {"customer_id": customer, "reason": "periodic"})
    assert again.status_code == 409


def test_unknown_or_other_tenants_customer_is_404(client, app, feed):
    assert plan_status(client, "no-such-customer") == 404
    theirs = register(feed, tenant="tenant-b")
    assert plan_status(client, theirs) == 404
    assert plan_status(Client(app, "tenant-b"), theirs) == 201


def plan_status(client, customer_id):
    return client.post("/api/v1/visits", {"customer_id": customer_id, "reason": "care"}).status_code


def test_round_robin_within_the_region_without_owner(client, feed):
    configure(feed, visits={"agents_by_region": {"north": ["ann", "bob", "cai"]}})
    nobody = register(feed, region="north", owner=None)
    lonely = register(feed, region="south", owner=None)
    owned = register(feed, region="north", owner="dan")
    picks = [plan(client, nobody, trigger=str(i))["assignee"] for i in range(4)]
    assert picks == ["ann", "bob", "cai", "ann"]
    assert plan(client, owned, trigger="x")["assignee"] == "dan"
    assert plan(client, nobody, trigger="y")["assignee"] == "bob"  # the owner did not use a turn
    assert plan(client, lonely, trigger="z")["assignee"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "care"},
        {"customer_id": "c", "reason": "party"},
        {"customer_id": "c", "reason": "care", "method": "fax"},
        {"customer_id": "c", "reason": "care", "due_date": "next week"},
        {"customer_id": "c", "reason": "care", "due_date": "1999-12-31"},
        {"customer_id": "c", "reason": "care", "focus": "x" * 2001},
        {"customer_id": "c", "reason": "care", "assignee": "x" * 101},
        {"customer_id": "c", "reason": "care", "trigger": ""},
        {"customer_id": "c" * 65, "reason": "care"},
        {"customer_id": "c", "reason": "care", "colour": "red"},
    ],
)
def test_invalid_plans_are_422(client, body):
    response = client.post("/api/v1/visits", body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["errors"]


def test_malformed_json_is_400(client):
    response = client.http.post(
        "/api/v1/visits", data="{oops", content_type="application/json", headers=client.headers()
    )
    assert response.status_code == 400


def test_without_gateway_token_is_401(app):
    response = app.test_client().get(
        "/api/v1/visits", headers={"X-Revisit-Tenant": "t", "X-Revisit-Role": "admin"}
    )
    assert response.status_code == 401


def test_request_id_becomes_correlation_id(client, runtime, customer):
    response = client.http.post(
        "/api/v1/visits",
        json={"customer_id": customer, "reason": "care"},
        headers=client.headers(**{"X-Request-ID": "req-7"}),
    )
    assert response.status_code == 201
    assert events_of(runtime, "VisitScheduled")[-1]["correlationid"] == "req-7"


# --------------------------------------------------------------------------- listing


def test_list_filters(client, feed, customer):
    other = register(feed, owner="zhao.min")
    # Windows relative to today (PAST stays outside both), so no calendar day breaks it.
    window = [(TODAY + timedelta(days=n)).isoformat() for n in (30, 39, 60, 61, 95)]
    a = plan(client, customer, trigger="a", due_date=window[0])
    b = plan(client, customer, reason="care", trigger="b", due_date=window[1])
    c = plan(client, other, trigger="c", due_date=PAST)
    d = plan(client, other, trigger="d", due_date=window[4])
    client.post(f"/api/v1/visits/{d['id']}/cancel", {})

    def ids(query):
        response = client.get(f"/api/v1/visits?{query}")
        assert response.status_code == 200, response.json
        return [v["id"] for v in response.json["items"]]

    assert ids("") == [a["id"], b["id"], c["id"], d["id"]]
    assert ids("status=planned") == [a["id"], b["id"], c["id"]]
    assert ids("status=cancelled") == [d["id"]]
    assert ids("assignee=zhao.min") == [c["id"], d["id"]]
    assert ids(f"customer_id={customer}") == [a["id"], b["id"]]
    assert ids("reason=care") == [b["id"]]
    assert ids("region=east") == ids("")
    assert ids(f"due_from={window[0]}&due_to={window[2]}") == [a["id"], b["id"]]
    assert ids(f"due_from={window[3]}") == [d["id"]]
    assert ids("overdue=true") == [c["id"]]
    assert c["id"] not in ids("overdue=false")
    listed = client.get("/api/v1/visits?overdue=true").json["items"][0]
    assert listed["overdue"] is True


def test_cursor_paging(client, customer):
    made = [plan(client, customer, trigger=str(i))["id"] for i in range(7)]
    assert [v["id"] for v in every_item(client, "/api/v1/visits", 3)] == made


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "cursor=%%%",
        "status=lost",
        "overdue=maybe",
        "reason=party",
        "due_from=2026-13-01",
        "due_from=2026-12-02&due_to=2026-12-01",
        "colour=red",
    ],
)
def test_bad_list_queries_are_422(client, query):
    response = client.get(f"/api/v1/visits?{query}")
    assert response.status_code == 422, response.json


def test_other_tenant_sees_nothing(client, app, customer):
    visit = plan(client, customer)
    other = Client(app, "tenant-b")
    vid = visit["id"]
    assert other.get("/api/v1/visits").json["items"] == []
    assert other.get(f"/api/v1/visits/{vid}").status_code == 404
    assert other.post(f"/api/v1/visits/{vid}/complete", RECORD).status_code == 404
    assert other.post(f"/api/v1/visits/{vid}/cancel", {}).status_code == 404
    client.post(f"/api/v1/visits/{vid}/complete", RECORD)
    assert other.post(f"/api/v1/visits/{vid}/audit", {"accurate": True}).status_code == 404
    assert other.get("/api/v1/visits/audit-sample").json["items"] == []
    assert client.get(f"/api/v1/visits/{vid}").status_code == 200
    assert client.get("/api/v1/visits/nope").status_code == 404


# --------------------------------------------------------------------------- completion


def test_complete_with_full_record_and_issues(client, runtime, customer):
    visit = plan(client, customer)
    body = {
        **RECORD,
        "issues": [
            {
                "category": "product_quality",
                "description": "seal leaks after 3 months",
                "department": "product",
                "assisting_departments": ["technical", "product", "technical"],
                "due_date": "2026-12-31",
                "stages": [{"name": "analyse", "owner": "wu", "due_date": "2026-12-10"}],
            },
            {"category": "price", "description": "too expensive", "department": "sales"},
        ],
    }
    response = client.post(f"/api/v1/visits/{visit['id']}/complete", body)
    assert response.status_code == 200, response.json
    done = response.json
    assert done["status"] == "completed"
    assert done["on_time"] is True
    assert done["completed_by"] == "admin-key"
    for key, value in RECORD.items():
        assert done[key] == value
    first, second = done["issues"]
    assert first["id"] and first["status"] == "open"
    assert first["assisting_departments"] == ["technical"]  # lead and repeats dropped
    [stage] = first["stages"]  # with its number and status (test_issue_stages.py)
    assert (stage["n"], stage["name"], stage["owner"]) == (1, "analyse", "wu")
    assert stage["due_date"] == "2026-12-10" and stage["completed_at"] is None
    assert first["customer_id"] == customer and first["visit_id"] == visit["id"]
    raised = events_of(runtime, "IssueRaised")
    assert [e["routing_key"] for e in raised] == ["issue.raised.product", "issue.raised.sales"]
    assert raised[0]["data"]["assisting_departments"] == ["technical"]
    assert raised[0]["data"]["source"] == "visit"
    assert raised[0]["data"]["description"] == "seal leaks after 3 months"
    assert raised[0]["data"]["due_date"] == "2026-12-31"
    [completed] = events_of(runtime, "VisitCompleted")
    assert completed["routing_key"] == "visit.completed"
    data = completed["data"]
    assert data["issue_ids"] == [first["id"], second["id"]]
    assert (data["satisfaction"], data["recommend_score"], data["repurchase_intent"]) == (
        "very_satisfied",
        9,
        True,
    )
    assert data["on_time"] is True and data["complaint_id"] is None
    assert data["due_date"] == visit["due_date"] and data["region"] == "east"
    assert (data["needs"], data["competitor_info"]) == (done["needs"], done["competitor_info"])
    assert data["needs"] == RECORD["needs"]
    assert data["service_feedback"] == "fast delivery"  # the summary report's suggestions
    assert client.get(f"/api/v1/visits/{visit['id']}").json["issues"][0]["id"] == first["id"]


def test_minimal_completion(client, runtime, customer):
    visit = plan(client, customer)
    response = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "neutral"})
    assert response.status_code == 200
    assert response.json["issues"] == [] and response.json["ratings"] is None
    assert events_of(runtime, "VisitCompleted")[0]["data"]["recommend_score"] is None
    assert events_of(runtime, "VisitCompleted")[0]["data"]["service_feedback"] is None


def test_late_completion_is_not_on_time(client, runtime, customer):
    visit = plan(client, customer, due_date=PAST)
    assert visit["overdue"] is True
    done = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    assert done.json["on_time"] is False and done.json["overdue"] is False
    assert events_of(runtime, "VisitCompleted")[0]["data"]["on_time"] is False


def test_completed_at_in_the_past_counts_for_on_time(client, customer):
    visit = plan(client, customer, due_date=PAST)
    when = datetime.combine(date.fromisoformat(PAST), datetime.min.time()).isoformat() + "+08:00"
    response = client.post(
        f"/api/v1/visits/{visit['id']}/complete",
        {"satisfaction": "satisfied", "completed_at": when},
    )
    assert response.json["on_time"] is True


def test_completing_twice_or_cancelled_is_409(client, runtime, customer):
    visit = plan(client, customer)
    url = f"/api/v1/visits/{visit['id']}/complete"
    assert client.post(url, RECORD).status_code == 200
    assert client.post(url, RECORD).status_code == 409
    cancelled = plan(client, customer, trigger="other")
    client.post(f"/api/v1/visits/{cancelled['id']}/cancel", {})
    assert client.post(f"/api/v1/visits/{cancelled['id']}/complete", RECORD).status_code == 409
    assert len(events_of(runtime, "VisitCompleted")) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"satisfaction": "ecstatic"},
        {"satisfaction": None},
        {"recommend_score": 11},
        {"recommend_score": "9"},
        {"ratings": {"sales_attitude": 6}},
        {"ratings": {"sales_attitude": 0}},
        {"ratings": {"charm": 3}},
        {"product_feedback": {"colour": "red"}},
        {"competitor_info": {"products": ["x"] * 51}},
        {"needs": "x" * 2001},
        {"completed_at": "2026-11-01T10:00:00"},
        {"completed_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()},
        {"issues": [{"category": "bad", "description": "d", "department": "sales"}]},
        {"issues": [{"category": "price", "description": "", "department": "sales"}]},
        {"issues": [{"category": "price", "description": "d", "department": "Sales.X"}]},
        {"issues": [{"category": "price", "description": "d"}]},
        {"issues": [{"category": "price", "description": "d", "department": "sales",
                     "assisting_departments": ["a"] * 11}]},
        {"issues": [{"category": "price", "description": "d", "department": "sales"}] * 51},
        {"mood": "good"},
    ],
)  # fmt: skip
def test_invalid_records_are_422(client, runtime, customer, change):
    visit = plan(client, customer)
    response = client.post(f"/api/v1/visits/{visit['id']}/complete", {**RECORD, **change})
    assert response.status_code == 422, response.json
    assert client.get(f"/api/v1/visits/{visit['id']}").json["status"] == "planned"
    assert events_of(runtime, "VisitCompleted") == []


# --------------------------------------------------------------------------- cancelling


def test_cancel(client, runtime, customer):
    visit = plan(client, customer)
    url = f"/api/v1/visits/{visit['id']}/cancel"
    response = client.post(url, {"reason": "customer closed down"})
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["cancel_reason"] == "customer closed down"
    assert client.post(url, {}).status_code == 409
    [event] = events_of(runtime, "VisitCancelled")
    assert event["routing_key"] == "visit.cancelled"
    assert event["data"]["why"] == "customer closed down"
    assert client.post(url, {"reason": "x" * 501}).status_code == 422


# --------------------------------------------------------------------------- audits


def completed_visit(client, customer, trigger="t", **record):
    visit = plan(client, customer, trigger=trigger)
    response = client.post(f"/api/v1/visits/{visit['id']}/complete", {**RECORD, **record})
    assert response.status_code == 200
    return response.json


def test_audit_once_completed_only(client, app, runtime, customer):
    auditor = Client(app, role="auditor", actor="key-aud")
    planned = plan(client, customer, trigger="planned")
    assert (
        auditor.post(f"/api/v1/visits/{planned['id']}/audit", {"accurate": True}).status_code == 409
    )
    visit = completed_visit(client, customer)
    url = f"/api/v1/visits/{visit['id']}/audit"
    response = auditor.post(url, {"accurate": False, "note": "ratings copied from last time"})
    assert response.status_code == 200
    assert response.json["accurate"] is False and response.json["auditor"] == "key-aud"
    assert auditor.post(url, {"accurate": True}).status_code == 409
    [event] = events_of(runtime, "VisitAudited")
    assert event["routing_key"] == "visit.audited"
    assert event["data"]["accurate"] is False and event["data"]["assignee"] == "li.wei"
    assert client.get(f"/api/v1/visits/{visit['id']}").json["audit"]["accurate"] is False


def test_audit_roles_and_validation(client, app, customer):
    visit = completed_visit(client, customer)
    url = f"/api/v1/visits/{visit['id']}/audit"
    assert Client(app, role="agent").post(url, {"accurate": True}).status_code == 403
    manager = Client(app, role="manager")
    assert manager.post(url, {}).status_code == 422
    assert manager.post(url, {"accurate": True, "note": "x" * 2001}).status_code == 422
    assert manager.post(url, {"accurate": "perhaps"}).status_code == 422
    assert manager.post(url, {"accurate": True}).status_code == 200


def test_audit_sample_per_assignee(client, app, feed, customer):
    other = register(feed, owner="zhao.min")
    for i in range(10):
        completed_visit(client, customer, trigger=f"a{i}")
        completed_visit(client, other, trigger=f"b{i}")
    plan(client, customer, trigger="still-planned")
    auditor = Client(app, role="auditor")
    body = auditor.get("/api/v1/visits/audit-sample?seed=3").json
    assert body["share"] == 0.1 and body["population"] == 20
    assert body["groups"] == [
        {"assignee": "li.wei", "population": 10, "sampled": 1},
        {"assignee": "zhao.min", "population": 10, "sampled": 1},
    ]
    assert sorted(v["assignee"] for v in body["items"]) == ["li.wei", "zhao.min"]
    assert all(v["status"] == "completed" for v in body["items"])
    assert auditor.get("/api/v1/visits/audit-sample?seed=3").json == body  # reproducible
    half = auditor.get("/api/v1/visits/audit-sample?share=0.5&assignee=zhao.min").json
    assert half["groups"] == [{"assignee": "zhao.min", "population": 10, "sampled": 5}]
    # audited visits leave the population
    for visit in half["items"]:
        auditor.post(f"/api/v1/visits/{visit['id']}/audit", {"accurate": True})
    assert auditor.get("/api/v1/visits/audit-sample?assignee=zhao.min").json["population"] == 5


def test_audit_sample_period_and_policy_share(client, app, feed, customer):
    configure(feed, visits={"audit_share": 0.5})
    for i in range(4):
        completed_visit(client, customer, trigger=f"a{i}")
    completed_visit(client, customer, trigger="old", completed_at="2026-01-10T09:00:00+08:00")
    auditor = Client(app, role="auditor")
    body = auditor.get("/api/v1/visits/audit-sample").json
    assert (body["share"], body["population"], len(body["items"])) == (0.5, 5, 3)
    january = auditor.get("/api/v1/visits/audit-sample?from=2026-01-01&to=2026-01-31").json
    assert january["population"] == 1 and january["from"] == "2026-01-01"
    assert january["items"][0]["trigger"] == "old"
    recent = auditor.get(f"/api/v1/visits/audit-sample?from={TODAY.isoformat()}").json
    assert recent["population"] == 4


@pytest.mark.parametrize(
    "query", ["share=0", "share=1.5", "from=2026-02-01&to=2026-01-01", "seed=-1", "colour=red"]
)
def test_audit_sample_bad_queries(app, query):
    assert (
        Client(app, role="auditor").get(f"/api/v1/visits/audit-sample?{query}").status_code == 422
    )


def test_audit_sample_is_for_supervisors(app):
    for role, status in (("agent", 403), ("viewer", 403), ("manager", 200), ("admin", 200)):
        response = Client(app, role=role).get("/api/v1/visits/audit-sample")
        assert response.status_code == status


def test_department_keys_may_not_use_visits(app, client, customer):
    visit = plan(client, customer)
    dept = Client(app, role="department", department="sales")
    assert dept.get("/api/v1/visits").status_code == 403
    assert dept.get(f"/api/v1/visits/{visit['id']}").status_code == 403
    assert dept.post(f"/api/v1/visits/{visit['id']}/complete", RECORD).status_code == 403


def test_a_concurrent_duplicate_is_already_planned_not_an_error(
    client, runtime, customer, monkeypatch
):
    """Two plans racing past the pre-check: the partial unique index decides, quietly."""
    from visit_service import service

    plan(client, customer, trigger="race")
    real, calls = service.open_visit, []

    def blind_first_look(*args):  # the pre-check misses the other plan; the re-check sees it
        calls.append(args)
        return None if len(calls) % 2 else real(*args)

    monkeypatch.setattr(service, "open_visit", blind_first_look)
    body = {"customer_id": customer, "reason": "post_project", "trigger": "race"}
    response = client.post("/api/v1/visits", body)
    assert response.status_code == 409
    assert len(events_of(runtime, "VisitScheduled")) == 1
    # the same race inside an event handler plans nothing and fails nothing
    with runtime.db.transaction() as session:
        ctx = service.tenant_context(session, "tenant-a")
        info = service.CustomerInfo(customer, "east", "li.wei")
        caller = service.Caller(tenant_id="tenant-a")
        visit = service.plan_visit(
            session, runtime.outbox, caller, ctx, info, reason="post_project", due=date(2027, 1, 4),
            trigger="race",
        )  # fmt: skip
        assert visit is None
    assert len(events_of(runtime, "VisitScheduled")) == 1
