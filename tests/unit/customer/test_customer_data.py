"""A customer's basic and business data read back exactly (DOMAIN.md §1, RULES.md 1.1, 1.2):
legal representative, address, business scope, region and the purchase frequency as typed,
through POST, GET and PATCH; bad values are 422 problem+json and write nothing. The purchase
frequency counted from recorded purchases feeds the score (``purchase_count_12m``)."""

from __future__ import annotations

import pytest

from tests.support.customers import ACME
from tests.support.outbox import events_of

# Each field with the longest value it takes.
LIMITS = {
    "legal_representative": 100,
    "address": 500,
    "business_scope": 1000,
    "region": 100,
    "purchase_frequency": 50,
}
OPTIONAL = ("legal_representative", "address", "business_scope", "purchase_frequency")
DATA = {
    "legal_representative": "王建国",
    "address": "上海市浦东新区世纪大道 100 号 18F, 200120",
    "business_scope": "Industrial pumps, valves; after-sales service",
    "region": "east-china",
    "purchase_frequency": "monthly",
}
CHANGED = {
    "legal_representative": "Li Na",
    "address": "Room 5, 1 Main Road, Hangzhou",
    "business_scope": "工业泵及阀门的销售与维修",
    "region": "south",
    "purchase_frequency": "quarterly",
}


def data_of(body: dict) -> dict:
    return {key: body[key] for key in LIMITS}


def test_basic_data_round_trips_through_post_get_and_patch(client):
    r = client.post("/api/v1/customers", {**ACME, **DATA})
    assert r.status_code == 201, r.json
    assert data_of(r.json) == DATA
    path = f"/api/v1/customers/{r.json['id']}"
    assert data_of(client.get(path).json) == DATA
    # one field at a time: the others stay as they were
    r = client.patch(path, {"address": CHANGED["address"]})
    assert r.status_code == 200
    assert data_of(r.json) == {**DATA, "address": CHANGED["address"]}
    r = client.patch(path, CHANGED)
    assert r.status_code == 200
    assert data_of(r.json) == CHANGED
    assert data_of(client.get(path).json) == CHANGED
    # the optional fields may be cleared
    r = client.patch(path, dict.fromkeys(OPTIONAL))
    assert r.status_code == 200
    assert data_of(client.get(path).json) == {**dict.fromkeys(OPTIONAL), "region": "south"}


def test_a_customer_without_the_optional_data_reads_back_null(client):
    r = client.post("/api/v1/customers", ACME)
    assert r.status_code == 201
    got = client.get(f"/api/v1/customers/{r.json['id']}").json
    assert data_of(got) == {**dict.fromkeys(OPTIONAL), "region": "east"}


def test_values_of_the_longest_length_are_kept_whole(client):
    longest = {key: "字" * size for key, size in LIMITS.items()}
    r = client.post("/api/v1/customers", {**ACME, **longest})
    assert r.status_code == 201, r.json
    path = f"/api/v1/customers/{r.json['id']}"
    assert data_of(client.get(path).json) == longest
    longest_too = {key: "x" * size for key, size in LIMITS.items()}
    assert data_of(client.patch(path, longest_too).json) == longest_too


def test_the_region_filter_finds_the_region_read_back(client):
    cid = client.post("/api/v1/customers", {**ACME, **DATA}).json["id"]
    client.post("/api/v1/customers", ACME)
    listed = client.get("/api/v1/customers?region=east-china").json["items"]
    assert [(c["id"], c["region"]) for c in listed] == [(cid, "east-china")]


def bad_values(field: str) -> list:
    values = ["x" * (LIMITS[field] + 1), 5, 1.5, True, ["a"], {"a": "b"}]
    if field == "region":
        values += ["", None]
    return values


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_bad_values_are_422_problem_json_on_create(client, runtime, field):
    for value in bad_values(field):
        r = client.post("/api/v1/customers", {**ACME, field: value})
        assert r.status_code == 422, (field, value)
        assert r.content_type == "application/problem+json"
        assert list(r.json["errors"]) == [field], value
    assert client.get("/api/v1/customers").json["items"] == []
    assert events_of(runtime) == []


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_bad_values_are_422_problem_json_on_patch_and_write_nothing(client, runtime, field):
    path = f"/api/v1/customers/{client.post('/api/v1/customers', {**ACME, **DATA}).json['id']}"
    before, published = client.get(path).json, events_of(runtime)
    for value in bad_values(field):
        r = client.patch(path, {field: value, "owner": "wang.fang"})
        assert r.status_code == 422, (field, value)
        assert r.content_type == "application/problem+json"
        assert list(r.json["errors"]) == [field], value
    assert client.get(path).json == before
    assert events_of(runtime) == published


def buy(client, cid: str, amount: int, at: str) -> None:
    body = {"amount": amount, "product": "Pump X", "purchased_at": at}
    assert client.post(f"/api/v1/customers/{cid}/purchases", body).status_code == 201


def test_the_purchase_frequency_counted_from_purchases_feeds_the_score(timed_client):
    # No purchases 12 to 24 months back: sales performance is the frequency, 12 a year = 100.
    # The same 300,000 in the last 12 months (10.5), 7 years (25), no ratings (10):
    # three purchases 0.2 * 25 = 5 -> 50.5; one purchase 0.2 * 8.33 = 1.67 -> 47.2.
    often = timed_client.post("/api/v1/customers", {**ACME, "purchase_frequency": "monthly"})
    once = timed_client.post("/api/v1/customers", {**ACME, "purchase_frequency": "yearly"})
    for at in ("2026-05-31T00:00:00Z", "2026-01-15T00:00:00Z", "2025-06-02T00:00:00Z"):
        buy(timed_client, often.json["id"], 100000, at)
    buy(timed_client, once.json["id"], 300000, "2026-05-31T00:00:00Z")
    got = [timed_client.get(f"/api/v1/customers/{r.json['id']}").json for r in (often, once)]
    assert [(c["annual_purchase_amount"], c["score"]) for c in got] == [
        ("300000.00", 50.5),
        ("300000.00", 47.2),
    ]
    # the typed label is kept beside the counted frequency, which does not overwrite it
    assert [c["purchase_frequency"] for c in got] == ["monthly", "yearly"]
