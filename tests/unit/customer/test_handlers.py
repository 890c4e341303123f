"""Events the customer service consumes: settings changes regrade, visits feed the score."""

from __future__ import annotations

from tests.support.customers import ACME
from tests.support.events import envelope, settings_changed
from tests.support.outbox import events_of


def settings_event(version, classification, tenant="tenant-a"):
    return settings_changed(version, {"classification": classification}, tenant=tenant)


def test_classification_follows_settings_change(client, runtime):
    cid = client.post("/api/v1/customers", {**ACME, "annual_purchase_amount": 500000}).json["id"]
    assert client.get(f"/api/v1/customers/{cid}").json["size_tier"] == "medium"
    outcome = runtime.consumer.apply(
        settings_event(1, {"large_amount_threshold": 400000, "grade_b_min": 10, "grade_a_min": 20})
    )
    assert outcome == "applied"
    after = client.get(f"/api/v1/customers/{cid}").json
    assert after["size_tier"] == "large"
    assert after["grade"] == "A"
    graded = events_of(runtime, "CustomerGraded")
    assert graded[-1]["data"]["previous_grade"] != "A"
    assert graded[-1]["correlationid"] == "corr-1"
    # new customers use the tenant's policy too
    r = client.post("/api/v1/customers", {**ACME, "annual_purchase_amount": 450000})
    assert r.json["size_tier"] == "large"


def test_older_settings_version_is_ignored(client, runtime):
    cid = client.post("/api/v1/customers", {**ACME, "annual_purchase_amount": 500000}).json["id"]
    runtime.consumer.apply(settings_event(2, {"large_amount_threshold": 400000}))
    runtime.consumer.apply(settings_event(1, {"large_amount_threshold": 9000000}))
    assert client.get(f"/api/v1/customers/{cid}").json["size_tier"] == "large"


def test_settings_for_other_tenant_do_not_apply(client, runtime):
    cid = client.post("/api/v1/customers", {**ACME, "annual_purchase_amount": 500000}).json["id"]
    runtime.consumer.apply(settings_event(1, {"large_amount_threshold": 400000}, "tenant-b"))
    assert client.get(f"/api/v1/customers/{cid}").json["size_tier"] == "medium"


def test_redelivered_event_applies_once(client, runtime):
    client.post("/api/v1/customers", ACME)
    event = settings_event(1, {"large_amount_threshold": 400000})
    assert runtime.consumer.apply(event) == "applied"
    before = len(events_of(runtime))
    assert runtime.consumer.apply(event) == "duplicate"
    assert len(events_of(runtime)) == before


def test_visit_satisfaction_moves_score(client, runtime):
    cid = client.post("/api/v1/customers", ACME).json["id"]
    before = client.get(f"/api/v1/customers/{cid}").json["score"]
    data = {"customer_id": cid, "satisfaction": "very_satisfied", "extra": "ignored"}
    for _ in range(3):
        env = envelope("VisitCompleted", data, time="2026-11-22T10:00:00+00:00")
        assert runtime.consumer.apply(env) == "applied"
    after = client.get(f"/api/v1/customers/{cid}").json["score"]
    assert after > before


def test_invalid_policy_in_event_fails_handler(client, runtime):
    client.post("/api/v1/customers", ACME)
    runtime.consumer.retries = 0
    outcome = runtime.consumer.apply(settings_event(1, {"grade_a_min": "lots"}))
    assert outcome == "failed"
