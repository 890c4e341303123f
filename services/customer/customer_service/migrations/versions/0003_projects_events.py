"""projects, marketing_events, purchases.quantity, customers.graded_at

Purchases recorded before this revision sold one unit each. Customers graded before it have
no ``graded_at``: the periodic re-grading takes them first.
"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS, create_tenant_table, tenant_keys

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("purchases") as batch:
        batch.add_column(sa.Column("quantity", sa.Integer, nullable=False, server_default="1"))
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("graded_at", TS, nullable=True))
    op.create_table(
        "projects",
        *tenant_keys(),
        sa.Column(
            "customer_id",
            sa.String(36),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("completed_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_projects_customer", "projects", ["customer_id", "id"])
    create_tenant_table(
        op,
        "marketing_events",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("attendees", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("marketing_events")
    op.drop_table("projects")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("graded_at")
    with op.batch_alter_table("purchases") as batch:
        batch.drop_column("quantity")
