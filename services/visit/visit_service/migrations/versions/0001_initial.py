"""visits, issues, audits, the customer copy, round-robin counters, messaging tables"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS, create_messaging_tables

revision = "0001"
down_revision = None

PLANNED = sa.text("status = 'planned'")


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "visits",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("assignee", sa.String(100)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("trigger", sa.String(200), nullable=False),
        sa.Column("trigger_at", TS),
        sa.Column("customer_grade", sa.String(1)),
        sa.Column("complaint_id", sa.String(36)),
        sa.Column("focus", sa.String(2000)),
        sa.Column("notes", sa.String(2000)),
        sa.Column("created_by", sa.String(100)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("completed_at", TS),
        sa.Column("completed_by", sa.String(100)),
        sa.Column("on_time", sa.Boolean),
        sa.Column("satisfaction", sa.String(20)),
        sa.Column("repurchase_intent", sa.Boolean),
        sa.Column("recommend_score", sa.Integer),
        sa.Column("ratings", sa.JSON),
        sa.Column("product_feedback", sa.JSON),
        sa.Column("service_feedback", sa.String(2000)),
        sa.Column("needs", sa.String(2000)),
        sa.Column("competitor_info", sa.JSON),
        sa.Column("overdue_notified_at", TS),
        sa.Column("cancelled_at", TS),
        sa.Column("cancel_reason", sa.String(500)),
    )
    op.create_index("ix_visits_tenant_id", "visits", ["tenant_id", "id"])
    op.create_index("ix_visits_tenant_due", "visits", ["tenant_id", "status", "due_date"])
    op.create_index("ix_visits_customer", "visits", ["tenant_id", "customer_id", "reason"])
    op.create_index(
        "uq_visits_open_trigger",
        "visits",
        ["tenant_id", "customer_id", "reason", "trigger"],
        unique=True,
        sqlite_where=PLANNED,
        postgresql_where=PLANNED,
    )
    op.create_table(
        "issues",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("visit_id", sa.String(36), sa.ForeignKey("visits.id")),
        sa.Column("complaint_id", sa.String(36)),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("assignee", sa.String(100)),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("assisting_departments", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("due_date", sa.Date),
        sa.Column("stages", sa.JSON, nullable=False),
        sa.Column("resolution", sa.String(2000)),
        sa.Column("resolved_by", sa.String(100)),
        sa.Column("raised_at", TS, nullable=False),
        sa.Column("resolved_at", TS),
    )
    op.create_index("ix_issues_tenant_id", "issues", ["tenant_id", "id"])
    op.create_index("ix_issues_visit", "issues", ["visit_id"])
    op.create_table(
        "issue_departments",
        sa.Column(
            "issue_id",
            sa.String(36),
            sa.ForeignKey("issues.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("department", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("lead", sa.Boolean, nullable=False),
    )
    op.create_index("ix_issue_departments_dept", "issue_departments", ["tenant_id", "department"])
    op.create_table(
        "audits",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("visit_id", sa.String(36), sa.ForeignKey("visits.id"), nullable=False),
        sa.Column("accurate", sa.Boolean, nullable=False),
        sa.Column("note", sa.String(2000)),
        sa.Column("auditor", sa.String(100), nullable=False),
        sa.Column("audited_at", TS, nullable=False),
        sa.UniqueConstraint("visit_id", name="uq_audits_visit"),
    )
    op.create_table(
        "customers",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(100)),
        sa.Column("grade", sa.String(1)),
        sa.Column("info_at", TS, nullable=False),
        sa.Column("grade_at", TS),
    )
    op.create_table(
        "round_robin",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("region", sa.String(100), primary_key=True),
        sa.Column("counter", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "round_robin",
        "customers",
        "audits",
        "issue_departments",
        "issues",
        "visits",
        "tenant_settings",
        "inbox",
        "outbox",
    ):
        op.drop_table(table)
