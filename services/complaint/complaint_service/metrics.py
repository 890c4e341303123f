"""Deadline gauges read from the complaint store at every scrape (CONTRACT.md §3 extras).

``revisit_complaints_overdue``: open complaints with a time limit already missed while the
clock runs; ``revisit_complaints_due_soon``: open complaints not overdue yet whose next
limit falls due within ``REVISIT_COMPLAINT_DUE_SOON_HOURS`` (default 4) hours (options.py).
Labels ``tenant``, ``region`` (this deployment's), ``customer_region`` (the complaint's),
``department``, ``severity``. Every tenant with settings here has a zero series (its other
labels empty), so a gauge at 0 is a value, not "no data". The alert rules watch both.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily

from revisit_common import tenant_settings
from revisit_common.db import Database, utcnow

from .models import Complaint
from .service import due_soon_clause, overdue_clause

LABELS = ["tenant", "region", "customer_region", "department", "severity"]


class DeadlineCollector:
    """Stateless: every scrape asks the database (an indexed count of open complaints)."""

    def __init__(self, db: Database, window: timedelta, region: str = ""):
        self.db = db
        self.window = window
        self.region = region

    def _counts(self, session, clause):
        c = Complaint
        query = (
            sa.select(c.tenant_id, c.region, c.department, c.severity, sa.func.count())
            .where(clause)
            .group_by(c.tenant_id, c.region, c.department, c.severity)
        )
        return session.execute(query).all()

    def collect(self):
        now = utcnow()
        overdue = GaugeMetricFamily(
            "revisit_complaints_overdue", "Open complaints past a time limit", labels=LABELS
        )
        due_soon = GaugeMetricFamily(
            "revisit_complaints_due_soon",
            "Open complaints whose next time limit falls due soon",
            labels=LABELS,
        )
        try:
            with self.db.read() as session:
                table = tenant_settings.settings_table
                tenants = session.execute(sa.select(table.c.tenant_id)).scalars().all()
                for family, clause in (
                    (overdue, overdue_clause(now)),
                    (due_soon, due_soon_clause(now, self.window)),
                ):
                    found = {
                        (tenant, customer_region or "", department or "", severity or ""): count
                        for tenant, customer_region, department, severity, count in self._counts(
                            session, clause
                        )
                    }
                    for tenant in tenants:
                        found.setdefault((tenant, "", "", ""), 0)
                    for (tenant, *labels), count in sorted(found.items()):
                        family.add_metric([tenant, self.region, *labels], count)
        except sa.exc.SQLAlchemyError:
            pass  # database down: /readyz says so; leave the samples out rather than fail
        yield overdue
        yield due_soon
