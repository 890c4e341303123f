"""Repairs cannot close before they opened (DOMAIN.md §6), on close or when opened closed."""

from __future__ import annotations

import sqlalchemy as sa

from customer_service.models import Repair
from tests.support.customers import ACME
from tests.support.outbox import events_of

OPENED = "2026-05-30T10:00:00Z"


def repairs_of(cid: str) -> str:
    return f"/api/v1/customers/{cid}/repairs"


def repair_count(runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Repair))


def test_closing_before_opening_is_422_and_leaves_it_open(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    body = {"product": "Pump X", "description": "leaks", "opened_at": OPENED}
    rid = timed_client.post(repairs_of(cid), body).json["id"]
    close = f"{repairs_of(cid)}/{rid}/close"
    r = timed_client.post(close, {"closed_at": "2026-05-30T09:59:59Z"})
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert list(r.json["errors"]) == ["closed_at"]
    assert events_of(timed, "RepairClosed") == []
    r = timed_client.post(close, {"closed_at": OPENED, "result": "fixed"})
    assert r.status_code == 200 and r.json["closed_at"] == "2026-05-30T10:00:00+00:00"
    assert len(events_of(timed, "RepairClosed")) == 1


def test_closing_now_a_repair_opened_later_is_422(timed_client):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    body = {"product": "Pump X", "description": "leaks", "opened_at": "2026-06-02T00:00:00Z"}
    rid = timed_client.post(repairs_of(cid), body).json["id"]
    r = timed_client.post(f"{repairs_of(cid)}/{rid}/close", {})
    assert r.status_code == 422 and list(r.json["errors"]) == ["closed_at"]


def test_a_repair_opened_closed_is_recorded_closed_and_published(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    body = {
        "product": "Pump X",
        "description": "leaks",
        "opened_at": OPENED,
        "closed_at": "2026-05-31T10:00:00Z",
        "result": "seal replaced",
    }
    r = timed_client.post(repairs_of(cid), body)
    assert r.status_code == 201, r.json
    assert (r.json["closed_at"], r.json["result"]) == ("2026-05-31T10:00:00+00:00", "seal replaced")
    [closed] = events_of(timed, "RepairClosed")
    assert closed["data"]["repair_id"] == r.json["id"]
    assert closed["data"]["closed_at"] == "2026-05-31T10:00:00+00:00"
    assert timed_client.post(f"{repairs_of(cid)}/{r.json['id']}/close", {}).status_code == 409


def test_opening_closed_before_opened_is_422_and_writes_nothing(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    for extra in (
        {"opened_at": OPENED, "closed_at": "2026-05-29T10:00:00Z"},
        {"closed_at": "2026-06-01T03:59:59Z"},  # opened now (the clock), closed before
    ):
        body = {"product": "Pump X", "description": "leaks", **extra}
        r = timed_client.post(repairs_of(cid), body)
        assert r.status_code == 422, extra
        assert list(r.json["errors"]) == ["closed_at"]
    assert repair_count(timed) == 0
    assert events_of(timed, "RepairClosed") == []
    body = {"product": "Pump X", "description": "leaks", "closed_at": "2026-06-01T04:00:00Z"}
    assert timed_client.post(repairs_of(cid), body).status_code == 201
    assert repair_count(timed) == 1
