"""Major complaints through the API: reported upward at intake (ComplaintReportedUpward beside
ComplaintRaised), the ``supervisors`` setting, and the supervision group's watch list
(``GET /complaints/watch``) until closed. The clock is fixed (no dependence on today)."""

from __future__ import annotations

import pytest

from revisit_common import tenant_settings
from revisit_common.settings_section_api import section_path
from tests.support.client import TENANT
from tests.support.clock import FakeClock
from tests.support.complaints import COMPLAINT, PATHS, ComplaintClient, drive, sh
from tests.support.outbox import envelopes, routing_keys

WATCH = "/api/v1/complaints/watch"
SUPERVISORS = ["li.ming", "boss@example.com"]


@pytest.fixture
def clock():
    return FakeClock(sh(11, 2, 10))  # Monday 2 November 2026, 10:00 in Shanghai


@pytest.fixture
def supervised(runtime, cn_tenant):
    """tenant-a names its supervision group."""
    with runtime.db.transaction() as s:
        tenant_settings.store(
            s, TENANT, 2, "Asia/Shanghai", {"complaints": {"supervisors": SUPERVISORS}}
        )


def watch_ids(client, query=""):
    r = client.get(f"{WATCH}{query}")
    assert r.status_code == 200, r.json
    return [item["id"] for item in r.json["items"]]


# --------------------------------------------------------------------------- intake


def test_a_major_complaint_is_reported_upward_with_its_raised_event(client, runtime, supervised):
    r = client.post(
        "/api/v1/complaints",
        {**COMPLAINT, "severity": "major"},
        headers={"X-Request-ID": "req-9"},
    )
    assert r.status_code == 201, r.json
    body = r.json
    assert body["reported_upward_reason"] == "major"
    assert body["reported_upward_at"] == "2026-11-02T02:00:00+00:00"  # at intake, the clock's
    raised, upward = envelopes(runtime)
    assert (raised.type, upward.type) == ("ComplaintRaised", "ComplaintReportedUpward")
    assert routing_keys(runtime, "ComplaintReportedUpward") == ["complaint.reported_upward.product"]
    assert upward.subject == body["id"]
    assert upward.correlationid == raised.correlationid == "req-9"
    assert upward.data == {
        "complaint_id": body["id"],
        "number": body["number"],
        "customer_id": "cust-1",
        "severity": "major",
        "category": "product_quality",
        "department": "product",
        "departments": ["product"],
        "region": "east",
        "supervisors": SUPERVISORS,
        "reason": "major",
        "reported_at": "2026-11-02T02:00:00+00:00",
    }


def test_a_complaint_touching_several_departments_is_reported_upward(client, runtime):
    body = client.create(assisting_departments=["logistics", "product", "logistics", "sales"])
    assert body["assisting_departments"] == ["logistics", "sales"]  # lead and repeats dropped
    assert body["reported_upward_reason"] == "several_departments"
    assert (body["severity"], body["severity_given"]) == ("major", "general")  # RULES.md 3.4
    assert body["severity_reason"] == "several_departments"
    [upward] = envelopes(runtime, "ComplaintReportedUpward")
    assert upward.data["severity"] == "major"
    assert upward.data["reason"] == "several_departments"
    assert upward.data["departments"] == ["product", "logistics", "sales"]
    assert upward.data["supervisors"] == []  # none named: the event still goes out


def test_a_general_complaint_of_one_department_is_not_reported(client, runtime):
    plain = client.create()
    same = client.create(assisting_departments=["product"])
    for body in (plain, same):
        assert body["reported_upward_reason"] is None
        assert body["reported_upward_at"] is None
        assert body["assisting_departments"] == []
    assert envelopes(runtime, "ComplaintReportedUpward") == []
    assert len(envelopes(runtime, "ComplaintRaised")) == 2
    assert watch_ids(client) == []


def test_a_refused_intake_reports_nothing(client, runtime):
    r = client.post("/api/v1/complaints", {**COMPLAINT, "customer_id": "nobody"})
    assert r.status_code == 404
    assert envelopes(runtime) == []


@pytest.mark.parametrize(
    "assisting",
    [["Logistics"], ["a.b"], [""], ["x"] * 11, "logistics", [None], [7]],
)
def test_bad_assisting_departments_are_422(client, runtime, assisting):
    r = client.post("/api/v1/complaints", {**COMPLAINT, "assisting_departments": assisting})
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert "assisting_departments" in r.json["errors"]
    assert envelopes(runtime) == []


# --------------------------------------------------------------------------- the setting


def test_the_supervisors_setting_is_checked_by_the_complaint_service(client):
    path = section_path("complaints")
    ok = client.post(path, {"overrides": {}, "changes": {"supervisors": SUPERVISORS}})
    assert ok.status_code == 200, ok.json
    assert ok.json["effective"]["supervisors"] == SUPERVISORS
    assert ok.json["overrides"] == {"supervisors": SUPERVISORS}
    for bad in ("li.ming", ["x" * 201], [f"s{i}" for i in range(51)], ["a", "a"]):
        r = client.post(path, {"overrides": {}, "changes": {"supervisors": bad}})
        assert r.status_code == 422, bad
        assert "supervisors" in r.json["errors"]


# --------------------------------------------------------------------------- watch list


def test_watch_list_newest_first_with_next_deadline(client, runtime, clock):
    first = client.create(severity="major")
    clock.advance(minutes=5)
    client.create()  # general, one department: not watched
    clock.advance(minutes=5)
    second = client.create(assisting_departments=["logistics"])
    r = client.get(WATCH)
    assert r.status_code == 200
    assert r.json["next_cursor"] is None
    newest, oldest = r.json["items"]
    assert (newest["id"], oldest["id"]) == (second["id"], first["id"])
    assert oldest == {
        "id": first["id"],
        "number": first["number"],
        "customer_id": "cust-1",
        "severity": "major",
        "status": "received",
        "category": "product_quality",
        "department": "product",
        "departments": ["product"],
        "reason": "major",
        "reported_at": first["reported_upward_at"],
        "next_limit": "first_response",
        "next_deadline": first["deadlines"]["first_response_by"],
        "overdue": False,
    }
    assert newest["departments"] == ["product", "logistics"]
    assert newest["reason"] == "several_departments"
    assert (newest["next_limit"], newest["next_deadline"]) == (  # several departments: major
        "first_response",
        second["deadlines"]["first_response_by"],
    )
    acknowledged = drive(client, first["id"], ["acknowledge"])
    [item] = [i for i in client.get(WATCH).json["items"] if i["id"] == first["id"]]
    assert (item["status"], item["next_limit"]) == ("acknowledged", "plan")
    assert item["next_deadline"] == acknowledged["deadlines"]["plan_by"]


def test_watch_list_shows_overdue_at_the_callers_clock(client, clock):
    major = client.create(severity="major")
    clock.advance(days=30)
    [item] = client.get(WATCH).json["items"]
    assert item["id"] == major["id"]
    assert item["overdue"] is True
    assert item["next_limit"] == "first_response"


def test_closing_takes_it_off_the_list_and_reopening_puts_it_back(client):
    cid = client.create(severity="major")["id"]
    drive(client, cid, PATHS["resolved"])
    [item] = client.get(WATCH).json["items"]
    assert (item["status"], item["next_limit"], item["next_deadline"]) == ("resolved", None, None)
    drive(client, cid, ["close"])
    assert watch_ids(client) == []
    reopened = drive(client, cid, ["reopen"])
    [item] = client.get(WATCH).json["items"]
    assert (item["id"], item["status"], item["reason"]) == (cid, "reopened", "major")
    assert (item["next_limit"], item["next_deadline"]) == (
        "resolve",
        reopened["deadlines"]["resolve_by"],
    )


def test_watch_list_pages_newest_first(client, clock):
    ids = []
    for _ in range(5):
        ids.append(client.create(severity="major")["id"])
        clock.advance(minutes=1)
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"{WATCH}{query}").json
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    assert client.get(f"{WATCH}?limit=0").status_code == 422
    bad = client.get(f"{WATCH}?cursor=!!!")
    assert bad.status_code == 422
    assert bad.content_type == "application/problem+json"


def test_watch_list_is_per_tenant(app, client):
    client.create(severity="major")
    other = ComplaintClient(app, "tenant-b")
    assert watch_ids(other) == []
    mine = other.create(severity="major")["id"]
    assert watch_ids(other) == [mine]
    assert len(watch_ids(client)) == 1


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_watch(app, client, role):
    cid = client.create(severity="major")["id"]
    assert watch_ids(ComplaintClient(app, role=role)) == [cid]


@pytest.mark.parametrize("role", ["agent", "auditor", "viewer", "department"])
def test_other_roles_may_not_watch(app, client, role):
    client.create(severity="major")
    reader = ComplaintClient(app, role=role, department="product" if role == "department" else None)
    r = reader.get(WATCH)
    assert r.status_code == 403
    assert r.content_type == "application/problem+json"


def test_watch_is_no_complaint_id(client):
    """The fixed path wins over /complaints/{id}: 'watch' is never looked up as an id."""
    r = client.get(WATCH)
    assert r.status_code == 200
    assert set(r.json) == {"items", "next_cursor"}
    assert client.act("watch", "acknowledge").status_code == 404  # no complaint 'watch'
