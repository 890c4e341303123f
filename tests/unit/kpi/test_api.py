"""GET /kpis and /kpis/ranking fed through the consumer (SQLite, no broker)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from kpi_service.domain import CONTRACT_COUNTS
from tests.support.kpi.client import KpiClient
from tests.support.kpi.recompute import expected, rates
from tests.support.kpi.scenario import (
    Complaint,
    Customer,
    Issue,
    Purchase,
    Truth,
    Visit,
    at,
    event,
    republished,
)

JAN = {"from": "2026-01-01", "to": "2026-01-31"}
FEB = {"from": "2026-02-01", "to": "2026-02-28"}


def small_truth() -> Truth:
    truth = Truth(timezone="Asia/Shanghai")
    truth.visits = [
        Visit(
            "v1",
            "periodic",
            "li.wei",
            "east",
            date(2026, 1, 5),
            "completed",
            satisfaction="very_satisfied",
            score=10,
        ),
        Visit(
            "v2",
            "periodic",
            "li.wei",
            "east",
            date(2026, 1, 6),
            "completed",
            on_time=False,
            satisfaction="neutral",
            score=5,
        ),
        Visit("v3", "repair", "wang.fang", "west", date(2026, 1, 7), overdue=True),
        Visit("v4", "repair", "wang.fang", "west", date(2026, 1, 8), "cancelled"),
        Visit(
            "v5",
            "post_complaint",
            "wang.fang",
            "west",
            date(2026, 1, 9),
            "completed",
            satisfaction="satisfied",
            score=8,
        ),
    ]
    truth.issues = [
        Issue(
            "i1",
            "product",
            "east",
            "li.wei",
            at("2026-01-10T10:00:00+08:00"),
            at("2026-01-12T10:00:00+08:00"),
        ),
        Issue("i2", "sales", "west", "wang.fang", at("2026-01-11T10:00:00+08:00")),
    ]
    truth.purchases = [Purchase(f"p{n}", "east", at("2026-01-03T10:00:00+08:00")) for n in range(4)]
    truth.customers = [
        Customer("c1", "east", at("2025-12-01T10:00:00+08:00")),
        Customer("c2", "west", at("2026-01-02T10:00:00+08:00")),
    ]
    truth.complaints = [
        Complaint(
            "k1",
            "phone",
            "general",
            "product",
            "east",
            at("2026-01-04T10:00:00+08:00"),
            actions=[("resolve", at("2026-01-05T10:00:00+08:00"), True)],
        ),
        Complaint("k2", "email", "major", "sales", "west", at("2026-01-04T11:00:00+08:00")),
    ]
    return truth


@pytest.fixture
def fed(feed):
    truth = small_truth()
    feed(*truth.events("tenant-a"))
    return truth


def test_every_formula(client, fed):
    body = client.kpis(**JAN)
    assert body["period"] == {"from": "2026-01-01", "to": "2026-01-31"}
    counts = body["counts"]
    assert {k: counts[k] for k in ("visits_due", "visits_completed", "visits_rated")} == {
        "visits_due": 4,
        "visits_completed": 3,
        "visits_rated": 3,
    }
    assert body["visit_completion_rate"] == 0.75
    assert body["visit_on_time_rate"] == pytest.approx(2 / 3)
    assert body["satisfaction_rate"] == pytest.approx(2 / 3)
    assert body["issue_resolution_rate"] == 0.5
    assert body["record_accuracy_rate"] is None  # no audits: null, not 0
    assert body["complaint_timeliness_rate"] == 1.0
    assert body["complaint_satisfaction_rate"] == 1.0  # v5, the post-complaint visit
    assert body["complaint_incidence_rate"] == 0.5  # 2 complaints / 4 purchases
    assert body["complaint_rate"] == 1.0  # 2 complaints / 2 customers up to Jan 31
    assert body["nps"] == pytest.approx(0.0)  # one promoter, one passive, one detractor
    assert counts["visits_overdue"] == 1
    assert counts["complaints_open"] == 2
    assert body["groups"] == []
    want = expected(fed, date(2026, 1, 1), date(2026, 1, 31))[None]
    assert {k: counts[k] for k in want} == want


def test_contract_shape(client, fed):
    body = client.kpis(**JAN)
    for key in (
        "period",
        "visit_completion_rate",
        "satisfaction_rate",
        "issue_resolution_rate",
        "record_accuracy_rate",
        "complaint_timeliness_rate",
        "complaint_satisfaction_rate",
        "complaint_incidence_rate",
        "nps",
        "counts",
        "groups",
    ):
        assert key in body
    assert set(CONTRACT_COUNTS) <= set(body["counts"])


@pytest.mark.parametrize("group_by", ["region", "department", "assignee"])
def test_group_by(client, fed, group_by):
    body = client.kpis(**JAN, group_by=group_by)
    want = expected(fed, date(2026, 1, 1), date(2026, 1, 31), group_by)
    got = {g["key"]: g for g in body["groups"]}
    assert set(got) == set(want)
    for key, counts in want.items():
        assert got[key][group_by] == key
        assert {k: got[key]["counts"][k] for k in counts} == counts
        for name, value in rates(counts).items():
            assert got[key][name] == pytest.approx(value)


def test_period_boundaries_in_the_tenants_zone(client, feed):
    issue = Issue("i1", "product", "east", "li", at("2026-01-31T16:30:00+00:00"))
    feed(*issue.events("tenant-a"))  # 00:30 on Feb 1 in Shanghai (the default zone)
    assert client.kpis(**JAN)["counts"]["issues_raised"] == 0
    assert client.kpis(**FEB)["counts"]["issues_raised"] == 1
    moved = event(
        "TenantSettingsChanged",
        {
            "tenant_id": "tenant-a",
            "timezone": "Europe/London",
            "settings": {},
            "settings_version": 2,
        },
        "tenant-a",
    )
    feed(moved)  # 16:30 on Jan 31 in London: the fact moves to January
    assert client.kpis(**JAN)["counts"]["issues_raised"] == 1
    assert client.kpis(**FEB)["counts"]["issues_raised"] == 0
    one_day = {"from": "2026-01-31", "to": "2026-01-31"}
    assert client.kpis(**one_day)["counts"]["issues_raised"] == 1


def test_default_period_is_the_current_month(client, feed):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    feed(*Visit("v1", "care", "li", "east", today).events("tenant-a"))
    body = client.kpis()
    assert body["period"]["from"] == today.replace(day=1).isoformat()
    assert body["period"]["to"] >= today.isoformat()
    assert body["counts"]["visits_due"] == 1


def test_customers_count_up_to_the_period_end(client, fed):
    assert client.kpis(**{"from": "2025-12-01", "to": "2025-12-31"})["counts"]["customers"] == 1
    assert client.kpis(**JAN)["counts"]["customers"] == 2
    assert client.kpis(**FEB)["counts"]["customers"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-02-01", "to": "2026-01-31"},
        {"from": "2026-02-30"},
        {"to": "soon"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"group_by": "customer"},
        {"form": "2026-01-01"},  # a misspelt parameter is not silently ignored
    ],
)
def test_bad_query_is_422(client, params):
    response = client.get("/api/v1/kpis", query_string=params)
    assert response.status_code == 422
    assert response.json["errors"]


def test_bad_ranking_metric_is_422(client):
    assert client.get("/api/v1/kpis/ranking", query_string={"metric": "height"}).status_code == 422
    assert (
        client.get("/api/v1/kpis/ranking", query_string={"group_by": "region"}).status_code == 422
    )


def test_other_tenants_see_nothing(app, client, fed, feed):
    other = KpiClient(app, "tenant-b")
    assert other.kpis(**JAN)["counts"] == dict.fromkeys(other.kpis(**JAN)["counts"], 0)
    assert other.get("/api/v1/kpis/ranking", query_string=JAN).json["items"] == []
    feed(*Visit("v1", "care", "zhao", "south", date(2026, 1, 5)).events("tenant-b"))
    assert other.kpis(**JAN)["counts"]["visits_due"] == 1
    assert client.kpis(**JAN)["counts"]["visits_due"] == 4


def test_redelivered_and_republished_events_change_nothing(client, feed, runtime):
    events = small_truth().events("tenant-a")
    feed(*events)
    before = client.kpis(**JAN, group_by="assignee")
    assert {runtime.consumer.apply(e) for e in events} == {"duplicate"}
    feed(*(republished(e) for e in reversed(events)))
    assert client.kpis(**JAN, group_by="assignee") == before


def test_ranking(client, fed):
    response = client.get("/api/v1/kpis/ranking", query_string=JAN)
    assert response.status_code == 200
    body = response.json
    assert body["metric"] == "visit_completion_rate"
    ranked = [(item["rank"], item["assignee"]) for item in body["items"]]
    assert ranked == [(1, "li.wei"), (2, "wang.fang")]  # unassigned work is not ranked
    first = body["items"][0]
    assert first["visit_completion_rate"] == 1.0
    assert first["counts"]["visits_completed"] == 2
    by_satisfaction = client.get(
        "/api/v1/kpis/ranking", query_string={**JAN, "metric": "satisfaction_rate"}
    ).json
    assert [i["assignee"] for i in by_satisfaction["items"]] == ["wang.fang", "li.wei"]


def test_unauthenticated_is_401(app):
    assert app.test_client().get("/api/v1/kpis").status_code == 401
