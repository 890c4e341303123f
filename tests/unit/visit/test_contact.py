"""Contact before a visit is done, over the API (DOMAIN.md §6): an email visit records
whether and when the customer replied; an on-site visit is booked first (an appointment),
and one completed unbooked says so. The clock stands still (FakeClock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.client import Client
from tests.support.clock import FakeClock
from tests.support.paging import every_item
from tests.support.visits import configure, plan

NOW = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # Friday 6 March 2026, 10:00 in Shanghai


@pytest.fixture
def clock():
    return FakeClock(NOW)


def _visit(client, customer, method, trigger):
    return plan(client, customer, method=method, trigger=trigger)


def _reply(client, visit, body=None):
    return client.post(f"/api/v1/visits/{visit['id']}/reply", body or {})


def _book(client, visit, at):
    return client.post(f"/api/v1/visits/{visit['id']}/book", {"appointment_at": at})


# --------------------------------------------------------------------------- email replies


def test_a_reply_is_recorded_once_at_now_by_default(client, customer, clock):
    visit = _visit(client, customer, "email", "e1")
    assert visit["replied_at"] is None
    clock.advance(hours=2)
    response = _reply(client, visit)
    assert response.status_code == 200
    assert response.json["replied_at"] == "2026-03-06T04:00:00+00:00"
    assert client.get(f"/api/v1/visits/{visit['id']}").json["replied_at"] == (
        "2026-03-06T04:00:00+00:00"
    )
    again = _reply(client, visit, {"replied_at": "2026-03-06T09:00:00+08:00"})
    assert again.status_code == 409
    assert again.json["detail"] == "the customer's reply has been recorded already"


def test_a_reply_at_a_given_instant_not_in_the_future(client, customer):
    visit = _visit(client, customer, "email", "e1")
    ahead = _reply(client, visit, {"replied_at": "2026-03-06T10:05:01+08:00"})
    assert ahead.status_code == 422
    assert "replied_at" in ahead.json["errors"]
    drift = _reply(client, visit, {"replied_at": "2026-03-06T10:05:00+08:00"})
    assert drift.status_code == 200
    assert drift.json["replied_at"] == "2026-03-06T02:05:00+00:00"


def test_a_completed_email_visit_may_still_record_the_reply(client, customer):
    visit = _visit(client, customer, "email", "e1")
    done = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    assert done.status_code == 200
    response = _reply(client, visit, {"replied_at": "2026-03-05T15:00:00+08:00"})
    assert response.status_code == 200
    assert response.json["status"] == "completed"
    assert response.json["replied_at"] == "2026-03-05T07:00:00+00:00"


@pytest.mark.parametrize("method", ["phone", "on_site", "online_survey"])
def test_only_email_visits_reply(client, customer, method):
    visit = _visit(client, customer, method, "x")
    assert _reply(client, visit).status_code == 409


def test_no_reply_on_a_cancelled_visit(client, customer):
    visit = _visit(client, customer, "email", "e1")
    assert client.post(f"/api/v1/visits/{visit['id']}/cancel", {}).status_code == 200
    assert _reply(client, visit).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"replied_at": "2026-03-06T09:00:00"},  # no offset
        {"replied_at": "yesterday"},
        {"replied_at": "1999-12-31T23:00:00+00:00"},
        {"replied_at": None},
        {"reply": "yes"},
    ],
)
def test_bad_reply_bodies(client, customer, body):
    visit = _visit(client, customer, "email", "e1")
    assert _reply(client, visit, body).status_code == 422
    assert client.get(f"/api/v1/visits/{visit['id']}").json["replied_at"] is None


def test_reply_of_an_unknown_or_other_tenants_visit(app, client, customer):
    visit = _visit(client, customer, "email", "e1")
    assert _reply(client, {"id": "no-such-visit"}).status_code == 404
    assert _reply(Client(app, tenant="tenant-b"), visit).status_code == 404


def test_list_by_reply(client, customer):
    replied = _visit(client, customer, "email", "e1")
    waiting = _visit(client, customer, "email", "e2")
    _visit(client, customer, "phone", "p1")
    assert _reply(client, replied).status_code == 200
    yes = every_item(client, "/api/v1/visits", 2, replied="true")
    no = every_item(client, "/api/v1/visits", 2, replied="false")
    assert [v["id"] for v in yes] == [replied["id"]]
    assert [v["id"] for v in no] == [waiting["id"]]
    assert len(every_item(client, "/api/v1/visits", 2)) == 3
    assert client.get("/api/v1/visits?replied=perhaps").status_code == 422


# --------------------------------------------------------------------------- on-site bookings


def test_an_on_site_visit_is_booked_and_rebooked(client, customer):
    visit = _visit(client, customer, "on_site", "s1")
    assert (visit["appointment_at"], visit["booked"]) == (None, False)
    first = _book(client, visit, "2026-03-10T14:00:00+08:00")
    assert first.status_code == 200
    assert (first.json["appointment_at"], first.json["booked"]) == (
        "2026-03-10T06:00:00+00:00",
        True,
    )
    second = _book(client, visit, "2026-03-11T09:30:00+08:00")
    assert second.status_code == 200
    shown = client.get(f"/api/v1/visits/{visit['id']}").json
    assert (shown["appointment_at"], shown["booked"]) == ("2026-03-11T01:30:00+00:00", True)
    done = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    assert done.status_code == 200
    assert done.json["booked"] is True
    assert _book(client, visit, "2026-03-12T09:30:00+08:00").status_code == 409
    assert client.get(f"/api/v1/visits/{visit['id']}").json["appointment_at"] == (
        "2026-03-11T01:30:00+00:00"
    )


def test_an_unbooked_on_site_visit_may_still_be_completed(client, customer):
    visit = _visit(client, customer, "on_site", "s1")
    done = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    assert done.status_code == 200
    assert (done.json["status"], done.json["booked"]) == ("completed", False)


def test_a_tenant_requiring_bookings_refuses_an_unbooked_on_site_visit(client, feed, customer):
    configure(feed, visits={"on_site_booking_required": True})
    visit = _visit(client, customer, "on_site", "s1")
    phone = _visit(client, customer, "phone", "s2")
    refused = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    assert refused.status_code == 409
    assert refused.json["detail"] == "book the on-site visit first (POST /visits/{id}/book)"
    assert client.get(f"/api/v1/visits/{visit['id']}").json["status"] == "planned"
    assert _book(client, visit, "2026-03-10T14:00:00+08:00").status_code == 200
    done = client.post(f"/api/v1/visits/{visit['id']}/complete", {"satisfaction": "satisfied"})
    assert (done.status_code, done.json["booked"]) == (200, True)
    other = client.post(f"/api/v1/visits/{phone['id']}/complete", {"satisfaction": "satisfied"})
    assert other.status_code == 200  # only on-site visits are booked


@pytest.mark.parametrize("method", ["phone", "email", "online_survey"])
def test_only_on_site_visits_are_booked(client, customer, method):
    visit = _visit(client, customer, method, "x")
    response = _book(client, visit, "2026-03-10T14:00:00+08:00")
    assert response.status_code == 409
    assert response.json["detail"] == f"only on-site visits are booked; this one is {method}"


def test_a_cancelled_visit_is_not_booked(client, customer):
    visit = _visit(client, customer, "on_site", "s1")
    assert client.post(f"/api/v1/visits/{visit['id']}/cancel", {}).status_code == 200
    assert _book(client, visit, "2026-03-10T14:00:00+08:00").status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"appointment_at": None},
        {"appointment_at": "2026-03-10T14:00:00"},  # no offset
        {"appointment_at": "2101-01-01T00:00:00+00:00"},
        {"appointment_at": "2026-03-10T14:00:00+08:00", "room": "B"},
    ],
)
def test_bad_booking_bodies(client, customer, body):
    visit = _visit(client, customer, "on_site", "s1")
    assert client.post(f"/api/v1/visits/{visit['id']}/book", body).status_code == 422
    assert client.get(f"/api/v1/visits/{visit['id']}").json["booked"] is False
