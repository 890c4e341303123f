"""complaints, ledger, serial counters, customer copy, webhooks, and the messaging tables

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import create_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


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
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(256), nullable=False),
        sa.Column("department", sa.String(64)),
        sa.Column("description", sa.String(500)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("deleted_at", TS),
    )
    op.create_index("ix_webhooks_tenant", "webhooks", ["tenant_id", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column(
            "webhook_id",
            sa.String(36),
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.String(1000)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index("ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "delivery_id",
            sa.String(36),
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.String(1000)),
        sa.Column("duration_ms", sa.Integer, nullable=False),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])


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
