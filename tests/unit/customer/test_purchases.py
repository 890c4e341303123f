"""Purchases: quantity, no future dates, and the annual amount they feed (DOMAIN.md §6) —
which then cannot be typed in (409)."""

from __future__ import annotations

from tests.support.client import Client
from tests.support.customers import ACME
from tests.support.outbox import events_of


def purchases_of(cid: str) -> str:
    return f"/api/v1/customers/{cid}/purchases"


def buy(client, cid: str, amount, at: str = "2026-05-31T00:00:00Z", **more):
    return client.post(
        purchases_of(cid), {"amount": amount, "product": "Pump X", "purchased_at": at, **more}
    )


def test_quantity_defaults_to_one_and_is_stored_returned_and_published(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    one = buy(timed_client, cid, 100)
    assert one.status_code == 201 and one.json["quantity"] == 1
    five = buy(timed_client, cid, 500, quantity=5)
    assert five.status_code == 201 and five.json["quantity"] == 5
    listed = timed_client.get(purchases_of(cid)).json["items"]
    assert [(p["id"], p["quantity"]) for p in listed] == [(one.json["id"], 1), (five.json["id"], 5)]
    assert [e["data"]["quantity"] for e in events_of(timed, "PurchaseRecorded")] == [1, 5]
    assert buy(timed_client, cid, 1, quantity=1_000_000).status_code == 201


def test_invalid_quantities_are_422(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    for quantity in (0, -1, 1_000_001, "2", 2.5, True, None):
        r = buy(timed_client, cid, 100, quantity=quantity)
        assert r.status_code == 422, quantity
        assert list(r.json["errors"]) == ["quantity"]
    assert events_of(timed, "PurchaseRecorded") == []


def test_a_purchase_in_the_future_is_422_and_writes_nothing(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    before = timed_client.get(f"/api/v1/customers/{cid}").json
    for later in ("2026-06-01T04:05:01Z", "2026-06-01T12:06:00+08:00", "2027-01-01T00:00:00Z"):
        r = buy(timed_client, cid, 100, at=later)
        assert r.status_code == 422, later
        assert r.content_type == "application/problem+json"
        assert r.json["errors"] == {"purchased_at": ["must not be in the future"]}
    assert timed_client.get(purchases_of(cid)).json["items"] == []
    assert timed_client.get(f"/api/v1/customers/{cid}").json == before
    assert events_of(timed, "PurchaseRecorded") == []
    # a few minutes of clock skew are allowed
    assert buy(timed_client, cid, 100, at="2026-06-01T04:05:00Z").status_code == 201


def test_purchases_of_the_last_12_months_are_the_annual_amount(timed_client, timed):
    # ACME as typed: 1,500,000 a year, 7 years -> 35 + 25 + 0 + 10 = 70 -> B
    customer = timed_client.post("/api/v1/customers", ACME).json
    cid = customer["id"]
    assert (customer["size_tier"], customer["score"], customer["grade"]) == ("large", 70.0, "B")
    # the first purchase replaces the typed amount: 200,000 -> 7 + 25 + 1.7 + 10 -> C
    assert buy(timed_client, cid, 200000).status_code == 201
    after = timed_client.get(f"/api/v1/customers/{cid}").json
    assert after["annual_purchase_amount"] == "200000.00"
    assert (after["size_tier"], after["score"], after["grade"]) == ("medium", 43.7, "C")
    # 1,100,000 in the last 12 months: 35 + 25 + 3.3 + 10 -> B again
    assert buy(timed_client, cid, 900000, at="2025-06-02T00:00:00Z").status_code == 201
    after = timed_client.get(f"/api/v1/customers/{cid}").json
    assert after["annual_purchase_amount"] == "1100000.00"
    assert (after["size_tier"], after["score"], after["grade"]) == ("large", 73.3, "B")
    graded = [e["data"] for e in events_of(timed, "CustomerGraded")]
    assert [(g["previous_grade"], g["grade"]) for g in graded] == [
        (None, "B"),
        ("B", "C"),
        ("C", "B"),
    ]
    recorded = [e["data"]["grade"] for e in events_of(timed, "PurchaseRecorded")]
    assert recorded == ["C", "B"]  # each carries the grade the purchase led to


def test_purchases_older_than_12_months_leave_an_annual_amount_of_zero(timed_client):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    assert buy(timed_client, cid, 5000000, at="2025-05-01T00:00:00Z").status_code == 201
    after = timed_client.get(f"/api/v1/customers/{cid}").json
    assert after["annual_purchase_amount"] == "0.00"
    assert (after["size_tier"], after["grade"]) == ("small", "C")


def test_a_customer_without_purchases_keeps_its_typed_amount(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    r = timed_client.patch(f"/api/v1/customers/{cid}", {"annual_purchase_amount": 150000})
    assert (r.json["annual_purchase_amount"], r.json["size_tier"]) == ("150000.00", "medium")
    # another tenant's purchases do not reach it
    other = Client(timed.create_app(), "tenant-b")
    assert buy(other, cid, 100).status_code == 404
    assert (
        timed_client.get(f"/api/v1/customers/{cid}").json["annual_purchase_amount"] == "150000.00"
    )


def test_typing_the_annual_amount_of_a_customer_with_purchases_is_409(timed_client, timed):
    cid = timed_client.post("/api/v1/customers", ACME).json["id"]
    assert buy(timed_client, cid, 200000).status_code == 201
    before = timed_client.get(f"/api/v1/customers/{cid}").json
    published = events_of(timed)
    for body in (
        {"annual_purchase_amount": 5000000},
        {"annual_purchase_amount": 200000},
        {"annual_purchase_amount": 5000000, "overdue_days": 120, "owner": "wang.fang"},
    ):
        r = timed_client.patch(f"/api/v1/customers/{cid}", body)
        assert r.status_code == 409, body
        assert r.content_type == "application/problem+json"
        assert "follows the customer's recorded purchases" in r.json["detail"]
    assert timed_client.get(f"/api/v1/customers/{cid}").json == before
    assert events_of(timed) == published
    # the other fields stay editable
    r = timed_client.patch(f"/api/v1/customers/{cid}", {"owner": "wang.fang"})
    assert (r.status_code, r.json["owner"], r.json["annual_purchase_amount"]) == (
        200,
        "wang.fang",
        "200000.00",
    )


def test_a_purchase_of_another_customer_does_not_lock_the_typed_amount(timed_client):
    buyer = timed_client.post("/api/v1/customers", ACME).json["id"]
    other = timed_client.post("/api/v1/customers", ACME).json["id"]
    assert buy(timed_client, buyer, 100).status_code == 201
    r = timed_client.patch(f"/api/v1/customers/{other}", {"annual_purchase_amount": 150000})
    assert (r.status_code, r.json["annual_purchase_amount"]) == (200, "150000.00")
