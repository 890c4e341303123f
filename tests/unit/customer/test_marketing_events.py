"""Marketing events and their attendees (CONTRACT.md §4.4), through the API."""

from __future__ import annotations

from tests.support.client import Client
from tests.support.customers import ACME
from tests.support.outbox import events_of
from tests.support.paging import every_item

EVENTS = "/api/v1/marketing-events"


def register(client, count: int) -> list[str]:
    return [
        client.post("/api/v1/customers", {**ACME, "name": f"Guest {i}"}).json["id"]
        for i in range(count)
    ]


def test_event_is_recorded_read_and_published(timed_client, timed):
    guests = register(timed_client, 2)
    r = timed_client.post(
        EVENTS, {"name": "Spring expo", "held_on": "2026-05-20", "attendees": guests}
    )
    assert r.status_code == 201, r.json
    held = r.json
    assert set(held) == {"id", "name", "held_on", "attendees", "created_at"}
    assert (held["name"], held["held_on"], held["attendees"]) == (
        "Spring expo",
        "2026-05-20",
        guests,
    )
    assert held["created_at"] == "2026-06-01T04:00:00+00:00"
    assert timed_client.get(f"{EVENTS}/{held['id']}").json == held
    [event] = events_of(timed, "MarketingEventHeld")
    assert event["subject"] == held["id"]
    assert event["routing_key"] == "customer.marketing_event_held"
    assert event["data"] == {
        "marketing_event_id": held["id"],
        "name": "Spring expo",
        "held_on": "2026-05-20",
        "attendees": guests,
    }


def test_an_attendee_who_is_not_the_tenants_customer_is_404_and_nothing_is_written(
    timed_client, timed
):
    guests = register(timed_client, 2)
    other = Client(timed.create_app(), "tenant-b")
    outsider = other.post("/api/v1/customers", ACME).json["id"]
    for stranger in (outsider, "no-such-customer"):
        body = {"name": "Expo", "held_on": "2026-05-20", "attendees": [*guests, stranger]}
        r = timed_client.post(EVENTS, body)
        assert r.status_code == 404
        assert r.content_type == "application/problem+json"
        assert r.json["detail"] == f"customer {stranger} not found"
    assert timed_client.get(EVENTS).json["items"] == []
    assert events_of(timed, "MarketingEventHeld") == []
    # and the other tenant does not see this tenant's customers as attendees either
    assert (
        other.post(
            EVENTS, {"name": "x", "held_on": "2026-05-20", "attendees": guests[:1]}
        ).status_code
        == 404
    )


def test_attendees_must_be_one_to_a_thousand_distinct_ids(timed_client):
    [guest] = register(timed_client, 1)
    base = {"name": "Expo", "held_on": "2026-05-20"}
    for attendees in ([], [guest, guest], [f"c{i}" for i in range(1001)], [""], "abc", [7]):
        r = timed_client.post(EVENTS, {**base, "attendees": attendees})
        assert r.status_code == 422, attendees
        assert "attendees" in r.json["errors"]
    for body, field in (
        ({"held_on": "2026-05-20", "attendees": [guest]}, "name"),
        ({**base, "name": "x" * 201, "attendees": [guest]}, "name"),
        ({"name": "Expo", "attendees": [guest]}, "held_on"),
        ({**base, "held_on": "2026-05-20T10:00:00Z", "attendees": [guest]}, "held_on"),
        ({**base, "attendees": [guest], "venue": "hall"}, "venue"),
    ):
        r = timed_client.post(EVENTS, body)
        assert r.status_code == 422, body
        assert field in r.json["errors"]


def test_a_thousand_attendees_pass_the_schema_and_are_each_checked(timed_client):
    [guest] = register(timed_client, 1)
    many = [guest, *(f"missing-{i}" for i in range(999))]
    r = timed_client.post(EVENTS, {"name": "Expo", "held_on": "2026-05-20", "attendees": many})
    assert r.status_code == 404 and r.json["detail"] == "customer missing-0 not found"


def test_an_event_cannot_be_held_after_the_tenants_today(timed_client, clock):
    [guest] = register(timed_client, 1)
    body = {"name": "Expo", "held_on": "2026-06-02", "attendees": [guest]}
    r = timed_client.post(EVENTS, body)
    assert r.status_code == 422 and list(r.json["errors"]) == ["held_on"]
    assert timed_client.post(EVENTS, {**body, "held_on": "2026-06-01"}).status_code == 201
    clock.advance(hours=12)  # 2026-06-02 00:00 in Shanghai
    assert timed_client.post(EVENTS, body).status_code == 201


def test_listing_pages_and_reading_is_per_tenant(timed_client, timed):
    [guest] = register(timed_client, 1)
    ids = [
        timed_client.post(
            EVENTS, {"name": f"Event {i}", "held_on": "2026-05-20", "attendees": [guest]}
        ).json["id"]
        for i in range(5)
    ]
    assert [e["id"] for e in every_item(timed_client, EVENTS, 2)] == ids
    other = Client(timed.create_app(), "tenant-b")
    assert other.get(EVENTS).json["items"] == []
    r = other.get(f"{EVENTS}/{ids[0]}")
    assert r.status_code == 404 and r.json["detail"] == "marketing event not found"
    assert timed_client.get(f"{EVENTS}/nope").status_code == 404
    assert timed_client.get(f"{EVENTS}?cursor=%%%").status_code == 422


def test_routes_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert set(doc["paths"]["/api/v1/marketing-events"]) >= {"get", "post"}
    assert "get" in doc["paths"]["/api/v1/marketing-events/{event_id}"]
    assert set(doc["paths"]["/api/v1/customers/{customer_id}/projects"]) >= {"get", "post"}
