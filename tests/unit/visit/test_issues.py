"""Issues found on visits: listing, department scoping, resolution."""

from __future__ import annotations

import pytest

from tests.support.client import Client
from tests.support.outbox import events_of
from tests.support.visits import ISSUES, plan


@pytest.fixture
def issues(client, customer):
    visit = plan(client, customer)
    body = {"satisfaction": "dissatisfied", "issues": ISSUES}
    response = client.post(f"/api/v1/visits/{visit['id']}/complete", body)
    assert response.status_code == 200
    return response.json["issues"]


def ids(client, query=""):
    response = client.get(f"/api/v1/issues?{query}")
    assert response.status_code == 200, response.json
    return [i["id"] for i in response.json["items"]]


def test_list_and_filter(client, customer, issues):
    product, sales = (i["id"] for i in issues)
    assert ids(client) == [product, sales]
    assert ids(client, "status=open") == [product, sales]
    assert ids(client, "status=resolved") == []
    assert ids(client, "department=sales") == [sales]
    assert ids(client, "department=technical") == [product]  # assisting counts
    assert ids(client, f"customer_id={customer}") == [product, sales]
    assert ids(client, "customer_id=other") == []
    assert ids(client, "category=price") == [sales]
    assert ids(client, f"visit_id={issues[0]['visit_id']}") == [product, sales]
    assert ids(client, "limit=1") == [product]
    cursor = client.get("/api/v1/issues?limit=1").json["next_cursor"]
    assert ids(client, f"limit=1&cursor={cursor}") == [sales]
    got = client.get(f"/api/v1/issues/{product}").json
    assert got["description"] == "seal leaks" and got["due_date"] == "2099-12-31"


@pytest.mark.parametrize(
    "query", ["status=closed", "department=Sales", "category=x", "limit=0", "colour=red"]
)
def test_bad_issue_queries(client, query):
    assert client.get(f"/api/v1/issues?{query}").status_code == 422


def test_resolve_once(client, runtime, issues):
    product, sales = (i["id"] for i in issues)
    response = client.post(f"/api/v1/issues/{sales}/resolve", {"resolution": "discount agreed"})
    assert response.status_code == 200
    assert response.json["status"] == "resolved"
    assert response.json["resolution"] == "discount agreed"
    assert response.json["resolved_at"]
    again = client.post(f"/api/v1/issues/{sales}/resolve", {"resolution": "again"})
    assert again.status_code == 409
    [event] = events_of(runtime, "IssueResolved")
    assert event["routing_key"] == "issue.resolved.sales"
    data = event["data"]
    assert data["source"] == "visit" and data["issue_id"] == sales
    assert data["within_deadline"] is None  # no deadline
    assert data["visit_id"] == issues[1]["visit_id"] and data["complaint_id"] is None
    assert data["category"] == "price" and data["department"] == "sales"
    client.post(f"/api/v1/issues/{product}/resolve", {"resolution": "new seal design"})
    assert events_of(runtime, "IssueResolved")[-1]["data"]["within_deadline"] is True
    assert ids(client, "status=resolved") == [product, sales]


def test_resolve_validation_and_404(client, app, issues):
    url = f"/api/v1/issues/{issues[0]['id']}/resolve"
    assert client.post(url, {}).status_code == 422
    assert client.post(url, {"resolution": ""}).status_code == 422
    assert client.post(url, {"resolution": "x" * 2001}).status_code == 422
    assert client.post(url, {"resolution": "ok", "extra": 1}).status_code == 422
    assert client.post("/api/v1/issues/nope/resolve", {"resolution": "ok"}).status_code == 404
    other = Client(app, "tenant-b")
    assert other.get(f"/api/v1/issues/{issues[0]['id']}").status_code == 404
    assert other.post(url, {"resolution": "ok"}).status_code == 404
    assert other.get("/api/v1/issues").json["items"] == []


def test_department_sees_only_issues_it_takes_part_in(app, issues):
    product, sales = (i["id"] for i in issues)
    technical = Client(app, role="department", department="technical")
    assert ids(technical) == [product]
    assert ids(technical, "department=sales") == []
    assert technical.get(f"/api/v1/issues/{product}").status_code == 200
    assert technical.get(f"/api/v1/issues/{sales}").status_code == 404
    logistics = Client(app, role="department", department="logistics")
    assert ids(logistics) == []
    assert logistics.get(f"/api/v1/issues/{product}").status_code == 404
    response = logistics.post(f"/api/v1/issues/{product}/resolve", {"resolution": "x"})
    assert response.status_code == 404


def test_only_the_lead_department_resolves(app, runtime, issues):
    product = issues[0]["id"]
    url = f"/api/v1/issues/{product}/resolve"
    assisting = Client(app, role="department", department="technical")
    assert assisting.post(url, {"resolution": "fixed"}).status_code == 403
    lead = Client(app, role="department", department="product", actor="key-prod")
    response = lead.post(url, {"resolution": "fixed"})
    assert response.status_code == 200
    assert response.json["resolved_by"] == "key-prod"
    assert events_of(runtime, "IssueResolved")[0]["routing_key"] == "issue.resolved.product"
