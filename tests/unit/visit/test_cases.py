"""The case library through the API: cases written up from resolved issues and from
complaints whose resolution the visit service has seen, searched (Chinese text too)."""

from __future__ import annotations

import pytest

from tests.support.client import Client
from tests.unit.visit.test_handlers import complaint_resolved as resolution_of
from tests.unit.visit.test_issue_stages import complete_with

ISSUES = [
    {"category": "product_quality", "description": "密封圈漏油", "department": "product"},
    {"category": "price", "description": "too expensive", "department": "sales"},
]


@pytest.fixture
def issues(client, customer):
    """Two open issues of one visit: product (product_quality), sales (price)."""
    response = complete_with(client, customer, *ISSUES)
    assert response.status_code == 200, response.json
    return [i["id"] for i in response.json["issues"]]


def complaint_resolved(customer_id, complaint_id, **extra):
    """A complaint's resolution as the complaint service publishes it (see test_handlers),
    of the logistics department, its category in Chinese."""
    event = resolution_of(customer_id, complaint_id)
    return {**event, "department": "logistics", "category": "交付延迟", **extra}


def resolve(client, issue_id):
    response = client.post(f"/api/v1/issues/{issue_id}/resolve", {"resolution": "fixed"})
    assert response.status_code == 200, response.json


def write_up(client, source, source_id, **extra):
    body = {
        "source": source,
        "source_id": source_id,
        "title": "a title",
        "summary": "a summary",
        **extra,
    }
    return client.post("/api/v1/cases", body)


def found(client, query=""):
    response = client.get(f"/api/v1/cases?{query}")
    assert response.status_code == 200, response.json
    return [c["id"] for c in response.json["items"]]


# --------------------------------------------------------------------------- writing up


def test_case_from_a_resolved_issue_copies_its_category_and_department(client, customer, issues):
    product = issues[0]
    resolve(client, product)
    response = write_up(
        client, "issue", product, title="密封圈漏油", summary="更换密封件", lessons="检查批次"
    )
    assert response.status_code == 201, response.json
    case = response.json
    assert (case["source"], case["source_id"]) == ("issue", product)
    assert (case["category"], case["department"]) == ("product_quality", "product")
    assert case["customer_id"] == customer and case["created_by"] == "admin-key"
    assert (case["title"], case["summary"], case["lessons"]) == (
        "密封圈漏油",
        "更换密封件",
        "检查批次",
    )
    assert client.get(f"/api/v1/cases/{case['id']}").json == case


def test_case_from_a_confirmed_issue(client, issues):
    resolve(client, issues[1])
    client.post(f"/api/v1/issues/{issues[1]}/confirm", {"satisfied": True})
    response = write_up(client, "issue", issues[1])
    assert response.status_code == 201
    assert response.json["lessons"] is None


def test_case_from_an_open_issue_is_409_and_writes_nothing(client, issues):
    response = write_up(client, "issue", issues[0])
    assert response.status_code == 409
    assert response.headers["Content-Type"].startswith("application/problem+json")
    # reopened (customer not satisfied): open again, so no case either
    resolve(client, issues[0])
    client.post(f"/api/v1/issues/{issues[0]}/confirm", {"satisfied": False})
    assert write_up(client, "issue", issues[0]).status_code == 409
    assert found(client) == []


def test_case_from_an_unknown_or_foreign_issue_is_404(app, client, issues):
    resolve(client, issues[0])
    assert write_up(client, "issue", "nope").status_code == 404
    assert write_up(Client(app, "tenant-b"), "issue", issues[0]).status_code == 404
    # a department sees only the issues it takes part in
    logistics = Client(app, role="department", department="logistics")
    assert write_up(logistics, "issue", issues[0]).status_code == 404
    assert found(client) == []


def test_case_from_a_resolved_complaint(client, feed, customer):
    assert feed("IssueResolved", complaint_resolved(customer, "cmp-1")) == "applied"
    response = write_up(client, "complaint", "cmp-1", title="延迟交货", summary="改用新物流")
    assert response.status_code == 201, response.json
    case = response.json
    assert (case["category"], case["department"]) == ("交付延迟", "logistics")
    assert case["customer_id"] == customer
    assert (case["source"], case["source_id"]) == ("complaint", "cmp-1")


def test_a_complaint_resolved_again_keeps_the_newest_facts(client, feed, customer):
    feed("IssueResolved", complaint_resolved(customer, "cmp-1"))
    later = complaint_resolved(
        customer, "cmp-1", department="product", resolved_at="2026-11-27T02:00:00+00:00"
    )
    feed("IssueResolved", later)
    older = complaint_resolved(
        customer, "cmp-1", department="sales", resolved_at="2026-11-01T02:00:00+00:00"
    )
    feed("IssueResolved", older)  # arriving late: ignored
    assert write_up(client, "complaint", "cmp-1").json["department"] == "product"


def test_complaints_this_service_has_not_seen_resolved_are_404(app, client, feed, customer):
    assert write_up(client, "complaint", "cmp-unknown").status_code == 404
    feed("IssueResolved", complaint_resolved(customer, "cmp-b"), tenant="tenant-b")
    assert write_up(client, "complaint", "cmp-b").status_code == 404
    assert write_up(Client(app, "tenant-b"), "complaint", "cmp-b").status_code == 201
    # our own issues' resolutions are not complaints
    visit_issue = complaint_resolved(customer, None, source="visit")
    feed("IssueResolved", visit_issue)
    assert write_up(client, "complaint", visit_issue["issue_id"]).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"source": "visit", "source_id": "x", "title": "t", "summary": "s"},
        {"source": "issue", "source_id": "", "title": "t", "summary": "s"},
        {"source": "issue", "source_id": "x", "title": "", "summary": "s"},
        {"source": "issue", "source_id": "x", "title": "t" * 201, "summary": "s"},
        {"source": "issue", "source_id": "x", "title": "t", "summary": "s" * 4001},
        {"source": "issue", "source_id": "x", "title": "t", "summary": "s", "lessons": "l" * 4001},
        {"source": "issue", "source_id": "x", "title": "t"},
        {"source": "issue", "source_id": "x", "title": "t", "summary": "s", "extra": 1},
    ],
)
def test_bad_cases_are_422(client, body):
    assert client.post("/api/v1/cases", body).status_code == 422


# --------------------------------------------------------------------------- searching


@pytest.fixture
def library(client, feed, customer, issues):
    """Three cases: 密封 (product), Price (sales), 物流 (logistics, from a complaint)."""
    for issue_id in issues:
        resolve(client, issue_id)
    feed("IssueResolved", complaint_resolved(customer, "cmp-1"))
    made = [
        write_up(client, "issue", issues[0], title="密封圈漏油", summary="更换新型密封件"),
        write_up(client, "issue", issues[1], title="Price objection", summary="Offered a DISCOUNT"),
        write_up(
            client,
            "complaint",
            "cmp-1",
            title="延迟交货",
            summary="物流商更换",
            lessons="提前确认密封包装与物流 100% 到位",
        ),
    ]
    assert [r.status_code for r in made] == [201, 201, 201]
    return [r.json["id"] for r in made]


def test_search_by_text_in_title_summary_or_lessons(client, library):
    seal, price, logistics = library
    assert found(client) == [seal, price, logistics]
    assert found(client, "q=密封") == [seal, logistics]  # the title of one, lessons of the other
    assert found(client, "q=更换") == [seal, logistics]  # both summaries
    assert found(client, "q=物流商") == [logistics]
    assert found(client, "q=discount") == [price]  # any case
    assert found(client, "q=PRICE OBJ") == [price]
    assert found(client, "q=100%") == [logistics]  # % is a character, not a wildcard
    assert found(client, "q=1_0") == []  # and so is _
    assert found(client, "q=售后") == []


def test_search_by_category_and_department(client, library):
    seal, price, logistics = library
    assert found(client, "category=price") == [price]
    assert found(client, "category=交付延迟") == [logistics]
    assert found(client, "department=logistics") == [logistics]
    assert found(client, "department=product&q=密封") == [seal]
    assert found(client, "department=sales&q=密封") == []


def test_search_pages(client, library):
    first = client.get("/api/v1/cases?limit=2").json
    assert [c["id"] for c in first["items"]] == library[:2]
    assert found(client, f"limit=2&cursor={first['next_cursor']}") == library[2:]


def test_cases_are_the_tenants_own(app, client, library):
    other = Client(app, "tenant-b")
    assert other.get("/api/v1/cases").json["items"] == []
    assert other.get(f"/api/v1/cases/{library[0]}").status_code == 404
    assert client.get("/api/v1/cases/nope").status_code == 404


@pytest.mark.parametrize(
    "query", ["q=", "q=" + "x" * 201, "department=Sales", "limit=0", "colour=red", "cursor=%%"]
)
def test_bad_searches_are_422(client, query):
    assert client.get(f"/api/v1/cases?{query}").status_code == 422


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cases"])
    assert "get" in paths["/api/v1/cases/{case_id}"]
