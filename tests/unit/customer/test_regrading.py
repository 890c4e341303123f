"""The periodic re-grading job (DOMAIN.md §6), run with the runtime's (fake) clock."""

from __future__ import annotations

from datetime import timedelta

from customer_service import regrading
from customer_service.bootstrap import SPEC
from customer_service.models import Customer
from tests.support.client import Client
from tests.support.customers import ACME
from tests.support.events import settings_changed
from tests.support.outbox import events_of

from .conftest import START


def graded_at(runtime, cid: str):
    with runtime.db.transaction() as session:
        return session.get(Customer, cid).graded_at


def grades(runtime) -> list[tuple[str | None, str]]:
    return [
        (e["data"]["previous_grade"], e["data"]["grade"])
        for e in events_of(runtime, "CustomerGraded")
    ]


def test_the_job_is_a_periodic_job_of_the_service():
    assert (regrading.REGRADE_INTERVAL, regrading.regrade_sweep) in SPEC.periodic


def test_customers_are_regraded_once_their_grading_is_30_days_old(timed_client, timed, clock):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    # 1,200,000 bought yesterday: 35 + 25 + 1.7 + 10 = 71.7 -> B
    body = {"amount": 1200000, "product": "Line", "purchased_at": "2026-05-31T00:00:00Z"}
    assert timed_client.post(f"/api/v1/customers/{cid}/purchases", body).status_code == 201
    assert graded_at(timed, cid) == START
    clock.advance(days=29, hours=23)
    regrading.regrade_sweep(timed)
    assert graded_at(timed, cid) == START  # not due yet
    clock.advance(hours=1)
    regrading.regrade_sweep(timed)
    assert graded_at(timed, cid) == START + timedelta(days=30)
    assert grades(timed) == [(None, "B")]  # re-graded, the grade did not change: no event
    # a year later the purchase has left the trailing 12 months: 0 + 25 + 0 + 10 -> C
    clock.advance(days=366)
    regrading.regrade_sweep(timed)
    assert grades(timed) == [(None, "B"), ("B", "C")]
    [_, event] = events_of(timed, "CustomerGraded")
    assert event["tenantid"] == "tenant-a"
    assert event["data"]["graded_at"] == clock().isoformat()
    after = timed_client.get(f"/api/v1/customers/{cid}").json
    assert (after["grade"], after["annual_purchase_amount"], after["size_tier"]) == (
        "C",
        "0.00",
        "small",
    )


def test_the_period_is_the_tenants_setting(timed_client, timed, clock):
    assert timed.consumer.apply(settings_changed(1, {"classification": {"regrade_every_days": 7}}))
    b_tenant = settings_changed(
        1, {"classification": {"regrade_every_days": 60}}, tenant="tenant-b"
    )
    assert timed.consumer.apply(b_tenant) == "applied"
    other = Client(timed.create_app(), "tenant-b")
    mine = timed_client.post("/api/v1/customers", ACME).json["id"]
    theirs = other.post("/api/v1/customers", ACME).json["id"]
    clock.advance(days=6)
    regrading.regrade_sweep(timed)
    assert graded_at(timed, mine) == START
    clock.advance(days=1)
    regrading.regrade_sweep(timed)
    assert graded_at(timed, mine) == START + timedelta(days=7)
    assert graded_at(timed, theirs) == START
    clock.advance(days=53)
    regrading.regrade_sweep(timed)
    assert graded_at(timed, theirs) == START + timedelta(days=60)


def test_never_graded_customers_are_due_and_batches_cover_everyone(
    timed_client, timed, monkeypatch
):
    ids = [
        timed_client.post("/api/v1/customers", {**ACME, "name": f"C{i}"}).json["id"]
        for i in range(5)
    ]
    with timed.db.transaction() as session:
        for cid in ids:
            session.get(Customer, cid).graded_at = None  # as the migration leaves older rows
    monkeypatch.setattr(regrading, "BATCH", 2)
    regrading.regrade_sweep(timed)
    assert [graded_at(timed, cid) for cid in ids] == [START] * 5
    assert len(events_of(timed, "CustomerGraded")) == 5  # only their first grades


def test_regrade_due_counts_what_it_did(timed_client, timed, clock):
    for i in range(3):
        timed_client.post("/api/v1/customers", {**ACME, "name": f"C{i}"})
    clock.advance(days=30)
    with timed.db.transaction() as session:
        assert regrading.regrade_due(session, timed.outbox, clock(), limit=2) == 2
    with timed.db.transaction() as session:
        assert regrading.regrade_due(session, timed.outbox, clock(), limit=2) == 1
    with timed.db.transaction() as session:
        assert regrading.regrade_due(session, timed.outbox, clock(), limit=2) == 0


def test_the_period_setting_is_checked_by_the_settings_endpoint(client):
    path = "/internal/settings-sections/classification"
    for days in (0, 367, "30", 7.5):
        r = client.post(path, {"overrides": {}, "changes": {"regrade_every_days": days}})
        assert r.status_code == 422, days
        assert list(r.json["errors"]) == ["regrade_every_days"]
    r = client.post(path, {"overrides": {}, "changes": {"regrade_every_days": 366}})
    assert r.status_code == 200
    assert r.json["effective"]["regrade_every_days"] == 366
    r = client.post(path, {"overrides": {}, "changes": {}})
    assert r.json["effective"]["regrade_every_days"] == 30
