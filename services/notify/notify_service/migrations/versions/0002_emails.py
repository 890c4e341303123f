"""emails, the digest runs, and the copies of people, customers' names and visits"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS, create_tenant_table

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("staff_id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.String(64), nullable=False),
    )
    op.create_table(
        "customer_names",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
    )
    op.create_table(
        "visit_copies",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("visit_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("method", sa.String(64)),
        sa.Column("assignee", sa.String(100)),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("scheduled_at", sa.String(64), nullable=False),
    )
    op.create_index("ix_visit_copies_due", "visit_copies", ["tenant_id", "open", "due_date"])
    create_tenant_table(
        op,
        "emails",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS),
        sa.Column("last_error", sa.String(500)),
        sa.Column("dedup_key", sa.String(300), nullable=False),
        sa.Column("source_event_id", sa.String(100)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("dedup_key", name="uq_emails_dedup_key"),
    )
    op.create_index("ix_emails_due", "emails", ["status", "next_attempt_at"])
    op.create_table(
        "digest_runs",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("ran_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digest_runs")
    op.drop_index("ix_emails_due", "emails")
    op.drop_index("ix_emails_tenant_id", "emails")
    op.drop_table("emails")
    op.drop_index("ix_visit_copies_due", "visit_copies")
    for table in ("visit_copies", "customer_names", "people"):
        op.drop_table(table)
