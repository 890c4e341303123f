"""CustomerRiskChanged as the API publishes it: the measures of each level (a watch plan for
medium, credit line, payment terms and guarantees for high) and the owner it reaches."""

from __future__ import annotations

from tests.support.customers import ACME
from tests.support.outbox import events_of

HIGH = ["lower_credit_line", "shorten_payment_terms", "require_guarantees"]


def risk_events(runtime) -> list[dict]:
    return [e["data"] for e in events_of(runtime, "CustomerRiskChanged")]


def test_each_level_change_carries_its_measures_and_the_owner(client, runtime):
    cid = client.post("/api/v1/customers", ACME).json["id"]
    path = f"/api/v1/customers/{cid}"
    r = client.patch(path, {"overdue_days": 30})
    assert (r.status_code, r.json["risk_level"]) == (200, "medium")
    r = client.patch(path, {"credit_rating": "poor"})
    assert (r.status_code, r.json["risk_level"]) == (200, "high")
    r = client.patch(path, {"overdue_days": 0, "credit_rating": "good"})
    assert (r.status_code, r.json["risk_level"]) == (200, "low")
    changes = [
        (e["previous_level"], e["risk_level"], e["warning"], e["measures"], e["owner"])
        for e in risk_events(runtime)
    ]
    assert changes == [
        ("low", "medium", True, ["watch_plan"], "li.wei"),
        ("medium", "high", True, HIGH, "li.wei"),
        ("high", "low", False, [], "li.wei"),
    ]


def test_a_new_customer_at_medium_risk_is_warned_with_a_watch_plan(client, runtime):
    client.post("/api/v1/customers", {**ACME, "credit_rating": "fair"})
    [change] = risk_events(runtime)
    assert (change["previous_level"], change["risk_level"]) == (None, "medium")
    assert (change["warning"], change["measures"], change["owner"]) == (
        True,
        ["watch_plan"],
        "li.wei",
    )


def test_the_warning_reaches_the_owner_of_the_moment(client, runtime):
    cid = client.post("/api/v1/customers", ACME).json["id"]
    r = client.patch(f"/api/v1/customers/{cid}", {"owner": "wang.fang", "legal_dispute": True})
    assert r.status_code == 200
    [change] = risk_events(runtime)
    assert (change["risk_level"], change["owner"]) == ("high", "wang.fang")


def test_a_customer_without_an_owner_is_warned_with_none(client, runtime):
    body = {key: value for key, value in ACME.items() if key != "owner"}
    client.post("/api/v1/customers", {**body, "legal_dispute": True})
    [change] = risk_events(runtime)
    assert (change["risk_level"], change["owner"]) == ("high", None)
