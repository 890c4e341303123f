"""GET /kpis/ranking?by=score: staff on a weighted score of completion, satisfaction and issue
resolution (weights: the tenant's settings section ``kpis``, each overridden by its query
parameter), and the ``kpis`` section's check the gateway asks for."""

from __future__ import annotations

from datetime import date

import pytest

from revisit_common.settings_section_api import section_path
from tests.support.kpi.scenario import Issue, Visit, at, event

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


def weights_set(feed, weights, version=2):
    """The tenant's settings changed to ``weights`` (TenantSettingsChanged, as the gateway
    publishes it)."""
    data = {
        "tenant_id": T,
        "timezone": "Asia/Shanghai",
        "settings": {"kpis": {"ranking_weights": weights}},
        "settings_version": version,
    }
    feed(event("TenantSettingsChanged", data, T))


def rate_weights(completion, satisfaction, resolution):
    """The weights a by=score ranking says it used, keyed by rate."""
    return {
        "visit_completion_rate": completion,
        "satisfaction_rate": satisfaction,
        "issue_resolution_rate": resolution,
    }


def ranking(client, **params):
    response = client.get("/api/v1/kpis/ranking", query_string={**JAN, **params})
    assert response.status_code == 200, response.json
    return response.json


def test_by_score_with_the_default_weights(client, fed):
    body = ranking(client, by="score")
    assert body["metric"] == "score"
    assert body["weights"] == rate_weights(0.4, 0.4, 0.2)
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


def test_weights_from_the_tenant_settings(client, feed, fed):
    weights_set(feed, {"completion": 1, "satisfaction": 0, "resolution": 0})
    body = ranking(client, by="score")
    assert body["weights"] == rate_weights(1.0, 0.0, 0.0)
    assert [(i["assignee"], i["score"]) for i in body["items"]] == [("wang", 1.0), ("li", 0.5)]


def test_query_weights_override_the_tenants_one_by_one(client, feed, fed):
    weights_set(feed, {"completion": 1, "satisfaction": 0, "resolution": 0})
    body = ranking(client, by="score", satisfaction_weight=1)
    assert body["weights"] == rate_weights(1.0, 1.0, 0.0)
    # li (0.5 + 1) / 2 = 0.75, wang (1 + 0.5) / 2 = 0.75: equal score, then satisfaction
    got = [(i["rank"], i["assignee"], i["score"]) for i in body["items"]]
    assert got == [(1, "li", pytest.approx(0.75)), (2, "wang", pytest.approx(0.75))]


def test_query_zeroing_the_tenants_weights_is_422(client, feed, fed):
    weights_set(feed, {"completion": 1, "satisfaction": 0, "resolution": 0})
    response = client.get(
        "/api/v1/kpis/ranking", query_string={**JAN, "by": "score", "completion_weight": 0}
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"completion_weight": ["the weights must not all be 0"]}
    # the same query ranking on a metric does not use the weights
    assert ranking(client, by="nps", completion_weight=0)["metric"] == "nps"


def test_the_kpis_settings_section_is_checked_here(client):
    path = section_path("kpis")
    weights = {"completion": 0.5, "satisfaction": 0.3, "resolution": 0.2}
    ok = client.post(path, {"overrides": {}, "changes": {"ranking_weights": weights}})
    assert ok.status_code == 200, ok.json
    assert ok.json == {
        "overrides": {"ranking_weights": weights},
        "effective": {"ranking_weights": weights},
    }
    defaults = client.post(path, {"overrides": {}, "changes": {}})
    assert defaults.status_code == 200
    assert defaults.json["effective"] == {
        "ranking_weights": {"completion": 0.4, "satisfaction": 0.4, "resolution": 0.2}
    }
    for bad in (
        {**weights, "completion": 2},
        {"completion": 0, "satisfaction": 0, "resolution": 0},
        {"completion": 1},
    ):
        no = client.post(path, {"overrides": {}, "changes": {"ranking_weights": bad}})
        assert no.status_code == 422, bad
        assert list(no.json["errors"]) == ["ranking_weights"]
    unknown = client.post(path, {"overrides": {}, "changes": {"weights": weights}})
    assert unknown.status_code == 422
    assert unknown.json["errors"] == {"weights": ["unknown setting"]}
