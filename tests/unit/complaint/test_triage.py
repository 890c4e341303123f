"""Triage through the API: the severity derived at intake (major category, large customer;
the given one never lowered), the department filled from the category, the coordinating
department, and what ComplaintRaised and the report upward carry. The clock is fixed."""

from __future__ import annotations

import pytest

from revisit_common import tenant_settings
from revisit_common.settings_section_api import section_path
from tests.support.client import TENANT
from tests.support.clock import FakeClock
from tests.support.complaints import COMPLAINT, sh
from tests.support.outbox import envelopes
from tests.unit.complaint.test_handlers import customer_registered

TRIAGE = {
    "major_categories": ["safety", "legal"],
    "departments_by_category": {"late_delivery": "sales", "product_quality": "product"},
}


@pytest.fixture
def clock():
    return FakeClock(sh(11, 2, 10))  # Monday 2 November 2026, 10:00 in Shanghai


@pytest.fixture
def customers(customers):
    customers.add("cust-big", "west", size_tier="large", grade="B")
    customers.add("cust-a", "west", size_tier="small", grade="A")
    customers.add("cust-small", "west", size_tier="small", grade="C")
    return customers


@pytest.fixture
def triaged(runtime, cn_tenant):
    """tenant-a names its major categories and departments by category."""
    with runtime.db.transaction() as s:
        tenant_settings.store(s, TENANT, 2, "Asia/Shanghai", {"complaints": TRIAGE})


def raise_complaint(client, **fields):
    body = {**COMPLAINT, **fields}
    return client.post("/api/v1/complaints", {k: v for k, v in body.items() if v is not None})


def severity_of(body) -> tuple[str, str, str]:
    """(severity, severity_given, severity_reason) of a complaint as the API shows it."""
    return body["severity"], body["severity_given"], body["severity_reason"]


# --------------------------------------------------------------------------- severity


def test_an_ordinary_complaint_stays_general_as_given(client, runtime, triaged):
    r = raise_complaint(client, customer_id="cust-small")
    assert r.status_code == 201, r.json
    body = r.json
    assert severity_of(body) == ("general", "general", "given")
    assert body["reported_upward_reason"] is None
    assert list(body["deadlines"]) == ["resolve_by"]
    [raised] = envelopes(runtime, "ComplaintRaised")
    assert raised.data["severity"] == "general"


def test_a_major_category_makes_it_major_with_major_limits_and_report(client, runtime, triaged):
    r = raise_complaint(client, customer_id="cust-small", category="safety")
    assert r.status_code == 201, r.json
    body = r.json
    assert severity_of(body) == ("major", "general", "category")
    assert list(body["deadlines"]) == ["first_response_by", "plan_by", "resolve_by"]
    assert body["reported_upward_reason"] == "major"
    raised, upward = envelopes(runtime)
    assert (raised.type, upward.type) == ("ComplaintRaised", "ComplaintReportedUpward")
    assert raised.data["severity"] == upward.data["severity"] == "major"
    assert raised.data["deadlines"] == body["deadlines"]


@pytest.mark.parametrize("customer_id", ["cust-big", "cust-a"])
def test_a_large_or_grade_a_customer_makes_it_major(client, runtime, triaged, customer_id):
    r = raise_complaint(client, customer_id=customer_id)
    assert r.status_code == 201, r.json
    assert (r.json["severity"], r.json["severity_reason"]) == ("major", "customer")
    assert r.json["reported_upward_reason"] == "major"
    [raised] = envelopes(runtime, "ComplaintRaised")
    assert raised.data["severity"] == "major"


def test_a_given_major_is_never_lowered(client, triaged):
    r = raise_complaint(client, customer_id="cust-small", severity="major")
    assert r.status_code == 201, r.json
    assert severity_of(r.json) == ("major", "major", "given")


def test_without_settings_no_category_is_major(client):
    r = raise_complaint(client, customer_id="cust-small", category="safety")
    assert r.status_code == 201, r.json
    assert (r.json["severity"], r.json["severity_reason"]) == ("general", "given")


def test_the_customer_copy_learns_the_size_tier_from_the_event(client, runtime, customers):
    customers.records.clear()  # only the event can tell the service of cust-9
    assert runtime.consumer.apply(customer_registered("cust-9", "north")) == "applied"
    r = raise_complaint(client, customer_id="cust-9")  # CUSTOMER is large, grade A
    assert r.status_code == 201, r.json
    assert (r.json["region"], r.json["severity"], r.json["severity_reason"]) == (
        "north",
        "major",
        "customer",
    )
    assert customers.calls == []


def test_filters_and_lists_use_the_derived_severity(client, triaged):
    cid = raise_complaint(client, customer_id="cust-big").json["id"]
    r = client.get("/api/v1/complaints?severity=major")
    assert r.status_code == 200
    assert [item["id"] for item in r.json["items"]] == [cid]
    assert r.json["items"][0]["severity_given"] == "general"


# --------------------------------------------------------------------------- department


def test_the_department_is_filled_from_the_category(client, runtime, triaged):
    r = raise_complaint(client, customer_id="cust-small", department=None, category="late_delivery")
    assert r.status_code == 201, r.json
    assert (r.json["department"], r.json["coordinator"]) == ("sales", "customer_service")
    [raised] = envelopes(runtime, "ComplaintRaised")
    assert raised.data["department"] == "sales"


def test_a_named_department_wins_over_the_mapping(client, triaged):
    r = raise_complaint(
        client, customer_id="cust-small", department="logistics", category="late_delivery"
    )
    assert r.status_code == 201, r.json
    assert r.json["department"] == "logistics"


def test_no_department_and_no_mapping_is_422_and_nothing_is_written(client, runtime, triaged):
    r = raise_complaint(client, customer_id="cust-small", department=None, category="billing")
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert r.json["detail"] == "department required"
    assert list(r.json["errors"]) == ["department"]
    assert client.get("/api/v1/complaints").json["items"] == []
    assert envelopes(runtime) == []


def test_without_settings_the_department_is_required(client):
    r = raise_complaint(client, department=None)
    assert r.status_code == 422
    assert r.json["detail"] == "department required"


def test_an_unknown_customer_is_404_before_the_department(client, triaged):
    r = raise_complaint(client, customer_id="nobody", department=None, category="billing")
    assert r.status_code == 404


def test_customer_service_handling_itself_has_no_coordinator(client, triaged):
    r = raise_complaint(client, customer_id="cust-small", department="customer_service")
    assert r.status_code == 201, r.json
    assert r.json["coordinator"] is None
    got = client.get(f"/api/v1/complaints/{r.json['id']}").json
    assert (got["coordinator"], got["severity_reason"]) == (None, "given")


# --------------------------------------------------------------------------- the settings


def test_the_settings_section_checks_the_triage_settings(client):
    path = section_path("complaints")
    ok = client.post(path, {"overrides": {}, "changes": TRIAGE})
    assert ok.status_code == 200, ok.json
    assert ok.json["effective"]["departments_by_category"] == TRIAGE["departments_by_category"]
    assert ok.json["effective"]["major_customer_size_tiers"] == ["large"]
    assert ok.json["effective"]["coordinator_department"] == "customer_service"
    for key, bad in [
        ("departments_by_category", {"late": "Sales"}),
        ("major_categories", "safety"),
        ("coordinator_department", "Customer Service"),
    ]:
        r = client.post(path, {"overrides": {}, "changes": {key: bad}})
        assert r.status_code == 422, bad
        assert list(r.json["errors"]) == [key]
