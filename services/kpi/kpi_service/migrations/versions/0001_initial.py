"""event log, facts, daily aggregates, totals, and the messaging tables"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import create_messaging_tables

revision = "0001"
down_revision = None

TS = sa.DateTime(timezone=True)
DIM = sa.String(200)
ID = sa.String(100)
KIND = sa.String(20)
COUNTS = (
    "visits_due",
    "visits_completed",
    "visits_completed_on_time",
    "visits_rated",
    "visits_satisfied",
    "issues_raised",
    "issues_resolved",
    "audits",
    "audits_accurate",
    "complaints",
    "complaints_resolved",
    "complaints_resolved_on_time",
    "complaint_follow_ups",
    "complaint_follow_ups_satisfied",
    "purchases",
    "customers",
    "nps_responses",
    "nps_promoters",
    "nps_detractors",
    "visits_overdue",
    "complaints_open",
    "rated_very_satisfied",
    "rated_satisfied",
    "rated_neutral",
    "rated_dissatisfied",
    "rated_very_dissatisfied",
)


def _counts() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in COUNTS]


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "kpi_event_log",
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
        sa.Column("logged_at", TS, nullable=False),
    )
    op.create_table(
        "kpi_facts",
        sa.Column("tenant_id", ID, primary_key=True),
        sa.Column("kind", KIND, primary_key=True),
        sa.Column("entity_id", ID, primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("applied", sa.JSON),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "kpi_daily",
        sa.Column("tenant_id", ID, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("region", DIM, primary_key=True),
        sa.Column("department", DIM, primary_key=True),
        sa.Column("assignee", DIM, primary_key=True),
        *_counts(),
    )
    op.create_table(
        "kpi_totals",
        sa.Column("tenant_id", ID, primary_key=True),
        sa.Column("kind", KIND, primary_key=True),
        sa.Column("region", DIM, primary_key=True),
        sa.Column("department", DIM, primary_key=True),
        sa.Column("reason", DIM, primary_key=True),
        sa.Column("severity", DIM, primary_key=True),
        sa.Column("channel", DIM, primary_key=True),
        *_counts(),
    )


def downgrade() -> None:
    for table in (
        "kpi_totals",
        "kpi_daily",
        "kpi_facts",
        "kpi_event_log",
        "tenant_settings",
        "inbox",
        "outbox",
    ):
        op.drop_table(table)
