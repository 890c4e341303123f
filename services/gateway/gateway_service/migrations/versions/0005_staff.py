"""staff: the tenant's people; api_keys.staff (the person a key acts as); audit_log.actor
holds a staff id (up to 64 characters)"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("manager", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("staff", sa.String(64), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column(
            "actor", existing_type=sa.String(36), type_=sa.String(64), nullable=False
        )


def downgrade() -> None:
    op.execute("UPDATE audit_log SET actor = substr(actor, 1, 36) WHERE length(actor) > 36")
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column(
            "actor", existing_type=sa.String(64), type_=sa.String(36), nullable=False
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("staff")
    op.drop_table("staff")
