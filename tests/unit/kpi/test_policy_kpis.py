"""GET /kpis: the policies' own KPIs beside the others, fed through the consumer (SQLite);
their counters in /metrics."""

from __future__ import annotations

from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kpi_service.policy_kpis import FIGURES
from tests.support.kpi.client import SCRAPE
from tests.support.kpi.scenario import Visit, event

JAN = {"from": "2026-01-01", "to": "2026-01-31"}
T = "tenant-a"


def visit(visit_id, customer, due, completed=False, satisfaction=None, reason="periodic"):
    base = {
        "visit_id": visit_id,
        "customer_id": customer,
        "reason": reason,
        "assignee": "li.wei",
        "region": "east",
        "due_date": due,
    }
    scheduled = {**base, "method": "phone", "trigger": "manual"}
    out = [event("VisitScheduled", {**scheduled, "scheduled_at": "2025-11-01T00:00:00Z"}, T)]
    if completed:
        done = {
            **base,
            "method": "phone",
            "completed_at": f"{due}T04:00:00+00:00",
            "on_time": True,
            "satisfaction": satisfaction,
            "recommend_score": None,
            "repurchase_intent": None,
            "issue_ids": [],
        }
        out.append(event("VisitCompleted", done, T))
    return out


def complaint(complaint_id, received, resolve_by, resolved=None, within=None):
    raised = {
        "complaint_id": complaint_id,
        "number": "CMP-1",
        "customer_id": "c1",
        "channel": "phone",
        "severity": "general",
        "category": "quality",
        "department": "product",
        "region": "east",
        "received_at": received,
        "deadlines": {"resolve_by": resolve_by},
    }
    out = [event("ComplaintRaised", raised, T)]
    if resolved:
        data = {
            "issue_id": complaint_id,
            "source": "complaint",
            "visit_id": None,
            "complaint_id": complaint_id,
            "customer_id": "c1",
            "department": "product",
            "category": "quality",
            "region": "east",
            "assignee": None,
            "raised_at": received,
            "resolved_at": resolved,
            "within_deadline": within,
        }
        out.append(event("IssueResolved", data, T))
    return out


def purchase(purchase_id, at, amount, quantity=None, customer="c1"):
    data = {
        "purchase_id": purchase_id,
        "customer_id": customer,
        "region": "east",
        "owner": None,
        "grade": "B",
        "amount": amount,
        "product": "pump",
        "purchased_at": at,
        "first_purchase": False,
    }
    if quantity is not None:
        data["quantity"] = quantity
    return [event("PurchaseRecorded", data, T)]


def customer(customer_id, registered):
    data = {
        "customer_id": customer_id,
        "name": "Acme",
        "type": "dealer",
        "region": "east",
        "owner": None,
        "grade": "B",
        "size_tier": "small",
        "cooperation_tier": "short",
        "risk_level": "low",
        "registered_at": registered,
    }
    return [event("CustomerRegistered", data, T)]


@pytest.fixture
def fed(feed):
    feed(
        *visit("v1", "c1", "2026-01-05", completed=True, satisfaction="satisfied"),
        *visit("v2", "c1", "2026-01-20"),
        *visit("v3", "c2", "2026-01-06", completed=True, satisfaction="neutral"),
        *visit("v4", "c3", "2026-01-07"),
        *visit("v0", "c1", "2025-12-10", completed=True, satisfaction="dissatisfied"),
        *complaint(
            "k1", "2025-12-28T02:00:00Z", "2026-01-03T02:00:00Z", "2026-01-02T02:00:00Z", True
        ),
        *complaint(
            "k2", "2026-01-08T02:00:00Z", "2026-01-10T02:00:00Z", "2026-01-11T02:00:00Z", False
        ),
        *complaint("k3", "2026-01-25T02:00:00Z", "2026-02-05T02:00:00Z"),
        *purchase("p1", "2026-01-03T02:00:00Z", "300.00", quantity=3),
        *purchase("p2", "2026-01-04T02:00:00Z", "100.00"),  # quantity absent: one unit
        *purchase("p0", "2025-12-04T02:00:00Z", "200.00", quantity=7),
        *customer("c1", "2025-06-01T02:00:00Z"),
        *customer("c2", "2025-06-01T02:00:00Z"),
        *customer("c3", "2026-01-02T02:00:00Z"),
        *customer("c4", "2026-02-02T02:00:00Z"),  # after the period: not counted
    )


def test_the_policies_kpis_with_their_counts(client, fed):
    body = client.kpis(**JAN)
    counts = body["counts"]
    assert (counts["customers_due"], counts["customers_visited"]) == (3, 2)
    assert body["customer_visit_completion_rate"] == pytest.approx(2 / 3)
    assert body["visit_completion_rate"] == 0.5  # the digest's: visits, 2 of 4
    # k1 (limit Jan 3, in time) and k2 (limit Jan 10, late); k3's limit falls in February
    assert counts["complaints_resolve_due"] == 2
    assert counts["complaints_resolved_within_limit"] == 1
    assert body["complaint_on_time_rate"] == 0.5
    assert counts["units_sold"] == 4
    assert counts["complaints"] == 2  # k2 and k3 were received in January
    assert body["complaint_incidence_per_unit"] == 0.5
    assert body["complaint_incidence_rate"] == 1.0  # the digest's: 2 / 2 purchase records
    assert counts["customers"] == 3
    assert body["customer_complaint_rate"] == pytest.approx(2 / 3)
    assert body["sales"] == {"amount": "400.00", "previous_amount": "200.00"}
    assert body["sales_growth_rate"] == 1.0
    assert (counts["previous_visits_rated"], counts["previous_visits_satisfied"]) == (1, 0)
    assert body["satisfaction_change"] == 0.5  # 1/2 satisfied now, 0/1 in December


def test_rollout_shares_against_the_tenants_targets(client, feed):
    feed(
        *visit("r1", "c1", "2026-01-05", completed=True, reason="repair"),
        *visit("r2", "c2", "2026-01-06", reason="repair"),
        *visit("r3", "c3", "2026-01-07", reason="repair"),
        *visit("n1", "c4", "2026-01-08", completed=True, reason="new_customer"),
    )
    rollout = client.kpis(**JAN)["rollout"]
    assert rollout["repair"] == {
        "customers_due": 3,
        "customers_visited": 1,
        "rate": pytest.approx(1 / 3),
        "target": 0.5,
        "met": False,
    }
    assert rollout["new_customer"]["met"] is True
    settings = {"visits": {"rollout_target_repair": 0.3, "rollout_target_new_customer": 1}}
    changed = {"tenant_id": T, "timezone": "Asia/Shanghai", "settings": settings}
    feed(event("TenantSettingsChanged", {**changed, "settings_version": 2}, T))
    rollout = client.kpis(**JAN)["rollout"]
    assert (rollout["repair"]["target"], rollout["repair"]["met"]) == (0.3, True)
    assert rollout["new_customer"] == {
        "customers_due": 1,
        "customers_visited": 1,
        "rate": 1.0,
        "target": 1.0,
        "met": True,
    }


def test_null_without_a_denominator(client, feed):
    body = client.kpis(**JAN)
    assert {name: body[name] for name in FIGURES} == dict.fromkeys(FIGURES)
    assert body["sales"] == {"amount": "0", "previous_amount": "0"}
    feed(*Visit("v9", "care", "li", "east", date(2026, 1, 9)).events(T))  # due, not done
    assert client.kpis(**JAN)["customer_visit_completion_rate"] == 0.0


def test_groups_keep_their_shape(client, fed):
    group = client.kpis(**JAN, group_by="region")["groups"][0]
    assert "customer_visit_completion_rate" not in group
    assert "customers_due" not in group["counts"]


def test_distinct_customers_among_many_facts(client, feed):
    """600 visits of 300 customers and 600 purchases: customers are counted once each
    (how fast /kpis answers is measured by make bench, scale section)."""
    events = []
    for n in range(600):
        events += visit(f"v{n}", f"c{n % 300}", f"2026-01-{1 + n % 28:02d}", completed=n % 2 == 0)
        events += purchase(f"p{n}", f"2026-01-{1 + n % 28:02d}T02:00:00Z", "10", quantity=2)
    feed(*events)
    body = client.kpis(**JAN)
    assert body["counts"]["customers_due"] == 300
    assert body["counts"]["units_sold"] == 1200


POLICY_METRICS = (
    "revisit_units_sold",
    "revisit_complaint_resolve_limits",
    "revisit_complaints_resolved_within_limit",
)


def policy_metrics(app) -> dict[str, dict[str, float]]:
    """The policies' counters: per family, the tenant's value (they have no other labels)."""
    text = app.test_client().get("/metrics", headers=SCRAPE).get_data(as_text=True)
    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name in POLICY_METRICS:
            assert family.type == "counter", family.name
            values = out.setdefault(family.name, {})
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                assert sample.labels == {"tenant": T, "region": "local"}
                values[T] = values.get(T, 0.0) + sample.value
    return out


def test_the_policies_counters_exist_at_zero_before_a_purchase_or_complaint(app, feed):
    feed(*visit("v1", "c1", "2026-01-05"))  # the tenant is known, nothing sold or complained
    found = policy_metrics(app)
    assert set(found) == set(POLICY_METRICS)
    assert all(found.values()), "a zero series of the tenant in every family"
    assert all(value == 0 for values in found.values() for value in values.values())


def test_the_policies_counters(app, client, fed):
    found = policy_metrics(app)
    assert found["revisit_units_sold"] == {T: 3 + 1 + 7}  # all time, not one period
    assert found["revisit_complaint_resolve_limits"] == {T: 3}
    within = found["revisit_complaints_resolved_within_limit"]
    assert within == {T: 1}  # k1; k2 was late, k3 is not resolved
    counts = client.kpis(**JAN)["counts"]
    assert counts["units_sold"] == 4  # the period's share of the counter


def test_units_and_limits_are_counted_once_however_often_delivered(app, feed):
    events = [*purchase("p9", "2026-01-03T02:00:00Z", "10.00", quantity=5)]
    events += complaint(
        "k9", "2026-01-02T02:00:00Z", "2026-01-09T02:00:00Z", "2026-01-03T02:00:00Z", True
    )
    feed(*events)
    feed(*events)
    found = policy_metrics(app)
    assert found["revisit_units_sold"] == {T: 5}
    assert found["revisit_complaint_resolve_limits"] == {T: 1}
    assert found["revisit_complaints_resolved_within_limit"] == {T: 1}
