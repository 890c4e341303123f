"""complaints keep their assisting departments and whether they were reported upward

Major complaints and those touching several departments are reported upward at intake and
watched by the supervision group until closed (DOMAIN.md §6). Complaints raised before this
revision have no assisting departments and were not reported.
"""

import sqlalchemy as sa
from alembic import op

from revisit_common.migrations import TS

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(
            sa.Column("assisting_departments", sa.JSON, nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("reported_upward_reason", sa.String(32)))
        batch.add_column(sa.Column("reported_upward_at", TS))
    op.create_index("ix_complaints_reported", "complaints", ["tenant_id", "reported_upward_reason"])


def downgrade() -> None:
    op.drop_index("ix_complaints_reported", table_name="complaints")
    with op.batch_alter_table("complaints") as batch:
        for column in ("reported_upward_at", "reported_upward_reason", "assisting_departments"):
            batch.drop_column(column)
