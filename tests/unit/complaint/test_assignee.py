"""Who handles a complaint (CONTRACT §4.3): ``assignee`` at intake, POST /assign (a ledger
step and ComplaintAssigned), ``?assignee=me|<id>`` and ``?due_within_hours=``."""

from __future__ import annotations

from datetime import datetime

import pytest

from complaint_service import assignment
from tests.support.clock import FakeClock
from tests.support.complaints import PATHS, ComplaintClient, drive, sh
from tests.support.outbox import envelopes, events_of
from tests.support.servers import drop_schemas

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.services)]


@pytest.fixture
def clock():
    return FakeClock(sh(9, 30, 16))  # a Wednesday afternoon in Shanghai


def person(app, staff: str | None, **kw) -> ComplaintClient:
    """The complaint API as a key acting as ``staff`` calls it (None: a key of nobody)."""
    client = ComplaintClient(app, actor=staff or "agent-key", role="agent", **kw)
    if staff:
        original = client.headers
        client.headers = lambda **extra: original(**{"X-Revisit-Staff": staff, **extra})
    return client


def assign(client, complaint_id, assignee):
    return client.post(f"/api/v1/complaints/{complaint_id}/assign", {"assignee": assignee})


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_an_assignee_at_intake(client, runtime):
    created = client.create(assignee="wang.fang")
    assert created["assignee"] == "wang.fang"
    got = client.get(f"/api/v1/complaints/{created['id']}").json
    assert [(e["action"], e["note"]) for e in got["ledger"]] == [
        ("receive", "received by phone"),
        ("assign", "assigned to wang.fang"),
    ]
    [raised] = envelopes(runtime, "ComplaintRaised")
    assert raised.data["assignee"] == "wang.fang"
    assert envelopes(runtime, "ComplaintAssigned") == []  # raised says it


def test_assign_writes_the_ledger_and_publishes(app, client, runtime):
    created = client.create()
    assert created["assignee"] is None
    lead = person(app, "li.ming")
    resp = assign(lead, created["id"], "wang.fang")
    assert resp.status_code == 200, resp.json
    assert resp.json["assignee"] == "wang.fang"
    last = resp.json["ledger"][-1]
    assert (last["action"], last["by"], last["status"]) == ("assign", "li.ming", "received")
    assert last["note"] == "assigned to wang.fang"
    again = assign(lead, created["id"], "wang.fang")  # the same person: nothing changes
    assert again.status_code == 200 and len(again.json["ledger"]) == len(resp.json["ledger"])
    moved = assign(lead, created["id"], "zhao.lei")
    assert moved.json["ledger"][-1]["note"] == "assigned to zhao.lei (was wang.fang)"
    dropped = assign(lead, created["id"], None)
    assert dropped.json["assignee"] is None
    events = events_of(runtime, "ComplaintAssigned")
    assert [e["routing_key"] for e in events] == ["complaint.assigned.product"] * 3
    assert [(e["data"]["assignee"], e["data"]["previous_assignee"]) for e in events] == [
        ("wang.fang", None),
        ("zhao.lei", "wang.fang"),
        (None, "zhao.lei"),
    ]
    first = events[0]["data"]
    assert first["complaint_id"] == created["id"] and first["number"] == created["number"]
    assert datetime.fromisoformat(first["assigned_at"]) == sh(9, 30, 16)


def test_me_is_the_calling_person(app, client):
    created = client.create()
    mine = person(app, "wang.fang")
    assert assign(mine, created["id"], "me").json["assignee"] == "wang.fang"
    nobody = person(app, None)
    resp = assign(nobody, created["id"], "me")
    assert resp.status_code == 422
    assert resp.json["errors"] == {
        "assignee": ['this API key acts as no person: create it with "staff"']
    }


def test_a_closed_complaint_cannot_be_assigned(client, runtime):
    created = client.create()
    drive(client, created["id"], PATHS["closed"])
    before = len(envelopes(runtime))
    resp = assign(client, created["id"], "wang.fang")
    assert resp.status_code == 409
    assert len(envelopes(runtime)) == before


def test_a_department_assigns_only_its_own_complaints(app, client):
    created = client.create()
    other = ComplaintClient(app, role="department", department="sales")
    assert assign(other, created["id"], "wang.fang").status_code == 404
    own = ComplaintClient(app, role="department", department="product")
    assert assign(own, created["id"], "wang.fang").status_code == 200
    viewer = ComplaintClient(app, role="viewer")
    assert assign(viewer, created["id"], "wang.fang").status_code == 403


def test_list_by_assignee(app, client):
    a = client.create(assignee="wang.fang")["id"]
    client.create(assignee="zhao.lei")
    client.create()
    assert ids(client.get("/api/v1/complaints?assignee=wang.fang")) == [a]
    assert ids(person(app, "wang.fang").get("/api/v1/complaints?assignee=me")) == [a]
    assert ids(client.get("/api/v1/complaints?assignee=nobody")) == []
    no_person = client.get("/api/v1/complaints?assignee=me")
    assert no_person.status_code == 422


def test_due_within_hours(app, client, cn_tenant, clock):
    # major at 16:00 on 30 Sep: first response due 8 Oct 11:00 (after the National Day week)
    major = client.create(severity="major", assignee="wang.fang")
    general = client.create(assignee="wang.fang")
    soon = "/api/v1/complaints?assignee=wang.fang&due_within_hours=24"
    assert ids(client.get(soon)) == []
    clock.at = sh(10, 8, 10)  # an hour before the first response limit
    assert ids(client.get(soon)) == [major["id"]]
    listed = client.get(soon).json["items"][0]
    assert listed["next_limit"] == "first_response"
    assert datetime.fromisoformat(listed["next_deadline"]) == sh(10, 8, 11)
    clock.at = sh(10, 8, 12)  # missed: still due soon, more than ever
    assert ids(client.get(soon)) == [major["id"]]
    assert client.act(major["id"], "acknowledge").status_code == 200
    assert ids(client.get(soon)) == []  # the plan is due on the 9th at 18:00, 30 h away
    assert ids(client.get(soon.replace("=24", "=48"))) == [major["id"]]
    assert general["id"] not in ids(client.get(soon.replace("=24", "=48")))


def test_a_resolution_names_the_assignee(client, runtime):
    created = client.create(assignee="wang.fang")
    drive(client, created["id"], PATHS["resolved"])
    [resolved] = envelopes(runtime, "IssueResolved")
    assert resolved.data["assignee"] == "wang.fang"


# --------------------------------------------------------------------------- hostile input


@pytest.fixture(params=DATABASES)
def any_db(request, tmp_path, customers, unique_prefix):
    """The complaint service on SQLite, and on the real PostgreSQL."""
    from complaint_service.bootstrap import SPEC
    from tests.support.service import service_runtime

    settings = {}
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        request.addfinalizer(lambda: drop_schemas(url, f"{unique_prefix}_"))
        settings = {"database_url": url, "db_schema_prefix": f"{unique_prefix}_"}
    with service_runtime(SPEC, tmp_path, peers={"customer": customers}, **settings) as rt:
        yield rt


HOSTILE = [
    {"assignee": "Wang.Fang"},
    {"assignee": "x" * 65},
    {"assignee": ""},
    {"assignee": "wang\x00fang"},
    {"assignee": 7},
    {"assignee": ["wang.fang"]},
    {},
    {"assignee": "wang.fang", "extra": 1},
]


def test_hostile_assignments_are_4xx_and_write_nothing(any_db):
    client = ComplaintClient(any_db.create_app())
    created = client.create()
    before = len(envelopes(any_db))
    for body in HOSTILE:
        resp = client.post(f"/api/v1/complaints/{created['id']}/assign", body)
        assert resp.status_code == 422, (body, resp.json)
        assert resp.content_type == "application/problem+json"
    got = client.get(f"/api/v1/complaints/{created['id']}").json
    assert got["assignee"] is None and len(got["ledger"]) == 1
    assert len(envelopes(any_db)) == before
    for assignee in ("Wang", "a b", "x" * 65, "wang\x00fang"):
        resp = client.post("/api/v1/complaints", {**_COMPLAINT, "assignee": assignee})
        assert resp.status_code == 422, (assignee, resp.json)
    assert [c["id"] for c in client.get("/api/v1/complaints").json["items"]] == [created["id"]]


_COMPLAINT = {
    "customer_id": "cust-1",
    "channel": "phone",
    "severity": "general",
    "category": "product_quality",
    "department": "product",
    "description": "It broke.",
}


def test_assignment_rules():
    assignment.check_assignable("resolved")
    with pytest.raises(assignment.NotAssignable):
        assignment.check_assignable("closed")
    assert assignment.assignment_note(None, "a") == "unassigned (was a)"
