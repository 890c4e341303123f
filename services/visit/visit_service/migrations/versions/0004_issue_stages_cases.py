"""issue confirmation (the customer told the result) and reopening; the case library and
the complaints whose resolution the visit service has seen (cases copy them)"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS, create_tenant_table

revision = "0004"
down_revision = "0003"

ISSUE_COLUMNS = (
    ("satisfied", sa.Boolean),
    ("confirmation_note", sa.String(2000)),
    ("confirmed_at", TS),
    ("confirmed_by", sa.String(100)),
)


def upgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        for name, kind in ISSUE_COLUMNS:
            batch.add_column(sa.Column(name, kind))
        batch.add_column(sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"))
    create_tenant_table(
        op,
        "cases",
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(4000), nullable=False),
        sa.Column("lessons", sa.String(4000)),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(36)),
        sa.Column("created_by", sa.String(100)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_cases_source", "cases", ["tenant_id", "source", "source_id"])
    op.create_table(
        "resolved_complaints",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("complaint_id", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("resolved_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("resolved_complaints")
    op.drop_table("cases")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("reopen_count")
        for name, _kind in reversed(ISSUE_COLUMNS):
            batch.drop_column(name)
