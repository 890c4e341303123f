"""GET /reports/root-causes and /reports/visit-summary fed through the consumer (SQLite)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.kpi.client import KpiClient
from tests.support.kpi.scenario import Complaint, Issue, Visit, at, event

JAN = {"from": "2026-01-01", "to": "2026-01-31"}
T = "tenant-a"


def purchase(purchase_id, moment, customer, region="east"):
    data = {
        "purchase_id": purchase_id,
        "customer_id": customer,
        "region": region,
        "owner": None,
        "grade": "B",
        "amount": "10.00",
        "product": "pump",
        "purchased_at": moment,
        "first_purchase": False,
    }
    return event("PurchaseRecorded", data, T)


@pytest.fixture
def fed(feed):
    entities = [
        # complaints (category "quality" in the scenario): product x2 in Jan, x1 in Dec
        Complaint("k1", "phone", "general", "product", "east", at("2026-01-04T10:00:00+08:00")),
        Complaint("k2", "phone", "general", "product", "west", at("2026-01-05T10:00:00+08:00")),
        Complaint("k3", "email", "general", "sales", "east", at("2026-01-06T10:00:00+08:00")),
        Complaint("k4", "phone", "general", "product", "east", at("2025-12-04T10:00:00+08:00")),
        # issues (category "technical" in the scenario)
        Issue("i1", "product", "east", "li", at("2026-01-10T10:00:00+08:00")),
        Issue("i2", "product", "west", "li", at("2025-12-10T10:00:00+08:00")),
        Issue("i3", "product", "west", "li", at("2025-12-11T10:00:00+08:00")),
        Visit(
            "v1",
            "periodic",
            "li",
            "east",
            date(2026, 1, 5),
            "completed",
            satisfaction="satisfied",
            score=9,
        ),
        Visit(
            "v2",
            "periodic",
            "li",
            "west",
            date(2026, 1, 6),
            "completed",
            satisfaction="neutral",
            score=3,
        ),
        Visit("v3", "periodic", "li", "west", date(2026, 1, 7)),
    ]
    events = [e for entity in entities for e in entity.events(T)]
    events += [
        purchase("p1", "2026-01-03T02:00:00Z", "c1"),
        purchase("p2", "2026-01-09T02:00:00Z", "c1"),
        purchase("p3", "2026-01-09T02:00:00Z", "c2", "west"),
    ]
    feed(*events)


def get(client, path, **params):
    return client.get(f"/api/v1/reports/{path}", query_string=params)


def test_root_causes(client, fed):
    response = get(client, "root-causes", **JAN)
    assert response.status_code == 200
    body = response.json
    assert body["period"] == {"from": "2026-01-01", "to": "2026-01-31"}
    assert body["previous_period"] == {"from": "2025-12-01", "to": "2025-12-31"}
    assert body["complaints"] == [
        {"category": "quality", "department": "product", "count": 2, "previous": 1, "change": 1},
        {"category": "quality", "department": "sales", "count": 1, "previous": 0, "change": 1},
    ]
    assert body["issues"] == [
        {"category": "technical", "department": "product", "count": 1, "previous": 2, "change": -1}
    ]


def test_visit_summary(client, fed):
    response = get(client, "visit-summary", **JAN)
    assert response.status_code == 200
    body = response.json
    assert body["satisfaction"]["levels"]["satisfied"] == 1
    assert body["satisfaction"]["levels"]["neutral"] == 1
    assert body["satisfaction"]["rate"] == 0.5
    assert body["nps"] == {"score": 0.0, "responses": 2, "promoters": 1, "detractors": 1}
    assert body["repurchase"] == {"customers": 2, "repeat_customers": 1, "share": 0.5}
    assert body["issues"] == [{"category": "technical", "count": 1}]
    regions = {r["region"]: r for r in body["by_region"]}
    assert set(regions) == {"east", "west"}
    assert regions["east"]["nps"]["score"] == 100.0
    assert regions["west"]["repurchase"]["share"] == 0.0
    assert regions["west"]["issues"] == []
    # the same cohort as GET /kpis
    kpis = client.kpis(**JAN)
    assert body["satisfaction"]["rate"] == kpis["satisfaction_rate"]
    assert body["nps"]["score"] == kpis["nps"]


@pytest.mark.parametrize("path", ["root-causes", "visit-summary"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"from": "2026-01-01"},
        {"to": "2026-01-31"},
        {"from": "2026-02-01", "to": "2026-01-31"},
        {"from": "2025-01-01", "to": "2026-01-02"},  # 367 days
        {"from": "2026-02-30", "to": "2026-03-01"},
        {**JAN, "group_by": "region"},
    ],
)
def test_bad_period_is_422(client, path, params):
    response = get(client, path, **params)
    assert response.status_code == 422
    assert response.json["errors"]


def test_a_whole_year_is_allowed(client):
    assert (
        get(client, "root-causes", **{"from": "2024-01-01", "to": "2024-12-31"}).status_code == 200
    )


def test_other_tenants_see_nothing(app, fed):
    other = KpiClient(app, "tenant-b")
    assert get(other, "root-causes", **JAN).json["complaints"] == []
    assert get(other, "visit-summary", **JAN).json["by_region"] == []


def test_unauthenticated_is_401(app):
    assert app.test_client().get("/api/v1/reports/root-causes").status_code == 401


def test_reports_are_in_the_openapi_document(app):
    paths = KpiClient(app).get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/reports/root-causes" in paths
    assert "/api/v1/reports/visit-summary" in paths


def completed(visit_id, due, region, **said):
    base = {
        "visit_id": visit_id,
        "customer_id": "c1",
        "reason": "periodic",
        "method": "phone",
        "assignee": "li",
        "region": region,
        "due_date": due,
    }
    done = {
        **base,
        "completed_at": f"{due}T04:00:00+00:00",
        "on_time": True,
        "satisfaction": None,
        "recommend_score": None,
        "repurchase_intent": None,
        "issue_ids": [],
        **said,
    }
    return event("VisitCompleted", done, T)


def test_visit_summary_needs_and_competitors(client, feed):
    acme = {"products": ["Acme X1", "Bolt"], "strengths": "price", "weaknesses": None}
    said = [
        completed("v1", "2026-01-05", "east", needs="Faster delivery", competitor_info=acme),
        completed("v2", "2026-01-06", "west", needs=" faster  DELIVERY", competitor_info=None),
        completed("v3", "2026-01-07", "west", competitor_info={"products": ["acme x1"]}),
        completed("v4", "2026-01-08", "west"),  # an older producer: neither field
        completed("v5", "2025-12-08", "west", needs="faster delivery"),  # another period
    ]
    feed(*said)
    feed(said[0])  # redelivered: counted once
    body = get(client, "visit-summary", **JAN).json
    assert body["needs"] == [{"text": "faster delivery", "count": 2}]
    assert body["competitors"] == [{"name": "acme x1", "count": 2}, {"name": "bolt", "count": 1}]
    regions = {r["region"]: r for r in body["by_region"]}
    assert regions["east"]["needs"] == [{"text": "faster delivery", "count": 1}]
    assert regions["west"]["competitors"] == [{"name": "acme x1", "count": 1}]
    assert get(client, "visit-summary", **{"from": "2025-12-01", "to": "2025-12-31"}).json[
        "needs"
    ] == [{"text": "faster delivery", "count": 1}]


def test_visit_summary_suggestions(client, feed):
    said = [
        completed("v1", "2026-01-05", "east", service_feedback="Call before coming"),
        completed("v2", "2026-01-06", "west", service_feedback=" call  BEFORE coming"),
        completed("v3", "2026-01-07", "west", service_feedback="Bring spare parts"),
        completed("v4", "2026-01-08", "west"),  # an older producer: no service_feedback
        completed("v5", "2025-12-08", "west", service_feedback="call before coming"),
    ]
    feed(*said)
    feed(said[0])  # redelivered: counted once
    response = get(client, "visit-summary", **JAN)
    assert response.status_code == 200
    body = response.json
    assert body["suggestions"] == [
        {"text": "call before coming", "count": 2},
        {"text": "bring spare parts", "count": 1},
    ]
    regions = {r["region"]: r for r in body["by_region"]}
    assert regions["east"]["suggestions"] == [{"text": "call before coming", "count": 1}]
    assert regions["west"]["suggestions"] == [
        {"text": "bring spare parts", "count": 1},
        {"text": "call before coming", "count": 1},
    ]
    december = get(client, "visit-summary", **{"from": "2025-12-01", "to": "2025-12-31"})
    assert december.status_code == 200
    assert december.json["suggestions"] == [{"text": "call before coming", "count": 1}]
