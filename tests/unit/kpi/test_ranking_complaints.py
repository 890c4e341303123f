"""Complaint handling in the staff ranking (CONTRACT §4.3): a complaint counts for its
assignee (ComplaintRaised's, then the newest ComplaintAssigned's), in ``/kpis/ranking``
(``complaint_resolution_rate``, ``resolution_rate``, the score's resolution part) and in
``group_by=assignee``."""

from __future__ import annotations

import pytest

from kpi_service import domain
from tests.support.kpi.scenario import event

JAN = {"from": "2026-01-01", "to": "2026-01-31"}
T = "tenant-a"


def raised(complaint_id: str, assignee: str | None, day: int = 5):
    data = {
        "complaint_id": complaint_id,
        "number": f"CMP-202601-{complaint_id}",
        "customer_id": "c",
        "channel": "phone",
        "severity": "general",
        "category": "quality",
        "department": "product",
        "region": "east",
        "received_at": f"2026-01-{day:02d}T10:00:00+08:00",
        "deadlines": {"resolve_by": f"2026-01-{day + 5:02d}T18:00:00+08:00"},
        "assignee": assignee,
    }
    return event("ComplaintRaised", data, T)


def assigned(complaint_id: str, assignee: str | None, previous: str | None, at: str):
    data = {
        "complaint_id": complaint_id,
        "number": f"CMP-202601-{complaint_id}",
        "customer_id": "c",
        "severity": "general",
        "department": "product",
        "region": "east",
        "assignee": assignee,
        "previous_assignee": previous,
        "assigned_at": at,
    }
    return event("ComplaintAssigned", data, T)


def resolved(complaint_id: str, assignee: str | None, on_time: bool = True):
    data = {
        "issue_id": complaint_id,
        "source": "complaint",
        "visit_id": None,
        "complaint_id": complaint_id,
        "customer_id": "c",
        "department": "product",
        "category": "quality",
        "region": "east",
        "assignee": assignee,
        "raised_at": "2026-01-05T10:00:00+08:00",
        "resolved_at": "2026-01-08T10:00:00+08:00",
        "within_deadline": on_time,
    }
    return event("IssueResolved", data, T)


def ranking(client, **params):
    response = client.get("/api/v1/kpis/ranking", query_string={**JAN, **params})
    assert response.status_code == 200, response.json
    return {item["assignee"]: item for item in response.json["items"]}, response.json


def test_complaints_count_for_their_assignee(client, feed):
    feed(
        raised("c1", "li.wei"),
        resolved("c1", "li.wei"),
        raised("c2", None),
        assigned("c2", "li.wei", None, "2026-01-06T09:00:00+08:00"),
        raised("c3", "wang.fang"),
        raised("c4", None),  # nobody's: in no one's ranking
    )
    items, body = ranking(client, by="complaint_resolution_rate")
    assert [i["assignee"] for i in body["items"]] == ["li.wei", "wang.fang"]
    li = items["li.wei"]
    assert li["counts"]["complaints"] == 2 and li["counts"]["complaints_resolved"] == 1
    assert li["complaint_resolution_rate"] == 0.5
    assert li["complaint_timeliness_rate"] == 1.0
    assert li["resolution_rate"] == 0.5  # no issues: the complaints alone
    assert items["wang.fang"]["complaint_resolution_rate"] == 0.0


def test_a_reassignment_moves_the_complaint(client, feed):
    feed(raised("c1", "li.wei"), resolved("c1", "li.wei"))
    feed(assigned("c1", "wang.fang", "li.wei", "2026-01-07T09:00:00+08:00"))
    items, _ = ranking(client)
    assert set(items) == {"wang.fang"}
    assert items["wang.fang"]["counts"]["complaints_resolved"] == 1


def test_the_newest_assignment_wins_whatever_the_order(client, feed):
    first = assigned("c1", "li.wei", None, "2026-01-06T09:00:00+08:00")
    second = assigned("c1", "wang.fang", "li.wei", "2026-01-07T09:00:00+08:00")
    feed(second, first, raised("c1", None))  # delivered backwards
    items, _ = ranking(client)
    assert set(items) == {"wang.fang"}
    feed(assigned("c1", None, "wang.fang", "2026-01-08T09:00:00+08:00"))  # taken back
    items, _ = ranking(client)
    assert items == {}


def test_complaints_count_in_the_score(client, feed):
    feed(
        raised("c1", "li.wei"),
        resolved("c1", "li.wei"),
        raised("c2", "li.wei"),
        raised("c3", "wang.fang"),
        resolved("c3", "wang.fang"),
    )
    items, body = ranking(client, by="score")
    # no visits, no issues: the resolution part alone (li 1/2, wang 1/1)
    assert [i["assignee"] for i in body["items"]] == ["wang.fang", "li.wei"]
    assert items["li.wei"]["score"] == pytest.approx(0.5)
    assert items["wang.fang"]["score"] == pytest.approx(1.0)


def test_group_by_assignee_shows_the_complaints(client, feed):
    feed(raised("c1", "li.wei"), raised("c2", None))
    response = client.get("/api/v1/kpis", query_string={**JAN, "group_by": "assignee"})
    assert response.status_code == 200
    groups = {g["key"]: g["counts"]["complaints"] for g in response.json["groups"]}
    assert groups == {"li.wei": 1, None: 1}
    assert response.json["counts"]["complaints"] == 2


def test_resolution_rate_counts_issues_and_complaints():
    counts = {"issues_raised": 3, "issues_resolved": 1, "complaints": 1, "complaints_resolved": 1}
    assert domain.resolution_rate(counts) == 0.5
    assert domain.resolution_rate({}) is None
    # the score's resolution part is it, when present
    rates = {
        "visit_completion_rate": None,
        "satisfaction_rate": None,
        "issue_resolution_rate": 1 / 3,
    }
    weights = domain.SCORE_WEIGHTS
    assert domain.staff_score(rates, weights) == pytest.approx(1 / 3)
    assert domain.staff_score({**rates, "resolution_rate": 0.5}, weights) == pytest.approx(0.5)
