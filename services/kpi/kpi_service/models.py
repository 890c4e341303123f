"""The KPI store (its own database): the event log, facts, daily aggregates and totals.

* ``kpi_event_log``: every event applied, in arrival order (``sequence``), for rebuilds.
* ``kpi_facts``: one row per visit, issue, audit, purchase, customer or complaint: the
  merged fields (``state``), the contribution last added to the aggregates (``applied``),
  and the days a period read selects it by (``day``, ``limit_day``).
* ``kpi_daily``: counts per tenant, tenant-local day, region, department and assignee; what
  ``GET /kpis`` sums.
* ``kpi_monthly``: the same counts per tenant-local month (its first day): ``GET /kpis``
  sums whole months here and only the days of partial months in ``kpi_daily``.
* ``kpi_totals``: all-time counts per tenant, fact kind and the metric labels (region,
  department, reason, severity, channel); what ``/metrics`` reads.
* ``kpi_totals_versions``: per tenant, a number raised in the same transaction as any change
  to its ``kpi_totals`` rows (never lowered, never deleted): ``/metrics`` renders the
  business families again only when the sum over the tenants has moved (collector.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from revisit_common.db import UtcDateTime

from .domain import COUNTS

metadata = sa.MetaData()
DIM = sa.String(200)
ID = sa.String(100)


def _counts() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in COUNTS]


event_log = sa.Table(
    "kpi_event_log",
    metadata,
    sa.Column(
        "sequence",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("event_id", ID, nullable=False, unique=True),
    sa.Column("tenant_id", ID, nullable=False),
    sa.Column("type", ID, nullable=False),
    sa.Column("time", sa.String(64), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("region", DIM, nullable=False),
    sa.Column("dataversion", sa.Integer, nullable=False),
    sa.Column("correlationid", sa.String(200)),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("logged_at", UtcDateTime, nullable=False),
)

facts = sa.Table(
    "kpi_facts",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("entity_id", ID, primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("applied", sa.JSON),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # The tenant-local day the fact counts on (its contribution's), and a complaint's resolve
    # limit day: the period reads of the policies' figures and the reports take only the
    # facts of their period (NULL: stored before revision 0007, read by every period).
    sa.Column("day", sa.Date),
    sa.Column("limit_day", sa.Date),
    sa.Index("kpi_facts_day", "tenant_id", "kind", "day"),
    sa.Index("kpi_facts_limit_day", "tenant_id", "kind", "limit_day"),
)


def _by_period(name: str, period: str) -> sa.Table:
    """Counts per tenant, tenant-local ``period`` (a date), region, department, assignee."""
    return sa.Table(
        name,
        metadata,
        sa.Column("tenant_id", ID, primary_key=True),
        sa.Column(period, sa.Date, primary_key=True),
        sa.Column("region", DIM, primary_key=True),
        sa.Column("department", DIM, primary_key=True),
        sa.Column("assignee", DIM, primary_key=True),
        *_counts(),
    )


daily = _by_period("kpi_daily", "day")
monthly = _by_period("kpi_monthly", "month")  # the month's first day

totals = sa.Table(
    "kpi_totals",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("region", DIM, primary_key=True),
    sa.Column("department", DIM, primary_key=True),
    sa.Column("reason", DIM, primary_key=True),
    sa.Column("severity", DIM, primary_key=True),
    sa.Column("channel", DIM, primary_key=True),
    *_counts(),
)

totals_versions = sa.Table(
    "kpi_totals_versions",
    metadata,
    sa.Column("tenant_id", ID, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
)

AGGREGATES = (daily, monthly, totals)  # every table of counts a fact's contribution moves
