"""The customer service's HTTP API, called as the gateway calls it (SQLite, no broker)."""

from __future__ import annotations

from datetime import date

from tests.support.client import Client
from tests.support.customers import ACME
from tests.support.outbox import events_of
from tests.support.paging import every_item


def test_create_derives_classification_and_publishes(client, runtime):
    r = client.post("/api/v1/customers", ACME)
    assert r.status_code == 201, r.json
    body = r.json
    assert body["size_tier"] == "large"
    assert body["cooperation_tier"] == "long"
    assert body["grade"] in {"A", "B", "C"}
    assert 0 <= body["score"] <= 100
    assert body["risk_level"] == "low"
    assert body["contacts"][0]["name"] == "Zhang San"
    assert body["contacts"][0]["decision_maker"] is True
    registered = events_of(runtime, "CustomerRegistered")
    assert len(registered) == 1
    assert registered[0]["subject"] == body["id"]
    assert registered[0]["tenantid"] == "tenant-a"
    graded = events_of(runtime, "CustomerGraded")
    assert graded[0]["data"]["grade"] == body["grade"]
    assert graded[0]["data"]["previous_grade"] is None


def test_small_new_customer_is_small_short_and_c(client):
    r = client.post(
        "/api/v1/customers",
        {**ACME, "annual_purchase_amount": 99999.99, "cooperation_start": date.today().isoformat()},
    )
    assert r.status_code == 201
    assert (r.json["size_tier"], r.json["cooperation_tier"], r.json["grade"]) == (
        "small",
        "short",
        "C",
    )


def test_request_id_becomes_correlation_id(client, runtime):
    r = client.http.post(
        "/api/v1/customers", json=ACME, headers=client.headers(**{"X-Request-ID": "req-42"})
    )
    assert r.status_code == 201
    assert r.headers["X-Request-ID"] == "req-42"
    assert {e["correlationid"] for e in events_of(runtime)} == {"req-42"}


def test_other_tenant_gets_404(client, app):
    cid = client.post("/api/v1/customers", ACME).json["id"]
    other = Client(app, "tenant-b")
    assert other.get(f"/api/v1/customers/{cid}").status_code == 404
    assert other.patch(f"/api/v1/customers/{cid}", {"name": "x"}).status_code == 404
    assert other.get("/api/v1/customers").json["items"] == []
    r = other.post(
        f"/api/v1/customers/{cid}/purchases",
        {"amount": 1, "product": "p", "purchased_at": "2026-01-01T00:00:00Z"},
    )
    assert r.status_code == 404
    assert r.content_type == "application/problem+json"


def test_without_gateway_token_is_401(app):
    http = app.test_client()
    r = http.get("/api/v1/customers", headers={"X-Revisit-Tenant": "t", "X-Revisit-Role": "admin"})
    assert r.status_code == 401
    assert r.content_type == "application/problem+json"
    bad = {"X-Revisit-Internal-Token": "wrong", "X-Revisit-Tenant": "t", "X-Revisit-Role": "admin"}
    assert http.get("/api/v1/customers", headers=bad).status_code == 401


def test_validation_errors_are_problem_json(client):
    r = client.http.post(
        "/api/v1/customers",
        data="{not json",
        content_type="application/json",
        headers=client.headers(),
    )
    assert r.status_code == 400
    assert r.content_type == "application/problem+json"
    r = client.post("/api/v1/customers", {**ACME, "type": "pirate", "colour": "red"})
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert set(r.json["errors"]) == {"type", "colour"}
    r = client.post("/api/v1/customers", {**ACME, "annual_purchase_amount": -5})
    assert r.status_code == 422 and "annual_purchase_amount" in r.json["errors"]
    r = client.post("/api/v1/customers", {**ACME, "name": "x" * 201})
    assert r.status_code == 422 and "name" in r.json["errors"]
    r = client.post("/api/v1/customers", {**ACME, "contacts": [{"title": "no name"}]})
    assert r.status_code == 422 and "contacts" in r.json["errors"]
    r = client.post("/api/v1/customers", [1, 2])
    assert r.status_code == 422


def test_oversized_body_is_413(runtime, tmp_path):
    import dataclasses

    runtime.settings = dataclasses.replace(runtime.settings, max_body_bytes=1000)
    app = runtime.create_app()
    client = Client(app, "tenant-a")
    r = client.post("/api/v1/customers", {**ACME, "business_scope": "x" * 2000})
    assert r.status_code == 413
    assert r.content_type == "application/problem+json"


def test_list_filters_and_cursor_paging(client):
    ids = []
    for i in range(7):
        body = {**ACME, "name": f"Customer {i}", "region": "east" if i % 2 else "west"}
        if i == 3:
            body["annual_purchase_amount"] = 500
        ids.append(client.post("/api/v1/customers", body).json["id"])
    assert [c["id"] for c in every_item(client, "/api/v1/customers", 3)] == ids
    east = client.get("/api/v1/customers?region=east").json["items"]
    assert [c["name"] for c in east] == ["Customer 1", "Customer 3", "Customer 5"]
    assert [c["name"] for c in client.get("/api/v1/customers?q=omer 3").json["items"]] == [
        "Customer 3"
    ]
    assert client.get("/api/v1/customers?q=100%25").json["items"] == []
    grades = {c["grade"] for c in client.get("/api/v1/customers?grade=C").json["items"]}
    assert grades <= {"C"}
    assert client.get("/api/v1/customers?limit=0").status_code == 422
    assert client.get("/api/v1/customers?limit=501").status_code == 422
    assert client.get("/api/v1/customers?cursor=%%%").status_code == 422
    assert client.get("/api/v1/customers?grade=Z").status_code == 422


def test_patch_recomputes_and_announces_grade_change(client, runtime):
    cid = client.post(
        "/api/v1/customers",
        {**ACME, "annual_purchase_amount": 1000, "cooperation_start": "2026-01-01"},
    ).json["id"]
    assert client.get(f"/api/v1/customers/{cid}").json["grade"] == "C"
    r = client.patch(
        f"/api/v1/customers/{cid}",
        {"annual_purchase_amount": 5000000, "cooperation_start": "2010-01-01"},
    )
    assert r.status_code == 200
    assert r.json["size_tier"] == "large"
    assert r.json["grade"] in {"A", "B"}
    graded = events_of(runtime, "CustomerGraded")
    assert [e["data"]["previous_grade"] for e in graded] == [None, "C"]


def test_risk_rises_with_indicators_and_warns(client, runtime):
    cid = client.post("/api/v1/customers", ACME).json["id"]
    r = client.patch(f"/api/v1/customers/{cid}", {"overdue_days": 120, "legal_dispute": True})
    assert r.json["risk_level"] == "high"
    assert "legal_dispute" in r.json["risk_reasons"]
    [change] = events_of(runtime, "CustomerRiskChanged")
    assert change["data"]["warning"] is True
    assert change["data"]["previous_level"] == "low"
    assert change["data"]["measures"] == [
        "lower_credit_line",
        "shorten_payment_terms",
        "require_guarantees",
    ]


def test_purchases_first_flag_and_listing(client, runtime):
    cid = client.post("/api/v1/customers", ACME).json["id"]
    for amount in (100, 200):
        r = client.post(
            f"/api/v1/customers/{cid}/purchases",
            {"amount": amount, "product": "Pump X", "purchased_at": "2026-11-01T10:00:00+08:00"},
        )
        assert r.status_code == 201
    recorded = events_of(runtime, "PurchaseRecorded")
    assert [e["data"]["first_purchase"] for e in recorded] == [True, False]
    assert recorded[0]["data"]["customer_id"] == cid
    listed = client.get(f"/api/v1/customers/{cid}/purchases").json["items"]
    assert [p["amount"] for p in listed] == ["100.00", "200.00"]
    r = client.post(
        f"/api/v1/customers/{cid}/purchases",
        {"amount": 1, "product": "p", "purchased_at": "2026-11-01T10:00:00"},
    )
    assert r.status_code == 422 and "purchased_at" in r.json["errors"]


def test_repairs_close_once(client, runtime):
    cid = client.post("/api/v1/customers", ACME).json["id"]
    rid = client.post(
        f"/api/v1/customers/{cid}/repairs", {"product": "Pump X", "description": "leaks"}
    ).json["id"]
    r = client.post(f"/api/v1/customers/{cid}/repairs/{rid}/close", {"result": "seal replaced"})
    assert r.status_code == 200 and r.json["closed_at"]
    assert client.post(f"/api/v1/customers/{cid}/repairs/{rid}/close", {}).status_code == 409
    assert len(events_of(runtime, "RepairClosed")) == 1
    assert client.post(f"/api/v1/customers/{cid}/repairs/nope/close", {}).status_code == 404
