"""Large customers are visited on site (DOMAIN.md §2/§6): the customer copy keeps the size
tier of CustomerRegistered / CustomerGraded, and visits planned from events for a customer
of the ``on_site_size_tiers`` default to ``key_account_method``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from revisit_common.settings_section_api import section_path
from tests.support.visits import FRIDAY_10AM, configure
from visit_service.models import CustomerCopy


def visits(client, query=""):
    response = client.get(f"/api/v1/visits?{query}")
    assert response.status_code == 200
    return response.json["items"]


def registered(feed, size_tier, grade="B"):
    customer_id = str(uuid.uuid4())
    data = {
        "customer_id": customer_id,
        "name": "Acme",
        "type": "dealer",
        "region": "east",
        "owner": "li.wei",
        "grade": grade,
        "size_tier": size_tier,
        "cooperation_tier": "long",
        "risk_level": "low",
        "registered_at": datetime.now(UTC).isoformat(),
    }
    assert feed("CustomerRegistered", data) == "applied"
    return customer_id


def graded(customer_id, size_tier, grade="B"):
    return {
        "customer_id": customer_id,
        "region": "east",
        "owner": "li.wei",
        "grade": grade,
        "previous_grade": None,
        "score": 70.0,
        "size_tier": size_tier,
        "cooperation_tier": "long",
        "graded_at": datetime.now(UTC).isoformat(),
    }


def repair(customer_id, rid="r-1"):
    return {
        "repair_id": rid,
        "customer_id": customer_id,
        "region": "east",
        "owner": "li.wei",
        "product": "Pump X",
        "closed_at": FRIDAY_10AM,
    }


def method_of(client, customer_id, reason="repair"):
    [visit] = visits(client, f"customer_id={customer_id}&reason={reason}")
    return visit["method"]


def test_a_large_customers_visits_are_on_site(client, feed):
    large, medium = registered(feed, "large"), registered(feed, "medium")
    assert feed("RepairClosed", repair(large)) == "applied"
    assert feed("RepairClosed", repair(medium)) == "applied"
    assert method_of(client, large) == "on_site"
    assert method_of(client, medium) == "phone"


def test_the_size_tier_follows_the_grading(client, runtime, feed):
    customer = registered(feed, "medium")
    assert feed("CustomerGraded", graded(customer, "large")) == "applied"
    with runtime.db.read() as session:
        assert session.get(CustomerCopy, ("tenant-a", customer)).size_tier == "large"
    assert method_of(client, customer, "periodic") == "on_site"  # planned by the grading
    feed("RepairClosed", repair(customer))
    assert method_of(client, customer) == "on_site"


def test_a_customer_of_unknown_size_keeps_the_default_method(client, feed):
    customer = str(uuid.uuid4())  # never registered: the repair is the first word of it
    assert feed("RepairClosed", repair(customer)) == "applied"
    assert method_of(client, customer) == "phone"


def test_an_unknown_size_tier_is_not_kept(client, runtime, feed):
    customer = registered(feed, "gigantic")
    with runtime.db.read() as session:
        assert session.get(CustomerCopy, ("tenant-a", customer)).size_tier is None
    feed("RepairClosed", repair(customer))
    assert method_of(client, customer) == "phone"


def test_the_tiers_are_a_tenant_setting(client, feed):
    configure(feed, visits={"on_site_size_tiers": ["medium", "large"]})
    medium = registered(feed, "medium")
    feed("RepairClosed", repair(medium))
    assert method_of(client, medium) == "on_site"
    configure(feed, version=2, visits={"on_site_size_tiers": []})
    large = registered(feed, "large")
    feed("RepairClosed", repair(large))
    assert method_of(client, large) == "phone"


def test_a_visit_planned_by_hand_keeps_the_policy_method_for_its_reason(client, feed):
    large = registered(feed, "large")
    response = client.post("/api/v1/visits", {"customer_id": large, "reason": "care"})
    assert response.status_code == 201
    assert response.json["method"] == "phone"


def test_the_setting_is_checked_by_the_visit_service(client):
    path = section_path("visits")
    ok = client.post(path, {"overrides": {}, "changes": {"on_site_size_tiers": ["large"]}})
    assert ok.status_code == 200, ok.json
    assert ok.json["effective"]["on_site_size_tiers"] == ["large"]
    bad = client.post(path, {"overrides": {}, "changes": {"on_site_size_tiers": ["huge"]}})
    assert bad.status_code == 422
    assert "on_site_size_tiers" in bad.json["errors"]
