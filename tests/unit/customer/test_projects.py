"""Projects completed for a customer (CONTRACT.md §4.4), through the API."""

from __future__ import annotations

from tests.support.client import Client
from tests.support.customers import ACME
from tests.support.outbox import events_of
from tests.support.paging import every_item


def projects_of(cid: str) -> str:
    return f"/api/v1/customers/{cid}/projects"


def test_project_is_recorded_listed_and_published(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    customer = timed_client.get(f"/api/v1/customers/{cid}").json
    r = timed_client.post(
        projects_of(cid), {"name": "Line 2 upgrade", "completed_at": "2026-05-30T18:00:00+08:00"}
    )
    assert r.status_code == 201, r.json
    project = r.json
    assert set(project) == {"id", "customer_id", "name", "completed_at", "created_at"}
    assert project["customer_id"] == cid
    assert project["name"] == "Line 2 upgrade"
    assert project["completed_at"] == "2026-05-30T10:00:00+00:00"
    assert project["created_at"] == "2026-06-01T04:00:00+00:00"
    [event] = events_of(timed, "ProjectCompleted")
    assert event["subject"] == project["id"]
    assert event["routing_key"] == "customer.project_completed"
    assert event["data"] == {
        "project_id": project["id"],
        "customer_id": cid,
        "region": "east",
        "owner": "li.wei",
        "grade": customer["grade"],
        "name": "Line 2 upgrade",
        "completed_at": "2026-05-30T10:00:00+00:00",
    }
    assert timed_client.get(projects_of(cid)).json["items"] == [project]


def test_a_date_is_the_start_of_that_day_in_the_tenant_time_zone(timed_client):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    r = timed_client.post(projects_of(cid), {"name": "Audit", "completed_at": "2026-06-01"})
    assert r.status_code == 201, r.json
    assert r.json["completed_at"] == "2026-05-31T16:00:00+00:00"  # midnight in Shanghai


def test_listing_pages_and_keeps_to_the_customer(timed_client):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    other = timed_client.post("/api/v1/customers", {**ACME, "name": "Other"}).json["id"]
    names = [f"Project {i}" for i in range(5)]
    for name in names:
        body = {"name": name, "completed_at": "2026-05-01"}
        assert timed_client.post(projects_of(cid), body).status_code == 201
    timed_client.post(projects_of(other), {"name": "Not this", "completed_at": "2026-05-01"})
    assert [p["name"] for p in every_item(timed_client, projects_of(cid), 2)] == names
    assert timed_client.get(projects_of(cid) + "?limit=0").status_code == 422


def test_completion_in_the_future_is_refused_but_clock_skew_is_not(timed_client, timed, clock):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    skewed = {"name": "Skewed", "completed_at": "2026-06-01T04:04:59Z"}
    assert timed_client.post(projects_of(cid), skewed).status_code == 201
    for later in ("2026-06-01T04:05:01Z", "2026-06-02"):
        r = timed_client.post(projects_of(cid), {"name": "Later", "completed_at": later})
        assert r.status_code == 422, later
        assert r.content_type == "application/problem+json"
        assert list(r.json["errors"]) == ["completed_at"]
    assert [p["name"] for p in timed_client.get(projects_of(cid)).json["items"]] == ["Skewed"]
    assert len(events_of(timed, "ProjectCompleted")) == 1
    clock.advance(days=1)
    body = {"name": "Now done", "completed_at": "2026-06-02"}
    assert timed_client.post(projects_of(cid), body).status_code == 201


def test_invalid_bodies_are_422(timed_client):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    for body, field in (
        ({"completed_at": "2026-05-01"}, "name"),
        ({"name": "", "completed_at": "2026-05-01"}, "name"),
        ({"name": "x" * 201, "completed_at": "2026-05-01"}, "name"),
        ({"name": "x"}, "completed_at"),
        ({"name": "x", "completed_at": "yesterday"}, "completed_at"),
        ({"name": "x", "completed_at": "2026-05-01T10:00:00"}, "completed_at"),  # no offset
        ({"name": "x", "completed_at": "2026-13-01"}, "completed_at"),
        ({"name": "x", "completed_at": 20260501}, "completed_at"),
        ({"name": "x", "completed_at": "2026-05-01", "budget": 1}, "budget"),
    ):
        r = timed_client.post(projects_of(cid), body)
        assert r.status_code == 422, body
        assert field in r.json["errors"], (body, r.json)
    longest = {"name": "x" * 200, "completed_at": "2026-05-01"}
    assert timed_client.post(projects_of(cid), longest).status_code == 201


def test_unknown_or_other_tenants_customer_is_404(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    other = Client(timed.create_app(), "tenant-b")
    body = {"name": "Sneaky", "completed_at": "2026-05-01"}
    for client, customer in ((other, cid), (timed_client, "no-such-customer")):
        r = client.post(projects_of(customer), body)
        assert r.status_code == 404
        assert r.content_type == "application/problem+json"
        assert client.get(projects_of(customer)).status_code == 404
    assert events_of(timed, "ProjectCompleted") == []
    assert timed_client.get(projects_of(cid)).json["items"] == []
