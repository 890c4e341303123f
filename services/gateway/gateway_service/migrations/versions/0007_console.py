"""The console (CONTRACT §4.8): a person's role and language (staff.role, staff.locale),
their password and sign-in failures (staff_credentials, apart from staff so that a failed
sign-in does not touch the rows the key lookup reads), and console sessions."""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("role", sa.String(20), nullable=False, server_default="agent"))
        batch.add_column(sa.Column("locale", sa.String(16), nullable=True))
    op.create_table(
        "staff_credentials",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("staff_id", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(300), nullable=True),
        sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("changed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "staff_id"], ["staff.tenant_id", "staff.id"]),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_console_sessions_person", "console_sessions", ["tenant_id", "staff_id"])


def downgrade() -> None:
    op.drop_index("ix_console_sessions_person", "console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("staff_credentials")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("locale")
        batch.drop_column("role")
