"""The complaint HTTP API, called as the gateway calls it (SQLite, no broker)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.complaints import COMPLAINT, PATHS, ComplaintClient, drive
from tests.support.outbox import envelopes, routing_keys

NUMBER = re.compile(r"^CMP-(\d{6})-(\d{5})$")
ALLOWED = {
    "received": {"acknowledge", "wait_customer"},
    "acknowledged": {"investigate", "wait_customer"},
    "investigating": {"propose", "wait_customer"},
    "solution_proposed": {"propose", "implement", "wait_customer"},
    "implementing": {"propose", "resolve", "wait_customer"},
    "resolved": {"close", "reopen"},
    "closed": {"reopen"},
    "reopened": {"investigate", "propose", "wait_customer"},
    "waiting_customer": {"resume"},
}
ACTIONS = {a for actions in ALLOWED.values() for a in actions}


def test_create_numbers_and_deadlines(client, runtime):
    body = client.create()
    assert body["status"] == "received"
    month = datetime.now(UTC).astimezone().strftime("%Y%m")
    match = NUMBER.match(body["number"])
    assert match and match.group(2) == "00001"
    assert abs(int(match.group(1)) - int(month)) in (0, 1, 89)  # Shanghai month vs local
    assert set(body["deadlines"]) == {"resolve_by"}
    assert datetime.fromisoformat(body["deadlines"]["resolve_by"]).utcoffset() is not None
    assert body["region"] == "east"  # the customer service's answer
    assert body["ledger"] == [
        {
            "at": body["received_at"],
            "action": "receive",
            "by": "admin-key",
            "department": None,
            "note": "received by phone",
            "from_status": None,
            "status": "received",
        }
    ]
    major = client.create(severity="major")
    assert set(major["deadlines"]) == {"first_response_by", "plan_by", "resolve_by"}
    assert major["number"].endswith("-00002")
    assert major["actions"] == ["acknowledge", "wait_customer"]


def test_serials_are_per_tenant(app):
    a, b = ComplaintClient(app, "tenant-a"), ComplaintClient(app, "tenant-b")
    assert [a.create()["number"][-5:] for _ in range(3)] == ["00001", "00002", "00003"]
    assert b.create()["number"][-5:] == "00001"


def test_complaint_raised_event(client, runtime):
    r = client.http.post(
        "/api/v1/complaints",
        json={**COMPLAINT, "severity": "major"},
        headers=client.headers(**{"X-Request-ID": "req-7"}),
    )
    body = r.json
    [event] = envelopes(runtime, "ComplaintRaised")
    assert routing_keys(runtime, "ComplaintRaised") == ["complaint.raised.product"]
    assert event.source == "revisit/complaint"
    assert event.subject == body["id"]
    assert event.tenantid == "tenant-a"
    assert event.correlationid == "req-7"
    assert event.data == {
        "complaint_id": body["id"],
        "number": body["number"],
        "customer_id": "cust-1",
        "channel": "phone",
        "severity": "major",
        "category": "product_quality",
        "department": "product",
        "region": "east",
        "received_at": body["received_at"],
        "deadlines": body["deadlines"],
        "assignee": None,
    }


def test_validation(client):
    for change, field in [
        ({"channel": "fax"}, "channel"),
        ({"severity": "huge"}, "severity"),
        ({"department": "Product.Quality"}, "department"),
        ({"description": ""}, "description"),
        ({"colour": "red"}, "colour"),
        ({"received_at": "2026-01-01T10:00:00"}, "received_at"),  # no offset
        ({"received_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "received_at"),
        ({"received_at": (datetime.now(UTC) - timedelta(days=91)).isoformat()}, "received_at"),
    ]:
        r = client.post("/api/v1/complaints", {**COMPLAINT, **change})
        assert r.status_code == 422, change
        assert r.content_type == "application/problem+json"
        assert field in r.json["errors"], (change, r.json)
    missing = {k: v for k, v in COMPLAINT.items() if k != "customer_id"}
    assert "customer_id" in client.post("/api/v1/complaints", missing).json["errors"]
    r = client.http.post(
        "/api/v1/complaints", data="{", content_type="application/json", headers=client.headers()
    )
    assert r.status_code == 400


def test_get_and_other_tenant(client, app):
    body = client.create()
    assert client.get(f"/api/v1/complaints/{body['id']}").json["number"] == body["number"]
    other = ComplaintClient(app, "tenant-b")
    assert other.get(f"/api/v1/complaints/{body['id']}").status_code == 404
    assert other.act(body["id"], "acknowledge").status_code == 404
    assert other.get("/api/v1/complaints").json["items"] == []
    assert client.get("/api/v1/complaints/nope").status_code == 404


def test_full_lifecycle_with_revision_pause_and_reopen(client, runtime):
    cid = client.create(severity="major")["id"]
    steps = [
        ("acknowledge", "acknowledged"),
        ("wait_customer", "waiting_customer"),
        ("resume", "acknowledged"),
        ("investigate", "investigating"),
        ("propose", "solution_proposed"),
        ("propose", "solution_proposed"),
        ("implement", "implementing"),
        ("propose", "solution_proposed"),
        ("implement", "implementing"),
        ("resolve", "resolved"),
        ("reopen", "reopened"),
        ("propose", "solution_proposed"),
        ("implement", "implementing"),
        ("resolve", "resolved"),
        ("close", "closed"),
        ("reopen", "reopened"),
        ("investigate", "investigating"),
    ]
    for action, status in steps:
        extra = {"resolution": "new pump installed"} if action == "resolve" else {}
        r = client.act(cid, action, note=f"{action} step", **extra)
        assert r.status_code == 200, (action, r.json)
        assert r.json["status"] == status
    body = client.get(f"/api/v1/complaints/{cid}").json
    ledger = body["ledger"]
    assert [e["action"] for e in ledger] == ["receive"] + [a for a, _ in steps]
    assert all(e["by"] == "admin-key" for e in ledger)
    assert ledger[1]["department"] == "product"  # booked to the handling department
    assert ledger[1]["note"] == "acknowledge step"
    assert ledger[10]["note"] == "resolution: new pump installed\nresolve step"
    assert ledger[2]["from_status"] == "acknowledged"
    assert body["round"] == 3
    assert body["resolution"] is None and body["resolved_at"] is None
    assert len(envelopes(runtime, "IssueResolved")) == 2
    assert len(envelopes(runtime, "ComplaintReopened")) == 2
    [closed] = envelopes(runtime, "ComplaintClosed")
    assert closed.data["satisfied"] is None and closed.data["visit_id"] is None
    assert routing_keys(runtime, "ComplaintClosed") == ["complaint.closed.product"]


@pytest.mark.parametrize("status", list(PATHS))
def test_every_other_action_is_409(client, status):
    cid = client.create()["id"]
    body = drive(client, cid, PATHS[status])
    assert (body or client.get(f"/api/v1/complaints/{cid}").json)["status"] == status
    for action in sorted(ACTIONS - ALLOWED[status]):
        extra = {"resolution": "done"} if action == "resolve" else {}
        r = client.act(cid, action, **extra)
        assert r.status_code == 409, (status, action, r.json)
        assert r.content_type == "application/problem+json"
    after = client.get(f"/api/v1/complaints/{cid}").json
    assert after["status"] == status
    assert set(after["actions"]) == ALLOWED[status]
    assert client.act(cid, "fly").status_code == 422


def test_resolve_needs_a_resolution(client):
    cid = client.create()["id"]
    drive(client, cid, PATHS["implementing"])
    for extra in ({}, {"resolution": ""}, {"resolution": "   "}, {"resolution": None}):
        r = client.act(cid, "resolve", **extra)
        assert r.status_code == 422, extra
        assert "resolution" in r.json["errors"]
    assert client.act(cid, "implement", resolution="x").status_code == 422
    r = client.act(cid, "resolve", resolution="replaced the pump; customer informed")
    assert r.status_code == 200
    assert r.json["resolution"] == "replaced the pump; customer informed"


def test_resolve_publishes_issue_resolved_for_the_visit_service(client, runtime):
    cid = client.create()["id"]
    body = drive(client, cid, PATHS["resolved"])
    [event] = envelopes(runtime, "IssueResolved")
    assert routing_keys(runtime, "IssueResolved") == ["issue.resolved.product"]
    assert event.data["source"] == "complaint"
    assert event.data["issue_id"] == cid and event.data["complaint_id"] == cid
    assert event.data["visit_id"] is None
    assert event.data["within_deadline"] is True
    assert event.data["resolved_at"] == body["resolved_at"]
    assert event.data["customer_id"] == "cust-1"
    assert event.data["category"] == "product_quality"


def test_late_limits_escalate_when_met(client, runtime):
    received = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    cid = client.create(severity="major", received_at=received)["id"]
    assert client.get(f"/api/v1/complaints/{cid}").json["overdue"] is True
    client.act(cid, "acknowledge")  # the sweep has not run: escalations catch up here
    limits = [e.data["limit"] for e in envelopes(runtime, "ComplaintEscalated")]
    assert limits == ["first_response", "plan", "resolve"]
    assert routing_keys(runtime, "ComplaintEscalated") == ["complaint.escalated.product"] * 3
    drive(client, cid, ["investigate", "propose", "implement", "resolve"])
    assert len(envelopes(runtime, "ComplaintEscalated")) == 3  # each limit once
    [resolved] = envelopes(runtime, "IssueResolved")
    assert resolved.data["within_deadline"] is False
    body = client.get(f"/api/v1/complaints/{cid}").json
    assert body["escalated"] == ["first_response", "plan", "resolve"]
    assert [e["action"] for e in body["ledger"]].count("escalate") == 3
    assert body["overdue"] is False  # resolved: no running limit left


def test_list_filters_overdue_and_paging(client):
    old = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    a = client.create()["id"]
    b = client.create(severity="major", department="sales", received_at=old)["id"]
    c = client.create(customer_id="cust-2", channel="email")["id"]
    drive(client, c, ["acknowledge"])

    def ids(query):
        r = client.get(f"/api/v1/complaints{query}")
        assert r.status_code == 200, r.json
        return [item["id"] for item in r.json["items"]]

    assert ids("") == [a, b, c]
    assert ids("?status=received") == [a, b]
    assert ids("?severity=major") == [b]
    assert ids("?department=sales") == [b]
    assert ids("?customer_id=cust-2") == [c]
    assert ids("?channel=email") == [c]
    assert ids("?overdue=true") == [b]
    assert ids("?overdue=false") == [a, c]
    assert ids("?overdue=true&department=product") == []
    assert "ledger" not in client.get("/api/v1/complaints").json["items"][0]
    first = client.get("/api/v1/complaints?limit=2").json
    assert [i["id"] for i in first["items"]] == [a, b]
    rest = client.get(f"/api/v1/complaints?limit=2&cursor={first['next_cursor']}").json
    assert [i["id"] for i in rest["items"]] == [c] and rest["next_cursor"] is None
    assert client.get("/api/v1/complaints?status=lost").status_code == 422
    assert client.get("/api/v1/complaints?cursor=***").status_code == 422


def test_waiting_customer_is_not_overdue(client):
    old = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    cid = client.create(received_at=old)["id"]
    body = drive(client, cid, ["wait_customer"])
    assert body["paused_from"] == "received" and body["paused_at"]
    assert body["overdue"] is False
    assert client.get("/api/v1/complaints?overdue=true").json["items"] == []
    body = drive(client, cid, ["resume"])
    assert body["status"] == "received" and body["paused_from"] is None
    assert body["paused_working_hours"] >= 0


def test_department_key_sees_and_handles_only_its_complaints(app, client):
    mine = client.create()["id"]
    theirs = client.create(department="sales")["id"]
    product = ComplaintClient(app, role="department", department="product")
    assert [i["id"] for i in product.get("/api/v1/complaints").json["items"]] == [mine]
    assert product.get("/api/v1/complaints?department=sales").json["items"] == []
    assert product.get(f"/api/v1/complaints/{theirs}").status_code == 404
    assert product.act(theirs, "acknowledge").status_code == 404
    r = product.act(mine, "acknowledge", note="called the customer")
    assert r.status_code == 200
    entry = r.json["ledger"][-1]
    assert (entry["by"], entry["department"]) == ("department-key", "product")
    assert product.act(mine, "investigate", department="sales").status_code == 422
    assert product.post("/api/v1/complaints", COMPLAINT).status_code == 403


def test_staff_may_book_a_step_to_another_department(client):
    cid = client.create()["id"]
    r = client.act(cid, "acknowledge", department="customer_service")
    assert r.json["ledger"][-1]["department"] == "customer_service"


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_readers_cannot_write(app, client, role):
    cid = client.create()["id"]
    reader = ComplaintClient(app, role=role)
    assert reader.get(f"/api/v1/complaints/{cid}").status_code == 200
    assert reader.act(cid, "acknowledge").status_code == 403
    assert reader.post("/api/v1/complaints", COMPLAINT).status_code == 403


def test_without_gateway_token_is_401(app):
    r = app.test_client().get(
        "/api/v1/complaints", headers={"X-Revisit-Tenant": "t", "X-Revisit-Role": "admin"}
    )
    assert r.status_code == 401
