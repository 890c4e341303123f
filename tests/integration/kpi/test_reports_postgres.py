"""The policies' KPIs and the reports on a real PostgreSQL: read from the facts, they agree
with the aggregates wherever both count the same thing (the scenario's visits each have a
customer of their own, its purchases one unit of 100.00, its complaints no resolve limit)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kpi_service import service, store
from kpi_service.bootstrap import MIGRATIONS
from kpi_service.collector import KpiCollector, families, read_totals
from revisit_common import migrations
from revisit_common.db import Database
from revisit_common.metrics import plain_text
from tests.support.kpi import periods

pytestmark = pytest.mark.services

PERIODS = [(date(2025, 1, 1), date(2025, 12, 31)), (date(2025, 3, 10), date(2025, 6, 20))]


@pytest.fixture
def fed(postgres_url, postgres_schemas):
    db = Database(postgres_url, f"{postgres_schemas}reports")
    migrations.upgrade(db, MIGRATIONS)
    periods.feed(db)
    yield db
    db.dispose()


def test_policy_kpis_and_reports_agree_with_the_aggregates(fed):
    for tenant in sorted(periods.TENANTS):
        for period in PERIODS:
            with fed.read() as session:
                kpis = service.kpis(session, tenant, *period)
                causes = service.root_causes(session, tenant, *period)
                summary = service.visit_summary(session, tenant, *period)
            check_policy_kpis(kpis)
            check_reports(kpis, causes, summary)


def check_policy_kpis(body):
    counts = body["counts"]
    assert counts["visits_due"] > 0
    assert counts["customers_due"] == counts["visits_due"]
    assert counts["customers_visited"] == counts["visits_completed"]
    assert body["customer_visit_completion_rate"] == body["visit_completion_rate"]
    assert counts["units_sold"] == counts["purchases"]
    assert body["sales"]["amount"] == Decimal(100) * counts["purchases"]
    assert counts["complaints_resolve_due"] == 0
    assert body["complaint_on_time_rate"] is None
    assert body["customer_complaint_rate"] == body["complaint_rate"]


def check_reports(kpis, causes, summary):
    counts = kpis["counts"]
    assert sum(row["count"] for row in causes["complaints"]) == counts["complaints"]
    assert sum(row["count"] for row in causes["issues"]) == counts["issues_raised"]
    assert summary["satisfaction"]["rated"] == counts["visits_rated"]
    assert summary["satisfaction"]["rate"] == kpis["satisfaction_rate"]
    assert summary["nps"]["responses"] == counts["nps_responses"]
    if kpis["nps"] is None:
        assert summary["nps"]["score"] is None
    else:
        assert summary["nps"]["score"] == pytest.approx(kpis["nps"])
    by_region = sum(r["satisfaction"]["rated"] for r in summary["by_region"])
    assert by_region == counts["visits_rated"]


def test_the_policies_counters_agree_with_the_aggregates(fed):
    """kpi_totals on PostgreSQL: one unit per purchase, no complaint with a resolve limit."""
    with fed.read() as session:
        rows = store.all_totals(session)
    purchases = sum(row["purchases"] for row in rows)
    assert purchases > 0
    found = {f.name: sum(s.value for s in f.samples) for f in families(rows, "eu")}
    assert found["revisit_units_sold"] == purchases == found["revisit_purchases"]
    assert found["revisit_complaint_resolve_limits"] == 0
    assert found["revisit_complaints_resolved_within_limit"] == 0
    assert found["revisit_complaints_raised"] > 0


def test_metrics_summed_by_postgres_agree_with_the_totals_rows(fed):
    """/metrics reads kpi_totals summed by the database (collector.read_totals): the same
    families as the rows summed in Python, whole and a few tenants at a time."""
    collector = KpiCollector(fed, "eu")
    with fed.read() as session:
        rows = store.all_totals(session)
        tenants = store.tenant_ids(session)
        some = sorted(periods.TENANTS)[:1]
        by_database = read_totals(session, some)
    assert rows
    expected = plain_text(families(rows, "eu", tenants))
    assert collector.text() == expected == plain_text(collector.collect())
    mine = [row for row in rows if row["tenant_id"] in some]
    assert plain_text(families(by_database, "eu", some)) == plain_text(families(mine, "eu", some))
