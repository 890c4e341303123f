"""/metrics: the business families, their labels, and a collector that reads at scrape time."""

from __future__ import annotations

from datetime import date

from prometheus_client.parser import text_string_to_metric_families

from kpi_service.bootstrap import SPEC
from kpi_service.collector import FAMILIES, KpiCollector, families
from kpi_service.domain import COUNTS
from revisit_common.db import Database
from revisit_common.runtime import ServiceRuntime
from tests.support.client import TOKEN
from tests.support.kpi.client import METRICS_TOKEN, SCRAPE
from tests.support.kpi.scenario import Audit, Complaint, Issue, Purchase, Visit, at
from tests.support.settings import make_settings

CONTRACT = {
    "revisit_visits_due": "counter",
    "revisit_visits_completed": "counter",
    "revisit_visits_completed_on_time": "counter",
    "revisit_visit_ratings": "counter",
    "revisit_issues_raised": "counter",
    "revisit_issues_resolved": "counter",
    "revisit_visit_audits": "counter",
    "revisit_complaints_raised": "counter",
    "revisit_complaints_resolved": "counter",
    "revisit_purchases": "counter",
    "revisit_complaints_open": "gauge",
    "revisit_visits_overdue": "gauge",
}


def scrape(app) -> dict:
    response = app.test_client().get("/metrics", headers=SCRAPE)
    assert response.status_code == 200
    families = text_string_to_metric_families(response.data.decode())
    return {f.name: f for f in families if f.name.startswith("revisit_")}


def test_contract_families_and_labels(app, feed):
    t = "tenant-a"
    feed(*Visit("v1", "repair", "li.wei", "east", date(2026, 1, 5), "completed").events(t))
    feed(*Issue("i1", "product", "east", "li.wei", at("2026-01-05T10:00:00Z")).events(t))
    feed(*Audit("a1", True, "li.wei", "east", at("2026-01-06T10:00:00Z")).events(t))
    feed(*Purchase("p1", "east", at("2026-01-06T10:00:00Z")).events(t))
    resolved = [("resolve", at("2026-01-05T10:00:00Z"), False)]
    complaint = Complaint(
        "k1", "email", "major", "sales", "east", at("2026-01-04"), False, resolved
    )
    feed(*complaint.events(t))
    found = scrape(app)
    for name, kind in CONTRACT.items():
        assert found[name].type == kind, name
        for sample in found[name].samples:
            assert {"tenant", "region", "customer_region"} <= set(sample.labels), name
            assert sample.labels["region"] == "local", "the deployment's region"
            assert "li.wei" not in sample.labels.values(), "no staff names in labels"
    common = {"tenant", "region", "customer_region"}
    labels = {name: set(found[name].samples[0].labels) - common for name in CONTRACT}
    assert labels["revisit_visits_due"] == {"reason"}
    assert labels["revisit_visit_ratings"] == {"reason", "satisfaction"}
    assert labels["revisit_issues_raised"] == {"department"}
    assert labels["revisit_visit_audits"] == {"accurate"}
    assert labels["revisit_purchases"] == set()
    assert labels["revisit_complaints_open"] == {"department", "severity", "channel"}
    assert labels["revisit_complaints_resolved"] == {
        "department",
        "severity",
        "channel",
        "within_deadline",
    }
    samples = [
        s
        for s in found["revisit_complaints_resolved"].samples
        if s.labels["customer_region"] == "east"
    ]
    assert {s.labels["within_deadline"]: s.value for s in samples} == {"true": 0.0, "false": 1.0}
    open_east = [
        s.value
        for s in found["revisit_complaints_open"].samples
        if s.labels["customer_region"] == "east"
    ]
    assert open_east == [1.0]


def test_counts_survive_a_restart(tmp_path, feed, runtime, app):
    feed(*Visit("v1", "care", "li", "east", date(2026, 1, 5)).events("tenant-a"))
    runtime.close()
    settings = make_settings(data_dir=tmp_path, internal_token=TOKEN, metrics_token=METRICS_TOKEN)
    again = ServiceRuntime(SPEC, settings)
    try:
        found = scrape(again.create_app())
        due = {s.labels["customer_region"]: s.value for s in found["revisit_visits_due"].samples}
        assert due == {"": 0.0, "east": 1.0}  # the tenant's zero series, and the visit
        # the new runtime's collector replaced the old one: every family appears once
        text = again.create_app().test_client().get("/metrics", headers=SCRAPE).data.decode()
        assert text.count("# TYPE revisit_visits_due_total counter") == 1
    finally:
        again.close()


def test_an_unreadable_store_gives_empty_families(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'missing.sqlite3'}")  # no tables
    try:
        collected = list(KpiCollector(db).collect())
    finally:
        db.dispose()
    assert [f.name for f in collected] == [f.name for f in FAMILIES]
    assert all(not f.samples for f in collected)


def test_families_sum_rows_by_their_labels():
    row = {
        "tenant_id": "t",
        "kind": "issue",
        "region": "east",
        "department": "sales",
        "reason": "",
        "severity": "",
        "channel": "",
    }
    rows = [
        {**row, **dict.fromkeys(COUNTS, 0), "issues_raised": 2},
        {**row, **dict.fromkeys(COUNTS, 0), "issues_raised": 3, "severity": "x"},
    ]
    raised = next(f for f in families(rows, "eu") if f.name == "revisit_issues_raised")
    assert [(s.labels, s.value) for s in raised.samples] == [
        ({"tenant": "t", "region": "eu", "customer_region": "", "department": ""}, 0),
        ({"tenant": "t", "region": "eu", "customer_region": "east", "department": "sales"}, 5),
    ]


def test_metrics_need_the_metrics_or_platform_token(tmp_path):
    settings = make_settings(
        data_dir=tmp_path, internal_token=TOKEN, metrics_token=METRICS_TOKEN, admin_token="rva_p"
    )
    runtime = ServiceRuntime(SPEC, settings)
    try:
        client = runtime.create_app().test_client()
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = client.get("/metrics", headers=headers)
            assert response.status_code == 401
            assert response.content_type == "application/problem+json"
            assert response.headers["WWW-Authenticate"] == "Bearer"
        for token in (METRICS_TOKEN, "rva_p"):
            response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
    finally:
        runtime.close()


def test_a_cancelled_visit_lowers_no_counter(app, feed):
    feed(*Visit("v1", "care", "li", "east", date(2026, 1, 5)).events("tenant-a"))
    before = scrape(app)
    feed(*Visit("v1", "care", "li", "east", date(2026, 1, 5), "cancelled").events("tenant-a"))
    after = scrape(app)

    def east(found, name):
        return sum(s.value for s in found[name].samples if s.labels["customer_region"] == "east")

    assert east(before, "revisit_visits_due") == east(after, "revisit_visits_due") == 1.0
    assert (east(before, "revisit_visits_cancelled"), east(after, "revisit_visits_cancelled")) == (
        0.0,
        1.0,
    )


def test_a_known_tenant_has_zero_series_before_any_fact():
    found = {f.name: f for f in families([], "eu", ["t"])}
    assert set(found) == {spec.name for spec in FAMILIES}
    for family in found.values():
        assert family.samples, family.name
        assert {s.labels["tenant"] for s in family.samples} == {"t"}
        assert {s.labels["region"] for s in family.samples} == {"eu"}
        assert all(s.value == 0 for s in family.samples)
