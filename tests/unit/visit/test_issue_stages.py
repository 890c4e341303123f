"""Issue follow-through through the API: stages raised with an issue and completed one by
one (statuses as of the runtime's clock, in the tenant's zone), and the customer's
confirmation after resolve (confirmed, or open again)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.client import Client
from tests.support.clock import FakeClock
from tests.support.outbox import events_of
from tests.support.service import service_runtime
from tests.support.visits import plan
from visit_service.bootstrap import SPEC

# 2030-03-09 17:00 UTC is already 2030-03-10 01:00 in Shanghai (the tenant's zone)
NOW = datetime(2030, 3, 9, 17, 0, tzinfo=UTC)
STAGES = [
    {"name": "analyse the seal", "owner": "wu", "due_date": "2030-03-09"},
    {"name": "新密封件设计", "owner": "li", "due_date": "2030-03-10"},
    {"name": "verify", "due_date": "2030-03-01"},
]


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def runtime(tmp_path, customers, clock):
    with service_runtime(SPEC, tmp_path, peers={"customer": customers}, clock=clock) as rt:
        yield rt


def complete_with(client, customer, *issues):
    visit = plan(client, customer)
    body = {"satisfaction": "dissatisfied", "issues": list(issues)}
    return client.post(f"/api/v1/visits/{visit['id']}/complete", body)


def issue(**extra):
    return {"category": "product_quality", "description": "seal leaks", "department": "product"} | (
        extra
    )


@pytest.fixture
def staged(client, customer):
    response = complete_with(client, customer, issue(stages=STAGES))
    assert response.status_code == 200, response.json
    return response.json["issues"][0]


def stage_url(issue_id, n):
    return f"/api/v1/issues/{issue_id}/stages/{n}/complete"


def statuses(body):
    return [s["status"] for s in body["stages"]]


# --------------------------------------------------------------------------- raising


def test_issue_raised_with_stages_shows_each_status(client, staged):
    assert [(s["n"], s["name"], s["owner"], s["due_date"]) for s in staged["stages"]] == [
        (1, "analyse the seal", "wu", "2030-03-09"),
        (2, "新密封件设计", "li", "2030-03-10"),
        (3, "verify", None, "2030-03-01"),
    ]
    # as of 2030-03-10 in Shanghai (still the 9th in UTC)
    assert statuses(staged) == ["overdue", "pending", "overdue"]
    got = client.get(f"/api/v1/issues/{staged['id']}").json
    assert got["stages"] == staged["stages"]
    [listed] = client.get("/api/v1/issues").json["items"]
    assert listed["stages"] == staged["stages"]


def test_an_issue_without_stages_has_none(client, customer):
    response = complete_with(client, customer, issue())
    assert response.json["issues"][0]["stages"] == []


@pytest.mark.parametrize(
    "stages",
    [
        [],
        [{"name": "x", "due_date": "2030-03-01"}] * 21,
        [{"name": "x"}],
        [{"name": "x", "due_date": None}],
        [{"name": "x", "due_date": "soon"}],
        [{"name": "x", "due_date": "2030-02-30"}],
        [{"name": "", "due_date": "2030-03-01"}],
        [{"due_date": "2030-03-01"}],
        [{"name": "x", "due_date": "2030-03-01", "colour": "red"}],
        "analyse",
    ],
)
def test_bad_stages_are_refused_and_nothing_is_written(client, customer, stages):
    response = complete_with(client, customer, issue(stages=stages))
    assert response.status_code == 422
    assert client.get("/api/v1/issues").json["items"] == []


def test_twenty_stages_in_any_order_are_fine(client, customer):
    stages = [{"name": f"s{i}", "due_date": f"2030-04-{20 - i:02d}"} for i in range(20)]
    response = complete_with(client, customer, issue(stages=stages))
    assert response.status_code == 200
    assert len(response.json["issues"][0]["stages"]) == 20


# --------------------------------------------------------------------------- stages


def test_complete_stages_one_by_one(client, clock, staged):
    response = client.post(stage_url(staged["id"], 2))
    assert response.status_code == 200, response.json
    body = response.json
    assert statuses(body) == ["overdue", "done", "overdue"]
    done = body["stages"][1]
    assert done["completed_at"].startswith("2030-03-09T17:00:00")
    assert done["completed_by"] == "admin-key"
    # a day later stage 2 is still done (keeping its time); nothing else changed
    clock.advance(days=5)
    got = client.get(f"/api/v1/issues/{staged['id']}").json
    assert statuses(got) == ["overdue", "done", "overdue"]
    assert got["stages"][1]["completed_at"] == done["completed_at"]
    assert client.post(stage_url(staged["id"], 1)).json["stages"][0]["status"] == "done"
    assert got["status"] == "open"  # completing stages does not resolve the issue


def test_completing_a_stage_twice_is_409(client, staged):
    assert client.post(stage_url(staged["id"], 1)).status_code == 200
    again = client.post(stage_url(staged["id"], 1))
    assert again.status_code == 409
    assert again.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("n", [0, 4, 99])
def test_unknown_stage_is_404(client, staged, n):
    response = client.post(stage_url(staged["id"], n))
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_stage_of_an_unknown_or_foreign_issue_is_404(app, client, staged):
    assert client.post(stage_url("nope", 1)).status_code == 404
    assert Client(app, "tenant-b").post(stage_url(staged["id"], 1)).status_code == 404
    logistics = Client(app, role="department", department="logistics")
    assert logistics.post(stage_url(staged["id"], 1)).status_code == 404


def test_a_department_taking_part_completes_a_stage(app, staged):
    product = Client(app, role="department", department="product", actor="key-prod")
    response = product.post(stage_url(staged["id"], 3))
    assert response.status_code == 200
    assert response.json["stages"][2]["completed_by"] == "key-prod"


def test_stages_of_a_confirmed_issue_are_closed(client, staged):
    client.post(f"/api/v1/issues/{staged['id']}/resolve", {"resolution": "new seal"})
    client.post(f"/api/v1/issues/{staged['id']}/confirm", {"satisfied": True})
    assert client.post(stage_url(staged["id"], 1)).status_code == 409


# --------------------------------------------------------------------------- confirmation


def resolve(client, issue_id, text="new seal"):
    response = client.post(f"/api/v1/issues/{issue_id}/resolve", {"resolution": text})
    assert response.status_code == 200, response.json
    return response.json


def confirm(client, issue_id, **body):
    return client.post(f"/api/v1/issues/{issue_id}/confirm", body)


def told(client, issue_id, satisfied, note):
    """Resolve the issue, then tell the customer: the issue as the confirmation returns it."""
    resolve(client, issue_id)
    response = confirm(client, issue_id, satisfied=satisfied, note=note)
    assert response.status_code == 200, response.json
    return response.json


def test_confirm_satisfied(client, runtime, staged):
    body = told(client, staged["id"], True, "客户满意")
    assert body["status"] == "confirmed" and body["satisfied"] is True
    assert body["confirmation_note"] == "客户满意" and body["confirmed_by"] == "admin-key"
    assert body["confirmed_at"].startswith("2030-03-09T17:00:00")
    assert body["resolution"] == "new seal" and body["reopen_count"] == 0
    [event] = events_of(runtime, "IssueConfirmed")
    assert event["routing_key"] == "issue.confirmed.product"
    data = event["data"]
    assert data["issue_id"] == staged["id"] and data["satisfied"] is True
    assert (data["category"], data["department"], data["region"]) == (
        "product_quality",
        "product",
        "east",
    )
    assert data["confirmed_at"].startswith("2030-03-09T17:00:00")
    assert events_of(runtime, "IssueReopened") == []
    assert confirm(client, staged["id"], satisfied=True).status_code == 409
    assert (
        client.post(f"/api/v1/issues/{staged['id']}/resolve", {"resolution": "x"}).status_code
        == 409
    )
    ids = [i["id"] for i in client.get("/api/v1/issues?status=confirmed").json["items"]]
    assert ids == [staged["id"]]


def test_not_satisfied_reopens(client, runtime, staged):
    body = told(client, staged["id"], False, "still leaks")
    assert body["status"] == "open" and body["satisfied"] is False
    assert body["reopen_count"] == 1 and body["confirmation_note"] == "still leaks"
    assert body["resolved_at"] is None and body["resolution"] is None
    [confirmed] = events_of(runtime, "IssueConfirmed")
    [reopened] = events_of(runtime, "IssueReopened")
    assert confirmed["data"]["satisfied"] is False
    assert reopened["routing_key"] == "issue.reopened.product"
    assert reopened["data"]["issue_id"] == staged["id"]
    assert reopened["data"]["why"] == "still leaks"
    types = [e["type"] for e in events_of(runtime)]
    assert types.index("IssueConfirmed") < types.index("IssueReopened")  # in that order
    # round again: resolved, then confirmed
    assert confirm(client, staged["id"], satisfied=True).status_code == 409
    resolve(client, staged["id"], "second seal")
    final = confirm(client, staged["id"], satisfied=True).json
    assert final["status"] == "confirmed" and final["reopen_count"] == 1
    assert final["resolution"] == "second seal" and final["confirmation_note"] is None
    assert len(events_of(runtime, "IssueResolved")) == 2


def test_confirm_an_open_issue_is_409(client, runtime, staged):
    response = confirm(client, staged["id"], satisfied=True)
    assert response.status_code == 409
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert events_of(runtime, "IssueConfirmed") == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"satisfied": "maybe"},
        {"satisfied": True, "note": "x" * 2001},
        {"satisfied": True, "x": 1},
    ],
)
def test_bad_confirmations_are_422(client, staged, body):
    resolve(client, staged["id"])
    assert client.post(f"/api/v1/issues/{staged['id']}/confirm", body).status_code == 422
    assert client.get(f"/api/v1/issues/{staged['id']}").json["status"] == "resolved"


def test_confirm_unknown_foreign_or_by_a_department(app, client, staged):
    resolve(client, staged["id"])
    assert confirm(client, "nope", satisfied=True).status_code == 404
    assert confirm(Client(app, "tenant-b"), staged["id"], satisfied=True).status_code == 404
    product = Client(app, role="department", department="product")
    assert confirm(product, staged["id"], satisfied=True).status_code == 403
    agent = Client(app, role="agent", actor="wang.fang")
    response = confirm(agent, staged["id"], satisfied=True)
    assert response.status_code == 200 and response.json["confirmed_by"] == "wang.fang"


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/issues/{issue_id}/stages/{n}/complete"]
    assert "post" in paths["/api/v1/issues/{issue_id}/confirm"]
