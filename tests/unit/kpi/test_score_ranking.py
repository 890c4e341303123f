"""GET /kpis/ranking?by=score: staff on a weighted score of completion, satisfaction and issue
resolution (weights as query parameters; the KPI service has no settings section)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.kpi.scenario import Issue, Visit, at

JAN = {"from": "2026-01-01", "to": "2026-01-31"}
T = "tenant-a"


@pytest.fixture
def fed(feed):
    entities = [
        # li: completion 1/2, satisfaction 1/1, issues 1/1 -> 0.4*0.5 + 0.4 + 0.2 = 0.8
        Visit(
            "v1", "periodic", "li", "east", date(2026, 1, 5), "completed", satisfaction="satisfied"
        ),
        Visit("v2", "periodic", "li", "east", date(2026, 1, 6)),
        Issue(
            "i1",
            "product",
            "east",
            "li",
            at("2026-01-10T10:00:00+08:00"),
            at("2026-01-11T10:00:00+08:00"),
        ),
        # wang: completion 2/2, satisfaction 1/2, no issues -> (0.4 + 0.2) / 0.8 = 0.75
        Visit(
            "v3",
            "periodic",
            "wang",
            "west",
            date(2026, 1, 5),
            "completed",
            satisfaction="satisfied",
        ),
        Visit(
            "v4", "periodic", "wang", "west", date(2026, 1, 6), "completed", satisfaction="neutral"
        ),
    ]
    feed(*(e for entity in entities for e in entity.events(T)))


def ranking(client, **params):
    response = client.get("/api/v1/kpis/ranking", query_string={**JAN, **params})
    assert response.status_code == 200, response.json
    return response.json


def test_by_score_with_the_default_weights(client, fed):
    body = ranking(client, by="score")
    assert body["metric"] == "score"
    assert body["weights"] == {
        "visit_completion_rate": 0.4,
        "satisfaction_rate": 0.4,
        "issue_resolution_rate": 0.2,
    }
    got = [(i["rank"], i["assignee"], i["score"]) for i in body["items"]]
    assert got == [(1, "li", pytest.approx(0.8)), (2, "wang", pytest.approx(0.75))]
    assert body["items"][0]["counts"]["visits_completed"] == 1


def test_weights_from_the_query(client, fed):
    body = ranking(
        client, by="score", completion_weight=1, satisfaction_weight=0, resolution_weight=0
    )
    assert [(i["assignee"], i["score"]) for i in body["items"]] == [("wang", 1.0), ("li", 0.5)]


def test_other_by_values_rank_as_metric_does(client, fed):
    by = ranking(client, by="visit_completion_rate")
    assert [i["assignee"] for i in by["items"]] == ["wang", "li"]
    assert "weights" not in by and "score" not in by["items"][0]
    assert by == ranking(client, metric="visit_completion_rate")
    assert by == ranking(client)


@pytest.mark.parametrize(
    "params",
    [
        {"by": "height"},
        {"by": "score", "completion_weight": -0.1},
        {"by": "score", "satisfaction_weight": 2},
        {"by": "score", "completion_weight": 0, "satisfaction_weight": 0, "resolution_weight": 0},
        {"by": "score", "metric": "nps"},
    ],
)
def test_bad_score_query_is_422(client, params):
    response = client.get("/api/v1/kpis/ranking", query_string={**JAN, **params})
    assert response.status_code == 422
    assert response.json["errors"]
