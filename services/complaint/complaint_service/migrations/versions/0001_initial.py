"""complaints, ledger, serial counters, customer copy, webhooks, and the messaging tables"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS, create_messaging_tables, create_webhook_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("complainant", sa.String(200)),
        sa.Column("contact", sa.String(200)),
        sa.Column("product", sa.String(200)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("first_response_by", TS),
        sa.Column("plan_by", TS),
        sa.Column("resolve_by", TS, nullable=False),
        sa.Column("first_responded_at", TS),
        sa.Column("planned_at", TS),
        sa.Column("resolved_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("round", sa.Integer, nullable=False, server_default="1"),
        sa.Column("paused_from", sa.String(32)),
        sa.Column("paused_at", TS),
        sa.Column("paused_seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column(
            "escalated_first_response", sa.Boolean, nullable=False, server_default=sa.false()
        ),
        sa.Column("escalated_plan", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("escalated_resolve_round", sa.Integer, nullable=False, server_default="0"),
        sa.Column("resolution", sa.Text),
        sa.Column("satisfied", sa.Boolean),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "number", name="uq_complaints_number"),
    )
    op.create_index("ix_complaints_tenant_id", "complaints", ["tenant_id", "id"])
    op.create_index("ix_complaints_tenant_status", "complaints", ["tenant_id", "status"])
    op.create_index("ix_complaints_customer", "complaints", ["tenant_id", "customer_id"])
    op.create_table(
        "complaint_ledger",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "complaint_id",
            sa.String(36),
            sa.ForeignKey("complaints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(32)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("department", sa.String(64)),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_complaint_ledger_complaint", "complaint_ledger", ["complaint_id", "id"])
    op.create_table(
        "complaint_counters",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("period", sa.String(6), primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.create_table(
        "complaint_customers",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(64), primary_key=True),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    create_webhook_tables(op)


def downgrade() -> None:
    for table in (
        "webhook_attempts",
        "webhook_deliveries",
        "webhooks",
        "complaint_customers",
        "complaint_counters",
        "complaint_ledger",
        "complaints",
        "tenant_settings",
        "inbox",
        "outbox",
    ):
        op.drop_table(table)
