"""/metrics: the business families, their labels, and a collector that reads at scrape time."""

from __future__ import annotations

import re
from datetime import date
from itertools import product

import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from kpi_service.bootstrap import SPEC
from kpi_service.collector import FAMILIES, KpiCollector, families
from kpi_service.domain import COUNTS
from kpi_service.rebuild import rebuild
from revisit_common import tenant_settings
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
            assert {"tenant", "region"} <= set(sample.labels), name
            assert sample.labels["region"] == "local", "the deployment's region"
            assert "li.wei" not in sample.labels.values(), "no staff names in labels"
    common = {"tenant", "region"}
    labels = {name: set(found[name].samples[0].labels) - common for name in CONTRACT}
    assert labels == {  # the cardinality budget (README "Metrics")
        "revisit_visits_due": {"reason"},
        "revisit_visits_completed": {"reason"},
        "revisit_visits_completed_on_time": set(),
        "revisit_visit_ratings": {"satisfaction"},
        "revisit_issues_raised": set(),
        "revisit_issues_resolved": set(),
        "revisit_visit_audits": {"accurate"},
        "revisit_complaints_raised": {"customer_region"},
        "revisit_complaints_resolved": {"within_deadline"},
        "revisit_purchases": {"customer_region"},
        "revisit_complaints_open": set(),
        "revisit_visits_overdue": set(),
    }
    completed = {s.labels["reason"]: s.value for s in found["revisit_visits_completed"].samples}
    assert completed == {"new_customer": 0.0, "repair": 1.0, "other": 0.0}
    raised = {
        s.labels["customer_region"]: s.value for s in found["revisit_complaints_raised"].samples
    }
    assert raised == {"east": 1.0}, "no empty series once the tenant has its own"
    resolved = found["revisit_complaints_resolved"].samples
    assert {s.labels["within_deadline"]: s.value for s in resolved} == {"true": 0.0, "false": 1.0}
    assert [s.value for s in found["revisit_complaints_open"].samples] == [1.0]


def test_counts_survive_a_restart(tmp_path, feed, runtime, app):
    feed(*Visit("v1", "care", "li", "east", date(2026, 1, 5)).events("tenant-a"))
    runtime.close()
    settings = make_settings(data_dir=tmp_path, internal_token=TOKEN, metrics_token=METRICS_TOKEN)
    again = ServiceRuntime(SPEC, settings)
    try:
        found = scrape(again.create_app())
        due = {s.labels["reason"]: s.value for s in found["revisit_visits_due"].samples}
        assert due == {"new_customer": 0.0, "repair": 0.0, "other": 1.0}  # "care" is other
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


def row(**labels) -> dict:
    """A kpi_totals row of tenant "t", its counts zero but those given."""
    dims = dict.fromkeys(("region", "department", "reason", "severity", "channel"), "")
    return {"tenant_id": "t", **dims, **dict.fromkeys(COUNTS, 0), **labels}


def test_families_sum_rows_by_their_labels():
    rows = [
        row(kind="complaint", region="east", department="sales", complaints=2),
        row(kind="complaint", region="east", department="product", severity="x", complaints=3),
        row(kind="complaint", region="west", complaints=1),
    ]
    found = {f.name: f for f in families(rows, "eu")}
    raised = [(s.labels, s.value) for s in found["revisit_complaints_raised"].samples]
    assert raised == [
        ({"tenant": "t", "region": "eu", "customer_region": "east"}, 5),
        ({"tenant": "t", "region": "eu", "customer_region": "west"}, 1),
    ]
    purchases = [(s.labels, s.value) for s in found["revisit_purchases"].samples]
    assert purchases == [({"tenant": "t", "region": "eu", "customer_region": ""}, 0)]


def test_reasons_outside_the_rollout_are_other():
    rows = [
        row(kind="visit", reason=reason, visits_completed=n)
        for n, reason in enumerate(("repair", "care", "periodic", "new_customer", ""), start=1)
    ]
    (completed,) = [f for f in families(rows) if f.name == "revisit_visits_completed"]
    by_reason = {s.labels["reason"]: s.value for s in completed.samples}
    assert by_reason == {"repair": 1, "other": 2 + 3 + 5, "new_customer": 4}


def test_a_tenant_of_every_label_value_keeps_to_the_budget():
    """29 series and 2 per customer region (README "Metrics"), whatever else varies."""
    regions = ("east", "west", "north", "south")
    rows = []
    for region, reason, department, severity, channel in product(
        regions,
        ("new_customer", "repair", "periodic", "care", "post_event"),
        ("product", "service", "logistics"),
        ("general", "major"),
        ("phone", "email", "online", "in_person"),
    ):
        labels = dict(region=region, department=department, severity=severity, channel=channel)
        for kind in ("visit", "issue", "audit", "complaint", "purchase", "customer"):
            rows.append(row(kind=kind, reason=reason, **labels, **dict.fromkeys(COUNTS, 1)))
    series = sum(len(f.samples) for f in families(rows, "eu"))
    assert series == 29 + 2 * len(regions) == 37
    assert sum(len(f.samples) for f in families([], "eu", ["t"])) == 29 + 2  # before any fact


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

    def total(found, name):
        return sum(s.value for s in found[name].samples if s.labels["tenant"] == "tenant-a")

    assert total(before, "revisit_visits_due") == total(after, "revisit_visits_due") == 1.0
    cancelled = (
        total(before, "revisit_visits_cancelled"),
        total(after, "revisit_visits_cancelled"),
    )
    assert cancelled == (0.0, 1.0)


def test_a_known_tenant_has_zero_series_before_any_fact():
    found = {f.name: f for f in families([], "eu", ["t"])}
    assert set(found) == {spec.name for spec in FAMILIES}
    for family in found.values():
        assert family.samples, family.name
        assert {s.labels["tenant"] for s in family.samples} == {"t"}
        assert {s.labels["region"] for s in family.samples} == {"eu"}
        assert all(s.value == 0 for s in family.samples)


class Reads:
    """The tenants whose kpi_totals rows a database's statements read (all: "*")."""

    def __init__(self, db: Database):
        self.tenants: list = []
        sa.event.listen(db.engine, "before_cursor_execute", self.seen)

    def seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if re.search(r"FROM kpi_totals\b(?!_)", statement):
            where = "WHERE" in statement
            self.tenants.append(sorted(p for p in parameters if "tenant" in p) if where else "*")

    def take(self) -> list:
        taken, self.tenants = self.tenants, []
        return taken


def test_a_scrape_renders_again_only_the_tenants_that_changed(runtime, feed):
    """Another process's collector (its own connections to the same store) reads no totals
    while the store is unchanged, and those of a tenant whose totals the consumer (this
    runtime) changed; its text is always what a fresh collector renders."""
    other = Database(runtime.db.url, runtime.db.schema)
    try:
        reads = Reads(other)
        feed(*Visit("v1", "repair", "li", "east", date(2026, 1, 5)).events("tenant-a"))
        feed(*Visit("v1", "care", "li", "east", date(2026, 1, 5)).events("tenant-b"))
        collector = KpiCollector(other, "eu")
        first = collector.text()
        assert reads.take() and first == KpiCollector(other, "eu").text()
        reads.take()
        assert collector.text() == first
        assert reads.take() == [], "an unchanged store: no totals read"
        feed(*Visit("v1", "repair", "li", "east", date(2026, 1, 5), "cancelled").events("tenant-a"))
        second = collector.text()
        assert len(reads.take()) == 1, "the changed tenant's totals only"
        line = b'revisit_visits_cancelled_total{reason="repair",region="eu",tenant="tenant-a"} 1.0'
        assert line in second and line not in first
        assert second == KpiCollector(other, "eu").text()
        with other.transaction() as session:
            tenant_settings.store(session, "tenant-c", 1, "UTC", {})
        third = collector.text()
        assert b'tenant="tenant-c"' in third and third == KpiCollector(other, "eu").text()
    finally:
        other.dispose()


def test_a_rebuild_renders_again(runtime, feed):
    feed(*Visit("v1", "repair", "li", "east", date(2026, 1, 5)).events("tenant-a"))
    collector = KpiCollector(runtime.db, "eu")
    first = collector.text()
    reads = Reads(runtime.db)
    rebuild(runtime.db)
    reads.take()
    assert collector.text() == first, "the same figures"
    assert reads.take(), "read again after the rebuild"
